//! The JSON state document of `kipvs dump`, `kipvs plan` and `kipvs apply`
//! (`docs/state.md`, `docs/state.schema.json`).
//!
//! Reading walks the JSON itself rather than deriving: every bad value is
//! named by its path (`services[3].destinations[1].addr`), and all of them
//! are reported at once, before anything is sent.

use std::net::IpAddr;

use kipvs_ipset::{CreateOptions, Entry, SetName, SetType};
use kipvs_ipvs::{
    Destination, ForwardMethod, Protocol, Scheduler, Service, ServiceFlags, ServiceKey, TunnelType,
};
use kipvs_link::{Address, IfName};
use serde_json::{json, Map, Value};

use crate::{
    plan::clean_dest, Cidr, Desired, DesiredAddresses, DesiredService, DesiredSet, Draining, Plan,
    Problem, Problems, Report, Scope,
};

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
    let mut r = Reader::default();
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

#[derive(Default)]
struct Reader {
    problems: Vec<Problem>,
}

impl Reader {
    fn bad(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        keys: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(m) = v.as_object() else {
            self.bad(path, "expected an object");
            return None;
        };
        for k in m.keys() {
            if !keys.contains(&k.as_str()) {
                self.bad(
                    join(path, k),
                    format!("unknown field (expected one of {})", keys.join(", ")),
                );
            }
        }
        Some(m)
    }

