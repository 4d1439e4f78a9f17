//! Name and address conversions through the C library, as ipvsadm makes
//! them: `inet_aton` (which takes `10.1`, `0x0a.0.0.1`, octal...),
//! `inet_pton`, `gethostbyname`/`gethostbyaddr` and
//! `getservbyname`/`getservbyport` (so `/etc/hosts`, DNS and
//! `/etc/services` answer through NSS exactly as they do for ipvsadm), and
//! `strerror` for the kernel's errno values.
#![allow(unsafe_code)]

use std::{
    ffi::{CStr, CString},
    net::{Ipv4Addr, Ipv6Addr},
};

use super::bytes::{from_bytes, to_bytes};

/// The C string a front-end string stands for (`None` with a NUL inside,
/// which no C string has).
fn c_string(s: &str) -> Option<CString> {
    CString::new(to_bytes(s).into_owned()).ok()
}

// glibc functions the libc crate does not declare for Linux.
mod sys {
    extern "C" {
        pub fn inet_aton(cp: *const libc::c_char, inp: *mut libc::in_addr) -> libc::c_int;
        pub fn inet_pton(
            af: libc::c_int,
            src: *const libc::c_char,
            dst: *mut libc::c_void,
        ) -> libc::c_int;
        pub fn inet_ntop(
            af: libc::c_int,
            src: *const libc::c_void,
            dst: *mut libc::c_char,
            size: libc::socklen_t,
        ) -> *const libc::c_char;
        pub fn gethostbyname(name: *const libc::c_char) -> *mut libc::hostent;
        pub fn gethostbyaddr(
            addr: *const libc::c_void,
            len: libc::socklen_t,
            family: libc::c_int,
        ) -> *mut libc::hostent;
    }
}

/// `inet_aton`: the permissive IPv4 parser ipvsadm uses for addresses and masks.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    // A plain dotted quad (what Rust's parser takes: four decimal octets,
    // no leading zeros) means the same to glibc; other forms (`10.1`,
    // octal `010.0.0.1`, hex) only glibc knows. A restore file has tens of
    // thousands of addresses, and the C string and the call cost more
    // than the rest of the line's parsing.
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(a);
    }
    let c = c_string(s)?;
    let mut out = libc::in_addr { s_addr: 0 };
    // SAFETY: `c` is a NUL-terminated string and `out` a valid in_addr.
    let ok = unsafe { sys::inet_aton(c.as_ptr(), &mut out) };
    (ok != 0).then(|| Ipv4Addr::from(u32::from_be(out.s_addr)))
}

/// `inet_pton(AF_INET, ...)`: a strict dotted quad.
pub fn inet_pton4(s: &str) -> Option<Ipv4Addr> {
    // As in `inet_aton`: a plain dotted quad is glibc's answer too.
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(a);
    }
    let c = c_string(s)?;
    let mut out = [0u8; 4];
    // SAFETY: `c` is NUL-terminated; `out` has room for a struct in_addr.
    let ok = unsafe { sys::inet_pton(libc::AF_INET, c.as_ptr(), out.as_mut_ptr().cast()) };
    (ok > 0).then(|| Ipv4Addr::from(out))
}

/// `inet_pton(AF_INET6, ...)`.
pub fn inet_pton6(s: &str) -> Option<Ipv6Addr> {
    // Every IPv6 text form has a colon; most words asked about are IPv4.
    if !s.contains(':') {
        return None;
    }
    let c = c_string(s)?;
    let mut out = [0u8; 16];
    // SAFETY: `c` is NUL-terminated; `out` has room for a struct in6_addr.
    let ok = unsafe { sys::inet_pton(libc::AF_INET6, c.as_ptr(), out.as_mut_ptr().cast()) };
    (ok > 0).then(|| Ipv6Addr::from(out))
}

