//! The kube-ipvs0 dummy interface and its addresses, over rtnetlink.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
