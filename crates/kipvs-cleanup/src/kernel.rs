//! IPVS mode's kernel objects: the IPVS services kube-proxy made, the
//! `kube-ipvs0` dummy link holding their addresses, and its ipsets.
//!
//! The kernel is read once into a [`KernelState`]; [`KernelPlan::new`]
//! decides on it without I/O which services are kube-proxy's: those on
//! addresses bound on `kube-ipvs0` (ClusterIPs, external and load-balancer
//! IPs; `KUBE-IPVS-IPS` lists them too), and node ports on the node's own
//! addresses, known from the node-port sets, from kube-proxy's iptables
//! rules, or from the real servers they share with a ClusterIP (the rule in
//! full is on [`KernelPlan::new`]). Anything else, such as a keepalived VIP
//! on a node interface, stays. kube-proxy never makes firewall-mark
//! services.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    net::IpAddr,
};

use kipvs_ipset::{IpSet, Part, SetName};
use kipvs_ipvs::{Ipvs, Protocol, ServiceKey};
use kipvs_link::{Address, IfName, Links};
use kipvs_netlink::NetNs;

use crate::Result;

/// The ipsets of kube-proxy's IPVS mode (kubernetes
/// `pkg/proxy/ipvs/ipset.go`); an IPv6 proxier prefixes the hash sets with
/// `KUBE-6-` and shares the port bitmaps.
pub const KUBE_PROXY_SETS: [&str; 17] = [
    "KUBE-LOOP-BACK",
    "KUBE-CLUSTER-IP",
    "KUBE-EXTERNAL-IP",
    "KUBE-EXTERNAL-IP-LOCAL",
    "KUBE-LOAD-BALANCER",
    "KUBE-LOAD-BALANCER-FW",
    "KUBE-LOAD-BALANCER-LOCAL",
    "KUBE-LOAD-BALANCER-SOURCE-IP",
    "KUBE-LOAD-BALANCER-SOURCE-CIDR",
    "KUBE-NODE-PORT-TCP",
    "KUBE-NODE-PORT-LOCAL-TCP",
    "KUBE-NODE-PORT-UDP",
    "KUBE-NODE-PORT-LOCAL-UDP",
    "KUBE-NODE-PORT-SCTP-HASH",
    "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
    "KUBE-HEALTH-CHECK-NODE-PORT",
    "KUBE-IPVS-IPS",
];

/// True for the name of one of kube-proxy's ipsets, IPv4 or IPv6.
pub fn is_kube_proxy_set(name: &str) -> bool {
    let v4 = name
        .strip_prefix("KUBE-6-")
        .map_or(name.to_owned(), |rest| format!("KUBE-{rest}"));
    KUBE_PROXY_SETS.contains(&v4.as_str())
}

/// The node-port range kube-apiserver hands out by default
/// (`--service-node-port-range`).
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Why a service is kube-proxy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Evidence {
    /// Its address is bound on `kube-ipvs0` (or listed in `KUBE-IPVS-IPS`).
    BoundOnKubeIpvs0,
    /// It is on a node address at a port of the `KUBE-NODE-PORT-*` sets.
    NodePort,
    /// It is on a node address at a node port of kube-proxy's rules:
    /// `--dport` in nat `KUBE-NODEPORTS` (iptables mode, any backend), or a
    /// key of the `service-nodeports` map (nftables mode).
    NodePortRule,
    /// It is on a node address at a port of the node-port range, and its
    /// real servers are (some of) those of a service on a `kube-ipvs0`
    /// address: the ClusterIP of the same Service
    /// ([`DoomedService::like`]).
    SameRealServers,
}

/// One IPVS service that goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DoomedService {
    /// The service.
    #[cfg_attr(feature = "serde", serde(serialize_with = "display"))]
    pub key: ServiceKey,
    /// Why it is kube-proxy's.
    pub evidence: Evidence,
    /// With [`Evidence::SameRealServers`]: the service on `kube-ipvs0`
    /// whose real servers it has.
    #[cfg_attr(
        feature = "serde",
        serde(
            serialize_with = "display_opt",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub like: Option<ServiceKey>,
    /// How many real servers it has.
    pub destinations: usize,
}

#[cfg(feature = "serde")]
fn display<S: serde::Serializer>(v: &ServiceKey, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
}

#[cfg(feature = "serde")]
fn display_opt<S: serde::Serializer>(
    v: &Option<ServiceKey>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(k) => s.collect_str(k),
        None => s.serialize_none(),
    }
}

