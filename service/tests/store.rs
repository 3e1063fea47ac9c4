//! The SQLite user store: create, modify, list, quotas, address allocation, durability and
//! concurrency.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::thread;

use smartag_service::addressing::IpRejection;
use smartag_service::store::{
    CreateUserError, ModifyUserError, NewUser, OverLimit, SCHEMA_VERSION, Store, StoreError, UserRecord,
};

mod store_fixtures;

use store_fixtures::{REGION, demo, instance, user, with_ip};

fn open() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.db");
    let store = Store::open(&path).expect("open store");
    (dir, path, store)
}

fn create(store: &Store, user: NewUser) -> UserRecord {
    let name = user.user_name.clone();
    store.create_user(user).unwrap_or_else(|e| panic!("create {name}: {e}"))
}

fn list_all(store: &Store, instance_id: &str) -> Vec<UserRecord> {
    let (total, users) = store.list_users(REGION, instance_id, None, None, 1, 1000).expect("list");
    assert_eq!(usize::try_from(total).expect("total"), users.len());
    users
}

#[test]
fn store_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Store>();
}

#[test]
fn create_modify_list() {
    let (_dir, _path, store) = open();
    let alice = create(&store, user("alice", &demo()));
    assert_eq!(
        alice,
        UserRecord {
            user_name: "alice".into(),
            user_mail: "alice@example.com".into(),
            bandwidth: 20,
            client_ip: "10.10.0.2".into(),
            is_static_ip: false,
            state: 0,
            accelerate_bandwidth: 0,
        }
    );
    assert_eq!(list_all(&store, "sag-demo"), vec![alice.clone()]);

    let modified = store.modify_user(REGION, "sag-demo", "alice", 1500, Some("alice@corp.example")).expect("modify");
    assert_eq!(modified.bandwidth, 1500);
    assert_eq!(modified.user_mail, "alice@corp.example");
    assert_eq!(modified.client_ip, alice.client_ip);

    let modified = store.modify_user(REGION, "sag-demo", "alice", 30, None).expect("modify without mail");
    assert_eq!(modified.bandwidth, 30);
    assert_eq!(modified.user_mail, "alice@corp.example", "no mail keeps the old one");
    assert_eq!(list_all(&store, "sag-demo"), vec![modified]);
}

#[test]
fn modify_unknown_user_is_not_found() {
    let (_dir, _path, store) = open();
    create(&store, user("alice", &demo()));
    for (region, instance_id, name) in
        [(REGION, "sag-demo", "bob"), ("cn-hangzhou", "sag-demo", "alice"), (REGION, "sag-other", "alice")]
    {
        let error = store.modify_user(region, instance_id, name, 10, None).expect_err("not found");
        assert!(
            matches!(&error, ModifyUserError::NotFound { region: r, instance_id: i, user_name: n }
                if r == region && i == instance_id && n == name),
            "{error:?}"
        );
    }
    assert_eq!(list_all(&store, "sag-demo")[0].bandwidth, 20, "nothing changed");
}

#[test]
fn duplicate_user_name_is_user_exist() {
    let (_dir, _path, store) = open();
    create(&store, user("alice", &demo()));
    let error = store.create_user(user("alice", &demo())).expect_err("duplicate");
    assert!(matches!(&error, CreateUserError::UserExist { user_name, .. } if user_name == "alice"), "{error:?}");
    // Names are per instance and per region.
    create(&store, user("alice", &instance("sag-other", Some("10.10.0.0/24"), 5)));
    let mut elsewhere = user("alice", &demo());
    elsewhere.region = "cn-hangzhou".into();
    create(&store, elsewhere);
    assert_eq!(list_all(&store, "sag-demo").len(), 1);
}

