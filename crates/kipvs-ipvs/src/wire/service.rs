//! Virtual services: `IPVS_SVC_ATTR_*`, nested in `IPVS_CMD_ATTR_SERVICE`.

use netlink_packet_core::{
    parse_u16, parse_u16_be, parse_u32, DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer,
    Parseable,
};

use super::{
    addr_from_wire, addr_to_wire, emit_string, family, fixed, parse_addr, parse_cstr,
    parse_cstring, parse_nested, raw_nlas,
    stats::{emit_stats, stats_from_attrs, stats_from_nest, stats_len},
    StatsAttr, AF_INET, AF_INET6,
};
use crate::{Protocol, Scheduler, Service, ServiceFlags, ServiceKey, Stats};

const IPVS_SVC_ATTR_AF: u16 = 1;
const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
const IPVS_SVC_ATTR_ADDR: u16 = 3;
const IPVS_SVC_ATTR_PORT: u16 = 4;
const IPVS_SVC_ATTR_FWMARK: u16 = 5;
const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
const IPVS_SVC_ATTR_FLAGS: u16 = 7;
const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
const IPVS_SVC_ATTR_NETMASK: u16 = 9;
const IPVS_SVC_ATTR_STATS: u16 = 10;
const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
const IPVS_SVC_ATTR_STATS64: u16 = 12;

/// `struct ip_vs_flags` (`linux/ip_vs.h`): the flags to set and the mask of
/// the bits to change. ipvsadm always sends a full mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SvcFlags {
    /// `IP_VS_SVC_F_*` bits.
    pub flags: u32,
    /// Which bits of `flags` apply.
    pub mask: u32,
}

