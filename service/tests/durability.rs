//! A write the store acknowledged survives `kill -9` of the process.
//!
//! The test re-runs its own binary as a child that creates users in a loop and prints `ACK <name>`
//! after each `Ok`; the parent kills it with SIGKILL mid-stream, reopens the database and checks
//! that every acknowledged user is there.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use smartag_service::store::{InstanceLimits, NewUser, Store};

const CHILD_ENV: &str = "SMARTAG_DURABILITY_CHILD_DB";
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2cuG0vJ4Ck/qOVMQ5oJeTTyWRXAPzJ3FXq0pTIAbFhI";

#[test]
#[ignore = "helper: the child process of acknowledged_writes_survive_kill_9"]
fn durability_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let store = Store::open(&path).expect("child open");
    let instance =
        InstanceLimits { id: "sag-crash".into(), cidr: Some("10.0.0.0/16".parse().expect("cidr")), max_users: 60000 };
    let mut stdout = std::io::stdout();
    for i in 0.. {
        let name = format!("crash{i}");
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
        writeln!(stdout, "ACK {name}").expect("write ack");
        stdout.flush().expect("flush ack");
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .args(["--exact", "durability_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
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
            if acknowledged.len() == 40 {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL child"); // Child::kill sends SIGKILL on unix.
    child.wait().expect("reap child");
    assert_eq!(acknowledged.len(), 40, "the child acknowledged writes before being killed");

    let store = Store::open(&path).expect("reopen after kill");
    let (total, users) = store.list_users("cn-shanghai", "sag-crash", None, None, 1, 100_000).expect("list");
    assert!(total >= 40, "total {total}");
    let stored: std::collections::HashSet<_> = users.iter().map(|u| u.user_name.as_str()).collect();
    for name in &acknowledged {
        assert!(stored.contains(name.as_str()), "acknowledged {name} lost");
    }
    let connection = rusqlite::Connection::open(&path).expect("raw open");
    let check: String = connection.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
    assert_eq!(check, "ok");
}
