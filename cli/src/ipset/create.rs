//! `ipset create`'s options, read as ipset 7.17 reads them (`call_parser`
//! of `lib/ipset.c` over each type's argument list in `lib/ipset_*.c`):
//! a first pass that knows every keyword of the type and parses only the
//! family, a second that parses the rest in order, then the mandatory
//! check. Deprecated options are taken, dropped and warned about.

use std::net::IpAddr;

use kipvs::ipset::{CreateOptions, Family, Range, SetType};

use super::{elem, netdb, Fail};

/// The create keywords of ipset 7.17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Family,
    Inet,
    Inet6,
    Hashsize,
    Maxelem,
    Probes,
    Resize,
    Gc,
    IgnoredFrom,
    IgnoredTo,
    IgnoredNetwork,
    Size,
    IpRange,
    Netmask,
    PortRange,
    FromIp,
    ToIp,
    Network,
    FromPort,
    ToPort,
    Forceadd,
    Markmask,
    Timeout,
    Counters,
    Comment,
    Skbinfo,
    Bucketsize,
    Initval,
    Bitmask,
}

impl Arg {
    fn name(self) -> &'static str {
        match self {
            Arg::Family => "family",
            Arg::Inet => "-4",
            Arg::Inet6 => "-6",
            Arg::Hashsize => "hashsize",
            Arg::Maxelem => "maxelem",
            Arg::Probes => "probes",
            Arg::Resize => "resize",
            Arg::Gc => "gc",
            Arg::IgnoredFrom | Arg::FromIp | Arg::FromPort => "from",
            Arg::IgnoredTo | Arg::ToIp | Arg::ToPort => "to",
            Arg::IgnoredNetwork | Arg::Network => "network",
            Arg::Size => "size",
            Arg::IpRange | Arg::PortRange => "range",
            Arg::Netmask => "netmask",
            Arg::Forceadd => "forceadd",
            Arg::Markmask => "markmask",
            Arg::Timeout => "timeout",
            Arg::Counters => "counters",
            Arg::Comment => "comment",
            Arg::Skbinfo => "skbinfo",
            Arg::Bucketsize => "bucketsize",
            Arg::Initval => "initval",
            Arg::Bitmask => "bitmask",
        }
    }

    fn takes_value(self) -> bool {
        !matches!(
            self,
            Arg::Inet | Arg::Inet6 | Arg::Forceadd | Arg::Counters | Arg::Comment | Arg::Skbinfo
        )
    }

    /// The `IPSET_OPT_*` the keyword sets: ipset refuses a second keyword
    /// of the same one ("from already specified" after a range).
    fn opt(self) -> &'static str {
        match self {
            Arg::Family | Arg::Inet | Arg::Inet6 => "family",
            Arg::IpRange | Arg::FromIp | Arg::Network => "ip",
            Arg::ToIp => "ip_to",
            Arg::PortRange | Arg::FromPort => "port",
            Arg::ToPort => "port_to",
            other => other.name(),
        }
    }

    fn is_family(self) -> bool {
        matches!(self, Arg::Family | Arg::Inet | Arg::Inet6)
    }
}

/// The create arguments of the newest revision of each type ipset 7.17
/// knows, in its order (which decides which missing option is named).
// One line per type's own arguments, as ipset's tables read.
#[rustfmt::skip]
fn args_of(t: SetType) -> &'static [Arg] {
    use Arg::*;
    match t {
        SetType::BitmapIp => &[IpRange, Netmask, Timeout, Counters, Comment, Skbinfo, FromIp, ToIp, Network],
        SetType::BitmapIpMac => &[IpRange, Timeout, Counters, Comment, Skbinfo, FromIp, ToIp, Network],
        SetType::BitmapPort => &[PortRange, Timeout, Counters, Comment, Skbinfo, FromPort, ToPort],
        SetType::HashIp => &[Family, Inet, Inet6, Hashsize, Maxelem, Netmask, Bitmask, Timeout, Counters,
            Comment, Forceadd, Skbinfo, Bucketsize, Initval, Probes, Resize, Gc],
        SetType::HashIpMark => &[Family, Inet, Inet6, Markmask, Hashsize, Maxelem, Timeout, Counters, Comment,
            Forceadd, Skbinfo, Bucketsize, Initval, Probes, Resize, IgnoredFrom, IgnoredTo, IgnoredNetwork],
        SetType::HashIpPort => &[Family, Inet, Inet6, Hashsize, Maxelem, Timeout, Counters, Comment, Forceadd,
            Skbinfo, Bucketsize, Initval, Netmask, Bitmask, Probes, Resize, IgnoredFrom, IgnoredTo,
            IgnoredNetwork],
        SetType::HashIpPortIp | SetType::HashIpPortNet => &[Family, Inet, Inet6, Hashsize, Maxelem, Timeout,
            Counters, Comment, Forceadd, Skbinfo, Bucketsize, Initval, Probes, Resize, IgnoredFrom, IgnoredTo,
            IgnoredNetwork],
        SetType::HashNet => &[Family, Inet, Inet6, Hashsize, Maxelem, Timeout, Counters, Comment, Forceadd,
            Skbinfo, Bucketsize, Initval, Probes, Resize],
        SetType::HashNetNet => &[Family, Inet, Inet6, Hashsize, Maxelem, Timeout, Counters, Comment, Forceadd,
            Skbinfo, Bucketsize, Initval, Bitmask, Netmask],
        SetType::HashMac => &[Hashsize, Maxelem, Timeout, Counters, Comment, Forceadd, Skbinfo, Bucketsize,
            Initval],
        SetType::ListSet => &[Size, Timeout, Counters, Comment, Skbinfo],
        // hash:ip,mac, hash:net,port, hash:net,iface, hash:net,port,net
        _ => &[Family, Inet, Inet6, Hashsize, Maxelem, Timeout, Counters, Comment, Forceadd, Skbinfo,
            Bucketsize, Initval],
    }
}

