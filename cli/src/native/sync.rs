//! `kipvs dump`, `kipvs plan -f FILE` and `kipvs apply -f FILE`: the state
//! document (docs/state.md) against the kernel.

use std::{
    io::{self, Read, Write},
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use kipvs::{
    link::{IfName, KUBE_IPVS0},
    sync::{
        document, Cidr, Desired, Kernel, Lock, Plan, PlanOptions, Report, SyncOptions, Syncer,
        DEFAULT_LOCK_PATH,
    },
};

use crate::Global;

/// Exit status of `plan` when changes are pending.
const PENDING: i32 = 2;

/// Subcommands of this area.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write the live state (IPVS services, ipsets, the addresses of
    /// kube-ipvs0) as a state document.
    Dump {
        /// The interface whose addresses are dumped.
        #[arg(long, default_value = KUBE_IPVS0)]
        interface: IfName,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show the changes `apply` would make, changing nothing.
    ///
    /// Exit status: 0 nothing pending, 2 changes pending, 1 error.
    Plan(Args),
    /// Make the kernel hold the state in FILE: only the parts the file has
    /// (services, ipsets, addresses) are managed.
    ///
    /// Several -f are applied in order by one syncer that reads the kernel
    /// once, as a controller's successive syncs would. Exit status: 0 all
    /// applied, 1 some change failed (see the report) or an error.
    Apply {
        #[command(flatten)]
        args: Args,
        /// The lock file that serialises writers on this node [default:
        /// $KIPVS_LOCK, else /run/kipvs.lock].
        #[arg(long, value_name = "PATH")]
        lock: Option<PathBuf>,
        /// Seconds to wait for another writer to release the lock.
        #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
        wait: f64,
        /// Print how long each file took (plan with reads, apply) on stderr.
        #[arg(long)]
        timings: bool,
    },
}

/// What `plan` and `apply` share.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The state document ("-" for standard input).
    #[arg(short, long = "file", required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Remove services, sets and addresses that are not in the file, but
    /// only inside the owned scope (the file's "scope" plus the --own-*
    /// options).
    #[arg(long)]
    prune: bool,
    /// Own sets whose name starts with PREFIX (repeatable).
    #[arg(long, value_name = "PREFIX")]
    own_set_prefix: Vec<String>,
    /// Own services and addresses inside CIDR (repeatable).
    #[arg(long, value_name = "CIDR")]
    own_cidr: Vec<String>,
    /// Seconds a removed TCP real server may drain before it is deleted
    /// with connections left.
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    drain_timeout: u64,
}

impl Args {
    fn options(&self) -> SyncOptions {
        SyncOptions {
            plan: PlanOptions {
                prune: self.prune,
                drain_timeout: Duration::from_secs(self.drain_timeout),
                ..PlanOptions::default()
            },
            ..SyncOptions::default()
        }
    }

    /// Reads and checks every file before anything is changed.
    fn states(&self) -> anyhow::Result<Vec<Desired>> {
        let mut cidrs = Vec::new();
        for c in &self.own_cidr {
            cidrs.push(
                c.parse::<Cidr>()
                    .map_err(|e| anyhow::anyhow!("--own-cidr {c}: {e}"))?,
            );
        }
        let mut states = Vec::new();
        for f in &self.files {
            let text = if f.as_os_str() == "-" {
                let mut s = String::new();
                io::stdin()
                    .read_to_string(&mut s)
                    .context("reading standard input")?;
                s
            } else {
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
            };
            let mut d = document::parse(&text).map_err(|p| {
                let mut msg = format!("{}: invalid state, nothing changed", f.display());
                for problem in &p.0 {
                    msg.push_str(&format!("\n  {problem}"));
                }
                anyhow::anyhow!(msg)
            })?;
            d.scope
                .set_prefixes
                .extend(self.own_set_prefix.iter().cloned());
            d.scope.cidrs.extend(cidrs.iter().copied());
            if self.prune && d.scope.is_empty() {
                bail!(
                    "{}: --prune needs a scope (\"scope\" in the file, --own-set-prefix or --own-cidr): \
                     kipvs never removes what it was not told it owns",
                    f.display()
                );
            }
            states.push(d);
        }
        Ok(states)
    }
}

