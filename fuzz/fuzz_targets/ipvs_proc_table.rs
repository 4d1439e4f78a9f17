//! The `/proc/net/ip_vs` parser behind `Ipvs::table_brief`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(described) = kipvs_ipvs::__fuzz::proc_table(text) {
        // Each service it describes had a line of its own (not a real
        // server's, not one of the three heading lines).
        let services = text
            .lines()
            .skip(3)
            .filter(|l| !l.starts_with("  -> "))
            .count();
        assert!(described <= services, "{described} > {services}");
    }
});