/// One IPVS service as the clean-up read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    /// The service.
    pub key: ServiceKey,
    /// Its real servers (address, port); read only for services on the
    /// node's own addresses, `kube-ipvs0`'s and `KUBE-IPVS-IPS`'s.
    pub destinations: BTreeSet<(IpAddr, u16)>,
}

/// What the kernel holds that IPVS mode's clean-up looks at, read once
/// ([`KernelState::read`]) and then planned on without I/O
/// ([`KernelPlan::new`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelState {
    /// `kube-ipvs0`'s addresses; `None` when there is no `kube-ipvs0`.
    pub kube_ipvs0: Option<Vec<Address>>,
    /// The addresses of every other link: the node's.
    pub node_addresses: BTreeSet<IpAddr>,
    /// kube-proxy's ipsets present.
    pub sets: Vec<String>,
    /// The addresses listed in `KUBE-IPVS-IPS` (and `KUBE-6-IPVS-IPS`).
    pub ipvs_ips: BTreeSet<IpAddr>,
    /// The node ports of the `KUBE-NODE-PORT-*` sets, with the addresses
    /// they are for (`None`: every node address).
    pub set_node_ports: BTreeMap<(Protocol, u16), BTreeSet<Option<IpAddr>>>,
    /// The IPVS services; `None` when the kernel has no IPVS.
    pub services: Option<Vec<ServiceState>>,
}

impl KernelState {
    /// Reads links, kube-proxy's ipsets and the IPVS services in `netns`;
    /// `destinations`: also the real servers of the services that could be
    /// kube-proxy's.
    pub fn read(netns: &NetNs, destinations: bool) -> Result<KernelState> {
        let mut state = KernelState::default();
        let kube = IfName::kube_ipvs0();
        let mut links = Links::new_in(netns)?;
        for link in links.links()? {
            let addrs = links.addresses(&link.name)?;
            if link.name == kube {
                state.kube_ipvs0 = Some(addrs);
            } else {
                state.node_addresses.extend(addrs.iter().map(|a| a.ip));
            }
        }
        let mut sets = IpSet::new_in(netns)?;
        for name in sets.list_names(None)? {
            if is_kube_proxy_set(name.as_str()) {
                state.sets.push(name.to_string());
                read_evidence(&mut sets, &name, &mut state)?;
            }
        }
        let mut ipvs = match Ipvs::new_in(netns) {
            Ok(ipvs) => ipvs,
            Err(kipvs_netlink::Error::FamilyNotFound { .. }) => return Ok(state),
            Err(e) => return Err(e.into()),
        };
        let mut services: Vec<ServiceState> = ipvs
            .services()?
            .into_iter()
            .map(|s| ServiceState {
                key: s.key,
                destinations: BTreeSet::new(),
            })
            .collect();
        if destinations {
            let local: Vec<usize> = (0..services.len())
                .filter(|&i| match services[i].key {
                    ServiceKey::Addr { addr, .. } => {
                        state.node_addresses.contains(&addr) || state.bound().contains(&addr)
                    }
                    ServiceKey::Fwmark { .. } => false,
                })
                .collect();
            let keys: Vec<ServiceKey> = local.iter().map(|&i| services[i].key).collect();
            for (i, dests) in local.into_iter().zip(ipvs.destinations_of(&keys)?) {
                services[i].destinations = dests.iter().map(|d| (d.addr, d.port)).collect();
            }
        }
        state.services = Some(services);
        Ok(state)
    }

    /// The addresses kube-proxy bound for its services: `kube-ipvs0`'s and
    /// those `KUBE-IPVS-IPS` lists.
    pub fn bound(&self) -> BTreeSet<IpAddr> {
        let mut bound = self.ipvs_ips.clone();
        bound.extend(self.kube_ipvs0.iter().flatten().map(|a| a.ip));
        bound
    }

    /// IPVS mode's traces in the kernel, one phrase each (for
    /// [`crate::live::Observed::state`]).
    pub fn ipvs_mode_state(&self) -> Vec<String> {
        let mut seen = Vec::new();
        if self.kube_ipvs0.is_some() {
            seen.push(kipvs_link::KUBE_IPVS0.to_owned());
        }
        if !self.sets.is_empty() {
            seen.push(format!("{} KUBE-* ipsets", self.sets.len()));
        }
        let bound = self.bound();
        let on_bound = self
            .services
            .iter()
            .flatten()
            .filter(|s| matches!(s.key, ServiceKey::Addr { addr, .. } if bound.contains(&addr)))
            .count();
        if on_bound > 0 {
            seen.push(format!("{on_bound} IPVS services on kube-ipvs0 addresses"));
        }
        seen
    }
}

