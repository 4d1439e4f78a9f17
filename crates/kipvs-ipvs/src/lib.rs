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
//!
//! # Kernel behaviour worth knowing
//!
//! Found by experiment on Linux 6.1 (the tests in `tests/kernel` pin each):
//!
//! * A change refused in a batch does not stop the ones after it
//!   ([`Ipvs::apply`] returns the refusals by index, with their context in
//!   words); like `ipvsadm -R`, a batch is not atomic.
//! * Service dumps resume by position in one table shared by every network
//!   namespace: a dump of many services taken while another namespace
//!   changes its services can repeat (dropped by [`Ipvs::services`]) or
//!   miss an entry.
//! * The kernel finishes a dump only on a later `recvmsg` and refuses a
//!   second dump on the same socket meanwhile (`EBUSY`), and it dumps under
//!   one global mutex: [`Ipvs::table`] reads the real servers one service
//!   after another (dumping over several sockets at once measured slower).
//! * In a namespace with no route at all (loopback down) every IPv4 real
//!   server but a tunnelled one is refused with `EINVAL`: the kernel checks
//!   the address type against a local table that does not exist yet.
//! * A real server of the other address family than its service's is
//!   allowed only with tunnelling, and a sync daemon will not start while
//!   one exists (`EINVAL`).
//! * Linux 6.1 keeps the forwarding method asked for a local address;
//!   `ipvsadm -S` prints [`ForwardMethod::Local`] as `-g`.
//! * The kernel takes AH and ESP services over netlink (ipvsadm cannot
//!   make them); [`Ipvs::services`] leaves them out, as a [`ServiceKey`]
//!   cannot name them.
//! * It also keeps any forwarding bits a raw netlink client sends, ones
//!   that are no method too (ipvsadm prints `(null)`); those real servers
//!   are left out of [`Ipvs::destinations`].
//! * The `sip` persistence engine module is loaded on demand through
//!   `/sbin/modprobe`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod connection;
mod destination;
mod ipvs;
mod op;
mod proc_table;
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

/// The attribute-to-domain conversions the fuzz targets in `fuzz/` drive
/// directly, as only the kernel can feed them through an [`Ipvs`]. Not part
/// of the API.
#[doc(hidden)]
pub mod __fuzz {
    use netlink_packet_core::DecodeError;

    use crate::{
        wire::{self, DaemonAttr, DestAttr, IpvsAttr, SvcAttr},
        Daemon, Destination, Info, Service, Timeouts,
    };

    /// A service from a `NEW_SERVICE` reply's nest.
    pub fn service(attrs: &[SvcAttr]) -> Result<Service, DecodeError> {
        wire::service_from_attrs(attrs)
    }

    /// A real server from a `NEW_DEST` reply's nest; `af` is the service's.
    pub fn destination(attrs: &[DestAttr], af: u16) -> Result<Destination, DecodeError> {
        wire::dest_from_attrs(attrs, af)
    }

    /// A sync daemon from a `NEW_DAEMON` reply's nest.
    pub fn daemon(attrs: &[DaemonAttr]) -> Result<Daemon, DecodeError> {
        wire::daemon_from_attrs(attrs)
    }

    /// The `SET_INFO` reply.
    pub fn info(attrs: &[IpvsAttr]) -> Result<Info, DecodeError> {
        wire::info_from_attrs(attrs)
    }

    /// The `SET_CONFIG` reply.
    pub fn timeouts(attrs: &[IpvsAttr]) -> Timeouts {
        wire::timeouts_from_attrs(attrs)
    }

    /// The text of `/proc/net/ip_vs`: how many services it describes fully.
    pub fn proc_table(text: &str) -> crate::Result<usize> {
        crate::proc_table::parse(text).map(|t| t.described())
    }
}
