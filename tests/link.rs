//! `kipvs link` and `kipvs addr` against `ip`, in private namespaces. The
//! host kernel has no dummy driver: address tests use a veth (one named
//! kube-ipvs0 where the default device matters); dummy tests run in the VM.

use kipvs_testutil::{assert_same, private_netns, require_link_kind, sh};

use crate::util::{kipvs, OtherNetns};

/// `ip -o addr show dev DEV` as `ADDR/PREFIX` lines, IPv4 first, sorted.
fn ip_addresses(dev: &str) -> String {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for line in sh(&format!("ip -o addr show dev {dev}")).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (ip, prefix) = f[3].split_once('/').unwrap();
        let ip: std::net::IpAddr = ip.parse().unwrap();
        let entry = (ip, prefix.parse::<u8>().unwrap());
        if ip.is_ipv4() {
            v4.push(entry)
        } else {
            v6.push(entry)
        }
    }
    v4.sort();
    v6.sort();
    v4.iter()
        .chain(&v6)
        .map(|(ip, p)| format!("{ip}/{p}\n"))
        .collect()
}

/// The interface index of `dev`, as `ip` shows it. (Not from /sys: sysfs
/// shows the namespace it was mounted in, not this thread's.)
fn ifindex(dev: &str) -> String {
    sh(&format!("ip -o link show {dev}"))
        .split(':')
        .next()
        .unwrap()
        .to_string()
}

/// A veth named kube-ipvs0, the default device, standing in for the dummy.
fn stand_in() {
    sh("ip link add kube-ipvs0 type veth peer name kube-peer");
}

#[track_caller]
fn ok(args: &[&str], stdin: &str) -> String {
    let out = kipvs(args, stdin);
    assert_eq!(
        out.code, 0,
        "kipvs {args:?} failed:\n{}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

#[test]
fn addr_sync_from_empty_with_churn_and_to_empty() {
    if !private_netns() {
        return;
    }
    stand_in();
    let out = ok(&["addr", "sync", "10.96.0.2", "10.96.0.1", "fd00::1"], "");
    assert_same(
        "sync from empty",
        "added 10.96.0.1/32\nadded 10.96.0.2/32\nadded fd00::1/128\n\
         kube-ipvs0: 3 added, 0 removed, 0 kept, 0 elsewhere\n",
        &out,
    );
    assert_same(
        "ip",
        "10.96.0.1/32\n10.96.0.2/32\nfd00::1/128\n",
        &ip_addresses("kube-ipvs0"),
    );
    assert_same(
        "addr list",
        &ip_addresses("kube-ipvs0"),
        &ok(&["addr", "list"], ""),
    );

    // Churn, the desired set on standard input.
    let out = ok(
        &["addr", "sync", "--file", "-"],
        "# services\n10.96.0.1\n\n10.96.0.3/32  # new\nfd00::2\n",
    );
    assert_same(
        "sync with churn",
        "removed 10.96.0.2/32\nremoved fd00::1/128\nadded 10.96.0.3/32\nadded fd00::2/128\n\
         kube-ipvs0: 2 added, 2 removed, 1 kept, 0 elsewhere\n",
        &out,
    );
    assert_same(
        "ip",
        "10.96.0.1/32\n10.96.0.3/32\nfd00::2/128\n",
        &ip_addresses("kube-ipvs0"),
    );

    // Again: nothing to do.
    let out = ok(
        &["addr", "sync", "-q", "10.96.0.1", "10.96.0.3", "fd00::2"],
        "",
    );
    assert_same(
        "no-op sync",
        "kube-ipvs0: 0 added, 0 removed, 3 kept, 0 elsewhere\n",
        &out,
    );

    let out = ok(&["addr", "sync", "--file", "/dev/null"], "");
    assert_same(
        "sync to empty",
        "removed 10.96.0.1/32\nremoved 10.96.0.3/32\nremoved fd00::2/128\n\
         kube-ipvs0: 0 added, 3 removed, 0 kept, 0 elsewhere\n",
        &out,
    );
    assert_same("ip", "", &ip_addresses("kube-ipvs0"));
}

#[test]
fn addr_add_del_and_json_listings() {
    if !private_netns() {
        return;
    }
    sh("ip link add v0 type veth peer name v1");
    let out = ok(
        &[
            "addr",
            "add",
            "--dev",
            "v0",
            "10.0.0.1",
            "2001:db8::1",
            "192.168.0.1/24",
        ],
        "",
    );
    assert_same(
        "add",
        "added 10.0.0.1/32\nadded 2001:db8::1/128\nadded 192.168.0.1/24\n",
        &out,
    );
    let out = ok(&["addr", "add", "--dev", "v0", "10.0.0.1"], "");
    assert_same("add again", "10.0.0.1/32 is bound to v0 already\n", &out);
    assert_same(
        "ip",
        "10.0.0.1/32\n192.168.0.1/24\n2001:db8::1/128\n",
        &ip_addresses("v0"),
    );

    let json: serde_json::Value =
        serde_json::from_str(&ok(&["--json", "addr", "list", "--dev", "v0"], "")).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"ip": "10.0.0.1", "prefix_len": 32},
            {"ip": "192.168.0.1", "prefix_len": 24},
            {"ip": "2001:db8::1", "prefix_len": 128},
        ])
    );

    let out = ok(
        &[
            "addr",
            "del",
            "--dev",
            "v0",
            "10.0.0.1",
            "2001:db8::1",
            "10.0.0.9",
        ],
        "",
    );
    assert_same(
        "del",
        "removed 10.0.0.1/32\nremoved 2001:db8::1/128\n10.0.0.9/32 is not bound to v0\n",
        &out,
    );
    assert_same("ip", "192.168.0.1/24\n", &ip_addresses("v0"));

    sh("ip link set v0 mtu 1400");
    let index = ifindex("v0");
    assert_same(
        "link show",
        &format!("{}: v0: veth, down, mtu 1400\n", index.trim()),
        &ok(&["link", "show", "v0"], ""),
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["link", "show", "v0", "--json"], "")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "index": index.trim().parse::<u32>().unwrap(),
            "name": "v0", "kind": "veth", "up": false, "mtu": 1400
        })
    );
}

