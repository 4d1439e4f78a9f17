//! An address bound to an interface: an IP and its prefix length.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    str::FromStr,
};

use kipvs_netlink::{Error, Result};

/// An interface address: an IP and its prefix length, written
/// `10.96.0.10/32` or `fd00::10/128`.
///
/// A bare IP is a host address (`/32` or `/128`), as kube-proxy binds
/// service addresses. Ordering puts IPv4 before IPv6, then by IP and prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "Unchecked"))]
pub struct Address {
    /// The IP.
    pub ip: IpAddr,
    /// The prefix length: at most 32 for IPv4, 128 for IPv6.
    pub prefix_len: u8,
}

impl Address {
    /// `ip/prefix_len`; refuses a prefix longer than the family allows.
    pub fn new(ip: IpAddr, prefix_len: u8) -> Result<Self> {
        if prefix_len > max_prefix(ip) {
            return Err(Error::invalid(
                "prefix length",
                format!("{ip}/{prefix_len}"),
                format!("at most {} for {}", max_prefix(ip), family_name(ip)),
            ));
        }
        Ok(Address { ip, prefix_len })
    }

    /// `ip/32` or `ip/128`.
    pub fn host(ip: IpAddr) -> Self {
        Address {
            ip,
            prefix_len: max_prefix(ip),
        }
    }

    /// True for `/32` and `/128`.
    pub fn is_host(&self) -> bool {
        self.prefix_len == max_prefix(self.ip)
    }

    /// Checks that the kernel can bind this address to an interface as a
    /// service address: not unspecified, multicast or the IPv4 limited
    /// broadcast.
    pub fn check_bindable(&self) -> Result<()> {
        let reason = match self.ip {
            ip if ip.is_unspecified() => "the unspecified address",
            ip if ip.is_multicast() => "a multicast address",
            IpAddr::V4(v4) if v4.is_broadcast() => "the broadcast address",
            _ => return Ok(()),
        };
        Err(Error::invalid(
            "address",
            self,
            format!("{reason} cannot be bound to an interface"),
        ))
    }
}

/// An address as deserialized, before its prefix length is checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct Unchecked {
    ip: IpAddr,
    prefix_len: u8,
}

#[cfg(feature = "serde")]
impl TryFrom<Unchecked> for Address {
    type Error = Error;

    fn try_from(a: Unchecked) -> Result<Self> {
        Address::new(a.ip, a.prefix_len)
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

fn family_name(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

impl FromStr for Address {
    type Err = Error;

    /// `IP` or `IP/PREFIX`.
    fn from_str(s: &str) -> Result<Self> {
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (s, None),
        };
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| Error::invalid("address", s, "not an IPv4 or IPv6 address"))?;
        match prefix {
            None => Ok(Address::host(ip)),
            Some(p) => {
                // u8::from_str takes a leading '+'; prefix lengths are digits.
                let len = p
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| p.parse::<u8>().ok())
                    .flatten()
                    .ok_or_else(|| {
                        Error::invalid("address", s, format!("bad prefix length {p:?}"))
                    })?;
                Address::new(ip, len).map_err(|_| {
                    Error::invalid(
                        "address",
                        s,
                        format!(
                            "prefix length {len} is over {} for {}",
                            max_prefix(ip),
                            family_name(ip)
                        ),
                    )
                })
            }
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix_len)
    }
}

impl From<IpAddr> for Address {
    fn from(ip: IpAddr) -> Self {
        Address::host(ip)
    }
}

impl From<&IpAddr> for Address {
    fn from(ip: &IpAddr) -> Self {
        Address::host(*ip)
    }
}

impl From<Ipv4Addr> for Address {
    fn from(ip: Ipv4Addr) -> Self {
        Address::host(ip.into())
    }
}

impl From<Ipv6Addr> for Address {
    fn from(ip: Ipv6Addr) -> Self {
        Address::host(ip.into())
    }
}

impl From<&Address> for Address {
    fn from(a: &Address) -> Self {
        *a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ips_are_host_addresses() {
        let a: Address = "10.96.0.10".parse().unwrap();
        assert_eq!(a.to_string(), "10.96.0.10/32");
        assert!(a.is_host());
        let b: Address = "fd00::a".parse().unwrap();
        assert_eq!(b.to_string(), "fd00::a/128");
        assert_eq!(Address::from(Ipv4Addr::LOCALHOST).prefix_len, 32);
    }

    #[test]
    fn prefixes_parse_and_are_checked() {
        let a: Address = "192.168.1.5/24".parse().unwrap();
        assert_eq!((a.prefix_len, a.is_host()), (24, false));
        assert_eq!("2001:db8::1/64".parse::<Address>().unwrap().prefix_len, 64);
        for (bad, reason) in [
            ("10.0.0.1/33", "over 32 for IPv4"),
            ("fd00::1/129", "over 128 for IPv6"),
            ("10.0.0.1/", "bad prefix length"),
            ("10.0.0.1/+8", "bad prefix length"),
            ("10.0.0.1/x", "bad prefix length"),
            ("10.0.0.256", "not an IPv4 or IPv6 address"),
            ("kube", "not an IPv4 or IPv6 address"),
            ("", "not an IPv4 or IPv6 address"),
        ] {
            let e = bad.parse::<Address>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")) && e.contains(reason), "{e}");
        }
    }

    #[test]
    fn unbindable_addresses_are_refused() {
        for bad in ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255"] {
            let a: Address = bad.parse().unwrap();
            let e = a.check_bindable().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
        for good in ["10.0.0.1", "fd00::1", "127.0.0.2"] {
            good.parse::<Address>().unwrap().check_bindable().unwrap();
        }
    }

    #[test]
    fn orders_ipv4_first() {
        let mut v: Vec<Address> = ["fd00::1", "10.0.0.2", "10.0.0.1/24", "10.0.0.1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            s,
            ["10.0.0.1/24", "10.0.0.1/32", "10.0.0.2/32", "fd00::1/128"]
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserializing_checks_the_prefix() {
        let a: Address = serde_json::from_str(r#"{"ip":"fd00::1","prefix_len":128}"#).unwrap();
        assert_eq!(a.to_string(), "fd00::1/128");
        let e = serde_json::from_str::<Address>(r#"{"ip":"10.0.0.1","prefix_len":33}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("10.0.0.1/33"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn display_parses_back(v6: bool, bits: u128, len: u8) {
            let ip: IpAddr = if v6 {
                std::net::Ipv6Addr::from(bits).into()
            } else {
                Ipv4Addr::from(bits as u32).into()
            };
            let a = Address::new(ip, len % (max_prefix(ip) + 1)).unwrap();
            proptest::prop_assert_eq!(a.to_string().parse::<Address>().unwrap(), a);
        }
    }
}