/// An attribute of a virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SvcAttr {
    /// `IPVS_SVC_ATTR_AF`: `AF_INET` or `AF_INET6`.
    Af(u16),
    /// `IPVS_SVC_ATTR_PROTOCOL`: `IPPROTO_TCP`, `IPPROTO_UDP`, `IPPROTO_SCTP`.
    Protocol(u16),
    /// `IPVS_SVC_ATTR_ADDR`: an `nf_inet_addr`, always 16 bytes on the wire.
    Addr([u8; 16]),
    /// `IPVS_SVC_ATTR_PORT`: big-endian on the wire (`__be16`) although the
    /// attribute does not carry `NLA_F_NET_BYTEORDER`; held here in host
    /// order.
    Port(u16),
    /// `IPVS_SVC_ATTR_FWMARK`.
    Fwmark(u32),
    /// `IPVS_SVC_ATTR_SCHED_NAME`, NUL-terminated on the wire.
    SchedName(String),
    /// `IPVS_SVC_ATTR_FLAGS`: a `struct ip_vs_flags` `{flags, mask}` pair.
    Flags(SvcFlags),
    /// `IPVS_SVC_ATTR_TIMEOUT`: persistence timeout in seconds.
    Timeout(u32),
    /// `IPVS_SVC_ATTR_NETMASK`, as the raw `u32` the kernel stores: for
    /// IPv4 the mask in network byte order (`__be32`), for IPv6 a prefix
    /// length in host order (`ip_vs_ctl.c` checks `1..=128`).
    Netmask(u32),
    /// `IPVS_SVC_ATTR_STATS`: 32-bit counters (64-bit byte counters).
    Stats(Vec<StatsAttr>),
    /// `IPVS_SVC_ATTR_PE_NAME`: the persistence engine, e.g. `sip`.
    PeName(String),
    /// `IPVS_SVC_ATTR_STATS64` (Linux 4.1+): 64-bit counters.
    Stats64(Vec<StatsAttr>),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        use SvcAttr::*;
        match self {
            Af(_) | Protocol(_) | Port(_) => 2,
            Addr(_) => 16,
            Fwmark(_) | Timeout(_) | Netmask(_) => 4,
            SchedName(s) | PeName(s) => s.len() + 1,
            Flags(_) => 8,
            Stats(a) => stats_len(a, false),
            Stats64(a) => stats_len(a, true),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use SvcAttr::*;
        match self {
            Af(_) => IPVS_SVC_ATTR_AF,
            Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            Addr(_) => IPVS_SVC_ATTR_ADDR,
            Port(_) => IPVS_SVC_ATTR_PORT,
            Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            Flags(_) => IPVS_SVC_ATTR_FLAGS,
            Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            Stats(_) => IPVS_SVC_ATTR_STATS,
            PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            Stats64(_) => IPVS_SVC_ATTR_STATS64,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use SvcAttr::*;
        match self {
            Af(v) | Protocol(v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            Port(v) => buffer[..2].copy_from_slice(&v.to_be_bytes()),
            Addr(a) => buffer[..16].copy_from_slice(a),
            Fwmark(v) | Timeout(v) | Netmask(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            SchedName(s) | PeName(s) => emit_string(buffer, s),
            Flags(f) => {
                buffer[..4].copy_from_slice(&f.flags.to_ne_bytes());
                buffer[4..8].copy_from_slice(&f.mask.to_ne_bytes());
            }
            Stats(a) => emit_stats(a, false, buffer),
            Stats64(a) => emit_stats(a, true, buffer),
            Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for SvcAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => SvcAttr::Af(parse_u16(v).context("IPVS_SVC_ATTR_AF")?),
            IPVS_SVC_ATTR_PROTOCOL => {
                SvcAttr::Protocol(parse_u16(v).context("IPVS_SVC_ATTR_PROTOCOL")?)
            }
            IPVS_SVC_ATTR_ADDR => SvcAttr::Addr(parse_addr(v).context("IPVS_SVC_ATTR_ADDR")?),
            IPVS_SVC_ATTR_PORT => SvcAttr::Port(parse_u16_be(v).context("IPVS_SVC_ATTR_PORT")?),
            IPVS_SVC_ATTR_FWMARK => SvcAttr::Fwmark(parse_u32(v).context("IPVS_SVC_ATTR_FWMARK")?),
            IPVS_SVC_ATTR_SCHED_NAME => {
                SvcAttr::SchedName(parse_cstring(v).context("IPVS_SVC_ATTR_SCHED_NAME")?)
            }
            IPVS_SVC_ATTR_FLAGS => {
                let raw: [u8; 8] = fixed(v, "IPVS_SVC_ATTR_FLAGS")?;
                SvcAttr::Flags(SvcFlags {
                    flags: u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]),
                    mask: u32::from_ne_bytes([raw[4], raw[5], raw[6], raw[7]]),
                })
            }
            IPVS_SVC_ATTR_TIMEOUT => {
                SvcAttr::Timeout(parse_u32(v).context("IPVS_SVC_ATTR_TIMEOUT")?)
            }
            IPVS_SVC_ATTR_NETMASK => {
                SvcAttr::Netmask(parse_u32(v).context("IPVS_SVC_ATTR_NETMASK")?)
            }
            IPVS_SVC_ATTR_STATS => SvcAttr::Stats(parse_nested(v).context("IPVS_SVC_ATTR_STATS")?),
            IPVS_SVC_ATTR_PE_NAME => {
                SvcAttr::PeName(parse_cstring(v).context("IPVS_SVC_ATTR_PE_NAME")?)
            }
            IPVS_SVC_ATTR_STATS64 => {
                SvcAttr::Stats64(parse_nested(v).context("IPVS_SVC_ATTR_STATS64")?)
            }
            _ => SvcAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// The attributes that name a service: what the kernel reads for
/// `DEL_SERVICE`, `GET_SERVICE`, `ZERO` and the service nest of the
/// destination commands (`ip_vs_genl_parse_service` with `full_entry`
/// false).
pub(crate) fn service_key_attrs(key: &ServiceKey) -> Vec<SvcAttr> {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => vec![
            SvcAttr::Af(family(addr)),
            SvcAttr::Protocol(protocol.number()),
            SvcAttr::Addr(addr_to_wire(addr)),
            SvcAttr::Port(*port),
        ],
        ServiceKey::Fwmark { mark, ipv6 } => vec![
            SvcAttr::Af(if *ipv6 { AF_INET6 } else { AF_INET }),
            SvcAttr::Fwmark(*mark),
        ],
    }
}

/// The raw `IPVS_SVC_ATTR_NETMASK` of a service's netmask.
fn netmask_to_wire(key: &ServiceKey, netmask: u32) -> u32 {
    if key.is_ipv6() {
        netmask
    } else {
        // A dotted mask held as a number (0xffffff00 for /24) goes out in
        // network byte order, as ipvsadm's `inet_aton` result does.
        u32::from_ne_bytes(netmask.to_be_bytes())
    }
}

/// Every attribute of a service for `NEW_SERVICE`/`SET_SERVICE`, in
/// ipvsadm's order (byte for byte what `ipvsadm -A`/`-E` sends).
pub(crate) fn service_attrs(svc: &Service) -> Vec<SvcAttr> {
    let mut attrs = service_key_attrs(&svc.key);
    attrs.push(SvcAttr::SchedName(svc.scheduler.as_str().to_owned()));
    if let Some(pe) = &svc.pe_name {
        attrs.push(SvcAttr::PeName(pe.clone()));
    }
    attrs.push(SvcAttr::Flags(SvcFlags {
        // HASHED is the kernel's own bookkeeping; it ignores it from us.
        flags: svc.flags.0 & !ServiceFlags::HASHED,
        mask: u32::MAX,
    }));
    attrs.push(SvcAttr::Timeout(svc.timeout));
    attrs.push(SvcAttr::Netmask(netmask_to_wire(&svc.key, svc.netmask)));
    attrs
}

/// Whether a service of a `NEW_SERVICE` reply can be a [`Service`]: a
/// firewall-mark service, or one of TCP, UDP or SCTP. The kernel also takes
/// AH and ESP services over netlink (ipvsadm cannot make them), which
/// [`ServiceKey`] has no name for.
#[cfg(test)]
pub(crate) fn service_is_representable(attrs: &[SvcAttr]) -> bool {
    SvcFields::of_attrs(attrs).representable()
}

/// A service from the attributes of a `NEW_SERVICE` reply. Statistics come
/// from `STATS64` when the kernel sent it (Linux 4.1+), else from `STATS`.
pub(crate) fn service_from_attrs(attrs: &[SvcAttr]) -> Result<Service, DecodeError> {
    SvcFields::of_attrs(attrs).service()
}

/// A service nest's value read in place, for dumps of thousands of
/// services: what [`parse_nested`] then [`service_is_representable`] and
/// [`service_from_attrs`] make of it, without a `Vec<SvcAttr>` (and its
/// strings and stats vectors) per service. The outer error is the one
/// parsing the nest into [`SvcAttr`]s gives; `Ok(None)` is a service that
/// is not representable; the inner result is the conversion's.
pub(crate) fn service_from_nest(
    nest: &[u8],
) -> Result<Option<Result<Service, DecodeError>>, DecodeError> {
    let mut f = SvcFields::default();
    for nla in raw_nlas(nest) {
        let nla = nla?;
        let v = nla.value;
        match nla.kind {
            IPVS_SVC_ATTR_AF => f.af = Some(parse_u16(v).context("IPVS_SVC_ATTR_AF")?),
            IPVS_SVC_ATTR_PROTOCOL => f.protocol(parse_u16(v).context("IPVS_SVC_ATTR_PROTOCOL")?),
            IPVS_SVC_ATTR_ADDR => f.addr = Some(parse_addr(v).context("IPVS_SVC_ATTR_ADDR")?),
            IPVS_SVC_ATTR_PORT => f.port = parse_u16_be(v).context("IPVS_SVC_ATTR_PORT")?,
            IPVS_SVC_ATTR_FWMARK => f.fwmark(parse_u32(v).context("IPVS_SVC_ATTR_FWMARK")?),
            IPVS_SVC_ATTR_SCHED_NAME => {
                f.sched = Some(parse_cstr(v).context("IPVS_SVC_ATTR_SCHED_NAME")?)
            }
            IPVS_SVC_ATTR_FLAGS => {
                let raw: [u8; 8] = fixed(v, "IPVS_SVC_ATTR_FLAGS")?;
                f.flags = u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]);
            }
            IPVS_SVC_ATTR_TIMEOUT => f.timeout = parse_u32(v).context("IPVS_SVC_ATTR_TIMEOUT")?,
            IPVS_SVC_ATTR_NETMASK => {
                f.netmask = Some(parse_u32(v).context("IPVS_SVC_ATTR_NETMASK")?)
            }
            IPVS_SVC_ATTR_STATS => {
                f.stats32 = Some(stats_from_nest(v).context("IPVS_SVC_ATTR_STATS")?)
            }
            IPVS_SVC_ATTR_PE_NAME => f.pe(parse_cstr(v).context("IPVS_SVC_ATTR_PE_NAME")?),
            IPVS_SVC_ATTR_STATS64 => {
                f.stats64 = Some(stats_from_nest(v).context("IPVS_SVC_ATTR_STATS64")?)
            }
            // Kept as `SvcAttr::Other` by the full parse, which cannot fail.
            _ => {}
        }
    }
    Ok(f.representable().then(|| f.service()))
}

