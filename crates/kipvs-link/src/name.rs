//! Interface names, validated as the kernel validates them.

use std::{fmt, str::FromStr};

use kipvs_netlink::{Error, Result};

/// `IFNAMSIZ` from `linux/if.h`: names are at most 15 bytes plus the NUL.
const IFNAMSIZ: usize = 16;

/// The name of the interface kube-proxy binds service addresses to.
pub const KUBE_IPVS0: &str = "kube-ipvs0";

/// A network interface name the kernel accepts: 1 to 15 bytes, not `.` or
/// `..`, with no `/`, `:`, NUL or white space (the rules of the kernel's
/// `dev_valid_name()`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct IfName(String);

impl IfName {
    /// Validates `name`.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let reason = if name.is_empty() {
            Some("empty name".to_string())
        } else if name.len() >= IFNAMSIZ {
            Some(format!(
                "{} bytes long; the kernel allows at most {}",
                name.len(),
                IFNAMSIZ - 1
            ))
        } else if name == "." || name == ".." {
            Some("`.` and `..` are not interface names".to_string())
        } else {
            name.chars()
                .find(|c| matches!(c, '/' | ':' | '\0') || is_kernel_space(*c))
                .map(|c| format!("contains {c:?}"))
        };
        match reason {
            Some(reason) => Err(Error::invalid("interface name", &name, reason)),
            None => Ok(IfName(name)),
        }
    }

    /// `kube-ipvs0`, the dummy interface of kube-proxy's IPVS mode.
    pub fn kube_ipvs0() -> Self {
        IfName(KUBE_IPVS0.to_string())
    }

    /// A name as the kernel reported it: the kernel only holds valid names.
    pub(crate) fn from_kernel(name: String) -> Self {
        IfName(name)
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The kernel's `isspace()`: ASCII white space, vertical tab included.
fn is_kernel_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

impl Default for IfName {
    fn default() -> Self {
        IfName::kube_ipvs0()
    }
}

impl FromStr for IfName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        IfName::new(s)
    }
}

impl TryFrom<String> for IfName {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        IfName::new(s)
    }
}

impl From<IfName> for String {
    fn from(name: IfName) -> String {
        name.0
    }
}

impl AsRef<str> for IfName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_kernel_names() {
        for name in [
            "kube-ipvs0",
            "eth0",
            "a",
            "x".repeat(15).as_str(),
            "v.1",
            "br-ä",
        ] {
            assert_eq!(IfName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn refuses_what_the_kernel_refuses_and_names_the_value() {
        let long = "x".repeat(16);
        for (name, reason) in [
            ("", "empty"),
            (long.as_str(), "16 bytes long"),
            (".", "are not interface names"),
            ("..", "are not interface names"),
            ("a/b", "'/'"),
            ("eth0:1", "':'"),
            ("a b", "' '"),
            ("a\tb", "'\\t'"),
            ("a\x0bb", "'\\u{b}'"),
            ("a\0", "'\\0'"),
        ] {
            let e = IfName::new(name).unwrap_err().to_string();
            assert!(e.contains(&format!("{name:?}")), "{e}");
            assert!(e.contains(reason), "{name:?}: {e}");
        }
        // Multi-byte characters count in bytes, as the kernel counts.
        assert!(IfName::new("ä".repeat(8)).is_err());
    }

    #[test]
    fn parses_from_str() {
        assert_eq!(
            "kube-ipvs0".parse::<IfName>().unwrap(),
            IfName::kube_ipvs0()
        );
        assert!("".parse::<IfName>().is_err());
    }
}
