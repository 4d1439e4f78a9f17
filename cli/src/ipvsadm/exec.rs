//! Running one parsed ipvsadm command against the kernel: ipvsadm's
//! `process_options` after the checks, and its listing functions.

use kipvs::ipvs::{
    Daemon, DaemonState, Destination, ForwardMethod, Info, Ipvs, Protocol, Scheduler, Service,
    ServiceFlags, ServiceKey, Timeouts, TunnelType,
};

use super::{
    args::{self, Cmd, Entry, *},
    bytes,
    errors::{errno, errno_of, ipvs_strerror, Func},
    list, restore, Exit, Out,
};
use crate::Global;

/// What a command needs: the IPVS handle, the namespace, the output.
pub struct Ctx<'a> {
    pub ipvs: &'a mut Ipvs,
    /// Read once when IPVS is opened, as libipvs's `ipvs_info`.
    pub info: Info,
    pub global: &'a Global,
    pub out: &'a mut Out,
}

/// One change to the kernel, with the libipvs call whose error messages it takes.
pub struct Change {
    pub func: Func,
    pub op: kipvs::ipvs::Op,
}

/// `process_options`: parse, check and run one command; returns its
/// result (0, or 255 for libipvs's -1).
pub fn process(ctx: &mut Ctx<'_>, argv: Vec<String>, reading_stdin: bool) -> Result<i32, Exit> {
    let program = argv[0].clone();
    let entry = args::parse(argv)?;
    if entry.cmd == Cmd::Restore {
        if reading_stdin {
            return Err(args::tryhelp(&program));
        }
        return restore::restore(ctx, &program);
    }
    match change(&entry) {
        Some(Ok(change)) => Ok(apply_one(ctx, change)),
        Some(Err(refused)) => Ok(refuse(ctx, &entry, refused)),
        None => {
            list(ctx, &entry)?;
            Ok(0)
        }
    }
}

/// Sends one change and prints ipvsadm's message if the kernel refuses it.
pub fn apply_one(ctx: &mut Ctx<'_>, change: Change) -> i32 {
    match ctx.ipvs.apply([change.op]) {
        Ok(errs) if errs.is_empty() => 0,
        Ok(errs) => {
            let errno = errs[0].error.errno.abs();
            report(ctx, change.func, errno)
        }
        Err(e) => report(ctx, change.func, errno_of(&e)),
    }
}

/// Prints `ipvs_strerror` for a failed call; the command's result is -1.
pub fn report(ctx: &mut Ctx<'_>, func: Func, errno: i32) -> i32 {
    ctx.out.eprint(&format!("{}\n", ipvs_strerror(func, errno)));
    255
}

/// A change the library cannot encode (a scheduler or persistence engine
/// name it refuses). ipvsadm would send it and the kernel would refuse
/// it; answer what the kernel answers, in its order of checks.
pub struct Refused {
    func: Func,
}

pub fn refuse(ctx: &mut Ctx<'_>, entry: &Entry, r: Refused) -> i32 {
    if r.func == Func::StartDaemon {
        // start_sync_thread: a daemon of that state first, then the device.
        let state = state(entry.daemon.master);
        let running = ctx
            .ipvs
            .daemons()
            .is_ok_and(|ds| ds.iter().any(|d| d.state == state));
        let errno = if running {
            errno::EEXIST
        } else {
            errno::ENODEV
        };
        return report(ctx, r.func, errno);
    }
    let key = service_key(&entry.svc);
    let exists = ctx.ipvs.service(&key).is_ok();
    let errno = match (r.func, exists) {
        (Func::AddService, true) => errno::EEXIST,
        (Func::UpdateService, false) => errno::ESRCH,
        _ => errno::ENOENT,
    };
    report(ctx, r.func, errno)
}

