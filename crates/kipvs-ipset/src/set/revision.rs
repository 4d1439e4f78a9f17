//! Which options each set type revision takes.

use crate::{set::CreateOptions, types::SetType, Error, Result};

impl CreateOptions {
    /// The first revision of `set_type` that takes `option` (0: every one).
    pub fn min_revision(set_type: SetType, option: &str) -> u8 {
        match (set_type, option) {
            (SetType::HashIp, "bitmask") => 6,
            (SetType::HashIpPort, "netmask" | "bitmask") => 7,
            (SetType::HashNetNet, "netmask" | "bitmask") => 4,
            _ => 0,
        }
    }

    /// Refuses `option` when the kernel's revision of `set_type` is older
    /// than the first one that takes it, in ipset's words.
    pub fn check_revision(set_type: SetType, option: &str, kernel: u8) -> Result<()> {
        let since = Self::min_revision(set_type, option);
        if kernel >= since {
            return Ok(());
        }
        Err(Error::invalid(
            "create option",
            option,
            format!(
                "Argument `{option}' is supported in the kernel module of the set type {set_type} \
                 starting from the revision {since} and you have installed revision {kernel} only. \
                 Your kernel is behind your ipset utility."
            ),
        ))
    }
}
