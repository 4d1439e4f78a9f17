//! Real servers: every forwarding method, tunnels, thresholds, families.

use kipvs_ipvs::{Destination, ForwardMethod, Service, ServiceKey, TunnelType};
use kipvs_testutil::assert_same;

use crate::{ip, ipvsadm, setup, setup_with_ipvsadm, tcp, udp};

#[test]
fn add_read_edit_delete() {
    let Some(mut ipvs) = setup() else { return };
    let key = tcp("10.0.0.1", 80);
    ipvs.add_service(&Service::new(key).scheduler("wrr".parse().unwrap()))
        .unwrap();
    let d1 = Destination::new(ip("192.168.1.1"), 8080)
        .forward(ForwardMethod::Masq)
        .weight(3);
    let mut d2 = Destination::new(ip("192.168.1.2"), 8080).forward(ForwardMethod::Masq);
    d2.upper_threshold = 100;
    d2.lower_threshold = 10;
    ipvs.add_destination(&key, &d1).unwrap();
    ipvs.add_destination(&key, &d2).unwrap();

    let mut got = ipvs.destinations(&key).unwrap();
    got.sort_by_key(|d| d.addr);
    assert_eq!(got, vec![d1.clone(), d2.clone()]);

    let d1b = d1.clone().weight(0);
    ipvs.edit_destination(&key, &d1b).unwrap();
    ipvs.delete_destination(&key, d2.addr, d2.port).unwrap();
    assert_eq!(ipvs.destinations(&key).unwrap(), vec![d1b]);

    let err = ipvs.delete_destination(&key, d2.addr, d2.port).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string().starts_with(
            "deleting real server 192.168.1.2:8080 from service TCP 10.0.0.1:80: No such file or directory"
        ),
        "{err}"
    );
    // A service that is not there has no real servers.
    assert!(ipvs.destinations(&tcp("10.9.9.9", 1)).unwrap().is_empty());
}

#[test]
fn every_forwarding_method_and_tunnel() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let key = tcp("10.0.0.1", 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let masq = Destination::new(ip("192.168.1.1"), 8080).forward(ForwardMethod::Masq);
    let route = Destination::new(ip("192.168.1.2"), 80).forward(ForwardMethod::DirectRoute);
    let ipip = Destination::new(ip("192.168.1.3"), 80).forward(ForwardMethod::Tunnel);
    let mut gue = Destination::new(ip("192.168.1.4"), 80).forward(ForwardMethod::Tunnel);
    gue.tunnel_type = TunnelType::Gue;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = 1; // IP_VS_TUNNEL_ENCAP_FLAG_CSUM
    let mut gre = Destination::new(ip("192.168.1.5"), 80).forward(ForwardMethod::Tunnel);
    gre.tunnel_type = TunnelType::Gre;
    gre.tunnel_flags = 2; // IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM
                          // A local address keeps the method asked for (Linux 6.1 no longer
                          // turns it into "Local"); "Local" can be asked for too.
    let local = Destination::new(ip("127.0.0.1"), 80).forward(ForwardMethod::Masq);
    let localnode = Destination::new(ip("127.0.0.2"), 80).forward(ForwardMethod::Local);
    for d in [&masq, &route, &ipip, &gue, &gre, &local, &localnode] {
        ipvs.add_destination(&key, d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.addr));
    }
    let mut got = ipvs.destinations(&key).unwrap();
    got.sort_by_key(|d| d.addr);
    assert_eq!(got, vec![local, localnode, masq, route, ipip, gue, gre]);

    // ipvsadm saves "Local" as -g (it has no flag for it).
    let saved = ipvsadm(&["-Sn"]);
    let mut lines: Vec<&str> = saved.lines().filter(|l| l.starts_with("-a")).collect();
    lines.sort();
    assert_same(
        "ipvsadm -Sn",
        "\
-a -t 10.0.0.1:80 -r 127.0.0.1:80 -m -w 1
-a -t 10.0.0.1:80 -r 127.0.0.2:80 -g -w 1
-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.1.2:80 -g -w 1
-a -t 10.0.0.1:80 -r 192.168.1.3:80 -i -w 1 --tun-type ipip
-a -t 10.0.0.1:80 -r 192.168.1.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.0.0.1:80 -r 192.168.1.5:80 -i -w 1 --tun-type gre --tun-remcsum",
        &lines.join("\n"),
    );
}

