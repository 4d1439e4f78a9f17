//! ipset attributes: command level (`IPSET_ATTR_*` of the first enum of
//! `ip_set.h`), create data (CADT + create-only) and element data (CADT +
//! ADT). The last two share numbers above 16, so which one `IPSET_ATTR_DATA`
//! holds depends on the command; below 17 (the CADT block) they mean the
//! same in both, and one table (`data_attr!`) says so once.

use std::net::IpAddr;

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, NLA_F_NESTED};

use super::value::{each, nla_via_wire, other, Value, Wire};

// Command level.
const IPSET_ATTR_PROTOCOL: u16 = 1;
const IPSET_ATTR_SETNAME: u16 = 2;
const IPSET_ATTR_TYPENAME: u16 = 3;
const IPSET_ATTR_SETNAME2: u16 = IPSET_ATTR_TYPENAME;
const IPSET_ATTR_REVISION: u16 = 4;
const IPSET_ATTR_FAMILY: u16 = 5;
const IPSET_ATTR_FLAGS: u16 = 6;
pub(super) const IPSET_ATTR_DATA: u16 = 7;
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
    fn wire(&self) -> (u16, Value<'_>) {
        match self {
            CmdAttr::Protocol(v) => (IPSET_ATTR_PROTOCOL, v.value()),
            CmdAttr::SetName(s) => (IPSET_ATTR_SETNAME, s.value()),
            CmdAttr::TypeName(s) => (IPSET_ATTR_TYPENAME, s.value()),
            CmdAttr::SetName2(s) => (IPSET_ATTR_SETNAME2, s.value()),
            CmdAttr::Revision(v) => (IPSET_ATTR_REVISION, v.value()),
            CmdAttr::Family(v) => (IPSET_ATTR_FAMILY, v.value()),
            CmdAttr::Flags(v) => (IPSET_ATTR_FLAGS, v.value()),
            CmdAttr::CreateData(a) => (IPSET_ATTR_DATA, Value::Create(a)),
            CmdAttr::AdtData(a) => (IPSET_ATTR_DATA, Value::Adt(a)),
            CmdAttr::Adt(entries) => (IPSET_ATTR_ADT, Value::AdtList(entries)),
            CmdAttr::LineNo(v) => (IPSET_ATTR_LINENO, v.value()),
            CmdAttr::ProtocolMin(v) => (IPSET_ATTR_PROTOCOL_MIN, v.value()),
            CmdAttr::Index(v) => (IPSET_ATTR_INDEX, v.value()),
            CmdAttr::Other(nla) => (nla.kind(), Value::Bytes(&[])),
        }
    }

    /// Decodes one attribute of a message of command `cmd`: the command
    /// decides what `IPSET_ATTR_DATA` holds and what number 3 names.
    pub(crate) fn parse(nla: &NlaBuffer<&[u8]>, cmd: u8) -> Result<Self, DecodeError> {
        use super::IpsetCmd as C;
        let (v, net) = (nla.value(), nla.network_byte_order_flag());
        let adt = matches!(C::from(cmd), C::Add | C::Del | C::Test);
        Ok(match nla.kind() {
            IPSET_ATTR_PROTOCOL => CmdAttr::Protocol(Wire::decode(v, net)?),
            IPSET_ATTR_SETNAME => CmdAttr::SetName(Wire::decode(v, net)?),
            IPSET_ATTR_TYPENAME if matches!(C::from(cmd), C::Rename | C::Swap) => {
                CmdAttr::SetName2(Wire::decode(v, net)?)
            }
            IPSET_ATTR_TYPENAME => CmdAttr::TypeName(Wire::decode(v, net)?),
            IPSET_ATTR_REVISION => CmdAttr::Revision(Wire::decode(v, net)?),
            IPSET_ATTR_FAMILY => CmdAttr::Family(Wire::decode(v, net)?),
            IPSET_ATTR_FLAGS => CmdAttr::Flags(Wire::decode(v, net)?),
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
            IPSET_ATTR_LINENO => CmdAttr::LineNo(Wire::decode(v, net)?),
            IPSET_ATTR_PROTOCOL_MIN => CmdAttr::ProtocolMin(Wire::decode(v, net)?),
            IPSET_ATTR_INDEX => CmdAttr::Index(Wire::decode(v, net)?),
            _ => CmdAttr::Other(other(nla)?),
        })
    }
}
nla_via_wire!(CmdAttr);

/// `IPSET_ATTR_ADT` whose elements are already encoded, one
/// `IPSET_ATTR_DATA` nest each ([`append_data`]): a bulk request encodes
/// each element once as it packs it, and the message then copies the
/// bytes instead of walking thousands of elements for their lengths. It
/// goes out exactly as [`CmdAttr::Adt`] of the same elements would (and
/// decodes as one).
///
/// [`append_data`]: super::value::append_data
pub(crate) fn adt_encoded(elements: Vec<u8>) -> CmdAttr {
    CmdAttr::Other(DefaultNla::new(IPSET_ATTR_ADT | NLA_F_NESTED, elements))
}

