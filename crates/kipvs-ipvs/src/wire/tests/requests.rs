//! Requests: what ipvsadm sends, parsed and emitted again, and what this
//! crate's [`Op`]s send for the same change.

use std::net::IpAddr;

use super::{emit, golden, golden::*};
use crate::{
    wire::{
        addr_to_wire, DaemonAttr, DestAttr, IpvsAttr as A, IpvsCmd, IpvsMessage, SvcAttr as S,
        SvcFlags,
    },
    Daemon, DaemonState, Destination, ForwardMethod, Op, Protocol, Service, ServiceFlags,
    ServiceKey, Timeouts, TunnelType,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn wire_addr(s: &str) -> [u8; 16] {
    addr_to_wire(&ip(s))
}

fn key(protocol: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol,
        addr: ip(addr),
        port,
    }
}

/// The service nest of `ipvsadm -a/-e/-d/-Z/-D`: the key, then an empty
/// scheduler, no flags, timeout 0 and a full netmask.
fn ipvsadm_key_nest(mut key: Vec<S>) -> A {
    key.extend([
        S::SchedName(String::new()),
        S::Flags(SvcFlags {
            flags: 0,
            mask: u32::MAX,
        }),
        S::Timeout(0),
        S::Netmask(u32::MAX),
    ]);
    A::Service(key)
}

fn tcp_key_attrs() -> Vec<S> {
    vec![
        S::Af(2),
        S::Protocol(6),
        S::Addr(wire_addr("10.0.0.1")),
        S::Port(80),
    ]
}

#[test]
fn get_info() {
    golden(GET_INFO, &IpvsMessage::new(IpvsCmd::GetInfo, vec![]));
}

#[test]
fn new_service_tcp() {
    let expected = IpvsMessage::new(
        IpvsCmd::NewService,
        vec![A::Service(vec![
            S::Af(2),
            S::Protocol(6),
            S::Addr(wire_addr("10.0.0.1")),
            S::Port(80),
            S::SchedName("rr".into()),
            S::Flags(SvcFlags {
                flags: 0,
                mask: u32::MAX,
            }),
            S::Timeout(0),
            S::Netmask(u32::MAX),
        ])],
    );
    golden(NEW_SERVICE_TCP, &expected);
    let svc = Service::new(key(Protocol::Tcp, "10.0.0.1", 80)).scheduler("rr".parse().unwrap());
    assert_eq!(emit(&Op::AddService(svc).to_message()), NEW_SERVICE_TCP);
}

#[test]
fn new_service_ipv6_persistent_with_scheduler_flags() {
    let expected = IpvsMessage::new(
        IpvsCmd::NewService,
        vec![A::Service(vec![
            S::Af(10),
            S::Protocol(17),
            S::Addr(wire_addr("2001:db8::1")),
            S::Port(53),
            S::SchedName("sh".into()),
            S::Flags(SvcFlags {
                // PERSISTENT | SCHED1 (sh-fallback) | SCHED2 (sh-port)
                flags: 0x19,
                mask: u32::MAX,
            }),
            S::Timeout(600),
            // An IPv6 netmask is a prefix length, in host order.
            S::Netmask(64),
        ])],
    );
    golden(NEW_SERVICE_UDP6_SH, &expected);
    let mut svc = Service::new(key(Protocol::Udp, "2001:db8::1", 53))
        .scheduler("sh".parse().unwrap())
        .persistent(600);
    svc.flags.0 |= ServiceFlags::SCHED1 | ServiceFlags::SCHED2;
    svc.netmask = 64;
    assert_eq!(emit(&Op::AddService(svc).to_message()), NEW_SERVICE_UDP6_SH);
}

#[test]
fn new_service_fwmark() {
    let expected = IpvsMessage::new(
        IpvsCmd::NewService,
        vec![A::Service(vec![
            S::Af(2),
            S::Fwmark(42),
            S::SchedName("mh".into()),
            S::Flags(SvcFlags {
                flags: ServiceFlags::SCHED2,
                mask: u32::MAX,
            }),
            S::Timeout(0),
            S::Netmask(u32::MAX),
        ])],
    );
    golden(NEW_SERVICE_FWMARK, &expected);
    let mut svc = Service::new(ServiceKey::Fwmark {
        mark: 42,
        ipv6: false,
    })
    .scheduler("mh".parse().unwrap());
    svc.flags.0 |= ServiceFlags::SCHED2;
    assert_eq!(emit(&Op::AddService(svc).to_message()), NEW_SERVICE_FWMARK);
}

