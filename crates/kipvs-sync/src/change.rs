//! One change of a plan, and how it reads.

use std::{fmt, net::IpAddr};

use kipvs_ipset::{CreateOptions, Entry, SetName, SetType};
use kipvs_ipvs::{Destination, ForwardMethod, Service, ServiceKey};
use kipvs_link::{Address, IfName};

use crate::desired::host_port;

/// One change to the kernel. Entry and address changes carry many
/// elements: they go to the kernel in bulk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Add a virtual service.
    AddService(Service),
    /// Change a service's scheduler, flags, persistence or persistence
    /// engine in place (`IPVS_CMD_SET_SERVICE`).
    EditService(Service),
    /// Delete a virtual service with its real servers.
    DeleteService(ServiceKey),
    /// Add a real server.
    AddDestination(ServiceKey, Destination),
    /// Change a real server's weight, forwarding method, thresholds or
    /// tunnel in place (`IPVS_CMD_SET_DEST`).
    EditDestination(ServiceKey, Destination),
    /// Set a removed real server's weight to 0: no new connections, the
    /// live ones go on until they end (graceful termination).
    DrainDestination(ServiceKey, Destination),
    /// Delete a real server.
    DeleteDestination(ServiceKey, IpAddr, u16),
    /// Create a set.
    CreateSet(SetName, SetType, CreateOptions),
    /// Destroy a set and create it anew with these entries: its type or
    /// family changes, which no swap can do.
    RecreateSet(SetName, SetType, CreateOptions, Vec<Entry>),
    /// Fill a new set with these entries and swap it in: atomic for packet
    /// filtering. Used when the options change or most entries do.
    ReplaceSet(SetName, SetType, CreateOptions, Vec<Entry>),
    /// Add (or update the options of) entries, many per message.
    AddEntries(SetName, SetType, Vec<Entry>),
    /// Delete entries, many per message.
    DelEntries(SetName, SetType, Vec<Entry>),
    /// Destroy a set.
    DestroySet(SetName),
    /// Create the dummy interface (down).
    CreateLink(IfName),
    /// Bind addresses, in one batch.
    AddAddresses(IfName, Vec<Address>),
    /// Unbind addresses, in one batch.
    DelAddresses(IfName, Vec<Address>),
}

