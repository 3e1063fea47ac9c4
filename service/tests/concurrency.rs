//! Concurrency and faults against the running `smartag-service` binary, over HTTP: a storm of
//! Creates (one winner per username, quotas, unique addresses) with Describe watching, SIGKILL in
//! a loop of Creates (every acknowledged user survives, the database is intact), SIGTERM
//! (requests in flight finish, exit 0), and an unwritable database (InternalError, no details,
//! recovery).

mod support;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::Duration;

use serde_json::Value;
use support::*;

const CREATE: &str = "CreateSmartAccessGatewayClientUser";
const DESCRIBE: &str = "DescribeSmartAccessGatewayClientUsers";

fn version(i: usize) -> Version {
    if i.is_multiple_of(2) { Version::V1 } else { Version::V3 }
}

fn cidr_of(instance: &str) -> (Ipv4Addr, u32) {
    match instance {
        "sag-big" => (Ipv4Addr::new(10, 30, 0, 0), 16),
        "sag-small" => (Ipv4Addr::new(10, 40, 0, 0), 24),
        _ => (Ipv4Addr::new(10, 10, 0, 0), 24),
    }
}

/// Asserts one Describe page is consistent: TotalCount covers the page, no duplicate user, every
/// user well-formed with an address inside the instance's block (never the network or gateway).
fn assert_page(instance: &str, page: &Value, page_number: u64, page_size: u64) -> Vec<(String, String)> {
    let total = page["TotalCount"].as_u64().expect("TotalCount");
    let users = page["Users"]["User"].as_array().cloned().unwrap_or_default();
    assert!(users.len() as u64 <= page_size, "{page}");
    // A page past the end is empty; any other page lies within TotalCount.
    let reach = if users.is_empty() { 0 } else { (page_number - 1) * page_size + users.len() as u64 };
    assert!(total >= reach, "TotalCount {total} below the page: {page}");
    let (network, prefix) = cidr_of(instance);
    let mask = u32::MAX << (32 - prefix);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for u in &users {
        let name = u["UserName"].as_str().expect("UserName").to_owned();
        assert!(!name.is_empty() && seen.insert(name.clone()), "duplicate or empty user on a page: {page}");
        assert!(u["UserMail"].as_str().is_some_and(|m| m.contains('@')), "{u}");
        assert_eq!(u["Bandwidth"], 20, "{u}");
        assert_eq!(u["State"], 0, "{u}");
        let ip: Ipv4Addr = u["ClientIp"].as_str().and_then(|s| s.parse().ok()).expect("a ClientIp");
        let bits = u32::from(ip);
        assert_eq!(bits & mask, u32::from(network), "{ip} outside {instance}'s block");
        assert!(bits & !mask > 1, "{ip} is the network or gateway address");
        out.push((name, ip.to_string()));
    }
    out
}

/// Every user of `instance`, through pages of 100.
fn all_users(service: &Service, instance: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for page in 1.. {
        let mut params = describe(instance);
        params.push(p("PageNumber", &page.to_string()));
        let reply = service.send(&Call::v3(DESCRIBE, &params));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let users = assert_page(instance, &reply.json(), page, 100);
        if users.is_empty() {
            break;
        }
        out.extend(users);
    }
    out
}

