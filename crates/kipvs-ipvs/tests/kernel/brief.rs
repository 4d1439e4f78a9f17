//! `Ipvs::table_brief` against `Ipvs::table` on a live table with every
//! kind of service and real server the text table has to describe.

use kipvs_ipvs::Destination;

use crate::{ipvsadm, setup_with_ipvsadm};

/// What `table_brief` leaves out of each real server.
fn brief(mut d: Destination) -> Destination {
    d.upper_threshold = 0;
    d.lower_threshold = 0;
    d.persist_conns = 0;
    d.stats = Default::default();
    d
}

#[test]
fn brief_table_matches_the_netlink_table() {
    let Some(mut ipvs) = setup_with_ipvsadm() else {
        return;
    };
    let rules = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 1 -x 100 -y 50
-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -g -w 3
-a -t 10.0.0.1:80 -r 127.0.0.1:80 -m -w 0
-A -u 10.0.0.1:53 -s wlc -p 360 -M 255.255.255.0 -o
-a -u 10.0.0.1:53 -r 10.0.0.2:53 -g -w 1
-A --sctp-service [2001:db8::1]:80 -s sh -b sh-port
-a --sctp-service [2001:db8::1]:80 -r [2001:db8::2]:80 -m -w 1
-A -t 10.0.0.9:80 -s rr
-a -t 10.0.0.9:80 -r 192.168.1.1:80 -m -w 1
-a -t 10.0.0.9:80 -r 192.168.1.7:80 -i -w 1 --tun-type gue --tun-port 6080
-A -f 42 -s mh
-a -f 42 -r 192.168.1.3:0 -g -w 2
-A -f 7 -s rr
-a -f 7 -r 192.168.1.4:0 -g -w 1
-A -f 7 -6 -s rr
-a -f 7 -6 -r [2001:db8::7]:0 -g -w 1
-A -f 8 -6 -s rr -p 60 -M 64
-a -f 8 -6 -r [2001:db8::8]:0 -g -w 5
-A -t 10.0.0.5:0 -s lc -p
";
    let out = kipvs_testutil::run("ipvsadm", &["-R"], rules);
    assert_eq!(out.code, 0, "ipvsadm -R: {}", out.stderr);

    let full = ipvs.table().unwrap();
    let quick = ipvs.table_brief().unwrap();
    let expected: Vec<_> = full
        .into_iter()
        .map(|(s, d)| (s, d.into_iter().map(brief).collect::<Vec<_>>()))
        .collect();
    assert_eq!(quick, expected, "{}", ipvsadm(&["-Ln"]));
    assert_eq!(quick.len(), 9);
}
