//! The scaling design of the store (schema version 2): in-place upgrade from version 1, group
//! commit with per-write errors, the allocation cursor, paging over gaps, readers that do not wait
//! for the writer.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use smartag_service::store::{
    CreateUserError, InstanceLimits, NewUser, OverLimit, SCHEMA_VERSION, Store, UserRecord, WriterStats,
};

mod store_fixtures;
use store_fixtures::{HASH, REGION, demo, user, with_ip};

/// Version 1 of the schema, as the previous build created it.
const V1_SCHEMA: &str = "CREATE TABLE users (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
        region               TEXT    NOT NULL,
        instance_id          TEXT    NOT NULL,
        user_name            TEXT    NOT NULL,
        user_mail            TEXT    NOT NULL,
        bandwidth            INTEGER NOT NULL,
        password_hash        TEXT    NOT NULL,
        client_ip            TEXT    NOT NULL,
        is_static_ip         INTEGER NOT NULL CHECK (is_static_ip IN (0, 1)),
        state                INTEGER NOT NULL DEFAULT 0,
        accelerate_bandwidth INTEGER NOT NULL DEFAULT 0,
        created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (region, instance_id, user_name),
        UNIQUE (region, instance_id, client_ip)
    ) STRICT;
    CREATE INDEX users_by_mail ON users (region, instance_id, user_mail);
    PRAGMA user_version = 1;";

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.db");
    (dir, path)
}

fn instance(id: &str, cidr: &str, max_users: u32) -> InstanceLimits {
    store_fixtures::instance(id, Some(cidr), max_users)
}

fn ip_of(store: &Store, user: NewUser) -> String {
    let name = user.user_name.clone();
    store.create_user(user).unwrap_or_else(|e| panic!("create {name}: {e}")).client_ip
}

fn names(users: &[UserRecord]) -> Vec<&str> {
    users.iter().map(|u| u.user_name.as_str()).collect()
}

fn raw(path: &Path) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(path).expect("raw open");
    connection.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    connection
}

#[test]
fn a_version_1_database_upgrades_in_place() {
    let (_dir, path) = temp();
    {
        let connection = raw(&path);
        connection.execute_batch(V1_SCHEMA).expect("v1 schema");
        let rows = [
            ("sag-demo", "alice", "alice@example.com", 10, "10.10.0.2", 0),
            ("sag-other", "alice", "a@other.example", 11, "10.10.0.2", 0),
            ("sag-demo", "bob", "shared@example.com", 12, "10.10.0.9", 1),
            ("sag-demo", "carol", "shared@example.com", 13, "10.10.0.3", 0),
        ];
        for (instance_id, name, mail, bandwidth, ip, is_static) in rows {
            connection
                .execute(
                    "INSERT INTO users (region, instance_id, user_name, user_mail, bandwidth, password_hash, \
                     client_ip, is_static_ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    rusqlite::params![REGION, instance_id, name, mail, bandwidth, HASH, ip, is_static],
                )
                .expect("v1 insert");
        }
    }

    let store = Store::open(&path).expect("open upgrades");
    let version: i64 = raw(&path).query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
    assert_eq!(version, SCHEMA_VERSION);

    let (total, users) = store.list_users(REGION, "sag-demo", None, None, 1, 10).expect("list");
    assert_eq!((total, names(&users)), (3, vec!["alice", "bob", "carol"]), "data and creation order kept");
    assert_eq!(
        users[1],
        UserRecord {
            user_name: "bob".into(),
            user_mail: "shared@example.com".into(),
            bandwidth: 12,
            client_ip: "10.10.0.9".into(),
            is_static_ip: true,
            state: 0,
            accelerate_bandwidth: 0,
        }
    );
    let (total, page) = store.list_users(REGION, "sag-demo", None, None, 2, 2).expect("page 2");
    assert_eq!((total, names(&page)), (3, vec!["carol"]));
    let (total, by_mail) = store.list_users(REGION, "sag-demo", None, Some("shared@example.com"), 1, 10).expect("mail");
    assert_eq!((total, names(&by_mail)), (2, vec!["bob", "carol"]));
    assert_eq!(store.list_users(REGION, "sag-other", None, None, 1, 10).expect("other").0, 1);

    // The upgraded database keeps its guarantees: names, addresses, quota.
    assert!(matches!(store.create_user(user("alice", &demo())), Err(CreateUserError::UserExist { .. })));
    assert!(matches!(
        store.create_user(with_ip(user("dave", &demo()), "10.10.0.9")),
        Err(CreateUserError::IpInvalid(_))
    ));
    assert_eq!(ip_of(&store, user("dave", &demo())), "10.10.0.4", "lowest free address after the stored ones");
    let full = instance("sag-demo", "10.10.0.0/24", 4);
    assert!(matches!(
        store.create_user(user("erin", &full)),
        Err(CreateUserError::UserOverLimit { reason: OverLimit::MaxUsers { .. }, .. })
    ));
    let modified = store.modify_user(REGION, "sag-demo", "carol", 99, None).expect("modify");
    assert_eq!((modified.bandwidth, modified.client_ip.as_str()), (99, "10.10.0.3"));
    drop(store);
    let check: String = raw(&path).query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity");
    assert_eq!(check, "ok");
}

