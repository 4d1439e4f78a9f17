//! The transport's `NLMSG_ERROR` / `NLMSG_DONE` payload decoder.
//!
//! Input: two bytes of `nlmsg_flags` (native order), one byte whose low bit
//! says `NLMSG_ERROR` (else `NLMSG_DONE`), then the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [f0, f1, kind, payload @ ..] = data else {
        return;
    };
    let flags = u16::from_ne_bytes([*f0, *f1]);
    let is_error = kind & 1 == 1;
    if let Ok((code, error)) = kipvs_netlink::__fuzz::parse_error(flags, payload, is_error) {
        // The errno is the code's magnitude, never a negative number.
        assert_eq!(error.errno, code.saturating_neg());
        if let Some(echo) = &error.request {
            assert!(echo.len() <= payload.len());
        }
        // What the user sees must format without panicking.
        let _ = error.to_string();
        let _ = kipvs_netlink::Error::Kernel(error).to_string();
    }
});
