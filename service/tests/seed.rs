//! Seed files: instances and users loaded at start, checked by the API's own rules, every problem
//! located in the file; applied only to a database without users; all users or none.

mod operating;
mod support;

use std::path::Path;

use operating::{Running, command, run_to_end};
use smartag_service::config::Config;
use smartag_service::outbox::Outbox;
use smartag_service::password::verify_password;
use smartag_service::seed::{Applied, Seed, SeedError};
use smartag_service::store::Store;
use support::{Call, TEST_CONFIG, describe, exchange};

const SEED_YAML: &str = r#"# a local cloud for tests
instances:
  - region: cn-shanghai
    id: sag-seeded
    cidr: 10.50.0.0/24
    max_users: 3
users:
  - RegionId: cn-shanghai
    SmartAGId: sag-seeded
    UserMail: alice@example.com
    Bandwidth: 200
    UserName: alice01
    Password: Passw0rd-1
  - RegionId: cn-shanghai
    SmartAGId: sag-seeded
    UserMail: bob@example.com
    Bandwidth: "20"
    ClientIp: 10.50.0.9
  - RegionId: cn-shanghai
    SmartAGId: sag-demo
    UserMail: carol@example.com
    Bandwidth: 50
    UserName: carol0001
    Password: Carol-pass-9
"#;

fn config() -> Config {
    Config::parse(TEST_CONFIG, "smartag.toml").expect("the test config")
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
    outbox: Outbox,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("smartag.db")).expect("store");
    let outbox = Outbox::new(dir.path().join("outbox")).expect("outbox");
    Fixture { dir, store, outbox }
}

fn names(store: &Store, instance: &str) -> Vec<(String, String, bool)> {
    let (_, users) = store.list_users("cn-shanghai", instance, None, None, 1, 100).expect("list");
    users.into_iter().map(|u| (u.user_name, u.client_ip, u.is_static_ip)).collect()
}

/// The messages of an `Invalid` seed error, each with its `file:line:column`.
fn problems(error: SeedError) -> Vec<String> {
    match error {
        SeedError::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
        other => panic!("expected located problems, got {other:?}"),
    }
}

fn apply(text: &str, f: &Fixture) -> Result<Applied, SeedError> {
    let seed = Seed::parse(text, Path::new("seed.yaml"))?;
    let mut config = config();
    seed.add_instances_to(&mut config)?;
    seed.apply(&config, &f.store, &f.outbox)
}

#[test]
fn a_yaml_seed_creates_its_instances_and_users_with_hashed_passwords() {
    let f = fixture();
    assert_eq!(apply(SEED_YAML, &f).expect("applied"), Applied::Created(3));
    assert_eq!(
        names(&f.store, "sag-seeded"),
        [
            ("alice01".to_owned(), "10.50.0.2".to_owned(), false),
            // Without UserName the account is named after its UserMail, as Create does.
            ("bob@example.com".to_owned(), "10.50.0.9".to_owned(), true),
        ]
    );
    assert_eq!(names(&f.store, "sag-demo"), [("carol0001".to_owned(), "10.10.0.2".to_owned(), false)]);

    // The password is stored as an argon2id hash of the seed's password, never as itself.
    let db = rusqlite::Connection::open(f.dir.path().join("smartag.db")).expect("open");
    let hash: String =
        db.query_row("SELECT password_hash FROM users WHERE user_name = 'alice01'", [], |r| r.get(0)).expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(verify_password("Passw0rd-1", &hash).expect("verify"));
    // Each account's e-mail is in the outbox, as after a Create (bob's with a generated password).
    assert_eq!(std::fs::read_dir(f.dir.path().join("outbox")).expect("outbox").count(), 3);
}

#[test]
fn a_json_seed_is_read_as_well() {
    let f = fixture();
    let json = r#"{
  "users": [
    {"RegionId": "cn-shanghai", "SmartAGId": "sag-demo", "UserMail": "dan@example.com", "Bandwidth": 10,
     "UserName": "dan00001", "Password": "Dan-pass-01"}
  ]
}"#;
    let seed = Seed::parse(json, Path::new("seed.json")).expect("json seed");
    assert_eq!(seed.users().len(), 1);
    assert_eq!(seed.apply(&config(), &f.store, &f.outbox).expect("applied"), Applied::Created(1));
    assert_eq!(names(&f.store, "sag-demo").len(), 1);
}

