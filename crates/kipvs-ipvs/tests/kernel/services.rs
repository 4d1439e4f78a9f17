//! Virtual services: add, read, edit, delete, every scheduler and option.

use kipvs_ipvs::{Scheduler, Service, ServiceFlags, ServiceKey};
use kipvs_testutil::assert_same;

use crate::{ip, ipvsadm, setup, setup_with_ipvsadm, tcp, udp};

#[test]
fn add_read_edit_delete() {
    let Some(mut ipvs) = setup() else { return };
    let key = tcp("10.0.0.1", 80);
    let svc = Service::new(key).scheduler("rr".parse().unwrap());
    ipvs.add_service(&svc).unwrap();

    let got = ipvs.service(&key).unwrap();
    assert_eq!(got.key, key);
    assert_eq!(got.scheduler.as_str(), "rr");
    // The kernel marks every service it hashed.
    assert!(got.flags.has(ServiceFlags::HASHED));
    assert_eq!(ipvs.services().unwrap(), vec![got.clone()]);

    let edited = Service::new(key)
        .scheduler("wrr".parse().unwrap())
        .persistent(300);
    ipvs.edit_service(&edited).unwrap();
    let got = ipvs.service(&key).unwrap();
    assert_eq!(got.scheduler.as_str(), "wrr");
    assert!(got.flags.has(ServiceFlags::PERSISTENT));
    assert_eq!(got.timeout, 300);

    ipvs.delete_service(&key).unwrap();
    let err = ipvs.service(&key).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn kernel_errors_say_what_was_being_done() {
    let Some(mut ipvs) = setup() else { return };
    let key = tcp("10.0.0.1", 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let err = ipvs.add_service(&Service::new(key)).unwrap_err();
    assert!(err.is_exists(), "{err}");
    assert!(
        err.to_string()
            .starts_with("adding service TCP 10.0.0.1:80: File exists"),
        "{err}"
    );
    let missing = udp("2001:db8::9", 53);
    let err = ipvs.delete_service(&missing).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string()
            .starts_with("deleting service UDP [2001:db8::9]:53: No such process"),
        "{err}"
    );
    // A scheduler the kernel does not have: ENOENT from the module lookup.
    let bogus = Service::new(tcp("10.0.0.2", 80)).scheduler("nosuch".parse().unwrap());
    let err = ipvs.add_service(&bogus).unwrap_err();
    assert_eq!(err.errno(), Some(2), "{err}");
}

#[test]
fn every_scheduler() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let mut expected = String::new();
    for (i, name) in Scheduler::KNOWN.iter().enumerate() {
        let key = tcp(&format!("10.0.1.{}", i + 1), 80);
        ipvs.add_service(&Service::new(key).scheduler(name.parse().unwrap()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ipvs.service(&key).unwrap().scheduler.as_str(), *name);
        expected.push_str(&format!("-A -t 10.0.1.{}:80 -s {name}\n", i + 1));
    }
    let mut lines: Vec<String> = ipvsadm(&["-Sn"]).lines().map(String::from).collect();
    lines.sort();
    let mut want: Vec<&str> = expected.lines().collect();
    want.sort();
    assert_same("ipvsadm -Sn", &want.join("\n"), &lines.join("\n"));
}

#[test]
fn persistence_netmasks_and_one_packet() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let v4 = tcp("10.0.0.1", 443);
    let mut s4 = Service::new(v4)
        .scheduler("rr".parse().unwrap())
        .persistent(600);
    s4.netmask = 0xffff_ff00;
    ipvs.add_service(&s4).unwrap();

    let v6 = udp("2001:db8::1", 53);
    let mut s6 = Service::new(v6)
        .scheduler("rr".parse().unwrap())
        .persistent(60);
    s6.netmask = 64;
    s6.flags.0 |= ServiceFlags::ONEPACKET;
    ipvs.add_service(&s6).unwrap();

    let got4 = ipvs.service(&v4).unwrap();
    assert_eq!((got4.timeout, got4.netmask), (600, 0xffff_ff00));
    let got6 = ipvs.service(&v6).unwrap();
    assert_eq!((got6.timeout, got6.netmask), (60, 64));
    assert!(got6
        .flags
        .has(ServiceFlags::ONEPACKET | ServiceFlags::PERSISTENT));

    let saved = ipvsadm(&["-Sn"]);
    assert!(
        saved.contains("-A -t 10.0.0.1:443 -s rr -p 600 -M 255.255.255.0\n"),
        "{saved}"
    );
    assert!(
        saved.contains("-A -u [2001:db8::1]:53 -s rr -p 60 -M 64 -o\n"),
        "{saved}"
    );
}

