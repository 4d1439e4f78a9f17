//! Bind service addresses to kube-ipvs0, as kube-proxy's IPVS mode does.
//!
//! `cargo run --example bind_vip -- 10.96.0.10 fd00::10` makes the dummy
//! link `kube-ipvs0` (down) if it is absent, makes its addresses exactly
//! the ones given, and prints what changed. Set `KIPVS_DEV` to use another
//! link.

use std::process::ExitCode;

use kipvs::link::{Address, IfName, Links};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bind_vip: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dev: IfName = match std::env::var("KIPVS_DEV") {
        Ok(name) => name.parse()?,
        Err(_) => IfName::kube_ipvs0(),
    };
    let vips = std::env::args()
        .skip(1)
        .map(|a| a.parse::<Address>())
        .collect::<Result<Vec<_>, _>>()?;

    let mut links = Links::new()?;
    if links.ensure_dummy(&dev)? {
        println!("created {dev}");
    }
    let report = links.sync_addresses(&dev, &vips)?;
    for a in &report.added {
        println!("bound {a}");
    }
    for a in &report.removed {
        println!("unbound {a}");
    }
    for e in &report.elsewhere {
        println!("left {} alone: interface {} holds it", e.address, e.index);
    }
    for f in &report.failed {
        eprintln!("{}", f.error);
    }
    let now: Vec<String> = links
        .addresses(&dev)?
        .iter()
        .map(ToString::to_string)
        .collect();
    println!("{dev} now holds {}", now.join(" "));
    Ok(())
}
