//! `kipvs dump`, `kipvs plan` and `kipvs apply` against the real tools.
//! Documents with ipsets only run on the host (in a private namespace);
//! those with services or kube-ipvs0 need the test VM.

use std::{fs, path::PathBuf, time::Duration};

use kipvs::sync::Lock;
use kipvs_testutil::{
    assert_same, private_netns, require_ipvs, require_link_kind, require_tool, sh,
};

use crate::util::kipvs;

/// A scratch file for this test.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kipvs-sync-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn lock_file(name: &str) -> String {
    scratch(name, "").to_string_lossy().into_owned()
}

const SETS: &str = r#"{
  "version": 1,
  "ipsets": [
    {"name": "KUBE-CLUSTER-IP", "type": "hash:ip,port",
     "options": {"family": "inet", "hashsize": 1024, "maxelem": 65536},
     "entries": ["10.96.0.1,tcp:443", "10.96.0.10,udp:53"]},
    {"name": "KUBE-NODE-PORT-TCP", "type": "bitmap:port", "options": {"range": "0-65535"},
     "entries": ["30080"]}
  ],
  "scope": {"set_prefixes": ["KUBE-"]}
}"#;

#[test]
fn plan_exit_status_tells_whether_changes_are_pending() {
    if !private_netns() || !require_tool("ipset") {
        return;
    }
    let file = scratch("plan-sets.json", SETS);
    let f = file.to_str().unwrap();
    let lock = lock_file("plan.lock");
    let out = kipvs(&["plan", "-f", f], "");
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("create-set"), "{}", out.stdout);
    // plan changed nothing.
    assert_eq!(sh("ipset list -n"), "");
    let out = kipvs(&["--json", "plan", "-f", f], "");
    assert_eq!(out.code, 2);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["pending"], true);
    assert_eq!(v["changes"].as_array().unwrap().len(), 4);

    let out = kipvs(&["apply", "--lock", &lock, "-f", f], "");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_same(
        "ipset save (sorted: hash order depends on the seed)",
        &sorted(
            "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12\n\
             add KUBE-CLUSTER-IP 10.96.0.10,udp:53\n\
             add KUBE-CLUSTER-IP 10.96.0.1,tcp:443\n\
             create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\n\
             add KUBE-NODE-PORT-TCP 30080\n",
        ),
        &sorted(&without_initval(&sh("ipset save"))),
    );
    let out = kipvs(&["plan", "-f", f], "");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("No changes"));
    // A no-change apply writes nothing.
    let out = kipvs(&["--json", "apply", "--lock", &lock, "-f", f], "");
    assert_eq!(out.code, 0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["applied"].as_array().unwrap().len(), 0);
}