pub fn service_key(svc: &Svc) -> ServiceKey {
    if svc.fwmark != 0 {
        ServiceKey::Fwmark {
            mark: svc.fwmark,
            ipv6: svc.af == AF_INET6,
        }
    } else {
        ServiceKey::Addr {
            protocol: Protocol::from_number(svc.protocol).unwrap_or(Protocol::Tcp),
            addr: svc.addr,
            port: svc.port,
        }
    }
}

/// `None` when the kernel would not find the scheduler or persistence
/// engine: names the library refuses, and names that are not UTF-8 (bytes
/// ipvsadm sends as they are, which no module is called).
fn service(svc: &Svc) -> Option<Service> {
    let scheduler: Scheduler = svc.sched_name.parse().ok()?;
    if std::str::from_utf8(&bytes::to_bytes(&svc.pe_name)).is_err() {
        return None;
    }
    let mut s = Service::new(service_key(svc)).scheduler(scheduler);
    s.flags = ServiceFlags(svc.flags);
    s.timeout = svc.timeout;
    s.netmask = svc.netmask;
    s.pe_name = (!svc.pe_name.is_empty()).then(|| svc.pe_name.clone());
    Some(s)
}

fn destination(d: &Dest) -> Destination {
    let forward = match d.conn_flags {
        IP_VS_CONN_F_MASQ => ForwardMethod::Masq,
        IP_VS_CONN_F_TUNNEL => ForwardMethod::Tunnel,
        1 => ForwardMethod::Local,
        _ => ForwardMethod::DirectRoute,
    };
    let mut dest = Destination::new(d.addr, d.port)
        .forward(forward)
        .weight(d.weight);
    dest.upper_threshold = d.u_threshold;
    dest.lower_threshold = d.l_threshold;
    dest.tunnel_type = match d.tun_type {
        1 => TunnelType::Gue,
        2 => TunnelType::Gre,
        _ => TunnelType::Ipip,
    };
    dest.tunnel_port = d.tun_port;
    dest.tunnel_flags = d.tun_flags;
    dest
}

/// The change a command makes, or `None` for commands that only read.
pub fn change(entry: &Entry) -> Option<Result<Change, Refused>> {
    use kipvs::ipvs::Op;
    let key = service_key(&entry.svc);
    let svc_or = |func| service(&entry.svc).ok_or(Refused { func });
    let (func, op) = match entry.cmd {
        Cmd::Flush => (Func::Flush, Op::Flush),
        Cmd::Add => match svc_or(Func::AddService) {
            Ok(s) => (Func::AddService, Op::AddService(s)),
            Err(r) => return Some(Err(r)),
        },
        Cmd::Edit => match svc_or(Func::UpdateService) {
            Ok(s) => (Func::UpdateService, Op::EditService(s)),
            Err(r) => return Some(Err(r)),
        },
        Cmd::Del => (Func::DelService, Op::DeleteService(key)),
        Cmd::Zero => {
            let s = &entry.svc;
            let all = s.fwmark == 0 && s.addr.is_unspecified() && s.port == 0;
            (Func::ZeroService, Op::Zero((!all).then_some(key)))
        }
        Cmd::AddDest => (
            Func::AddDest,
            Op::AddDestination(key, destination(&entry.dest)),
        ),
        Cmd::EditDest => (
            Func::UpdateDest,
            Op::EditDestination(key, destination(&entry.dest)),
        ),
        Cmd::DelDest => (
            Func::DelDest,
            Op::DeleteDestination(key, entry.dest.addr, entry.dest.port),
        ),
        Cmd::Timeout => (
            Func::SetTimeout,
            Op::SetTimeouts(Timeouts {
                tcp: entry.timeout[0],
                tcp_fin: entry.timeout[1],
                udp: entry.timeout[2],
            }),
        ),
        Cmd::StartDaemon => {
            let d = &entry.daemon;
            // An interface name that is not UTF-8 names no interface the
            // library can ask for; the kernel would find none.
            if std::str::from_utf8(&bytes::to_bytes(&d.mcast_ifn)).is_err() {
                return Some(Err(Refused {
                    func: Func::StartDaemon,
                }));
            }
            (
                Func::StartDaemon,
                Op::StartDaemon(Daemon {
                    state: state(d.master),
                    mcast_ifname: d.mcast_ifn.clone(),
                    sync_id: d.syncid,
                    sync_maxlen: d.sync_maxlen,
                    mcast_group: d.mcast_group,
                    mcast_port: d.mcast_port,
                    mcast_ttl: d.mcast_ttl,
                }),
            )
        }
        Cmd::StopDaemon => (Func::StopDaemon, Op::StopDaemon(state(entry.daemon.master))),
        Cmd::List | Cmd::Save | Cmd::Restore => return None,
    };
    Some(Ok(Change { func, op }))
}

