//! The parser against ipvsadm 1.31's behaviour: messages and exit codes
//! as the real binary printed them in the test VM.

use super::*;

fn p(line: &str) -> Result<Entry, Exit> {
    let mut argv = vec!["ipvsadm".to_owned()];
    argv.extend(line.split_whitespace().map(str::to_owned));
    parse(argv)
}

#[track_caller]
fn err(line: &str, code: i32, stderr: &str) {
    match p(line) {
        Ok(e) => panic!("`{line}` parsed: {e:?}"),
        Err(e) => {
            assert_eq!(e.stderr, stderr, "`{line}`");
            assert_eq!(e.code, code, "`{line}`");
        }
    }
}

#[track_caller]
fn ok(line: &str) -> Entry {
    p(line).unwrap_or_else(|e| panic!("`{line}`: {e:?}"))
}

const TRY: &str = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";

#[test]
fn errors_as_ipvsadm_prints_them() {
    err("-X", 255, TRY);
    err("--foo", 255, TRY);
    err("-n -L", 255, TRY);
    err("foo", 255, TRY);
    err("", 255, TRY);
    err("-L --foo", 255, "--foo: unknown option\n");
    err("-Ln=3", 255, "-Ln=3: option does not take an argument\n");
    err("-A -t", 255, "-t: missing argument\n");
    err(
        "-A",
        2,
        "You need to supply the 'service-address' option for the 'add-service' command\n",
    );
    err(
        "-A -t 10.0.0.1:0",
        2,
        "Zero port specified for non-persistent service\n",
    );
    err(
        "-A -t 1.2.3",
        2,
        "Zero port specified for non-persistent service\n",
    );
    err("-A -t 10.0.0.1:80 extra", 2, "unexpected argument extra\n");
    err(
        "-L -s rr",
        2,
        "Illegal 'scheduler' option with the 'list' command\n",
    );
    err(
        "-A -t 10.0.0.9:80 -p 0",
        2,
        "invalid timeout value `0' specified\n",
    );
    err(
        "-A -t 10.0.0.9:80 -w 3",
        2,
        "Illegal 'weight' option with the 'add-service' command\n",
    );
    err(
        "-L -c --stats",
        2,
        "options conflicts in the list command\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 192.168.1.4 -i --tun-type gre --tun-remcsum",
        2,
        "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r [2001:db8::10]:80 -m",
        2,
        "Different address family is allowed only for tunneling servers\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gue",
        2,
        "You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 1.1.1.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum",
        2,
        "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 1.1.1.1 -m --tun-type gre",
        2,
        "Tunnel options conflict with forward method\n",
    );
    err(
        "-L --timeout --daemon",
        2,
        "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n",
    );
    err(
        "-A -t 10.0.0.1:80 -t 10.0.0.2:80",
        2,
        "multiple 'service-address' options specified\n",
    );
    err("-A -t 10.0.0.1:80 -A", 2, "invalid option `-A'\n");
    err("-L -C", 2, "invalid option `-C'\n");
    err("-A -u 10.0.0.1:80 -6", 2, "-6 used before -f\n\n");
    err(
        "-A -t 10.0.0.1:80 -o",
        2,
        "One-Packet Scheduling is only for UDP virtual services\n",
    );
    err(
        "-A -t 10.0.0.1:80 -s rr -b sh-port",
        2,
        "incompatible scheduler flag `sh-port'\n",
    );
    err(
        "-A -t 10.0.0.1:80 -b nope",
        2,
        "invalid scheduler flag `nope'\n",
    );
    err(
        "-A -t [2001:db8::1]",
        2,
        "illegal virtual server address[:port] specified\n",
    );
    err(
        "-A -t 10.0.0.1:99999",
        2,
        "illegal virtual server address[:port] specified\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 80",
        2,
        "illegal real server address[:port] specified\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 1.1.1.1 -w -1",
        2,
        "illegal weight specified\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 1.1.1.1 -w 2147483648",
        2,
        "illegal weight specified\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 1.1.1.1 -x x",
        2,
        "illegal u_threshold specified\n",
    );
    err(
        "-a -t 10.0.0.1:80 -r 1.1.1.1 -y 1.5",
        2,
        "illegal l_threshold specified\n",
    );
    err("-A -f 0", 2, "invalid fwmark value `0' specified\n");
    err(
        "-A -f 4294967296",
        2,
        "invalid fwmark value `4294967296' specified\n",
    );
    err(
        "-A -f 5 -6 -p -M 200",
        2,
        "illegal ipv6 netmask specified\n",
    );
    err(
        "-A -t 10.0.0.1:80 -p 5 -M 300.1.1.1",
        2,
        "illegal virtual server persistent mask specified\n",
    );
    err("--set 1 2", 2, "--set option requires 3 timeout values\n");
    err("--set 1 2 x", 2, "invalid timeout value `x' specified\n");
    err("--set 1 2 3 4", 2, "unexpected argument 4\n");
    err(
        "--start-daemon slave",
        2,
        "illegal start-daemon parameter specified\n",
    );
    err("--stop-daemon slave", 2, "illegal start_daemon specified\n");
    err(
        "--start-daemon master --syncid 256",
        2,
        "illegal syncid specified\n",
    );
    err(
        "--start-daemon master --mcast-group 1.2.3.4",
        2,
        "invalid IPv4 mcast-group `1.2.3.4'\n",
    );
    err(
        "--start-daemon master --mcast-group ff02::zz",
        2,
        "invalid IPv6 mcast-group `ff02::zz'\n",
    );
    err(
        "--start-daemon master --mcast-port 0",
        2,
        "illegal mcast-port specified\n",
    );
    err(
        "--start-daemon master --mcast-ttl 256",
        2,
        "illegal mcast-ttl specified\n",
    );
    err(
        "--start-daemon master --sync-maxlen 65508",
        2,
        "illegal sync-maxlen specified\n",
    );
    err(
        "-a -t 1.1.1.1:80 -r 2.2.2.2 -i --tun-type vxlan",
        2,
        "illegal tunnel type specified\n",
    );
    err(
        "-a -t 1.1.1.1:80 -r 2.2.2.2 -i --tun-type gue --tun-port 0",
        2,
        "illegal tunnel port specified\n",
    );
    err(
        "-C -n",
        2,
        "Illegal 'numeric' option with the 'flush' command\n",
    );
}

