//! Address sync: the desired addresses of a link against what the kernel
//! holds, as the fewest changes.

use std::{
    collections::{BTreeSet, HashMap},
    net::IpAddr,
};

use kipvs_netlink::{Error, KernelError, Result};

use crate::{Address, IfName};

/// What [`crate::Links::sync_addresses`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SyncReport {
    /// Addresses bound by this sync.
    pub added: Vec<Address>,
    /// Addresses unbound by this sync.
    pub removed: Vec<Address>,
    /// Desired addresses that were bound already.
    pub kept: Vec<Address>,
    /// Desired addresses left alone because another interface holds the
    /// same IP (kube-proxy's rule: never duplicate a node address).
    pub elsewhere: Vec<Elsewhere>,
    /// Changes the kernel refused; every other change was made.
    pub failed: Vec<SyncFailure>,
}

impl SyncReport {
    /// True when the sync wrote nothing.
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.failed.is_empty()
    }
}

/// A desired address that another interface holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Elsewhere {
    /// The address as desired.
    pub address: Address,
    /// The index of the interface that holds its IP.
    pub index: u32,
    /// That interface's name (`None` if it vanished during the sync).
    pub link: Option<IfName>,
}

/// A change of a sync that the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SyncFailure {
    /// The address.
    pub address: Address,
    /// What kipvs asked for.
    pub action: Action,
    /// What the kernel said.
    #[cfg_attr(feature = "serde", serde(serialize_with = "display"))]
    pub error: KernelError,
}

/// One change to a link's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Action {
    /// Bind the address.
    Add,
    /// Unbind the address.
    Remove,
}

#[cfg(feature = "serde")]
fn display<S: serde::Serializer>(e: &KernelError, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(e)
}

/// The changes a sync makes, before it makes them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub remove: Vec<Address>,
    pub add: Vec<Address>,
    pub kept: Vec<Address>,
    pub elsewhere: Vec<(Address, u32)>,
}

/// Checks the desired addresses (bindable, one prefix per IP), drops exact
/// duplicates, and sorts them.
pub(crate) fn desired_set<I>(desired: I) -> Result<BTreeSet<Address>>
where
    I: IntoIterator,
    I::Item: Into<Address>,
{
    let mut set = BTreeSet::new();
    let mut prefix: HashMap<IpAddr, Address> = HashMap::new();
    for a in desired {
        let a = a.into();
        a.check_bindable()?;
        if let Some(other) = prefix.insert(a.ip, a) {
            if other != a {
                return Err(Error::invalid(
                    "address",
                    a,
                    format!("{} is also desired as {other}", a.ip),
                ));
            }
        }
        set.insert(a);
    }
    Ok(set)
}