#[test]
fn new_service_with_persistence_engine_netmask_and_one_packet() {
    let expected = IpvsMessage::new(
        IpvsCmd::NewService,
        vec![A::Service(vec![
            S::Af(2),
            S::Protocol(17),
            S::Addr(wire_addr("10.0.0.2")),
            S::Port(5060),
            S::SchedName("wlc".into()),
            S::PeName("sip".into()),
            S::Flags(SvcFlags {
                flags: ServiceFlags::PERSISTENT | ServiceFlags::ONEPACKET,
                mask: u32::MAX,
            }),
            S::Timeout(60),
            // 255.255.255.0 in network byte order, read as a host u32.
            S::Netmask(u32::from_ne_bytes([255, 255, 255, 0])),
        ])],
    );
    golden(NEW_SERVICE_SIP, &expected);
    let mut svc = Service::new(key(Protocol::Udp, "10.0.0.2", 5060)).persistent(60);
    svc.flags.0 |= ServiceFlags::ONEPACKET;
    svc.netmask = 0xffff_ff00;
    svc.pe_name = Some("sip".into());
    assert_eq!(emit(&Op::AddService(svc).to_message()), NEW_SERVICE_SIP);
}

#[test]
fn new_service_sctp() {
    let svc =
        Service::new(key(Protocol::Sctp, "10.0.0.3", 9999)).scheduler("lblcr".parse().unwrap());
    let msg = Op::AddService(svc).to_message();
    golden(NEW_SERVICE_SCTP, &msg);
}

#[test]
fn set_service() {
    let svc = Service::new(key(Protocol::Tcp, "10.0.0.1", 80)).scheduler("wrr".parse().unwrap());
    let msg = Op::EditService(svc).to_message();
    assert_eq!(msg.cmd, IpvsCmd::SetService);
    golden(SET_SERVICE, &msg);
}

/// Destination commands: ipvsadm's bytes round-trip; this crate sends the
/// same real-server nest, and only the key in the service nest (the kernel
/// reads no more there: `ip_vs_genl_parse_service(.., full_entry=false)`).
#[track_caller]
fn dest_golden(bytes: &[u8], cmd: IpvsCmd, svc_key: Vec<S>, dest: Vec<DestAttr>, op: Op) {
    golden(
        bytes,
        &IpvsMessage::new(
            cmd,
            vec![ipvsadm_key_nest(svc_key.clone()), A::Dest(dest.clone())],
        ),
    );
    assert_eq!(
        op.to_message(),
        IpvsMessage::new(cmd, vec![A::Service(svc_key), A::Dest(dest)])
    );
}

#[test]
fn new_dest_masq_with_thresholds() {
    dest_golden(
        NEW_DEST_MASQ,
        IpvsCmd::NewDest,
        tcp_key_attrs(),
        vec![
            DestAttr::AddrFamily(2),
            DestAttr::Addr(wire_addr("192.168.1.1")),
            DestAttr::Port(8080),
            DestAttr::FwdMethod(0),
            DestAttr::Weight(3),
            DestAttr::TunType(0),
            DestAttr::TunPort(0),
            DestAttr::TunFlags(0),
            DestAttr::UThresh(100),
            DestAttr::LThresh(10),
        ],
        Op::AddDestination(key(Protocol::Tcp, "10.0.0.1", 80), {
            let mut d = Destination::new(ip("192.168.1.1"), 8080)
                .forward(ForwardMethod::Masq)
                .weight(3);
            d.upper_threshold = 100;
            d.lower_threshold = 10;
            d
        }),
    );
}

#[test]
fn new_dest_gue_tunnel() {
    dest_golden(
        NEW_DEST_GUE,
        IpvsCmd::NewDest,
        tcp_key_attrs(),
        vec![
            DestAttr::AddrFamily(2),
            DestAttr::Addr(wire_addr("192.168.1.2")),
            // Tunnelled real servers take the service's port.
            DestAttr::Port(80),
            DestAttr::FwdMethod(2),
            DestAttr::Weight(1),
            DestAttr::TunType(1),
            DestAttr::TunPort(6080),
            // IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
            DestAttr::TunFlags(2),
            DestAttr::UThresh(0),
            DestAttr::LThresh(0),
        ],
        Op::AddDestination(key(Protocol::Tcp, "10.0.0.1", 80), {
            let mut d = Destination::new(ip("192.168.1.2"), 80).forward(ForwardMethod::Tunnel);
            d.tunnel_type = TunnelType::Gue;
            d.tunnel_port = 6080;
            d.tunnel_flags = 2;
            d
        }),
    );
}

