//! Attribute values as ipset puts them on the wire: one codec per Rust
//! type ([`Wire`]), so an attribute's number and its field type are all an
//! attribute table needs to say.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, NlaBuffer, NlasIterator, NLA_F_NESTED, NLA_F_NET_BYTEORDER,
};

use super::attr::{AdtAttr, CreateAttr, IPSET_ATTR_DATA};

// Inside IPSET_ATTR_IP and friends.
const IPSET_ATTR_IPADDR_IPV4: u16 = 1;
const IPSET_ATTR_IPADDR_IPV6: u16 = 2;

/// A value as it goes on the wire. Integers wider than a byte travel in
/// network byte order with `NLA_F_NET_BYTEORDER` set: the kernel's
/// `ip_set_attr_netorder()` refuses them otherwise (IPSET_ERR_PROTOCOL).
/// Nested values borrow their children, and [`Value::write`] writes a nest
/// in one pass, its header patched once its children are written: a bulk
/// add nests thousands of elements, and working out each nest's length
/// before writing it (as `netlink_packet_core`'s generic `Emitable` does,
/// several times per level) cost more than the rest of a restore.
pub(super) enum Value<'a> {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    /// NUL-terminated.
    Str(&'a str),
    Bytes(&'a [u8]),
    /// A nested `IPSET_ATTR_IPADDR_IPV4/6` with `NLA_F_NET_BYTEORDER`.
    Ip(&'a IpAddr),
    Create(&'a [CreateAttr]),
    Adt(&'a [AdtAttr]),
    /// `IPSET_ATTR_ADT`: one `IPSET_ATTR_DATA` per element.
    AdtList(&'a [Vec<AdtAttr>]),
}

fn data_len(attrs: &[AdtAttr]) -> usize {
    attrs.iter().map(|a| a.buffer_len()).sum()
}

impl Value<'_> {
    pub(super) fn len(&self) -> usize {
        match self {
            Value::U8(_) => 1,
            Value::U16(_) => 2,
            Value::U32(_) => 4,
            Value::U64(_) => 8,
            Value::Str(s) => s.len() + 1,
            Value::Bytes(b) => b.len(),
            Value::Ip(IpAddr::V4(_)) => 8,
            Value::Ip(IpAddr::V6(_)) => 20,
            Value::Create(a) => a.iter().map(|a| a.buffer_len()).sum(),
            Value::Adt(a) => data_len(a),
            Value::AdtList(list) => list.iter().map(|a| 4 + data_len(a)).sum(),
        }
    }

    pub(super) fn flags(&self) -> u16 {
        match self {
            Value::U16(_) | Value::U32(_) | Value::U64(_) => NLA_F_NET_BYTEORDER,
            Value::Ip(_) | Value::Create(_) | Value::Adt(_) | Value::AdtList(_) => NLA_F_NESTED,
            _ => 0,
        }
    }

    /// Writes the value at the start of `buf` (at least [`Value::len`]
    /// bytes); returns its length, [`Value::len`].
    pub(super) fn write(&self, buf: &mut [u8]) -> usize {
        match self {
            Value::U8(v) => put_bytes(buf, &[*v]),
            Value::U16(v) => put_bytes(buf, &v.to_be_bytes()),
            Value::U32(v) => put_bytes(buf, &v.to_be_bytes()),
            Value::U64(v) => put_bytes(buf, &v.to_be_bytes()),
            Value::Str(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
                s.len() + 1
            }
            Value::Bytes(b) => put_bytes(buf, b),
            Value::Ip(IpAddr::V4(a)) => {
                put_header(buf, 4, IPSET_ATTR_IPADDR_IPV4 | NLA_F_NET_BYTEORDER);
                buf[4..8].copy_from_slice(&a.octets());
                8
            }
            Value::Ip(IpAddr::V6(a)) => {
                put_header(buf, 16, IPSET_ATTR_IPADDR_IPV6 | NLA_F_NET_BYTEORDER);
                buf[4..20].copy_from_slice(&a.octets());
                20
            }
            Value::Create(a) => a.iter().fold(0, |at, a| at + a.write(&mut buf[at..])),
            Value::Adt(a) => write_all(a, buf),
            Value::AdtList(list) => {
                let mut at = 0;
                for attrs in *list {
                    let len = write_all(attrs, &mut buf[at + 4..]);
                    put_header(&mut buf[at..], len, IPSET_ATTR_DATA | NLA_F_NESTED);
                    at += 4 + len;
                }
                at
            }
        }
    }
}

fn put_bytes(buf: &mut [u8], bytes: &[u8]) -> usize {
    buf[..bytes.len()].copy_from_slice(bytes);
    bytes.len()
}

fn write_all(attrs: &[AdtAttr], buf: &mut [u8]) -> usize {
    attrs.iter().fold(0, |at, a| at + a.write(&mut buf[at..]))
}

/// Appends one element, `attrs` in an `IPSET_ATTR_DATA` nest, to the
/// contents of an `IPSET_ATTR_ADT` being built (see [`adt_encoded`]).
///
/// [`adt_encoded`]: super::attr::adt_encoded
pub(crate) fn append_data(out: &mut Vec<u8>, attrs: &[AdtAttr]) {
    let at = out.len();
    out.resize(at + 4 + data_len(attrs), 0);
    let len = write_all(attrs, &mut out[at + 4..]);
    put_header(&mut out[at..], len, IPSET_ATTR_DATA | NLA_F_NESTED);
}

/// Writes an attribute header (`nla_len` without padding, `nla_type`).
fn put_header(buf: &mut [u8], value_len: usize, kind: u16) {
    buf[..2].copy_from_slice(&((value_len + 4) as u16).to_ne_bytes());
    buf[2..4].copy_from_slice(&kind.to_ne_bytes());
}

/// Writes one attribute, `kind` (flags included) and `value`, padded to
/// four bytes, at the start of `buf`; returns the bytes written.
pub(super) fn put(kind: u16, value: &Value<'_>, buf: &mut [u8]) -> usize {
    let len = value.write(&mut buf[4..]);
    put_header(buf, len, kind);
    let end = 4 + ((len + 3) & !3);
    buf[4 + len..end].fill(0);
    end
}

/// How a field of a given type is encoded and decoded. `net` is the
/// attribute's `NLA_F_NET_BYTEORDER`: integers come in network order when
/// it is set and in host order otherwise. The kernel sends most of ipset's
/// with the flag, but `IPSET_ATTR_MARKMASK` of hash:ip,mark as a plain
/// host-order u32.
pub(super) trait Wire: Sized {
    fn decode(v: &[u8], net: bool) -> Result<Self, DecodeError>;
    fn value(&self) -> Value<'_>;
}

fn array<const N: usize>(v: &[u8]) -> Result<[u8; N], DecodeError> {
    v.get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| DecodeError::from(format!("attribute shorter than {N} bytes")))
}

impl Wire for u8 {
    fn decode(v: &[u8], _: bool) -> Result<Self, DecodeError> {
        v.first()
            .copied()
            .ok_or_else(|| DecodeError::from("empty u8 attribute"))
    }
    fn value(&self) -> Value<'_> {
        Value::U8(*self)
    }
}

macro_rules! wire_int {
    ($t:ty, $variant:ident) => {
        impl Wire for $t {
            fn decode(v: &[u8], net: bool) -> Result<Self, DecodeError> {
                let b = array(v)?;
                Ok(if net {
                    <$t>::from_be_bytes(b)
                } else {
                    <$t>::from_ne_bytes(b)
                })
            }
            fn value(&self) -> Value<'_> {
                Value::$variant(*self)
            }
        }
    };
}
wire_int!(u16, U16);
wire_int!(u32, U32);
wire_int!(u64, U64);

/// Names, interfaces and comments: NUL-terminated on the wire; a value
/// without the NUL decodes whole, anything after the first NUL is ignored.
impl Wire for String {
    fn decode(v: &[u8], _: bool) -> Result<Self, DecodeError> {
        let end = v.iter().position(|b| *b == 0).unwrap_or(v.len());
        String::from_utf8(v[..end].to_vec()).map_err(DecodeError::from)
    }
    fn value(&self) -> Value<'_> {
        Value::Str(self)
    }
}

