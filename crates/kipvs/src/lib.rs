//! kipvs programs the Linux kernel's load balancer over netlink, with no
//! shelling out: IPVS services and real servers ([`ipvs`]), ipsets
//! ([`ipset`]), the `kube-ipvs0` interface and its addresses ([`link`]), and
//! a safe clean-up of stale kube-proxy state ([`cleanup`]).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use kipvs_cleanup as cleanup;
pub use kipvs_ipset as ipset;
pub use kipvs_ipvs as ipvs;
pub use kipvs_link as link;
pub use kipvs_netlink as netlink;
pub use kipvs_netlink::{Error, KernelError, NetNs, Result};
pub use kipvs_sync as sync;

/// The README's examples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
