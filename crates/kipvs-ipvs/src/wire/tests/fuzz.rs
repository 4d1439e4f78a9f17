//! Property tests: no input makes a decoder panic; what is emitted parses
//! back to the same thing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::ParseableParametrized;
use netlink_packet_generic::GenlHeader;
use proptest::prelude::*;

use super::{emit, golden::*, parse};
use crate::{
    wire::{self, IpvsMessage},
    Destination, ForwardMethod, Op, Protocol, Scheduler, Service, ServiceFlags, ServiceKey, Stats,
    TunnelType,
};

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
    ]
}

fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (
            prop_oneof![
                Just(Protocol::Tcp),
                Just(Protocol::Udp),
                Just(Protocol::Sctp)
            ],
            addr(),
            any::<u16>()
        )
            .prop_map(|(protocol, addr, port)| ServiceKey::Addr {
                protocol,
                addr,
                port
            }),
        (1..u32::MAX, any::<bool>()).prop_map(|(mark, ipv6)| ServiceKey::Fwmark { mark, ipv6 }),
    ]
}

fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        prop::sample::select(Scheduler::KNOWN.to_vec()),
        0u32..0x40,
        any::<u32>(),
        any::<u32>(),
        prop::option::of("[a-z]{1,15}"),
    )
        .prop_map(|(key, sched, flags, timeout, netmask, pe)| {
            let mut s = Service::new(key).scheduler(sched.parse().unwrap());
            s.flags = ServiceFlags(flags & !ServiceFlags::HASHED);
            s.timeout = timeout;
            s.netmask = netmask;
            s.pe_name = pe;
            s
        })
}

fn destination() -> impl Strategy<Value = Destination> {
    (
        addr(),
        any::<u16>(),
        prop::sample::select(vec![
            ForwardMethod::Masq,
            ForwardMethod::Local,
            ForwardMethod::Tunnel,
            ForwardMethod::DirectRoute,
        ]),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        prop::sample::select(vec![TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre]),
        any::<u16>(),
        0u16..4,
    )
        .prop_map(|(addr, port, fwd, w, u, l, tt, tp, tf)| {
            let mut d = Destination::new(addr, port).forward(fwd).weight(w);
            d.upper_threshold = u;
            d.lower_threshold = l;
            d.tunnel_type = tt;
            d.tunnel_port = tp;
            d.tunnel_flags = tf;
            d
        })
}

fn any_payload(cmd: u8, bytes: &[u8]) -> Result<IpvsMessage, netlink_packet_core::DecodeError> {
    IpvsMessage::parse_with_param(bytes, GenlHeader { cmd, version: 1 })
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(cmd in 0u8..20, bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(msg) = any_payload(cmd, &bytes) {
            // Whatever parses also converts (or refuses) without panicking.
            if let Some(s) = msg.service() { let _ = wire::service_from_attrs(s); }
            if let Some(d) = msg.dest() { let _ = wire::dest_from_attrs(d, wire::AF_INET); }
            if let Some(d) = msg.daemon() { let _ = wire::daemon_from_attrs(d); }
            let _ = wire::info_from_attrs(&msg.attrs);
            let _ = emit(&msg);
        }
    }

    /// Flipping bytes of real messages reaches deeper than random bytes.
    #[test]
    fn decoding_mutated_captures_never_panics(
        which in 0usize..6,
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let base = [SERVICE_REPLY_TCP_STATS, DEST_REPLY_MASQ, DAEMON_REPLY_BACKUP,
            NEW_DEST_GUE, INFO_REPLY, CONFIG_REPLY][which];
        let mut bytes = base.to_vec();
        for (at, b) in flips { let n = bytes.len(); bytes[at % n] = b; }
        bytes.truncate(4 + cut % (bytes.len() - 3));
        if let Ok(msg) = any_payload(bytes[0], &bytes[4..]) {
            if let Some(s) = msg.service() { let _ = wire::service_from_attrs(s); }
            if let Some(d) = msg.dest() { let _ = wire::dest_from_attrs(d, wire::AF_INET6); }
            if let Some(d) = msg.daemon() { let _ = wire::daemon_from_attrs(d); }
        }
    }

    #[test]
    fn services_round_trip(svc in service()) {
        let msg = Op::AddService(svc.clone()).to_message();
        let back = parse(&emit(&msg));
        prop_assert_eq!(&back, &msg);
        prop_assert_eq!(wire::service_from_attrs(back.service().unwrap()).unwrap(), svc);
    }

    #[test]
    fn destinations_round_trip(key in key(), dest in destination()) {
        let msg = Op::AddDestination(key, dest.clone()).to_message();
        let back = parse(&emit(&msg));
        prop_assert_eq!(&back, &msg);
        let af = if key.is_ipv6() { wire::AF_INET6 } else { wire::AF_INET };
        prop_assert_eq!(wire::dest_from_attrs(back.dest().unwrap(), af).unwrap(), dest);
    }

    #[test]
    fn stats_round_trip_at_both_widths(c in any::<[u32; 10]>()) {
        let s = Stats {
            conns: c[0].into(), inpkts: c[1].into(), outpkts: c[2].into(),
            inbytes: u64::from(c[3]) << 20, outbytes: u64::from(c[4]) << 20,
            cps: c[5].into(), inpps: c[6].into(), outpps: c[7].into(),
            inbps: c[8].into(), outbps: c[9].into(),
        };
        let attrs = vec![wire::SvcAttr::Stats(wire::stats::stats_attrs(&s)),
            wire::SvcAttr::Stats64(wire::stats::stats_attrs(&s))];
        let msg = IpvsMessage::new(wire::IpvsCmd::NewService, vec![wire::IpvsAttr::Service(attrs)]);
        prop_assert_eq!(parse(&emit(&msg)), msg);
    }
}
