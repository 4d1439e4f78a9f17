//! Helpers for the integration tests.

use kipvs_testutil::{run, Output};

/// Runs the kipvs binary with `args` and `stdin`.
#[allow(dead_code)]
pub fn kipvs(args: &[&str], stdin: &str) -> Output {
    run(env!("CARGO_BIN_EXE_kipvs"), args, stdin)
}
