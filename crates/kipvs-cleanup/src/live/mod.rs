//! Is kube-proxy running, and in which mode? A clean-up must not remove
//! the state of the mode kube-proxy runs now: every Service on the node
//! stops working, and connections through it break, until kube-proxy
//! notices and writes its state again (a full sync, which may be many
//! seconds away).
//!
//! The evidence is gathered at the edge ([`processes`], and the state the
//! clean-up reads anyway) into an [`Observed`] snapshot, and judged by the
//! pure [`guard`]:
//!
//! - a `kube-proxy` process in the same network namespace as the clean-up,
//!   its mode from `--proxy-mode`, else from the `mode:` of its `--config`
//!   file, else kube-proxy's default (iptables). The clean-up of its mode
//!   is refused; a kube-proxy whose mode cannot be told refuses every
//!   clean-up. A `kube-proxy --cleanup` run is a one-shot, not a proxy.
//! - kube-proxy's own answer: its metrics server tells its mode at
//!   `GET /proxyMode` ([`METRICS_ADDR`], reached from the clean-up's network
//!   namespace), which also finds a kube-proxy this process cannot see.
//! - without either (none runs, or this process cannot see it: a container
//!   without the host's PID namespace, kube-proxy built into k3s, metrics
//!   served elsewhere), the state: cleaning one mode is refused when that mode is the only one
//!   with any state on the node. The user says the node moved on to
//!   another mode, yet no other mode has left a trace: the mode being
//!   cleaned is most likely the one running. `all` is exempt: it says no
//!   kube-proxy runs at all, which the state cannot contradict.
//!
//! Either refusal is lifted by forcing the clean-up (`--force`).

use std::{collections::BTreeMap, fmt};

use crate::Target;

mod detect;

pub use detect::{
    ask, config_mode, is_kube_proxy, mode_of, processes, proxy_mode_reply, METRICS_ADDR,
};

/// A kube-proxy proxy mode, nftables included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ProxyMode {
    /// `iptables`.
    Iptables,
    /// `ipvs`.
    Ipvs,
    /// `nftables` (kube-proxy 1.29 and later).
    Nftables,
}

impl ProxyMode {
    /// The mode named `name` as kube-proxy spells it; `""` is kube-proxy's
    /// default on Linux, iptables.
    pub fn from_name(name: &str) -> Option<ProxyMode> {
        match name {
            "" | "iptables" => Some(ProxyMode::Iptables),
            "ipvs" => Some(ProxyMode::Ipvs),
            "nftables" => Some(ProxyMode::Nftables),
            _ => None,
        }
    }
}

impl fmt::Display for ProxyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Ipvs => "ipvs",
            ProxyMode::Nftables => "nftables",
        })
    }
}

/// A running kube-proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ProxyProcess {
    /// Its process id.
    pub pid: u32,
    /// Its mode, or `None` when it cannot be told.
    pub mode: Option<ProxyMode>,
    /// Where the mode comes from (`--proxy-mode=ipvs`, `mode: ipvs in
    /// /etc/kube-proxy/config.conf`, `the default`), or why it is unknown.
    pub how: String,
}

/// What the clean-up saw: kube-proxy processes and each mode's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Observed {
    /// kube-proxy processes in the clean-up's network namespace.
    pub processes: Vec<ProxyProcess>,
    /// The mode kube-proxy's metrics server reported, and where.
    pub answered: Option<Answer>,
    /// For each mode with state on the node, what that state is (one
    /// phrase per kind: `IPVS-mode chains in iptables-nft`, `kube-ipvs0`).
    pub state: BTreeMap<ProxyMode, Vec<String>>,
}

/// kube-proxy's answer to `GET /proxyMode`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Answer {
    /// Where it answered (`127.0.0.1:10249`).
    pub addr: String,
    /// The mode it runs.
    pub mode: ProxyMode,
}

