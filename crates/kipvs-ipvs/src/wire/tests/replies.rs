//! Kernel replies: parsed to attributes and to domain types.

use std::net::IpAddr;

use super::{golden::*, golden_reply, parse};
use crate::{
    wire::{
        self, addr_to_wire, stats::stats_attrs, DaemonAttr, DestAttr, InfoAttr, IpvsAttr as A,
        IpvsCmd, IpvsMessage, StatsAttr, SvcAttr as S, SvcFlags,
    },
    Daemon, DaemonState, ForwardMethod, Info, Protocol, ServiceFlags, ServiceKey, Stats, Timeouts,
    TunnelType,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn zero_stats() -> Stats {
    Stats::default()
}

fn nests(s: &Stats) -> [S; 2] {
    [S::Stats(stats_attrs(s)), S::Stats64(stats_attrs(s))]
}

/// Three connections through TCP 10.0.0.1:80, as the -Sn capture shows.
fn tcp_stats() -> Stats {
    Stats {
        conns: 3,
        inpkts: 3,
        outpkts: 3,
        inbytes: 180,
        outbytes: 120,
        cps: 0,
        inpps: 0,
        outpps: 0,
        inbps: 22,
        outbps: 15,
    }
}

#[test]
fn info_reply() {
    let expected = IpvsMessage::new(
        IpvsCmd::SetInfo,
        vec![
            A::Info(InfoAttr::Version(0x010201)),
            A::Info(InfoAttr::ConnTabSize(4096)),
        ],
    );
    // No nests here: its attributes compare byte for byte.
    super::golden(INFO_REPLY, &expected);
    assert_eq!(
        wire::info_from_attrs(&expected.attrs).unwrap(),
        Info {
            version: 0x010201,
            conn_tab_size: 4096
        }
    );
}

#[test]
fn service_reply_with_stats_and_stats64() {
    let mut attrs = vec![
        S::Af(2),
        S::Protocol(6),
        S::Addr(addr_to_wire(&ip("10.0.0.1"))),
        S::Port(80),
        S::SchedName("wrr".into()),
        S::Flags(SvcFlags {
            flags: ServiceFlags::HASHED,
            mask: u32::MAX,
        }),
        S::Timeout(0),
        S::Netmask(u32::MAX),
    ];
    attrs.extend(nests(&tcp_stats()));
    let expected = IpvsMessage::new(IpvsCmd::NewService, vec![A::Service(attrs.clone())]);
    golden_reply(SERVICE_REPLY_TCP_STATS, &expected);

    let svc = wire::service_from_attrs(&attrs).unwrap();
    assert_eq!(
        svc.key,
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("10.0.0.1"),
            port: 80
        }
    );
    assert_eq!(svc.scheduler.as_str(), "wrr");
    assert_eq!(svc.flags, ServiceFlags(ServiceFlags::HASHED));
    assert_eq!(svc.netmask, 0xffff_ffff);
    assert_eq!(svc.pe_name, None);
    assert_eq!(svc.stats, tcp_stats());
}

#[test]
fn service_reply_ipv6_persistent() {
    let msg = parse(SERVICE_REPLY_UDP6);
    let svc = wire::service_from_attrs(msg.service().unwrap()).unwrap();
    assert_eq!(
        svc.key,
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("2001:db8::1"),
            port: 53
        }
    );
    assert_eq!(svc.scheduler.as_str(), "sh");
    assert!(svc
        .flags
        .has(ServiceFlags::PERSISTENT | ServiceFlags::SCHED1 | ServiceFlags::SCHED2));
    assert_eq!((svc.timeout, svc.netmask), (600, 64));
    assert_eq!(svc.stats, zero_stats());
    golden_reply(SERVICE_REPLY_UDP6, &msg);
}

#[test]
fn service_reply_fwmark_and_sctp() {
    let fwm = wire::service_from_attrs(parse(SERVICE_REPLY_FWMARK).service().unwrap()).unwrap();
    assert_eq!(
        fwm.key,
        ServiceKey::Fwmark {
            mark: 42,
            ipv6: false
        }
    );
    assert_eq!(fwm.scheduler.as_str(), "mh");
    assert!(fwm.flags.has(ServiceFlags::SCHED2));
    let sctp = wire::service_from_attrs(parse(SERVICE_REPLY_SCTP).service().unwrap()).unwrap();
    assert_eq!(
        sctp.key,
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: ip("10.0.0.3"),
            port: 9999
        }
    );
    assert_eq!(sctp.scheduler.as_str(), "lblcr");
}

