//! A set as a listing reports it ([`Set`]): its header, in ipset's words.
//! How a set is made ([`CreateOptions`]) is in `options`, which options
//! each type revision takes in `revision`.

mod options;
mod revision;

use std::fmt::Write as _;

use crate::{
    entry::Entry,
    types::{Family, SetName, SetType},
    wire::{
        CreateAttr, IPSET_FLAG_WITH_COMMENT, IPSET_FLAG_WITH_COUNTERS, IPSET_FLAG_WITH_FORCEADD,
        IPSET_FLAG_WITH_SKBINFO,
    },
};

pub use options::{CreateOptions, Range};

/// A set as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Set {
    /// Its name.
    pub name: SetName,
    /// Its type.
    pub set_type: SetType,
    /// The type revision the kernel made it with.
    pub revision: u8,
    /// Its family.
    pub family: Family,
    /// Its options, as the kernel reports them (rounded hashsize, initval).
    pub options: CreateOptions,
    /// Bytes of kernel memory.
    pub memsize: u32,
    /// Kernel users (iptables rules, list:set memberships).
    pub references: u32,
    /// How many entries it holds.
    pub elements: u32,
    /// The entries (empty for header-only listings).
    pub entries: Vec<Entry>,
}

impl Set {
    pub(crate) fn apply_header(&mut self, attrs: &[CreateAttr]) {
        let o = &mut self.options;
        let (mut from, mut to, mut cidr, mut pfrom, mut pto) = (None, None, None, None, None);
        for a in attrs {
            match a {
                CreateAttr::Ip(v) => from = Some(*v),
                CreateAttr::IpTo(v) => to = Some(*v),
                CreateAttr::Cidr(v) => cidr = Some(*v),
                CreateAttr::Port(v) => pfrom = Some(*v),
                CreateAttr::PortTo(v) => pto = Some(*v),
                CreateAttr::Timeout(v) => o.timeout = Some(*v),
                CreateAttr::CadtFlags(f) => {
                    o.counters = f & IPSET_FLAG_WITH_COUNTERS != 0;
                    o.comment = f & IPSET_FLAG_WITH_COMMENT != 0;
                    o.skbinfo = f & IPSET_FLAG_WITH_SKBINFO != 0;
                    o.forceadd = f & IPSET_FLAG_WITH_FORCEADD != 0;
                }
                CreateAttr::MarkMask(v) => o.markmask = Some(*v),
                CreateAttr::Bitmask(v) => o.bitmask = Some(*v),
                CreateAttr::InitVal(v) => o.initval = Some(*v),
                CreateAttr::HashSize(v) => o.hashsize = Some(*v),
                CreateAttr::MaxElem(v) => o.maxelem = Some(*v),
                CreateAttr::Netmask(v) => o.netmask = Some(*v),
                CreateAttr::BucketSize(v) => o.bucketsize = Some(*v),
                CreateAttr::Size(v) => o.size = Some(*v),
                CreateAttr::Elements(v) => self.elements = *v,
                CreateAttr::References(v) => self.references = *v,
                CreateAttr::MemSize(v) => self.memsize = *v,
                _ => {}
            }
        }
        o.range = match (from, to, cidr, pfrom, pto) {
            (Some(from), Some(to), ..) => Some(Range::Ip { from, to }),
            (Some(addr), None, Some(cidr), ..) => Some(Range::Net { addr, cidr }),
            (_, _, _, Some(from), Some(to)) => Some(Range::Port { from, to }),
            _ => None,
        };
        if self.set_type.has_family() {
            o.family = Some(self.family);
        }
    }

    /// The options in ipset's order, as (keyword, value) pairs; flags have
    /// no value. ipset prints them in the order of each type's create
    /// arguments (so `netmask` comes after `initval` for hash:ip,port);
    /// `ipset list` joins them into its `Header:` line, `-o xml` into
    /// `<keyword>value</keyword>` elements.
    pub fn header_fields(&self) -> Vec<(&'static str, Option<String>)> {
        use SetType::*;
        let o = &self.options;
        const TAIL: &[&str] = &[
            "timeout",
            "counters",
            "comment",
            "skbinfo",
            "bucketsize",
            "initval",
        ];
        let order: Vec<&'static str> = match self.set_type {
            BitmapIp => vec![
                "range", "netmask", "timeout", "counters", "comment", "skbinfo",
            ],
            BitmapIpMac | BitmapPort => vec!["range", "timeout", "counters", "comment", "skbinfo"],
            ListSet => vec!["size", "timeout", "counters", "comment", "skbinfo"],
            HashIp => [
                &["family", "hashsize", "maxelem", "netmask", "bitmask"][..],
                TAIL,
            ]
            .concat(),
            HashIpMark => [&["family", "markmask", "hashsize", "maxelem"][..], TAIL].concat(),
            HashIpPort => [
                &["family", "hashsize", "maxelem"][..],
                TAIL,
                &["netmask", "bitmask"],
            ]
            .concat(),
            HashNetNet => [
                &["family", "hashsize", "maxelem"][..],
                TAIL,
                &["bitmask", "netmask"],
            ]
            .concat(),
            HashMac => [&["hashsize", "maxelem"][..], TAIL].concat(),
            _ => [&["family", "hashsize", "maxelem"][..], TAIL].concat(),
        };
        let mut f: Vec<(&'static str, Option<String>)> = Vec::new();
        for key in order {
            let value: Option<Option<String>> = match key {
                "family" => self
                    .set_type
                    .has_family()
                    .then(|| Some(self.family.to_string())),
                "range" => o.range.map(|r| {
                    Some(match r {
                        Range::Ip { from, to } => format!("{from}-{to}"),
                        Range::Net { addr, cidr } => format!("{addr}/{cidr}"),
                        Range::Port { from, to } => format!("{from}-{to}"),
                    })
                }),
                "hashsize" => o.hashsize.map(|v| Some(v.to_string())),
                "maxelem" => o.maxelem.map(|v| Some(v.to_string())),
                "size" => o.size.map(|v| Some(v.to_string())),
                "netmask" => o.netmask.map(|v| Some(v.to_string())),
                "bitmask" => o.bitmask.map(|v| Some(crate::entry::ip_text(v))),
                "markmask" => o.markmask.map(|v| Some(format!("{v:#010x}"))),
                "timeout" => o.timeout.map(|v| Some(v.to_string())),
                "counters" => o.counters.then_some(None),
                "comment" => o.comment.then_some(None),
                "skbinfo" => o.skbinfo.then_some(None),
                "bucketsize" => o.bucketsize.map(|v| Some(v.to_string())),
                "initval" => o.initval.map(|v| Some(format!("{v:#010x}"))),
                _ => None,
            };
            if let Some(v) = value {
                f.push((key, v));
            }
        }
        f
    }

    /// The `create` line of `ipset save` for this set (no newline).
    pub fn create_line(&self) -> String {
        format!(
            "create {} {} {}",
            self.name,
            self.set_type,
            self.header_text()
        )
    }

    /// The options as ipset prints them after the type (the `Header:` line
    /// of `ipset list`, the rest of a `create` line of `ipset save`).
    pub fn header_text(&self) -> String {
        let mut s = String::new();
        for (k, v) in self.header_fields() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(k);
            if let Some(v) = v {
                let _ = write!(s, " {v}");
            }
        }
        s
    }
}
