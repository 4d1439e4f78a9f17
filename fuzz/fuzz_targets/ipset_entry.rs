//! ipset's element text (`Entry::parse` for every set type and family, and
//! `Entry::parse_options`), as `ipset add`/`del`/`test` and restore files
//! give it.
//!
//! Round trips: printing a parsed element and parsing it again is stable;
//! its request attributes decode to the same element.
//!
//! Input: one byte picking the set type, one the family, then the text of
//! a line after `add SETNAME` (element, then options; `"..."` is one word,
//! as in a restore file).
#![no_main]

use kipvs_ipset::{__fuzz as conv, entry_attrs, Entry, Family, SetType};
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
    let used = match entry.parse_options(options) {
        Ok(n) => n,
        Err(_) => return,
    };
    assert!(used <= options.len());

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