#[test]
fn addr_sync_reports_addresses_of_other_interfaces() {
    if !private_netns() {
        return;
    }
    stand_in();
    sh("ip addr add 192.168.1.10/24 dev kube-peer");
    let out = ok(&["addr", "sync", "192.168.1.10", "10.96.0.1"], "");
    assert_same(
        "sync",
        "added 10.96.0.1/32\nnot bound 192.168.1.10/32: kube-peer holds it\n\
         kube-ipvs0: 1 added, 0 removed, 0 kept, 1 elsewhere\n",
        &out,
    );
    assert_same("ip", "10.96.0.1/32\n", &ip_addresses("kube-ipvs0"));
    let json: serde_json::Value = serde_json::from_str(&ok(
        &["--json", "addr", "sync", "192.168.1.10", "10.96.0.1"],
        "",
    ))
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "added": [], "removed": [], "failed": [],
            "kept": [{"ip": "10.96.0.1", "prefix_len": 32}],
            "elsewhere": [{
                "address": {"ip": "192.168.1.10", "prefix_len": 32},
                "index": ifindex("kube-peer").trim().parse::<u32>().unwrap(),
                "link": "kube-peer",
            }],
        })
    );
}

#[test]
fn refused_changes_fail_the_sync_and_the_rest_is_done() {
    if !private_netns() {
        return;
    }
    stand_in();
    sh("echo 1 > /proc/sys/net/ipv6/conf/kube-ipvs0/disable_ipv6");
    let out = kipvs(&["addr", "sync", "10.96.0.1", "fd00::1"], "");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .starts_with("kipvs: failed to add fd00::1/128: adding fd00::1/128 to kube-ipvs0: "),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .ends_with("1 added, 0 removed, 0 kept, 0 elsewhere, 1 failed\n"),
        "{}",
        out.stdout
    );
    assert_same("ip", "10.96.0.1/32\n", &ip_addresses("kube-ipvs0"));
}

