//! Real servers: `IPVS_DEST_ATTR_*`, nested in `IPVS_CMD_ATTR_DEST`.

use std::net::IpAddr;

use netlink_packet_core::{
    parse_u16, parse_u16_be, parse_u32, parse_u8, DecodeError, DefaultNla, ErrorContext, Nla,
    NlaBuffer, Parseable,
};

use super::{
    addr_from_wire, addr_to_wire, family, parse_addr, parse_nested,
    stats::{emit_stats, stats_from_attrs, stats_len},
    StatsAttr,
};
use crate::{Destination, ForwardMethod, TunnelType};

const IPVS_DEST_ATTR_ADDR: u16 = 1;
const IPVS_DEST_ATTR_PORT: u16 = 2;
const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
const IPVS_DEST_ATTR_PERSIST_CONNS: u16 = 9;
const IPVS_DEST_ATTR_STATS: u16 = 10;
const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
const IPVS_DEST_ATTR_STATS64: u16 = 12;
const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;

/// `IP_VS_CONN_F_MASQ` and friends (`linux/ip_vs.h`).
const IP_VS_CONN_F_MASQ: u32 = 0;
const IP_VS_CONN_F_LOCALNODE: u32 = 1;
const IP_VS_CONN_F_TUNNEL: u32 = 2;
const IP_VS_CONN_F_DROUTE: u32 = 3;
const IP_VS_CONN_F_FWD_MASK: u32 = 7;

/// `IP_VS_CONN_F_TUNNEL_TYPE_*` (`linux/ip_vs.h`).
const IP_VS_CONN_F_TUNNEL_TYPE_IPIP: u8 = 0;
const IP_VS_CONN_F_TUNNEL_TYPE_GUE: u8 = 1;
const IP_VS_CONN_F_TUNNEL_TYPE_GRE: u8 = 2;

