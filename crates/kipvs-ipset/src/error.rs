//! ipset's words for kernel errors (`lib/errcode.c` of ipset 7.17).

use crate::{types::SetType, wire::IpsetCmd};

const ENOENT: i32 = 2;
const EEXIST: i32 = 17;
const EMSGSIZE: i32 = 90;
const ERANGE: i32 = 34;

/// `(code, command or None for any, words)`; a command-specific row wins
/// over a generic one.
type Table = &'static [(i32, Option<IpsetCmd>, &'static str)];

const CORE: Table = &[
    (ENOENT, None, "The set with the given name does not exist"),
    (
        EMSGSIZE,
        None,
        "Kernel error received: message could not be created",
    ),
    (
        ERANGE,
        None,
        "The specified range is too large, split it up into smaller ranges",
    ),
    (4097, None, "Kernel error received: ipset protocol error"),
    (
        EEXIST,
        Some(IpsetCmd::Create),
        "Set cannot be created: set with the same name already exists",
    ),
    (4098, None, "Kernel error received: set type not supported"),
    (
        4099,
        None,
        "Kernel error received: maximal number of sets reached, cannot create more.",
    ),
    (4105, None, "The value of the netmask parameter is invalid"),
    (4113, None, "The value of the markmask parameter is invalid"),
    (4106, None, "Protocol family not supported by the set type"),
    (
        4100,
        Some(IpsetCmd::Destroy),
        "Set cannot be destroyed: it is in use by a kernel component",
    ),
    (
        4101,
        Some(IpsetCmd::Rename),
        "Set cannot be renamed: a set with the new name already exists",
    ),
    (
        4108,
        Some(IpsetCmd::Rename),
        "Set cannot be renamed: it is in use by another system",
    ),
    (
        4101,
        Some(IpsetCmd::Swap),
        "Sets cannot be swapped: the second set does not exist",
    ),
    (
        4102,
        Some(IpsetCmd::Swap),
        "The sets cannot be swapped: their type does not match",
    ),
    (
        4104,
        None,
        "The value of the CIDR parameter of the IP address is invalid",
    ),
    (
        4107,
        None,
        "Timeout cannot be used: set was created without timeout support",
    ),
    (4109, None, "An IPv4 address is expected, but not received"),
    (4110, None, "An IPv6 address is expected, but not received"),
    (
        4111,
        None,
        "Packet/byte counters cannot be used: set was created without counter support",
    ),
    (
        4112,
        None,
        "Comment cannot be used: set was created without comment support",
    ),
    (
        4114,
        None,
        "Skbinfo mapping cannot be used: set was created without skbinfo support",
    ),
    (
        4115,
        None,
        "netmask and bitmask options are mutually exclusive, provide only one",
    ),
    (
        4103,
        Some(IpsetCmd::Add),
        "Element cannot be added to the set: it's already added",
    ),
    (
        4103,
        Some(IpsetCmd::Del),
        "Element cannot be deleted from the set: it's not added",
    ),
    (
        EEXIST,
        Some(IpsetCmd::Type),
        "Kernel error received: set type does not supported",
    ),
];

const BITMAP: Table = &[
    (4352, None, "Element is out of the range of the set"),
    (
        4353,
        Some(IpsetCmd::Create),
        "The range you specified exceeds the size limit of the set type",
    ),
];

const HASH: Table = &[
    (4352, None, "Hash is full, cannot add more elements"),
    (
        4353,
        None,
        "Null-valued element, cannot be stored in a hash type of set",
    ),
    (4354, None, "Invalid protocol specified"),
    (4355, None, "Protocol missing, but must be specified"),
    (
        4356,
        None,
        "Range is not supported in the \"net\" component of the element",
    ),
    (4357, None, "Invalid range, covers the whole address space"),
];

const LIST: Table = &[
    (
        4352,
        None,
        "Set to be added/deleted/tested as element does not exist.",
    ),
    (
        4353,
        None,
        "Sets with list:set type cannot be added to the set.",
    ),
    (4354, None, "No reference set specified."),
    (
        4355,
        None,
        "The set to which you referred with 'before' or 'after' does not exist.",
    ),
    (
        4356,
        None,
        "The set is full, more elements cannot be added.",
    ),
    (
        4357,
        None,
        "The set to which you referred with 'before' or 'after' is not added to the set.",
    ),
];

fn lookup(table: Table, errno: i32, cmd: IpsetCmd) -> Option<&'static str> {
    let mut generic = None;
    for (code, c, words) in table {
        if *code != errno {
            continue;
        }
        match c {
            Some(c) if *c == cmd => return Some(words),
            None => generic = generic.or(Some(*words)),
            _ => {}
        }
    }
    generic
}

/// ipset's message for `errno` answered to `cmd` on a set of `set_type`
/// (needed for the type-specific codes from 4352 on).
pub fn describe(errno: i32, cmd: IpsetCmd, set_type: Option<SetType>) -> String {
    if errno >= crate::wire::IPSET_ERR_TYPE_SPECIFIC {
        let table = match set_type {
            Some(t) if t.is_bitmap() => Some(BITMAP),
            Some(t) if t.is_hash() => Some(HASH),
            Some(SetType::ListSet) => Some(LIST),
            _ => None,
        };
        if let Some(w) = table.and_then(|t| lookup(t, errno, cmd)) {
            return w.to_owned();
        }
    }
    if let Some(w) = lookup(CORE, errno, cmd) {
        return w.to_owned();
    }
    if errno < crate::wire::IPSET_ERR_PRIVATE {
        let text = kipvs_netlink::KernelError::new(errno).strerror();
        format!("Kernel error received: {text}")
    } else {
        format!("Undecoded error {errno} received from kernel")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_specific_words_win() {
        assert_eq!(
            describe(4103, IpsetCmd::Add, Some(SetType::HashIp)),
            "Element cannot be added to the set: it's already added"
        );
        assert_eq!(
            describe(4100, IpsetCmd::Destroy, None),
            "Set cannot be destroyed: it is in use by a kernel component"
        );
        assert_eq!(
            describe(4352, IpsetCmd::Add, Some(SetType::BitmapPort)),
            "Element is out of the range of the set"
        );
        assert_eq!(
            describe(4352, IpsetCmd::Add, Some(SetType::HashIp)),
            "Hash is full, cannot add more elements"
        );
        assert_eq!(
            describe(1, IpsetCmd::Add, None),
            "Kernel error received: Operation not permitted"
        );
    }
}
