//! Which options each set type revision takes.
//!
//! ipset refuses an option the revision does not take before sending,
//! naming the option, the first revision that takes it and the one
//! installed: the create options against the kernel's newest revision of
//! the type, the element options against the revision the set was made
//! with. A kernel whose newest revision predates an option would answer a
//! bare protocol error for an attribute it does not know, and ignore a
//! flag bit it does not know. The library refuses them as ipset does, for
//! create options ([`CreateOptions::check_revision_all`], run by
//! [`IpSet::create`](crate::IpSet::create)) and element options
//! ([`Entry::check_revision`], run by adds and tests).

use crate::{entry::Entry, set::CreateOptions, types::SetType, Error, Result};

/// The first revision of a type that takes each revision-bound option;
/// 0: every revision. From ipset 7.17's type tables (`lib/ipset_*.c`, the
/// oldest revision whose create or add arguments list the option), which
/// match the revision comments of the kernel's `ip_set_*.c`.
#[derive(Clone, Copy, Default)]
struct Since {
    /// `counters`; on elements `packets`, `bytes`.
    counters: u8,
    /// `comment`, on the set and on elements.
    comment: u8,
    /// `forceadd`.
    forceadd: u8,
    /// `skbinfo`; on elements `skbmark`, `skbprio`, `skbqueue`.
    skbinfo: u8,
    /// `bucketsize` and `initval` (one revision brought both).
    bucketsize: u8,
    /// `netmask` (types that took it later than their first revision).
    netmask: u8,
    /// `bitmask`.
    bitmask: u8,
    /// `nomatch` on elements.
    nomatch: u8,
    /// `wildcard` on hash:net,iface elements.
    wildcard: u8,
}

fn since(set_type: SetType) -> Since {
    use SetType::*;
    let extensions = |counters, comment, forceadd, skbinfo, bucketsize| Since {
        counters,
        comment,
        forceadd,
        skbinfo,
        bucketsize,
        ..Since::default()
    };
    match set_type {
        BitmapIp | BitmapIpMac | BitmapPort | ListSet => extensions(1, 2, 0, 3, 0),
        HashIp => Since {
            bitmask: 6,
            ..extensions(1, 2, 3, 4, 5)
        },
        HashMac | HashIpMac => extensions(0, 0, 0, 0, 1),
        HashIpMark | HashNetPortNet => extensions(0, 0, 1, 2, 3),
        HashNetNet => Since {
            netmask: 4,
            bitmask: 4,
            ..extensions(0, 0, 1, 2, 3)
        },
        HashIpPort => Since {
            netmask: 7,
            bitmask: 7,
            ..extensions(2, 3, 4, 5, 6)
        },
        HashIpPortIp => extensions(2, 3, 4, 5, 6),
        HashIpPortNet | HashNetPort => Since {
            nomatch: 3,
            ..extensions(4, 5, 6, 7, 8)
        },
        HashNet => Since {
            nomatch: 2,
            ..extensions(3, 4, 5, 6, 7)
        },
        HashNetIface => Since {
            nomatch: 1,
            wildcard: 7,
            ..extensions(3, 4, 5, 6, 8)
        },
    }
}

/// ipset's refusal (`lib/ipset.c`, `call_parser`), word for word.
fn behind(set_type: SetType, option: &str, since: u8, kernel: u8) -> Error {
    Error::invalid(
        "option",
        option,
        format!(
            "Argument `{option}' is supported in the kernel module of the set type {set_type} \
             starting from the revision {since} and you have installed revision {kernel} only. \
             Your kernel is behind your ipset utility."
        ),
    )
}

impl CreateOptions {
    /// The first revision of `set_type` that takes `option`, a create or
    /// an element option keyword as ipset spells it (0: every revision).
    pub fn min_revision(set_type: SetType, option: &str) -> u8 {
        let s = since(set_type);
        match option {
            "counters" | "packets" | "bytes" => s.counters,
            "comment" => s.comment,
            "forceadd" => s.forceadd,
            "skbinfo" | "skbmark" | "skbprio" | "skbqueue" => s.skbinfo,
            "bucketsize" | "initval" => s.bucketsize,
            "netmask" => s.netmask,
            "bitmask" => s.bitmask,
            "nomatch" => s.nomatch,
            "wildcard" => s.wildcard,
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
        Err(behind(set_type, option, since, kernel))
    }

    /// The revision-bound options these options give, in ipset's order of
    /// create arguments.
    fn bound_options(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            ("counters", self.counters),
            ("comment", self.comment),
            ("forceadd", self.forceadd),
            ("skbinfo", self.skbinfo),
            ("bucketsize", self.bucketsize.is_some()),
            ("initval", self.initval.is_some()),
            ("netmask", self.netmask.is_some()),
            ("bitmask", self.bitmask.is_some()),
        ]
        .into_iter()
        .filter_map(|(option, given)| given.then_some(option))
    }

