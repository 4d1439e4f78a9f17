//! A blocking netlink socket that owns sequence numbers, dumps and batches.

use std::{io, time::Duration};

use netlink_packet_core::{
    NetlinkBuffer, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST,
};
use netlink_sys::{Socket as RawSocket, SocketAddr};
use nix::sys::{
    socket::{setsockopt, sockopt},
    time::TimeVal,
};

use crate::{
    error::{Error, KernelError, Result},
    netns::NetNs,
};

/// `NLM_F_CAPPED`: the error message carries only the request's header.
const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS`: extended-ack attributes follow the error.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG` from `linux/netlink.h`.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// `NLMSGERR_ATTR_OFFS` from `linux/netlink.h`.
const NLMSGERR_ATTR_OFFS: u16 = 2;
const NLMSG_HDRLEN: usize = 16;

/// How a [`Socket`] is set up.
#[derive(Debug, Clone)]
pub struct SocketOptions {
    /// The receive buffer asked for with `SO_RCVBUFFORCE` (falling back to
    /// `SO_RCVBUF`, which `net.core.rmem_max` caps). The kernel charges about
    /// 1 KiB of it for each error it queues, so it bounds how many failed
    /// requests one batch can report without `ENOBUFS`.
    pub receive_buffer: usize,
    /// How long one `recv` may wait before [`Error::Timeout`].
    pub timeout: Option<Duration>,
    /// Most bytes packed into one `sendmsg` by [`Socket::batch`].
    pub batch_bytes: usize,
    /// Most requests packed into one `sendmsg` by [`Socket::batch`]; each of
    /// them may come back as an error, so keep it under
    /// `receive_buffer / 1024`.
    pub batch_messages: usize,
    /// Ask for `NETLINK_GET_STRICT_CHK` (rtnetlink dumps honour filters and
    /// reject bad headers instead of ignoring them).
    pub strict_check: bool,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            receive_buffer: 4 << 20,
            timeout: Some(Duration::from_secs(30)),
            batch_bytes: 64 << 10,
            batch_messages: 1024,
            strict_check: false,
        }
    }
}

/// A request of a batch that the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError {
    /// The position of the request in the batch, from 0.
    pub index: usize,
    /// What the kernel said.
    pub error: KernelError,
}

/// A blocking netlink socket of one protocol (`NETLINK_GENERIC`,
/// `NETLINK_NETFILTER`, `NETLINK_ROUTE`, ...).
///
/// It sends and receives whole messages of any rust-netlink packet type, so
/// one socket serves e.g. the generic netlink controller and the IPVS family.
pub struct Socket {
    sock: RawSocket,
    seq: u32,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
    options: SocketOptions,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("seq", &self.seq)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The size of the buffer each `recv` fills. The kernel sizes dump chunks
/// after the largest buffer it has seen (capped at 32 KiB), so this also
/// lets it put the most records in each chunk.
const RECV_BUFFER: usize = 64 << 10;

impl Socket {
    /// Opens a socket of `protocol` in the calling thread's namespace.
    pub fn new(protocol: isize) -> Result<Self> {
        Self::with_options(protocol, SocketOptions::default())
    }

    /// Opens a socket of `protocol` inside `netns`, without moving the
    /// calling thread: the socket is made on a short-lived thread that enters
    /// the namespace, and stays bound to that namespace for its whole life.
    pub fn new_in(protocol: isize, options: SocketOptions, netns: &NetNs) -> Result<Self> {
        netns.run(move || Self::with_options(protocol, options))?
    }

    /// Opens a socket of `protocol` with `options`.
    pub fn with_options(protocol: isize, options: SocketOptions) -> Result<Self> {
        let mut sock =
            RawSocket::new(protocol).map_err(|e| Error::io("opening a netlink socket", e))?;
        sock.bind_auto()
            .map_err(|e| Error::io("binding a netlink socket", e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| Error::io("connecting a netlink socket", e))?;
        // Extended acks give the kernel's own words; capped acks keep every
        // error small, so a batch of failures fits the receive buffer. Old
        // kernels lack both: errors then carry only the errno.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        if options.strict_check {
            let _ = sock.set_netlink_get_strict_chk(true);
        }
        let size = options.receive_buffer;
        if setsockopt(&sock, sockopt::RcvBufForce, &size).is_err() {
            // Without CAP_NET_ADMIN, rmem_max caps this silently.
            let _ = setsockopt(&sock, sockopt::RcvBuf, &size);
        }
        let mut options = options;
        if let Ok(got) = sock.get_rx_buf_sz() {
            // The kernel charges about 1 KiB per queued error: a batch may not
            // have more requests in flight than the buffer can report on, or
            // failures would be lost to ENOBUFS.
            options.batch_messages = options.batch_messages.clamp(1, (got / 1024).max(1));
        }
        if let Some(t) = options.timeout {
            setsockopt(
                &sock,
                sockopt::ReceiveTimeout,
                &TimeVal::new(t.as_secs() as _, t.subsec_micros() as _),
            )
            .map_err(|e| Error::io("setting the socket timeout", e.into()))?;
        }
        Ok(Socket {
            sock,
            seq: 0,
            send_buf: Vec::with_capacity(options.batch_bytes),
            recv_buf: vec![0; RECV_BUFFER],
            options,
        })
    }

