//! Every error code on the wire. The real binary is driven into each code an operation can answer
//! (the runtime's protocol codes and the spec's `errors`) and must answer it with its declared HTTP
//! status in the API's envelope; a code it can never answer carries `not_produced: <reason>` in the
//! spec (a protocol code: in `PROTOCOL_NOT_PRODUCED` below). The
//! tables of produced codes below are checked against what the tests produced, and against the
//! spec, both ways.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use smartag_model::{ErrorCode as _, ProtocolCode};
use support::*;
use time::{Duration as TimeDelta, OffsetDateTime};

const CREATE: &str = "CreateSmartAccessGatewayClientUser";
const MODIFY: &str = "ModifySmartAccessGatewayClientUser";
const DESCRIBE: &str = "DescribeSmartAccessGatewayClientUsers";

const STS_ID: &str = "STS.error-codes";
const STS_SECRET: &str = "sts-secret";
const STS_TOKEN: &str = "sts-token";

/// The service with default limits, except a small body limit: the demo key, a temporary (STS)
/// key, an instance with one free place and one without a CIDR block.
const CONFIG: &str = r#"
[[access_keys]]
id = "testid"
secret = "testsecret"

[[access_keys]]
id = "STS.error-codes"
secret = "sts-secret"
security_token = "sts-token"

