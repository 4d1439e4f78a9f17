//! The connection table, which IPVS offers only as text in
//! `/proc/net/ip_vs_conn` (there is no netlink command for it).

use std::{
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use crate::{Connection, Error, NetNs, Result};

/// Read through `thread-self`: after a thread enters another network
/// namespace, `/proc/net` still shows the process's main-thread namespace.
const IP_VS_CONN: &str = "/proc/thread-self/net/ip_vs_conn";

/// The connection table of the calling thread's network namespace
/// (`ipvsadm -Lc`), IPv4 and IPv6 entries and persistence templates alike.
///
/// Without IPVS in the kernel the file does not exist: that is
/// [`Error::FamilyNotFound`] for `"IPVS"`, as [`Ipvs::new`](crate::Ipvs::new)
/// says it.
pub fn connections() -> Result<Vec<Connection>> {
    let text = match std::fs::read_to_string(IP_VS_CONN) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::FamilyNotFound {
                family: "IPVS".into(),
            })
        }
        Err(source) => {
            return Err(Error::Io {
                context: format!("reading {IP_VS_CONN}"),
                source,
            })
        }
    };
    parse_connections(&text)
}

/// The connection table of `netns`, read from a short-lived thread inside it.
pub fn connections_in(netns: &NetNs) -> Result<Vec<Connection>> {
    netns.run(connections)?
}

/// Parses the text of `/proc/net/ip_vs_conn` (`ip_vs_conn_seq_show` in
/// `net/netfilter/ipvs/ip_vs_conn.c`):
///
/// ```text
/// Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
/// TCP 0A000001 D738 0A000001 0050 C0A80101 1F90 CLOSE             9
/// UDP 2001:0db8:0000:0000:0000:0000:0000:0001 0035 ... 0035 NONE  120 sip call-id
/// ```
///
/// IPv4 addresses are 8 hex digits in host order, IPv6 ones `%pI6` (eight
/// groups of four hex digits), ports 4 hex digits; a row of an IPv4
/// service may have an IPv6 real server (tunnelling). A persistence engine
/// adds its name and data.
pub fn parse_connections(text: &str) -> Result<Vec<Connection>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("Pro "))
        .map(parse_row)
        .collect()
}

fn parse_row(line: &str) -> Result<Connection> {
    let bad = |why: &str| Error::Decode {
        context: format!("the connection table row {line:?}"),
        message: why.to_owned(),
    };
    let mut f = line.split_whitespace();
    let mut next = |what: &str| f.next().ok_or_else(|| bad(&format!("no {what}")));
    let protocol = next("protocol")?.to_owned();
    let client = hex_addr(next("client address")?).ok_or_else(|| bad("bad client address"))?;
    let client_port = hex_port(next("client port")?).ok_or_else(|| bad("bad client port"))?;
    let virtual_addr =
        hex_addr(next("virtual address")?).ok_or_else(|| bad("bad virtual address"))?;
    let virtual_port = hex_port(next("virtual port")?).ok_or_else(|| bad("bad virtual port"))?;
    let dest =
        hex_addr(next("real server address")?).ok_or_else(|| bad("bad real server address"))?;
    let dest_port =
        hex_port(next("real server port")?).ok_or_else(|| bad("bad real server port"))?;
    let state = next("state")?.to_owned();
    let expires = next("expiry")?.parse().map_err(|_| bad("bad expiry"))?;
    let pe = f.next().map(|name| {
        let data: Vec<&str> = f.collect();
        (name.to_owned(), data.join(" "))
    });
    Ok(Connection {
        protocol,
        client,
        client_port,
        virtual_addr,
        virtual_port,
        dest,
        dest_port,
        state,
        expires,
        pe,
    })
}

/// An address as the kernel's text tables print it: IPv4 as 8 hex digits
/// in host order, IPv6 as `%pI6`.
pub(crate) fn hex_addr(s: &str) -> Option<IpAddr> {
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return u32::from_str_radix(s, 16)
            .ok()
            .map(|n| IpAddr::V4(Ipv4Addr::from(n)));
    }
    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// A port as 4 hex digits.
pub(crate) fn hex_port(s: &str) -> Option<u16> {
    if s.len() != 4 {
        return None;
    }
    u16::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from Linux 6.1 in the test VM after `nc` through a masq
    /// service and a mixed-family tunnel.
    const TABLE: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A000001 D738 0A000001 0050 C0A80101 1F90 CLOSE             9
TCP 0A000001 884C 0A000001 0050 2001:0db8:0000:0000:0000:0000:0000:0002 0050 SYN_RECV         58
";

    #[test]
    fn parses_ipv4_rows_and_ipv6_real_servers() {
        let c = parse_connections(TABLE).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0],
            Connection {
                protocol: "TCP".into(),
                client: "10.0.0.1".parse().unwrap(),
                client_port: 0xd738,
                virtual_addr: "10.0.0.1".parse().unwrap(),
                virtual_port: 80,
                dest: "192.168.1.1".parse().unwrap(),
                dest_port: 8080,
                state: "CLOSE".into(),
                expires: 9,
                pe: None,
            }
        );
        assert_eq!(c[1].dest, "2001:db8::2".parse::<IpAddr>().unwrap());
        assert_eq!((c[1].state.as_str(), c[1].expires), ("SYN_RECV", 58));
    }

    #[test]
    fn parses_ipv6_rows_templates_and_persistence_engine_data() {
        let text = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
UDP 2001:0db8:0000:0000:0000:0000:0000:0063 13C4 2001:0db8:0000:0000:0000:0000:0000:0001 13C4 2001:0db8:0000:0000:0000:0000:0000:0002 13C4 UDP             280
IP  0A000063 0000 0A000002 13C4 C0A80101 13C4 NONE            60 sip a84b4c76e66710
";
        let c = parse_connections(text).unwrap();
        assert_eq!(c[0].client, "2001:db8::63".parse::<IpAddr>().unwrap());
        assert_eq!(c[0].virtual_port, 5060);
        assert_eq!(c[1].protocol, "IP");
        assert_eq!(c[1].client_port, 0);
        assert_eq!(c[1].state, "NONE");
        assert_eq!(
            c[1].pe,
            Some(("sip".to_owned(), "a84b4c76e66710".to_owned()))
        );
    }

    #[test]
    fn refuses_garbage_without_panicking() {
        for bad in [
            "TCP",
            "TCP 0A00 1 2 3 4 5 6 7",
            "TCP zz 0050 0A000001 0050 0A000001 0050 X 1",
        ] {
            assert!(parse_connections(bad).is_err(), "{bad}");
        }
        assert!(parse_connections("").unwrap().is_empty());
    }
}
