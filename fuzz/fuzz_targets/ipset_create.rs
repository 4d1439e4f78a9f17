//! ipset's names and create options: `SetName`, `SetType` and `Family`
//! (`FromStr`, and back through `Display`), `CreateOptions::parse` for
//! every type, the revision each option needs, and the header text of a
//! set made with them.
//!
//! Input: one byte picking the set type, then the text after
//! `create NAME TYPE`; its first word is also tried as a name, a type and
//! a family.
#![no_main]

use kipvs_ipset::{CreateOptions, Family, Set, SetName, SetType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [t, text @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let words: Vec<&str> = text.split_whitespace().collect();

    if let Some(first) = words.first() {
        if let Ok(name) = first.parse::<SetName>() {
            assert_eq!(
                name.to_string().parse::<SetName>().expect("printed name"),
                name
            );
            assert!(name.as_str().len() < kipvs_ipset::wire::IPSET_MAXNAMELEN);
        }
        if let Ok(set_type) = first.parse::<SetType>() {
            assert_eq!(
                set_type
                    .to_string()
                    .parse::<SetType>()
                    .expect("printed type"),
                set_type
            );
        }
        if let Ok(family) = first.parse::<Family>() {
            assert_eq!(
                family
                    .to_string()
                    .parse::<Family>()
                    .expect("printed family"),
                family
            );
        }
    }

    let set_type = SetType::ALL[usize::from(*t) % SetType::ALL.len()];
    for word in &words {
        let since = CreateOptions::min_revision(set_type, word);
        assert!(CreateOptions::check_revision(set_type, word, since).is_ok());
    }
    let Ok(options) = CreateOptions::parse(set_type, &words) else {
        return;
    };
    assert!(options.validate(set_type).is_ok());
    // The kernel's revision, from the type byte's high bits.
    let _ = options.check_revision_all(set_type, *t >> 4);
    options
        .check_revision_all(set_type, u8::MAX)
        .expect("the newest revision takes every option");
    let set = Set {
        name: SetName::new("fuzz").expect("short name"),
        set_type,
        revision: 0,
        family: options.family_for(set_type),
        options,
        memsize: 0,
        references: 0,
        elements: 0,
        entries: Vec::new(),
    };
    let _ = set.header_text();
    let _ = set.header_fields();
});
