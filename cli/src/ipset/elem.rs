//! An element's text as ipset 7.17's `ipset_parse_elem` and the type
//! parsers read it, before the library parses it: the parts counted,
//! host names resolved ([`netdb`](super::netdb)), the bounds and ranges
//! each type and command allow checked, with ipset's words.

use std::borrow::Cow;

use kipvs::ipset::{Dim, Family, SetType};

use super::{
    args::Cmd,
    netdb::{resolve, service_port, strict},
    Fail,
};

/// Splits `a-b` at ipset's range separator: the first `-` outside
/// brackets.
pub(crate) fn split_range(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'[' => depth += 1,
            b']' => depth -= 1,
            b'-' if depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The first `,` of `s` outside brackets.
fn top_comma(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'[' => depth += 1,
            b']' => depth -= 1,
            b',' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits an element at `,` outside brackets, into at most `n` parts
/// (the last takes the rest), consecutive slices of `s` with one comma
/// between them. An iterator, not a vector: it runs a few times for
/// every line of a restore.
fn split_parts(s: &str, n: usize) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    let mut left = n.max(1);
    std::iter::from_fn(move || {
        let r = rest?;
        left -= 1;
        match top_comma(r).filter(|_| left > 0) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The text of an address piece for the library's strict parser: `None`
/// (as is) when it is numeric or does not resolve (the library then
/// reports it), else the address it resolves to.
fn piece(family: Family, s: &str, quiet: bool) -> Result<Option<String>, String> {
    if strict(family, s).is_some() || s.is_empty() {
        return Ok(None);
    }
    if family == Family::Inet6 {
        // ipset wants a plain IPv6 address, or a name escaped in brackets.
        if s.contains('-') && !s.starts_with('[') {
            return Ok(None);
        }
        if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            if strict(family, inner).is_some() {
                return Ok(None);
            }
        }
    }
    match resolve(family, s, quiet) {
        Ok(a) => Ok(Some(a.to_string())),
        // The library reports a plain name that does not resolve in the
        // same words, and in ipset's order among the element's parts.
        Err(_) if !s.starts_with('[') => Ok(None),
        Err(e) => Err(e),
    }
}

/// Rewrites the address dimensions of element `text` of a set of `t` so
/// that host names become addresses, as ipset resolves them. The ports'
/// service names are the library's business. Numeric elements, nearly
/// all of a restore file, come back as they are, not copied.
pub(crate) fn resolve_elem<'a>(
    t: SetType,
    family: Family,
    text: &'a str,
    quiet: bool,
) -> Result<Cow<'a, str>, String> {
    let family = if family == Family::Inet6 {
        Family::Inet6
    } else {
        Family::Inet
    };
    if t == SetType::BitmapPort {
        return tcp_udp_ports(text).map(|(a, b)| {
            Cow::Owned(match b {
                Some(b) => format!("{a}-{b}"),
                None => a.to_string(),
            })
        });
    }
    let dims = t.dims();
    check_separators(t, text)?;
    // The rewritten element, begun at the first part that changes.
    let mut out: Option<String> = None;
    let mut at = 0;
    for (i, (dim, part)) in dims.iter().zip(split_parts(text, dims.len())).enumerate() {
        let new = resolve_part(t, family, i, *dim, part, quiet)?;
        match (&mut out, new) {
            (None, None) => {}
            (None, Some(new)) => {
                let mut o = String::with_capacity(text.len() + new.len());
                o.push_str(&text[..at]);
                o.push_str(&new);
                out = Some(o);
            }
            (Some(o), new) => {
                o.push(',');
                o.push_str(new.as_deref().unwrap_or(part));
            }
        }
        at += part.len() + 1;
    }
    Ok(out.map_or(Cow::Borrowed(text), Cow::Owned))
}

/// One part of an element as [`resolve_elem`] rewrites it; `None` when
/// it stays as given.
fn resolve_part(
    t: SetType,
    family: Family,
    i: usize,
    dim: Dim,
    part: &str,
    quiet: bool,
) -> Result<Option<String>, String> {
    if dim == Dim::Iface {
        let name = part.strip_prefix("physdev:").unwrap_or(part);
        if name.len() > 15 {
            return Err(format!(
                "Syntax error: interface name '{name}' is longer than 15 characters"
            ));
        }
    }
    if !matches!(dim, Dim::Ip | Dim::Net) {
        return Ok(None);
    }
    // ipset_parse_single_ip: no range, no network but the host one.
    let plain = matches!(
        (t, i),
        (SetType::HashIpPortIp, 2) | (SetType::BitmapIpMac, 0)
    );
    let host = if family == Family::Inet6 {
        "/128"
    } else {
        "/32"
    };
    if plain && (split_range(part).is_some() || (part.contains('/') && !part.ends_with(host))) {
        return Err(format!(
            "Syntax error: plain IP address must be supplied: {part}"
        ));
    }
    // A host network where ipset wants one address parses (and is
    // refused later by check_allowed); the library takes the address.
    let given = part;
    let part = match part.strip_suffix(host) {
        Some(addr) if plain || (family == Family::Inet6 && dim == Dim::Ip) => addr,
        _ => part,
    };
    let stripped = || (part.len() != given.len()).then(|| part.to_owned());
    let range = split_range(part);
    // IPv6 takes no ranges, and networks only in net dimensions: the
    // library refuses those forms in ipset's words before any lookup.
    let v6_form =
        family == Family::Inet6 && ((dim == Dim::Ip && part.contains('/')) || range.is_some());
    if v6_form {
        return Ok(stripped());
    }
    // A dash at an end is no range to ipset: the whole text is looked
    // up, and fails.
    if range.is_some_and(|(a, b)| a.is_empty() || b.is_empty()) {
        return Err(format!(
            "Syntax error: cannot parse {part}: resolving to IPv4 address failed"
        ));
    }
    let range = range.filter(|_| family == Family::Inet);
    let rewritten = if let Some((a, cidr)) = part.split_once('/') {
        piece(family, a, quiet)?.map(|a| format!("{a}/{cidr}"))
    } else if let Some((a, b)) = range {
        match (piece(family, a, quiet)?, piece(family, b, quiet)?) {
            (None, None) => None,
            (x, y) => Some(format!(
                "{}-{}",
                x.as_deref().unwrap_or(a),
                y.as_deref().unwrap_or(b)
            )),
        }
    } else {
        piece(family, part, quiet)?
    };
    Ok(rewritten.or_else(stripped))
}

/// `elem_separator`: the first `,` outside brackets that has something
/// on both sides.
fn elem_separator(s: &str) -> Option<usize> {
    let i = top_comma(s).unwrap_or(s.len());
    (i > 0 && i + 1 < s.len()).then_some(i)
}

/// `ipset_parse_elem`'s count of the element's parts against the type's.
fn check_separators(t: SetType, text: &str) -> Result<(), String> {
    let dims = t.dims().len();
    // bitmap:ip,mac learns the MAC from the first packet.
    let optional = t == SetType::BitmapIpMac;
    let a = elem_separator(text).map(|i| &text[i + 1..]);
    let fail = |m: String| Err(format!("Syntax error: {m}"));
    match (dims, a) {
        (1, Some(_)) => {
            return fail(format!(
                "Elem separator in {text}, but settype {t} supports none."
            ))
        }
        (2.., None) if !optional => return fail(format!("Second element is missing from {text}.")),
        _ => {}
    }
    let b = a.and_then(|a| elem_separator(a).map(|i| &a[i + 1..]));
    match (dims, b) {
        (3, None) if a.is_some() => fail(format!("Third element is missing from {text}.")),
        (2, Some(_)) => fail(format!(
            "Two elem separators in {text}, but settype {t} supports one."
        )),
        (_, Some(b)) if elem_separator(b).is_some() => fail(format!(
            "Three elem separators in {text}, but settype {t} supports two."
        )),
        _ => Ok(()),
    }
}

/// The ranges and networks an element gives, as ipset's data flags
/// (`enum ipset_opt` values), in the order `check_allowed` walks them.
const IPSET_OPT_IP_TO: u8 = 5;
const IPSET_OPT_CIDR: u8 = 6;
const IPSET_OPT_PORT_TO: u8 = 9;
const IPSET_OPT_CIDR2: u8 = 28;
const IPSET_OPT_IP2_TO: u8 = 29;

/// What each type's newest revision allows in add/del and in test (the
/// `.full` flags of `lib/ipset_*.c`) among the flags above.
fn allowed(t: SetType, test: bool) -> &'static [u8] {
    const IP_RANGE: &[u8] = &[IPSET_OPT_IP_TO];
    match (t, test) {
        (SetType::HashIp | SetType::HashIpMark, _) | (SetType::BitmapIp, false) => IP_RANGE,
        (SetType::HashIpPort | SetType::HashIpPortIp, false) => {
            &[IPSET_OPT_IP_TO, IPSET_OPT_PORT_TO]
        }
        (SetType::HashIpPortNet, false) => &[
            IPSET_OPT_IP_TO,
            IPSET_OPT_PORT_TO,
            IPSET_OPT_CIDR2,
            IPSET_OPT_IP2_TO,
        ],
        (SetType::HashIpPortNet, true) => &[IPSET_OPT_CIDR2],
        (SetType::HashNet | SetType::HashNetIface, false) => &[IPSET_OPT_CIDR, IPSET_OPT_IP_TO],
        (SetType::HashNet | SetType::HashNetIface, true) => &[IPSET_OPT_CIDR],
        (SetType::HashNetNet, false) => &[
            IPSET_OPT_CIDR,
            IPSET_OPT_IP_TO,
            IPSET_OPT_CIDR2,
            IPSET_OPT_IP2_TO,
        ],
        (SetType::HashNetNet, true) => &[IPSET_OPT_CIDR, IPSET_OPT_CIDR2],
        (SetType::HashNetPort, false) => &[IPSET_OPT_CIDR, IPSET_OPT_IP_TO, IPSET_OPT_PORT_TO],
        (SetType::HashNetPort, true) => &[IPSET_OPT_CIDR],
        (SetType::HashNetPortNet, false) => &[
            IPSET_OPT_CIDR,
            IPSET_OPT_IP_TO,
            IPSET_OPT_PORT_TO,
            IPSET_OPT_CIDR2,
            IPSET_OPT_IP2_TO,
        ],
        (SetType::HashNetPortNet, true) => &[IPSET_OPT_CIDR, IPSET_OPT_CIDR2],
        (SetType::BitmapPort, false) => &[IPSET_OPT_PORT_TO],
        _ => &[],
    }
}

