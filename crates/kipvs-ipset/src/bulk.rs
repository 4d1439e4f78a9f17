//! Bulk requests: many elements per message, and atomic replace (fill a
//! new set, swap, destroy).

use kipvs_netlink::{core::NLM_F_REQUEST, KernelError};

use crate::{
    adt,
    entry::Entry,
    handle::IpSet,
    types::SetName,
    wire::{adt_encoded, append_data, ipset_room, AdtAttr, CmdAttr, IpsetCmd, IpsetMessage},
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

/// Elements for bulk ADD or DEL requests, encoded as they are pushed and
/// packed into messages of up to 48 KiB each; [`IpSet::send_batch`] sends
/// them. This is how `ipset restore` gathers a run of add (or del) lines
/// of one set: each element is encoded once, into one buffer, with no
/// per-element allocation, and nothing reaches the kernel until the run
/// is complete.
#[derive(Debug, Default)]
pub struct AdtBatch {
    /// Full messages, in order.
    full: Vec<Packed>,
    /// The message being filled.
    open: Packed,
    /// How many elements the batch holds.
    count: usize,
    /// The attributes of the element being encoded, reused.
    scratch: Vec<AdtAttr>,
    /// ipset's restore buffer, followed ([`AdtBatch::like_ipset`]).
    ipset: Option<IpsetBuffer>,
}

/// The bytes of the first `k` elements of a message's encoded elements:
/// each is one nest, its length in its header (nest contents are padded,
/// so the length is aligned).
fn element_bytes(adt: &[u8], k: usize) -> usize {
    let mut at = 0;
    for _ in 0..k {
        at += usize::from(u16::from_ne_bytes([adt[at], adt[at + 1]]));
    }
    at
}

/// ipset 7.17's restore buffer: a page (`getpagesize()`) that it sends
/// whenever the next element does not fit.
const IPSET_BUFSIZE: usize = 4096;

/// Where ipset's restore would be with the same elements.
#[derive(Debug, Default)]
struct IpsetBuffer {
    /// A message's bytes before its first element: netlink and nfgenmsg
    /// headers, `IPSET_ATTR_PROTOCOL`, `_SETNAME`, `_LINENO`, the
    /// `IPSET_ATTR_ADT` nest header.
    header: usize,
    /// The bytes in the buffer now (0: none yet).
    len: usize,
    /// How many elements ipset would have sent.
    sent: usize,
}

/// The elements of one message: their `IPSET_ATTR_DATA` nests, encoded,
/// and their line numbers.
#[derive(Debug, Default)]
struct Packed {
    adt: Vec<u8>,
    lines: Vec<u32>,
}

impl AdtBatch {
    /// An empty batch.
    pub fn new() -> Self {
        AdtBatch::default()
    }

    /// An empty batch for set `name` that also follows where `ipset
    /// restore` (7.17) would cut it: ipset packs elements into a page-sized
    /// buffer and sends it whenever the next element does not fit, so when
    /// a later line stops a restore, the elements of the buffers it sent
    /// before are in the set. See [`AdtBatch::ipset_sent`].
    pub fn like_ipset(name: &SetName) -> Self {
        let align = |n: usize| (n + 3) & !3;
        // nlmsghdr, nfgenmsg, PROTOCOL, SETNAME, LINENO, the ADT header.
        let header = 16 + 4 + 8 + 4 + align(name.as_str().len() + 1) + 8 + 4;
        AdtBatch {
            ipset: Some(IpsetBuffer {
                header,
                ..IpsetBuffer::default()
            }),
            ..AdtBatch::default()
        }
    }

    /// How many of the elements the batch holds (the first ones) `ipset
    /// restore` would have sent to the kernel by now, in full buffers, for
    /// a batch made by [`AdtBatch::like_ipset`] (0 for others).
    pub fn ipset_sent(&self) -> usize {
        self.ipset.as_ref().map_or(0, |b| b.sent)
    }

    /// Splits off the full messages whose elements `ipset restore` would
    /// all have sent by now ([`AdtBatch::ipset_sent`]), as a batch of their
    /// own that can go to the kernel at once, as ipset's did; the rest
    /// stays (and [`AdtBatch::ipset_sent`] counts from it). `None` when no
    /// message is ready.
    pub fn split_sent(&mut self) -> Option<AdtBatch> {
        let sent = self.ipset_sent();
        let (mut n, mut k) = (0, 0);
        for p in &self.full {
            if n + p.lines.len() > sent {
                break;
            }
            n += p.lines.len();
            k += 1;
        }
        if k == 0 {
            return None;
        }
        if let Some(b) = &mut self.ipset {
            b.sent -= n;
        }
        self.count -= n;
        Some(AdtBatch {
            full: self.full.drain(..k).collect(),
            count: n,
            ..AdtBatch::default()
        })
    }

    /// Splits off every element `ipset restore` would have sent by now
    /// ([`AdtBatch::ipset_sent`]), cutting a message where ipset's buffer
    /// ended, as a batch to send at once; the rest stays. For a restore
    /// that must know now whether ipset would already have stopped (the
    /// line it reads next changes how a refusal is reported).
    pub fn split_all_sent(&mut self) -> AdtBatch {
        let n = self.ipset_sent();
        let mut messages = std::mem::take(&mut self.full);
        messages.push(std::mem::take(&mut self.open));
        let mut front = AdtBatch {
            count: n,
            ..AdtBatch::default()
        };
        let mut left = n;
        let mut rest = messages.into_iter().peekable();
        while left > 0 {
            let Some(p) = rest.peek_mut() else { break };
            if p.lines.len() <= left {
                left -= p.lines.len();
                front.full.extend(rest.next());
                continue;
            }
            let at = element_bytes(&p.adt, left);
            front.full.push(Packed {
                adt: p.adt.drain(..at).collect(),
                lines: p.lines.drain(..left).collect(),
            });
            left = 0;
        }
        let mut rest: Vec<Packed> = rest.collect();
        // The last is the message being filled (perhaps emptied above).
        self.open = rest.pop().unwrap_or_default();
        self.full = rest;
        self.count -= n;
        if let Some(b) = &mut self.ipset {
            b.sent = 0;
        }
        front
    }

    /// Keeps the first `n` elements, drops the rest.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.count {
            return;
        }
        let mut messages = std::mem::take(&mut self.full);
        messages.push(std::mem::take(&mut self.open));
        let mut left = n;
        let mut kept = Vec::new();
        for mut p in messages {
            if left == 0 {
                break;
            }
            if p.lines.len() > left {
                p.adt.truncate(element_bytes(&p.adt, left));
                p.lines.truncate(left);
            }
            left -= p.lines.len();
            kept.push(p);
        }
        self.full = kept;
        self.count = n;
        if let Some(b) = &mut self.ipset {
            b.sent = b.sent.min(n);
        }
    }

    /// Adds `entry` with its line number (`IPSET_ATTR_LINENO`: the kernel
    /// names a refused element by it, so it should be unique in the batch).
    pub fn push(&mut self, line: u32, entry: &Entry) {
        let mut attrs = std::mem::take(&mut self.scratch);
        adt::to_attrs_into(entry, 0, &mut attrs);
        attrs.push(AdtAttr::LineNo(line));
        self.pack(line, &attrs);
        self.scratch = attrs;
    }

    /// Adds element attributes as [`entry_attrs`](crate::entry_attrs)
    /// gives them (without `IPSET_ATTR_LINENO`), with their line number.
    pub fn push_attrs(&mut self, line: u32, attrs: &[AdtAttr]) {
        let mut all = std::mem::take(&mut self.scratch);
        all.clear();
        all.extend_from_slice(attrs);
        all.push(AdtAttr::LineNo(line));
        self.pack(line, &all);
        self.scratch = all;
    }

    fn pack(&mut self, line: u32, attrs: &[AdtAttr]) {
        if self.open.adt.capacity() == 0 {
            self.open.adt.reserve(BULK_BYTES + 1024);
        }
        let before = self.open.adt.len();
        append_data(&mut self.open.adt, attrs);
        let len = self.open.adt.len() - before;
        if let Some(b) = &mut self.ipset {
            let room = ipset_room(attrs, len);
            if b.len == 0 {
                b.len = b.header;
            } else if b.len + room > IPSET_BUFSIZE {
                b.sent = self.count;
                b.len = b.header;
            }
            b.len += len;
        }
        self.count += 1;
        self.open.lines.push(line);
        if self.open.adt.len() >= BULK_BYTES {
            self.full.push(std::mem::take(&mut self.open));
        }
    }

    /// How many elements the batch holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the batch holds no element.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Takes the messages ready to go: the full ones, and with `all` the
    /// one being filled too.
    fn take_ready(&mut self, all: bool) -> Vec<Packed> {
        let mut ready = std::mem::take(&mut self.full);
        if all && !self.open.lines.is_empty() {
            ready.push(std::mem::take(&mut self.open));
        }
        let gone: usize = ready.iter().map(|p| p.lines.len()).sum();
        self.count -= gone;
        ready
    }
}

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
        self.many(IpsetCmd::Add, name, entries, exist)
    }

    /// Deletes many entries, many per message.
    pub fn del_many(
        &mut self,
        name: &SetName,
        entries: &[Entry],
        exist: bool,
    ) -> Result<(), BulkError> {
        self.many(IpsetCmd::Del, name, entries, exist)
    }

    fn many(
        &mut self,
        cmd: IpsetCmd,
        name: &SetName,
        entries: &[Entry],
        exist: bool,
    ) -> Result<(), BulkError> {
        let mut batch = AdtBatch::new();
        let mut sent = 0;
        for (i, e) in entries.iter().enumerate() {
            batch.push(i as u32 + 1, e);
            self.send_ready(cmd, name, &mut batch, false, exist, &mut sent)?;
        }
        self.send_ready(cmd, name, &mut batch, true, exist, &mut sent)
    }

    /// Sends element attributes (see [`entry_attrs`](crate::entry_attrs)),
    /// each with its line number, as ADD or DEL requests of up to 48 KiB of
    /// elements each, in order, each message as soon as it is full. The
    /// kernel stops a message at its first refused element and names it
    /// by `IPSET_ATTR_LINENO`; the [`BulkError::index`] is that element's
    /// position in `items`.
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
        let mut batch = AdtBatch::new();
        let mut sent = 0;
        for (line, attrs) in items {
            batch.push_attrs(line, &attrs);
            self.send_ready(cmd, name, &mut batch, false, exist, &mut sent)?;
        }
        self.send_ready(cmd, name, &mut batch, true, exist, &mut sent)
    }

    /// Sends a batch as ADD or DEL requests, in order; stops at the first
    /// refused element, whose position in the batch (from 0, in push
    /// order) is the [`BulkError::index`]. The elements before it were
    /// applied, none after it.
    pub fn send_batch(
        &mut self,
        cmd: IpsetCmd,
        name: &SetName,
        mut batch: AdtBatch,
        exist: bool,
    ) -> Result<(), BulkError> {
        self.send_ready(cmd, name, &mut batch, true, exist, &mut 0)
    }

    /// Sends what `batch` has ready ([`AdtBatch::take_ready`]); `sent`
    /// counts the elements sent before, for the error's index.
    fn send_ready(
        &mut self,
        cmd: IpsetCmd,
        name: &SetName,
        batch: &mut AdtBatch,
        all: bool,
        exist: bool,
        sent: &mut usize,
    ) -> Result<(), BulkError> {
        let flags = if exist { 0 } else { NLM_F_EXCL };
        for Packed { adt, lines } in batch.take_ready(all) {
            let msg_attrs = vec![
                CmdAttr::SetName(name.to_string()),
                CmdAttr::LineNo(lines[0]),
                adt_encoded(adt),
            ];
            let msg = self.msg(cmd, msg_attrs);
            if let Err(e) = self.sock.request(msg, NLM_F_REQUEST | flags) {
                let at = failed_line(&e)
                    .and_then(|l| lines.iter().position(|x| *x == l))
                    .unwrap_or(0);
                let error = self.explain(e, cmd, Some(name));
                return Err(BulkError {
                    index: *sent + at,
                    error,
                });
            }
            *sent += lines.len();
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn a_batch_fills_messages_of_48_kib() {
        let mut batch = AdtBatch::new();
        for i in 0..3_000u32 {
            batch.push(i + 1, &Entry::ip_port(Ipv4Addr::from(i), 6, 80));
        }
        assert_eq!(batch.len(), 3_000);
        // hash:ip,port over IPv4 with its line number: 40 bytes an element.
        let full = batch.take_ready(false);
        assert_eq!(full.len(), 2);
        for p in &full {
            assert_eq!(p.adt.len(), p.lines.len() * 40);
            assert!((BULK_BYTES..BULK_BYTES + 40).contains(&p.adt.len()));
        }
        assert_eq!(full[1].lines[0], full[0].lines.len() as u32 + 1);
        let rest = batch.take_ready(true);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].lines.len(), 3_000 - 2 * full[0].lines.len());
        assert!(batch.is_empty());
    }

    /// Where ipset 7.17's restore sends its page-sized buffers, as
    /// `strace` shows it: 100 hash:ip,port elements a message for
    /// KUBE-CLUSTER-IP (4,060 bytes), 167 hash:ip elements for a set `s`.
    #[test]
    fn a_batch_knows_what_ipset_had_sent() {
        let name = SetName::new("KUBE-CLUSTER-IP").unwrap();
        let mut batch = AdtBatch::like_ipset(&name);
        let mut sent = Vec::new();
        for i in 0..450u32 {
            batch.push(i + 2, &Entry::ip_port(Ipv4Addr::from(i), 6, 80));
            sent.push(batch.ipset_sent());
        }
        assert_eq!(sent[99], 0);
        assert_eq!(sent[100], 100);
        assert_eq!(sent[449], 400);
        let mut one = AdtBatch::like_ipset(&SetName::new("s").unwrap());
        for i in 0..250u32 {
            one.push(i + 2, &Entry::ip(Ipv4Addr::from(i)));
        }
        assert_eq!(one.ipset_sent(), 167);
        assert_eq!(AdtBatch::new().ipset_sent(), 0);
        // The full 48 KiB messages go as soon as ipset would have sent all
        // their elements; what stays counts from where they end.
        let mut b = AdtBatch::like_ipset(&name);
        let mut parts = Vec::new();
        for i in 0..3_000u32 {
            b.push(i + 1, &Entry::ip_port(Ipv4Addr::from(i), 6, 80));
            if let Some(part) = b.split_sent() {
                parts.push((i + 1, part.len()));
            }
        }
        // 1,229 elements a message, ipset's pages of 100: the first
        // message is all sent once the 1,301st element opens a page.
        assert_eq!(parts, [(1_301, 1_229), (2_501, 1_229)]);
        assert_eq!(b.len(), 3_000 - 2 * 1_229);
        assert_eq!(b.ipset_sent(), 2_900 - 2 * 1_229);
        assert!(AdtBatch::new().split_sent().is_none());
        // Truncated across the messages it packed, a batch keeps whole
        // elements and their lines.
        for cut in [0, 1, 1228, 1229, 1230, 2000] {
            let mut b = AdtBatch::new();
            for i in 0..3_000u32 {
                b.push(i + 1, &Entry::ip_port(Ipv4Addr::from(i), 6, 80));
            }
            b.truncate(cut);
            assert_eq!(b.len(), cut);
            let packed = b.take_ready(true);
            let lines: Vec<u32> = packed.iter().flat_map(|p| p.lines.clone()).collect();
            assert_eq!(lines, (1..=cut as u32).collect::<Vec<_>>());
            let bytes: usize = packed.iter().map(|p| p.adt.len()).sum();
            assert_eq!(bytes, cut * 40);
        }
    }

    /// Everything ipset would have sent, cut inside a message where
    /// ipset's page ended; the rest keeps packing where it was.
    #[test]
    fn a_batch_splits_off_all_ipset_sent() {
        let name = SetName::new("KUBE-CLUSTER-IP").unwrap();
        let lines = |packed: &[Packed]| -> Vec<u32> {
            packed.iter().flat_map(|p| p.lines.clone()).collect()
        };
        for total in [50u32, 450, 1_500, 3_000] {
            let mut b = AdtBatch::like_ipset(&name);
            for i in 0..total {
                b.push(i + 1, &Entry::ip_port(Ipv4Addr::from(i), 6, 80));
            }
            // Pages of 100 elements: all but the page being filled.
            let sent = (total as usize - 1) / 100 * 100;
            assert_eq!(b.ipset_sent(), sent);
            let mut front = b.split_all_sent();
            assert_eq!((front.len(), b.len()), (sent, total as usize - sent));
            assert_eq!(b.ipset_sent(), 0);
            let packed = front.take_ready(true);
            assert_eq!(lines(&packed), (1..=sent as u32).collect::<Vec<_>>());
            assert_eq!(packed.iter().map(|p| p.adt.len()).sum::<usize>(), sent * 40);
            // The rest goes on filling messages of 48 KiB.
            for i in total..total + 2_000 {
                b.push(i + 1, &Entry::ip_port(Ipv4Addr::from(i), 6, 80));
            }
            let rest = b.take_ready(true);
            assert_eq!(
                lines(&rest),
                (sent as u32 + 1..=total + 2_000).collect::<Vec<_>>()
            );
            assert!(rest.iter().all(|p| p.adt.len() == p.lines.len() * 40));
            assert!(rest.iter().all(|p| p.adt.len() < BULK_BYTES + 40));
            assert!(b.is_empty());
        }
    }
}