#[test]
fn thresholds_show_in_ipvsadm() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let key = udp("2001:db8::1", 53);
    ipvs.add_service(&Service::new(key).scheduler("rr".parse().unwrap()))
        .unwrap();
    let mut d = Destination::new(ip("2001:db8::10"), 5353).forward(ForwardMethod::Masq);
    d.upper_threshold = 2000;
    d.lower_threshold = 500;
    ipvs.add_destination(&key, &d).unwrap();
    let listed = ipvsadm(&["-Ln", "--thresholds"]);
    let line = listed
        .lines()
        .find(|l| l.contains("[2001:db8::10]:5353"))
        .unwrap_or_else(|| panic!("{listed}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[2..4], ["2000", "500"], "{listed}");
    assert_eq!(ipvs.destinations(&key).unwrap(), vec![d]);
}

#[test]
fn real_servers_of_the_other_family_need_a_tunnel() {
    let Some(mut ipvs) = setup() else { return };
    let key = tcp("10.0.0.1", 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let v6 = Destination::new(ip("2001:db8::2"), 80).forward(ForwardMethod::Tunnel);
    ipvs.add_destination(&key, &v6).unwrap();
    assert_eq!(ipvs.destinations(&key).unwrap(), vec![v6]);
    // Only tunnelling crosses families (`ip_vs_ctl.c`: EINVAL otherwise).
    let masq = Destination::new(ip("2001:db8::3"), 80).forward(ForwardMethod::Masq);
    let err = ipvs.add_destination(&key, &masq).unwrap_err();
    assert_eq!(err.errno(), Some(22), "{err}");
}

#[test]
fn fwmark_services_have_real_servers_too() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let key = ServiceKey::Fwmark {
        mark: 42,
        ipv6: false,
    };
    ipvs.add_service(&Service::new(key)).unwrap();
    let d = Destination::new(ip("192.168.1.3"), 0).weight(0);
    ipvs.add_destination(&key, &d).unwrap();
    assert_eq!(ipvs.destinations(&key).unwrap(), vec![d]);
    let saved = ipvsadm(&["-Sn"]);
    assert!(
        saved.contains("-a -f 42 -r 192.168.1.3:0 -g -w 0"),
        "{saved}"
    );
}

/// The kernel keeps whatever forwarding bits (`& IP_VS_CONN_F_FWD_MASK`) a
/// raw netlink client sends, also ones that are no method; the listing
/// leaves those real servers out rather than fail.
#[test]
fn real_servers_with_no_known_forwarding_method_do_not_break_the_listing() {
    use kipvs_ipvs::wire::{DestAttr, IpvsAttr, IpvsCmd, IpvsMessage, SvcAttr};
    use kipvs_netlink::{generic::GenlMessage, resolve_family, sys::protocols::NETLINK_GENERIC};

    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let key = tcp("10.0.0.1", 80);
    ipvs.add_service(&Service::new(key)).unwrap();
    let good = Destination::new(ip("192.168.1.1"), 80);
    ipvs.add_destination(&key, &good).unwrap();
    let mut sock = kipvs_netlink::Socket::new(NETLINK_GENERIC).unwrap();
    let family = resolve_family(&mut sock, "IPVS").unwrap();
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, 0, 1]);
    for fwd in [4u32, 7] {
        let mut daddr = [0u8; 16];
        daddr[..4].copy_from_slice(&[192, 168, 1, fwd as u8]);
        let mut msg = GenlMessage::from_payload(IpvsMessage::new(
            IpvsCmd::NewDest,
            vec![
                IpvsAttr::Service(vec![
                    SvcAttr::Af(2),
                    SvcAttr::Protocol(6),
                    SvcAttr::Addr(addr),
                    SvcAttr::Port(80),
                ]),
                IpvsAttr::Dest(vec![
                    DestAttr::AddrFamily(2),
                    DestAttr::Addr(daddr),
                    DestAttr::Port(80),
                    DestAttr::FwdMethod(fwd),
                    DestAttr::Weight(1),
                    DestAttr::UThresh(0),
                    DestAttr::LThresh(0),
                ]),
            ],
        ));
        msg.set_resolved_family_id(family);
        sock.request(msg, 0)
            .unwrap_or_else(|e| panic!("forwarding method {fwd}: {e}"));
    }
    let listed = crate::ipvsadm(&["-Ln"]);
    assert_eq!(listed.matches("(null)").count(), 2, "{listed}");
    assert_eq!(ipvs.destinations(&key).unwrap(), vec![good.clone()]);
    assert_eq!(ipvs.table().unwrap()[0].1, vec![good]);
}
