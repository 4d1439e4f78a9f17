//! Native IPVS subcommands: `kipvs service|dest|timeout|daemon|zero|flush|
//! conn|info`. Listings print ipvsadm's numeric layout, or JSON with the
//! global `--json` (the library's domain types through serde). The
//! arguments they take are in `ipvs_args`.

use std::{
    io::{self, Write},
    net::IpAddr,
};

use anyhow::{bail, Context};
use kipvs::ipvs::{Daemon, Destination, Ipvs, Service, Timeouts};
use serde::Serialize;

use super::ipvs_args::{DestArg, DestOpts, ServiceArg, ServiceOpts, Side};
use crate::{ipvsadm::listing, Global};

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
