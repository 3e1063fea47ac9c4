//! The PostgreSQL store as replicas use it: several independent stores (each with its own pool,
//! as separate processes would have) on one database, the shared replay cache, migrations of
//! replicas starting together, the database going away and coming back, and the service on it.

use std::collections::HashSet;
use std::time::Duration;

use alibaba_rpc_runtime::server::NonceOutcome;
use postgres_harness::PgCluster;
use smartag_client::{
    Client, CreateSmartAccessGatewayClientUserRequest, Credentials, DescribeSmartAccessGatewayClientUsersRequest,
    ModifySmartAccessGatewayClientUserRequest,
};
use smartag_service::local::LocalService;
use smartag_service::store::postgres::{PgOptions, PgStore, SCHEMA_VERSION};
use smartag_service::store::{CreateUserError, InstanceLimits, NewUser, StoreError, UserQuery, UserStore};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2cuG0vJ4Ck/qOVMQ5oJeTTyWRXAPzJ3FXq0pTIAbFhI";
const REGION: &str = "cn-shanghai";
/// A bound on anything that could hang: the test fails instead of waiting forever.
const HANG_GUARD: Duration = Duration::from_secs(120);

async fn fresh_database(name: &'static str) -> String {
    tokio::task::spawn_blocking(move || postgres_harness::fresh_database(name))
        .await
        .expect("harness task")
        .expect("a fresh PostgreSQL database (install the postgresql package)")
}

fn new_user(name: &str, instance: &InstanceLimits, ip: Option<&str>) -> NewUser {
    NewUser {
        region: REGION.to_owned(),
        instance: instance.clone(),
        user_name: name.to_owned(),
        user_mail: format!("{name}@example.com"),
        bandwidth: 20,
        password_hash: HASH.to_owned(),
        static_ip: ip.map(|ip| ip.parse().expect("ip")),
    }
}

fn instance(id: &str, cidr: &str, max_users: u32) -> InstanceLimits {
    InstanceLimits { id: id.to_owned(), cidr: Some(cidr.parse().expect("cidr")), max_users }
}

fn all_of(instance_id: &str) -> UserQuery {
    UserQuery {
        region: REGION.into(),
        instance_id: instance_id.into(),
        user_name: None,
        user_mail: None,
        page_number: 1,
        page_size: 10_000,
    }
}

