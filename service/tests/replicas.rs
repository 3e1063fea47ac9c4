//! Three `smartag-service` processes on one PostgreSQL database behave as one service.
//!
//! Each test starts its own PostgreSQL cluster (`postgres-harness`: the distribution's server
//! binaries, a temporary data folder, a free loopback port) and three service processes pointed at
//! it with `--database-url`, then sends signed requests spread over the three:
//!
//! - hundreds of concurrent Creates for overlapping usernames: exactly one winner per username,
//!   `max_users` never exceeded, no client IP handed out twice, one account e-mail per user created
//!   (whichever replica's outbox), and Describe answering the same at every replica;
//! - a signed request replayed at another replica is refused there (`SignatureNonceUsed`): the
//!   nonces live in the database;
//! - `kill -9` of a replica under load loses no acknowledged Create;
//! - while PostgreSQL is down, requests answer `ServiceUnavailable` (503, the API's envelope) and
//!   the admin health endpoint 503, and the service recovers by itself when it is back.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use postgres_harness::PgCluster;
use support::{Call, HANG_GUARD, Reply, Service, create, describe, exchange, http, p};

const CREATE: &str = "CreateSmartAccessGatewayClientUser";
const DESCRIBE: &str = "DescribeSmartAccessGatewayClientUsers";

/// The configuration every replica reads (the same instances everywhere).
const CONFIG: &str = r#"
[[access_keys]]
id = "testid"
secret = "testsecret"

[[instances]]
region = "cn-shanghai"
id = "sag-names"
cidr = "10.70.0.0/20"
max_users = 1000

[[instances]]
region = "cn-shanghai"
id = "sag-quota"
cidr = "10.71.0.0/20"
max_users = 40

# 16 addresses: the network, the gateway (first host) and the broadcast address are never handed
# out, which leaves 13.
[[instances]]
region = "cn-shanghai"
id = "sag-pool"
cidr = "10.72.0.0/28"
max_users = 100

[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"
max_users = 100

[limits]
# A machine busy hashing hundreds of passwords on 2 cores must not turn slow answers into 503s.
request_timeout_ms = 60000
"#;

/// `count` service processes on the database `url`, each with its own folder (its outbox) under
/// `root`.
fn replicas(root: &Path, url: &str, count: usize, admin: bool) -> Vec<Service> {
    (0..count)
        .map(|i| {
            let dir = root.join(format!("replica-{i}"));
            std::fs::create_dir_all(&dir).expect("replica folder");
            let mut args = vec!["--database-url", url];
            if admin {
                args.extend(["--admin-listen", "127.0.0.1:0"]);
            }
            Service::start_args(&dir, CONFIG, &[], &args)
        })
        .collect()
}

/// A Create of `name` into `instance` (the shared support's parameters).
fn create_call(instance: &str, name: &str) -> Call {
    Call::v1(CREATE, &create(instance, name))
}

/// Sends every `(replica, call)` from `threads` threads at once; the answers in the same order
/// (`None` where no HTTP answer came, e.g. the replica was killed).
fn send_all(services: &[Service], work: Vec<(usize, Call)>, threads: usize) -> Vec<Option<Reply>> {
    let addrs: Vec<_> = services.iter().map(|s| s.addr).collect();
    let total = work.len();
    let queue = Arc::new(Mutex::new(work.into_iter().enumerate().collect::<Vec<_>>()));
    let answers = Arc::new(Mutex::new(vec![None; total]));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (queue, answers, addrs) = (Arc::clone(&queue), Arc::clone(&answers), &addrs);
            scope.spawn(move || {
                loop {
                    let Some((index, (replica, call))) = queue.lock().expect("queue").pop() else { break };
                    let addr = addrs[replica];
                    let reply = exchange(addr, &call.to_bytes(addr)).ok();
                    answers.lock().expect("answers")[index] = reply;
                }
            });
        }
    });
    Arc::try_unwrap(answers).expect("threads done").into_inner().expect("answers")
}

