//! `RTM_*ADDR` messages (`linux/if_addr.h`).

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::{
    address::{AddressAttribute, AddressMessage},
    AddressFamily, RouteNetlinkMessage,
};

use crate::Address;

/// Flags that make `RTM_NEWADDR` add, and fail with `EEXIST` rather than
/// touch an address that is bound already (as `ip addr add` and kube-proxy).
pub(crate) const CREATE: u16 = NLM_F_CREATE | NLM_F_EXCL;

/// The header and attributes `ip addr add|del ADDR dev X` sends: the IP as
/// both `IFA_LOCAL` and `IFA_ADDRESS` (they differ only on point-to-point
/// links), scope universe, no flags.
///
/// No `IFA_F_NODAD` for IPv6, as kube-proxy sets none: a dummy link is
/// `IFF_NOARP`, so the kernel skips duplicate address detection and the
/// address is usable at once even though the link is down. (On a link
/// without `IFF_NOARP`, such as a veth, a down link keeps the address
/// `tentative` and without its local route until the link comes up.)
fn message(index: u32, address: &Address) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(address.ip);
    msg.header.prefix_len = address.prefix_len;
    msg.header.index = index;
    msg.attributes.push(AddressAttribute::Local(address.ip));
    msg.attributes.push(AddressAttribute::Address(address.ip));
    msg
}

fn family(ip: IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// `RTM_NEWADDR`, sent with [`CREATE`].
pub(crate) fn add(index: u32, address: &Address) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewAddress(message(index, address))
}

/// `RTM_DELADDR`.
pub(crate) fn delete(index: u32, address: &Address) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelAddress(message(index, address))
}

/// `RTM_GETADDR` dump of both families, of one link (`index`) or of all
/// (`0`). The kernel filters by index only on a socket with
/// `NETLINK_GET_STRICT_CHK`, which [`crate::Links`] always turns on; it
/// then also insists that prefix length, flags and scope are zero.
pub(crate) fn dump(index: u32) -> RouteNetlinkMessage {
    let mut msg = AddressMessage::default();
    msg.header.index = index;
    RouteNetlinkMessage::GetAddress(msg)
}

