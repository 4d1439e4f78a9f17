//! The decoders never panic, whatever the kernel (or a fuzzer) sends, and
//! what this crate encodes decodes back to the same message.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kipvs_ipset::{
    entry_attrs,
    wire::{CmdAttr, IpsetCmd, IpsetMessage},
    Entry,
};
use kipvs_netlink::core::NetlinkSerializable;
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_bytes_decode_without_panic(cmd in 0u8..20, bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = IpsetMessage::parse(IpsetCmd::from(cmd), &bytes);
    }

    #[test]
    fn attribute_shaped_bytes_decode_without_panic(
        cmd in 0u8..20,
        attrs in proptest::collection::vec((0u16..40, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..12),
    ) {
        // Well-formed TLVs with random kinds, flags and payloads reach the
        // per-attribute decoders (nested IPs, ADT lists, strings).
        let mut buf = vec![2, 0, 0, 0];
        for (kind, nested, value) in attrs {
            let len = 4 + value.len();
            let kind = if nested { kind | 0x8000 } else { kind };
            buf.extend_from_slice(&(len as u16).to_ne_bytes());
            buf.extend_from_slice(&kind.to_ne_bytes());
            buf.extend_from_slice(&value);
            buf.resize((buf.len() + 3) & !3, 0);
        }
        let _ = IpsetMessage::parse(IpsetCmd::from(cmd), &buf);
    }

    #[test]
    fn elements_round_trip(a in any::<u32>(), b in any::<u128>(), port in any::<u16>(), proto in any::<u8>(), timeout in proptest::option::of(any::<u32>()), comment in proptest::option::of("[a-z ]{0,20}")) {
        for addr in [IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b))] {
            let mut e = Entry::ip_port(addr, proto, port);
            e.timeout = timeout;
            e.comment = comment.clone();
            let msg = IpsetMessage::request(
                IpsetCmd::Add,
                7,
                vec![CmdAttr::SetName("s".into()), CmdAttr::AdtData(entry_attrs(&e))],
            );
            let mut buf = vec![0; msg.buffer_len()];
            msg.serialize(&mut buf);
            prop_assert_eq!(IpsetMessage::parse(IpsetCmd::Add, &buf).unwrap(), msg);
        }
    }
}