impl Change {
    /// A short name of the action: `add-service`, `drain-destination`...
    pub fn action(&self) -> &'static str {
        match self {
            Change::AddService(_) => "add-service",
            Change::EditService(_) => "edit-service",
            Change::DeleteService(_) => "delete-service",
            Change::AddDestination(..) => "add-destination",
            Change::EditDestination(..) => "edit-destination",
            Change::DrainDestination(..) => "drain-destination",
            Change::DeleteDestination(..) => "delete-destination",
            Change::CreateSet(..) => "create-set",
            Change::RecreateSet(..) => "recreate-set",
            Change::ReplaceSet(..) => "replace-set",
            Change::AddEntries(..) => "add-entries",
            Change::DelEntries(..) => "delete-entries",
            Change::DestroySet(_) => "destroy-set",
            Change::CreateLink(_) => "create-link",
            Change::AddAddresses(..) => "add-addresses",
            Change::DelAddresses(..) => "delete-addresses",
        }
    }

    /// The object changed: `TCP 10.96.0.1:80`, `TCP 10.96.0.1:80 ->
    /// 10.244.1.5:8080`, `KUBE-CLUSTER-IP`, `kube-ipvs0`.
    pub fn object(&self) -> String {
        match self {
            Change::AddService(s) | Change::EditService(s) => s.key.to_string(),
            Change::DeleteService(k) => k.to_string(),
            Change::AddDestination(k, d)
            | Change::EditDestination(k, d)
            | Change::DrainDestination(k, d) => format!("{k} -> {}", host_port(&d.addr, d.port)),
            Change::DeleteDestination(k, a, p) => format!("{k} -> {}", host_port(a, *p)),
            Change::CreateSet(n, ..)
            | Change::RecreateSet(n, ..)
            | Change::ReplaceSet(n, ..)
            | Change::AddEntries(n, ..)
            | Change::DelEntries(n, ..)
            | Change::DestroySet(n) => n.to_string(),
            Change::CreateLink(i) | Change::AddAddresses(i, _) | Change::DelAddresses(i, _) => {
                i.to_string()
            }
        }
    }

    /// What changes, in words: `scheduler rr`, `weight 0`, `3 entries:
    /// 10.96.0.1,tcp:80 ...`.
    pub fn detail(&self) -> String {
        match self {
            Change::AddService(s) | Change::EditService(s) => service_detail(s),
            Change::AddDestination(_, d) | Change::EditDestination(_, d) => dest_detail(d),
            Change::DrainDestination(..) => "weight 0 (graceful termination)".into(),
            Change::DeleteService(_) | Change::DeleteDestination(..) | Change::DestroySet(_) => {
                String::new()
            }
            Change::CreateSet(_, t, _) => t.to_string(),
            Change::RecreateSet(_, t, _, e) | Change::ReplaceSet(_, t, _, e) => {
                format!("{t}, {}", entries_detail(*t, e))
            }
            Change::AddEntries(_, t, e) | Change::DelEntries(_, t, e) => entries_detail(*t, e),
            Change::CreateLink(_) => "dummy, down".into(),
            Change::AddAddresses(_, a) | Change::DelAddresses(_, a) => list(a.len(), "address", a),
        }
    }

    /// How many kernel objects it touches (entries and addresses count
    /// one each).
    pub fn count(&self) -> usize {
        match self {
            Change::RecreateSet(_, _, _, e) | Change::ReplaceSet(_, _, _, e) => 1 + e.len(),
            Change::AddEntries(_, _, e) | Change::DelEntries(_, _, e) => e.len(),
            Change::AddAddresses(_, a) | Change::DelAddresses(_, a) => a.len(),
            _ => 1,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action(), self.object())?;
        let d = self.detail();
        if !d.is_empty() {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

fn service_detail(s: &Service) -> String {
    let mut d = format!("scheduler {}", s.scheduler);
    if s.flags.has(kipvs_ipvs::ServiceFlags::PERSISTENT) {
        d.push_str(&format!(", persistent {} s", s.timeout));
    }
    if let Some(pe) = &s.pe_name {
        d.push_str(&format!(", pe {pe}"));
    }
    let extra =
        s.flags.0 & !(kipvs_ipvs::ServiceFlags::PERSISTENT | kipvs_ipvs::ServiceFlags::HASHED);
    if extra != 0 {
        d.push_str(&format!(", flags {extra:#x}"));
    }
    d
}

fn dest_detail(d: &Destination) -> String {
    let fwd = match d.forward {
        ForwardMethod::Masq => "masq",
        ForwardMethod::Local => "local",
        ForwardMethod::Tunnel => "tunnel",
        ForwardMethod::DirectRoute => "route",
    };
    let mut s = format!("{fwd} weight {}", d.weight);
    if d.upper_threshold != 0 || d.lower_threshold != 0 {
        s.push_str(&format!(
            " thresholds {}-{}",
            d.lower_threshold, d.upper_threshold
        ));
    }
    s
}

fn entries_detail(t: SetType, e: &[Entry]) -> String {
    let texts: Vec<String> = e.iter().map(|x| x.elem_text(t)).collect();
    list(e.len(), "entry", &texts)
}

fn list<T: fmt::Display>(n: usize, what: &str, items: &[T]) -> String {
    const SHOWN: usize = 3;
    let plural = match (n, what) {
        (1, _) => what.to_owned(),
        (_, "entry") => "entries".to_owned(),
        (_, w) => format!("{w}es"),
    };
    let mut s = format!("{n} {plural}");
    for (i, x) in items.iter().take(SHOWN).enumerate() {
        s.push_str(if i == 0 { ": " } else { " " });
        s.push_str(&x.to_string());
    }
    if n > SHOWN {
        s.push_str(" ...");
    }
    s
}