/// The interface index and the [`Address`] of a reply, if it is an address.
/// `IFA_LOCAL` is the address proper; IPv6 sends only `IFA_ADDRESS` unless
/// there is a peer (as `ip` reads them).
pub(crate) fn decode(msg: RouteNetlinkMessage) -> Option<(u32, Address)> {
    let RouteNetlinkMessage::NewAddress(msg) = msg else {
        return None;
    };
    let mut local = None;
    let mut address = None;
    for attr in msg.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(ip),
            AddressAttribute::Address(ip) => address = Some(ip),
            _ => {}
        }
    }
    let ip = local.or(address)?;
    // The kernel never sends a prefix longer than the family allows; a
    // garbled one is dropped rather than trusted.
    let address = Address::new(ip, msg.header.prefix_len).ok()?;
    Some((msg.header.index, address))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::{emit, parse};
    use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};

    const SEQ: u32 = 0x6b05fc96;

    /// `strace -e write=3 ip addr add 10.0.0.1/32 dev v0` (v0: index 3).
    const IP_ADDR_ADD_V4: [u8; 40] = [
        0x28, 0, 0, 0, // length 40
        0x14, 0, // RTM_NEWADDR
        0x05, 0x06, // NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE
        0x96, 0xfc, 0x05, 0x6b, // sequence number
        0, 0, 0, 0, // port id
        0x02, 0x20, 0, 0, // ifaddrmsg: AF_INET, /32, no flags, scope universe
        3, 0, 0, 0, // index 3
        0x08, 0, 0x02, 0, 10, 0, 0, 1, // IFA_LOCAL 10.0.0.1
        0x08, 0, 0x01, 0, 10, 0, 0, 1, // IFA_ADDRESS 10.0.0.1
    ];

    /// `ip addr add 2001:db8::1/128 dev v0`.
    const IP_ADDR_ADD_V6: [u8; 64] = [
        0x40, 0, 0, 0, // length 64
        0x14, 0, // RTM_NEWADDR
        0x05, 0x06, // NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE
        0x96, 0xfc, 0x05, 0x6b, // sequence number
        0, 0, 0, 0, // port id
        0x0a, 0x80, 0, 0, // AF_INET6, /128, no flags (no IFA_F_NODAD), scope universe
        3, 0, 0, 0, // index 3
        0x14, 0, 0x02, 0, // IFA_LOCAL, length 20
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // 2001:db8::1
        0x14, 0, 0x01, 0, // IFA_ADDRESS, length 20
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // 2001:db8::1
    ];

    /// `ip addr del 10.0.0.1/32 dev v0`: the same body as the add.
    const IP_ADDR_DEL_V4: [u8; 40] = [
        0x28, 0, 0, 0, // length 40
        0x15, 0, // RTM_DELADDR
        0x05, 0, // NLM_F_REQUEST | NLM_F_ACK
        0x96, 0xfc, 0x05, 0x6b, // sequence number
        0, 0, 0, 0, // port id
        0x02, 0x20, 0, 0, // AF_INET, /32
        3, 0, 0, 0, // index 3
        0x08, 0, 0x02, 0, 10, 0, 0, 1, // IFA_LOCAL 10.0.0.1
        0x08, 0, 0x01, 0, 10, 0, 0, 1, // IFA_ADDRESS 10.0.0.1
    ];

    /// `ip addr del 2001:db8::1/128 dev v0`.
    const IP_ADDR_DEL_V6: [u8; 64] = [
        0x40, 0, 0, 0, // length 64
        0x15, 0, // RTM_DELADDR
        0x05, 0, // NLM_F_REQUEST | NLM_F_ACK
        0x96, 0xfc, 0x05, 0x6b, // sequence number
        0, 0, 0, 0, // port id
        0x0a, 0x80, 0, 0, // AF_INET6, /128
        3, 0, 0, 0, // index 3
        0x14, 0, 0x02, 0, // IFA_LOCAL, length 20
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // 2001:db8::1
        0x14, 0, 0x01, 0, // IFA_ADDRESS, length 20
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // 2001:db8::1
    ];

    fn a(s: &str) -> Address {
        s.parse().unwrap()
    }

    #[test]
    fn add_and_delete_are_byte_for_byte_what_ip_sends() {
        let ack = NLM_F_REQUEST | NLM_F_ACK;
        for (msg, flags, golden) in [
            (add(3, &a("10.0.0.1")), ack | CREATE, &IP_ADDR_ADD_V4[..]),
            (add(3, &a("2001:db8::1")), ack | CREATE, &IP_ADDR_ADD_V6[..]),
            (delete(3, &a("10.0.0.1/32")), ack, &IP_ADDR_DEL_V4[..]),
            (delete(3, &a("2001:db8::1/128")), ack, &IP_ADDR_DEL_V6[..]),
        ] {
            assert_eq!(emit(msg.clone(), flags, SEQ), golden, "{msg:?}");
            assert_eq!(parse(golden), msg);
        }
    }

    #[test]
    fn dump_header_is_what_strict_checking_accepts() {
        let bytes = emit(dump(7), NLM_F_REQUEST | NLM_F_DUMP, 1);
        assert_eq!(
            &bytes[16..],
            [
                0, 0, 0, 0, // AF_UNSPEC; prefix length, flags, scope 0
                7, 0, 0, 0, // only index 7
            ]
        );
    }

    #[test]
    fn decodes_ipv4_and_ipv6_replies() {
        assert_eq!(decode(parse(&IP_ADDR_ADD_V4)), Some((3, a("10.0.0.1/32"))));
        assert_eq!(decode(parse(&IP_ADDR_ADD_V6)), Some((3, a("2001:db8::1"))));
        // A kernel IPv6 reply carries IFA_ADDRESS only.
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet6;
        msg.header.prefix_len = 64;
        msg.header.index = 9;
        msg.attributes
            .push(AddressAttribute::Address("fe80::1".parse().unwrap()));
        let reply = RouteNetlinkMessage::NewAddress(msg);
        assert_eq!(decode(reply), Some((9, a("fe80::1/64"))));
        // Not an address, or a prefix no family has: nothing.
        assert_eq!(decode(parse(&IP_ADDR_DEL_V4)), None);
        let mut bad = AddressMessage::default();
        bad.header.prefix_len = 33;
        bad.attributes
            .push(AddressAttribute::Local("10.0.0.1".parse().unwrap()));
        assert_eq!(decode(RouteNetlinkMessage::NewAddress(bad)), None);
    }
}
