//! ipvsadm's command line: `parse_options`, `generic_opt_check` against
//! the command/option table, and the checks `process_options` makes
//! before touching the kernel. Every message and exit code is ipvsadm
//! 1.31's (Debian build: weights up to `INT_MAX`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use super::table::*;
pub use super::usage::{tryhelp, usage, VERSION};
use super::{
    bytes::truncate,
    netdb,
    popt::Popt,
    values::{
        atoi, fail, parse_fwmark, parse_netmask, parse_sched_flags, parse_service, parse_timeout,
        string_to_number, SERVICE_ADDR,
    },
    Exit,
};

/// A virtual service as ipvsadm's `ipvs_service_t` holds it while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svc {
    pub af: u16,
    pub protocol: u16,
    pub addr: IpAddr,
    pub port: u16,
    pub fwmark: u32,
    pub sched_name: String,
    pub flags: u32,
    pub timeout: u32,
    pub netmask: u32,
    pub pe_name: String,
}

/// A real server as ipvsadm's `ipvs_dest_t` holds it while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    pub af: u16,
    pub addr: IpAddr,
    pub port: u16,
    pub conn_flags: u32,
    pub weight: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tun_type: u8,
    pub tun_port: u16,
    pub tun_flags: u16,
}

/// `--start-daemon`/`--stop-daemon` and their options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DaemonArgs {
    pub master: bool,
    pub mcast_ifn: String,
    pub syncid: u32,
    pub sync_maxlen: u16,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: u16,
    pub mcast_ttl: u8,
}

/// One parsed ipvsadm invocation (`struct ipvs_command_entry` + options + format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub cmd: Cmd,
    pub svc: Svc,
    pub dest: Dest,
    /// `--set tcp tcpfin udp`.
    pub timeout: [u32; 3],
    pub daemon: DaemonArgs,
    /// `1 << OPTC_*` for every option given.
    pub options: u64,
    /// `FMT_*`.
    pub format: u32,
}

impl Entry {
    pub fn has(&self, optc: u32) -> bool {
        self.options & (1 << optc) != 0
    }
}

fn set_command(cmd: &mut Option<Cmd>, new: Cmd) -> Result<(), Exit> {
    if cmd.is_some() {
        return Err(fail("multiple commands specified"));
    }
    *cmd = Some(new);
    Ok(())
}

fn set_option(options: &mut u64, optc: u32) -> Result<(), Exit> {
    let bit = 1u64 << optc;
    if *options & bit != 0 {
        return Err(fail(format!(
            "multiple '{}' options specified",
            OPTNAMES[optc as usize]
        )));
    }
    *options |= bit;
    Ok(())
}

fn is_multicast4(a: Ipv4Addr) -> bool {
    a.octets()[0] & 0xf0 == 0xe0
}

fn is_multicast6(a: Ipv6Addr) -> bool {
    a.octets()[0] == 0xff
}

