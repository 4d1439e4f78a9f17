//! kipvs-sync against the kernel, checked through the real tools'
//! views (`ipvsadm -Sn`, `ipset save`, `ip addr`). Each test has a private
//! network namespace; IPVS needs the test VM (`cargo xtask vm-test -p
//! kipvs-sync`), and the tests skip on a host kernel without it.

use std::{
    io::{Read, Write},
    net::{IpAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::{Duration, Instant},
};

use kipvs_ipset::{CreateOptions, Entry, Family, SetType};
use kipvs_ipvs::{Destination, ForwardMethod, Protocol, Service, ServiceKey};
use kipvs_link::{Address, IfName};
use kipvs_sync::{
    Change, Desired, DesiredAddresses, DesiredService, DesiredSet, Kernel, PlanOptions, Scope,
    SyncOptions, Syncer,
};
use kipvs_testutil::{assert_same, private_netns, require_ipvs, require_link_kind, sh};

/// The kernel numbers its service-dump position over one table shared by
/// every namespace, so a dump that spans several chunks repeats or skips
/// services while a test in another namespace adds or deletes some: the
/// test that lists a large table with the real ipvsadm runs alone.
static TABLE: RwLock<()> = RwLock::new(());

/// A private namespace with IPVS and a dummy link kind; `None` = skipped.
fn setup() -> Option<RwLockReadGuard<'static, ()>> {
    namespace()?;
    Some(TABLE.read().unwrap_or_else(|e| e.into_inner()))
}

/// The same, with no other test changing services meanwhile.
fn setup_alone() -> Option<RwLockWriteGuard<'static, ()>> {
    namespace()?;
    Some(TABLE.write().unwrap_or_else(|e| e.into_inner()))
}

fn namespace() -> Option<()> {
    if !private_netns() || !require_ipvs() || !require_link_kind("dummy") {
        return None;
    }
    // With lo down the kernel finds no route for any real server and IPVS
    // refuses them (EINVAL).
    sh("ip link set lo up");
    Some(())
}

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

fn masq(addr: &str, port: u16) -> Destination {
    Destination::new(addr.parse().unwrap(), port).forward(ForwardMethod::Masq)
}

fn service(key: ServiceKey, dests: &[Destination]) -> DesiredService {
    DesiredService {
        service: Service::new(key).scheduler("rr".parse().unwrap()),
        destinations: dests.to_vec(),
    }
}

fn vip(s: &str) -> Address {
    s.parse().unwrap()
}

fn cluster_ip(entries: &[(&str, u8, u16)]) -> DesiredSet {
    DesiredSet {
        name: "KUBE-CLUSTER-IP".parse().unwrap(),
        set_type: SetType::HashIpPort,
        options: CreateOptions::default()
            .family(Family::Inet)
            .hashsize(1024)
            .maxelem(65536),
        entries: entries
            .iter()
            .map(|(ip, proto, port)| Entry::ip_port(ip.parse::<IpAddr>().unwrap(), *proto, *port))
            .collect(),
    }
}

fn kube_scope() -> Scope {
    Scope {
        set_prefixes: vec!["KUBE-".into()],
        cidrs: vec!["10.96.0.0/12".parse().unwrap()],
        fwmarks: vec![],
    }
}

fn pruning() -> SyncOptions {
    SyncOptions {
        plan: PlanOptions {
            prune: true,
            ..PlanOptions::default()
        },
        ..SyncOptions::default()
    }
}

/// `ipvsadm -Sn`, lines sorted: the kernel lists services in hash order.
fn ipvsadm_save() -> String {
    sorted(&sh("ipvsadm -Sn"))
}

fn sorted(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn ipset_entries(name: &str) -> String {
    let mut lines: Vec<String> = sh(&format!("ipset save {name}"))
        .lines()
        .filter(|l| l.starts_with("add "))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines.join("\n")
}

fn addrs(dev: &str) -> String {
    let mut v: Vec<String> = sh(&format!("ip -o addr show dev {dev}"))
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_owned))
        .collect();
    v.sort();
    v.join(" ")
}

