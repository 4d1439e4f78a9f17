//! Set names, families and types.

use std::{fmt, str::FromStr};

use crate::{wire::IPSET_MAXNAMELEN, Error, Result};

/// A set name: at most 31 bytes (`IPSET_MAXNAMELEN` counts the NUL). The
/// kernel takes an empty name too, and so does ipset (`ipset create ""
/// hash:ip` makes a set listed with a blank name), so it is a name here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct SetName(String);

impl SetName {
    /// Checks `name` against the kernel's limits.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        if name.len() >= IPSET_MAXNAMELEN {
            let reason = format!("longer than {} characters", IPSET_MAXNAMELEN - 1);
            return Err(Error::invalid("set name", name, reason));
        }
        if name.contains('\0') {
            return Err(Error::invalid(
                "set name",
                name.escape_debug(),
                "contains NUL",
            ));
        }
        Ok(SetName(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SetName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SetName::new(s)
    }
}

impl TryFrom<String> for SetName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        SetName::new(s)
    }
}

impl From<SetName> for String {
    fn from(n: SetName) -> String {
        n.0
    }
}

impl fmt::Display for SetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SetName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The address family of a set (`IPSET_ATTR_FAMILY`, `NFPROTO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Family {
    /// IPv4 (`NFPROTO_IPV4`, ipset's `inet`).
    #[default]
    Inet,
    /// IPv6 (`NFPROTO_IPV6`, ipset's `inet6`).
    Inet6,
    /// No family (bitmap:port, hash:mac, list:set: `NFPROTO_UNSPEC`).
    Unspec,
}

/// `NFPROTO_IPV4`.
pub(crate) const NFPROTO_IPV4: u8 = 2;
/// `NFPROTO_IPV6`.
pub(crate) const NFPROTO_IPV6: u8 = 10;

impl Family {
    pub(crate) fn to_wire(self) -> u8 {
        match self {
            Family::Inet => NFPROTO_IPV4,
            Family::Inet6 => NFPROTO_IPV6,
            Family::Unspec => 0,
        }
    }

    pub(crate) fn from_wire(v: u8) -> Self {
        match v {
            NFPROTO_IPV4 => Family::Inet,
            NFPROTO_IPV6 => Family::Inet6,
            _ => Family::Unspec,
        }
    }

    /// ipset's word: `inet`, `inet6` (or `unspec`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
            Family::Unspec => "unspec",
        }
    }

    /// The longest prefix of an address of this family.
    pub fn max_prefix(self) -> u8 {
        match self {
            Family::Inet6 => 128,
            _ => 32,
        }
    }
}

impl FromStr for Family {
    type Err = Error;
    /// `inet`, `ipv4`, `-4`, `inet6`, `ipv6`, `-6`, as ipset accepts them.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "inet" | "ipv4" | "-4" => Ok(Family::Inet),
            "inet6" | "ipv6" | "-6" => Ok(Family::Inet6),
            _ => Err(Error::invalid("family", s, "unknown inet family")),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dimension of an element, in the order ipset writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// An address (a CIDR or range is expanded by the kernel).
    Ip,
    /// A network: address with prefix length.
    Net,
    /// `[proto:]port` (hash types) or a bare port (bitmap:port).
    Port,
    /// An interface name, optionally `physdev:`.
    Iface,
    /// A MAC address.
    Mac,
    /// A packet mark.
    Mark,
    /// A set name (list:set).
    Set,
}

macro_rules! set_types {
    ($( $(#[$doc:meta])* $v:ident = $name:literal, family $fam:expr, dims [$($d:ident),*]; )*) => {
        /// A set type, as named by ipset (`hash:ip,port`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[non_exhaustive]
        pub enum SetType { $( $(#[$doc])* #[cfg_attr(feature = "serde", serde(rename = $name))] $v, )* }

        impl SetType {
            /// Every set type ipset 7.17 knows.
            pub const ALL: &'static [SetType] = &[$(SetType::$v),*];

            /// ipset's name for the type.
            pub fn name(self) -> &'static str {
                match self { $(SetType::$v => $name,)* }
            }

            /// The dimensions of an element, in order.
            pub fn dims(self) -> &'static [Dim] {
                match self { $(SetType::$v => &[$(Dim::$d),*],)* }
            }

            /// Whether the type has an address family (`family inet|inet6`).
            pub fn has_family(self) -> bool {
                match self { $(SetType::$v => $fam,)* }
            }
        }
    };
}

set_types! {
    /// `bitmap:ip`: IPv4 addresses (or networks, with `netmask`) in a range.
    BitmapIp = "bitmap:ip", family false, dims [Ip];
    /// `bitmap:ip,mac`.
    BitmapIpMac = "bitmap:ip,mac", family false, dims [Ip, Mac];
    /// `bitmap:port`.
    BitmapPort = "bitmap:port", family false, dims [Port];
    /// `hash:ip`.
    HashIp = "hash:ip", family true, dims [Ip];
    /// `hash:mac`.
    HashMac = "hash:mac", family false, dims [Mac];
    /// `hash:ip,mac`.
    HashIpMac = "hash:ip,mac", family true, dims [Ip, Mac];
    /// `hash:net`.
    HashNet = "hash:net", family true, dims [Net];
    /// `hash:net,net`.
    HashNetNet = "hash:net,net", family true, dims [Net, Net];
    /// `hash:ip,port`.
    HashIpPort = "hash:ip,port", family true, dims [Ip, Port];
    /// `hash:net,port`.
    HashNetPort = "hash:net,port", family true, dims [Net, Port];
    /// `hash:ip,port,ip`.
    HashIpPortIp = "hash:ip,port,ip", family true, dims [Ip, Port, Ip];
    /// `hash:ip,port,net`.
    HashIpPortNet = "hash:ip,port,net", family true, dims [Ip, Port, Net];
    /// `hash:ip,mark`.
    HashIpMark = "hash:ip,mark", family true, dims [Ip, Mark];
    /// `hash:net,port,net`.
    HashNetPortNet = "hash:net,port,net", family true, dims [Net, Port, Net];
    /// `hash:net,iface`.
    HashNetIface = "hash:net,iface", family true, dims [Net, Iface];
    /// `list:set`.
    ListSet = "list:set", family false, dims [Set];
}

impl SetType {
    /// A `hash:*` type.
    pub fn is_hash(self) -> bool {
        self.name().starts_with("hash:")
    }

    /// A `bitmap:*` type.
    pub fn is_bitmap(self) -> bool {
        self.name().starts_with("bitmap:")
    }

    /// Whether elements take `nomatch` (the types with a network
    /// dimension, whose kernel modules read `IPSET_FLAG_NOMATCH`).
    pub(crate) fn takes_nomatch(self) -> bool {
        matches!(
            self,
            SetType::HashNet
                | SetType::HashNetNet
                | SetType::HashNetPort
                | SetType::HashNetPortNet
                | SetType::HashNetIface
                | SetType::HashIpPortNet
        )
    }
}

impl FromStr for SetType {
    type Err = Error;
    /// ipset's names, and its aliases (`iphash`, `portmap`, `setlist`, ...).
    fn from_str(s: &str) -> Result<Self> {
        if let Some(t) = SetType::ALL.iter().find(|t| t.name() == s) {
            return Ok(*t);
        }
        // The pre-6.0 names ipset still accepts.
        let t = match s {
            "ipmap" => SetType::BitmapIp,
            "macipmap" => SetType::BitmapIpMac,
            "portmap" => SetType::BitmapPort,
            "iphash" => SetType::HashIp,
            "nethash" => SetType::HashNet,
            "ipporthash" => SetType::HashIpPort,
            "ipportiphash" => SetType::HashIpPortIp,
            "ipportnethash" => SetType::HashIpPortNet,
            "setlist" => SetType::ListSet,
            _ => return Err(Error::invalid("set type", s, "unknown")),
        };
        Ok(t)
    }
}

impl fmt::Display for SetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_limited_to_31_bytes() {
        assert!(SetName::new("a".repeat(31)).is_ok());
        let e = SetName::new("a".repeat(32)).unwrap_err();
        assert!(e.to_string().contains("longer than 31"), "{e}");
        assert_eq!("".parse::<SetName>().unwrap().as_str(), "");
    }

    #[test]
    fn types_round_trip_their_names() {
        for t in SetType::ALL {
            assert_eq!(t.name().parse::<SetType>().unwrap(), *t);
        }
        assert_eq!("iphash".parse::<SetType>().unwrap(), SetType::HashIp);
        assert!("hash:foo".parse::<SetType>().is_err());
    }
}
