//! `kipvs link ...` and `kipvs addr ...`: the kube-ipvs0 dummy link and its
//! service addresses.

use std::{
    io::{self, BufRead, Write},
    path::PathBuf,
};

use anyhow::{bail, Context};
use kipvs::link::{Action, Address, IfName, Links, SyncReport, KUBE_IPVS0};

use crate::Global;

/// Subcommands of this area.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The kube-ipvs0 dummy link.
    #[command(subcommand)]
    Link(LinkCommand),
    /// The addresses bound to kube-ipvs0 (or --dev).
    #[command(subcommand)]
    Addr(AddrCommand),
}

/// `kipvs link ...`.
#[derive(Debug, clap::Subcommand)]
pub enum LinkCommand {
    /// Create the dummy link, down, if it is absent (as kube-proxy does).
    Ensure {
        /// The link.
        #[arg(default_value = KUBE_IPVS0)]
        name: IfName,
    },
    /// Delete the dummy link and its addresses; refuse a link of another kind.
    Delete {
        /// The link.
        #[arg(default_value = KUBE_IPVS0)]
        name: IfName,
    },
    /// Show the link: index, kind, state, MTU.
    Show {
        /// The link.
        #[arg(default_value = KUBE_IPVS0)]
        name: IfName,
    },
}

/// `kipvs addr ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AddrCommand {
    /// List the addresses of the link.
    #[command(visible_alias = "show")]
    List {
        /// The link.
        #[arg(long, default_value = KUBE_IPVS0)]
        dev: IfName,
    },
    /// Bind addresses (a bare IP is /32 or /128).
    Add {
        /// The link.
        #[arg(long, default_value = KUBE_IPVS0)]
        dev: IfName,
        /// The addresses: IP or IP/PREFIX.
        #[arg(required = true, value_name = "ADDR")]
        addresses: Vec<Address>,
    },
    /// Unbind addresses.
    #[command(visible_alias = "delete")]
    Del {
        /// The link.
        #[arg(long, default_value = KUBE_IPVS0)]
        dev: IfName,
        /// The addresses: IP or IP/PREFIX.
        #[arg(required = true, value_name = "ADDR")]
        addresses: Vec<Address>,
    },
    /// Make the link's addresses exactly these, with the fewest changes.
    ///
    /// An address another interface holds is reported and not bound, as
    /// kube-proxy does. To remove every address, give an empty --file.
    #[command(group = clap::ArgGroup::new("desired").required(true).multiple(true))]
    Sync {
        /// The link.
        #[arg(long, default_value = KUBE_IPVS0)]
        dev: IfName,
        /// Print only the summary line.
        #[arg(long, short)]
        quiet: bool,
        /// Read addresses from FILE (`-` for standard input), one per line;
        /// blank lines and `#` comments are skipped.
        #[arg(long, short, value_name = "FILE", group = "desired")]
        file: Option<PathBuf>,
        /// The addresses: IP or IP/PREFIX.
        #[arg(value_name = "ADDR", group = "desired")]
        addresses: Vec<Address>,
    },
}

impl Command {
    /// Runs the subcommand; returns the exit code.
    pub fn run(self, global: &Global) -> anyhow::Result<i32> {
        let mut links = Links::new_in(&global.netns)?;
        let mut out = io::stdout().lock();
        match self {
            Command::Link(c) => c.run(&mut links, global, &mut out),
            Command::Addr(c) => c.run(&mut links, global, &mut out),
        }
    }
}

