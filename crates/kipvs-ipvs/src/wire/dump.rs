//! The service dump, decoded as it arrives. Listing a table of thousands
//! of services decodes thousands of replies: each becomes a [`Service`]
//! straight from its bytes ([`service_from_nest`]) instead of an
//! [`IpvsMessage`] with a vector of attributes, stats vectors and strings
//! per service (callgrind, 5,000 services: 83M -> 18M instructions).

use netlink_packet_core::{DecodeError, Emitable, ErrorContext, NlaBuffer, ParseableParametrized};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use super::{
    message::{IPVS_CMD_ATTR_SERVICE, IPVS_GENL_VERSION},
    raw_nlas,
    service::service_from_nest,
    IpvsAttr, IpvsCmd, IpvsMessage, IPVS_GENL_NAME,
};
use crate::Service;

/// `IPVS_CMD_GET_SERVICE` as a dump, both ways: the request, and each
/// reply decoded.
#[derive(Debug)]
pub(crate) enum ServiceDump {
    /// The request: `IPVS_CMD_GET_SERVICE` without attributes (the
    /// transport adds `NLM_F_DUMP`).
    Request,
    /// A reply: the service of its first `IPVS_CMD_ATTR_SERVICE`, as
    /// [`IpvsMessage::service`] and `service_from_attrs` have it; `None`
    /// without one, or for a service a [`ServiceKey`](crate::ServiceKey)
    /// cannot name (AH, ESP).
    Reply(Option<Result<Service, DecodeError>>),
}

impl GenlFamily for ServiceDump {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        match self {
            ServiceDump::Request => IpvsCmd::GetService.into(),
            ServiceDump::Reply(_) => IpvsCmd::NewService.into(),
        }
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for ServiceDump {
    fn buffer_len(&self) -> usize {
        0
    }

    fn emit(&self, _buffer: &mut [u8]) {}
}

impl ParseableParametrized<[u8], GenlHeader> for ServiceDump {
    /// Accepts and refuses exactly what [`IpvsMessage`]'s parse does: the
    /// attributes besides the service are parsed by it and dropped (the
    /// kernel sends none).
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let cmd = IpvsCmd::from(header.cmd);
        if matches!(cmd, IpvsCmd::SetInfo | IpvsCmd::GetInfo) {
            // Its attributes are IPVS_INFO_ATTR_*, never a service.
            IpvsMessage::parse_with_param(buf, header)?;
            return Ok(ServiceDump::Reply(None));
        }
        let mut service = None;
        let mut walk = || -> Result<(), DecodeError> {
            for nla in raw_nlas(buf) {
                let nla = nla?;
                if nla.kind == IPVS_CMD_ATTR_SERVICE && service.is_none() {
                    service = Some(service_from_nest(nla.value).context("IPVS_CMD_ATTR_SERVICE")?);
                } else {
                    IpvsAttr::parse_for(cmd, &NlaBuffer::new(nla.bytes))?;
                }
            }
            Ok(())
        };
        walk().with_context(|| format!("IPVS command {}", header.cmd))?;
        Ok(ServiceDump::Reply(service.flatten()))
    }
}
