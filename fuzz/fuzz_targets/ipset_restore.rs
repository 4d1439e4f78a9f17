//! `kipvs ipset restore`'s line reader (`kipvs_cli::ipset::restore::build_argv`,
//! ipset 7.17's `build_argv`: words split at blanks, `"` toggling a quoted
//! stretch anywhere in a word), on the lines of a restore file as
//! `restore::run` feeds it: leading blanks trimmed, blank lines and `#`
//! comments skipped. What the words then go to (set names, elements,
//! create options) is library code with targets of its own (`ipset_entry`,
//! `ipset_create`); the rest of a line's handling needs a kernel handle.
//!
//! Input: restore-file bytes (read as UTF-8, invalid bytes replaced, as
//! the command reads them).
#![no_main]

use kipvs_cli::ipset::{restore::build_argv, Fail};
use libfuzzer_sys::fuzz_target;

/// ipset's blanks (`build_argv`'s `isspace` cases).
const BLANKS: [char; 4] = [' ', '\t', '\r', '\n'];

/// `MAX_ARGS` of ipset, less the program name and the final NULL.
const MAX_WORDS: usize = 30;

/// A word as a restore line must spell it: quoted when it holds a blank.
fn spell(word: &str) -> String {
    if word.contains(BLANKS) {
        format!("\"{word}\"")
    } else {
        word.to_owned()
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = match build_argv(line) {
            Ok(words) => words,
            Err(Fail::Param(message)) => {
                // Refused lines (an open quote, too many words) say why.
                assert!(!message.is_empty(), "a silent refusal of {line:?}");
                continue;
            }
            Err(other) => panic!("{line:?}: not a parameter problem: {other:?}"),
        };
        assert!(
            words.len() <= MAX_WORDS,
            "{} words from {line:?}",
            words.len()
        );
        for w in &words {
            // Quotes only toggle quoting, and an empty word is no word.
            assert!(!w.is_empty(), "an empty word from {line:?}");
            assert!(!w.contains('"'), "a quote kept in {w:?} from {line:?}");
        }
        // Spelled back as a line and read again, the words are the same.
        let spelled: Vec<String> = words.iter().map(|w| spell(w)).collect();
        let again = format!("{}\n", spelled.join(" "));
        assert_eq!(
            build_argv(&again).ok(),
            Some(words),
            "{line:?} -> {again:?}"
        );
    }
});