impl LinkCommand {
    fn run(self, links: &mut Links, global: &Global, out: &mut impl Write) -> anyhow::Result<i32> {
        match self {
            LinkCommand::Ensure { name } => {
                if links.ensure_dummy(&name)? {
                    writeln!(out, "created dummy link {name}")?;
                } else {
                    writeln!(out, "dummy link {name} exists")?;
                }
            }
            LinkCommand::Delete { name } => {
                if links.delete_dummy(&name)? {
                    writeln!(out, "deleted dummy link {name}")?;
                } else {
                    writeln!(out, "no link {name}")?;
                }
            }
            LinkCommand::Show { name } => {
                let Some(link) = links.link(&name)? else {
                    bail!("link {name} does not exist");
                };
                if global.json {
                    json(out, &link)?;
                } else {
                    writeln!(
                        out,
                        "{}: {}: {}, {}, mtu {}",
                        link.index,
                        link.name,
                        link.kind.as_deref().unwrap_or("no kind"),
                        if link.up { "up" } else { "down" },
                        link.mtu
                    )?;
                }
            }
        }
        Ok(0)
    }
}

impl AddrCommand {
    fn run(self, links: &mut Links, global: &Global, out: &mut impl Write) -> anyhow::Result<i32> {
        match self {
            AddrCommand::List { dev } => {
                let list = links.addresses(&dev)?;
                if global.json {
                    json(out, &list)?;
                } else {
                    for a in list {
                        writeln!(out, "{a}")?;
                    }
                }
            }
            AddrCommand::Add { dev, addresses } => {
                for (a, added) in links.add_addresses(&dev, addresses)? {
                    if added {
                        writeln!(out, "added {a}")?;
                    } else {
                        writeln!(out, "{a} is bound to {dev} already")?;
                    }
                }
            }
            AddrCommand::Del { dev, addresses } => {
                for (a, removed) in links.delete_addresses(&dev, addresses)? {
                    if removed {
                        writeln!(out, "removed {a}")?;
                    } else {
                        writeln!(out, "{a} is not bound to {dev}")?;
                    }
                }
            }
            AddrCommand::Sync {
                dev,
                quiet,
                file,
                mut addresses,
            } => {
                if let Some(path) = file {
                    addresses.extend(read_addresses(&path)?);
                }
                let report = links.sync_addresses(&dev, &addresses)?;
                if global.json {
                    json(out, &report)?;
                } else {
                    print_report(out, &dev, &report, quiet)?;
                }
                return Ok(if report.failed.is_empty() { 0 } else { 1 });
            }
        }
        Ok(0)
    }
}

fn print_report(
    out: &mut impl Write,
    dev: &IfName,
    report: &SyncReport,
    quiet: bool,
) -> anyhow::Result<()> {
    if !quiet {
        for a in &report.removed {
            writeln!(out, "removed {a}")?;
        }
        for a in &report.added {
            writeln!(out, "added {a}")?;
        }
        for e in &report.elsewhere {
            match &e.link {
                Some(link) => writeln!(out, "not bound {}: {link} holds it", e.address)?,
                None => writeln!(out, "not bound {}: link {} holds it", e.address, e.index)?,
            }
        }
    }
    for f in &report.failed {
        let verb = match f.action {
            Action::Add => "add",
            Action::Remove => "remove",
        };
        eprintln!("kipvs: failed to {verb} {}: {}", f.address, f.error);
    }
    writeln!(
        out,
        "{dev}: {} added, {} removed, {} kept, {} elsewhere{}",
        report.added.len(),
        report.removed.len(),
        report.kept.len(),
        report.elsewhere.len(),
        match report.failed.len() {
            0 => String::new(),
            n => format!(", {n} failed"),
        }
    )?;
    Ok(())
}

/// Addresses from a file (or `-`), one per line, naming the line of a bad
/// one.
fn read_addresses(path: &PathBuf) -> anyhow::Result<Vec<Address>> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Box::new(io::BufReader::new(file))
    };
    let mut list = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        let text = line.split('#').next().unwrap_or_default().trim();
        if text.is_empty() {
            continue;
        }
        let a: Address = text
            .parse()
            .with_context(|| format!("{}:{}", path.display(), n + 1))?;
        list.push(a);
    }
    Ok(list)
}

fn json<T: serde::Serialize>(out: &mut impl Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
