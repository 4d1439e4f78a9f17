//! The netlink transport shared by every kipvs protocol module.
//!
//! A [`Socket`] is a blocking `netlink-sys` socket that owns its sequence
//! numbers and speaks in whole messages of any rust-netlink packet type:
//!
//! * [`Socket::request`] sends one request and waits for its replies and ack;
//! * [`Socket::dump`] runs a multipart dump to `NLMSG_DONE`;
//! * [`Socket::batch`] packs many requests into each `sendmsg`, asks for an
//!   ack on the last one only (the barrier), and matches every error the
//!   kernel sends back to its request by sequence number.
//!
//! Kernel errors keep their errno and the extended-ack text
//! ([`KernelError`]). Sockets can be opened inside another network namespace
//! ([`NetNs`]) without moving the calling thread.
#![deny(missing_docs)]

mod error;
mod genl;
mod netns;
mod socket;

pub use error::{Error, KernelError, Result};
pub use genl::resolve_family;
pub use netns::NetNs;
pub use socket::{BatchError, Socket, SocketOptions};

/// Re-exported so protocol crates and users agree on one version.
pub use netlink_packet_core as core;
/// Re-exported so protocol crates and users agree on one version.
pub use netlink_packet_generic as generic;
/// Re-exported so protocol crates and users agree on one version.
pub use netlink_sys as sys;
