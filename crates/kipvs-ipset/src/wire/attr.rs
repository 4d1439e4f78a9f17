//! ipset attributes: command level (`IPSET_ATTR_*` of the first enum of
//! `ip_set.h`), create data (CADT + create-only) and element data (CADT +
//! ADT). The last two share numbers above 16, so which one `IPSET_ATTR_DATA`
//! holds depends on the command.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, Nla, NlaBuffer, NlasIterator, NLA_F_NESTED,
    NLA_F_NET_BYTEORDER,
};

// Command level.
const IPSET_ATTR_PROTOCOL: u16 = 1;
const IPSET_ATTR_SETNAME: u16 = 2;
const IPSET_ATTR_TYPENAME: u16 = 3;
const IPSET_ATTR_SETNAME2: u16 = IPSET_ATTR_TYPENAME;
const IPSET_ATTR_REVISION: u16 = 4;
const IPSET_ATTR_FAMILY: u16 = 5;
const IPSET_ATTR_FLAGS: u16 = 6;
const IPSET_ATTR_DATA: u16 = 7;
const IPSET_ATTR_ADT: u16 = 8;
const IPSET_ATTR_LINENO: u16 = 9;
const IPSET_ATTR_PROTOCOL_MIN: u16 = 10;
const IPSET_ATTR_INDEX: u16 = 11;
// CADT.
const IPSET_ATTR_IP: u16 = 1;
const IPSET_ATTR_IP_TO: u16 = 2;
const IPSET_ATTR_CIDR: u16 = 3;
const IPSET_ATTR_PORT: u16 = 4;
const IPSET_ATTR_PORT_TO: u16 = 5;
const IPSET_ATTR_TIMEOUT: u16 = 6;
const IPSET_ATTR_PROTO: u16 = 7;
const IPSET_ATTR_CADT_FLAGS: u16 = 8;
const IPSET_ATTR_CADT_LINENO: u16 = IPSET_ATTR_LINENO;
const IPSET_ATTR_MARK: u16 = 10;
const IPSET_ATTR_MARKMASK: u16 = 11;
/// `IPSET_ATTR_BITMASK` (Linux 6.1, ipset 7.16): newer than some uapi
/// headers, so defined here.
const IPSET_ATTR_BITMASK: u16 = 12;
// Create only.
const IPSET_ATTR_INITVAL: u16 = 17;
const IPSET_ATTR_HASHSIZE: u16 = 18;
const IPSET_ATTR_MAXELEM: u16 = 19;
const IPSET_ATTR_NETMASK: u16 = 20;
const IPSET_ATTR_BUCKETSIZE: u16 = 21;
const IPSET_ATTR_RESIZE: u16 = 22;
const IPSET_ATTR_SIZE: u16 = 23;
const IPSET_ATTR_ELEMENTS: u16 = 24;
const IPSET_ATTR_REFERENCES: u16 = 25;
const IPSET_ATTR_MEMSIZE: u16 = 26;
// ADT only.
const IPSET_ATTR_ETHER: u16 = 17;
const IPSET_ATTR_NAME: u16 = 18;
const IPSET_ATTR_NAMEREF: u16 = 19;
const IPSET_ATTR_IP2: u16 = 20;
const IPSET_ATTR_CIDR2: u16 = 21;
const IPSET_ATTR_IP2_TO: u16 = 22;
const IPSET_ATTR_IFACE: u16 = 23;
const IPSET_ATTR_BYTES: u16 = 24;
const IPSET_ATTR_PACKETS: u16 = 25;
const IPSET_ATTR_COMMENT: u16 = 26;
const IPSET_ATTR_SKBMARK: u16 = 27;
const IPSET_ATTR_SKBPRIO: u16 = 28;
const IPSET_ATTR_SKBQUEUE: u16 = 29;
const IPSET_ATTR_PAD: u16 = 30;
// Inside IPSET_ATTR_IP and friends.
const IPSET_ATTR_IPADDR_IPV4: u16 = 1;
const IPSET_ATTR_IPADDR_IPV6: u16 = 2;

