//! Set elements ([`Entry`]): typed values parsed from and printed in
//! ipset's own text forms, and their options.

use std::{
    fmt::{self, Write as _},
    net::IpAddr,
};

use crate::{
    parse::{number, parse_part, parse_skbmark, parse_skbprio},
    proto::{self, IPPROTO_ICMP, IPPROTO_ICMPV6},
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

/// Which command element options are parsed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `add`: every option the set supports.
    Add,
    /// `del`: only list:set's `before`/`after`.
    Del,
    /// `test`: `nomatch` (net types), `before`/`after` (list:set).
    Test,
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
        let pieces: Vec<&str> = text.splitn(dims.len(), ',').collect();
        // bitmap:ip,mac learns the MAC from the first packet.
        let optional_tail = set_type == SetType::BitmapIpMac && pieces.len() == 1;
        if pieces.len() < dims.len() && !optional_tail {
            let which = ["First", "Second", "Third", "Fourth"][pieces.len().min(3)];
            return Err(bad(
                text,
                format!("{which} element is missing from {text}."),
            ));
        }
        let mut parts = Vec::with_capacity(dims.len());
        for (i, (dim, piece)) in dims.iter().zip(pieces).enumerate() {
            parts.push(parse_part(set_type, family, *dim, i, piece)?);
        }
        Ok(Entry::new(parts))
    }

    /// Parses ipset's element options (`timeout 5 comment "x" nomatch`),
    /// as words; returns how many words it used (it stops at the first word
    /// that is no option). Every option is taken whatever the set type; the
    /// kernel refuses what the set does not support.
    pub fn parse_options(&mut self, words: &[&str]) -> Result<usize> {
        self.parse_options_for(None, words)
    }

    /// Parses element options as ipset 7.17 does for `op` on a set of
    /// `set_type`: an option the command does not take is an error (`what`
    /// = "option", ipset's "Unknown argument"), as is a repeated one.
    pub fn parse_options_checked(
        &mut self,
        set_type: SetType,
        op: Op,
        words: &[&str],
    ) -> Result<usize> {
        self.parse_options_for(Some((set_type, op)), words)
    }

    fn parse_options_for(&mut self, check: Option<(SetType, Op)>, words: &[&str]) -> Result<usize> {
        let (set_type, op) = check.unwrap_or((SetType::ListSet, Op::Add));
        let nets = matches!(
            set_type,
            SetType::HashNet
                | SetType::HashNetNet
                | SetType::HashNetPort
                | SetType::HashNetPortNet
                | SetType::HashNetIface
                | SetType::HashIpPortNet
        );
        let list = set_type == SetType::ListSet;
        let mut seen: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let known = matches!(
                word,
                "timeout"
                    | "packets"
                    | "bytes"
                    | "comment"
                    | "skbmark"
                    | "skbprio"
                    | "skbqueue"
                    | "nomatch"
                    | "wildcard"
                    | "before"
                    | "after"
            );
            if !known && check.is_none() {
                break;
            }
            let allowed = check.is_none()
                || match word {
                    "timeout" | "packets" | "bytes" | "comment" | "skbmark" | "skbprio"
                    | "skbqueue" => op == Op::Add,
                    "nomatch" => nets && op != Op::Del,
                    "wildcard" => set_type == SetType::HashNetIface && op == Op::Add,
                    "before" | "after" => list,
                    _ => false,
                };
            if !allowed {
                return Err(Error::invalid(
                    "option",
                    word,
                    format!("Unknown argument: `{word}'"),
                ));
            }
            if check.is_some() && seen.contains(&word) {
                return Err(bad(word, format!("{word} already specified")));
            }
            seen.push(word);
            if word == "nomatch" {
                self.nomatch = true;
                i += 1;
                continue;
            }
            if word == "wildcard" {
                self.wildcard = true;
                i += 1;
                continue;
            }
            let arg = words.get(i + 1).copied().ok_or_else(|| {
                Error::invalid(
                    "option",
                    word,
                    format!("Missing mandatory argument of option `{word}'"),
                )
            })?;
            match word {
                "timeout" => self.timeout = Some(number(arg, u32::MAX as u64)? as u32),
                "packets" => self.packets = Some(number(arg, u64::MAX)?),
                "bytes" => self.bytes = Some(number(arg, u64::MAX)?),
                "comment" => {
                    if arg.len() > crate::wire::IPSET_MAX_COMMENT_SIZE {
                        return Err(bad(arg, "Comment is longer than 255 characters"));
                    }
                    self.comment = Some(arg.to_owned());
                }
                "skbmark" => self.skbmark = Some(parse_skbmark(arg)?),
                "skbprio" => self.skbprio = Some(parse_skbprio(arg)?),
                "skbqueue" => self.skbqueue = Some(number(arg, u16::MAX as u64)? as u16),
                "before" => self.position = Some(Position::Before(SetName::new(arg)?)),
                _ => self.position = Some(Position::After(SetName::new(arg)?)),
            }
            i += 2;
        }
        Ok(i)
    }

    /// The options in ipset's order as (keyword, value) pairs; `nomatch`
    /// has no value.
    pub fn option_fields(&self) -> Vec<(&'static str, Option<String>)> {
        let mut f = Vec::new();
        if let Some(t) = self.timeout {
            f.push(("timeout", Some(t.to_string())));
        }
        if self.nomatch {
            f.push(("nomatch", None));
        }
        if self.wildcard {
            f.push(("wildcard", None));
        }
        if let Some(p) = self.packets {
            f.push(("packets", Some(p.to_string())));
        }
        if let Some(b) = self.bytes {
            f.push(("bytes", Some(b.to_string())));
        }
        if let Some(c) = &self.comment {
            f.push(("comment", Some(format!("\"{c}\""))));
        }
        if let Some((mark, mask)) = self.skbmark {
            let v = if mask == u32::MAX {
                format!("{mark:#x}")
            } else {
                format!("{mark:#x}/{mask:#x}")
            };
            f.push(("skbmark", Some(v)));
        }
        if let Some((major, minor)) = self.skbprio {
            f.push(("skbprio", Some(format!("{major:x}:{minor:x}"))));
        }
        if let Some(q) = self.skbqueue {
            f.push(("skbqueue", Some(q.to_string())));
        }
        f
    }

    /// The element in ipset's syntax for a set of `set_type`, with its
    /// options, exactly as `ipset list` prints a member.
    pub fn display(&self, set_type: SetType) -> String {
        let mut s = self.elem_text(set_type);
        for (k, v) in self.option_fields() {
            s.push(' ');
            s.push_str(k);
            if let Some(v) = v {
                s.push(' ');
                s.push_str(&v);
            }
        }
        s
    }

    /// The element alone (no options) in ipset's syntax.
    pub fn elem_text(&self, set_type: SetType) -> String {
        let mut s = String::new();
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            match part {
                Part::Ip(ip) => {
                    let max = if ip.addr.is_ipv6() { 128 } else { 32 };
                    s.push_str(&ip_text(ip.addr));
                    if let Some(c) = ip.cidr.filter(|c| *c != max) {
                        let _ = write!(s, "/{c}");
                    }
                    if let Some(to) = ip.to {
                        s.push('-');
                        s.push_str(&ip_text(to));
                    }
                }
                Part::Port(p) => write_port(&mut s, set_type, p),
                Part::Iface { name, physdev } => {
                    if *physdev {
                        s.push_str("physdev:");
                    }
                    s.push_str(name);
                }
                Part::Mac(m) => {
                    let _ = write!(
                        s,
                        "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
                        m[0], m[1], m[2], m[3], m[4], m[5]
                    );
                }
                Part::Mark(m) => {
                    let _ = write!(s, "{m:#010x}");
                }
                Part::Set(n) => s.push_str(n.as_str()),
            }
        }
        s
    }
}