/// The kube-proxy walkthrough: services appear, endpoints scale up and
/// down, a service goes away; each step checked with the real tools, and
/// a sync with nothing to change writes and reads nothing.
#[test]
fn kube_proxy_walkthrough() {
    let Some(_table) = setup() else {
        return;
    };
    let web = tcp("10.96.0.1", 80);
    let dns = udp("10.96.0.10", 53);
    let mut desired = Desired {
        services: Some(vec![
            service(web, &[masq("10.244.1.1", 8080), masq("10.244.1.2", 8080)]),
            service(dns, &[masq("10.244.2.1", 53)]),
        ]),
        ipsets: Some(vec![cluster_ip(&[
            ("10.96.0.1", 6, 80),
            ("10.96.0.10", 17, 53),
        ])]),
        addresses: Some(DesiredAddresses {
            interface: IfName::kube_ipvs0(),
            addresses: vec![vip("10.96.0.1"), vip("10.96.0.10")],
        }),
        scope: kube_scope(),
    };
    let mut syncer = Syncer::new(Default::default(), pruning());
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_same(
        "ipvsadm -Sn after the first sync",
        &sorted(
            "-A -t 10.96.0.1:80 -s rr\n\
         -a -t 10.96.0.1:80 -r 10.244.1.1:8080 -m -w 1\n\
         -a -t 10.96.0.1:80 -r 10.244.1.2:8080 -m -w 1\n\
         -A -u 10.96.0.10:53 -s rr\n\
         -a -u 10.96.0.10:53 -r 10.244.2.1:53 -m -w 1\n",
        ),
        &ipvsadm_save(),
    );
    assert_same(
        "ipset",
        "add KUBE-CLUSTER-IP 10.96.0.1,tcp:80\nadd KUBE-CLUSTER-IP 10.96.0.10,udp:53",
        &ipset_entries("KUBE-CLUSTER-IP"),
    );
    assert_eq!(addrs("kube-ipvs0"), "10.96.0.1/32 10.96.0.10/32");
    assert!(sh("ip -o link show kube-ipvs0").contains("state DOWN"));

    // Nothing changed: no write, and no read either.
    let reads = syncer.reads();
    let plan = syncer.plan(&desired).unwrap();
    assert!(plan.is_empty(), "{:?}", plan.changes);
    let report = syncer.apply(&plan);
    assert_eq!(report.count(), 0);
    assert_eq!(syncer.reads(), reads);

    // Endpoints scale up: one real server added, nothing else.
    desired.services.as_mut().unwrap()[0]
        .destinations
        .push(masq("10.244.1.3", 8080));
    let report = syncer.sync(&desired).unwrap();
    assert_eq!(
        report.applied,
        [Change::AddDestination(web, masq("10.244.1.3", 8080))]
    );
    assert!(ipvsadm_save().contains("-a -t 10.96.0.1:80 -r 10.244.1.3:8080 -m -w 1\n"));

    // A weight edit is made in place.
    desired.services.as_mut().unwrap()[0].destinations[0].weight = 3;
    let report = syncer.sync(&desired).unwrap();
    assert!(matches!(report.applied[..], [Change::EditDestination(..)]));
    assert!(ipvsadm_save().contains("-r 10.244.1.1:8080 -m -w 3\n"));

    // Scale down: the TCP real server drains (weight 0) before it goes;
    // the UDP one goes at once.
    desired.services.as_mut().unwrap()[0].destinations.remove(1);
    desired.services.as_mut().unwrap()[1].destinations = vec![masq("10.244.2.2", 53)];
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    let save = ipvsadm_save();
    assert!(save.contains("-r 10.244.1.2:8080 -m -w 0\n"), "{save}");
    assert!(!save.contains("10.244.2.1"), "{save}");
    assert!(save.contains("-r 10.244.2.2:53 -m -w 1\n"), "{save}");
    // Next sync: it has no connections (read back), so it goes.
    let report = syncer.sync(&desired).unwrap();
    assert_eq!(
        report.applied,
        [Change::DeleteDestination(
            web,
            "10.244.1.2".parse().unwrap(),
            8080
        )]
    );
    assert!(syncer.reads().draining >= 1);
    assert!(!ipvsadm_save().contains("10.244.1.2"));

    // The DNS service goes: service, set entry and address in one sync.
    desired.services.as_mut().unwrap().remove(1);
    desired.ipsets = Some(vec![cluster_ip(&[("10.96.0.1", 6, 80)])]);
    desired.addresses.as_mut().unwrap().addresses = vec![vip("10.96.0.1")];
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert!(!ipvsadm_save().contains("10.96.0.10"));
    assert_eq!(
        ipset_entries("KUBE-CLUSTER-IP"),
        "add KUBE-CLUSTER-IP 10.96.0.1,tcp:80"
    );
    assert_eq!(addrs("kube-ipvs0"), "10.96.0.1/32");

    // And the cached state still matches the kernel: a fresh syncer has
    // nothing to do.
    let mut fresh = Syncer::new(Default::default(), pruning());
    let plan = fresh.plan(&desired).unwrap();
    assert!(plan.is_empty(), "{:?}", plan.changes);
}

