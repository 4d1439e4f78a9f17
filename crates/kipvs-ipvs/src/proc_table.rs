//! The real servers of every service in one read of `/proc/net/ip_vs`.
//!
//! Netlink can dump the real servers of one service at a time only
//! (`IPVS_CMD_GET_DEST` needs a nested service), so listing a table of
//! thousands of services costs thousands of dumps. The kernel's text table
//! holds every service with its real servers in one file: for what it
//! shows (address, port, forwarding method, weight, connection counts) one
//! read replaces all of those dumps.

use std::{
    collections::HashMap,
    io::{self, Read},
    net::IpAddr,
};

use crate::{Destination, Error, ForwardMethod, Protocol, Result, ServiceKey};

/// Read through `thread-self`, as for the connection table: after a thread
/// enters another network namespace, `/proc/net` still shows the process's
/// main-thread namespace.
const IP_VS: &str = "/proc/thread-self/net/ip_vs";

/// How a service is named in the text table. Firewall-mark services carry
/// no address family there (`FWM  %08X`), so a mark names the IPv4 and the
/// IPv6 service alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ProcKey {
    Addr(Protocol, IpAddr, u16),
    Fwmark(u32),
}

impl From<&ServiceKey> for ProcKey {
    fn from(key: &ServiceKey) -> Self {
        match *key {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => ProcKey::Addr(protocol, addr, port),
            ServiceKey::Fwmark { mark, .. } => ProcKey::Fwmark(mark),
        }
    }
}

/// The real servers of each service in `/proc/net/ip_vs`, as far as the
/// text tells them.
#[derive(Debug, Default)]
pub(crate) struct ProcTable {
    /// The services in the text's order, which is the kernel's service
    /// table order, the order of a netlink service dump too.
    services: Vec<ProcService>,
    /// Where [`ProcTable::take`] looks first: just past the service it
    /// found last, so that taking in dump order hashes nothing.
    next: usize,
    /// The position of each key, made on the first take that the order
    /// does not answer.
    index: Option<HashMap<ProcKey, usize>>,
}

#[derive(Debug)]
struct ProcService {
    key: ProcKey,
    /// `None` where the text cannot tell which service it means (two
    /// firewall-mark services of one mark, IPv4 and IPv6) or does not show
    /// all the configuration (a tunnelling real server: its encapsulation
    /// is missing from the text).
    dests: Option<Vec<Destination>>,
}

impl ProcTable {
    /// Reads the table of the calling thread's network namespace.
    pub(crate) fn read() -> Result<ProcTable> {
        let mut file = match std::fs::File::open(IP_VS) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::FamilyNotFound {
                    family: "IPVS".into(),
                })
            }
            Err(source) => return Err(read_error(source)),
        };
        // One large buffer: the kernel walks its service table from the
        // start to resume each read() of this seq_file, so many small
        // reads of a big table cost quadratic time.
        let mut text = Vec::with_capacity(1 << 20);
        file.read_to_end(&mut text).map_err(read_error)?;
        let text = String::from_utf8(text).map_err(|_| Error::Decode {
            context: IP_VS.into(),
            message: "not UTF-8".into(),
        })?;
        parse(&text)
    }

    /// The real servers of `key`, if the text names the service
    /// unambiguously and shows everything about its real servers but their
    /// thresholds, persistent-connection counts and counters.
    pub(crate) fn take(&mut self, key: &ServiceKey) -> Option<Vec<Destination>> {
        let key = ProcKey::from(key);
        let at = match self.services.get(self.next) {
            Some(s) if s.key == key => self.next,
            _ => *self.index().get(&key)?,
        };
        self.next = at + 1;
        self.services[at].dests.take()
    }

    fn index(&mut self) -> &HashMap<ProcKey, usize> {
        self.index.get_or_insert_with(|| {
            let mut index = HashMap::with_capacity(self.services.len());
            for (i, s) in self.services.iter().enumerate() {
                index.entry(s.key).or_insert(i);
            }
            index
        })
    }

    /// How many services the text describes fully.
    pub(crate) fn described(&self) -> usize {
        self.services.iter().filter(|s| s.dests.is_some()).count()
    }
}

