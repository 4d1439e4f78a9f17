//! The handle that talks to the kernel.

use std::{
    collections::HashSet,
    hash::{BuildHasherDefault, Hasher},
    net::IpAddr,
};

use kipvs_netlink::{
    core::{DecodeError, NLM_F_REQUEST},
    generic::GenlMessage,
    resolve_family,
    sys::protocols::NETLINK_GENERIC,
    BatchError, Error, NetNs, Result, Socket, SocketOptions,
};

use crate::{
    op::Op,
    proc_table::ProcTable,
    wire::{self, IpvsCmd, IpvsMessage, ServiceDump, AF_INET, AF_INET6},
    Daemon, DaemonState, Destination, Info, Service, ServiceKey, Timeouts,
};

/// A message on the wire: the IPVS payload in a generic netlink envelope.
pub(crate) type Message = GenlMessage<IpvsMessage>;

/// A connection to the kernel's IPVS: one generic netlink socket, reused
/// for every request, with the `"IPVS"` family id resolved once.
#[derive(Debug)]
pub struct Ipvs {
    sock: Socket,
    family: u16,
    /// The namespace the socket lives in, where known: the text table
    /// [`Ipvs::table_brief`] reads must be that namespace's.
    netns: Option<NetNs>,
}

impl Ipvs {
    /// Connects to IPVS in the calling thread's network namespace.
    ///
    /// Without IPVS in the kernel (the `ip_vs` module not loaded) this is
    /// [`Error::FamilyNotFound`] with family `"IPVS"`.
    pub fn new() -> Result<Ipvs> {
        let mut ipvs = Self::with_socket(Socket::new(NETLINK_GENERIC)?)?;
        ipvs.netns = Some(NetNs::Current);
        Ok(ipvs)
    }

    /// Connects to IPVS in `netns`; the calling thread stays where it is.
    pub fn new_in(netns: &NetNs) -> Result<Ipvs> {
        let sock = Socket::new_in(NETLINK_GENERIC, SocketOptions::default(), netns)?;
        let mut ipvs = Self::with_socket(sock)?;
        ipvs.netns = Some(netns.clone());
        Ok(ipvs)
    }

    /// Connects over `sock`, a `NETLINK_GENERIC` socket opened with the
    /// caller's own [`SocketOptions`] (e.g. a smaller batch size).
    ///
    /// Which namespace `sock` lives in is not known here, so
    /// [`Ipvs::table_brief`] reads the whole table over netlink.
    pub fn with_socket(mut sock: Socket) -> Result<Ipvs> {
        let family = resolve_family(&mut sock, wire::IPVS_GENL_NAME)?;
        Ok(Ipvs {
            sock,
            family,
            netns: None,
        })
    }

