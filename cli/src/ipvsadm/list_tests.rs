//! The formatters on hand-built services, against what the real ipvsadm
//! 1.31 printed for the same table in the test VM
//! (`tests/fixtures/ipvsadm/*.txt`).

use std::net::IpAddr;

use kipvs::ipvs::{
    Connection, Daemon, DaemonState, Destination, ForwardMethod, Info, Protocol, Scheduler,
    Service, ServiceFlags, ServiceKey, Stats, Timeouts, TunnelType,
};

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn svc(proto: Protocol, addr: &str, port: u16, sched: &str) -> Service {
    Service::new(ServiceKey::Addr {
        protocol: proto,
        addr: ip(addr),
        port,
    })
    .scheduler(sched.parse::<Scheduler>().unwrap())
}

fn dest(addr: &str, port: u16, fwd: ForwardMethod, weight: u32) -> Destination {
    Destination::new(ip(addr), port).forward(fwd).weight(weight)
}

/// The table the VM capture was made from, in a scrambled order (the
/// kernel's hash order is not the listing's).
fn table() -> Vec<(Service, Vec<Destination>)> {
    use ForwardMethod::*;
    let hashed = ServiceFlags::HASHED;
    let mut s1 = svc(Protocol::Tcp, "10.0.0.1", 80, "wlc");
    s1.flags.0 |= hashed;
    let mut d1 = dest("192.168.1.1", 8080, Masq, 5);
    d1.upper_threshold = 100;
    d1.lower_threshold = 10;
    let mut gue = dest("192.168.1.3", 80, Tunnel, 1);
    gue.tunnel_type = TunnelType::Gue;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = 1;
    let mut gre = dest("192.168.1.5", 80, Tunnel, 1);
    gre.tunnel_type = TunnelType::Gre;
    let ipip = dest("192.168.1.6", 80, Tunnel, 1);
    let dests1 = vec![ipip, gre, gue, dest("192.168.1.2", 80, DirectRoute, 1), d1];

    let s2 = svc(Protocol::Tcp, "10.0.0.2", 80, "rr").persistent(360);
    let mut s3 = svc(Protocol::Tcp, "10.0.0.3", 443, "mh").persistent(60);
    s3.flags.0 |= ServiceFlags::SCHED2;
    s3.netmask = 0xffff_ff00;
    let mut s4 = svc(Protocol::Udp, "10.0.0.2", 53, "sh");
    s4.flags.0 |= ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::ONEPACKET;
    let s5 = svc(Protocol::Sctp, "10.0.0.4", 9, "nq");
    let s6 = svc(Protocol::Tcp, "2001:db8::1", 80, "lc");
    let d6 = vec![dest("2001:db8::10", 80, Masq, 3)];
    let s7 = Service::new(ServiceKey::Fwmark {
        mark: 5,
        ipv6: false,
    })
    .scheduler("wrr".parse().unwrap());
    let d7 = vec![dest("192.168.2.1", 0, DirectRoute, 0)];
    let mut s8 = Service::new(ServiceKey::Fwmark {
        mark: 6,
        ipv6: true,
    })
    .persistent(100);
    s8.netmask = 64;
    vec![
        (s4, vec![]),
        (s2, vec![]),
        (s1, dests1),
        (s5, vec![]),
        (s3, vec![]),
        (s6, d6),
        (s7, d7),
        (s8, vec![]),
    ]
}

