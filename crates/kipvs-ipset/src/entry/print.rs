//! Elements and their options in ipset's words, as `ipset list` and
//! `ipset save` print them.

use std::{
    fmt::{self, Write as _},
    net::IpAddr,
};

use crate::{
    proto::{self, IPPROTO_ICMP, IPPROTO_ICMPV6},
    types::SetType,
};

use super::{Entry, Part, PortPart};

impl Entry {
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
    use crate::types::Family;

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
}
