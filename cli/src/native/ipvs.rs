//! Native subcommands (being written).

use crate::Global;

/// Subcommands of this area.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

impl Command {
    /// Runs the subcommand; returns the exit code.
    pub fn run(self, _global: &Global) -> anyhow::Result<i32> {
        match self {}
    }
}
