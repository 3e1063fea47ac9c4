//! The store port's behaviour, one set of test functions run against both stores: SQLite (a
//! temporary file) and PostgreSQL (a fresh database on the test server: `postgres-harness`).

use std::collections::HashSet;

use smartag_service::addressing::IpRejection;
use smartag_service::store::postgres::PgStore;
use smartag_service::store::{
    AnyStore, CreateUserError, ModifyUserError, NewUser, OverLimit, Store, StoreError, UserChange, UserQuery,
    UserRecord, UserStore,
};

mod store_fixtures;

use store_fixtures::{REGION, demo, instance, user, with_ip};

/// A SQLite store in a temporary folder (kept alive by the guard).
fn sqlite() -> (tempfile::TempDir, AnyStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("users.db")).expect("open store");
    (dir, store.into())
}

/// A PostgreSQL store on a fresh database.
async fn postgres() -> AnyStore {
    let url = tokio::task::spawn_blocking(|| postgres_harness::fresh_database("store_port"))
        .await
        .expect("harness task")
        .expect("a fresh PostgreSQL database (install the postgresql package)");
    PgStore::connect(&url).await.expect("connect").into()
}

/// Generates, for each test function, one `#[tokio::test]` per store.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (_dir, store) = super::sqlite();
                    super::$name(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = super::postgres().await;
                    super::$name(&store).await;
                }
            )*
        }
    };
}

on_both_stores!(
    create_modify_list,
    modify_unknown_user_is_not_found,
    duplicate_user_name_is_user_exist,
    quota_is_user_over_limit,
    exhausted_block_is_user_over_limit,
    no_cidr_is_cidr_empty,
    allocation_is_sequential_and_skips_static_addresses,
    invalid_static_addresses_are_ip_invalid,
    checks_run_in_the_documented_order,
    paging_and_filters_report_the_total,
    bulk_creates_answer_each_user,
    admin_listings_probe_and_reset,
    concurrent_creates_of_one_name_succeed_once,
);

async fn create(store: &AnyStore, user: NewUser) -> UserRecord {
    let name = user.user_name.clone();
    store.create_user(user).await.unwrap_or_else(|e| panic!("create {name}: {e}"))
}

fn change(region: &str, instance_id: &str, name: &str, bandwidth: i64, mail: Option<&str>) -> UserChange {
    UserChange {
        region: region.into(),
        instance_id: instance_id.into(),
        user_name: name.into(),
        bandwidth,
        user_mail: mail.map(str::to_owned),
    }
}

fn query(instance_id: &str, name: Option<&str>, mail: Option<&str>, page: i64, size: i64) -> UserQuery {
    UserQuery {
        region: REGION.into(),
        instance_id: instance_id.into(),
        user_name: name.map(str::to_owned),
        user_mail: mail.map(str::to_owned),
        page_number: page,
        page_size: size,
    }
}

async fn list_all(store: &AnyStore, instance_id: &str) -> Vec<UserRecord> {
    let (total, users) = store.list_users(query(instance_id, None, None, 1, 1000)).await.expect("list");
    assert_eq!(usize::try_from(total).expect("total"), users.len());
    users
}

async fn create_modify_list(store: &AnyStore) {
    let alice = create(store, user("alice", &demo())).await;
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
    assert_eq!(list_all(store, "sag-demo").await, vec![alice.clone()]);
    let modified =
        store.modify_user(change(REGION, "sag-demo", "alice", 1500, Some("alice@corp.example"))).await.expect("modify");
    assert_eq!((modified.bandwidth, modified.user_mail.as_str()), (1500, "alice@corp.example"));
    assert_eq!(modified.client_ip, alice.client_ip);
    let modified = store.modify_user(change(REGION, "sag-demo", "alice", 30, None)).await.expect("modify, no mail");
    assert_eq!((modified.bandwidth, modified.user_mail.as_str()), (30, "alice@corp.example"));
    assert_eq!(list_all(store, "sag-demo").await, vec![modified]);
}

async fn modify_unknown_user_is_not_found(store: &AnyStore) {
    create(store, user("alice", &demo())).await;
    for (region, instance_id, name) in
        [(REGION, "sag-demo", "bob"), ("cn-hangzhou", "sag-demo", "alice"), (REGION, "sag-other", "alice")]
    {
        let error = store.modify_user(change(region, instance_id, name, 10, None)).await.expect_err("not found");
        assert!(
            matches!(&error, ModifyUserError::NotFound { region: r, instance_id: i, user_name: n }
                if r == region && i == instance_id && n == name),
            "{error:?}"
        );
    }
    assert_eq!(list_all(store, "sag-demo").await[0].bandwidth, 20, "nothing changed");
}

