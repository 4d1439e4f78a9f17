//! Safe clean-up of the state a kube-proxy mode leaves behind when a node
//! switches modes (iptables to IPVS, IPVS to nftables, ...), without a
//! blunt flush: exactly kube-proxy's rules and chains of the old mode go,
//! and nothing of kubelet, Docker or the user is touched.
//!
//! The pieces, usable on their own:
//! - [`save`]: a parser and writer of the `iptables-save` format that
//!   round-trips a dump byte for byte;
//! - [`kube`]: what kube-proxy writes in each mode;
//! - [`plan`]: which rules and chains of a dump go, as a diff, and the
//!   `iptables-restore --noflush` transactions that remove them;
//! - [`backend`]: iptables-legacy and iptables-nft, IPv4 and IPv6;
//! - [`nft`]: nftables mode's `kube-proxy` tables;
//! - [`kernel`]: IPVS mode's services, `kube-ipvs0` and ipsets;
//! - [`live`]: is kube-proxy running, and in which mode (a clean-up of
//!   that mode is refused unless forced);
//! - [`backup`]: backups written before any change, and restoring them;
//! - [`Cleanup`]: all of it, in a network namespace of choice.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod backend;
pub mod backup;
mod cleanup;
mod diff;
mod error;
mod exec;
pub mod kernel;
pub mod kernel_backup;
pub mod kube;
pub mod live;
pub mod nft;
pub mod plan;
pub mod save;
pub mod tokens;

pub use backend::{Backend, Family, Kind};
pub use cleanup::{BackendPlan, Cleanup, Report, Target};
pub use error::{Error, Result};
pub use kube::Mode;
pub use live::ProxyMode;
pub use plan::Plan;
pub use save::Ruleset;