fn read_error(source: io::Error) -> Error {
    Error::Io {
        context: format!("reading {IP_VS}"),
        source,
    }
}

/// Parses the text of `/proc/net/ip_vs` (`ip_vs_info_seq_show` in
/// `net/netfilter/ipvs/ip_vs_ctl.c`):
///
/// ```text
/// IP Virtual Server version 1.2.1 (size=4096)
/// Prot LocalAddress:Port Scheduler Flags
///   -> RemoteAddress:Port Forward Weight ActiveConn InActConn
/// TCP  0A000001:0050 rr
///   -> C0A80101:1F90      Masq    1      0          0
/// UDP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0035 wlc persistent 360 FFFFFFFF
/// FWM  0000002A sh ops
/// ```
///
/// Real servers follow their service in the kernel's list order (the
/// order of a netlink dump). Services of protocols a [`ServiceKey`] cannot
/// name (AH, ESP) are skipped with their real servers.
///
/// A table larger than one page reaches user space in several reads, and
/// the kernel finds where to resume by counting services: a service added
/// or deleted meanwhile can make one appear twice. Either copy is a true
/// account of it, and either may be taken. Only a firewall mark seen twice is
/// ambiguous (an IPv4 and an IPv6 service: the text has no family for
/// them).
pub(crate) fn parse(text: &str) -> Result<ProcTable> {
    let bytes = text.as_bytes();
    let bad = |start: usize, why: &str| {
        let line = text[start..].lines().next().unwrap_or("");
        Error::Decode {
            context: format!("the {IP_VS} line {line:?}"),
            message: why.to_owned(),
        }
    };
    if !text.starts_with("IP Virtual Server version") {
        return Err(bad(0, "no version line"));
    }
    let mut c = Cursor { bytes, at: 0 };
    // The version line and the two title lines.
    for _ in 0..3 {
        c.skip_line();
    }
    let mut table = ProcTable::default();
    // Whether the real servers being read belong to a service kept.
    let mut current = false;
    // Where each firewall mark's service is (they are few).
    let mut marks: HashMap<u32, usize> = HashMap::new();
    while !c.is_done() {
        let start = c.at;
        if c.rest().starts_with(b"  -> ") {
            c.at += 5;
            let dest = destination(&mut c).ok_or_else(|| bad(start, "bad real server"))?;
            if !current {
                continue;
            }
            let slot = &mut table
                .services
                .last_mut()
                .expect("current is in the table")
                .dests;
            if dest.forward == ForwardMethod::Tunnel {
                *slot = None;
            }
            if let Some(dests) = slot {
                dests.push(dest);
            }
            continue;
        }
        let key = service(&mut c).ok_or_else(|| bad(start, "bad service"))?;
        current = key.is_some();
        let Some(key) = key else { continue };
        let mut dests = Some(Vec::new());
        if let ProcKey::Fwmark(mark) = key {
            match marks.get(&mark) {
                Some(&first) => {
                    // Says nothing certain about either.
                    table.services[first].dests = None;
                    dests = None;
                }
                None => {
                    marks.insert(mark, table.services.len());
                }
            }
        }
        table.services.push(ProcService { key, dests });
    }
    Ok(table)
}

