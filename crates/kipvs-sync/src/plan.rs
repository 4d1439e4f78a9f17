//! The planner: desired state against observed state, in memory, with no
//! I/O. A plan lists the fewest changes, in the order they are applied.

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    net::IpAddr,
    time::{Duration, Instant},
};

use kipvs_ipset::{CreateOptions, Entry, Part, Set};
use kipvs_ipvs::{Destination, ForwardMethod, Protocol, Service, ServiceFlags, ServiceKey, Stats};

use crate::{
    observed::{DestKey, ObservedService},
    Change, Desired, DesiredSet, Observed,
};

/// How to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Remove services, sets and addresses that are not desired, when the
    /// desired state's [`Scope`](crate::Scope) owns them.
    pub prune: bool,
    /// How long a removed TCP real server may drain (weight 0) before it is
    /// deleted with connections left. kube-proxy's default is 15 minutes.
    pub drain_timeout: Duration,
    /// Swap-replace a set instead of editing it when more than this share
    /// of its entries changes...
    pub replace_ratio: f64,
    /// ...and it has at least this many entries.
    pub replace_min: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            prune: false,
            drain_timeout: Duration::from_secs(15 * 60),
            replace_ratio: 0.5,
            replace_min: 256,
        }
    }
}

/// A real server waiting for its connections to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draining {
    /// Its service.
    pub service: ServiceKey,
    /// Its address.
    pub addr: IpAddr,
    /// Its port.
    pub port: u16,
    /// Active connections when last read.
    pub active_conns: u32,
    /// Inactive connections when last read.
    pub inactive_conns: u32,
    /// Time left before it is deleted anyway.
    pub left: Duration,
}

/// The changes that make the kernel hold the desired state, in the order
/// [`apply`](crate::apply) makes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The changes.
    pub changes: Vec<Change>,
    /// Removed real servers left draining (no change this time).
    pub draining: Vec<Draining>,
}

impl Plan {
    /// True when nothing is to be changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many kernel objects the plan touches.
    pub fn count(&self) -> usize {
        self.changes.iter().map(Change::count).sum()
    }
}

/// When each removed real server started draining, as this process saw it.
/// A restarted process finds them again (weight 0, not desired) and starts
/// their clocks anew.
#[derive(Debug, Clone, Default)]
pub struct DrainBook {
    started: HashMap<(ServiceKey, DestKey), Instant>,
}

impl DrainBook {
    /// How many real servers are draining.
    pub fn len(&self) -> usize {
        self.started.len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.started.is_empty()
    }

    /// The services with draining real servers.
    pub fn services(&self) -> BTreeSet<ServiceKey> {
        self.started.keys().map(|(k, _)| *k).collect()
    }
}

enum Verdict {
    Delete,
    Drain,
    Wait(Duration),
}

/// kube-proxy's rule: UDP and SCTP real servers go at once (no connection
/// to wait for), others as soon as they have no connections left, or when
/// the deadline passes.
fn verdict(
    key: &ServiceKey,
    d: &Destination,
    fresh: bool,
    since: Instant,
    now: Instant,
    timeout: Duration,
) -> Verdict {
    let graceful = !matches!(
        key,
        ServiceKey::Addr {
            protocol: Protocol::Udp | Protocol::Sctp,
            ..
        }
    );
    let elapsed = now.saturating_duration_since(since);
    if !graceful || (fresh && d.active_conns + d.inactive_conns == 0) || elapsed >= timeout {
        Verdict::Delete
    } else if d.weight != 0 {
        Verdict::Drain
    } else {
        Verdict::Wait(timeout - elapsed)
    }
}