/// An attribute of a real server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestAttr {
    /// `IPVS_DEST_ATTR_ADDR`: an `nf_inet_addr`, always 16 bytes.
    Addr([u8; 16]),
    /// `IPVS_DEST_ATTR_PORT`: big-endian on the wire (`__be16`), no
    /// `NLA_F_NET_BYTEORDER`; held in host order.
    Port(u16),
    /// `IPVS_DEST_ATTR_FWD_METHOD`: `IP_VS_CONN_F_*` forwarding bits.
    FwdMethod(u32),
    /// `IPVS_DEST_ATTR_WEIGHT`.
    Weight(u32),
    /// `IPVS_DEST_ATTR_U_THRESH`.
    UThresh(u32),
    /// `IPVS_DEST_ATTR_L_THRESH`.
    LThresh(u32),
    /// `IPVS_DEST_ATTR_ACTIVE_CONNS` (read only).
    ActiveConns(u32),
    /// `IPVS_DEST_ATTR_INACT_CONNS` (read only).
    InactConns(u32),
    /// `IPVS_DEST_ATTR_PERSIST_CONNS` (read only).
    PersistConns(u32),
    /// `IPVS_DEST_ATTR_STATS`: 32-bit counters.
    Stats(Vec<StatsAttr>),
    /// `IPVS_DEST_ATTR_ADDR_FAMILY` (Linux 4.2+): the real server's own
    /// family, which may differ from the service's with tunnelling.
    AddrFamily(u16),
    /// `IPVS_DEST_ATTR_STATS64` (Linux 4.1+): 64-bit counters.
    Stats64(Vec<StatsAttr>),
    /// `IPVS_DEST_ATTR_TUN_TYPE` (Linux 5.3+): `IP_VS_CONN_F_TUNNEL_TYPE_*`.
    TunType(u8),
    /// `IPVS_DEST_ATTR_TUN_PORT` (Linux 5.3+): big-endian on the wire.
    TunPort(u16),
    /// `IPVS_DEST_ATTR_TUN_FLAGS` (Linux 5.4+): `IP_VS_TUNNEL_ENCAP_FLAG_*`.
    TunFlags(u16),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        use DestAttr::*;
        match self {
            Addr(_) => 16,
            Port(_) | AddrFamily(_) | TunPort(_) | TunFlags(_) => 2,
            TunType(_) => 1,
            FwdMethod(_) | Weight(_) | UThresh(_) | LThresh(_) | ActiveConns(_) | InactConns(_)
            | PersistConns(_) => 4,
            Stats(a) => stats_len(a, false),
            Stats64(a) => stats_len(a, true),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DestAttr::*;
        match self {
            Addr(_) => IPVS_DEST_ATTR_ADDR,
            Port(_) => IPVS_DEST_ATTR_PORT,
            FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            UThresh(_) => IPVS_DEST_ATTR_U_THRESH,
            LThresh(_) => IPVS_DEST_ATTR_L_THRESH,
            ActiveConns(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            InactConns(_) => IPVS_DEST_ATTR_INACT_CONNS,
            PersistConns(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            Stats(_) => IPVS_DEST_ATTR_STATS,
            AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            Stats64(_) => IPVS_DEST_ATTR_STATS64,
            TunType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            TunPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            TunFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use DestAttr::*;
        match self {
            Addr(a) => buffer[..16].copy_from_slice(a),
            Port(v) | TunPort(v) => buffer[..2].copy_from_slice(&v.to_be_bytes()),
            AddrFamily(v) | TunFlags(v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            TunType(v) => buffer[0] = *v,
            FwdMethod(v) | Weight(v) | UThresh(v) | LThresh(v) | ActiveConns(v) | InactConns(v)
            | PersistConns(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Stats(a) => emit_stats(a, false, buffer),
            Stats64(a) => emit_stats(a, true, buffer),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let u32_attr = |what| parse_u32(v).context(what);
        Ok(match buf.kind() {
            IPVS_DEST_ATTR_ADDR => DestAttr::Addr(parse_addr(v).context("IPVS_DEST_ATTR_ADDR")?),
            IPVS_DEST_ATTR_PORT => DestAttr::Port(parse_u16_be(v).context("IPVS_DEST_ATTR_PORT")?),
            IPVS_DEST_ATTR_FWD_METHOD => {
                DestAttr::FwdMethod(u32_attr("IPVS_DEST_ATTR_FWD_METHOD")?)
            }
            IPVS_DEST_ATTR_WEIGHT => DestAttr::Weight(u32_attr("IPVS_DEST_ATTR_WEIGHT")?),
            IPVS_DEST_ATTR_U_THRESH => DestAttr::UThresh(u32_attr("IPVS_DEST_ATTR_U_THRESH")?),
            IPVS_DEST_ATTR_L_THRESH => DestAttr::LThresh(u32_attr("IPVS_DEST_ATTR_L_THRESH")?),
            IPVS_DEST_ATTR_ACTIVE_CONNS => {
                DestAttr::ActiveConns(u32_attr("IPVS_DEST_ATTR_ACTIVE_CONNS")?)
            }
            IPVS_DEST_ATTR_INACT_CONNS => {
                DestAttr::InactConns(u32_attr("IPVS_DEST_ATTR_INACT_CONNS")?)
            }
            IPVS_DEST_ATTR_PERSIST_CONNS => {
                DestAttr::PersistConns(u32_attr("IPVS_DEST_ATTR_PERSIST_CONNS")?)
            }
            IPVS_DEST_ATTR_STATS => {
                DestAttr::Stats(parse_nested(v).context("IPVS_DEST_ATTR_STATS")?)
            }
            IPVS_DEST_ATTR_ADDR_FAMILY => {
                DestAttr::AddrFamily(parse_u16(v).context("IPVS_DEST_ATTR_ADDR_FAMILY")?)
            }
            IPVS_DEST_ATTR_STATS64 => {
                DestAttr::Stats64(parse_nested(v).context("IPVS_DEST_ATTR_STATS64")?)
            }
            IPVS_DEST_ATTR_TUN_TYPE => {
                DestAttr::TunType(parse_u8(v).context("IPVS_DEST_ATTR_TUN_TYPE")?)
            }
            IPVS_DEST_ATTR_TUN_PORT => {
                DestAttr::TunPort(parse_u16_be(v).context("IPVS_DEST_ATTR_TUN_PORT")?)
            }
            IPVS_DEST_ATTR_TUN_FLAGS => {
                DestAttr::TunFlags(parse_u16(v).context("IPVS_DEST_ATTR_TUN_FLAGS")?)
            }
            _ => DestAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

fn forward_to_wire(f: ForwardMethod) -> u32 {
    match f {
        ForwardMethod::Masq => IP_VS_CONN_F_MASQ,
        ForwardMethod::Local => IP_VS_CONN_F_LOCALNODE,
        ForwardMethod::Tunnel => IP_VS_CONN_F_TUNNEL,
        ForwardMethod::DirectRoute => IP_VS_CONN_F_DROUTE,
    }
}

fn tunnel_to_wire(t: TunnelType) -> u8 {
    match t {
        TunnelType::Ipip => IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
        TunnelType::Gue => IP_VS_CONN_F_TUNNEL_TYPE_GUE,
        TunnelType::Gre => IP_VS_CONN_F_TUNNEL_TYPE_GRE,
    }
}

/// The attributes that name a real server (what `DEL_DEST` reads).
pub(crate) fn dest_key_attrs(addr: &IpAddr, port: u16) -> Vec<DestAttr> {
    vec![
        DestAttr::AddrFamily(family(addr)),
        DestAttr::Addr(addr_to_wire(addr)),
        DestAttr::Port(port),
    ]
}

/// Every attribute of a real server for `NEW_DEST`/`SET_DEST`, in
/// ipvsadm's order (byte for byte what `ipvsadm -a`/`-e` sends).
pub(crate) fn dest_attrs(d: &Destination) -> Vec<DestAttr> {
    let mut attrs = dest_key_attrs(&d.addr, d.port);
    attrs.extend([
        DestAttr::FwdMethod(forward_to_wire(d.forward)),
        DestAttr::Weight(d.weight),
        DestAttr::TunType(tunnel_to_wire(d.tunnel_type)),
        DestAttr::TunPort(d.tunnel_port),
        DestAttr::TunFlags(d.tunnel_flags),
        DestAttr::UThresh(d.upper_threshold),
        DestAttr::LThresh(d.lower_threshold),
    ]);
    attrs
}

/// Whether a real server of a `NEW_DEST` reply can be a [`Destination`]:
/// the kernel keeps any forwarding bits (and tunnel type) a raw netlink
/// client sends, also ones that are no method (ipvsadm prints `(null)`).
pub(crate) fn dest_is_representable(attrs: &[DestAttr]) -> bool {
    attrs.iter().all(|a| match a {
        DestAttr::FwdMethod(v) => v & IP_VS_CONN_F_FWD_MASK <= IP_VS_CONN_F_DROUTE,
        DestAttr::TunType(v) => *v <= IP_VS_CONN_F_TUNNEL_TYPE_GRE,
        _ => true,
    })
}

/// A real server from a `NEW_DEST` reply. `service_af` is the service's
/// family, used when the kernel predates `IPVS_DEST_ATTR_ADDR_FAMILY`.
pub(crate) fn dest_from_attrs(
    attrs: &[DestAttr],
    service_af: u16,
) -> Result<Destination, DecodeError> {
    let (mut addr, mut af, mut port) = (None, service_af, 0);
    let (mut stats32, mut stats64) = (None, None);
    let mut d = Destination::new(IpAddr::from([0, 0, 0, 0]), 0);
    for a in attrs {
        match a {
            DestAttr::Addr(v) => addr = Some(*v),
            DestAttr::Port(v) => port = *v,
            DestAttr::FwdMethod(v) => {
                d.forward = match v & IP_VS_CONN_F_FWD_MASK {
                    IP_VS_CONN_F_MASQ => ForwardMethod::Masq,
                    IP_VS_CONN_F_LOCALNODE => ForwardMethod::Local,
                    IP_VS_CONN_F_TUNNEL => ForwardMethod::Tunnel,
                    IP_VS_CONN_F_DROUTE => ForwardMethod::DirectRoute,
                    other => return Err(format!("forwarding method {other}").into()),
                }
            }
            DestAttr::Weight(v) => d.weight = *v,
            DestAttr::UThresh(v) => d.upper_threshold = *v,
            DestAttr::LThresh(v) => d.lower_threshold = *v,
            DestAttr::ActiveConns(v) => d.active_conns = *v,
            DestAttr::InactConns(v) => d.inactive_conns = *v,
            DestAttr::PersistConns(v) => d.persist_conns = *v,
            DestAttr::Stats(s) => stats32 = Some(s),
            DestAttr::AddrFamily(v) => af = *v,
            DestAttr::Stats64(s) => stats64 = Some(s),
            DestAttr::TunType(v) => {
                d.tunnel_type = match *v {
                    IP_VS_CONN_F_TUNNEL_TYPE_IPIP => TunnelType::Ipip,
                    IP_VS_CONN_F_TUNNEL_TYPE_GUE => TunnelType::Gue,
                    IP_VS_CONN_F_TUNNEL_TYPE_GRE => TunnelType::Gre,
                    other => return Err(format!("tunnel type {other}").into()),
                }
            }
            DestAttr::TunPort(v) => d.tunnel_port = *v,
            DestAttr::TunFlags(v) => d.tunnel_flags = *v,
            DestAttr::Other(_) => {}
        }
    }
    let addr = addr.ok_or("a real server without IPVS_DEST_ATTR_ADDR")?;
    d.addr = addr_from_wire(af, &addr)?;
    d.port = port;
    if let Some(s) = stats64.or(stats32) {
        d.stats = stats_from_attrs(s);
    }
    Ok(d)
}
