//! Configuration from environment variables: one per key, applied over the file, under the
//! command line's flags; a bad value names its variable and what it expects.

mod operating;
mod support;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use operating::{Running, command, run_to_end};
use smartag_service::config::{Config, ConfigError, ENV_VARS};

const FILE: &str = r#"listen = "127.0.0.1:7000"
data = "file-data/smartag.db"

[[access_keys]]
id = "file-key"
secret = "file-secret"

[[instances]]
region = "cn-shanghai"
id = "sag-file"
cidr = "10.10.0.0/24"

[limits]
request_timeout_ms = 5000
"#;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = pairs.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(v))).collect();
    move |name| map.get(name).cloned()
}

fn file_config() -> Config {
    Config::parse(FILE, "/etc/smartag/smartag.toml").expect("the file")
}

#[test]
fn without_variables_the_file_decides_and_relative_paths_follow_the_file() {
    let config = file_config().with_env(vars(&[])).expect("no variables");
    assert_eq!(config.listen(), Some("127.0.0.1:7000".parse().expect("addr")));
    assert_eq!(config.data(), Some(Path::new("/etc/smartag/file-data/smartag.db")));
    assert_eq!(config.limits().request_timeout, Some(Duration::from_millis(5000)));
    assert_eq!(config.access_keys()[0].id, "file-key");
}

#[test]
fn each_variable_wins_over_its_key_in_the_file() {
    let config = file_config()
        .with_env(vars(&[
            ("SMARTAG_LISTEN", "0.0.0.0:9000"),
            ("SMARTAG_DATA", "/var/lib/smartag/smartag.db"),
            ("SMARTAG_SEED", "seed.json"),
            ("SMARTAG_TLS_CERT", "cert.pem"),
            ("SMARTAG_TLS_KEY", "key.pem"),
            ("SMARTAG_ACCESS_KEY_ID", "env-key"),
            ("SMARTAG_ACCESS_KEY_SECRET", "env-secret"),
            ("SMARTAG_ACCESS_KEY_SECURITY_TOKEN", "env-token"),
            (
                "SMARTAG_INSTANCES",
                r#"[{"region": "cn-beijing", "id": "sag-env", "cidr": "192.168.0.0/24", "max_users": 7}]"#,
            ),
            ("SMARTAG_LIMITS_REQUEST_TIMEOUT_MS", "250"),
            ("SMARTAG_LIMITS_BODY_LIMIT_BYTES", "2048"),
            ("SMARTAG_LIMITS_NONCE_CAPACITY", "10"),
            ("SMARTAG_LIMITS_TIMESTAMP_WINDOW_S", "60"),
        ]))
        .expect("valid variables");
    assert_eq!(config.listen(), Some("0.0.0.0:9000".parse().expect("addr")));
    assert_eq!(config.data(), Some(Path::new("/var/lib/smartag/smartag.db")));
    assert_eq!(config.seed(), Some(Path::new("seed.json")));
    assert_eq!(config.tls().cert.as_deref(), Some(Path::new("cert.pem")));
    assert_eq!(config.tls().key.as_deref(), Some(Path::new("key.pem")));
    let keys = config.access_keys();
    assert_eq!(keys.len(), 1, "the variable's key replaces the file's");
    assert_eq!((keys[0].id.as_str(), keys[0].secret.expose()), ("env-key", "env-secret"));
    assert_eq!(keys[0].security_token.as_ref().map(|t| t.expose()), Some("env-token"));
    assert!(config.instance("cn-shanghai", "sag-file").is_none(), "the variable's instances replace the file's");
    let env = config.instance("cn-beijing", "sag-env").expect("sag-env");
    assert_eq!((env.cidr, env.max_users), (Some("192.168.0.0/24".parse().expect("net")), 7));
    let limits = config.limits();
    assert_eq!(limits.request_timeout, Some(Duration::from_millis(250)));
    assert_eq!(limits.body_limit, Some(2048));
    assert_eq!(limits.nonce_capacity, Some(10));
    assert_eq!(limits.timestamp_window, Some(Duration::from_secs(60)));
}