#[test]
fn help_and_version_go_to_stdout() {
    let e = p("-h").unwrap_err();
    assert_eq!((e.code, e.stderr.as_str()), (0, ""));
    assert!(e.stdout.starts_with(VERSION));
    assert!(e
        .stdout
        .contains("\n  ipvsadm -A|E virtual-service [-s scheduler]"));
    assert!(e
        .stdout
        .ends_with("  --mcast-ttl ttl                     Multicast TTL (default=1)\n"));
    let e = p("--version").unwrap_err();
    assert_eq!(
        e.stdout,
        "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
    );
}

#[test]
fn services() {
    let e = ok("-A -t 10.0.0.2:http -s rr -p");
    assert_eq!(e.cmd, Cmd::Add);
    assert_eq!(
        (e.svc.af, e.svc.protocol, e.svc.port),
        (AF_INET, IPPROTO_TCP, 80)
    );
    assert_eq!((e.svc.sched_name.as_str(), e.svc.timeout), ("rr", 360));
    assert_eq!(e.svc.flags, IP_VS_SVC_F_PERSISTENT);
    let e = ok("-A -u 10.0.0.2:53 -s sh -b sh-port,sh-fallback -o");
    assert_eq!(
        e.svc.flags,
        IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_ONEPACKET
    );
    let e = ok("-A -t 10.0.0.3:443 -s mh -b mh-port -p 60 -M 255.255.255.0");
    assert_eq!((e.svc.netmask, e.svc.timeout), (0xffff_ff00, 60));
    let e = ok("-A -f 6 -6 -p 100 -M 64");
    assert_eq!((e.svc.fwmark, e.svc.af, e.svc.netmask), (6, AF_INET6, 64));
    assert_eq!(e.svc.sched_name, "wlc");
    let e = ok("-E --tcp-service=[2001:db8::1]:80 --scheduler lc");
    assert_eq!((e.svc.af, e.svc.netmask, e.svc.port), (AF_INET6, 128, 80));
    // `[1.2.3.4]:80`: ipvsadm loses the port looking for it again.
    let e = ok("-D -t [1.2.3.4]:80");
    assert_eq!(
        (e.svc.addr, e.svc.port),
        (IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), 0)
    );
    let e = ok("-A --sctp-service 0x0a.1:9 -s nq");
    assert_eq!(
        (e.svc.addr, e.svc.protocol),
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IPPROTO_SCTP)
    );
    let e = ok("-A -t 10.0.0.1:80 -s a_scheduler_name_too_long");
    assert_eq!(e.svc.sched_name, "a_scheduler_nam");
}

