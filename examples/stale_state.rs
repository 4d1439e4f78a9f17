//! Show what a kube-proxy mode left behind on this node, changing nothing:
//! the plan of a clean-up as a diff, or why it would be refused (kube-proxy
//! still runs that mode).
//!
//! `cargo run --example stale_state -- iptables-mode` (or `ipvs-mode`,
//! `nftables-mode`, `all`; as root). Exit status 0 with a plan or nothing
//! to do, 2 when the mode is live, 1 on an error.

use std::process::ExitCode;

use kipvs::cleanup::{Cleanup, Error, Target};

fn main() -> ExitCode {
    let target = match std::env::args().nth(1).as_deref() {
        Some("iptables-mode") => Target::IptablesMode,
        Some("ipvs-mode") => Target::IpvsMode,
        Some("nftables-mode") => Target::NftablesMode,
        Some("all") => Target::All,
        _ => {
            eprintln!("usage: stale_state iptables-mode|ipvs-mode|nftables-mode|all");
            return ExitCode::from(1);
        }
    };
    // plan() reads every iptables backend, nftables and the kernel, and
    // never changes anything; only Cleanup::apply does.
    match Cleanup::new(target).plan() {
        Ok(report) if report.is_empty() => println!("nothing to do"),
        Ok(report) => {
            print!("{}", report.diff());
            for line in report.summary() {
                println!("{line}");
            }
        }
        Err(Error::Live(refusal)) => {
            // What runs and how it was found: a process, kube-proxy's
            // answer on its metrics port, or the state alone.
            println!("live: {}", refusal.live);
            if let Some(mode) = refusal.live.mode() {
                println!("kube-proxy's {mode} mode is not stale here: leave it");
            }
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("stale_state: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
