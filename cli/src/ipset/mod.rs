//! The `ipset` front end (being written).

use std::ffi::OsString;

use crate::Global;

/// Runs as `ipset` with `args` (`args[0]` is the program name); returns the exit code.
pub fn main(_global: &Global, _args: Vec<OsString>) -> i32 {
    eprintln!("ipset: not built yet");
    2
}
