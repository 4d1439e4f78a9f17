//! Virtual services.

use std::{fmt, net::IpAddr, str::FromStr};

use crate::{Error, Protocol, Stats};

/// What identifies a virtual service: an address, port and protocol, or a
/// firewall mark (with the address family it balances).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ServiceKey {
    /// `-t`/`-u`/`--sctp-service ADDR:PORT`.
    Addr {
        /// TCP, UDP or SCTP.
        protocol: Protocol,
        /// The virtual address.
        addr: IpAddr,
        /// The virtual port (0 with persistence means "all ports").
        port: u16,
    },
    /// `-f MARK`: packets marked by netfilter.
    Fwmark {
        /// The firewall mark.
        mark: u32,
        /// Whether the service balances IPv6 (`-6`).
        ipv6: bool,
    },
}

impl fmt::Display for ServiceKey {
    /// As in error messages: `TCP 10.0.0.1:80`, `UDP [2001:db8::1]:53`,
    /// `FWM 42`, `FWM 42 (IPv6)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V4(a),
                port,
            } => write!(f, "{protocol} {a}:{port}"),
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V6(a),
                port,
            } => write!(f, "{protocol} [{a}]:{port}"),
            ServiceKey::Fwmark { mark, ipv6: false } => write!(f, "FWM {mark}"),
            ServiceKey::Fwmark { mark, ipv6: true } => write!(f, "FWM {mark} (IPv6)"),
        }
    }
}

impl ServiceKey {
    /// Whether the service balances IPv6 traffic.
    pub fn is_ipv6(&self) -> bool {
        match self {
            ServiceKey::Addr { addr, .. } => addr.is_ipv6(),
            ServiceKey::Fwmark { ipv6, .. } => *ipv6,
        }
    }
}

/// A scheduler name (`rr`, `wlc`, `mh`, ...), at most 15 bytes
/// (`IP_VS_SCHEDNAME_MAXLEN` is 16 with the NUL).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Scheduler(String);

impl Scheduler {
    /// The schedulers the 6.1 kernel ships.
    pub const KNOWN: [&'static str; 13] = [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
    ];

    /// The scheduler name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Scheduler {
    /// `wlc`, ipvsadm's default.
    fn default() -> Self {
        Scheduler("wlc".into())
    }
}

impl FromStr for Scheduler {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if s.is_empty() || s.len() > 15 {
            return Err(Error::invalid(
                "scheduler",
                s,
                "a scheduler name has 1 to 15 bytes",
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(Error::invalid("scheduler", s, "not a scheduler name"));
        }
        Ok(Scheduler(s.to_owned()))
    }
}

impl TryFrom<String> for Scheduler {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<Scheduler> for String {
    fn from(s: Scheduler) -> String {
        s.0
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Service flags (`IP_VS_SVC_F_*` in `linux/ip_vs.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    /// `IP_VS_SVC_F_PERSISTENT`.
    pub const PERSISTENT: u32 = 0x0001;
    /// `IP_VS_SVC_F_HASHED` (set by the kernel).
    pub const HASHED: u32 = 0x0002;
    /// `IP_VS_SVC_F_ONEPACKET` (`-o`).
    pub const ONEPACKET: u32 = 0x0004;
    /// `IP_VS_SVC_F_SCHED1`: sh-fallback / mh-fallback.
    pub const SCHED1: u32 = 0x0008;
    /// `IP_VS_SVC_F_SCHED2`: sh-port / mh-port.
    pub const SCHED2: u32 = 0x0010;
    /// `IP_VS_SVC_F_SCHED3`.
    pub const SCHED3: u32 = 0x0020;

    /// Whether every bit of `flag` is set.
    pub fn has(self, flag: u32) -> bool {
        self.0 & flag == flag
    }
}

/// A virtual service, as read from the kernel or to be written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Service {
    /// What identifies it.
    pub key: ServiceKey,
    /// The scheduler (`-s`), `wlc` by default.
    pub scheduler: Scheduler,
    /// Flags: persistence, one-packet, scheduler flags.
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (`-p`; used with `PERSISTENT`).
    pub timeout: u32,
    /// Persistence netmask: a dotted mask as a u32 for IPv4
    /// (`0xffffffff` for /32), a prefix length for IPv6 (`128`).
    pub netmask: u32,
    /// The persistence engine (`--pe sip`), if any.
    pub pe_name: Option<String>,
    /// Counters and rates (read only; zero when writing).
    pub stats: Stats,
}

impl Service {
    /// A service with ipvsadm's defaults: `wlc`, not persistent, full mask.
    pub fn new(key: ServiceKey) -> Self {
        Service {
            key,
            scheduler: Scheduler::default(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask: if key.is_ipv6() { 128 } else { 0xffff_ffff },
            pe_name: None,
            stats: Stats::default(),
        }
    }

    /// Sets the scheduler.
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Makes the service persistent for `timeout` seconds.
    pub fn persistent(mut self, timeout: u32) -> Self {
        self.flags.0 |= ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }

    /// Sets the persistence netmask: a mask such as `0xffff_ff00` for IPv4,
    /// a prefix length for IPv6.
    pub fn netmask(mut self, netmask: u32) -> Self {
        self.netmask = netmask;
        self
    }

    /// Sets the persistence engine (`--pe`, e.g. `"sip"`).
    pub fn pe(mut self, name: &str) -> Self {
        self.pe_name = Some(name.to_owned());
        self
    }

    /// Sets `flag` (`ServiceFlags::ONEPACKET`, `SCHED1`, ...).
    pub fn flag(mut self, flag: u32) -> Self {
        self.flags.0 |= flag;
        self
    }
}
