//! `kipvs ipvsadm -R` on a restore file, up to the kernel: ipvsadm's line
//! splitter (`config_stream_read`, `kipvs_cli::ipvsadm::restore::next_line`)
//! and its command-line parser (ipvsadm 1.31's popt table and checks,
//! `kipvs_cli::ipvsadm::args::parse`), called through the CLI's library
//! target as `restore` calls them: one line at a time, lines of blanks
//! skipped.
//!
//! Host and service names go through NSS as ipvsadm's do, so run it in a
//! network namespace with no network (`unshare -n`) to keep DNS out of the
//! loop.
//!
//! Input: restore-file bytes (ipvsadm reads them with fscanf; they need
//! not be UTF-8).
#![no_main]

use kipvs_cli::ipvsadm::{args, restore};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `restore` hands next_line one line of standard input at a time.
    for line in data.split_inclusive(|&b| b == b'\n') {
        let mut pos = 0;
        let Some(words) = restore::next_line(line, &mut pos, "ipvsadm") else {
            continue;
        };
        assert!(
            pos <= line.len(),
            "read past the line: {pos} > {}",
            line.len()
        );
        assert_eq!(words[0], "ipvsadm", "argv[0] is the program");
        for w in &words[1..] {
            // fscanf's %s: a word is a run of non-blanks (it is empty only
            // when it starts with a NUL byte, where its C string ends), and
            // ipvsadm drops the word `ipvsadm` wherever it stands.
            assert!(
                !w.is_empty() || line.contains(&0),
                "an empty word in {words:?}"
            );
            assert!(!w.contains([' ', '\t', '\n', '\r']), "a blank inside {w:?}");
            assert_ne!(w, "ipvsadm", "the program's name kept in {words:?}");
        }
        if words.len() == 1 {
            continue;
        }
        match args::parse(words) {
            Ok(entry) => {
                let _ = format!("{entry:?}");
            }
            Err(exit) => {
                // A message ends the command; it is never silent, but for
                // ipvsadm's own crash (`-b ,`: a signal, negative here).
                assert!(
                    exit.code <= 0 || !exit.stderr.is_empty() || !exit.stdout.is_empty(),
                    "{exit:?}"
                );
            }
        }
    }
});
