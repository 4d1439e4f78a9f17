//! The text forms `kipvs-link` accepts from users: `Address` (`IP` or
//! `IP/PREFIX`) and `IfName`, each printed and parsed back.
#![no_main]

use kipvs_link::{Address, IfName};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(address) = text.parse::<Address>() {
        let printed = address.to_string();
        assert_eq!(
            printed.parse::<Address>().expect("printed address"),
            address
        );
        let _ = address.check_bindable();
        let _ = address.is_host();
    }
    if let Ok(name) = IfName::new(text) {
        assert_eq!(name.as_str(), text);
        assert_eq!(IfName::new(name.to_string()).expect("printed name"), name);
    }
});
