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

/// An ipset `PROTOCOL` request as raw bytes: the transport sends any
/// message type, and this one needs no set.
struct IpsetProtocol;

impl netlink_packet_core::NetlinkSerializable for IpsetProtocol {
    fn message_type(&self) -> u16 {
        // NFNL_SUBSYS_IPSET << 8 | IPSET_CMD_PROTOCOL
        6 << 8 | 1
    }

    fn buffer_len(&self) -> usize {
        4 + 8
    }

    fn serialize(&self, buffer: &mut [u8]) {
        // nfgenmsg: AF_INET, NFNETLINK_V0, res_id 0; then
        // IPSET_ATTR_PROTOCOL (1) = 7, a u8 attribute padded to 8 bytes.
        buffer[..12].copy_from_slice(&[2, 0, 0, 0, 5, 0, 1, 0, 7, 0, 0, 0]);
    }
}

/// Takes CAP_NET_ADMIN out of this thread's effective set (capabilities
/// are per thread; the test's other threads keep theirs).
#[allow(unsafe_code)]
fn drop_net_admin_in_this_thread() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const CAP_NET_ADMIN: u32 = 12;
    // _LINUX_CAPABILITY_VERSION_3: two data structs; pid 0 is this thread.
    let mut header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget(2) and capset(2) with the version 3 header and an
    // array of two data structs, the layouts the kernel reads and writes;
    // both point to live, writable memory of those layouts.
    unsafe {
        let get = nix::libc::syscall(nix::libc::SYS_capget, &mut header, data.as_mut_ptr());
        assert_eq!(get, 0, "capget");
        data[0].effective &= !(1 << CAP_NET_ADMIN);
        let set = nix::libc::syscall(nix::libc::SYS_capset, &mut header, data.as_ptr());
        assert_eq!(set, 0, "capset");
    }
}

/// nfnetlink refuses a sender without CAP_NET_ADMIN once per datagram, for
/// its first message, and drops the rest: no ack for the batch's barrier
/// ever comes. The batch must end at the refusal, not wait for the
/// socket's timeout (a daemon that opens its sockets as root and then
/// drops its capabilities meets this).
#[test]
fn batch_without_privilege_ends_at_the_refusal() {
    if !kipvs_testutil::private_netns() {
        return;
    }
    let mut sock = Socket::new(NETLINK_NETFILTER).unwrap();
    let batch = || (0..3).map(|_| (IpsetProtocol, 0));
    assert!(sock.batch(batch()).unwrap().is_empty(), "as root");
    drop_net_admin_in_this_thread();
    for round in 0..2 {
        let started = std::time::Instant::now();
        let refused = sock.batch(batch()).unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "round {round}: {:?}",
            started.elapsed()
        );
        assert_eq!(refused.len(), 1, "round {round}: {refused:?}");
        assert_eq!(
            (refused[0].index, refused[0].error.errno),
            (0, nix::libc::EPERM)
        );
    }
}
