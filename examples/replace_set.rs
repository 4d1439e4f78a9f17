//! Replace the whole contents of a set atomically: fill a new set of the
//! same type and options, swap it in, destroy the old one. iptables rules
//! that match the set never see it half filled.
//!
//! `cargo run --example replace_set -- NAME ENTRY...` (entries in ipset's
//! syntax, e.g. `10.0.0.1,tcp:80`). With no set given it makes a demo set
//! `kipvs-demo` (hash:ip,port) first.

use std::process::ExitCode;

use kipvs::ipset::{CreateOptions, Entry, IpSet, SetName, SetType};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replace_set: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut ipset = IpSet::new()?;
    let (name, words): (SetName, Vec<String>) = match args.next() {
        Some(n) => (n.parse()?, args.collect()),
        None => {
            let name: SetName = "kipvs-demo".parse()?;
            ipset.create(&name, SetType::HashIpPort, &CreateOptions::default(), true)?;
            let words = (1..=1000).map(|i| format!("10.0.{}.{},tcp:80", i / 256, i % 256));
            (name, words.collect())
        }
    };
    // Entries parse against the set's own type and family.
    let kind = ipset.kind(&name)?;
    let entries = words
        .iter()
        .map(|w| Entry::parse(kind.set_type, kind.family, w))
        .collect::<Result<Vec<_>, _>>()?;
    let started = std::time::Instant::now();
    ipset.replace(&name, &entries)?;
    let set = ipset.list_headers(Some(&name))?.remove(0);
    println!(
        "{name}: {} entries swapped in in {:?} ({} references kept)",
        set.elements,
        started.elapsed(),
        set.references
    );
    Ok(())
}
