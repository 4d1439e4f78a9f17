//! Applying a plan: batched writes, and a report of what was and was not
//! done.

use std::collections::HashSet;

use kipvs_ipset::{Entry, IpSet, SetName};
use kipvs_ipvs::{Op, ServiceKey};
use kipvs_link::{Address, IfName};
use kipvs_netlink::Error as NlError;

use crate::{observed::Kernel, plan::Draining, Change, Plan};

/// A change the kernel (or the system) refused.
#[derive(Debug)]
pub struct Failure {
    /// The change, narrowed to what failed (one entry of a bulk add).
    pub change: Change,
    /// What the kernel said, with the object in its context.
    pub error: NlError,
}

/// A change not attempted because one it depends on failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The change.
    pub change: Change,
    /// Why: `service TCP 10.96.0.1:80 was not added`.
    pub reason: String,
}

/// What an [`apply`] did.
#[derive(Debug, Default)]
pub struct Report {
    /// Changes made (a bulk change narrowed to the elements that went in).
    pub applied: Vec<Change>,
    /// Changes refused.
    pub failed: Vec<Failure>,
    /// Changes not attempted.
    pub skipped: Vec<Skipped>,
    /// Removed real servers still draining.
    pub draining: Vec<Draining>,
}

impl Report {
    /// True when every change of the plan was made.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }

    /// How many kernel objects were changed.
    pub fn count(&self) -> usize {
        self.applied.iter().map(Change::count).sum()
    }
}

/// Applies `plan` through `kernel`'s handles. Independent changes go on
/// past a refused one; a refused service add skips its real servers, a
/// refused set create its entries, a refused link its addresses. Only a
/// failure to talk to the kernel at all (a socket error) ends it early;
/// then the changes not yet sent are in [`Report::skipped`].
pub fn apply(kernel: &mut Kernel, plan: &Plan) -> Report {
    let mut r = Report {
        draining: plan.draining.clone(),
        ..Report::default()
    };
    let mut failed_sets: HashSet<SetName> = HashSet::new();
    let mut failed_links: HashSet<IfName> = HashSet::new();
    let changes = &plan.changes;
    let mut i = 0;
    while i < changes.len() {
        if is_ipvs(&changes[i]) {
            let end = changes[i..]
                .iter()
                .position(|c| !is_ipvs(c))
                .map_or(changes.len(), |n| i + n);
            apply_ipvs(kernel, &changes[i..end], &mut r);
            i = end;
            continue;
        }
        let c = &changes[i];
        i += 1;
        match c {
            Change::CreateSet(name, ..)
            | Change::RecreateSet(name, ..)
            | Change::ReplaceSet(name, ..)
            | Change::AddEntries(name, ..)
            | Change::DelEntries(name, ..)
            | Change::DestroySet(name) => {
                if failed_sets.contains(name) {
                    r.skipped.push(Skipped {
                        change: c.clone(),
                        reason: format!("set {name} was not made"),
                    });
                    continue;
                }
                let ipset = match kernel.ipset() {
                    Ok(h) => h,
                    Err(e) => {
                        failed_sets.insert(name.clone());
                        r.failed.push(Failure {
                            change: c.clone(),
                            error: into_nl(e),
                        });
                        continue;
                    }
                };
                if !apply_set(ipset, c, &mut r) {
                    failed_sets.insert(name.clone());
                }
            }
            Change::CreateLink(name)
            | Change::AddAddresses(name, _)
            | Change::DelAddresses(name, _) => {
                if failed_links.contains(name) {
                    r.skipped.push(Skipped {
                        change: c.clone(),
                        reason: format!("link {name} was not made"),
                    });
                    continue;
                }
                if !apply_link(kernel, c, &mut r) && matches!(c, Change::CreateLink(_)) {
                    failed_links.insert(name.clone());
                }
            }
            _ => unreachable!("IPVS changes are handled above"),
        }
    }
    r
}

fn is_ipvs(c: &Change) -> bool {
    matches!(
        c,
        Change::AddService(_)
            | Change::EditService(_)
            | Change::DeleteService(_)
            | Change::AddDestination(..)
            | Change::EditDestination(..)
            | Change::DrainDestination(..)
            | Change::DeleteDestination(..)
    )
}