fn state(master: bool) -> DaemonState {
    if master {
        DaemonState::Master
    } else {
        DaemonState::Backup
    }
}

/// The listing commands: `-L` (all, one service, `-c`, `--timeout`,
/// `--daemon`) and `-S`.
pub fn list(ctx: &mut Ctx<'_>, entry: &Entry) -> Result<(), Exit> {
    let format = entry.format;
    if entry.cmd == Cmd::Save {
        return list_all(ctx, format | FMT_RULE);
    }
    if entry.has(OPTC_CONNECTION) {
        let conns = ctx
            .global
            .netns
            .run(kipvs::ipvs::connections)
            .and_then(|r| r)
            .map_err(|_| Exit::fatal(1, "cannot open file /proc/net/ip_vs_conn"))?;
        ctx.out.print(&list::connections(&conns, format));
    } else if entry.has(OPTC_SERVICE) {
        let key = service_key(&entry.svc);
        let svc = ctx
            .ipvs
            .service(&key)
            .map_err(|e| Exit::fatal(1, ipvs_strerror(Func::GetService, errno_of(&e))))?;
        let dests = ctx
            .ipvs
            .destinations(&key)
            .map_err(|e| Exit::fatal(1, ipvs_strerror(Func::GetDests, errno_of(&e))))?;
        ctx.out.print(list::title(format));
        let mut s = String::new();
        list::service_entry(&mut s, &svc, &dests, format);
        ctx.out.print(&s);
    } else if entry.has(OPTC_TIMEOUT) {
        let t = ctx.ipvs.timeouts().map_err(|_| Exit {
            code: 1,
            stdout: String::new(),
            stderr: String::new(),
            fatal: true,
        })?;
        ctx.out.print(&list::timeouts(&t));
    } else if entry.has(OPTC_DAEMON) {
        let d = ctx.ipvs.daemons().map_err(|_| Exit {
            code: 1,
            stdout: String::new(),
            stderr: String::new(),
            fatal: true,
        })?;
        ctx.out.print(&list::daemons(&d));
    } else {
        list_all(ctx, format)?;
    }
    Ok(())
}

/// `list_all`: the header, the title, every service and its real servers.
pub fn list_all(ctx: &mut Ctx<'_>, format: u32) -> Result<(), Exit> {
    if format & FMT_RULE == 0 {
        let header = list::header(&ctx.info);
        ctx.out.print(&header);
    }
    // Thresholds, persistent-connection counts and counters are the only
    // fields the brief table lacks (it reads the real servers of every
    // service at once, not with one dump per service).
    const NEEDS_FULL: u32 = FMT_STATS | FMT_RATE | FMT_THRESHOLDS | FMT_PERSISTENTCONN;
    let table = if format & NEEDS_FULL == 0 {
        ctx.ipvs.table_brief()
    } else {
        ctx.ipvs.table()
    };
    let mut table =
        table.map_err(|e| Exit::fatal(1, ipvs_strerror(Func::GetServices, errno_of(&e))))?;
    if format & FMT_NOSORT == 0 {
        list::sort_services(&mut table);
    }
    let mut s = String::from(list::title(format));
    for (svc, dests) in &table {
        list::service_entry(&mut s, svc, dests, format);
    }
    ctx.out.print(&s);
    Ok(())
}