#[test]
fn a_database_with_users_keeps_them_and_gets_no_seed_users() {
    let f = fixture();
    assert_eq!(apply(SEED_YAML, &f).expect("first start"), Applied::Created(3));
    // A second start with the same seed (instances are added again, users are not).
    assert_eq!(apply(SEED_YAML, &f).expect("second start"), Applied::SkippedNotEmpty);
    assert_eq!(names(&f.store, "sag-seeded").len(), 2);
    assert_eq!(names(&f.store, "sag-demo").len(), 1);
}

#[test]
fn every_request_problem_is_reported_at_its_user_and_key() {
    let text = r#"users:
  - RegionId: cn-shanghai
    SmartAGId: sag-demo
    UserMail: not-an-email
    Bandwidth: 5000
  - RegionId: cn-shanghai
    SmartAGId: sag-demo
    UserMail: ok@example.com
    Bandwidth: 20
    UserName: abc
    Password: Passw0rd-1
  - RegionId: cn-shanghai
    SmartAGId: sag-demo
    UserMail: ok2@example.com
    Bandwith: 20
"#;
    let error = Seed::parse(text, Path::new("seed.yaml")).expect_err("refused");
    let found = problems(error);
    let expect = [
        "seed.yaml:4:15: UserMail:",
        "seed.yaml:5:16: Bandwidth:",
        "seed.yaml:10:15: UserName:",
        // The third user lacks Bandwidth (the misspelt key does not count): at the user's entry.
        "seed.yaml:12:5: Bandwidth:",
        "seed.yaml:15:5: unknown key `Bandwith`: did you mean `Bandwidth`?",
    ];
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for (want, got) in expect.iter().zip(&found) {
        assert!(got.starts_with(want), "{got:?} does not start with {want:?}\nall: {found:#?}");
    }
    assert!(found.iter().any(|p| p.contains("ClientUser.BandwidthInvalid")), "{found:#?}");
    assert!(found.iter().any(|p| p.contains("ClientUser.NameInvalid")), "{found:#?}");
}

#[test]
fn every_service_problem_is_reported_and_nothing_is_created() {
    let f = fixture();
    let text = r#"instances:
  - region: cn-shanghai
    id: sag-one
    cidr: 10.60.0.0/29
    max_users: 1
users:
  - {RegionId: cn-shanghai, SmartAGId: sag-one, UserMail: a@example.com, Bandwidth: 1}
  - {RegionId: cn-shanghai, SmartAGId: sag-one, UserMail: b@example.com, Bandwidth: 1}
  - {RegionId: cn-shanghai, SmartAGId: sag-nowhere, UserMail: c@example.com, Bandwidth: 1}
  - {RegionId: cn-shanghai, SmartAGId: sag-demo, UserMail: d@example.com, Bandwidth: 1, ClientIp: 10.99.0.5}
  - {RegionId: cn-shanghai, SmartAGId: sag-demo, UserMail: e@example.com, Bandwidth: 1, UserName: twin0001, Password: Passw0rd-1}
  - {RegionId: cn-shanghai, SmartAGId: sag-demo, UserMail: f@example.com, Bandwidth: 1, UserName: twin0001, Password: Passw0rd-1}
"#;
    let found = problems(apply(text, &f).expect_err("refused"));
    let expect = [
        ("seed.yaml:8:", "ClientUser.UserOverLimit"),
        ("seed.yaml:9:", "SAG.InstanceNoFound"),
        ("seed.yaml:10:", "ClientUser.IpInvalid"),
        ("seed.yaml:12:", "ClientUser.UserExist"),
    ];
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for ((line, code), got) in expect.iter().zip(&found) {
        assert!(got.starts_with(line) && got.contains(code), "{got:?}: expected {line} {code}");
    }
    assert!(f.store.is_empty().expect("count"), "a refused seed created users");
    assert_eq!(std::fs::read_dir(f.dir.path().join("outbox")).expect("outbox").count(), 0);
}

