//! The modules behind the `kipvs` command, as a library so that the binary
//! (`cli/src/main.rs`) and the fuzz targets (`fuzz/`) compile the same code.
//!
//! This is not a published API: nothing outside this repository should
//! depend on it, its items change with the command line, and it has no
//! rustdoc (`doc = false` in the root manifest). The library for programs
//! is the `kipvs` crate.

// The front ends mirror ipvsadm's and ipset's C sources function by
// function, with many small public items that exist only to be shared
// between sibling modules; their documentation is the tools' own
// behaviour, which the integration tests compare byte for byte. They were
// binary-private until this library existed, so the workspace's
// `missing_docs` never applied to them. The crate root's own items stay
// under the lint.
#[allow(missing_docs)]
pub mod ipset;
#[allow(missing_docs)]
pub mod ipvsadm;
#[allow(missing_docs)]
pub mod native;

use kipvs::NetNs;

/// Options every native subcommand shares.
#[derive(Debug, Clone, Default)]
pub struct Global {
    /// The network namespace to work in.
    pub netns: NetNs,
    /// Print listings as JSON.
    pub json: bool,
}