[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"

[[instances]]
region = "cn-shanghai"
id = "sag-one"
cidr = "10.50.0.0/24"
max_users = 1

[[instances]]
region = "cn-shanghai"
id = "sag-nocidr"

[limits]
body_limit_bytes = 2048
"#;

/// The service with the smallest request timeout and a replay memory of one nonce.
const TIGHT_CONFIG: &str = r#"
[[access_keys]]
id = "testid"
secret = "testsecret"

[[instances]]
region = "cn-shanghai"
id = "sag-demo"
cidr = "10.10.0.0/24"

[limits]
request_timeout_ms = 100
nonce_capacity = 1
"#;

/// The codes [`codes_of_requests_and_operations`] produces, with their HTTP status.
const PRODUCED: &[(&str, u16)] = &[
    ("MissingParameter", 400),
    ("InvalidParameter", 400),
    ("SignatureDoesNotMatch", 400),
    ("IncompleteSignature", 400),
    ("MissingSecurityToken", 400),
    ("InvalidSecurityToken.MismatchWithAccessKey", 400),
    ("InvalidAccessKeyId.NotFound", 404),
    ("SignatureNonceUsed", 400),
    ("InvalidTimeStamp.Expired", 400),
    ("InvalidTimeStamp.Format", 400),
    ("InvalidAction.NotFound", 404),
    ("InvalidVersion", 400),
    ("RequestTooLarge", 413),
    ("InternalError", 500),
    ("ClientUser.BandwidthInvalid", 400),
    ("ClientUser.EmailEmpty", 400),
    ("ClientUser.EmailInvalid", 400),
    ("ClientUser.InvalidClientIp", 400),
    ("ClientUser.IpEmpty", 400),
    ("ClientUser.IpInvalid", 400),
    ("ClientUser.NameEmpty", 400),
    ("ClientUser.NameInvalid", 400),
    ("ClientUser.UserExist", 400),
    ("ClientUser.UserOverLimit", 400),
    ("ClientUser.PasswordInvalid", 400),
    ("ClientUser.NotExist", 400),
    ("SAG.CidrEmpty", 400),
    ("SAG.InstanceIdEmpty", 400),
    ("SAG.InstanceNoFound", 400),
];

/// The codes [`codes_of_the_server_limits`] produces, with their HTTP status.
const PRODUCED_UNDER_TIGHT_LIMITS: &[(&str, u16)] = &[("ServiceUnavailable", 503), ("Throttling", 400)];

/// The codes a test asserted on the wire.
#[derive(Default)]
struct Produced(BTreeMap<String, u16>);

impl Produced {
    /// Asserts that `reply` is the error envelope of `code` with `status`, and records it.
    fn expect(&mut self, reply: &Reply, status: u16, code: &str, case: &str) {
        reply.assert_error(status, code, case);
        self.0.insert(code.to_owned(), status);
    }

    /// Every code of `table` was produced, and no other.
    fn assert_exactly(&self, table: &[(&str, u16)]) {
        let table: BTreeMap<String, u16> = table.iter().map(|(c, s)| ((*c).to_owned(), *s)).collect();
        assert_eq!(self.0, table, "the codes produced are not the table's");
    }
}

/// Create's parameters for `name` in `instance`, with `changes`: `(name, Some(value))` sets a
/// parameter, `(name, None)` leaves it out.
fn create_with(instance: &str, name: &str, changes: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    let mut params = create(instance, name);
    for (key, value) in changes {
        params.retain(|(k, _)| k != key);
        if let Some(value) = value {
            params.push(p(key, value));
        }
    }
    params
}

fn modify(user_name: &str) -> Vec<(String, String)> {
    vec![p("RegionId", "cn-shanghai"), p("SmartAGId", "sag-demo"), p("UserName", user_name), p("Bandwidth", "30")]
}

#[test]
fn codes_of_requests_and_operations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start_disk_fillable(dir.path(), CONFIG);
    let mut produced = Produced::default();
    let send = |call: Call| service.send(&call);
    let describe_call = || Call::v1(DESCRIBE, &describe("sag-demo"));

    // The request: parameters, signature, credentials, replay, date, action, version, size.
    let reply = send(Call::v1(DESCRIBE, &[p("SmartAGId", "sag-demo")]));
    produced.expect(&reply, 400, "MissingParameter", "Describe without RegionId");
    let mut params = describe("sag-demo");
    params.retain(|(k, _)| k != "PageSize");
    params.push(p("PageSize", "0"));
    produced.expect(&send(Call::v1(DESCRIBE, &params)), 400, "InvalidParameter", "PageSize=0");
    let wrong_secret =
        |version| Call { secret: "not-the-secret".into(), ..Call::new(version, DESCRIBE, &describe("sag-demo")) };
    produced.expect(&send(wrong_secret(Version::V1)), 400, "SignatureDoesNotMatch", "a wrong secret (1.0)");
    produced.expect(&send(wrong_secret(Version::V3)), 400, "SignatureDoesNotMatch", "a wrong secret (3)");
    // Version 3 with a body that is not the one signed (`x-acs-content-sha256`): PageSize=100 → 101.
    let mut tampered = Call::v3(DESCRIBE, &[]).with_form(&describe("sag-demo")).to_bytes(service.addr);
    let last = tampered.last_mut().expect("a body");
    assert_eq!(*last, b'0', "the body ends with PageSize=100");
    *last = b'1';
    let reply = exchange(service.addr, &tampered).expect("an answer");
    produced.expect(&reply, 400, "IncompleteSignature", "a body that does not hash to x-acs-content-sha256 (3)");

    let sts = |token: Option<&str>| {
        let mut params = describe("sag-demo");
        params.extend(token.map(|t| p("SecurityToken", t)));
        Call { key_id: STS_ID.into(), secret: STS_SECRET.into(), ..Call::v1(DESCRIBE, &params) }
    };
    produced.expect(&send(sts(None)), 400, "MissingSecurityToken", "an STS key without its token");
    let reply = send(sts(Some("another-token")));
    produced.expect(&reply, 400, "InvalidSecurityToken.MismatchWithAccessKey", "an STS key with another token");
    assert!(!reply.body.contains("another-token") && !reply.body.contains(STS_TOKEN), "{}", reply.body);
    assert_eq!(send(sts(Some(STS_TOKEN))).status, 200, "an STS key with its token");

    let unknown_key = Call { key_id: "unknown-key".into(), ..describe_call() };
    produced.expect(&send(unknown_key), 404, "InvalidAccessKeyId.NotFound", "an unknown AccessKeyId");
    let once = describe_call();
    assert_eq!(send(once.clone()).status, 200, "the first use of a nonce");
    produced.expect(&send(once), 400, "SignatureNonceUsed", "the same nonce again");
    let late = Call { at: OffsetDateTime::now_utc() - TimeDelta::hours(1), ..describe_call() };
    produced.expect(&send(late), 400, "InvalidTimeStamp.Expired", "a Timestamp an hour old");
    let badly_dated = Call { date_text: Some("2026/01/01 00:00:00".into()), ..describe_call() };
    produced.expect(&send(badly_dated), 400, "InvalidTimeStamp.Format", "a Timestamp not in ISO 8601");
    let no_action = Call::v1("DeleteSmartAccessGatewayClientUser", &describe("sag-demo"));
    produced.expect(&send(no_action), 404, "InvalidAction.NotFound", "an Action the product does not have");
    let other_version = Call { api_version: "2017-01-01".into(), ..describe_call() };
    produced.expect(&send(other_version), 400, "InvalidVersion", "another Version");
    let big = Call::v1(DESCRIBE, &describe("sag-demo")).with_form(&[p("OwnerAccount", &"a".repeat(3000))]);
    produced.expect(&send(big), 413, "RequestTooLarge", "a 3 KB body over a 2 KB limit");

    // The operations' own codes.
    let create_call = |instance: &str, name: &str, changes: &[(&str, Option<&str>)]| {
        Call::v3(CREATE, &create_with(instance, name, changes))
    };
    for (code, case, call) in [
        (
            "ClientUser.BandwidthInvalid",
            "Bandwidth=5000",
            create_call("sag-demo", "codes-bw01", &[("Bandwidth", Some("5000"))]),
        ),
        ("ClientUser.EmailEmpty", "no UserMail", create_call("sag-demo", "codes-nomail", &[("UserMail", None)])),
        (
            "ClientUser.EmailInvalid",
            "UserMail=no-at-sign",
            create_call("sag-demo", "codes-mail1", &[("UserMail", Some("no-at-sign"))]),
        ),
        (
            "ClientUser.InvalidClientIp",
            "a public ClientIp",
            create_call("sag-demo", "codes-ip01", &[("ClientIp", Some("8.8.8.8"))]),
        ),
        ("ClientUser.IpEmpty", "ClientIp sent empty", create_call("sag-demo", "codes-ip02", &[("ClientIp", Some(""))])),
        (
            "ClientUser.IpInvalid",
            "the gateway's ClientIp",
            create_call("sag-demo", "codes-ip03", &[("ClientIp", Some("10.10.0.1"))]),
        ),
        (
            "ClientUser.NameEmpty",
            "a Password without UserName",
            create_call("sag-demo", "codes-name1", &[("UserName", None)]),
        ),
        ("ClientUser.NameInvalid", "UserName=ab", create_call("sag-demo", "codes-name2", &[("UserName", Some("ab"))])),
        (
            "ClientUser.PasswordInvalid",
            "Password=short",
            create_call("sag-demo", "codes-pass1", &[("Password", Some("short"))]),
        ),
        ("SAG.CidrEmpty", "an instance without a CIDR block", create_call("sag-nocidr", "codes-cidr1", &[])),
        (
            "SAG.InstanceIdEmpty",
            "SmartAGId sent empty",
            create_call("sag-demo", "codes-inst1", &[("SmartAGId", Some(""))]),
        ),
        ("SAG.InstanceNoFound", "an unknown SmartAGId", create_call("sag-nope", "codes-inst2", &[])),
    ] {
        produced.expect(&send(call), 400, code, case);
    }
    assert_eq!(send(create_call("sag-demo", "codes-exist1", &[])).status, 200, "the first Create of a name");
    produced.expect(&send(create_call("sag-demo", "codes-exist1", &[])), 400, "ClientUser.UserExist", "a name twice");
    assert_eq!(send(create_call("sag-one", "codes-one01", &[])).status, 200, "the one place of sag-one");
    produced.expect(&send(create_call("sag-one", "codes-one02", &[])), 400, "ClientUser.UserOverLimit", "over quota");
    produced.expect(&send(Call::v1(MODIFY, &modify("codes-nobody"))), 400, "ClientUser.NotExist", "Modify of no one");

    // A full disk (see concurrency.rs): the write fails, the answer says nothing more.
    service.limit_file_size(Some(4096));
    produced.expect(&send(Call::v1(MODIFY, &modify("codes-exist1"))), 500, "InternalError", "a write on a full disk");
    service.limit_file_size(None);
    assert_eq!(send(Call::v1(MODIFY, &modify("codes-exist1"))).status, 200, "a write once there is room");

    produced.assert_exactly(PRODUCED);
}

