//! How a set is made: the options of `ipset create` ([`CreateOptions`]),
//! parsed from ipset's words and encoded as create data.

use std::net::IpAddr;

use crate::{
    parse::number,
    types::{Family, SetType},
    wire::{
        CreateAttr, IPSET_FLAG_WITH_COMMENT, IPSET_FLAG_WITH_COUNTERS, IPSET_FLAG_WITH_FORCEADD,
        IPSET_FLAG_WITH_SKBINFO,
    },
    Error, Result,
};

/// The range of a bitmap set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Range {
    /// bitmap:ip, bitmap:ip,mac: `from-to` (a CIDR is turned into this).
    Ip {
        /// First address.
        from: IpAddr,
        /// Last address.
        to: IpAddr,
    },
    /// bitmap:ip given as a network: `10.0.0.0/16`.
    Net {
        /// The network address.
        addr: IpAddr,
        /// Its prefix length.
        cidr: u8,
    },
    /// bitmap:port: `from-to`.
    Port {
        /// First port.
        from: u16,
        /// Last port.
        to: u16,
    },
}

/// How a set is made: the options of `ipset create`. Also what a listing
/// reports back (then `initval` is the kernel's seed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CreateOptions {
    /// `family inet|inet6` (hash types; default inet).
    pub family: Option<Family>,
    /// `hashsize`.
    pub hashsize: Option<u32>,
    /// `maxelem`.
    pub maxelem: Option<u32>,
    /// `netmask` (hash:ip, bitmap:ip, hash:net,net...).
    pub netmask: Option<u8>,
    /// `markmask` (hash:ip,mark).
    pub markmask: Option<u32>,
    /// `bitmask` (hash:ip, hash:ip,port, hash:net,net; Linux 6.1).
    pub bitmask: Option<IpAddr>,
    /// `bucketsize`.
    pub bucketsize: Option<u8>,
    /// `timeout`: default timeout, and timeouts enabled.
    pub timeout: Option<u32>,
    /// `counters`.
    pub counters: bool,
    /// `comment`.
    pub comment: bool,
    /// `skbinfo`.
    pub skbinfo: bool,
    /// `forceadd`.
    pub forceadd: bool,
    /// `range` (bitmap types).
    pub range: Option<Range>,
    /// `size` (list:set).
    pub size: Option<u32>,
    /// `initval` (hash seed).
    pub initval: Option<u32>,
}

