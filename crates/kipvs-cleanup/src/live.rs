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

use std::{
    collections::BTreeMap,
    fmt, fs,
    io::{self, Read, Write},
    net::{SocketAddr, TcpStream},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::Duration,
};

use kipvs_netlink::NetNs;

use crate::{Result, Target};

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

/// The kube-proxy processes that share `netns` (the node's namespace:
/// kube-proxy runs with the host's network). A process whose namespace
/// cannot be read is counted: better a refusal to override than a broken
/// node.
pub fn processes(netns: &NetNs) -> Result<Vec<ProxyProcess>> {
    let target = netns
        .run(|| fs::metadata("/proc/thread-self/ns/net").map(|m| (m.dev(), m.ino())))?
        .map_err(|e| crate::Error::io("reading the network namespace", e))?;
    let mut found = Vec::new();
    let entries =
        fs::read_dir("/proc").map_err(|e| crate::Error::io("listing processes in /proc", e))?;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = entry.path();
        // Processes come and go while /proc is read: one that is gone is
        // simply not there.
        let (Ok(comm), Ok(cmdline)) = (
            fs::read_to_string(dir.join("comm")),
            fs::read(dir.join("cmdline")),
        ) else {
            continue;
        };
        let argv: Vec<String> = cmdline
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !is_kube_proxy(comm.trim_end(), &argv) {
            continue;
        }
        match fs::metadata(dir.join("ns/net")) {
            Ok(m) if (m.dev(), m.ino()) != target => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            _ => {}
        }
        let (mode, how) = mode_of(&argv, |path| {
            // The path is in kube-proxy's own mount namespace (its
            // container), which /proc/PID/root and /proc/PID/cwd lead into.
            let base = if path.is_absolute() { "root" } else { "cwd" };
            let rel = path.strip_prefix("/").unwrap_or(path);
            fs::read_to_string(dir.join(base).join(rel))
        });
        found.push(ProxyProcess { pid, mode, how });
    }
    found.sort_by_key(|p| p.pid);
    Ok(found)
}

/// Where kube-proxy serves its metrics, and `/proxyMode`, by default
/// (`metricsBindAddress`; kube-proxy binds `0.0.0.0:10249` in many
/// installations, which answers there too).
pub const METRICS_ADDR: &str = "127.0.0.1:10249";

/// Asks a kube-proxy metrics server at `addr`, from `netns`, which mode it
/// runs. `None` when nothing answers there, or not like kube-proxy.
pub fn ask(netns: &NetNs, addr: SocketAddr) -> Result<Option<Answer>> {
    let reply = netns.run(move || -> io::Result<String> {
        // A namespace whose loopback is down refuses at once; a filtered
        // port must not hold the clean-up long.
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.set_write_timeout(Some(Duration::from_secs(2)))?;
        // One write: a server may answer (and close) on the first segment.
        let request =
            format!("GET /proxyMode HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: kipvs\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        let mut reply = Vec::new();
        stream.take(4096).read_to_end(&mut reply)?;
        Ok(String::from_utf8_lossy(&reply).into_owned())
    })?;
    Ok(reply
        .ok()
        .and_then(|r| proxy_mode_reply(&r))
        .map(|mode| Answer {
            addr: addr.to_string(),
            mode,
        }))
}

/// The mode in kube-proxy's reply to `GET /proxyMode`: status 200 and a
/// body that is exactly a mode's name.
pub fn proxy_mode_reply(reply: &str) -> Option<ProxyMode> {
    let (head, body) = reply.split_once("\r\n\r\n")?;
    let status = head.lines().next()?;
    let mut words = status.split_whitespace();
    let (Some(version), Some("200")) = (words.next(), words.next()) else {
        return None;
    };
    if !version.starts_with("HTTP/1.") || body.trim().is_empty() {
        return None;
    }
    ProxyMode::from_name(body.trim())
}

/// True for a kube-proxy that proxies: named `kube-proxy` (its command,
/// or its program's file name), not a one-shot `kube-proxy --cleanup`.
/// Zombies have no command line and are not counted.
pub fn is_kube_proxy(comm: &str, argv: &[String]) -> bool {
    let Some(program) = argv.first() else {
        return false;
    };
    let named =
        comm == "kube-proxy" || Path::new(program).file_name() == Some("kube-proxy".as_ref());
    let cleanup = argv.iter().any(|a| {
        matches!(
            a.as_str(),
            "--cleanup" | "--cleanup=true" | "--cleanup-ipvs" | "--cleanup-ipvs=true"
        )
    });
    named && !cleanup
}

/// kube-proxy's mode from its arguments: `--proxy-mode`, else the `mode`
/// of its `--config` file (read with `read`), else the default, iptables.
/// When both are given and disagree, the mode is unknown: kube-proxy
/// versions differ on which wins.
pub fn mode_of(
    argv: &[String],
    read: impl Fn(&Path) -> io::Result<String>,
) -> (Option<ProxyMode>, String) {
    let flag = flag_value(argv, "--proxy-mode");
    let config = flag_value(argv, "--config").map(PathBuf::from);
    let from_flag = flag.map(|v| (ProxyMode::from_name(v), format!("--proxy-mode={v}")));
    let from_config = config.map(|path| match read(&path) {
        Ok(text) => match config_mode(&text) {
            Some(v) => (
                ProxyMode::from_name(v),
                format!("mode: {v:?} in {}", path.display()),
            ),
            None => (
                Some(ProxyMode::Iptables),
                format!("no mode in {}: the default", path.display()),
            ),
        },
        Err(e) => (
            None,
            format!("its config file {} cannot be read: {e}", path.display()),
        ),
    });
    match (from_flag, from_config) {
        (Some((a, ha)), Some((b, hb))) if a != b => {
            (None, format!("{ha} but {hb}: it depends on the version"))
        }
        (Some((m, how)), _) | (None, Some((m, how))) => match m {
            Some(_) => (m, how),
            None => (None, format!("{how}: not a mode kipvs knows")),
        },
        (None, None) => (Some(ProxyMode::Iptables), "the default".to_owned()),
    }
}

fn flag_value<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    let mut args = argv.iter().skip(1);
    let mut found = None;
    while let Some(a) = args.next() {
        if a == flag {
            found = args.next().map(String::as_str);
        } else if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            found = Some(v);
        }
    }
    found
}