/// Why a clean-up is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case", tag = "by"))]
pub enum Live {
    /// A kube-proxy process runs this mode (`None`: a mode not known).
    Process {
        /// The process.
        process: ProxyProcess,
    },
    /// kube-proxy's metrics server says it runs this mode.
    Answer {
        /// The answer.
        answer: Answer,
    },
    /// Without a kube-proxy process to ask, the state says this mode is
    /// the one in use: no other mode has any.
    State {
        /// The mode.
        mode: ProxyMode,
        /// Its state, as [`Observed::state`] has it.
        seen: Vec<String>,
    },
}

impl Live {
    /// The live mode, when known.
    pub fn mode(&self) -> Option<ProxyMode> {
        match self {
            Live::Process { process } => process.mode,
            Live::Answer { answer } => Some(answer.mode),
            Live::State { mode, .. } => Some(*mode),
        }
    }
}

impl fmt::Display for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Live::Process { process: p } => match p.mode {
                Some(m) => write!(
                    f,
                    "kube-proxy is running in {m} mode (pid {}, {})",
                    p.pid, p.how
                ),
                None => write!(
                    f,
                    "kube-proxy is running (pid {}) in a mode kipvs cannot tell ({})",
                    p.pid, p.how
                ),
            },
            Live::Answer { answer } => write!(
                f,
                "kube-proxy is running in {} mode (it says so at http://{}/proxyMode)",
                answer.mode, answer.addr
            ),
            Live::State { mode, seen } => write!(
                f,
                "{mode} mode looks live: it is the only kube-proxy mode with state here ({}) \
                 and no running kube-proxy was found to say otherwise",
                seen.join(", ")
            ),
        }
    }
}

/// A clean-up refused because it would remove the live mode's state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Refusal {
    /// What was asked.
    pub target: Target,
    /// The live mode and how it was found.
    pub live: Live,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; ", self.live)?;
        match (&self.live, self.live.mode()) {
            (Live::State { .. }, _) => write!(
                f,
                "cleaning it would break Services if kube-proxy still runs in it; if kube-proxy \
                 no longer runs on this node, clean with `all`, or pass --force"
            ),
            (Live::Process { .. } | Live::Answer { .. }, Some(m)) if self.target == Target::All => {
                let others: Vec<&str> = [
                    (ProxyMode::Iptables, "iptables-mode"),
                    (ProxyMode::Ipvs, "ipvs-mode"),
                    (ProxyMode::Nftables, "nftables-mode"),
                ]
                .into_iter()
                .filter(|(o, _)| *o != m)
                .map(|(_, t)| t)
                .collect();
                write!(
                    f,
                    "cleaning all modes would remove its state and break Services; clean the \
                     other modes with `{}` or `{}`, or pass --force to do it anyway",
                    others[0], others[1]
                )
            }
            (Live::Process { .. } | Live::Answer { .. }, Some(m)) => write!(
                f,
                "cleaning {m} mode's state would break Services; pass --force to do it anyway"
            ),
            (_, None) => write!(
                f,
                "cleaning what may be its state would break Services; pass --force to do it anyway"
            ),
        }
    }
}

