//! Bulk requests: many elements per message, and atomic replace (fill a
//! new set, swap, destroy).

use kipvs_netlink::{core::NLM_F_REQUEST, KernelError};

use crate::{
    adt,
    entry::Entry,
    handle::IpSet,
    types::SetName,
    wire::{adt_encoded, append_data, AdtAttr, CmdAttr, IpsetCmd, IpsetMessage},
    Error, Result,
};

/// `NLM_F_EXCL`: without it the kernel acts as if `-exist` were given.
const NLM_F_EXCL: u16 = 0x200;
/// Most bytes of elements packed into one ADD/DEL message. The nested
/// `IPSET_ATTR_ADT` has a 16-bit length, and a refused message comes back
/// whole inside the error, which must fit the transport's 64 KiB receive
/// buffer.
const BULK_BYTES: usize = 48 << 10;

/// An element of a bulk request that the kernel refused.
#[derive(Debug)]
pub struct BulkError {
    /// The position of the refused element in the input (from 0). The
    /// elements before it were applied, none after it.
    pub index: usize,
    /// What the kernel said, in ipset's words.
    pub error: Error,
}

impl std::fmt::Display for BulkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "element {}: {}", self.index, self.error)
    }
}

impl std::error::Error for BulkError {}

impl IpSet {
    /// Adds many entries, many per message; stops at the first refused
    /// one (see [`BulkError`]).
    pub fn add_many(
        &mut self,
        name: &SetName,
        entries: &[Entry],
        exist: bool,
    ) -> Result<(), BulkError> {
        self.check_entries(name, entries)?;
        self.bulk(IpsetCmd::Add, name, numbered(entries), exist)
    }

    /// Deletes many entries, many per message.
    pub fn del_many(
        &mut self,
        name: &SetName,
        entries: &[Entry],
        exist: bool,
    ) -> Result<(), BulkError> {
        self.bulk(IpsetCmd::Del, name, numbered(entries), exist)
    }

    /// Sends element attributes (see [`entry_attrs`](crate::entry_attrs)),
    /// each with its line number, as ADD or DEL requests of up to 48 KiB of
    /// elements each, in order. The kernel stops a message at its first
    /// refused element and names it by `IPSET_ATTR_LINENO`; the
    /// [`BulkError::index`] is that element's position in `items`.
    /// This is how `ipset restore` is fast.
    pub fn bulk<I>(
        &mut self,
        cmd: IpsetCmd,
        name: &SetName,
        items: I,
        exist: bool,
    ) -> Result<(), BulkError>
    where
        I: IntoIterator<Item = (u32, Vec<AdtAttr>)>,
    {
        let flags = if exist { 0 } else { NLM_F_EXCL };
        // The elements of the message being packed, encoded as they come
        // (one pass each); the message copies them as they are.
        let mut adt: Vec<u8> = Vec::new();
        let mut lines: Vec<u32> = Vec::new();
        let mut batch_start = 0usize;
        let mut items = items.into_iter().peekable();
        while let Some((line, mut attrs)) = items.next() {
            attrs.push(AdtAttr::LineNo(line));
            if adt.capacity() == 0 {
                adt.reserve(BULK_BYTES + 1024);
            }
            append_data(&mut adt, &attrs);
            lines.push(line);
            if adt.len() >= BULK_BYTES || items.peek().is_none() {
                let msg_attrs = vec![
                    CmdAttr::SetName(name.to_string()),
                    CmdAttr::LineNo(lines[0]),
                    adt_encoded(std::mem::take(&mut adt)),
                ];
                let msg = self.msg(cmd, msg_attrs);
                if let Err(e) = self.sock.request(msg, NLM_F_REQUEST | flags) {
                    let at = failed_line(&e)
                        .and_then(|l| lines.iter().position(|x| *x == l))
                        .unwrap_or(0);
                    let error = self.explain(e, cmd, Some(name));
                    return Err(BulkError {
                        index: batch_start + at,
                        error,
                    });
                }
                batch_start += lines.len();
                lines.clear();
            }
        }
        Ok(())
    }

    /// Replaces the contents of `name` with `entries` atomically: fills a
    /// new set of the same type and options, swaps it in, destroys the old
    /// one. Packet filtering never sees a half-filled set.
    pub fn replace(&mut self, name: &SetName, entries: &[Entry]) -> Result<()> {
        let current = self
            .list_headers(Some(name))?
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("set", name, "not listed by the kernel"))?;
        let mut options = current.options.clone();
        // A fresh seed for the new table; the sizes stay.
        options.initval = None;
        let tmp = temp_name();
        self.create(&tmp, current.set_type, &options, false)?;
        let fill = self.add_many(&tmp, entries, true);
        let result = match fill {
            Ok(()) => self.swap(name, &tmp),
            Err(b) => Err(b.error),
        };
        let cleanup = self.destroy(Some(&tmp));
        result?;
        cleanup
    }
}

fn numbered(entries: &[Entry]) -> impl Iterator<Item = (u32, Vec<AdtAttr>)> + '_ {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| (i as u32 + 1, adt::to_attrs(e, 0)))
}

/// The line the kernel wrote into the echoed `IPSET_ATTR_LINENO`.
fn failed_line(e: &Error) -> Option<u32> {
    let k: &KernelError = e.kernel()?;
    let echo = k.request.as_deref()?;
    let msg = IpsetMessage::parse(IpsetCmd::Add, echo).ok()?;
    msg.attrs.iter().find_map(|a| match a {
        CmdAttr::LineNo(l) => Some(*l),
        _ => None,
    })
}

fn temp_name() -> SetName {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    SetName::new(format!("kipvs-tmp-{}-{n}", std::process::id())).expect("short name")
}