fn to_op(c: &Change) -> Op {
    match c {
        Change::AddService(s) => Op::AddService(s.clone()),
        Change::EditService(s) => Op::EditService(s.clone()),
        Change::DeleteService(k) => Op::DeleteService(*k),
        Change::AddDestination(k, d) => Op::AddDestination(*k, d.clone()),
        Change::EditDestination(k, d) | Change::DrainDestination(k, d) => {
            Op::EditDestination(*k, d.clone())
        }
        Change::DeleteDestination(k, a, p) => Op::DeleteDestination(*k, *a, *p),
        _ => unreachable!("not an IPVS change"),
    }
}

fn service_of(c: &Change) -> Option<&ServiceKey> {
    match c {
        Change::AddDestination(k, _)
        | Change::EditDestination(k, _)
        | Change::DrainDestination(k, _)
        | Change::DeleteDestination(k, ..) => Some(k),
        _ => None,
    }
}

/// Two batches: the services first, then, without the real servers of
/// services that could not be added, everything else.
fn apply_ipvs(kernel: &mut Kernel, changes: &[Change], r: &mut Report) {
    let ipvs = match kernel.ipvs() {
        Ok(h) => h,
        Err(e) => {
            let reason = e.to_string();
            let mut it = changes.iter();
            if let Some(first) = it.next() {
                r.failed.push(Failure {
                    change: first.clone(),
                    error: into_nl(e),
                });
            }
            r.skipped.extend(it.map(|c| Skipped {
                change: c.clone(),
                reason: reason.clone(),
            }));
            return;
        }
    };
    let (first, rest): (Vec<&Change>, Vec<&Change>) = changes
        .iter()
        .partition(|c| matches!(c, Change::AddService(_) | Change::EditService(_)));
    let mut not_added: HashSet<ServiceKey> = HashSet::new();
    for (c, ok) in batch(ipvs, &first, r) {
        if let (Change::AddService(s), false) = (c, ok) {
            not_added.insert(s.key);
        }
    }
    let (skip, go): (Vec<&Change>, Vec<&Change>) = rest
        .into_iter()
        .partition(|c| service_of(c).is_some_and(|k| not_added.contains(k)));
    r.skipped.extend(skip.into_iter().map(|c| Skipped {
        change: c.clone(),
        reason: format!(
            "service {} was not added",
            service_of(c).expect("a real server")
        ),
    }));
    batch(ipvs, &go, r);
}

/// Sends `changes` in one batch; records each outcome; returns them.
fn batch<'a>(
    ipvs: &mut kipvs_ipvs::Ipvs,
    changes: &[&'a Change],
    r: &mut Report,
) -> Vec<(&'a Change, bool)> {
    if changes.is_empty() {
        return Vec::new();
    }
    match ipvs.apply(changes.iter().map(|c| to_op(c))) {
        Ok(errors) => {
            let mut ok = vec![true; changes.len()];
            for e in errors {
                if let Some(c) = changes.get(e.index) {
                    ok[e.index] = false;
                    r.failed.push(Failure {
                        change: (*c).clone(),
                        error: NlError::Kernel(e.error),
                    });
                }
            }
            for (c, ok) in changes.iter().zip(&ok) {
                if *ok {
                    r.applied.push((*c).clone());
                }
            }
            changes.iter().copied().zip(ok).collect()
        }
        Err(e) => {
            let reason = e.to_string();
            r.failed.push(Failure {
                change: changes[0].clone(),
                error: e,
            });
            r.skipped.extend(changes[1..].iter().map(|c| Skipped {
                change: (*c).clone(),
                reason: reason.clone(),
            }));
            changes.iter().map(|c| (*c, false)).collect()
        }
    }
}

/// Applies one set change; false when it (or part of it) failed.
fn apply_set(ipset: &mut IpSet, c: &Change, r: &mut Report) -> bool {
    let result = match c {
        Change::CreateSet(name, t, o) => ipset.create(name, *t, o, true),
        Change::DestroySet(name) => ipset.destroy(Some(name)),
        Change::RecreateSet(name, t, o, entries) => ipset
            .destroy(Some(name))
            .and_then(|()| ipset.create(name, *t, o, false))
            .and_then(|()| ipset.add_many(name, entries, true).map_err(|b| b.error)),
        Change::ReplaceSet(name, t, o, entries) => {
            let tmp = temp_name();
            let mut o = o.clone();
            // The swapped-in set gets a seed of its own.
            o.initval = None;
            let filled = ipset
                .create(&tmp, *t, &o, false)
                .and_then(|()| ipset.add_many(&tmp, entries, true).map_err(|b| b.error))
                .and_then(|()| ipset.swap(name, &tmp));
            let cleaned = ipset.destroy(Some(&tmp));
            filled.and(cleaned)
        }
        Change::AddEntries(name, t, entries) => {
            return bulk(ipset, name, *t, entries, true, r);
        }
        Change::DelEntries(name, t, entries) => {
            return bulk(ipset, name, *t, entries, false, r);
        }
        _ => unreachable!("not a set change"),
    };
    match result {
        Ok(()) => {
            r.applied.push(c.clone());
            true
        }
        Err(error) => {
            r.failed.push(Failure {
                change: c.clone(),
                error,
            });
            false
        }
    }
}

