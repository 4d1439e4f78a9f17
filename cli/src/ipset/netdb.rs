//! Host and service names as ipset 7.17 resolves them (`lib/parse.c`,
//! `lib/print.c`): `gethostbyname2` for addresses in elements and options
//! (so `localhost`, `/etc/hosts` names, DNS and glibc's loose IPv4 forms
//! such as `10.1` answer exactly as for ipset), `getnameinfo` for `-resolve`,
//! and `/etc/services` for port names. A name that holds ipset's range
//! separator `-` is escaped in brackets, `[web-1]`, both ways.
#![allow(unsafe_code)]

use std::{
    cell::RefCell,
    ffi::{CStr, CString},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use kipvs::ipset::Family;

// glibc's, which the libc crate does not declare for Linux.
extern "C" {
    fn gethostbyname2(name: *const libc::c_char, af: libc::c_int) -> *mut libc::hostent;
}

/// `gethostbyname2(name, af)`, as ipset 7.17 built with
/// `HAVE_GETHOSTBYNAME2` (Debian's) resolves: the addresses of `family`
/// that `name` has, in the resolver's order. Digits and dots are read as
/// `inet_aton` reads them (`127.1`, octal `010.0.0.1`), anything else as a
/// host name (so `0x7f000001` is no address).
fn lookup(name: &str, family: Family) -> Vec<IpAddr> {
    let Ok(c) = CString::new(name) else {
        return Vec::new();
    };
    let (af, len) = if family == Family::Inet6 {
        (libc::AF_INET6, 16)
    } else {
        (libc::AF_INET, 4)
    };
    // SAFETY: `c` is NUL-terminated; the result points to glibc's static
    // hostent, read at once on this thread and not kept.
    let h = unsafe { gethostbyname2(c.as_ptr(), af) };
    if h.is_null() {
        return Vec::new();
    }
    let mut out = Vec::new();
    // SAFETY: a non-null hostent has a NULL-terminated h_addr_list whose
    // entries point to h_length bytes each; only entries of the length
    // asked for are read.
    unsafe {
        let h = &*h;
        if h.h_addrtype != af || h.h_length != len {
            return out;
        }
        let mut p = h.h_addr_list;
        while !p.is_null() && !(*p).is_null() {
            let bytes = std::slice::from_raw_parts(*p as *const u8, len as usize);
            out.push(if len == 4 {
                IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
            } else {
                let mut a = [0u8; 16];
                a.copy_from_slice(bytes);
                IpAddr::V6(Ipv6Addr::from(a))
            });
            p = p.add(1);
        }
    }
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

thread_local! {
    /// Warnings held back instead of printed, while held.
    static HELD: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Holds back the warnings of name lookups on this thread until
/// [`held_warnings`]: a restore prints a line's only if ipset would have
/// read that far (a refusal in what it had sent before stops it first).
pub(crate) fn hold_warnings() {
    HELD.with(|h| *h.borrow_mut() = Some(Vec::new()));
}

/// The warnings held back since [`hold_warnings`], which ends the hold.
pub(crate) fn held_warnings() -> Vec<String> {
    HELD.with(|h| h.borrow_mut().take().unwrap_or_default())
}

fn warn(message: String) {
    HELD.with(|h| match h.borrow_mut().as_mut() {
        Some(held) => held.push(message),
        None => eprintln!("{message}"),
    });
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
    let addrs = lookup(name, family);
    match addrs.first() {
        Some(first) => {
            if addrs.len() > 1 && !quiet {
                warn(format!(
                    "Warning: {name} resolves to multiple addresses: using only the first one returned by the resolver."
                ));
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