/// A value as it goes on the wire. Integers wider than a byte travel in
/// network byte order with `NLA_F_NET_BYTEORDER` set: the kernel's
/// `ip_set_attr_netorder()` refuses them otherwise (IPSET_ERR_PROTOCOL).
/// Nested values borrow their children, so lengths are summed and bytes
/// written in one pass, with no intermediate buffers (a bulk add nests
/// thousands of elements).
enum Value<'a> {
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
    fn len(&self) -> usize {
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

    fn flags(&self) -> u16 {
        match self {
            Value::U16(_) | Value::U32(_) | Value::U64(_) => NLA_F_NET_BYTEORDER,
            Value::Ip(_) | Value::Create(_) | Value::Adt(_) | Value::AdtList(_) => NLA_F_NESTED,
            _ => 0,
        }
    }

    fn emit(&self, buf: &mut [u8]) {
        match self {
            Value::U8(v) => buf[0] = *v,
            Value::U16(v) => buf.copy_from_slice(&v.to_be_bytes()),
            Value::U32(v) => buf.copy_from_slice(&v.to_be_bytes()),
            Value::U64(v) => buf.copy_from_slice(&v.to_be_bytes()),
            Value::Str(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Value::Bytes(b) => buf.copy_from_slice(b),
            Value::Ip(IpAddr::V4(a)) => {
                put_header(buf, 4, IPSET_ATTR_IPADDR_IPV4 | NLA_F_NET_BYTEORDER);
                buf[4..8].copy_from_slice(&a.octets());
            }
            Value::Ip(IpAddr::V6(a)) => {
                put_header(buf, 16, IPSET_ATTR_IPADDR_IPV6 | NLA_F_NET_BYTEORDER);
                buf[4..20].copy_from_slice(&a.octets());
            }
            Value::Create(a) => a.emit(buf),
            Value::Adt(a) => a.emit(buf),
            Value::AdtList(list) => {
                let mut at = 0;
                for attrs in *list {
                    let len = data_len(attrs);
                    put_header(&mut buf[at..], len, IPSET_ATTR_DATA | NLA_F_NESTED);
                    attrs.as_slice().emit(&mut buf[at + 4..at + 4 + len]);
                    at += 4 + len;
                }
            }
        }
    }
}

/// Writes an attribute header (`nla_len` without padding, `nla_type`).
fn put_header(buf: &mut [u8], value_len: usize, kind: u16) {
    buf[..2].copy_from_slice(&((value_len + 4) as u16).to_ne_bytes());
    buf[2..4].copy_from_slice(&kind.to_ne_bytes());
}

macro_rules! nla_via_value {
    ($t:ty) => {
        impl Nla for $t {
            fn value_len(&self) -> usize {
                match self {
                    Self::Other(nla) => nla.value_len(),
                    _ => self.value().len(),
                }
            }
            fn kind(&self) -> u16 {
                match self {
                    Self::Other(nla) => nla.kind(),
                    _ => {
                        let (kind, value) = (self.id(), self.value());
                        kind | value.flags()
                    }
                }
            }
            fn emit_value(&self, buffer: &mut [u8]) {
                match self {
                    Self::Other(nla) => nla.emit_value(buffer),
                    _ => self.value().emit(buffer),
                }
            }
        }
    };
}

// ---- decoding helpers ----

fn u8_of(v: &[u8]) -> Result<u8, DecodeError> {
    v.first()
        .copied()
        .ok_or_else(|| DecodeError::from("empty u8 attribute"))
}

fn be<const N: usize>(v: &[u8]) -> Result<[u8; N], DecodeError> {
    v.get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| DecodeError::from(format!("attribute shorter than {N} bytes")))
}

/// Integers come in network order when `NLA_F_NET_BYTEORDER` is set, and
/// in host order otherwise: the kernel sends most of ipset's with the flag,
/// but `IPSET_ATTR_MARKMASK` of hash:ip,mark as a plain host-order u32.
fn u16_of(v: &[u8], net: bool) -> Result<u16, DecodeError> {
    let b = be(v)?;
    Ok(if net {
        u16::from_be_bytes(b)
    } else {
        u16::from_ne_bytes(b)
    })
}
fn u32_of(v: &[u8], net: bool) -> Result<u32, DecodeError> {
    let b = be(v)?;
    Ok(if net {
        u32::from_be_bytes(b)
    } else {
        u32::from_ne_bytes(b)
    })
}
fn u64_of(v: &[u8], net: bool) -> Result<u64, DecodeError> {
    let b = be(v)?;
    Ok(if net {
        u64::from_be_bytes(b)
    } else {
        u64::from_ne_bytes(b)
    })
}

