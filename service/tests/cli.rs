//! The binary's command line: refusals that keep the service from starting, with the reason.

use std::process::Command;

fn service() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smartag-service"))
}

#[test]
fn the_demo_key_is_refused_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = service()
        .args(["--listen", "0.0.0.0:0", "--data"])
        .arg(dir.path().join("db.sqlite"))
        .output()
        .expect("run the service");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to listen on 0.0.0.0:0 with the demo access key"), "{err}");
    assert!(err.contains("--config"), "{err}");
}

#[test]
fn a_bad_config_file_names_file_line_and_problem_and_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("smartag.toml");
    std::fs::write(
        &config,
        "[[access_keys]]\nid = \"k\"\nsecret = \"s\"\n\n[[instances]]\nregion = \"cn-shanghai\"\nid = \"sag-1\"\ncidrr = \"10.0.0.0/24\"\n",
    )
    .expect("write config");
    let out =
        service().arg("--config").arg(&config).arg("--data").arg(dir.path().join("db.sqlite")).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("smartag.toml:8:"), "no file:line in {err}");
    assert!(err.contains("cidrr"), "the problem is not named in {err}");
    assert!(!dir.path().join("db.sqlite").exists(), "the service started anyway");
}

#[test]
fn help_lists_the_options() {
    let out = service().arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in ["--listen", "--config", "--data"] {
        assert!(text.contains(opt), "{opt} missing from --help:\n{text}");
    }
}

/// A database file the process may not write: the service refuses to start, naming the file,
/// rather than answer every write with an error until restarted. Root writes whatever the mode
/// says, so as root the service runs as `nobody` (with `setpriv`) on a file root owns.
#[test]
fn a_database_file_it_cannot_write_is_refused_with_its_name() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let db = data.join("smartag.db");
    // A database with the current schema, as a previous run leaves it (nothing to migrate).
    std::fs::create_dir_all(&data).expect("data folder");
    drop(smartag_service::store::Store::open(&db).expect("create the database"));
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).expect("chmod 444");

    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut command = if is_root {
        // nobody must reach the binary and own the folders the service creates things in.
        for path in [dir.path(), data.as_path()] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod 755");
        }
        let chown = Command::new("chown").arg("65534:65534").arg(&data).status().expect("run chown");
        assert!(chown.success());
        let mut command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_smartag-service")]);
        command
    } else {
        service()
    };
    let log = dir.path().join("stderr.log");
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&db)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("the log file"))
        .spawn()
        .expect("run the service");
    // A hang guard only: a service that started would run until killed.
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the service") {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the service started on a read-only database: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(&log).expect("the log");
    assert!(!status.success(), "{err}");
    assert!(err.contains(&format!("database {} is read-only for this process", db.display())), "{err}");
}