    /// Refuses the first option that revision `kernel` of `set_type` does
    /// not take (see [`CreateOptions::check_revision`]).
    pub fn check_revision_all(&self, set_type: SetType, kernel: u8) -> Result<()> {
        self.bound_options()
            .try_for_each(|option| Self::check_revision(set_type, option, kernel))
    }
}

impl Entry {
    /// The revision-bound options of this element, in ipset's order.
    fn bound_options(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            ("nomatch", self.nomatch),
            ("wildcard", self.wildcard),
            ("packets", self.packets.is_some()),
            ("bytes", self.bytes.is_some()),
            ("comment", self.comment.is_some()),
            ("skbmark", self.skbmark.is_some()),
            ("skbprio", self.skbprio.is_some()),
            ("skbqueue", self.skbqueue.is_some()),
        ]
        .into_iter()
        .filter_map(|(option, given)| given.then_some(option))
    }

    /// Refuses the first option of this element that revision `revision`
    /// of `set_type` (the revision the set was made with) does not take,
    /// in ipset's words.
    pub fn check_revision(&self, set_type: SetType, revision: u8) -> Result<()> {
        self.bound_options()
            .try_for_each(|option| CreateOptions::check_revision(set_type, option, revision))
    }

    /// Whether any option of this element depends on the set's revision.
    pub(crate) fn has_revision_bound_options(&self) -> bool {
        self.bound_options().next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_bound_to_the_revision_that_brought_it() {
        use SetType::*;
        for (t, option, since) in [
            (HashIp, "counters", 1),
            (HashIp, "comment", 2),
            (HashIp, "forceadd", 3),
            (HashIp, "skbinfo", 4),
            (HashIp, "bucketsize", 5),
            (HashIp, "initval", 5),
            (HashIp, "bitmask", 6),
            (HashIp, "netmask", 0),
            (HashIpPort, "netmask", 7),
            (HashNetNet, "bitmask", 4),
            (HashNet, "nomatch", 2),
            (HashNet, "counters", 3),
            (HashNetIface, "wildcard", 7),
            (HashNetIface, "bucketsize", 8),
            (HashIpPortNet, "nomatch", 3),
            (BitmapPort, "skbinfo", 3),
            (ListSet, "comment", 2),
            (HashMac, "initval", 1),
            (HashIpMark, "forceadd", 1),
            (HashIp, "timeout", 0),
            (HashIp, "maxelem", 0),
        ] {
            assert_eq!(
                CreateOptions::min_revision(t, option),
                since,
                "{t} {option}"
            );
        }
    }

    #[test]
    fn create_options_newer_than_the_kernel_are_named() {
        let o = CreateOptions::default().counters().comment();
        assert!(o.check_revision_all(SetType::HashNet, 4).is_ok());
        let Error::Invalid {
            what,
            value,
            reason,
        } = o.check_revision_all(SetType::HashNet, 3).unwrap_err()
        else {
            panic!("not an invalid-input error")
        };
        assert_eq!((what.as_str(), value.as_str()), ("option", "comment"));
        assert_eq!(
            reason,
            "Argument `comment' is supported in the kernel module of the set type hash:net \
             starting from the revision 4 and you have installed revision 3 only. Your kernel is \
             behind your ipset utility."
        );
        let o = CreateOptions {
            forceadd: true,
            bucketsize: Some(12),
            ..CreateOptions::default()
        };
        let e = o.check_revision_all(SetType::HashIpPort, 3).unwrap_err();
        assert!(e.to_string().contains("`forceadd'"), "{e}");
        let e = o.check_revision_all(SetType::HashIpPort, 5).unwrap_err();
        assert!(e.to_string().contains("`bucketsize'"), "{e}");
    }

    #[test]
    fn element_options_newer_than_the_set_are_named() {
        let e = Entry::net(std::net::Ipv4Addr::new(10, 0, 0, 0), 8).nomatch();
        assert!(e.check_revision(SetType::HashNet, 2).is_ok());
        let err = e.check_revision(SetType::HashNet, 1).unwrap_err();
        assert!(
            err.to_string()
                .contains("Argument `nomatch' is supported in the kernel module of the set type hash:net starting from the revision 2 and you have installed revision 1 only."),
            "{err}"
        );
        let mut e = Entry::ip(std::net::Ipv4Addr::LOCALHOST);
        assert!(!e.has_revision_bound_options());
        e.skbqueue = Some(1);
        assert!(e.has_revision_bound_options());
        assert!(e.check_revision(SetType::HashIp, 3).is_err());
        assert!(e.check_revision(SetType::HashIp, 4).is_ok());
    }
}