impl Command {
    /// Runs the subcommand; returns the exit status.
    pub fn run(self, global: &Global) -> anyhow::Result<i32> {
        match self {
            Command::Dump { interface, output } => {
                let mut kernel = Kernel::new(global.netns.clone());
                let state = kernel.dump(&interface)?;
                let mut text = serde_json::to_string_pretty(&document::to_value(&state))?;
                text.push('\n');
                match output {
                    Some(path) => std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?,
                    None => io::stdout().write_all(text.as_bytes())?,
                }
                Ok(0)
            }
            Command::Plan(args) => {
                let states = args.states()?;
                let mut syncer = Syncer::new(global.netns.clone(), args.options());
                let mut pending = false;
                let mut out = io::stdout().lock();
                for d in &states {
                    let plan = syncer.plan(d)?;
                    pending |= !plan.is_empty();
                    if global.json {
                        serde_json::to_writer_pretty(&mut out, &document::plan_value(&plan))?;
                        writeln!(out)?;
                    } else {
                        print_plan(&mut out, &plan)?;
                    }
                }
                Ok(if pending { PENDING } else { 0 })
            }
            Command::Apply {
                args,
                lock,
                wait,
                timings,
            } => {
                let states = args.states()?;
                let wait = Duration::try_from_secs_f64(wait.max(0.0)).unwrap_or(Duration::MAX);
                let lock = lock
                    .or_else(|| std::env::var_os("KIPVS_LOCK").map(PathBuf::from))
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_LOCK_PATH));
                let _lock = Lock::acquire(&lock, wait)?;
                let mut syncer = Syncer::new(global.netns.clone(), args.options());
                let mut complete = true;
                let mut out = io::stdout().lock();
                for (i, d) in states.iter().enumerate() {
                    let t0 = Instant::now();
                    let plan = syncer.plan(d)?;
                    let t1 = Instant::now();
                    let report = syncer.apply(&plan);
                    let t2 = Instant::now();
                    if timings {
                        eprintln!(
                            "kipvs: {}: plan {:.3} ms (reads: {:?}), apply {:.3} ms, {} changes ({} objects)",
                            args.files[i].display(),
                            (t1 - t0).as_secs_f64() * 1e3,
                            syncer.reads(),
                            (t2 - t1).as_secs_f64() * 1e3,
                            report.applied.len(),
                            report.count(),
                        );
                    }
                    complete &= report.is_complete();
                    if global.json {
                        serde_json::to_writer_pretty(&mut out, &document::report_value(&report))?;
                        writeln!(out)?;
                    } else {
                        print_report(&mut out, &report)?;
                    }
                }
                Ok(if complete { 0 } else { 1 })
            }
        }
    }
}

fn print_plan(out: &mut impl Write, plan: &Plan) -> io::Result<()> {
    if plan.is_empty() && plan.draining.is_empty() {
        return writeln!(out, "No changes: the kernel holds the desired state.");
    }
    if !plan.is_empty() {
        writeln!(out, "{:<20} {:<45} DETAIL", "ACTION", "OBJECT")?;
        for c in &plan.changes {
            writeln!(out, "{:<20} {:<45} {}", c.action(), c.object(), c.detail())?;
        }
    }
    print_draining(out, &plan.draining)?;
    writeln!(
        out,
        "{} change(s) pending, touching {} object(s).",
        plan.changes.len(),
        plan.count()
    )
}

fn print_draining(out: &mut impl Write, draining: &[kipvs::sync::Draining]) -> io::Result<()> {
    for d in draining {
        writeln!(
            out,
            "{:<20} {:<45} {} active, {} inactive, deleted in at most {} s",
            "draining",
            format!(
                "{} -> {}",
                d.service,
                std::net::SocketAddr::new(d.addr, d.port)
            ),
            d.active_conns,
            d.inactive_conns,
            d.left.as_secs()
        )?;
    }
    Ok(())
}

fn print_report(out: &mut impl Write, r: &Report) -> io::Result<()> {
    for c in &r.applied {
        writeln!(out, "{:<20} {:<45} {}", c.action(), c.object(), c.detail())?;
    }
    print_draining(out, &r.draining)?;
    for f in &r.failed {
        eprintln!("kipvs: failed: {}: {}", f.change, f.error);
    }
    for s in &r.skipped {
        eprintln!("kipvs: skipped: {} ({})", s.change, s.reason);
    }
    if r.applied.is_empty() && r.is_complete() {
        writeln!(out, "No changes: the kernel holds the desired state.")?;
    } else {
        writeln!(
            out,
            "{} change(s) applied ({} objects), {} failed, {} skipped.",
            r.applied.len(),
            r.count(),
            r.failed.len(),
            r.skipped.len()
        )?;
    }
    Ok(())
}