fn str_of(v: &[u8]) -> Result<String, DecodeError> {
    let end = v.iter().position(|b| *b == 0).unwrap_or(v.len());
    String::from_utf8(v[..end].to_vec()).map_err(DecodeError::from)
}

/// `IPSET_ATTR_IP` and friends: one nested IPv4 or IPv6 address. The
/// kernel's replies leave `NLA_F_NET_BYTEORDER` off the inner attribute;
/// requests must set it. Both decode.
fn ip_of(v: &[u8]) -> Result<IpAddr, DecodeError> {
    for nla in NlasIterator::new(v) {
        let nla = nla?;
        match (nla.kind(), nla.value().len()) {
            (IPSET_ATTR_IPADDR_IPV4, 4) => {
                return Ok(IpAddr::V4(Ipv4Addr::from(be::<4>(nla.value())?)))
            }
            (IPSET_ATTR_IPADDR_IPV6, 16) => {
                return Ok(IpAddr::V6(Ipv6Addr::from(be::<16>(nla.value())?)))
            }
            _ => {}
        }
    }
    Err(DecodeError::from("IPSET_ATTR_IP without an address"))
}

fn each<T>(
    v: &[u8],
    mut parse: impl FnMut(&NlaBuffer<&[u8]>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    NlasIterator::new(v)
        .map(|nla| parse(&nla?))
        .collect::<Result<Vec<_>, _>>()
}

fn other(nla: &NlaBuffer<&[u8]>) -> Result<DefaultNla, DecodeError> {
    use netlink_packet_core::Parseable;
    DefaultNla::parse(nla)
}

// ---- command level ----

/// An attribute at command level.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmdAttr {
    /// `IPSET_ATTR_PROTOCOL`: in every message.
    Protocol(u8),
    /// `IPSET_ATTR_SETNAME`.
    SetName(String),
    /// `IPSET_ATTR_TYPENAME` (e.g. `"hash:ip"`).
    TypeName(String),
    /// `IPSET_ATTR_SETNAME2` (same number as the type name): the second set
    /// of a rename or swap.
    SetName2(String),
    /// `IPSET_ATTR_REVISION`.
    Revision(u8),
    /// `IPSET_ATTR_FAMILY` (`NFPROTO_IPV4` 2, `NFPROTO_IPV6` 10, 0 unspec).
    Family(u8),
    /// `IPSET_ATTR_FLAGS` (`IPSET_FLAG_*`).
    Flags(u32),
    /// `IPSET_ATTR_DATA` of create, list, save and header: the set's options.
    CreateData(Vec<CreateAttr>),
    /// `IPSET_ATTR_DATA` of add, del and test: one element.
    AdtData(Vec<AdtAttr>),
    /// `IPSET_ATTR_ADT`: many elements, each an `IPSET_ATTR_DATA`.
    Adt(Vec<Vec<AdtAttr>>),
    /// `IPSET_ATTR_LINENO`: the restore line; on a failed bulk request the
    /// kernel writes the failing element's line here.
    LineNo(u32),
    /// `IPSET_ATTR_PROTOCOL_MIN` / `IPSET_ATTR_REVISION_MIN`.
    ProtocolMin(u8),
    /// `IPSET_ATTR_INDEX`.
    Index(u16),
    /// Anything else, kept as is.
    Other(DefaultNla),
}

