//! The backup of IPVS mode's kernel objects, written before they go: the
//! ipsets in `ipset save` form (so `ipset restore` reads them too), the
//! IPVS services with their real servers, and `kube-ipvs0`'s addresses.
//!
//! ```text
//! create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 comment
//! add KUBE-CLUSTER-IP 10.96.0.1,tcp:443 comment "default/kubernetes:https"
//! service 6 10.96.0.1 443 rr 0 0 4294967295
//! dest 6 10.96.0.1 443 192.168.1.10 6443 masq 1 0 0
//! address 10.96.0.1/32
//! ```
//!
//! `service PROTOCOL ADDR PORT SCHEDULER FLAGS TIMEOUT NETMASK`,
//! `dest PROTOCOL ADDR PORT RS_ADDR RS_PORT FORWARD WEIGHT UPPER LOWER`
//! (thresholds), `address IP/PREFIX` on `kube-ipvs0`.

use std::{fmt::Write as _, net::IpAddr};

use kipvs_ipset::{CreateOptions, Entry, IpSet, SetName, SetType};
use kipvs_ipvs::{Destination, ForwardMethod, Ipvs, Protocol, Service, ServiceFlags, ServiceKey};
use kipvs_link::{Address, IfName, Links};
use kipvs_netlink::NetNs;

use crate::{kernel::KernelPlan, tokens, Error, Result};

/// The backup text of what `plan` removes, read from the kernel now.
pub fn save(netns: &NetNs, plan: &KernelPlan) -> Result<String> {
    let mut out = String::new();
    if !plan.sets.is_empty() {
        let mut sets = IpSet::new_in(netns)?;
        for name in &plan.sets {
            for set in sets.save(Some(&SetName::new(name.clone())?))? {
                let _ = writeln!(out, "{}", set.create_line());
                for e in &set.entries {
                    let _ = writeln!(out, "add {} {}", set.name, e.display(set.set_type));
                }
            }
        }
    }
    if !plan.services.is_empty() {
        let mut ipvs = Ipvs::new_in(netns)?;
        for doomed in &plan.services {
            let Ok(s) = ipvs.service(&doomed.key) else {
                continue;
            };
            let ServiceKey::Addr {
                protocol,
                addr,
                port,
            } = s.key
            else {
                continue;
            };
            let p = protocol.number();
            let _ = writeln!(
                out,
                "service {p} {addr} {port} {} {} {} {}",
                s.scheduler, s.flags.0, s.timeout, s.netmask
            );
            for d in ipvs.destinations(&s.key)? {
                let _ = writeln!(
                    out,
                    "dest {p} {addr} {port} {} {} {} {} {} {}",
                    d.addr,
                    d.port,
                    forward_name(d.forward),
                    d.weight,
                    d.upper_threshold,
                    d.lower_threshold
                );
            }
        }
    }
    for a in &plan.addresses {
        let _ = writeln!(out, "address {a}");
    }
    Ok(out)
}

