//! ipset over nfnetlink (`NETLINK_NETFILTER`, subsystem `NFNL_SUBSYS_IPSET`).
//!
//! * [`wire`]: the messages and attributes, no I/O;
//! * domain types: [`SetName`], [`SetType`], [`Family`], [`CreateOptions`],
//!   [`Entry`] (parsed from and printed in ipset's own text forms), [`Set`];
//! * [`IpSet`]: create, destroy, flush, rename, swap, list, save, add, del,
//!   test; bulk adds and deletes (many elements per message, encoded
//!   once into an [`AdtBatch`], which can also follow where `ipset
//!   restore` cuts its buffers); atomic
//!   [`IpSet::replace`] (fill a new set, swap, destroy) and a diff-based
//!   [`IpSet::sync`] that also reconciles the extensions of the elements
//!   it keeps (comment, skb info, nomatch, stated timeouts).
//!
//! Options a type's revision does not take (create options against the
//! kernel's newest revision, element options against the set's) are
//! refused before anything is sent, in ipset's words
//! ([`CreateOptions::check_revision_all`], [`Entry::check_revision`]).
//!
//! Kernel errors keep their code; ipset's own codes (4096 and up) come with
//! ipset's own words in [`KernelError::description`](kipvs_netlink::KernelError).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod adt;
mod bulk;
mod entry;
mod error;
mod handle;
mod parse;
pub mod proto;
mod set;
mod sync;
mod types;
pub mod wire;

pub use bulk::{AdtBatch, BulkError};
pub use entry::{Entry, IpPart, Op, Part, PortPart, Position};
pub use error::describe;
pub use handle::{IpSet, SetKind};
pub use set::{CreateOptions, Range, Set};
pub use sync::SyncStats;
pub use types::{Dim, Family, SetName, SetType};

pub use kipvs_netlink::{Error, KernelError, NetNs, Result};

/// Element attributes of `entry` as ipset sends them (for callers that
/// build their own bulk requests with [`IpSet::bulk`]).
pub fn entry_attrs(entry: &Entry) -> Vec<wire::AdtAttr> {
    adt::to_attrs(entry, 0)
}

/// The reply decoders the fuzz targets in `fuzz/` drive directly, as only
/// the kernel can feed them through an [`IpSet`]. Not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    use crate::{wire::AdtAttr, wire::IpsetMessage, Entry, Set, SetType};

    /// Folds one `LIST`/`SAVE` dump message into `sets`, as a listing does.
    pub fn absorb(sets: &mut Vec<Set>, msg: IpsetMessage) {
        crate::handle::absorb(sets, msg)
    }

    /// The entry of one `IPSET_ATTR_DATA` nest of a set of `set_type`.
    pub fn entry(set_type: SetType, attrs: &[AdtAttr]) -> Entry {
        crate::adt::from_attrs(set_type, attrs)
    }
}

#[cfg(test)]
mod golden;