#[test]
fn codes_of_the_server_limits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start_config(dir.path(), TIGHT_CONFIG, &[]);
    let mut produced = Produced::default();

    // A body that stops arriving: the request timeout (100 ms) answers before the body is read,
    // so the request is never authenticated and its nonce is not remembered.
    let call = Call::v1(DESCRIBE, &[]).with_form(&describe("sag-demo"));
    let bytes = call.to_bytes(service.addr);
    let head = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("the head") + 4;
    let mut stream = connect(service.addr).expect("connect");
    stream.write_all(&bytes[..head + 5]).expect("the head and 5 bytes of the body");
    let reply = read_reply(&mut stream).expect("an answer to the stalled request");
    produced.expect(&reply, 503, "ServiceUnavailable", "a body that stops arriving");

    // A replay memory of one nonce: once one request is remembered, the next is refused. (A
    // request the 100 ms timeout cuts short may never reach the memory: those are skipped.)
    let mut refused = None;
    for _ in 0..50 {
        let reply = service.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
        match (reply.status, reply.code().as_str()) {
            (200, _) | (503, "ServiceUnavailable") => {}
            _ => {
                refused = Some(reply);
                break;
            }
        }
    }
    let reply = refused.expect("a request refused by the full replay memory");
    produced.expect(&reply, 400, "Throttling", "a second nonce with room for one");

    produced.assert_exactly(PRODUCED_UNDER_TIGHT_LIMITS);
}

