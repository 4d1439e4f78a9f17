//! Declarative state for load-balancer controllers: IPVS services with
//! their real servers, ipsets with their entries, and the addresses of a
//! dummy interface, kept equal to a [`Desired`] state with the fewest
//! kernel writes.
//!
//! The flow is `Desired` -> [`Plan`] -> [`apply`] -> [`Report`]:
//!
//! * [`Kernel::observe`] reads what the desired state manages (and only
//!   that: a part that is `None` is neither read nor touched);
//! * [`plan()`] diffs in memory, with no I/O: services and real servers are
//!   edited in place where the kernel allows it (scheduler, flags,
//!   persistence, weight, thresholds, forwarding method), set entries move
//!   in bulk (or the set is swap-replaced when most of it changes), and
//!   addresses in one batch. Removed real servers drain as kube-proxy
//!   drains them: weight 0 first, deleted when they have no connections
//!   left or a deadline passes (UDP and SCTP at once);
//! * [`apply`] makes the changes, batched, and goes on past a refused one
//!   where the rest does not depend on it;
//! * [`Syncer`] does all three in a loop, keeping what it last saw so that
//!   a sync with nothing to change reads and writes nothing.
//!
//! Pruning removes only what the desired state's [`Scope`] owns (set-name
//! prefixes, address blocks, firewall-mark ranges), so a keepalived
//! service on the same node survives. [`Lock`] serialises writers on a
//! node. With the `serde` feature, `document` reads and writes the JSON
//! state document of `kipvs dump`/`plan`/`apply` (`docs/state.md`).
//!
//! ```no_run
//! use kipvs_ipvs::{Destination, ForwardMethod, Protocol, Service, ServiceKey};
//! use kipvs_sync::{Desired, DesiredService, SyncOptions, Syncer};
//!
//! let key = ServiceKey::Addr {
//!     protocol: Protocol::Tcp,
//!     addr: "10.96.0.10".parse()?,
//!     port: 53,
//! };
//! let desired = Desired {
//!     services: Some(vec![DesiredService::new(Service::new(key).scheduler("rr".parse()?))
//!         .destination(Destination::new("10.244.1.5".parse()?, 53).forward(ForwardMethod::Masq))]),
//!     ..Desired::default()
//! };
//! let mut syncer = Syncer::new(Default::default(), SyncOptions::default());
//! let report = syncer.sync(&desired)?;
//! println!("{} changes, {} failed", report.applied.len(), report.failed.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod apply;
mod change;
mod desired;
#[cfg(feature = "serde")]
pub mod document;
mod error;
mod lock;
mod observed;
mod plan;
mod syncer;

pub use apply::{apply, Failure, Report, Skipped};
pub use change::Change;
pub use desired::{Cidr, Desired, DesiredAddresses, DesiredService, DesiredSet, Scope};
pub use error::{Error, Problem, Problems, Result};
pub use lock::{Lock, DEFAULT_LOCK_PATH};
pub use observed::{DestKey, Kernel, Observed, ObservedAddresses, ObservedService};
pub use plan::{plan, DrainBook, Draining, Plan, PlanOptions};
pub use syncer::{ReadStats, SyncOptions, Syncer};
