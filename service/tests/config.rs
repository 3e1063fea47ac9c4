//! The configuration file: parsing, located errors, semantic checks, the demo configuration.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use smartag_service::config::{
    BODY_LIMIT_BYTES_RANGE, Config, ConfigError, DEFAULT_LISTEN, DEFAULT_MAX_USERS, DEMO_ACCESS_KEY_SECRET,
    DEMO_CONFIG_TOML, Limits, NONCE_CAPACITY_RANGE, REQUEST_TIMEOUT_MS_RANGE, TIMESTAMP_WINDOW_S_RANGE,
};

const GOOD: &str = r#"listen = "0.0.0.0:9000"

[[access_keys]]
id = "prod-key"
secret = "s3cr3t-value"

[[instances]]
region = "cn-shanghai"
id = "sag-a"
cidr = "192.168.10.0/24"

[[instances]]
region = "cn-beijing"
id = "sag-b"
max_users = 7
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "smartag.toml")
}

/// A problem's (line, column).
type Place = (Option<usize>, Option<usize>);

/// The place of every problem, and the messages joined.
fn problems(error: &ConfigError) -> (Vec<Place>, String) {
    let problems = error.problems();
    let places = problems.iter().map(|p| (p.location.line, p.location.column)).collect();
    let messages = problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>().join("\n");
    (places, messages)
}

#[test]
fn good_file_loads_with_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("smartag.toml");
    std::fs::write(&path, GOOD).expect("write config");
    let config = Config::load(&path).expect("valid config");

    assert!(!config.is_demo());
    assert!(!config.has_demo_credentials());
    assert_eq!(config.listen(), Some("0.0.0.0:9000".parse::<SocketAddr>().expect("addr")));
    assert_eq!(config.access_keys().len(), 1);
    assert_eq!(config.secret_for("prod-key").map(|s| s.expose()), Some("s3cr3t-value"));
    assert!(config.secret_for("testid").is_none());

    let a = config.instance("cn-shanghai", "sag-a").expect("sag-a");
    assert_eq!(a.cidr, Some("192.168.10.0/24".parse().expect("net")));
    assert_eq!(a.max_users, DEFAULT_MAX_USERS);
    assert_eq!(DEFAULT_MAX_USERS, 100);
    let b = config.instance("cn-beijing", "sag-b").expect("sag-b");
    assert_eq!(b.cidr, None);
    assert_eq!(b.max_users, 7);
    assert_eq!(b.limits().max_users, 7);
    assert!(config.instance("cn-shanghai", "sag-b").is_none(), "instances are per region");

    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cr3t-value"), "secret leaked into Debug: {debug}");
}

#[test]
fn listen_is_optional() {
    let text = GOOD.replace("listen = \"0.0.0.0:9000\"\n", "");
    let config = parse(&text).expect("valid");
    assert_eq!(config.listen(), None);
    assert_eq!(config.listen_or_default(), DEFAULT_LISTEN);
    assert_eq!(DEFAULT_LISTEN.to_string(), "127.0.0.1:8080");
}

#[test]
fn demo_config_is_valid_and_matches_its_toml() {
    let demo = Config::demo();
    assert!(demo.is_demo());
    assert!(demo.has_demo_credentials());
    let parsed = parse(DEMO_CONFIG_TOML).expect("the demo TOML is valid");
    assert!(!parsed.is_demo());
    assert!(parsed.has_demo_credentials(), "a file carrying the demo key is flagged too");
    assert_eq!(parsed.listen(), demo.listen());
    assert_eq!(parsed.access_keys(), demo.access_keys());
    assert_eq!(parsed.instances(), demo.instances());

    assert_eq!(demo.secret_for("testid").map(|s| s.expose()), Some("testsecret"));
    let shanghai = demo.instance("cn-shanghai", "sag-demo").expect("sag-demo");
    assert_eq!(shanghai.cidr, Some("10.10.0.0/24".parse().expect("net")));
    assert_eq!(shanghai.max_users, 100);
    assert_eq!(demo.instance("cn-shanghai", "sag-nocidr").expect("sag-nocidr").cidr, None);
    let hangzhou = demo.instance("cn-hangzhou", "sag-demo-hz").expect("sag-demo-hz");
    assert_eq!(hangzhou.cidr, Some("10.20.0.0/24".parse().expect("net")));
    assert_eq!(hangzhou.max_users, 5);

    assert!(!format!("{demo:?}").contains(DEMO_ACCESS_KEY_SECRET));
}