impl CreateOptions {
    /// `timeout SECONDS`.
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }
    /// `family`.
    pub fn family(mut self, family: Family) -> Self {
        self.family = Some(family);
        self
    }
    /// `hashsize`.
    pub fn hashsize(mut self, n: u32) -> Self {
        self.hashsize = Some(n);
        self
    }
    /// `maxelem`.
    pub fn maxelem(mut self, n: u32) -> Self {
        self.maxelem = Some(n);
        self
    }
    /// `range` of a bitmap:port.
    pub fn port_range(mut self, from: u16, to: u16) -> Self {
        self.range = Some(Range::Port { from, to });
        self
    }
    /// `counters`.
    pub fn counters(mut self) -> Self {
        self.counters = true;
        self
    }
    /// `comment`.
    pub fn comment(mut self) -> Self {
        self.comment = true;
        self
    }

    /// The family a set of `set_type` made with these options has.
    pub fn family_for(&self, set_type: SetType) -> Family {
        if set_type.has_family() {
            self.family.unwrap_or(Family::Inet)
        } else if matches!(set_type, SetType::BitmapIp | SetType::BitmapIpMac) {
            Family::Inet
        } else {
            Family::Unspec
        }
    }

    /// Checks the options against the type before anything is sent.
    pub fn validate(&self, set_type: SetType) -> Result<()> {
        if set_type.is_bitmap() && self.range.is_none() {
            return Err(Error::invalid(
                "create options",
                set_type,
                "Mandatory option `range' is missing",
            ));
        }
        Ok(())
    }

    pub(crate) fn to_attrs(&self) -> Vec<CreateAttr> {
        let mut a: Vec<(u16, CreateAttr)> = Vec::new();
        match self.range {
            Some(Range::Ip { from, to }) => {
                a.push((1, CreateAttr::Ip(from)));
                a.push((2, CreateAttr::IpTo(to)));
            }
            Some(Range::Net { addr, cidr }) => {
                a.push((1, CreateAttr::Ip(addr)));
                a.push((3, CreateAttr::Cidr(cidr)));
            }
            Some(Range::Port { from, to }) => {
                a.push((4, CreateAttr::Port(from)));
                a.push((5, CreateAttr::PortTo(to)));
            }
            None => {}
        }
        if let Some(t) = self.timeout {
            a.push((6, CreateAttr::Timeout(t)));
        }
        let mut flags = 0;
        if self.counters {
            flags |= IPSET_FLAG_WITH_COUNTERS;
        }
        if self.comment {
            flags |= IPSET_FLAG_WITH_COMMENT;
        }
        if self.forceadd {
            flags |= IPSET_FLAG_WITH_FORCEADD;
        }
        if self.skbinfo {
            flags |= IPSET_FLAG_WITH_SKBINFO;
        }
        if flags != 0 {
            a.push((8, CreateAttr::CadtFlags(flags)));
        }
        if let Some(m) = self.markmask {
            a.push((11, CreateAttr::MarkMask(m)));
        }
        if let Some(m) = self.bitmask {
            a.push((12, CreateAttr::Bitmask(m)));
        }
        if let Some(v) = self.initval {
            a.push((17, CreateAttr::InitVal(v)));
        }
        if let Some(v) = self.hashsize {
            a.push((18, CreateAttr::HashSize(v)));
        }
        if let Some(v) = self.maxelem {
            a.push((19, CreateAttr::MaxElem(v)));
        }
        if let Some(v) = self.netmask {
            a.push((20, CreateAttr::Netmask(v)));
        }
        if let Some(v) = self.bucketsize {
            a.push((21, CreateAttr::BucketSize(v)));
        }
        if let Some(v) = self.size {
            a.push((23, CreateAttr::Size(v)));
        }
        a.sort_by_key(|(id, _)| *id);
        a.into_iter().map(|(_, v)| v).collect()
    }

    /// Parses ipset's create options (`hashsize 1024 timeout 5 counters`)
    /// for `set_type`.
    pub fn parse(set_type: SetType, words: &[&str]) -> Result<Self> {
        let mut o = CreateOptions::default();
        let mut bitmask = None;
        let exclusive = || {
            Error::invalid(
                "bitmask",
                "netmask/bitmask",
                "bitmask and netmask are mutually exclusive, provide only one",
            )
        };
        // hash:mac has no family but every other hash option.
        let hash = set_type.is_hash();
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let arg = || {
                words.get(i + 1).copied().ok_or_else(|| {
                    Error::invalid(
                        "create option",
                        word,
                        format!("Missing mandatory argument of option `{word}'"),
                    )
                })
            };
            let takes = match (word, set_type.has_family()) {
                ("family", true) => {
                    let f = arg()?;
                    o.family = Some(f.parse().map_err(|_| {
                        Error::invalid("family", f, format!("unknown inet family {f}"))
                    })?);
                    true
                }
                ("-4", true) | ("inet", true) => {
                    o.family = Some(Family::Inet);
                    false
                }
                ("-6", true) | ("inet6", true) => {
                    o.family = Some(Family::Inet6);
                    false
                }
                ("hashsize", _) if hash => {
                    o.hashsize = Some(number(arg()?, u32::MAX as u64)? as u32);
                    true
                }
                ("maxelem", _) if hash => {
                    o.maxelem = Some(number(arg()?, u32::MAX as u64)? as u32);
                    true
                }
                ("bucketsize", _) if hash => {
                    o.bucketsize = Some(number(arg()?, 255)? as u8);
                    true
                }
                ("initval", _) if hash => {
                    o.initval = Some(number(arg()?, u32::MAX as u64)? as u32);
                    true
                }
                ("markmask", true) if set_type == SetType::HashIpMark => {
                    o.markmask = Some(number(arg()?, u32::MAX as u64)? as u32);
                    true
                }
                ("bitmask", _)
                    if matches!(
                        set_type,
                        SetType::HashIp | SetType::HashIpPort | SetType::HashNetNet
                    ) =>
                {
                    if o.netmask.is_some() {
                        return Err(exclusive());
                    }
                    bitmask = Some(arg()?);
                    true
                }
                ("netmask", _)
                    if matches!(
                        set_type,
                        SetType::HashIp
                            | SetType::HashIpPort
                            | SetType::BitmapIp
                            | SetType::HashNetNet
                    ) =>
                {
                    if bitmask.is_some() {
                        return Err(exclusive());
                    }
                    o.netmask = Some(number(arg()?, 128)? as u8);
                    true
                }
                ("range", _) if set_type.is_bitmap() => {
                    o.range = Some(parse_range(set_type, arg()?)?);
                    true
                }
                ("size", _) if set_type == SetType::ListSet => {
                    o.size = Some(number(arg()?, u32::MAX as u64)? as u32);
                    true
                }
                ("timeout", _) => {
                    o.timeout = Some(number(arg()?, u32::MAX as u64)? as u32);
                    true
                }
                ("counters", _) => {
                    o.counters = true;
                    false
                }
                ("comment", _) => {
                    o.comment = true;
                    false
                }
                ("skbinfo", _) => {
                    o.skbinfo = true;
                    false
                }
                ("forceadd", _) if hash => {
                    o.forceadd = true;
                    false
                }
                _ => {
                    return Err(Error::invalid(
                        "create option",
                        word,
                        format!("Unknown argument: `{word}'"),
                    ))
                }
            };
            i += if takes { 2 } else { 1 };
        }
        if let Some(b) = bitmask {
            // The mask is an address of the set's family, known only now.
            let parsed = if o.family == Some(Family::Inet6) {
                b.parse::<std::net::Ipv6Addr>().map(IpAddr::V6).ok()
            } else {
                b.parse::<std::net::Ipv4Addr>().map(IpAddr::V4).ok()
            };
            o.bitmask = Some(parsed.ok_or_else(|| {
                Error::invalid("bitmask", b, format!("cannot parse {b} as a bitmask"))
            })?);
        }
        o.validate(set_type)?;
        Ok(o)
    }
}

