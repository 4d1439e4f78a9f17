//! The clean-up itself: read every backend, plan, back up, apply.

use std::path::{Path, PathBuf};

use kipvs_netlink::NetNs;

use crate::{
    backend::Backend,
    backup::{self, Backup},
    kube::Mode,
    nft::{self, NftTable},
    plan::{self, Plan},
    Result,
};

/// What to clean: the leftovers of the mode the node no longer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Target {
    /// What iptables mode left: its chains, its rules in the chains both
    /// modes share, its jumps from the built-in chains.
    IptablesMode,
    /// What IPVS mode left in iptables (the same way), then in the kernel:
    /// the IPVS services it made, `kube-ipvs0`, its `KUBE-*` ipsets.
    IpvsMode,
    /// nftables mode's tables, `ip kube-proxy` and `ip6 kube-proxy`.
    NftablesMode,
    /// All of the above: no kube-proxy state of any mode is left.
    All,
}

impl Target {
    /// The iptables-using modes this target cleans.
    pub fn modes(self) -> &'static [Mode] {
        match self {
            Target::IptablesMode => &[Mode::Iptables],
            Target::IpvsMode => &[Mode::Ipvs],
            Target::NftablesMode => &[],
            Target::All => &[Mode::Iptables, Mode::Ipvs],
        }
    }

    fn nftables(self) -> bool {
        matches!(self, Target::NftablesMode | Target::All)
    }
}

/// The plan for one iptables backend.
#[derive(Debug, Clone)]
pub struct BackendPlan {
    /// The backend.
    pub backend: Backend,
    /// What goes.
    pub plan: Plan,
}

/// What a clean-up found, and did.
#[derive(Debug, Clone)]
pub struct Report {
    /// What was asked.
    pub target: Target,
    /// The iptables backends with something to remove.
    pub iptables: Vec<BackendPlan>,
    /// The nftables tables to remove.
    pub nftables: Vec<NftTable>,
    /// Parts that could not be looked at, and why (a tool not installed).
    pub skipped: Vec<String>,
    /// Backup files written before the first change.
    pub backups: Vec<PathBuf>,
    /// True when the changes were made (false for a dry run or when there
    /// was nothing to do).
    pub applied: bool,
}

impl Report {
    /// True when there was nothing to remove.
    pub fn is_empty(&self) -> bool {
        self.iptables.is_empty() && self.nftables.is_empty()
    }

    /// The plan as unified diffs, per backend and table.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for bp in &self.iptables {
            out.push_str(&bp.plan.diff(&bp.backend.to_string()));
        }
        for t in &self.nftables {
            out.push_str(&t.diff());
        }
        out
    }

    /// One line per backend: how many rules and chains go.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for bp in &self.iptables {
            for tp in &bp.plan.tables {
                lines.push(format!(
                    "{} {}: {} rules in kept chains, {} chains with {} rules",
                    bp.backend,
                    tp.table,
                    tp.rules.len(),
                    tp.chains.len(),
                    tp.rules_in_chains
                ));
            }
            for p in &bp.plan.pinned {
                lines.push(format!(
                    "{} {}: kept chain {} because a rule that stays jumps to it: {}",
                    bp.backend, p.table, p.chain, p.by
                ));
            }
        }
        for t in &self.nftables {
            lines.push(format!("nft: table {}", t.spec()));
        }
        lines
    }
}

/// A clean-up of stale kube-proxy state, configured with small builder
/// methods and then [planned](Cleanup::plan) or [run](Cleanup::run).
///
/// ```no_run
/// use kipvs_cleanup::{Cleanup, Target};
/// // The node now runs kube-proxy in IPVS mode: remove what iptables
/// // mode left behind, keeping IPVS mode's rules.
/// let report = Cleanup::new(Target::IptablesMode).dry_run(true).run()?;
/// print!("{}", report.diff());
/// # Ok::<(), kipvs_cleanup::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cleanup {
    target: Target,
    netns: NetNs,
    dry_run: bool,
    backup_dir: PathBuf,
    backends: Option<Vec<Backend>>,
}

impl Cleanup {
    /// A clean-up of `target` in the current namespace, backups in
    /// [`backup::DEFAULT_DIR`].
    pub fn new(target: Target) -> Self {
        Cleanup {
            target,
            netns: NetNs::Current,
            dry_run: false,
            backup_dir: PathBuf::from(backup::DEFAULT_DIR),
            backends: None,
        }
    }

    /// Works in `netns`.
    pub fn netns(mut self, netns: NetNs) -> Self {
        self.netns = netns;
        self
    }

    /// Plans and reports, changing nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Writes backups into `dir`.
    pub fn backup_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.backup_dir = dir.as_ref().to_owned();
        self
    }

    /// Looks only at `backends` (default: every installed one).
    pub fn backends(mut self, backends: &[Backend]) -> Self {
        self.backends = Some(backends.to_vec());
        self
    }

    /// Reads the state and plans, changing nothing.
    pub fn plan(&self) -> Result<Report> {
        let mut report = Report {
            target: self.target,
            iptables: Vec::new(),
            nftables: Vec::new(),
            skipped: Vec::new(),
            backups: Vec::new(),
            applied: false,
        };
        if !self.target.modes().is_empty() {
            let backends = self
                .backends
                .clone()
                .unwrap_or_else(|| Backend::ALL.to_vec());
            for backend in backends {
                if !backend.available() {
                    report.skipped.push(format!("{backend}: not installed"));
                    continue;
                }
                let rs = backend.save(&self.netns)?;
                if !plan::has_kube_state(&rs) {
                    continue;
                }
                let plan = Plan::new(rs, self.target.modes());
                if !plan.is_empty() {
                    report.iptables.push(BackendPlan { backend, plan });
                }
            }
        }
        if self.target.nftables() {
            if nft::available() {
                report.nftables = nft::kube_proxy_tables(&self.netns)?;
            } else if self.target == Target::NftablesMode {
                return Err(crate::Error::ToolMissing {
                    program: nft::NFT.into(),
                });
            } else {
                report.skipped.push("nftables: nft is not installed".into());
            }
        }
        Ok(report)
    }

    /// Plans, then (unless a dry run) backs up every backend it will touch
    /// and applies the plan: one `iptables-restore --noflush` transaction
    /// per table, one `nft delete table` per table.
    pub fn run(&self) -> Result<Report> {
        let mut report = self.plan()?;
        if self.dry_run || report.is_empty() {
            return Ok(report);
        }
        for bp in &report.iptables {
            let what = Backup::Iptables {
                backend: bp.backend,
                tables: bp.plan.tables.iter().map(|t| t.table.clone()).collect(),
            };
            let path = backup::write(&self.backup_dir, &what, &bp.plan.before().to_string())?;
            report.backups.push(path);
        }
        for t in &report.nftables {
            let what = Backup::Nft {
                family: t.family.clone(),
                name: t.name.clone(),
            };
            report
                .backups
                .push(backup::write(&self.backup_dir, &what, &t.listing)?);
        }
        for bp in &report.iptables {
            for script in bp.plan.restore_scripts() {
                bp.backend
                    .restore(&self.netns, &script.to_string(), true, false)?;
            }
        }
        for t in &report.nftables {
            nft::delete(&self.netns, t)?;
        }
        report.applied = true;
        Ok(report)
    }
}