async fn duplicate_user_name_is_user_exist(store: &AnyStore) {
    create(store, user("alice", &demo())).await;
    let error = store.create_user(user("alice", &demo())).await.expect_err("duplicate");
    assert!(matches!(&error, CreateUserError::UserExist { user_name, .. } if user_name == "alice"), "{error:?}");
    create(store, user("alice", &instance("sag-other", Some("10.10.0.0/24"), 5))).await;
    let mut elsewhere = user("alice", &demo());
    elsewhere.region = "cn-hangzhou".into();
    create(store, elsewhere).await;
    assert_eq!(list_all(store, "sag-demo").await.len(), 1);
}

async fn quota_is_user_over_limit(store: &AnyStore) {
    let small = instance("sag-small", Some("10.10.0.0/24"), 3);
    for name in ["u1", "u2", "u3"] {
        create(store, user(name, &small)).await;
    }
    let error = store.create_user(user("u4", &small)).await.expect_err("over quota");
    assert!(
        matches!(error, CreateUserError::UserOverLimit { reason: OverLimit::MaxUsers { max_users: 3 }, .. }),
        "{error:?}"
    );
    create(store, user("u4", &demo())).await;
}

async fn exhausted_block_is_user_over_limit(store: &AnyStore) {
    let tiny = instance("sag-tiny", Some("10.10.0.0/29"), 100);
    let mut ips = Vec::new();
    for i in 0..5 {
        ips.push(create(store, user(&format!("u{i}"), &tiny)).await.client_ip);
    }
    assert_eq!(ips, ["10.10.0.2", "10.10.0.3", "10.10.0.4", "10.10.0.5", "10.10.0.6"]);
    let error = store.create_user(user("u5", &tiny)).await.expect_err("no address left");
    assert!(
        matches!(error, CreateUserError::UserOverLimit { reason: OverLimit::AddressesExhausted { .. }, .. }),
        "{error:?}"
    );
}

async fn no_cidr_is_cidr_empty(store: &AnyStore) {
    let error = store.create_user(user("alice", &instance("sag-nocidr", None, 100))).await.expect_err("no cidr");
    assert!(matches!(&error, CreateUserError::CidrEmpty { instance_id } if instance_id == "sag-nocidr"), "{error:?}");
    assert!(list_all(store, "sag-nocidr").await.is_empty());
}

async fn allocation_is_sequential_and_skips_static_addresses(store: &AnyStore) {
    let s = create(store, with_ip(user("static3", &demo()), "10.10.0.3")).await;
    assert_eq!((s.client_ip.as_str(), s.is_static_ip), ("10.10.0.3", true));
    create(store, with_ip(user("static5", &demo()), "10.10.0.5")).await;
    let mut allocated = Vec::new();
    for name in ["a", "b", "c", "d"] {
        allocated.push(create(store, user(name, &demo())).await.client_ip);
    }
    assert_eq!(allocated, ["10.10.0.2", "10.10.0.4", "10.10.0.6", "10.10.0.7"]);
    let users = list_all(store, "sag-demo").await;
    let ips: HashSet<_> = users.iter().map(|u| u.client_ip.clone()).collect();
    assert_eq!(ips.len(), users.len(), "no address twice");
    assert_eq!(users.iter().filter(|u| u.is_static_ip).count(), 2);
}

async fn invalid_static_addresses_are_ip_invalid(store: &AnyStore) {
    create(store, with_ip(user("taken", &demo()), "10.10.0.9")).await;
    let allocated = create(store, user("allocated", &demo())).await.client_ip;
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
        let error = store.create_user(with_ip(user("newcomer", &demo()), ip)).await.expect_err(ip);
        assert!(matches!(&error, CreateUserError::IpInvalid(r) if expected(r)), "{ip}: {error:?}");
    }
    let error = store.create_user(with_ip(user("newcomer", &demo()), &allocated)).await.expect_err("allocated");
    assert!(matches!(error, CreateUserError::IpInvalid(IpRejection::InUse { .. })), "{error:?}");
    create(store, with_ip(user("newcomer", &instance("sag-other", Some("10.10.0.0/24"), 5)), "10.10.0.9")).await;
    assert_eq!(list_all(store, "sag-demo").await.len(), 2);
}

async fn checks_run_in_the_documented_order(store: &AnyStore) {
    let one = instance("sag-one", Some("10.10.0.0/24"), 1);
    create(store, user("alice", &one)).await;
    let error = store.create_user(with_ip(user("alice", &one), "8.8.8.8")).await.expect_err("exists");
    assert!(matches!(error, CreateUserError::UserExist { .. }), "{error:?}");
    let error = store.create_user(with_ip(user("bob", &one), "8.8.8.8")).await.expect_err("quota");
    assert!(matches!(error, CreateUserError::UserOverLimit { .. }), "{error:?}");
    let mut nocidr = one.clone();
    nocidr.cidr = None;
    let error = store.create_user(user("alice", &nocidr)).await.expect_err("cidr");
    assert!(matches!(error, CreateUserError::CidrEmpty { .. }), "{error:?}");
}

