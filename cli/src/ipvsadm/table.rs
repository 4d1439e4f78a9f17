//! ipvsadm's tables: the header constants it uses, its commands and
//! options (`OPTC_*`, `optnames`, `commands_v_options`,
//! `tunnel_types_v_options`) with the checks that read them, and its popt
//! option table.

use super::{
    popt::{Arg, Opt},
    values::fail,
    Exit,
};

pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
pub const IPPROTO_TCP: u16 = 6;
pub const IPPROTO_UDP: u16 = 17;
pub const IPPROTO_SCTP: u16 = 132;

/// `IP_VS_CONN_F_*` forwarding methods.
pub const IP_VS_CONN_F_MASQ: u32 = 0;
pub const IP_VS_CONN_F_TUNNEL: u32 = 2;
pub const IP_VS_CONN_F_DROUTE: u32 = 3;

/// `IP_VS_SVC_F_*`.
pub const IP_VS_SVC_F_PERSISTENT: u32 = 0x1;
pub const IP_VS_SVC_F_ONEPACKET: u32 = 0x4;
pub const IP_VS_SVC_F_SCHED1: u32 = 0x8;
pub const IP_VS_SVC_F_SCHED2: u32 = 0x10;
pub const IP_VS_SVC_F_SCHED3: u32 = 0x20;

/// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
pub const IP_VS_TUNNEL_ENCAP_FLAG_CSUM: u16 = 1;
pub const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: u16 = 2;

/// `IPVS_SVC_PERSISTENT_TIMEOUT` (libipvs.h): 6 minutes.
pub const IPVS_SVC_PERSISTENT_TIMEOUT: u32 = 360;
pub const MAX_TIMEOUT: i64 = 86400 * 31;
pub const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
/// ipvsadm keeps this many bytes of `--pe`.
pub const IP_VS_PENAME_MAXLEN: usize = 16;
pub const IP_VS_IFNAME_MAXLEN: usize = 16;
pub const INT_MAX: i64 = i32::MAX as i64;

/// Printing format flags (`FMT_*`).
pub const FMT_NUMERIC: u32 = 0x0001;
pub const FMT_RULE: u32 = 0x0002;
pub const FMT_STATS: u32 = 0x0004;
pub const FMT_RATE: u32 = 0x0008;
pub const FMT_THRESHOLDS: u32 = 0x0010;
pub const FMT_PERSISTENTCONN: u32 = 0x0020;
pub const FMT_NOSORT: u32 = 0x0040;
pub const FMT_EXACT: u32 = 0x0080;
pub const FMT_TUN_INFO: u32 = 0x0100;

/// The commands, in the order of ipvsadm's `cmdnames` and option table rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

pub const CMDNAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

// Option indices (`OPTC_*`).
pub const OPTC_NUMERIC: u32 = 0;
pub const OPTC_CONNECTION: u32 = 1;
pub const OPTC_SERVICE: u32 = 2;
pub const OPTC_SCHEDULER: u32 = 3;
pub const OPTC_PERSISTENT: u32 = 4;
pub const OPTC_NETMASK: u32 = 5;
pub const OPTC_SERVER: u32 = 6;
pub const OPTC_FORWARD: u32 = 7;
pub const OPTC_WEIGHT: u32 = 8;
pub const OPTC_UTHRESHOLD: u32 = 9;
pub const OPTC_LTHRESHOLD: u32 = 10;
pub const OPTC_MCAST: u32 = 11;
pub const OPTC_TIMEOUT: u32 = 12;
pub const OPTC_DAEMON: u32 = 13;
pub const OPTC_STATS: u32 = 14;
pub const OPTC_RATE: u32 = 15;
pub const OPTC_THRESHOLDS: u32 = 16;
pub const OPTC_PERSISTENTCONN: u32 = 17;
pub const OPTC_NOSORT: u32 = 18;
pub const OPTC_SYNCID: u32 = 19;
pub const OPTC_EXACT: u32 = 20;
pub const OPTC_ONEPACKET: u32 = 21;
pub const OPTC_PERSISTENCE_ENGINE: u32 = 22;
pub const OPTC_SCHED_FLAGS: u32 = 23;
pub const OPTC_MCAST_GROUP: u32 = 24;
pub const OPTC_MCAST_PORT: u32 = 25;
pub const OPTC_MCAST_TTL: u32 = 26;
pub const OPTC_SYNC_MAXLEN: u32 = 27;
pub const OPTC_TUN_INFO: u32 = 28;
pub const OPTC_TUN_TYPE: u32 = 29;
pub const OPTC_TUN_PORT: u32 = 30;
pub const OPTC_TUN_NOCSUM: u32 = 31;
pub const OPTC_TUN_CSUM: u32 = 32;
pub const OPTC_TUN_REMCSUM: u32 = 33;
pub const NUMBER_OF_OPT: usize = 34;

