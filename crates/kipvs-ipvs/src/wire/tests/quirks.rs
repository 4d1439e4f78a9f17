//! Each wire quirk of `linux/ip_vs.h`, alone.

use netlink_packet_core::{Emitable, NLA_F_NESTED, NLA_F_NET_BYTEORDER};

use crate::{
    wire::{self, DaemonAttr, DestAttr, IpvsAttr, SvcAttr, SvcFlags},
    ServiceKey,
};

fn bytes<T: Emitable>(nla: &T) -> Vec<u8> {
    let mut buf = vec![0; nla.buffer_len()];
    nla.emit(&mut buf);
    buf
}

/// `IPVS_SVC_ATTR_ADDR`/`IPVS_DEST_ATTR_ADDR` are a `union nf_inet_addr`:
/// 16 bytes even for IPv4, which sits in the first 4.
#[test]
fn ipv4_addresses_take_16_bytes() {
    let a = SvcAttr::Addr(wire::addr_to_wire(&"10.0.0.1".parse().unwrap()));
    let b = bytes(&a);
    assert_eq!(&b[..4], &[20, 0, 3, 0]); // length 4 + 16
    assert_eq!(&b[4..8], &[10, 0, 0, 1]);
    assert!(b[8..].iter().all(|x| *x == 0));
    // A short address from an old peer is zero-padded, a long one refused.
    assert_eq!(wire::parse_addr(&[10, 0, 0, 1]).unwrap()[4..], [0; 12]);
    assert!(wire::parse_addr(&[0; 17]).is_err());
}

/// Ports are `__be16` but the attributes carry no `NLA_F_NET_BYTEORDER`.
#[test]
fn ports_are_big_endian_without_the_byte_order_flag() {
    for nla in [bytes(&SvcAttr::Port(8080)), bytes(&DestAttr::Port(8080))] {
        let kind = u16::from_ne_bytes([nla[2], nla[3]]);
        assert_eq!(kind & NLA_F_NET_BYTEORDER, 0);
        assert_eq!(&nla[4..6], &[0x1f, 0x90]);
    }
    assert_eq!(&bytes(&DestAttr::TunPort(6080))[4..6], &[0x17, 0xc0]);
}

/// ...except the sync daemon's multicast port, which is a host-order u16.
#[test]
fn the_daemon_port_is_host_order() {
    assert_eq!(
        &bytes(&DaemonAttr::McastPort(8848))[4..6],
        &8848u16.to_ne_bytes()
    );
}

/// `IPVS_SVC_ATTR_FLAGS` is `struct ip_vs_flags { flags, mask }`; a full
/// mask replaces every flag (what ipvsadm sends), and the kernel's own
/// HASHED bit is never sent.
#[test]
fn flags_are_a_flags_and_mask_pair() {
    let b = bytes(&SvcAttr::Flags(SvcFlags {
        flags: 1,
        mask: u32::MAX,
    }));
    assert_eq!(&b[..4], &[12, 0, 7, 0]);
    assert_eq!(&b[4..], &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    let svc = crate::Service::new(ServiceKey::Fwmark {
        mark: 1,
        ipv6: false,
    })
    .flag(crate::ServiceFlags::HASHED | crate::ServiceFlags::PERSISTENT);
    assert!(
        wire::service_attrs(&svc).contains(&SvcAttr::Flags(SvcFlags {
            flags: crate::ServiceFlags::PERSISTENT,
            mask: u32::MAX
        }))
    );
}

/// The IPv4 persistence mask travels in network order, the IPv6 one is a
/// prefix length.
#[test]
fn netmasks_by_family() {
    let v4 = crate::Service::new(ServiceKey::Fwmark {
        mark: 1,
        ipv6: false,
    })
    .netmask(0xffff_ff00);
    let v6 = crate::Service::new(ServiceKey::Fwmark {
        mark: 1,
        ipv6: true,
    })
    .netmask(64);
    let raw = |s: &crate::Service| {
        wire::service_attrs(s)
            .into_iter()
            .find_map(|a| match a {
                SvcAttr::Netmask(n) => Some(n.to_ne_bytes()),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(raw(&v4), [255, 255, 255, 0]);
    assert_eq!(raw(&v6), 64u32.to_ne_bytes());
}

/// Requests mark nests with `NLA_F_NESTED` (as libnl does); replies built
/// with `nla_nest_start_noflag` have none; both parse.
#[test]
fn nests_parse_with_or_without_the_nested_flag() {
    let nest = IpvsAttr::Service(vec![SvcAttr::Af(2), SvcAttr::Fwmark(5)]);
    let mut b = bytes(&nest);
    assert_ne!(u16::from_ne_bytes([b[2], b[3]]) & NLA_F_NESTED, 0);
    let with = super::parse(&[&[1u8, 1, 0, 0][..], &b].concat());
    b[3] &= 0x7f;
    let without = super::parse(&[&[1u8, 1, 0, 0][..], &b].concat());
    assert_eq!(with, without);
    assert_eq!(with.attrs, vec![nest]);
}