impl CmdAttr {
    fn id(&self) -> u16 {
        match self {
            CmdAttr::Protocol(_) => IPSET_ATTR_PROTOCOL,
            CmdAttr::SetName(_) => IPSET_ATTR_SETNAME,
            CmdAttr::TypeName(_) => IPSET_ATTR_TYPENAME,
            CmdAttr::SetName2(_) => IPSET_ATTR_SETNAME2,
            CmdAttr::Revision(_) => IPSET_ATTR_REVISION,
            CmdAttr::Family(_) => IPSET_ATTR_FAMILY,
            CmdAttr::Flags(_) => IPSET_ATTR_FLAGS,
            CmdAttr::CreateData(_) | CmdAttr::AdtData(_) => IPSET_ATTR_DATA,
            CmdAttr::Adt(_) => IPSET_ATTR_ADT,
            CmdAttr::LineNo(_) => IPSET_ATTR_LINENO,
            CmdAttr::ProtocolMin(_) => IPSET_ATTR_PROTOCOL_MIN,
            CmdAttr::Index(_) => IPSET_ATTR_INDEX,
            CmdAttr::Other(nla) => nla.kind(),
        }
    }

    fn value(&self) -> Value<'_> {
        match self {
            CmdAttr::Protocol(v)
            | CmdAttr::Revision(v)
            | CmdAttr::Family(v)
            | CmdAttr::ProtocolMin(v) => Value::U8(*v),
            CmdAttr::SetName(s) | CmdAttr::TypeName(s) | CmdAttr::SetName2(s) => Value::Str(s),
            CmdAttr::Flags(v) | CmdAttr::LineNo(v) => Value::U32(*v),
            CmdAttr::Index(v) => Value::U16(*v),
            CmdAttr::CreateData(a) => Value::Create(a),
            CmdAttr::AdtData(a) => Value::Adt(a),
            CmdAttr::Adt(entries) => Value::AdtList(entries),
            CmdAttr::Other(_) => Value::Bytes(&[]),
        }
    }

    /// Decodes one attribute of a message of command `cmd`.
    pub(crate) fn parse(nla: &NlaBuffer<&[u8]>, cmd: u8) -> Result<Self, DecodeError> {
        use super::IpsetCmd as C;
        let v = nla.value();
        let net = nla.network_byte_order_flag();
        let adt = matches!(C::from(cmd), C::Add | C::Del | C::Test);
        Ok(match nla.kind() {
            IPSET_ATTR_PROTOCOL => CmdAttr::Protocol(u8_of(v)?),
            IPSET_ATTR_SETNAME => CmdAttr::SetName(str_of(v)?),
            IPSET_ATTR_TYPENAME if matches!(C::from(cmd), C::Rename | C::Swap) => {
                CmdAttr::SetName2(str_of(v)?)
            }
            IPSET_ATTR_TYPENAME => CmdAttr::TypeName(str_of(v)?),
            IPSET_ATTR_REVISION => CmdAttr::Revision(u8_of(v)?),
            IPSET_ATTR_FAMILY => CmdAttr::Family(u8_of(v)?),
            IPSET_ATTR_FLAGS => CmdAttr::Flags(u32_of(v, net)?),
            IPSET_ATTR_DATA if adt => CmdAttr::AdtData(each(v, AdtAttr::parse)?),
            IPSET_ATTR_DATA => CmdAttr::CreateData(each(v, CreateAttr::parse)?),
            IPSET_ATTR_ADT => CmdAttr::Adt(
                each(v, |nla| match nla.kind() {
                    IPSET_ATTR_DATA => Ok(Some(each(nla.value(), AdtAttr::parse)?)),
                    _ => Ok(None),
                })?
                .into_iter()
                .flatten()
                .collect(),
            ),
            IPSET_ATTR_LINENO => CmdAttr::LineNo(u32_of(v, net)?),
            IPSET_ATTR_PROTOCOL_MIN => CmdAttr::ProtocolMin(u8_of(v)?),
            IPSET_ATTR_INDEX => CmdAttr::Index(u16_of(v, net)?),
            _ => CmdAttr::Other(other(nla)?),
        })
    }
}
nla_via_value!(CmdAttr);

// ---- create data ----