/// `IPSET_ATTR_ETHER`: six raw bytes.
impl Wire for [u8; 6] {
    fn decode(v: &[u8], _: bool) -> Result<Self, DecodeError> {
        array(v)
    }
    fn value(&self) -> Value<'_> {
        Value::Bytes(self)
    }
}

/// `IPSET_ATTR_IP` and friends: one nested IPv4 or IPv6 address. The
/// kernel's replies leave `NLA_F_NET_BYTEORDER` off the inner attribute;
/// requests must set it. Both decode.
impl Wire for IpAddr {
    fn decode(v: &[u8], _: bool) -> Result<Self, DecodeError> {
        for nla in NlasIterator::new(v) {
            let nla = nla?;
            match (nla.kind(), nla.value().len()) {
                (IPSET_ATTR_IPADDR_IPV4, 4) => {
                    return Ok(IpAddr::V4(Ipv4Addr::from(array::<4>(nla.value())?)))
                }
                (IPSET_ATTR_IPADDR_IPV6, 16) => {
                    return Ok(IpAddr::V6(Ipv6Addr::from(array::<16>(nla.value())?)))
                }
                _ => {}
            }
        }
        Err(DecodeError::from("IPSET_ATTR_IP without an address"))
    }
    fn value(&self) -> Value<'_> {
        Value::Ip(self)
    }
}