/// What goes from the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KernelPlan {
    /// IPVS services kube-proxy made.
    pub services: Vec<DoomedService>,
    /// IPVS services that stay (not kube-proxy's), for the record.
    #[cfg_attr(feature = "serde", serde(serialize_with = "display_all"))]
    pub services_kept: Vec<ServiceKey>,
    /// The addresses on `kube-ipvs0` (they go with it).
    pub addresses: Vec<Address>,
    /// True when `kube-ipvs0` exists (and goes).
    pub link: bool,
    /// kube-proxy's ipsets that go (after the iptables rules).
    pub sets: Vec<String>,
    /// kube-proxy's ipsets that stay because a rule that stays matches them.
    pub sets_kept: Vec<String>,
    /// Parts that could not be looked at, and why.
    pub skipped: Vec<String>,
}

#[cfg(feature = "serde")]
fn display_all<S: serde::Serializer>(
    v: &[ServiceKey],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|k| k.to_string()))
}

impl KernelPlan {
    /// Plans on `state`, without I/O. `sets_in_use`: the sets that rules
    /// staying in iptables still match on; `rule_node_ports`: the node
    /// ports kube-proxy's other modes name ([`crate::kube::node_ports`],
    /// [`crate::nft::node_ports`]).
    ///
    /// A service is kube-proxy's, and goes, when
    /// 1. its address is bound on `kube-ipvs0` or listed in `KUBE-IPVS-IPS`;
    /// 2. or it is on a node address (one of another link) and its port is
    ///    a node port: in a `KUBE-NODE-PORT-*` set for its protocol; or
    ///    named by a kube-proxy rule (iptables or nftables mode) for its
    ///    protocol; or in the node-port range ([`NODE_PORT_RANGE`]) with
    ///    real servers that are all real servers of a service of rule 1
    ///    with the same protocol (the ClusterIP of the same Service; a
    ///    node port without real servers is not recognised this way).
    ///
    /// Every other service stays: firewall-mark services (kube-proxy makes
    /// none), services on addresses that are not the node's, and services
    /// on node addresses at ports nothing ties to kube-proxy.
    pub fn new(
        state: &KernelState,
        sets_in_use: &BTreeSet<String>,
        rule_node_ports: &BTreeSet<(Protocol, u16)>,
    ) -> KernelPlan {
        let mut plan = KernelPlan::default();
        if let Some(addrs) = &state.kube_ipvs0 {
            plan.link = true;
            plan.addresses = addrs.clone();
        }
        for name in &state.sets {
            if sets_in_use.contains(name) {
                plan.sets_kept.push(name.clone());
            } else {
                plan.sets.push(name.clone());
            }
        }
        let Some(services) = &state.services else {
            plan.skipped
                .push("IPVS: not available in this kernel, so no IPVS services".into());
            return plan;
        };
        let bound = state.bound();
        let on_bound: Vec<&ServiceState> = services
            .iter()
            .filter(|s| matches!(s.key, ServiceKey::Addr { addr, .. } if bound.contains(&addr)))
            .collect();
        for s in services {
            let ServiceKey::Addr {
                protocol,
                addr,
                port,
            } = s.key
            else {
                plan.services_kept.push(s.key);
                continue;
            };
            let mut like = None;
            let evidence = if bound.contains(&addr) {
                Some(Evidence::BoundOnKubeIpvs0)
            } else if !state.node_addresses.contains(&addr) {
                None
            } else if state
                .set_node_ports
                .get(&(protocol, port))
                .is_some_and(|on| on.contains(&None) || on.contains(&Some(addr)))
            {
                Some(Evidence::NodePort)
            } else if rule_node_ports.contains(&(protocol, port)) {
                Some(Evidence::NodePortRule)
            } else if NODE_PORT_RANGE.contains(&port) && !s.destinations.is_empty() {
                like = on_bound
                    .iter()
                    .find(|b| {
                        matches!(b.key, ServiceKey::Addr { protocol: p, .. } if p == protocol)
                            && s.destinations.is_subset(&b.destinations)
                    })
                    .map(|b| b.key);
                like.map(|_| Evidence::SameRealServers)
            } else {
                None
            };
            match evidence {
                Some(evidence) => plan.services.push(DoomedService {
                    key: s.key,
                    evidence,
                    like,
                    destinations: s.destinations.len(),
                }),
                None => plan.services_kept.push(s.key),
            }
        }
        plan
    }

    /// True when nothing goes.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && !self.link && self.sets.is_empty()
    }
}

