//! Planner tests: desired against observed, no kernel.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use kipvs_ipset::{CreateOptions, Entry, Family, Set, SetName, SetType};
use kipvs_ipvs::{Destination, ForwardMethod, Protocol, Service, ServiceKey};
use kipvs_link::{Address, IfName};

use crate::{
    plan, Change, Desired, DesiredAddresses, DesiredService, DesiredSet, DrainBook, Observed,
    ObservedAddresses, ObservedService, PlanOptions, Scope,
};

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: addr.parse().unwrap(),
        port,
    }
}

fn udp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: addr.parse().unwrap(),
        port,
    }
}

fn dest(addr: &str) -> Destination {
    Destination::new(addr.parse().unwrap(), 8080).forward(ForwardMethod::Masq)
}

fn svc(key: ServiceKey, dests: &[&str]) -> DesiredService {
    DesiredService {
        service: Service::new(key).scheduler("rr".parse().unwrap()),
        destinations: dests.iter().map(|d| dest(d)).collect(),
    }
}

/// What the kernel would list for `desired` services (HASHED set, counts).
fn observed_of(services: &[DesiredService]) -> Observed {
    let mut map = BTreeMap::new();
    for s in services {
        let mut service = s.service.clone();
        service.flags.0 |= kipvs_ipvs::ServiceFlags::HASHED;
        map.insert(
            s.service.key,
            ObservedService {
                service,
                destinations: s
                    .destinations
                    .iter()
                    .map(|d| ((d.addr, d.port), d.clone()))
                    .collect(),
                fresh: true,
            },
        );
    }
    Observed {
        services: Some(map),
        ..Observed::default()
    }
}

