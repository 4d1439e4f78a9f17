//! Address operations of [`Links`].

use std::{collections::HashMap, net::IpAddr};

use kipvs_netlink::{KernelError, Result};

use crate::{
    links::EEXIST,
    sync::{self, Action, Elsewhere, SyncFailure, SyncReport},
    wire, Address, IfName, Links,
};

/// `EADDRNOTAVAIL` (`asm-generic/errno.h`): the kernel's answer when an
/// address to delete is not bound (IPv4 and IPv6 alike).
const EADDRNOTAVAIL: i32 = 99;

impl Links {
    /// The addresses bound to link `name`, sorted (IPv4 first). One
    /// filtered dump.
    pub fn addresses(&mut self, name: &IfName) -> Result<Vec<Address>> {
        let index = self.index(name)?;
        let mut list: Vec<Address> = self
            .dump_addresses(index)?
            .into_iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, a)| a)
            .collect();
        list.sort();
        Ok(list)
    }

    /// Binds `address` to link `name` (a bare IP is `/32` or `/128`).
    /// Returns `false` if it was bound already.
    pub fn add_address(&mut self, name: &IfName, address: impl Into<Address>) -> Result<bool> {
        Ok(self.add_addresses(name, [address.into()])?[0].1)
    }

    /// Unbinds `address` from link `name`. Returns `false` if it was not
    /// bound.
    pub fn delete_address(&mut self, name: &IfName, address: impl Into<Address>) -> Result<bool> {
        Ok(self.delete_addresses(name, [address.into()])?[0].1)
    }

    /// Binds every address to link `name` in one batch; returns each with
    /// `false` where it was bound already. On a refusal the kernel goes on
    /// with the rest, and the first refusal is the error.
    pub fn add_addresses<I>(&mut self, name: &IfName, addresses: I) -> Result<Vec<(Address, bool)>>
    where
        I: IntoIterator,
        I::Item: Into<Address>,
    {
        let addresses: Vec<Address> = addresses.into_iter().map(Into::into).collect();
        for a in &addresses {
            a.check_bindable()?;
        }
        self.change_each(name, Action::Add, addresses)
    }

    /// Unbinds every address from link `name` in one batch; returns each
    /// with `false` where it was not bound. On a refusal the kernel goes on
    /// with the rest, and the first refusal is the error.
    pub fn delete_addresses<I>(
        &mut self,
        name: &IfName,
        addresses: I,
    ) -> Result<Vec<(Address, bool)>>
    where
        I: IntoIterator,
        I::Item: Into<Address>,
    {
        let addresses = addresses.into_iter().map(Into::into).collect();
        self.change_each(name, Action::Remove, addresses)
    }

    fn change_each(
        &mut self,
        name: &IfName,
        action: Action,
        addresses: Vec<Address>,
    ) -> Result<Vec<(Address, bool)>> {
        let index = self.index(name)?;
        let changes: Vec<(Action, Address)> = addresses.iter().map(|a| (action, *a)).collect();
        let outcomes = self.apply(index, name, &changes)?;
        let mut done = Vec::with_capacity(addresses.len());
        for (a, outcome) in addresses.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Done => done.push((a, true)),
                Outcome::AlreadySo => done.push((a, false)),
                Outcome::Refused(e) => return Err(e.into()),
            }
        }
        Ok(done)
    }

    /// Makes `desired` the addresses of link `name` (a bare IP is `/32` or
    /// `/128`; IPv4 and IPv6 together) with the fewest changes, and reports
    /// them.
    ///
    /// It reads the kernel once (one dump of every address of the
    /// namespace), diffs in memory, and sends the removals, then the
    /// additions, in one batch: nothing is flushed and re-added, and a sync
    /// with nothing to change sends nothing. As kube-proxy does, a desired
    /// address whose IP another interface holds is reported in
    /// [`SyncReport::elsewhere`] and not bound here (and unbound here if it
    /// was). IPv6 link-local addresses of the link are left alone.
    ///
    /// Bad input (an unbindable address, one IP with two prefixes) fails
    /// before anything is sent. Changes the kernel refuses are in
    /// [`SyncReport::failed`]; the others are made.
    pub fn sync_addresses<I>(&mut self, name: &IfName, desired: I) -> Result<SyncReport>
    where
        I: IntoIterator,
        I::Item: Into<Address>,
    {
        let desired = sync::desired_set(desired)?;
        let index = self.index(name)?;
        let mut current = Vec::new();
        let mut others: HashMap<IpAddr, u32> = HashMap::new();
        for (i, a) in self.dump_addresses(0)? {
            if i == index {
                current.push(a);
            } else if !sync::is_link_local(&a.ip) {
                others.entry(a.ip).or_insert(i);
            }
        }
        let plan = sync::plan(&desired, &current, &others);

        let changes: Vec<(Action, Address)> = plan
            .remove
            .iter()
            .map(|a| (Action::Remove, *a))
            .chain(plan.add.iter().map(|a| (Action::Add, *a)))
            .collect();
        let outcomes = self.apply(index, name, &changes)?;
        let mut report = SyncReport {
            kept: plan.kept,
            ..SyncReport::default()
        };
        for ((action, address), outcome) in changes.into_iter().zip(outcomes) {
            match (outcome, action) {
                (Outcome::Refused(error), _) => report.failed.push(SyncFailure {
                    address,
                    action,
                    error,
                }),
                // Already so: someone else made the same change meanwhile.
                (_, Action::Add) => report.added.push(address),
                (_, Action::Remove) => report.removed.push(address),
            }
        }
        if !plan.elsewhere.is_empty() {
            let names: HashMap<u32, IfName> = self
                .links()?
                .into_iter()
                .map(|l| (l.index, l.name))
                .collect();
            report.elsewhere = plan
                .elsewhere
                .into_iter()
                .map(|(address, index)| Elsewhere {
                    address,
                    index,
                    link: names.get(&index).cloned(),
                })
                .collect();
        }
        Ok(report)
    }

    /// Every address of link `index`, or of the namespace (`0`), both
    /// families, with its interface index.
    fn dump_addresses(&mut self, index: u32) -> Result<Vec<(u32, Address)>> {
        let mut list = Vec::new();
        self.sock.dump_with(wire::address::dump(index), |m| {
            list.extend(wire::address::decode(m));
            Ok(())
        })?;
        Ok(list)
    }

    /// Sends `changes` to link `index` in one batch; the outcome of each.
    fn apply(
        &mut self,
        index: u32,
        name: &IfName,
        changes: &[(Action, Address)],
    ) -> Result<Vec<Outcome>> {
        let msgs = changes.iter().map(|(action, a)| match action {
            Action::Add => (wire::address::add(index, a), wire::address::CREATE),
            Action::Remove => (wire::address::delete(index, a), 0),
        });
        let errors = self.sock.batch(msgs)?;
        let mut outcomes: Vec<Outcome> = changes.iter().map(|_| Outcome::Done).collect();
        for e in errors {
            let Some((action, address)) = changes.get(e.index) else {
                continue;
            };
            outcomes[e.index] = match (action, e.error.errno) {
                (Action::Add, EEXIST) | (Action::Remove, EADDRNOTAVAIL) => Outcome::AlreadySo,
                (Action::Add, _) => {
                    Outcome::Refused(with_context(e.error, format!("adding {address} to {name}")))
                }
                (Action::Remove, _) => Outcome::Refused(with_context(
                    e.error,
                    format!("removing {address} from {name}"),
                )),
            };
        }
        Ok(outcomes)
    }
}

enum Outcome {
    Done,
    AlreadySo,
    Refused(KernelError),
}

fn with_context(mut e: KernelError, what: String) -> KernelError {
    e.context = Some(what);
    e
}
