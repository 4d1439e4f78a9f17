//! The arguments of the native IPVS subcommands: services and real servers
//! as text (`tcp:10.0.0.1:80`, `10.0.0.2:8080`), and the options of a
//! service or a real server, each parsed straight into the library's types.

use std::{net::IpAddr, str::FromStr};

use anyhow::Context;

use kipvs::ipvs::{
    DaemonState, Destination, ForwardMethod, Protocol, Scheduler, Service, ServiceFlags,
    ServiceKey, TunnelType,
};

/// A virtual service on the command line: `tcp:10.0.0.1:80`,
/// `udp:[2001:db8::1]:53`, `sctp:10.0.0.1:9`, `fwmark:42`, `fwmark6:42`.
#[derive(Debug, Clone, Copy)]
pub struct ServiceArg(pub ServiceKey);

impl FromStr for ServiceArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}`: expected tcp|udp|sctp:ADDR:PORT or fwmark[6]:MARK"))?;
        let protocol = match kind {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            "fwmark" | "fwmark6" => {
                let mark: u32 = rest
                    .parse()
                    .map_err(|_| format!("`{rest}`: not a firewall mark"))?;
                if mark == 0 {
                    return Err("a firewall mark is greater than zero".into());
                }
                return Ok(ServiceArg(ServiceKey::Fwmark {
                    mark,
                    ipv6: kind == "fwmark6",
                }));
            }
            _ => {
                return Err(format!(
                    "`{kind}`: expected tcp, udp, sctp, fwmark or fwmark6"
                ))
            }
        };
        let (addr, port) = host_port(rest)?;
        Ok(ServiceArg(ServiceKey::Addr {
            protocol,
            addr,
            port: port.ok_or_else(|| format!("`{rest}`: the port is missing"))?,
        }))
    }
}

/// `ADDR`, `ADDR:PORT`, `[V6]:PORT` or a bare IPv6 address.
fn host_port(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    if let Ok(addr) = s.parse::<IpAddr>() {
        return Ok((addr, None));
    }
    let sa: std::net::SocketAddr = s
        .parse()
        .map_err(|_| format!("`{s}`: expected ADDR:PORT ([ADDR]:PORT for IPv6)"))?;
    Ok((sa.ip(), Some(sa.port())))
}

/// A real server on the command line: `ADDR[:PORT]` (the service's port by default).
#[derive(Debug, Clone, Copy)]
pub struct DestArg(pub(super) IpAddr, Option<u16>);

impl FromStr for DestArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        host_port(s).map(|(a, p)| DestArg(a, p))
    }
}

impl DestArg {
    pub(super) fn port(self, key: &ServiceKey) -> u16 {
        match (self.1, key) {
            (Some(p), _) => p,
            (None, ServiceKey::Addr { port, .. }) => *port,
            (None, ServiceKey::Fwmark { .. }) => 0,
        }
    }
}

/// How packets reach a real server.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Forward {
    /// NAT.
    Masq,
    /// Direct routing (the default).
    Route,
    /// IP tunnelling.
    Tunnel,
}

/// Tunnel encapsulation.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Tunnel {
    /// IP in IP.
    Ipip,
    /// Generic UDP encapsulation.
    Gue,
    /// Generic routing encapsulation.
    Gre,
}

/// Master or backup.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Side {
    /// Sends the connection table.
    Master,
    /// Receives it.
    Backup,
}

impl From<Side> for DaemonState {
    fn from(s: Side) -> Self {
        match s {
            Side::Master => DaemonState::Master,
            Side::Backup => DaemonState::Backup,
        }
    }
}

/// Service options for add and edit (ipvsadm's defaults).
#[derive(Debug, clap::Args)]
pub struct ServiceOpts {
    /// The service.
    service: ServiceArg,
    /// The scheduler.
    #[arg(short, long, default_value = "wlc")]
    scheduler: Scheduler,
    /// Persistence, in seconds (300 when given without a value).
    #[arg(short, long, value_name = "SECS", num_args = 0..=1, default_missing_value = "300")]
    persistent: Option<u32>,
    /// Persistence granularity: a dotted mask (IPv4) or a prefix length (IPv6).
    #[arg(short = 'M', long)]
    netmask: Option<String>,
    /// Persistence engine (sip).
    #[arg(long)]
    pe: Option<String>,
    /// One-packet scheduling (UDP).
    #[arg(short, long)]
    ops: bool,
    /// Scheduler flags: 1, 2, 3 (sh/mh: 1 = fallback, 2 = port), repeatable.
    #[arg(short = 'b', long = "sched-flag", value_parser = clap::value_parser!(u8).range(1..=3))]
    sched_flags: Vec<u8>,
}

impl ServiceOpts {
    pub(super) fn service(&self) -> anyhow::Result<Service> {
        let key = self.service.0;
        let mut s = Service::new(key).scheduler(self.scheduler.clone());
        if let Some(t) = self.persistent {
            s = s.persistent(t);
        }
        if let Some(m) = &self.netmask {
            s.netmask = if key.is_ipv6() {
                m.parse().context("an IPv6 netmask is a prefix length")?
            } else {
                u32::from(
                    m.parse::<std::net::Ipv4Addr>()
                        .context("an IPv4 netmask is a dotted mask")?,
                )
            };
        }
        s.pe_name = self.pe.clone();
        if self.ops {
            s.flags.0 |= ServiceFlags::ONEPACKET;
        }
        for f in &self.sched_flags {
            s.flags.0 |= ServiceFlags::SCHED1 << (f - 1);
        }
        Ok(s)
    }
}

/// Real server options for add and edit.
#[derive(Debug, clap::Args)]
pub struct DestOpts {
    /// The service.
    pub(super) service: ServiceArg,
    /// The real server: `ADDR[:PORT]`.
    dest: DestArg,
    /// How packets reach it.
    #[arg(short, long, value_enum, default_value = "route")]
    forward: Forward,
    /// Weight.
    #[arg(short, long, default_value_t = 1)]
    weight: u32,
    /// Upper connection threshold (0 = none).
    #[arg(short = 'x', long, default_value_t = 0)]
    upper_threshold: u32,
    /// Lower connection threshold (0 = none).
    #[arg(short = 'y', long, default_value_t = 0)]
    lower_threshold: u32,
    /// Tunnel encapsulation (with --forward tunnel).
    #[arg(long, value_enum)]
    tunnel_type: Option<Tunnel>,
    /// Tunnel port (GUE).
    #[arg(long, default_value_t = 0)]
    tunnel_port: u16,
    /// Tunnel checksum.
    #[arg(long, conflicts_with = "tunnel_remcsum")]
    tunnel_csum: bool,
    /// Tunnel remote checksum (GUE).
    #[arg(long)]
    tunnel_remcsum: bool,
}

impl DestOpts {
    pub(super) fn destination(&self) -> Destination {
        let key = self.service.0;
        let forward = match self.forward {
            Forward::Masq => ForwardMethod::Masq,
            Forward::Route => ForwardMethod::DirectRoute,
            Forward::Tunnel => ForwardMethod::Tunnel,
        };
        let mut d = Destination::new(self.dest.0, self.dest.port(&key))
            .forward(forward)
            .weight(self.weight);
        d.upper_threshold = self.upper_threshold;
        d.lower_threshold = self.lower_threshold;
        d.tunnel_type = match self.tunnel_type {
            Some(Tunnel::Gue) => TunnelType::Gue,
            Some(Tunnel::Gre) => TunnelType::Gre,
            _ => TunnelType::Ipip,
        };
        d.tunnel_port = self.tunnel_port;
        d.tunnel_flags = u16::from(self.tunnel_csum) | (u16::from(self.tunnel_remcsum) << 1);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_arguments() {
        let k = |s: &str| s.parse::<ServiceArg>().map(|a| a.0);
        assert_eq!(
            k("tcp:10.0.0.1:80"),
            Ok(ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "10.0.0.1".parse().unwrap(),
                port: 80
            })
        );
        assert_eq!(
            k("udp:[2001:db8::1]:53"),
            Ok(ServiceKey::Addr {
                protocol: Protocol::Udp,
                addr: "2001:db8::1".parse().unwrap(),
                port: 53
            })
        );
        assert_eq!(
            k("fwmark6:7"),
            Ok(ServiceKey::Fwmark {
                mark: 7,
                ipv6: true
            })
        );
        assert!(k("fwmark:0").is_err());
        assert!(k("tcp:10.0.0.1").is_err());
        assert!(k("icmp:10.0.0.1:1").is_err());
    }
}