/// `strtoull(s, &end, 0)` of glibc, whole string: `Err(true)` on
/// overflow, `Err(false)` when it is no number.
fn strtoull(s: &str) -> Result<u64, bool> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if h.is_empty() {
            // "0x" alone is the number 0 followed by junk.
            return Err(false);
        }
        (16, h)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(false);
    }
    let v = u64::from_str_radix(digits, radix).map_err(|_| true)?;
    Ok(if negative { v.wrapping_neg() } else { v })
}

/// `string_to_number_ll`: a number in `min..=max` or ipset's words.
pub(crate) fn number(s: &str, min: u64, max: u64) -> Result<u64, String> {
    match strtoull(s) {
        Ok(v) if v >= min && v <= max => Ok(v),
        Ok(_) | Err(true) => Err(format!("'{s}' is out of range {min}-{max}")),
        Err(false) => Err(format!("'{s}' is invalid as number")),
    }
}

fn syntax(reason: impl std::fmt::Display) -> Fail {
    Fail::Other(format!("Syntax error: {reason}"))
}

/// A port as `ipset_parse_port` reads it for `tcp`: a number or a service
/// name; failing, ipset's three lines.
fn tcp_port(s: &str) -> Result<u16, Fail> {
    match number(s, 0, 65535) {
        Ok(v) => Ok(v as u16),
        Err(first) => netdb::service_port(s, "tcp").ok_or_else(|| {
            Fail::Other(format!(
                "Syntax error: {first}\nSyntax error: 'tcp' is invalid as number\ncannot parse '{s}' as a tcp port"
            ))
        }),
    }
}

/// What a create line says, before it is checked for what is missing.
#[derive(Default)]
struct Data {
    family: Option<Family>,
    ip: Option<IpAddr>,
    ip_to: Option<IpAddr>,
    cidr: Option<u8>,
    port: Option<u16>,
    port_to: Option<u16>,
    netmask_given: bool,
    bitmask_given: bool,
}

