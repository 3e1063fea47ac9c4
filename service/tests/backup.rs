//! `smartag-service backup` while the service runs and writes, `restore` into a new path, a
//! service started on the restored database has the users; restore refuses a database in use, an
//! existing one without --force, and a damaged backup.

mod operating;
mod support;

use std::path::Path;
use std::process::Output;

use operating::{command, run_to_end};
use support::{Call, Service, TEST_CONFIG, create, describe};

fn tool(args: &[&str], paths: &[(&str, &Path)]) -> Output {
    let mut c = command();
    c.args(args);
    for (flag, path) in paths {
        c.arg(flag).arg(path);
    }
    run_to_end(c)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn create_user(service: &Service, name: &str) {
    let reply = service.send(&Call::v1("CreateSmartAccessGatewayClientUser", &create("sag-big", name)));
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// The user names of `sag-big`, all pages.
fn user_names(service: &Service) -> Vec<String> {
    let mut names = Vec::new();
    for page in 1.. {
        let mut query = describe("sag-big");
        query.push(support::p("PageNumber", &page.to_string()));
        let reply = service.send(&Call::v1("DescribeSmartAccessGatewayClientUsers", &query));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let users = reply.json()["Users"]["User"].as_array().cloned().unwrap_or_default();
        if users.is_empty() {
            break;
        }
        names.extend(users.iter().filter_map(|u| u["UserName"].as_str().map(str::to_owned)));
    }
    names
}

fn users_in(db: &Path) -> i64 {
    let connection = rusqlite::Connection::open(db).expect("open");
    connection.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).expect("count")
}

#[test]
fn a_backup_taken_while_the_service_writes_restores_into_a_service_with_the_users() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let before: Vec<String> = (0..20).map(|i| format!("before{i:04}")).collect();
    for name in &before {
        create_user(&service, name);
    }

    // Backups while Creates keep arriving.
    let backup = dir.path().join("backups/smartag-backup.db");
    std::fs::create_dir_all(backup.parent().expect("parent")).expect("backup folder");
    let outcome = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 0..40 {
                create_user(&service, &format!("during{i:04}"));
            }
        });
        let out = tool(&["backup", "--force"], &[("--data", &service.db), ("--to", &backup)]);
        writer.join().expect("writer");
        out
    });
    assert!(outcome.status.success(), "{}", stderr(&outcome));
    let said = String::from_utf8_lossy(&outcome.stdout);
    assert!(said.contains(&format!("to {}", backup.display())), "{said}");
    let in_backup = users_in(&backup);
    assert!(in_backup >= 20, "the backup has {in_backup} users");
    // One self-contained file: no write-ahead log beside it.
    assert!(!Path::new(&format!("{}-wal", backup.display())).exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&backup).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the backup holds password hashes");
    }

    // Restore into a new path and serve it.
    let restored_dir = tempfile::tempdir().expect("temp dir");
    let restored_db = restored_dir.path().join("data").join("smartag.db");
    let out = tool(&["restore"], &[("--from", &backup), ("--data", &restored_db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let restored = Service::start(restored_dir.path());
    assert_eq!(restored.db, restored_db);
    let names = user_names(&restored);
    assert_eq!(i64::try_from(names.len()).expect("count"), in_backup);
    for name in &before {
        assert!(names.contains(name), "{name} is missing after the restore");
    }
    // The restored service keeps working: a new user gets a fresh address.
    create_user(&restored, "after0001");
}

#[test]
fn restore_refuses_a_database_in_use_and_an_existing_one_without_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = Service::start(dir.path());
    create_user(&service, "first0001");
    let backup = dir.path().join("backup.db");
    let out = tool(&["backup"], &[("--data", &service.db), ("--to", &backup)]);
    assert!(out.status.success(), "{}", stderr(&out));
    // An existing backup file is not replaced without --force.
    let out = tool(&["backup"], &[("--data", &service.db), ("--to", &backup)]);
    assert!(!out.status.success() && stderr(&out).contains("already exists; pass --force"), "{}", stderr(&out));

    create_user(&service, "second001");
    let out = tool(&["restore", "--force"], &[("--from", &backup), ("--data", &service.db)]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains(&format!("database {} is in use by another process", service.db.display())), "{err}");
    service.assert_alive("a refused restore");

    assert!(service.terminate().success());
    let out = tool(&["restore"], &[("--from", &backup), ("--data", &service.db)]);
    assert!(!out.status.success() && stderr(&out).contains("already exists; pass --force"), "{}", stderr(&out));
    assert_eq!(users_in(&service.db), 2, "a refused restore changed the database");

    let out = tool(&["restore", "--force"], &[("--from", &backup), ("--data", &service.db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let service = Service::start(dir.path());
    assert_eq!(user_names(&service), ["first0001"]);
}

#[test]
fn a_damaged_or_foreign_backup_is_refused_and_the_database_is_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("smartag.toml");
    std::fs::write(&config, TEST_CONFIG).expect("config");
    let db = dir.path().join("smartag.db");
    drop(smartag_service::store::Store::open(&db).expect("a database"));

    let not_a_database = dir.path().join("notes.txt");
    std::fs::write(&not_a_database, "not a database at all, just text that is long enough").expect("write");
    let out = tool(&["restore", "--force"], &[("--from", &not_a_database), ("--data", &db)]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not a usable smartag-service database"), "{}", stderr(&out));

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign).expect("open").execute_batch("CREATE TABLE t (x);").expect("table");
    let out = tool(&["restore", "--force"], &[("--from", &foreign), ("--data", &db)]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("without a users table"), "{}", stderr(&out));

    // A real backup with its pages after the first overwritten: the integrity check catches it.
    let backup = dir.path().join("backup.db");
    let out = tool(&["backup"], &[("--data", &db), ("--to", &backup)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut bytes = std::fs::read(&backup).expect("read");
    let page = 4096;
    assert!(bytes.len() >= 3 * page, "a backup of {} bytes", bytes.len());
    for b in &mut bytes[page..] {
        *b = 0xA5;
    }
    std::fs::write(&backup, &bytes).expect("damage");
    let out = tool(&["restore", "--force"], &[("--from", &backup), ("--data", &db)]);
    assert!(!out.status.success(), "a damaged backup was restored");
    assert!(stderr(&out).contains("is not a usable smartag-service database"), "{}", stderr(&out));
    assert_eq!(users_in(&db), 0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn backup_of_a_missing_database_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("nothing.db");
    let out = tool(&["backup"], &[("--data", &db), ("--to", &dir.path().join("b.db"))]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&format!("{} does not exist", db.display())), "{}", stderr(&out));
}
