//! Counting test results: libtest's `test result:` lines (test binaries,
//! doc tests) and nextest's `Summary` line.

use std::{fmt, ops::AddAssign};

/// Test counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed (or a binary that died without a result line).
    pub failed: u64,
    /// Tests not run: `#[ignore]`d (libtest) or skipped (nextest).
    pub ignored: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.ignored += o.ignored;
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)?;
        if self.ignored > 0 {
            write!(f, ", {} ignored", self.ignored)?;
        }
        Ok(())
    }
}

/// Parses libtest's summary line:
/// `test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 2 filtered out; finished in 0.01s`.
pub fn libtest_result(line: &str) -> Option<Counts> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let (_, rest) = rest.split_once(". ")?;
    let mut counts = Counts::default();
    for part in rest.split(';') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        match what {
            "passed" => counts.passed = n,
            "failed" => counts.failed = n,
            "ignored" => counts.ignored = n,
            _ => {}
        }
    }
    Some(counts)
}

/// The name of a failed test from libtest's `test NAME ... FAILED` line.
pub fn libtest_failure(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("test ")?;
    let name = rest.strip_suffix(" ... FAILED")?;
    Some(name)
}

/// Parses nextest's final line:
/// `Summary [ 1.234s] 12 tests run: 10 passed, 1 failed, 1 timed out, 3 skipped`.
pub fn nextest_summary(line: &str) -> Option<Counts> {
    let line = line.trim();
    if !line.starts_with("Summary [") {
        return None;
    }
    let (_, rest) = line.split_once("run:")?;
    let mut counts = Counts::default();
    for part in rest.split(',') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        match what {
            "passed" => counts.passed += n,
            "failed" | "timed" => counts.failed += n,
            "skipped" => counts.ignored += n,
            _ => {}
        }
    }
    Some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_summary_line() {
        let c = libtest_result(
            "test result: FAILED. 5 passed; 2 failed; 1 ignored; 0 measured; 3 filtered out; finished in 0.01s",
        );
        assert_eq!(
            c,
            Some(Counts {
                passed: 5,
                failed: 2,
                ignored: 1
            })
        );
        assert_eq!(libtest_result("running 3 tests"), None);
    }

    #[test]
    fn libtest_failed_name() {
        assert_eq!(
            libtest_failure("test ipvs::add ... FAILED"),
            Some("ipvs::add")
        );
        assert_eq!(libtest_failure("test ipvs::add ... ok"), None);
    }

    #[test]
    fn nextest_summary_line() {
        let c = nextest_summary(
            "     Summary [   2.345s] 14 tests run: 11 passed, 1 failed, 2 timed out, 4 skipped",
        );
        assert_eq!(
            c,
            Some(Counts {
                passed: 11,
                failed: 3,
                ignored: 4
            })
        );
        let c = nextest_summary("     Summary [   0.021s] 5 tests run: 5 passed, 0 skipped");
        assert_eq!(
            c,
            Some(Counts {
                passed: 5,
                failed: 0,
                ignored: 0
            })
        );
    }

    #[test]
    fn display_is_the_summary_line() {
        let c = Counts {
            passed: 3,
            failed: 1,
            ignored: 0,
        };
        assert_eq!(c.to_string(), "3 passed, 1 failed");
        let c = Counts { ignored: 2, ..c };
        assert_eq!(c.to_string(), "3 passed, 1 failed, 2 ignored");
    }
}
