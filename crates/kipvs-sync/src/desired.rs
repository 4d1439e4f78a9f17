//! The desired state: what a controller wants the kernel to hold, and the
//! namespaces it owns ([`Scope`]).

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
    net::IpAddr,
    str::FromStr,
};

use kipvs_ipset::{CreateOptions, Entry, SetName, SetType};
use kipvs_ipvs::{Destination, ForwardMethod, Scheduler, Service, ServiceKey};
use kipvs_link::{Address, IfName};

use crate::error::{Problem, Problems};

/// The desired state. A part that is `None` is not managed at all: the
/// kernel's objects of that kind are neither read nor touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// Virtual services with their real servers.
    pub services: Option<Vec<DesiredService>>,
    /// ipsets with their entries.
    pub ipsets: Option<Vec<DesiredSet>>,
    /// The addresses of one dummy interface (`kube-ipvs0`).
    pub addresses: Option<DesiredAddresses>,
    /// What may be pruned: objects outside it are never removed.
    pub scope: Scope,
}

/// A virtual service and its complete list of real servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredService {
    /// The service (its statistics are ignored).
    pub service: Service,
    /// Every real server it should have; others are drained and deleted.
    pub destinations: Vec<Destination>,
}

impl DesiredService {
    /// A service with no real servers yet.
    pub fn new(service: Service) -> Self {
        DesiredService {
            service,
            destinations: Vec::new(),
        }
    }

    /// Adds a real server.
    pub fn destination(mut self, dest: Destination) -> Self {
        self.destinations.push(dest);
        self
    }
}

/// An ipset, its type and options, and its complete list of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSet {
    /// The set's name.
    pub name: SetName,
    /// Its type.
    pub set_type: SetType,
    /// Its create options. `hashsize`, `bucketsize` and `initval` are used
    /// when the set is made but never compared: the kernel rounds and grows
    /// them itself.
    pub options: CreateOptions,
    /// Every entry it should hold.
    pub entries: Vec<Entry>,
}

/// The addresses of a dummy interface; the interface is made (down) when it
/// is missing, as kube-proxy makes `kube-ipvs0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredAddresses {
    /// The interface.
    pub interface: IfName,
    /// The addresses it should hold (a bare IP is `/32` or `/128`).
    pub addresses: Vec<Address>,
}

