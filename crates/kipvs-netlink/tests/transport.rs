//! The transport against the host kernel, in private network namespaces.

use kipvs_netlink::{resolve_family, sys::constants::*, Error, NetNs, Socket};
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::{
    link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage},
    RouteNetlinkMessage,
};

fn veth(name: &str, peer: &str) -> RouteNetlinkMessage {
    let mut peer_msg = LinkMessage::default();
    peer_msg.attributes.push(LinkAttribute::IfName(peer.into()));
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.into()));
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(netlink_packet_route::link::InfoData::Veth(
            netlink_packet_route::link::InfoVeth::Peer(peer_msg),
        )),
    ]));
    RouteNetlinkMessage::NewLink(msg)
}

fn link_names(sock: &mut Socket) -> Vec<String> {
    let mut names: Vec<String> = sock
        .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => l.attributes.into_iter().find_map(|a| match a {
                LinkAttribute::IfName(n) => Some(n),
                _ => None,
            }),
            _ => None,
        })
        .collect();
    names.sort();
    names
}

#[test]
fn batch_matches_each_error_to_its_request() {
    if !kipvs_testutil::private_netns() {
        return;
    }
    let mut sock = Socket::new(NETLINK_ROUTE).unwrap();
    let create = NLM_F_CREATE | NLM_F_EXCL;
    let msgs = vec![
        (veth("a0", "a1"), create),
        (veth("a0", "a2"), create), // a0 exists: EEXIST
        (veth("b0", "b1"), create),
        (veth("b0", "b2"), create), // EEXIST again
        (veth("c0", "c1"), create),
    ];
    let errors = sock.batch(msgs).unwrap();
    let failed: Vec<(usize, i32)> = errors.iter().map(|e| (e.index, e.error.errno)).collect();
    assert_eq!(failed, vec![(1, libc_eexist()), (3, libc_eexist())]);
    assert_eq!(
        link_names(&mut sock),
        ["a0", "a1", "b0", "b1", "c0", "c1", "lo"]
    );
}

#[test]
fn batch_splits_across_many_sendmsg_calls() {
    if !kipvs_testutil::private_netns() {
        return;
    }
    let options = kipvs_netlink::SocketOptions {
        batch_messages: 7,
        ..Default::default()
    };
    let mut sock = Socket::with_options(NETLINK_ROUTE, options).unwrap();
    // 60 requests in chunks of 7: every one of them fails, and every failure
    // must be reported with its own index.
    let msgs = (0..60).map(|i| {
        let mut m = LinkMessage::default();
        m.header.index = 100_000 + i;
        (RouteNetlinkMessage::DelLink(m), 0)
    });
    let errors = sock.batch(msgs).unwrap();
    let indexes: Vec<usize> = errors.iter().map(|e| e.index).collect();
    assert_eq!(indexes, (0..60).collect::<Vec<_>>());
    assert!(errors.iter().all(|e| e.error.errno == 19), "{errors:?}"); // ENODEV
}

#[test]
fn request_error_keeps_errno_and_ext_ack() {
    if !kipvs_testutil::private_netns() {
        return;
    }
    let mut sock = Socket::new(NETLINK_ROUTE).unwrap();
    sock.request(veth("x0", "x1"), NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
        .unwrap();
    let err = sock
        .request(veth("x0", "x2"), NLM_F_CREATE | NLM_F_EXCL)
        .unwrap_err();
    assert!(err.is_exists(), "{err}");
}

#[test]
fn generic_families_resolve_and_missing_ones_say_so() {
    if !kipvs_testutil::private_netns() {
        return;
    }
    let mut sock = Socket::new(NETLINK_GENERIC).unwrap();
    assert_eq!(resolve_family(&mut sock, "nlctrl").unwrap(), 16); // GENL_ID_CTRL
    let err = resolve_family(&mut sock, "KIPVS-NO-SUCH").unwrap_err();
    assert!(matches!(err, Error::FamilyNotFound { .. }), "{err:?}");
}

#[test]
fn socket_opens_in_another_namespace_without_moving_the_caller() {
    if !kipvs_testutil::private_netns() {
        return;
    }
    // Make a second namespace and keep a handle to it: a thread that
    // unshares again and parks, its /proc/.../ns/net as the handle.
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let parked = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        tx.send(nix::unistd::gettid()).unwrap();
        let _ = stop_rx.recv();
    });
    let tid = rx.recv().unwrap();
    let other = NetNs::Path(format!("/proc/self/task/{tid}/ns/net").into());

    let mut there = Socket::new_in(NETLINK_ROUTE, Default::default(), &other).unwrap();
    there
        .request(veth("far0", "far1"), NLM_F_CREATE | NLM_F_EXCL)
        .unwrap();
    let mut here = Socket::new(NETLINK_ROUTE).unwrap();
    assert_eq!(link_names(&mut there), ["far0", "far1", "lo"]);
    assert_eq!(link_names(&mut here), ["lo"]);
    stop_tx.send(()).unwrap();
    parked.join().unwrap();
}

fn libc_eexist() -> i32 {
    17
}