/// A live TCP connection keeps a removed real server at weight 0 until it
/// ends or the deadline passes; a restarted process finds it draining.
#[test]
fn live_connections_drain_across_restarts() {
    let Some(_table) = setup() else {
        return;
    };
    // Two local real servers behind a VIP, all on dummy links: a local
    // client goes through IPVS's LOCAL_OUT hook.
    sh("ip link add ep0 type dummy && ip link set ep0 up \
        && ip addr add 10.244.9.1/32 dev ep0 && ip addr add 10.244.9.2/32 dev ep0");
    let listener_a = TcpListener::bind("10.244.9.1:8080").unwrap();
    let _listener_b = TcpListener::bind("10.244.9.2:8080").unwrap();
    let web = tcp("10.96.0.5", 80);
    let mut desired = Desired {
        services: Some(vec![service(web, &[masq("10.244.9.1", 8080)])]),
        addresses: Some(DesiredAddresses {
            interface: IfName::kube_ipvs0(),
            addresses: vec![vip("10.96.0.5")],
        }),
        scope: kube_scope(),
        ..Desired::default()
    };
    let now = Arc::new(Mutex::new(Instant::now()));
    let clock = {
        let now = now.clone();
        move || *now.lock().unwrap()
    };
    let options = SyncOptions {
        plan: PlanOptions {
            prune: true,
            drain_timeout: Duration::from_secs(60),
            ..PlanOptions::default()
        },
        ..SyncOptions::default()
    };
    let mut syncer = Syncer::new(Default::default(), options.clone()).with_clock(clock.clone());
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    // A connection through the VIP to A, held open.
    let mut client = TcpStream::connect("10.96.0.5:80").unwrap();
    let (mut served, _) = listener_a.accept().unwrap();
    client.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    served.read_exact(&mut b).unwrap();

    // The endpoint moves from A to B: A drains.
    desired.services.as_mut().unwrap()[0].destinations = vec![masq("10.244.9.2", 8080)];
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert!(report.applied.iter().any(
        |c| matches!(c, Change::DrainDestination(_, d) if d.addr.to_string() == "10.244.9.1")
    ));
    let report = syncer.sync(&desired).unwrap();
    assert!(report.applied.is_empty(), "{:?}", report.applied);
    assert_eq!(report.draining.len(), 1);
    assert_eq!(report.draining[0].active_conns, 1);
    let listing = sh("ipvsadm -Ln");
    assert!(listing.contains("10.244.9.1:8080"), "{listing}");

    // The process restarts: a new syncer finds A at weight 0, not desired,
    // still connected: it keeps draining, nothing is re-added.
    drop(syncer);
    let mut syncer = Syncer::new(Default::default(), options).with_clock(clock);
    let report = syncer.sync(&desired).unwrap();
    assert!(report.applied.is_empty(), "{:?}", report.applied);
    assert_eq!(report.draining.len(), 1);

    // The deadline passes with the connection still open: A goes.
    *now.lock().unwrap() += Duration::from_secs(61);
    let report = syncer.sync(&desired).unwrap();
    assert_eq!(
        report.applied,
        [Change::DeleteDestination(
            web,
            "10.244.9.1".parse().unwrap(),
            8080
        )]
    );
    assert!(!sh("ipvsadm -Ln").contains("10.244.9.1"));
    drop(client);
}

