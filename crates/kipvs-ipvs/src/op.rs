//! Changes to the IPVS table, for [`Ipvs::apply`](crate::Ipvs::apply).

use std::{fmt, net::IpAddr};

use crate::{
    wire::{self, IpvsAttr, IpvsCmd, IpvsMessage},
    Daemon, DaemonState, Destination, Service, ServiceKey, Timeouts,
};

/// One change to the IPVS table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Add a virtual service (`ipvsadm -A`).
    AddService(Service),
    /// Change a virtual service's scheduler, flags, persistence (`-E`).
    EditService(Service),
    /// Delete a virtual service and its real servers (`-D`).
    DeleteService(ServiceKey),
    /// Add a real server to a service (`-a`).
    AddDestination(ServiceKey, Destination),
    /// Change a real server (`-e`).
    EditDestination(ServiceKey, Destination),
    /// Delete a real server (`-d`): service, address, port.
    DeleteDestination(ServiceKey, IpAddr, u16),
    /// Delete every virtual service (`-C`).
    Flush,
    /// Zero the counters of one service, or of all (`-Z`).
    Zero(Option<ServiceKey>),
    /// Set the connection timeouts (`--set`).
    SetTimeouts(Timeouts),
    /// Start a sync daemon (`--start-daemon`).
    StartDaemon(Daemon),
    /// Stop a sync daemon (`--stop-daemon`).
    StopDaemon(DaemonState),
}

impl Op {
    /// The message that carries this change.
    pub fn to_message(&self) -> IpvsMessage {
        use IpvsAttr as A;
        let svc_key = |k: &ServiceKey| A::Service(wire::service_key_attrs(k));
        match self {
            Op::AddService(s) => IpvsMessage::new(
                IpvsCmd::NewService,
                vec![A::Service(wire::service_attrs(s))],
            ),
            Op::EditService(s) => IpvsMessage::new(
                IpvsCmd::SetService,
                vec![A::Service(wire::service_attrs(s))],
            ),
            Op::DeleteService(k) => IpvsMessage::new(IpvsCmd::DelService, vec![svc_key(k)]),
            Op::AddDestination(k, d) => IpvsMessage::new(
                IpvsCmd::NewDest,
                vec![svc_key(k), A::Dest(wire::dest_attrs(d))],
            ),
            Op::EditDestination(k, d) => IpvsMessage::new(
                IpvsCmd::SetDest,
                vec![svc_key(k), A::Dest(wire::dest_attrs(d))],
            ),
            Op::DeleteDestination(k, addr, port) => IpvsMessage::new(
                IpvsCmd::DelDest,
                vec![svc_key(k), A::Dest(wire::dest_key_attrs(addr, *port))],
            ),
            Op::Flush => IpvsMessage::new(IpvsCmd::Flush, vec![]),
            Op::Zero(None) => IpvsMessage::new(IpvsCmd::Zero, vec![]),
            Op::Zero(Some(k)) => IpvsMessage::new(IpvsCmd::Zero, vec![svc_key(k)]),
            Op::SetTimeouts(t) => IpvsMessage::new(IpvsCmd::SetConfig, wire::timeouts_attrs(t)),
            Op::StartDaemon(d) => {
                IpvsMessage::new(IpvsCmd::NewDaemon, vec![A::Daemon(wire::daemon_attrs(d))])
            }
            Op::StopDaemon(s) => IpvsMessage::new(
                IpvsCmd::DelDaemon,
                vec![A::Daemon(wire::daemon_state_attrs(*s))],
            ),
        }
    }
}

/// A real server as ipvsadm prints it: `10.0.0.1:80`, `[2001:db8::1]:80`.
struct HostPort<'a>(&'a IpAddr, u16);

impl fmt::Display for HostPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

impl fmt::Display for Op {
    /// What the change does, in words, for error messages ("adding service
    /// TCP 10.0.0.1:80").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::AddService(s) => write!(f, "adding service {}", s.key),
            Op::EditService(s) => write!(f, "editing service {}", s.key),
            Op::DeleteService(k) => write!(f, "deleting service {k}"),
            Op::AddDestination(k, d) => write!(
                f,
                "adding real server {} to service {k}",
                HostPort(&d.addr, d.port)
            ),
            Op::EditDestination(k, d) => write!(
                f,
                "editing real server {} of service {k}",
                HostPort(&d.addr, d.port)
            ),
            Op::DeleteDestination(k, a, p) => write!(
                f,
                "deleting real server {} from service {k}",
                HostPort(a, *p)
            ),
            Op::Flush => f.write_str("flushing the IPVS table"),
            Op::Zero(None) => f.write_str("zeroing all counters"),
            Op::Zero(Some(k)) => write!(f, "zeroing the counters of service {k}"),
            Op::SetTimeouts(t) => write!(
                f,
                "setting timeouts (tcp {} tcpfin {} udp {})",
                t.tcp, t.tcp_fin, t.udp
            ),
            Op::StartDaemon(d) => write!(
                f,
                "starting the {} sync daemon on {}",
                state_name(d.state),
                d.mcast_ifname
            ),
            Op::StopDaemon(s) => write!(f, "stopping the {} sync daemon", state_name(*s)),
        }
    }
}

fn state_name(s: DaemonState) -> &'static str {
    match s {
        DaemonState::Master => "master",
        DaemonState::Backup => "backup",
    }
}
