//! `Links` against the kernel, each test in a private network namespace,
//! with `ip` as the oracle. The host kernel has no dummy driver: address
//! tests use a veth as the stand-in, and dummy tests run in the test VM.

use kipvs_link::{Action, Address, IfName, Links};
use kipvs_testutil::{private_netns, require_link_kind, sh};

fn name(s: &str) -> IfName {
    s.parse().unwrap()
}

fn addrs(list: &[&str]) -> Vec<Address> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn strings(list: &[Address]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// A veth pair `v0`/`v1`, down, as a stand-in for kube-ipvs0.
fn veth() -> IfName {
    sh("ip link add v0 type veth peer name v1");
    name("v0")
}

/// The addresses `ip -o addr show dev DEV` lists, sorted as kipvs sorts.
fn ip_addresses(dev: &str) -> Vec<String> {
    let mut list: Vec<Address> = sh(&format!("ip -o addr show dev {dev}"))
        .lines()
        .map(|l| l.split_whitespace().nth(3).unwrap().parse().unwrap())
        .collect();
    list.sort();
    strings(&list)
}

#[test]
fn addresses_match_ip_and_adds_are_idempotent() {
    if !private_netns() {
        return;
    }
    let dev = veth();
    let mut links = Links::new().unwrap();
    assert!(links.addresses(&dev).unwrap().is_empty());
    assert!(links
        .add_address(&dev, "10.96.0.1".parse::<Address>().unwrap())
        .unwrap());
    assert!(links
        .add_address(&dev, "fd00::1".parse::<Address>().unwrap())
        .unwrap());
    assert!(links
        .add_address(&dev, "192.168.7.1/24".parse::<Address>().unwrap())
        .unwrap());
    // Bound already: reported, not an error.
    assert!(!links
        .add_address(&dev, "10.96.0.1".parse::<Address>().unwrap())
        .unwrap());
    let ours = strings(&links.addresses(&dev).unwrap());
    assert_eq!(ours, ["10.96.0.1/32", "192.168.7.1/24", "fd00::1/128"]);
    assert_eq!(ip_addresses("v0"), ours);
    // A strict, filtered dump: v1's addresses are not v0's.
    sh("ip addr add 10.1.1.1/32 dev v1");
    assert_eq!(strings(&links.addresses(&dev).unwrap()), ours);

    assert!(links
        .delete_address(&dev, "10.96.0.1".parse::<Address>().unwrap())
        .unwrap());
    assert!(!links
        .delete_address(&dev, "10.96.0.1".parse::<Address>().unwrap())
        .unwrap());
    // IPv4 addresses are keyed by prefix too: /32 is not the /24.
    assert!(!links
        .delete_address(&dev, "192.168.7.1".parse::<Address>().unwrap())
        .unwrap());
    assert_eq!(ip_addresses("v0"), ["192.168.7.1/24", "fd00::1/128"]);
}

#[test]
fn sync_from_empty_with_churn_and_to_empty() {
    if !private_netns() {
        return;
    }
    let dev = veth();
    let mut links = Links::new().unwrap();

    let first = addrs(&["10.96.0.1", "10.96.0.2", "10.96.0.3", "fd00::1", "fd00::2"]);
    let r = links.sync_addresses(&dev, &first).unwrap();
    assert_eq!(strings(&r.added), strings(&first));
    assert!(r.removed.is_empty() && r.kept.is_empty() && r.failed.is_empty());
    assert_eq!(ip_addresses("v0"), strings(&first));

    // No change: nothing written.
    let r = links.sync_addresses(&dev, &first).unwrap();
    assert!(r.is_unchanged());
    assert_eq!(r.kept.len(), 5);

    // Churn, with an address someone else bound by hand.
    sh("ip addr add 10.96.0.99/32 dev v0");
    let second = addrs(&["10.96.0.1", "10.96.0.4", "fd00::2", "fd00::3"]);
    let r = links.sync_addresses(&dev, &second).unwrap();
    assert_eq!(strings(&r.added), ["10.96.0.4/32", "fd00::3/128"]);
    assert_eq!(
        strings(&r.removed),
        [
            "10.96.0.2/32",
            "10.96.0.3/32",
            "10.96.0.99/32",
            "fd00::1/128"
        ]
    );
    assert_eq!(strings(&r.kept), ["10.96.0.1/32", "fd00::2/128"]);
    assert_eq!(ip_addresses("v0"), strings(&second));

    let r = links.sync_addresses(&dev, Vec::<Address>::new()).unwrap();
    assert_eq!(r.removed.len(), 4);
    assert!(ip_addresses("v0").is_empty());
}

#[test]
fn ipv6_on_a_down_veth_stays_tentative_without_nodad() {
    if !private_netns() {
        return;
    }
    // What kube-proxy does (no IFA_F_NODAD) on a link that is not
    // IFF_NOARP: the kernel keeps the address tentative while the link is
    // down. (A dummy is IFF_NOARP: see the dummy test below.)
    let dev = veth();
    let mut links = Links::new().unwrap();
    links.sync_addresses(&dev, addrs(&["fd00::10"])).unwrap();
    let shown = sh("ip -o addr show dev v0");
    assert!(
        shown.contains("fd00::10/128 scope global tentative"),
        "{shown}"
    );
    assert_eq!(strings(&links.addresses(&dev).unwrap()), ["fd00::10/128"]);
}

#[test]
fn addresses_of_other_interfaces_are_reported_not_duplicated() {
    if !private_netns() {
        return;
    }
    let dev = veth();
    sh("ip addr add 192.168.1.10/24 dev v1 && ip addr add 10.96.0.5/32 dev v0");
    sh("ip addr add 10.96.0.5/32 dev v1");
    let mut links = Links::new().unwrap();
    let r = links
        .sync_addresses(&dev, addrs(&["192.168.1.10", "10.96.0.5", "10.96.0.6"]))
        .unwrap();
    assert_eq!(strings(&r.added), ["10.96.0.6/32"]);
    // Bound here and on v1: unbound here, as kube-proxy would.
    assert_eq!(strings(&r.removed), ["10.96.0.5/32"]);
    let elsewhere: Vec<(String, String)> = r
        .elsewhere
        .iter()
        .map(|e| (e.address.to_string(), e.link.as_ref().unwrap().to_string()))
        .collect();
    assert_eq!(
        elsewhere,
        [
            ("10.96.0.5/32".to_string(), "v1".to_string()),
            ("192.168.1.10/32".to_string(), "v1".to_string())
        ]
    );
    assert_eq!(ip_addresses("v0"), ["10.96.0.6/32"]);
    assert_eq!(ip_addresses("v1"), ["10.96.0.5/32", "192.168.1.10/24"]);
}

#[test]
fn bad_input_names_the_value_and_sends_nothing() {
    if !private_netns() {
        return;
    }
    let dev = veth();
    let mut links = Links::new().unwrap();
    links
        .add_address(&dev, "10.0.0.1".parse::<Address>().unwrap())
        .unwrap();
    for (desired, needle) in [
        (vec!["10.0.0.2", "224.0.0.1"], "\"224.0.0.1/32\""),
        (vec!["10.0.0.2", "10.0.0.2/24"], "\"10.0.0.2/24\""),
        (vec!["::"], "\"::/128\""),
    ] {
        let e = links.sync_addresses(&dev, addrs(&desired)).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
        assert_eq!(ip_addresses("v0"), ["10.0.0.1/32"], "nothing was sent");
    }
    let e = links
        .sync_addresses(&name("nosuch0"), addrs(&["10.0.0.1"]))
        .unwrap_err();
    assert_eq!(e.to_string(), "link nosuch0: no such link (errno 19)");
    assert_eq!(e.errno(), Some(19));
    assert!(links.link(&name("nosuch0")).unwrap().is_none());
}

#[test]
fn kernel_refusals_keep_errno_and_the_rest_is_done() {
    if !private_netns() {
        return;
    }
    let dev = veth();
    let mut links = Links::new().unwrap();
    // IPv6 is off on v0: its adds fail with the kernel's own words, the
    // IPv4 ones go through.
    sh("echo 1 > /proc/sys/net/ipv6/conf/v0/disable_ipv6");
    let r = links
        .sync_addresses(&dev, addrs(&["10.0.0.1", "fd00::1", "10.0.0.2"]))
        .unwrap();
    assert_eq!(strings(&r.added), ["10.0.0.1/32", "10.0.0.2/32"]);
    assert_eq!(r.failed.len(), 1);
    let f = &r.failed[0];
    assert_eq!(
        (f.address.to_string(), f.action),
        ("fd00::1/128".into(), Action::Add)
    );
    assert!(f.error.errno > 0);
    assert!(
        f.error
            .to_string()
            .starts_with("adding fd00::1/128 to v0: "),
        "{}",
        f.error
    );
    assert_eq!(ip_addresses("v0"), ["10.0.0.1/32", "10.0.0.2/32"]);
}

#[test]
fn link_info_matches_ip_and_delete_link() {
    if !private_netns() {
        return;
    }
    let dev = veth();
    sh("ip link set v0 mtu 1400");
    let mut links = Links::new().unwrap();
    let link = links.link(&dev).unwrap().unwrap();
    let shown = sh("ip -d -o link show v0");
    assert!(
        shown.starts_with(&format!("{}: v0@v1: ", link.index)),
        "{shown}"
    );
    assert!(shown.contains(" mtu 1400 ") && link.mtu == 1400, "{shown}");
    assert_eq!(link.kind.as_deref(), Some("veth"));
    assert!(shown.contains(" veth ") && !link.up && shown.contains("state DOWN"));
    let all: Vec<String> = links
        .links()
        .unwrap()
        .iter()
        .map(|l| l.name.to_string())
        .collect();
    assert_eq!(all, ["lo", "v1", "v0"].map(String::from));
    assert!(links.delete_link(&dev).unwrap());
    assert!(!links.delete_link(&dev).unwrap());
    assert!(
        links.link(&name("v1")).unwrap().is_none(),
        "veth peers go together"
    );
}

#[test]
fn a_link_of_another_kind_is_a_clear_error() {
    if !private_netns() {
        return;
    }
    sh("ip link add kube-ipvs0 type veth peer name kube-peer");
    let mut links = Links::new().unwrap();
    let dev = IfName::kube_ipvs0();
    let e = links.ensure_dummy(&dev).unwrap_err();
    assert_eq!(
        e.to_string(),
        "creating dummy link kube-ipvs0: a veth link of that name exists (errno 17)"
    );
    assert!(e.is_exists());
    let e = links.delete_dummy(&dev).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid dummy link \"kube-ipvs0\": it is a veth link, not a dummy; not deleted"
    );
    assert!(links.link(&dev).unwrap().is_some(), "left alone");
    // lo has no kind at all.
    let e = links.ensure_dummy(&name("lo")).unwrap_err();
    assert!(e.to_string().contains("a device with no link kind"), "{e}");
}