/// The top-level `mode` of a `KubeProxyConfiguration` in YAML (`mode:
/// "ipvs"`) or JSON (`"mode": "ipvs"`).
pub fn config_mode(text: &str) -> Option<&str> {
    if text.trim_start().starts_with('{') {
        let at = text.find("\"mode\"")?;
        let rest = text[at + 6..].trim_start().strip_prefix(':')?.trim_start();
        return rest.strip_prefix('"')?.split('"').next();
    }
    // Indented `mode:` keys belong to nested objects; only column 0 counts.
    let value = text.lines().find_map(|l| l.strip_prefix("mode:"))?;
    let value = value.split(" #").next().unwrap_or(value).trim();
    Some(value.trim_matches(|c| c == '"' || c == '\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn mode(argv: &str, config: Option<&str>) -> (Option<ProxyMode>, String) {
        mode_of(&args(argv), |_| {
            config
                .map(str::to_owned)
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        })
    }

    #[test]
    fn mode_from_flags_and_config() {
        use ProxyMode::*;
        assert_eq!(
            mode("kube-proxy --proxy-mode=ipvs", None),
            (Some(Ipvs), "--proxy-mode=ipvs".into())
        );
        assert_eq!(
            mode("kube-proxy --proxy-mode nftables", None).0,
            Some(Nftables)
        );
        assert_eq!(
            mode("kube-proxy --v=2", None),
            (Some(Iptables), "the default".into())
        );
        let conf = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs:\n  mode: nope\nmode: \"ipvs\"\n";
        assert_eq!(
            mode(
                "/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf",
                Some(conf)
            ),
            (
                Some(Ipvs),
                "mode: \"ipvs\" in /var/lib/kube-proxy/config.conf".into()
            )
        );
        assert_eq!(
            mode(
                "kube-proxy --config /c",
                Some("kind: KubeProxyConfiguration\nmode: \"\"\n")
            )
            .0,
            Some(Iptables)
        );
        assert_eq!(
            mode(
                "kube-proxy --config /c",
                Some("{\"kind\": \"KubeProxyConfiguration\", \"mode\": \"nftables\"}")
            )
            .0,
            Some(Nftables)
        );
        // Unreadable config, contradicting sources, unknown modes: unknown.
        let (m, how) = mode("kube-proxy --config=/c", None);
        assert_eq!(m, None);
        assert!(how.contains("/c cannot be read"), "{how}");
        let (m, how) = mode(
            "kube-proxy --proxy-mode=iptables --config=/c",
            Some("mode: ipvs\n"),
        );
        assert_eq!(m, None, "{how}");
        assert_eq!(
            mode(
                "kube-proxy --proxy-mode=ipvs --config=/c",
                Some("mode: ipvs\n")
            )
            .0,
            Some(Ipvs)
        );
        assert_eq!(mode("kube-proxy --proxy-mode=userspace", None).0, None);
    }

    #[test]
    fn knows_kube_proxy_by_name() {
        assert!(is_kube_proxy(
            "kube-proxy",
            &args("/usr/local/bin/kube-proxy --v=2")
        ));
        assert!(is_kube_proxy("exe", &args("/usr/local/bin/kube-proxy")));
        assert!(!is_kube_proxy("kube-proxy", &args("kube-proxy --cleanup")));
        assert!(!is_kube_proxy("kube-proxy", &[]));
        assert!(!is_kube_proxy("bash", &args("bash -c kube-proxy")));
    }

    #[test]
    fn reads_kube_proxy_s_answer() {
        let ok = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n\r\nipvs";
        assert_eq!(proxy_mode_reply(ok), Some(ProxyMode::Ipvs));
        for not in [
            "HTTP/1.0 404 Not Found\r\n\r\nipvs",
            "HTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r\n<html>ipvs</html>",
            "SSH-2.0-OpenSSH_9.2\r\n",
            "",
        ] {
            assert_eq!(proxy_mode_reply(not), None, "{not:?}");
        }
    }

    #[test]
    fn nothing_answers_in_an_empty_namespace() {
        if !kipvs_testutil::private_netns() {
            return;
        }
        let addr = METRICS_ADDR.parse().unwrap();
        assert_eq!(ask(&NetNs::Current, addr).unwrap(), None);
    }

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

    #[test]
    fn sees_itself_not_as_kube_proxy() {
        // This test binary is no kube-proxy; the scan runs and finds none
        // in this namespace unless one really runs here.
        let found = processes(&NetNs::Current).unwrap();
        assert!(found.iter().all(|p| p.pid != std::process::id()));
    }
}
