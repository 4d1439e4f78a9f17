//! The library against the host kernel's ipset, each test in a private
//! network namespace (root; skipped otherwise).

use std::net::{Ipv4Addr, Ipv6Addr};

use kipvs_ipset::{
    wire::{IpsetCmd, IPSET_ERR_EXIST},
    AdtBatch, CreateOptions, Entry, Family, IpSet, SetName, SetType,
};
use kipvs_testutil::{private_netns, require_tool, run};

fn name(s: &str) -> SetName {
    s.parse().unwrap()
}

fn open() -> Option<IpSet> {
    if !private_netns() {
        return None;
    }
    Some(IpSet::new().expect("ipset is built into this kernel"))
}

fn tcp(i: u32, port: u16) -> Entry {
    Entry::ip_port(Ipv4Addr::from(0x0a00_0000 + i), 6, port)
}

#[test]
fn protocol_is_negotiated() {
    let Some(h) = open() else { return };
    assert!(matches!(h.protocol(), 6 | 7));
}

#[test]
fn create_add_test_del_list() {
    let Some(mut h) = open() else { return };
    let s = name("KUBE-CLUSTER-IP");
    let opts = CreateOptions::default()
        .hashsize(1024)
        .maxelem(65536)
        .comment();
    h.create(&s, SetType::HashIpPort, &opts, false).unwrap();
    let e = tcp(1, 80).comment("svc");
    h.add(&s, &e, false).unwrap();
    let err = h.add(&s, &e, false).unwrap_err();
    assert_eq!(
        err.kernel().unwrap().description.as_deref(),
        Some("Element cannot be added to the set: it's already added")
    );
    h.add(&s, &e, true).unwrap();
    assert!(h.test(&s, &tcp(1, 80)).unwrap());
    assert!(!h.test(&s, &tcp(1, 81)).unwrap());
    let sets = h.list(Some(&s)).unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].set_type, SetType::HashIpPort);
    assert_eq!(sets[0].family, Family::Inet);
    assert_eq!(sets[0].entries, vec![tcp(1, 80).comment("svc")]);
    h.del(&s, &tcp(1, 80), false).unwrap();
    assert!(h.del(&s, &tcp(1, 80), false).is_err());
    h.del(&s, &tcp(1, 80), true).unwrap();
    assert!(h.list(Some(&s)).unwrap()[0].entries.is_empty());
    // The cached kind follows renames.
    h.rename(&s, &name("other")).unwrap();
    assert_eq!(h.list_names(None).unwrap(), vec![name("other")]);
}

#[test]
fn missing_sets_and_bad_input() {
    let Some(mut h) = open() else { return };
    let err = h.destroy(Some(&name("nosuch"))).unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        err.kernel().unwrap().description.as_deref(),
        Some("The set with the given name does not exist")
    );
    // Bad input never reaches the kernel, and names the bad value.
    assert!("a"
        .repeat(32)
        .parse::<SetName>()
        .unwrap_err()
        .to_string()
        .contains(&"a".repeat(32)));
    assert!("hash:nope".parse::<SetType>().is_err());
    let e = Entry::parse(SetType::HashIpPort, Family::Inet, "1.2.3.4,99999").unwrap_err();
    assert!(e.to_string().contains("99999"), "{e}");
    let e = CreateOptions::parse(SetType::BitmapPort, &[]).unwrap_err();
    assert!(e.to_string().contains("range"), "{e}");
}

#[test]
fn bulk_add_many_entries_in_few_messages() {
    let Some(mut h) = open() else { return };
    let s = name("bulk");
    let opts = CreateOptions::default().maxelem(200_000);
    h.create(&s, SetType::HashIpPort, &opts, false).unwrap();
    let entries: Vec<Entry> = (0..20_000).map(|i| tcp(i, 80)).collect();
    h.add_many(&s, &entries, false).unwrap();
    let set = &h.list(Some(&s)).unwrap()[0];
    assert_eq!(set.elements, 20_000);
    assert_eq!(set.entries.len(), 20_000);
    // A refused element is reported by its position; the ones before it
    // went in, the ones after it did not.
    let mut more: Vec<Entry> = (20_000..20_010).map(|i| tcp(i, 80)).collect();
    more[5] = tcp(3, 80);
    let err = h.add_many(&s, &more, false).unwrap_err();
    assert_eq!(err.index, 5);
    assert_eq!(h.list_headers(Some(&s)).unwrap()[0].elements, 20_005);
    h.del_many(&s, &entries, false).unwrap();
    assert_eq!(h.list_headers(Some(&s)).unwrap()[0].elements, 5);
}