/// An attribute of a set's options (`IPSET_ATTR_DATA` of create and of the
/// header in list/save replies).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreateAttr {
    /// `IPSET_ATTR_IP`: start of a bitmap:ip range.
    Ip(IpAddr),
    /// `IPSET_ATTR_IP_TO`: end of a bitmap:ip range.
    IpTo(IpAddr),
    /// `IPSET_ATTR_CIDR`: a bitmap:ip range given as a network.
    Cidr(u8),
    /// `IPSET_ATTR_PORT`: start of a bitmap:port range.
    Port(u16),
    /// `IPSET_ATTR_PORT_TO`.
    PortTo(u16),
    /// `IPSET_ATTR_TIMEOUT`: default entry timeout (enables timeouts).
    Timeout(u32),
    /// `IPSET_ATTR_PROTO`.
    Proto(u8),
    /// `IPSET_ATTR_CADT_FLAGS` (`IPSET_FLAG_WITH_*`).
    CadtFlags(u32),
    /// `IPSET_ATTR_LINENO`.
    LineNo(u32),
    /// `IPSET_ATTR_MARK`.
    Mark(u32),
    /// `IPSET_ATTR_MARKMASK` (hash:ip,mark).
    MarkMask(u32),
    /// `IPSET_ATTR_BITMASK`: an address mask applied to every element.
    Bitmask(IpAddr),
    /// `IPSET_ATTR_INITVAL`: the hash seed.
    InitVal(u32),
    /// `IPSET_ATTR_HASHSIZE`.
    HashSize(u32),
    /// `IPSET_ATTR_MAXELEM`.
    MaxElem(u32),
    /// `IPSET_ATTR_NETMASK` (prefix length).
    Netmask(u8),
    /// `IPSET_ATTR_BUCKETSIZE`.
    BucketSize(u8),
    /// `IPSET_ATTR_RESIZE`.
    Resize(u8),
    /// `IPSET_ATTR_SIZE` (list:set).
    Size(u32),
    /// `IPSET_ATTR_ELEMENTS`: how many entries (replies).
    Elements(u32),
    /// `IPSET_ATTR_REFERENCES`: how many kernel users (replies).
    References(u32),
    /// `IPSET_ATTR_MEMSIZE`: bytes used (replies).
    MemSize(u32),
    /// Anything else, kept as is.
    Other(DefaultNla),
}

impl CreateAttr {
    fn id(&self) -> u16 {
        match self {
            CreateAttr::Ip(_) => IPSET_ATTR_IP,
            CreateAttr::IpTo(_) => IPSET_ATTR_IP_TO,
            CreateAttr::Cidr(_) => IPSET_ATTR_CIDR,
            CreateAttr::Port(_) => IPSET_ATTR_PORT,
            CreateAttr::PortTo(_) => IPSET_ATTR_PORT_TO,
            CreateAttr::Timeout(_) => IPSET_ATTR_TIMEOUT,
            CreateAttr::Proto(_) => IPSET_ATTR_PROTO,
            CreateAttr::CadtFlags(_) => IPSET_ATTR_CADT_FLAGS,
            CreateAttr::LineNo(_) => IPSET_ATTR_CADT_LINENO,
            CreateAttr::Mark(_) => IPSET_ATTR_MARK,
            CreateAttr::MarkMask(_) => IPSET_ATTR_MARKMASK,
            CreateAttr::Bitmask(_) => IPSET_ATTR_BITMASK,
            CreateAttr::InitVal(_) => IPSET_ATTR_INITVAL,
            CreateAttr::HashSize(_) => IPSET_ATTR_HASHSIZE,
            CreateAttr::MaxElem(_) => IPSET_ATTR_MAXELEM,
            CreateAttr::Netmask(_) => IPSET_ATTR_NETMASK,
            CreateAttr::BucketSize(_) => IPSET_ATTR_BUCKETSIZE,
            CreateAttr::Resize(_) => IPSET_ATTR_RESIZE,
            CreateAttr::Size(_) => IPSET_ATTR_SIZE,
            CreateAttr::Elements(_) => IPSET_ATTR_ELEMENTS,
            CreateAttr::References(_) => IPSET_ATTR_REFERENCES,
            CreateAttr::MemSize(_) => IPSET_ATTR_MEMSIZE,
            CreateAttr::Other(nla) => nla.kind(),
        }
    }