// ---- the data nests ----

/// The codec of an `IPSET_ATTR_DATA` attribute enum, from its table of
/// `Variant = IPSET_ATTR_NUMBER` rows: each variant's field type picks the
/// value encoding (`Wire`), the number its attribute type; numbers no
/// row names decode as `Other`. The CADT block of `ip_set.h` (the
/// attributes below 17, which create data and element data share) is the
/// first part of every table, written once here, so the two enums cannot
/// disagree about it.
macro_rules! data_attr {
    ($t:ident { $($v:ident = $id:ident,)* }) => {
        data_attr!(@codec $t {
            Ip = IPSET_ATTR_IP,
            IpTo = IPSET_ATTR_IP_TO,
            Cidr = IPSET_ATTR_CIDR,
            Port = IPSET_ATTR_PORT,
            PortTo = IPSET_ATTR_PORT_TO,
            Timeout = IPSET_ATTR_TIMEOUT,
            Proto = IPSET_ATTR_PROTO,
            CadtFlags = IPSET_ATTR_CADT_FLAGS,
            LineNo = IPSET_ATTR_CADT_LINENO,
            Mark = IPSET_ATTR_MARK,
            MarkMask = IPSET_ATTR_MARKMASK,
            $($v = $id,)*
        });
    };
    (@codec $t:ident { $($v:ident = $id:ident,)* }) => {
        impl $t {
            fn wire(&self) -> (u16, Value<'_>) {
                match self {
                    $($t::$v(x) => ($id, x.value()),)*
                    $t::Other(nla) => (nla.kind(), Value::Bytes(&[])),
                }
            }

            fn parse(nla: &NlaBuffer<&[u8]>) -> Result<Self, DecodeError> {
                let (v, net) = (nla.value(), nla.network_byte_order_flag());
                Ok(match nla.kind() {
                    $($id => $t::$v(Wire::decode(v, net)?),)*
                    _ => $t::Other(other(nla)?),
                })
            }
        }
        nla_via_wire!($t);
    };
}

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

data_attr!(CreateAttr {
    // In the CADT block, but only create data carries it.
    Bitmask = IPSET_ATTR_BITMASK,
    InitVal = IPSET_ATTR_INITVAL,
    HashSize = IPSET_ATTR_HASHSIZE,
    MaxElem = IPSET_ATTR_MAXELEM,
    Netmask = IPSET_ATTR_NETMASK,
    BucketSize = IPSET_ATTR_BUCKETSIZE,
    Resize = IPSET_ATTR_RESIZE,
    Size = IPSET_ATTR_SIZE,
    Elements = IPSET_ATTR_ELEMENTS,
    References = IPSET_ATTR_REFERENCES,
    MemSize = IPSET_ATTR_MEMSIZE,
});

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

// `IPSET_ATTR_PAD` (64-bit alignment of the counters) decodes as `Other`.
data_attr!(AdtAttr {
    Ether = IPSET_ATTR_ETHER,
    Name = IPSET_ATTR_NAME,
    NameRef = IPSET_ATTR_NAMEREF,
    Ip2 = IPSET_ATTR_IP2,
    Cidr2 = IPSET_ATTR_CIDR2,
    Ip2To = IPSET_ATTR_IP2_TO,
    Iface = IPSET_ATTR_IFACE,
    Bytes = IPSET_ATTR_BYTES,
    Packets = IPSET_ATTR_PACKETS,
    Comment = IPSET_ATTR_COMMENT,
    SkbMark = IPSET_ATTR_SKBMARK,
    SkbPrio = IPSET_ATTR_SKBPRIO,
    SkbQueue = IPSET_ATTR_SKBQUEUE,
});

/// `IFNAMSIZ`: ipset's policy length of `IPSET_ATTR_IFACE`.
const IFNAMSIZ: usize = 16;
/// `MNL_ALIGN(sizeof(struct nlmsgerr))`: the room ipset keeps free at the
/// end of its buffer for the kernel's answer.
const NLMSGERR_LEN: usize = 20;

/// The room one element needs in ipset's restore buffer (`lib/session.c`,
/// 7.17), `len` being its encoded length (the bytes it then takes, the
/// same as ipset's). ipset adds an element to a buffer holding `L` bytes
/// only when `L + room` fits the buffer: `BUFFER_FULL` checks each
/// attribute as it goes, keeping room for the kernel's `nlmsgerr`, and
/// checks strings by their policy's longest length, not their own. The
/// last attribute, `IPSET_ATTR_LINENO`, makes that `len` plus the reserve
/// unless a string asks for more.
pub(crate) fn ipset_room(attrs: &[AdtAttr], len: usize) -> usize {
    let policy = |a: &AdtAttr| match a {
        AdtAttr::Name(_) | AdtAttr::NameRef(_) => Some(super::IPSET_MAXNAMELEN),
        AdtAttr::Iface(_) => Some(IFNAMSIZ),
        AdtAttr::Comment(_) => Some(super::IPSET_MAX_COMMENT_SIZE + 1),
        _ => None,
    };
    let mut room = len + NLMSGERR_LEN;
    if attrs.iter().any(|a| policy(a).is_some()) {
        // After the IPSET_ATTR_DATA nest header.
        let mut at = 4;
        for a in attrs {
            if let Some(p) = policy(a) {
                room = room.max(at + 4 + ((p + 3) & !3) + NLMSGERR_LEN);
            }
            at += 4 + ((a.value_len() + 3) & !3);
        }
    }
    room
}

