//! Timeouts (`IPVS_CMD_ATTR_TIMEOUT_*`, top level of `SET_CONFIG` and the
//! `GET_CONFIG` reply) and version info (`IPVS_INFO_ATTR_*`, top level of
//! the `GET_INFO` reply).

use netlink_packet_core::{
    parse_u32, DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable,
};

use super::IpvsAttr;
use crate::{Info, Timeouts};

const IPVS_INFO_ATTR_VERSION: u16 = 1;
const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;

/// An attribute of the `GET_INFO` reply. Its numbers overlap those of
/// `IPVS_CMD_ATTR_*`: which set applies follows from the command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InfoAttr {
    /// `IPVS_INFO_ATTR_VERSION`: `IP_VS_VERSION_CODE`, e.g. `0x010201`.
    Version(u32),
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`: buckets of the connection table.
    ConnTabSize(u32),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for InfoAttr {
    fn value_len(&self) -> usize {
        match self {
            InfoAttr::Version(_) | InfoAttr::ConnTabSize(_) => 4,
            InfoAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            InfoAttr::Version(_) => IPVS_INFO_ATTR_VERSION,
            InfoAttr::ConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            InfoAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            InfoAttr::Version(v) | InfoAttr::ConnTabSize(v) => {
                buffer[..4].copy_from_slice(&v.to_ne_bytes())
            }
            InfoAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for InfoAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_INFO_ATTR_VERSION => {
                InfoAttr::Version(parse_u32(v).context("IPVS_INFO_ATTR_VERSION")?)
            }
            IPVS_INFO_ATTR_CONN_TAB_SIZE => {
                InfoAttr::ConnTabSize(parse_u32(v).context("IPVS_INFO_ATTR_CONN_TAB_SIZE")?)
            }
            _ => InfoAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// The attributes of `SET_CONFIG`: all three timeouts, as ipvsadm sends
/// them; the kernel leaves a timeout of 0 unchanged.
pub(crate) fn timeouts_attrs(t: &Timeouts) -> Vec<IpvsAttr> {
    vec![
        IpvsAttr::TimeoutTcp(t.tcp),
        IpvsAttr::TimeoutTcpFin(t.tcp_fin),
        IpvsAttr::TimeoutUdp(t.udp),
    ]
}

/// The timeouts of a `GET_CONFIG` reply.
pub(crate) fn timeouts_from_attrs(attrs: &[IpvsAttr]) -> Timeouts {
    let mut t = Timeouts::default();
    for a in attrs {
        match *a {
            IpvsAttr::TimeoutTcp(v) => t.tcp = v,
            IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = v,
            IpvsAttr::TimeoutUdp(v) => t.udp = v,
            _ => {}
        }
    }
    t
}

/// The version and table size of a `GET_INFO` reply.
pub(crate) fn info_from_attrs(attrs: &[IpvsAttr]) -> Result<Info, DecodeError> {
    let (mut version, mut size) = (None, None);
    for a in attrs {
        match a {
            IpvsAttr::Info(InfoAttr::Version(v)) => version = Some(*v),
            IpvsAttr::Info(InfoAttr::ConnTabSize(v)) => size = Some(*v),
            _ => {}
        }
    }
    Ok(Info {
        version: version.ok_or("a GET_INFO reply without IPVS_INFO_ATTR_VERSION")?,
        conn_tab_size: size.ok_or("a GET_INFO reply without IPVS_INFO_ATTR_CONN_TAB_SIZE")?,
    })
}