#[test]
fn dest_reply_with_stats64() {
    let mut dest = vec![
        DestAttr::Addr(addr_to_wire(&ip("192.168.1.1"))),
        DestAttr::Port(8080),
        DestAttr::FwdMethod(0),
        DestAttr::Weight(5),
        DestAttr::TunType(0),
        DestAttr::TunPort(0),
        DestAttr::TunFlags(0),
        DestAttr::UThresh(0),
        DestAttr::LThresh(0),
        DestAttr::ActiveConns(0),
        DestAttr::InactConns(3),
        DestAttr::PersistConns(0),
        DestAttr::AddrFamily(2),
    ];
    dest.push(DestAttr::Stats(stats_attrs(&tcp_stats())));
    dest.push(DestAttr::Stats64(stats_attrs(&tcp_stats())));
    let expected = IpvsMessage::new(IpvsCmd::NewDest, vec![A::Dest(dest.clone())]);
    golden_reply(DEST_REPLY_MASQ, &expected);

    let d = wire::dest_from_attrs(&dest, wire::AF_INET).unwrap();
    assert_eq!((d.addr, d.port), (ip("192.168.1.1"), 8080));
    assert_eq!(d.forward, ForwardMethod::Masq);
    assert_eq!((d.weight, d.active_conns, d.inactive_conns), (5, 0, 3));
    assert_eq!(d.tunnel_type, TunnelType::Ipip);
    assert_eq!(d.stats, tcp_stats());
}

/// Linux before 4.1 sends only the 32-bit `STATS`; with both, `STATS64`
/// wins (its counters do not wrap).
#[test]
fn stats64_is_preferred_and_stats_is_the_fallback() {
    let mut wide = tcp_stats();
    wide.conns = 1 << 33;
    let base = |extra: Vec<S>| {
        let mut a = vec![
            S::Af(2),
            S::Protocol(6),
            S::Addr(addr_to_wire(&ip("10.0.0.1"))),
            S::Port(80),
        ];
        a.extend(extra);
        wire::service_from_attrs(&a).unwrap().stats
    };
    assert_eq!(base(vec![S::Stats(stats_attrs(&tcp_stats()))]), tcp_stats());
    assert_eq!(
        base(vec![
            S::Stats(stats_attrs(&tcp_stats())),
            S::Stats64(stats_attrs(&wide))
        ]),
        wide
    );
    assert_eq!(
        base(vec![
            S::Stats64(stats_attrs(&wide)),
            S::Stats(stats_attrs(&tcp_stats()))
        ]),
        wide
    );
}

/// A real server of another family than its service's is told by
/// `IPVS_DEST_ATTR_ADDR_FAMILY`; without it (Linux < 4.2) the service's
/// family applies.
#[test]
fn dest_family_comes_from_addr_family_else_the_service() {
    let v6 = vec![
        DestAttr::Addr(addr_to_wire(&ip("2001:db8::2"))),
        DestAttr::Port(80),
        DestAttr::FwdMethod(2),
        DestAttr::AddrFamily(wire::AF_INET6),
    ];
    let d = wire::dest_from_attrs(&v6, wire::AF_INET).unwrap();
    assert_eq!(d.addr, ip("2001:db8::2"));
    assert_eq!(d.forward, ForwardMethod::Tunnel);
    let old = vec![
        DestAttr::Addr(addr_to_wire(&ip("192.168.1.9"))),
        DestAttr::Port(80),
    ];
    assert_eq!(
        wire::dest_from_attrs(&old, wire::AF_INET).unwrap().addr,
        ip("192.168.1.9")
    );
}

#[test]
fn unknown_attributes_are_kept_not_fatal() {
    // A service record from a future kernel: IPVS_SVC_ATTR 200 with 4 bytes,
    // and an unknown top-level attribute 50.
    let mut bytes = SERVICE_REPLY_FWMARK.to_vec();
    let nest_len = u16::from_ne_bytes([bytes[4], bytes[5]]) + 8;
    bytes[4..6].copy_from_slice(&nest_len.to_ne_bytes());
    bytes.extend_from_slice(&[8, 0, 200, 0, 1, 2, 3, 4]);
    bytes.extend_from_slice(&[8, 0, 50, 0, 9, 9, 9, 9]);
    let msg = parse(&bytes);
    let svc_attrs = msg.service().unwrap();
    assert!(matches!(svc_attrs.last(), Some(S::Other(_))));
    assert!(matches!(msg.attrs.last(), Some(A::Other(_))));
    let svc = wire::service_from_attrs(svc_attrs).unwrap();
    assert_eq!(svc.scheduler.as_str(), "mh");
    assert_eq!(super::emit(&msg)[4..], super::with_nested_flag(&bytes)[4..]);
    // And an unknown counter inside a stats nest.
    let mut stats = vec![StatsAttr::Conns(1)];
    stats.push(StatsAttr::Other(netlink_packet_core::DefaultNla::new(
        11,
        vec![],
    )));
    assert_eq!(wire::stats::stats_from_attrs(&stats).conns, 1);
}

