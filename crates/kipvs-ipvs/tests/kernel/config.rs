//! Timeouts, version info.

use kipvs_ipvs::Timeouts;

use crate::{ipvsadm, setup, setup_with_ipvsadm};

#[test]
fn timeouts_set_and_read_back() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let t = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };
    ipvs.set_timeouts(&t).unwrap();
    assert_eq!(ipvs.timeouts().unwrap(), t);
    assert_eq!(
        ipvsadm(&["-L", "--timeout"]),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    // 0 leaves a timeout as it is.
    ipvs.set_timeouts(&Timeouts {
        tcp: 0,
        tcp_fin: 0,
        udp: 45,
    })
    .unwrap();
    assert_eq!(
        ipvs.timeouts().unwrap(),
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 45
        }
    );
}

#[test]
fn info_matches_ipvsadm() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let info = ipvs.info().unwrap();
    let header = format!(
        "IP Virtual Server version {}.{}.{} (size={})",
        info.version >> 16,
        (info.version >> 8) & 0xff,
        info.version & 0xff,
        info.conn_tab_size
    );
    let listed = ipvsadm(&["-Ln"]);
    assert_eq!(listed.lines().next(), Some(header.as_str()));
    assert!(info.version >= 0x010201);
}

#[test]
fn handles_open_in_another_namespace() {
    let Some(mut here) = setup() else { return };
    // The namespace of this test thread, named by path, from a handle made
    // on another thread.
    let path = format!("/proc/{}/task/{}/ns/net", std::process::id(), nix_tid());
    let mut there = kipvs_ipvs::Ipvs::new_in(&kipvs_ipvs::NetNs::Path(path.into())).unwrap();
    let key = crate::tcp("10.0.0.1", 80);
    there.add_service(&kipvs_ipvs::Service::new(key)).unwrap();
    assert_eq!(here.services().unwrap().len(), 1);
}

fn nix_tid() -> i32 {
    // gettid(2) through /proc: this thread's id.
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .expect("thread id")
}
