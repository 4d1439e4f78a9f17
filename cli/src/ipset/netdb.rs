//! Host and service names as ipset 7.17 resolves them (`lib/parse.c`,
//! `lib/print.c`): `getaddrinfo` for addresses in elements and options (so
//! `localhost`, `/etc/hosts` names, DNS and glibc's loose IPv4 forms such
//! as `10.1` answer exactly as for ipset), `getnameinfo` for `-resolve`,
//! and `/etc/services` for port names. A name that holds ipset's range
//! separator `-` is escaped in brackets, `[web-1]`, both ways.
#![allow(unsafe_code)]

use std::{
    ffi::{CStr, CString},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use kipvs::ipset::{Dim, Family, SetType};

/// `getaddrinfo(name, NULL, {AI_CANONNAME, family, SOCK_RAW})`: the
/// addresses of `family` that `name` resolves to, in the resolver's order.
fn getaddrinfo(name: &str, family: Family) -> Vec<IpAddr> {
    let Ok(c) = CString::new(name) else {
        return Vec::new();
    };
    let af = if family == Family::Inet6 {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    // SAFETY: an all-zero addrinfo is a valid hints value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = af;
    hints.ai_socktype = libc::SOCK_RAW;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `c` is NUL-terminated, `hints` initialised, `res` receives a
    // list that is walked read-only and freed with freeaddrinfo below.
    let err = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if err != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getaddrinfo returned; its
        // ai_addr points to a sockaddr of ai_addrlen bytes, read as the
        // sockaddr type its family and length name.
        unsafe {
            let ai = &*p;
            if ai.ai_family == libc::AF_INET
                && af == libc::AF_INET
                && ai.ai_addrlen as usize == std::mem::size_of::<libc::sockaddr_in>()
            {
                let sa = &*(ai.ai_addr as *const libc::sockaddr_in);
                out.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr))));
            } else if ai.ai_family == libc::AF_INET6
                && af == libc::AF_INET6
                && ai.ai_addrlen as usize == std::mem::size_of::<libc::sockaddr_in6>()
            {
                let sa = &*(ai.ai_addr as *const libc::sockaddr_in6);
                out.push(IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)));
            }
            p = ai.ai_next;
        }
    }
    // SAFETY: `res` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    out
}

/// `getnameinfo(addr, flags 0)`: the host name of `addr`, or its numeric
/// form when it has none.
fn getnameinfo(addr: IpAddr) -> Option<String> {
    let mut host = [0 as libc::c_char; 1025];
    let rc = match addr {
        IpAddr::V4(a) => {
            // SAFETY: an all-zero sockaddr_in is valid; fields set below.
            let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_addr.s_addr = u32::from(a).to_be();
            // SAFETY: `sa` is a sockaddr_in of the length passed; `host`
            // is a buffer of the length passed.
            unsafe {
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    0,
                )
            }
        }
        IpAddr::V6(a) => {
            // SAFETY: an all-zero sockaddr_in6 is valid; fields set below.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_addr.s6_addr = a.octets();
            // SAFETY: as above, for a sockaddr_in6.
            unsafe {
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    0,
                )
            }
        }
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// An address as `-resolve` prints it: its name (bracketed when it holds
/// `-`), else the numeric form the caller already has.
pub(crate) fn host_name(addr: IpAddr, numeric: &str) -> String {
    match getnameinfo(addr) {
        Some(name) if name.contains('-') => format!("[{name}]"),
        Some(name) => name,
        None => numeric.to_owned(),
    }
}