#[test]
fn unknown_top_level_key_is_located() {
    let error = parse("lisen = \"127.0.0.1:1\"\n").expect_err("unknown key");
    assert!(matches!(error, ConfigError::Parse(_)), "{error:?}");
    let (places, messages) = problems(&error);
    assert_eq!(places, vec![(Some(1), Some(1))]);
    assert!(messages.contains("unknown field `lisen`"), "{messages}");
    assert!(error.to_string().starts_with("smartag.toml:1:1: "), "{error}");
}

#[test]
fn unknown_key_in_an_instance_is_located() {
    let text = GOOD.replace("max_users = 7", "max_users = 7\n  maxusers = 8");
    let error = parse(&text).expect_err("unknown key");
    let (places, messages) = problems(&error);
    assert_eq!(places, vec![(Some(16), Some(3))], "{error}");
    assert!(messages.contains("unknown field `maxusers`"), "{messages}");
}

#[test]
fn syntax_error_is_located() {
    let text = "[[access_keys]]\nid = \"k\"\nsecret = \n";
    let error = parse(text).expect_err("syntax error");
    let (places, _) = problems(&error);
    assert_eq!(places.len(), 1);
    assert_eq!(places[0].0, Some(3), "{error}");
    assert!(error.to_string().starts_with("smartag.toml:3:"), "{error}");
}

#[test]
fn wrong_type_is_located() {
    let text = GOOD.replace("max_users = 7", "max_users = \"seven\"");
    let error = parse(&text).expect_err("type error");
    let (places, messages) = problems(&error);
    assert_eq!(places, vec![(Some(15), Some(13))], "{error}");
    assert!(messages.contains("invalid type: string \"seven\""), "{messages}");
}

#[test]
fn every_semantic_problem_is_reported_at_its_value() {
    let text = r#"listen = "localhost"
[[access_keys]]
id = "k1"
secret = ""
[[access_keys]]
id = "k1"
secret = " pasted-with-space"
[[instances]]
region = "cn-shanghai"
id = "sag-a"
cidr = "10.10.0.5/24"
[[instances]]
region = "cn-shanghai"
id = "sag-a"
cidr = "10.0.0.0/31"
max_users = 0
[[instances]]
region = "cn-shanghai"
id = "sag-public"
cidr = "8.8.8.0/24"
max_users = 99999999999
[[instances]]
region = "cn shanghai"
id = "sag-v6"
cidr = "fd00::/64"
"#;
    let error = parse(text).expect_err("invalid");
    assert!(matches!(error, ConfigError::Invalid(_)), "{error:?}");
    let (places, messages) = problems(&error);
    let lines: Vec<_> = places.iter().map(|(line, _)| line.expect("every problem has a line")).collect();
    assert_eq!(lines, vec![1, 4, 6, 7, 11, 14, 15, 16, 20, 21, 23, 25], "{error}");
    for expected in [
        "listen: \"localhost\" is not a socket address",
        "access key secret must not be empty",
        "duplicate access key id \"k1\" (first defined on line 3)",
        "access key secret has leading or trailing whitespace",
        "has host bits set; write the network address, \"10.10.0.0/24\"",
        "duplicate instance \"sag-a\" in region \"cn-shanghai\" (first defined on line 10)",
        "at least 2 usable host addresses",
        "max_users must be between 1 and 4294967295, not 0",
        "is not inside a private range",
        "not 99999999999",
        "instance region \"cn shanghai\" must not contain whitespace",
        "cidr \"fd00::/64\" is not an IPv4 network",
    ] {
        assert!(messages.contains(expected), "missing {expected:?} in:\n{messages}");
    }
    // Values start after `key = `: columns point at the value.
    assert_eq!(places[0], (Some(1), Some(10)));
    assert!(error.to_string().contains("smartag.toml:11:8: cidr \"10.10.0.5/24\""), "{error}");
    assert!(!error.to_string().contains("pasted-with-space"), "secrets are not echoed: {error}");
}