fn render(format: u32) -> String {
    let mut t = table();
    sort_services(&mut t);
    let mut out = String::new();
    if format & FMT_RULE == 0 {
        out.push_str(&header(&Info {
            version: 0x010201,
            conn_tab_size: 4096,
        }));
    }
    out.push_str(title(format));
    for (s, d) in &t {
        service_entry(&mut out, s, d, format);
    }
    out
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/ipvsadm/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[track_caller]
fn check(format: u32, name: &str) {
    let (expected, actual) = (fixture(name), render(format));
    assert!(
        expected == actual,
        "{name}:\n--- ipvsadm\n{expected}\n--- kipvs\n{actual}"
    );
}

#[test]
fn list_numeric() {
    check(FMT_NUMERIC, "list-n.txt");
}

#[test]
fn save_numeric() {
    check(FMT_NUMERIC | FMT_RULE, "save-n.txt");
}

#[test]
fn list_variants() {
    check(FMT_NUMERIC | FMT_STATS, "list-n-stats.txt");
    check(FMT_NUMERIC | FMT_RATE, "list-n-rate.txt");
    check(
        FMT_NUMERIC | FMT_STATS | FMT_EXACT,
        "list-n-exact-stats.txt",
    );
    check(FMT_NUMERIC | FMT_THRESHOLDS, "list-n-thresholds.txt");
    check(
        FMT_NUMERIC | FMT_PERSISTENTCONN,
        "list-n-persistent-conn.txt",
    );
    check(FMT_NUMERIC | FMT_TUN_INFO, "list-n-tun-info.txt");
}

#[test]
fn large_numbers_abbreviate_like_print_largenum() {
    let mut s = svc(Protocol::Tcp, "10.0.0.1", 80, "rr");
    s.stats = Stats {
        conns: 99_999_999,
        inpkts: 100_000_000,
        outpkts: 1_234_567_890,
        inbytes: 123_456_789_012_345,
        outbytes: 99_999_999_999_999,
        ..Stats::default()
    };
    let mut out = String::new();
    service_entry(&mut out, &s, &[], FMT_NUMERIC | FMT_STATS);
    assert_eq!(
        out,
        "TCP  10.0.0.1:80                  99999999  100000K    1234M     123T   99999G\n"
    );
    out.clear();
    service_entry(&mut out, &s, &[], FMT_NUMERIC | FMT_STATS | FMT_EXACT);
    assert_eq!(
        out,
        "TCP  10.0.0.1:80                  99999999 100000000 1234567890 123456789012345 99999999999999\n"
    );
}

#[test]
fn sorting_follows_libipvs_wrapping_comparison() {
    // 10.0.0.1 - 200.0.0.1 wraps to a positive int: libipvs lists
    // 200.0.0.1 first, and so must we.
    let mut t = vec![
        (svc(Protocol::Tcp, "10.0.0.1", 80, "rr"), vec![]),
        (svc(Protocol::Tcp, "200.0.0.1", 80, "rr"), vec![]),
    ];
    sort_services(&mut t);
    let mut out = String::new();
    for (s, d) in &t {
        service_entry(&mut out, s, d, FMT_NUMERIC);
    }
    assert_eq!(out, "TCP  200.0.0.1:80 rr\nTCP  10.0.0.1:80 rr\n");
}

#[test]
fn long_names_are_cut_like_ipvsadm() {
    let s = Service::new(ServiceKey::Fwmark {
        mark: u32::MAX,
        ipv6: false,
    });
    let mut out = String::new();
    service_entry(&mut out, &s, &[], FMT_RULE);
    assert_eq!(out, "-A -f -1 -s wlc\n");
}

#[test]
fn timeouts_daemons_connections() {
    assert_eq!(
        timeouts(&Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    // Captured from the VM after `--start-daemon master --mcast-interface
    // lo --syncid 5` and a backup with every option.
    let ds = [
        Daemon {
            state: DaemonState::Master,
            mcast_ifname: "lo".into(),
            sync_id: 5,
            sync_maxlen: 1472,
            mcast_group: Some(ip("224.0.0.81")),
            mcast_port: 8848,
            mcast_ttl: 1,
        },
        Daemon {
            state: DaemonState::Backup,
            mcast_ifname: "lo".into(),
            sync_id: 0,
            sync_maxlen: 1024,
            mcast_group: Some(ip("224.0.0.99")),
            mcast_port: 1234,
            mcast_ttl: 3,
        },
    ];
    assert_eq!(
        daemons(&ds),
        "master sync daemon (mcast=lo, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
         backup sync daemon (mcast=lo, syncid=0, maxlen=1024, group=224.0.0.99, port=1234, ttl=3)\n"
    );
    let c = Connection {
        protocol: "TCP".into(),
        client: ip("10.9.0.2"),
        client_port: 40000,
        virtual_addr: ip("10.0.0.1"),
        virtual_port: 80,
        dest: ip("192.168.1.1"),
        dest_port: 8080,
        state: "ESTABLISHED".into(),
        expires: 899,
        pe: None,
    };
    assert_eq!(
        connections(&[c], FMT_NUMERIC),
        "IPVS connection entries\n\
         pro expire state       source             virtual            destination\n\
         TCP 14:59  ESTABLISHED 10.9.0.2:40000     10.0.0.1:80        192.168.1.1:8080\n"
    );
}
