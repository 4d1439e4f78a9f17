//! IPVS, the Linux kernel's layer-4 load balancer, over generic netlink
//! (family `"IPVS"`).
//!
//! Domain types ([`Service`], [`Destination`], [`Stats`], ...) are plain
//! structs; [`Ipvs`] is the handle that talks to the kernel, and [`Op`] a
//! change for [`Ipvs::apply`], which batches many to a `sendmsg`. The
//! [`wire`] module is the message format alone, with no I/O.
//!
//! ```no_run
//! use kipvs_ipvs::{Destination, ForwardMethod, Ipvs, Protocol, Service, ServiceKey};
//!
//! let mut ipvs = Ipvs::new()?;
//! let key = ServiceKey::Addr {
//!     protocol: Protocol::Tcp,
//!     addr: "10.0.0.1".parse().unwrap(),
//!     port: 80,
//! };
//! ipvs.add_service(&Service::new(key).scheduler("rr".parse()?))?;
//! let dest = Destination::new("192.168.1.10".parse().unwrap(), 8080).forward(ForwardMethod::Masq);
//! ipvs.add_destination(&key, &dest)?;
//! for (service, dests) in ipvs.table()? {
//!     println!("{} {} with {} real servers", service.key, service.scheduler, dests.len());
//! }
//! # Ok::<(), kipvs_ipvs::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod connection;
mod destination;
mod ipvs;
mod op;
mod service;
mod stats;
mod types;
pub mod wire;

pub use connection::{connections, connections_in, parse_connections};
pub use destination::{Destination, ForwardMethod, TunnelType};
pub use ipvs::Ipvs;
pub use op::Op;
pub use service::{Scheduler, Service, ServiceFlags, ServiceKey};
pub use stats::Stats;
pub use types::{Connection, Daemon, DaemonState, Info, Protocol, Timeouts};

pub use kipvs_netlink::{BatchError, Error, KernelError, NetNs, Result};