/// An empty `database_url` is a mistake, not a way to say "SQLite": it is reported where it stands.
#[test]
fn an_empty_database_url_is_located() {
    let text = format!("database_url = \"  \"\n{GOOD}");
    let error = parse(&text).expect_err("an empty database_url");
    let (places, messages) = problems(&error);
    assert_eq!(places, vec![(Some(1), Some(16))]);
    assert!(messages.contains("database_url must not be empty"), "{messages}");
    assert!(messages.contains("remove the key to use the SQLite file"), "{messages}");
}

#[test]
fn access_keys_are_required() {
    let error = parse("[[instances]]\nregion = \"r\"\nid = \"i\"\n").expect_err("no keys");
    let (places, messages) = problems(&error);
    assert_eq!(places, vec![(None, None)]);
    assert!(messages.contains("no [[access_keys]]"), "{messages}");
    assert_eq!(error.to_string(), format!("smartag.toml: {messages}"));
}

#[test]
fn smallest_and_edge_cidrs() {
    let base = "[[access_keys]]\nid = \"k\"\nsecret = \"s\"\n[[instances]]\nregion = \"r\"\nid = \"i\"\n";
    for good in ["10.0.0.0/30", "172.16.0.0/12", "192.168.255.252/30", "10.0.0.0/8"] {
        parse(&format!("{base}cidr = \"{good}\"\n")).unwrap_or_else(|e| panic!("{good} should be valid: {e}"));
    }
    for bad in ["10.0.0.0/32", "172.15.0.0/16", "100.64.0.0/10", "10.0.0.0/7", "10.0.0.0", "not-a-net"] {
        let error = parse(&format!("{base}cidr = \"{bad}\"\n")).expect_err(bad);
        assert_eq!(problems(&error).0, vec![(Some(7), Some(8))], "{bad}: {error}");
    }
}

#[test]
fn missing_file_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("absent.toml");
    let error = Config::load(&path).expect_err("missing file");
    assert!(matches!(&error, ConfigError::Read { path: p, .. } if p == &path), "{error:?}");
    assert!(error.to_string().contains("absent.toml"), "{error}");
    assert!(std::error::Error::source(&error).is_some(), "the I/O error is the source");
}

#[test]
fn load_errors_name_the_real_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "\n\nbogus = 1\n").expect("write");
    let error = Config::load(&path).expect_err("unknown key");
    let expected = format!("{}:3:1: ", Path::new(&path).display());
    assert!(error.to_string().starts_with(&expected), "{error}");
}

#[test]
fn temporary_keys_carry_a_security_token() {
    let text = r#"
[[access_keys]]
id = "STS.temp"
secret = "temp-secret"
security_token = "the-token"

[[access_keys]]
id = "perm"
secret = "perm-secret"
"#;
    let config = parse(text).expect("valid config");
    let keys = config.access_keys();
    assert_eq!(keys[0].security_token.as_ref().map(|t| t.expose()), Some("the-token"));
    assert!(keys[1].security_token.is_none());
    assert!(!format!("{config:?}").contains("the-token"));

    let bad = parse("[[access_keys]]\nid = \"k\"\nsecret = \"s\"\nsecurity_token = \" t\"\n").expect_err("whitespace");
    let (places, messages) = problems(&bad);
    assert_eq!(places, [(Some(4), Some(18))]);
    assert!(messages.contains("security_token has leading or trailing whitespace"), "{messages}");
    assert!(!messages.contains(" t\""), "a token is never echoed: {messages}");
}