    fn value(&self) -> Value<'_> {
        match self {
            CreateAttr::Ip(ip) | CreateAttr::IpTo(ip) | CreateAttr::Bitmask(ip) => Value::Ip(ip),
            CreateAttr::Cidr(v)
            | CreateAttr::Proto(v)
            | CreateAttr::Netmask(v)
            | CreateAttr::BucketSize(v)
            | CreateAttr::Resize(v) => Value::U8(*v),
            CreateAttr::Port(v) | CreateAttr::PortTo(v) => Value::U16(*v),
            CreateAttr::Timeout(v)
            | CreateAttr::CadtFlags(v)
            | CreateAttr::LineNo(v)
            | CreateAttr::Mark(v)
            | CreateAttr::MarkMask(v)
            | CreateAttr::InitVal(v)
            | CreateAttr::HashSize(v)
            | CreateAttr::MaxElem(v)
            | CreateAttr::Size(v)
            | CreateAttr::Elements(v)
            | CreateAttr::References(v)
            | CreateAttr::MemSize(v) => Value::U32(*v),
            CreateAttr::Other(_) => Value::Bytes(&[]),
        }
    }

    fn parse(nla: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
        let v = nla.value();
        let net = nla.network_byte_order_flag();
        Ok(match nla.kind() {
            IPSET_ATTR_IP => CreateAttr::Ip(ip_of(v)?),
            IPSET_ATTR_IP_TO => CreateAttr::IpTo(ip_of(v)?),
            IPSET_ATTR_CIDR => CreateAttr::Cidr(u8_of(v)?),
            IPSET_ATTR_PORT => CreateAttr::Port(u16_of(v, net)?),
            IPSET_ATTR_PORT_TO => CreateAttr::PortTo(u16_of(v, net)?),
            IPSET_ATTR_TIMEOUT => CreateAttr::Timeout(u32_of(v, net)?),
            IPSET_ATTR_PROTO => CreateAttr::Proto(u8_of(v)?),
            IPSET_ATTR_CADT_FLAGS => CreateAttr::CadtFlags(u32_of(v, net)?),
            IPSET_ATTR_CADT_LINENO => CreateAttr::LineNo(u32_of(v, net)?),
            IPSET_ATTR_MARK => CreateAttr::Mark(u32_of(v, net)?),
            IPSET_ATTR_MARKMASK => CreateAttr::MarkMask(u32_of(v, net)?),
            IPSET_ATTR_BITMASK => CreateAttr::Bitmask(ip_of(v)?),
            IPSET_ATTR_INITVAL => CreateAttr::InitVal(u32_of(v, net)?),
            IPSET_ATTR_HASHSIZE => CreateAttr::HashSize(u32_of(v, net)?),
            IPSET_ATTR_MAXELEM => CreateAttr::MaxElem(u32_of(v, net)?),
            IPSET_ATTR_NETMASK => CreateAttr::Netmask(u8_of(v)?),
            IPSET_ATTR_BUCKETSIZE => CreateAttr::BucketSize(u8_of(v)?),
            IPSET_ATTR_RESIZE => CreateAttr::Resize(u8_of(v)?),
            IPSET_ATTR_SIZE => CreateAttr::Size(u32_of(v, net)?),
            IPSET_ATTR_ELEMENTS => CreateAttr::Elements(u32_of(v, net)?),
            IPSET_ATTR_REFERENCES => CreateAttr::References(u32_of(v, net)?),
            IPSET_ATTR_MEMSIZE => CreateAttr::MemSize(u32_of(v, net)?),
            _ => CreateAttr::Other(other(nla)?),
        })
    }
}
nla_via_value!(CreateAttr);

// ---- element data ----

