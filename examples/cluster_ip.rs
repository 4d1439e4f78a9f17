//! A kube-proxy style ClusterIP: TCP 10.110.197.49:80, round robin over
//! three masqueraded endpoints, written in one batch and read back.
//!
//! `cargo run --example cluster_ip` (as root, with the `ip_vs` module
//! loaded); run it again and it replaces the endpoints it finds.
//! kube-proxy also binds the address to the `kube-ipvs0` dummy link (see
//! the `bind_vip` example) so that the node accepts its packets.

use std::{net::IpAddr, process::ExitCode};

use kipvs::ipvs::{Destination, ForwardMethod, Ipvs, Op, Protocol, Service, ServiceKey};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cluster_ip: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let key = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "10.110.197.49".parse()?,
        port: 80,
    };
    let endpoints: Vec<IpAddr> = ["10.244.1.5", "10.244.2.7", "10.244.3.9"]
        .iter()
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;

    let mut ipvs = Ipvs::new()?;
    let service = Service::new(key).scheduler("rr".parse()?);
    let mut ops = Vec::new();
    match ipvs.service(&key) {
        Ok(_) => {
            ops.push(Op::EditService(service));
            // Endpoints no longer wanted go; kube-proxy would first drain
            // them with weight 0 until their connections end.
            for d in ipvs.destinations(&key)? {
                if !endpoints.contains(&d.addr) || d.port != 8080 {
                    ops.push(Op::DeleteDestination(key, d.addr, d.port));
                }
            }
        }
        Err(e) if e.is_not_found() => ops.push(Op::AddService(service)),
        Err(e) => return Err(e.into()),
    }
    let existing = ipvs.destinations(&key).unwrap_or_default();
    for addr in &endpoints {
        let dest = Destination::new(*addr, 8080)
            .forward(ForwardMethod::Masq)
            .weight(1);
        if existing.iter().any(|d| d.addr == *addr && d.port == 8080) {
            ops.push(Op::EditDestination(key, dest));
        } else {
            ops.push(Op::AddDestination(key, dest));
        }
    }
    for refused in ipvs.apply(ops)? {
        eprintln!("{}", refused.error);
    }

    println!("{} {}", key, ipvs.service(&key)?.scheduler);
    for d in ipvs.destinations(&key)? {
        println!("  -> {}:{} masq weight {}", d.addr, d.port, d.weight);
    }
    Ok(())
}
