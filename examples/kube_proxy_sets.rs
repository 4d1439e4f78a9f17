//! Create the ipsets kube-proxy's IPVS mode uses, with kube-proxy's types
//! and options, and put a ClusterIP service in them.
//!
//! `cargo run --example kube_proxy_sets` (as root; try it inside
//! `unshare -n`). `--ipv6` makes the `KUBE-6-` family instead. Existing
//! sets of the same definition are kept (`exist`).

use std::{net::IpAddr, process::ExitCode};

use kipvs::ipset::{proto, CreateOptions, Entry, Family, IpSet, SetName, SetType};

/// kube-proxy's sets (`pkg/proxy/ipvs/ipset.go`): name, type, comment.
const SETS: &[(&str, SetType)] = &[
    ("KUBE-LOOP-BACK", SetType::HashIpPortIp),
    ("KUBE-CLUSTER-IP", SetType::HashIpPort),
    ("KUBE-EXTERNAL-IP", SetType::HashIpPort),
    ("KUBE-EXTERNAL-IP-LOCAL", SetType::HashIpPort),
    ("KUBE-LOAD-BALANCER", SetType::HashIpPort),
    ("KUBE-LOAD-BALANCER-LOCAL", SetType::HashIpPort),
    ("KUBE-LOAD-BALANCER-FW", SetType::HashIpPort),
    ("KUBE-LOAD-BALANCER-SOURCE-IP", SetType::HashIpPortIp),
    ("KUBE-LOAD-BALANCER-SOURCE-CIDR", SetType::HashIpPortNet),
    ("KUBE-NODE-PORT-TCP", SetType::BitmapPort),
    ("KUBE-NODE-PORT-LOCAL-TCP", SetType::BitmapPort),
    ("KUBE-NODE-PORT-UDP", SetType::BitmapPort),
    ("KUBE-NODE-PORT-LOCAL-UDP", SetType::BitmapPort),
    ("KUBE-NODE-PORT-SCTP-HASH", SetType::HashIpPort),
    ("KUBE-NODE-PORT-LOCAL-SCTP-HASH", SetType::HashIpPort),
    ("KUBE-HEALTH-CHECK-NODE-PORT", SetType::BitmapPort),
    ("KUBE-IPVS-IPS", SetType::HashIp),
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kube_proxy_sets: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let v6 = std::env::args().any(|a| a == "--ipv6");
    let (prefix, family) = if v6 {
        ("KUBE-6-", Family::Inet6)
    } else {
        ("KUBE-", Family::Inet)
    };
    let mut ipset = IpSet::new()?;
    for (name, set_type) in SETS {
        let name: SetName = format!("{prefix}{}", &name["KUBE-".len()..]).parse()?;
        let options = if *set_type == SetType::BitmapPort {
            // Node ports are family-less bitmaps over the whole port range.
            CreateOptions::default().port_range(0, 65535).comment()
        } else {
            CreateOptions::default()
                .family(family)
                .hashsize(1024)
                .maxelem(65536)
                .comment()
        };
        ipset.create(&name, *set_type, &options, true)?;
    }
    // One ClusterIP service, 10.96.0.10:53/UDP (or fd00::10), as
    // kube-proxy writes it, with its comment.
    let vip: IpAddr = if v6 {
        "fd00::10".parse()?
    } else {
        "10.96.0.10".parse()?
    };
    let cluster_ip: SetName = format!("{prefix}CLUSTER-IP").parse()?;
    let entry =
        Entry::ip_port(vip, proto::IPPROTO_UDP, 53).comment("kube-system/kube-dns:dns cluster IP");
    ipset.add(&cluster_ip, &entry, true)?;
    ipset.add(&format!("{prefix}IPVS-IPS").parse()?, &Entry::ip(vip), true)?;
    for set in ipset.list(None)? {
        println!("{} {} ({} entries)", set.name, set.set_type, set.elements);
        for e in &set.entries {
            println!("  {}", e.display(set.set_type));
        }
    }
    Ok(())
}
