//! `smartag-service export` / `import`: users moved from SQLite to PostgreSQL keep every field,
//! password hashes included, and the file and the output never show a hash.

use std::process::Command;

use smartag_service::store::postgres::PgStore;
use smartag_service::store::{InstanceLimits, NewUser, Store, UserChange, UserStore};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2cuG0vJ4Ck/qOVMQ5oJeTTyWRXAPzJ3FXq0pTIAbFhI";

fn new_user(name: &str, instance: &str, ip: Option<&str>) -> NewUser {
    NewUser {
        region: "cn-shanghai".into(),
        instance: InstanceLimits {
            id: instance.into(),
            cidr: Some("10.10.0.0/24".parse().expect("cidr")),
            max_users: 100,
        },
        user_name: name.into(),
        user_mail: format!("{name}@example.com"),
        bandwidth: 20,
        password_hash: format!("{HASH}-{name}"),
        static_ip: ip.map(|ip| ip.parse().expect("ip")),
    }
}

fn service(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_smartag-service"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SMARTAG_DATA")
        .output()
        .expect("runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_users_move_to_postgres_with_every_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("smartag.db");
    let sqlite = Store::open(&db).expect("sqlite");
    for user in [
        new_user("alice", "sag-demo", None),
        new_user("bob", "sag-demo", Some("10.10.0.9")),
        new_user("carol", "sag-demo", None),
        new_user("alice", "sag-other", None),
    ] {
        sqlite.create_user(user).expect("created");
    }
    Store::modify_user(&sqlite, "cn-shanghai", "sag-demo", "carol", 900, Some("carol@corp.example")).expect("modified");
    let before = sqlite.export_users().expect("export in-process");
    drop(sqlite);

    let file = dir.path().join("users.jsonl");
    let file_arg = file.to_str().expect("utf-8 path");
    let exported = service(&["export", "--data", db.to_str().expect("utf-8"), "--to", file_arg]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let stdout = String::from_utf8_lossy(&exported.stdout);
    assert!(stdout.contains("exported 4 users") && !stdout.contains("argon2"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the export holds password hashes");
    }
    // Not overwritten without --force.
    let again = service(&["export", "--data", db.to_str().expect("utf-8"), "--to", file_arg]);
    assert!(!again.status.success());

    let url = tokio::task::spawn_blocking(|| postgres_harness::fresh_database("transfer"))
        .await
        .expect("task")
        .expect("a fresh PostgreSQL database");
    let imported = service(&["import", "--from", file_arg, "--database-url", &url]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    assert!(String::from_utf8_lossy(&imported.stdout).contains("imported 4 users"));
    // A second import into the now non-empty database is refused, all or nothing.
    let twice = service(&["import", "--from", file_arg, "--database-url", &url]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already has users"));

    let postgres = PgStore::connect(&url).await.expect("postgres");
    assert_eq!(postgres.export_users().await.expect("export from postgres"), before, "every field kept");
    // The imported database goes on as the old one would: the next address, the names taken.
    let next = postgres.create_user(new_user("dave", "sag-demo", None)).await.expect("created");
    assert_eq!(next.client_ip, "10.10.0.4");
    let change = UserChange {
        region: "cn-shanghai".into(),
        instance_id: "sag-demo".into(),
        user_name: "alice".into(),
        bandwidth: 5,
        user_mail: None,
    };
    assert_eq!(postgres.modify_user(change).await.expect("modify imported").bandwidth, 5);
}
