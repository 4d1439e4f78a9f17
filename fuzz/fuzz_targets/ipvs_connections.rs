//! The `/proc/net/ip_vs_conn` parser (`kipvs_ipvs::parse_connections`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rows) = kipvs_ipvs::parse_connections(text) {
        // Every row is one non-blank line that is not the heading.
        let lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("Pro "))
            .count();
        assert_eq!(rows.len(), lines);
    }
});