/// `inet_ntop`: glibc's text form (`::1.2.3.4` for IPv4-compatible IPv6
/// addresses, where Rust's `Display` differs).
pub fn ntop(addr: std::net::IpAddr) -> String {
    // Dotted quads print alike everywhere; only IPv6 needs glibc's own
    // choices (where to put `::`, embedded IPv4 forms).
    let octets = match addr {
        std::net::IpAddr::V4(a) => return a.to_string(),
        std::net::IpAddr::V6(a) => a.octets(),
    };
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: `octets` is a struct in6_addr and `buf` is larger than
    // INET6_ADDRSTRLEN.
    unsafe {
        let p = sys::inet_ntop(
            libc::AF_INET6,
            octets.as_ptr().cast(),
            buf.as_mut_ptr(),
            buf.len() as libc::socklen_t,
        );
        if p.is_null() {
            return addr.to_string();
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// ipvsadm's `host_to_addr`: `gethostbyname`, IPv4 answers only, first address.
pub fn host_to_addr(name: &str) -> Option<Ipv4Addr> {
    let c = c_string(name)?;
    // SAFETY: `c` is NUL-terminated. The result points into libc's static
    // storage, read before any other netdb call.
    unsafe {
        let h = sys::gethostbyname(c.as_ptr());
        if h.is_null() || (*h).h_addrtype != libc::AF_INET || (*h).h_length != 4 {
            return None;
        }
        let first = *(*h).h_addr_list;
        if first.is_null() {
            return None;
        }
        let mut b = [0u8; 4];
        std::ptr::copy_nonoverlapping(first.cast::<u8>(), b.as_mut_ptr(), 4);
        Some(Ipv4Addr::from(b))
    }
}

/// ipvsadm's `addr_to_host`: `gethostbyaddr`, the official name.
pub fn addr_to_host(addr: std::net::IpAddr) -> Option<String> {
    let (bytes, af): (Vec<u8>, i32) = match addr {
        std::net::IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
        std::net::IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
    };
    // SAFETY: `bytes` holds an address of the length passed. The result
    // points into libc's static storage and is copied at once.
    unsafe {
        let h = sys::gethostbyaddr(bytes.as_ptr().cast(), bytes.len() as libc::socklen_t, af);
        if h.is_null() || (*h).h_name.is_null() {
            return None;
        }
        Some(from_bytes(CStr::from_ptr((*h).h_name).to_bytes()))
    }
}

fn proto_name(proto: u16) -> Option<&'static CStr> {
    match proto {
        6 => Some(c"tcp"),
        17 => Some(c"udp"),
        132 => Some(c"sctp"),
        _ => None,
    }
}

/// ipvsadm's `service_to_port`: `getservbyname` for the service's protocol.
pub fn service_to_port(name: &str, proto: u16) -> Option<u16> {
    let p = proto_name(proto)?;
    let c = c_string(name)?;
    // SAFETY: both strings are NUL-terminated; the result is read at once.
    unsafe {
        let s = libc::getservbyname(c.as_ptr(), p.as_ptr());
        if s.is_null() {
            return None;
        }
        Some(u16::from_be((*s).s_port as u16))
    }
}

/// ipvsadm's `port_to_service`: `getservbyport` for the service's protocol.
pub fn port_to_service(port: u16, proto: u16) -> Option<String> {
    let p = proto_name(proto)?;
    // SAFETY: `p` is NUL-terminated; the result is copied at once.
    unsafe {
        let s = libc::getservbyport(i32::from(port.to_be()), p.as_ptr());
        if s.is_null() || (*s).s_name.is_null() {
            return None;
        }
        Some(from_bytes(CStr::from_ptr((*s).s_name).to_bytes()))
    }
}

/// `strerror(errno)`.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated message that
    // stays valid until the next call; it is copied at once.
    unsafe {
        let p = libc::strerror(errno);
        if p.is_null() {
            return format!("Unknown error {errno}");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_is_permissive_like_ipvsadm() {
        assert_eq!(inet_aton("1.2.3"), Some(Ipv4Addr::new(1, 2, 0, 3)));
        assert_eq!(inet_aton("10"), Some(Ipv4Addr::new(0, 0, 0, 10)));
        assert_eq!(inet_aton("0x0a.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_pton4("1.2.3"), None);
        assert_eq!(
            inet_pton6("2001:db8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn services_come_from_etc_services() {
        if std::fs::read_to_string("/etc/services").is_ok_and(|s| s.contains("\nhttp\t")) {
            assert_eq!(service_to_port("http", 6), Some(80));
            assert_eq!(port_to_service(80, 6).as_deref(), Some("http"));
        }
        assert_eq!(service_to_port("http", 1), None);
        assert_eq!(strerror(libc::ENOENT), "No such file or directory");
    }
}
