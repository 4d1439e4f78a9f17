//! rtnetlink messages for links and addresses: built and decoded here, with
//! no I/O, so every byte kipvs sends can be checked against `ip`'s.

pub(crate) mod address;
pub(crate) mod link;

#[cfg(test)]
pub(crate) mod tests {
    use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
    use netlink_packet_route::RouteNetlinkMessage;

    /// `msg` as the transport sends it: a netlink header with `flags` and
    /// `seq`, then the payload.
    pub(crate) fn emit(msg: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        m.finalize();
        let mut buf = vec![0; m.buffer_len()];
        m.serialize(&mut buf);
        buf
    }

    /// The payload of one whole netlink message.
    pub(crate) fn parse(bytes: &[u8]) -> RouteNetlinkMessage {
        match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
            .unwrap()
            .payload
        {
            NetlinkPayload::InnerMessage(m) => m,
            other => panic!("not a route message: {other:?}"),
        }
    }
}