/// An attribute of one element (`IPSET_ATTR_DATA` of add, del, test and of
/// the members in list/save replies).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdtAttr {
    /// `IPSET_ATTR_IP`.
    Ip(IpAddr),
    /// `IPSET_ATTR_IP_TO`: end of a range.
    IpTo(IpAddr),
    /// `IPSET_ATTR_CIDR`.
    Cidr(u8),
    /// `IPSET_ATTR_PORT` (ICMP: type << 8 | code).
    Port(u16),
    /// `IPSET_ATTR_PORT_TO`.
    PortTo(u16),
    /// `IPSET_ATTR_TIMEOUT`.
    Timeout(u32),
    /// `IPSET_ATTR_PROTO`.
    Proto(u8),
    /// `IPSET_ATTR_CADT_FLAGS` (`IPSET_FLAG_NOMATCH`, `_PHYSDEV`, `_BEFORE`).
    CadtFlags(u32),
    /// `IPSET_ATTR_CADT_LINENO`.
    LineNo(u32),
    /// `IPSET_ATTR_MARK`.
    Mark(u32),
    /// `IPSET_ATTR_MARKMASK`.
    MarkMask(u32),
    /// `IPSET_ATTR_ETHER`.
    Ether([u8; 6]),
    /// `IPSET_ATTR_NAME` (list:set member).
    Name(String),
    /// `IPSET_ATTR_NAMEREF` (list:set before/after).
    NameRef(String),
    /// `IPSET_ATTR_IP2`.
    Ip2(IpAddr),
    /// `IPSET_ATTR_CIDR2`.
    Cidr2(u8),
    /// `IPSET_ATTR_IP2_TO`.
    Ip2To(IpAddr),
    /// `IPSET_ATTR_IFACE`.
    Iface(String),
    /// `IPSET_ATTR_BYTES`.
    Bytes(u64),
    /// `IPSET_ATTR_PACKETS`.
    Packets(u64),
    /// `IPSET_ATTR_COMMENT`.
    Comment(String),
    /// `IPSET_ATTR_SKBMARK`: mark << 32 | mask.
    SkbMark(u64),
    /// `IPSET_ATTR_SKBPRIO`: major << 16 | minor.
    SkbPrio(u32),
    /// `IPSET_ATTR_SKBQUEUE`.
    SkbQueue(u16),
    /// Anything else (including `IPSET_ATTR_PAD`), kept as is.
    Other(DefaultNla),
}

impl AdtAttr {
    fn id(&self) -> u16 {
        match self {
            AdtAttr::Ip(_) => IPSET_ATTR_IP,
            AdtAttr::IpTo(_) => IPSET_ATTR_IP_TO,
            AdtAttr::Cidr(_) => IPSET_ATTR_CIDR,
            AdtAttr::Port(_) => IPSET_ATTR_PORT,
            AdtAttr::PortTo(_) => IPSET_ATTR_PORT_TO,
            AdtAttr::Timeout(_) => IPSET_ATTR_TIMEOUT,
            AdtAttr::Proto(_) => IPSET_ATTR_PROTO,
            AdtAttr::CadtFlags(_) => IPSET_ATTR_CADT_FLAGS,
            AdtAttr::LineNo(_) => IPSET_ATTR_CADT_LINENO,
            AdtAttr::Mark(_) => IPSET_ATTR_MARK,
            AdtAttr::MarkMask(_) => IPSET_ATTR_MARKMASK,
            AdtAttr::Ether(_) => IPSET_ATTR_ETHER,
            AdtAttr::Name(_) => IPSET_ATTR_NAME,
            AdtAttr::NameRef(_) => IPSET_ATTR_NAMEREF,
            AdtAttr::Ip2(_) => IPSET_ATTR_IP2,
            AdtAttr::Cidr2(_) => IPSET_ATTR_CIDR2,
            AdtAttr::Ip2To(_) => IPSET_ATTR_IP2_TO,
            AdtAttr::Iface(_) => IPSET_ATTR_IFACE,
            AdtAttr::Bytes(_) => IPSET_ATTR_BYTES,
            AdtAttr::Packets(_) => IPSET_ATTR_PACKETS,
            AdtAttr::Comment(_) => IPSET_ATTR_COMMENT,
            AdtAttr::SkbMark(_) => IPSET_ATTR_SKBMARK,
            AdtAttr::SkbPrio(_) => IPSET_ATTR_SKBPRIO,
            AdtAttr::SkbQueue(_) => IPSET_ATTR_SKBQUEUE,
            AdtAttr::Other(nla) => nla.kind(),
        }
    }