/// Puts a kernel backup back: the sets (and their entries), `kube-ipvs0`
/// and its addresses, the services and their real servers. What exists
/// already is left as it is.
pub fn restore(netns: &NetNs, text: &str) -> Result<()> {
    let mut sets: Option<IpSet> = None;
    let mut set_types: Vec<(SetName, SetType, kipvs_ipset::Family)> = Vec::new();
    let mut ipvs: Option<Ipvs> = None;
    let mut links: Option<Links> = None;
    let kube = IfName::kube_ipvs0();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let bad = |reason: &str| Error::Parse {
            line: n + 1,
            text: line.to_owned(),
            reason: reason.to_owned(),
        };
        let words: Vec<String> = tokens::split(line)
            .ok_or_else(|| bad("unterminated quote"))?
            .into_iter()
            .map(|t| t.value)
            .collect();
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["create", name, ty, opts @ ..] => {
                let name = SetName::new(*name)?;
                let set_type: SetType = ty.parse()?;
                let options = CreateOptions::parse(set_type, opts)?;
                let family = options.family_for(set_type);
                let h = match sets.as_mut() {
                    Some(h) => h,
                    None => sets.insert(IpSet::new_in(netns)?),
                };
                h.create(&name, set_type, &options, true)?;
                set_types.push((name, set_type, family));
            }
            ["add", name, elem, opts @ ..] => {
                let (name, set_type, family) = set_types
                    .iter()
                    .find(|(s, ..)| s.as_str() == *name)
                    .cloned()
                    .ok_or_else(|| bad("add before the set's create"))?;
                let mut entry = Entry::parse(set_type, family, elem)?;
                entry.parse_options(opts)?;
                let h = sets.as_mut().ok_or_else(|| bad("add before create"))?;
                h.add(&name, &entry, true)?;
            }
            ["service", p, addr, port, sched, flags, timeout, netmask] => {
                let key = key(p, addr, port).ok_or_else(|| bad("bad service"))?;
                let mut s = Service::new(key).scheduler(sched.parse()?);
                s.flags = ServiceFlags(flags.parse().map_err(|_| bad("bad flags"))?);
                s.timeout = timeout.parse().map_err(|_| bad("bad timeout"))?;
                s.netmask = netmask.parse().map_err(|_| bad("bad netmask"))?;
                let h = match ipvs.as_mut() {
                    Some(h) => h,
                    None => ipvs.insert(Ipvs::new_in(netns)?),
                };
                match h.add_service(&s) {
                    Err(e) if e.is_exists() => {}
                    r => r?,
                }
            }
            ["dest", p, addr, port, raddr, rport, fwd, weight, upper, lower] => {
                let key = key(p, addr, port).ok_or_else(|| bad("bad service"))?;
                let raddr: IpAddr = raddr.parse().map_err(|_| bad("bad address"))?;
                let mut d = Destination::new(raddr, rport.parse().map_err(|_| bad("bad port"))?)
                    .forward(forward_of(fwd).ok_or_else(|| bad("bad forwarding method"))?)
                    .weight(weight.parse().map_err(|_| bad("bad weight"))?);
                d.upper_threshold = upper.parse().map_err(|_| bad("bad threshold"))?;
                d.lower_threshold = lower.parse().map_err(|_| bad("bad threshold"))?;
                let h = ipvs
                    .as_mut()
                    .ok_or_else(|| bad("dest before its service"))?;
                match h.add_destination(&key, &d) {
                    Err(e) if e.is_exists() => {}
                    r => r?,
                }
            }
            ["address", a] => {
                let a: Address = a.parse()?;
                let h = match links.as_mut() {
                    Some(h) => h,
                    None => {
                        let mut l = Links::new_in(netns)?;
                        l.ensure_dummy(&kube)?;
                        links.insert(l)
                    }
                };
                h.add_address(&kube, a)?;
            }
            _ => return Err(bad("not a line of a kipvs kernel backup")),
        }
    }
    Ok(())
}

fn key(p: &str, addr: &str, port: &str) -> Option<ServiceKey> {
    Some(ServiceKey::Addr {
        protocol: Protocol::from_number(p.parse().ok()?)?,
        addr: addr.parse().ok()?,
        port: port.parse().ok()?,
    })
}

fn forward_name(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masq => "masq",
        ForwardMethod::Local => "local",
        ForwardMethod::Tunnel => "tunnel",
        ForwardMethod::DirectRoute => "route",
    }
}

fn forward_of(s: &str) -> Option<ForwardMethod> {
    Some(match s {
        "masq" => ForwardMethod::Masq,
        "local" => ForwardMethod::Local,
        "tunnel" => ForwardMethod::Tunnel,
        "route" => ForwardMethod::DirectRoute,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_did_not_write() {
        for bad in [
            "bogus line",
            "dest 6 10.0.0.1 80 10.0.0.2 80 masq 1 0 0",
            "add S 1.2.3.4",
        ] {
            let e = restore(&NetNs::Current, bad).unwrap_err();
            assert!(matches!(e, Error::Parse { line: 1, .. }), "{bad}: {e}");
        }
        assert!(key("6", "10.0.0.1", "80").is_some());
        assert!(key("7", "10.0.0.1", "80").is_none());
        for f in [
            ForwardMethod::Masq,
            ForwardMethod::Local,
            ForwardMethod::Tunnel,
            ForwardMethod::DirectRoute,
        ] {
            assert_eq!(forward_of(forward_name(f)), Some(f));
        }
    }
}