pub const OPTNAMES: [&str; NUMBER_OF_OPT] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

/// `commands_v_options`: '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional.
pub const COMMANDS_V_OPTIONS: [&[u8; NUMBER_OF_OPT]; 14] = [
    //-n  -c  svc -s  -p  -M  -r  fwd -w  -x  -y  -mc tot dmn -st -rt thr -pc srt sid -ex ops -pe -b  grp port ttl size tinf type tprt nocs csum remc
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // ADD
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // EDIT
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // DEL
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // FLUSH
    b" 11xxxxxxxxx11       xxxxxxx xxxxx", // LIST
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // ADDSRV
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // DELSRV
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // EDITSRV
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // TIMEOUT
    b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx", // STARTD
    b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx", // STOPD
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // RESTORE
    b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // SAVE
    b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // ZERO
];

pub const TUNNAMES: [&str; 3] = ["ipip", "gue", "gre"];
pub const TUNOPTS: [u32; 4] = [
    OPTC_TUN_PORT,
    OPTC_TUN_NOCSUM,
    OPTC_TUN_CSUM,
    OPTC_TUN_REMCSUM,
];
/// `tunnel_types_v_options`: tun-port, nocsum, csum, remcsum per tunnel type.
pub const TUNNEL_TYPES_V_OPTIONS: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];

/// `generic_opt_check`: the options given against the command's row of
/// [`COMMANDS_V_OPTIONS`].
pub fn generic_opt_check(cmd: Cmd, options: u64) -> Result<(), Exit> {
    let i = cmd as usize;
    let row = COMMANDS_V_OPTIONS[i];
    let mut last = 0;
    let mut count = 0;
    for j in 0..NUMBER_OF_OPT {
        if options & (1 << j) == 0 {
            if row[j] == b'+' {
                return Err(fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPTNAMES[j], CMDNAMES[i]
                )));
            }
        } else {
            if row[j] == b'x' {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPTNAMES[j], CMDNAMES[i]
                )));
            }
            if row[j] == b'1' {
                count += 1;
                if count == 1 {
                    last = j;
                    continue;
                }
                return Err(fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' command",
                    OPTNAMES[j], OPTNAMES[last], CMDNAMES[i]
                )));
            }
        }
    }
    Ok(())
}