#[test]
fn the_file_s_tls_table_needs_both_files() {
    let text = format!("{FILE}\n[tls]\ncert = \"cert.pem\"\n");
    let error = Config::parse(&text, "smartag.toml").expect_err("no key");
    let problems = error.problems();
    assert_eq!(problems.len(), 1, "{error}");
    assert_eq!(problems[0].location.line, Some(17), "{error}");
    assert!(problems[0].message.contains("[tls] needs both `cert` and `key`"), "{error}");
    let text = format!("{FILE}\n[tls]\ncert = \"cert.pem\"\nkey = \"/keys/key.pem\"\n");
    let config = Config::parse(&text, "/etc/smartag/smartag.toml").expect("both");
    assert_eq!(config.tls().cert.as_deref(), Some(Path::new("/etc/smartag/cert.pem")));
    assert_eq!(config.tls().key.as_deref(), Some(Path::new("/keys/key.pem")));
}

#[test]
fn an_empty_variable_counts_as_unset() {
    let config = file_config().with_env(vars(&[("SMARTAG_LISTEN", ""), ("SMARTAG_DATA", "")])).expect("empty");
    assert_eq!(config.listen(), Some("127.0.0.1:7000".parse().expect("addr")));
}

#[test]
fn every_bad_variable_is_named_with_what_it_expects_and_no_secret_is_echoed() {
    let error = file_config()
        .with_env(vars(&[
            ("SMARTAG_LISTEN", "localhost"),
            ("SMARTAG_LIMITS_REQUEST_TIMEOUT_MS", "0"),
            ("SMARTAG_LIMITS_NONCE_CAPACITY", "lots"),
            ("SMARTAG_INSTANCES", r#"[{"region": "cn-shanghai", "id": "sag-1", "cidr": "10.0.0.5/24"}, {"region": "cn-shanghai", "id": "sag-1"}]"#),
            ("SMARTAG_ACCESS_KEY_ID", "env-key"),
            ("SMARTAG_ACCESS_KEY_SECRET", " hunter2"),
        ]))
        .expect_err("bad values");
    let ConfigError::Environment(problems) = &error else { panic!("{error:?}") };
    let text = error.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(problems.len(), 6, "{text}");
    for (line, (variable, expects)) in lines.iter().zip([
        ("SMARTAG_LISTEN", "is not a socket address such as \"127.0.0.1:8080\""),
        ("SMARTAG_ACCESS_KEY_SECRET", "leading or trailing whitespace"),
        ("SMARTAG_INSTANCES", "[0].cidr: cidr \"10.0.0.5/24\" has host bits set"),
        ("SMARTAG_INSTANCES", "[1]: duplicate instance \"sag-1\""),
        ("SMARTAG_LIMITS_REQUEST_TIMEOUT_MS", "must be between 100 and 3600000 milliseconds, not 0"),
        ("SMARTAG_LIMITS_NONCE_CAPACITY", "\"lots\" is not a whole number; expected 1 to 10000000 nonces"),
    ]) {
        assert!(line.starts_with(&format!("environment variable {variable}: ")), "{line}");
        assert!(line.contains(expects), "{line:?} should say {expects:?}");
    }
    assert!(!text.contains("hunter2"), "a secret was echoed: {text}");
}

#[test]
fn an_access_key_needs_its_id_and_its_secret() {
    let error = file_config().with_env(vars(&[("SMARTAG_ACCESS_KEY_ID", "k")])).expect_err("no secret");
    assert!(error.to_string().contains("SMARTAG_ACCESS_KEY_ID: is set without SMARTAG_ACCESS_KEY_SECRET"), "{error}");
    let error = file_config().with_env(vars(&[("SMARTAG_INSTANCES", "{\"region\": 1}")])).expect_err("not a list");
    assert!(error.to_string().starts_with("environment variable SMARTAG_INSTANCES: is not a JSON array"), "{error}");
}

#[test]
fn every_variable_is_in_the_readme_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
    for var in ENV_VARS {
        assert!(readme.contains(&format!("| `{}` |", var.name)), "{} is missing from the README's table", var.name);
    }
}