async fn paging_and_filters_report_the_total(store: &AnyStore) {
    let mut created = Vec::new();
    for i in 0..25 {
        let mut u = user(&format!("user{i:02}"), &demo());
        u.user_mail = if i % 5 == 0 { "shared@example.com".into() } else { format!("u{i}@example.com") };
        created.push(create(store, u).await);
    }
    create(store, user("user00", &instance("sag-other", Some("10.10.0.0/24"), 5))).await;
    let mut seen = Vec::new();
    for (page, expected_len) in [(1, 10), (2, 10), (3, 5), (4, 0)] {
        let (total, users) = store.list_users(query("sag-demo", None, None, page, 10)).await.expect("page");
        assert_eq!(total, 25, "total before paging");
        assert_eq!(users.len(), expected_len, "page {page}");
        seen.extend(users);
    }
    assert_eq!(seen, created, "creation order, every user once");
    let by_name = store.list_users(query("sag-demo", Some("user07"), None, 1, 10)).await.expect("by name");
    assert_eq!(by_name, (1, vec![created[7].clone()]));
    let mail = Some("shared@example.com");
    let page = store.list_users(query("sag-demo", None, mail, 1, 2)).await.expect("mail");
    assert_eq!(page, (5, vec![created[0].clone(), created[5].clone()]));
    let page = store.list_users(query("sag-demo", None, mail, 3, 2)).await.expect("mail");
    assert_eq!(page, (5, vec![created[20].clone()]));
    let both = store.list_users(query("sag-demo", Some("user10"), mail, 1, 10)).await.expect("both");
    assert_eq!(both, (1, vec![created[10].clone()]));
    let none = store.list_users(query("sag-demo", Some("user11"), mail, 1, 10)).await.expect("none");
    assert_eq!(none, (0, vec![]));
    let unknown = store.list_users(query("sag-nowhere", None, None, 1, 10)).await.expect("unknown instance");
    assert_eq!(unknown, (0, vec![]));
    let far = store.list_users(query("sag-demo", None, None, i64::MAX, i64::MAX)).await.expect("far page");
    assert_eq!(far, (25, vec![]));
    for (page, size) in [(0, 10), (1, 0), (-1, 10)] {
        let error = store.list_users(query("sag-demo", None, None, page, size)).await.expect_err("bad page");
        assert!(matches!(error, StoreError::InvalidPage { .. }), "{error:?}");
    }
}

async fn bulk_creates_answer_each_user(store: &AnyStore) {
    let two = instance("sag-two", Some("10.10.0.0/24"), 2);
    let answers = store
        .create_users(vec![user("a", &two), user("a", &two), user("b", &two), user("c", &two)])
        .await
        .expect("bulk");
    assert_eq!(answers.len(), 4);
    assert_eq!(answers[0].as_ref().map(|u| u.client_ip.as_str()).ok(), Some("10.10.0.2"));
    assert!(matches!(answers[1], Err(CreateUserError::UserExist { .. })), "{:?}", answers[1]);
    assert_eq!(answers[2].as_ref().map(|u| u.client_ip.as_str()).ok(), Some("10.10.0.3"));
    assert!(matches!(answers[3], Err(CreateUserError::UserOverLimit { .. })), "{:?}", answers[3]);
    let names: Vec<_> = list_all(store, "sag-two").await.into_iter().map(|u| u.user_name).collect();
    assert_eq!(names, ["a", "b"]);
}

async fn admin_listings_probe_and_reset(store: &AnyStore) {
    assert!(store.is_empty().await.expect("empty?"));
    store.probe_write().await.expect("writable");
    create(store, user("alice", &demo())).await;
    create(store, user("bob", &demo())).await;
    create(store, user("carol", &instance("sag-other", Some("10.20.0.0/24"), 5))).await;
    assert!(!store.is_empty().await.expect("empty?"));
    let counts = store.user_counts().await.expect("counts");
    assert_eq!(counts, vec![(REGION.into(), "sag-demo".into(), 2), (REGION.into(), "sag-other".into(), 1)]);
    let all = store.all_users().await.expect("all");
    let names: Vec<_> = all.iter().map(|u| (u.instance_id.as_str(), u.user.user_name.as_str())).collect();
    assert_eq!(names, [("sag-demo", "alice"), ("sag-demo", "bob"), ("sag-other", "carol")]);
    store.probe_write().await.expect("still writable");
    assert_eq!(store.delete_all_users().await.expect("reset"), 3);
    assert!(store.is_empty().await.expect("empty?"));
    // The allocation starts again at the first client address.
    assert_eq!(create(store, user("dave", &demo())).await.client_ip, "10.10.0.2");
}

async fn concurrent_creates_of_one_name_succeed_once(store: &AnyStore) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.spawn(async move { store.create_user(user("racer", &demo())).await });
    }
    let (mut won, mut exist) = (0, 0);
    while let Some(answer) = tasks.join_next().await {
        match answer.expect("task") {
            Ok(_) => won += 1,
            Err(CreateUserError::UserExist { .. }) => exist += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((won, exist), (1, 15));
}
