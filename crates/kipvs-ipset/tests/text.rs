//! The text decoders (elements, element options, create options, names,
//! protocols) never panic on any input, and the protocol tables read back
//! what they print.

use kipvs_ipset::{proto, CreateOptions, Entry, Family, Op, SetName, SetType};
use proptest::prelude::*;

/// Words drawn from ipset's vocabulary and from anywhere, so both the
/// option parsers' known paths and their refusals are reached.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "timeout",
            "packets",
            "bytes",
            "comment",
            "skbmark",
            "skbprio",
            "skbqueue",
            "nomatch",
            "wildcard",
            "before",
            "after",
            "family",
            "inet6",
            "-4",
            "hashsize",
            "maxelem",
            "netmask",
            "bitmask",
            "bucketsize",
            "initval",
            "markmask",
            "range",
            "size",
            "counters",
            "skbinfo",
            "forceadd",
            "0",
            "65536",
            "0x10/0xff",
            "1:2",
            "::1",
            "10.0.0.0/8",
            "0-100",
            "tcp:80",
            "icmp:echo",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

proptest! {
    #[test]
    fn elements_and_their_options_parse_without_panic(
        t in 0..SetType::ALL.len(),
        family in prop::sample::select(vec![Family::Inet, Family::Inet6, Family::Unspec]),
        element in "\\PC{0,40}",
        words in prop::collection::vec(word(), 0..8),
    ) {
        let set_type = SetType::ALL[t];
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut entry = Entry::parse(set_type, family, &element).unwrap_or_default();
        for op in [Op::Add, Op::Del, Op::Test] {
            let _ = entry.clone().parse_options_checked(set_type, op, &words);
        }
        if let Ok(n) = entry.parse_options(&words) {
            prop_assert!(n <= words.len());
        }
        let _ = entry.display(set_type);
        for revision in [0, 1, 4, u8::MAX] {
            let _ = entry.check_revision(set_type, revision);
        }
    }

    #[test]
    fn create_options_and_names_parse_without_panic(
        t in 0..SetType::ALL.len(),
        words in prop::collection::vec(word(), 0..10),
        text in "\\PC{0,40}",
    ) {
        let set_type = SetType::ALL[t];
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if let Ok(o) = CreateOptions::parse(set_type, &words) {
            prop_assert!(o.check_revision_all(set_type, u8::MAX).is_ok());
        }
        let _ = text.parse::<SetName>();
        let _ = text.parse::<SetType>();
        let _ = text.parse::<Family>();
        let _ = proto::proto_by_name(&text);
        let _ = proto::service_port(&text, "tcp");
        for p in [1, 6, 58] {
            let _ = proto::icmp_by_name(p, &text);
        }
    }
}

#[test]
fn protocol_names_read_back() {
    for number in 0..=u8::MAX {
        let name = proto::proto_name(number);
        assert_eq!(proto::proto_by_name(&name), Some(number), "{name}");
        for p in [1, 58] {
            for code in 0..=u8::MAX {
                if let Some(icmp) = proto::icmp_name(p, number, code) {
                    assert_eq!(proto::icmp_by_name(p, icmp), Some((number, code)), "{icmp}");
                }
            }
        }
    }
}
