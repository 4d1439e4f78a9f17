//! Diff-based sync: make a set hold exactly the desired entries, with the
//! desired per-entry extensions, touching only what differs.

use std::collections::HashMap;

use crate::{
    entry::{Entry, Part},
    handle::IpSet,
    types::{SetName, SetType},
    Error, Result,
};

/// What [`IpSet::sync`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SyncStats {
    /// Elements added.
    pub added: usize,
    /// Elements deleted.
    pub deleted: usize,
    /// Elements present with other extensions, re-added with the desired
    /// ones.
    pub updated: usize,
}

impl IpSet {
    /// Makes `name` hold exactly `entries`, touching only the difference:
    /// deletes the extra elements, adds the missing ones, and re-adds an
    /// element that is present with other extensions than desired.
    ///
    /// Elements are identified by their parts ([`Entry::key`]); of several
    /// desired entries with one key the last counts. The extensions a
    /// listing shows are reconciled:
    ///
    /// * `comment`, `skbmark`, `skbprio`, `skbqueue`: as desired (an
    ///   absent one, or a zero skb value, clears the listed one);
    /// * `nomatch`, on the types that take it;
    /// * `wildcard` (hash:net,iface): the kernel keeps the flag of the
    ///   first add and an exist re-add cannot change it, so such an
    ///   element is deleted and added again with its counters, and is
    ///   briefly absent;
    /// * `timeout`, only where the desired entry states one: it is a
    ///   lifetime to grant, so an element is re-added when its remaining
    ///   time is longer than desired or only one of the two is permanent
    ///   (0). An element counting down within its desired lifetime is left
    ///   alone, so repeating a sync writes nothing; refresh lifetimes with
    ///   [`IpSet::add_many`] and `exist`.
    ///
    /// Counters are the kernel's statistics: an element that is kept keeps
    /// them. A re-added element keeps its remaining timeout when the
    /// desired entry states none (the kernel would reset it to the set's
    /// default).
    ///
    /// The re-add goes without `NLM_F_EXCL`, which the kernel reads as
    /// `IPSET_FLAG_EXIST`: it overwrites the extensions of the element in
    /// place, so the element never leaves the set. Deletes go first, then
    /// adds and updates in as few messages as fit.
    pub fn sync(&mut self, name: &SetName, entries: &[Entry]) -> Result<SyncStats> {
        let current = self
            .list(Some(name))?
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("set", name, "not listed by the kernel"))?;
        let (extra, writes, stats) = plan(current.set_type, &current.entries, entries);
        self.del_many(name, &extra, true).map_err(|b| b.error)?;
        self.add_many(name, &writes, true).map_err(|b| b.error)?;
        Ok(stats)
    }
}

/// What a sync of `have` (a listing of a set of `set_type`) to `want`
/// does: the keys to delete, the entries to add or re-add (missing ones
/// first, in input order), and the counts.
fn plan(set_type: SetType, have: &[Entry], want: &[Entry]) -> (Vec<Entry>, Vec<Entry>, SyncStats) {
    // Keyed by the borrowed parts: no element is copied to be compared.
    let listed: HashMap<&[Part], &Entry> = have.iter().map(|e| (&e.parts[..], e)).collect();
    let mut wanted: HashMap<&[Part], usize> = HashMap::with_capacity(want.len());
    for (i, e) in want.iter().enumerate() {
        wanted.insert(&e.parts, i);
    }
    let extra: Vec<Entry> = have
        .iter()
        .filter(|e| !wanted.contains_key(&e.parts[..]))
        .map(Entry::key)
        .collect();
    let deleted = extra.len();
    let mut extra = extra;
    let (mut missing, mut updates) = (Vec::new(), Vec::new());
    for (i, e) in want.iter().enumerate() {
        if wanted.get(&e.parts[..]) != Some(&i) {
            continue;
        }
        match listed.get(&e.parts[..]) {
            None => missing.push(e.clone()),
            Some(l) if set_type == SetType::HashNetIface && e.wildcard != l.wildcard => {
                extra.push(e.key());
                let mut again = readd(e, l);
                (again.packets, again.bytes) = (l.packets, l.bytes);
                updates.push(again);
            }
            Some(l) => updates.extend(update(set_type, e, l)),
        }
    }
    let stats = SyncStats {
        added: missing.len(),
        deleted,
        updated: updates.len(),
    };
    missing.extend(updates);
    (extra, missing, stats)
}

/// The entry to re-add when `listed` has other extensions than `want`.
fn update(set_type: SetType, want: &Entry, listed: &Entry) -> Option<Entry> {
    // The kernel lists no skb value that is zero (ip_set_put_skbinfo).
    let skb = |e: &Entry| {
        (
            e.skbmark.filter(|m| *m != (0, 0)),
            e.skbprio.filter(|p| *p != (0, 0)),
            e.skbqueue.filter(|q| *q != 0),
        )
    };
    let differs = want.comment != listed.comment
        || skb(want) != skb(listed)
        || (set_type.takes_nomatch() && want.nomatch != listed.nomatch)
        || want
            .timeout
            .is_some_and(|t| lifetime_differs(listed.timeout, t));
    differs.then(|| readd(want, listed))
}

