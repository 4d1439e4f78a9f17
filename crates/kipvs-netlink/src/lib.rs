//! The netlink transport shared by every kipvs protocol module.
//!
//! A [`Socket`] is a blocking `netlink-sys` socket that owns its sequence
//! numbers and speaks in whole messages of any rust-netlink packet type:
//!
//! * [`Socket::request`] sends one request and waits for its replies and ack;
//! * [`Socket::dump`] runs a multipart dump to `NLMSG_DONE`;
//! * [`Socket::batch`] packs many requests into each `sendmsg`, ends each
//!   with an `NLMSG_NOOP` that asks for an ack (the barrier), and matches
//!   every error the kernel sends back to its request by sequence number.
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

/// The decoders the fuzz targets in `fuzz/` drive directly, as only the
/// kernel can feed them through a [`Socket`]. Not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    /// The payload of an `NLMSG_ERROR` (`is_error`) or `NLMSG_DONE`, decoded
    /// as [`Socket`](crate::Socket) decodes it.
    pub fn parse_error(
        flags: u16,
        payload: &[u8],
        is_error: bool,
    ) -> crate::Result<(i32, crate::KernelError)> {
        crate::socket::parse_error(flags, payload, is_error)
    }
}

/// Re-exported so protocol crates and users agree on one version.
pub use netlink_packet_core as core;
/// Re-exported so protocol crates and users agree on one version.
pub use netlink_packet_generic as generic;
/// Re-exported so protocol crates and users agree on one version.
pub use netlink_sys as sys;