/// Parses the create options of `t` (the words after the type name).
/// Warnings (ignored options) go to `warnings`, one line each.
pub(crate) fn parse(
    t: SetType,
    words: &[String],
    warnings: &mut Vec<String>,
) -> Result<CreateOptions, Fail> {
    let args = args_of(t);
    let lookup = |w: &str| {
        let w = w.strip_prefix("--").unwrap_or(w);
        args.iter().copied().find(|a| a.name() == w)
    };
    // Pass 1: every word must be a keyword of the type (with its value);
    // the family is parsed now, as later options depend on it.
    let mut o = CreateOptions::default();
    let mut d = Data::default();
    let mut items: Vec<(Arg, Option<&str>)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let Some(arg) = lookup(&words[i]) else {
            return Err(Fail::Param(format!("Unknown argument: `{}'", words[i])));
        };
        i += 1;
        let value = if arg.takes_value() {
            let v = words.get(i).ok_or_else(|| {
                Fail::Param(format!(
                    "Missing mandatory argument of option `{}'",
                    arg.name()
                ))
            })?;
            i += 1;
            Some(v.as_str())
        } else {
            None
        };
        if arg.is_family() {
            if d.family.is_some() {
                return Err(syntax(format!("{} already specified", arg.name())));
            }
            let f = value.unwrap_or(if arg == Arg::Inet { "-4" } else { "-6" });
            d.family = Some(match f {
                "inet" | "ipv4" | "-4" => Family::Inet,
                "inet6" | "ipv6" | "-6" => Family::Inet6,
                "any" | "unspec" => Family::Unspec,
                _ => return Err(syntax(format!("unknown inet family {f}"))),
            });
        } else {
            items.push((arg, value));
        }
    }
    o.family = d.family;
    // The family of parsed addresses: inet unless inet6 was given.
    let inet6 = d.family == Some(Family::Inet6);
    let family = || if inet6 { Family::Inet6 } else { Family::Inet };
    let mut ignored: Vec<&str> = Vec::new();
    let mut given: Vec<&str> = Vec::new();
    for (arg, value) in items {
        let v = value.unwrap_or_default();
        let ignored_kind = matches!(
            arg,
            Arg::Probes
                | Arg::Resize
                | Arg::Gc
                | Arg::IgnoredFrom
                | Arg::IgnoredTo
                | Arg::IgnoredNetwork
        );
        if !ignored_kind {
            if given.contains(&arg.opt()) {
                return Err(syntax(format!("{} already specified", arg.name())));
            }
            given.push(arg.opt());
            if matches!(arg, Arg::IpRange | Arg::PortRange) && elem::split_range(v).is_some() {
                given.push(if arg == Arg::IpRange {
                    "ip_to"
                } else {
                    "port_to"
                });
            }
        }
        let u32_of = |v: &str| {
            number(v, 0, u32::MAX as u64)
                .map(|n| n as u32)
                .map_err(syntax)
        };
        match arg {
            Arg::Hashsize => o.hashsize = Some(u32_of(v)?),
            Arg::Maxelem => o.maxelem = Some(u32_of(v)?),
            Arg::Size => o.size = Some(u32_of(v)?),
            Arg::Markmask => o.markmask = Some(u32_of(v)?),
            Arg::Initval => o.initval = Some(u32_of(v)?),
            Arg::Bucketsize => o.bucketsize = Some(number(v, 0, 255).map_err(syntax)? as u8),
            Arg::Timeout => {
                o.timeout =
                    Some(number(v, 0, (u32::MAX as u64 >> 1) / 1000).map_err(syntax)? as u32)
            }
            Arg::Counters => o.counters = true,
            Arg::Comment => o.comment = true,
            Arg::Skbinfo => o.skbinfo = true,
            Arg::Forceadd => o.forceadd = true,
            Arg::Netmask => {
                if d.bitmask_given {
                    return Err(syntax(
                        "bitmask and netmask are mutually exclusive, provide only one",
                    ));
                }
                let max = family().max_prefix() as u64;
                let n = number(v, 0, 255)
                    .and_then(|n| {
                        if n < 1 || n > max {
                            Err(format!("'{v}' is out of range 1-{max}"))
                        } else {
                            Ok(n)
                        }
                    })
                    .map_err(|first| {
                        Fail::Other(format!(
                            "Syntax error: {first}\nSyntax error: netmask is out of the inclusive range of 1-{max}"
                        ))
                    })?;
                d.netmask_given = true;
                o.netmask = Some(n as u8);
            }
            Arg::Bitmask => {
                if d.netmask_given {
                    return Err(syntax(
                        "bitmask and netmask are mutually exclusive, provide only one",
                    ));
                }
                let f = family();
                let addr = netdb::address(f, v).map_err(|first| {
                    Fail::Other(format!(
                        "{first}\nSyntax error: bitmask is not valid for family = {}",
                        if f == Family::Inet { "inet" } else { "inet6" }
                    ))
                })?;
                d.bitmask_given = true;
                o.bitmask = Some(addr);
            }
            Arg::IpRange => {
                if !(v.contains('-') || v.contains('/')) {
                    return Err(syntax(format!(
                        "IP/cidr or IP-IP range must be specified: {v}"
                    )));
                }
                ip_range(&mut d, v)?;
            }
            Arg::FromIp | Arg::ToIp => {
                if v.contains('-') || (v.contains('/') && !v.ends_with("/32")) {
                    return Err(syntax(format!("plain IP address must be supplied: {v}")));
                }
                let a =
                    netdb::address(Family::Inet, v.trim_end_matches("/32")).map_err(Fail::Other)?;
                if arg == Arg::FromIp {
                    d.ip = Some(a);
                } else {
                    d.ip_to = Some(a);
                }
            }
            Arg::Network => {
                if !v.contains('/') || v.contains('-') {
                    return Err(syntax(format!("IP/netblock must be supplied: {v}")));
                }
                ip_range(&mut d, v)?;
            }
            Arg::PortRange => {
                let (from, to) = elem::tcp_udp_ports(v).map_err(Fail::Other)?;
                d.port = Some(from);
                d.port_to = to;
            }
            Arg::FromPort => d.port = Some(tcp_port(v)?),
            Arg::ToPort => d.port_to = Some(tcp_port(v)?),
            Arg::Probes | Arg::Resize | Arg::Gc | Arg::IgnoredFrom | Arg::IgnoredTo => {
                // ipset names an ignored option by the first keyword of
                // its kind: `network` is reported as `--from`.
                let kind = arg.name();
                if !ignored.contains(&kind) {
                    ignored.push(kind);
                    warnings.push(format!(
                        "Option '--{kind} {v}' is ignored. Please upgrade your syntax."
                    ));
                }
            }
            Arg::IgnoredNetwork => {
                if !ignored.contains(&"from") {
                    ignored.push("from");
                    warnings.push(format!(
                        "Option '--from {v}' is ignored. Please upgrade your syntax."
                    ));
                }
            }
            Arg::Family | Arg::Inet | Arg::Inet6 => {}
        }
    }
    // check_mandatory: a range counts as given by IP/CIDR too.
    match t {
        SetType::BitmapIp | SetType::BitmapIpMac => {
            let Some(ip) = d.ip else {
                return Err(Fail::Param("Mandatory option `range' is missing".into()));
            };
            o.range = Some(match (d.ip_to, d.cidr) {
                (Some(to), _) => Range::Ip { from: ip, to },
                (None, Some(cidr)) => Range::Net { addr: ip, cidr },
                (None, None) => {
                    return Err(Fail::Param("Mandatory option `to' is missing".into()));
                }
            });
        }
        SetType::BitmapPort => {
            let Some(from) = d.port else {
                return Err(Fail::Param("Mandatory option `range' is missing".into()));
            };
            let Some(to) = d.port_to else {
                return Err(Fail::Param("Mandatory option `to' is missing".into()));
            };
            o.range = Some(Range::Port { from, to });
        }
        _ => {}
    }
    Ok(o)
}