/// Hundreds of concurrent Creates for overlapping usernames spread over two replicas: exactly
/// one winner per name, the quota never exceeded, no address twice (allocated or static).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_keep_every_invariant_under_concurrent_creates() {
    let url = fresh_database("replicas").await;
    // Generous waits: 360 creates queue for 32 connections on a busy 2-core machine; what is
    // checked here is the invariants, not the latency (the fault tests check the bounds).
    let patient = PgOptions { wait_timeout: HANG_GUARD, call_timeout: HANG_GUARD, ..PgOptions::default() };
    let replicas = [
        PgStore::connect_with(&url, patient.clone()).await.expect("replica a"),
        PgStore::connect_with(&url, patient).await.expect("replica b"),
    ];
    let crowded = instance("sag-crowded", "10.10.0.0/24", 80);
    let statics = instance("sag-static", "10.20.0.0/24", 100);
    let mut tasks = tokio::task::JoinSet::new();
    // 100 names, each tried 3 times, alternating replicas: 300 creates for 80 places.
    for attempt in 0..300usize {
        let store = replicas[attempt % 2].clone();
        let user = new_user(&format!("user{:03}", attempt % 100), &crowded, None);
        tasks.spawn(async move { ("crowded", store.create_user(user).await) });
    }
    // 60 creates of distinct names asking for 6 static addresses.
    for attempt in 0..60usize {
        let store = replicas[attempt % 2].clone();
        let ip = format!("10.20.0.{}", 10 + attempt % 6);
        let user = new_user(&format!("static{attempt:03}"), &statics, Some(&ip));
        tasks.spawn(async move { ("static", store.create_user(user).await) });
    }
    let (mut crowded_won, mut static_won) = (Vec::new(), Vec::new());
    let guard = tokio::time::timeout(HANG_GUARD, async {
        while let Some(joined) = tasks.join_next().await {
            match joined.expect("task") {
                ("crowded", Ok(user)) => crowded_won.push(user),
                ("static", Ok(user)) => static_won.push(user),
                (_, Err(CreateUserError::UserExist { .. } | CreateUserError::UserOverLimit { .. })) => {}
                ("static", Err(CreateUserError::IpInvalid(_))) => {}
                (kind, other) => panic!("{kind}: unexpected {other:?}"),
            }
        }
    })
    .await;
    guard.expect("the creates finished (hang guard)");
    assert_eq!(crowded_won.len(), 80, "the quota is filled exactly");
    let names: HashSet<_> = crowded_won.iter().map(|u| u.user_name.clone()).collect();
    assert_eq!(names.len(), 80, "one winner per name");
    let ips: HashSet<_> = crowded_won.iter().map(|u| u.client_ip.clone()).collect();
    assert_eq!(ips.len(), 80, "no address twice");
    assert_eq!(static_won.len(), 6, "each static address won once");
    let ips: HashSet<_> = static_won.iter().map(|u| u.client_ip.clone()).collect();
    assert_eq!(ips.len(), 6);
    // Both replicas read the same thing, and the count kept in the database agrees.
    for replica in &replicas {
        let (total, users) = replica.list_users(all_of("sag-crowded")).await.expect("list");
        assert_eq!((total, users.len()), (80, 80));
        let listed: HashSet<_> = users.iter().map(|u| u.user_name.clone()).collect();
        assert_eq!(listed, names);
    }
    let counts = replicas[1].user_counts().await.expect("counts");
    assert!(counts.contains(&(REGION.into(), "sag-crowded".into(), 80)), "{counts:?}");
    // Every create was answered after a commit, and the waiting ones shared transactions.
    for replica in &replicas {
        let stats = replica.writer_stats();
        assert_eq!((stats.submitted, stats.committed), (180, 180), "{stats:?}");
        assert!(stats.transactions < stats.committed, "no create was grouped: {stats:?}");
    }
}