fn run(desired: &Desired, observed: &Observed, options: &PlanOptions) -> Vec<String> {
    let mut book = DrainBook::default();
    plan(desired, observed, options, &mut book, Instant::now())
        .changes
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn services(list: Vec<DesiredService>) -> Desired {
    Desired {
        services: Some(list),
        ..Desired::default()
    }
}

#[test]
fn cold_start_adds_services_then_real_servers() {
    let d = services(vec![svc(
        tcp("10.96.0.1", 443),
        &["10.244.0.1", "10.244.0.2"],
    )]);
    let got = run(&d, &observed_of(&[]), &PlanOptions::default());
    assert_eq!(
        got,
        [
            "add-service TCP 10.96.0.1:443: scheduler rr",
            "add-destination TCP 10.96.0.1:443 -> 10.244.0.1:8080: masq weight 1",
            "add-destination TCP 10.96.0.1:443 -> 10.244.0.2:8080: masq weight 1",
        ]
    );
}

#[test]
fn no_change_plans_nothing() {
    let list = vec![
        svc(tcp("10.96.0.1", 443), &["10.244.0.1", "10.244.0.2"]),
        svc(udp("10.96.0.10", 53), &["10.244.0.3"]),
    ];
    let mut o = observed_of(&list);
    // Live counters and statistics are not differences.
    for s in o.services.as_mut().unwrap().values_mut() {
        for d in s.destinations.values_mut() {
            d.active_conns = 7;
            d.stats.conns = 99;
        }
    }
    let mut book = DrainBook::default();
    let p = plan(
        &services(list),
        &o,
        &PlanOptions::default(),
        &mut book,
        Instant::now(),
    );
    assert!(p.is_empty(), "{:?}", p.changes);
    assert_eq!(p.count(), 0);
}

#[test]
fn settings_are_edited_in_place() {
    let before = vec![svc(tcp("10.96.0.1", 80), &["10.244.0.1", "10.244.0.2"])];
    let mut after = before.clone();
    after[0].service = after[0]
        .service
        .clone()
        .persistent(300)
        .scheduler("wlc".parse().unwrap());
    after[0].destinations[0].weight = 5;
    after[0].destinations[1].forward = ForwardMethod::DirectRoute;
    after[0].destinations[1].upper_threshold = 100;
    let got = run(
        &services(after),
        &observed_of(&before),
        &PlanOptions::default(),
    );
    assert_eq!(
        got,
        [
            "edit-service TCP 10.96.0.1:80: scheduler wlc, persistent 300 s",
            "edit-destination TCP 10.96.0.1:80 -> 10.244.0.1:8080: masq weight 5",
            "edit-destination TCP 10.96.0.1:80 -> 10.244.0.2:8080: route weight 1 thresholds 0-100",
        ]
    );
}

#[test]
fn removed_tcp_real_servers_drain_then_go() {
    let key = tcp("10.96.0.1", 80);
    let before = vec![svc(key, &["10.244.0.1", "10.244.0.2"])];
    let after = services(vec![svc(key, &["10.244.0.1"])]);
    let opts = PlanOptions {
        drain_timeout: Duration::from_secs(60),
        ..PlanOptions::default()
    };
    let mut o = observed_of(&before);
    let conns = |o: &mut Observed, active: u32, weight: u32| {
        let s = o.services.as_mut().unwrap().get_mut(&key).unwrap();
        let d = s.destinations.values_mut().nth(1).unwrap();
        d.active_conns = active;
        d.weight = weight;
    };
    let mut book = DrainBook::default();
    let t0 = Instant::now();

    // Live connections: weight 0 first.
    conns(&mut o, 3, 1);
    let p = plan(&after, &o, &opts, &mut book, t0);
    assert_eq!(
        p.changes,
        [Change::DrainDestination(key, dest("10.244.0.2").weight(0))]
    );
    assert_eq!(book.len(), 1);

    // Still connected 30 s later: nothing to do, reported as draining.
    conns(&mut o, 2, 0);
    let p = plan(&after, &o, &opts, &mut book, t0 + Duration::from_secs(30));
    assert!(p.changes.is_empty());
    assert_eq!(p.draining.len(), 1);
    assert_eq!(p.draining[0].active_conns, 2);
    assert_eq!(p.draining[0].left, Duration::from_secs(30));

    // Stale counts (a cached service) never delete early.
    o.services.as_mut().unwrap().get_mut(&key).unwrap().fresh = false;
    conns(&mut o, 0, 0);
    let p = plan(&after, &o, &opts, &mut book, t0 + Duration::from_secs(31));
    assert!(p.changes.is_empty());

    // The deadline passes: deleted with connections left.
    conns(&mut o, 1, 0);
    let p = plan(&after, &o, &opts, &mut book, t0 + Duration::from_secs(60));
    assert_eq!(
        p.changes,
        [Change::DeleteDestination(
            key,
            "10.244.0.2".parse().unwrap(),
            8080
        )]
    );
    assert!(book.is_empty());
}

#[test]
fn drained_real_servers_go_when_idle_and_a_restart_finds_them() {
    let key = tcp("10.96.0.1", 80);
    let before = vec![svc(key, &["10.244.0.1", "10.244.0.2"])];
    let after = services(vec![svc(key, &["10.244.0.1"])]);
    let mut o = observed_of(&before);
    {
        let d = o.services.as_mut().unwrap().get_mut(&key).unwrap();
        let d = d.destinations.values_mut().nth(1).unwrap();
        d.weight = 0;
        d.inactive_conns = 4;
    }
    // A new process (empty book) sees weight 0, not desired: draining.
    let mut book = DrainBook::default();
    let p = plan(
        &after,
        &o,
        &PlanOptions::default(),
        &mut book,
        Instant::now(),
    );
    assert!(p.changes.is_empty());
    assert_eq!(p.draining.len(), 1);
    {
        let d = o.services.as_mut().unwrap().get_mut(&key).unwrap();
        d.destinations.values_mut().nth(1).unwrap().inactive_conns = 0;
    }
    let p = plan(
        &after,
        &o,
        &PlanOptions::default(),
        &mut book,
        Instant::now(),
    );
    assert_eq!(
        p.changes,
        [Change::DeleteDestination(
            key,
            "10.244.0.2".parse().unwrap(),
            8080
        )]
    );
}

#[test]
fn idle_or_udp_real_servers_go_at_once() {
    let t = tcp("10.96.0.1", 80);
    let u = udp("10.96.0.10", 53);
    let before = vec![
        svc(t, &["10.244.0.1", "10.244.0.2"]),
        svc(u, &["10.244.0.3", "10.244.0.4"]),
    ];
    let mut o = observed_of(&before);
    for s in o.services.as_mut().unwrap().values_mut() {
        for d in s.destinations.values_mut() {
            d.active_conns = u32::from(s.service.key == u);
        }
    }
    // TCP with no connections, UDP with: both deleted now.
    o.services
        .as_mut()
        .unwrap()
        .get_mut(&t)
        .unwrap()
        .destinations
        .values_mut()
        .nth(1)
        .unwrap()
        .active_conns = 0;
    let after = services(vec![svc(t, &["10.244.0.1"]), svc(u, &["10.244.0.3"])]);
    let got = run(&after, &o, &PlanOptions::default());
    assert_eq!(
        got,
        [
            "delete-destination TCP 10.96.0.1:80 -> 10.244.0.2:8080",
            "delete-destination UDP 10.96.0.10:53 -> 10.244.0.4:8080",
        ]
    );
}

#[test]
fn prune_removes_only_owned_services() {
    let kube = svc(tcp("10.96.0.1", 80), &["10.244.0.1"]);
    let gone = svc(udp("10.96.0.2", 53), &["10.244.0.2"]);
    let keepalived = svc(tcp("192.168.1.100", 80), &["192.168.1.10"]);
    let o = observed_of(&[kube.clone(), gone, keepalived]);
    let mut d = services(vec![kube]);
    // Without --prune nothing outside the file is touched.
    assert!(run(&d, &o, &PlanOptions::default()).is_empty());
    let prune = PlanOptions {
        prune: true,
        ..PlanOptions::default()
    };
    // With --prune but no scope, nothing is owned.
    assert!(run(&d, &o, &prune).is_empty());
    d.scope = Scope {
        cidrs: vec!["10.96.0.0/12".parse().unwrap()],
        ..Scope::default()
    };
    assert_eq!(run(&d, &o, &prune), ["delete-service UDP 10.96.0.2:53"]);
}

#[test]
fn a_pruned_tcp_service_drains_before_it_goes() {
    let gone = svc(tcp("10.96.0.2", 80), &["10.244.0.2"]);
    let mut o = observed_of(&[gone]);
    for s in o.services.as_mut().unwrap().values_mut() {
        for d in s.destinations.values_mut() {
            d.active_conns = 1;
        }
    }
    let d = Desired {
        services: Some(vec![]),
        scope: Scope {
            cidrs: vec!["10.96.0.0/12".parse().unwrap()],
            ..Scope::default()
        },
        ..Desired::default()
    };
    let prune = PlanOptions {
        prune: true,
        ..PlanOptions::default()
    };
    assert_eq!(
        run(&d, &o, &prune),
        ["drain-destination TCP 10.96.0.2:80 -> 10.244.0.2:8080: weight 0 (graceful termination)"]
    );
}

fn set(name: &str, entries: &[Entry]) -> DesiredSet {
    DesiredSet {
        name: name.parse().unwrap(),
        set_type: SetType::HashIpPort,
        options: CreateOptions::default()
            .family(Family::Inet)
            .hashsize(1024)
            .maxelem(65536),
        entries: entries.to_vec(),
    }
}

fn observed_sets(sets: &[DesiredSet]) -> Observed {
    let mut map = BTreeMap::new();
    for s in sets {
        let mut options = s.options.clone();
        options.initval = Some(0x1234);
        options.bucketsize = Some(12);
        map.insert(
            s.name.clone(),
            Set {
                name: s.name.clone(),
                set_type: s.set_type,
                revision: 7,
                family: Family::Inet,
                options,
                memsize: 0,
                references: 0,
                elements: s.entries.len() as u32,
                entries: s.entries.clone(),
            },
        );
    }
    Observed {
        set_names: map.keys().cloned().collect(),
        sets: Some(map),
        ..Observed::default()
    }
}

fn ipport(i: u32) -> Entry {
    Entry::ip_port(std::net::Ipv4Addr::from(0x0a60_0000 + i), 6, 80)
}

#[test]
fn sets_change_by_difference_or_swap() {
    let all: Vec<Entry> = (0..1000).map(ipport).collect();
    let o = observed_sets(&[set("KUBE-CLUSTER-IP", &all)]);
    let sets = |e: &[Entry]| Desired {
        ipsets: Some(vec![set("KUBE-CLUSTER-IP", e)]),
        ..Desired::default()
    };
    let opts = PlanOptions::default();
    assert!(run(&sets(&all), &o, &opts).is_empty());
    // 1% churn: ten out, ten in, in two bulk messages.
    let mut churn: Vec<Entry> = all[10..].to_vec();
    churn.extend((2000..2010).map(ipport));
    let mut book = DrainBook::default();
    let p = plan(&sets(&churn), &o, &opts, &mut book, Instant::now());
    assert_eq!(p.changes.len(), 2);
    assert!(matches!(&p.changes[0], Change::DelEntries(_, _, e) if e.len() == 10));
    assert!(matches!(&p.changes[1], Change::AddEntries(_, _, e) if e.len() == 10));
    // Most of it changes: fill a new set and swap.
    let new: Vec<Entry> = (5000..5900).map(ipport).collect();
    let got = run(&sets(&new), &o, &opts);
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("replace-set KUBE-CLUSTER-IP: hash:ip,port, 900 entries"));
    // A new option: swap too; a new type: recreate.
    let mut d = sets(&all);
    d.ipsets.as_mut().unwrap()[0].options.timeout = Some(30);
    assert!(run(&d, &o, &opts)[0].starts_with("replace-set"));
    let mut d = sets(&[]);
    d.ipsets.as_mut().unwrap()[0].set_type = SetType::HashIp;
    assert!(run(&d, &o, &opts)[0].starts_with("recreate-set"));
}

