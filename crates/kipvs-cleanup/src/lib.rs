//! Clean-up of stale kube-proxy state.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
