//! List every IPVS virtual service with its real servers, like
//! `ipvsadm -Ln`.
//!
//! `cargo run --example list_services` (as root, with the `ip_vs` module
//! loaded).

use std::{net::IpAddr, process::ExitCode};

use kipvs::ipvs::{ForwardMethod, Ipvs, ServiceFlags};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("list_services: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), kipvs::Error> {
    let mut ipvs = Ipvs::new()?;
    let info = ipvs.info()?;
    println!(
        "IP Virtual Server version {}.{}.{} (size={})",
        info.version >> 16,
        (info.version >> 8) & 0xff,
        info.version & 0xff,
        info.conn_tab_size
    );
    for (service, dests) in ipvs.table()? {
        let mut line = format!("{} {}", service.key, service.scheduler);
        if service.flags.has(ServiceFlags::PERSISTENT) {
            line.push_str(&format!(" persistent {}", service.timeout));
        }
        if let Some(pe) = &service.pe_name {
            line.push_str(&format!(" pe {pe}"));
        }
        println!("{line}  ({} connections)", service.stats.conns);
        for d in dests {
            let addr = match d.addr {
                IpAddr::V4(a) => format!("{a}:{}", d.port),
                IpAddr::V6(a) => format!("[{a}]:{}", d.port),
            };
            let forward = match d.forward {
                ForwardMethod::Masq => "Masq",
                ForwardMethod::Local => "Local",
                ForwardMethod::Tunnel => "Tunnel",
                ForwardMethod::DirectRoute => "Route",
            };
            println!(
                "  -> {addr:<28} {forward:<7} weight {:<5} active {:<6} inactive {}",
                d.weight, d.active_conns, d.inactive_conns
            );
        }
    }
    Ok(())
}