fn parse_range(set_type: SetType, s: &str) -> Result<Range> {
    if set_type == SetType::BitmapPort {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        return Ok(Range::Port {
            from: number(a, 65535)? as u16,
            to: number(b, 65535)? as u16,
        });
    }
    let addr = |x: &str| {
        x.parse::<std::net::Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| {
                Error::invalid(
                    "range",
                    x,
                    format!("cannot parse {x}: resolving to IPv4 address failed"),
                )
            })
    };
    if let Some((a, c)) = s.split_once('/') {
        return Ok(Range::Net {
            addr: addr(a)?,
            cidr: number(c, 32)? as u8,
        });
    }
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    Ok(Range::Ip {
        from: addr(a)?,
        to: addr(b)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_mac_takes_the_hash_options_but_no_family() {
        let words = [
            "hashsize",
            "64",
            "maxelem",
            "10",
            "forceadd",
            "bucketsize",
            "4",
        ];
        let o = CreateOptions::parse(SetType::HashMac, &words).unwrap();
        assert_eq!(
            (o.hashsize, o.maxelem, o.bucketsize),
            (Some(64), Some(10), Some(4))
        );
        assert!(o.forceadd);
        for words in [&["family", "inet"][..], &["-6"]] {
            let e = CreateOptions::parse(SetType::HashMac, words).unwrap_err();
            assert!(e.to_string().contains("Unknown argument"), "{e}");
        }
        let e = CreateOptions::parse(SetType::BitmapPort, &["range", "1-2", "hashsize", "64"])
            .unwrap_err();
        assert!(
            e.to_string().contains("Unknown argument: `hashsize'"),
            "{e}"
        );
    }
}
