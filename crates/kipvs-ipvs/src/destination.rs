//! Real servers (destinations) of a virtual service.

use std::net::IpAddr;

use crate::Stats;

/// How packets reach a real server (`IP_VS_CONN_F_*` forwarding methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ForwardMethod {
    /// NAT (`-m`, "Masq"), `IP_VS_CONN_F_MASQ`.
    Masq,
    /// Local node, `IP_VS_CONN_F_LOCALNODE`.
    Local,
    /// IP-in-IP and other tunnels (`-i`, "Tunnel"), `IP_VS_CONN_F_TUNNEL`.
    Tunnel,
    /// Direct routing (`-g`, "Route"), `IP_VS_CONN_F_DROUTE`, ipvsadm's default.
    #[default]
    DirectRoute,
}

/// The encapsulation of a tunnelling destination (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TunnelType {
    /// IP in IP.
    #[default]
    Ipip,
    /// Generic UDP encapsulation.
    Gue,
    /// Generic routing encapsulation.
    Gre,
}

/// A real server of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Destination {
    /// The real server's address (may be of another family than the
    /// service's with tunnelling).
    pub addr: IpAddr,
    /// The real server's port.
    pub port: u16,
    /// How packets reach it.
    pub forward: ForwardMethod,
    /// Its weight (0 takes it out of rotation).
    pub weight: u32,
    /// Upper connection threshold (0 = none).
    pub upper_threshold: u32,
    /// Lower connection threshold (0 = none).
    pub lower_threshold: u32,
    /// Tunnel encapsulation (with [`ForwardMethod::Tunnel`]).
    pub tunnel_type: TunnelType,
    /// Tunnel port (GUE).
    pub tunnel_port: u16,
    /// Tunnel flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`: csum 1, remcsum 2).
    pub tunnel_flags: u16,
    /// Active connections (read only).
    pub active_conns: u32,
    /// Inactive connections (read only).
    pub inactive_conns: u32,
    /// Persistent connection templates (read only).
    pub persist_conns: u32,
    /// Counters and rates (read only).
    pub stats: Stats,
}

impl Destination {
    /// A real server with ipvsadm's defaults: direct routing, weight 1.
    pub fn new(addr: IpAddr, port: u16) -> Self {
        Destination {
            addr,
            port,
            forward: ForwardMethod::default(),
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel_type: TunnelType::default(),
            tunnel_port: 0,
            tunnel_flags: 0,
            active_conns: 0,
            inactive_conns: 0,
            persist_conns: 0,
            stats: Stats::default(),
        }
    }

    /// Sets the forwarding method.
    pub fn forward(mut self, forward: ForwardMethod) -> Self {
        self.forward = forward;
        self
    }

    /// Sets the weight.
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the upper and lower connection thresholds (`-x`, `-y`).
    pub fn thresholds(mut self, upper: u32, lower: u32) -> Self {
        self.upper_threshold = upper;
        self.lower_threshold = lower;
        self
    }

    /// Tunnels to it (`-i`) with `kind` encapsulation, a GUE `port` and
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*` `flags`.
    pub fn tunnel(mut self, kind: TunnelType, port: u16, flags: u16) -> Self {
        self.forward = ForwardMethod::Tunnel;
        self.tunnel_type = kind;
        self.tunnel_port = port;
        self.tunnel_flags = flags;
        self
    }
}
