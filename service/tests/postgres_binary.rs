//! The `smartag-service` binary on PostgreSQL (`--database-url`): two processes on one database
//! answer as one service, and the URL's password shows in neither output nor log.

mod support;

use support::{Call, Service, TEST_CONFIG, create, describe};

#[test]
fn two_processes_on_one_database_answer_as_one_and_never_show_the_password() {
    let url = postgres_harness::fresh_database("binary").expect("a fresh PostgreSQL database");
    // Trust authentication ignores the password; it is there to be hidden.
    let with_password = url.replacen("postgres://postgres@", "postgres://postgres:pw-very-secret-1@", 1);
    assert_ne!(url, with_password);
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let args = ["--database-url", with_password.as_str()];
    let a = Service::start_args(dir_a.path(), TEST_CONFIG, &[], &args);
    let b = Service::start_args(
        dir_b.path(),
        TEST_CONFIG,
        &[("DATABASE_URL", "postgres://ignored:x@127.0.0.1:1/x")],
        &args,
    );

    let created = a.send(&Call::v1("CreateSmartAccessGatewayClientUser", &create("sag-demo", "alice01")));
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["ClientIp"], "10.10.0.2");
    let again = b.send(&Call::v1("CreateSmartAccessGatewayClientUser", &create("sag-demo", "alice01")));
    assert_eq!((again.status, again.json()["Code"].as_str()), (400, Some("ClientUser.UserExist")), "{}", again.body);
    let bob = b.send(&Call::v1("CreateSmartAccessGatewayClientUser", &create("sag-demo", "bob00001")));
    assert_eq!(bob.json()["ClientIp"], "10.10.0.3", "{}", bob.body);
    for service in [&a, &b] {
        let page = service.send(&Call::v1("DescribeSmartAccessGatewayClientUsers", &describe("sag-demo")));
        assert_eq!(page.json()["TotalCount"], 2, "{}", page.body);
    }
    drop((a, b));
    for dir in [&dir_a, &dir_b] {
        let log = std::fs::read_to_string(dir.path().join("service.log")).expect("log");
        assert!(!log.contains("pw-very-secret-1"), "the password is in the log:\n{log}");
        assert!(log.contains("postgres:***@"), "the redacted URL is logged:\n{log}");
    }
}