impl AdtAttr {
    /// The attribute's number (`IPSET_ATTR_*`), without flags: ipset
    /// sends an element's attributes in this order.
    pub(crate) fn number(&self) -> u16 {
        match self {
            AdtAttr::Other(nla) => nla.kind() & netlink_packet_core::NLA_TYPE_MASK,
            _ => self.wire().0,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use netlink_packet_core::Emitable;

    use super::*;

    fn emit(a: &impl Emitable) -> Vec<u8> {
        let mut buf = vec![0; a.buffer_len()];
        a.emit(&mut buf);
        buf
    }

    #[test]
    fn the_cadt_block_means_the_same_in_create_and_element_data() {
        let v4 = IpAddr::from([10, 0, 0, 1]);
        let v6 = IpAddr::from(Ipv6Addr::LOCALHOST);
        let pairs = [
            (CreateAttr::Ip(v4), AdtAttr::Ip(v4)),
            (CreateAttr::IpTo(v6), AdtAttr::IpTo(v6)),
            (CreateAttr::Cidr(24), AdtAttr::Cidr(24)),
            (CreateAttr::Port(80), AdtAttr::Port(80)),
            (CreateAttr::PortTo(8080), AdtAttr::PortTo(8080)),
            (CreateAttr::Timeout(300), AdtAttr::Timeout(300)),
            (CreateAttr::Proto(6), AdtAttr::Proto(6)),
            (CreateAttr::CadtFlags(1 << 4), AdtAttr::CadtFlags(1 << 4)),
            (CreateAttr::LineNo(7), AdtAttr::LineNo(7)),
            (CreateAttr::Mark(0x10), AdtAttr::Mark(0x10)),
            (CreateAttr::MarkMask(0xff00), AdtAttr::MarkMask(0xff00)),
        ];
        for (c, a) in pairs {
            let bytes = emit(&c);
            assert_eq!(emit(&a), bytes, "{c:?}");
            let nla = NlaBuffer::new_checked(&bytes[..]).unwrap();
            assert_eq!(CreateAttr::parse(&nla).unwrap(), c);
            assert_eq!(AdtAttr::parse(&nla).unwrap(), a);
        }
    }

    #[test]
    fn numbers_above_the_block_depend_on_the_nest() {
        // 20 is IPSET_ATTR_NETMASK (a u8) in create data, IPSET_ATTR_IP2
        // (a nested address) in an element; 12 (IPSET_ATTR_BITMASK) only
        // create data knows.
        let netmask = emit(&CreateAttr::Netmask(24));
        let nla = NlaBuffer::new_checked(&netmask[..]).unwrap();
        assert_eq!(CreateAttr::parse(&nla).unwrap(), CreateAttr::Netmask(24));
        assert!(AdtAttr::parse(&nla).is_err());
        let bitmask = emit(&CreateAttr::Bitmask(IpAddr::from([255, 255, 0, 0])));
        let nla = NlaBuffer::new_checked(&bitmask[..]).unwrap();
        assert!(matches!(AdtAttr::parse(&nla), Ok(AdtAttr::Other(_))));
    }

    #[test]
    fn pre_encoded_elements_go_out_as_an_adt_list() {
        let elements: Vec<Vec<AdtAttr>> = (0..3u8)
            .map(|i| {
                vec![
                    AdtAttr::Ip(IpAddr::from([10, 0, 0, i])),
                    AdtAttr::Port(80 + u16::from(i)),
                    AdtAttr::Proto(6),
                    AdtAttr::Comment("x".repeat(usize::from(i))),
                    AdtAttr::LineNo(u32::from(i) + 1),
                ]
            })
            .collect();
        let mut bytes = Vec::new();
        for e in &elements {
            super::super::value::append_data(&mut bytes, e);
        }
        let list = CmdAttr::Adt(elements);
        let encoded = adt_encoded(bytes);
        assert_eq!(emit(&encoded), emit(&list));
        let out = emit(&encoded);
        let nla = NlaBuffer::new_checked(&out[..]).unwrap();
        assert_eq!(CmdAttr::parse(&nla, 9).unwrap(), list);
    }

    #[test]
    fn integers_without_the_byte_order_flag_are_host_order() {
        // hash:ip,mark lists its markmask so.
        let mut bytes = vec![8, 0, 11, 0];
        bytes.extend_from_slice(&0xff00u32.to_ne_bytes());
        let nla = NlaBuffer::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            CreateAttr::parse(&nla).unwrap(),
            CreateAttr::MarkMask(0xff00)
        );
    }
}