#[test]
fn a_storm_of_creates_has_one_winner_per_name_respects_quotas_and_never_reuses_an_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    // sag-small (8 users) starts near full.
    for i in 0..5 {
        let reply = service.send(&Call::v1(CREATE, &create("sag-small", &format!("prefill{i}"))));
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // 300 Creates: 60 on one name, 40 names three times each, 120 distinct names on sag-small.
    let mut jobs: Vec<(&str, String)> = Vec::new();
    jobs.extend((0..60).map(|_| ("sag-big", "samename1".to_owned())));
    for _ in 0..3 {
        jobs.extend((0..40).map(|i| ("sag-big", format!("user{i:03}"))));
    }
    jobs.extend((0..120).map(|i| ("sag-small", format!("small{i:03}"))));
    // Interleave deterministically so that each name's attempts run at the same time.
    let n = jobs.len();
    let order: Vec<usize> = (0..n).map(|i| (i * 7) % n).collect();
    assert_eq!(order.iter().collect::<HashSet<_>>().len(), n, "a permutation");

    let next = AtomicUsize::new(0);
    // (instance, name, status, code, address) of each Create.
    type Outcome = (String, String, u16, String, String);
    let results: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    let describes = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut k = 0u64;
                while !done.load(Ordering::Relaxed) {
                    k += 1;
                    let instance = if k.is_multiple_of(2) { "sag-big" } else { "sag-small" };
                    let page_number = 1 + k % 3;
                    let mut params = describe(instance);
                    params.retain(|(n, _)| n != "PageSize");
                    params.push(p("PageSize", "7"));
                    params.push(p("PageNumber", &page_number.to_string()));
                    let reply = service.send(&Call::new(version(k as usize), DESCRIBE, &params));
                    assert_eq!(reply.status, 200, "Describe during the storm: {}", reply.body);
                    assert_page(instance, &reply.json(), page_number, 7);
                    describes.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let workers: Vec<_> = (0..12)
            .map(|_| {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&job) = order.get(i) else { break };
                        let (instance, name) = &jobs[job];
                        let reply = service.send(&Call::new(version(i), CREATE, &create(instance, name)));
                        let ip = reply.json()["ClientIp"].as_str().unwrap_or_default().to_owned();
                        if reply.status != 200 {
                            reply.assert_envelope(name);
                        }
                        results.lock().expect("results").push((
                            (*instance).to_owned(),
                            name.clone(),
                            reply.status,
                            reply.code(),
                            ip,
                        ));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker");
        }
        done.store(true, Ordering::Relaxed);
    });
    assert!(describes.load(Ordering::Relaxed) > 0, "Describe ran during the storm");

    let results = results.into_inner().expect("results");
    assert_eq!(results.len(), n);
    let mut winners: HashMap<(String, String), usize> = HashMap::new();
    let mut ips: HashMap<String, HashSet<String>> = HashMap::new();
    for (instance, name, status, code, ip) in &results {
        match (*status, code.as_str()) {
            (200, _) => {
                *winners.entry((instance.clone(), name.clone())).or_default() += 1;
                assert!(ips.entry(instance.clone()).or_default().insert(ip.clone()), "{ip} handed out twice");
            }
            (400, "ClientUser.UserExist") => {}
            (400, "ClientUser.UserOverLimit") => assert_eq!(instance, "sag-small", "{name}"),
            other => panic!("{instance}/{name}: unexpected answer {other:?}"),
        }
    }
    assert_eq!(winners.get(&("sag-big".into(), "samename1".into())), Some(&1), "one winner for samename1");
    for i in 0..40 {
        assert_eq!(winners.get(&("sag-big".into(), format!("user{i:03}"))), Some(&1), "one winner for user{i:03}");
    }
    let small_winners = winners.keys().filter(|(i, _)| i == "sag-small").count();
    assert_eq!(small_winners, 3, "sag-small filled up to its 8 users exactly");
    assert!(winners.values().all(|&w| w == 1));

    // What is stored agrees: every winner once, the quota kept, no address twice.
    let big = all_users(&service, "sag-big");
    assert_eq!(big.len(), 41);
    let small = all_users(&service, "sag-small");
    assert_eq!(small.len(), 8);
    for users in [&big, &small] {
        let names: HashSet<_> = users.iter().map(|(n, _)| n).collect();
        let addresses: HashSet<_> = users.iter().map(|(_, ip)| ip).collect();
        assert_eq!((names.len(), addresses.len()), (users.len(), users.len()), "duplicates in {users:?}");
    }
    for ((instance, name), _) in winners {
        let stored = if instance == "sag-big" { &big } else { &small };
        assert!(stored.iter().any(|(n, _)| *n == name), "{name} answered 200 but is not stored");
    }
}

