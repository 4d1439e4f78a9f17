//! ipset's element text (`Entry::parse` for every set type and family,
//! `Entry::parse_options` and, per command, `Entry::parse_options_checked`),
//! as `ipset add`/`del`/`test` and restore files give it; the revision
//! check of the options; protocol names.
//!
//! Round trips: printing a parsed element and parsing it again is stable;
//! its request attributes decode to the same element; a checked parse that
//! succeeds agrees with the unchecked one; a protocol's printed name looks
//! up its number.
//!
//! Input: one byte picking the set type (and the set's revision), one the
//! family (`% 3`) and the command (`/ 3 % 3`), then the text of a line
//! after `add SETNAME` (element, then options; `"..."` is one word, as in a
//! restore file).
#![no_main]

use kipvs_ipset::{__fuzz as conv, entry_attrs, proto, Entry, Family, Op, Part, SetType};
use libfuzzer_sys::fuzz_target;

/// Words as `ipset restore` splits a line: blanks separate, `"..."` is one
/// word without its quotes.
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            out.push(&quoted[..end]);
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [t, f, text @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let set_type = SetType::ALL[usize::from(*t) % SetType::ALL.len()];
    let family = [Family::Inet, Family::Inet6, Family::Unspec][usize::from(*f) % 3];
    let words = words(text);
    let Some((elem, options)) = words.split_first() else {
        return;
    };
    let Ok(mut entry) = Entry::parse(set_type, family, elem) else {
        return;
    };
    let op = [Op::Add, Op::Del, Op::Test][usize::from(*f / 3) % 3];
    let mut checked = entry.clone();
    let checked_ok = checked.parse_options_checked(set_type, op, options);
    let used = match entry.parse_options(options) {
        Ok(n) => n,
        Err(_) => return,
    };
    assert!(used <= options.len());
    // The checked parse takes every word or fails, and then reads them as
    // the unchecked one does.
    if let Ok(n) = checked_ok {
        assert_eq!(n, options.len());
        assert_eq!(used, n);
        assert_eq!(checked, entry);
    }
    let _ = entry.check_revision(set_type, *t);
    entry
        .check_revision(set_type, u8::MAX)
        .expect("the newest revision takes every option");

    for part in &entry.parts {
        if let Part::Port(p) = part {
            if let Some(number) = p.proto {
                let name = proto::proto_name(number);
                assert_eq!(proto::proto_by_name(&name), Some(number), "{name}");
                let (typ, code) = ((p.port >> 8) as u8, p.port as u8);
                if let Some(icmp) = proto::icmp_name(number, typ, code) {
                    assert_eq!(proto::icmp_by_name(number, icmp), Some((typ, code)));
                }
            }
        }
    }

    // Printing then parsing the element is stable after one pass (a prefix
    // as long as the family's is printed without it).
    let printed = entry.elem_text(set_type);
    let reparsed = Entry::parse(set_type, family, &printed)
        .unwrap_or_else(|e| panic!("{entry:?} prints {printed:?}, which does not parse: {e}"));
    let printed2 = reparsed.elem_text(set_type);
    assert_eq!(printed2, printed);
    let again = Entry::parse(set_type, family, &printed2).expect("parsed once");
    assert_eq!(again, reparsed);

    // The options print as words that parse back to the same options.
    let fields = entry.option_fields();
    let mut option_words: Vec<String> = Vec::new();
    for (k, v) in &fields {
        option_words.push((*k).to_owned());
        if let Some(v) = v {
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            option_words.push(v.to_owned());
        }
    }
    let refs: Vec<&str> = option_words.iter().map(String::as_str).collect();
    let mut with_options = reparsed.clone();
    assert_eq!(
        with_options
            .parse_options(&refs)
            .expect("printed options parse"),
        refs.len()
    );
    assert_eq!(with_options.option_fields(), fields);
    let _ = entry.display(set_type);

    // The request attributes of the element decode back to it, as a
    // listing of the set would show it.
    let listed = conv::entry(set_type, &entry_attrs(&entry));
    let relisted = conv::entry(set_type, &entry_attrs(&listed));
    assert_eq!(relisted, listed);
});