/// `tunnel_opt_check`: the tunnel options given against the tunnel type's
/// row of [`TUNNEL_TYPES_V_OPTIONS`].
pub fn tunnel_opt_check(tun_type: u8, options: u64) -> Result<(), Exit> {
    let i = usize::from(tun_type);
    let mut last = 0;
    let mut count = 0;
    for (j, &k) in TUNOPTS.iter().enumerate() {
        let rule = TUNNEL_TYPES_V_OPTIONS[i][j];
        let name = OPTNAMES[k as usize];
        if options & (1 << k) == 0 {
            if rule == b'+' {
                return Err(fail(format!(
                    "You need to supply the '{name}' option for the '{}' tunnel type",
                    TUNNAMES[i]
                )));
            }
        } else {
            if rule == b'x' {
                return Err(fail(format!(
                    "Illegal '{name}' option with the '{}' tunnel type",
                    TUNNAMES[i]
                )));
            }
            if rule == b'1' {
                count += 1;
                if count == 1 {
                    last = k;
                    continue;
                }
                return Err(fail(format!(
                    "The option '{name}' conflicts with the '{}' option in the '{}' tunnel type",
                    OPTNAMES[last as usize], TUNNAMES[i]
                )));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Cmd(Cmd),
    StartDaemon,
    StopDaemon,
    Help,
    Version,
    Service(u16),
    Fwmark,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Forward(u32),
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
}

const fn opt(long: &'static str, short: u8, arg: Arg, tag: Tag) -> Opt<Tag> {
    Opt {
        long,
        short: if short == 0 { None } else { Some(short) },
        arg,
        tag,
    }
}

use Arg::{None as N, Optional as O, Required as R};

/// ipvsadm's popt table, in its order (popt takes the first match).
pub const TABLE: &[Opt<Tag>] = &[
    opt("add-service", b'A', N, Tag::Cmd(Cmd::Add)),
    opt("edit-service", b'E', N, Tag::Cmd(Cmd::Edit)),
    opt("delete-service", b'D', N, Tag::Cmd(Cmd::Del)),
    opt("clear", b'C', N, Tag::Cmd(Cmd::Flush)),
    opt("list", b'L', N, Tag::Cmd(Cmd::List)),
    opt("list", b'l', N, Tag::Cmd(Cmd::List)),
    opt("zero", b'Z', N, Tag::Cmd(Cmd::Zero)),
    opt("add-server", b'a', N, Tag::Cmd(Cmd::AddDest)),
    opt("edit-server", b'e', N, Tag::Cmd(Cmd::EditDest)),
    opt("delete-server", b'd', N, Tag::Cmd(Cmd::DelDest)),
    opt("set", 0, N, Tag::Cmd(Cmd::Timeout)),
    opt("help", b'h', N, Tag::Help),
    opt("version", b'v', N, Tag::Version),
    opt("restore", b'R', N, Tag::Cmd(Cmd::Restore)),
    opt("save", b'S', N, Tag::Cmd(Cmd::Save)),
    opt("start-daemon", 0, R, Tag::StartDaemon),
    opt("stop-daemon", 0, R, Tag::StopDaemon),
    opt("tcp-service", b't', R, Tag::Service(IPPROTO_TCP)),
    opt("udp-service", b'u', R, Tag::Service(IPPROTO_UDP)),
    opt("sctp-service", 0, R, Tag::Service(IPPROTO_SCTP)),
    opt("fwmark-service", b'f', R, Tag::Fwmark),
    opt("scheduler", b's', R, Tag::Scheduler),
    opt("persistent", b'p', O, Tag::Persistent),
    opt("netmask", b'M', R, Tag::Netmask),
    opt("real-server", b'r', R, Tag::RealServer),
    opt("masquerading", b'm', N, Tag::Forward(IP_VS_CONN_F_MASQ)),
    opt("ipip", b'i', N, Tag::Forward(IP_VS_CONN_F_TUNNEL)),
    opt("gatewaying", b'g', N, Tag::Forward(IP_VS_CONN_F_DROUTE)),
    opt("weight", b'w', R, Tag::Weight),
    opt("u-threshold", b'x', R, Tag::UThreshold),
    opt("l-threshold", b'y', R, Tag::LThreshold),
    opt("numeric", b'n', N, Tag::Numeric),
    opt("connection", b'c', N, Tag::Connection),
    opt("mcast-interface", 0, R, Tag::McastInterface),
    opt("syncid", 0, R, Tag::SyncId),
    opt("timeout", 0, N, Tag::Timeout),
    opt("daemon", 0, N, Tag::Daemon),
    opt("stats", 0, N, Tag::Stats),
    opt("rate", 0, N, Tag::Rate),
    opt("thresholds", 0, N, Tag::Thresholds),
    opt("persistent-conn", 0, N, Tag::PersistentConn),
    opt("nosort", 0, N, Tag::NoSort),
    opt("sort", 0, N, Tag::Sort),
    opt("exact", b'X', N, Tag::Exact),
    opt("ipv6", b'6', N, Tag::Ipv6),
    opt("ops", b'o', N, Tag::Ops),
    opt("pe", 0, R, Tag::Pe),
    opt("sched-flags", b'b', R, Tag::SchedFlags),
    opt("mcast-group", 0, R, Tag::McastGroup),
    opt("mcast-port", 0, R, Tag::McastPort),
    opt("mcast-ttl", 0, R, Tag::McastTtl),
    opt("sync-maxlen", 0, R, Tag::SyncMaxlen),
    opt("tun-info", 0, N, Tag::TunInfo),
    opt("tun-type", 0, R, Tag::TunType),
    opt("tun-port", 0, R, Tag::TunPort),
    opt("tun-nocsum", 0, N, Tag::TunNoCsum),
    opt("tun-csum", 0, N, Tag::TunCsum),
    opt("tun-remcsum", 0, N, Tag::TunRemCsum),
];
