//! The planner on realistic `iptables-save` dumps of kube-proxy nodes
//! (`tests/fixtures/cleanup/`, built by `src/gen.py` there): for every node
//! and every clean-up, the dump after the plan and the plan's diff must be
//! exactly the expected fixture text, byte for byte.
//!
//! `KIPVS_BLESS=1 cargo test -p kipvs-cleanup --test fixtures` rewrites the
//! expected files; review their diff before committing.

use std::{fs, path::PathBuf};

use kipvs_cleanup::{
    kube::{self, ChainClass, Mode, Origin},
    plan::{self, Plan},
    save::Ruleset,
};

const NODES: [&str; 4] = [
    "iptables-mode.v4",
    "ipvs-mode.v4",
    "mid-switch.v4",
    "mid-switch.v6",
];
const CLEANUPS: [(&str, &[Mode]); 3] = [
    ("iptables-mode", &[Mode::Iptables]),
    ("ipvs-mode", &[Mode::Ipvs]),
    ("all", &[Mode::Iptables, Mode::Ipvs]),
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cleanup")
}

fn read(name: &str) -> String {
    fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check(name: &str, actual: &str) {
    if std::env::var_os("KIPVS_BLESS").is_some() {
        fs::write(dir().join(name), actual).unwrap();
        return;
    }
    kipvs_testutil::assert_same(name, &read(name), actual);
}

fn node(name: &str) -> Ruleset {
    let text = read(name);
    let rs = Ruleset::parse(&text).unwrap();
    assert_eq!(rs.to_string(), text, "{name} does not round-trip");
    rs
}

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    for entry in fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if name.contains(".v4") || name.contains(".v6") {
            if name.ends_with(".diff") {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            assert_eq!(Ruleset::parse(&text).unwrap().to_string(), text, "{name}");
        }
    }
}

#[test]
fn after_each_cleanup_is_the_expected_text() {
    for n in NODES {
        for (what, modes) in CLEANUPS {
            let plan = Plan::new(node(n), modes);
            check(&format!("{n}.after-{what}"), &plan.after().to_string());
            let label = if n.ends_with(".v6") {
                "ip6tables-legacy"
            } else {
                "iptables-legacy"
            };
            check(&format!("{n}.plan-{what}.diff"), &plan.diff(label));
        }
    }
}

/// Everything that is not kube-proxy's stays, line for line, in order.
#[test]
fn nothing_foreign_is_touched() {
    for n in NODES {
        let before = node(n);
        for (what, modes) in CLEANUPS {
            let after = Plan::new(before.clone(), modes).after();
            for t in before.tables() {
                let foreign = |rs: &Ruleset| -> Vec<String> {
                    let Some(t) = rs.table(&t.name) else {
                        return vec![];
                    };
                    let mut lines: Vec<String> = t
                        .chains()
                        .filter(|c| kube::chain_class(&t.name, &c.name).is_none())
                        .map(|c| c.text().to_owned())
                        .collect();
                    lines.extend(t.rules().filter_map(|(_, r)| {
                        let class = kube::chain_class(&t.name, &r.chain);
                        (kube::origin(&t.name, r, class) == Origin::Foreign)
                            .then(|| r.text().to_owned())
                    }));
                    lines
                };
                assert_eq!(foreign(&before), foreign(&after), "{n} {what} {}", t.name);
            }
        }
    }
}

/// After a clean-up: no chain a rule jumps to is missing, no rule of the
/// cleaned mode is left, and planning again finds nothing to do.
#[test]
fn the_result_is_consistent_and_final() {
    for n in NODES {
        for (what, modes) in CLEANUPS {
            let after = Plan::new(node(n), modes).after();
            for t in after.tables() {
                for (_, r) in t.rules() {
                    if let Some(target) = r.target() {
                        if target.starts_with("KUBE-") || t.chain(target).is_some() {
                            assert!(
                                t.chain(target).is_some(),
                                "{n} {what}: dangling {}",
                                r.text()
                            );
                        }
                    }
                }
            }
            for m in modes.iter() {
                assert!(!plan::mode_present(&after, *m), "{n} {what}: {m:?} left");
            }
            assert!(
                Plan::new(after.clone(), modes).is_empty(),
                "{n} {what}: second run not empty"
            );
        }
    }
}