#[test]
fn quota_is_user_over_limit() {
    let (_dir, _path, store) = open();
    let small = instance("sag-small", Some("10.10.0.0/24"), 3);
    for name in ["u1", "u2", "u3"] {
        create(&store, user(name, &small));
    }
    let error = store.create_user(user("u4", &small)).expect_err("over quota");
    assert!(
        matches!(error, CreateUserError::UserOverLimit { reason: OverLimit::MaxUsers { max_users: 3 }, .. }),
        "{error:?}"
    );
    // The quota counts this instance only.
    create(&store, user("u4", &demo()));
}

#[test]
fn exhausted_block_is_user_over_limit() {
    let (_dir, _path, store) = open();
    // /29: .0 network, .1 gateway, .2-.6 clients, .7 broadcast.
    let tiny = instance("sag-tiny", Some("10.10.0.0/29"), 100);
    let ips: Vec<_> = (0..5).map(|i| create(&store, user(&format!("u{i}"), &tiny)).client_ip).collect();
    assert_eq!(ips, ["10.10.0.2", "10.10.0.3", "10.10.0.4", "10.10.0.5", "10.10.0.6"]);
    let error = store.create_user(user("u5", &tiny)).expect_err("no address left");
    assert!(
        matches!(error, CreateUserError::UserOverLimit { reason: OverLimit::AddressesExhausted { .. }, .. }),
        "{error:?}"
    );
}

#[test]
fn no_cidr_is_cidr_empty() {
    let (_dir, _path, store) = open();
    let nocidr = instance("sag-nocidr", None, 100);
    let error = store.create_user(user("alice", &nocidr)).expect_err("no cidr");
    assert!(matches!(&error, CreateUserError::CidrEmpty { instance_id } if instance_id == "sag-nocidr"), "{error:?}");
    assert!(list_all(&store, "sag-nocidr").is_empty());
}

#[test]
fn allocation_is_sequential_and_skips_static_addresses() {
    let (_dir, _path, store) = open();
    let s = create(&store, with_ip(user("static3", &demo()), "10.10.0.3"));
    assert_eq!((s.client_ip.as_str(), s.is_static_ip), ("10.10.0.3", true));
    create(&store, with_ip(user("static5", &demo()), "10.10.0.5"));
    let allocated: Vec<_> = ["a", "b", "c", "d"].iter().map(|n| create(&store, user(n, &demo())).client_ip).collect();
    assert_eq!(allocated, ["10.10.0.2", "10.10.0.4", "10.10.0.6", "10.10.0.7"]);

    let users = list_all(&store, "sag-demo");
    let ips: HashSet<_> = users.iter().map(|u| u.client_ip.clone()).collect();
    assert_eq!(ips.len(), users.len(), "no address twice");
    assert_eq!(users.iter().filter(|u| u.is_static_ip).count(), 2);
}

#[test]
fn invalid_static_addresses_are_ip_invalid() {
    let (_dir, _path, store) = open();
    create(&store, with_ip(user("taken", &demo()), "10.10.0.9"));
    let allocated = create(&store, user("allocated", &demo())).client_ip;
    assert_eq!(allocated, "10.10.0.2");

    type Expect = fn(&IpRejection) -> bool;
    let cases: [(&str, Expect); 6] = [
        ("10.10.1.9", |r| matches!(r, IpRejection::OutsideCidr { .. })),
        ("192.168.0.9", |r| matches!(r, IpRejection::OutsideCidr { .. })),
        ("10.10.0.0", |r| matches!(r, IpRejection::NetworkAddress { .. })),
        ("10.10.0.255", |r| matches!(r, IpRejection::BroadcastAddress { .. })),
        ("10.10.0.1", |r| matches!(r, IpRejection::GatewayAddress { .. })),
        ("10.10.0.9", |r| matches!(r, IpRejection::InUse { .. })),
    ];
    for (ip, expected) in cases {
        let error = store.create_user(with_ip(user("newcomer", &demo()), ip)).expect_err(ip);
        assert!(matches!(&error, CreateUserError::IpInvalid(r) if expected(r)), "{ip}: {error:?}");
    }
    // An allocated address is taken as well.
    let error = store.create_user(with_ip(user("newcomer", &demo()), &allocated)).expect_err("allocated");
    assert!(matches!(error, CreateUserError::IpInvalid(IpRejection::InUse { .. })), "{error:?}");
    // The same address is free on another instance.
    create(&store, with_ip(user("newcomer", &instance("sag-other", Some("10.10.0.0/24"), 5)), "10.10.0.9"));
    assert_eq!(list_all(&store, "sag-demo").len(), 2);
}