/// SIGKILL while Creates are in flight over HTTP, three times on one data folder: every user
/// acknowledged with a 200 is there after the restart, and SQLite's integrity check passes.
#[test]
fn sigkill_during_creates_loses_no_acknowledged_user() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..3 {
        let mut service = Service::start(dir.path());
        let acked: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let next = AtomicUsize::new(0);
        let killed = AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    while !killed.load(Ordering::Relaxed) {
                        let name = format!("kill{round}n{:04}", next.fetch_add(1, Ordering::Relaxed));
                        let call = Call::v1(CREATE, &create("sag-big", &name));
                        // After the kill, connections fail: those users were never acknowledged.
                        let Ok(reply) = exchange(service.addr, &call.to_bytes(service.addr)) else { break };
                        if reply.status == 200 {
                            acked.lock().expect("acked").push(name);
                        }
                    }
                });
            }
            let start = std::time::Instant::now();
            while acked.lock().expect("acked").len() < 12 {
                assert!(start.elapsed() < HANG_GUARD, "no Creates acknowledged (hang guard)");
                sleep(Duration::from_millis(5));
            }
            service.child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on unix.
            killed.store(true, Ordering::Relaxed);
        });
        let _ = service.child.wait();
        acknowledged.extend(acked.into_inner().expect("acked"));

        // The file as the kill left it, opened read-only: intact.
        let db = rusqlite::Connection::open_with_flags(&service.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the database read-only");
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
        assert_eq!(check, "ok", "round {round}");
        drop(db);

        let restarted = Service::start(dir.path());
        let stored: HashSet<String> = all_users(&restarted, "sag-big").into_iter().map(|(n, _)| n).collect();
        for name in &acknowledged {
            assert!(stored.contains(name), "round {round}: acknowledged {name} lost");
        }
    }
    assert!(acknowledged.len() >= 36);
}

/// SIGTERM: a request in flight (its body still arriving) is finished and answered, new
/// connections are refused, and the process exits 0.
#[test]
fn sigterm_finishes_requests_in_flight_then_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = Service::start(dir.path());
    let addr = service.addr;
    let mut in_flight = Vec::new();
    for i in 0..3 {
        let call = Call::new(version(i), CREATE, &[]).with_form(&create("sag-demo", &format!("inflight{i}")));
        let bytes = call.to_bytes(addr);
        let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4 + 10;
        let mut stream = connect(addr).expect("connect");
        stream.write_all(&bytes[..split]).expect("write the head and part of the body");
        in_flight.push((stream, bytes[split..].to_vec()));
    }
    // Let the server read the heads (not an assertion on time: only ordering the signal after).
    service.assert_alive("starting requests");
    signal(service.child.id(), "TERM");
    // The listener closes: wait until a new connection is refused (hang-guarded).
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(start.elapsed() < HANG_GUARD, "still accepting connections after SIGTERM (hang guard)");
        sleep(Duration::from_millis(20));
    }
    assert!(service.child.try_wait().expect("try_wait").is_none(), "exited with requests in flight");
    for (i, (mut stream, rest)) in in_flight.into_iter().enumerate() {
        stream.write_all(&rest).expect("finish the body");
        let reply = read_reply(&mut stream).expect("an answer to the request in flight");
        assert_eq!(reply.status, 200, "in-flight request {i}: {}", reply.body);
        assert_eq!(reply.json()["UserName"], format!("inflight{i}"));
    }
    let status = wait_with_guard(&mut service.child);
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM: {status:?}");

    // What was answered is stored.
    let again = Service::start(dir.path());
    assert_eq!(all_users(&again, "sag-demo").len(), 3);
}

/// A database the service cannot write (another process holds SQLite's write lock): Creates are
/// answered InternalError 500 with the generic message and no detail, reads keep working, and
/// once the database is writable again Creates succeed.
#[test]
fn an_unwritable_database_answers_internal_error_without_details_and_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let reply = service.send(&Call::v1(CREATE, &create("sag-demo", "before01")));
    assert_eq!(reply.status, 200, "{}", reply.body);

    let mut locker = rusqlite::Connection::open(&service.db).expect("open the database");
    let tx = locker.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive).expect("take the write lock");
    // One refused write (each waits out the store's busy timeout).
    for v in [Version::V1] {
        let reply = service.send(&Call::new(v, CREATE, &create("sag-demo", &format!("during{v:?}"))));
        reply.assert_error(500, "InternalError", "create while unwritable");
        let lower = reply.body.to_lowercase();
        for leak in ["sqlite", "database", "locked", "busy", "smartag.db", "store", dir.path().to_str().unwrap_or("/")]
        {
            assert!(!lower.contains(&leak.to_lowercase()), "{leak:?} leaked: {}", reply.body);
        }
        service.assert_alive("a refused write");
    }
    tx.rollback().expect("release the lock");
    drop(locker);

    let reply = service.send(&Call::v3(CREATE, &create("sag-demo", "after001")));
    assert_eq!(reply.status, 200, "after the database is writable again: {}", reply.body);
    let names: Vec<String> = all_users(&service, "sag-demo").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["before01", "after001"]);
    // Nothing of the refused Creates is left behind, in the database or the outbox.
    let outbox = dir.path().join("data").join("outbox");
    let mails = std::fs::read_dir(&outbox).expect("outbox").count();
    assert_eq!(mails, 2, "the outbox holds the two delivered account e-mails only");
}