#[test]
fn bad_input_names_the_value_and_changes_nothing() {
    if !private_netns() {
        return;
    }
    stand_in();
    ok(&["addr", "add", "10.0.0.1"], "");
    for (args, stdin, code, needle) in [
        (
            &["addr", "add", "10.0.0.256"][..],
            "",
            2,
            "invalid address \"10.0.0.256\"",
        ),
        (
            &["addr", "sync", "10.0.0.1/33"],
            "",
            2,
            "prefix length 33 is over 32 for IPv4",
        ),
        (
            &["addr", "sync", "10.0.0.2", "224.0.0.1"],
            "",
            1,
            "invalid address \"224.0.0.1/32\"",
        ),
        (
            &["addr", "sync", "-f", "-"],
            "10.0.0.2\nnope\n",
            1,
            "-:2: invalid address \"nope\"",
        ),
        (&["addr", "sync"], "", 2, "required"),
        (
            &["addr", "list", "--dev", "this-is-too-long0"],
            "",
            2,
            "17 bytes long",
        ),
        (
            &["addr", "list", "--dev", "nosuch0"],
            "",
            1,
            "link nosuch0: no such link (errno 19)",
        ),
        (
            &["link", "show", "nosuch0"],
            "",
            1,
            "link nosuch0 does not exist",
        ),
    ] {
        let out = kipvs(args, stdin);
        assert_eq!(out.code, code, "{args:?}: {out:?}");
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
        assert_same("ip", "10.0.0.1/32\n", &ip_addresses("kube-ipvs0"));
    }
}

#[test]
fn link_of_the_wrong_kind_is_refused() {
    if !private_netns() {
        return;
    }
    stand_in();
    for args in [&["link", "ensure"][..], &["link", "delete", "kube-ipvs0"]] {
        let out = kipvs(args, "");
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr.contains("kube-ipvs0") && out.stderr.contains("veth"),
            "{}",
            out.stderr
        );
    }
    assert!(sh("ip -o link show kube-ipvs0").contains("kube-ipvs0@kube-peer"));
}

#[test]
fn link_ensure_show_delete_a_dummy() {
    if !private_netns() || !require_link_kind("dummy") {
        return;
    }
    assert_same(
        "ensure",
        "created dummy link kube-ipvs0\n",
        &ok(&["link", "ensure"], ""),
    );
    assert_same(
        "again",
        "dummy link kube-ipvs0 exists\n",
        &ok(&["link", "ensure"], ""),
    );
    let shown = sh("ip -d -o link show kube-ipvs0");
    assert!(
        shown.contains("<BROADCAST,NOARP>") && shown.contains(" dummy "),
        "{shown}"
    );
    let index = ifindex("kube-ipvs0");
    assert_same(
        "show",
        &format!("{}: kube-ipvs0: dummy, down, mtu 1500\n", index.trim()),
        &ok(&["link", "show"], ""),
    );
    ok(&["addr", "sync", "10.96.0.10", "fd00::10"], "");
    let shown = sh("ip -o addr show dev kube-ipvs0");
    assert!(!shown.contains("tentative"), "{shown}");
    assert_same(
        "ip",
        "10.96.0.10/32\nfd00::10/128\n",
        &ip_addresses("kube-ipvs0"),
    );
    assert_same(
        "delete",
        "deleted dummy link kube-ipvs0\n",
        &ok(&["link", "delete"], ""),
    );
    assert_same(
        "again",
        "no link kube-ipvs0\n",
        &ok(&["link", "delete"], ""),
    );
}

#[test]
fn netns_flag_reaches_another_namespace() {
    if !private_netns() {
        return;
    }
    let other = OtherNetns::start("ip link add far0 type veth peer name far1");
    let pid = other.pid();
    let out = ok(
        &["--netns", &pid, "addr", "sync", "--dev", "far0", "10.9.9.9"],
        "",
    );
    assert!(out.starts_with("added 10.9.9.9/32\n"), "{out}");
    let listed = ok(&["addr", "list", "--dev", "far0", "--netns", &pid], "");
    // Not here.
    let here = kipvs(&["addr", "list", "--dev", "far0"], "");
    assert_same("listed there", "10.9.9.9/32\n", &listed);
    assert_eq!(here.code, 1, "{here:?}");
}