    fn array<'v>(&mut self, v: &'v Value, path: &str) -> &'v [Value] {
        match v.as_array() {
            Some(a) => a,
            None => {
                self.bad(path, "expected an array");
                &[]
            }
        }
    }

    fn str<'v>(&mut self, m: &'v Map<String, Value>, path: &str, key: &str) -> Option<&'v str> {
        match m.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.bad(join(path, key), "expected a string");
                None
            }
        }
    }

    fn required_str<'v>(
        &mut self,
        m: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v str> {
        let s = self.str(m, path, key);
        if s.is_none() && !m.contains_key(key) {
            self.bad(join(path, key), "missing");
        }
        s
    }

    fn uint(&mut self, m: &Map<String, Value>, path: &str, key: &str, max: u64) -> Option<u64> {
        let v = m.get(key)?;
        match v.as_u64() {
            Some(n) if n <= max => Some(n),
            _ => {
                self.bad(
                    join(path, key),
                    format!("expected an integer from 0 to {max}"),
                );
                None
            }
        }
    }

    fn parsed<T, E: std::fmt::Display>(&mut self, path: String, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(t) => Some(t),
            Err(e) => {
                self.bad(path, e.to_string());
                None
            }
        }
    }

    fn ip(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<IpAddr> {
        let s = self.required_str(m, path, key)?;
        let r = s
            .parse::<IpAddr>()
            .map_err(|_| format!("{s:?} is not an IPv4 or IPv6 address"));
        self.parsed(join(path, key), r)
    }

    fn document(&mut self, v: &Value) -> Desired {
        let mut d = Desired::default();
        let Some(m) = self.object(
            v,
            "",
            &["version", "services", "ipsets", "addresses", "scope"],
        ) else {
            return d;
        };
        if let Some(n) = self.uint(m, "", "version", u64::MAX) {
            if n != VERSION {
                self.bad(
                    "version",
                    format!("version {n} is not known (this is {VERSION})"),
                );
            }
        }
        if let Some(v) = m.get("services") {
            let list = self.array(v, "services");
            d.services = Some(
                list.iter()
                    .enumerate()
                    .filter_map(|(i, s)| self.service(s, &format!("services[{i}]")))
                    .collect(),
            );
        }
        if let Some(v) = m.get("ipsets") {
            let list = self.array(v, "ipsets");
            d.ipsets = Some(
                list.iter()
                    .enumerate()
                    .filter_map(|(i, s)| self.set(s, &format!("ipsets[{i}]")))
                    .collect(),
            );
        }
        if let Some(v) = m.get("addresses") {
            d.addresses = self.addresses(v);
        }
        if let Some(v) = m.get("scope") {
            d.scope = self.scope(v);
        }
        d
    }

    fn service(&mut self, v: &Value, path: &str) -> Option<DesiredService> {
        let m = self.object(
            v,
            path,
            &[
                "protocol",
                "addr",
                "port",
                "fwmark",
                "family",
                "scheduler",
                "persistence",
                "netmask",
                "flags",
                "pe",
                "destinations",
            ],
        )?;
        let key = if m.contains_key("fwmark") {
            for k in ["protocol", "addr", "port"] {
                if m.contains_key(k) {
                    self.bad(
                        join(path, k),
                        "a firewall-mark service has no protocol, address or port",
                    );
                }
            }
            let mark = self.uint(m, path, "fwmark", u32::MAX as u64);
            let ipv6 = match self.str(m, path, "family") {
                None | Some("inet") => false,
                Some("inet6") => true,
                Some(f) => {
                    self.bad(join(path, "family"), format!("{f:?} is not inet or inet6"));
                    false
                }
            };
            ServiceKey::Fwmark {
                mark: mark? as u32,
                ipv6,
            }
        } else {
            let protocol = match self.required_str(m, path, "protocol") {
                Some("tcp") => Some(Protocol::Tcp),
                Some("udp") => Some(Protocol::Udp),
                Some("sctp") => Some(Protocol::Sctp),
                Some(p) => {
                    self.bad(
                        join(path, "protocol"),
                        format!("{p:?} is not tcp, udp or sctp"),
                    );
                    None
                }
                None => None,
            };
            if m.contains_key("family") {
                self.bad(
                    join(path, "family"),
                    "only firewall-mark services have a family (an address has its own)",
                );
            }
            let addr = self.ip(m, path, "addr");
            let port = self.uint(m, path, "port", u16::MAX as u64);
            if !m.contains_key("port") {
                self.bad(join(path, "port"), "missing");
            }
            ServiceKey::Addr {
                protocol: protocol?,
                addr: addr?,
                port: port? as u16,
            }
        };
        let mut svc = Service::new(key);
        if let Some(s) = self.str(m, path, "scheduler") {
            svc.scheduler = self.parsed(join(path, "scheduler"), s.parse::<Scheduler>())?;
        }
        if let Some(t) = self.uint(m, path, "persistence", u32::MAX as u64) {
            svc = svc.persistent(t as u32);
        }
        let max = if key.is_ipv6() { 128 } else { 32 };
        if let Some(n) = self.uint(m, path, "netmask", max) {
            svc.netmask = if key.is_ipv6() {
                n as u32
            } else {
                u32::MAX.checked_shl(32 - n as u32).unwrap_or(0)
            };
        }
        if let Some(v) = m.get("flags") {
            let p = join(path, "flags");
            for (i, f) in self.array(v, &p).iter().enumerate() {
                match f.as_str().and_then(flag_bit) {
                    Some(bit) => svc.flags.0 |= bit,
                    None => self.bad(
                        format!("{p}[{i}]"),
                        "not a service flag (onepacket, sh-fallback, sh-port, mh-fallback, mh-port, sched1, sched2, sched3)",
                    ),
                }
            }
        }
        svc.pe_name = self.str(m, path, "pe").map(str::to_owned);
        let mut destinations = Vec::new();
        if let Some(v) = m.get("destinations") {
            let p = join(path, "destinations");
            for (i, d) in self.array(v, &p).iter().enumerate() {
                if let Some(d) = self.dest(d, &format!("{p}[{i}]")) {
                    destinations.push(d);
                }
            }
        }
        Some(DesiredService {
            service: svc,
            destinations,
        })
    }

    fn dest(&mut self, v: &Value, path: &str) -> Option<Destination> {
        let m = self.object(
            v,
            path,
            &[
                "addr",
                "port",
                "forward",
                "weight",
                "upper_threshold",
                "lower_threshold",
                "tunnel",
            ],
        )?;
        let addr = self.ip(m, path, "addr");
        let port = self.uint(m, path, "port", u16::MAX as u64).unwrap_or(0);
        let mut d = Destination::new(addr?, port as u16).forward(ForwardMethod::Masq);
        d.forward = match self.str(m, path, "forward") {
            None | Some("masq") => ForwardMethod::Masq,
            Some("route") => ForwardMethod::DirectRoute,
            Some("tunnel") => ForwardMethod::Tunnel,
            Some("local") => ForwardMethod::Local,
            Some(f) => {
                self.bad(
                    join(path, "forward"),
                    format!("{f:?} is not masq, route, tunnel or local"),
                );
                return None;
            }
        };
        if let Some(w) = self.uint(m, path, "weight", i32::MAX as u64) {
            d.weight = w as u32;
        }
        d.upper_threshold = self
            .uint(m, path, "upper_threshold", u32::MAX as u64)
            .unwrap_or(0) as u32;
        d.lower_threshold = self
            .uint(m, path, "lower_threshold", u32::MAX as u64)
            .unwrap_or(0) as u32;
        if let Some(t) = m.get("tunnel") {
            let p = join(path, "tunnel");
            if d.forward != ForwardMethod::Tunnel {
                self.bad(p.clone(), "only with \"forward\": \"tunnel\"");
            }
            let t = self.object(t, &p, &["type", "port", "flags"])?;
            d.tunnel_type = match self.str(t, &p, "type") {
                None | Some("ipip") => TunnelType::Ipip,
                Some("gue") => TunnelType::Gue,
                Some("gre") => TunnelType::Gre,
                Some(x) => {
                    self.bad(join(&p, "type"), format!("{x:?} is not ipip, gue or gre"));
                    TunnelType::Ipip
                }
            };
            d.tunnel_port = self.uint(t, &p, "port", u16::MAX as u64).unwrap_or(0) as u16;
            if let Some(v) = t.get("flags") {
                let fp = join(&p, "flags");
                for (i, f) in self.array(v, &fp).iter().enumerate() {
                    match f.as_str() {
                        Some("csum") => d.tunnel_flags |= 1,
                        Some("remcsum") => d.tunnel_flags |= 2,
                        _ => self.bad(format!("{fp}[{i}]"), "not csum or remcsum"),
                    }
                }
            }
        }
        Some(clean_dest(&d))
    }

    fn set(&mut self, v: &Value, path: &str) -> Option<DesiredSet> {
        let m = self.object(v, path, &["name", "type", "options", "entries"])?;
        let name = self.required_str(m, path, "name");
        let name = name.and_then(|n| self.parsed(join(path, "name"), SetName::new(n)));
        let t = self.required_str(m, path, "type");
        let set_type = t.and_then(|t| self.parsed(join(path, "type"), t.parse::<SetType>()))?;
        let mut words: Vec<String> = Vec::new();
        if let Some(o) = m.get("options") {
            let p = join(path, "options");
            let Some(o) = o.as_object() else {
                self.bad(p, "expected an object");
                return None;
            };
            for (k, v) in o {
                match v {
                    Value::Bool(true) => words.push(k.clone()),
                    Value::Bool(false) => {}
                    Value::Number(n) => words.extend([k.clone(), n.to_string()]),
                    Value::String(s) => words.extend([k.clone(), s.clone()]),
                    _ => self.bad(join(&p, k), "expected a number, a string or true"),
                }
            }
        }
        let word_refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let options = self.parsed(
            join(path, "options"),
            CreateOptions::parse(set_type, &word_refs),
        )?;
        let family = options.family_for(set_type);
        let mut entries = Vec::new();
        if let Some(v) = m.get("entries") {
            let p = join(path, "entries");
            for (i, e) in self.array(v, &p).iter().enumerate() {
                let ep = format!("{p}[{i}]");
                let entry = match e {
                    Value::String(s) => self.parsed(ep, Entry::parse(set_type, family, s)),
                    Value::Object(o) => self.entry_object(o, &ep, set_type, family),
                    _ => {
                        self.bad(
                            ep,
                            "expected an element (a string) or an object with \"elem\"",
                        );
                        None
                    }
                };
                entries.extend(entry);
            }
        }
        Some(DesiredSet {
            name: name?,
            set_type,
            options,
            entries,
        })
    }

    fn entry_object(
        &mut self,
        o: &Map<String, Value>,
        path: &str,
        set_type: SetType,
        family: kipvs_ipset::Family,
    ) -> Option<Entry> {
        let elem = self.required_str(o, path, "elem")?;
        let mut entry = self.parsed(join(path, "elem"), Entry::parse(set_type, family, elem))?;
        let mut words: Vec<String> = Vec::new();
        for (k, v) in o {
            match (k.as_str(), v) {
                ("elem", _) => {}
                (_, Value::Bool(true)) => words.push(k.clone()),
                (_, Value::Bool(false)) => {}
                (_, Value::Number(n)) => words.extend([k.clone(), n.to_string()]),
                (_, Value::String(s)) => words.extend([k.clone(), s.clone()]),
                _ => self.bad(join(path, k), "expected a number, a string or true"),
            }
        }
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let used = self.parsed(path.to_owned(), entry.parse_options(&refs))?;
        if used < refs.len() {
            self.bad(
                join(path, refs[used]),
                "unknown entry option (comment, timeout, nomatch, skbmark, skbprio, skbqueue, packets, bytes)",
            );
        }
        Some(entry)
    }

    fn addresses(&mut self, v: &Value) -> Option<DesiredAddresses> {
        let m = self.object(v, "addresses", &["interface", "addresses"])?;
        let interface = match self.str(m, "addresses", "interface") {
            None => IfName::kube_ipvs0(),
            Some(s) => self.parsed("addresses.interface".into(), IfName::new(s))?,
        };
        let mut addresses = Vec::new();
        if let Some(v) = m.get("addresses") {
            for (i, a) in self.array(v, "addresses.addresses").iter().enumerate() {
                let p = format!("addresses.addresses[{i}]");
                match a.as_str() {
                    Some(s) => addresses.extend(self.parsed(p, s.parse::<Address>())),
                    None => self.bad(p, "expected an address string"),
                }
            }
        }
        Some(DesiredAddresses {
            interface,
            addresses,
        })
    }

    fn scope(&mut self, v: &Value) -> Scope {
        let mut s = Scope::default();
        let Some(m) = self.object(v, "scope", &["set_prefixes", "cidrs", "fwmarks"]) else {
            return s;
        };
        let strings = |r: &mut Reader, key: &str| -> Vec<(String, String)> {
            let p = format!("scope.{key}");
            let Some(v) = m.get(key) else { return vec![] };
            let mut out = Vec::new();
            for (i, x) in r.array(v, &p).iter().enumerate() {
                match x.as_str() {
                    Some(s) => out.push((format!("{p}[{i}]"), s.to_owned())),
                    None => r.bad(format!("{p}[{i}]"), "expected a string"),
                }
            }
            out
        };
        for (p, x) in strings(self, "set_prefixes") {
            if x.is_empty() {
                self.bad(p, "an empty prefix would own every set");
            } else {
                s.set_prefixes.push(x);
            }
        }
        for (p, x) in strings(self, "cidrs") {
            s.cidrs.extend(self.parsed(p, x.parse::<Cidr>()));
        }
        for (p, x) in strings(self, "fwmarks") {
            let (a, b) = x.split_once('-').unwrap_or((&x, &x));
            match (parse_mark(a), parse_mark(b)) {
                (Some(a), Some(b)) if a <= b => s.fwmarks.push((a, b)),
                _ => self.bad(p, format!("{x:?} is not a mark or a range FROM-TO")),
            }
        }
        s
    }
}

fn parse_mark(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
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
