//! The harness against the real server binaries.

use std::process::Command;

use postgres_harness::{PgCluster, find_bindir};

fn psql(url: &str, sql: &str) -> Result<String, String> {
    let bindir = find_bindir().map_err(|e| e.to_string())?;
    let output = Command::new(bindir.join("psql"))
        .arg(url)
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn starts_creates_databases_stops_and_starts_again() {
    let mut cluster = PgCluster::start().expect("a cluster starts");
    let url = cluster.create_database("harness_one").expect("a database");
    assert!(url.ends_with("/harness_one"), "{url}");
    psql(&url, "CREATE TABLE t (x int); INSERT INTO t VALUES (7)").expect("write");
    cluster.stop().expect("stops");
    assert!(psql(&url, "SELECT 1").is_err(), "a stopped server answers");
    cluster.start_again().expect("starts again");
    assert_eq!(psql(&url, "SELECT x FROM t").expect("read after restart"), "7");
    // Loopback only.
    assert_eq!(psql(&cluster.url(), "SHOW listen_addresses").expect("setting"), "127.0.0.1");
    drop(cluster);
    assert!(psql(&url, "SELECT 1").is_err(), "the dropped cluster is stopped");
}

#[test]
fn fresh_databases_are_distinct() {
    let a = postgres_harness::fresh_database("fresh").expect("first");
    let b = postgres_harness::fresh_database("fresh").expect("second");
    assert_ne!(a, b);
    assert_eq!(psql(&a, "SELECT current_database()").expect("connects"), a.rsplit('/').next().unwrap_or_default());
}

#[test]
fn bad_names_are_refused() {
    let cluster = PgCluster::shared().expect("shared cluster");
    assert!(cluster.create_database("Robert'); DROP").is_err());
}
