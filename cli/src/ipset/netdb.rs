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

use kipvs::ipset::Family;

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

pub(crate) fn strict(family: Family, s: &str) -> Option<IpAddr> {
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

/// A port by service name for `proto`, as `getservbyname` finds it.
pub(crate) fn service_port(name: &str, proto: &str) -> Option<u16> {
    kipvs::ipset::proto::service_port(name, proto)
}