/// An address block, `10.96.0.0/12` or `fd00::/108`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The network address.
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Whether `ip` is inside the block.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(*ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(*ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    /// `ADDR/PREFIX`, or a bare address (one host).
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("{a:?} is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.parse::<u8>()
                .ok()
                .filter(|n| *n <= max && p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| format!("bad prefix length {p:?} (0 to {max})"))?
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The namespaces a controller owns. Pruning (see
/// [`PlanOptions::prune`](crate::PlanOptions)) removes only objects inside
/// them, so a keepalived service or a firewall's set on the same node
/// survives. An empty scope owns nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Set-name prefixes, e.g. `KUBE-`.
    pub set_prefixes: Vec<String>,
    /// Address blocks of owned virtual services and interface addresses.
    pub cidrs: Vec<Cidr>,
    /// Owned firewall-mark services: inclusive ranges of marks.
    pub fwmarks: Vec<(u32, u32)>,
}

impl Scope {
    /// Whether the set `name` is owned.
    pub fn owns_set(&self, name: &SetName) -> bool {
        self.set_prefixes
            .iter()
            .any(|p| name.as_str().starts_with(p.as_str()))
    }

    /// Whether the virtual service `key` is owned.
    pub fn owns_service(&self, key: &ServiceKey) -> bool {
        match key {
            ServiceKey::Addr { addr, .. } => self.owns_address(addr),
            ServiceKey::Fwmark { mark, .. } => {
                self.fwmarks.iter().any(|(a, b)| (*a..=*b).contains(mark))
            }
        }
    }

    /// Whether the interface address `ip` is owned.
    pub fn owns_address(&self, ip: &IpAddr) -> bool {
        self.cidrs.iter().any(|c| c.contains(ip))
    }

    /// True when nothing is owned.
    pub fn is_empty(&self) -> bool {
        self.set_prefixes.is_empty() && self.cidrs.is_empty() && self.fwmarks.is_empty()
    }
}

impl Desired {
    /// Checks the desired state before anything is sent: known
    /// schedulers, no duplicates, real servers of the service's family
    /// (unless tunnelled), bindable addresses, entries of the set's
    /// family. Each problem names the path of the bad value in the state
    /// document (`services[3].destinations[1].addr`).
    pub fn validate(&self) -> Result<(), Problems> {
        let mut p = Vec::new();
        if let Some(services) = &self.services {
            let mut keys = HashSet::new();
            for (i, s) in services.iter().enumerate() {
                check_service(&mut p, i, s, &mut keys);
            }
        }
        if let Some(sets) = &self.ipsets {
            let mut names = HashSet::new();
            for (i, s) in sets.iter().enumerate() {
                if !names.insert(&s.name) {
                    p.push(Problem::new(
                        format!("ipsets[{i}].name"),
                        format!("set {} is listed twice", s.name),
                    ));
                }
                if let Err(e) = s.options.validate(s.set_type) {
                    p.push(Problem::new(format!("ipsets[{i}].options"), e.to_string()));
                }
                let family = s.options.family_for(s.set_type);
                let mut seen = HashSet::new();
                for (j, e) in s.entries.iter().enumerate() {
                    if !seen.insert(&e.parts) {
                        p.push(Problem::new(
                            format!("ipsets[{i}].entries[{j}]"),
                            format!("entry {} is listed twice", e.elem_text(s.set_type)),
                        ));
                    }
                    if e.parts.len() != s.set_type.dims().len() {
                        p.push(Problem::new(
                            format!("ipsets[{i}].entries[{j}]"),
                            format!(
                                "a {} entry has {} parts",
                                s.set_type,
                                s.set_type.dims().len()
                            ),
                        ));
                    }
                    for part in &e.parts {
                        if let kipvs_ipset::Part::Ip(ip) = part {
                            let v6 = ip.addr.is_ipv6();
                            if family.max_prefix() == 128 && !v6
                                || family.max_prefix() == 32 && v6 && s.set_type.has_family()
                            {
                                p.push(Problem::new(
                                    format!("ipsets[{i}].entries[{j}]"),
                                    format!("{} is not of the set's family {family}", ip.addr),
                                ));
                            }
                        }
                    }
                }
            }
        }
        if let Some(a) = &self.addresses {
            let mut ips = HashSet::new();
            for (i, addr) in a.addresses.iter().enumerate() {
                let path = format!("addresses.addresses[{i}]");
                if let Err(e) = addr.check_bindable() {
                    p.push(Problem::new(path, e.to_string()));
                } else if !ips.insert(addr.ip) {
                    p.push(Problem::new(path, format!("{} is listed twice", addr.ip)));
                }
            }
        }
        if p.is_empty() {
            Ok(())
        } else {
            Err(Problems(p))
        }
    }

    /// The services by key.
    pub(crate) fn service_map(&self) -> Option<BTreeMap<ServiceKey, &DesiredService>> {
        self.services
            .as_ref()
            .map(|v| v.iter().map(|s| (s.service.key, s)).collect())
    }
}

fn check_service<'a>(
    p: &mut Vec<Problem>,
    i: usize,
    s: &'a DesiredService,
    keys: &mut HashSet<&'a ServiceKey>,
) {
    let svc = &s.service;
    if !keys.insert(&svc.key) {
        p.push(Problem::new(
            format!("services[{i}]"),
            format!("service {} is listed twice", svc.key),
        ));
    }
    if !Scheduler::KNOWN.contains(&svc.scheduler.as_str()) {
        p.push(Problem::new(
            format!("services[{i}].scheduler"),
            format!(
                "unknown scheduler {:?} (one of {})",
                svc.scheduler.as_str(),
                Scheduler::KNOWN.join(", ")
            ),
        ));
    }
    if let ServiceKey::Addr { addr, .. } = &svc.key {
        if addr.is_unspecified() || addr.is_multicast() {
            p.push(Problem::new(
                format!("services[{i}].addr"),
                format!("{addr} cannot be a virtual address"),
            ));
        }
    }
    let max = if svc.key.is_ipv6() { 128 } else { 32 };
    let prefix = if svc.key.is_ipv6() {
        svc.netmask
    } else {
        svc.netmask.count_ones()
    };
    if prefix > max || (!svc.key.is_ipv6() && svc.netmask.leading_ones() != prefix) {
        p.push(Problem::new(
            format!("services[{i}].netmask"),
            format!("not a prefix length of 0 to {max}"),
        ));
    }
    for (j, d) in s.destinations.iter().enumerate() {
        let path = || format!("services[{i}].destinations[{j}]");
        // Services have a few real servers each: a scan beats hashing.
        if s.destinations[..j]
            .iter()
            .any(|x| (x.addr, x.port) == (d.addr, d.port))
        {
            p.push(Problem::new(
                path(),
                format!("real server {} is listed twice", host_port(&d.addr, d.port)),
            ));
        }
        if d.addr.is_unspecified() || d.addr.is_multicast() {
            p.push(Problem::new(
                format!("{}.addr", path()),
                format!("{} cannot be a real server", d.addr),
            ));
        } else if d.addr.is_ipv6() != svc.key.is_ipv6() && d.forward != ForwardMethod::Tunnel {
            p.push(Problem::new(
                format!("{}.addr", path()),
                format!(
                    "{} is not of the service's family (only tunnelled real servers may be)",
                    d.addr
                ),
            ));
        }
        if d.weight > i32::MAX as u32 {
            p.push(Problem::new(
                format!("{}.weight", path()),
                "at most 2147483647",
            ));
        }
        if d.lower_threshold > d.upper_threshold && d.upper_threshold != 0 {
            p.push(Problem::new(
                format!("{}.lower_threshold", path()),
                "the lower threshold is above the upper one",
            ));
        }
    }
}

/// `10.0.0.1:80`, `[fd00::1]:80`.
pub(crate) fn host_port(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kipvs_ipvs::Protocol;

    fn key(addr: &str) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: addr.parse().unwrap(),
            port: 80,
        }
    }

    #[test]
    fn cidr_contains() {
        let c: Cidr = "10.96.0.0/12".parse().unwrap();
        assert!(c.contains(&"10.96.0.1".parse().unwrap()));
        assert!(c.contains(&"10.111.255.255".parse().unwrap()));
        assert!(!c.contains(&"10.112.0.0".parse().unwrap()));
        assert!(!c.contains(&"fd00::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(&"192.0.2.1".parse().unwrap()));
        let v6: Cidr = "fd00::/108".parse().unwrap();
        assert!(v6.contains(&"fd00::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("10.0.0.0/+3".parse::<Cidr>().is_err());
    }

    #[test]
    fn scope_owns_only_what_it_names() {
        let scope = Scope {
            set_prefixes: vec!["KUBE-".into()],
            cidrs: vec!["10.96.0.0/12".parse().unwrap()],
            fwmarks: vec![(100, 199)],
        };
        assert!(scope.owns_set(&"KUBE-CLUSTER-IP".parse().unwrap()));
        assert!(!scope.owns_set(&"keepalived".parse().unwrap()));
        assert!(scope.owns_service(&key("10.96.0.10")));
        assert!(!scope.owns_service(&key("192.168.1.100")));
        assert!(scope.owns_service(&ServiceKey::Fwmark {
            mark: 150,
            ipv6: false
        }));
        assert!(!scope.owns_service(&ServiceKey::Fwmark {
            mark: 1,
            ipv6: false
        }));
        assert!(Scope::default().is_empty());
    }

    #[test]
    fn validation_names_the_bad_values() {
        let good = DesiredService::new(Service::new(key("10.96.0.1")))
            .destination(Destination::new("10.244.0.1".parse().unwrap(), 8080));
        let bad =
            DesiredService::new(Service::new(key("10.96.0.2")).scheduler("xyz".parse().unwrap()))
                .destination(Destination::new("10.244.0.1".parse().unwrap(), 8080))
                .destination(Destination::new("fd00::1".parse().unwrap(), 8080));
        let d = Desired {
            services: Some(vec![good.clone(), bad, good]),
            ..Desired::default()
        };
        let e = d.validate().unwrap_err();
        let paths: Vec<&str> = e.0.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "services[1].scheduler",
                "services[1].destinations[1].addr",
                "services[2]"
            ]
        );
    }
}
