//! `kipvs doctor`: a read-only report on what IPVS mode needs from a node.

use std::{fmt, path::Path};

use kipvs::{
    cleanup::{live::Live, Cleanup, Target},
    ipset::IpSet,
    ipvs::Ipvs,
    link::{IfName, Links},
    Error,
};
use serde::Serialize;

use crate::Global;

/// Report on the node: IPVS, schedulers, ipset, kube-ipvs0, sysctls, stale
/// kube-proxy state. Changes nothing.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dummy interface kube-proxy binds service addresses to.
    #[arg(long, default_value = "kube-ipvs0", value_name = "NAME")]
    dev: IfName,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Info,
    Warn,
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Status::Ok => "ok",
            Status::Info => "info",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        })
    }
}

#[derive(Debug, Serialize)]
struct Check {
    name: String,
    status: Status,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

impl Check {
    fn new(name: &str, status: Status, detail: impl Into<String>) -> Self {
        Check {
            name: name.to_owned(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// The schedulers kube-proxy's IPVS mode checks for at start-up.
const KUBE_PROXY_SCHEDULERS: [&str; 3] = ["rr", "wrr", "sh"];

/// The sysctls IPVS mode needs: (key, wanted value, why, severity when off).
const SYSCTLS: &[(&str, &str, &str, Status)] = &[
    (
        "net.ipv4.ip_forward",
        "1",
        "masqueraded traffic to real servers is forwarded",
        Status::Fail,
    ),
    (
        "net.ipv4.vs.conntrack",
        "1",
        "kube-proxy's iptables rules (masquerade, -m set) see IPVS connections",
        Status::Fail,
    ),
    (
        "net.ipv4.vs.expire_nodest_conn",
        "1",
        "connections to a deleted real server are dropped, not stuck",
        Status::Warn,
    ),
    (
        "net.ipv4.vs.expire_quiescent_template",
        "1",
        "persistence templates of a weight-0 real server expire",
        Status::Warn,
    ),
    (
        "net.ipv4.conf.all.arp_ignore",
        "1",
        "strict ARP: service addresses on kube-ipvs0 are not answered for on other links",
        Status::Info,
    ),
    (
        "net.ipv4.conf.all.arp_announce",
        "2",
        "strict ARP: service addresses are not used as ARP sources",
        Status::Info,
    ),
];

impl Args {
    /// Runs the checks; exits 1 when one of them failed.
    pub fn run(self, global: &Global) -> anyhow::Result<i32> {
        let dev = self.dev;
        let checks = global.netns.run(move || collect(&dev))?;
        if global.json {
            println!("{}", serde_json::to_string_pretty(&checks)?);
        } else {
            for c in &checks {
                // A tool's message can span lines: keep them in the column.
                let detail = c.detail.replace('\n', &format!("\n{:45}", ""));
                println!("{:<5} {:<38} {detail}", c.status, c.name);
                if let Some(fix) = &c.fix {
                    println!("{:<5} {:<38} fix: {fix}", "", "");
                }
            }
        }
        Ok(i32::from(checks.iter().any(|c| c.status == Status::Fail)))
    }
}

/// Every check, run in the calling thread's namespace (the caller has
/// entered the one asked for).
fn collect(dev: &IfName) -> Vec<Check> {
    let mut checks = vec![ipvs(), schedulers(), ipset(), link(dev)];
    checks.extend(
        SYSCTLS
            .iter()
            .map(|&(key, want, why, severity)| sysctl(key, want, why, severity)),
    );
    checks.extend(stale_state());
    checks
}

fn ipvs() -> Check {
    match Ipvs::new().and_then(|mut ipvs| ipvs.info()) {
        Ok(info) => Check::new(
            "IPVS",
            Status::Ok,
            format!(
                "version {}.{}.{} (connection table size {})",
                info.version >> 16,
                (info.version >> 8) & 0xff,
                info.version & 0xff,
                info.conn_tab_size
            ),
        ),
        Err(e @ Error::FamilyNotFound { .. }) => {
            Check::new("IPVS", Status::Fail, e.to_string()).fix("modprobe ip_vs")
        }
        Err(e) if e.is_permission() => Check::new("IPVS", Status::Fail, e.to_string()).fix(AS_ROOT),
        Err(e) => Check::new("IPVS", Status::Fail, e.to_string()),
    }
}

/// The fix for a check the kernel refused for want of privilege.
const AS_ROOT: &str = "run kipvs doctor as root (the kernel answers CAP_NET_ADMIN only)";

/// Schedulers are modules (`ip_vs_rr`, ...) or built in; either way they
/// show under /sys/module once present. The kernel also loads one on
/// demand when a service asks for it, which is why a missing one is only a
/// warning.
fn schedulers() -> Check {
    let present = |s: &str| Path::new("/sys/module").join(format!("ip_vs_{s}")).exists();
    let loaded: Vec<&str> = kipvs::ipvs::Scheduler::KNOWN
        .iter()
        .copied()
        .filter(|s| present(s))
        .collect();
    let missing: Vec<&str> = KUBE_PROXY_SCHEDULERS
        .iter()
        .copied()
        .filter(|s| !present(s))
        .collect();
    let list = if loaded.is_empty() {
        "none".to_owned()
    } else {
        loaded.join(", ")
    };
    if missing.is_empty() {
        Check::new("schedulers", Status::Ok, format!("loaded: {list}"))
    } else {
        Check::new(
            "schedulers",
            Status::Warn,
            format!(
                "loaded: {list}; kube-proxy also checks for: {}",
                missing.join(", ")
            ),
        )
        .fix(format!(
            "modprobe -a {}",
            missing
                .iter()
                .map(|s| format!("ip_vs_{s}"))
                .collect::<Vec<_>>()
                .join(" ")
        ))
    }
}

fn ipset() -> Check {
    match IpSet::new() {
        Ok(set) => Check::new(
            "ipset",
            Status::Ok,
            format!("protocol version {}", set.protocol()),
        ),
        Err(e) if e.is_permission() => {
            Check::new("ipset", Status::Fail, e.to_string()).fix(AS_ROOT)
        }
        Err(e) => Check::new("ipset", Status::Fail, e.to_string()).fix("modprobe ip_set"),
    }
}

fn link(dev: &IfName) -> Check {
    let name = dev.to_string();
    let mut links = match Links::new() {
        Ok(l) => l,
        Err(e) => return Check::new(&name, Status::Fail, e.to_string()),
    };
    match links.link(dev) {
        Ok(None) => Check::new(
            &name,
            Status::Info,
            "absent (kube-proxy in IPVS mode creates it at start-up)",
        )
        .fix(format!("kipvs link ensure {name}")),
        Ok(Some(link)) if !link.is_dummy() => Check::new(
            &name,
            Status::Fail,
            format!(
                "is a {} link, not a dummy one: kube-proxy cannot use it",
                link.kind.as_deref().unwrap_or("physical")
            ),
        ),
        Ok(Some(link)) => {
            let count = links.addresses(dev).map(|a| a.len());
            let state = if link.up { "UP" } else { "DOWN" };
            let detail = match count {
                Ok(n) => format!("dummy, {state}, {n} service addresses"),
                Err(e) => format!("dummy, {state}; addresses unreadable: {e}"),
            };
            if link.up {
                // kube-proxy leaves it down; up, it answers ARP for every
                // service address unless strict ARP is set.
                Check::new(&name, Status::Warn, detail).fix(format!("ip link set {name} down"))
            } else {
                Check::new(&name, Status::Ok, detail)
            }
        }
        Err(e) => Check::new(&name, Status::Fail, e.to_string()),
    }
}

/// Reads a sysctl of the calling thread's namespace: /proc/sys/net is
/// resolved per task, unlike /proc/net.
fn sysctl(key: &str, want: &str, why: &str, severity: Status) -> Check {
    let path = Path::new("/proc/sys").join(key.replace('.', "/"));
    match std::fs::read_to_string(&path) {
        Ok(v) if v.trim() == want => Check::new(key, Status::Ok, format!("{want}: {why}")),
        Ok(v) => Check::new(
            key,
            severity,
            format!("is {}, IPVS mode wants {want}: {why}", v.trim()),
        )
        .fix(format!("sysctl -w {key}={want}")),
        Err(_) if key.starts_with("net.ipv4.vs.") => Check::new(
            key,
            Status::Info,
            "not present: appears when ip_vs is loaded",
        ),
        Err(e) => Check::new(key, Status::Info, format!("unreadable: {e}")),
    }
}

/// Which mode's kube-proxy state is on the node, each with the command
/// that removes it. State of the mode a running kube-proxy uses is live,
/// not stale; any other mode's state beside it, or two modes' state with no
/// kube-proxy to ask, almost always means one is stale.
fn stale_state() -> Vec<Check> {
    let modes = [
        (Target::IptablesMode, "iptables-mode"),
        (Target::IpvsMode, "ipvs-mode"),
        (Target::NftablesMode, "nftables-mode"),
    ];
    let mut found = Vec::new();
    let mut live = None;
    let mut checks = Vec::new();
    for (target, name) in modes {
        let label = format!("kube-proxy {name} state");
        // Forced: a dry run changes nothing, and the report says what the
        // live-mode check found instead of refusing.
        match Cleanup::new(target).dry_run(true).force(true).plan() {
            Ok(report) if report.is_empty() && report.skipped.is_empty() => {
                checks.push(Check::new(&label, Status::Ok, "none"));
            }
            // Nothing found, but only because nothing could be read.
            Ok(report) if report.is_empty() => checks.push(Check::new(
                &label,
                Status::Info,
                format!("not checked: {}", report.skipped.join("; ")),
            )),
            Ok(report) => {
                let mut detail = report.summary().join("; ");
                if !report.skipped.is_empty() {
                    detail.push_str(&format!(" (not checked: {})", report.skipped.join("; ")));
                }
                // A running kube-proxy (its process or its own answer) is
                // proof; the state alone is not.
                let running = report
                    .forced
                    .as_ref()
                    .filter(|r| !matches!(r.live, Live::State { .. }));
                if let Some(r) = running {
                    live = Some(r.live.to_string());
                    checks.push(Check::new(&label, Status::Ok, format!("in use: {detail}")));
                    continue;
                }
                found.push(checks.len());
                checks.push(
                    Check::new(&label, Status::Info, detail)
                        .fix(format!("kipvs cleanup {name} --dry-run, then without --dry-run if kube-proxy no longer runs in that mode")),
                );
            }
            Err(e) => checks.push(Check::new(
                &label,
                Status::Info,
                format!("not checked: {e}"),
            )),
        }
    }
    let why = match &live {
        Some(live) if !found.is_empty() => Some(format!("{live}, so this is stale")),
        None if found.len() > 1 => Some("more than one mode's state is present".to_owned()),
        _ => None,
    };
    if let Some(why) = why {
        for i in found {
            checks[i].status = Status::Warn;
            checks[i].detail = format!("{why}: {}", checks[i].detail);
        }
    }
    checks
}