/// Pruning removes only what the scope owns: a keepalived service, a
/// fail2ban set and a node address on the same node survive.
#[test]
fn prune_stays_inside_its_scope() {
    let Some(_table) = setup() else {
        return;
    };
    sh("ipvsadm -A -t 192.168.1.100:80 -s wlc && ipvsadm -a -t 192.168.1.100:80 -r 192.168.1.10:80 -g \
        && ipvsadm -A -t 10.96.0.99:80 -s rr && ipvsadm -A -f 7 -s rr \
        && ipset create f2b-sshd hash:ip && ipset create KUBE-STALE hash:ip \
        && ip link add kube-ipvs0 type dummy \
        && ip addr add 10.96.0.99/32 dev kube-ipvs0 && ip addr add 192.168.5.5/32 dev kube-ipvs0");
    let desired = Desired {
        services: Some(vec![service(
            tcp("10.96.0.1", 80),
            &[masq("10.244.1.1", 80)],
        )]),
        ipsets: Some(vec![cluster_ip(&[("10.96.0.1", 6, 80)])]),
        addresses: Some(DesiredAddresses {
            interface: IfName::kube_ipvs0(),
            addresses: vec![vip("10.96.0.1")],
        }),
        scope: kube_scope(),
    };
    // Without prune: only additions.
    let mut syncer = Syncer::new(Default::default(), SyncOptions::default());
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert!(ipvsadm_save().contains("10.96.0.99"));
    // With prune: only the owned leftovers go.
    let mut syncer = Syncer::new(Default::default(), pruning());
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_same(
        "ipvsadm -Sn after prune",
        &sorted(
            "-A -t 10.96.0.1:80 -s rr\n\
         -a -t 10.96.0.1:80 -r 10.244.1.1:80 -m -w 1\n\
         -A -t 192.168.1.100:80 -s wlc\n\
         -a -t 192.168.1.100:80 -r 192.168.1.10:80 -g -w 1\n\
         -A -f 7 -s rr\n",
        ),
        &ipvsadm_save(),
    );
    let mut sets: Vec<String> = sh("ipset list -n").lines().map(str::to_owned).collect();
    sets.sort();
    assert_eq!(sets, ["KUBE-CLUSTER-IP", "f2b-sshd"]);
    assert_eq!(addrs("kube-ipvs0"), "10.96.0.1/32 192.168.5.5/32");
}