#[test]
fn sets_are_created_and_pruned_in_scope() {
    let mut o = observed_sets(&[set("KUBE-OLD", &[]), set("f2b-sshd", &[])]);
    o.set_names.insert(SetName::new("KUBE-OLD").unwrap());
    let d = Desired {
        ipsets: Some(vec![set("KUBE-CLUSTER-IP", &[ipport(1)])]),
        scope: Scope {
            set_prefixes: vec!["KUBE-".into()],
            ..Scope::default()
        },
        ..Desired::default()
    };
    let prune = PlanOptions {
        prune: true,
        ..PlanOptions::default()
    };
    assert_eq!(
        run(&d, &o, &prune),
        [
            "create-set KUBE-CLUSTER-IP: hash:ip,port",
            "add-entries KUBE-CLUSTER-IP: 1 entry: 10.96.0.1,tcp:80",
            "destroy-set KUBE-OLD",
        ]
    );
}

#[test]
fn addresses_in_one_batch_each_way() {
    let dev = IfName::kube_ipvs0();
    let a = |s: &str| s.parse::<Address>().unwrap();
    let o = Observed {
        addresses: Some(ObservedAddresses {
            interface: dev.clone(),
            exists: true,
            addresses: [
                a("10.96.0.1"),
                a("10.96.0.2"),
                a("192.168.1.100"),
                a("fe80::1/64"),
            ]
            .into_iter()
            .collect::<BTreeSet<_>>(),
        }),
        ..Observed::default()
    };
    let mut d = Desired {
        addresses: Some(DesiredAddresses {
            interface: dev.clone(),
            addresses: vec![a("10.96.0.1"), a("10.96.0.3"), a("10.96.0.4")],
        }),
        scope: Scope {
            cidrs: vec!["10.96.0.0/12".parse().unwrap()],
            ..Scope::default()
        },
        ..Desired::default()
    };
    let prune = PlanOptions {
        prune: true,
        ..PlanOptions::default()
    };
    assert_eq!(
        run(&d, &o, &prune),
        [
            "add-addresses kube-ipvs0: 2 addresses: 10.96.0.3/32 10.96.0.4/32",
            "delete-addresses kube-ipvs0: 1 address: 10.96.0.2/32",
        ]
    );
    d.addresses.as_mut().unwrap().addresses = vec![a("10.96.0.1"), a("10.96.0.2")];
    assert!(run(&d, &o, &prune).is_empty());
    let missing = Observed {
        addresses: Some(ObservedAddresses {
            interface: dev,
            exists: false,
            addresses: BTreeSet::new(),
        }),
        ..Observed::default()
    };
    assert_eq!(
        run(&d, &missing, &prune)[0],
        "create-link kube-ipvs0: dummy, down"
    );
}