    fn value(&self) -> Value<'_> {
        match self {
            AdtAttr::Ip(ip) | AdtAttr::IpTo(ip) | AdtAttr::Ip2(ip) | AdtAttr::Ip2To(ip) => {
                Value::Ip(ip)
            }
            AdtAttr::Cidr(v) | AdtAttr::Proto(v) | AdtAttr::Cidr2(v) => Value::U8(*v),
            AdtAttr::Port(v) | AdtAttr::PortTo(v) | AdtAttr::SkbQueue(v) => Value::U16(*v),
            AdtAttr::Timeout(v)
            | AdtAttr::CadtFlags(v)
            | AdtAttr::LineNo(v)
            | AdtAttr::Mark(v)
            | AdtAttr::MarkMask(v)
            | AdtAttr::SkbPrio(v) => Value::U32(*v),
            AdtAttr::Bytes(v) | AdtAttr::Packets(v) | AdtAttr::SkbMark(v) => Value::U64(*v),
            AdtAttr::Ether(m) => Value::Bytes(m),
            AdtAttr::Name(s) | AdtAttr::NameRef(s) | AdtAttr::Iface(s) | AdtAttr::Comment(s) => {
                Value::Str(s)
            }
            AdtAttr::Other(_) => Value::Bytes(&[]),
        }
    }

    fn parse(nla: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
        let v = nla.value();
        let net = nla.network_byte_order_flag();
        Ok(match nla.kind() {
            IPSET_ATTR_IP => AdtAttr::Ip(ip_of(v)?),
            IPSET_ATTR_IP_TO => AdtAttr::IpTo(ip_of(v)?),
            IPSET_ATTR_CIDR => AdtAttr::Cidr(u8_of(v)?),
            IPSET_ATTR_PORT => AdtAttr::Port(u16_of(v, net)?),
            IPSET_ATTR_PORT_TO => AdtAttr::PortTo(u16_of(v, net)?),
            IPSET_ATTR_TIMEOUT => AdtAttr::Timeout(u32_of(v, net)?),
            IPSET_ATTR_PROTO => AdtAttr::Proto(u8_of(v)?),
            IPSET_ATTR_CADT_FLAGS => AdtAttr::CadtFlags(u32_of(v, net)?),
            IPSET_ATTR_CADT_LINENO => AdtAttr::LineNo(u32_of(v, net)?),
            IPSET_ATTR_MARK => AdtAttr::Mark(u32_of(v, net)?),
            IPSET_ATTR_MARKMASK => AdtAttr::MarkMask(u32_of(v, net)?),
            IPSET_ATTR_ETHER => AdtAttr::Ether(be::<6>(v)?),
            IPSET_ATTR_NAME => AdtAttr::Name(str_of(v)?),
            IPSET_ATTR_NAMEREF => AdtAttr::NameRef(str_of(v)?),
            IPSET_ATTR_IP2 => AdtAttr::Ip2(ip_of(v)?),
            IPSET_ATTR_CIDR2 => AdtAttr::Cidr2(u8_of(v)?),
            IPSET_ATTR_IP2_TO => AdtAttr::Ip2To(ip_of(v)?),
            IPSET_ATTR_IFACE => AdtAttr::Iface(str_of(v)?),
            IPSET_ATTR_BYTES => AdtAttr::Bytes(u64_of(v, net)?),
            IPSET_ATTR_PACKETS => AdtAttr::Packets(u64_of(v, net)?),
            IPSET_ATTR_COMMENT => AdtAttr::Comment(str_of(v)?),
            IPSET_ATTR_SKBMARK => AdtAttr::SkbMark(u64_of(v, net)?),
            IPSET_ATTR_SKBPRIO => AdtAttr::SkbPrio(u32_of(v, net)?),
            IPSET_ATTR_SKBQUEUE => AdtAttr::SkbQueue(u16_of(v, net)?),
            IPSET_ATTR_PAD => AdtAttr::Other(other(nla)?),
            _ => AdtAttr::Other(other(nla)?),
        })
    }
}
nla_via_value!(AdtAttr);