/// A full disk while the service runs. The service's file size limit is lowered below the size
/// of the database's write-ahead log (which only grows between checkpoints, and no checkpoint is due
/// here), so every write of the database fails, as it would on a full disk; a small file such as
/// an account e-mail still fits, so Create gets as far as the store. Creates and Modifies are
/// answered InternalError 500 with the generic message, reads keep working, and once there is room
/// again the same process writes again: no restart. Nothing acknowledged is lost, nothing refused
/// is kept, and the database is intact.
#[test]
fn a_full_disk_answers_internal_error_without_details_and_recovers_without_restart() {
    const MODIFY: &str = "ModifySmartAccessGatewayClientUser";
    let modify = |bandwidth: &str| {
        vec![
            p("RegionId", "cn-shanghai"),
            p("SmartAGId", "sag-demo"),
            p("UserName", "before01"),
            p("Bandwidth", bandwidth),
        ]
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = Service::start_disk_fillable(dir.path(), support::TEST_CONFIG);
    let reply = service.send(&Call::v1(CREATE, &create("sag-demo", "before01")));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let wal = std::fs::metadata(service.db.with_file_name("smartag.db-wal")).expect("the write-ahead log").len();
    assert!(wal > 8192, "the write-ahead log ({wal} bytes) is past the limit set below");

    service.limit_file_size(Some(4096));
    for (i, v) in [Version::V1, Version::V3].into_iter().enumerate() {
        let refused = [
            service.send(&Call::new(v, CREATE, &create("sag-demo", &format!("during0{i}")))),
            service.send(&Call::new(v, MODIFY, &modify("77"))),
        ];
        for reply in refused {
            reply.assert_error(500, "InternalError", "a write on a full disk");
            let lower = reply.body.to_lowercase();
            for leak in ["sqlite", "database", "disk", "full", "i/o", "smartag.db", "store", "write"] {
                assert!(!lower.contains(leak), "{leak:?} leaked: {}", reply.body);
            }
        }
        service.assert_alive("a write on a full disk");
    }
    let users = all_users(&service, "sag-demo");
    assert_eq!(users.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["before01"], "only the acknowledged user");

    service.limit_file_size(None);
    let reply = service.send(&Call::v3(CREATE, &create("sag-demo", "after001")));
    assert_eq!(reply.status, 200, "once the disk has room again: {}", reply.body);
    let reply = service.send(&Call::v1(MODIFY, &modify("88")));
    assert_eq!((reply.status, &reply.json()["Bandwidth"]), (200, &serde_json::json!(88)), "{}", reply.body);
    assert_eq!(service.terminate().code(), Some(0));

    let db = rusqlite::Connection::open_with_flags(&service.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database read-only");
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
    drop(db);
    let restarted = Service::start(dir.path());
    let reply = restarted.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
    let page = reply.json();
    let users: Vec<(&str, i64)> = page["Users"]["User"]
        .as_array()
        .map(|users| {
            users.iter().map(|u| (u["UserName"].as_str().unwrap_or(""), u["Bandwidth"].as_i64().unwrap_or(0))).collect()
        })
        .unwrap_or_default();
    assert_eq!(users, [("before01", 88), ("after001", 20)], "after a restart: {}", reply.body);
    let mails = std::fs::read_dir(dir.path().join("data").join("outbox")).expect("outbox").count();
    assert_eq!(mails, 2, "the outbox holds the two delivered account e-mails only");
}
