//! ipset over nfnetlink (subsystem 6).
#![deny(missing_docs)]
#![forbid(unsafe_code)]