/// Plans the changes from `observed` to `desired` at time `now`; `book`
/// keeps when removed real servers started draining.
pub fn plan(
    desired: &Desired,
    observed: &Observed,
    options: &PlanOptions,
    book: &mut DrainBook,
    now: Instant,
) -> Plan {
    let mut p = Phases::default();
    let mut still_draining = HashSet::new();
    if let (Some(want), Some(have)) = (desired.service_map(), &observed.services) {
        for (key, d) in &want {
            match have.get(key) {
                None => {
                    p.services
                        .push(Change::AddService(clean_service(&d.service)));
                    for dest in &d.destinations {
                        p.dests.push(Change::AddDestination(*key, clean_dest(dest)));
                    }
                }
                Some(o) => {
                    if !same_service(&d.service, &o.service) {
                        p.services
                            .push(Change::EditService(clean_service(&d.service)));
                    }
                    // Allocation-free: this runs for every service on
                    // every sync, nearly always to find nothing.
                    let mut found = 0;
                    for dest in &d.destinations {
                        match o.destinations.get(&(dest.addr, dest.port)) {
                            None => p.dests.push(Change::AddDestination(*key, clean_dest(dest))),
                            Some(cur) => {
                                found += 1;
                                if !same_dest(dest, cur) {
                                    p.dests
                                        .push(Change::EditDestination(*key, clean_dest(dest)));
                                }
                            }
                        }
                    }
                    if found == o.destinations.len() {
                        continue;
                    }
                    for (dk, cur) in &o.destinations {
                        if d.destinations.iter().any(|x| (x.addr, x.port) == *dk) {
                            continue;
                        }
                        remove_dest(&mut p, book, &mut still_draining, key, o, cur, options, now);
                    }
                }
            }
        }
        if options.prune {
            for (key, o) in have {
                if want.contains_key(key) || !desired.scope.owns_service(key) {
                    continue;
                }
                let before = p.dests.len();
                let draining_before = p.draining.len();
                for cur in o.destinations.values() {
                    remove_dest(&mut p, book, &mut still_draining, key, o, cur, options, now);
                }
                let all_gone = p.draining.len() == draining_before
                    && p.dests[before..]
                        .iter()
                        .all(|c| matches!(c, Change::DeleteDestination(..)));
                if all_gone {
                    // One delete takes the service and its real servers.
                    p.dests.truncate(before);
                    p.service_deletes.push(Change::DeleteService(*key));
                }
            }
        }
    }
    book.started.retain(|k, _| still_draining.contains(k));

    if let Some(sets) = &desired.ipsets {
        let empty = BTreeMap::new();
        let have = observed.sets.as_ref().unwrap_or(&empty);
        for s in sets {
            match have.get(&s.name) {
                None => {
                    p.sets.push(Change::CreateSet(
                        s.name.clone(),
                        s.set_type,
                        s.options.clone(),
                    ));
                    if !s.entries.is_empty() {
                        p.sets.push(Change::AddEntries(
                            s.name.clone(),
                            s.set_type,
                            s.entries.clone(),
                        ));
                    }
                }
                Some(cur) => plan_set(&mut p, s, cur, options),
            }
        }
        if options.prune {
            let wanted: HashSet<_> = sets.iter().map(|s| &s.name).collect();
            for name in have.keys() {
                if !wanted.contains(name) && desired.scope.owns_set(name) {
                    p.set_destroys.push(Change::DestroySet(name.clone()));
                }
            }
        }
    }

    if let (Some(want), Some(have)) = (&desired.addresses, &observed.addresses) {
        if !have.exists || have.interface != want.interface {
            p.links.push(Change::CreateLink(want.interface.clone()));
        }
        let wanted: BTreeSet<_> = want.addresses.iter().copied().collect();
        let current: &BTreeSet<_> = &have.addresses;
        let add: Vec<_> = wanted.difference(current).copied().collect();
        if !add.is_empty() {
            p.links
                .push(Change::AddAddresses(want.interface.clone(), add));
        }
        if options.prune {
            let del: Vec<_> = current
                .difference(&wanted)
                .filter(|a| !is_link_local(&a.ip) && desired.scope.owns_address(&a.ip))
                .copied()
                .collect();
            if !del.is_empty() {
                p.address_deletes
                    .push(Change::DelAddresses(want.interface.clone(), del));
            }
        }
    }
    p.finish()
}

