//! The admin listener, fault injection, metrics and logs of the real binary, over real HTTP on
//! loopback with a real SQLite database.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Call, Service, TEST_CONFIG, create, describe, http, p};

const CREATE: &str = "CreateSmartAccessGatewayClientUser";
const DESCRIBE: &str = "DescribeSmartAccessGatewayClientUsers";
const ADMIN: &[&str] = &["--admin-listen", "127.0.0.1:0"];

fn start(dir: &std::path::Path) -> Service {
    Service::start_args(dir, TEST_CONFIG, &[], ADMIN)
}

fn admin(service: &Service) -> std::net::SocketAddr {
    service.admin.expect("started with --admin-listen")
}

/// `POST /_admin/faults` with `rule`, which must be accepted; returns the rule's id.
fn add_rule(service: &Service, rule: &str) -> u64 {
    let reply = http(admin(service), "POST", "/_admin/faults", Some(rule));
    assert_eq!(reply.status, 201, "{rule}: {}", reply.body);
    reply.json()["id"].as_u64().expect("the rule's id")
}

fn rules(service: &Service) -> Vec<Value> {
    let reply = http(admin(service), "GET", "/_admin/faults", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["rules"].as_array().cloned().unwrap_or_default()
}

fn create_call(name: &str) -> Call {
    Call::v1(CREATE, &create("sag-demo", name))
}

/// Asserts a JSON admin error: `status`, `{"error": code, "message": …}` with `needle` in the message.
fn assert_admin_error(reply: &support::Reply, status: u16, code: &str, needle: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/json"), "{}", reply.content_type);
    let body = reply.json();
    assert_eq!(body["error"].as_str(), Some(code), "{}", reply.body);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{needle:?} not in {message:?}");
}

#[test]
fn admin_is_off_by_default_and_the_api_port_never_serves_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = Service::start(dir.path());
    assert!(plain.admin.is_none());
    for path in ["/_admin/health", "/_admin/state", "/metrics"] {
        let reply = http(plain.addr, "GET", path, None);
        // The API's own refusal (no Action), never an admin answer.
        reply.assert_error(400, "MissingParameter", path);
    }
    let reply = http(plain.addr, "POST", "/_admin/reset", Some(""));
    reply.assert_error(400, "MissingParameter", "reset on the API port");
    let log = std::fs::read_to_string(&plain.log).expect("the log");
    assert!(log.contains("smartag-service listening"), "{log}");
    assert!(!log.contains("admin endpoints listening"), "no admin listener without --admin-listen: {log}");
    drop(plain);

    // With an admin listener, the API port still does not serve it.
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    assert_ne!(service.admin, Some(service.addr));
    http(service.addr, "GET", "/_admin/health", None).assert_error(400, "MissingParameter", "API port");
    assert_eq!(http(admin(&service), "GET", "/_admin/health", None).status, 200);
}

#[test]
fn a_non_loopback_admin_address_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("smartag.toml");
    std::fs::write(&config, TEST_CONFIG.replace("testid", "ownkey").replace("testsecret", "ownsecret"))
        .expect("write the config");
    let out = Command::new(env!("CARGO_BIN_EXE_smartag-service"))
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(dir.path().join("db.sqlite"))
        .output()
        .expect("run the service");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to serve the admin endpoints on 0.0.0.0:0"), "{err}");
    assert!(err.contains("--admin-allow-remote"), "{err}");
}

#[test]
fn health_is_503_while_the_database_cannot_be_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start_disk_fillable_args(dir.path(), TEST_CONFIG, ADMIN);
    let reply = http(admin(&service), "GET", "/_admin/health", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["status"], "ok");
    assert_eq!(reply.json()["database"], "writable");
    assert_eq!(reply.json()["users"], 0);

    // Every write of the process now fails, as on a full disk.
    service.limit_file_size(Some(0));
    let reply = http(admin(&service), "GET", "/_admin/health", None);
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["status"], "unavailable");
    assert!(reply.json()["error"].as_str().is_some_and(|e| !e.is_empty()), "{}", reply.body);

    service.limit_file_size(None);
    let reply = http(admin(&service), "GET", "/_admin/health", None);
    assert_eq!(reply.status, 200, "writable again: {}", reply.body);
    service.assert_alive("the disk had room again");
}