#[test]
fn a_batch_spans_messages_and_stops_at_the_refused_element() {
    let Some(mut h) = open() else { return };
    let s = name("batch");
    let opts = CreateOptions::default().maxelem(200_000);
    h.create(&s, SetType::HashIpPort, &opts, false).unwrap();
    h.add(&s, &tcp(7_000, 80), false).unwrap();
    // 40 bytes an element, 1,229 to a 48 KiB message: 10,000 make nine
    // messages, and the refused element (it exists, no -exist) is in the
    // sixth. Line numbers skip as a restore file's do.
    let mut batch = AdtBatch::new();
    for i in 0..10_000u32 {
        batch.push(3 * i + 2, &tcp(i, 80));
    }
    assert_eq!(batch.len(), 10_000);
    let err = h.send_batch(IpsetCmd::Add, &s, batch, false).unwrap_err();
    assert_eq!(err.index, 7_000);
    assert_eq!(
        err.error.kernel().map(|k| k.errno),
        Some(IPSET_ERR_EXIST),
        "{}",
        err.error
    );
    // Everything before it went in, nothing after it.
    assert_eq!(h.list_headers(Some(&s)).unwrap()[0].elements, 7_001);
    // With -exist the same batch goes through, and one of DEL takes the
    // elements out again.
    let mut again = AdtBatch::new();
    let mut del = AdtBatch::new();
    for i in 0..10_000u32 {
        again.push(i + 1, &tcp(i, 80));
        del.push(i + 1, &tcp(i, 80));
    }
    h.send_batch(IpsetCmd::Add, &s, again, true).unwrap();
    assert_eq!(h.list_headers(Some(&s)).unwrap()[0].elements, 10_000);
    h.send_batch(IpsetCmd::Del, &s, del, false).unwrap();
    assert_eq!(h.list_headers(Some(&s)).unwrap()[0].elements, 0);
}

#[test]
fn replace_swaps_in_a_full_set_and_keeps_options() {
    let Some(mut h) = open() else { return };
    let s = name("KUBE-NODE-PORT-TCP");
    let opts = CreateOptions::default().port_range(0, 65535).comment();
    h.create(&s, SetType::BitmapPort, &opts, false).unwrap();
    h.add(&s, &Entry::port(1), false).unwrap();
    let want: Vec<Entry> = (30000..30100).map(Entry::port).collect();
    h.replace(&s, &want).unwrap();
    let sets = h.list(None).unwrap();
    assert_eq!(sets.len(), 1, "the temporary set is gone");
    assert_eq!(sets[0].name, s);
    assert!(sets[0].options.comment);
    assert_eq!(sets[0].entries, want);
}

#[test]
fn sync_touches_only_the_difference() {
    let Some(mut h) = open() else { return };
    let s = name("KUBE-6-CLUSTER-IP");
    let opts = CreateOptions::default().family(Family::Inet6);
    h.create(&s, SetType::HashIpPort, &opts, false).unwrap();
    let e = |i: u16| Entry::ip_port(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i), 17, 53);
    h.add_many(&s, &[e(1), e(2), e(3)], false).unwrap();
    let stats = h.sync(&s, &[e(2), e(3), e(4), e(5)]).unwrap();
    assert_eq!((stats.added, stats.deleted), (2, 1));
    let again = h.sync(&s, &[e(2), e(3), e(4), e(5)]).unwrap();
    assert_eq!((again.added, again.deleted), (0, 0));
    let mut got = h.list(Some(&s)).unwrap().remove(0).entries;
    got.sort_by_key(|x| format!("{x:?}"));
    let mut want = vec![e(2), e(3), e(4), e(5)];
    want.sort_by_key(|x| format!("{x:?}"));
    assert_eq!(got, want);
}