    /// The generic netlink family id the kernel gave IPVS.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    pub(crate) fn message(&self, msg: IpvsMessage) -> Message {
        let mut m = GenlMessage::from_payload(msg);
        m.set_resolved_family_id(self.family);
        m
    }

    /// Sends `msg`, waits for its ack, and returns the replies' payloads;
    /// a kernel error gets `what` as its context.
    fn request(
        &mut self,
        msg: IpvsMessage,
        what: impl FnOnce() -> String,
    ) -> Result<Vec<IpvsMessage>> {
        let msg = self.message(msg);
        match self.sock.request(msg, NLM_F_REQUEST) {
            Ok(replies) => Ok(replies.into_iter().map(|m| m.payload).collect()),
            Err(e) => Err(with_context(e, what)),
        }
    }

    fn dump(
        &mut self,
        msg: IpvsMessage,
        what: impl FnOnce() -> String,
    ) -> Result<Vec<IpvsMessage>> {
        let msg = self.message(msg);
        match self.sock.dump(msg) {
            Ok(replies) => Ok(replies.into_iter().map(|m| m.payload).collect()),
            Err(e) => Err(with_context(e, what)),
        }
    }

    /// One change, sent as a batch of one: the batch's barrier gets an
    /// answer even when the kernel gives the request none (see
    /// `Socket::batch`: `DEL_DAEMON` of a sync thread that has not run yet).
    fn change(&mut self, op: Op) -> Result<()> {
        match self.apply([op])?.into_iter().next() {
            Some(refused) => Err(Error::Kernel(refused.error)),
            None => Ok(()),
        }
    }

    /// The IPVS version and connection table size (`ipvsadm -v`).
    pub fn info(&mut self) -> Result<Info> {
        let replies = self.request(IpvsMessage::new(IpvsCmd::GetInfo, vec![]), || {
            "reading the IPVS version".into()
        })?;
        let reply = replies
            .first()
            .ok_or_else(|| decode_error("the GET_INFO reply", "the kernel sent none"))?;
        wire::info_from_attrs(&reply.attrs).map_err(|e| decode_error("the GET_INFO reply", e))
    }

    /// Every virtual service, in the kernel's order, with one dump.
    ///
    /// The kernel keeps one service table for every namespace and resumes
    /// a dump by its position there (`ip_vs_genl_dump_services`), so a dump
    /// that takes several chunks while any namespace adds or deletes
    /// services may repeat a service (dropped here) or miss one.
    ///
    /// AH and ESP services, which the kernel accepts over netlink but
    /// ipvsadm cannot make, are left out: a [`ServiceKey`] cannot name
    /// them (and [`Ipvs::flush`] still deletes them).
    pub fn services(&mut self) -> Result<Vec<Service>> {
        self.services_as(|svc| svc)
    }

    /// [`Ipvs::services`], each made into a `T` as it arrives.
    fn services_as<T>(&mut self, mut f: impl FnMut(Service) -> T) -> Result<Vec<T>> {
        // Each reply is decoded straight into a `Service` as it arrives.
        let mut msg = GenlMessage::from_payload(ServiceDump::Request);
        msg.set_resolved_family_id(self.family);
        let mut seen = HashSet::with_hasher(BuildHasherDefault::<KeyHasher>::default());
        let mut out = Vec::new();
        let mut bad = None;
        self.sock
            .dump_with(msg, |m: GenlMessage<ServiceDump>| {
                match m.payload {
                    ServiceDump::Reply(Some(Ok(svc))) => {
                        if seen.insert(svc.key) {
                            out.push(f(svc));
                        }
                    }
                    // Read the dump to its end all the same: the socket
                    // serves the next request.
                    ServiceDump::Reply(Some(Err(e))) => {
                        bad.get_or_insert(e);
                    }
                    ServiceDump::Reply(None) | ServiceDump::Request => {}
                }
                Ok(())
            })
            .map_err(|e| with_context(e, || "listing services".into()))?;
        match bad {
            Some(e) => Err(decode_error("a service", e)),
            None => Ok(out),
        }
    }

    /// One virtual service; `ESRCH` ([`Error::is_not_found`]) when there is
    /// none.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        let msg = IpvsMessage::new(
            IpvsCmd::GetService,
            vec![wire::IpvsAttr::Service(wire::service_key_attrs(key))],
        );
        let replies = self.request(msg, || format!("reading service {key}"))?;
        let reply = replies
            .first()
            .ok_or_else(|| decode_error("the GET_SERVICE reply", "the kernel sent none"))?;
        service_of(reply)
    }

    /// Adds a virtual service (`ipvsadm -A`).
    pub fn add_service(&mut self, service: &Service) -> Result<()> {
        self.change(Op::AddService(service.clone()))
    }

    /// Changes a virtual service (`ipvsadm -E`).
    pub fn edit_service(&mut self, service: &Service) -> Result<()> {
        self.change(Op::EditService(service.clone()))
    }

    /// Deletes a virtual service with its real servers (`ipvsadm -D`).
    pub fn delete_service(&mut self, key: &ServiceKey) -> Result<()> {
        self.change(Op::DeleteService(*key))
    }

    /// The real servers of a service, with one dump. A service that does
    /// not exist has none (the kernel's dump is then empty). A real server
    /// whose forwarding method or tunnel type is none of the kernel's (a
    /// raw netlink client can set one; ipvsadm prints `(null)`) is left
    /// out.
    pub fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>> {
        dump_dests(&mut self.sock, self.family, key)
    }

    /// Adds a real server (`ipvsadm -a`).
    pub fn add_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.change(Op::AddDestination(*key, dest.clone()))
    }

    /// Changes a real server (`ipvsadm -e`).
    pub fn edit_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.change(Op::EditDestination(*key, dest.clone()))
    }

    /// Deletes a real server (`ipvsadm -d`).
    pub fn delete_destination(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<()> {
        self.change(Op::DeleteDestination(*key, addr, port))
    }

    /// Every service with its real servers: one service dump, then one
    /// real-server dump per service (IPVS has no command that dumps both).
    pub fn table(&mut self) -> Result<Vec<(Service, Vec<Destination>)>> {
        let services = self.services()?;
        let keys: Vec<ServiceKey> = services.iter().map(|s| s.key).collect();
        let dests = self.destinations_of(&keys)?;
        Ok(services.into_iter().zip(dests).collect())
    }

    /// Every service with its real servers, as [`Ipvs::table`] has them but
    /// for the real servers' thresholds, persistent-connection counts and
    /// counters, which are left at zero: what a plain listing
    /// (`ipvsadm -Ln`, `-S`) shows, much faster for large tables.
    ///
    /// The real servers come from one read of the kernel's text table,
    /// `/proc/net/ip_vs`, instead of one netlink dump per service; a
    /// service the text cannot describe fully (one with a tunnelling real
    /// server, a firewall mark used by an IPv4 and an IPv6 service, one
    /// added after the read) has its real servers dumped over netlink. The
    /// text shows a real server with forwarding bits that are no method as
    /// `Masq`, where [`Ipvs::destinations`] leaves it out; only a raw
    /// netlink client can make one.
    ///
    /// The text is read on a short-lived thread of its own while this one
    /// runs the service dump.
    pub fn table_brief(&mut self) -> Result<Vec<(Service, Vec<Destination>)>> {
        let Some(netns) = self.netns.clone() else {
            return self.table();
        };
        // The text and the service dump are independent work for the
        // kernel (it prints the text under RCU, and dumps under the IPVS
        // mutex): the text is read and parsed on a thread of its own while
        // this one dumps. A thread starts in its parent's namespace.
        let (text, table) = std::thread::scope(|scope| {
            let reader = scope.spawn(|| netns.run(ProcTable::read));
            let table = self.services_as(|svc| (svc, Vec::new()));
            let text = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (text, table)
        });
        let mut text = text??;
        let mut table = table?;
        let family = self.family;
        for (svc, dests) in &mut table {
            *dests = match text.take(&svc.key) {
                Some(d) => d,
                None => dump_dests(&mut self.sock, family, &svc.key)?,
            };
        }
        Ok(table)
    }

    /// The real servers of each of `keys`, in order; a service deleted
    /// meanwhile has none.
    ///
    /// One dump after another on this socket: the kernel runs one dump at
    /// a time per socket and finishes each only on a later `recvmsg`, so
    /// dump requests cannot share a `sendmsg` (a second one gets `EBUSY`);
    /// and it holds one global mutex while dumping, so dumping over several
    /// sockets at once was measured slower, not faster.
    pub fn destinations_of(&mut self, keys: &[ServiceKey]) -> Result<Vec<Vec<Destination>>> {
        let family = self.family;
        keys.iter()
            .map(|k| dump_dests(&mut self.sock, family, k))
            .collect()
    }

    /// Deletes every virtual service (`ipvsadm -C`).
    pub fn flush(&mut self) -> Result<()> {
        self.change(Op::Flush)
    }

    /// Zeroes the counters of one service, or of all (`ipvsadm -Z`).
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<()> {
        self.change(Op::Zero(key.copied()))
    }

    /// The connection timeouts (`ipvsadm -L --timeout`).
    pub fn timeouts(&mut self) -> Result<Timeouts> {
        let replies = self.request(IpvsMessage::new(IpvsCmd::GetConfig, vec![]), || {
            "reading the timeouts".into()
        })?;
        let reply = replies
            .first()
            .ok_or_else(|| decode_error("the GET_CONFIG reply", "the kernel sent none"))?;
        Ok(wire::timeouts_from_attrs(&reply.attrs))
    }

    /// Sets the connection timeouts; a 0 leaves that one as it is
    /// (`ipvsadm --set`).
    pub fn set_timeouts(&mut self, t: &Timeouts) -> Result<()> {
        self.change(Op::SetTimeouts(*t))
    }

    /// The running sync daemons (`ipvsadm -L --daemon`).
    pub fn daemons(&mut self) -> Result<Vec<Daemon>> {
        let replies = self.dump(IpvsMessage::new(IpvsCmd::GetDaemon, vec![]), || {
            "listing sync daemons".into()
        })?;
        replies
            .iter()
            .filter_map(|m| m.daemon())
            .map(|d| wire::daemon_from_attrs(d).map_err(|e| decode_error("a sync daemon", e)))
            .collect()
    }

    /// Starts a sync daemon (`ipvsadm --start-daemon`).
    pub fn start_daemon(&mut self, d: &Daemon) -> Result<()> {
        self.change(Op::StartDaemon(d.clone()))
    }

    /// Stops a sync daemon (`ipvsadm --stop-daemon`).
    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<()> {
        self.change(Op::StopDaemon(state))
    }

    /// Applies many changes, packed many to a `sendmsg` with one ack per
    /// `sendmsg`, and returns the ones the kernel refused, by index, each
    /// with its context in words. The kernel goes on past a refused change
    /// (like `ipvsadm -R`, this is not atomic).
    pub fn apply<I: IntoIterator<Item = Op>>(&mut self, ops: I) -> Result<Vec<BatchError>> {
        let ops: Vec<Op> = ops.into_iter().collect();
        let family = self.family;
        let msgs = ops.iter().map(|op| {
            let mut m = GenlMessage::from_payload(op.to_message());
            m.set_resolved_family_id(family);
            (m, 0)
        });
        let mut errors = self.sock.batch(msgs)?;
        for e in &mut errors {
            if let Some(op) = ops.get(e.index) {
                e.error.context = Some(op.to_string());
            }
        }
        Ok(errors)
    }
}

