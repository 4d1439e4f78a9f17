//! Protocol, service and ICMP names, as ipset reads and prints them.

use std::{collections::HashMap, sync::OnceLock};

/// `IPPROTO_ICMP`.
pub const IPPROTO_ICMP: u8 = 1;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u8 = 17;
/// `IPPROTO_ICMPV6`.
pub const IPPROTO_ICMPV6: u8 = 58;
/// `IPPROTO_SCTP`.
pub const IPPROTO_SCTP: u8 = 132;
/// `IPPROTO_UDPLITE`.
pub const IPPROTO_UDPLITE: u8 = 136;

/// ipset's ICMP names (`lib/icmp.c`): the first of a type/code wins when
/// printing.
const ICMP: &[(&str, u8, u8)] = &[
    ("echo-reply", 0, 0),
    ("pong", 0, 0),
    ("network-unreachable", 3, 0),
    ("host-unreachable", 3, 1),
    ("protocol-unreachable", 3, 2),
    ("port-unreachable", 3, 3),
    ("fragmentation-needed", 3, 4),
    ("source-route-failed", 3, 5),
    ("network-unknown", 3, 6),
    ("host-unknown", 3, 7),
    ("network-prohibited", 3, 9),
    ("host-prohibited", 3, 10),
    ("TOS-network-unreachable", 3, 11),
    ("TOS-host-unreachable", 3, 12),
    ("communication-prohibited", 3, 13),
    ("host-precedence-violation", 3, 14),
    ("precedence-cutoff", 3, 15),
    ("source-quench", 4, 0),
    ("network-redirect", 5, 0),
    ("host-redirect", 5, 1),
    ("TOS-network-redirect", 5, 2),
    ("TOS-host-redirect", 5, 3),
    ("echo-request", 8, 0),
    ("ping", 8, 0),
    ("router-advertisement", 9, 0),
    ("router-solicitation", 10, 0),
    ("ttl-zero-during-transit", 11, 0),
    ("ttl-zero-during-reassembly", 11, 1),
    ("ip-header-bad", 12, 0),
    ("required-option-missing", 12, 1),
    ("timestamp-request", 13, 0),
    ("timestamp-reply", 14, 0),
    ("address-mask-request", 17, 0),
    ("address-mask-reply", 18, 0),
];

/// ipset's ICMPv6 names (`lib/icmpv6.c`).
const ICMPV6: &[(&str, u8, u8)] = &[
    ("no-route", 1, 0),
    ("communication-prohibited", 1, 1),
    ("address-unreachable", 1, 3),
    ("port-unreachable", 1, 4),
    ("packet-too-big", 2, 0),
    ("ttl-zero-during-transit", 3, 0),
    ("ttl-zero-during-reassembly", 3, 1),
    ("bad-header", 4, 0),
    ("unknown-header-type", 4, 1),
    ("unknown-option", 4, 2),
    ("echo-request", 128, 0),
    ("ping", 128, 0),
    ("echo-reply", 129, 0),
    ("pong", 129, 0),
    ("router-solicitation", 133, 0),
    ("router-advertisement", 134, 0),
    ("neighbour-solicitation", 135, 0),
    ("neigbour-solicitation", 135, 0),
    ("neighbour-advertisement", 136, 0),
    ("neigbour-advertisement", 136, 0),
    ("redirect", 137, 0),
];

fn icmp_table(proto: u8) -> &'static [(&'static str, u8, u8)] {
    if proto == IPPROTO_ICMPV6 {
        ICMPV6
    } else {
        ICMP
    }
}

/// The ICMP(v6) type/code of `name` (prefix matches, as ipset allows).
pub fn icmp_by_name(proto: u8, name: &str) -> Option<(u8, u8)> {
    let table = icmp_table(proto);
    if let Some((_, t, c)) = table.iter().find(|(n, ..)| *n == name) {
        return Some((*t, *c));
    }
    let mut hits = table.iter().filter(|(n, ..)| n.starts_with(name));
    match (hits.next(), hits.next()) {
        (Some((_, t, c)), None) => Some((*t, *c)),
        _ => None,
    }
}

/// ipset's name for an ICMP(v6) type/code.
pub fn icmp_name(proto: u8, typ: u8, code: u8) -> Option<&'static str> {
    icmp_table(proto)
        .iter()
        .find(|(_, t, c)| *t == typ && *c == code)
        .map(|(n, ..)| *n)
}

struct Db {
    by_number: HashMap<u8, String>,
    by_name: HashMap<String, u8>,
}

/// `/etc/protocols`, read once: `getprotobyname`/`getprotobynumber` as
/// glibc's files backend answers them.
fn protocols() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        let text = std::fs::read_to_string("/etc/protocols").unwrap_or_default();
        let mut db = Db {
            by_number: HashMap::new(),
            by_name: HashMap::new(),
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(num)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(num) = num.parse::<u8>() else { continue };
            db.by_number.entry(num).or_insert_with(|| name.to_owned());
            db.by_name.entry(name.to_owned()).or_insert(num);
            for alias in words {
                db.by_name.entry(alias.to_owned()).or_insert(num);
            }
        }
        db
    })
}

/// The protocol's name (`/etc/protocols`), or its number.
pub fn proto_name(proto: u8) -> String {
    protocols()
        .by_number
        .get(&proto)
        .cloned()
        .unwrap_or_else(|| proto.to_string())
}

/// A protocol by name or number; `icmpv6` means 58 as in ipset.
pub fn proto_by_name(name: &str) -> Option<u8> {
    if let Ok(n) = name.parse::<u8>() {
        return Some(n);
    }
    match name {
        "icmpv6" => return Some(IPPROTO_ICMPV6),
        "tcp" => return Some(IPPROTO_TCP),
        "udp" => return Some(IPPROTO_UDP),
        _ => {}
    }
    protocols().by_name.get(name).copied()
}

/// A service port by name (`/etc/services`, `getservbyname(name, proto)`).
pub fn service_port(name: &str, proto: &str) -> Option<u16> {
    static DB: OnceLock<HashMap<(String, String), u16>> = OnceLock::new();
    let db = DB.get_or_init(|| {
        let text = std::fs::read_to_string("/etc/services").unwrap_or_default();
        let mut db = HashMap::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(spec)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = spec.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            for n in std::iter::once(name).chain(words) {
                db.entry((n.to_owned(), proto.to_owned())).or_insert(port);
            }
        }
        db
    });
    db.get(&(name.to_owned(), proto.to_owned())).copied()
}

/// Whether the protocol carries ports (so `proto:port` needs a port).
pub fn has_ports(proto: u8) -> bool {
    matches!(
        proto,
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_UDPLITE
    )
}