#[test]
fn limits_are_optional_and_each_key_is_too() {
    assert_eq!(parse(GOOD).expect("valid").limits(), Limits::default());
    assert_eq!(Config::demo().limits(), Limits::default());

    let text = format!(
        "{GOOD}\n[limits]\nrequest_timeout_ms = 2500\nbody_limit_bytes = 1024\nnonce_capacity = 1\ntimestamp_window_s = 60\n"
    );
    let limits = parse(&text).expect("valid limits").limits();
    assert_eq!(
        limits,
        Limits {
            request_timeout: Some(Duration::from_millis(2500)),
            body_limit: Some(1024),
            nonce_capacity: Some(1),
            timestamp_window: Some(Duration::from_secs(60)),
        }
    );
    let only_one = parse(&format!("{GOOD}\n[limits]\nnonce_capacity = 5000\n")).expect("valid").limits();
    assert_eq!(only_one, Limits { nonce_capacity: Some(5000), ..Limits::default() });

    // The ends of each range are allowed.
    for (key, range) in [
        ("request_timeout_ms", REQUEST_TIMEOUT_MS_RANGE),
        ("body_limit_bytes", BODY_LIMIT_BYTES_RANGE),
        ("nonce_capacity", NONCE_CAPACITY_RANGE),
        ("timestamp_window_s", TIMESTAMP_WINDOW_S_RANGE),
    ] {
        for value in [range.start(), range.end()] {
            parse(&format!("{GOOD}\n[limits]\n{key} = {value}\n")).unwrap_or_else(|e| panic!("{key} = {value}: {e}"));
        }
    }
}

#[test]
fn zero_and_absurd_limits_are_refused_at_their_value_with_what_is_allowed() {
    // GOOD has 15 lines and a blank one follows: `[limits]` is line 17.
    let text = format!(
        "{GOOD}\n[limits]\nrequest_timeout_ms = 0\nbody_limit_bytes = 10_000_000_000\nnonce_capacity = -1\n\
         timestamp_window_s = 604800\n"
    );
    let error = parse(&text).expect_err("invalid limits");
    assert!(matches!(error, ConfigError::Invalid(_)), "{error:?}");
    let (places, messages) = problems(&error);
    assert_eq!(places, vec![(Some(18), Some(22)), (Some(19), Some(20)), (Some(20), Some(18)), (Some(21), Some(22))]);
    for expected in [
        "limits.request_timeout_ms must be between 100 and 3600000 milliseconds, not 0",
        "limits.body_limit_bytes must be between 1024 and 104857600 bytes, not 10000000000",
        "limits.nonce_capacity must be between 1 and 10000000 nonces, not -1",
        "limits.timestamp_window_s must be between 1 and 86400 seconds, not 604800",
    ] {
        assert!(messages.contains(expected), "missing {expected:?} in:\n{messages}");
    }
    assert!(error.to_string().contains("smartag.toml:18:22: limits.request_timeout_ms"), "{error}");

    // A wrong type or an unknown key is located by the parser.
    let error = parse(&format!("{GOOD}\n[limits]\nrequest_timeout_ms = \"30s\"\n")).expect_err("a string");
    assert_eq!(problems(&error).0, vec![(Some(18), Some(22))], "{error}");
    let error = parse(&format!("{GOOD}\n[limits]\nrequest_timeout = 30\n")).expect_err("unknown key");
    let (places, messages) = problems(&error);
    assert_eq!(places, vec![(Some(18), Some(1))], "{error}");
    assert!(messages.contains("unknown field `request_timeout`"), "{messages}");
}