/// FxHash's multiply and rotate, for telling services apart by key: the
/// keys are the kernel's, not an adversary's, and SipHash took a quarter of
/// decoding a dump of 5,000 services.
#[derive(Default)]
struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_ne_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(n.into());
    }

    fn write_u16(&mut self, n: u16) {
        self.add(n.into());
    }

    fn write_u32(&mut self, n: u32) {
        self.add(n.into());
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_u128(&mut self, n: u128) {
        self.add(n as u64);
        self.add((n >> 64) as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // The table takes its bucket from the low bits, which the multiply
        // leaves the poorest.
        self.0.rotate_left(26)
    }
}

/// The real servers of `key`, dumped over `sock`.
fn dump_dests(sock: &mut Socket, family: u16, key: &ServiceKey) -> Result<Vec<Destination>> {
    let mut msg = GenlMessage::from_payload(dest_dump(key));
    msg.set_resolved_family_id(family);
    let mut out = Vec::new();
    sock.dump_with(msg, |m: Message| {
        if m.payload.dest().is_some_and(wire::dest_is_representable) {
            out.push(dest_of(&m.payload, key)?);
        }
        Ok(())
    })
    .map_err(|e| with_context(e, || format!("listing the real servers of service {key}")))?;
    Ok(out)
}

/// Puts `what` on a kernel error as its context.
fn with_context(e: Error, what: impl FnOnce() -> String) -> Error {
    match e {
        Error::Kernel(mut k) => {
            k.context = Some(what());
            Error::Kernel(k)
        }
        other => other,
    }
}

fn decode_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Decode {
        context: context.to_owned(),
        message: e.to_string(),
    }
}