/// IPv6 link-local addresses belong to the link (the kernel makes one when
/// the link comes up); sync never touches them, as kube-proxy never lists
/// them.
pub(crate) fn is_link_local(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// Plans a sync of `current` (the link's addresses) to `desired`, given
/// `others` (IPs other interfaces hold, with their index).
///
/// A desired address whose IP another interface holds is not bound here,
/// and is unbound here if it was (kube-proxy binds such an address only
/// where it is not a node address): the outcome depends on the desired
/// set and the other interfaces, never on what an earlier sync did.
/// Removals come first, so a prefix change frees the IP before it is added
/// again, and every add walks a shorter list.
pub(crate) fn plan(
    desired: &BTreeSet<Address>,
    current: &[Address],
    others: &HashMap<IpAddr, u32>,
) -> Plan {
    let mut plan = Plan::default();
    let mut wanted = BTreeSet::new();
    for a in desired {
        match others.get(&a.ip) {
            Some(index) => plan.elsewhere.push((*a, *index)),
            None => {
                wanted.insert(*a);
            }
        }
    }
    let current: BTreeSet<Address> = current
        .iter()
        .filter(|a| !is_link_local(&a.ip))
        .copied()
        .collect();
    plan.remove = current.difference(&wanted).copied().collect();
    plan.add = wanted.difference(&current).copied().collect();
    plan.kept = wanted.intersection(&current).copied().collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<Address> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn strings(list: &[Address]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn from_empty_adds_everything() {
        let desired = desired_set(addrs(&["10.0.0.2", "10.0.0.1", "fd00::1"])).unwrap();
        let p = plan(&desired, &[], &HashMap::new());
        assert_eq!(
            strings(&p.add),
            ["10.0.0.1/32", "10.0.0.2/32", "fd00::1/128"]
        );
        assert!(p.remove.is_empty() && p.kept.is_empty() && p.elsewhere.is_empty());
    }

    #[test]
    fn churn_touches_only_the_difference() {
        let desired = desired_set(addrs(&["10.0.0.1", "10.0.0.3", "fd00::3"])).unwrap();
        let current = addrs(&["10.0.0.1", "10.0.0.2", "fd00::2", "fe80::1/64"]);
        let p = plan(&desired, &current, &HashMap::new());
        assert_eq!(strings(&p.remove), ["10.0.0.2/32", "fd00::2/128"]);
        assert_eq!(strings(&p.add), ["10.0.0.3/32", "fd00::3/128"]);
        assert_eq!(strings(&p.kept), ["10.0.0.1/32"]);
    }

    #[test]
    fn to_empty_removes_all_but_link_local() {
        let current = addrs(&["10.0.0.1", "fd00::1", "fe80::1/64"]);
        let p = plan(&BTreeSet::new(), &current, &HashMap::new());
        assert_eq!(strings(&p.remove), ["10.0.0.1/32", "fd00::1/128"]);
        assert!(p.add.is_empty());
    }

    #[test]
    fn a_prefix_change_is_a_remove_and_an_add() {
        let desired = desired_set(addrs(&["10.0.0.1"])).unwrap();
        let p = plan(&desired, &addrs(&["10.0.0.1/24"]), &HashMap::new());
        assert_eq!(strings(&p.remove), ["10.0.0.1/24"]);
        assert_eq!(strings(&p.add), ["10.0.0.1/32"]);
    }

    #[test]
    fn addresses_of_other_interfaces_are_reported_not_bound() {
        let desired = desired_set(addrs(&["192.168.1.10", "10.0.0.1", "10.0.0.2"])).unwrap();
        let others: HashMap<IpAddr, u32> = [
            ("192.168.1.10".parse().unwrap(), 2),
            ("10.0.0.2".parse().unwrap(), 5),
        ]
        .into();
        // 10.0.0.2 is bound here too: it goes, as kube-proxy would unbind it.
        let p = plan(&desired, &addrs(&["10.0.0.2"]), &others);
        assert_eq!(strings(&p.add), ["10.0.0.1/32"]);
        assert_eq!(strings(&p.remove), ["10.0.0.2/32"]);
        let elsewhere: Vec<(String, u32)> = p
            .elsewhere
            .iter()
            .map(|(a, i)| (a.to_string(), *i))
            .collect();
        assert_eq!(
            elsewhere,
            [("10.0.0.2/32".into(), 5), ("192.168.1.10/32".into(), 2)]
        );
    }

    #[test]
    fn no_change_plans_nothing() {
        let desired = desired_set(addrs(&["10.0.0.1", "fd00::1"])).unwrap();
        let p = plan(&desired, &addrs(&["fd00::1", "10.0.0.1"]), &HashMap::new());
        assert!(p.add.is_empty() && p.remove.is_empty());
        assert_eq!(p.kept.len(), 2);
    }

    #[test]
    fn bad_desired_sets_name_the_value() {
        let e = desired_set(addrs(&["10.0.0.1", "10.0.0.1/24"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid address \"10.0.0.1/24\": 10.0.0.1 is also desired as 10.0.0.1/32"
        );
        let e = desired_set(addrs(&["224.0.0.5"])).unwrap_err();
        assert!(e.to_string().contains("\"224.0.0.5/32\""), "{e}");
        // Exact duplicates are one address.
        assert_eq!(
            desired_set(addrs(&["10.0.0.1", "10.0.0.1/32"]))
                .unwrap()
                .len(),
            1
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Addresses from a small universe, so sets overlap often: IPv4 and
        /// IPv6 hosts, a /24, and link-local IPv6.
        fn address() -> impl Strategy<Value = Address> {
            prop_oneof![
                (0u8..8).prop_map(|i| format!("10.0.0.{i}").parse().unwrap()),
                (0u8..8).prop_map(|i| format!("10.0.0.{i}/24").parse().unwrap()),
                (0u8..8).prop_map(|i| format!("fd00::{i}").parse().unwrap()),
                (0u8..3).prop_map(|i| format!("fe80::{i}/64").parse().unwrap()),
            ]
        }

        proptest! {
            #[test]
            fn applying_the_plan_reaches_the_target(
                desired in proptest::collection::vec(address(), 0..12),
                current in proptest::collection::btree_set(address(), 0..12),
                others in proptest::collection::vec((address(), 1u32..4), 0..4),
            ) {
                let Ok(desired) = desired_set(desired.iter().filter(|a| !is_link_local(&a.ip))) else {
                    // Two prefixes for one IP: refused before any plan.
                    return Ok(());
                };
                let others: HashMap<IpAddr, u32> =
                    others.into_iter().map(|(a, i)| (a.ip, i)).collect();
                let current: Vec<Address> = current.into_iter().collect();
                let p = plan(&desired, &current, &others);

                let mut after: BTreeSet<Address> = current.iter().copied().collect();
                for a in &p.remove {
                    prop_assert!(after.remove(a), "removes only what is there");
                }
                for a in &p.add {
                    prop_assert!(after.insert(*a), "adds only what is missing");
                }
                let target: BTreeSet<Address> = desired
                    .iter()
                    .filter(|a| !others.contains_key(&a.ip))
                    .chain(current.iter().filter(|a| is_link_local(&a.ip)))
                    .copied()
                    .collect();
                prop_assert_eq!(&after, &target);
                prop_assert_eq!(p.kept.len() + p.add.len() + p.elsewhere.len(), desired.len());
            }
        }
    }
}
