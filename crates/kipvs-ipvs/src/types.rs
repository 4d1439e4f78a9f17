//! Small IPVS types: protocols, timeouts, sync daemons, version info,
//! connections.

use std::net::IpAddr;

/// The transport protocol of a service (`IPPROTO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Protocol {
    /// TCP (`-t`), 6.
    Tcp,
    /// UDP (`-u`), 17.
    Udp,
    /// SCTP (`--sctp-service`), 132.
    Sctp,
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// The protocol with IP protocol number `n`, if IPVS balances it.
    pub fn from_number(n: u16) -> Option<Self> {
        match n {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            132 => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

impl std::fmt::Display for Protocol {
    /// `TCP`, `UDP` or `SCTP`, as ipvsadm prints them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// Connection timeouts in seconds (`--set tcp tcpfin udp`); 0 leaves a
/// value as it is when writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: u32,
    /// TCP connections after FIN.
    pub tcp_fin: u32,
    /// UDP "connections".
    pub udp: u32,
}

/// Which side of connection synchronisation a daemon is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DaemonState {
    /// Sends the connection table (`IP_VS_STATE_MASTER`).
    Master,
    /// Receives it (`IP_VS_STATE_BACKUP`).
    Backup,
}

/// A connection synchronisation daemon (`--start-daemon`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Daemon {
    /// Master or backup.
    pub state: DaemonState,
    /// The multicast interface (`--mcast-interface`).
    pub mcast_ifname: String,
    /// The sync id (`--syncid`).
    pub sync_id: u32,
    /// Largest sync message (`--sync-maxlen`), 0 for the kernel's default.
    pub sync_maxlen: u16,
    /// Multicast group (`--mcast-group`), if not the default.
    pub mcast_group: Option<IpAddr>,
    /// Multicast port (`--mcast-port`), 0 for the default.
    pub mcast_port: u16,
    /// Multicast TTL (`--mcast-ttl`), 0 for the default.
    pub mcast_ttl: u8,
}

/// What `ipvsadm -v`/`-L` print in their header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Info {
    /// The IPVS version as the kernel encodes it (`0x010201` for 1.2.1).
    pub version: u32,
    /// The size of the connection hash table.
    pub conn_tab_size: u32,
}

/// One entry of the connection table (`/proc/net/ip_vs_conn`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Connection {
    /// `TCP`, `UDP`, `SCTP` or `IP` (templates).
    pub protocol: String,
    /// Client address.
    pub client: IpAddr,
    /// Client port.
    pub client_port: u16,
    /// Virtual address.
    pub virtual_addr: IpAddr,
    /// Virtual port.
    pub virtual_port: u16,
    /// Real server address.
    pub dest: IpAddr,
    /// Real server port.
    pub dest_port: u16,
    /// The connection state (`ESTABLISHED`, `NONE`, ...).
    pub state: String,
    /// Seconds until it expires.
    pub expires: u32,
    /// The persistence engine name and data, if any.
    pub pe: Option<(String, String)>,
}