/// The `GET_DEST` dump request of a service: the kernel finds the service
/// from a nested `IPVS_CMD_ATTR_SERVICE` (`ip_vs_genl_dump_dests`), and
/// answers an empty dump without one.
pub(crate) fn dest_dump(key: &ServiceKey) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::GetDest,
        vec![wire::IpvsAttr::Service(wire::service_key_attrs(key))],
    )
}

pub(crate) fn service_of(m: &IpvsMessage) -> Result<Service> {
    let attrs = m
        .service()
        .ok_or_else(|| decode_error("a service", "no IPVS_CMD_ATTR_SERVICE"))?;
    wire::service_from_attrs(attrs).map_err(|e: DecodeError| decode_error("a service", e))
}

pub(crate) fn dest_of(m: &IpvsMessage, key: &ServiceKey) -> Result<Destination> {
    let attrs = m
        .dest()
        .ok_or_else(|| decode_error("a real server", "no IPVS_CMD_ATTR_DEST"))?;
    let af = if key.is_ipv6() { AF_INET6 } else { AF_INET };
    wire::dest_from_attrs(attrs, af).map_err(|e| decode_error("a real server", e))
}

#[cfg(test)]
mod tests {
    /// A handle can move to another thread (e.g. a reconcile loop's).
    #[test]
    fn the_handle_is_send() {
        fn send<T: Send>() {}
        send::<super::Ipvs>();
    }
}
