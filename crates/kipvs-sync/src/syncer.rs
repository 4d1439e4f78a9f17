//! [`Syncer`]: the loop helper for controllers. It keeps the state it last
//! observed (and then wrote), so a steady-state sync reads only what it
//! must: the connection counts of draining real servers.

use std::{
    collections::BTreeMap,
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use kipvs_ipset::{Set, SetName};
use kipvs_netlink::NetNs;

use crate::{
    apply::{apply, Report},
    observed::{Kernel, ObservedService},
    plan::{canon, clean_dest, plan, DrainBook, PlanOptions},
    Change, Desired, Observed, Plan, Result, Scope,
};

/// How a [`Syncer`] works.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOptions {
    /// How to plan (pruning, drain deadline, set replacement).
    pub plan: PlanOptions,
    /// Read the whole state again after this long, to notice changes made
    /// behind the syncer's back (someone's `ipvsadm -D`). kube-proxy
    /// resyncs every 30 s; the default here is 5 minutes.
    pub resync_interval: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            plan: PlanOptions::default(),
            resync_interval: Duration::from_secs(300),
        }
    }
}

/// What a syncer has read from the kernel so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Full reads of the managed state.
    pub full: u64,
    /// Real-server dumps of services with draining real servers.
    pub draining: u64,
    /// Sets read because the desired state named one not read before.
    pub sets: u64,
}

type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Keeps the kernel equal to a desired state, sync after sync.
///
/// The first sync reads the managed state (every service and its real
/// servers, the named sets, the interface's addresses). Later syncs plan
/// against what the syncer last saw and wrote, and read again in full only
/// after a change failed (the kernel may hold something else than
/// planned), when [`SyncOptions::resync_interval`] has passed, when the
/// desired state manages a part it did not before, or after
/// [`Syncer::invalidate`]. In between, the only reads are the real-server
/// dumps of services with draining real servers (their connection counts
/// decide when they go) and sets named for the first time.
///
/// A `Syncer` is `Send`: run it in a thread of its own or hand it to
/// `spawn_blocking`; each call blocks until the kernel has answered.
pub struct Syncer {
    kernel: Kernel,
    options: SyncOptions,
    observed: Option<Observed>,
    read_scope: Scope,
    last_read: Option<Instant>,
    book: DrainBook,
    clock: Clock,
    reads: ReadStats,
}

impl fmt::Debug for Syncer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Syncer")
            .field("options", &self.options)
            .field("cached", &self.observed.is_some())
            .field("draining", &self.book.len())
            .field("reads", &self.reads)
            .finish_non_exhaustive()
    }
}

impl Syncer {
    /// A syncer for `netns`. No socket is opened before the first sync.
    pub fn new(netns: NetNs, options: SyncOptions) -> Self {
        Syncer {
            kernel: Kernel::new(netns),
            options,
            observed: None,
            read_scope: Scope::default(),
            last_read: None,
            book: DrainBook::default(),
            clock: Arc::new(Instant::now),
            reads: ReadStats::default(),
        }
    }

    /// Replaces the clock (for tests of drain deadlines).
    pub fn with_clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Forgets the cached state: the next sync reads everything.
    pub fn invalidate(&mut self) {
        self.observed = None;
    }

    /// What the syncer has read so far.
    pub fn reads(&self) -> ReadStats {
        self.reads
    }

    /// The state the next plan starts from, if one is cached.
    pub fn observed(&self) -> Option<&Observed> {
        self.observed.as_ref()
    }

    /// The kernel handles (to read or write beside the syncer; call
    /// [`Syncer::invalidate`] after writing).
    pub fn kernel(&mut self) -> &mut Kernel {
        &mut self.kernel
    }

    /// Validates `desired`, brings the cached state up to date (see the
    /// type's documentation for when it reads), and plans. Nothing is
    /// written.
    pub fn plan(&mut self, desired: &Desired) -> Result<Plan> {
        desired.validate()?;
        let now = (self.clock)();
        if let Err(e) = self.refresh(desired, now) {
            self.observed = None;
            return Err(e);
        }
        let observed = self.observed.as_ref().expect("refreshed");
        Ok(plan(
            desired,
            observed,
            &self.options.plan,
            &mut self.book,
            now,
        ))
    }

    /// Plans and applies. The report lists what was and was not done; a
    /// report with failures makes the next sync read everything again.
    pub fn sync(&mut self, desired: &Desired) -> Result<Report> {
        let plan = self.plan(desired)?;
        Ok(self.apply(&plan))
    }

    /// Applies a plan made by [`Syncer::plan`] and updates the cache.
    pub fn apply(&mut self, plan: &Plan) -> Report {
        let report = apply(&mut self.kernel, plan);
        match (&mut self.observed, report.is_complete()) {
            (Some(o), true) => {
                for c in &report.applied {
                    absorb(o, c);
                }
            }
            _ => self.observed = None,
        }
        report
    }

