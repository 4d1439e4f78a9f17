//! rtnetlink replies as `kipvs-link` reads them: one whole netlink message
//! decoded by netlink-packet-route (the crate the transport hands replies
//! to), then kipvs's own reading of an `RTM_NEWLINK` ([`Link`]) or
//! `RTM_NEWADDR` ([`Address`]).
//!
//! Input: one netlink message, header included, as the golden-byte tests
//! hold them (the type decides link or address).
#![no_main]

use kipvs_link::__fuzz as conv;
use libfuzzer_sys::fuzz_target;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(data) else {
        return;
    };
    let NetlinkPayload::InnerMessage(inner) = msg.payload else {
        return;
    };
    if let Some(link) = conv::link(inner.clone()) {
        // A name the kernel reports is kept as is; it must still print.
        let _ = link.name.to_string();
        let _ = link.is_dummy();
    }
    if let Some((_, address)) = conv::address(inner) {
        let max = if address.ip.is_ipv4() { 32 } else { 128 };
        assert!(address.prefix_len <= max, "{address:?}");
        let printed = address.to_string();
        assert_eq!(
            printed
                .parse::<kipvs_link::Address>()
                .expect("printed address"),
            address
        );
        let _ = address.check_bindable();
    }
});