fn strict(family: Family, s: &str) -> Option<IpAddr> {
    if family == Family::Inet6 {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        s.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

fn family_word(family: Family) -> &'static str {
    if family == Family::Inet6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// One address or host name (`[name]` escaped), as `get_addrinfo` reads
/// it: the first address of the family, with ipset's warning when there
/// are more (printed unless `quiet`), or ipset's words.
pub(crate) fn resolve(family: Family, s: &str, quiet: bool) -> Result<IpAddr, String> {
    if let Some(a) = strict(family, s) {
        return Ok(a);
    }
    let name = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    let addrs = getaddrinfo(name, family);
    match addrs.first() {
        Some(first) => {
            if addrs.len() > 1 && !quiet {
                eprintln!(
                    "Warning: {name} resolves to multiple addresses: using only the first one returned by the resolver."
                );
            }
            Ok(*first)
        }
        None => Err(format!(
            "Syntax error: cannot parse {name}: resolving to {} address failed",
            family_word(family)
        )),
    }
}

/// [`resolve`] without the warning (create options).
pub(crate) fn address(family: Family, s: &str) -> Result<IpAddr, String> {
    resolve(family, s, true)
}

/// Splits `a-b` at ipset's range separator: the first `-` outside
/// brackets.
pub(crate) fn split_range(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '-' if depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Splits an element at `,` outside brackets, into at most `n` parts.
fn split_parts(s: &str, n: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 && parts.len() + 1 < n => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The text of an address piece for the library's strict parser: as is
/// when it is numeric or does not resolve (the library then reports it),
/// else the address it resolves to.
fn piece(family: Family, s: &str, quiet: bool) -> Result<String, String> {
    if strict(family, s).is_some() || s.is_empty() {
        return Ok(s.to_owned());
    }
    if family == Family::Inet6 {
        // ipset wants a plain IPv6 address, or a name escaped in brackets.
        if s.contains('-') && !s.starts_with('[') {
            return Ok(s.to_owned());
        }
        if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            if strict(family, inner).is_some() {
                return Ok(s.to_owned());
            }
        }
    }
    resolve(family, s, quiet).map(|a| a.to_string())
}

/// Rewrites the address dimensions of element `text` of a set of `t` so
/// that host names become addresses, as ipset resolves them. The ports'
/// service names are the library's business.
pub(crate) fn resolve_elem(
    t: SetType,
    family: Family,
    text: &str,
    quiet: bool,
) -> Result<String, String> {
    let family = if family == Family::Inet6 {
        Family::Inet6
    } else {
        Family::Inet
    };
    if t == SetType::BitmapPort {
        return tcp_udp_ports(text).map(|(a, b)| match b {
            Some(b) => format!("{a}-{b}"),
            None => a.to_string(),
        });
    }
    let dims = t.dims();
    check_separators(t, text)?;
    let parts = split_parts(text, dims.len());
    let mut out = Vec::with_capacity(parts.len());
    for (i, (dim, part)) in dims.iter().zip(&parts).enumerate() {
        if *dim == Dim::Iface {
            let name = part.strip_prefix("physdev:").unwrap_or(part);
            if name.len() > 15 {
                return Err(format!(
                    "Syntax error: interface name '{name}' is longer than 15 characters"
                ));
            }
        }
        if !matches!(dim, Dim::Ip | Dim::Net) {
            out.push((*part).to_owned());
            continue;
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
        let part = match part.strip_suffix(host) {
            Some(addr) if plain || (family == Family::Inet6 && *dim == Dim::Ip) => addr,
            _ => part,
        };
        let range = split_range(part)
            .filter(|(a, b)| family == Family::Inet && !a.is_empty() && !b.is_empty());
        let rewritten = if let Some((a, cidr)) = part.split_once('/') {
            format!("{}/{cidr}", piece(family, a, quiet)?)
        } else if let Some((a, b)) = range {
            format!("{}-{}", piece(family, a, quiet)?, piece(family, b, quiet)?)
        } else {
            piece(family, part, quiet)?
        };
        out.push(rewritten);
    }
    Ok(out.join(","))
}

/// `elem_separator`: the first `,` outside brackets that has something
/// on both sides.
fn elem_separator(s: &str) -> Option<usize> {
    let i = split_parts(s, 2).first().map(|p| p.len())?;
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
pub(crate) fn check_allowed(
    cmd: super::args::Cmd,
    t: SetType,
    family: Family,
    elem: &str,
) -> Result<(), super::Fail> {
    let dims = t.dims();
    let mut given = Vec::new();
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
                    given.push(cidr);
                } else if range && first_addr {
                    given.push(to);
                }
                first_addr = false;
            }
            Dim::Port if split_range(part.rsplit(':').next().unwrap_or(part)).is_some() => {
                given.push(IPSET_OPT_PORT_TO)
            }
            _ => {}
        }
    }
    let mut ok = allowed(t, cmd == super::args::Cmd::Test).to_vec();
    if ok.contains(&IPSET_OPT_IP_TO) {
        ok.push(IPSET_OPT_CIDR);
    }
    given.sort_unstable();
    let Some(&bad) = given.iter().find(|f| !ok.contains(f)) else {
        return Ok(());
    };
    let what = match bad {
        IPSET_OPT_CIDR => "IP/CIDR range",
        IPSET_OPT_IP_TO => "FROM-TO IP range",
        IPSET_OPT_PORT_TO => "FROM-TO port range",
        n => {
            return Err(super::Fail::Plain(format!(
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
    Err(super::Fail::Plain(format!(
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

/// A port by service name for `proto`, as `getservbyname` finds it.
pub(crate) fn service_port(name: &str, proto: &str) -> Option<u16> {
    kipvs::ipset::proto::service_port(name, proto)
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
        // glibc reads the loose IPv4 forms that inet_aton takes.
        assert_eq!(
            resolve_elem(SetType::HashIp, Family::Inet, "127.1", true).unwrap(),
            "127.0.0.1"
        );
        assert_eq!(split_range("[a-b]-c"), Some(("[a-b]", "c")));
        assert_eq!(split_parts("[a,b],80", 2), vec!["[a,b]", "80"]);
    }
}