/// The binary: the variables configure it (listen, data, access key, instances), a flag wins over
/// its variable, and a bad variable stops the start with its name.
#[test]
fn the_binary_takes_its_configuration_from_the_environment_under_its_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env_db = dir.path().join("env-data/smartag.db");
    let mut c = command();
    c.env("SMARTAG_LISTEN", "127.0.0.1:0")
        .env("SMARTAG_DATA", &env_db)
        .env("SMARTAG_ACCESS_KEY_ID", support::KEY_ID)
        .env("SMARTAG_ACCESS_KEY_SECRET", support::SECRET)
        .env("SMARTAG_INSTANCES", r#"[{"region": "cn-shanghai", "id": "sag-env", "cidr": "10.70.0.0/24"}]"#);
    let service = Running::start(c, &dir.path().join("env.log"));
    assert_eq!(service.data, env_db);
    let call = support::Call::v1("DescribeSmartAccessGatewayClientUsers", &support::describe("sag-env"));
    let reply = support::exchange(service.addr, &call.to_bytes(service.addr)).expect("answer");
    assert_eq!(reply.status, 200, "{}", reply.body);
    drop(service);

    let flag_db = dir.path().join("flag-data/smartag.db");
    let mut c = command();
    c.env("SMARTAG_LISTEN", "127.0.0.1:0").env("SMARTAG_DATA", &env_db).arg("--data").arg(&flag_db);
    let service = Running::start(c, &dir.path().join("flag.log"));
    assert_eq!(service.data, flag_db, "--data wins over SMARTAG_DATA");
    drop(service);

    let mut c = command();
    c.env("SMARTAG_LISTEN", "127.0.0.1:0").env("SMARTAG_LIMITS_BODY_LIMIT_BYTES", "1k");
    c.arg("--data").arg(dir.path().join("bad/smartag.db"));
    let out = run_to_end(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("environment variable SMARTAG_LIMITS_BODY_LIMIT_BYTES: \"1k\" is not a whole number"),
        "{err}"
    );
}

/// Without --data, SMARTAG_DATA or `data`, the database goes to the platform's data folder (here
/// `$XDG_DATA_HOME/smartag-service`), never into the current directory, and the start says where.
#[test]
fn the_default_data_location_is_the_platform_data_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("checkout");
    std::fs::create_dir_all(&work).expect("work dir");
    let mut c = command();
    c.current_dir(&work).env("HOME", dir.path().join("home")).env("XDG_DATA_HOME", dir.path().join("xdg")).args([
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    let service = Running::start(c, &dir.path().join("default.log"));
    let expected = dir.path().join("xdg/smartag-service/smartag.db");
    assert_eq!(service.data, expected);
    assert!(expected.exists(), "no database at {}", expected.display());
    assert_eq!(std::fs::read_dir(&work).expect("work dir").count(), 0, "the service wrote into the current directory");
}

#[test]
fn fault_rules_come_from_the_environment_too() {
    let config = file_config()
        .with_env(vars(&[("SMARTAG_FAULTS", r#"[{"action": "*", "error": "Throttling", "probability": 0.5}]"#)]))
        .expect("a valid rule");
    assert_eq!(config.faults().len(), 1);
    let error = file_config()
        .with_env(vars(&[("SMARTAG_FAULTS", r#"[{"action": "*", "error": "Throttling", "probability": 2}]"#)]))
        .expect_err("a probability above 1");
    let text = error.to_string();
    assert!(text.starts_with("environment variable SMARTAG_FAULTS: [0]: "), "{text}");
    assert!(text.contains("probability"), "{text}");
    let error = file_config().with_env(vars(&[("SMARTAG_FAULTS", "throttle please")])).expect_err("not JSON");
    assert!(error.to_string().contains("is not a JSON array of fault rules"), "{error}");
}
