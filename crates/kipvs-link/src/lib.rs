//! The `kube-ipvs0` dummy interface and its service addresses, over
//! rtnetlink.
//!
//! kube-proxy's IPVS mode binds every ClusterIP, external IP and load
//! balancer IP to a dummy link, `kube-ipvs0`, left down: the kernel then
//! treats them as local addresses, so IPVS sees the packets. This crate
//! makes that link ([`Links::ensure_dummy`]) and keeps its addresses equal
//! to a desired set with the fewest changes ([`Links::sync_addresses`]),
//! with no shelling out to `ip`.
//!
//! ```no_run
//! use kipvs_link::{IfName, Links};
//!
//! let dev = IfName::kube_ipvs0();
//! let mut links = Links::new()?;
//! links.ensure_dummy(&dev)?;
//! let vips: Vec<std::net::IpAddr> = vec!["10.96.0.1".parse()?, "fd00::1".parse()?];
//! let report = links.sync_addresses(&dev, &vips)?;
//! println!("added {:?}, removed {:?}", report.added, report.removed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layers: [`IfName`], [`Address`], [`Link`] and [`SyncReport`] are plain
//! domain types; `wire` builds and decodes the rtnetlink messages (each
//! checked byte for byte against `ip`'s); [`Links`] holds the socket.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod address;
mod addresses;
mod link;
mod links;
mod name;
mod sync;
mod wire;

pub use address::Address;
pub use kipvs_netlink::{Error, KernelError, NetNs, Result};
pub use link::Link;
pub use links::Links;
pub use name::{IfName, KUBE_IPVS0};
pub use sync::{Action, Elsewhere, SyncFailure, SyncReport};

/// The reply decoders the fuzz targets in `fuzz/` drive directly, as only
/// the kernel can feed them through [`Links`]. Not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    use netlink_packet_route::RouteNetlinkMessage;

    use crate::{Address, Link};

    /// The link in an `RTM_NEWLINK` reply.
    pub fn link(msg: RouteNetlinkMessage) -> Option<Link> {
        crate::wire::link::decode(msg)
    }

    /// The interface index and address of an `RTM_NEWADDR` reply.
    pub fn address(msg: RouteNetlinkMessage) -> Option<(u32, Address)> {
        crate::wire::address::decode(msg)
    }
}