impl fmt::Display for KernelPlan {
    /// The plan in the shape of a diff: one `-` line per object that goes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        writeln!(f, "--- kernel (before)\n+++ kernel (after)")?;
        for s in &self.services {
            write!(
                f,
                "-ipvs service {} ({} real servers; ",
                s.key, s.destinations
            )?;
            match (s.evidence, &s.like) {
                (Evidence::BoundOnKubeIpvs0, _) => write!(f, "address on kube-ipvs0")?,
                (Evidence::NodePort, _) => write!(f, "node port in a KUBE-NODE-PORT-* set")?,
                (Evidence::NodePortRule, _) => write!(f, "node port in kube-proxy's rules")?,
                (Evidence::SameRealServers, Some(like)) => {
                    write!(f, "node port with the real servers of {like}")?
                }
                (Evidence::SameRealServers, None) => write!(f, "node port")?,
            }
            writeln!(f, ")")?;
        }
        if self.link {
            let addrs: Vec<String> = self.addresses.iter().map(|a| a.to_string()).collect();
            writeln!(
                f,
                "-link {} (addresses: {})",
                kipvs_link::KUBE_IPVS0,
                addrs.join(" ")
            )?;
        }
        for s in &self.sets {
            writeln!(f, "-ipset {s}")?;
        }
        Ok(())
    }
}

