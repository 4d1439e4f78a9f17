//! Netlink attribute helpers shared by the message targets.

/// `NLA_F_NESTED | NLA_F_NET_BYTEORDER`.
const BOTH_FLAGS: u16 = 0x8000 | 0x4000;

/// True when some attribute in `buf`, at any depth, has both
/// `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` in its type.
///
/// netlink-packet-core 0.9 loses `NLA_F_NET_BYTEORDER` when it emits such
/// an attribute (`Nla::emit` sets the nested flag from the masked kind), so
/// an unknown attribute with both flags (`DefaultNla`) does not survive a
/// round trip byte for byte. No kernel sends one. Every attribute value is
/// walked as a nest, since the kernel's replies leave `NLA_F_NESTED` out.
pub fn has_both_flags(buf: &[u8]) -> bool {
    let mut at = 0;
    while at + 4 <= buf.len() {
        let len = usize::from(u16::from_ne_bytes([buf[at], buf[at + 1]]));
        let kind = u16::from_ne_bytes([buf[at + 2], buf[at + 3]]);
        if len < 4 || at + len > buf.len() {
            return false;
        }
        if kind & BOTH_FLAGS == BOTH_FLAGS || has_both_flags(&buf[at + 4..at + len]) {
            return true;
        }
        at += (len + 3) & !3;
    }
    false
}
