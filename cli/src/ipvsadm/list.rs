//! ipvsadm's listings: `-L` in all its variants (`--stats`, `--rate`,
//! `--thresholds`, `--persistent-conn`, `--tun-info`, `--exact`, `-n`,
//! `--nosort`), `-S` rules, `-c` connections, `--timeout` and `--daemon`,
//! with ipvsadm's column widths and truncations, in its sort order
//! ([`super::sort`]).

use std::{fmt::Write, net::IpAddr};

use kipvs::ipvs::{
    Connection, Daemon, DaemonState, Destination, ForwardMethod, Info, Service, Timeouts,
    TunnelType,
};

use self::line::Line;
pub use super::sort::{sort_dests, sort_services};
use super::{
    args::*,
    netdb,
    sort::{dests_order, dests_order_into, view, SvcView},
};

/// `NVERSION`: the header of `-L`.
pub fn header(info: &Info) -> String {
    let v = info.version;
    format!(
        "IP Virtual Server version {}.{}.{} (size={})\n",
        (v >> 16) & 0xff,
        (v >> 8) & 0xff,
        v & 0xff,
        info.conn_tab_size as i32
    )
}

/// `print_title`.
pub fn title(format: u32) -> &'static str {
    if format & FMT_STATS != 0 {
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n"
    } else if format & FMT_RATE != 0 {
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n"
    } else if format & FMT_THRESHOLDS != 0 {
        "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    } else if format & FMT_PERSISTENTCONN != 0 {
        "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    } else if format & FMT_TUN_INFO != 0 {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
    } else if format & FMT_RULE == 0 {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    } else {
        ""
    }
}

/// `addrport_to_anyname`.
pub fn addrport(addr: IpAddr, port: u16, proto: u16, format: u32) -> String {
    let mut s = String::with_capacity(24);
    push_addrport(&mut s, addr, port, proto, format);
    s
}

/// `addrport_to_anyname` appended to `out`.
fn push_addrport(out: &mut String, addr: IpAddr, port: u16, proto: u16, format: u32) {
    let (open, close) = if addr.is_ipv6() { ("[", "]") } else { ("", "") };
    if format & FMT_NUMERIC != 0 {
        match addr {
            IpAddr::V4(a) => push_ipv4(out, a),
            IpAddr::V6(_) => {
                out.push_str(open);
                out.push_str(&netdb::ntop(addr));
                out.push_str(close);
            }
        }
        out.push(':');
        push_num(out, port.into());
    } else {
        let host = netdb::addr_to_host(addr).unwrap_or_else(|| netdb::ntop(addr));
        let port = netdb::port_to_service(port, proto).unwrap_or_else(|| port.to_string());
        let mut s = format!("{open}{host}{close}:{port}");
        // addrport_to_anyname formats into 60 bytes.
        truncate_bytes(&mut s, 59);
        out.push_str(&s);
    }
}

/// A dotted quad, as `inet_ntop` writes it. Listings print tens of
/// thousands of addresses and the formatting machinery costs more than
/// the kernel's dump under an emulated CPU; these few pushes do not.
fn push_ipv4(out: &mut String, a: std::net::Ipv4Addr) {
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_num(out, o.into());
    }
}