/// One error code of the spec.
struct SpecCode {
    code: String,
    status: u16,
    not_produced: Option<String>,
}

/// The protocol codes (the runtime's, the same for every product) this service can never answer,
/// with the reason: only Alibaba Cloud's gateway answers them.
const PROTOCOL_NOT_PRODUCED: &[(&str, &str)] = &[
    ("Throttling.User", "The service keeps no per-account request quota; only Alibaba Cloud's gateway answers it."),
    ("Forbidden.RAM", "The service has no RAM policies; every configured AccessKey may call every operation."),
];

/// Every code an operation of the service can answer: the runtime's protocol codes, then the
/// spec's own (`errors:`, where a code the service never answers carries `not_produced`).
fn spec_codes() -> Vec<SpecCode> {
    let mut codes: Vec<SpecCode> = ProtocolCode::DECLARED
        .iter()
        .map(|code| SpecCode {
            code: code.code().to_owned(),
            status: code.status(),
            not_produced: PROTOCOL_NOT_PRODUCED.iter().find(|(c, _)| *c == code.code()).map(|(_, r)| (*r).to_owned()),
        })
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/smartag.yaml");
    let text = std::fs::read_to_string(path).expect("read spec/smartag.yaml");
    let spec: serde_yaml::Value = serde_yaml::from_str(&text).expect("the spec is YAML");
    let entries = spec["errors"].as_sequence().expect("the spec has an `errors` list");
    for entry in entries {
        let code = entry["code"].as_str().expect("a code").to_owned();
        let status = entry["status"].as_u64().and_then(|s| u16::try_from(s).ok()).expect("a status");
        let not_produced = entry.get("not_produced").map(|r| r.as_str().expect("a reason").to_owned());
        codes.push(SpecCode { code, status, not_produced });
    }
    codes
}

/// The tables above and the spec agree: every code the spec does not mark `not_produced` is in a
/// table with its status, no marked code is, and every code of the tables is the spec's.
#[test]
fn every_code_of_the_spec_is_produced_or_marked_not_produced() {
    let tables: BTreeMap<&str, u16> = PRODUCED.iter().chain(PRODUCED_UNDER_TIGHT_LIMITS).copied().collect();
    assert_eq!(tables.len(), PRODUCED.len() + PRODUCED_UNDER_TIGHT_LIMITS.len(), "a code in two tables");
    let codes = spec_codes();
    let mut problems = Vec::new();
    for spec in &codes {
        match (&spec.not_produced, tables.get(spec.code.as_str())) {
            (None, None) => problems.push(format!(
                "{}: no test produces it on the wire; add one to tests/error_codes.rs, or mark it \
                 `not_produced: <reason>` in the spec (a protocol code: in PROTOCOL_NOT_PRODUCED)",
                spec.code
            )),
            (None, Some(&status)) if status != spec.status => {
                problems.push(format!("{}: the spec says HTTP {}, the table {status}", spec.code, spec.status));
            }
            (Some(_), Some(_)) => {
                problems.push(format!("{}: marked not_produced in the spec but produced by a test", spec.code));
            }
            (Some(reason), None) if reason.trim().is_empty() => {
                problems.push(format!("{}: not_produced without a reason", spec.code));
            }
            _ => {}
        }
    }
    let spec_names: BTreeSet<&str> = codes.iter().map(|c| c.code.as_str()).collect();
    for code in tables.keys().filter(|c| !spec_names.contains(*c)) {
        problems.push(format!("{code}: in a table but not in the spec"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The two codes the spec marks today.
    let marked: Vec<&str> = codes.iter().filter(|c| c.not_produced.is_some()).map(|c| c.code.as_str()).collect();
    assert_eq!(marked, ["Throttling.User", "Forbidden.RAM"]);
}
