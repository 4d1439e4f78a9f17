//! The `iptables-save` parser and writer of `kipvs-cleanup` (`Ruleset`),
//! the word splitter and quoting (`tokens`), and the clean-up planner run
//! on whatever parses.
//!
//! Round trips: a parsed dump writes back byte for byte and parses to the
//! same value; every quoted word splits back to itself; what a plan leaves
//! parses, and planning it again removes nothing more.
#![no_main]

use kipvs_cleanup::{
    save::{Line, Ruleset},
    tokens, Mode, Plan,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rs) = Ruleset::parse(text) else { return };
    let written = rs.to_string();
    assert_eq!(written, text);
    assert_eq!(Ruleset::parse(&written).expect("written dump parses"), rs);

    for table in rs.tables() {
        for line in &table.lines {
            let Line::Rule(rule) = line else { continue };
            let _ = (
                rule.spec(),
                rule.without_counters(),
                rule.target(),
                rule.comment(),
            );
            for token in &rule.args {
                let quoted = tokens::quote(&token.value);
                let split = tokens::split(&quoted).expect("a quoted word closes its quotes");
                assert_eq!(split.len(), 1, "{quoted:?}");
                assert_eq!(split[0].value, token.value, "{quoted:?}");
            }
        }
    }

    for modes in [
        &[Mode::Iptables][..],
        &[Mode::Ipvs],
        &[Mode::Iptables, Mode::Ipvs],
    ] {
        let plan = Plan::new(rs.clone(), modes);
        let _ = plan.diff("fuzz");
        for script in plan.restore_scripts() {
            let script = script.to_string();
            Ruleset::parse(&script)
                .unwrap_or_else(|e| panic!("restore script does not parse: {e}\n{script}"));
        }
        let after = plan.after();
        let after_text = after.to_string();
        let reparsed = Ruleset::parse(&after_text)
            .unwrap_or_else(|e| panic!("the planned result does not parse: {e}\n{after_text}"));
        assert!(
            Plan::new(reparsed, modes).is_empty(),
            "planning the result again removes more:\n{after_text}"
        );
    }
});