#[test]
fn checks_run_in_the_documented_order() {
    let (_dir, _path, store) = open();
    let one = instance("sag-one", Some("10.10.0.0/24"), 1);
    create(&store, user("alice", &one));
    // Existing name beats quota and a bad address.
    let error = store.create_user(with_ip(user("alice", &one), "8.8.8.8")).expect_err("exists");
    assert!(matches!(error, CreateUserError::UserExist { .. }), "{error:?}");
    // Quota beats a bad address.
    let error = store.create_user(with_ip(user("bob", &one), "8.8.8.8")).expect_err("quota");
    assert!(matches!(error, CreateUserError::UserOverLimit { .. }), "{error:?}");
    // No block beats everything.
    let mut nocidr = one.clone();
    nocidr.cidr = None;
    let error = store.create_user(user("alice", &nocidr)).expect_err("cidr");
    assert!(matches!(error, CreateUserError::CidrEmpty { .. }), "{error:?}");
}

#[test]
fn paging_and_filters_report_the_total() {
    let (_dir, _path, store) = open();
    let mut created = Vec::new();
    for i in 0..25 {
        let mut u = user(&format!("user{i:02}"), &demo());
        u.user_mail = if i % 5 == 0 { "shared@example.com".into() } else { format!("u{i}@example.com") };
        created.push(create(&store, u));
    }
    // Another instance's users never show up.
    create(&store, user("user00", &instance("sag-other", Some("10.10.0.0/24"), 5)));

    let mut seen = Vec::new();
    for (page, expected_len) in [(1, 10), (2, 10), (3, 5), (4, 0)] {
        let (total, users) = store.list_users(REGION, "sag-demo", None, None, page, 10).expect("page");
        assert_eq!(total, 25, "total before paging");
        assert_eq!(users.len(), expected_len, "page {page}");
        seen.extend(users);
    }
    assert_eq!(seen, created, "creation order, every user once");

    let (total, users) = store.list_users(REGION, "sag-demo", Some("user07"), None, 1, 10).expect("by name");
    assert_eq!((total, users), (1, vec![created[7].clone()]));

    let (total, users) = store.list_users(REGION, "sag-demo", None, Some("shared@example.com"), 1, 2).expect("mail");
    assert_eq!(total, 5);
    assert_eq!(users, vec![created[0].clone(), created[5].clone()]);
    let (total, users) = store.list_users(REGION, "sag-demo", None, Some("shared@example.com"), 3, 2).expect("mail");
    assert_eq!((total, users), (5, vec![created[20].clone()]));

    let both = store.list_users(REGION, "sag-demo", Some("user10"), Some("shared@example.com"), 1, 10).expect("both");
    assert_eq!(both, (1, vec![created[10].clone()]));
    let none = store.list_users(REGION, "sag-demo", Some("user11"), Some("shared@example.com"), 1, 10).expect("none");
    assert_eq!(none, (0, vec![]));
    let unknown = store.list_users(REGION, "sag-nowhere", None, None, 1, 10).expect("unknown instance");
    assert_eq!(unknown, (0, vec![]));

    let far = store.list_users(REGION, "sag-demo", None, None, i64::MAX, i64::MAX).expect("far page");
    assert_eq!(far, (25, vec![]));
    for (page, size) in [(0, 10), (1, 0), (-1, 10)] {
        let error = store.list_users(REGION, "sag-demo", None, None, page, size).expect_err("bad page");
        assert!(matches!(error, StoreError::InvalidPage { .. }), "{error:?}");
    }
}

