//! A write the store acknowledged survives `kill -9` of the process.
//!
//! The test re-runs its own binary as a child that creates users in a loop and prints `ACK <name>`
//! after each `Ok`; the parent kills it with SIGKILL mid-stream, reopens the database and checks
//! that every acknowledged user is there. With several writer threads in the child, the writes
//! are committed in groups (one transaction for the writes waiting): an acknowledged write of a
//! group survives as well.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use smartag_service::store::{InstanceLimits, NewUser, Store};

const CHILD_ENV: &str = "SMARTAG_DURABILITY_CHILD_DB";
const THREADS_ENV: &str = "SMARTAG_DURABILITY_CHILD_THREADS";
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2cuG0vJ4Ck/qOVMQ5oJeTTyWRXAPzJ3FXq0pTIAbFhI";

#[test]
#[ignore = "helper: the child process of acknowledged_writes_survive_kill_9"]
fn durability_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let threads: usize = std::env::var(THREADS_ENV).ok().and_then(|t| t.parse().ok()).unwrap_or(1);
    let store = Store::open(&path).expect("child open");
    let instance =
        InstanceLimits { id: "sag-crash".into(), cidr: Some("10.0.0.0/16".parse().expect("cidr")), max_users: 60000 };
    let stdout = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (store, instance, stdout) = (store.clone(), instance.clone(), stdout.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let name = format!("crash{t}-{i}");
                    store
                        .create_user(NewUser {
                            region: "cn-shanghai".into(),
                            instance: instance.clone(),
                            user_name: name.clone(),
                            user_mail: "crash@example.com".into(),
                            bandwidth: 1,
                            password_hash: HASH.into(),
                            static_ip: None,
                        })
                        .expect("child create");
                    let mut out = stdout.lock().expect("stdout lock");
                    writeln!(out, "ACK {name}").expect("write ack");
                    out.flush().expect("flush ack");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
}

/// Runs the child with `threads` writer threads, kills it after `acks` acknowledgements, and checks
/// every acknowledged user is in the database.
fn kill_after_acks(threads: usize, acks: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .args(["--exact", "durability_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .env(THREADS_ENV, threads.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acknowledged = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read child");
        if let Some(name) = line.strip_prefix("ACK ") {
            acknowledged.push(name.to_owned());
            if acknowledged.len() == acks {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL child"); // Child::kill sends SIGKILL on unix.
    child.wait().expect("reap child");
    assert_eq!(acknowledged.len(), acks, "the child acknowledged writes before being killed");

    let store = Store::open(&path).expect("reopen after kill");
    let (total, users) = store.list_users("cn-shanghai", "sag-crash", None, None, 1, 100_000).expect("list");
    assert!(total >= acks as i64, "total {total}");
    let stored: std::collections::HashSet<_> = users.iter().map(|u| u.user_name.as_str()).collect();
    for name in &acknowledged {
        assert!(stored.contains(name.as_str()), "acknowledged {name} lost");
    }
    let ips: std::collections::HashSet<_> = users.iter().map(|u| u.client_ip.as_str()).collect();
    assert_eq!(ips.len(), users.len(), "no address twice");
    let connection = rusqlite::Connection::open(&path).expect("raw open");
    let check: String = connection.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    kill_after_acks(1, 40);
}

#[test]
fn acknowledged_group_commits_survive_kill_9() {
    kill_after_acks(8, 400);
}
