//! `RTM_*LINK` messages (`linux/rtnetlink.h`, `linux/if_link.h`).

use netlink_packet_core::{DefaultNla, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::{
    link::{LinkAttribute, LinkExtentMask, LinkFlags, LinkInfo, LinkMessage},
    RouteNetlinkMessage,
};

use crate::{link::DUMMY, IfName, Link};

/// Flags that make `RTM_NEWLINK` create, and fail with `EEXIST` rather than
/// change a link that exists.
pub(crate) const CREATE: u16 = NLM_F_CREATE | NLM_F_EXCL;

/// `RTM_GETLINK` for one link by name, as `ip link show NAME` asks: without
/// statistics (`RTEXT_FILTER_SKIP_STATS`), which kipvs never reads.
pub(crate) fn get_by_name(name: &IfName) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::ExtMask(vec![
        LinkExtentMask::Vf,
        LinkExtentMask::SkipStats,
    ]));
    msg.attributes
        .push(LinkAttribute::IfName(name.as_str().to_string()));
    RouteNetlinkMessage::GetLink(msg)
}

/// `RTM_GETLINK` dump of every link, without statistics.
pub(crate) fn dump() -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    RouteNetlinkMessage::GetLink(msg)
}

/// `IFLA_INFO_KIND` from `linux/if_link.h`.
const IFLA_INFO_KIND: u16 = 1;

/// `RTM_NEWLINK` for a dummy link, exactly as `ip link add NAME type dummy`
/// sends it: no flags, so the link is created down, as kube-proxy leaves it.
///
/// The kind goes without a NUL, as `ip` and kube-proxy's netlink library
/// send it (the kernel's `NLA_STRING` policy takes either); the typed
/// `InfoKind` of netlink-packet-route would add one.
pub(crate) fn new_dummy(name: &IfName) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes
        .push(LinkAttribute::IfName(name.as_str().to_string()));
    msg.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Other(
            DefaultNla::new(IFLA_INFO_KIND, DUMMY.as_bytes().to_vec()),
        )]));
    RouteNetlinkMessage::NewLink(msg)
}

/// `RTM_DELLINK` by index, as `ip link del NAME` sends it.
pub(crate) fn delete(index: u32) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    RouteNetlinkMessage::DelLink(msg)
}