    fn refresh(&mut self, desired: &Desired, now: Instant) -> Result<()> {
        let prune = self.options.plan.prune;
        let stale = match (&self.observed, self.last_read) {
            (Some(o), Some(at)) => {
                now.saturating_duration_since(at) >= self.options.resync_interval
                    || (desired.services.is_some() && o.services.is_none())
                    || (desired.ipsets.is_some() && o.sets.is_none())
                    || desired.addresses.as_ref().map(|a| &a.interface)
                        != o.addresses.as_ref().map(|a| &a.interface)
                    || (prune && self.read_scope != desired.scope)
            }
            _ => true,
        };
        if stale {
            self.observed = Some(self.kernel.observe(desired, prune)?);
            self.read_scope = desired.scope.clone();
            self.last_read = Some(now);
            self.reads.full += 1;
            return Ok(());
        }
        let o = self.observed.as_mut().expect("not stale");
        if let Some(services) = &mut o.services {
            for s in services.values_mut() {
                s.fresh = false;
            }
            // Real servers left at weight 0 and not desired are draining,
            // whether this process started them or an earlier one did.
            let mut keys = self.book.services();
            if let Some(want) = desired.service_map() {
                for (k, s) in services.iter() {
                    let undesired_idle = s.destinations.values().any(|d| {
                        d.weight == 0
                            && want.get(k).is_some_and(|w| {
                                !w.destinations
                                    .iter()
                                    .any(|x| (x.addr, x.port) == (d.addr, d.port))
                            })
                    });
                    if undesired_idle {
                        keys.insert(*k);
                    }
                }
            }
            let ipvs = self.kernel.ipvs()?;
            for k in keys {
                let Some(s) = services.get_mut(&k) else {
                    continue;
                };
                let dests = ipvs.destinations(&k)?;
                self.reads.draining += 1;
                s.destinations = dests.into_iter().map(|d| ((d.addr, d.port), d)).collect();
                s.fresh = true;
            }
        }
        if let (Some(sets), Some(have)) = (&desired.ipsets, &mut o.sets) {
            for s in sets {
                if !have.contains_key(&s.name) && o.set_names.contains(&s.name) {
                    self.reads.sets += 1;
                    match self.kernel.read_set(&s.name)? {
                        Some((n, set)) => {
                            have.insert(n, set);
                        }
                        None => {
                            o.set_names.remove(&s.name);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Updates the cached state with a change the kernel accepted.
fn absorb(o: &mut Observed, c: &Change) {
    let empty_set = |name: &SetName,
                     t,
                     opts: &kipvs_ipset::CreateOptions,
                     entries: &[kipvs_ipset::Entry]| Set {
        name: name.clone(),
        set_type: t,
        revision: 0,
        family: opts.family_for(t),
        options: opts.clone(),
        memsize: 0,
        references: 0,
        elements: entries.len() as u32,
        entries: entries.to_vec(),
    };
    match c {
        Change::AddService(s) | Change::EditService(s) => {
            if let Some(services) = &mut o.services {
                let e = services.entry(s.key).or_insert_with(|| ObservedService {
                    service: s.clone(),
                    destinations: BTreeMap::new(),
                    fresh: true,
                });
                e.service = s.clone();
            }
        }
        Change::DeleteService(k) => {
            if let Some(services) = &mut o.services {
                services.remove(k);
            }
        }
        Change::AddDestination(k, d)
        | Change::EditDestination(k, d)
        | Change::DrainDestination(k, d) => {
            if let Some(s) = o.services.as_mut().and_then(|m| m.get_mut(k)) {
                let slot = s
                    .destinations
                    .entry((d.addr, d.port))
                    .or_insert_with(|| clean_dest(d));
                let (active, inactive, persist) =
                    (slot.active_conns, slot.inactive_conns, slot.persist_conns);
                *slot = d.clone();
                slot.active_conns = active;
                slot.inactive_conns = inactive;
                slot.persist_conns = persist;
            }
        }
        Change::DeleteDestination(k, a, p) => {
            if let Some(s) = o.services.as_mut().and_then(|m| m.get_mut(k)) {
                s.destinations.remove(&(*a, *p));
            }
        }
        Change::CreateSet(n, t, opts) => {
            o.set_names.insert(n.clone());
            if let Some(sets) = &mut o.sets {
                sets.entry(n.clone())
                    .or_insert_with(|| empty_set(n, *t, opts, &[]));
            }
        }
        Change::RecreateSet(n, t, opts, e) | Change::ReplaceSet(n, t, opts, e) => {
            o.set_names.insert(n.clone());
            if let Some(sets) = &mut o.sets {
                sets.insert(n.clone(), empty_set(n, *t, opts, e));
            }
        }
        Change::AddEntries(n, _, add) => {
            if let Some(set) = o.sets.as_mut().and_then(|m| m.get_mut(n)) {
                let index: std::collections::HashMap<_, usize> = set
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (canon(e), i))
                    .collect();
                for e in add {
                    match index.get(&canon(e)) {
                        Some(i) => set.entries[*i] = e.clone(),
                        None => set.entries.push(e.clone()),
                    }
                }
            }
        }
        Change::DelEntries(n, _, del) => {
            if let Some(set) = o.sets.as_mut().and_then(|m| m.get_mut(n)) {
                let del: std::collections::HashSet<_> = del.iter().map(canon).collect();
                set.entries.retain(|e| !del.contains(&canon(e)));
            }
        }
        Change::DestroySet(n) => {
            o.set_names.remove(n);
            if let Some(sets) = &mut o.sets {
                sets.remove(n);
            }
        }
        Change::CreateLink(i) => {
            if let Some(a) = o.addresses.as_mut().filter(|a| &a.interface == i) {
                a.exists = true;
            }
        }
        Change::AddAddresses(i, list) => {
            if let Some(a) = o.addresses.as_mut().filter(|a| &a.interface == i) {
                a.addresses.extend(list.iter().copied());
            }
        }
        Change::DelAddresses(i, list) => {
            if let Some(a) = o.addresses.as_mut().filter(|a| &a.interface == i) {
                for x in list {
                    a.addresses.remove(x);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncer_is_send() {
        fn send<T: Send>() {}
        send::<Syncer>();
        send::<Report>();
        send::<Plan>();
        send::<Desired>();
    }
}
