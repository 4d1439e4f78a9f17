//! The decoders never panic, whatever the kernel (or a fuzzer) sends, and
//! what this crate encodes decodes back to the same message.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kipvs_ipset::{
    __fuzz as conv, entry_attrs,
    wire::{AdtAttr, CmdAttr, CreateAttr, IpsetCmd, IpsetMessage},
    Entry, Set, SetType,
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

proptest! {
    /// The message writer patches each nest's length in after its contents
    /// (one pass); `netlink_packet_core`'s generic `Emitable` works the
    /// lengths out first. Both must give the same bytes, padding included,
    /// for elements, bulk lists, create data and attributes kept as `Other`.
    #[test]
    fn one_pass_writer_matches_the_generic_encoder(
        a in any::<u32>(),
        b in any::<u128>(),
        port in any::<u16>(),
        proto in any::<u8>(),
        comment in proptest::option::of("[a-z ]{0,21}"),
        counters in proptest::option::of((any::<u64>(), any::<u64>())),
        hashsize in any::<u32>(),
        other in proptest::collection::vec(any::<u8>(), 0..7),
        lines in 1usize..5,
    ) {
        use kipvs_netlink::core::{DefaultNla, Emitable};
        let mut elems = Vec::new();
        for (i, addr) in [IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b))]
            .into_iter()
            .cycle()
            .take(lines)
            .enumerate()
        {
            let mut e = Entry::ip_port(addr, proto, port);
            e.comment = comment.clone();
            if let Some((packets, bytes)) = counters {
                e.packets = Some(packets);
                e.bytes = Some(bytes);
            }
            let mut attrs = entry_attrs(&e);
            attrs.push(AdtAttr::LineNo(i as u32 + 1));
            elems.push(attrs);
        }
        let attrs = vec![
            CmdAttr::SetName(comment.clone().unwrap_or_default()),
            CmdAttr::Other(DefaultNla::new(30, other)),
            CmdAttr::CreateData(vec![CreateAttr::HashSize(hashsize), CreateAttr::Netmask(24)]),
            CmdAttr::AdtData(elems[0].clone()),
            CmdAttr::Adt(elems),
        ];
        let msg = IpsetMessage::request(IpsetCmd::Add, 7, attrs);
        let mut one_pass = vec![0xaa; msg.buffer_len()];
        msg.serialize(&mut one_pass);
        let mut generic = vec![0xaa; msg.buffer_len()];
        generic[..4].copy_from_slice(&one_pass[..4]);
        msg.attrs.as_slice().emit(&mut generic[4..]);
        prop_assert_eq!(one_pass, generic);
    }
}

/// Attributes as TLVs, each padded to 4 bytes; `nested` sets `NLA_F_NESTED`.
fn tlvs(attrs: &[(u16, bool, Vec<u8>)]) -> Vec<u8> {
    let mut buf = Vec::new();
    for (kind, nested, value) in attrs {
        let kind = if *nested { kind | 0x8000 } else { *kind };
        buf.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(value);
        buf.resize((buf.len() + 3) & !3, 0);
    }
    buf
}

/// A data attribute: a nested address (valid or not) or any bytes.
fn data_attr() -> impl Strategy<Value = (u16, bool, Vec<u8>)> {
    prop_oneof![
        (0u16..32, any::<[u8; 4]>()).prop_map(|(k, a)| (k, true, tlvs(&[(1, false, a.to_vec())]))),
        (
            0u16..32,
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..24)
        ),
    ]
}

proptest! {
    #[test]
    fn listings_fold_without_panic(
        cmd in proptest::sample::select(vec![7u8, 8, 9, 12]),
        t in 0..SetType::ALL.len(),
        header in proptest::collection::vec(data_attr(), 0..10),
        elements in proptest::collection::vec(proptest::collection::vec(data_attr(), 0..8), 0..6),
    ) {
        // A dump message as the kernel shapes it: name, type, revision,
        // family, the header nest, then the elements nest.
        let data: Vec<_> = elements.iter().map(|e| (7, true, tlvs(e))).collect();
        let attrs = vec![
            (1, false, vec![7]),
            (2, false, b"s\0".to_vec()),
            (3, false, format!("{}\0", SetType::ALL[t]).into_bytes()),
            (4, false, vec![3]),
            (5, false, vec![2]),
            (7, true, tlvs(&header)),
            (8, true, tlvs(&data)),
        ];
        let mut payload = vec![2, 0, 0, 0];
        payload.extend(tlvs(&attrs));
        let Ok(msg) = IpsetMessage::parse(IpsetCmd::from(cmd), &payload) else {
            return Ok(());
        };
        let mut sets: Vec<Set> = Vec::new();
        conv::absorb(&mut sets, msg.clone());
        conv::absorb(&mut sets, msg);
        for set in &sets {
            let _ = set.header_text();
            let _ = set.create_line();
            for entry in &set.entries {
                let _ = entry.display(set.set_type);
            }
        }
        for e in &elements {
            let mut buf = tlvs(&[(7, true, tlvs(e))]);
            buf.splice(0..0, [2, 0, 0, 0]);
            if let Ok(m) = IpsetMessage::parse(IpsetCmd::Add, &buf) {
                for attr in &m.attrs {
                    if let CmdAttr::AdtData(a) = attr {
                        for &t in SetType::ALL {
                            let _ = conv::entry(t, a).display(t);
                        }
                    }
                }
            }
        }
    }
}