/// Lines sorted: the kernel lists services in hash order.
fn sorted(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn without_initval(save: &str) -> String {
    save.lines()
        .map(|l| match l.find(" initval ") {
            Some(i) => l[..i].to_owned(),
            None => l.to_owned(),
        })
        .fold(String::new(), |s, l| s + &l + "\n")
}

#[test]
fn prune_removes_only_owned_sets() {
    if !private_netns() || !require_tool("ipset") {
        return;
    }
    sh(
        "ipset create f2b-sshd hash:ip && ipset create KUBE-STALE hash:ip \
        && ipset add f2b-sshd 192.0.2.7",
    );
    let file = scratch("prune-sets.json", SETS);
    let f = file.to_str().unwrap();
    let lock = lock_file("prune.lock");
    let out = kipvs(&["apply", "--lock", &lock, "-f", f], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(sh("ipset list -n").contains("KUBE-STALE"));
    // --prune without a scope refuses.
    let bare = scratch("bare.json", r#"{"ipsets": []}"#);
    let out = kipvs(
        &[
            "apply",
            "--lock",
            &lock,
            "--prune",
            "-f",
            bare.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("--prune needs a scope"),
        "{}",
        out.stderr
    );
    let out = kipvs(&["apply", "--lock", &lock, "--prune", "-f", f], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut names: Vec<String> = sh("ipset list -n").lines().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, ["KUBE-CLUSTER-IP", "KUBE-NODE-PORT-TCP", "f2b-sshd"]);
    assert!(sh("ipset list f2b-sshd").contains("192.0.2.7"));
}

#[test]
fn invalid_documents_name_the_bad_value_and_change_nothing() {
    let doc = r#"{"services": [
        {"protocol": "tcp", "addr": "10.96.0.1", "port": 80, "scheduler": "rr"},
        {"protocol": "tcp", "addr": "10.96.0.2", "port": 80, "scheduler": "fastest",
         "destinations": [{"addr": "10.0.0.1", "port": 80}, {"addr": "10.0.0.x", "port": 80}]}
      ],
      "addresses": {"addresses": ["10.96.0.1/33"]}}"#;
    let file = scratch("invalid.json", doc);
    let out = kipvs(&["apply", "-f", file.to_str().unwrap()], "");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("invalid state, nothing changed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "services[1].destinations[1].addr: \"10.0.0.x\" is not an IPv4 or IPv6 address"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("addresses.addresses[0]: "),
        "{}",
        out.stderr
    );
    // Reported before the lock or the kernel is touched: no lock needed.
    let out = kipvs(&["plan", "-f", "-"], "{\"services\": 3}");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("services: expected an array"),
        "{}",
        out.stderr
    );
    // Semantic checks too, with their paths.
    let out = kipvs(
        &["plan", "-f", "-"],
        r#"{"services": [{"protocol": "tcp", "addr": "10.96.0.1", "port": 80, "scheduler": "fastest"}]}"#,
    );
    assert!(
        out.stderr
            .contains("services[0].scheduler: unknown scheduler \"fastest\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_second_apply_waits_for_the_lock() {
    if !private_netns() || !require_tool("ipset") {
        return;
    }
    let lock = lock_file("contended.lock");
    let held = Lock::acquire(&lock, Duration::ZERO).unwrap();
    let file = scratch("lock-sets.json", SETS);
    let out = kipvs(
        &[
            "apply",
            "--lock",
            &lock,
            "--wait",
            "0.2",
            "-f",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("holds the lock"), "{}", out.stderr);
    assert_eq!(sh("ipset list -n"), "", "nothing changed while locked");
    drop(held);
    let out = kipvs(
        &[
            "apply",
            "--lock",
            &lock,
            "--wait",
            "0.2",
            "-f",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn dump_apply_dump_round_trips_through_the_cli() {
    if !private_netns() || !require_ipvs() || !require_link_kind("dummy") {
        return;
    }
    sh("ip link set lo up \
        && ipvsadm -A -t 10.96.0.1:443 -s rr && ipvsadm -a -t 10.96.0.1:443 -r 10.244.1.1:6443 -m -w 1 \
        && ipvsadm -a -t 10.96.0.1:443 -r 10.244.1.2:6443 -m -w 1 \
        && ipvsadm -A -u 10.96.0.10:53 -s rr -p 30 && ipvsadm -a -u 10.96.0.10:53 -r 10.244.2.1:53 -m -w 1 \
        && ipset create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 \
        && ipset add KUBE-CLUSTER-IP 10.96.0.1,tcp:443 && ipset add KUBE-CLUSTER-IP 10.96.0.10,udp:53 \
        && ip link add kube-ipvs0 type dummy && ip addr add 10.96.0.1/32 dev kube-ipvs0 \
        && ip addr add 10.96.0.10/32 dev kube-ipvs0");
    let first = kipvs(&["dump"], "");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let ipvs_before = sorted(&sh("ipvsadm -Sn"));
    let file = scratch("round-trip.json", &first.stdout);
    let lock = lock_file("round-trip.lock");
    let (second, ipvs_after) = std::thread::spawn(move || {
        assert!(private_netns());
        sh("ip link set lo up");
        let out = kipvs(
            &["apply", "--lock", &lock, "-f", file.to_str().unwrap()],
            "",
        );
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let plan = kipvs(&["plan", "-f", file.to_str().unwrap()], "");
        assert_eq!(plan.code, 0, "{}", plan.stdout);
        (kipvs(&["dump"], "").stdout, sorted(&sh("ipvsadm -Sn")))
    })
    .join()
    .unwrap();
    assert_same(
        "kipvs dump after apply on an empty node",
        &first.stdout,
        &second,
    );
    assert_same("ipvsadm -Sn", &ipvs_before, &ipvs_after);
}

#[test]
fn apply_prunes_services_and_addresses_inside_the_scope_only() {
    if !private_netns() || !require_ipvs() || !require_link_kind("dummy") {
        return;
    }
    sh("ip link set lo up \
        && ipvsadm -A -t 192.168.1.100:80 -s wlc && ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.10:80 -g \
        && ipvsadm -A -t 10.96.0.99:80 -s rr \
        && ip link add kube-ipvs0 type dummy && ip addr add 10.96.0.99/32 dev kube-ipvs0 \
        && ip addr add 192.168.5.5/32 dev kube-ipvs0");
    let doc = r#"{
      "services": [{"protocol": "tcp", "addr": "10.96.0.1", "port": 80, "scheduler": "rr",
                    "destinations": [{"addr": "10.244.1.1", "port": 80}]}],
      "addresses": {"interface": "kube-ipvs0", "addresses": ["10.96.0.1"]}
    }"#;
    let file = scratch("prune-services.json", doc);
    let f = file.to_str().unwrap();
    let lock = lock_file("prune-services.lock");
    let out = kipvs(
        &["plan", "--prune", "--own-cidr", "10.96.0.0/12", "-f", f],
        "",
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("delete-service"), "{}", out.stdout);
    let out = kipvs(
        &[
            "apply",
            "--lock",
            &lock,
            "--prune",
            "--own-cidr",
            "10.96.0.0/12",
            "-f",
            f,
        ],
        "",
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let mut save: Vec<String> = sh("ipvsadm -Sn").lines().map(str::to_owned).collect();
    save.sort();
    assert_eq!(
        save,
        [
            "-A -t 10.96.0.1:80 -s rr",
            "-A -t 192.168.1.100:80 -s wlc",
            "-a -t 10.96.0.1:80 -r 10.244.1.1:80 -m -w 1",
            "-a -t 192.168.1.100:80 -r 192.168.1.10:80 -g -w 1",
        ]
    );
    let addrs = sh("ip -o addr show dev kube-ipvs0");
    assert!(
        addrs.contains("10.96.0.1/32") && addrs.contains("192.168.5.5/32"),
        "{addrs}"
    );
    assert!(!addrs.contains("10.96.0.99"), "{addrs}");
}
