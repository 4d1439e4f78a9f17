//! ipvsadm's parsers for option values: its `string_to_number` (C's
//! `strtol` with ipvsadm's range checks), timeouts, firewall marks,
//! persistence masks, `host[:port]` service addresses and `-b` scheduler
//! flags, with ipvsadm's messages.

use std::net::IpAddr;

use super::{args::Svc, netdb, table::*, Exit};

/// `fail(2, ...)`: a message and exit status 2, ending the whole program.
pub fn fail(msg: impl Into<String>) -> Exit {
    Exit::fatal(2, msg)
}

/// C's `strtol(s, &end, 10)`: the value (saturated, with the ERANGE flag)
/// and whether the whole string was a number.
fn strtol(s: &str) -> (i64, bool, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut v: i128 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = (v * 10 + i128::from(b[i] - b'0')).min(i128::from(u64::MAX) + 1);
        i += 1;
    }
    if i == start {
        return (0, false, false);
    }
    let v = if neg { -v } else { v };
    let erange = v > i128::from(i64::MAX) || v < i128::from(i64::MIN);
    let v = v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    (v, i == b.len(), erange)
}

/// ipvsadm's `string_to_number`.
pub fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let (v, whole, erange) = strtol(s);
    (whole && !erange && min <= v && v <= max).then_some(v)
}

/// `atoi`.
pub fn atoi(s: &str) -> i32 {
    strtol(s).0 as i32
}

pub fn parse_timeout(buf: Option<&str>, min: i64, max: i64) -> Result<u32, Exit> {
    let Some(buf) = buf else {
        return Ok(IPVS_SVC_PERSISTENT_TIMEOUT);
    };
    string_to_number(buf, min, max)
        .map(|v| v as u32)
        .ok_or_else(|| fail(format!("invalid timeout value `{buf}' specified")))
}

pub fn parse_fwmark(buf: &str) -> Result<u32, Exit> {
    let (v, whole, erange) = strtol(buf);
    if !whole || erange || v <= 0 || v > i64::from(u32::MAX) {
        return Err(fail(format!("invalid fwmark value `{buf}' specified")));
    }
    Ok(v as u32)
}

/// `parse_netmask`: a dotted mask (`inet_aton`) or a host name, in network order.
pub fn parse_netmask(buf: &str) -> Option<u32> {
    let a = netdb::inet_aton(buf).or_else(|| netdb::host_to_addr(buf))?;
    Some(u32::from_be_bytes(a.octets()))
}

pub const SERVICE_ADDR: u8 = 1;
pub const SERVICE_PORT: u8 = 2;

/// `parse_service`: `host[:port]` or `[v6]:port` into `svc`; returns the
/// `SERVICE_*` bits (0 on any error).
pub fn parse_service(buf: &str, svc: &mut Svc) -> u8 {
    if buf.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut host = buf;
    let mut port: Option<&str> = None;
    if let Some(rest) = buf.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return 0;
        };
        let after = &rest[close + 1..];
        let Some(p) = after.strip_prefix(':') else {
            return 0;
        };
        host = &rest[..close];
        port = Some(p);
    }
    if let Some(a6) = netdb::inet_pton6(host) {
        svc.addr = IpAddr::V6(a6);
        svc.af = AF_INET6;
        svc.netmask = 128;
    } else {
        // ipvsadm looks for the port again here, so `[1.2.3.4]:80` loses it.
        port = None;
        if let Some(i) = host.rfind(':') {
            port = Some(&host[i + 1..]);
            host = &host[..i];
        }
        let Some(a4) = netdb::inet_aton(host).or_else(|| netdb::host_to_addr(host)) else {
            return 0;
        };
        svc.addr = IpAddr::V4(a4);
        svc.af = AF_INET;
    }
    let mut result = SERVICE_ADDR;
    if let Some(p) = port {
        result |= SERVICE_PORT;
        match string_to_number(p, 0, 65535) {
            Some(n) => svc.port = n as u16,
            None => match netdb::service_to_port(p, svc.protocol) {
                Some(n) => svc.port = n,
                None => return 0,
            },
        }
    }
    result
}

pub fn parse_sched_flags(sched: &str, arg: &str) -> Result<u32, Exit> {
    let sched = if sched.is_empty() { "wlc" } else { sched };
    let mut flags = 0;
    // strtok: empty fields vanish; for an argument of only commas it
    // returns NULL, which ipvsadm hands to strcmp.
    let fields: Vec<&str> = arg.split(',').filter(|f| !f.is_empty()).collect();
    if fields.is_empty() {
        return Err(Exit::segfault());
    }
    for flag in fields {
        let (bit, needs) = match flag {
            "flag-1" => (IP_VS_SVC_F_SCHED1, None),
            "flag-2" => (IP_VS_SVC_F_SCHED2, None),
            "flag-3" => (IP_VS_SVC_F_SCHED3, None),
            "sh-fallback" => (IP_VS_SVC_F_SCHED1, Some("sh")),
            "sh-port" => (IP_VS_SVC_F_SCHED2, Some("sh")),
            "mh-fallback" => (IP_VS_SVC_F_SCHED1, Some("mh")),
            "mh-port" => (IP_VS_SVC_F_SCHED2, Some("mh")),
            _ => return Err(fail(format!("invalid scheduler flag `{flag}'"))),
        };
        flags |= bit;
        if needs.is_some_and(|n| n != sched) {
            return Err(fail(format!("incompatible scheduler flag `{flag}'")));
        }
    }
    Ok(flags)
}