/// What a service nest says, gathered attribute by attribute (a later
/// attribute of a kind replaces an earlier one), whether from parsed
/// [`SvcAttr`]s or from the nest's bytes; one conversion serves both.
#[derive(Default)]
struct SvcFields<'a> {
    af: Option<u16>,
    protocol: Option<u16>,
    addr: Option<[u8; 16]>,
    port: u16,
    fwmark: u32,
    sched: Option<&'a str>,
    flags: u32,
    timeout: u32,
    netmask: Option<u32>,
    pe: Option<&'a str>,
    stats32: Option<Stats>,
    stats64: Option<Stats>,
    /// Some mark was not 0.
    any_mark: bool,
    /// Some protocol was one a [`ServiceKey`] names.
    any_known_protocol: bool,
}

impl<'a> SvcFields<'a> {
    fn of_attrs(attrs: &'a [SvcAttr]) -> Self {
        let mut f = SvcFields::default();
        for a in attrs {
            match a {
                SvcAttr::Af(v) => f.af = Some(*v),
                SvcAttr::Protocol(v) => f.protocol(*v),
                SvcAttr::Addr(v) => f.addr = Some(*v),
                SvcAttr::Port(v) => f.port = *v,
                SvcAttr::Fwmark(v) => f.fwmark(*v),
                SvcAttr::SchedName(v) => f.sched = Some(v.as_str()),
                SvcAttr::Flags(v) => f.flags = v.flags,
                SvcAttr::Timeout(v) => f.timeout = *v,
                SvcAttr::Netmask(v) => f.netmask = Some(*v),
                SvcAttr::Stats(s) => f.stats32 = Some(stats_from_attrs(s)),
                SvcAttr::PeName(v) => f.pe(v),
                SvcAttr::Stats64(s) => f.stats64 = Some(stats_from_attrs(s)),
                SvcAttr::Other(_) => {}
            }
        }
        f
    }