/// Adds or deletes entries in bulk. The kernel stops a message at its
/// first refused element: that one is reported, and the rest are sent
/// again, so one bad entry costs one failure, not the set.
fn bulk(
    ipset: &mut IpSet,
    name: &SetName,
    t: kipvs_ipset::SetType,
    entries: &[Entry],
    add: bool,
    r: &mut Report,
) -> bool {
    let make = |e: Vec<Entry>| {
        if add {
            Change::AddEntries(name.clone(), t, e)
        } else {
            Change::DelEntries(name.clone(), t, e)
        }
    };
    let mut rest = entries;
    let mut done: Vec<Entry> = Vec::new();
    let mut all_ok = true;
    while !rest.is_empty() {
        let result = if add {
            ipset.add_many(name, rest, true)
        } else {
            ipset.del_many(name, rest, true)
        };
        match result {
            Ok(()) => {
                done.extend_from_slice(rest);
                break;
            }
            Err(b) => {
                all_ok = false;
                let at = b.index.min(rest.len() - 1);
                done.extend_from_slice(&rest[..at]);
                let socket_level = b.error.kernel().is_none();
                r.failed.push(Failure {
                    change: make(vec![rest[at].clone()]),
                    error: b.error,
                });
                if socket_level {
                    r.skipped.push(Skipped {
                        change: make(rest[at + 1..].to_vec()),
                        reason: "the ipset socket failed".into(),
                    });
                    break;
                }
                rest = &rest[at + 1..];
            }
        }
    }
    if !done.is_empty() {
        r.applied.push(make(done));
    }
    all_ok
}

/// Applies one link change; false when it (or part of it) failed.
fn apply_link(kernel: &mut Kernel, c: &Change, r: &mut Report) -> bool {
    let links = match kernel.links() {
        Ok(l) => l,
        Err(e) => {
            r.failed.push(Failure {
                change: c.clone(),
                error: into_nl(e),
            });
            return false;
        }
    };
    let (name, list, add) = match c {
        Change::CreateLink(name) => {
            return match links.ensure_dummy(name) {
                Ok(_) => {
                    r.applied.push(c.clone());
                    true
                }
                Err(error) => {
                    r.failed.push(Failure {
                        change: c.clone(),
                        error,
                    });
                    false
                }
            };
        }
        Change::AddAddresses(name, list) => (name, list, true),
        Change::DelAddresses(name, list) => (name, list, false),
        _ => unreachable!("not a link change"),
    };
    let result = if add {
        links.add_addresses(name, list.iter().copied()).map(drop)
    } else {
        links.delete_addresses(name, list.iter().copied()).map(drop)
    };
    let make = |l: Vec<Address>| {
        if add {
            Change::AddAddresses(name.clone(), l)
        } else {
            Change::DelAddresses(name.clone(), l)
        }
    };
    match result {
        Ok(()) => {
            r.applied.push(c.clone());
            true
        }
        Err(error) => {
            // The kernel went on past the refusal; the one error returned
            // does not say which went in, so read the link back.
            let now: HashSet<Address> = links
                .addresses(name)
                .map(|v| v.into_iter().collect())
                .unwrap_or_default();
            let (done, not): (Vec<Address>, Vec<Address>) =
                list.iter().partition(|a| now.contains(a) == add);
            if !done.is_empty() {
                r.applied.push(make(done));
            }
            r.failed.push(Failure {
                change: make(if not.is_empty() { not } else { list.clone() }),
                error,
            });
            false
        }
    }
}

fn into_nl(e: crate::Error) -> NlError {
    match e {
        crate::Error::Kernel(e) => e,
        other => NlError::invalid("state", "", other.to_string()),
    }
}

fn temp_name() -> SetName {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    SetName::new(format!("kipvs-sync-{}-{n}", std::process::id())).expect("at most 31 bytes")
}
