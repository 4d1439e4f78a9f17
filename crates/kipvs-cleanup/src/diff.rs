//! Unified diffs of a text from which lines are only removed, which is all
//! a clean-up plan does.

use std::{collections::BTreeSet, fmt::Write};

/// Lines of context around each change, as `diff -u` uses.
const CONTEXT: usize = 3;

/// Appends to `out` the unified diff that removes the lines of `text` whose
/// 0-based indices are in `removed`.
pub(crate) fn unified(
    out: &mut String,
    from: &str,
    to: &str,
    text: &[&str],
    removed: &BTreeSet<usize>,
) {
    if removed.is_empty() {
        return;
    }
    let _ = writeln!(out, "--- {from}");
    let _ = writeln!(out, "+++ {to}");
    // Group removed lines into hunks whose context windows touch.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &i in removed {
        let lo = i.saturating_sub(CONTEXT);
        let hi = (i + CONTEXT + 1).min(text.len());
        match hunks.last_mut() {
            Some((_, end)) if lo <= *end => *end = hi,
            _ => hunks.push((lo, hi)),
        }
    }
    // Lines removed before a hunk shift its start in the new text.
    let mut removed_before = 0;
    let mut seen = removed.iter().peekable();
    for (lo, hi) in hunks {
        while seen.next_if(|&&i| i < lo).is_some() {
            removed_before += 1;
        }
        let gone = removed.range(lo..hi).count();
        let old_len = hi - lo;
        let new_len = old_len - gone;
        let new_start = if new_len == 0 {
            lo - removed_before
        } else {
            lo - removed_before + 1
        };
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            range(lo + 1, old_len),
            range(new_start, new_len)
        );
        for (i, line) in text.iter().enumerate().take(hi).skip(lo) {
            let mark = if removed.contains(&i) { '-' } else { ' ' };
            let _ = writeln!(out, "{mark}{line}");
        }
    }
}

fn range(start: usize, len: usize) -> String {
    if len == 1 {
        start.to_string()
    } else {
        format!("{start},{len}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(text: &[&str], removed: &[usize]) -> String {
        let mut out = String::new();
        unified(&mut out, "a", "b", text, &removed.iter().copied().collect());
        out
    }

    #[test]
    fn hunks_like_diff_u() {
        let text: Vec<String> = (1..=12).map(|i| format!("l{i}")).collect();
        let text: Vec<&str> = text.iter().map(String::as_str).collect();
        // Compare with: diff -u (seq-based file) after deleting l2 and l11.
        assert_eq!(
            diff(&text, &[1, 10]),
            "--- a\n+++ b\n@@ -1,5 +1,4 @@\n l1\n-l2\n l3\n l4\n l5\n@@ -8,5 +7,4 @@\n l8\n l9\n l10\n-l11\n l12\n"
        );
        assert_eq!(diff(&text, &[]), "");
        assert_eq!(diff(&["x"], &[0]), "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n");
    }
}
