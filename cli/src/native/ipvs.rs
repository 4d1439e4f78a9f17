//! Native IPVS subcommands: `kipvs service|dest|timeout|daemon|zero|flush|
//! conn|info`. Listings print ipvsadm's numeric layout, or JSON with the
//! global `--json` (the library's domain types through serde).

use std::{
    io::{self, Write},
    net::IpAddr,
    str::FromStr,
};

use anyhow::{bail, Context};
use kipvs::ipvs::{
    Daemon, DaemonState, Destination, ForwardMethod, Ipvs, Protocol, Scheduler, Service,
    ServiceFlags, ServiceKey, Timeouts, TunnelType,
};
use serde::Serialize;

use crate::{ipvsadm::listing, Global};

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
pub struct DestArg(IpAddr, Option<u16>);

impl FromStr for DestArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        host_port(s).map(|(a, p)| DestArg(a, p))
    }
}

impl DestArg {
    fn port(self, key: &ServiceKey) -> u16 {
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
    fn service(&self) -> anyhow::Result<Service> {
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
    service: ServiceArg,
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
    fn destination(&self) -> Destination {
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

/// Subcommands of this area.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// IPVS virtual services.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Real servers (destinations) of a virtual service.
    #[command(subcommand)]
    Dest(DestCommand),
    /// Connection timeouts (tcp, tcpfin, udp).
    #[command(subcommand)]
    Timeout(TimeoutCommand),
    /// Connection synchronisation daemons.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Zero the counters of one service, or of all.
    Zero {
        /// The service (all when absent).
        service: Option<ServiceArg>,
    },
    /// Delete every virtual service.
    Flush,
    /// The IPVS connection table.
    #[command(subcommand)]
    Conn(ConnCommand),
    /// The IPVS version and connection table size.
    Info,
}

/// `kipvs service ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// List the services and their real servers.
    #[command(visible_alias = "ls")]
    List {
        /// Counters instead of the configuration (human output).
        #[arg(long)]
        stats: bool,
    },
    /// Show one service and its real servers.
    Get {
        /// The service.
        service: ServiceArg,
    },
    /// Add a service.
    Add(#[command(flatten)] ServiceOpts),
    /// Change a service (every option is set anew, as with ipvsadm -E).
    Edit(#[command(flatten)] ServiceOpts),
    /// Delete a service and its real servers.
    #[command(visible_alias = "del")]
    Delete {
        /// The service.
        service: ServiceArg,
    },
}

/// `kipvs dest ...`.
#[derive(Debug, clap::Subcommand)]
pub enum DestCommand {
    /// List the real servers of a service.
    #[command(visible_alias = "ls")]
    List {
        /// The service.
        service: ServiceArg,
    },
    /// Add a real server.
    Add(#[command(flatten)] DestOpts),
    /// Change a real server.
    Edit(#[command(flatten)] DestOpts),
    /// Delete a real server.
    #[command(visible_alias = "del")]
    Delete {
        /// The service.
        service: ServiceArg,
        /// The real server: `ADDR[:PORT]`.
        dest: DestArg,
    },
}

/// `kipvs timeout ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TimeoutCommand {
    /// Show the timeouts.
    Get,
    /// Set timeouts (those not given stay as they are).
    Set {
        /// Established TCP connections, seconds.
        #[arg(long, default_value_t = 0)]
        tcp: u32,
        /// TCP connections after FIN, seconds.
        #[arg(long, default_value_t = 0)]
        tcp_fin: u32,
        /// UDP, seconds.
        #[arg(long, default_value_t = 0)]
        udp: u32,
    },
}

/// `kipvs daemon ...`.
#[derive(Debug, clap::Subcommand)]
pub enum DaemonCommand {
    /// List the running daemons.
    #[command(visible_alias = "ls")]
    List,
    /// Start a daemon.
    Start {
        /// Master or backup.
        #[arg(value_enum)]
        side: Side,
        /// The multicast interface.
        #[arg(long, default_value = "eth0")]
        interface: String,
        /// The sync id (0-255).
        #[arg(long, default_value_t = 0)]
        sync_id: u8,
        /// Largest sync message (0: the kernel's default).
        #[arg(long, default_value_t = 0)]
        maxlen: u16,
        /// Multicast group.
        #[arg(long)]
        group: Option<IpAddr>,
        /// Multicast UDP port (0: default).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Multicast TTL (0: default).
        #[arg(long, default_value_t = 0)]
        ttl: u8,
    },
    /// Stop a daemon.
    Stop {
        /// Master or backup.
        #[arg(value_enum)]
        side: Side,
    },
}

/// `kipvs conn ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ConnCommand {
    /// List the connection table.
    #[command(visible_alias = "ls")]
    List,
}

#[derive(Serialize)]
struct ServiceWithDests<'a> {
    #[serde(flatten)]
    service: &'a Service,
    destinations: &'a [Destination],
}

/// A reader that went away (`| head`) is not an error.
fn quiet_pipe(r: io::Result<()>) -> anyhow::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    quiet_pipe(io::stdout().lock().write_all(text.as_bytes()))
}

fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}

fn print_table(
    global: &Global,
    table: &[(Service, Vec<Destination>)],
    stats: bool,
) -> anyhow::Result<()> {
    if global.json {
        let v: Vec<_> = table
            .iter()
            .map(|(service, destinations)| ServiceWithDests {
                service,
                destinations,
            })
            .collect();
        return print_json(&v);
    }
    let format = listing::FMT_NUMERIC | if stats { listing::FMT_STATS } else { 0 };
    let mut text = listing::title(format).to_owned();
    for (svc, dests) in table {
        listing::service_entry(&mut text, svc, dests, format);
    }
    print(&text)
}

impl Command {
    /// Runs the subcommand; returns the exit code.
    pub fn run(self, global: &Global) -> anyhow::Result<i32> {
        let mut ipvs = Ipvs::new_in(&global.netns).context("cannot open IPVS")?;
        match self {
            Command::Service(c) => c.run(global, &mut ipvs)?,
            Command::Dest(c) => c.run(global, &mut ipvs)?,
            Command::Timeout(TimeoutCommand::Get) => {
                let t = ipvs.timeouts()?;
                if global.json {
                    print_json(&t)?;
                } else {
                    print(&format!(
                        "tcp {} tcpfin {} udp {}\n",
                        t.tcp, t.tcp_fin, t.udp
                    ))?;
                }
            }
            Command::Timeout(TimeoutCommand::Set { tcp, tcp_fin, udp }) => {
                if tcp == 0 && tcp_fin == 0 && udp == 0 {
                    bail!("give at least one of --tcp, --tcp-fin, --udp");
                }
                ipvs.set_timeouts(&Timeouts { tcp, tcp_fin, udp })?;
            }
            Command::Daemon(DaemonCommand::List) => {
                let d = ipvs.daemons()?;
                if global.json {
                    print_json(&d)?;
                } else {
                    print(&listing::daemons(&d))?;
                }
            }
            Command::Daemon(DaemonCommand::Start {
                side,
                interface,
                sync_id,
                maxlen,
                group,
                port,
                ttl,
            }) => ipvs.start_daemon(&Daemon {
                state: side.into(),
                mcast_ifname: interface,
                sync_id: sync_id.into(),
                sync_maxlen: maxlen,
                mcast_group: group,
                mcast_port: port,
                mcast_ttl: ttl,
            })?,
            Command::Daemon(DaemonCommand::Stop { side }) => ipvs.stop_daemon(side.into())?,
            Command::Zero { service } => ipvs.zero(service.as_ref().map(|s| &s.0))?,
            Command::Flush => ipvs.flush()?,
            Command::Conn(ConnCommand::List) => {
                let conns = kipvs::ipvs::connections_in(&global.netns)?;
                if global.json {
                    print_json(&conns)?;
                } else {
                    print(&listing::connections(&conns, listing::FMT_NUMERIC))?;
                }
            }
            Command::Info => {
                let info = ipvs.info()?;
                if global.json {
                    print_json(&info)?;
                } else {
                    print(&listing::header(&info))?;
                }
            }
        }
        Ok(0)
    }
}

impl ServiceCommand {
    fn run(self, global: &Global, ipvs: &mut Ipvs) -> anyhow::Result<()> {
        match self {
            ServiceCommand::List { stats } => {
                let mut table = ipvs.table()?;
                listing::sort_services(&mut table);
                print_table(global, &table, stats)?;
            }
            ServiceCommand::Get { service } => {
                let svc = ipvs
                    .service(&service.0)
                    .with_context(|| format!("service {}", service.0))?;
                let dests = ipvs.destinations(&service.0)?;
                print_table(global, &[(svc, dests)], false)?;
            }
            ServiceCommand::Add(o) => ipvs.add_service(&o.service()?)?,
            ServiceCommand::Edit(o) => ipvs.edit_service(&o.service()?)?,
            ServiceCommand::Delete { service } => ipvs.delete_service(&service.0)?,
        }
        Ok(())
    }
}

impl DestCommand {
    fn run(self, global: &Global, ipvs: &mut Ipvs) -> anyhow::Result<()> {
        match self {
            DestCommand::List { service } => {
                let mut dests = ipvs
                    .destinations(&service.0)
                    .with_context(|| format!("service {}", service.0))?;
                listing::sort_dests(&mut dests);
                if global.json {
                    print_json(&dests)?;
                } else {
                    let svc = ipvs.service(&service.0)?;
                    print_table(global, &[(svc, dests)], false)?;
                }
            }
            DestCommand::Add(o) => ipvs.add_destination(&o.service.0, &o.destination())?,
            DestCommand::Edit(o) => ipvs.edit_destination(&o.service.0, &o.destination())?,
            DestCommand::Delete { service, dest } => {
                ipvs.delete_destination(&service.0, dest.0, dest.port(&service.0))?
            }
        }
        Ok(())
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