#[test]
fn without_a_dummy_driver_ensure_says_so() {
    if std::path::Path::new("/sys/module/dummy").exists() || !private_netns() {
        return;
    }
    let e = Links::new()
        .unwrap()
        .ensure_dummy(&IfName::kube_ipvs0())
        .unwrap_err();
    assert_eq!(e.errno(), Some(95), "{e}"); // EOPNOTSUPP
    assert!(e.to_string().contains("is the dummy module loaded?"), "{e}");
}

#[test]
fn ensure_dummy_is_idempotent_and_makes_what_kube_proxy_makes() {
    if !private_netns() || !require_link_kind("dummy") {
        return;
    }
    let dev = IfName::kube_ipvs0();
    let mut links = Links::new().unwrap();
    assert!(links.ensure_dummy(&dev).unwrap());
    assert!(!links.ensure_dummy(&dev).unwrap());
    let link = links.link(&dev).unwrap().unwrap();
    assert!(link.is_dummy() && !link.up);
    let shown = sh("ip -d -o link show kube-ipvs0");
    assert!(
        shown.contains("<BROADCAST,NOARP> ") && shown.contains("state DOWN"),
        "{shown}"
    );
    assert!(shown.contains(" dummy "), "{shown}");
    assert!(shown.contains(&format!(" mtu {} ", link.mtu)), "{shown}");

    // IPv6 on the down dummy: IFF_NOARP skips DAD, so with no IFA_F_NODAD
    // (as kube-proxy) the address is usable at once, local route and all.
    let r = links
        .sync_addresses(&dev, addrs(&["10.96.0.1", "fd00::1"]))
        .unwrap();
    assert_eq!(r.added.len(), 2);
    let shown = sh("ip -o addr show dev kube-ipvs0");
    assert!(
        !shown.contains("tentative") && !shown.contains("nodad"),
        "{shown}"
    );
    assert_eq!(ip_addresses("kube-ipvs0"), ["10.96.0.1/32", "fd00::1/128"]);
    let routes = sh("ip -6 route show table local");
    assert!(routes.contains("local fd00::1 dev kube-ipvs0"), "{routes}");
    let routes = sh("ip route show table local");
    assert!(
        routes.contains("local 10.96.0.1 dev kube-ipvs0"),
        "{routes}"
    );

    assert!(links.delete_dummy(&dev).unwrap());
    assert!(!links.delete_dummy(&dev).unwrap());
    assert!(sh("ip -o link show")
        .lines()
        .all(|l| !l.contains("kube-ipvs0")));
}

