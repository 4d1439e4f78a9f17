//! Golden bytes from the real ipvsadm and kernel, and round trips.

mod dump;
mod fuzz;
mod golden;
mod quirks;
mod replies;
mod requests;

use netlink_packet_core::{Emitable, ParseableParametrized, NLA_F_NESTED};
use netlink_packet_generic::{GenlHeader, GenlMessage};

use super::IpvsMessage;

/// Parses a genl header and IPVS payload.
fn parse(bytes: &[u8]) -> IpvsMessage {
    let header = GenlHeader::parse(bytes).expect("genl header");
    IpvsMessage::parse_with_param(&bytes[4..], header).expect("IPVS payload")
}

/// Emits a genl header and IPVS payload.
fn emit(msg: &IpvsMessage) -> Vec<u8> {
    let m = GenlMessage::from_payload(msg.clone());
    let mut buf = vec![0; m.buffer_len()];
    m.emit(&mut buf);
    buf
}

/// `bytes` with `NLA_F_NESTED` on the top-level nests, as this crate (and
/// libnl) emits them; the kernel's replies leave it out.
fn with_nested_flag(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut at = 4;
    while at + 4 <= out.len() {
        let len = u16::from_ne_bytes([out[at], out[at + 1]]) as usize;
        let kind = u16::from_ne_bytes([out[at + 2], out[at + 3]]);
        // IPVS_CMD_ATTR_SERVICE, _DEST, _DAEMON.
        if (1..=3).contains(&kind) {
            out[at + 2..at + 4].copy_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        }
        at += (len + 3) & !3;
    }
    out
}

/// Asserts that `bytes` parse to `expected`, and that `expected` emits
/// `bytes` again.
#[track_caller]
fn golden(bytes: &[u8], expected: &IpvsMessage) {
    assert_eq!(&parse(bytes), expected);
    assert_eq!(emit(expected), bytes);
}

/// The same for a kernel reply, whose nests lack `NLA_F_NESTED`.
#[track_caller]
fn golden_reply(bytes: &[u8], expected: &IpvsMessage) {
    assert_eq!(&parse(bytes), expected);
    assert_eq!(emit(expected), with_nested_flag(bytes));
}