#[allow(clippy::too_many_arguments)]
fn remove_dest(
    p: &mut Phases,
    book: &mut DrainBook,
    still: &mut HashSet<(ServiceKey, DestKey)>,
    key: &ServiceKey,
    o: &ObservedService,
    cur: &Destination,
    options: &PlanOptions,
    now: Instant,
) {
    let id = (*key, (cur.addr, cur.port));
    let since = *book.started.entry(id).or_insert(now);
    match verdict(key, cur, o.fresh, since, now, options.drain_timeout) {
        Verdict::Delete => p
            .dests
            .push(Change::DeleteDestination(*key, cur.addr, cur.port)),
        Verdict::Drain => {
            still.insert(id);
            let mut d = clean_dest(cur);
            d.weight = 0;
            p.dests.push(Change::DrainDestination(*key, d));
        }
        Verdict::Wait(left) => {
            still.insert(id);
            p.draining.push(Draining {
                service: *key,
                addr: cur.addr,
                port: cur.port,
                active_conns: cur.active_conns,
                inactive_conns: cur.inactive_conns,
                left,
            });
        }
    }
}

fn plan_set(p: &mut Phases, s: &DesiredSet, cur: &Set, options: &PlanOptions) {
    let family = s.options.family_for(s.set_type);
    if cur.set_type != s.set_type || cur.family != family {
        p.sets.push(Change::RecreateSet(
            s.name.clone(),
            s.set_type,
            s.options.clone(),
            s.entries.clone(),
        ));
        return;
    }
    if !same_options(&s.options, &cur.options) {
        p.sets.push(Change::ReplaceSet(
            s.name.clone(),
            s.set_type,
            s.options.clone(),
            s.entries.clone(),
        ));
        return;
    }
    let have: HashMap<Cow<[Part]>, &Entry> =
        cur.entries.iter().map(|e| (canon_parts(e), e)).collect();
    let want: HashSet<Cow<[Part]>> = s.entries.iter().map(canon_parts).collect();
    let add: Vec<Entry> = s
        .entries
        .iter()
        .filter(|e| match have.get(&canon_parts(e)) {
            None => true,
            Some(c) => !same_entry_options(e, c),
        })
        .cloned()
        .collect();
    let del: Vec<Entry> = cur
        .entries
        .iter()
        .filter(|e| !want.contains(&canon_parts(e)))
        .map(Entry::key)
        .collect();
    let changed = add.len() + del.len();
    let size = s.entries.len().max(cur.entries.len());
    if size >= options.replace_min && changed as f64 > options.replace_ratio * size as f64 {
        p.sets.push(Change::ReplaceSet(
            s.name.clone(),
            s.set_type,
            s.options.clone(),
            s.entries.clone(),
        ));
        return;
    }
    if !del.is_empty() {
        p.sets
            .push(Change::DelEntries(s.name.clone(), s.set_type, del));
    }
    if !add.is_empty() {
        p.sets
            .push(Change::AddEntries(s.name.clone(), s.set_type, add));
    }
}

/// The changes by phase: sets and addresses first (a service's address is
/// bound before the service exists), services before their real servers,
/// deletions last.
#[derive(Default)]
struct Phases {
    sets: Vec<Change>,
    links: Vec<Change>,
    services: Vec<Change>,
    dests: Vec<Change>,
    service_deletes: Vec<Change>,
    address_deletes: Vec<Change>,
    set_destroys: Vec<Change>,
    draining: Vec<Draining>,
}

