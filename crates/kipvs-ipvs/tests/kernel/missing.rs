//! A kernel without IPVS (the host here; any machine without `ip_vs`
//! loaded) gets an error that says what to do.

use std::path::Path;

use kipvs_ipvs::{connections, Error, Ipvs};

#[test]
fn without_ipvs_the_error_says_to_load_the_module() {
    if !kipvs_testutil::private_netns() {
        return;
    }
    let has_ipvs = Path::new("/proc/net/ip_vs").exists();
    match Ipvs::new() {
        Ok(_) => assert!(has_ipvs, "IPVS answered without /proc/net/ip_vs"),
        Err(e) => {
            assert!(!has_ipvs, "{e}");
            assert!(
                matches!(&e, Error::FamilyNotFound { family } if family == "IPVS"),
                "{e:?}"
            );
            assert_eq!(
                e.to_string(),
                "IPVS is not available: load the ip_vs module"
            );
        }
    }
    match connections() {
        Ok(_) => assert!(has_ipvs),
        Err(e) => assert!(
            !has_ipvs && matches!(&e, Error::FamilyNotFound { family } if family == "IPVS"),
            "{e:?}"
        ),
    }
}