/// `check_allowed` of `lib/ipset.c` for an element: a network or range
/// where the type and command take none is refused, in ipset's words.
pub(crate) fn check_allowed(cmd: Cmd, t: SetType, family: Family, elem: &str) -> Result<(), Fail> {
    let dims = t.dims();
    // Flags as bits (all are below 32): no vectors for a check that runs
    // on every line of a restore.
    let bit = |f: u8| 1u32 << f;
    let mut given = 0u32;
    let mut first_addr = true;
    for (dim, part) in dims.iter().zip(split_parts(elem, dims.len())) {
        match dim {
            Dim::Ip | Dim::Net => {
                let range = family != Family::Inet6
                    && split_range(part).is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
                let (cidr, to) = if first_addr {
                    (IPSET_OPT_CIDR, IPSET_OPT_IP_TO)
                } else {
                    (IPSET_OPT_CIDR2, IPSET_OPT_IP2_TO)
                };
                // IPSET_OPT_IP2_TO is no ADT flag: ipset never checks it.
                if part.contains('/') {
                    given |= bit(cidr);
                } else if range && first_addr {
                    given |= bit(to);
                }
                first_addr = false;
            }
            Dim::Port if split_range(part.rsplit(':').next().unwrap_or(part)).is_some() => {
                given |= bit(IPSET_OPT_PORT_TO)
            }
            _ => {}
        }
    }
    let mut ok = allowed(t, cmd == Cmd::Test)
        .iter()
        .fold(0, |m, &f| m | bit(f));
    if ok & bit(IPSET_OPT_IP_TO) != 0 {
        ok |= bit(IPSET_OPT_CIDR);
    }
    // ipset walks the flags in ascending order: the lowest refused one
    // is reported.
    let refused = given & !ok;
    if refused == 0 {
        return Ok(());
    }
    let bad = refused.trailing_zeros() as u8;
    let what = match bad {
        IPSET_OPT_CIDR => "IP/CIDR range",
        IPSET_OPT_IP_TO => "FROM-TO IP range",
        IPSET_OPT_PORT_TO => "FROM-TO port range",
        n => {
            return Err(Fail::Plain(format!(
                "There are not allowed options ({n}) but can't resolve them. It's a bug, please report the problem."
            )))
        }
    };
    // The session's family: set by an address parser, else none.
    let family = if !dims.iter().any(|d| matches!(d, Dim::Ip | Dim::Net)) {
        "unspec"
    } else if family == Family::Inet6 {
        "inet6"
    } else {
        "inet"
    };
    Err(Fail::Plain(format!(
        "{what} is not allowed in command {} with set type {t} and family {family}",
        cmd.name()
    )))
}