#[test]
fn reset_deletes_every_user_and_keeps_the_instances() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    for name in ["resetme01", "resetme02"] {
        assert_eq!(service.send(&create_call(name)).status, 200);
    }
    assert_eq!(service.send(&Call::v1(CREATE, &create("sag-small", "resetme03"))).status, 200);

    let reply = http(admin(&service), "POST", "/_admin/reset", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["deleted_users"], 3);

    let page = service.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
    assert_eq!(page.json()["TotalCount"], 0, "{}", page.body);
    // The instances are still there, and hand out their first address again.
    let created = service.send(&create_call("resetme01"));
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.json()["ClientIp"], "10.10.0.2");
    let state = http(admin(&service), "GET", "/_admin/state", None).json();
    assert_eq!(state["instances"].as_array().map(Vec::len), Some(3));
}

#[test]
fn state_lists_instances_and_users_without_hashes_or_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    assert_eq!(service.send(&create_call("stateuser1")).status, 200);
    let mut generated = create("sag-demo", "x");
    generated.retain(|(name, _)| name != "UserName" && name != "Password");
    generated.retain(|(name, _)| name != "UserMail");
    generated.push(p("UserMail", "nopass@example.com"));
    assert_eq!(service.send(&Call::v1(CREATE, &generated)).status, 200);

    let reply = http(admin(&service), "GET", "/_admin/state", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/json"));
    for secret in ["$argon2", "argon2id", "Passw0rd-1", "testsecret", "password"] {
        assert!(!reply.body.contains(secret), "{secret:?} in {}", reply.body);
    }
    let state = reply.json();
    let demo = state["instances"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["id"] == "sag-demo"))
        .cloned()
        .expect("sag-demo is listed");
    assert_eq!(demo["region"], "cn-shanghai");
    assert_eq!(demo["cidr"], "10.10.0.0/24");
    assert_eq!(demo["max_users"], 100);
    assert_eq!(demo["user_count"], 2);
    let names: Vec<&str> =
        demo["users"].as_array().expect("users").iter().filter_map(|u| u["user_name"].as_str()).collect();
    assert_eq!(names, ["stateuser1", "nopass@example.com"]);
    assert_eq!(demo["users"][0]["client_ip"], "10.10.0.2");
    assert_eq!(demo["users"][0]["bandwidth"], 20);
}