#[test]
fn real_servers() {
    let e = ok("-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 5 -x 100 -y 10");
    assert_eq!((e.dest.port, e.dest.conn_flags), (8080, IP_VS_CONN_F_MASQ));
    assert_eq!(
        (e.dest.weight, e.dest.u_threshold, e.dest.l_threshold),
        (5, 100, 10)
    );
    // Direct routing and tunnelling use the service's port.
    assert_eq!(ok("-a -t 10.0.0.1:80 -r 192.168.1.3:9999 -g").dest.port, 80);
    assert_eq!(ok("-a -t 10.0.0.1:80 -r 192.168.1.3").dest.port, 80);
    assert_eq!(ok("-d -t 10.0.0.1:80 -r 192.168.1.3:9999").dest.port, 9999);
    // Debian's ipvsadm takes weights up to INT_MAX.
    assert_eq!(
        ok("-a -t 10.0.0.1:80 -r 1.1.1.1 -w 70000").dest.weight,
        70000
    );
    let e = ok("-a -t 10.0.0.1:80 -r 192.168.1.3 -i --tun-type gue --tun-port 6080 --tun-csum");
    assert_eq!(
        (e.dest.tun_type, e.dest.tun_port, e.dest.tun_flags),
        (1, 6080, 1)
    );
    let e = ok("-a -t 10.0.0.1:80 -r 2001:db8::5 -i --tun-type gre --tun-csum");
    assert_eq!((e.dest.af, e.dest.tun_type), (AF_INET6, 2));
    let e = ok("-a -f 1 -r 10.1.1.1");
    assert_eq!((e.dest.port, e.svc.fwmark), (0, 1));
}

#[test]
fn listings_timeouts_daemons() {
    let e = ok("-Lnt 10.0.0.1:80 --stats --exact");
    assert_eq!(e.cmd, Cmd::List);
    assert_eq!(e.format, FMT_NUMERIC | FMT_STATS | FMT_EXACT);
    assert!(e.has(OPTC_SERVICE));
    assert_eq!(ok("-S -n").format, FMT_NUMERIC);
    assert_eq!(ok("-l --nosort --sort").format, FMT_NOSORT);
    assert_eq!(ok("--set 100 20 30").timeout, [100, 20, 30]);
    let e = ok("--start-daemon backup --mcast-interface lo --mcast-group ff02::99 --mcast-port 1234 --mcast-ttl 3 --sync-maxlen 1000 --syncid 9");
    assert!(!e.daemon.master);
    assert_eq!(e.daemon.mcast_group, Some("ff02::99".parse().unwrap()));
    assert_eq!(
        (
            e.daemon.mcast_port,
            e.daemon.mcast_ttl,
            e.daemon.sync_maxlen,
            e.daemon.syncid
        ),
        (1234, 3, 1000, 9)
    );
    assert_eq!(ok("--start-daemon master").daemon.mcast_ifn, "eth0");
    assert!(ok("--stop-daemon master").daemon.master);
    assert_eq!(ok("-Z").cmd, Cmd::Zero);
    assert_eq!(ok("-R").cmd, Cmd::Restore);
    assert_eq!(ok("--clear").cmd, Cmd::Flush);
}

#[test]
fn scheduler_flags_of_only_commas_crash_like_ipvsadm() {
    // strtok finds no flag and ipvsadm hands NULL to strcmp.
    assert_eq!(p("-A -t 1.1.1.1:80 -b ,"), Err(Exit::segfault()));
    assert_eq!(p("-L -b ,,,"), Err(Exit::segfault()));
    assert_eq!(
        ok("-A -t 1.1.1.1:80 -b ,flag-1,").svc.flags,
        IP_VS_SVC_F_SCHED1
    );
}

#[test]
fn persistence_engine_names_keep_16_bytes() {
    let e = ok("-A -u 1.1.1.1:80 -p --pe abcdefghijklmnopqrstuvwxyz");
    assert_eq!(e.svc.pe_name, "abcdefghijklmnop");
}
