//! What kipvs reports about a link.

use crate::IfName;

/// A network interface as the kernel reports it (`RTM_NEWLINK`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Link {
    /// The interface index (`ifindex`).
    pub index: u32,
    /// The interface name.
    pub name: IfName,
    /// The link kind (`IFLA_INFO_KIND`: `"dummy"`, `"veth"`, ...); `None`
    /// for links without one, such as `lo` and physical NICs.
    pub kind: Option<String>,
    /// Administratively up (`IFF_UP`). kube-proxy leaves `kube-ipvs0` down:
    /// the kernel answers for a local address whatever the state of the
    /// link that holds it.
    pub up: bool,
    /// The MTU.
    pub mtu: u32,
}

impl Link {
    /// True for a `dummy` link, the kind `kube-ipvs0` is.
    pub fn is_dummy(&self) -> bool {
        self.kind.as_deref() == Some(DUMMY)
    }
}

/// The `IFLA_INFO_KIND` of dummy links (`drivers/net/dummy.c`).
pub(crate) const DUMMY: &str = "dummy";