/// A bitmap:port element or range, `[tcp:|udp:]PORT[-PORT]` with port
/// numbers or service names (`ipset_parse_tcp_udp_port`), as numbers.
pub(crate) fn tcp_udp_ports(s: &str) -> Result<(u16, Option<u16>), String> {
    let (proto, ports) = match s.split_once(':') {
        Some((p, rest)) if !rest.is_empty() => {
            if p != "tcp" && p != "udp" {
                return Err(if kipvs::ipset::proto::proto_by_name(p).is_some() {
                    "Syntax error: Only protocols TCP and UDP are valid".to_owned()
                } else {
                    format!("Syntax error: cannot parse '{p}' as a protocol")
                });
            }
            (p, rest)
        }
        _ => ("tcp", s),
    };
    let port = |p: &str| -> Result<u16, String> {
        match super::create::number(p, 0, 65535) {
            Ok(v) => Ok(v as u16),
            Err(first) => {
                let name = p
                    .strip_prefix('[')
                    .and_then(|x| x.strip_suffix(']'))
                    .unwrap_or(p);
                service_port(name, proto).ok_or_else(|| {
                    format!(
                        "Syntax error: {first}\nSyntax error: '{proto}' is invalid as number\ncannot parse '{p}' as a {proto} port"
                    )
                })
            }
        }
    };
    match split_range(ports) {
        Some((a, b)) => Ok((port(a)?, Some(port(b)?))),
        None => Ok((port(ports)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_keep_numeric_parts_and_resolve_names() {
        let t = SetType::HashIpPort;
        assert_eq!(
            resolve_elem(t, Family::Inet, "1.2.3.4,tcp:80", true).unwrap(),
            "1.2.3.4,tcp:80"
        );
        assert_eq!(
            resolve_elem(t, Family::Inet, "localhost,80", true).unwrap(),
            "127.0.0.1,80"
        );
        // Numeric elements are not copied; a changed part after unchanged
        // ones keeps them, and a host network where one address goes
        // loses its suffix.
        assert!(matches!(
            resolve_elem(t, Family::Inet, "1.2.3.4,tcp:80", true).unwrap(),
            Cow::Borrowed(_)
        ));
        let t3 = SetType::HashIpPortIp;
        assert_eq!(
            resolve_elem(t3, Family::Inet, "1.2.3.4,80,localhost", true).unwrap(),
            "1.2.3.4,80,127.0.0.1"
        );
        assert_eq!(
            resolve_elem(t3, Family::Inet, "localhost,udp:53,1.2.3.4/32", true).unwrap(),
            "127.0.0.1,udp:53,1.2.3.4"
        );
        assert_eq!(
            resolve_elem(SetType::HashIp, Family::Inet, "10.0.0.1-localhost", true).unwrap(),
            "10.0.0.1-127.0.0.1"
        );
        // glibc reads the loose IPv4 forms that inet_aton takes.
        assert_eq!(
            resolve_elem(SetType::HashIp, Family::Inet, "127.1", true).unwrap(),
            "127.0.0.1"
        );
        assert_eq!(split_range("[a-b]-c"), Some(("[a-b]", "c")));
        assert_eq!(
            split_parts("[a,b],80", 2).collect::<Vec<_>>(),
            ["[a,b]", "80"]
        );
        assert_eq!(split_parts("a,b,c", 2).collect::<Vec<_>>(), ["a", "b,c"]);
        assert_eq!(split_parts("a,b", 0).collect::<Vec<_>>(), ["a,b"]);
        assert_eq!(split_parts("", 3).collect::<Vec<_>>(), [""]);
        assert_eq!(
            split_parts("a],b,[c,d]", 3).collect::<Vec<_>>(),
            ["a],b,[c", "d]"]
        );
    }
}