#[test]
#[ignore = "a timing probe: cargo test --release -p kipvs-sync planner_cost -- --ignored --nocapture"]
fn planner_cost_of_5000_services() {
    let n = 5000u32;
    let mk = |first: u32| -> Desired {
        let v = |i: u32| std::net::Ipv4Addr::from(0x0a60_0000 + i).to_string();
        let r = |i: u32| std::net::Ipv4Addr::from(0xac10_0000 + i).to_string();
        Desired {
            services: Some(
                (first..first + n)
                    .map(|i| svc(tcp(&v(i), 80), &[&r(3 * i), &r(3 * i + 1), &r(3 * i + 2)]))
                    .collect(),
            ),
            ipsets: Some(vec![set(
                "KUBE-CLUSTER-IP",
                &(first..first + n).map(ipport).collect::<Vec<_>>(),
            )]),
            ..Desired::default()
        }
    };
    let base = mk(1);
    let churn = mk(1 + n / 100);
    let mut o = observed_of(base.services.as_ref().unwrap());
    o.sets = observed_sets(base.ipsets.as_ref().unwrap()).sets;
    let only_services = |d: &Desired| Desired {
        services: d.services.clone(),
        ..Desired::default()
    };
    let only_sets = |d: &Desired| Desired {
        ipsets: d.ipsets.clone(),
        ..Desired::default()
    };
    let (bs, cs, bt, ct) = (
        only_services(&base),
        only_services(&churn),
        only_sets(&base),
        only_sets(&churn),
    );
    for (name, d) in [
        ("same", &base),
        ("churn", &churn),
        ("svc-same", &bs),
        ("svc-churn", &cs),
        ("set-same", &bt),
        ("set-churn", &ct),
    ] {
        let t = Instant::now();
        d.validate().unwrap();
        let tv = t.elapsed();
        let mut book = DrainBook::default();
        let p = plan(d, &o, &PlanOptions::default(), &mut book, Instant::now());
        eprintln!(
            "{name}: validate {tv:?} plan {:?} changes {}",
            t.elapsed() - tv,
            p.changes.len()
        );
    }
}