#[test]
fn data_survives_reopening() {
    let (_dir, path, store) = open();
    let alice = create(&store, user("alice", &demo()));
    let bob = create(&store, with_ip(user("bob", &demo()), "10.10.0.77"));
    drop(store);

    let store = Store::open(&path).expect("reopen");
    assert_eq!(list_all(&store, "sag-demo"), vec![alice, bob]);
    // Allocation continues from what is stored.
    assert_eq!(create(&store, user("carol", &demo())).client_ip, "10.10.0.3");
}

#[test]
fn database_settings_and_stored_hash() {
    let (_dir, path, store) = open();
    let hash = smartag_service::password::hash_password("Secret_pass1").expect("hash");
    let mut alice = user("alice", &demo());
    alice.password_hash = hash.clone();
    assert!(!format!("{alice:?}").contains(&hash), "hash redacted in Debug");
    create(&store, alice);

    let connection = rusqlite::Connection::open(&path).expect("raw open");
    let mode: String = connection.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal_mode");
    assert_eq!(mode, "wal");
    let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
    let stored: String = connection
        .query_row("SELECT password_hash FROM users WHERE user_name = 'alice'", [], |r| r.get(0))
        .expect("stored hash");
    assert_eq!(stored, hash);
    assert!(smartag_service::password::verify_password("Secret_pass1", &stored).expect("verify"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "database file mode");
    }
    drop(store);
}

#[test]
fn newer_schema_is_refused() {
    let (_dir, path, store) = open();
    drop(store);
    let connection = rusqlite::Connection::open(&path).expect("raw open");
    connection.pragma_update(None, "user_version", 99).expect("set version");
    drop(connection);
    let error = Store::open(&path).expect_err("newer schema");
    assert!(matches!(error, StoreError::SchemaVersion { found: 99, .. }), "{error:?}");
}

#[test]
fn unopenable_path_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing-dir").join("users.db");
    let error = Store::open(&path).expect_err("no parent folder");
    assert!(error.to_string().contains(&Path::new("missing-dir").display().to_string()), "{error}");
}

#[test]
fn concurrent_creates_of_one_name_succeed_once() {
    let (_dir, _path, store) = open();
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                store.create_user(user("same", &demo()))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, CreateUserError::UserExist { .. })));
    assert_eq!(list_all(&store, "sag-demo").len(), 1);
}

/// 50 threads against a quota of 20, through `handles` connections to one file.
fn race_for_quota(handles: usize) {
    let (_dir, path, store) = open();
    let stores: Vec<Store> =
        (0..handles).map(|i| if i == 0 { store.clone() } else { Store::open(&path).expect("open") }).collect();
    let limited = instance("sag-race", Some("10.10.0.0/24"), 20);
    let barrier = Arc::new(Barrier::new(50));
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let store = stores[i % handles].clone();
            let (barrier, limited) = (barrier.clone(), limited.clone());
            thread::spawn(move || {
                barrier.wait();
                store.create_user(user(&format!("racer{i}"), &limited))
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    let created: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(created.len(), 20);
    for error in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(error, CreateUserError::UserOverLimit { reason: OverLimit::MaxUsers { max_users: 20 }, .. }),
            "{error:?}"
        );
    }
    let ips: HashSet<Ipv4Addr> = created.iter().map(|u| u.client_ip.parse().expect("ip")).collect();
    assert_eq!(ips.len(), 20, "20 distinct addresses");
    let expected: HashSet<Ipv4Addr> = (2..22).map(|host| Ipv4Addr::new(10, 10, 0, host)).collect();
    assert_eq!(ips, expected, "the 20 lowest client addresses");
    assert_eq!(list_all(&store, "sag-race").len(), 20);
}

#[test]
fn concurrent_creates_respect_the_quota() {
    race_for_quota(1);
}

#[test]
fn concurrent_creates_through_several_connections_respect_the_quota() {
    race_for_quota(4);
}
