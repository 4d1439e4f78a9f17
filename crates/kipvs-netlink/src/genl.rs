//! Generic netlink family resolution.

use netlink_packet_core::NLM_F_REQUEST;
use netlink_packet_generic::{
    ctrl::{nlas::GenlCtrlAttrs, GenlCtrl, GenlCtrlCmd},
    GenlMessage,
};

use crate::{Error, Result, Socket};

/// Looks up the id of the generic netlink family `name` (e.g. `"IPVS"`).
///
/// A family that is not registered means its module is not loaded; that is
/// [`Error::FamilyNotFound`], whose message says so in words.
pub fn resolve_family(socket: &mut Socket, name: &str) -> Result<u16> {
    let mut msg = GenlMessage::from_payload(GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(name.to_owned())],
    });
    msg.finalize();
    let replies = match socket.request(msg, NLM_F_REQUEST) {
        Ok(r) => r,
        Err(e) if e.is_not_found() => {
            return Err(Error::FamilyNotFound {
                family: name.to_owned(),
            })
        }
        Err(e) => return Err(e),
    };
    replies
        .iter()
        .flat_map(|m| m.payload.nlas.iter())
        .find_map(|nla| match nla {
            GenlCtrlAttrs::FamilyId(id) => Some(*id),
            _ => None,
        })
        .ok_or_else(|| Error::FamilyNotFound {
            family: name.to_owned(),
        })
}