/// Every user of `instance` as `service` lists it, page by page: (name, client IP) in order.
fn all_users(service: &Service, instance: &str) -> Vec<(String, String)> {
    let mut users = Vec::new();
    for page in 1.. {
        let mut query = describe(instance);
        query.retain(|(k, _)| k != "PageSize");
        query.extend([p("PageSize", "50"), p("PageNumber", &page.to_string())]);
        let reply = service.send(&Call::v1(DESCRIBE, &query));
        assert_eq!(reply.status, 200, "Describe {instance} page {page}: {}", reply.body);
        let json = reply.json();
        let listed = json["Users"]["User"].as_array().cloned().unwrap_or_default();
        let total = json["TotalCount"].as_u64().expect("TotalCount");
        for user in &listed {
            let name = user["UserName"].as_str().expect("UserName").to_owned();
            let ip = user["ClientIp"].as_str().expect("ClientIp").to_owned();
            users.push((name, ip));
        }
        if listed.is_empty() || users.len() as u64 >= total {
            assert_eq!(users.len() as u64, total, "Describe {instance}: pages add up to TotalCount");
            break;
        }
    }
    users
}

fn codes(answers: &[Option<Reply>]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for answer in answers {
        let code = match answer {
            Some(reply) if reply.status == 200 => "200".to_owned(),
            Some(reply) => reply.code(),
            None => "no answer".to_owned(),
        };
        *counts.entry(code).or_insert(0) += 1;
    }
    counts
}