    fn protocol(&mut self, p: u16) {
        self.protocol = Some(p);
        self.any_known_protocol |= Protocol::from_number(p).is_some();
    }

    fn fwmark(&mut self, mark: u32) {
        self.fwmark = mark;
        self.any_mark |= mark != 0;
    }

    /// An empty name is no engine, and does not undo an earlier one.
    fn pe(&mut self, name: &'a str) {
        if !name.is_empty() {
            self.pe = Some(name);
        }
    }

    fn representable(&self) -> bool {
        self.any_mark || self.any_known_protocol
    }

    fn service(self) -> Result<Service, DecodeError> {
        let af = self.af.ok_or("a service without IPVS_SVC_ATTR_AF")?;
        let key = if self.fwmark != 0 {
            if af != AF_INET && af != AF_INET6 {
                return Err(format!("a service of address family {af}").into());
            }
            ServiceKey::Fwmark {
                mark: self.fwmark,
                ipv6: af == AF_INET6,
            }
        } else {
            let number = self
                .protocol
                .ok_or("a service with neither a fwmark nor a protocol")?;
            let protocol = Protocol::from_number(number).ok_or_else(|| {
                format!("a service of IP protocol {number}, not TCP, UDP or SCTP")
            })?;
            let addr = self.addr.ok_or("a service without IPVS_SVC_ATTR_ADDR")?;
            ServiceKey::Addr {
                protocol,
                addr: addr_from_wire(af, &addr)?,
                port: self.port,
            }
        };
        let scheduler = match self.sched {
            Some(name) => name
                .parse::<Scheduler>()
                .map_err(|e| DecodeError::from(format!("IPVS_SVC_ATTR_SCHED_NAME: {e}")))?,
            None => Scheduler::default(),
        };
        let netmask = match self.netmask {
            Some(raw) if key.is_ipv6() => raw,
            Some(raw) => u32::from_be_bytes(raw.to_ne_bytes()),
            None if key.is_ipv6() => 128,
            None => 0xffff_ffff,
        };
        Ok(Service {
            key,
            scheduler,
            flags: ServiceFlags(self.flags),
            timeout: self.timeout,
            netmask,
            pe_name: self.pe.map(str::to_owned),
            stats: self.stats64.or(self.stats32).unwrap_or_default(),
        })
    }
}