/// dump -> apply on an empty node -> dump gives the same state.
#[test]
fn dump_apply_dump_round_trips() {
    let Some(_table) = setup() else {
        return;
    };
    sh("ipvsadm -A -t 10.96.0.1:443 -s rr && ipvsadm -a -t 10.96.0.1:443 -r 10.244.1.1:6443 -m -w 2 -x 100 -y 10 \
        && ipvsadm -A -u [fd00::a]:53 -s sh -b sh-port -p 60 -M 64 \
        && ipvsadm -a -u [fd00::a]:53 -r [fd00:1::5]:53 -g -w 1 \
        && ipvsadm -A -f 100 -s wlc && ipvsadm -a -f 100 -r 192.0.2.1:0 -i -w 1 \
        && ipset create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 \
        && ipset add KUBE-CLUSTER-IP 10.96.0.1,tcp:443 && ipset add KUBE-CLUSTER-IP 10.96.0.10,udp:53 \
        && ipset create KUBE-NODE-PORT-TCP bitmap:port range 0-65535 && ipset add KUBE-NODE-PORT-TCP 30080 \
        && ipset create KUBE-LB-SRC hash:ip,port,net comment && ipset add KUBE-LB-SRC 10.0.0.1,tcp:80,192.168.0.0/16 comment \"lb one\" \
        && ip link add kube-ipvs0 type dummy && ip addr add 10.96.0.1/32 dev kube-ipvs0 \
        && ip addr add fd00::a/128 dev kube-ipvs0");
    let dev = IfName::kube_ipvs0();
    let first = Kernel::default().dump(&dev).unwrap();
    assert_eq!(first.services.as_ref().unwrap().len(), 3);
    let copy = first.clone();
    let second = std::thread::spawn(move || {
        assert!(private_netns());
        sh("ip link set lo up");
        let mut syncer = Syncer::new(Default::default(), SyncOptions::default());
        let report = syncer.sync(&copy).unwrap();
        assert!(report.is_complete(), "{report:?}");
        Kernel::default().dump(&IfName::kube_ipvs0()).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(first, second);
}

/// A change the kernel refuses is reported with its object and the
/// kernel's words; what does not depend on it is applied; a fixed state
/// converges.
#[test]
fn partial_failure_applies_the_rest_and_converges() {
    let Some(_table) = setup() else {
        return;
    };
    let bad = tcp("10.96.0.2", 80);
    let good = tcp("10.96.0.3", 80);
    let mut bad_service = service(bad, &[masq("10.244.1.1", 80)]);
    // No persistence engine of that name: the kernel refuses the service.
    bad_service.service.pe_name = Some("nosuchpe".into());
    let mut small = cluster_ip(&[
        ("10.96.0.1", 6, 80),
        ("10.96.0.2", 6, 80),
        ("10.96.0.3", 6, 80),
    ]);
    small.options.maxelem = Some(2);
    let mut desired = Desired {
        services: Some(vec![bad_service, service(good, &[masq("10.244.1.2", 80)])]),
        ipsets: Some(vec![small]),
        ..Desired::default()
    };
    let mut syncer = Syncer::new(Default::default(), SyncOptions::default());
    let report = syncer.sync(&desired).unwrap();
    assert_eq!(report.failed.len(), 2, "{:?}", report.failed);
    let service_failure = report
        .failed
        .iter()
        .find(|f| matches!(f.change, Change::AddService(_)))
        .unwrap();
    let text = service_failure.error.to_string();
    assert!(text.contains("adding service TCP 10.96.0.2:80"), "{text}");
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].reason.contains("10.96.0.2:80"));
    let set_failure = report
        .failed
        .iter()
        .find(|f| matches!(f.change, Change::AddEntries(..)))
        .unwrap();
    assert!(
        set_failure
            .error
            .to_string()
            .to_lowercase()
            .contains("full"),
        "{}",
        set_failure.error
    );
    let save = ipvsadm_save();
    assert!(
        save.contains("-a -t 10.96.0.3:80 -r 10.244.1.2:80 -m -w 1"),
        "{save}"
    );
    assert!(!save.contains("10.96.0.2"));
    assert_eq!(
        sh("ipset list KUBE-CLUSTER-IP").matches(",tcp:80").count(),
        2
    );

    // Fixed: the next sync (a full read, after the failure) converges.
    desired.services.as_mut().unwrap()[0].service.pe_name = None;
    desired.ipsets.as_mut().unwrap()[0].options.maxelem = Some(65536);
    let report = syncer.sync(&desired).unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(syncer.reads().full, 2);
    assert!(ipvsadm_save().contains("-a -t 10.96.0.2:80 -r 10.244.1.1:80 -m -w 1"));
    assert_eq!(
        sh("ipset list KUBE-CLUSTER-IP").matches(",tcp:80").count(),
        3
    );
    assert!(syncer.plan(&desired).unwrap().is_empty());
}

/// A large table (one service dump, then 700 real-server dumps) reads
/// back whole and in order: a fresh syncer finds nothing to change.
#[test]
fn large_tables_read_back_whole() {
    let Some(_table) = setup_alone() else {
        return;
    };
    let services: Vec<DesiredService> = (0..700u32)
        .map(|i| {
            let vip = std::net::Ipv4Addr::from(0x0a60_0000 + i).to_string();
            let real = |r: u32| {
                masq(
                    &std::net::Ipv4Addr::from(0xac10_0000 + 3 * i + r).to_string(),
                    8080,
                )
            };
            service(tcp(&vip, 80), &[real(0), real(1), real(2)])
        })
        .collect();
    let desired = Desired {
        services: Some(services),
        ..Desired::default()
    };
    let report = Syncer::new(Default::default(), SyncOptions::default())
        .sync(&desired)
        .unwrap();
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(report.count(), 700 * 4);
    let mut fresh = Syncer::new(Default::default(), SyncOptions::default());
    let plan = fresh.plan(&desired).unwrap();
    assert!(
        plan.is_empty(),
        "{:?}",
        &plan.changes[..plan.changes.len().min(5)]
    );
    let observed = fresh.observed().unwrap().services.as_ref().unwrap();
    assert_eq!(observed.len(), 700);
    assert!(observed.values().all(|s| s.destinations.len() == 3));
    assert_eq!(sh("ipvsadm -Sn").lines().count(), 2800);
}