/// The [`Link`] in a reply, if the reply is a link.
pub(crate) fn decode(msg: RouteNetlinkMessage) -> Option<Link> {
    let RouteNetlinkMessage::NewLink(msg) = msg else {
        return None;
    };
    let mut name = None;
    let mut kind = None;
    let mut mtu = 0;
    for attr in msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => name = Some(n),
            LinkAttribute::Mtu(m) => mtu = m,
            LinkAttribute::LinkInfo(infos) => {
                kind = infos.into_iter().find_map(|i| match i {
                    LinkInfo::Kind(k) => Some(k.to_string()),
                    _ => None,
                })
            }
            _ => {}
        }
    }
    Some(Link {
        index: msg.header.index,
        name: IfName::from_kernel(name?),
        kind,
        up: msg.header.flags.contains(LinkFlags::Up),
        mtu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::{emit, parse};
    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};

    /// Captured with `strace -e write=3 ip link add kube-ipvs0 type dummy`
    /// (iproute2 6.1).
    const IP_LINK_ADD_DUMMY: [u8; 64] = [
        0x40, 0, 0, 0, // length 64
        0x10, 0, // RTM_NEWLINK
        0x05, 0x06, // NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE
        0x96, 0xfc, 0x05, 0x6b, // sequence number
        0, 0, 0, 0, // port id
        0, 0, 0, 0, // ifinfomsg: AF_UNSPEC, pad, type 0
        0, 0, 0, 0, // index 0
        0, 0, 0, 0, // flags: none, so the link is made down
        0, 0, 0, 0, // change mask
        0x0f, 0, 0x03, 0, // IFLA_IFNAME, length 15
        b'k', b'u', b'b', b'e', b'-', b'i', b'p', b'v', b's', b'0', 0,
        0, // "kube-ipvs0\0" + pad
        0x10, 0, 0x12, 0, // IFLA_LINKINFO, length 16
        0x09, 0, 0x01, 0, // IFLA_INFO_KIND, length 9
        b'd', b'u', b'm', b'm', b'y', 0, 0, 0, // "dummy" + pad
    ];

    /// `ip link show v0`: the lookup by name.
    const IP_LINK_SHOW: [u8; 48] = [
        0x30, 0, 0, 0, // length 48
        0x12, 0, // RTM_GETLINK
        0x01, 0, // NLM_F_REQUEST
        0x98, 0xfc, 0x05, 0x6b, // sequence number
        0, 0, 0, 0, // port id
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ifinfomsg: all zero
        0x08, 0, 0x1d, 0, // IFLA_EXT_MASK, length 8
        0x09, 0, 0, 0, // RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS
        0x07, 0, 0x03, 0, // IFLA_IFNAME, length 7
        b'v', b'0', 0, 0, // "v0\0" + pad
    ];

    /// `ip link del v0` (v0 had index 3).
    const IP_LINK_DEL: [u8; 32] = [
        0x20, 0, 0, 0, // length 32
        0x11, 0, // RTM_DELLINK
        0x05, 0, // NLM_F_REQUEST | NLM_F_ACK
        0x96, 0xfc, 0x05, 0x6b, // sequence number
        0, 0, 0, 0, // port id
        0, 0, 0, 0, // AF_UNSPEC
        3, 0, 0, 0, // index 3
        0, 0, 0, 0, 0, 0, 0, 0, // flags, change mask
    ];

    #[test]
    fn new_dummy_is_byte_for_byte_what_ip_sends() {
        let msg = new_dummy(&IfName::kube_ipvs0());
        let flags = NLM_F_REQUEST | NLM_F_ACK | CREATE;
        assert_eq!(emit(msg, flags, 0x6b05fc96), IP_LINK_ADD_DUMMY);
        // What the kernel reads: the name and the kind "dummy".
        let RouteNetlinkMessage::NewLink(parsed) = parse(&IP_LINK_ADD_DUMMY) else {
            panic!("not RTM_NEWLINK");
        };
        assert_eq!(
            parsed.attributes,
            [
                LinkAttribute::IfName("kube-ipvs0".into()),
                LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                    netlink_packet_route::link::InfoKind::Dummy
                )]),
            ]
        );
    }

    #[test]
    fn get_by_name_is_byte_for_byte_what_ip_sends() {
        let msg = get_by_name(&"v0".parse().unwrap());
        assert_eq!(emit(msg.clone(), NLM_F_REQUEST, 0x6b05fc98), IP_LINK_SHOW);
        assert_eq!(parse(&IP_LINK_SHOW), msg);
    }

    #[test]
    fn delete_is_byte_for_byte_what_ip_sends() {
        let msg = delete(3);
        assert_eq!(
            emit(msg.clone(), NLM_F_REQUEST | NLM_F_ACK, 0x6b05fc96),
            IP_LINK_DEL
        );
        assert_eq!(parse(&IP_LINK_DEL), msg);
    }

    #[test]
    fn decodes_a_kernel_reply() {
        // The start of the kernel's answer to `ip link show v0` (a veth,
        // index 17, down): header, IFLA_IFNAME, IFLA_MTU 1500, then
        // IFLA_LINKINFO { IFLA_INFO_KIND "veth" }.
        let mut reply = vec![
            0, 0, 0, 0, 0x10, 0, 0, 0, 0x98, 0xfc, 0x05, 0x6b, 0, 0, 0, 0, // header
            0, 0, 1, 0, // AF_UNSPEC, ARPHRD_ETHER
            0x11, 0, 0, 0, // index 17
            0x02, 0x10, 0, 0, // IFF_BROADCAST | IFF_MULTICAST: down
            0, 0, 0, 0, // change mask
            0x07, 0, 0x03, 0, b'v', b'0', 0, 0, // IFLA_IFNAME "v0"
            0x08, 0, 0x04, 0, 0xdc, 0x05, 0, 0, // IFLA_MTU 1500
            0x10, 0, 0x12, 0, // IFLA_LINKINFO, length 16
            0x09, 0, 0x01, 0, b'v', b'e', b't', b'h', 0, 0, 0, 0, // IFLA_INFO_KIND "veth"
        ];
        let len = reply.len() as u32;
        reply[..4].copy_from_slice(&len.to_ne_bytes());
        let link = decode(parse(&reply)).unwrap();
        assert_eq!(
            link,
            Link {
                index: 17,
                name: "v0".parse().unwrap(),
                kind: Some("veth".into()),
                up: false,
                mtu: 1500,
            }
        );
        assert!(!link.is_dummy());
    }
}
