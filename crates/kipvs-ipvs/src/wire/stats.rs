//! Counters and rates: `IPVS_STATS_ATTR_*`, nested in `IPVS_SVC_ATTR_STATS`,
//! `IPVS_SVC_ATTR_STATS64`, `IPVS_DEST_ATTR_STATS` and
//! `IPVS_DEST_ATTR_STATS64`.

use netlink_packet_core::{DecodeError, DefaultNla, Emitable, Nla, NlaBuffer, Parseable};

use super::{fixed, raw_nlas};
use crate::Stats;

const IPVS_STATS_ATTR_CONNS: u16 = 1;
const IPVS_STATS_ATTR_INPKTS: u16 = 2;
const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
const IPVS_STATS_ATTR_INBYTES: u16 = 4;
const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
const IPVS_STATS_ATTR_CPS: u16 = 6;
const IPVS_STATS_ATTR_INPPS: u16 = 7;
const IPVS_STATS_ATTR_OUTPPS: u16 = 8;
const IPVS_STATS_ATTR_INBPS: u16 = 9;
const IPVS_STATS_ATTR_OUTBPS: u16 = 10;

/// One counter or rate.
///
/// In the 32-bit `STATS` nest every value is a `u32` except the byte
/// counters (`u64`); in `STATS64` (kernels since 4.1) all are `u64`. Values
/// are read at either width and kept as `u64`; which width is written
/// depends on the nest they are emitted in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatsAttr {
    /// `IPVS_STATS_ATTR_CONNS`: connections scheduled.
    Conns(u64),
    /// `IPVS_STATS_ATTR_INPKTS`: incoming packets.
    InPkts(u64),
    /// `IPVS_STATS_ATTR_OUTPKTS`: outgoing packets.
    OutPkts(u64),
    /// `IPVS_STATS_ATTR_INBYTES`: incoming bytes.
    InBytes(u64),
    /// `IPVS_STATS_ATTR_OUTBYTES`: outgoing bytes.
    OutBytes(u64),
    /// `IPVS_STATS_ATTR_CPS`: connections per second.
    Cps(u64),
    /// `IPVS_STATS_ATTR_INPPS`: incoming packets per second.
    InPps(u64),
    /// `IPVS_STATS_ATTR_OUTPPS`: outgoing packets per second.
    OutPps(u64),
    /// `IPVS_STATS_ATTR_INBPS`: incoming bytes per second.
    InBps(u64),
    /// `IPVS_STATS_ATTR_OUTBPS`: outgoing bytes per second.
    OutBps(u64),
    /// An attribute this crate does not know (e.g. `IPVS_STATS_ATTR_PAD`).
    Other(DefaultNla),
}

impl StatsAttr {
    fn value(&self) -> Option<u64> {
        use StatsAttr::*;
        match self {
            Conns(v) | InPkts(v) | OutPkts(v) | InBytes(v) | OutBytes(v) | Cps(v) | InPps(v)
            | OutPps(v) | InBps(v) | OutBps(v) => Some(*v),
            Other(_) => None,
        }
    }

    /// Whether the 32-bit `STATS` nest carries this value as a `u64`
    /// (`struct ip_vs_stats_user`: only the byte counters are).
    fn wide_in_stats32(&self) -> bool {
        matches!(self, StatsAttr::InBytes(_) | StatsAttr::OutBytes(_))
    }
}

impl Nla for StatsAttr {
    fn value_len(&self) -> usize {
        match self {
            StatsAttr::Other(nla) => nla.value_len(),
            _ => 8,
        }
    }

