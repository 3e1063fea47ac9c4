//! Users and instances for the store tests (`store.rs` on SQLite, `store_port.rs` on both stores).
#![allow(dead_code)]

use smartag_service::store::{InstanceLimits, NewUser};

/// A syntactically valid PHC string; the store does not care what it hashes.
pub const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2cuG0vJ4Ck/qOVMQ5oJeTTyWRXAPzJ3FXq0pTIAbFhI";
pub const REGION: &str = "cn-shanghai";

pub fn instance(id: &str, cidr: Option<&str>, max_users: u32) -> InstanceLimits {
    InstanceLimits { id: id.to_owned(), cidr: cidr.map(|c| c.parse().expect("cidr")), max_users }
}

pub fn demo() -> InstanceLimits {
    instance("sag-demo", Some("10.10.0.0/24"), 100)
}

pub fn user(name: &str, instance: &InstanceLimits) -> NewUser {
    NewUser {
        region: REGION.to_owned(),
        instance: instance.clone(),
        user_name: name.to_owned(),
        user_mail: format!("{name}@example.com"),
        bandwidth: 20,
        password_hash: HASH.to_owned(),
        static_ip: None,
    }
}

pub fn with_ip(mut user: NewUser, ip: &str) -> NewUser {
    user.static_ip = Some(ip.parse().expect("ip"));
    user
}
