//! Reading a state document: a walk over the JSON that names every bad
//! value by its path.

use std::net::IpAddr;

use kipvs_ipset::{CreateOptions, Entry, SetName, SetType};
use kipvs_ipvs::{
    Destination, ForwardMethod, Protocol, Scheduler, Service, ServiceKey, TunnelType,
};
use kipvs_link::{Address, IfName};
use serde_json::{Map, Value};

use super::{flag_bit, VERSION};
use crate::{
    plan::clean_dest, Cidr, Desired, DesiredAddresses, DesiredService, DesiredSet, Problem, Scope,
};

#[derive(Default)]
pub(super) struct Reader {
    pub(super) problems: Vec<Problem>,
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

    pub(super) fn document(&mut self, v: &Value) -> Desired {
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
