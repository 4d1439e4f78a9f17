//! The JSON state document of `kipvs dump`, `kipvs plan` and `kipvs apply`
//! (`docs/state.md`, `docs/state.schema.json`).
//!
//! Reading walks the JSON itself rather than deriving: every bad value is
//! named by its path (`services[3].destinations[1].addr`), and all of them
//! are reported at once, before anything is sent.

mod reader;

use kipvs_ipvs::{Destination, ForwardMethod, Protocol, ServiceFlags, ServiceKey, TunnelType};
use serde_json::{json, Map, Value};

use crate::{Desired, DesiredService, DesiredSet, Draining, Plan, Problem, Problems, Report};

/// The document format version this library writes and reads.
pub const VERSION: u64 = 1;

/// Parses and validates a state document.
pub fn parse(text: &str) -> Result<Desired, Problems> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        Problems(vec![Problem::new(
            "",
            format!("not JSON (line {} column {}): {e}", e.line(), e.column()),
        )])
    })?;
    from_value(&v)
}

/// Reads and validates a state document already parsed as JSON.
pub fn from_value(v: &Value) -> Result<Desired, Problems> {
    let mut r = reader::Reader::default();
    let d = r.document(v);
    if r.problems.is_empty() {
        d.validate()?;
        Ok(d)
    } else {
        Err(Problems(r.problems))
    }
}

/// The document of a state, as `kipvs dump` writes it.
pub fn to_value(d: &Desired) -> Value {
    let mut m = Map::new();
    m.insert("version".into(), json!(VERSION));
    if let Some(services) = &d.services {
        m.insert(
            "services".into(),
            services.iter().map(service_value).collect(),
        );
    }
    if let Some(sets) = &d.ipsets {
        m.insert("ipsets".into(), sets.iter().map(set_value).collect());
    }
    if let Some(a) = &d.addresses {
        m.insert(
            "addresses".into(),
            json!({
                "interface": a.interface.as_str(),
                "addresses": a.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
        );
    }
    if !d.scope.is_empty() {
        m.insert(
            "scope".into(),
            json!({
                "set_prefixes": d.scope.set_prefixes,
                "cidrs": d.scope.cidrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "fwmarks": d.scope.fwmarks.iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>(),
            }),
        );
    }
    Value::Object(m)
}

/// A plan for machines: each change with its action, object, detail and
/// element count, and the real servers left draining.
pub fn plan_value(p: &Plan) -> Value {
    json!({
        "pending": !p.is_empty(),
        "changes": p.changes.iter().map(change_value).collect::<Vec<_>>(),
        "draining": p.draining.iter().map(draining_value).collect::<Vec<_>>(),
    })
}

/// A report for machines: what was applied, what failed (with the
/// kernel's words) and what was skipped.
pub fn report_value(r: &Report) -> Value {
    json!({
        "complete": r.is_complete(),
        "applied": r.applied.iter().map(change_value).collect::<Vec<_>>(),
        "failed": r.failed.iter().map(|f| {
            let mut v = change_value(&f.change);
            v["error"] = json!(f.error.to_string());
            if let Some(k) = f.error.kernel() {
                v["errno"] = json!(k.errno);
            }
            v
        }).collect::<Vec<_>>(),
        "skipped": r.skipped.iter().map(|s| {
            let mut v = change_value(&s.change);
            v["reason"] = json!(s.reason);
            v
        }).collect::<Vec<_>>(),
        "draining": r.draining.iter().map(draining_value).collect::<Vec<_>>(),
    })
}

fn change_value(c: &crate::Change) -> Value {
    json!({
        "action": c.action(),
        "object": c.object(),
        "detail": c.detail(),
        "count": c.count(),
    })
}

fn draining_value(d: &Draining) -> Value {
    json!({
        "service": d.service.to_string(),
        "addr": d.addr.to_string(),
        "port": d.port,
        "active_conns": d.active_conns,
        "inactive_conns": d.inactive_conns,
        "seconds_left": d.left.as_secs(),
    })
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

fn forward_name(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masq => "masq",
        ForwardMethod::Local => "local",
        ForwardMethod::Tunnel => "tunnel",
        ForwardMethod::DirectRoute => "route",
    }
}

/// Service flags by name: ipvsadm's names where the scheduler gives the
/// bit a meaning (`sh-port`), the bit's own name otherwise.
const FLAG_NAMES: &[(u32, &str)] = &[
    (ServiceFlags::ONEPACKET, "onepacket"),
    (ServiceFlags::SCHED1, "sched1"),
    (ServiceFlags::SCHED2, "sched2"),
    (ServiceFlags::SCHED3, "sched3"),
];

fn flag_name(bit: u32, scheduler: &str) -> &'static str {
    match (bit, scheduler) {
        (ServiceFlags::SCHED1, "sh") => "sh-fallback",
        (ServiceFlags::SCHED2, "sh") => "sh-port",
        (ServiceFlags::SCHED1, "mh") => "mh-fallback",
        (ServiceFlags::SCHED2, "mh") => "mh-port",
        _ => FLAG_NAMES
            .iter()
            .find(|(b, _)| *b == bit)
            .map_or("?", |(_, n)| n),
    }
}

fn flag_bit(name: &str) -> Option<u32> {
    match name {
        "sh-fallback" | "mh-fallback" => Some(ServiceFlags::SCHED1),
        "sh-port" | "mh-port" => Some(ServiceFlags::SCHED2),
        _ => FLAG_NAMES.iter().find(|(_, n)| *n == name).map(|(b, _)| *b),
    }
}

fn service_value(s: &DesiredService) -> Value {
    let svc = &s.service;
    let mut m = Map::new();
    match svc.key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            m.insert("protocol".into(), json!(protocol_name(protocol)));
            m.insert("addr".into(), json!(addr.to_string()));
            m.insert("port".into(), json!(port));
        }
        ServiceKey::Fwmark { mark, ipv6 } => {
            m.insert("fwmark".into(), json!(mark));
            m.insert("family".into(), json!(if ipv6 { "inet6" } else { "inet" }));
        }
    }
    m.insert("scheduler".into(), json!(svc.scheduler.as_str()));
    if svc.flags.has(ServiceFlags::PERSISTENT) {
        m.insert("persistence".into(), json!(svc.timeout));
    }
    let prefix = if svc.key.is_ipv6() {
        svc.netmask
    } else {
        svc.netmask.count_ones()
    };
    if prefix != if svc.key.is_ipv6() { 128 } else { 32 } {
        m.insert("netmask".into(), json!(prefix));
    }
    let flags: Vec<&str> = FLAG_NAMES
        .iter()
        .filter(|(b, _)| svc.flags.has(*b))
        .map(|(b, _)| flag_name(*b, svc.scheduler.as_str()))
        .collect();
    if !flags.is_empty() {
        m.insert("flags".into(), json!(flags));
    }
    if let Some(pe) = &svc.pe_name {
        m.insert("pe".into(), json!(pe));
    }
    m.insert(
        "destinations".into(),
        s.destinations.iter().map(dest_value).collect(),
    );
    Value::Object(m)
}