#[test]
fn one_failing_write_of_a_batch_fails_alone() {
    let (_dir, path) = temp();
    let store = Store::open(&path).expect("open");
    let three = instance("sag-three", "10.10.0.0/24", 3);
    let results = store
        .create_users(vec![
            user("u1", &three),
            user("u1", &three),
            with_ip(user("u2", &three), "10.10.0.2"),
            user("u2", &three),
            user("u3", &three),
            user("u4", &three),
        ])
        .expect("batch");
    let summary: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(u) => format!("{} {}", u.user_name, u.client_ip),
            Err(CreateUserError::UserExist { .. }) => "exists".into(),
            Err(CreateUserError::IpInvalid(_)) => "ip".into(),
            Err(CreateUserError::UserOverLimit { .. }) => "over".into(),
            Err(e) => format!("{e}"),
        })
        .collect();
    assert_eq!(summary, ["u1 10.10.0.2", "exists", "ip", "u2 10.10.0.3", "u3 10.10.0.4", "over"]);
    let (total, users) = store.list_users(REGION, "sag-three", None, None, 1, 10).expect("list");
    assert_eq!((total, names(&users)), (3, vec!["u1", "u2", "u3"]), "the failed writes left nothing behind");
}

#[test]
fn allocation_skips_static_addresses_ahead_of_the_cursor() {
    let (_dir, path) = temp();
    let store = Store::open(&path).expect("open");
    for (name, ip) in [("s2", "10.10.0.2"), ("s3", "10.10.0.3"), ("s5", "10.10.0.5"), ("s8", "10.10.0.8")] {
        ip_of(&store, with_ip(user(name, &demo()), ip));
    }
    let allocated: Vec<String> = ["a", "b", "c", "d"].iter().map(|n| ip_of(&store, user(n, &demo()))).collect();
    assert_eq!(allocated, ["10.10.0.4", "10.10.0.6", "10.10.0.7", "10.10.0.9"]);
    ip_of(&store, with_ip(user("s10", &demo()), "10.10.0.10"));
    assert_eq!(ip_of(&store, user("e", &demo())), "10.10.0.11");
}

#[test]
fn allocation_follows_freed_addresses_and_block_changes() {
    let (_dir, path) = temp();
    let store = Store::open(&path).expect("open");
    for name in ["a", "b", "c"] {
        ip_of(&store, user(name, &demo()));
    }
    // Deleted by hand (the API cannot): the address is free again and is the lowest.
    raw(&path).execute("DELETE FROM users WHERE user_name = 'b'", []).expect("delete");
    assert_eq!(ip_of(&store, user("d", &demo())), "10.10.0.3");
    assert_eq!(ip_of(&store, user("e", &demo())), "10.10.0.5");
    // The instance's block changed in the configuration: allocation starts from the new block.
    let moved = instance("sag-demo", "10.20.0.0/24", 100);
    assert_eq!(ip_of(&store, user("f", &moved)), "10.20.0.2");
    assert_eq!(ip_of(&store, user("g", &moved)), "10.20.0.3");
    // And back: the old block's addresses are still taken.
    assert_eq!(ip_of(&store, user("h", &demo())), "10.10.0.6");
}

