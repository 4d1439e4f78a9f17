//! ipset's text forms of element parts and options, parsed as ipset 7.17's
//! `lib/parse.c` parses them, with its error words.

use std::net::IpAddr;

use crate::{
    entry::{bad, IpPart, Part, PortPart},
    proto::{self, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP},
    types::{Dim, Family, SetName, SetType},
    Error, Result,
};

/// A number as ipset's `ipset_parse_uint*` reads it (decimal, `0x` hex,
/// `0` octal), with its error words.
pub(crate) fn number(s: &str, max: u64) -> Result<u64> {
    let parsed = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8)
    } else {
        s.parse::<u64>()
    };
    match parsed {
        Ok(v) if v <= max => Ok(v),
        Ok(_) => Err(bad(s, format!("'{s}' is out of range 0-{max}"))),
        Err(_) => Err(bad(s, format!("'{s}' is invalid as number"))),
    }
}

/// `MARK[/MASK]`, both in hex with `0x`, as ipset's `ipset_parse_skbmark`.
pub(crate) fn parse_skbmark(s: &str) -> Result<(u32, u32)> {
    let fail = || {
        bad(
            s,
            "Invalid skbmark format, it should be:  MARK/MASK or MARK (see manpage)",
        )
    };
    let hex = |x: &str| {
        x.strip_prefix("0x")
            .or_else(|| x.strip_prefix("0X"))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(fail)
    };
    match s.split_once('/') {
        Some((m, k)) => Ok((hex(m)?, hex(k)?)),
        None => Ok((hex(s)?, u32::MAX)),
    }
}

pub(crate) fn parse_skbprio(s: &str) -> Result<(u16, u16)> {
    let (a, b) = s.split_once(':').ok_or_else(|| {
        bad(
            s,
            "Invalid skbprio format, it should be:MAJOR:MINOR (see manpage)",
        )
    })?;
    let hex = |x: &str| {
        u16::from_str_radix(x, 16).map_err(|_| {
            bad(
                s,
                "Invalid skbprio format, it should be:MAJOR:MINOR (see manpage)",
            )
        })
    };
    Ok((hex(a)?, hex(b)?))
}

fn parse_addr(family: Family, s: &str) -> Result<IpAddr> {
    let v6 = family == Family::Inet6;
    let parsed = if v6 {
        s.parse::<std::net::Ipv6Addr>().map(IpAddr::V6).ok()
    } else {
        s.parse::<std::net::Ipv4Addr>().map(IpAddr::V4).ok()
    };
    parsed.ok_or_else(|| {
        let what = if v6 { "IPv6" } else { "IPv4" };
        bad(
            s,
            format!("cannot parse {s}: resolving to {what} address failed"),
        )
    })
}

fn parse_ip(family: Family, dim: Dim, s: &str) -> Result<IpPart> {
    let family = if family == Family::Unspec {
        Family::Inet
    } else {
        family
    };
    if family == Family::Inet6 {
        // ipset takes only plain IPv6 addresses for `ip` dimensions and
        // address/prefix for `net` ones: no ranges.
        if dim == Dim::Ip && (s.contains('/') || s.contains('-')) {
            return Err(bad(s, format!("plain IP address must be supplied: {s}")));
        }
        if dim == Dim::Net && s.contains('-') {
            return Err(bad(
                s,
                format!("IP address or IP/cidr must be specified: {s}"),
            ));
        }
    }
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .filter(|_| family == Family::Inet6)
        .unwrap_or(s);
    if let Some((a, c)) = s.split_once('/') {
        let addr = parse_addr(family, a)?;
        let max = family.max_prefix();
        let cidr = number(c, 255)
            .ok()
            .filter(|c| *c <= max as u64)
            .ok_or_else(|| bad(s, format!("'{c}' is out of range 0-{max}")))?
            as u8;
        return Ok(IpPart {
            addr,
            cidr: Some(cidr),
            to: None,
        });
    }
    if family == Family::Inet {
        if let Some((a, b)) = s.split_once('-') {
            return Ok(IpPart {
                addr: parse_addr(family, a)?,
                cidr: None,
                to: Some(parse_addr(family, b)?),
            });
        }
    }
    Ok(IpPart {
        addr: parse_addr(family, s)?,
        cidr: None,
        to: None,
    })
}