fn dest_value(d: &Destination) -> Value {
    let mut m = Map::new();
    m.insert("addr".into(), json!(d.addr.to_string()));
    m.insert("port".into(), json!(d.port));
    m.insert("forward".into(), json!(forward_name(d.forward)));
    m.insert("weight".into(), json!(d.weight));
    if d.upper_threshold != 0 {
        m.insert("upper_threshold".into(), json!(d.upper_threshold));
    }
    if d.lower_threshold != 0 {
        m.insert("lower_threshold".into(), json!(d.lower_threshold));
    }
    if d.forward == ForwardMethod::Tunnel {
        let mut t = Map::new();
        let kind = match d.tunnel_type {
            TunnelType::Ipip => "ipip",
            TunnelType::Gue => "gue",
            TunnelType::Gre => "gre",
        };
        t.insert("type".into(), json!(kind));
        if d.tunnel_port != 0 {
            t.insert("port".into(), json!(d.tunnel_port));
        }
        let mut flags = Vec::new();
        if d.tunnel_flags & 1 != 0 {
            flags.push("csum");
        }
        if d.tunnel_flags & 2 != 0 {
            flags.push("remcsum");
        }
        if !flags.is_empty() {
            t.insert("flags".into(), json!(flags));
        }
        m.insert("tunnel".into(), Value::Object(t));
    }
    Value::Object(m)
}