#[test]
fn exhausted_block_stays_exhausted_and_reopens_when_freed() {
    let (_dir, path) = temp();
    let store = Store::open(&path).expect("open");
    let tiny = instance("sag-tiny", "10.10.0.0/30", 100);
    assert_eq!(ip_of(&store, user("only", &tiny)), "10.10.0.2");
    for name in ["x", "y"] {
        let error = store.create_user(user(name, &tiny)).expect_err("exhausted");
        assert!(matches!(error, CreateUserError::UserOverLimit { reason: OverLimit::AddressesExhausted { .. }, .. }));
    }
    raw(&path).execute("DELETE FROM users WHERE user_name = 'only'", []).expect("delete");
    assert_eq!(ip_of(&store, user("again", &tiny)), "10.10.0.2");
}

#[test]
fn paging_stays_right_when_rows_are_deleted_by_hand() {
    let (_dir, path) = temp();
    let store = Store::open(&path).expect("open");
    let created: Vec<String> = (0..12).map(|i| format!("user{i:02}")).collect();
    for name in &created {
        ip_of(&store, user(name, &demo()));
    }
    raw(&path).execute("DELETE FROM users WHERE user_name IN ('user01', 'user05')", []).expect("delete");
    let expected: Vec<&str> =
        created.iter().map(String::as_str).filter(|n| !matches!(*n, "user01" | "user05")).collect();
    let mut seen = Vec::new();
    for page in 1..=4 {
        let (total, users) = store.list_users(REGION, "sag-demo", None, None, page, 3).expect("page");
        assert_eq!(total, 10);
        seen.extend(users.into_iter().map(|u| u.user_name));
    }
    assert_eq!(seen, expected);
    // New users are numbered after the last one and listed last.
    ip_of(&store, user("late", &demo()));
    let (total, users) = store.list_users(REGION, "sag-demo", None, None, 4, 3).expect("last page");
    assert_eq!((total, names(&users)), (11, vec!["user11", "late"]));
}

#[test]
fn reads_do_not_wait_for_a_blocked_write() {
    let (_dir, path) = temp();
    let store = Store::open(&path).expect("open");
    ip_of(&store, user("before", &demo()));
    // Another connection holds the write lock: the store's writer waits for it.
    let holder = raw(&path);
    holder.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");
    let writer = {
        let store = store.clone();
        thread::spawn(move || store.create_user(user("during", &demo())))
    };
    // Give the write a moment to reach the writer (if it has not, the test is only weaker).
    thread::sleep(Duration::from_millis(200));
    // The read answers while the write is blocked; were reads behind the writer, it would wait
    // for the busy timeout, the write would fail with "database is locked" and so would this test.
    let (total, users) = store.list_users(REGION, "sag-demo", None, None, 1, 10).expect("read during the write");
    assert_eq!((total, names(&users)), (1, vec!["before"]));
    holder.execute_batch("COMMIT").expect("release the write lock");
    let during = writer.join().expect("writer thread").expect("the blocked write succeeds once the lock is free");
    assert_eq!(during.client_ip, "10.10.0.3");
    assert_eq!(store.list_users(REGION, "sag-demo", None, None, 1, 10).expect("after").0, 2);
}

#[test]
fn waiting_writes_are_committed_together() {
    let (_dir, path) = temp();
    let store = Store::open(&path).expect("open");
    // Another connection holds the write lock, so the writes pile up behind the first one.
    let holder = raw(&path);
    holder.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");
    let writers: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            thread::spawn(move || {
                if i % 4 == 3 {
                    store.modify_user(REGION, "sag-demo", "nobody", 5, None).map(|_| ()).map_err(|e| e.to_string())
                } else {
                    store.create_user(user(&format!("group{i:02}"), &demo())).map(|_| ()).map_err(|e| e.to_string())
                }
            })
        })
        .collect();
    // Wait (without a deadline) until every write has been handed to the writer.
    while store.writer_stats().submitted < 16 {
        thread::yield_now();
    }
    holder.execute_batch("COMMIT").expect("release the write lock");
    let results: Vec<_> = writers.into_iter().map(|w| w.join().expect("writer thread")).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 12, "{results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.contains("no user named")), "{results:?}");
    let stats = store.writer_stats();
    // The first write may have been taken alone; all the others wait together for the next commit.
    assert!(stats.transactions <= 2, "{stats:?}");
    assert_eq!(stats, WriterStats { submitted: 16, committed: 16, transactions: stats.transactions });
    let (total, users) = store.list_users(REGION, "sag-demo", None, None, 1, 100).expect("list");
    assert_eq!(total, 12);
    let mut ips: Vec<_> = users.iter().map(|u| u.client_ip.clone()).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 12, "no address twice");
}