/// A port number or service name. ipset reports a failure in three lines
/// (number, protocol, port); the error keeps the parts: `what` is
/// `"PROTO port"`, `reason` the first line.
fn parse_port_number(s: &str, proto: &str) -> Result<u16> {
    let fail = |reason: String| Error::invalid(format!("{proto} port"), s, reason);
    if let Ok(v) = number(s, 65535) {
        return Ok(v as u16);
    }
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return Err(fail(format!("'{s}' is out of range 0-65535")));
    }
    proto::service_port(s, proto).ok_or_else(|| fail(format!("'{s}' is invalid as number")))
}

fn parse_port_range(s: &str, proto: &str) -> Result<(u16, Option<u16>)> {
    match s.split_once('-') {
        Some((a, b)) => Ok((
            parse_port_number(a, proto)?,
            Some(parse_port_number(b, proto)?),
        )),
        None => Ok((parse_port_number(s, proto)?, None)),
    }
}

fn parse_port(set_type: SetType, family: Family, s: &str) -> Result<PortPart> {
    if set_type == SetType::BitmapPort {
        let (port, to) = parse_port_range(s, "tcp")?;
        return Ok(PortPart {
            proto: None,
            port,
            to,
        });
    }
    let (proto_name, rest) = match s.split_once(':') {
        Some((p, r)) => (p, r),
        None => ("tcp", s),
    };
    let proto = proto::proto_by_name(proto_name)
        .ok_or_else(|| bad(s, format!("cannot parse '{proto_name}' as a protocol")))?;
    if proto == IPPROTO_ICMP && family == Family::Inet6 {
        return Err(Error::invalid(
            "icmp family",
            s,
            "Protocol ICMP can be used with family inet only",
        ));
    }
    if proto == IPPROTO_ICMPV6 && family == Family::Inet {
        return Err(Error::invalid(
            "icmp family",
            s,
            "Protocol ICMPv6 can be used with family inet6 only",
        ));
    }
    if proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 {
        let (t, c) = match rest.split_once('/') {
            Some((t, c)) => (number(t, 255)? as u8, number(c, 255)? as u8),
            None => proto::icmp_by_name(proto, rest).ok_or_else(|| {
                // ipset prints this one without "Syntax error:".
                let what = if proto == IPPROTO_ICMP {
                    "ICMP"
                } else {
                    "ICMPv6"
                };
                Error::invalid(
                    "message",
                    s,
                    format!("Cannot parse {rest} as an {what} type/code."),
                )
            })?,
        };
        return Ok(PortPart {
            proto: Some(proto),
            port: (t as u16) << 8 | c as u16,
            to: None,
        });
    }
    let pname = if proto == IPPROTO_TCP {
        "tcp"
    } else {
        proto_name
    };
    let (port, to) = if proto::has_ports(proto) {
        parse_port_range(rest, pname)?
    } else {
        let port = number(rest, 65535)? as u16;
        if port != 0 {
            let reason =
                format!("Protocol {proto_name} can be used with pseudo port value 0 only.");
            return Err(bad(s, reason));
        }
        (port, None)
    };
    Ok(PortPart {
        proto: Some(proto),
        port,
        to,
    })
}

fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let mut mac = [0u8; 6];
    let bytes: Vec<&str> = s.split(':').collect();
    if bytes.len() != 6 {
        return Err(bad(s, format!("cannot parse '{s}' as ethernet address")));
    }
    for (i, b) in bytes.iter().enumerate() {
        mac[i] = u8::from_str_radix(b, 16)
            .map_err(|_| bad(s, format!("cannot parse '{s}' as ethernet address")))?;
    }
    Ok(mac)
}

pub(crate) fn parse_part(
    set_type: SetType,
    family: Family,
    dim: Dim,
    _i: usize,
    s: &str,
) -> Result<Part> {
    Ok(match dim {
        Dim::Ip | Dim::Net => Part::Ip(parse_ip(family, dim, s)?),
        Dim::Port => Part::Port(parse_port(set_type, family, s)?),
        Dim::Iface => match s.strip_prefix("physdev:") {
            Some(name) => Part::Iface {
                name: name.to_owned(),
                physdev: true,
            },
            None => Part::Iface {
                name: s.to_owned(),
                physdev: false,
            },
        },
        Dim::Mac => Part::Mac(parse_mac(s)?),
        Dim::Mark => Part::Mark(number(s, u32::MAX as u64)? as u32),
        Dim::Set => Part::Set(SetName::new(s)?),
    })
}