/// Creates into one instance that wait at the same time are committed together, each answered
/// as if alone: refusals (a name taken within the same batch, the quota reached) touch no other
/// create of the batch, addresses are handed out in order, and a lone create is a batch of one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_creates_share_one_commit_and_are_answered_one_by_one() {
    let url = fresh_database("group_commit").await;
    let store = PgStore::connect(&url).await.expect("connect");
    let small = instance("sag-small", "10.30.0.0/24", 30);
    let lone = store.create_user(new_user("lone-user", &small, None)).await.expect("a lone create");
    assert_eq!(lone.client_ip, "10.30.0.2");
    assert_eq!(store.writer_stats().transactions, 1);

    // Another session holds the instance's lock, so the first batch waits on it and every other
    // create queues behind that batch: the grouping does not depend on timing.
    let (mut holder, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("a session");
    tokio::spawn(connection);
    let lock = holder.transaction().await.expect("begin");
    lock.execute("SELECT 1 FROM instances WHERE region = $1 AND instance_id = $2 FOR UPDATE", &[&REGION, &"sag-small"])
        .await
        .expect("the instance's lock");
    let mut tasks = tokio::task::JoinSet::new();
    // 40 creates for 29 places left, every tenth name sent twice.
    for i in 0..40usize {
        let store = store.clone();
        let name = format!("member{:02}", if i % 10 == 9 { i - 1 } else { i });
        let user = new_user(&name, &small, None);
        tasks.spawn(async move { store.create_user(user).await });
    }
    tokio::time::timeout(HANG_GUARD, async {
        while store.writer_stats().submitted < 41 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("every create queued");
    lock.commit().await.expect("the lock released");
    let mut won = Vec::new();
    let mut refused = 0;
    while let Some(joined) = tokio::time::timeout(HANG_GUARD, tasks.join_next()).await.expect("hang guard") {
        match joined.expect("task") {
            Ok(user) => won.push(user),
            Err(CreateUserError::UserExist { .. } | CreateUserError::UserOverLimit { .. }) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((won.len(), refused), (29, 11));
    let mut ips: Vec<u8> =
        won.iter().map(|u| u.client_ip.rsplit('.').next().and_then(|d| d.parse().ok()).expect("an IPv4")).collect();
    ips.sort_unstable();
    assert_eq!(ips, (3..32).collect::<Vec<u8>>(), "the lowest free addresses, each once");
    let stats = store.writer_stats();
    assert_eq!((stats.submitted, stats.committed), (41, 41), "{stats:?}");
    // The lone create, the batch that waited for the lock, and the rest of the 40 (at most 64 a batch).
    assert!(stats.transactions <= 3, "the waiting creates shared commits: {stats:?}");
    let (total, _) = store.list_users(all_of("sag-small")).await.expect("list");
    assert_eq!(total, 30);
}

/// One batch over two instances, each locked once with its counters kept in memory: allocated and
/// static addresses interleave in queue order, a name taken earlier in the same batch and an
/// exhausted block are refused without touching the others, and each instance's row (sequence,
/// allocation cursor, count) is written back as one Create at a time would have left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_over_two_instances_leaves_each_as_single_creates_would() {
    let url = fresh_database("batch_instances").await;
    let store = PgStore::connect(&url).await.expect("connect");
    // Client addresses .2 to .6 (.1 is the gateway).
    let tiny = instance("sag-tiny", "10.40.0.0/29", 10);
    let wide = instance("sag-wide", "10.41.0.0/24", 10);
    for (name, limits) in [("tiny-first", &tiny), ("wide-first", &wide)] {
        let first = store.create_user(new_user(name, limits, None)).await.expect("a first create");
        assert!(first.client_ip.ends_with(".2"), "{first:?}");
    }
    let (mut holder, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("a session");
    tokio::spawn(connection);
    let lock = holder.transaction().await.expect("begin");
    lock.execute("SELECT 1 FROM instances WHERE region = $1 FOR UPDATE", &[&REGION]).await.expect("the locks");
    // Queued one at a time (each is handed to the writer before the next is sent), so the
    // batches keep this order while the first of them waits for the locks.
    let queue: [(&str, &InstanceLimits, Option<&str>); 10] = [
        ("wide-a", &wide, None),
        ("tiny-a", &tiny, None),
        ("wide-b", &wide, None),
        ("tiny-b", &tiny, Some("10.40.0.4")),
        ("tiny-c", &tiny, None),
        ("tiny-c", &tiny, None),
        ("wide-c", &wide, Some("10.41.0.3")),
        ("tiny-d", &tiny, None),
        ("tiny-e", &tiny, None),
        ("wide-d", &wide, None),
    ];
    let mut tasks = Vec::new();
    for (index, (name, limits, ip)) in queue.into_iter().enumerate() {
        let (store_for_task, user) = (store.clone(), new_user(name, limits, ip));
        tasks.push(tokio::spawn(async move { store_for_task.create_user(user).await }));
        tokio::time::timeout(HANG_GUARD, async {
            while store.writer_stats().submitted < 3 + index as u64 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await
        .expect("queued");
    }
    lock.commit().await.expect("the locks released");
    let mut answers = Vec::new();
    for task in tasks {
        let answer = tokio::time::timeout(HANG_GUARD, task).await.expect("hang guard").expect("task");
        answers.push(match answer {
            Ok(user) => format!("{} {}", user.user_name, user.client_ip),
            Err(CreateUserError::UserExist { user_name, .. }) => format!("{user_name} exists"),
            Err(CreateUserError::UserOverLimit { .. }) => "over limit".to_owned(),
            Err(CreateUserError::IpInvalid(rejection)) => format!("ip invalid: {rejection:?}"),
            Err(other) => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        answers,
        [
            "wide-a 10.41.0.3",
            "tiny-a 10.40.0.3",
            "wide-b 10.41.0.4",
            "tiny-b 10.40.0.4",
            "tiny-c 10.40.0.5",
            "tiny-c exists",
            "ip invalid: InUse { ip: 10.41.0.3 }",
            "tiny-d 10.40.0.6",
            "over limit",
            "wide-d 10.41.0.5",
        ]
    );
    let stats = store.writer_stats();
    assert_eq!((stats.submitted, stats.committed), (12, 12), "{stats:?}");
    // The two first creates, then one or two batches: the writer may take "wide-a" alone into
    // the transaction that waits for the locks, or with some of the next.
    assert!((3..=4).contains(&stats.transactions), "{stats:?}");
    // The instances' rows as single creates would have left them.
    let rows = holder
        .query("SELECT instance_id, user_count, next_seq, alloc_floor FROM instances ORDER BY instance_id", &[])
        .await
        .expect("the instances");
    let rows: Vec<(String, i64, i64, Option<i64>)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    let ip = |text: &str| i64::from(u32::from(text.parse::<std::net::Ipv4Addr>().expect("ip")));
    assert_eq!(
        rows,
        [("sag-tiny".to_owned(), 5, 6, Some(ip("10.40.0.7"))), ("sag-wide".to_owned(), 4, 5, Some(ip("10.41.0.6"))),]
    );
    // And the next creates go on from there, in another store as in another replica.
    let other = PgStore::connect(&url).await.expect("connect again");
    assert!(matches!(
        other.create_user(new_user("tiny-f", &tiny, None)).await,
        Err(CreateUserError::UserOverLimit { .. })
    ));
    let next = other.create_user(new_user("wide-e", &wide, None)).await.expect("wide-e");
    assert_eq!(next.client_ip, "10.41.0.6");
    let (total, users) = other.list_users(all_of("sag-tiny")).await.expect("list");
    assert_eq!((total, users.len()), (5, 5));
}

/// The replay cache is shared: a nonce remembered through one replica is refused through the
/// other until it expires, then accepted again; of racing replicas exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nonce_used_at_one_replica_is_refused_at_the_other() {
    let url = fresh_database("nonces").await;
    let (a, b) = (PgStore::connect(&url).await.expect("a"), PgStore::connect(&url).await.expect("b"));
    let now = 1_800_000_000;
    assert_eq!(a.remember_nonce("key-1", "n-1", now + 900, now).await.expect("a"), NonceOutcome::Fresh);
    assert_eq!(b.remember_nonce("key-1", "n-1", now + 900, now + 10).await.expect("b"), NonceOutcome::Used);
    assert_eq!(a.remember_nonce("key-1", "n-1", now + 900, now + 899).await.expect("a"), NonceOutcome::Used);
    // Another key's nonce of the same text is another nonce.
    assert_eq!(b.remember_nonce("key-2", "n-1", now + 900, now).await.expect("b"), NonceOutcome::Fresh);
    // Expired: accepted again (and remembered anew).
    let later = now + 900;
    assert_eq!(b.remember_nonce("key-1", "n-1", later + 900, later).await.expect("b"), NonceOutcome::Fresh);
    assert_eq!(a.remember_nonce("key-1", "n-1", later + 900, later + 1).await.expect("a"), NonceOutcome::Used);

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move { store.remember_nonce("key-1", "racing", now + 900, now).await });
    }
    let mut fresh = 0;
    while let Some(joined) = tasks.join_next().await {
        if joined.expect("task").expect("remembered") == NonceOutcome::Fresh {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1, "exactly one replica accepts a raced nonce");
    // Expired entries are deleted.
    assert_eq!(a.purge_expired_nonces(later).await.expect("purge"), 2, "key-2/n-1 and racing are expired");
}

/// Replicas starting together migrate once; a database of a newer build is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once_and_newer_schemas_are_refused() {
    let url = fresh_database("migrations").await;
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let url = url.clone();
        starts.spawn(async move { PgStore::connect(&url).await.map(drop) });
    }
    while let Some(started) = starts.join_next().await {
        started.expect("task").expect("every replica starts");
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let versions: Vec<i64> = client
        .query("SELECT version FROM schema_migrations ORDER BY version", &[])
        .await
        .expect("versions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    client.execute("INSERT INTO schema_migrations (version) VALUES (99)", &[]).await.expect("a newer version");
    let refused = PgStore::connect(&url).await.expect_err("newer schema");
    assert!(matches!(refused, StoreError::PgSchemaVersion { found: 99, .. }), "{refused:?}");
    assert!(refused.to_string().contains("newer smartag-service"), "{refused}");
}

/// A password in the URL shows nowhere: not in `Debug`, not in a connection error.
#[tokio::test]
async fn the_url_password_never_shows() {
    let options = PgOptions { connect_timeout: Duration::from_millis(500), ..PgOptions::default() };
    // Nothing listens on port 1.
    let error = PgStore::connect_with("postgres://smartag:hunter2-secret@127.0.0.1:1/smartag", options)
        .await
        .expect_err("nothing listens there");
    assert!(error.is_unavailable(), "{error:?}");
    let text = format!("{error} {error:?}");
    assert!(!text.contains("hunter2-secret"), "{text}");
    let bad = PgStore::connect("postgres://smartag:hunter2-secret@127.0.0.1:5432/db?sslmode=bogus").await;
    let text = format!("{:?}", bad.expect_err("bad URL"));
    assert!(!text.contains("hunter2-secret") && text.contains("***"), "{text}");
}

/// While PostgreSQL is down, every call fails soon with `Unavailable`; once it is back the same
/// store works again by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_database_is_unavailable_and_the_store_recovers() {
    let mut cluster = tokio::task::spawn_blocking(PgCluster::start).await.expect("task").expect("own cluster");
    let url = cluster.create_database("faults").expect("database");
    let options = PgOptions {
        wait_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        call_timeout: Duration::from_secs(3),
        ..PgOptions::default()
    };
    let store = PgStore::connect_with(&url, options).await.expect("connect");
    let demo = instance("sag-demo", "10.10.0.0/24", 100);
    store.create_user(new_user("before", &demo, None)).await.expect("created before");

    let mut cluster =
        tokio::task::spawn_blocking(move || cluster.stop().map(|()| cluster)).await.expect("task").expect("stopped");
    let down = tokio::time::timeout(HANG_GUARD, async {
        let created = store.create_user(new_user("during", &demo, None)).await;
        assert!(matches!(&created, Err(CreateUserError::Store(e)) if e.is_unavailable()), "{created:?}");
        let listed = store.list_users(all_of("sag-demo")).await;
        assert!(matches!(&listed, Err(e) if e.is_unavailable()), "{listed:?}");
        let probed = store.probe_write().await;
        assert!(matches!(&probed, Err(e) if e.is_unavailable()), "{probed:?}");
    });
    down.await.expect("calls fail instead of hanging");

    cluster = tokio::task::spawn_blocking(move || cluster.start_again().map(|()| cluster))
        .await
        .expect("task")
        .expect("started again");
    let recovered = tokio::time::timeout(HANG_GUARD, async {
        loop {
            match store.create_user(new_user("after", &demo, None)).await {
                Ok(user) => return user,
                Err(CreateUserError::Store(e)) if e.is_unavailable() => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
    })
    .await
    .expect("the store recovers by itself");
    assert_eq!(recovered.client_ip, "10.10.0.3", "the write before the restart was kept");
    let (total, _) = store.list_users(all_of("sag-demo")).await.expect("list");
    assert_eq!(total, 2);
    drop(cluster);
}

/// `GET path` on the admin listener (plain HTTP/1.0): status and body.
async fn admin_get(service: &LocalService, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Ok(mut stream) = tokio::net::TcpStream::connect(service.admin_address()).await else {
        return (0, String::new());
    };
    let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

fn client(service: &LocalService) -> Client {
    let config = Client::config_builder()
        .region(REGION)
        .endpoint(service.endpoint())
        .credentials(Credentials::new(service.access_key_id(), service.access_key_secret()))
        .build()
        .expect("a client configuration");
    Client::new(config).expect("a client")
}

fn create(name: &str) -> CreateSmartAccessGatewayClientUserRequest {
    CreateSmartAccessGatewayClientUserRequest::builder()
        .region_id(REGION)
        .smart_ag_id("sag-demo")
        .user_mail(format!("{name}@example.com"))
        .bandwidth(200)
        .user_name(name)
        .password("Passw0rd-1")
        .build()
}

fn describe() -> DescribeSmartAccessGatewayClientUsersRequest {
    DescribeSmartAccessGatewayClientUsersRequest::builder().region_id(REGION).smart_ag_id("sag-demo").build()
}

/// The service with `database_url`: Create, Describe and Modify through the generated client, two
/// services on one database answering as one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_on_one_database_answer_as_one() {
    let url = fresh_database("service").await;
    let one = LocalService::builder().database_url(url.clone()).start().await.expect("first service");
    // The second one without TLS (`sslmode=disable`), the first with the default (`prefer`).
    let two = LocalService::builder().database_url(format!("{url}?sslmode=disable")).start().await.expect("second");
    let (c1, c2) = (client(&one), client(&two));

    let created = c1.create_smart_access_gateway_client_user(&create("alice01")).await.expect("created");
    assert_eq!(created.client_ip.as_deref(), Some("10.10.0.2"));
    let again = c2.create_smart_access_gateway_client_user(&create("alice01")).await.expect_err("exists");
    assert_eq!(again.api_error().map(|e| e.code.as_str()), Some("ClientUser.UserExist"));
    let bob = c2.create_smart_access_gateway_client_user(&create("bob00001")).await.expect("created");
    assert_eq!(bob.client_ip.as_deref(), Some("10.10.0.3"), "the next address, whichever replica");

    let modify = ModifySmartAccessGatewayClientUserRequest::builder()
        .region_id(REGION)
        .smart_ag_id("sag-demo")
        .user_name("alice01")
        .bandwidth(500)
        .build();
    let modified = c2.modify_smart_access_gateway_client_user(&modify).await.expect("modified");
    assert_eq!(modified.bandwidth, 500);
    for c in [&c1, &c2] {
        let page = c.describe_smart_access_gateway_client_users(&describe()).await.expect("described");
        assert_eq!(page.total_count, 2);
        let names: Vec<_> = page.users.iter().map(|u| (u.user_name.as_str(), u.bandwidth)).collect();
        assert_eq!(names, [("alice01", 500), ("bob00001", 200)]);
    }
    let (status, body) = admin_get(&one, "/_admin/health").await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!((body["store"].as_str(), body["users"].as_i64()), (Some("postgres"), Some(2)));
}

/// The service while its database is down: Create answers `ServiceUnavailable` (503, in the
/// API's envelope), the admin health check 503; after the restart both work again by themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_answers_503_while_the_database_is_down_and_recovers() {
    let mut cluster = tokio::task::spawn_blocking(PgCluster::start).await.expect("task").expect("own cluster");
    let url = cluster.create_database("service_faults").expect("database");
    let service = LocalService::builder().database_url(url).start().await.expect("service");
    let c = client(&service);
    c.create_smart_access_gateway_client_user(&create("before01")).await.expect("created");

    cluster =
        tokio::task::spawn_blocking(move || cluster.stop().map(|()| cluster)).await.expect("task").expect("stopped");
    let refused = tokio::time::timeout(HANG_GUARD, c.create_smart_access_gateway_client_user(&create("during01")))
        .await
        .expect("answered instead of hanging")
        .expect_err("database down");
    let api = refused.api_error().expect("an API error");
    assert_eq!((api.code.as_str(), api.status), ("ServiceUnavailable", 503), "{refused:?}");
    let (status, body) = admin_get(&service, "/_admin/health").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unavailable\""), "{body}");

    cluster = tokio::task::spawn_blocking(move || cluster.start_again().map(|()| cluster))
        .await
        .expect("task")
        .expect("started again");
    tokio::time::timeout(HANG_GUARD, async {
        while admin_get(&service, "/_admin/health").await.0 != 200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("healthy again by itself");
    let created = c.create_smart_access_gateway_client_user(&create("after001")).await.expect("created after");
    assert_eq!(created.client_ip.as_deref(), Some("10.10.0.3"));
    drop(service);
    drop(cluster);
}

/// Rows deleted by hand leave gaps in the sequence numbers: the listing still pages correctly
/// (the snapshot path) and the count kept by the trigger follows.
#[tokio::test]
async fn pages_stay_right_after_rows_are_deleted_by_hand() {
    let url = fresh_database("gaps").await;
    let store = PgStore::connect(&url).await.expect("connect");
    let demo = instance("sag-demo", "10.10.0.0/24", 100);
    for i in 0..6 {
        store.create_user(new_user(&format!("u{i}"), &demo, None)).await.expect("created");
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    client.execute("DELETE FROM users WHERE user_name IN ('u1', 'u4')", &[]).await.expect("deleted by hand");
    let mut seen = Vec::new();
    for page in 1..=3 {
        let query = UserQuery { page_number: page, page_size: 2, ..all_of("sag-demo") };
        let (total, users) = store.list_users(query).await.expect("page");
        assert_eq!(total, 4);
        seen.extend(users.into_iter().map(|u| u.user_name));
    }
    assert_eq!(seen, ["u0", "u2", "u3", "u5"]);
    // The freed address is handed out again (the trigger lowered the cursor).
    let next = store.create_user(new_user("u6", &demo, None)).await.expect("created");
    assert_eq!(next.client_ip, "10.10.0.3");
}

/// An import of thousands of users over two instances (several statements of column arrays):
/// the counts kept by the statement trigger, the pages, the sequence numbers and the next Create
/// all come out as if the users had been created one by one, and the planner's statistics are
/// fresh afterwards.
#[tokio::test]
async fn a_bulk_import_counts_pages_and_analyzes() {
    use smartag_service::store::transfer::ExportedUser;
    let url = fresh_database("bulk_import").await;
    let store = PgStore::connect(&url).await.expect("connect");
    let user = |instance_id: &str, i: u32| ExportedUser {
        region: REGION.to_owned(),
        instance_id: instance_id.to_owned(),
        user_name: format!("{instance_id}-u{i:05}"),
        user_mail: format!("u{i}@example.com"),
        bandwidth: 20,
        password_hash: HASH.to_owned(),
        client_ip: std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 20, 0, 1)) + i).to_string(),
        is_static_ip: false,
        state: 0,
        accelerate_bandwidth: 0,
    };
    // Interleaved, so each statement of the import holds users of both instances.
    let users: Vec<ExportedUser> = (0..1_300).flat_map(|i| [user("sag-a", i), user("sag-b", i)]).collect();
    assert_eq!(store.import_users(users).await.expect("imported"), 2_600);

    let mut counts = store.user_counts().await.expect("counts");
    counts.sort();
    assert_eq!(
        counts,
        [(REGION.to_owned(), "sag-a".to_owned(), 1_300), (REGION.to_owned(), "sag-b".to_owned(), 1_300)]
    );
    let last_page = UserQuery { page_number: 130, page_size: 10, ..all_of("sag-b") };
    let (total, page) = store.list_users(last_page).await.expect("last page");
    assert_eq!(total, 1_300);
    let names: Vec<String> = page.into_iter().map(|u| u.user_name).collect();
    assert_eq!(names, (1_290..1_300).map(|i| format!("sag-b-u{i:05}")).collect::<Vec<_>>());
    // The next Create continues after the imported users: a fresh sequence number (it lists last)
    // and the first address no imported user holds.
    let big = instance("sag-a", "10.20.0.0/16", 5_000);
    let created = store.create_user(new_user("after-import", &big, None)).await.expect("create after import");
    assert_eq!(created.client_ip, "10.20.5.21");
    let (total, page) =
        store.list_users(UserQuery { page_number: 1_301, page_size: 1, ..all_of("sag-a") }).await.expect("page");
    assert_eq!((total, page[0].user_name.as_str()), (1_301, "after-import"));

    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let analyzed = client
        .query_one("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'users'", &[])
        .await
        .expect("statistics");
    assert!(analyzed.get::<_, bool>(0), "import leaves the table analyzed");
}
