//! ipset nfnetlink messages (`IpsetMessage::parse`), then what a listing
//! makes of them: sets folded from dump messages, their entries, the text
//! `ipset list` prints, and ipset's error words.
//!
//! Round trips: what parses emits and parses back equal; an entry decoded
//! from a reply, encoded as request attributes, decodes to itself.
//!
//! Input: the message type's low byte (the command), then the payload
//! after the netlink header (nfgenmsg and attributes).
#![no_main]

use kipvs_ipset::{
    __fuzz as conv, describe, entry_attrs,
    wire::{CmdAttr, IpsetCmd, IpsetMessage},
    Set,
};
use libfuzzer_sys::fuzz_target;
use netlink_packet_core::NetlinkSerializable;

#[path = "common/nla.rs"]
mod nla;

fn emit(msg: &IpsetMessage) -> Vec<u8> {
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

fuzz_target!(|data: &[u8]| {
    let [cmd, payload @ ..] = data else { return };
    let cmd = IpsetCmd::from(*cmd);
    let Ok(msg) = IpsetMessage::parse(cmd, payload) else {
        return;
    };

    let bytes = emit(&msg);
    let again = IpsetMessage::parse(cmd, &bytes)
        .unwrap_or_else(|e| panic!("{msg:?} emits {bytes:02x?}, which does not parse: {e}"));
    // Equal, or (past an upstream emit quirk, see `nla::has_both_flags`)
    // stable after one pass.
    if nla::has_both_flags(payload.get(4..).unwrap_or_default()) {
        let third = IpsetMessage::parse(cmd, &emit(&again)).expect("parsed twice");
        assert_eq!(third, again);
    } else {
        assert_eq!(again, msg);
        assert_eq!(emit(&again), bytes);
    }

    // A listing of two messages: the set's first, then a continuation.
    let mut sets: Vec<Set> = Vec::new();
    conv::absorb(&mut sets, msg.clone());
    conv::absorb(&mut sets, msg.clone());
    for set in &sets {
        let _ = set.header_text();
        let _ = set.header_fields();
        for entry in &set.entries {
            let _ = entry.display(set.set_type);
            let _ = entry.option_fields();
        }
    }

    // Each element nest, as an entry of every type, and back.
    for attr in &msg.attrs {
        let nests: Vec<_> = match attr {
            CmdAttr::AdtData(a) => vec![a.clone()],
            CmdAttr::Adt(list) => list.clone(),
            _ => continue,
        };
        for nest in &nests {
            for &t in kipvs_ipset::SetType::ALL {
                let entry = conv::entry(t, nest);
                let _ = entry.display(t);
                let back = conv::entry(t, &entry_attrs(&entry));
                assert_eq!(back, entry, "{t:?}: {nest:?}");
            }
        }
    }

    if let Some(code) = payload.get(..4) {
        let errno = i32::from_ne_bytes([code[0], code[1], code[2], code[3]]);
        let set_type = sets.first().map(|s| s.set_type);
        let _ = describe(errno, cmd, set_type);
    }
});