    /// The options this socket was opened with.
    pub fn options(&self) -> &SocketOptions {
        &self.options
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        if self.seq == 0 {
            self.seq = 1;
        }
        self.seq
    }

    /// Appends `msg` to the send buffer with `flags` and a fresh sequence
    /// number; returns that number.
    fn push<T: NetlinkSerializable>(&mut self, msg: T, flags: u16) -> u32 {
        let seq = self.next_seq();
        let mut header = NetlinkHeader::default();
        header.flags = flags | NLM_F_REQUEST;
        header.sequence_number = seq;
        let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        message.finalize();
        let start = self.send_buf.len();
        self.send_buf.resize(start + message.buffer_len(), 0);
        message.serialize(&mut self.send_buf[start..]);
        seq
    }

    /// Appends an `NLMSG_NOOP` that asks for an ack (a bare header: the
    /// kernel acks control messages without handing them to the family).
    fn push_barrier(&mut self) -> u32 {
        let seq = self.next_seq();
        let len = NLMSG_HDRLEN as u32;
        self.send_buf.extend_from_slice(&len.to_ne_bytes());
        self.send_buf.extend_from_slice(&NLMSG_NOOP.to_ne_bytes());
        self.send_buf
            .extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        self.send_buf.extend_from_slice(&seq.to_ne_bytes());
        self.send_buf.extend_from_slice(&0u32.to_ne_bytes());
        seq
    }

    fn flush(&mut self) -> Result<()> {
        let sent = self
            .sock
            .send(&self.send_buf, 0)
            .map_err(|e| Error::io("sending to the kernel", e))?;
        if sent != self.send_buf.len() {
            return Err(Error::io(
                "sending to the kernel",
                io::Error::new(io::ErrorKind::WriteZero, "short netlink send"),
            ));
        }
        self.send_buf.clear();
        Ok(())
    }

