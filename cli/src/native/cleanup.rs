//! `kipvs cleanup`: remove the state a kube-proxy mode left behind.

use std::path::PathBuf;

use anyhow::Context;
use kipvs::cleanup::{backup, Backend, Cleanup, Kind, Report, Target};

use crate::Global;

/// Subcommands of this area.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Remove stale kube-proxy state: what a proxy mode the node no longer
    /// runs left in iptables, IPVS, ipsets and nftables. Nothing of kubelet,
    /// Docker or anyone else is touched, and a backup is written first.
    Cleanup {
        #[command(subcommand)]
        what: What,
    },
}

/// What to clean.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// What iptables mode left (the node now runs IPVS or nftables mode):
    /// KUBE-SVC-*/KUBE-SEP-*/... chains, iptables-mode rules in the chains
    /// both modes share, and the jumps into them.
    IptablesMode(Options),
    /// What IPVS mode left (the node now runs iptables or nftables mode):
    /// its chains and rules, then the IPVS services it made, kube-ipvs0 and
    /// the KUBE-* ipsets.
    IpvsMode(Options),
    /// nftables mode's tables: `ip kube-proxy` and `ip6 kube-proxy`.
    NftablesMode(Options),
    /// Every mode's state: no kube-proxy state is left on the node.
    All(Options),
    /// Put a backup written by a clean-up back.
    Restore {
        /// The backup file (printed by the clean-up that wrote it).
        file: PathBuf,
    },
}

/// Options of a clean-up.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Print the plan (a diff per table) and change nothing.
    #[arg(long, short = 'n')]
    dry_run: bool,
    /// Where to write the backups.
    #[arg(long, value_name = "DIR", default_value = backup::DEFAULT_DIR)]
    backup_dir: PathBuf,
    /// Which iptables backend to clean: iptables-legacy, iptables-nft, or
    /// both (IPv4 and IPv6 each). The other is still read, so an ipset one
    /// of its rules matches is kept.
    #[arg(long, value_name = "BACKEND", value_enum, default_value_t = BackendArg::All)]
    backend: BackendArg,
    /// Clean even when kube-proxy runs the mode being cleaned (a
    /// kube-proxy process or its metrics port says so, or that mode is the
    /// only one with state): its Services break until it resyncs.
    #[arg(long)]
    force: bool,
}

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BackendArg {
    /// iptables-legacy and ip6tables-legacy.
    Legacy,
    /// iptables-nft and ip6tables-nft.
    Nft,
    /// Both kinds.
    All,
}

impl BackendArg {
    fn backends(self) -> Vec<Backend> {
        Backend::ALL
            .into_iter()
            .filter(|b| match self {
                BackendArg::Legacy => b.kind == Kind::Legacy,
                BackendArg::Nft => b.kind == Kind::Nft,
                BackendArg::All => true,
            })
            .collect()
    }
}

impl Command {
    /// Runs the subcommand; returns the exit code.
    pub fn run(self, global: &Global) -> anyhow::Result<i32> {
        let Command::Cleanup { what } = self;
        let (target, options) = match what {
            What::IptablesMode(o) => (Target::IptablesMode, o),
            What::IpvsMode(o) => (Target::IpvsMode, o),
            What::NftablesMode(o) => (Target::NftablesMode, o),
            What::All(o) => (Target::All, o),
            What::Restore { file } => {
                let what = backup::restore(&global.netns, &file)
                    .with_context(|| format!("restoring {}", file.display()))?;
                if !global.json {
                    println!("restored {}: {}", file.display(), describe(&what));
                } else {
                    println!(
                        "{}",
                        serde_json::json!({ "restored": file, "backup": what })
                    );
                }
                return Ok(0);
            }
        };
        let cleanup = Cleanup::new(target)
            .netns(global.netns.clone())
            .dry_run(options.dry_run)
            .backup_dir(&options.backup_dir)
            .backends(&options.backend.backends())
            .force(options.force);
        let mut report = match cleanup.plan() {
            Ok(report) => report,
            // The refusal is the whole message: what runs, why it matters,
            // how to go ahead.
            Err(kipvs::cleanup::Error::Live(refusal)) => anyhow::bail!("refused: {refusal}"),
            Err(e) => return Err(anyhow::Error::new(e).context("planning the clean-up")),
        };
        for s in &report.skipped {
            eprintln!("kipvs: skipped {s}");
        }
        if let Some(forced) = &report.forced {
            eprintln!(
                "kipvs: warning: {}; cleaning it anyway (--force)",
                forced.live
            );
        }
        if report.is_empty() {
            if global.json {
                println!("{}", json(&report, options.dry_run));
            } else {
                println!("nothing to do");
            }
            return Ok(0);
        }
        if !global.json {
            print!("{}", report.diff());
            for line in report.summary() {
                println!("{line}");
            }
        }
        if options.dry_run {
            if global.json {
                println!("{}", json(&report, true));
            } else {
                println!("dry run: nothing changed");
            }
            return Ok(0);
        }
        cleanup.backup(&mut report).context("writing the backups")?;
        if !global.json {
            // Printed before the first change, so a failure below still
            // leaves the user the way back.
            for b in &report.backups {
                println!("backup: {}", b.display());
            }
        }
        cleanup.apply(&mut report).with_context(|| {
            let files: Vec<String> = report
                .backups
                .iter()
                .map(|b| b.display().to_string())
                .collect();
            format!(
                "applying the clean-up (restore with `kipvs cleanup restore FILE`: {})",
                files.join(", ")
            )
        })?;
        if global.json {
            println!("{}", json(&report, false));
        } else {
            println!("done");
        }
        Ok(0)
    }
}

fn describe(what: &backup::Backup) -> String {
    match what {
        backup::Backup::Iptables { backend, tables } => {
            format!("{backend} tables {}", tables.join(","))
        }
        backup::Backup::Nft { family, name } => format!("nft table {family} {name}"),
        backup::Backup::Kernel => "ipsets, IPVS services and kube-ipvs0".to_owned(),
    }
}

fn json(report: &Report, dry_run: bool) -> serde_json::Value {
    serde_json::json!({
        "target": report.target,
        "dry_run": dry_run,
        "applied": report.applied,
        "iptables": report.iptables.iter().map(|bp| serde_json::json!({
            "backend": bp.backend.to_string(),
            "tables": bp.plan.tables,
            "pinned": bp.plan.pinned,
            "sets_released": bp.plan.sets_released,
        })).collect::<Vec<_>>(),
        "nftables": report.nftables.iter().map(|t| t.spec()).collect::<Vec<_>>(),
        "kernel": report.kernel,
        "skipped": report.skipped,
        "observed": report.observed,
        "forced": report.forced,
        "backups": report.backups,
    })
}
