//! The service dump's in-place decoder against the full one: the same
//! services, the same refusals, on captures, on mutated captures and on
//! attribute soups.

use netlink_packet_core::{Emitable, NlasIterator, ParseableParametrized};
use netlink_packet_generic::{GenlHeader, GenlMessage};
use proptest::prelude::*;

use super::golden::*;
use crate::{
    wire::{self, raw_nlas, IpvsCmd, IpvsMessage, ServiceDump},
    Service,
};

/// What a dump makes of a reply: refused, no service, or the service's
/// conversion (its error reduced to "an error").
type Outcome = Result<Option<Result<Service, ()>>, ()>;

fn full(cmd: u8, payload: &[u8]) -> Outcome {
    let msg =
        IpvsMessage::parse_with_param(payload, GenlHeader { cmd, version: 1 }).map_err(drop)?;
    Ok(msg
        .service()
        .filter(|s| wire::service_is_representable(s))
        .map(|s| wire::service_from_attrs(s).map_err(drop)))
}

fn fast(cmd: u8, payload: &[u8]) -> Outcome {
    match ServiceDump::parse_with_param(payload, GenlHeader { cmd, version: 1 }) {
        Ok(ServiceDump::Reply(s)) => Ok(s.map(|r| r.map_err(drop))),
        Ok(ServiceDump::Request) => panic!("a reply decoded as the request"),
        Err(_) => Err(()),
    }
}

#[track_caller]
fn same(cmd: u8, payload: &[u8]) -> Outcome {
    let (full, fast) = (full(cmd, payload), fast(cmd, payload));
    assert_eq!(fast, full, "{payload:02x?}");
    fast
}

#[test]
fn kernel_replies_decode_as_the_full_parse_has_them() {
    for bytes in [
        SERVICE_REPLY_TCP_STATS,
        SERVICE_REPLY_UDP6,
        SERVICE_REPLY_FWMARK,
        SERVICE_REPLY_SCTP,
    ] {
        let svc = same(bytes[0], &bytes[4..]).unwrap().unwrap().unwrap();
        let msg = super::parse(bytes);
        assert_eq!(
            svc,
            wire::service_from_attrs(msg.service().unwrap()).unwrap()
        );
    }
}

#[test]
fn what_is_not_a_service_is_none() {
    // A real server's reply has no service nest.
    assert_eq!(same(DEST_REPLY_MASQ[0], &DEST_REPLY_MASQ[4..]), Ok(None));
    // GET_INFO's attributes share the service's number.
    assert_eq!(same(INFO_REPLY[0], &INFO_REPLY[4..]), Ok(None));
    // An ESP service (IPPROTO_ESP 50): the kernel takes one over netlink.
    let mut esp = SERVICE_REPLY_TCP_STATS.to_vec();
    esp[20] = 50;
    assert_eq!(same(esp[0], &esp[4..]), Ok(None));
}

#[test]
fn unknown_attributes_are_skipped() {
    // As in replies.rs: IPVS_SVC_ATTR 200 in the nest, attribute 50 after it.
    let mut bytes = SERVICE_REPLY_FWMARK.to_vec();
    let nest_len = u16::from_ne_bytes([bytes[4], bytes[5]]) + 8;
    bytes[4..6].copy_from_slice(&nest_len.to_ne_bytes());
    bytes.extend_from_slice(&[8, 0, 200, 0, 1, 2, 3, 4]);
    bytes.extend_from_slice(&[8, 0, 50, 0, 9, 9, 9, 9]);
    let svc = same(bytes[0], &bytes[4..]).unwrap().unwrap().unwrap();
    assert_eq!(svc.scheduler.as_str(), "mh");
}

#[test]
fn the_request_is_get_service_with_no_attributes() {
    let mut m = GenlMessage::from_payload(ServiceDump::Request);
    m.finalize();
    let mut buf = vec![0; m.buffer_len()];
    m.emit(&mut buf);
    assert_eq!(
        buf,
        super::emit(&IpvsMessage::new(IpvsCmd::GetService, vec![]))
    );
    assert_eq!(buf, GET_SERVICE_DUMP);
}

/// An attribute: header, value, padding.
fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut out = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize((out.len() + 3) & !3, 0);
    out
}

/// A value of `len` bytes from a number likely to mean something (a
/// family, a protocol, 0, a counter).
fn value() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![0u64, 1, 2, 6, 10, 17, 50, 132, 0xffff_ffff, u64::MAX]),
        prop::sample::select(vec![0usize, 1, 2, 3, 4, 6, 8, 12, 16, 17]),
    )
        .prop_map(|(n, len)| {
            let mut v = n.to_ne_bytes().to_vec();
            v.resize(len, 0);
            v
        })
}

/// A stats nest of counters of any width and kind.
fn stats_nest() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0u16..13, value()), 0..12)
        .prop_map(|attrs| attrs.iter().flat_map(|(k, v)| nla(*k, v)).collect())
}

/// One service attribute: any kind, a likely value, a name, or a nest.
fn svc_attr() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u16..14, value()).prop_map(|(k, v)| nla(k, &v)),
        (
            prop::sample::select(vec![6u16, 11]),
            prop::sample::select(vec![
                &b"rr\0"[..],
                b"wlc\0",
                b"",
                b"\0",
                b"sip\0",
                b"a b\0",
                b"\xff\0"
            ]),
        )
            .prop_map(|(k, v)| nla(k, v)),
        (prop::sample::select(vec![10u16, 12]), stats_nest()).prop_map(|(k, v)| nla(k, &v)),
    ]
}

proptest! {
    /// Attribute soups: each kind at every likely width, repeated,
    /// missing, in any order.
    #[test]
    fn service_nests_decode_as_the_full_parse_has_them(
        attrs in prop::collection::vec(svc_attr(), 0..16),
        cmd in prop::sample::select(vec![1u8, 4, 5, 15]),
        trailing in prop::option::of((0u16..8, value())),
    ) {
        let nest: Vec<u8> = attrs.concat();
        let mut payload = nla(1, &nest);
        if let Some((k, v)) = trailing {
            payload.extend(nla(k, &v));
        }
        let _ = same(cmd, &payload);
    }

    /// Captures with bytes flipped and cut: the nest and attribute headers
    /// break too.
    #[test]
    fn mutated_replies_decode_as_the_full_parse_has_them(
        which in 0usize..4,
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let base = [SERVICE_REPLY_TCP_STATS, SERVICE_REPLY_UDP6, SERVICE_REPLY_FWMARK,
            SERVICE_REPLY_SCTP][which];
        let mut bytes = base.to_vec();
        for (at, b) in flips { let n = bytes.len(); bytes[at % n] = b; }
        bytes.truncate(4 + cut % (bytes.len() - 3));
        let _ = same(bytes[0], &bytes[4..]);
    }

    /// The in-place walk yields what `NlasIterator` does, errors included.
    #[test]
    fn raw_attributes_are_the_iterators(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let ours: Vec<_> = raw_nlas(&bytes)
            .map(|n| n.map(|n| (n.kind, n.value.to_vec(), n.bytes.len())).map_err(|e| e.to_string()))
            .collect();
        let theirs: Vec<_> = NlasIterator::new(&bytes[..])
            .map(|n| n.map(|n| (n.kind(), n.value().to_vec(), n.length() as usize)).map_err(|e| e.to_string()))
            .collect();
        prop_assert_eq!(ours, theirs);
    }
}