/// `process_options` up to the point where ipvsadm calls the kernel:
/// `parse_options`, `generic_opt_check` and the command-specific checks.
/// `argv[0]` is the program name.
pub fn parse(argv: Vec<String>) -> Result<Entry, Exit> {
    let program = argv.first().cloned().unwrap_or_else(|| "ipvsadm".into());
    let mut cmd: Option<Cmd> = None;
    let mut svc = Svc {
        af: 0,
        protocol: 0,
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: 0,
        fwmark: 0,
        sched_name: String::new(),
        flags: 0,
        timeout: 0,
        netmask: 0xffff_ffff,
        pe_name: String::new(),
    };
    let mut dest = Dest {
        af: 0,
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: 0,
        conn_flags: IP_VS_CONN_F_DROUTE,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: 0,
        tun_port: 0,
        tun_flags: 0,
    };
    let mut daemon = DaemonArgs::default();
    let mut timeout = [0u32; 3];
    let mut options = 0u64;
    let mut format = 0u32;
    let mut sched_flags_arg = String::new();

    let mut popt = Popt::new(TABLE, argv);
    let first = match popt.next_opt() {
        Ok(Some(o)) => o,
        _ => return Err(tryhelp(&program)),
    };
    match first {
        (Tag::Cmd(c), _) => set_command(&mut cmd, c)?,
        (Tag::StartDaemon, arg) | (Tag::StopDaemon, arg) => {
            let start = first.0 == Tag::StartDaemon;
            set_command(
                &mut cmd,
                if start {
                    Cmd::StartDaemon
                } else {
                    Cmd::StopDaemon
                },
            )?;
            match arg.as_deref() {
                Some("master") => daemon.master = true,
                Some("backup") => daemon.master = false,
                _ if start => return Err(fail("illegal start-daemon parameter specified")),
                _ => return Err(fail("illegal start_daemon specified")),
            }
        }
        (Tag::Help, _) => return Err(Exit::stdout(usage(&program))),
        (Tag::Version, _) => return Err(Exit::stdout(VERSION.to_owned())),
        _ => return Err(tryhelp(&program)),
    }
    let cmd = cmd.unwrap_or(Cmd::List);

    loop {
        let (tag, arg) = match popt.next_opt() {
            Ok(Some(o)) => o,
            Ok(None) => break,
            Err(e) => {
                return Err(Exit {
                    code: 255,
                    stdout: String::new(),
                    stderr: format!("{}: {}\n", e.bad_option, e.kind.message()),
                    fatal: false,
                })
            }
        };
        let optarg = arg.clone().unwrap_or_default();
        match tag {
            Tag::Service(proto) => {
                set_option(&mut options, OPTC_SERVICE)?;
                svc.protocol = proto;
                if parse_service(&optarg, &mut svc) & SERVICE_ADDR == 0 {
                    return Err(fail("illegal virtual server address[:port] specified"));
                }
            }
            Tag::Fwmark => {
                set_option(&mut options, OPTC_SERVICE)?;
                svc.af = AF_INET;
                svc.protocol = IPPROTO_TCP;
                svc.fwmark = parse_fwmark(&optarg)?;
            }
            Tag::Scheduler => {
                set_option(&mut options, OPTC_SCHEDULER)?;
                svc.sched_name = truncate(&optarg, IP_VS_SCHEDNAME_MAXLEN - 1);
            }
            Tag::Persistent => {
                set_option(&mut options, OPTC_PERSISTENT)?;
                svc.flags |= IP_VS_SVC_F_PERSISTENT;
                svc.timeout = parse_timeout(arg.as_deref(), 1, MAX_TIMEOUT)?;
            }
            Tag::Netmask => {
                set_option(&mut options, OPTC_NETMASK)?;
                if svc.af != AF_INET6 {
                    svc.netmask = parse_netmask(&optarg)
                        .ok_or_else(|| fail("illegal virtual server persistent mask specified"))?;
                } else {
                    svc.netmask = atoi(&optarg) as u32;
                    if !(1..=128).contains(&svc.netmask) {
                        return Err(fail("illegal ipv6 netmask specified"));
                    }
                }
            }
            Tag::RealServer => {
                set_option(&mut options, OPTC_SERVER)?;
                let mut t = svc.clone();
                let parse = parse_service(&optarg, &mut t);
                dest.af = t.af;
                dest.addr = t.addr;
                dest.port = t.port;
                if parse & SERVICE_ADDR == 0 {
                    return Err(fail("illegal real server address[:port] specified"));
                }
                if parse == SERVICE_ADDR {
                    dest.port = svc.port;
                }
            }
            Tag::Forward(method) => {
                set_option(&mut options, OPTC_FORWARD)?;
                dest.conn_flags = method;
            }
            Tag::Weight => {
                set_option(&mut options, OPTC_WEIGHT)?;
                // Debian's ipvsadm takes weights up to INT_MAX (#814348).
                dest.weight = string_to_number(&optarg, 0, INT_MAX)
                    .ok_or_else(|| fail("illegal weight specified"))?
                    as u32;
            }
            Tag::UThreshold => {
                set_option(&mut options, OPTC_UTHRESHOLD)?;
                dest.u_threshold = string_to_number(&optarg, 0, INT_MAX)
                    .ok_or_else(|| fail("illegal u_threshold specified"))?
                    as u32;
            }
            Tag::LThreshold => {
                set_option(&mut options, OPTC_LTHRESHOLD)?;
                dest.l_threshold = string_to_number(&optarg, 0, INT_MAX)
                    .ok_or_else(|| fail("illegal l_threshold specified"))?
                    as u32;
            }
            Tag::Connection => set_option(&mut options, OPTC_CONNECTION)?,
            Tag::Numeric => {
                set_option(&mut options, OPTC_NUMERIC)?;
                format |= FMT_NUMERIC;
            }
            Tag::McastInterface => {
                set_option(&mut options, OPTC_MCAST)?;
                daemon.mcast_ifn = truncate(&optarg, IP_VS_IFNAME_MAXLEN - 1);
            }
            Tag::SyncId => {
                set_option(&mut options, OPTC_SYNCID)?;
                daemon.syncid = string_to_number(&optarg, 0, 255)
                    .ok_or_else(|| fail("illegal syncid specified"))?
                    as u32;
            }
            Tag::Timeout => set_option(&mut options, OPTC_TIMEOUT)?,
            Tag::Daemon => set_option(&mut options, OPTC_DAEMON)?,
            Tag::Stats => {
                set_option(&mut options, OPTC_STATS)?;
                format |= FMT_STATS;
            }
            Tag::Rate => {
                set_option(&mut options, OPTC_RATE)?;
                format |= FMT_RATE;
            }
            Tag::Thresholds => {
                set_option(&mut options, OPTC_THRESHOLDS)?;
                format |= FMT_THRESHOLDS;
            }
            Tag::PersistentConn => {
                set_option(&mut options, OPTC_PERSISTENTCONN)?;
                format |= FMT_PERSISTENTCONN;
            }
            Tag::NoSort => {
                set_option(&mut options, OPTC_NOSORT)?;
                format |= FMT_NOSORT;
            }
            Tag::Sort => {}
            Tag::Exact => {
                set_option(&mut options, OPTC_EXACT)?;
                format |= FMT_EXACT;
            }
            Tag::Ipv6 => {
                if svc.fwmark != 0 {
                    svc.af = AF_INET6;
                    svc.netmask = 128;
                } else {
                    return Err(fail("-6 used before -f\n"));
                }
            }
            Tag::Ops => {
                set_option(&mut options, OPTC_ONEPACKET)?;
                svc.flags |= IP_VS_SVC_F_ONEPACKET;
            }
            Tag::Pe => {
                set_option(&mut options, OPTC_PERSISTENCE_ENGINE)?;
                svc.pe_name = truncate(&optarg, IP_VS_PENAME_MAXLEN);
            }
            Tag::SchedFlags => {
                set_option(&mut options, OPTC_SCHED_FLAGS)?;
                sched_flags_arg = truncate(&optarg, 127);
            }
            Tag::McastGroup => {
                set_option(&mut options, OPTC_MCAST_GROUP)?;
                if optarg.contains(':') {
                    match netdb::inet_pton6(&optarg) {
                        Some(a) if is_multicast6(a) => daemon.mcast_group = Some(IpAddr::V6(a)),
                        _ => return Err(fail(format!("invalid IPv6 mcast-group `{optarg}'"))),
                    }
                } else {
                    match netdb::inet_pton4(&optarg) {
                        Some(a) if is_multicast4(a) => daemon.mcast_group = Some(IpAddr::V4(a)),
                        _ => return Err(fail(format!("invalid IPv4 mcast-group `{optarg}'"))),
                    }
                }
            }
            Tag::McastPort => {
                set_option(&mut options, OPTC_MCAST_PORT)?;
                daemon.mcast_port = string_to_number(&optarg, 1, 65535)
                    .ok_or_else(|| fail("illegal mcast-port specified"))?
                    as u16;
            }
            Tag::McastTtl => {
                set_option(&mut options, OPTC_MCAST_TTL)?;
                daemon.mcast_ttl = string_to_number(&optarg, 1, 255)
                    .ok_or_else(|| fail("illegal mcast-ttl specified"))?
                    as u8;
            }
            Tag::SyncMaxlen => {
                set_option(&mut options, OPTC_SYNC_MAXLEN)?;
                daemon.sync_maxlen = string_to_number(&optarg, 1, 65535 - 20 - 8)
                    .ok_or_else(|| fail("illegal sync-maxlen specified"))?
                    as u16;
            }
            Tag::TunInfo => {
                set_option(&mut options, OPTC_TUN_INFO)?;
                format |= FMT_TUN_INFO;
            }
            Tag::TunType => {
                set_option(&mut options, OPTC_TUN_TYPE)?;
                dest.tun_type = match optarg.as_str() {
                    "ipip" => 0,
                    "gue" => 1,
                    "gre" => 2,
                    _ => return Err(fail("illegal tunnel type specified")),
                };
            }
            Tag::TunPort => {
                set_option(&mut options, OPTC_TUN_PORT)?;
                dest.tun_port = string_to_number(&optarg, 1, 65535)
                    .ok_or_else(|| fail("illegal tunnel port specified"))?
                    as u16;
            }
            Tag::TunNoCsum => set_option(&mut options, OPTC_TUN_NOCSUM)?,
            Tag::TunCsum => {
                set_option(&mut options, OPTC_TUN_CSUM)?;
                dest.tun_flags |= IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
            }
            Tag::TunRemCsum => {
                set_option(&mut options, OPTC_TUN_REMCSUM)?;
                dest.tun_flags |= IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
            }
            // Only the first option may be a command; a second one is
            // refused by set_command, as ipvsadm's loop never sees it.
            Tag::Cmd(_) | Tag::StartDaemon | Tag::StopDaemon | Tag::Help | Tag::Version => {
                return Err(fail(format!("invalid option `{}'", popt.current_word())));
            }
        }
    }

    if cmd == Cmd::Timeout {
        let (a, b, c) = (popt.next_arg(), popt.next_arg(), popt.next_arg());
        match (a, b, c) {
            (Some(a), Some(b), Some(c)) => {
                timeout = [
                    parse_timeout(Some(&a), 0, MAX_TIMEOUT)?,
                    parse_timeout(Some(&b), 0, MAX_TIMEOUT)?,
                    parse_timeout(Some(&c), 0, MAX_TIMEOUT)?,
                ];
            }
            _ => return Err(fail("--set option requires 3 timeout values")),
        }
    }
    if let Some(extra) = popt.next_arg() {
        return Err(fail(format!("unexpected argument {extra}")));
    }
    if !sched_flags_arg.is_empty() {
        svc.flags &= !(IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3);
        svc.flags |= parse_sched_flags(&svc.sched_name, &sched_flags_arg)?;
    }

    generic_opt_check(cmd, options)?;

    if matches!(cmd, Cmd::Add | Cmd::Edit) {
        if svc.fwmark == 0 && svc.port == 0 && svc.flags & IP_VS_SVC_F_PERSISTENT == 0 {
            return Err(fail("Zero port specified for non-persistent service"));
        }
        if svc.flags & IP_VS_SVC_F_ONEPACKET != 0 && svc.fwmark == 0 && svc.protocol != IPPROTO_UDP
        {
            return Err(fail(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
        if svc.sched_name.is_empty() {
            svc.sched_name = "wlc".into();
        }
    }
    if cmd == Cmd::StartDaemon && daemon.mcast_ifn.is_empty() {
        daemon.mcast_ifn = "eth0".into();
    }
    let fwd = dest.conn_flags;
    if matches!(cmd, Cmd::AddDest | Cmd::EditDest) {
        if svc.fwmark == 0 && (fwd == IP_VS_CONN_F_TUNNEL || fwd == IP_VS_CONN_F_DROUTE) {
            dest.port = svc.port;
        }
        if dest.af != svc.af && fwd != IP_VS_CONN_F_TUNNEL {
            return Err(fail(
                "Different address family is allowed only for tunneling servers",
            ));
        }
        let tun_opts = [
            OPTC_TUN_TYPE,
            OPTC_TUN_PORT,
            OPTC_TUN_NOCSUM,
            OPTC_TUN_CSUM,
            OPTC_TUN_REMCSUM,
        ];
        if tun_opts.iter().any(|&o| options & (1 << o) != 0) && fwd != IP_VS_CONN_F_TUNNEL {
            return Err(fail("Tunnel options conflict with forward method"));
        }
        tunnel_opt_check(dest.tun_type, options)?;
    }
    let entry = Entry {
        cmd,
        svc,
        dest,
        timeout,
        daemon,
        options,
        format,
    };
    if cmd == Cmd::List {
        let o = |c: u32| entry.has(c);
        if ((o(OPTC_CONNECTION) || o(OPTC_TIMEOUT) || o(OPTC_DAEMON))
            && (o(OPTC_STATS) || o(OPTC_RATE) || o(OPTC_THRESHOLDS)))
            || ((o(OPTC_TIMEOUT) || o(OPTC_DAEMON)) && o(OPTC_PERSISTENTCONN))
        {
            return Err(fail("options conflicts in the list command"));
        }
    }
    Ok(entry)
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
