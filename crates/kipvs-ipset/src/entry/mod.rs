//! Set elements ([`Entry`]): typed values parsed from and printed in
//! ipset's own text forms, and their options.
//!
//! This file has the types and the element parser; `options` parses the
//! element options (`timeout 5 comment x`), `print` writes both back in
//! ipset's words.

mod options;
mod print;

pub use options::Op;
pub(crate) use print::ip_text;

use std::net::IpAddr;

use crate::{
    parse::parse_part,
    types::{Family, SetName, SetType},
    Error, Result,
};

/// An address dimension: one address, a network (`cidr`), or a range (`to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IpPart {
    /// The address (or the start of the range).
    pub addr: IpAddr,
    /// The prefix length, when given.
    pub cidr: Option<u8>,
    /// The end of a range.
    pub to: Option<IpAddr>,
}

/// A port dimension: `proto:port[-port]` (hash types) or `port` (bitmap).
/// For ICMP the port is `type << 8 | code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PortPart {
    /// The IP protocol (`None` in bitmap:port).
    pub proto: Option<u8>,
    /// The port (or the start of the range).
    pub port: u16,
    /// The end of a range.
    pub to: Option<u16>,
}

/// One dimension of an element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Part {
    /// An address, network or range.
    Ip(IpPart),
    /// A port.
    Port(PortPart),
    /// An interface; `physdev` matches the bridge port.
    Iface {
        /// The name (`eth+` is a wildcard).
        name: String,
        /// `physdev:` given.
        physdev: bool,
    },
    /// A MAC address.
    Mac([u8; 6]),
    /// A packet mark.
    Mark(u32),
    /// A member set (list:set).
    Set(SetName),
}

/// Where a list:set member goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Position {
    /// `before NAME`.
    Before(SetName),
    /// `after NAME`.
    After(SetName),
}

/// An element with its options, as `ipset add` takes and `ipset list` shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Entry {
    /// The dimensions, in the set type's order.
    pub parts: Vec<Part>,
    /// Seconds to live (sets with `timeout`).
    pub timeout: Option<u32>,
    /// Packet counter (sets with `counters`).
    pub packets: Option<u64>,
    /// Byte counter (sets with `counters`).
    pub bytes: Option<u64>,
    /// Comment (sets with `comment`).
    pub comment: Option<String>,
    /// `nomatch`: an exception inside a larger network (hash:net types).
    pub nomatch: bool,
    /// `skbmark` (mark, mask) (sets with `skbinfo`).
    pub skbmark: Option<(u32, u32)>,
    /// `skbprio` (major, minor).
    pub skbprio: Option<(u16, u16)>,
    /// `skbqueue`.
    pub skbqueue: Option<u16>,
    /// list:set `before`/`after`.
    pub position: Option<Position>,
    /// `wildcard`: the interface name is a prefix (hash:net,iface).
    pub wildcard: bool,
}

pub(crate) fn bad(value: &str, reason: impl Into<String>) -> Error {
    Error::invalid("element", value, reason)
}

impl Entry {
    /// An element of dimensions `parts` without options.
    pub fn new(parts: Vec<Part>) -> Self {
        Entry {
            parts,
            ..Default::default()
        }
    }

    /// One address (hash:ip, bitmap:ip).
    pub fn ip(addr: impl Into<IpAddr>) -> Self {
        Entry::new(vec![Part::Ip(IpPart {
            addr: addr.into(),
            cidr: None,
            to: None,
        })])
    }

    /// A network (hash:net).
    pub fn net(addr: impl Into<IpAddr>, cidr: u8) -> Self {
        Entry::new(vec![Part::Ip(IpPart {
            addr: addr.into(),
            cidr: Some(cidr),
            to: None,
        })])
    }

    /// An address and `proto:port` (hash:ip,port), as kube-proxy writes.
    pub fn ip_port(addr: impl Into<IpAddr>, proto: u8, port: u16) -> Self {
        Entry::new(vec![
            Part::Ip(IpPart {
                addr: addr.into(),
                cidr: None,
                to: None,
            }),
            Part::Port(PortPart {
                proto: Some(proto),
                port,
                to: None,
            }),
        ])
    }

    /// hash:ip,port,ip.
    pub fn ip_port_ip(a: impl Into<IpAddr>, proto: u8, port: u16, b: impl Into<IpAddr>) -> Self {
        let mut e = Entry::ip_port(a, proto, port);
        e.parts.push(Part::Ip(IpPart {
            addr: b.into(),
            cidr: None,
            to: None,
        }));
        e
    }

    /// hash:ip,port,net.
    pub fn ip_port_net(
        a: impl Into<IpAddr>,
        proto: u8,
        port: u16,
        net: impl Into<IpAddr>,
        cidr: u8,
    ) -> Self {
        let mut e = Entry::ip_port(a, proto, port);
        e.parts.push(Part::Ip(IpPart {
            addr: net.into(),
            cidr: Some(cidr),
            to: None,
        }));
        e
    }

    /// A port (bitmap:port).
    pub fn port(port: u16) -> Self {
        Entry::new(vec![Part::Port(PortPart {
            proto: None,
            port,
            to: None,
        })])
    }

    /// A member set (list:set).
    pub fn set(name: SetName) -> Self {
        Entry::new(vec![Part::Set(name)])
    }

    /// Sets the timeout.
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// Sets the comment.
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.comment = Some(text.into());
        self
    }

    /// Marks the element `nomatch`.
    pub fn nomatch(mut self) -> Self {
        self.nomatch = true;
        self
    }

    /// The element alone, without options: what identifies it in a set.
    pub fn key(&self) -> Entry {
        Entry::new(self.parts.clone())
    }

    /// Parses the element part of ipset's syntax (`1.2.3.4,tcp:80`) for a
    /// set of `set_type` and `family`; options are separate
    /// ([`Entry::parse_options`]).
    pub fn parse(set_type: SetType, family: Family, text: &str) -> Result<Self> {
        let dims = set_type.dims();
        let pieces = text.splitn(dims.len(), ',').count();
        // bitmap:ip,mac learns the MAC from the first packet.
        let optional_tail = set_type == SetType::BitmapIpMac && pieces == 1;
        if pieces < dims.len() && !optional_tail {
            let which = ["First", "Second", "Third", "Fourth"][pieces.min(3)];
            return Err(bad(
                text,
                format!("{which} element is missing from {text}."),
            ));
        }
        let mut parts = Vec::with_capacity(dims.len());
        for (i, (dim, piece)) in dims.iter().zip(text.splitn(dims.len(), ',')).enumerate() {
            parts.push(parse_part(set_type, family, *dim, i, piece)?);
        }
        Ok(Entry::new(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_protocol_is_tcp() {
        let e = Entry::parse(SetType::HashIpPort, Family::Inet, "1.2.3.4,80").unwrap();
        assert_eq!(e.elem_text(SetType::HashIpPort), "1.2.3.4,tcp:80");
    }

    #[test]
    fn bad_values_are_named() {
        let e = Entry::parse(SetType::HashIpPort, Family::Inet, "1.2.3.4,99999").unwrap_err();
        assert!(e.to_string().contains("99999"), "{e}");
        let e = Entry::parse(SetType::HashIp, Family::Inet, "1.2.3.400").unwrap_err();
        assert!(e.to_string().contains("1.2.3.400"), "{e}");
        let e = Entry::parse(SetType::HashIpPort, Family::Inet, "1.2.3.4").unwrap_err();
        assert!(e.to_string().contains("Second element is missing"), "{e}");
    }
}