/// A number in decimal, as `%u` writes it.
fn push_num(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// `n` spaces.
fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                ";
    let mut n = n;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// `s` then spaces up to `width` bytes, as `%-Ns` writes it.
fn push_left(out: &mut String, s: &str, width: usize) {
    out.push_str(s);
    pad(out, width.saturating_sub(s.len()));
}

/// A number then spaces up to `width`, as `%-Nd`/`%-Nu` write it.
fn push_num_left(out: &mut String, n: i64, width: usize) {
    let start = out.len();
    if n < 0 {
        out.push('-');
    }
    push_num(out, n.unsigned_abs());
    let len = out.len() - start;
    pad(out, width.saturating_sub(len));
}

fn truncate_bytes(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// `print_largenum`.
fn largenum(out: &mut String, i: u64, format: u32) {
    if format & FMT_EXACT != 0 {
        let len = i.to_string().len();
        let w = if len <= 8 { 9 } else { len + 1 };
        let _ = write!(out, "{i:>w$}");
    } else if i < 100_000_000 {
        let _ = write!(out, "{i:>9}");
    } else if i < 1_000_000_000 {
        let _ = write!(out, "{:>8}K", i / 1000);
    } else if i < 100_000_000_000 {
        let _ = write!(out, "{:>8}M", i / 1_000_000);
    } else if i < 100_000_000_000_000 {
        let _ = write!(out, "{:>8}G", i / 1_000_000_000);
    } else {
        let _ = write!(out, "{:>8}T", i / 1_000_000_000_000);
    }
}

/// `print_sched_flags`.
fn sched_flags(svc: &Service) -> String {
    let f = svc.flags.0;
    let names: &[(u32, &str)] = match svc.scheduler.as_str() {
        "sh" => &[
            (IP_VS_SVC_F_SCHED1, "sh-fallback"),
            (IP_VS_SVC_F_SCHED2, "sh-port"),
        ],
        "mh" => &[
            (IP_VS_SVC_F_SCHED1, "mh-fallback"),
            (IP_VS_SVC_F_SCHED2, "mh-port"),
        ],
        _ => &[
            (IP_VS_SVC_F_SCHED1, "flag-1"),
            (IP_VS_SVC_F_SCHED2, "flag-2"),
            (IP_VS_SVC_F_SCHED3, "flag-3"),
        ],
    };
    names
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

fn fwd_name(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masq => "Masq",
        ForwardMethod::Local => "Local",
        ForwardMethod::Tunnel => "Tunnel",
        ForwardMethod::DirectRoute => "Route",
    }
}

fn fwd_switch(f: ForwardMethod) -> &'static str {
    match f {
        ForwardMethod::Masq => "-m",
        ForwardMethod::Tunnel => "-i",
        ForwardMethod::Local | ForwardMethod::DirectRoute => "-g",
    }
}

fn tun_name(t: TunnelType) -> &'static str {
    match t {
        TunnelType::Ipip => "ipip",
        TunnelType::Gue => "gue",
        TunnelType::Gre => "gre",
    }
}

const TUNFLAGS: [&str; 3] = ["-c", "+c", "r+c"];
const TUN_FLAGS_OPTS: [&str; 3] = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];