/// `IP/CIDR` or `IP-IP` of a bitmap range, as `parse_ipaddr` reads it.
fn ip_range(d: &mut Data, v: &str) -> Result<(), Fail> {
    if let Some((a, c)) = v.split_once('/') {
        let cidr = number(c, 0, 255)
            .and_then(|n| {
                if n > 32 {
                    Err(format!("'{c}' is out of range 0-32"))
                } else {
                    Ok(n)
                }
            })
            .map_err(syntax)?;
        d.ip = Some(netdb::address(Family::Inet, a).map_err(Fail::Other)?);
        d.cidr = Some(cidr as u8);
        d.ip_to = None;
    } else if let Some((a, b)) = elem::split_range(v) {
        d.ip = Some(netdb::address(Family::Inet, a).map_err(Fail::Other)?);
        d.ip_to = Some(netdb::address(Family::Inet, b).map_err(Fail::Other)?);
    } else {
        d.ip = Some(netdb::address(Family::Inet, v).map_err(Fail::Other)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_strtoull_does() {
        assert_eq!(number("0x10", 0, 100), Ok(16));
        assert_eq!(number("010", 0, 100), Ok(8));
        assert_eq!(number(" 7", 0, 100), Ok(7));
        assert_eq!(
            number("-1", 0, 100),
            Err("'-1' is out of range 0-100".into())
        );
        assert_eq!(
            number("1x", 0, 100),
            Err("'1x' is invalid as number".into())
        );
        assert_eq!(number("", 0, 100), Err("'' is invalid as number".into()));
        assert_eq!(
            number("99999999999999999999", 0, 100),
            Err("'99999999999999999999' is out of range 0-100".into())
        );
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn bitmap_ranges_of_the_old_syntax() {
        let mut w = Vec::new();
        let o = parse(
            SetType::BitmapIp,
            &words("from 10.0.0.0 to 10.0.0.255"),
            &mut w,
        )
        .unwrap();
        assert_eq!(
            o.range,
            Some(Range::Ip {
                from: "10.0.0.0".parse().unwrap(),
                to: "10.0.0.255".parse().unwrap()
            })
        );
        let e = parse(SetType::BitmapIp, &words("from 10.0.0.0"), &mut w).unwrap_err();
        assert_eq!(e.message(), "Mandatory option `to' is missing");
        let o = parse(SetType::BitmapPort, &words("from 1 to 100"), &mut w).unwrap();
        assert_eq!(o.range, Some(Range::Port { from: 1, to: 100 }));
        assert!(w.is_empty());
    }

    #[test]
    fn ignored_options_warn_once_by_kind() {
        let mut w = Vec::new();
        parse(
            SetType::HashIpPort,
            &words("network 1.0.0.0/8 from 1 probes 2 probes 3"),
            &mut w,
        )
        .unwrap();
        assert_eq!(
            w,
            [
                "Option '--from 1.0.0.0/8' is ignored. Please upgrade your syntax.",
                "Option '--probes 2' is ignored. Please upgrade your syntax."
            ]
        );
        let e = parse(SetType::HashNetPort, &words("resize 5"), &mut w).unwrap_err();
        assert_eq!(e.message(), "Unknown argument: `resize'");
    }
}