#[test]
fn scheduler_flags_of_sh_and_mh() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let mut sh = Service::new(tcp("10.0.0.1", 80)).scheduler("sh".parse().unwrap());
    sh.flags.0 |= ServiceFlags::SCHED1 | ServiceFlags::SCHED2;
    ipvs.add_service(&sh).unwrap();
    let mut mh = Service::new(ServiceKey::Fwmark {
        mark: 7,
        ipv6: true,
    })
    .scheduler("mh".parse().unwrap());
    mh.flags.0 |= ServiceFlags::SCHED2;
    ipvs.add_service(&mh).unwrap();
    let listed = ipvsadm(&["-Ln"]);
    assert!(
        listed.contains("TCP  10.0.0.1:80 sh (sh-fallback,sh-port)"),
        "{listed}"
    );
    assert!(listed.contains("FWM  7 IPv6 mh (mh-port)"), "{listed}");
    let got = ipvs.service(&mh.key).unwrap();
    assert_eq!(
        got.key,
        ServiceKey::Fwmark {
            mark: 7,
            ipv6: true
        }
    );
    assert!(got.flags.has(ServiceFlags::SCHED2));
}

#[test]
fn persistence_engine() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    // The kernel loads ip_vs_pe_sip on demand through /sbin/modprobe,
    // which a minimal VM image may lack.
    let _ = kipvs_testutil::run("modprobe", &["-q", "ip_vs_pe_sip"], "");
    let mut sip = Service::new(udp("10.0.0.2", 5060)).persistent(60);
    sip.pe_name = Some("sip".into());
    ipvs.add_service(&sip).unwrap();
    let got = ipvs.service(&sip.key).unwrap();
    assert_eq!(got.pe_name.as_deref(), Some("sip"));
    let saved = ipvsadm(&["-Sn"]);
    assert!(saved.contains("--pe sip"), "{saved}");
}

#[test]
fn services_made_by_ipvsadm_read_back() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    ipvsadm(&["-A", "-t", "10.0.0.5:8080", "-s", "lblcr", "-p", "120"]);
    ipvsadm(&["-A", "--sctp-service", "[2001:db8::5]:9999", "-s", "ovf"]);
    let mut services = ipvs.services().unwrap();
    services.sort_by_key(|s| s.key);
    assert_eq!(services.len(), 2);
    assert_eq!(services[0].key, tcp("10.0.0.5", 8080));
    assert_eq!(services[0].timeout, 120);
    assert_eq!(
        services[1].key,
        ServiceKey::Addr {
            protocol: kipvs_ipvs::Protocol::Sctp,
            addr: ip("2001:db8::5"),
            port: 9999
        }
    );
    assert_eq!(services[1].scheduler.as_str(), "ovf");
}

#[test]
fn flush_deletes_every_service() {
    let Some(mut ipvs) = setup() else { return };
    for i in 1..=20 {
        ipvs.add_service(&Service::new(tcp("10.0.0.1", i))).unwrap();
    }
    assert_eq!(ipvs.services().unwrap().len(), 20);
    ipvs.flush().unwrap();
    assert!(ipvs.services().unwrap().is_empty());
}

/// The kernel takes an ESP service over netlink (ipvsadm cannot make one);
/// the listing leaves it out rather than fail, and flush deletes it.
#[test]
fn services_of_other_protocols_do_not_break_the_listing() {
    use kipvs_ipvs::wire::{IpvsAttr, IpvsCmd, IpvsMessage, SvcAttr, SvcFlags};
    use kipvs_netlink::{generic::GenlMessage, resolve_family, sys::protocols::NETLINK_GENERIC};

    let Some(mut ipvs) = setup() else { return };
    let mut sock = kipvs_netlink::Socket::new(NETLINK_GENERIC).unwrap();
    let family = resolve_family(&mut sock, "IPVS").unwrap();
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, 0, 1]);
    let mut msg = GenlMessage::from_payload(IpvsMessage::new(
        IpvsCmd::NewService,
        vec![IpvsAttr::Service(vec![
            SvcAttr::Af(2),
            SvcAttr::Protocol(50), // IPPROTO_ESP
            SvcAttr::Addr(addr),
            SvcAttr::Port(0),
            SvcAttr::SchedName("rr".into()),
            SvcAttr::Flags(SvcFlags {
                flags: 0,
                mask: u32::MAX,
            }),
            SvcAttr::Timeout(0),
            SvcAttr::Netmask(u32::MAX),
        ])],
    ));
    msg.set_resolved_family_id(family);
    sock.request(msg, 0)
        .expect("the kernel takes an ESP service");
    ipvs.add_service(&Service::new(tcp("10.0.0.1", 80)))
        .unwrap();

    let listed = ipvs.services().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].key, tcp("10.0.0.1", 80));
    assert_eq!(ipvs.table().unwrap().len(), 1);
    ipvs.flush().unwrap();
    let dump = sock
        .dump({
            let mut m = GenlMessage::from_payload(IpvsMessage::new(IpvsCmd::GetService, vec![]));
            m.set_resolved_family_id(family);
            m
        })
        .unwrap();
    assert!(dump.is_empty(), "{dump:?}");
}