#[test]
fn referenced_set_refuses_destroy() {
    if !private_netns() || !require_tool("iptables-legacy") {
        return;
    }
    let mut h = IpSet::new().unwrap();
    let s = name("X");
    h.create(&s, SetType::HashIp, &CreateOptions::default(), false)
        .unwrap();
    let rule = [
        "-A",
        "INPUT",
        "-m",
        "set",
        "--match-set",
        "X",
        "src",
        "-j",
        "ACCEPT",
    ];
    assert_eq!(run("iptables-legacy", &rule, "").code, 0);
    let err = h.destroy(Some(&s)).unwrap_err();
    assert_eq!(
        err.kernel().unwrap().description.as_deref(),
        Some("Set cannot be destroyed: it is in use by a kernel component")
    );
    assert_eq!(h.list_headers(Some(&s)).unwrap()[0].references, 1);
    // Replacing a referenced set works: rules follow the name.
    h.replace(&s, &[Entry::ip(Ipv4Addr::new(1, 2, 3, 4))])
        .unwrap();
    assert_eq!(h.list(Some(&s)).unwrap()[0].references, 1);
}

#[test]
fn every_type_this_kernel_offers() {
    let Some(mut h) = open() else { return };
    for (i, t) in SetType::ALL.iter().enumerate() {
        let s = name(&format!("t{i}"));
        let mut o = CreateOptions::default();
        let words: Vec<&str> = match t {
            SetType::BitmapPort => vec!["range", "0-100"],
            SetType::BitmapIp | SetType::BitmapIpMac => vec!["range", "10.0.0.0/24"],
            _ => vec![],
        };
        if !words.is_empty() {
            o = CreateOptions::parse(*t, &words).unwrap();
        }
        match h.create(&s, *t, &o, false) {
            Ok(()) => {
                let set = &h.list(Some(&s)).unwrap()[0];
                assert_eq!(set.set_type, *t);
            }
            // Types this kernel lacks (hash:mac, hash:ip,mark, ...).
            Err(e) => assert_eq!(
                e.errno(),
                Some(kipvs_ipset::wire::IPSET_ERR_FIND_TYPE),
                "{t}: {e}"
            ),
        }
    }
}

/// Creates `name` at an older `revision` of `set_type` than the newest
/// (what an older ipset made): the library itself always asks for the
/// kernel's newest, so the request is built by hand.
fn create_at_revision(name: &SetName, set_type: SetType, revision: u8, family: u8) {
    use kipvs_ipset::wire::{CmdAttr, IpsetCmd, IpsetMessage, NETLINK_NETFILTER};
    use kipvs_netlink::{core::NLM_F_REQUEST, Socket};
    let mut sock = Socket::new(NETLINK_NETFILTER).unwrap();
    let msg = IpsetMessage::request(
        IpsetCmd::Create,
        7,
        vec![
            CmdAttr::SetName(name.to_string()),
            CmdAttr::TypeName(set_type.name().into()),
            CmdAttr::Revision(revision),
            CmdAttr::Family(family),
            CmdAttr::CreateData(vec![]),
        ],
    );
    sock.request(msg, NLM_F_REQUEST).unwrap();
}

#[test]
fn element_options_newer_than_the_sets_revision_are_refused_in_ipsets_words() {
    let Some(mut h) = open() else { return };
    let s = name("old-net");
    // hash:net revision 1 predates nomatch (revision 2).
    create_at_revision(&s, SetType::HashNet, 1, 2);
    let kind = h.kind(&s).unwrap();
    assert_eq!((kind.set_type, kind.revision), (SetType::HashNet, 1));
    let net = Entry::net(Ipv4Addr::new(10, 0, 0, 0), 8);
    let err = h.add(&s, &net.clone().nomatch(), false).unwrap_err();
    let kipvs_ipset::Error::Invalid { reason, .. } = &err else {
        panic!("refused by the kernel, not before sending: {err}");
    };
    assert!(h.list(Some(&s)).unwrap()[0].entries.is_empty());
    let bulk = h
        .add_many(&s, &[net.clone(), net.clone().nomatch()], true)
        .unwrap_err();
    assert_eq!(bulk.index, 1);
    h.add(&s, &net, false).unwrap();
    if require_tool("ipset") {
        let out = run("ipset", &["add", "old-net", "10.1.0.0/16", "nomatch"], "");
        assert_ne!(out.code, 0);
        let first = out.stderr.lines().next().unwrap_or_default();
        // "ipset v7.17: Argument `nomatch' is supported ..."
        assert_eq!(first.split_once(": ").map(|x| x.1), Some(reason.as_str()));
    }
}