/// `want` as re-added over `listed`: without counters (the kernel's
/// statistics stay), and with the remaining timeout when `want` states
/// none (the kernel would reset it to the set's default).
fn readd(want: &Entry, listed: &Entry) -> Entry {
    let mut e = want.clone();
    e.packets = None;
    e.bytes = None;
    if e.timeout.is_none() {
        e.timeout = listed.timeout;
    }
    e
}

/// Whether an element with `listed` seconds left (0: permanent; none: the
/// set has no timeouts, and the re-add will say so) should be re-added to
/// live `wanted` seconds.
fn lifetime_differs(listed: Option<u32>, wanted: u32) -> bool {
    match listed {
        None => true,
        Some(left) => (left == 0) != (wanted == 0) || left > wanted,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn net(i: u8) -> Entry {
        Entry::net(Ipv4Addr::new(10, i, 0, 0), 16)
    }

    #[test]
    fn only_differing_extensions_are_rewritten() {
        let t = SetType::HashNet;
        let have = vec![net(1).comment("a"), net(2), net(3).timeout(100), net(4)];
        let want = vec![
            net(1).comment("b"),
            net(2).nomatch(),
            net(3).timeout(200),
            net(5),
        ];
        let (extra, writes, stats) = plan(t, &have, &want);
        assert_eq!(extra, vec![net(4)]);
        assert_eq!(writes, vec![net(5), net(1).comment("b"), net(2).nomatch()]);
        assert_eq!((stats.added, stats.deleted, stats.updated), (1, 1, 2));
        // A second pass over what the first left has nothing to do.
        let after = vec![
            net(1).comment("b"),
            net(2).nomatch(),
            net(3).timeout(97),
            net(5),
        ];
        let (extra, writes, _) = plan(t, &after, &want);
        assert!(extra.is_empty() && writes.is_empty(), "{writes:?}");
    }

    #[test]
    fn a_readd_keeps_counters_and_the_remaining_timeout() {
        let mut listed = net(1).comment("old").timeout(42);
        listed.packets = Some(5);
        listed.bytes = Some(500);
        let mut want = net(1).comment("new");
        want.packets = Some(0);
        let e = update(SetType::HashNet, &want, &listed).unwrap();
        assert_eq!(e, net(1).comment("new").timeout(42));
    }

    #[test]
    fn timeouts_and_flags_follow_their_rules() {
        assert!(lifetime_differs(Some(300), 100));
        assert!(!lifetime_differs(Some(50), 100));
        assert!(lifetime_differs(Some(0), 100));
        assert!(lifetime_differs(Some(50), 0));
        assert!(!lifetime_differs(Some(0), 0));
        assert!(lifetime_differs(None, 5));
        // nomatch means nothing to hash:ip; zero skb values are not listed.
        let ip = Entry::ip(Ipv4Addr::LOCALHOST);
        assert_eq!(update(SetType::HashIp, &ip.clone().nomatch(), &ip), None);
        let mut zero = ip.clone();
        zero.skbqueue = Some(0);
        assert_eq!(update(SetType::HashIp, &zero, &ip), None);
        zero.skbmark = Some((1, u32::MAX));
        assert!(update(SetType::HashIp, &zero, &ip).is_some());
    }

    #[test]
    fn a_wildcard_change_deletes_and_adds_with_the_counters() {
        let iface = |wildcard| {
            let mut e = Entry::new(vec![
                net(1).parts[0].clone(),
                Part::Iface {
                    name: "eth".into(),
                    physdev: false,
                },
            ]);
            e.wildcard = wildcard;
            e
        };
        let mut listed = iface(false);
        listed.packets = Some(3);
        listed.bytes = Some(30);
        let (extra, writes, stats) = plan(SetType::HashNetIface, &[listed.clone()], &[iface(true)]);
        assert_eq!(extra, vec![iface(false)]);
        let mut again = iface(true);
        (again.packets, again.bytes) = (Some(3), Some(30));
        assert_eq!(writes, vec![again]);
        assert_eq!((stats.added, stats.deleted, stats.updated), (0, 0, 1));
    }

    #[test]
    fn the_last_of_duplicate_keys_counts() {
        let want = vec![net(1).comment("first"), net(1).comment("last")];
        let (_, writes, stats) = plan(SetType::HashNet, &[], &want);
        assert_eq!(writes, vec![net(1).comment("last")]);
        assert_eq!(stats.added, 1);
    }
}