fn set_value(s: &DesiredSet) -> Value {
    let probe = kipvs_ipset::Set {
        name: s.name.clone(),
        set_type: s.set_type,
        revision: 0,
        family: s.options.family_for(s.set_type),
        options: s.options.clone(),
        memsize: 0,
        references: 0,
        elements: 0,
        entries: Vec::new(),
    };
    let mut options = Map::new();
    for (k, v) in probe.header_fields() {
        // The seed is the kernel's own; a copy would not be a better one.
        if k == "initval" {
            continue;
        }
        let v = match v {
            None => json!(true),
            Some(v) => v.parse::<u64>().map_or(json!(v), |n| json!(n)),
        };
        options.insert(k.into(), v);
    }
    let entries: Vec<Value> = s
        .entries
        .iter()
        .map(|e| {
            let elem = e.elem_text(s.set_type);
            let mut o = Map::new();
            for (k, v) in e.option_fields() {
                // Counters and time left run on their own.
                if matches!(k, "packets" | "bytes" | "timeout") {
                    continue;
                }
                let v = match v {
                    None => json!(true),
                    Some(v) if k == "comment" => json!(v.trim_matches('"')),
                    Some(v) => json!(v),
                };
                o.insert(k.into(), v);
            }
            if o.is_empty() {
                json!(elem)
            } else {
                o.insert("elem".into(), json!(elem));
                Value::Object(o)
            }
        })
        .collect();
    json!({
        "name": s.name.as_str(),
        "type": s.set_type.name(),
        "options": options,
        "entries": entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
      "version": 1,
      "services": [
        {"protocol": "tcp", "addr": "10.96.0.1", "port": 443, "scheduler": "rr",
         "destinations": [{"addr": "10.244.1.5", "port": 6443, "weight": 1}]},
        {"protocol": "udp", "addr": "fd00::a", "port": 53, "scheduler": "sh",
         "flags": ["sh-port"], "persistence": 60, "netmask": 64,
         "destinations": [{"addr": "fd00:1::5", "port": 53, "forward": "route", "weight": 2,
                           "upper_threshold": 100, "lower_threshold": 10}]},
        {"fwmark": 100, "scheduler": "wlc",
         "destinations": [{"addr": "192.0.2.1", "port": 0, "forward": "tunnel",
                           "tunnel": {"type": "gue", "port": 6080, "flags": ["csum"]}}]}
      ],
      "ipsets": [
        {"name": "KUBE-CLUSTER-IP", "type": "hash:ip,port",
         "options": {"family": "inet", "hashsize": 1024, "maxelem": 65536},
         "entries": ["10.96.0.1,tcp:443", {"elem": "10.96.0.10,udp:53", "comment": "dns"}]},
        {"name": "KUBE-NODE-PORT-TCP", "type": "bitmap:port", "options": {"range": "0-65535"},
         "entries": ["30080"]}
      ],
      "addresses": {"interface": "kube-ipvs0", "addresses": ["10.96.0.1/32", "fd00::a/128"]},
      "scope": {"set_prefixes": ["KUBE-"], "cidrs": ["10.96.0.0/12", "fd00::/108"], "fwmarks": ["100-199"]}
    }"#;

    #[test]
    fn a_document_reads_and_writes_back_the_same() {
        let d = parse(DOC).unwrap();
        let services = d.services.as_ref().unwrap();
        assert_eq!(services.len(), 3);
        assert_eq!(services[1].service.netmask, 64);
        assert!(services[1].service.flags.has(ServiceFlags::SCHED2));
        assert_eq!(services[2].destinations[0].tunnel_port, 6080);
        let sets = d.ipsets.as_ref().unwrap();
        assert_eq!(sets[0].entries[1].comment.as_deref(), Some("dns"));
        let again = parse(&to_value(&d).to_string()).unwrap();
        assert_eq!(again, d);
        assert_eq!(to_value(&again), to_value(&d));
    }

    fn problems(doc: &str) -> Vec<String> {
        parse(doc)
            .unwrap_err()
            .0
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn bad_values_are_named_by_their_path() {
        let doc = r#"{"services": [
            {"protocol": "tcp", "addr": "10.96.0.1", "port": 80, "scheduler": "rr"},
            {"protocol": "tcp", "addr": "10.96.0.2", "port": 80, "scheduler": "rr",
             "destinations": [{"addr": "10.0.0.1", "port": 80}, {"addr": "10.0.0.256", "port": 80}]}
        ]}"#;
        assert_eq!(
            problems(doc),
            ["services[1].destinations[1].addr: \"10.0.0.256\" is not an IPv4 or IPv6 address"]
        );
        let doc = r#"{"services": [{"protocol": "tcp", "addr": "10.96.0.1", "port": 80, "scheduler": "bogus"}]}"#;
        assert!(problems(doc)[0].starts_with("services[0].scheduler: unknown scheduler \"bogus\""));
        let doc = r#"{"services": [{"protocol": "tcp", "addr": "10.96.0.1", "port": 80, "weight": 1}],
                      "addresses": {"addresses": ["10.96.0.300"]},
                      "ipsets": [{"name": "S", "type": "hash:ip", "entries": ["10.0.0.1", "nope"]}]}"#;
        let got = problems(doc);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[0].starts_with("services[0].weight: unknown field"),
            "{got:?}"
        );
        assert!(got[1].starts_with("ipsets[0].entries[1]: "), "{got:?}");
        assert!(got[2].starts_with("addresses.addresses[0]: "), "{got:?}");
        assert!(problems("{\"services\": [}")[0].starts_with("not JSON (line 1 column"));
    }
}
