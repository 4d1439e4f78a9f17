//! The clean-up itself: read every backend, plan, back up, apply.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use kipvs_netlink::NetNs;

use crate::{
    backend::Backend,
    backup::{self, Backup},
    kernel::{self, KernelPlan, KernelState},
    kernel_backup,
    kube::{self, Mode},
    live::{self, Observed, ProxyMode, Refusal},
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

    /// True when this target removes `mode`'s state.
    pub fn cleans(self, mode: ProxyMode) -> bool {
        match mode {
            ProxyMode::Iptables => self.modes().contains(&Mode::Iptables),
            ProxyMode::Ipvs => self.modes().contains(&Mode::Ipvs),
            ProxyMode::Nftables => self.nftables(),
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
    /// The kube-proxy processes and each mode's state the live-mode guard
    /// looked at ([`live`]).
    pub observed: Observed,
    /// The guard's refusal that [`Cleanup::force`] overrode.
    pub forced: Option<Refusal>,
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

    /// One line per backend: how many rules and chains go; first, the
    /// running kube-proxy whose mode the plan leaves alone, if any.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let asked = self
            .observed
            .processes
            .iter()
            .map(|p| (p.mode, format!("pid {}, {}", p.pid, p.how)))
            .chain(self.observed.answered.iter().map(|a| {
                (
                    Some(a.mode),
                    format!("it says so at http://{}/proxyMode", a.addr),
                )
            }));
        for (mode, how) in asked {
            if let Some(m) = mode.filter(|m| !self.target.cleans(*m)) {
                lines.push(format!(
                    "kube-proxy is running in {m} mode ({how}): its state stays"
                ));
            }
        }
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
    force: bool,
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
            force: false,
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

    /// Cleans only `backends` (default: every installed one). The others
    /// are still read: a set one of their rules matches is kept, and their
    /// state counts for the live-mode guard.
    pub fn backends(mut self, backends: &[Backend]) -> Self {
        self.backends = Some(backends.to_vec());
        self
    }

    /// Cleans even the state of the mode kube-proxy runs now (see
    /// [`live`]): [`Cleanup::plan`] then records the overridden refusal in
    /// [`Report::forced`] instead of failing with [`Error::Live`].
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Reads the state and plans, changing nothing. Fails with
    /// [`Error::Live`] when the plan would remove the state of the mode
    /// kube-proxy runs now, unless [forced](Cleanup::force).
    pub fn plan(&self) -> Result<Report> {
        let mut report = Report {
            target: self.target,
            iptables: Vec::new(),
            nftables: Vec::new(),
            kernel: None,
            skipped: Vec::new(),
            backups: Vec::new(),
            observed: Observed::default(),
            forced: None,
            applied: false,
        };
        let modes = self.target.modes();
        let selected = self
            .backends
            .clone()
            .unwrap_or_else(|| Backend::ALL.to_vec());
        let mut state: BTreeMap<ProxyMode, Vec<String>> = BTreeMap::new();
        // Sets matched by rules that stay, in any backend: never destroyed.
        let mut sets_in_use = BTreeSet::new();
        let mut rule_node_ports = BTreeSet::new();
        // Every installed backend is read, cleaned or not: the sets its
        // rules match and its modes' state count all the same.
        for backend in Backend::ALL {
            let cleaned = !modes.is_empty() && selected.contains(&backend);
            if !backend.available() {
                if cleaned {
                    report.skipped.push(format!("{backend}: not installed"));
                }
                continue;
            }
            // A backend that cannot be read (no kernel support, IPv6
            // disabled) cannot be cleaned either: it is left alone and
            // said so, rather than stopping the clean-up of the others.
            let rs = match backend.save(&self.netns) {
                Ok(rs) => rs,
                Err(e @ (Error::Tool { .. } | Error::Parse { .. } | Error::Io { .. })) => {
                    if cleaned {
                        report
                            .skipped
                            .push(format!("{backend}: cannot read it: {e}"));
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            for (mode, proxy_mode, name) in [
                (Mode::Iptables, ProxyMode::Iptables, "iptables-mode"),
                (Mode::Ipvs, ProxyMode::Ipvs, "IPVS-mode"),
            ] {
                if plan::mode_present(&rs, mode) {
                    let seen = format!("{name} rules in {backend}");
                    state.entry(proxy_mode).or_default().push(seen);
                }
            }
            rule_node_ports.extend(
                kube::node_ports(&rs)
                    .into_iter()
                    .filter_map(|(p, port)| Some((protocol_of(&p)?, port))),
            );
            if !cleaned || !plan::has_kube_state(&rs) {
                sets_in_use.extend(plan::match_sets(&rs));
                continue;
            }
            let plan = Plan::new(rs, modes);
            sets_in_use.extend(plan.sets_in_use.iter().cloned());
            if !plan.is_empty() {
                report.iptables.push(BackendPlan { backend, plan });
            }
        }
        if nft::available() {
            // Cleaned: listed in full, and a failure stops the clean-up.
            // Otherwise looked at for the guard, and listed in full only
            // for the node ports of an IPVS-mode clean-up: a failure to
            // list is no reason to stop.
            let tables = if self.target.nftables() {
                report.nftables = nft::kube_proxy_tables(&self.netns)?;
                report.nftables.clone()
            } else if self.target.kernel() {
                nft::kube_proxy_tables(&self.netns).unwrap_or_default()
            } else {
                let specs = nft::kube_proxy_table_specs(&self.netns).unwrap_or_default();
                specs
                    .into_iter()
                    .map(|(family, name)| nft::NftTable {
                        family,
                        name,
                        listing: String::new(),
                    })
                    .collect()
            };
            for t in &tables {
                let seen = format!("nftables table {}", t.spec());
                state.entry(ProxyMode::Nftables).or_default().push(seen);
                rule_node_ports.extend(
                    nft::node_ports(&t.listing)
                        .into_iter()
                        .filter_map(|(p, port)| Some((protocol_of(&p)?, port))),
                );
            }
        } else if self.target == Target::NftablesMode {
            return Err(crate::Error::ToolMissing {
                program: nft::NFT.into(),
            });
        } else if self.target.nftables() {
            report.skipped.push("nftables: nft is not installed".into());
        }
        // The kernel: planned when cleaned, else only looked at for the
        // guard (and then a failure to read it is no reason to stop).
        let kernel_state = if self.target.kernel() {
            Some(KernelState::read(&self.netns, true)?)
        } else {
            KernelState::read(&self.netns, false).ok()
        };
        if let Some(ks) = &kernel_state {
            let seen = ks.ipvs_mode_state();
            if !seen.is_empty() {
                state.entry(ProxyMode::Ipvs).or_default().extend(seen);
            }
            if self.target.kernel() {
                let k = KernelPlan::new(ks, &sets_in_use, &rule_node_ports);
                report.skipped.extend(k.skipped.iter().cloned());
                report.kernel = Some(k);
            }
        }
        let metrics = live::METRICS_ADDR.parse().expect("a socket address");
        report.observed = Observed {
            processes: live::processes(&self.netns)?,
            answered: live::ask(&self.netns, metrics)?,
            state,
        };
        if report.is_empty() {
            return Ok(report);
        }
        if let Some(refusal) = live::guard(self.target, &report.observed) {
            if !self.force {
                return Err(Error::Live(Box::new(refusal)));
            }
            report.forced = Some(refusal);
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

/// The IPVS protocol of a protocol name as iptables and nft print it.
fn protocol_of(name: &str) -> Option<kipvs_ipvs::Protocol> {
    match name {
        "tcp" => Some(kipvs_ipvs::Protocol::Tcp),
        "udp" => Some(kipvs_ipvs::Protocol::Udp),
        "sctp" => Some(kipvs_ipvs::Protocol::Sctp),
        _ => None,
    }
}
