//! Batches: refusals by index, the big table, and speed.

use std::time::{Duration, Instant};

use kipvs_ipvs::{Destination, ForwardMethod, Ipvs, Op, Service, ServiceKey};

use crate::{ip, setup, setup_alone, tcp, udp};

#[test]
fn refusals_come_back_by_index_with_words() {
    let Some(mut ipvs) = setup() else { return };
    let a = tcp("10.0.0.1", 80);
    let b = udp("10.0.0.2", 53);
    let errors = ipvs
        .apply([
            Op::AddService(Service::new(a)),
            Op::AddService(Service::new(a)),
            Op::AddDestination(b, Destination::new(ip("192.168.1.1"), 53)),
            Op::AddService(Service::new(b)),
            Op::DeleteService(tcp("10.9.9.9", 9)),
            Op::AddDestination(b, Destination::new(ip("192.168.1.1"), 53)),
        ])
        .unwrap();
    let got: Vec<(usize, i32)> = errors.iter().map(|e| (e.index, e.error.errno)).collect();
    // EEXIST, ESRCH (no such service), ESRCH.
    assert_eq!(got, vec![(1, 17), (2, 3), (4, 3)]);
    assert_eq!(
        errors[0].error.context.as_deref(),
        Some("adding service TCP 10.0.0.1:80")
    );
    assert_eq!(
        errors[1].error.context.as_deref(),
        Some("adding real server 192.168.1.1:53 to service UDP 10.0.0.2:53")
    );
    // The kernel went on past each refusal.
    assert_eq!(ipvs.services().unwrap().len(), 2);
    assert_eq!(ipvs.destinations(&b).unwrap().len(), 1);
}

fn big_key(i: u32) -> ServiceKey {
    ServiceKey::Addr {
        protocol: kipvs_ipvs::Protocol::Tcp,
        addr: ip(&format!(
            "10.{}.{}.{}",
            100 + i / 65536,
            (i / 256) % 256,
            i % 256
        )),
        port: 80,
    }
}

/// 10,000 services with a real server each, in one `apply`, read back
/// whole: the batching keeps the acks under the receive buffer (no
/// ENOBUFS) and the dumps come back complete.
#[test]
fn ten_thousand_services_in_one_apply() {
    let Some(mut ipvs) = setup_alone() else {
        return;
    };
    const N: u32 = 10_000;
    let mut ops = Vec::new();
    for i in 0..N {
        let key = big_key(i);
        ops.push(Op::AddService(
            Service::new(key).scheduler("rr".parse().unwrap()),
        ));
        ops.push(Op::AddDestination(
            key,
            Destination::new(ip(&format!("192.168.{}.{}", i / 256, i % 256)), 8080)
                .forward(ForwardMethod::Masq),
        ));
    }
    let t = Instant::now();
    let errors = ipvs.apply(ops).unwrap();
    let apply = t.elapsed();
    assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(3)]);

    let t = Instant::now();
    let services = ipvs.services().unwrap();
    let dump = t.elapsed();
    assert_eq!(services.len(), N as usize);

    let t = Instant::now();
    let table = ipvs.table().unwrap();
    let full = t.elapsed();
    assert_eq!(table.len(), N as usize);
    assert!(table.iter().all(|(_, d)| d.len() == 1 && d[0].port == 8080));

    // The same read one dump after another on one socket.
    let t = Instant::now();
    for (svc, _) in &table {
        ipvs.destinations(&svc.key).unwrap();
    }
    let serial = t.elapsed() + dump;
    // And by the real ipvsadm, which also dumps one service at a time.
    let t = Instant::now();
    let ipvsadm_ok =
        kipvs_testutil::in_vm() && kipvs_testutil::run("ipvsadm", &["-Ln"], "").code == 0;
    let ipvsadm = t.elapsed();

    // Refusals alone fill the receive queue fastest: 10,000 of them.
    let t = Instant::now();
    let errors = ipvs
        .apply((0..N).map(|i| Op::DeleteService(big_key(i + N))))
        .unwrap();
    let refused = t.elapsed();
    assert_eq!(errors.len(), N as usize);
    assert!(errors.iter().all(|e| e.error.errno == 3));

    eprintln!(
        "kipvs-ipvs bench: {N} services + {N} real servers: apply {apply:?} ({:.1} us/op), \
         services() {dump:?}, table() {full:?} (serial dumps {serial:?}, \
         ipvsadm -Ln {}), {N} refusals {refused:?}",
        apply.as_secs_f64() * 1e6 / (2 * N) as f64,
        if ipvsadm_ok {
            format!("{ipvsadm:?}")
        } else {
            "not run".into()
        },
    );
}

/// `apply` against one request (and ack) per change, and against a fresh
/// handle per change as `ipvsadm -R` works (a socket and a family lookup
/// per line). Each is timed twice and the faster run counts, so a busy
/// machine does not decide the outcome.
#[test]
fn apply_is_far_faster_than_one_request_per_ack() {
    let Some(mut ipvs) = setup_alone() else {
        return;
    };
    const N: u32 = 1_000;
    let (mut one_by_one, mut batched, mut fresh) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..2 {
        ipvs.flush().unwrap();
        let t = Instant::now();
        for i in 0..N {
            ipvs.add_service(&Service::new(big_key(i))).unwrap();
        }
        one_by_one = one_by_one.min(t.elapsed());

        ipvs.flush().unwrap();
        let t = Instant::now();
        let errors = ipvs
            .apply((0..N).map(|i| Op::AddService(Service::new(big_key(i)))))
            .unwrap();
        batched = batched.min(t.elapsed());
        assert!(errors.is_empty());
        assert_eq!(ipvs.services().unwrap().len(), N as usize);

        ipvs.flush().unwrap();
        let t = Instant::now();
        for i in 0..N {
            Ipvs::new()
                .unwrap()
                .add_service(&Service::new(big_key(i)))
                .unwrap();
        }
        fresh = fresh.min(t.elapsed());
    }
    eprintln!(
        "kipvs-ipvs bench: {N} services: apply {batched:?}, one request per ack {one_by_one:?} \
         ({:.1}x), a handle per change {fresh:?} ({:.1}x)",
        one_by_one.as_secs_f64() / batched.as_secs_f64(),
        fresh.as_secs_f64() / batched.as_secs_f64(),
    );
    assert!(
        batched < one_by_one,
        "apply {batched:?} vs one by one {one_by_one:?}"
    );
    assert!(
        batched * 3 < fresh,
        "apply {batched:?} vs a handle each {fresh:?}"
    );
}
