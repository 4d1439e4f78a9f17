//! Gathering the evidence at the edge: kube-proxy processes in `/proc`,
//! their mode from flags and config files, and kube-proxy's own answer at
//! `GET /proxyMode`.

use std::{
    fs,
    io::{self, Read, Write},
    net::{SocketAddr, TcpStream},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::Duration,
};

use kipvs_netlink::NetNs;

use super::{Answer, ProxyMode, ProxyProcess};
use crate::Result;

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
    fn sees_itself_not_as_kube_proxy() {
        // This test binary is no kube-proxy; the scan runs and finds none
        // in this namespace unless one really runs here.
        let found = processes(&NetNs::Current).unwrap();
        assert!(found.iter().all(|p| p.pid != std::process::id()));
    }
}
