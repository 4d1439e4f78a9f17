//! The ipset wire format: nfnetlink messages of subsystem
//! `NFNL_SUBSYS_IPSET`, with no I/O. Everything here decodes any input
//! without panicking (see the proptest in `tests/wire.rs`).
//!
//! Names follow `linux/netfilter/ipset/ip_set.h`.

mod attr;
mod message;
mod value;

pub(crate) use attr::{adt_encoded, ipset_room};
pub use attr::{AdtAttr, CmdAttr, CreateAttr};
pub use message::{IpsetCmd, IpsetMessage};
pub(crate) use value::append_data;

/// `NFNL_SUBSYS_IPSET` from `linux/netfilter/nfnetlink.h`.
pub const NFNL_SUBSYS_IPSET: u8 = 6;
/// `NFNETLINK_V0`.
pub const NFNETLINK_V0: u8 = 0;
/// `NETLINK_NETFILTER` from `linux/netlink.h`.
pub const NETLINK_NETFILTER: isize = 12;
/// The newest protocol this crate speaks (`IPSET_PROTOCOL`).
pub const IPSET_PROTOCOL: u8 = 7;
/// The oldest protocol this crate speaks (`IPSET_PROTOCOL_MIN`).
pub const IPSET_PROTOCOL_MIN: u8 = 6;
/// `IPSET_MAXNAMELEN`: set and type names, including the NUL.
pub const IPSET_MAXNAMELEN: usize = 32;
/// `IPSET_MAX_COMMENT_SIZE`.
pub const IPSET_MAX_COMMENT_SIZE: usize = 255;

/// `IPSET_FLAG_EXIST` (command-level `IPSET_ATTR_FLAGS`).
pub const IPSET_FLAG_EXIST: u32 = 1 << 0;
/// `IPSET_FLAG_LIST_SETNAME`: dump names only.
pub const IPSET_FLAG_LIST_SETNAME: u32 = 1 << 1;
/// `IPSET_FLAG_LIST_HEADER`: dump headers only.
pub const IPSET_FLAG_LIST_HEADER: u32 = 1 << 2;

/// `IPSET_FLAG_BEFORE` (`IPSET_ATTR_CADT_FLAGS`, list:set).
pub const IPSET_FLAG_BEFORE: u32 = 1 << 0;
/// `IPSET_FLAG_PHYSDEV` (hash:net,iface).
pub const IPSET_FLAG_PHYSDEV: u32 = 1 << 1;
/// `IPSET_FLAG_NOMATCH`.
pub const IPSET_FLAG_NOMATCH: u32 = 1 << 2;
/// `IPSET_FLAG_WITH_COUNTERS`.
pub const IPSET_FLAG_WITH_COUNTERS: u32 = 1 << 3;
/// `IPSET_FLAG_WITH_COMMENT`.
pub const IPSET_FLAG_WITH_COMMENT: u32 = 1 << 4;
/// `IPSET_FLAG_WITH_FORCEADD`.
pub const IPSET_FLAG_WITH_FORCEADD: u32 = 1 << 5;
/// `IPSET_FLAG_WITH_SKBINFO`.
pub const IPSET_FLAG_WITH_SKBINFO: u32 = 1 << 6;
/// `IPSET_FLAG_IFACE_WILDCARD`.
pub const IPSET_FLAG_IFACE_WILDCARD: u32 = 1 << 7;

/// `IPSET_ERR_PRIVATE`: ipset's own error codes start here.
pub const IPSET_ERR_PRIVATE: i32 = 4096;
/// `IPSET_ERR_PROTOCOL`.
pub const IPSET_ERR_PROTOCOL: i32 = 4097;
/// `IPSET_ERR_FIND_TYPE`.
pub const IPSET_ERR_FIND_TYPE: i32 = 4098;
/// `IPSET_ERR_MAX_SETS`.
pub const IPSET_ERR_MAX_SETS: i32 = 4099;
/// `IPSET_ERR_BUSY`.
pub const IPSET_ERR_BUSY: i32 = 4100;
/// `IPSET_ERR_EXIST_SETNAME2`.
pub const IPSET_ERR_EXIST_SETNAME2: i32 = 4101;
/// `IPSET_ERR_TYPE_MISMATCH`.
pub const IPSET_ERR_TYPE_MISMATCH: i32 = 4102;
/// `IPSET_ERR_EXIST`.
pub const IPSET_ERR_EXIST: i32 = 4103;
/// `IPSET_ERR_INVALID_CIDR`.
pub const IPSET_ERR_INVALID_CIDR: i32 = 4104;
/// `IPSET_ERR_INVALID_NETMASK`.
pub const IPSET_ERR_INVALID_NETMASK: i32 = 4105;
/// `IPSET_ERR_INVALID_FAMILY`.
pub const IPSET_ERR_INVALID_FAMILY: i32 = 4106;
/// `IPSET_ERR_TIMEOUT`.
pub const IPSET_ERR_TIMEOUT: i32 = 4107;
/// `IPSET_ERR_REFERENCED`.
pub const IPSET_ERR_REFERENCED: i32 = 4108;
/// `IPSET_ERR_IPADDR_IPV4`.
pub const IPSET_ERR_IPADDR_IPV4: i32 = 4109;
/// `IPSET_ERR_IPADDR_IPV6`.
pub const IPSET_ERR_IPADDR_IPV6: i32 = 4110;
/// `IPSET_ERR_COUNTER`.
pub const IPSET_ERR_COUNTER: i32 = 4111;
/// `IPSET_ERR_COMMENT`.
pub const IPSET_ERR_COMMENT: i32 = 4112;
/// `IPSET_ERR_INVALID_MARKMASK`.
pub const IPSET_ERR_INVALID_MARKMASK: i32 = 4113;
/// `IPSET_ERR_SKBINFO`.
pub const IPSET_ERR_SKBINFO: i32 = 4114;
/// `IPSET_ERR_BITMASK_NETMASK_EXCL`.
pub const IPSET_ERR_BITMASK_NETMASK_EXCL: i32 = 4115;
/// `IPSET_ERR_TYPE_SPECIFIC`: codes from here on mean different things
/// for bitmap, hash and list types.
pub const IPSET_ERR_TYPE_SPECIFIC: i32 = 4352;