impl Phases {
    fn finish(self) -> Plan {
        let mut changes = self.sets;
        changes.extend(self.links);
        changes.extend(self.services);
        changes.extend(self.dests);
        changes.extend(self.service_deletes);
        changes.extend(self.address_deletes);
        changes.extend(self.set_destroys);
        Plan {
            changes,
            draining: self.draining,
        }
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// A service as written: no statistics, no kernel-only flag.
pub(crate) fn clean_service(s: &Service) -> Service {
    let mut s = s.clone();
    s.stats = Stats::default();
    s.flags.0 &= !ServiceFlags::HASHED;
    s
}

/// A real server as written: no counters.
pub(crate) fn clean_dest(d: &Destination) -> Destination {
    let mut d = d.clone();
    d.active_conns = 0;
    d.inactive_conns = 0;
    d.persist_conns = 0;
    d.stats = Stats::default();
    if d.forward != ForwardMethod::Tunnel {
        d.tunnel_type = Default::default();
        d.tunnel_port = 0;
        d.tunnel_flags = 0;
    }
    d
}

fn same_service(want: &Service, have: &Service) -> bool {
    let flags = |s: &Service| s.flags.0 & !ServiceFlags::HASHED;
    want.scheduler == have.scheduler
        && flags(want) == flags(have)
        && want.netmask == have.netmask
        && want.pe_name == have.pe_name
        // The timeout means something with persistence only; the kernel
        // keeps what it was given either way.
        && (want.timeout == have.timeout || !want.flags.has(ServiceFlags::PERSISTENT))
}

/// Compares what a write sets, field by field: this runs for every real
/// server on every sync, so it allocates nothing.
fn same_dest(want: &Destination, have: &Destination) -> bool {
    // A real server at a local address is forwarded locally whatever it
    // was given (`__ip_vs_update_dest` forces IP_VS_CONN_F_LOCALNODE), so
    // the kernel lists it as "local": asking again changes nothing.
    let forward = want.forward == have.forward || have.forward == ForwardMethod::Local;
    let tunnel = want.forward != ForwardMethod::Tunnel
        || (want.tunnel_type == have.tunnel_type
            && want.tunnel_port == have.tunnel_port
            && want.tunnel_flags == have.tunnel_flags);
    forward
        && tunnel
        && want.weight == have.weight
        && want.upper_threshold == have.upper_threshold
        && want.lower_threshold == have.lower_threshold
}

/// Options that a set's listing reports as given. `hashsize`, `bucketsize`
/// and `initval` are the kernel's to round and grow; `None` on the desired
/// side means "whatever the kernel has".
fn same_options(want: &CreateOptions, have: &CreateOptions) -> bool {
    fn eq<T: PartialEq>(w: &Option<T>, h: &Option<T>) -> bool {
        w.is_none() || w == h
    }
    eq(&want.maxelem, &have.maxelem)
        && eq(&want.netmask, &have.netmask)
        && eq(&want.markmask, &have.markmask)
        && eq(&want.size, &have.size)
        && want.timeout.is_some() == have.timeout.is_some()
        && eq(&want.timeout, &have.timeout)
        && want.counters == have.counters
        && want.comment == have.comment
        && want.skbinfo == have.skbinfo
        && want.forceadd == have.forceadd
        && want.range == have.range
}

/// An element in one form whatever way it was written: the kernel lists
/// `10.0.0.1/32` of a hash:net as `10.0.0.1`.
pub(crate) fn canon(e: &Entry) -> Entry {
    Entry::new(canon_parts(e).into_owned())
}

/// The parts of [`canon`], borrowed when nothing needs changing (nearly
/// always: this runs for every entry on every sync).
fn canon_parts(e: &Entry) -> Cow<'_, [Part]> {
    let full = |ip: &kipvs_ipset::IpPart| ip.cidr == Some(if ip.addr.is_ipv6() { 128 } else { 32 });
    if !e
        .parts
        .iter()
        .any(|p| matches!(p, Part::Ip(ip) if full(ip)))
    {
        return Cow::Borrowed(&e.parts);
    }
    let mut parts = e.parts.clone();
    for part in &mut parts {
        if let Part::Ip(ip) = part {
            if full(ip) {
                ip.cidr = None;
            }
        }
    }
    Cow::Owned(parts)
}

/// Options that an add with `-exist` updates; timeouts and counters run
/// on their own and are not compared.
fn same_entry_options(want: &Entry, have: &Entry) -> bool {
    want.nomatch == have.nomatch
        && (want.comment.is_none() || want.comment == have.comment)
        && (want.skbmark.is_none() || want.skbmark == have.skbmark)
        && (want.skbprio.is_none() || want.skbprio == have.skbprio)
        && (want.skbqueue.is_none() || want.skbqueue == have.skbqueue)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