/// What the brief of each node says must go and stay.
#[test]
fn mid_switch_to_ipvs_keeps_ipvs_and_drops_iptables_mode() {
    let plan = Plan::new(node("mid-switch.v4"), &[Mode::Iptables]);
    let after = plan.after();
    let nat = after.table("nat").unwrap();
    let filter = after.table("filter").unwrap();
    for c in [
        "KUBE-SERVICES",
        "KUBE-POSTROUTING",
        "KUBE-MARK-MASQ",
        "KUBE-NODE-PORT",
        "KUBE-LOAD-BALANCER",
    ] {
        assert!(nat.chain(c).is_some(), "nat {c}");
    }
    for c in [
        "KUBE-FORWARD",
        "KUBE-PROXY-FIREWALL",
        "KUBE-IPVS-FILTER",
        "KUBE-FIREWALL",
        "KUBE-KUBELET-CANARY",
        "DOCKER-USER",
        "SSH-LIMIT",
    ] {
        assert!(filter.chain(c).is_some(), "filter {c}");
    }
    for c in [
        "KUBE-NODEPORTS",
        "KUBE-PROXY-CANARY",
        "KUBE-SVC-NPX46M4PTMTKRN6Y",
        "KUBE-SEP-ZXMNUKOKXUTL2MK2",
    ] {
        assert!(nat.chain(c).is_none(), "nat {c}");
    }
    for c in ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS"] {
        assert!(filter.chain(c).is_none(), "filter {c}");
    }
    // Shared chains lose exactly the iptables-mode rules.
    let fw: Vec<_> = filter
        .rules()
        .filter(|(_, r)| r.chain == "KUBE-PROXY-FIREWALL")
        .collect();
    assert_eq!(fw.len(), 1);
    assert!(fw[0].1.has("--match-set"));
    assert!(!filter
        .rules()
        .any(|(_, r)| r.option("--ctstate") == Some("INVALID")));
    // The sets the IPVS rules use are still in use; none is released.
    assert!(plan.sets_released.is_empty(), "{:?}", plan.sets_released);
    assert!(plan.sets_in_use.contains("KUBE-CLUSTER-IP"));
    assert!(plan.sets_in_use.contains("WEB-ALLOWLIST"));
}

#[test]
fn ipvs_cleanup_releases_the_kube_sets_only() {
    let plan = Plan::new(node("ipvs-mode.v4"), &[Mode::Ipvs]);
    assert!(plan.sets_released.contains("KUBE-CLUSTER-IP"));
    assert!(plan.sets_released.contains("KUBE-LOOP-BACK"));
    assert!(!plan.sets_released.contains("WEB-ALLOWLIST"));
    assert_eq!(
        plan.sets_in_use.iter().collect::<Vec<_>>(),
        ["WEB-ALLOWLIST"]
    );
    // Nothing of IPVS mode is left, and with no other mode live the shared
    // chains and the jumps into them go too.
    let after = plan.after();
    assert!(!after.tables().any(|t| t
        .chains()
        .any(|c| kube::chain_class(&t.name, &c.name).is_some())));
}

#[test]
fn restore_scripts_delete_by_spec_then_flush_and_delete_chains() {
    let plan = Plan::new(node("mid-switch.v4"), &[Mode::Iptables]);
    let scripts: Vec<String> = plan
        .restore_scripts()
        .iter()
        .map(|t| t.to_string())
        .collect();
    let filter = scripts.iter().find(|s| s.starts_with("*filter\n")).unwrap();
    assert!(filter.contains(
        "\n-D INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n"
    ));
    assert!(filter.contains("\n-D KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"));
    assert!(filter.ends_with("-F KUBE-SERVICES\n-X KUBE-EXTERNAL-SERVICES\n-X KUBE-NODEPORTS\n-X KUBE-PROXY-CANARY\n-X KUBE-SERVICES\nCOMMIT\n"), "{filter}");
    // Every -D comes before the first -F, every -F before the first -X.
    for s in &scripts {
        let first = |p: &str| s.lines().position(|l| l.starts_with(p));
        let last = |p: &str| {
            s.lines()
                .collect::<Vec<_>>()
                .iter()
                .rposition(|l| l.starts_with(p))
        };
        if let (Some(d), Some(f)) = (last("-D "), first("-F ")) {
            assert!(d < f);
        }
        if let (Some(f), Some(x)) = (last("-F "), first("-X ")) {
            assert!(f < x);
        }
    }
    // Parsed back by our own parser, the scripts are restore input.
    for s in &scripts {
        assert_eq!(Ruleset::parse(s).unwrap().to_string(), *s);
    }
    let _ = ChainClass::Shared;
}

/// Each table's plan is exactly what GNU `diff -U3` prints for the table's
/// text before and after (headers aside), so the plan reads like, and
/// applies like, any patch.
#[test]
fn plans_are_the_same_hunks_as_gnu_diff() {
    if !std::path::Path::new("/usr/bin/diff").exists() {
        eprintln!("skipped: no /usr/bin/diff");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("kipvs-diff-{}", std::process::id()));
    fs::create_dir_all(&tmp).unwrap();
    for n in NODES {
        for (what, modes) in CLEANUPS {
            let plan = Plan::new(node(n), modes);
            let after = plan.after();
            for t in plan.before().tables() {
                let (a, b) = (tmp.join("before"), tmp.join("after"));
                fs::write(&a, t.to_string()).unwrap();
                let after_table = after
                    .table(&t.name)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                fs::write(&b, after_table).unwrap();
                let out = std::process::Command::new("diff")
                    .args(["-U3", a.to_str().unwrap(), b.to_str().unwrap()])
                    .output()
                    .unwrap();
                let gnu = String::from_utf8(out.stdout).unwrap();
                let gnu: String = gnu.split_inclusive('\n').skip(2).collect();
                let ours = plan.diff("x");
                let ours: String = ours
                    .split("--- ")
                    .find(|s| s.starts_with(&format!("x table {} ", t.name)))
                    .map(|s| s.split_inclusive('\n').skip(2).collect())
                    .unwrap_or_default();
                assert_eq!(ours, gnu, "{n} {what} {}", t.name);
            }
        }
    }
    fs::remove_dir_all(&tmp).unwrap();
}
