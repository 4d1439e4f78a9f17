//! [`IpSet`]: the handle that talks to the kernel.

use std::collections::BTreeMap;

use kipvs_netlink::{core::NLM_F_REQUEST, NetNs, Socket, SocketOptions};

use crate::{
    adt,
    bulk::BulkError,
    entry::Entry,
    error::describe,
    set::{CreateOptions, Set},
    types::{Family, SetName, SetType},
    wire::{
        CmdAttr, IpsetCmd, IpsetMessage, IPSET_FLAG_LIST_HEADER, IPSET_FLAG_LIST_SETNAME,
        IPSET_PROTOCOL, IPSET_PROTOCOL_MIN, NETLINK_NETFILTER,
    },
    Error, Result,
};

/// `NLM_F_EXCL`: without it the kernel acts as if `-exist` were given.
const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE`.
const NLM_F_CREATE: u16 = 0x400;

/// A set's type and family, as `IPSET_CMD_HEADER` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetKind {
    /// The type.
    pub set_type: SetType,
    /// The family.
    pub family: Family,
    /// The type revision.
    pub revision: u8,
}

/// A connection to the kernel's ipset subsystem (nfnetlink), with the
/// protocol version negotiated.
#[derive(Debug)]
pub struct IpSet {
    pub(crate) sock: Socket,
    protocol: u8,
    /// Ordered, not hashed: `ipset restore` looks its set up once a
    /// line, and a few name comparisons cost less than SipHash of the name.
    kinds: BTreeMap<SetName, SetKind>,
}

impl IpSet {
    /// Opens ipset in the calling thread's namespace.
    pub fn new() -> Result<Self> {
        Self::with_socket(Socket::new(NETLINK_NETFILTER)?)
    }

    /// Opens ipset in `netns`.
    pub fn new_in(netns: &NetNs) -> Result<Self> {
        Self::with_socket(Socket::new_in(
            NETLINK_NETFILTER,
            SocketOptions::default(),
            netns,
        )?)
    }

    fn with_socket(sock: Socket) -> Result<Self> {
        let mut s = IpSet {
            sock,
            protocol: IPSET_PROTOCOL,
            kinds: BTreeMap::new(),
        };
        s.protocol = s.negotiate()?;
        Ok(s)
    }

    /// `IPSET_CMD_PROTOCOL`: the kernel answers its version and (from
    /// protocol 7 on) the oldest it still speaks.
    fn negotiate(&mut self) -> Result<u8> {
        let msg = IpsetMessage::request(IpsetCmd::Protocol, IPSET_PROTOCOL, vec![]);
        let replies = match self.sock.request(msg, NLM_F_REQUEST) {
            Ok(r) => r,
            // A protocol-6 kernel refuses a message that says 7.
            Err(e) if e.errno() == Some(crate::wire::IPSET_ERR_PROTOCOL) => {
                let msg = IpsetMessage::request(IpsetCmd::Protocol, IPSET_PROTOCOL_MIN, vec![]);
                self.sock.request(msg, NLM_F_REQUEST)?
            }
            Err(e) => return Err(e),
        };
        let (mut version, mut min) = (IPSET_PROTOCOL_MIN, None);
        for attr in replies.iter().flat_map(|m| &m.attrs) {
            match attr {
                CmdAttr::Protocol(v) => version = *v,
                CmdAttr::ProtocolMin(v) => min = Some(*v),
                _ => {}
            }
        }
        let min = min.unwrap_or(version);
        if version < IPSET_PROTOCOL_MIN || min > IPSET_PROTOCOL {
            return Err(Error::invalid(
                "ipset protocol",
                version,
                "the kernel speaks no protocol version this library knows (6 or 7)",
            ));
        }
        Ok(version.min(IPSET_PROTOCOL))
    }

    /// The protocol version in use (6 or 7).
    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    pub(crate) fn msg(&self, cmd: IpsetCmd, attrs: Vec<CmdAttr>) -> IpsetMessage {
        IpsetMessage::request(cmd, self.protocol, attrs)
    }

    /// Turns a kernel error of `cmd` into one with ipset's words.
    pub(crate) fn explain(&mut self, e: Error, cmd: IpsetCmd, set: Option<&SetName>) -> Error {
        let Error::Kernel(mut k) = e else { return e };
        let set_type = if k.errno >= crate::wire::IPSET_ERR_TYPE_SPECIFIC {
            set.and_then(|n| self.kind(n).ok()).map(|k| k.set_type)
        } else {
            None
        };
        k.description = Some(describe(k.errno, cmd, set_type));
        Error::Kernel(k)
    }

    fn run(
        &mut self,
        cmd: IpsetCmd,
        attrs: Vec<CmdAttr>,
        flags: u16,
        set: Option<&SetName>,
    ) -> Result<Vec<IpsetMessage>> {
        let msg = self.msg(cmd, attrs);
        self.sock
            .request(msg, NLM_F_REQUEST | flags)
            .map_err(|e| self.explain(e, cmd, set))
    }

    /// The newest revision of `set_type` the kernel has
    /// (`IPSET_CMD_TYPE`), as ipset asks before a create.
    pub fn type_revision(&mut self, set_type: SetType, family: Family) -> Result<u8> {
        let attrs = vec![
            CmdAttr::TypeName(set_type.name().to_owned()),
            CmdAttr::Family(family.to_wire()),
        ];
        let replies = self.run(IpsetCmd::Type, attrs, 0, None)?;
        replies
            .iter()
            .flat_map(|m| &m.attrs)
            .find_map(|a| match a {
                CmdAttr::Revision(r) => Some(*r),
                _ => None,
            })
            .ok_or_else(|| Error::invalid("set type", set_type, "the kernel sent no revision"))
    }

    /// Creates `name` of `set_type`. With `exist`, an identical existing set
    /// is not an error.
    pub fn create(
        &mut self,
        name: &SetName,
        set_type: SetType,
        options: &CreateOptions,
        exist: bool,
    ) -> Result<()> {
        options.validate(set_type)?;
        let family = options.family_for(set_type);
        let revision = self.type_revision(set_type, family)?;
        options.check_revision_all(set_type, revision)?;
        let mut attrs = vec![
            CmdAttr::SetName(name.to_string()),
            CmdAttr::TypeName(set_type.name().to_owned()),
            CmdAttr::Revision(revision),
            CmdAttr::Family(family.to_wire()),
        ];
        let data = options.to_attrs();
        attrs.push(CmdAttr::CreateData(data));
        let excl = if exist { 0 } else { NLM_F_EXCL };
        self.run(IpsetCmd::Create, attrs, NLM_F_CREATE | excl, Some(name))?;
        self.kinds.insert(
            name.clone(),
            SetKind {
                set_type,
                family,
                revision,
            },
        );
        Ok(())
    }

    /// Destroys `name`, or every set not in use with `None`.
    pub fn destroy(&mut self, name: Option<&SetName>) -> Result<()> {
        let attrs = name
            .map(|n| CmdAttr::SetName(n.to_string()))
            .into_iter()
            .collect();
        // ipset sends destroy with NLM_F_EXCL; the kernel ignores it.
        self.run(IpsetCmd::Destroy, attrs, NLM_F_EXCL, name)?;
        match name {
            Some(n) => {
                self.kinds.remove(n);
            }
            None => self.kinds.clear(),
        }
        Ok(())
    }

    /// Removes every entry of `name`, or of every set with `None`.
    pub fn flush(&mut self, name: Option<&SetName>) -> Result<()> {
        let attrs = name
            .map(|n| CmdAttr::SetName(n.to_string()))
            .into_iter()
            .collect();
        self.run(IpsetCmd::Flush, attrs, 0, name).map(drop)
    }

    /// Renames `from` to `to`.
    pub fn rename(&mut self, from: &SetName, to: &SetName) -> Result<()> {
        let attrs = vec![
            CmdAttr::SetName(from.to_string()),
            CmdAttr::SetName2(to.to_string()),
        ];
        self.run(IpsetCmd::Rename, attrs, 0, Some(from))?;
        if let Some(k) = self.kinds.remove(from) {
            self.kinds.insert(to.clone(), k);
        }
        Ok(())
    }

    /// Swaps the contents of `a` and `b` (atomic for packet filtering:
    /// rules follow the names).
    pub fn swap(&mut self, a: &SetName, b: &SetName) -> Result<()> {
        let attrs = vec![
            CmdAttr::SetName(a.to_string()),
            CmdAttr::SetName2(b.to_string()),
        ];
        self.run(IpsetCmd::Swap, attrs, 0, Some(a))?;
        let (ka, kb) = (self.kinds.remove(a), self.kinds.remove(b));
        if let Some(k) = ka {
            self.kinds.insert(b.clone(), k);
        }
        if let Some(k) = kb {
            self.kinds.insert(a.clone(), k);
        }
        Ok(())
    }

    /// The type and family of `name` (`IPSET_CMD_HEADER`). Answers are
    /// cached per handle, and this handle's own create, rename, swap,
    /// destroy and listings keep the cache current; [`IpSet::forget`]
    /// drops it when other programs may have changed the sets.
    pub fn kind(&mut self, name: &SetName) -> Result<SetKind> {
        if let Some(k) = self.kinds.get(name) {
            return Ok(*k);
        }
        let msg = self.msg(IpsetCmd::Header, vec![CmdAttr::SetName(name.to_string())]);
        let replies = self
            .sock
            .request(msg, NLM_F_REQUEST)
            .map_err(|e| self.explain(e, IpsetCmd::Header, None))?;
        let (mut t, mut family, mut revision) = (None, Family::Unspec, 0);
        for a in replies.iter().flat_map(|m| &m.attrs) {
            match a {
                CmdAttr::TypeName(n) => t = n.parse::<SetType>().ok(),
                CmdAttr::Family(f) => family = Family::from_wire(*f),
                CmdAttr::Revision(r) => revision = *r,
                _ => {}
            }
        }
        let set_type =
            t.ok_or_else(|| Error::invalid("set", name, "the kernel reports an unknown type"))?;
        let k = SetKind {
            set_type,
            family,
            revision,
        };
        self.kinds.insert(name.clone(), k);
        Ok(k)
    }

    /// Forgets every cached set type (see [`IpSet::kind`]).
    pub fn forget(&mut self) {
        self.kinds.clear();
    }

    fn dump(&mut self, cmd: IpsetCmd, name: Option<&SetName>, flags: u32) -> Result<Vec<Set>> {
        let mut attrs: Vec<CmdAttr> = name
            .map(|n| CmdAttr::SetName(n.to_string()))
            .into_iter()
            .collect();
        if flags != 0 {
            attrs.push(CmdAttr::Flags(flags));
        }
        let msg = self.msg(cmd, attrs);
        let mut sets: Vec<Set> = Vec::new();
        let result = self.sock.dump_with(msg, |m: IpsetMessage| {
            absorb(&mut sets, m);
            Ok(())
        });
        result.map_err(|e| self.explain(e, cmd, name))?;
        for s in &sets {
            self.kinds.insert(
                s.name.clone(),
                SetKind {
                    set_type: s.set_type,
                    family: s.family,
                    revision: s.revision,
                },
            );
        }
        Ok(sets)
    }

    /// Lists `name` (or every set) with its entries.
    pub fn list(&mut self, name: Option<&SetName>) -> Result<Vec<Set>> {
        self.dump(IpsetCmd::List, name, 0)
    }

    /// Lists `name` (or every set) without entries.
    pub fn list_headers(&mut self, name: Option<&SetName>) -> Result<Vec<Set>> {
        self.dump(IpsetCmd::List, name, IPSET_FLAG_LIST_HEADER)
    }

    /// The names of `name` (checking it exists) or of every set.
    pub fn list_names(&mut self, name: Option<&SetName>) -> Result<Vec<SetName>> {
        let mut attrs: Vec<CmdAttr> = name
            .map(|n| CmdAttr::SetName(n.to_string()))
            .into_iter()
            .collect();
        attrs.push(CmdAttr::Flags(IPSET_FLAG_LIST_SETNAME));
        let msg = self.msg(IpsetCmd::List, attrs);
        let mut names = Vec::new();
        let r = self.sock.dump_with(msg, |m: IpsetMessage| {
            for a in &m.attrs {
                if let CmdAttr::SetName(n) = a {
                    if let Ok(n) = SetName::new(n.clone()) {
                        names.push(n);
                    }
                }
            }
            Ok(())
        });
        r.map_err(|e| self.explain(e, IpsetCmd::List, name))?;
        Ok(names)
    }

    /// `IPSET_CMD_SAVE`: the same records as [`IpSet::list`], in the
    /// order `ipset save` writes them (list:set sets last).
    pub fn save(&mut self, name: Option<&SetName>) -> Result<Vec<Set>> {
        self.dump(IpsetCmd::Save, name, 0)
    }

    /// Refuses element options the set's revision does not take, as
    /// ipset does before sending (the kernel would answer a bare protocol
    /// error, or ignore a flag). Only elements with such options cost a
    /// look-up of the set's revision, and that is cached.
    pub(crate) fn check_entries(
        &mut self,
        name: &SetName,
        entries: &[Entry],
    ) -> std::result::Result<(), BulkError> {
        let mut kind = None;
        for (index, entry) in entries.iter().enumerate() {
            if !entry.has_revision_bound_options() {
                continue;
            }
            let k = match kind {
                Some(k) => k,
                None => *kind.insert(
                    self.kind(name)
                        .map_err(|error| BulkError { index, error })?,
                ),
            };
            entry
                .check_revision(k.set_type, k.revision)
                .map_err(|error| BulkError { index, error })?;
        }
        Ok(())
    }

    fn adt_one(&mut self, cmd: IpsetCmd, name: &SetName, entry: &Entry, exist: bool) -> Result<()> {
        if cmd == IpsetCmd::Add {
            self.check_entries(name, std::slice::from_ref(entry))
                .map_err(|b| b.error)?;
        }
        let attrs = vec![
            CmdAttr::SetName(name.to_string()),
            CmdAttr::AdtData(adt::single(entry)),
        ];
        let flags = if exist { 0 } else { NLM_F_EXCL };
        self.run(cmd, attrs, flags, Some(name)).map(drop)
    }

    /// Adds `entry` to `name`; with `exist`, an entry already there is not
    /// an error (its options are updated).
    pub fn add(&mut self, name: &SetName, entry: &Entry, exist: bool) -> Result<()> {
        self.adt_one(IpsetCmd::Add, name, entry, exist)
    }

    /// Deletes `entry` from `name`; with `exist`, a missing entry is not an
    /// error.
    pub fn del(&mut self, name: &SetName, entry: &Entry, exist: bool) -> Result<()> {
        self.adt_one(IpsetCmd::Del, name, entry, exist)
    }

    /// Whether `entry` is in `name`.
    pub fn test(&mut self, name: &SetName, entry: &Entry) -> Result<bool> {
        self.check_entries(name, std::slice::from_ref(entry))
            .map_err(|b| b.error)?;
        let attrs = vec![
            CmdAttr::SetName(name.to_string()),
            CmdAttr::AdtData(adt::to_attrs(entry, 0)),
        ];
        match self.run(IpsetCmd::Test, attrs, 0, Some(name)) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(crate::wire::IPSET_ERR_EXIST) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Folds one dump message into `sets`: a set's first message has its
/// header; later ones (a large set spans many) carry only name and entries.
pub(crate) fn absorb(sets: &mut Vec<Set>, m: IpsetMessage) {
    let mut name = None;
    let (mut t, mut family, mut revision) = (None, Family::Unspec, 0);
    let mut header = None;
    let mut adt = None;
    for a in m.attrs {
        match a {
            CmdAttr::SetName(n) => name = SetName::new(n).ok(),
            CmdAttr::TypeName(n) => t = n.parse::<SetType>().ok(),
            CmdAttr::Family(f) => family = Family::from_wire(f),
            CmdAttr::Revision(r) => revision = r,
            CmdAttr::CreateData(d) => header = Some(d),
            CmdAttr::Adt(e) => adt = Some(e),
            _ => {}
        }
    }
    let Some(name) = name else { return };
    if let Some(set_type) = t {
        let mut set = Set {
            name,
            set_type,
            revision,
            family,
            options: CreateOptions::default(),
            memsize: 0,
            references: 0,
            elements: 0,
            entries: Vec::new(),
        };
        if let Some(h) = header {
            set.apply_header(&h);
        }
        sets.push(set);
    } else if sets.last().map(|s| &s.name) != Some(&name) {
        // Names only (IPSET_FLAG_LIST_SETNAME): nothing to fold.
        return;
    }
    if let (Some(adt), Some(set)) = (adt, sets.last_mut()) {
        let t = set.set_type;
        set.entries
            .extend(adt.iter().map(|attrs| adt::from_attrs(t, attrs)));
    }
}

#[cfg(test)]
pub(crate) fn absorb_for_test(sets: &mut Vec<Set>, m: IpsetMessage) {
    absorb(sets, m)
}