/// Judges a snapshot: `Some` when cleaning `target` would remove the state
/// of the mode kube-proxy runs.
pub fn guard(target: Target, seen: &Observed) -> Option<Refusal> {
    let refuse = |live| Some(Refusal { target, live });
    let has_state = |m: ProxyMode| seen.state.get(&m).is_some_and(|s| !s.is_empty());
    // A kube-proxy that can be asked is the authority: the state says
    // nothing more.
    let asked: Vec<Live> = seen
        .processes
        .iter()
        .map(|p| Live::Process { process: p.clone() })
        .chain(
            seen.answered
                .iter()
                .map(|a| Live::Answer { answer: a.clone() }),
        )
        .collect();
    if !asked.is_empty() {
        return asked
            .into_iter()
            .find(|live| match live.mode() {
                Some(m) => target.cleans(m) && has_state(m),
                None => true,
            })
            .and_then(refuse);
    }
    if target == Target::All {
        return None;
    }
    let with_state: Vec<ProxyMode> = seen
        .state
        .iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(m, _)| *m)
        .collect();
    match with_state.as_slice() {
        [only] if target.cleans(*only) => refuse(Live::State {
            mode: *only,
            seen: seen.state[only].clone(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_proxy_s_answer_is_an_authority() {
        use ProxyMode::*;
        let mut seen = observed(&[], &[Ipvs]);
        seen.answered = Some(Answer {
            addr: METRICS_ADDR.into(),
            mode: Iptables,
        });
        // IPVS mode is the only one with state, but kube-proxy says it
        // runs iptables mode (and has not written any yet).
        assert_eq!(guard(Target::IpvsMode, &seen), None);
        seen.answered.as_mut().unwrap().mode = Ipvs;
        let r = guard(Target::IpvsMode, &seen).unwrap();
        assert_eq!(
            r.to_string(),
            "kube-proxy is running in ipvs mode (it says so at \
             http://127.0.0.1:10249/proxyMode); cleaning ipvs mode's state would break \
             Services; pass --force to do it anyway"
        );
    }

    fn observed(procs: &[Option<ProxyMode>], state: &[ProxyMode]) -> Observed {
        Observed {
            answered: None,
            processes: procs
                .iter()
                .enumerate()
                .map(|(i, m)| ProxyProcess {
                    pid: 100 + i as u32,
                    mode: *m,
                    how: "test".into(),
                })
                .collect(),
            state: state
                .iter()
                .map(|m| (*m, vec![format!("{m} things")]))
                .collect(),
        }
    }

    #[test]
    fn a_running_kube_proxy_guards_its_mode() {
        use ProxyMode::*;
        let both = [Iptables, Ipvs];
        let seen = observed(&[Some(Ipvs)], &both);
        assert_eq!(guard(Target::IptablesMode, &seen), None);
        assert_eq!(guard(Target::NftablesMode, &seen), None);
        let r = guard(Target::IpvsMode, &seen).unwrap();
        assert_eq!(
            r.to_string(),
            "kube-proxy is running in ipvs mode (pid 100, test); cleaning ipvs mode's state \
             would break Services; pass --force to do it anyway"
        );
        let r = guard(Target::All, &seen).unwrap();
        assert!(
            r.to_string().contains("`iptables-mode` or `nftables-mode`"),
            "{r}"
        );
        // Nothing of the live mode to remove: nothing to refuse.
        assert_eq!(
            guard(Target::IpvsMode, &observed(&[Some(Ipvs)], &[Iptables])),
            None
        );
        // A process outranks the state: iptables is the only mode with
        // state, but kube-proxy says it runs nftables.
        assert_eq!(
            guard(
                Target::IptablesMode,
                &observed(&[Some(Nftables)], &[Iptables])
            ),
            None
        );
        // A mode that cannot be told guards everything.
        let r = guard(Target::NftablesMode, &observed(&[None], &[Nftables])).unwrap();
        assert!(r.to_string().contains("a mode kipvs cannot tell"), "{r}");
    }

    #[test]
    fn without_a_process_the_only_mode_with_state_is_guarded() {
        use ProxyMode::*;
        let r = guard(Target::IpvsMode, &observed(&[], &[Ipvs])).unwrap();
        assert_eq!(r.live.mode(), Some(Ipvs));
        assert!(r.to_string().starts_with("ipvs mode looks live: it is the only kube-proxy mode with state here (ipvs things)"), "{r}");
        assert_eq!(
            guard(Target::IpvsMode, &observed(&[], &[Ipvs, Iptables])),
            None
        );
        assert_eq!(guard(Target::IptablesMode, &observed(&[], &[Ipvs])), None);
        assert_eq!(guard(Target::All, &observed(&[], &[Ipvs])), None);
        assert_eq!(guard(Target::IptablesMode, &observed(&[], &[])), None);
    }
}
