//! Real connections through IPVS: counters, zeroing, the connection table.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    thread,
    time::{Duration, Instant},
};

use kipvs_ipvs::{connections, Destination, ForwardMethod, Ipvs, Service, ServiceKey};
use kipvs_testutil::sh;

use crate::{ip, ipvsadm, setup_with_ipvsadm, tcp};

/// Connects to `addr`, says hello, reads the answer, and closes.
fn talk(addr: &str) {
    let mut s = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.write_all(b"hello").unwrap();
    let mut buf = [0; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
}

/// Echoes on `listener` for `n` connections, on a thread of this
/// namespace.
fn echo(listener: TcpListener, n: usize) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for _ in 0..n {
            let (mut c, _) = listener.accept().unwrap();
            let mut buf = [0; 5];
            c.read_exact(&mut buf).unwrap();
            c.write_all(&buf).unwrap();
        }
    })
}

/// The counters are summed by the kernel's estimator every 2 s.
fn wait_for_conns(ipvs: &mut Ipvs, key: &ServiceKey, n: u64) -> kipvs_ipvs::Stats {
    let start = Instant::now();
    loop {
        let s = ipvs.service(key).unwrap().stats;
        if s.conns >= n || start.elapsed() > Duration::from_secs(10) {
            return s;
        }
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn counters_zero_and_connection_table() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    if !kipvs_testutil::require_link_kind("dummy") {
        return;
    }
    sh(
        "ip link set lo up && ip link add d0 type dummy && ip link set d0 up \
        && ip addr add 10.0.0.1/32 dev d0 && ip addr add 192.168.1.1/24 dev d0 \
        && ip -6 addr add 2001:db8::1/128 dev d0 nodad \
        && ip -6 addr add 2001:db8:1::1/64 dev d0 nodad",
    );
    // The real servers are local addresses: one listener on [::]:80 serves
    // both.
    let v4 = tcp("10.0.0.1", 80);
    ipvs.add_service(
        &Service::new(v4)
            .scheduler("rr".parse().unwrap())
            .persistent(60),
    )
    .unwrap();
    ipvs.add_destination(
        &v4,
        &Destination::new(ip("192.168.1.1"), 80).forward(ForwardMethod::Masq),
    )
    .unwrap();
    let v6 = tcp("2001:db8::1", 80);
    ipvs.add_service(&Service::new(v6).scheduler("rr".parse().unwrap()))
        .unwrap();
    ipvs.add_destination(
        &v6,
        &Destination::new(ip("2001:db8:1::1"), 80).forward(ForwardMethod::Masq),
    )
    .unwrap();

    let listener = TcpListener::bind("[::]:80").unwrap();
    let server = echo(listener, 4);
    for _ in 0..2 {
        talk("10.0.0.1:80");
        talk("[2001:db8::1]:80");
    }
    server.join().unwrap();

    let s4 = wait_for_conns(&mut ipvs, &v4, 2);
    assert_eq!(s4.conns, 2, "{s4:?}");
    assert!(s4.inpkts >= 6 && s4.inbytes > 0, "{s4:?}");
    let s6 = wait_for_conns(&mut ipvs, &v6, 2);
    assert_eq!(s6.conns, 2, "{s6:?}");
    let dests = ipvs.destinations(&v4).unwrap();
    assert_eq!(dests[0].forward, ForwardMethod::Masq);
    assert_eq!(dests[0].stats.conns, 2);

    // The connection table: IPv4 and IPv6 rows, and the persistence
    // template of the IPv4 service (client port 0).
    let conns = connections().unwrap();
    let tcp4: Vec<_> = conns
        .iter()
        .filter(|c| c.virtual_addr == ip("10.0.0.1") && c.client_port != 0)
        .collect();
    assert_eq!(tcp4.len(), 2, "{conns:#?}");
    assert!(tcp4
        .iter()
        .all(|c| c.protocol == "TCP" && c.dest == ip("192.168.1.1") && c.virtual_port == 80));
    let tcp6 = conns
        .iter()
        .filter(|c| c.protocol == "TCP" && c.virtual_addr == ip("2001:db8::1"))
        .count();
    assert_eq!(tcp6, 2, "{conns:#?}");
    let template = conns
        .iter()
        .find(|c| c.client_port == 0)
        .unwrap_or_else(|| panic!("no persistence template: {conns:#?}"));
    assert_eq!(
        (
            template.protocol.as_str(),
            template.dest,
            template.virtual_port
        ),
        ("TCP", ip("192.168.1.1"), 80)
    );
    assert_eq!(conns.len(), 5, "{conns:#?}");
    // ipvsadm reads the same file.
    let listed = ipvsadm(&["-Lnc"]);
    assert_eq!(listed.lines().count() - 2, conns.len(), "{listed}");

    ipvs.zero(Some(&v4)).unwrap();
    assert_eq!(ipvs.service(&v4).unwrap().stats.conns, 0);
    assert_eq!(ipvs.service(&v6).unwrap().stats.conns, 2);
    ipvs.zero(None).unwrap();
    assert_eq!(ipvs.service(&v6).unwrap().stats.conns, 0);
    let err = ipvs.zero(Some(&tcp("10.9.9.9", 1))).unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