fn read_evidence(sets: &mut IpSet, name: &SetName, state: &mut KernelState) -> Result<()> {
    let v4 = name.as_str().replace("KUBE-6-", "KUBE-");
    let protocol = match v4.as_str() {
        "KUBE-IPVS-IPS" => None,
        "KUBE-NODE-PORT-TCP" | "KUBE-NODE-PORT-LOCAL-TCP" => Some(Protocol::Tcp),
        "KUBE-NODE-PORT-UDP" | "KUBE-NODE-PORT-LOCAL-UDP" => Some(Protocol::Udp),
        "KUBE-NODE-PORT-SCTP-HASH" | "KUBE-NODE-PORT-LOCAL-SCTP-HASH" => Some(Protocol::Sctp),
        _ => return Ok(()),
    };
    for set in sets.list(Some(name))? {
        for entry in set.entries {
            let ip = entry.parts.iter().find_map(|p| match p {
                Part::Ip(ip) => Some(ip.addr),
                _ => None,
            });
            let port = entry.parts.iter().find_map(|p| match p {
                Part::Port(p) => Some((p.port, p.to.unwrap_or(p.port))),
                _ => None,
            });
            match (protocol, ip, port) {
                (None, Some(ip), _) => {
                    state.ipvs_ips.insert(ip);
                }
                (Some(proto), ip, Some((from, to))) => {
                    for port in from..=to {
                        state
                            .set_node_ports
                            .entry((proto, port))
                            .or_default()
                            .insert(ip);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Removes what `plan` lists: services, then `kube-ipvs0`, then the sets
/// (the iptables rules matching them are gone by now; a set still in use
/// elsewhere makes the kernel answer EBUSY, reported as an error).
pub fn apply(netns: &NetNs, plan: &KernelPlan) -> Result<()> {
    if !plan.services.is_empty() {
        let mut ipvs = Ipvs::new_in(netns)?;
        for s in &plan.services {
            match ipvs.delete_service(&s.key) {
                Err(e) if e.is_not_found() => {}
                r => r?,
            }
        }
    }
    if plan.link {
        Links::new_in(netns)?.delete_dummy(&IfName::kube_ipvs0())?;
    }
    if !plan.sets.is_empty() {
        let mut sets = IpSet::new_in(netns)?;
        for name in &plan.sets {
            let name = SetName::new(name.clone())?;
            match sets.destroy(Some(&name)) {
                Err(e) if e.is_not_found() => {}
                r => r?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(addr: &str, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: addr.parse().unwrap(),
            port,
        }
    }

    fn svc(key: ServiceKey, dests: &[(&str, u16)]) -> ServiceState {
        ServiceState {
            key,
            destinations: dests
                .iter()
                .map(|(a, p)| (a.parse().unwrap(), *p))
                .collect(),
        }
    }

    /// A node after IPVS mode, its node-port sets gone: the services on
    /// kube-ipvs0 addresses, and the node ports told by kube-proxy's rules
    /// or by their real servers, go; the admin's services stay.
    fn node() -> KernelState {
        KernelState {
            kube_ipvs0: Some(vec!["10.96.120.7/32".parse().unwrap()]),
            node_addresses: ["192.168.1.21", "192.168.1.100", "127.0.0.1"]
                .iter()
                .map(|a| a.parse().unwrap())
                .collect(),
            services: Some(vec![
                svc(
                    tcp("10.96.120.7", 80),
                    &[("10.244.1.7", 8080), ("10.244.2.9", 8080)],
                ),
                // The NodePort of the same Service (Local policy: a subset).
                svc(tcp("192.168.1.21", 31080), &[("10.244.1.7", 8080)]),
                svc(tcp("127.0.0.1", 31080), &[("10.244.1.7", 8080)]),
                // A node port named by iptables mode's KUBE-NODEPORTS.
                svc(tcp("192.168.1.21", 31999), &[]),
                // The admin's: a VIP, a port outside the range, a node-range
                // port with other real servers, one without real servers,
                // a UDP twin of a TCP service.
                svc(tcp("192.168.1.100", 80), &[("10.0.0.5", 80)]),
                svc(tcp("192.168.1.21", 8080), &[("10.244.1.7", 8080)]),
                svc(tcp("192.168.1.21", 30500), &[("10.0.0.9", 8080)]),
                svc(tcp("192.168.1.21", 30501), &[]),
                svc(
                    ServiceKey::Addr {
                        protocol: Protocol::Udp,
                        addr: "192.168.1.21".parse().unwrap(),
                        port: 31080,
                    },
                    &[("10.244.1.7", 8080)],
                ),
                svc(
                    ServiceKey::Fwmark {
                        mark: 7,
                        ipv6: false,
                    },
                    &[],
                ),
            ]),
            ..KernelState::default()
        }
    }

    #[test]
    fn node_ports_without_their_sets() {
        let rule_ports = [(Protocol::Tcp, 31999)].into_iter().collect();
        let plan = KernelPlan::new(&node(), &BTreeSet::new(), &rule_ports);
        let gone: Vec<(String, Evidence, Option<String>)> = plan
            .services
            .iter()
            .map(|s| (s.key.to_string(), s.evidence, s.like.map(|k| k.to_string())))
            .collect();
        let like = Some("TCP 10.96.120.7:80".to_owned());
        assert_eq!(
            gone,
            [
                (
                    "TCP 10.96.120.7:80".into(),
                    Evidence::BoundOnKubeIpvs0,
                    None
                ),
                (
                    "TCP 192.168.1.21:31080".into(),
                    Evidence::SameRealServers,
                    like.clone()
                ),
                (
                    "TCP 127.0.0.1:31080".into(),
                    Evidence::SameRealServers,
                    like
                ),
                (
                    "TCP 192.168.1.21:31999".into(),
                    Evidence::NodePortRule,
                    None
                ),
            ]
        );
        assert_eq!(plan.services_kept.len(), 6);
        assert!(plan.to_string().contains(
            "-ipvs service TCP 192.168.1.21:31080 (1 real servers; node port with the real servers of TCP 10.96.120.7:80)\n"
        ));
        // Without kube-ipvs0 and KUBE-IPVS-IPS nothing ties a service to
        // kube-proxy but the rules.
        let mut bare = node();
        bare.kube_ipvs0 = None;
        let plan = KernelPlan::new(&bare, &BTreeSet::new(), &BTreeSet::new());
        assert!(plan.services.is_empty(), "{plan}");
    }

    #[test]
    fn node_port_sets_and_sets_in_use() {
        let mut state = node();
        state.sets = vec!["KUBE-NODE-PORT-TCP".into(), "KUBE-CLUSTER-IP".into()];
        state
            .set_node_ports
            .insert((Protocol::Tcp, 8080), [None].into_iter().collect());
        let in_use = ["KUBE-CLUSTER-IP".to_owned()].into_iter().collect();
        let plan = KernelPlan::new(&state, &in_use, &BTreeSet::new());
        assert!(plan
            .services
            .iter()
            .any(|s| s.key == tcp("192.168.1.21", 8080) && s.evidence == Evidence::NodePort));
        assert_eq!(plan.sets, ["KUBE-NODE-PORT-TCP"]);
        assert_eq!(plan.sets_kept, ["KUBE-CLUSTER-IP"]);
        // No IPVS in the kernel: said so, and the rest is still planned.
        state.services = None;
        let plan = KernelPlan::new(&state, &in_use, &BTreeSet::new());
        assert!(plan.services.is_empty() && plan.link && plan.skipped.len() == 1);
    }

    #[test]
    fn knows_kube_proxy_sets() {
        for yes in [
            "KUBE-CLUSTER-IP",
            "KUBE-6-CLUSTER-IP",
            "KUBE-NODE-PORT-TCP",
            "KUBE-6-IPVS-IPS",
        ] {
            assert!(is_kube_proxy_set(yes), "{yes}");
        }
        for no in ["KUBE-MY-SET", "WEB-ALLOWLIST", "KUBE-6-", "kube-cluster-ip"] {
            assert!(!is_kube_proxy_set(no), "{no}");
        }
    }
}