fn outbox_messages(services: &[Service]) -> usize {
    services
        .iter()
        .map(|s| {
            let outbox = s.db.parent().expect("data folder").join("outbox");
            std::fs::read_dir(&outbox)
                .map(|entries| {
                    entries.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count()
                })
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn three_replicas_on_one_database_behave_as_one_service() {
    let cluster = PgCluster::start().expect("start PostgreSQL (scripts/test installs it)");
    let url = cluster.create_database("replicas").expect("create the database");
    let root = tempfile::tempdir().expect("tempdir");
    let services = replicas(root.path(), &url, 3, false);

    // 60 usernames, each created 3 times, once at every replica, all at once.
    let names: Vec<String> = (0..60).map(|i| format!("overlap{i:02}")).collect();
    let mut work = Vec::new();
    for (i, name) in names.iter().enumerate() {
        for replica in 0..3 {
            work.push(((i + replica) % 3, create_call("sag-names", name)));
        }
    }
    // 120 distinct usernames for an instance of 40 users.
    for i in 0..120 {
        work.push((i % 3, create_call("sag-quota", &format!("quota{i:03}"))));
    }
    // 40 distinct usernames for an instance with 13 free addresses.
    for i in 0..40 {
        work.push((i % 3, create_call("sag-pool", &format!("pooluser{i:02}"))));
    }
    let answers = send_all(&services, work.clone(), 24);

    // Exactly one winner per username.
    let mut winners: HashMap<String, usize> = HashMap::new();
    for ((_, call), answer) in work.iter().zip(&answers) {
        let reply = answer.as_ref().expect("every replica answers");
        let instance = call.query.iter().find(|(k, _)| k == "SmartAGId").map(|(_, v)| v.clone()).expect("instance");
        match (instance.as_str(), reply.status) {
            (_, 200) => {
                *winners.entry(reply.json()["UserName"].as_str().expect("UserName").to_owned()).or_default() += 1
            }
            ("sag-names", _) => reply.assert_error(400, "ClientUser.UserExist", "a username taken at another replica"),
            ("sag-quota" | "sag-pool", _) => {
                reply.assert_error(400, "ClientUser.UserOverLimit", "an instance that is full");
            }
            _ => panic!("unexpected answer {}", reply.body),
        }
    }
    assert!(winners.values().all(|&n| n == 1), "a username won twice: {winners:?}");
    let won = |prefix: &str| winners.keys().filter(|n| n.starts_with(prefix)).count();
    assert_eq!(won("overlap"), 60, "every overlapping username created once: {:?}", codes(&answers));
    assert_eq!(won("quota"), 40, "max_users reached and never exceeded");
    assert_eq!(won("pooluser"), 13, "every free address handed out, none twice");

    // Describe answers the same at every replica; no address twice.
    for instance in ["sag-names", "sag-quota", "sag-pool"] {
        let listed: Vec<_> = services.iter().map(|s| all_users(s, instance)).collect();
        assert!(listed.windows(2).all(|w| w[0] == w[1]), "{instance}: the replicas disagree");
        let ips: HashSet<_> = listed[0].iter().map(|(_, ip)| ip.as_str()).collect();
        assert_eq!(ips.len(), listed[0].len(), "{instance}: an address handed out twice");
    }

    // One account e-mail per created user, wherever it was created.
    assert_eq!(outbox_messages(&services), winners.len(), "one outbox message per user created");

    // A signed request replayed at another replica is refused there, under both signatures.
    for call in [Call::v1(DESCRIBE, &describe("sag-demo")), Call::v3(DESCRIBE, &describe("sag-demo"))] {
        let bytes = call.to_bytes(services[0].addr);
        let first = exchange(services[0].addr, &bytes).expect("an answer");
        assert_eq!(first.status, 200, "first use: {}", first.body);
        for other in &services[1..] {
            let replayed = exchange(other.addr, &bytes).expect("an answer");
            replayed.assert_error(400, "SignatureNonceUsed", "the same nonce at another replica");
        }
    }
}

#[test]
fn kill_9_of_a_replica_under_load_loses_no_acknowledged_create() {
    let cluster = PgCluster::start().expect("start PostgreSQL (scripts/test installs it)");
    let url = cluster.create_database("kill9").expect("create the database");
    let root = tempfile::tempdir().expect("tempdir");
    let mut services = replicas(root.path(), &url, 3, false);
    let addrs: Vec<_> = services.iter().map(|s| s.addr).collect();
    let victim_pid = services[0].child.id();

    let stop = AtomicBool::new(false);
    let acknowledged = Mutex::new(Vec::new());
    let killed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (stop, acknowledged, addrs) = (&stop, &acknowledged, &addrs);
            scope.spawn(move || {
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("load{t}x{i}");
                    let addr = addrs[(t + i) % 3];
                    let call = create_call("sag-names", &name);
                    if let Ok(reply) = exchange(addr, &call.to_bytes(addr))
                        && reply.status == 200
                    {
                        acknowledged.lock().expect("acks").push(name);
                    }
                }
            });
        }
        // Kill replica 0 once writes are flowing, keep the load on the others a little longer.
        let start = std::time::Instant::now();
        while acknowledged.lock().expect("acks").len() < 60 {
            assert!(start.elapsed() < HANG_GUARD, "no Creates acknowledged");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        support::signal(victim_pid, "KILL");
        killed.store(true, Ordering::Relaxed);
        let at_kill = acknowledged.lock().expect("acks").len();
        while acknowledged.lock().expect("acks").len() < at_kill + 30 {
            assert!(start.elapsed() < HANG_GUARD, "the surviving replicas stopped acknowledging");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(killed.load(Ordering::Relaxed));
    let _ = services[0].child.wait();

    let stored: HashSet<String> = all_users(&services[1], "sag-names").into_iter().map(|(name, _)| name).collect();
    let acknowledged = acknowledged.into_inner().expect("acks");
    for name in &acknowledged {
        assert!(stored.contains(name), "acknowledged Create of {name} lost");
    }
    assert_eq!(all_users(&services[2], "sag-names").len(), stored.len(), "the survivors agree");
    services.remove(0);
}

#[test]
fn while_postgres_is_down_requests_answer_503_and_the_service_recovers() {
    let mut cluster = PgCluster::start().expect("start PostgreSQL (scripts/test installs it)");
    let url = cluster.create_database("faults").expect("create the database");
    let root = tempfile::tempdir().expect("tempdir");
    let services = replicas(root.path(), &url, 1, true);
    let service = &services[0];
    let admin = service.admin.expect("admin listener");
    service.assert_alive("start");
    assert_eq!(http(admin, "GET", "/_admin/health", None).status, 200, "healthy at start");

    cluster.stop().expect("stop PostgreSQL");
    let reply = service.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
    reply.assert_error(503, "ServiceUnavailable", "Describe while the database is down");
    let reply = service.send(&create_call("sag-demo", "during-outage"));
    reply.assert_error(503, "ServiceUnavailable", "Create while the database is down");
    assert_eq!(http(admin, "GET", "/_admin/health", None).status, 503, "health while the database is down");

    cluster.start_again().expect("start PostgreSQL again");
    let start = std::time::Instant::now();
    loop {
        let reply = service.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
        if reply.status == 200 {
            break;
        }
        reply.assert_error(503, "ServiceUnavailable", "while the database comes back");
        assert!(start.elapsed() < HANG_GUARD, "the service did not recover");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(service.send(&create_call("sag-demo", "after-outage")).status, 200, "Create after recovery");
    assert_eq!(http(admin, "GET", "/_admin/health", None).status, 200, "healthy again");
}
