//! One ipset message: the nfgenmsg header and command-level attributes.

use netlink_packet_core::{
    DecodeError, Emitable, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable, NlasIterator,
};

use super::{CmdAttr, NFNETLINK_V0, NFNL_SUBSYS_IPSET};

/// `AF_INET`: ipset's tools put it in every nfgenmsg; the set's own family
/// travels in `IPSET_ATTR_FAMILY`.
const AF_INET: u8 = 2;
/// `sizeof(struct nfgenmsg)`.
const NFGENMSG_LEN: usize = 4;

/// `enum ipset_cmd`: the low byte of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpsetCmd {
    /// `IPSET_CMD_PROTOCOL`: negotiate the protocol version.
    Protocol,
    /// `IPSET_CMD_CREATE`.
    Create,
    /// `IPSET_CMD_DESTROY` (one set, or all without a name).
    Destroy,
    /// `IPSET_CMD_FLUSH`.
    Flush,
    /// `IPSET_CMD_RENAME`.
    Rename,
    /// `IPSET_CMD_SWAP`.
    Swap,
    /// `IPSET_CMD_LIST` (dump).
    List,
    /// `IPSET_CMD_SAVE` (dump).
    Save,
    /// `IPSET_CMD_ADD`.
    Add,
    /// `IPSET_CMD_DEL`.
    Del,
    /// `IPSET_CMD_TEST`.
    Test,
    /// `IPSET_CMD_HEADER`: a set's type, family and revision.
    Header,
    /// `IPSET_CMD_TYPE`: the revisions the kernel has for a type.
    Type,
    /// `IPSET_CMD_GET_BYNAME` (protocol 7).
    GetByName,
    /// `IPSET_CMD_GET_BYINDEX` (protocol 7).
    GetByIndex,
    /// Any other command number.
    Other(u8),
}

impl From<u8> for IpsetCmd {
    fn from(v: u8) -> Self {
        use IpsetCmd::*;
        match v {
            1 => Protocol,
            2 => Create,
            3 => Destroy,
            4 => Flush,
            5 => Rename,
            6 => Swap,
            7 => List,
            8 => Save,
            9 => Add,
            10 => Del,
            11 => Test,
            12 => Header,
            13 => Type,
            14 => GetByName,
            15 => GetByIndex,
            other => Other(other),
        }
    }
}

impl From<IpsetCmd> for u8 {
    fn from(c: IpsetCmd) -> u8 {
        use IpsetCmd::*;
        match c {
            Protocol => 1,
            Create => 2,
            Destroy => 3,
            Flush => 4,
            Rename => 5,
            Swap => 6,
            List => 7,
            Save => 8,
            Add => 9,
            Del => 10,
            Test => 11,
            Header => 12,
            Type => 13,
            GetByName => 14,
            GetByIndex => 15,
            Other(v) => v,
        }
    }
}

/// An ipset request or reply: message type `NFNL_SUBSYS_IPSET << 8 | cmd`,
/// a `struct nfgenmsg`, then attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsetMessage {
    /// The command.
    pub cmd: IpsetCmd,
    /// `nfgen_family`.
    pub family: u8,
    /// `version` (`NFNETLINK_V0`).
    pub version: u8,
    /// `res_id`, big-endian on the wire.
    pub res_id: u16,
    /// Command-level attributes.
    pub attrs: Vec<CmdAttr>,
}

impl IpsetMessage {
    /// A request for `cmd` carrying `IPSET_ATTR_PROTOCOL` = `protocol`
    /// first (the kernel refuses any message without it), then `attrs`.
    pub fn request(cmd: IpsetCmd, protocol: u8, attrs: Vec<CmdAttr>) -> Self {
        let mut all = Vec::with_capacity(attrs.len() + 1);
        all.push(CmdAttr::Protocol(protocol));
        all.extend(attrs);
        IpsetMessage {
            cmd,
            family: AF_INET,
            version: NFNETLINK_V0,
            res_id: 0,
            attrs: all,
        }
    }

    /// Decodes a message payload (after the netlink header) of `cmd`.
    pub fn parse(cmd: IpsetCmd, payload: &[u8]) -> Result<Self, DecodeError> {
        if payload.len() < NFGENMSG_LEN {
            return Err(DecodeError::from("ipset message shorter than nfgenmsg"));
        }
        let code = u8::from(cmd);
        let attrs = NlasIterator::new(&payload[NFGENMSG_LEN..])
            .map(|nla| CmdAttr::parse(&nla?, code))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IpsetMessage {
            cmd,
            family: payload[0],
            version: payload[1],
            res_id: u16::from_be_bytes([payload[2], payload[3]]),
            attrs,
        })
    }

    /// The size of the encoded payload (without the netlink header).
    pub fn payload_len(&self) -> usize {
        NFGENMSG_LEN + self.attrs.iter().map(|a| a.buffer_len()).sum::<usize>()
    }
}

impl NetlinkSerializable for IpsetMessage {
    fn message_type(&self) -> u16 {
        (u16::from(NFNL_SUBSYS_IPSET) << 8) | u16::from(u8::from(self.cmd))
    }

    fn buffer_len(&self) -> usize {
        self.payload_len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer[0] = self.family;
        buffer[1] = self.version;
        buffer[2..4].copy_from_slice(&self.res_id.to_be_bytes());
        // One pass, each nest's length patched in after its contents
        // (see `Value::write`): the slice's `Emitable` would work out the
        // length of every nest several times over.
        let mut at = NFGENMSG_LEN;
        for a in &self.attrs {
            at += a.write(&mut buffer[at..]);
        }
    }
}

impl NetlinkDeserializable for IpsetMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        let [subsys, cmd] = header.message_type.to_be_bytes();
        if subsys != NFNL_SUBSYS_IPSET {
            return Err(DecodeError::from(format!(
                "message type {:#x} is not ipset's",
                header.message_type
            )));
        }
        IpsetMessage::parse(IpsetCmd::from(cmd), payload)
    }
}