#[test]
fn new_dest_of_the_other_family_names_its_own() {
    dest_golden(
        NEW_DEST_MIXED,
        IpvsCmd::NewDest,
        tcp_key_attrs(),
        vec![
            DestAttr::AddrFamily(10),
            DestAttr::Addr(wire_addr("2001:db8::2")),
            DestAttr::Port(80),
            DestAttr::FwdMethod(2),
            DestAttr::Weight(1),
            DestAttr::TunType(0),
            DestAttr::TunPort(0),
            DestAttr::TunFlags(0),
            DestAttr::UThresh(0),
            DestAttr::LThresh(0),
        ],
        Op::AddDestination(
            key(Protocol::Tcp, "10.0.0.1", 80),
            Destination::new(ip("2001:db8::2"), 80).forward(ForwardMethod::Tunnel),
        ),
    );
}

#[test]
fn new_dest_of_a_fwmark_service() {
    dest_golden(
        NEW_DEST_FWMARK,
        IpvsCmd::NewDest,
        vec![S::Af(2), S::Fwmark(42)],
        vec![
            DestAttr::AddrFamily(2),
            DestAttr::Addr(wire_addr("192.168.1.3")),
            DestAttr::Port(0),
            DestAttr::FwdMethod(3),
            DestAttr::Weight(0),
            DestAttr::TunType(0),
            DestAttr::TunPort(0),
            DestAttr::TunFlags(0),
            DestAttr::UThresh(0),
            DestAttr::LThresh(0),
        ],
        Op::AddDestination(
            ServiceKey::Fwmark {
                mark: 42,
                ipv6: false,
            },
            Destination::new(ip("192.168.1.3"), 0).weight(0),
        ),
    );
}

#[test]
fn set_dest() {
    dest_golden(
        SET_DEST,
        IpvsCmd::SetDest,
        tcp_key_attrs(),
        vec![
            DestAttr::AddrFamily(2),
            DestAttr::Addr(wire_addr("192.168.1.1")),
            DestAttr::Port(8080),
            DestAttr::FwdMethod(0),
            DestAttr::Weight(5),
            DestAttr::TunType(0),
            DestAttr::TunPort(0),
            DestAttr::TunFlags(0),
            DestAttr::UThresh(0),
            DestAttr::LThresh(0),
        ],
        Op::EditDestination(
            key(Protocol::Tcp, "10.0.0.1", 80),
            Destination::new(ip("192.168.1.1"), 8080)
                .forward(ForwardMethod::Masq)
                .weight(5),
        ),
    );
}

#[test]
fn del_dest() {
    let ipvsadm_dest = vec![
        DestAttr::AddrFamily(2),
        DestAttr::Addr(wire_addr("192.168.1.2")),
        DestAttr::Port(80),
        DestAttr::FwdMethod(3),
        DestAttr::Weight(1),
        DestAttr::TunType(0),
        DestAttr::TunPort(0),
        DestAttr::TunFlags(0),
        DestAttr::UThresh(0),
        DestAttr::LThresh(0),
    ];
    golden(
        DEL_DEST,
        &IpvsMessage::new(
            IpvsCmd::DelDest,
            vec![
                ipvsadm_key_nest(tcp_key_attrs()),
                A::Dest(ipvsadm_dest.clone()),
            ],
        ),
    );
    // The kernel reads only the address, port and family of the real
    // server to delete (`ip_vs_genl_parse_dest(.., full_entry=false)`).
    let op = Op::DeleteDestination(key(Protocol::Tcp, "10.0.0.1", 80), ip("192.168.1.2"), 80);
    assert_eq!(
        op.to_message(),
        IpvsMessage::new(
            IpvsCmd::DelDest,
            vec![
                A::Service(tcp_key_attrs()),
                A::Dest(ipvsadm_dest[..3].to_vec())
            ]
        )
    );
}

#[test]
fn get_service_dump() {
    golden(
        GET_SERVICE_DUMP,
        &IpvsMessage::new(IpvsCmd::GetService, vec![]),
    );
}

#[test]
fn get_dest_dump_needs_the_service_nest() {
    let msg = crate::ipvs::dest_dump(&key(Protocol::Tcp, "10.0.0.1", 80));
    assert_eq!(msg.attrs, vec![A::Service(tcp_key_attrs())]);
    golden(GET_DEST_DUMP, &msg);
    let fwmark = crate::ipvs::dest_dump(&ServiceKey::Fwmark {
        mark: 42,
        ipv6: false,
    });
    golden(GET_DEST_DUMP_FWMARK, &fwmark);
    let v6 = crate::ipvs::dest_dump(&key(Protocol::Tcp, "2001:db8::1", 443));
    golden(GET_DEST_DUMP_IPV6, &v6);
}

