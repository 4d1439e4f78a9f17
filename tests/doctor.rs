//! `kipvs doctor` against a real node's state, in private namespaces.

use kipvs_testutil::{private_netns, require_ipvs, require_link_kind, sh};
use serde_json::Value;

use crate::util::{kipvs, FakeKubeProxy};

fn checks() -> (Vec<Value>, i32) {
    let out = kipvs(&["doctor", "--json"], "");
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json is not JSON ({e}): {}{}",
            out.stdout, out.stderr
        )
    });
    (v.as_array().expect("a list of checks").clone(), out.code)
}

fn status<'a>(checks: &'a [Value], name: &str) -> &'a str {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:?}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn doctor_without_ipvs_fails_and_says_what_to_load() {
    if !private_netns() {
        return;
    }
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        // This kernel has IPVS: the other tests cover it.
        return;
    }
    let out = kipvs(&["doctor"], "");
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out
        .stdout
        .contains("IPVS is not available: load the ip_vs module"));
    assert!(out.stdout.contains("fix: modprobe ip_vs"));
}

#[test]
fn doctor_reports_sysctls_and_the_fix() {
    if !private_netns() || !require_ipvs() {
        return;
    }
    // A fresh namespace forwards nothing: IPVS mode cannot masquerade.
    sh("sysctl -qw net.ipv4.ip_forward=0");
    let (c, code) = checks();
    assert_eq!(status(&c, "IPVS"), "ok");
    assert_eq!(status(&c, "net.ipv4.ip_forward"), "fail");
    assert_eq!(code, 1);
    let fix = c
        .iter()
        .find(|c| c["name"] == "net.ipv4.ip_forward")
        .unwrap()["fix"]
        .clone();
    assert_eq!(fix, "sysctl -w net.ipv4.ip_forward=1");

    for (k, v) in [
        ("net.ipv4.ip_forward", "1"),
        ("net.ipv4.vs.conntrack", "1"),
        ("net.ipv4.vs.expire_nodest_conn", "1"),
        ("net.ipv4.vs.expire_quiescent_template", "1"),
    ] {
        sh(&format!("sysctl -qw {k}={v}"));
    }
    let (c, code) = checks();
    for k in [
        "net.ipv4.ip_forward",
        "net.ipv4.vs.conntrack",
        "net.ipv4.vs.expire_nodest_conn",
        "net.ipv4.vs.expire_quiescent_template",
    ] {
        assert_eq!(status(&c, k), "ok", "{k}");
    }
    assert_eq!(code, 0, "{c:?}");
}

#[test]
fn doctor_reports_kube_ipvs0() {
    if !private_netns() || !require_ipvs() || !require_link_kind("dummy") {
        return;
    }
    let (c, _) = checks();
    assert_eq!(status(&c, "kube-ipvs0"), "info"); // absent
    sh("ip link add kube-ipvs0 type dummy && ip addr add 10.96.0.1/32 dev kube-ipvs0 && ip addr add 10.96.0.10/32 dev kube-ipvs0");
    let (c, _) = checks();
    assert_eq!(status(&c, "kube-ipvs0"), "ok");
    let detail = c.iter().find(|c| c["name"] == "kube-ipvs0").unwrap()["detail"].clone();
    assert_eq!(detail, "dummy, DOWN, 2 service addresses");
    sh("ip link set kube-ipvs0 up");
    let (c, _) = checks();
    assert_eq!(status(&c, "kube-ipvs0"), "warn");
    sh("ip link del kube-ipvs0 && ip link add kube-ipvs0 type veth peer name kv1");
    let (c, code) = checks();
    assert_eq!(status(&c, "kube-ipvs0"), "fail");
    assert_eq!(code, 1);
}

#[test]
fn doctor_finds_stale_iptables_mode_state() {
    if !private_netns() || !kipvs_testutil::require_tool("iptables-legacy-restore") {
        return;
    }
    let (c, _) = checks();
    assert_eq!(status(&c, "kube-proxy iptables-mode state"), "ok");
    load_iptables_mode_rules();
    let (c, _) = checks();
    assert_eq!(
        status(&c, "kube-proxy iptables-mode state"),
        "info",
        "{c:?}"
    );
}

/// A Service of iptables mode, as kube-proxy leaves it in the nat table.
fn load_iptables_mode_rules() {
    kipvs_testutil::run(
        "iptables-legacy-restore",
        &[],
        "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]\n\
         -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment \"default/kubernetes:https cluster IP\" -m tcp --dport 443 -j KUBE-SVC-ABCDEFGHIJKLMNOP\n\
         COMMIT\n",
    );
}

/// Two modes' state: with no kube-proxy to ask, both are suspect; with a
/// kube-proxy running in iptables mode, its state is in use and the
/// nftables-mode table beside it is stale.
#[test]
fn doctor_tells_the_live_mode_from_a_stale_one() {
    if !private_netns()
        || !kipvs_testutil::require_tool("iptables-legacy-restore")
        || !kipvs_testutil::require_tool("nft")
    {
        return;
    }
    load_iptables_mode_rules();
    sh("nft add table ip kube-proxy && nft add chain ip kube-proxy services");
    let (c, _) = checks();
    for mode in ["iptables-mode", "nftables-mode"] {
        let name = format!("kube-proxy {mode} state");
        assert_eq!(status(&c, &name), "warn", "{c:?}");
        assert!(
            detail(&c, &name).starts_with("more than one mode's state is present: "),
            "{c:?}"
        );
    }

    let dir = std::env::temp_dir().join(format!("kipvs-doctor-live-{}", std::process::id()));
    let proxy = FakeKubeProxy::start(&dir, &["--proxy-mode=iptables"]);
    let (c, _) = checks();
    let live = "kube-proxy iptables-mode state";
    assert_eq!(status(&c, live), "ok", "{c:?}");
    assert!(detail(&c, live).starts_with("in use: "), "{c:?}");
    let stale = "kube-proxy nftables-mode state";
    assert_eq!(status(&c, stale), "warn", "{c:?}");
    let why = format!(
        "kube-proxy is running in iptables mode (pid {}, --proxy-mode=iptables), so this is stale: ",
        proxy.pid()
    );
    assert!(detail(&c, stale).starts_with(&why), "{c:?}");
    drop(proxy);
    let _ = std::fs::remove_dir_all(&dir);
}

fn detail<'a>(checks: &'a [Value], name: &str) -> &'a str {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .and_then(|c| c["detail"].as_str())
        .unwrap_or_else(|| panic!("no check {name}: {checks:?}"))
}

/// A user without CAP_NET_ADMIN is told to run as root, by the checks and
/// by any native command the kernel refuses, not sent to load a module.
#[test]
fn without_privilege_the_fix_is_to_run_as_root() {
    use std::os::unix::process::CommandExt;
    if !private_netns() {
        return;
    }
    let as_nobody = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kipvs"))
            .args(args)
            .uid(65534)
            .gid(65534)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let (stdout, _, code) = as_nobody(&["doctor", "--json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let checks: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let ipset = checks.iter().find(|c| c["name"] == "ipset").unwrap();
    assert_eq!(ipset["status"], "fail", "{ipset}");
    assert!(
        ipset["fix"].as_str().unwrap().contains("as root"),
        "{ipset}"
    );
    // Nothing could be read, which is not "none".
    for c in &checks {
        if c["name"].as_str().unwrap().ends_with("-mode state") {
            assert_ne!(c["detail"], "none", "{c}");
        }
    }
    let (_, stderr, code) = as_nobody(&["set", "list"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("Operation not permitted") && stderr.contains("run it with sudo"),
        "{stderr}"
    );
}