/// An address as glibc's `inet_ntop` writes it: like Rust's, except that
/// an IPv4-compatible address (`::a.b.c.d`, six leading zero groups and
/// a non-zero seventh) keeps its dotted tail.
pub(crate) fn ip_text(addr: IpAddr) -> String {
    if let IpAddr::V6(v6) = addr {
        let g = v6.segments();
        if g[..6].iter().all(|x| *x == 0) && g[6] != 0 {
            let [.., a, b, c, d] = v6.octets();
            return format!("::{a}.{b}.{c}.{d}");
        }
    }
    addr.to_string()
}

fn write_port(s: &mut String, set_type: SetType, p: &PortPart) {
    let proto = match p.proto {
        Some(proto) if set_type != SetType::BitmapPort => proto,
        _ => {
            let _ = write!(s, "{}", p.port);
            if let Some(to) = p.to {
                let _ = write!(s, "-{to}");
            }
            return;
        }
    };
    let _ = write!(s, "{}:", proto::proto_name(proto));
    if proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 {
        let (t, c) = ((p.port >> 8) as u8, p.port as u8);
        match proto::icmp_name(proto, t, c) {
            Some(name) => s.push_str(name),
            None => {
                let _ = write!(s, "{t}/{c}");
            }
        }
        return;
    }
    let _ = write!(s, "{}", p.port);
    if let Some(to) = p.to {
        let _ = write!(s, "-{to}");
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = Entry::new(vec![self.clone()]);
        f.write_str(&e.elem_text(SetType::HashIp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_ipset_forms() {
        for (t, fam, text) in [
            (SetType::HashIp, Family::Inet, "1.2.3.4"),
            (SetType::HashNet, Family::Inet, "10.0.0.0/8"),
            (SetType::HashIpPort, Family::Inet, "1.2.3.4,tcp:80"),
            (SetType::HashIpPort, Family::Inet, "1.2.3.4,udp:53"),
            (
                SetType::HashIpPort,
                Family::Inet,
                "1.2.3.4,icmp:echo-request",
            ),
            (SetType::HashIpPort, Family::Inet, "1.2.3.4,icmp:3/8"),
            (
                SetType::HashIpPort,
                Family::Inet6,
                "2001:db8::1,ipv6-icmp:echo-request",
            ),
            (
                SetType::HashIpPortIp,
                Family::Inet,
                "1.2.3.4,sctp:9,5.6.7.8",
            ),
            (
                SetType::HashIpPortNet,
                Family::Inet,
                "1.2.3.4,tcp:1,10.0.0.0/8",
            ),
            (
                SetType::HashNetIface,
                Family::Inet,
                "10.0.0.0/8,physdev:eth0",
            ),
            (SetType::BitmapPort, Family::Unspec, "80"),
            (
                SetType::BitmapIpMac,
                Family::Unspec,
                "10.0.0.1,00:11:22:33:44:55",
            ),
            (SetType::ListSet, Family::Unspec, "other"),
        ] {
            let e = Entry::parse(t, fam, text).unwrap();
            assert_eq!(e.elem_text(t), text, "{t}");
        }
    }

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

    #[test]
    fn options_print_in_ipset_order() {
        let t = SetType::HashIpPort;
        let mut e = Entry::parse(t, Family::Inet, "1.2.3.4,80").unwrap();
        let words = [
            "timeout",
            "5",
            "packets",
            "3",
            "bytes",
            "40",
            "comment",
            "hi",
            "skbmark",
            "0x10/0xff",
            "skbprio",
            "1:2",
            "skbqueue",
            "3",
        ];
        assert_eq!(
            e.parse_options_checked(t, Op::Add, &words).unwrap(),
            words.len()
        );
        let mut d = e.key();
        assert!(d
            .parse_options_checked(t, Op::Del, &["timeout", "1"])
            .is_err());
        assert_eq!(d.parse_options(&["timeout", "1", "x"]).unwrap(), 2);
        assert_eq!(
            e.display(SetType::HashIpPort),
            "1.2.3.4,tcp:80 timeout 5 packets 3 bytes 40 comment \"hi\" skbmark 0x10/0xff skbprio 1:2 skbqueue 3"
        );
    }
}
