//! The clean-up itself: read every backend, plan, back up, apply.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use kipvs_netlink::NetNs;

use crate::{
    backend::Backend,
    backup::{self, Backup},
    kernel::{self, KernelPlan},
    kernel_backup,
    kube::Mode,
    nft::{self, NftTable},
    plan::{self, Plan},
    Error, Result,
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

    fn kernel(self) -> bool {
        matches!(self, Target::IpvsMode | Target::All)
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
    /// The IPVS services, `kube-ipvs0` and ipsets to remove (IPVS mode).
    pub kernel: Option<KernelPlan>,
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
        self.iptables.is_empty()
            && self.nftables.is_empty()
            && self.kernel.as_ref().map_or(true, KernelPlan::is_empty)
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
        if let Some(k) = &self.kernel {
            out.push_str(&k.to_string());
        }
        out
    }

    /// One line per backend: how many rules and chains go.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for bp in &self.iptables {
            for tp in &bp.plan.tables {
                lines.push(format!(
                    "{} {}: remove {} chains (with their {} rules) and {} rules from chains that stay",
                    bp.backend,
                    tp.table,
                    tp.chains.len(),
                    tp.rules_in_chains,
                    tp.rules.len(),
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
            lines.push(format!("nft: remove table {}", t.spec()));
        }
        if let Some(k) = self.kernel.as_ref().filter(|k| !k.is_empty()) {
            lines.push(format!(
                "kernel: remove {} IPVS services, {}{} ipsets",
                k.services.len(),
                if k.link {
                    "kube-ipvs0 and its addresses, "
                } else {
                    ""
                },
                k.sets.len()
            ));
        }
        if let Some(k) = &self.kernel {
            for s in &k.sets_kept {
                lines.push(format!(
                    "kernel: kept ipset {s}: a rule that stays matches it"
                ));
            }
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
            kernel: None,
            skipped: Vec::new(),
            backups: Vec::new(),
            applied: false,
        };
        // Sets matched by rules that stay, in any backend: never destroyed.
        let mut sets_in_use = BTreeSet::new();
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
                // A backend that cannot be read (no kernel support, IPv6
                // disabled) cannot be cleaned either: it is left alone and
                // said so, rather than stopping the clean-up of the others.
                let rs = match backend.save(&self.netns) {
                    Ok(rs) => rs,
                    Err(e @ (Error::Tool { .. } | Error::Parse { .. } | Error::Io { .. })) => {
                        report
                            .skipped
                            .push(format!("{backend}: cannot read it: {e}"));
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                if !plan::has_kube_state(&rs) {
                    sets_in_use.extend(plan::match_sets(&rs));
                    continue;
                }
                let plan = Plan::new(rs, self.target.modes());
                sets_in_use.extend(plan.sets_in_use.iter().cloned());
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
        if self.target.kernel() {
            let k = kernel::plan(&self.netns, &sets_in_use)?;
            report.skipped.extend(k.skipped.iter().cloned());
            report.kernel = Some(k);
        }
        Ok(report)
    }

    /// Plans, then (unless a dry run) [backs up](Cleanup::backup) every
    /// part it will touch and [applies](Cleanup::apply) the plan.
    pub fn run(&self) -> Result<Report> {
        let mut report = self.plan()?;
        if self.dry_run || report.is_empty() {
            return Ok(report);
        }
        self.backup(&mut report)?;
        self.apply(&mut report)?;
        Ok(report)
    }

    /// Writes a backup of each backend and table the plan touches (the
    /// backend's full `iptables-save -c` output; `nft list table`), each
    /// flushed to disk, and records their paths in the report.
    pub fn backup(&self, report: &mut Report) -> Result<()> {
        // The kernel backup first: the iptables rules it backs up match on
        // its ipsets, so it must be restored before them.
        if let Some(k) = report.kernel.as_ref().filter(|k| !k.is_empty()) {
            let text = kernel_backup::save(&self.netns, k)?;
            report
                .backups
                .push(backup::write(&self.backup_dir, &Backup::Kernel, &text)?);
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
        Ok(())
    }

    /// Applies a plan: one `iptables-restore --noflush` transaction per
    /// table of each backend, one `nft delete table` per table. Refuses to
    /// run before [`Cleanup::backup`] has written the backups.
    pub fn apply(&self, report: &mut Report) -> Result<()> {
        let needed = report.iptables.len()
            + report.nftables.len()
            + usize::from(report.kernel.as_ref().is_some_and(|k| !k.is_empty()));
        if report.backups.len() < needed {
            return Err(crate::Error::backup(
                &self.backup_dir,
                "no backup written yet: call Cleanup::backup before Cleanup::apply",
            ));
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
        // After the iptables rules: a set a rule matches cannot be destroyed.
        if let Some(k) = &report.kernel {
            kernel::apply(&self.netns, k)?;
        }
        report.applied = true;
        Ok(())
    }
}