#[test]
fn config_reply() {
    let expected = IpvsMessage::new(
        IpvsCmd::SetConfig,
        vec![
            A::TimeoutTcp(900),
            A::TimeoutTcpFin(120),
            A::TimeoutUdp(300),
        ],
    );
    golden_reply(CONFIG_REPLY, &expected);
    assert_eq!(
        wire::timeouts_from_attrs(&expected.attrs),
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }
    );
}

#[test]
fn daemon_replies() {
    let master = parse(DAEMON_REPLY_MASTER);
    assert_eq!(
        wire::daemon_from_attrs(master.daemon().unwrap()).unwrap(),
        Daemon {
            state: DaemonState::Master,
            mcast_ifname: "d0".into(),
            sync_id: 5,
            sync_maxlen: 1400,
            mcast_group: Some(ip("224.0.0.81")),
            mcast_port: 8848,
            mcast_ttl: 2,
        }
    );
    golden_reply(DAEMON_REPLY_MASTER, &master);
    let backup = parse(DAEMON_REPLY_BACKUP);
    assert_eq!(
        backup.daemon().unwrap(),
        &[
            DaemonAttr::State(2),
            DaemonAttr::McastIfn("d0".into()),
            DaemonAttr::SyncId(7),
            // The kernel's defaults: the interface MTU less headers, the
            // IPVS sync port, TTL 1.
            DaemonAttr::SyncMaxlen(1452),
            DaemonAttr::McastPort(8848),
            DaemonAttr::McastTtl(1),
            DaemonAttr::McastGroup6("ff02::1:81".parse().unwrap()),
        ]
    );
    golden_reply(DAEMON_REPLY_BACKUP, &backup);
}

#[test]
fn dest_reply_of_the_other_family() {
    let msg = parse(DEST_REPLY_MIXED);
    golden_reply(DEST_REPLY_MIXED, &msg);
    let attrs = msg.dest().unwrap();
    assert!(attrs.contains(&DestAttr::AddrFamily(wire::AF_INET6)));
    // The service is IPv4; the real server's own family decides.
    let d = wire::dest_from_attrs(attrs, wire::AF_INET).unwrap();
    assert_eq!((d.addr, d.port), (ip("2001:db8::2"), 80));
    assert_eq!(d.forward, ForwardMethod::Tunnel);
    assert_eq!(d.tunnel_type, TunnelType::Ipip);
}

#[test]
fn dest_reply_gue_tunnel_with_thresholds() {
    let msg = parse(DEST_REPLY_GUE);
    golden_reply(DEST_REPLY_GUE, &msg);
    let d = wire::dest_from_attrs(msg.dest().unwrap(), wire::AF_INET).unwrap();
    assert_eq!((d.addr, d.port, d.weight), (ip("192.168.1.2"), 80, 2));
    assert_eq!(d.forward, ForwardMethod::Tunnel);
    assert_eq!(
        (d.tunnel_type, d.tunnel_port, d.tunnel_flags),
        (TunnelType::Gue, 6080, 2)
    );
    assert_eq!((d.upper_threshold, d.lower_threshold), (50, 5));
}

#[test]
fn ah_and_esp_services_are_not_representable() {
    let esp = [S::Af(2), S::Protocol(50), S::Port(0)];
    assert!(!wire::service_is_representable(&esp));
    assert!(wire::service_from_attrs(&esp).is_err());
    assert!(wire::service_is_representable(&[S::Af(2), S::Fwmark(3)]));
    assert!(wire::service_is_representable(&[
        S::Af(10),
        S::Protocol(132)
    ]));
}

#[test]
fn real_servers_with_no_known_method_are_not_representable() {
    let base = |fwd, tun| {
        vec![
            DestAttr::Addr(addr_to_wire(&ip("192.168.1.4"))),
            DestAttr::Port(80),
            DestAttr::FwdMethod(fwd),
            DestAttr::TunType(tun),
        ]
    };
    assert!(wire::dest_is_representable(&base(3, 2)));
    assert!(!wire::dest_is_representable(&base(4, 0)));
    assert!(!wire::dest_is_representable(&base(2, 3)));
    assert!(wire::dest_from_attrs(&base(7, 0), wire::AF_INET).is_err());
}