    fn kind(&self) -> u16 {
        use StatsAttr::*;
        match self {
            Conns(_) => IPVS_STATS_ATTR_CONNS,
            InPkts(_) => IPVS_STATS_ATTR_INPKTS,
            OutPkts(_) => IPVS_STATS_ATTR_OUTPKTS,
            InBytes(_) => IPVS_STATS_ATTR_INBYTES,
            OutBytes(_) => IPVS_STATS_ATTR_OUTBYTES,
            Cps(_) => IPVS_STATS_ATTR_CPS,
            InPps(_) => IPVS_STATS_ATTR_INPPS,
            OutPps(_) => IPVS_STATS_ATTR_OUTPPS,
            InBps(_) => IPVS_STATS_ATTR_INBPS,
            OutBps(_) => IPVS_STATS_ATTR_OUTBPS,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match (self, self.value()) {
            (StatsAttr::Other(nla), _) => nla.emit_value(buffer),
            (_, Some(v)) => buffer[..8].copy_from_slice(&v.to_ne_bytes()),
            (_, None) => {}
        }
    }
}

/// A counter's value: 4 or 8 bytes, whichever nest it is in.
fn counter(value: &[u8]) -> Result<u64, DecodeError> {
    match value.len() {
        4 => Ok(u32::from_ne_bytes(fixed(value, "a 32-bit counter")?) as u64),
        8 => Ok(u64::from_ne_bytes(fixed(value, "a 64-bit counter")?)),
        n => Err(DecodeError::from(format!(
            "an IPVS counter has 4 or 8 bytes, got {n}"
        ))),
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for StatsAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let value = buf.value();
        let number = || counter(value);
        Ok(match buf.kind() {
            IPVS_STATS_ATTR_CONNS => StatsAttr::Conns(number()?),
            IPVS_STATS_ATTR_INPKTS => StatsAttr::InPkts(number()?),
            IPVS_STATS_ATTR_OUTPKTS => StatsAttr::OutPkts(number()?),
            IPVS_STATS_ATTR_INBYTES => StatsAttr::InBytes(number()?),
            IPVS_STATS_ATTR_OUTBYTES => StatsAttr::OutBytes(number()?),
            IPVS_STATS_ATTR_CPS => StatsAttr::Cps(number()?),
            IPVS_STATS_ATTR_INPPS => StatsAttr::InPps(number()?),
            IPVS_STATS_ATTR_OUTPPS => StatsAttr::OutPps(number()?),
            IPVS_STATS_ATTR_INBPS => StatsAttr::InBps(number()?),
            IPVS_STATS_ATTR_OUTBPS => StatsAttr::OutBps(number()?),
            _ => StatsAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// A counter emitted at its width in the 32-bit `STATS` nest.
struct Narrow<'a>(&'a StatsAttr);

impl Nla for Narrow<'_> {
    fn value_len(&self) -> usize {
        match self.0 {
            StatsAttr::Other(_) => self.0.value_len(),
            a if a.wide_in_stats32() => 8,
            _ => 4,
        }
    }

    fn kind(&self) -> u16 {
        self.0.kind()
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match (self.value_len(), self.0.value()) {
            // The kernel truncates to u32 in this nest the same way.
            (4, Some(v)) => buffer[..4].copy_from_slice(&(v as u32).to_ne_bytes()),
            _ => self.0.emit_value(buffer),
        }
    }
}

/// The length of a stats nest's value.
pub(crate) fn stats_len(attrs: &[StatsAttr], wide: bool) -> usize {
    attrs
        .iter()
        .map(|a| {
            if wide {
                a.buffer_len()
            } else {
                Narrow(a).buffer_len()
            }
        })
        .sum()
}

/// Emits a stats nest's value: all `u64` when `wide` (`STATS64`), else at
/// the widths of `struct ip_vs_stats_user` (`STATS`).
pub(crate) fn emit_stats(attrs: &[StatsAttr], wide: bool, buffer: &mut [u8]) {
    let mut at = 0;
    for a in attrs {
        let len = if wide {
            a.buffer_len()
        } else {
            Narrow(a).buffer_len()
        };
        if wide {
            a.emit(&mut buffer[at..at + len]);
        } else {
            Narrow(a).emit(&mut buffer[at..at + len]);
        }
        at += len;
    }
}

#[cfg(test)]
/// The attributes of `stats`, in the kernel's order.
pub(crate) fn stats_attrs(s: &Stats) -> Vec<StatsAttr> {
    vec![
        StatsAttr::Conns(s.conns),
        StatsAttr::InPkts(s.inpkts),
        StatsAttr::OutPkts(s.outpkts),
        StatsAttr::InBytes(s.inbytes),
        StatsAttr::OutBytes(s.outbytes),
        StatsAttr::Cps(s.cps),
        StatsAttr::InPps(s.inpps),
        StatsAttr::OutPps(s.outpps),
        StatsAttr::InBps(s.inbps),
        StatsAttr::OutBps(s.outbps),
    ]
}

/// The counters in a stats nest; missing ones stay 0.
pub(crate) fn stats_from_attrs(attrs: &[StatsAttr]) -> Stats {
    let mut s = Stats::default();
    for a in attrs {
        match *a {
            StatsAttr::Conns(v) => s.conns = v,
            StatsAttr::InPkts(v) => s.inpkts = v,
            StatsAttr::OutPkts(v) => s.outpkts = v,
            StatsAttr::InBytes(v) => s.inbytes = v,
            StatsAttr::OutBytes(v) => s.outbytes = v,
            StatsAttr::Cps(v) => s.cps = v,
            StatsAttr::InPps(v) => s.inpps = v,
            StatsAttr::OutPps(v) => s.outpps = v,
            StatsAttr::InBps(v) => s.inbps = v,
            StatsAttr::OutBps(v) => s.outbps = v,
            StatsAttr::Other(_) => {}
        }
    }
    s
}

/// The counters of a stats nest's value, read in place: what
/// [`stats_from_attrs`] makes of the nest's parsed attributes, with the
/// same errors, without them.
pub(crate) fn stats_from_nest(nest: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for nla in raw_nlas(nest) {
        let nla = nla?;
        let slot = match nla.kind {
            IPVS_STATS_ATTR_CONNS => &mut s.conns,
            IPVS_STATS_ATTR_INPKTS => &mut s.inpkts,
            IPVS_STATS_ATTR_OUTPKTS => &mut s.outpkts,
            IPVS_STATS_ATTR_INBYTES => &mut s.inbytes,
            IPVS_STATS_ATTR_OUTBYTES => &mut s.outbytes,
            IPVS_STATS_ATTR_CPS => &mut s.cps,
            IPVS_STATS_ATTR_INPPS => &mut s.inpps,
            IPVS_STATS_ATTR_OUTPPS => &mut s.outpps,
            IPVS_STATS_ATTR_INBPS => &mut s.inbps,
            IPVS_STATS_ATTR_OUTBPS => &mut s.outbps,
            // IPVS_STATS_ATTR_PAD and whatever a newer kernel adds.
            _ => continue,
        };
        *slot = counter(nla.value)?;
    }
    Ok(s)
}