#[test]
fn sync_reconciles_the_extensions_a_listing_shows() {
    let Some(mut h) = open() else { return };
    let s = name("ext");
    let mut opts = CreateOptions::default().timeout(600).comment().counters();
    opts.skbinfo = true;
    h.create(&s, SetType::HashNet, &opts, false).unwrap();
    let net = |i: u8| Entry::net(Ipv4Addr::new(10, i, 0, 0), 16);
    let mut counted = net(1).comment("a").timeout(500);
    counted.packets = Some(5);
    counted.bytes = Some(500);
    let mut marked = net(3);
    marked.skbmark = Some((1, u32::MAX));
    marked.skbqueue = Some(2);
    h.add_many(
        &s,
        &[counted, net(2), marked, net(4).nomatch(), net(5).timeout(0)],
        false,
    )
    .unwrap();

    let want = vec![
        net(1).comment("b"),
        net(2).nomatch(),
        net(3),
        net(4),
        net(5).timeout(100),
        net(6),
    ];
    let stats = h.sync(&s, &want).unwrap();
    assert_eq!((stats.added, stats.deleted, stats.updated), (1, 0, 5));
    let again = h.sync(&s, &want).unwrap();
    assert_eq!((again.added, again.deleted, again.updated), (0, 0, 0));

    let listed = h.list(Some(&s)).unwrap().remove(0).entries;
    let get = |i: u8| {
        listed
            .iter()
            .find(|e| e.key() == net(i))
            .unwrap_or_else(|| panic!("10.{i}.0.0/16 is listed"))
    };
    let one = get(1);
    assert_eq!(one.comment.as_deref(), Some("b"));
    // Kept its remaining lifetime (not the set's 600) and its counters.
    assert!(matches!(one.timeout, Some(400..=500)), "{one:?}");
    assert_eq!((one.packets, one.bytes), (Some(5), Some(500)));
    assert!(get(2).nomatch);
    assert_eq!((get(3).skbmark, get(3).skbqueue), (None, None));
    assert!(!get(4).nomatch);
    assert!(matches!(get(5).timeout, Some(1..=100)), "{:?}", get(5));
    assert!(matches!(get(6).timeout, Some(500..=600)), "{:?}", get(6));
    assert_eq!(get(6).comment, None);

    // ipset itself reads the same state back.
    if require_tool("ipset") {
        let out = run("ipset", &["save", "ext"], "");
        assert_eq!(out.code, 0, "{}", out.stderr);
        let line = |net: &str| {
            out.stdout
                .lines()
                .find(|l| l.starts_with(&format!("add ext {net} ")))
                .unwrap_or_else(|| panic!("{net} in {}", out.stdout))
                .to_owned()
        };
        assert!(line("10.1.0.0/16").ends_with(" packets 5 bytes 500 comment \"b\""));
        assert!(line("10.2.0.0/16").contains(" nomatch "));
        assert!(!line("10.3.0.0/16").contains("skb"));
        assert!(!line("10.4.0.0/16").contains("nomatch"));
    }
}

#[test]
fn sync_changes_an_interface_wildcard_by_delete_and_add() {
    let Some(mut h) = open() else { return };
    let s = name("ifaces");
    let opts = CreateOptions::default().counters();
    h.create(&s, SetType::HashNetIface, &opts, false).unwrap();
    let parse = |text: &str| {
        let words: Vec<&str> = text.split_whitespace().collect();
        let mut e = Entry::parse(SetType::HashNetIface, Family::Inet, words[0]).unwrap();
        e.parse_options(&words[1..]).unwrap();
        e
    };
    h.add(&s, &parse("10.1.0.0/16,eth packets 3 bytes 30"), false)
        .unwrap();
    let want = [parse("10.1.0.0/16,eth wildcard")];
    let stats = h.sync(&s, &want).unwrap();
    assert_eq!((stats.added, stats.deleted, stats.updated), (0, 0, 1));
    let listed = h.list(Some(&s)).unwrap().remove(0).entries;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].wildcard, "{listed:?}");
    assert_eq!((listed[0].packets, listed[0].bytes), (Some(3), Some(30)));
    let again = h.sync(&s, &want).unwrap();
    assert_eq!((again.added, again.deleted, again.updated), (0, 0, 0));
}