/// Reads the text once, byte by byte, line by line: fields are runs of
/// anything but ASCII blanks (the kernel separates them with spaces). A
/// table has tens of thousands of lines padded with blanks; splitting it
/// into lines and then into fields, and decoding characters on the way,
/// cost three times as much.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn is_done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at.min(self.bytes.len())..]
    }

    /// The next field of this line, if it has one more.
    fn field(&mut self) -> Option<&'a [u8]> {
        self.blanks();
        let rest = self.rest();
        let len = rest
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(rest.len());
        self.at += len;
        (len > 0).then(|| &rest[..len])
    }

    /// Past the end of this line, if it has no more fields.
    fn end_of_line(&mut self) -> bool {
        self.blanks();
        match self.rest().first() {
            None => true,
            Some(b'\n') => {
                self.at += 1;
                true
            }
            Some(_) => false,
        }
    }

    /// Past the end of this line, whatever is left on it.
    fn skip_line(&mut self) {
        let rest = self.rest();
        self.at += rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(rest.len(), |n| n + 1);
    }

    /// Past the blanks of this line (`\r`, a tab, ... as `str::lines` and
    /// `split_whitespace` would drop them), not past its end.
    fn blanks(&mut self) {
        let rest = self.rest();
        self.at += rest
            .iter()
            .position(|b| !b.is_ascii_whitespace() || *b == b'\n')
            .unwrap_or(rest.len());
    }
}

/// A service line's key, the cursor past the line; `Ok(None)` for a
/// protocol IPVS balances but a [`ServiceKey`] cannot name.
fn service(c: &mut Cursor) -> Option<Option<ProcKey>> {
    let proto = c.field()?;
    let id = c.field()?;
    c.field()?; // the scheduler
    c.skip_line(); // its flags
    if proto == b"FWM" {
        return Some(Some(ProcKey::Fwmark(hex(id, 8)?)));
    }
    let (addr, port) = addr_port(id)?;
    Some(match proto {
        b"TCP" => Some(ProcKey::Addr(Protocol::Tcp, addr, port)),
        b"UDP" => Some(ProcKey::Addr(Protocol::Udp, addr, port)),
        b"SCTP" => Some(ProcKey::Addr(Protocol::Sctp, addr, port)),
        _ => None,
    })
}

/// A real-server line after its `  -> `, the cursor past the line.
fn destination(c: &mut Cursor) -> Option<Destination> {
    let (addr, port) = addr_port(c.field()?)?;
    let forward = match c.field()? {
        b"Masq" => ForwardMethod::Masq,
        b"Local" => ForwardMethod::Local,
        b"Tunnel" => ForwardMethod::Tunnel,
        b"Route" => ForwardMethod::DirectRoute,
        _ => return None,
    };
    // Printed with %d from the kernel's signed atomics.
    let weight = int(c.field()?)? as u32;
    let active_conns = int(c.field()?)? as u32;
    let inactive_conns = int(c.field()?)? as u32;
    if !c.end_of_line() {
        return None;
    }
    let mut d = Destination::new(addr, port).forward(forward).weight(weight);
    d.active_conns = active_conns;
    d.inactive_conns = inactive_conns;
    Some(d)
}

/// `0A000001:0050` (`%08X:%04X`) or `[2001:0db8:...:0001]:0050`
/// (`[%pI6]:%04X`).
fn addr_port(s: &[u8]) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_at(s.len().checked_sub(5)?);
    let port = port.strip_prefix(b":")?;
    let addr = match addr.strip_prefix(b"[") {
        Some(v6) => {
            let v6 = std::str::from_utf8(v6.strip_suffix(b"]")?).ok()?;
            IpAddr::V6(v6.parse().ok()?)
        }
        None => IpAddr::V4(hex(addr, 8)?.into()),
    };
    Some((addr, hex(port, 4)? as u16))
}

/// Exactly `digits` hex digits (`%0NX`).
fn hex(s: &[u8], digits: usize) -> Option<u32> {
    if s.len() != digits {
        return None;
    }
    s.iter().try_fold(0u32, |n, &b| {
        let d = HEX[usize::from(b)];
        (d < 16).then_some(n << 4 | u32::from(d))
    })
}

