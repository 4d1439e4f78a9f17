//! What the kernel holds, as far as a desired state needs to know, and the
//! handles that read and write it.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::IpAddr,
};

use kipvs_ipset::{IpSet, Set, SetName};
use kipvs_ipvs::{Destination, Ipvs, Service, ServiceKey};
use kipvs_link::{Address, IfName, Links};
use kipvs_netlink::NetNs;

use crate::{
    plan::{clean_dest, clean_service},
    Desired, DesiredAddresses, DesiredService, DesiredSet, Result,
};

/// A real server's identity within its service.
pub type DestKey = (IpAddr, u16);

/// A virtual service as read from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedService {
    /// The service.
    pub service: Service,
    /// Its real servers.
    pub destinations: BTreeMap<DestKey, Destination>,
    /// Whether the connection counts were read in this sync (a cached
    /// service's counts are stale).
    pub fresh: bool,
}

/// The addresses of the managed interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedAddresses {
    /// The interface.
    pub interface: IfName,
    /// Whether it exists.
    pub exists: bool,
    /// Its addresses.
    pub addresses: BTreeSet<Address>,
}

/// The kernel's state, limited to the parts a desired state manages (a
/// `None` part was not read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Every virtual service.
    pub services: Option<BTreeMap<ServiceKey, ObservedService>>,
    /// The managed and owned sets, with their entries.
    pub sets: Option<BTreeMap<SetName, Set>>,
    /// The names of every set, read or not.
    pub set_names: BTreeSet<SetName>,
    /// The managed interface's addresses.
    pub addresses: Option<ObservedAddresses>,
}

/// The kernel handles of one network namespace, opened when first needed:
/// a desired state without services never opens IPVS.
#[derive(Debug, Default)]
pub struct Kernel {
    netns: NetNs,
    ipvs: Option<Ipvs>,
    ipset: Option<IpSet>,
    links: Option<Links>,
}

impl Kernel {
    /// Handles on `netns`.
    pub fn new(netns: NetNs) -> Self {
        Kernel {
            netns,
            ..Kernel::default()
        }
    }

    /// The IPVS handle.
    pub fn ipvs(&mut self) -> Result<&mut Ipvs> {
        if self.ipvs.is_none() {
            self.ipvs = Some(Ipvs::new_in(&self.netns)?);
        }
        Ok(self.ipvs.as_mut().expect("opened above"))
    }

    /// The ipset handle.
    pub fn ipset(&mut self) -> Result<&mut IpSet> {
        if self.ipset.is_none() {
            self.ipset = Some(IpSet::new_in(&self.netns)?);
        }
        Ok(self.ipset.as_mut().expect("opened above"))
    }

    /// The rtnetlink handle.
    pub fn links(&mut self) -> Result<&mut Links> {
        if self.links.is_none() {
            self.links = Some(Links::new_in(&self.netns)?);
        }
        Ok(self.links.as_mut().expect("opened above"))
    }

    /// Reads what `desired` manages: every service and its real servers
    /// (1 + N dumps), the sets it names plus, when `prune`, the sets its
    /// scope owns, and the addresses of its interface.
    pub fn observe(&mut self, desired: &Desired, prune: bool) -> Result<Observed> {
        let mut o = Observed::default();
        if desired.services.is_some() {
            o.services = Some(self.read_services()?);
        }
        if let Some(sets) = &desired.ipsets {
            let names = self.ipset()?.list_names(None)?;
            o.set_names = names.iter().cloned().collect();
            let wanted: BTreeSet<&SetName> = sets.iter().map(|s| &s.name).collect();
            let mut read = BTreeMap::new();
            for name in &names {
                if wanted.contains(name) || (prune && desired.scope.owns_set(name)) {
                    read.extend(self.read_set(name)?);
                }
            }
            o.sets = Some(read);
        }
        if let Some(a) = &desired.addresses {
            o.addresses = Some(self.read_addresses(&a.interface)?);
        }
        Ok(o)
    }

    /// The live state as a desired state (`kipvs dump`): every service
    /// with its real servers (none without IPVS in the kernel), every set
    /// with its entries, and the addresses of `interface` if it exists.
    /// Applied to an empty node, it makes the same state again.
    pub fn dump(&mut self, interface: &IfName) -> Result<Desired> {
        let services = match self.read_services() {
            Ok(s) => Some(
                s.into_values()
                    .map(|o| DesiredService {
                        service: clean_service(&o.service),
                        destinations: o.destinations.values().map(clean_dest).collect(),
                    })
                    .collect(),
            ),
            Err(crate::Error::Kernel(kipvs_netlink::Error::FamilyNotFound { .. })) => None,
            Err(e) => return Err(e),
        };
        let sets = self
            .ipset()?
            .save(None)?
            .into_iter()
            .map(|mut s| {
                // Hash order depends on the seed: sorted, a dump of the same
                // state reads the same.
                s.entries.sort_by(|a, b| a.parts.cmp(&b.parts));
                let mut options = s.options;
                options.initval = None;
                DesiredSet {
                    name: s.name,
                    set_type: s.set_type,
                    options,
                    entries: s.entries,
                }
            })
            .collect();
        let a = self.read_addresses(interface)?;
        Ok(Desired {
            services,
            ipsets: Some(sets),
            addresses: a.exists.then(|| DesiredAddresses {
                interface: a.interface,
                addresses: a.addresses.into_iter().collect(),
            }),
            scope: Default::default(),
        })
    }

    /// Every service with its real servers: [`Ipvs::table`], one service
    /// dump and one real-server dump per service (IPVS has no dump of
    /// both).
    pub fn read_services(&mut self) -> Result<BTreeMap<ServiceKey, ObservedService>> {
        Ok(self
            .ipvs()?
            .table()?
            .into_iter()
            .map(|(service, dests)| {
                (
                    service.key,
                    ObservedService {
                        service,
                        destinations: dests.into_iter().map(|d| ((d.addr, d.port), d)).collect(),
                        fresh: true,
                    },
                )
            })
            .collect())
    }

    /// One set with its entries; `None` if it vanished.
    pub fn read_set(&mut self, name: &SetName) -> Result<Option<(SetName, Set)>> {
        match self.ipset()?.list(Some(name)) {
            Ok(sets) => Ok(sets.into_iter().next().map(|s| (s.name.clone(), s))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The addresses of `interface` (none if it does not exist).
    pub fn read_addresses(&mut self, interface: &IfName) -> Result<ObservedAddresses> {
        let links = self.links()?;
        let exists = links.link(interface)?.is_some();
        let addresses = if exists {
            links.addresses(interface)?.into_iter().collect()
        } else {
            BTreeSet::new()
        };
        Ok(ObservedAddresses {
            interface: interface.clone(),
            exists,
            addresses,
        })
    }
}