#[test]
fn thousands_of_refusals_are_each_reported() {
    if !private_netns() {
        return;
    }
    // More failures than one sendmsg of the batch holds: every one comes
    // back matched to its address, and the IPv4 adds between them land.
    let dev = veth();
    sh("echo 1 > /proc/sys/net/ipv6/conf/v0/disable_ipv6");
    let desired: Vec<Address> = (1..=3000u32)
        .flat_map(|i| {
            [
                format!("fd00::{i:x}").parse().unwrap(),
                format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)
                    .parse()
                    .unwrap(),
            ]
        })
        .collect();
    let mut links = Links::new().unwrap();
    let r = links.sync_addresses(&dev, &desired).unwrap();
    assert_eq!((r.added.len(), r.failed.len()), (3000, 3000));
    assert!(r.added.iter().all(|a| a.ip.is_ipv4()));
    assert!(r
        .failed
        .iter()
        .all(|f| f.address.ip.is_ipv6() && f.action == Action::Add));
    assert_eq!(links.addresses(&dev).unwrap().len(), 3000);
}

#[test]
fn sync_leaves_the_link_local_address_alone() {
    if !private_netns() {
        return;
    }
    // An up link gets an IPv6 link-local address from the kernel (a dummy
    // does too, if someone brings kube-ipvs0 up); it is the link's own.
    let dev = veth();
    sh("ip link set v1 up && ip link set v0 up");
    let mut links = Links::new().unwrap();
    let mut link_local = || {
        links
            .addresses(&dev)
            .unwrap()
            .into_iter()
            .find(|a| a.to_string().starts_with("fe80:"))
    };
    let mut found = link_local();
    for _ in 0..50 {
        if found.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        found = link_local();
    }
    let found = found.expect("the kernel adds a link-local address on up");
    let r = links
        .sync_addresses(&dev, addrs(&["10.0.0.1", "fd00::1"]))
        .unwrap();
    assert_eq!(r.added.len(), 2);
    assert!(r.removed.is_empty() && r.kept.is_empty(), "{r:?}");
    let r = links.sync_addresses(&dev, Vec::<Address>::new()).unwrap();
    assert_eq!(strings(&r.removed), ["10.0.0.1/32", "fd00::1/128"]);
    assert_eq!(links.addresses(&dev).unwrap(), [found]);
}
