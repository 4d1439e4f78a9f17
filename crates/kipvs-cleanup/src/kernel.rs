//! IPVS mode's kernel objects: the IPVS services kube-proxy made, the
//! `kube-ipvs0` dummy link holding their addresses, and its ipsets.
//!
//! kube-proxy made a service when its address is bound on `kube-ipvs0`
//! (ClusterIPs, external and load-balancer IPs; `KUBE-IPVS-IPS` lists them
//! too), or when it listens on a node address at a port of its node-port
//! sets (`KUBE-NODE-PORT-TCP`/`-UDP` bitmaps, `KUBE-NODE-PORT-SCTP-HASH`).
//! Anything else, such as a keepalived VIP on a node interface, stays.
//! kube-proxy never makes firewall-mark services.

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

/// Why a service is kube-proxy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Evidence {
    /// Its address is bound on `kube-ipvs0` (or listed in `KUBE-IPVS-IPS`).
    BoundOnKubeIpvs0,
    /// It is on a node address at a port of the node-port sets.
    NodePort,
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
    /// How many real servers it has.
    pub destinations: usize,
}

#[cfg(feature = "serde")]
fn display<S: serde::Serializer>(v: &ServiceKey, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
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
            let why = match s.evidence {
                Evidence::BoundOnKubeIpvs0 => "address on kube-ipvs0",
                Evidence::NodePort => "node port",
            };
            writeln!(
                f,
                "-ipvs service {} ({} real servers; {why})",
                s.key, s.destinations
            )?;
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

/// Reads the kernel in `netns` and plans; `sets_in_use` are the sets that
/// rules staying in iptables still match on.
pub fn plan(netns: &NetNs, sets_in_use: &BTreeSet<String>) -> Result<KernelPlan> {
    let mut plan = KernelPlan::default();
    let kube = IfName::kube_ipvs0();
    let mut links = Links::new_in(netns)?;
    let mut node_addrs = BTreeSet::new();
    for link in links.links()? {
        let addrs = links.addresses(&link.name)?;
        if link.name == kube {
            plan.link = true;
            plan.addresses = addrs;
        } else {
            node_addrs.extend(addrs.iter().map(|a| a.ip));
        }
    }
    let mut bound: BTreeSet<IpAddr> = plan.addresses.iter().map(|a| a.ip).collect();
    // Node ports by protocol; `None` address: any node address.
    let mut node_ports: BTreeMap<(Protocol, u16), BTreeSet<Option<IpAddr>>> = BTreeMap::new();
    let mut sets = IpSet::new_in(netns)?;
    for name in sets.list_names(None)? {
        if !is_kube_proxy_set(name.as_str()) {
            continue;
        }
        if sets_in_use.contains(name.as_str()) {
            plan.sets_kept.push(name.to_string());
        } else {
            plan.sets.push(name.to_string());
        }
        read_evidence(&mut sets, &name, &mut bound, &mut node_ports)?;
    }
    let mut ipvs = match Ipvs::new_in(netns) {
        Ok(ipvs) => ipvs,
        Err(kipvs_netlink::Error::FamilyNotFound { .. }) => {
            plan.skipped
                .push("IPVS: not available in this kernel, so no IPVS services".into());
            return Ok(plan);
        }
        Err(e) => return Err(e.into()),
    };
    for service in ipvs.services()? {
        let ServiceKey::Addr {
            protocol,
            addr,
            port,
        } = service.key
        else {
            plan.services_kept.push(service.key);
            continue;
        };
        let evidence = if bound.contains(&addr) {
            Some(Evidence::BoundOnKubeIpvs0)
        } else if node_addrs.contains(&addr)
            && node_ports
                .get(&(protocol, port))
                .is_some_and(|on| on.contains(&None) || on.contains(&Some(addr)))
        {
            Some(Evidence::NodePort)
        } else {
            None
        };
        match evidence {
            Some(evidence) => {
                let destinations = ipvs.destinations(&service.key)?.len();
                plan.services.push(DoomedService {
                    key: service.key,
                    evidence,
                    destinations,
                });
            }
            None => plan.services_kept.push(service.key),
        }
    }
    Ok(plan)
}

fn read_evidence(
    sets: &mut IpSet,
    name: &SetName,
    bound: &mut BTreeSet<IpAddr>,
    node_ports: &mut BTreeMap<(Protocol, u16), BTreeSet<Option<IpAddr>>>,
) -> Result<()> {
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
                    bound.insert(ip);
                }
                (Some(proto), ip, Some((from, to))) => {
                    for port in from..=to {
                        node_ports.entry((proto, port)).or_default().insert(ip);
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