/// Each byte's value as a hex digit; 0xff for what is none.
const HEX: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// A decimal `%d`.
fn int(s: &[u8]) -> Option<i32> {
    let (negative, digits) = match s.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || digits.len() > 10 {
        return None;
    }
    let mut n: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(b - b'0');
    }
    i32::try_from(if negative { -n } else { n }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In the format of Linux 6.1's `ip_vs_info_seq_show` (trailing blanks
    /// and all): one service of each kind, a persistent one, one-packet
    /// scheduling, a mixed-family tunnel, a mark used by two families.
    /// `tests/kernel` checks the parse against netlink on a live table.
    const TABLE: &str = "\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A000001:0050 rr 
  -> C0A80102:1F90      Masq    1      0          0         
  -> C0A80101:1F90      Route   3      2          7         
UDP  0A000001:0035 wlc ops persistent 360 FFFFFF00
  -> 0A000002:0035      Local   0      0          0         
SCTP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 sh 
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0050      Masq    1      0          0         
TCP  0A000009:0050 rr 
  -> C0A80101:1F90      Masq    1      0          0         
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0050      Tunnel  1      0          0         
FWM  0000002A mh 
  -> C0A80103:0000      Route   -1     0          0         
FWM  00000007 rr 
  -> C0A80104:0000      Route   1      0          0         
FWM  00000007 rr 
  -> [2001:0db8:0000:0000:0000:0000:0000:0007]:0000      Route   1      0          0         
";

    fn tcp(addr: &str, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: addr.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn reads_real_servers_in_kernel_order() {
        let mut t = parse(TABLE).unwrap();
        let d = t.take(&tcp("10.0.0.1", 80)).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].addr, "192.168.1.2".parse::<IpAddr>().unwrap());
        assert_eq!(
            (d[0].port, d[0].forward, d[0].weight),
            (8080, ForwardMethod::Masq, 1)
        );
        assert_eq!(d[1].forward, ForwardMethod::DirectRoute);
        assert_eq!(
            (d[1].weight, d[1].active_conns, d[1].inactive_conns),
            (3, 2, 7)
        );
        // Taken once: a second call has nothing to give.
        assert_eq!(t.take(&tcp("10.0.0.1", 80)), None);
    }

    #[test]
    fn reads_udp_sctp_ipv6_and_marks() {
        let mut t = parse(TABLE).unwrap();
        let udp = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 53,
        };
        assert_eq!(t.take(&udp).unwrap()[0].forward, ForwardMethod::Local);
        let sctp = ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: "2001:db8::1".parse().unwrap(),
            port: 80,
        };
        let d = t.take(&sctp).unwrap();
        assert_eq!(d[0].addr, "2001:db8::2".parse::<IpAddr>().unwrap());
        let mark = ServiceKey::Fwmark {
            mark: 42,
            ipv6: false,
        };
        assert_eq!(t.take(&mark).unwrap()[0].weight, u32::MAX);
    }

    #[test]
    fn leaves_out_what_the_text_cannot_tell() {
        let mut t = parse(TABLE).unwrap();
        // A tunnelling real server's encapsulation is not in the text.
        assert_eq!(t.take(&tcp("10.0.0.9", 80)), None);
        // Mark 7 is an IPv4 and an IPv6 service: which is which is unknown.
        for ipv6 in [false, true] {
            assert_eq!(t.take(&ServiceKey::Fwmark { mark: 7, ipv6 }), None);
        }
        // A service the text does not have (added after the read).
        assert_eq!(t.take(&tcp("10.0.0.3", 80)), None);
    }

    #[test]
    fn takes_in_any_order() {
        let mut t = parse(TABLE).unwrap();
        // TCP, UDP, SCTP and mark 42; not the tunnel, not mark 7.
        assert_eq!(t.described(), 4);
        let udp = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 53,
        };
        // Out of the text's order: found through the index.
        assert_eq!(t.take(&udp).unwrap().len(), 1);
        assert_eq!(t.take(&tcp("10.0.0.1", 80)).unwrap().len(), 2);
        // Back in order from there.
        assert_eq!(t.take(&udp), None);
        assert_eq!(t.described(), 2);
    }

    /// A service added while the text is read in pieces can shift one
    /// already read into the next piece; both copies tell the truth.
    #[test]
    fn a_service_read_twice_is_not_ambiguous() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
                    Prot LocalAddress:Port Scheduler Flags\n\
                    \x20 -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n\
                    TCP  0A000001:0050 rr \n\
                    \x20 -> C0A80101:1F90      Masq    1      0          0         \n\
                    TCP  0A000002:0050 rr \n\
                    TCP  0A000001:0050 rr \n\
                    \x20 -> C0A80101:1F90      Masq    1      0          0         \n\
                    \x20 -> C0A80102:1F90      Masq    1      0          0         \n";
        let mut t = parse(text).unwrap();
        assert_eq!(t.take(&tcp("10.0.0.2", 80)).unwrap().len(), 0);
        // The copy that comes next in the text's order.
        assert_eq!(t.take(&tcp("10.0.0.1", 80)).unwrap().len(), 2);
    }

    #[test]
    fn skips_protocols_a_key_cannot_name() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
                    Prot LocalAddress:Port Scheduler Flags\n\
                    \x20 -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n\
                    AH  0A000001:0000 rr \n\
                    \x20 -> C0A80101:0000      Route   1      0          0         \n";
        assert!(parse(text).unwrap().services.is_empty());
    }

    /// The live kernel's text, written by the real ipvsadm: the format
    /// above is the one Linux prints.
    #[test]
    fn reads_the_kernels_table() {
        if !kipvs_testutil::private_netns()
            || !kipvs_testutil::require_ipvs()
            || !kipvs_testutil::require_tool("ipvsadm")
        {
            return;
        }
        kipvs_testutil::sh("ip link set lo up");
        let rules = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -g -w 3
-A -u [2001:db8::1]:53 -s wlc -p 360 -o
-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 2
-A -t 10.0.0.9:80 -s rr
-a -t 10.0.0.9:80 -r 192.168.1.7:80 -i -w 1
-A -f 7 -s rr
-a -f 7 -r 192.168.1.4:0 -g -w 1
-A -f 7 -6 -s rr
-A -f 8 -6 -s rr
-a -f 8 -6 -r [2001:db8::8]:0 -g -w 5
";
        let out = kipvs_testutil::run("ipvsadm", &["-R"], rules);
        assert_eq!(out.code, 0, "ipvsadm -R: {}", out.stderr);
        let mut t = ProcTable::read().unwrap();
        let d = t.take(&tcp("10.0.0.1", 80)).unwrap();
        let got: Vec<_> = d
            .iter()
            .map(|d| (d.addr, d.port, d.forward, d.weight))
            .collect();
        // Newest first, as the kernel links them (and as a netlink dump
        // lists them); direct routing takes the service's port.
        assert_eq!(
            got,
            [
                (
                    "192.168.1.1".parse().unwrap(),
                    80,
                    ForwardMethod::DirectRoute,
                    3
                ),
                ("192.168.1.2".parse().unwrap(), 8080, ForwardMethod::Masq, 1),
            ]
        );
        let udp6 = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "2001:db8::1".parse().unwrap(),
            port: 53,
        };
        let d = t.take(&udp6).unwrap();
        assert_eq!(
            (d[0].addr, d[0].weight),
            ("2001:db8::2".parse().unwrap(), 2)
        );
        let mark8 = ServiceKey::Fwmark {
            mark: 8,
            ipv6: true,
        };
        assert_eq!(t.take(&mark8).unwrap()[0].weight, 5);
        assert_eq!(t.take(&tcp("10.0.0.9", 80)), None);
        assert_eq!(
            t.take(&ServiceKey::Fwmark {
                mark: 7,
                ipv6: false
            }),
            None
        );
    }

    #[test]
    fn rejects_what_is_not_the_table() {
        assert!(parse("").is_err());
        assert!(parse("garbage\n").is_err());
        let bad_dest = TABLE.replace("C0A80102:1F90", "C0A8010:1F90");
        assert!(parse(&bad_dest).is_err());
        let bad_fwd = TABLE.replace("Masq", "Bogus");
        assert!(parse(&bad_fwd).is_err());
    }
}
