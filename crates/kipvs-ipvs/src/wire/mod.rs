//! The IPVS generic netlink wire format (`linux/ip_vs.h`, family `"IPVS"`,
//! version 1), with no I/O: typed attributes that parse and emit bytes.
//!
//! Every attribute enum is `#[non_exhaustive]` and keeps an attribute it
//! does not know (from a newer kernel) in an `Other` arm, so a dump never
//! fails on one. Parsing never panics on any input.
//!
//! The conversions between these attributes and the domain types
//! ([`Service`](crate::Service), [`Destination`](crate::Destination), ...)
//! live next to the attributes of each object.

mod config;
mod daemon;
mod dest;
mod dump;
mod message;
mod service;
pub(crate) mod stats;

pub use config::InfoAttr;
pub use daemon::DaemonAttr;
pub use dest::DestAttr;
pub(crate) use dump::ServiceDump;
pub(crate) use message::IPVS_GENL_NAME;
pub use message::{IpvsAttr, IpvsCmd, IpvsMessage};
pub use service::{SvcAttr, SvcFlags};
pub use stats::StatsAttr;

pub(crate) use config::{info_from_attrs, timeouts_attrs, timeouts_from_attrs};
pub(crate) use daemon::{daemon_attrs, daemon_from_attrs, daemon_state_attrs};
pub(crate) use dest::{dest_attrs, dest_from_attrs, dest_is_representable, dest_key_attrs};
#[cfg(test)]
pub(crate) use service::service_is_representable;
pub(crate) use service::{service_attrs, service_from_attrs, service_key_attrs};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, NlaBuffer, NlasIterator, Parseable, NLA_HEADER_SIZE, NLA_TYPE_MASK,
};

/// `AF_INET` from `linux/socket.h`.
pub(crate) const AF_INET: u16 = 2;
/// `AF_INET6` from `linux/socket.h`.
pub(crate) const AF_INET6: u16 = 10;

/// The family of `addr` as IPVS wants it in `IPVS_SVC_ATTR_AF` and
/// `IPVS_DEST_ATTR_ADDR_FAMILY`.
pub(crate) fn family(addr: &IpAddr) -> u16 {
    match addr {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// An address as IPVS carries it: `union nf_inet_addr`, always 16 bytes on
/// the wire (`IPVS_SVC_ATTR_ADDR`, `IPVS_DEST_ATTR_ADDR` in
/// `linux/ip_vs.h`), an IPv4 address in the first 4 and zeros after. The
/// family travels in a separate attribute.
pub(crate) fn addr_to_wire(addr: &IpAddr) -> [u8; 16] {
    let mut out = [0; 16];
    match addr {
        IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out = a.octets(),
    }
    out
}

/// The address of family `af` in a 16-byte `nf_inet_addr`.
pub(crate) fn addr_from_wire(af: u16, bytes: &[u8; 16]) -> Result<IpAddr, DecodeError> {
    match af {
        AF_INET => Ok(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        AF_INET6 => Ok(IpAddr::V6(Ipv6Addr::from(*bytes))),
        other => Err(DecodeError::from(format!(
            "address family {other} is neither AF_INET nor AF_INET6"
        ))),
    }
}

/// Reads an `nf_inet_addr` attribute value: at most 16 bytes (the kernel
/// always sends 16; a shorter one is zero-padded the way `nla_memcpy` does).
pub(crate) fn parse_addr(value: &[u8]) -> Result<[u8; 16], DecodeError> {
    if value.len() > 16 {
        return Err(DecodeError::from(format!(
            "an IPVS address has at most 16 bytes, got {}",
            value.len()
        )));
    }
    let mut out = [0; 16];
    out[..value.len()].copy_from_slice(value);
    Ok(out)
}

/// The attributes in `buf`, read in place: what [`NlasIterator`] yields,
/// with the same checks and errors, without an `NlaBuffer` per attribute
/// to ask for each field. Dumps of thousands of services decode through
/// this.
pub(crate) fn raw_nlas(buf: &[u8]) -> RawNlas<'_> {
    RawNlas { buf, at: 0 }
}

/// See [`raw_nlas`].
pub(crate) struct RawNlas<'a> {
    buf: &'a [u8],
    at: usize,
}

/// One attribute of [`raw_nlas`].
pub(crate) struct RawNla<'a> {
    /// The type, with `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` cleared, as
    /// `NlaBuffer::kind` clears them.
    pub kind: u16,
    /// The value, without padding.
    pub value: &'a [u8],
    /// The whole attribute, header and value.
    pub bytes: &'a [u8],
}

impl<'a> Iterator for RawNlas<'a> {
    type Item = Result<RawNla<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.at..).filter(|r| !r.is_empty())?;
        let len = match rest {
            [l0, l1, _, _, ..] => usize::from(u16::from_ne_bytes([*l0, *l1])),
            _ => 0,
        };
        if len < NLA_HEADER_SIZE || len > rest.len() {
            // Too short for a header, or longer than what is left: the
            // checked buffer names what is wrong in its own words.
            self.at = self.buf.len();
            let err = NlaBuffer::new_checked(rest)
                .err()
                .unwrap_or_else(|| DecodeError::from("a malformed netlink attribute"));
            return Some(Err(err));
        }
        self.at += (len + 3) & !3;
        Some(Ok(RawNla {
            kind: u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK,
            value: &rest[NLA_HEADER_SIZE..len],
            bytes: &rest[..len],
        }))
    }
}

/// Parses the attributes in `buf` with `parse`.
pub(crate) fn parse_nlas<T, F>(buf: &[u8], mut parse: F) -> Result<Vec<T>, DecodeError>
where
    F: FnMut(&NlaBuffer<&[u8]>) -> Result<T, DecodeError>,
{
    NlasIterator::new(buf)
        .map(|nla| parse(&nla?))
        .collect::<Result<Vec<_>, _>>()
}

/// Parses the attributes of one nested attribute with the type's own
/// `Parseable` impl.
pub(crate) fn parse_nested<T>(buf: &[u8]) -> Result<Vec<T>, DecodeError>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    parse_nlas(buf, |nla| T::parse(nla))
}

/// Emits a string attribute value with its terminating NUL (`NLA_PUT_STRING`
/// and the kernel's `NLA_NUL_STRING` policy).
pub(crate) fn emit_string(buffer: &mut [u8], s: &str) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}

/// Reads a string attribute up to its first NUL.
pub(crate) fn parse_cstring(value: &[u8]) -> Result<String, DecodeError> {
    parse_cstr(value).map(str::to_owned)
}

/// Reads a string attribute up to its first NUL, in place.
pub(crate) fn parse_cstr(value: &[u8]) -> Result<&str, DecodeError> {
    let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
    std::str::from_utf8(&value[..end])
        .map_err(|e| DecodeError::from(format!("a string attribute: {e}")))
}

/// Reads an exact-width integer attribute value.
pub(crate) fn fixed<const N: usize>(value: &[u8], what: &str) -> Result<[u8; N], DecodeError> {
    value
        .try_into()
        .map_err(|_| DecodeError::from(format!("{what} has {} bytes, expected {N}", value.len())))
}

#[cfg(test)]
mod tests;