    /// Receives one datagram into `recv_buf`; returns its length.
    fn recv(&mut self) -> Result<usize> {
        loop {
            let mut buf = &mut self.recv_buf[..];
            match self.sock.recv(&mut buf, nix::libc::MSG_TRUNC) {
                Ok(n) if n > RECV_BUFFER => {
                    return Err(Error::decode(
                        "a netlink datagram",
                        format!("{n} bytes do not fit the {RECV_BUFFER}-byte buffer"),
                    ))
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => return Err(Error::io(
                    "receiving from the kernel (replies were lost: the receive buffer overflowed)",
                    e,
                )),
                Err(e) => return Err(Error::io("receiving from the kernel", e)),
            }
        }
    }

    /// Receives until `on_message` says the exchange is complete. Messages
    /// whose sequence number is outside `seqs` (stale replies of an exchange
    /// that timed out) are skipped.
    fn receive<F>(&mut self, seqs: std::ops::RangeInclusive<u32>, mut on_message: F) -> Result<()>
    where
        F: FnMut(Incoming<'_>) -> Result<bool>,
    {
        loop {
            let n = self.recv()?;
            let mut offset = 0;
            while offset + NLMSG_HDRLEN <= n {
                let data = &self.recv_buf[offset..n];
                let buf = NetlinkBuffer::new_checked(data)
                    .map_err(|e| Error::decode("a netlink header", e))?;
                let len = buf.length() as usize;
                offset += (len + 3) & !3;
                let seq = buf.sequence_number();
                if !seqs.contains(&seq) {
                    continue;
                }
                let mut header = NetlinkHeader::default();
                header.length = buf.length();
                header.message_type = buf.message_type();
                header.flags = buf.flags();
                header.sequence_number = seq;
                header.port_number = buf.port_number();
                let payload = &data[NLMSG_HDRLEN..len];
                let incoming = match header.message_type {
                    NLMSG_NOOP => continue,
                    NLMSG_OVERRUN => return Err(Error::decode("a netlink reply", "NLMSG_OVERRUN")),
                    NLMSG_ERROR => {
                        let (code, err) = parse_error(header.flags, payload, true)?;
                        if code == 0 {
                            Incoming::Ack(seq)
                        } else {
                            Incoming::Error(seq, err)
                        }
                    }
                    NLMSG_DONE => {
                        let (code, err) = parse_error(header.flags, payload, false)?;
                        if code < 0 {
                            Incoming::Error(seq, err)
                        } else {
                            Incoming::Done(seq)
                        }
                    }
                    _ => Incoming::Message(header, payload),
                };
                if on_message(incoming)? {
                    return Ok(());
                }
            }
        }
    }

    /// Sends one request and waits for its ack; returns the replies that
    /// came before the ack (e.g. the answer of a "get").
    pub fn request<T>(&mut self, msg: T, flags: u16) -> Result<Vec<T>>
    where
        T: NetlinkSerializable + NetlinkDeserializable,
    {
        self.send_buf.clear();
        let seq = self.push(msg, flags | NLM_F_ACK);
        self.flush()?;
        let mut replies = Vec::new();
        self.receive(seq..=seq, |incoming| match incoming {
            Incoming::Ack(_) | Incoming::Done(_) => Ok(true),
            Incoming::Error(_, e) => Err(e.into()),
            Incoming::Message(header, payload) => {
                replies.push(deserialize::<T>(&header, payload)?);
                Ok(false)
            }
        })?;
        Ok(replies)
    }

    /// Runs a dump (`NLM_F_DUMP`) and collects every record.
    pub fn dump<T>(&mut self, msg: T) -> Result<Vec<T>>
    where
        T: NetlinkSerializable + NetlinkDeserializable,
    {
        let mut out = Vec::new();
        self.dump_with(msg, |m| {
            out.push(m);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs a dump and hands each record to `f` as it arrives.
    pub fn dump_with<T, F>(&mut self, msg: T, mut f: F) -> Result<()>
    where
        T: NetlinkSerializable + NetlinkDeserializable,
        F: FnMut(T) -> Result<()>,
    {
        self.send_buf.clear();
        let seq = self.push(msg, NLM_F_DUMP);
        self.flush()?;
        self.receive(seq..=seq, |incoming| match incoming {
            Incoming::Done(_) | Incoming::Ack(_) => Ok(true),
            Incoming::Error(_, e) => Err(e.into()),
            Incoming::Message(header, payload) => {
                f(deserialize::<T>(&header, payload)?)?;
                Ok(false)
            }
        })
    }

    /// Sends many requests, packed into as few `sendmsg` calls as the
    /// options allow, and returns the ones the kernel refused.
    ///
    /// No request asks for an ack; each `sendmsg` ends with an
    /// `NLMSG_NOOP` that does. The kernel handles the messages of one
    /// datagram in order and answers every failure even unasked, so the
    /// no-op's ack is a barrier behind which every error has arrived. The
    /// barrier is a message of its own, not the ack flag on the last
    /// request, because a handler that returns `-EINTR` gets no answer at
    /// all, not even an asked-for ack (`netlink_rcv_skb` skips it): IPVS's
    /// `DEL_DAEMON` does when the sync thread it stops had not yet run, and
    /// a batch waiting for that request's ack would wait forever. Such a
    /// request counts as done. A refusal for want of privilege (`EPERM`)
    /// ends the batch there, with that one error. The kernel goes on past a failed request; a caller
    /// that needs "stop at the first error" sends one request at a time.
    /// Replies to the requests (there are none for "new"/"set"/"del") are
    /// dropped.
    pub fn batch<T, I>(&mut self, msgs: I) -> Result<Vec<BatchError>>
    where
        T: NetlinkSerializable,
        I: IntoIterator<Item = (T, u16)>,
    {
        let mut errors = Vec::new();
        let mut msgs = msgs.into_iter().peekable();
        let mut index = 0;
        while msgs.peek().is_some() {
            self.send_buf.clear();
            let first_index = index;
            let mut first_seq = None;
            let mut count = 0;
            while let Some((msg, flags)) = msgs.next_if(|_| {
                count < self.options.batch_messages
                    && (count == 0 || self.send_buf.len() < self.options.batch_bytes)
            }) {
                let seq = self.push(msg, flags);
                first_seq.get_or_insert(seq);
                count += 1;
            }
            index += count;
            let first_seq = first_seq.expect("the loop pushed at least one message");
            let last_seq = self.push_barrier();
            self.flush()?;
            self.receive(first_seq..=last_seq, |incoming| match incoming {
                Incoming::Error(seq, error) => {
                    // nfnetlink refuses a sender without CAP_NET_ADMIN once,
                    // for the datagram's first message, and drops the rest:
                    // no barrier ack comes. (Other families refuse each
                    // message; those answers are skipped as stale.)
                    let refused_all = error.errno == nix::libc::EPERM;
                    errors.push(BatchError {
                        index: first_index + seq.wrapping_sub(first_seq) as usize,
                        error,
                    });
                    Ok(seq == last_seq || refused_all)
                }
                Incoming::Ack(seq) | Incoming::Done(seq) => Ok(seq == last_seq),
                // A reply to a request of the batch, before its ack.
                Incoming::Message(..) => Ok(false),
            })?;
        }
        Ok(errors)
    }
}

/// One message received for an exchange.
enum Incoming<'a> {
    Ack(u32),
    Done(u32),
    Error(u32, KernelError),
    Message(NetlinkHeader, &'a [u8]),
}

fn deserialize<T: NetlinkDeserializable>(header: &NetlinkHeader, payload: &[u8]) -> Result<T> {
    T::deserialize(header, payload).map_err(|e| {
        Error::decode(
            format!("a netlink message of type {}", header.message_type),
            e,
        )
    })
}

/// Decodes the payload of `NLMSG_ERROR` (`is_error`) or `NLMSG_DONE`: the
/// code and, when the kernel sent them, the extended-ack attributes.
pub(crate) fn parse_error(
    flags: u16,
    payload: &[u8],
    is_error: bool,
) -> Result<(i32, KernelError)> {
    let code = match payload.get(..4) {
        Some(b) => i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
        // An empty DONE (some families send one) means success.
        None if !is_error => 0,
        None => return Err(Error::decode("an NLMSG_ERROR", "shorter than its code")),
    };
    let mut error = KernelError::new(code.saturating_neg());
    if is_error && code != 0 && flags & NLM_F_CAPPED == 0 {
        let orig_len = payload
            .get(4..8)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .unwrap_or(0);
        if let Some(echo) = payload.get(4 + NLMSG_HDRLEN..4 + orig_len.max(NLMSG_HDRLEN)) {
            error.request = Some(echo.to_vec());
        }
    }
    if flags & NLM_F_ACK_TLVS == 0 {
        return Ok((code, error));
    }
    let mut tlvs = 4;
    if is_error {
        // The request's header comes back, and its payload too unless capped.
        let orig_len = payload
            .get(4..8)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .unwrap_or(NLMSG_HDRLEN);
        tlvs += if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            (orig_len + 3) & !3
        };
    }
    let mut at = tlvs;
    while at + 4 <= payload.len() {
        let len = u16::from_ne_bytes([payload[at], payload[at + 1]]) as usize;
        let kind = u16::from_ne_bytes([payload[at + 2], payload[at + 3]]) & 0x3fff;
        if len < 4 || at + len > payload.len() {
            break;
        }
        let value = &payload[at + 4..at + len];
        match kind {
            NLMSGERR_ATTR_MSG => {
                let text = value.split(|b| *b == 0).next().unwrap_or_default();
                let text = String::from_utf8_lossy(text).into_owned();
                if !text.is_empty() {
                    error.message = Some(text);
                }
            }
            NLMSGERR_ATTR_OFFS if value.len() == 4 => {
                error.offset = Some(u32::from_ne_bytes([value[0], value[1], value[2], value[3]]));
            }
            _ => {}
        }
        at += (len + 3) & !3;
    }
    Ok((code, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_capped_error_with_ext_ack() {
        let mut p = Vec::new();
        p.extend_from_slice(&(-22i32).to_ne_bytes()); // -EINVAL
        p.extend_from_slice(&[20, 0, 0, 0, 16, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0]); // request header
        p.extend_from_slice(&[12, 0, 1, 0]); // NLMSGERR_ATTR_MSG, length 12
        p.extend_from_slice(b"bad\0\0\0\0\0");
        p.extend_from_slice(&[8, 0, 2, 0, 20, 0, 0, 0]); // NLMSGERR_ATTR_OFFS 20
        let (code, e) = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p, true).unwrap();
        assert_eq!(code, -22);
        assert_eq!(e.errno, 22);
        assert_eq!(e.message.as_deref(), Some("bad"));
        assert_eq!(e.offset, Some(20));
    }

    #[test]
    fn parses_uncapped_error_without_tlvs() {
        let mut p = Vec::new();
        p.extend_from_slice(&(-17i32).to_ne_bytes());
        p.extend_from_slice(&[
            24, 0, 0, 0, 16, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ]);
        let (code, e) = parse_error(0, &p, true).unwrap();
        assert_eq!((code, e.errno, e.message), (-17, 17, None));
    }

    #[test]
    fn truncated_error_payloads_never_panic() {
        for len in 0..64 {
            let p: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            let _ = parse_error(NLM_F_ACK_TLVS, &p, true);
            let _ = parse_error(NLM_F_ACK_TLVS | NLM_F_CAPPED, &p, false);
        }
    }
}