#[test]
fn throttling_answers_the_api_envelope_with_retry_after_for_the_next_count_calls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    let id = add_rule(
        &service,
        &format!(r#"{{"action": "{CREATE}", "error": "Throttling", "count": 2, "retry_after_ms": 250}}"#),
    );
    for attempt in 0..2 {
        let reply = service.send(&create_call("throttled1"));
        reply.assert_error(400, "Throttling", &format!("attempt {attempt}"));
        assert_eq!(reply.json()["HostId"], "smartag.aliyuncs.com");
        assert_eq!(reply.header("x-acs-retry-after"), Some("250"), "{:?}", reply.headers);
    }
    // The count is used up: the call goes through, without the header.
    let reply = service.send(&create_call("throttled1"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("x-acs-retry-after"), None);
    // Other operations were never hit.
    assert_eq!(service.send(&Call::v1(DESCRIBE, &describe("sag-demo"))).status, 200);

    let listed = rules(&service);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"].as_u64(), Some(id));
    assert_eq!((listed[0]["hits"].as_u64(), listed[0]["remaining"].as_u64()), (Some(2), Some(0)));
    assert_eq!(listed[0]["retry_after_ms"].as_u64(), Some(250));

    // Signature 3 and XML get the same fault in their own form.
    add_rule(&service, &format!(r#"{{"action": "{DESCRIBE}", "error": "Throttling", "count": 1}}"#));
    let mut query = describe("sag-demo");
    query.push(p("Format", "XML"));
    let reply = service.send(&Call::v3(DESCRIBE, &query));
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("<Code>Throttling</Code>"), "{}", reply.body);
    assert_eq!(reply.header("x-acs-retry-after"), Some("1000"), "the default");
}

#[test]
fn faults_come_after_authentication_and_validation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    add_rule(&service, r#"{"action": "*", "error": "InternalError"}"#);

    let mut bad_signature = create_call("faultless1");
    bad_signature.secret = "not-the-secret".to_owned();
    service.send(&bad_signature).assert_error(400, "SignatureDoesNotMatch", "bad signature");
    let mut invalid = create("sag-demo", "faultless1");
    invalid.retain(|(name, _)| name != "Bandwidth");
    invalid.push(p("Bandwidth", "5000"));
    service.send(&Call::v1(CREATE, &invalid)).assert_error(400, "ClientUser.BandwidthInvalid", "invalid");
    service.send(&Call::v1("NoSuchAction", &describe("sag-demo"))).assert_error(
        404,
        "InvalidAction.NotFound",
        "unknown",
    );

    // Only the valid, authenticated calls are hit, whatever the operation (the rule is "*").
    service.send(&create_call("faultless1")).assert_error(500, "InternalError", "create");
    service.send(&Call::v1(DESCRIBE, &describe("sag-demo"))).assert_error(500, "InternalError", "describe");
    assert_eq!(rules(&service)[0]["hits"].as_u64(), Some(2));
    assert_eq!(rules(&service)[0].get("remaining"), None, "an unlimited rule");

    // Cleared: the calls go through; nothing was created by the failed ones.
    let reply = http(admin(&service), "DELETE", "/_admin/faults", None);
    assert_eq!((reply.status, reply.json()["removed"].as_u64()), (200, Some(1)), "{}", reply.body);
    assert!(rules(&service).is_empty());
    let page = service.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
    assert_eq!((page.status, page.json()["TotalCount"].as_i64()), (200, Some(0)), "{}", page.body);
}

#[test]
fn probability_zero_never_hits_latency_delays_and_rules_are_removed_by_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    let never = add_rule(&service, r#"{"action": "*", "error": "ServiceUnavailable", "probability": 0}"#);
    let slow = add_rule(&service, &format!(r#"{{"action": "{DESCRIBE}", "latency_ms": 300, "count": 1}}"#));
    let unavailable = add_rule(&service, &format!(r#"{{"action": "{CREATE}", "error": "ServiceUnavailable"}}"#));

    // The first rule never wins its draw; the slow one delays the call and lets it through.
    let started = Instant::now();
    let reply = service.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(started.elapsed() >= Duration::from_millis(300), "the call was delayed by the rule");
    service.send(&create_call("unavail01")).assert_error(503, "ServiceUnavailable", "create");

    let hits: Vec<(u64, u64)> =
        rules(&service).iter().map(|r| (r["id"].as_u64().unwrap_or(0), r["hits"].as_u64().unwrap_or(9))).collect();
    assert_eq!(hits, [(never, 0), (slow, 1), (unavailable, 1)]);

    let reply = http(admin(&service), "DELETE", &format!("/_admin/faults/{unavailable}"), None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["removed"]["id"].as_u64(), Some(unavailable));
    assert_eq!(service.send(&create_call("unavail01")).status, 200);
    let reply = http(admin(&service), "DELETE", &format!("/_admin/faults/{unavailable}"), None);
    assert_admin_error(&reply, 404, "RuleNotFound", &unavailable.to_string());
}

#[test]
fn bad_admin_requests_get_a_json_error_saying_what_was_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    let addr = admin(&service);
    let post = |body: &str| http(addr, "POST", "/_admin/faults", Some(body));
    assert_admin_error(&post("{not json"), 400, "InvalidJson", "key must be a string");
    assert_admin_error(&post(""), 400, "InvalidJson", "EOF");
    assert_admin_error(
        &post(r#"{"action": "*", "error": "Throttling", "colour": 1}"#),
        400,
        "InvalidJson",
        "unknown field `colour`",
    );
    assert_admin_error(&post(r#"{"action": "*", "latency_ms": "slow"}"#), 400, "InvalidJson", "invalid type");
    assert_admin_error(&post(r#"{"action": "*", "error": "Teapot"}"#), 400, "InvalidJson", "unknown variant `Teapot`");
    assert_admin_error(&post(r#"{"error": "Throttling"}"#), 400, "InvalidJson", "missing field `action`");
    let reply = post(r#"{"action": "DeleteEverything", "error": "Throttling", "probability": 1.5}"#);
    assert_admin_error(&reply, 400, "InvalidFaultRule", "unknown action \"DeleteEverything\"");
    assert_admin_error(&reply, 400, "InvalidFaultRule", CREATE);
    assert_admin_error(&reply, 400, "InvalidFaultRule", "probability must be from 0.0 to 1.0");
    assert_admin_error(&post(r#"{"action": "*"}"#), 400, "InvalidFaultRule", "does nothing");
    assert!(rules(&service).is_empty(), "nothing refused was added");

    assert_admin_error(&http(addr, "GET", "/_admin/nothing", None), 404, "NotFound", "/_admin/nothing");
    assert_admin_error(&http(addr, "GET", "/", None), 404, "NotFound", "/_admin/health");
    assert_admin_error(&http(addr, "PUT", "/_admin/faults", Some("{}")), 405, "MethodNotAllowed", "PUT");
    assert_admin_error(&http(addr, "GET", "/_admin/reset", None), 405, "MethodNotAllowed", "GET");
    assert_admin_error(&http(addr, "DELETE", "/_admin/faults/abc", None), 400, "InvalidRuleId", "abc");
}

#[test]
fn fault_rules_from_the_config_file_are_in_force_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "{TEST_CONFIG}\n[[faults]]\naction = \"{CREATE}\"\nerror = \"Throttling\"\ncount = 1\nretry_after_ms = 5\n"
    );
    let service = Service::start_args(dir.path(), &config, &[], ADMIN);
    let listed = rules(&service);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["action"], CREATE);
    let reply = service.send(&create_call("fromconfig"));
    reply.assert_error(400, "Throttling", "the config's rule");
    assert_eq!(reply.header("x-acs-retry-after"), Some("5"));
    assert_eq!(service.send(&create_call("fromconfig")).status, 200);

    // A bad rule in the file names its place and problem, and the service does not start.
    let bad = format!("{TEST_CONFIG}\n[[faults]]\naction = \"Nope\"\nerror = \"Throttling\"\n");
    let error = smartag_service::config::Config::parse(&bad, "smartag.toml").expect_err("refused").to_string();
    let line = bad.lines().position(|l| l == "[[faults]]").map_or(0, |i| i + 1);
    assert!(error.contains(&format!("smartag.toml:{line}:")), "{error}");
    assert!(error.contains("unknown action \"Nope\""), "{error}");
    let bad = format!("{TEST_CONFIG}\n[[faults]]\naction = \"*\"\nerror = \"Throttling\"\nprobabilty = 1\n");
    let error = smartag_service::config::Config::parse(&bad, "smartag.toml").expect_err("refused").to_string();
    assert!(error.contains("probabilty"), "{error}");
}

#[test]
fn metrics_count_requests_latency_users_and_fault_hits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = start(dir.path());
    assert_eq!(service.send(&create_call("metrics01")).status, 200);
    assert_eq!(service.send(&create_call("metrics02")).status, 200);
    service.send(&create_call("metrics01")).assert_error(400, "ClientUser.UserExist", "taken");
    add_rule(&service, &format!(r#"{{"action": "{DESCRIBE}", "error": "Throttling", "count": 1}}"#));
    service.send(&Call::v1(DESCRIBE, &describe("sag-demo"))).assert_error(400, "Throttling", "fault");
    service.send(&Call::v1("NoSuchAction", &describe("sag-demo"))).assert_error(404, "InvalidAction.NotFound", "?");

    let reply = http(admin(&service), "GET", "/metrics", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/openmetrics-text"), "{}", reply.content_type);
    let text = &reply.body;
    for series in [
        format!(r#"smartag_requests_total{{action="{CREATE}",code="OK",status="200"}} 2"#),
        format!(r#"smartag_requests_total{{action="{CREATE}",code="ClientUser.UserExist",status="400"}} 1"#),
        format!(r#"smartag_requests_total{{action="{DESCRIBE}",code="Throttling",status="400"}} 1"#),
        r#"smartag_requests_total{action="unknown",code="InvalidAction.NotFound",status="404"} 1"#.to_owned(),
        format!(r#"smartag_request_duration_seconds_count{{action="{CREATE}"}} 3"#),
        format!(r#"smartag_request_duration_seconds_bucket{{le="+Inf",action="{CREATE}"}} 3"#),
        r#"smartag_users{region="cn-shanghai",instance="sag-demo"} 2"#.to_owned(),
        r#"smartag_users{region="cn-shanghai",instance="sag-small"} 0"#.to_owned(),
        format!(r#"smartag_fault_hits_total{{action="{DESCRIBE}",fault="Throttling"}} 1"#),
        "# TYPE smartag_request_duration_seconds histogram".to_owned(),
        "# EOF".to_owned(),
    ] {
        assert!(text.lines().any(|l| l == series), "{series:?} not in:\n{text}");
    }
    assert!(!text.contains("NoSuchAction"), "the caller's Action text is never a label");
}

#[test]
fn json_logs_have_one_access_line_per_request_and_no_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = Service::start_args(dir.path(), TEST_CONFIG, &[], &["--log-format", "json"]);
    let created = service.send(&create_call("logged001"));
    assert_eq!(created.status, 200);
    let mut bad = create_call("logged002");
    bad.secret = "wrong-secret".to_owned();
    let refused = service.send(&bad);
    refused.assert_error(400, "SignatureDoesNotMatch", "bad signature");
    service.terminate();

    let log = std::fs::read_to_string(&service.log).expect("the log");
    assert!(!log.contains("Passw0rd-1"), "the password is logged: {log}");
    assert!(!log.contains("testsecret") && !log.contains("wrong-secret"), "a secret is logged: {log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    let access: Vec<&Value> = lines.iter().filter(|l| l["target"] == "smartag_service::access").collect();
    assert_eq!(access.len(), 2, "one access line per request: {log}");
    for (line, reply, code, status) in
        [(access[0], &created, "OK", 200), (access[1], &refused, "SignatureDoesNotMatch", 400)]
    {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["action"], CREATE, "{line}");
        assert_eq!(line["code"], code, "{line}");
        assert_eq!(line["status"], status, "{line}");
        assert_eq!(line["request_id"], reply.request_id.as_str(), "{line}");
        assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
        assert!(line["timestamp"].is_string(), "{line}");
    }
}

#[test]
fn text_logs_written_to_a_file_have_no_colour_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = Service::start(dir.path());
    assert_eq!(service.send(&create_call("plainlog1")).status, 200);
    service.terminate();
    let log = std::fs::read_to_string(&service.log).expect("the log");
    assert!(log.contains("smartag_service::access"), "the access line is there: {log}");
    assert!(log.contains("code=\"OK\"") || log.contains("code=OK"), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI escape codes in a log file: {log:?}");
}