/// Decodes a nest of attributes with `parse`.
pub(super) fn each<T>(
    v: &[u8],
    mut parse: impl FnMut(&NlaBuffer<&[u8]>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    NlasIterator::new(v)
        .map(|nla| parse(&nla?))
        .collect::<Result<Vec<_>, _>>()
}

/// An attribute no table knows, kept as is.
pub(super) fn other(nla: &NlaBuffer<&[u8]>) -> Result<DefaultNla, DecodeError> {
    use netlink_packet_core::Parseable;
    DefaultNla::parse(nla)
}

/// `Nla` for an attribute enum with a `wire(&self) -> (u16, Value)` and an
/// `Other(DefaultNla)` arm (emitted exactly as it was decoded).
macro_rules! nla_via_wire {
    ($t:ty) => {
        impl $t {
            /// Writes the attribute, padded, at the start of `buf` (at
            /// least its `buffer_len()` bytes) in one pass; returns its
            /// padded length.
            pub(super) fn write(&self, buf: &mut [u8]) -> usize {
                use netlink_packet_core::Emitable as _;
                match self {
                    Self::Other(nla) => {
                        let len = nla.buffer_len();
                        nla.emit(&mut buf[..len]);
                        len
                    }
                    _ => {
                        let (kind, value) = self.wire();
                        $crate::wire::value::put(kind | value.flags(), &value, buf)
                    }
                }
            }
        }

        impl netlink_packet_core::Nla for $t {
            fn value_len(&self) -> usize {
                match self {
                    Self::Other(nla) => nla.value_len(),
                    _ => self.wire().1.len(),
                }
            }
            fn kind(&self) -> u16 {
                match self {
                    Self::Other(nla) => nla.kind(),
                    _ => {
                        let (kind, value) = self.wire();
                        kind | value.flags()
                    }
                }
            }
            fn emit_value(&self, buffer: &mut [u8]) {
                match self {
                    Self::Other(nla) => nla.emit_value(buffer),
                    _ => {
                        self.wire().1.write(buffer);
                    }
                }
            }
        }
    };
}
pub(super) use nla_via_wire;