fn tun_flag(flags: u16, table: &[&'static str; 3]) -> &'static str {
    table.get(usize::from(flags)).copied().unwrap_or("")
}

/// `fwd_tun_info`.
fn tun_info(d: &Destination) -> Option<String> {
    if d.forward != ForwardMethod::Tunnel {
        return None;
    }
    let mut s = match d.tunnel_type {
        TunnelType::Ipip => "ipip".to_owned(),
        TunnelType::Gue => format!(
            "gue:{}:{}",
            d.tunnel_port,
            tun_flag(d.tunnel_flags, &TUNFLAGS)
        ),
        TunnelType::Gre => format!("gre:{}", tun_flag(d.tunnel_flags, &TUNFLAGS)),
    };
    truncate_bytes(&mut s, 15);
    Some(s)
}

/// The IPv4 persistence mask as `inet_ntoa` prints it.
fn mask4(netmask: u32) -> String {
    std::net::Ipv4Addr::from(netmask).to_string()
}

/// `print_service_entry`: the service line and its real servers (sorted
/// unless `--nosort`).
pub fn service_entry(out: &mut String, svc: &Service, dests: &[Destination], format: u32) {
    let v = view(&svc.key);
    let rule = format & FMT_RULE != 0;
    if !rule && format & (FMT_STATS | FMT_RATE) == 0 {
        // The listing of tens of thousands of lines: put together on the
        // stack, and no real-server line repeats the service's name.
        let mut line = Line::new(out);
        match v.addr {
            // At most `SCTP 255.255.255.255:65535`: never cut.
            IpAddr::V4(a) if v.fwmark == 0 && format & FMT_NUMERIC != 0 => {
                line.left(protocol_name(v.protocol), 4);
                line.ascii(b' ');
                line.ipv4(a);
                line.ascii(b':');
                line.uint(v.port.into());
            }
            _ => {
                let mut name = String::with_capacity(48);
                push_service_name(&mut name, &v, format);
                if v.fwmark == 0 && v.af != AF_INET6 {
                    truncate_bytes(&mut name, 33);
                }
                line.str(&name);
            }
        }
        push_service_flags(&mut line, svc, &v);
        line.ascii(b'\n');
        if format & (FMT_THRESHOLDS | FMT_PERSISTENTCONN | FMT_TUN_INFO) == 0 {
            with_dests_order(dests, format, |order| {
                let mut dname = String::new();
                for &i in order {
                    push_dest_line(&mut line, &dests[i], v.protocol, format, &mut dname);
                }
            });
        } else {
            drop(line);
            push_dests(out, &v, dests, format, "");
        }
        return;
    }
    let svc_name = if rule {
        if v.fwmark != 0 {
            let mark = v.fwmark as i32;
            if v.af == AF_INET6 {
                format!("-f {mark} -6")
            } else {
                format!("-f {mark}")
            }
        } else {
            let stype = match v.protocol {
                IPPROTO_TCP => "-t",
                IPPROTO_UDP => "-u",
                IPPROTO_SCTP => "--sctp-service",
                _ => "--xxx-service",
            };
            format!("{stype} {}", addrport(v.addr, v.port, v.protocol, format))
        }
    } else {
        let mut s = String::with_capacity(48);
        push_service_name(&mut s, &v, format);
        if v.fwmark == 0 && v.af != AF_INET6 {
            truncate_bytes(&mut s, 33);
        }
        s
    };
    let flags = svc.flags.0;
    if rule {
        let _ = write!(out, "-A {svc_name} -s {}", svc.scheduler);
        if flags & IP_VS_SVC_F_PERSISTENT != 0 {
            let _ = write!(out, " -p {}", svc.timeout);
            if v.af == AF_INET && svc.netmask != 0xffff_ffff {
                let _ = write!(out, " -M {}", mask4(svc.netmask));
            }
            if v.af == AF_INET6 && svc.netmask != 128 {
                let _ = write!(out, " -M {}", svc.netmask as i32);
            }
        }
        if let Some(pe) = svc.pe_name.as_deref().filter(|p| !p.is_empty()) {
            let _ = write!(out, " --pe {pe}");
        }
        if flags & IP_VS_SVC_F_ONEPACKET != 0 {
            out.push_str(" -o");
        }
        if flags & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3) != 0 {
            let _ = write!(out, " -b {}", sched_flags(svc));
        }
    } else {
        let _ = write!(out, "{svc_name:<33}");
        let s = &svc.stats;
        let vals = if format & FMT_STATS != 0 {
            [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
        } else {
            [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
        };
        for n in vals {
            largenum(out, n, format);
        }
    }
    out.push('\n');
    push_dests(out, &v, dests, format, &svc_name);
}

/// A service as the listing names it: `TCP  10.0.0.1:80` (`%-4s %s`; the
/// caller cuts an IPv4 one to 33 bytes), `FWM  42`, `FWM  42 IPv6`.
fn push_service_name(out: &mut String, v: &SvcView, format: u32) {
    if v.fwmark != 0 {
        out.push_str("FWM  ");
        push_num_left(out, (v.fwmark as i32).into(), 0);
        if v.af == AF_INET6 {
            out.push_str(" IPv6");
        }
        return;
    }
    push_left(out, protocol_name(v.protocol), 4);
    out.push(' ');
    push_addrport(out, v.addr, v.port, v.protocol, format);
}

fn protocol_name(protocol: u16) -> &'static str {
    match protocol {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_SCTP => "SCTP",
        _ => "?",
    }
}

/// The rest of a plain listing's service line: scheduler, its flags,
/// persistence, one-packet scheduling.
fn push_service_flags(line: &mut Line, svc: &Service, v: &SvcView) {
    let flags = svc.flags.0;
    line.ascii(b' ');
    line.str(svc.scheduler.as_str());
    if flags & (IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3) != 0 {
        let _ = write!(line, " ({})", sched_flags(svc));
    }
    if flags & IP_VS_SVC_F_PERSISTENT != 0 {
        let _ = write!(line, " persistent {}", svc.timeout);
        if v.af == AF_INET && svc.netmask != 0xffff_ffff {
            let _ = write!(line, " mask {}", mask4(svc.netmask));
        }
        if v.af == AF_INET6 && svc.netmask != 128 {
            let _ = write!(line, " mask {}", svc.netmask as i32);
        }
        if let Some(pe) = svc.pe_name.as_deref().filter(|p| !p.is_empty()) {
            let _ = write!(line, " pe {pe}");
        }
    }
    if flags & IP_VS_SVC_F_ONEPACKET != 0 {
        line.str(" ops");
    }
}

/// Runs `f` with the positions of `dests` in listing order: libipvs's
/// unless `--nosort`.
fn with_dests_order<R>(dests: &[Destination], format: u32, f: impl FnOnce(&[usize]) -> R) -> R {
    if format & FMT_NOSORT != 0 {
        let order: Vec<usize> = (0..dests.len()).collect();
        return f(&order);
    }
    // On the stack for the few real servers most services have.
    let mut small = [0usize; 8];
    if dests.len() <= small.len() {
        let order = &mut small[..dests.len()];
        dests_order_into(dests, order);
        f(order)
    } else {
        f(&dests_order(dests))
    }
}

/// The real-server lines of a service, sorted unless `--nosort`;
/// `svc_name` is the service's name in `-S` rules.
fn push_dests(out: &mut String, v: &SvcView, dests: &[Destination], format: u32, svc_name: &str) {
    with_dests_order(dests, format, |order| {
        for &i in order {
            push_dest(out, v, &dests[i], format, svc_name);
        }
    });
}

/// A real-server line of any listing but the plain one.
fn push_dest(out: &mut String, v: &SvcView, d: &Destination, format: u32, svc_name: &str) {
    let rule = format & FMT_RULE != 0;
    let mut dname = String::with_capacity(64);
    push_addrport(&mut dname, d.addr, d.port, v.protocol, format);
    if !rule && !d.addr.is_ipv6() {
        truncate_bytes(&mut dname, 28);
    }
    let weight = d.weight as i32;
    if rule {
        let sw = fwd_switch(d.forward);
        if d.forward == ForwardMethod::Tunnel {
            let _ = write!(
                out,
                "-a {svc_name} -r {dname} {sw} -w {weight} --tun-type {}",
                tun_name(d.tunnel_type)
            );
            match d.tunnel_type {
                TunnelType::Gre => {
                    let _ = write!(out, " {}", tun_flag(d.tunnel_flags, &TUN_FLAGS_OPTS));
                }
                TunnelType::Gue => {
                    let _ = write!(
                        out,
                        " --tun-port {} {}",
                        d.tunnel_port,
                        tun_flag(d.tunnel_flags, &TUN_FLAGS_OPTS)
                    );
                }
                TunnelType::Ipip => {}
            }
            out.push('\n');
        } else {
            let _ = writeln!(out, "-a {svc_name} -r {dname} {sw} -w {weight}");
        }
    } else if format & FMT_STATS != 0 {
        let _ = write!(out, "  -> {dname:<28}");
        let s = &d.stats;
        for n in [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes] {
            largenum(out, n, format);
        }
        out.push('\n');
    } else if format & FMT_RATE != 0 {
        let s = &d.stats;
        let _ = write!(
            out,
            "  -> {dname:<28} {:>8} {:>8} {:>8}",
            s.cps, s.inpps, s.outpps
        );
        largenum(out, s.inbps, format);
        largenum(out, s.outbps, format);
        out.push('\n');
    } else if format & FMT_THRESHOLDS != 0 {
        let _ = writeln!(
            out,
            "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
            d.upper_threshold, d.lower_threshold, d.active_conns, d.inactive_conns
        );
    } else if format & FMT_PERSISTENTCONN != 0 {
        let _ = writeln!(
            out,
            "  -> {dname:<28} {weight:<9} {:<11} {:<10} {:<10}",
            d.persist_conns, d.active_conns, d.inactive_conns
        );
    } else {
        // FMT_TUN_INFO.
        let ti = tun_info(d).unwrap_or_else(|| "n/a".into());
        let _ = writeln!(
            out,
            "  -> {dname:<28} {:<7} {ti:<13} {weight:<6} {:<10} {:<10}",
            fwd_name(d.forward),
            d.active_conns,
            d.inactive_conns
        );
    }
}

/// A plain listing's real-server line, `"  -> %-28s %-7s %-6d %-10d
/// %-10d\n"`: the line a listing has tens of thousands of. `dname` is a
/// buffer for a name that is not a plain `-n` IPv4 one.
fn push_dest_line(
    line: &mut Line,
    d: &Destination,
    protocol: u16,
    format: u32,
    dname: &mut String,
) {
    line.str("  -> ");
    match d.addr {
        // At most `255.255.255.255:65535`: never cut.
        IpAddr::V4(a) if format & FMT_NUMERIC != 0 => {
            let mark = line.mark();
            line.ipv4(a);
            line.ascii(b':');
            line.uint(d.port.into());
            line.pad_from(mark, 28);
        }
        _ => {
            dname.clear();
            push_addrport(dname, d.addr, d.port, protocol, format);
            if !d.addr.is_ipv6() {
                truncate_bytes(dname, 28);
            }
            line.left(dname, 28);
        }
    }
    line.ascii(b' ');
    line.left(fwd_name(d.forward), 7);
    line.ascii(b' ');
    line.int_left((d.weight as i32).into(), 6);
    line.ascii(b' ');
    line.int_left((d.active_conns as i32).into(), 10);
    line.ascii(b' ');
    line.int_left((d.inactive_conns as i32).into(), 10);
    line.ascii(b'\n');
}

/// `list_timeout`.
pub fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// `list_daemon`.
pub fn daemons(ds: &[Daemon]) -> String {
    let mut out = String::new();
    for d in ds {
        let kind = match d.state {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        };
        let _ = write!(
            out,
            "{kind} sync daemon (mcast={}, syncid={}",
            d.mcast_ifname, d.sync_id as i32
        );
        if d.sync_maxlen != 0 {
            let _ = write!(out, ", maxlen={}", d.sync_maxlen);
        }
        if let Some(g) = d.mcast_group {
            let _ = write!(out, ", group={}", netdb::ntop(g));
        }
        if d.mcast_port != 0 {
            let _ = write!(out, ", port={}", d.mcast_port);
        }
        if d.mcast_ttl != 0 {
            let _ = write!(out, ", ttl={}", d.mcast_ttl);
        }
        out.push_str(")\n");
    }
    out
}

/// `list_conn`: the connection table.
pub fn connections(conns: &[Connection], format: u32) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if format & FMT_PERSISTENTCONN != 0 {
        out.push_str("pro expire state       source             virtual            destination        pe name          pe_data\n");
    } else {
        out.push_str("pro expire state       source             virtual            destination\n");
    }
    for c in conns {
        let proto = match c.protocol.as_str() {
            "TCP" => IPPROTO_TCP,
            "UDP" => IPPROTO_UDP,
            "SCTP" => IPPROTO_SCTP,
            _ => 0,
        };
        let cname = addrport(c.client, c.client_port, proto, format);
        let vname = addrport(c.virtual_addr, c.virtual_port, proto, format);
        let dname = addrport(c.dest, c.dest_port, proto, format);
        let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
        match (&c.pe, format & FMT_PERSISTENTCONN != 0) {
            (Some((name, data)), true) => {
                let _ = writeln!(
                    out,
                    "{:<3} {expire:<6} {:<11} {cname:<18} {vname:<18} {dname:<16} {name:<18} {data}",
                    c.protocol, c.state
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{:<3} {expire:<6} {:<11} {cname:<18} {vname:<18} {dname}",
                    c.protocol, c.state
                );
            }
        }
    }
    out
}

mod line;

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