#[test]
fn syntax_and_structure_errors_are_located() {
    let bad_yaml = "users:\n  - RegionId: cn-shanghai\n   SmartAGId: x\n";
    let found = problems(Seed::parse(bad_yaml, Path::new("seed.yaml")).expect_err("syntax"));
    assert!(found[0].starts_with("seed.yaml:3:"), "{found:?}");

    let unknown_top = "instances: []\nusers: []\ngroups: []\n";
    let found = problems(Seed::parse(unknown_top, Path::new("seed.yaml")).expect_err("unknown key"));
    assert!(found[0].starts_with("seed.yaml:3:") && found[0].contains("groups"), "{found:?}");

    let bad_json = "{\"users\": [{\"RegionId\": \"cn-shanghai\",}]}";
    let found = problems(Seed::parse(bad_json, Path::new("seed.json")).expect_err("json"));
    assert!(found[0].starts_with("seed.json:1:"), "{found:?}");
}

#[test]
fn seed_instances_follow_the_config_rules_and_may_not_repeat_configured_ones() {
    let text =
        "instances:\n  - {region: cn-shanghai, id: sag-x, cidr: 8.8.8.0/24}\n  - {region: cn-shanghai, id: sag-demo}\n";
    let seed_error = Seed::parse(text, Path::new("seed.yaml")).expect_err("public cidr");
    let found = problems(seed_error);
    assert!(found[0].starts_with("seed.yaml:2:") && found[0].contains("private range"), "{found:?}");

    let seed = Seed::parse("instances:\n  - {region: cn-shanghai, id: sag-demo}\n", Path::new("seed.yaml"))
        .expect("valid by itself");
    let found = problems(seed.add_instances_to(&mut config()).expect_err("already configured"));
    assert!(found[0].starts_with("seed.yaml:2:") && found[0].contains("already in the configuration"), "{found:?}");
}

#[test]
fn a_seed_instance_listed_twice_is_located_with_the_line_of_the_first() {
    let text = "instances:\n  - region: cn-shanghai\n    id: sag-twice\n  - {region: cn-beijing, id: sag-twice}\n  - {region: cn-shanghai, id: sag-twice, max_users: 0}\n";
    let found = problems(Seed::parse(text, Path::new("seed.yaml")).expect_err("listed twice"));
    assert_eq!(
        found,
        [
            "seed.yaml:5:31: duplicate instance \"sag-twice\" in region \"cn-shanghai\" (first defined on line 2)",
            "seed.yaml:5:53: max_users must be between 1 and 4294967295, not 0",
        ],
    );
}

/// Describe of `instance` on a running service: the user names.
fn described(service: &Running, instance: &str) -> Vec<String> {
    let call = Call::v1("DescribeSmartAccessGatewayClientUsers", &describe(instance));
    let reply = exchange(service.addr, &call.to_bytes(service.addr)).expect("answer");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["Users"]["User"]
        .as_array()
        .map(|users| users.iter().filter_map(|u| u["UserName"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[test]
fn the_binary_seeds_an_empty_database_at_start_and_skips_the_users_on_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("smartag.toml");
    std::fs::write(&config, TEST_CONFIG).expect("config");
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, SEED_YAML).expect("seed");
    let start = || {
        let mut c = command();
        c.args(["--listen", "127.0.0.1:0", "--config"]).arg(&config).arg("--seed").arg(&seed);
        c.arg("--data").arg(dir.path().join("data/smartag.db"));
        Running::start(c, &dir.path().join("service.log"))
    };
    let mut service = start();
    assert_eq!(described(&service, "sag-seeded"), ["alice01", "bob@example.com"]);
    assert_eq!(described(&service, "sag-demo"), ["carol0001"]);
    assert!(service.terminate().success());

    let service = start();
    // The seed's instance is still there (it is configuration), its users are not doubled.
    assert_eq!(described(&service, "sag-seeded"), ["alice01", "bob@example.com"]);
    assert!(service.log_text().contains("already has users"), "{}", service.log_text());
}

#[test]
fn a_bad_seed_file_stops_the_start_with_its_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = dir.path().join("seed.yaml");
    std::fs::write(
        &seed,
        "users:\n  - {RegionId: cn-shanghai, SmartAGId: sag-demo, UserMail: a@example.com, Bandwidth: 0}\n",
    )
    .expect("seed");
    let mut c = command();
    c.args(["--listen", "127.0.0.1:0", "--seed"]).arg(&seed).arg("--data").arg(dir.path().join("db/smartag.db"));
    let out = run_to_end(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(&format!("{}:2:", seed.display())) && err.contains("ClientUser.BandwidthInvalid"), "{err}");
    assert!(!dir.path().join("db").exists(), "the service opened its database anyway");
}