#[test]
fn get_service() {
    let mut nest = tcp_key_attrs();
    nest.extend([
        S::SchedName(String::new()),
        S::Flags(SvcFlags {
            flags: 0,
            mask: u32::MAX,
        }),
        S::Timeout(0),
        S::Netmask(0),
    ]);
    golden(
        GET_SERVICE,
        &IpvsMessage::new(IpvsCmd::GetService, vec![A::Service(nest)]),
    );
}

#[test]
fn set_config() {
    let t = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };
    golden(SET_CONFIG, &Op::SetTimeouts(t).to_message());
    golden(GET_CONFIG, &IpvsMessage::new(IpvsCmd::GetConfig, vec![]));
}

#[test]
fn new_daemon_master_with_every_option() {
    let d = Daemon {
        state: DaemonState::Master,
        mcast_ifname: "d0".into(),
        sync_id: 5,
        sync_maxlen: 1400,
        mcast_group: Some(ip("224.0.0.81")),
        mcast_port: 8848,
        mcast_ttl: 2,
    };
    let msg = Op::StartDaemon(d).to_message();
    assert_eq!(
        msg.daemon().unwrap(),
        &[
            DaemonAttr::State(1),
            DaemonAttr::McastIfn("d0".into()),
            DaemonAttr::SyncId(5),
            DaemonAttr::SyncMaxlen(1400),
            // Host order, unlike every other IPVS port.
            DaemonAttr::McastPort(8848),
            DaemonAttr::McastTtl(2),
            DaemonAttr::McastGroup("224.0.0.81".parse().unwrap()),
        ]
    );
    golden(NEW_DAEMON_MASTER, &msg);
}

#[test]
fn new_daemon_backup_with_an_ipv6_group() {
    let d = Daemon {
        state: DaemonState::Backup,
        mcast_ifname: "d0".into(),
        sync_id: 7,
        sync_maxlen: 0,
        mcast_group: Some(ip("ff02::1:81")),
        mcast_port: 0,
        mcast_ttl: 0,
    };
    golden(NEW_DAEMON_BACKUP6, &Op::StartDaemon(d).to_message());
}

#[test]
fn get_and_del_daemon() {
    golden(GET_DAEMON, &IpvsMessage::new(IpvsCmd::GetDaemon, vec![]));
    golden(
        DEL_DAEMON,
        &Op::StopDaemon(DaemonState::Master).to_message(),
    );
}

#[test]
fn zero() {
    golden(ZERO_ALL, &Op::Zero(None).to_message());
    golden(
        ZERO_SERVICE,
        &IpvsMessage::new(IpvsCmd::Zero, vec![ipvsadm_key_nest(tcp_key_attrs())]),
    );
    assert_eq!(
        Op::Zero(Some(key(Protocol::Tcp, "10.0.0.1", 80))).to_message(),
        IpvsMessage::new(IpvsCmd::Zero, vec![A::Service(tcp_key_attrs())])
    );
}

#[test]
fn del_service() {
    let sctp = vec![
        S::Af(2),
        S::Protocol(132),
        S::Addr(wire_addr("10.0.0.3")),
        S::Port(9999),
    ];
    golden(
        DEL_SERVICE,
        &IpvsMessage::new(IpvsCmd::DelService, vec![ipvsadm_key_nest(sctp.clone())]),
    );
    assert_eq!(
        Op::DeleteService(key(Protocol::Sctp, "10.0.0.3", 9999)).to_message(),
        IpvsMessage::new(IpvsCmd::DelService, vec![A::Service(sctp)])
    );
}

#[test]
fn flush() {
    golden(FLUSH, &Op::Flush.to_message());
}

#[test]
fn op_words_name_the_object() {
    let k = key(Protocol::Tcp, "10.0.0.1", 80);
    assert_eq!(
        Op::AddService(Service::new(k)).to_string(),
        "adding service TCP 10.0.0.1:80"
    );
    assert_eq!(
        Op::DeleteDestination(k, ip("2001:db8::2"), 80).to_string(),
        "deleting real server [2001:db8::2]:80 from service TCP 10.0.0.1:80"
    );
    assert_eq!(
        Op::DeleteService(ServiceKey::Fwmark {
            mark: 7,
            ipv6: true
        })
        .to_string(),
        "deleting service FWM 7 (IPv6)"
    );
}
