//! IPVS, the Linux kernel's layer-4 load balancer, over generic netlink
//! (family `"IPVS"`).
//!
//! Domain types ([`Service`], [`Destination`], [`Stats`], ...) are plain
//! structs; the handle that talks to the kernel is `Ipvs`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod destination;
mod service;
mod stats;
mod types;

pub use destination::{Destination, ForwardMethod, TunnelType};
pub use service::{Scheduler, Service, ServiceFlags, ServiceKey};
pub use stats::Stats;
pub use types::{Connection, Daemon, DaemonState, Info, Protocol, Timeouts};

pub use kipvs_netlink::{Error, NetNs, Result};
