//! Native subcommands, one module per area. Each exposes a clap
//! `Command` (flattened into the top level) with `run(&Global) -> Result<i32>`.

pub mod cleanup;
pub mod doctor;
pub mod ipset;
pub mod ipvs;
mod ipvs_args;
pub mod link;
pub mod sync;
