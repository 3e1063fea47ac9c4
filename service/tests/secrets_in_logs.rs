//! With every log level on, nothing the service writes to its log holds a password or the
//! AccessKeySecret: not for successful requests, not for refused ones (bad signatures, invalid
//! passwords, replays), under both signature versions; nor any of their percent-encoded forms.

mod support;

use alibaba_rpc_runtime::encoding::percent_encode;
use support::*;

const SECRET_KEY: &str = "Sk-QuokkaZebra-4711";
const PASSWORD: &str = "PwUnicorn-4242x";
const BAD_PASSWORD: &str = "PwNarwhal 9191!";

fn config() -> String {
    TEST_CONFIG.replace("secret = \"testsecret\"", &format!("secret = \"{SECRET_KEY}\""))
}

fn forms(s: &str) -> Vec<String> {
    let once = percent_encode(s);
    let twice = percent_encode(&once);
    vec![s.to_owned(), once, twice, s.replace(' ', "+")]
}

#[test]
fn debug_logs_hold_no_password_and_no_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = Service::start_config(
        dir.path(),
        &config(),
        &[("RUST_LOG", "trace,hyper=debug,h2=debug,tower=debug,axum=debug,mio=info,tokio=info,runtime=info")],
    );
    let sign = |mut call: Call| {
        call.secret = SECRET_KEY.to_owned();
        call
    };
    for (i, v) in [Version::V1, Version::V3].into_iter().enumerate() {
        let name = format!("logged{i:02}x");
        let mut params = create("sag-demo", &name);
        params.retain(|(n, _)| n != "Password");
        params.push(p("Password", PASSWORD));
        // Accepted, in the query and in a form body.
        let reply = service.send(&sign(Call::new(v, "CreateSmartAccessGatewayClientUser", &params)));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mut body_params = params.clone();
        body_params.retain(|(n, _)| n != "UserName");
        body_params.push(p("UserName", &format!("{name}b")));
        let reply =
            service.send(&sign(Call::new(v, "CreateSmartAccessGatewayClientUser", &[])).with_form(&body_params));
        assert_eq!(reply.status, 200, "{}", reply.body);
        // A generated password (no UserName/Password): the outbox has it, the log must not.
        let mut generated = create("sag-demo", "unused");
        generated.retain(|(n, _)| n != "Password" && n != "UserName");
        generated.retain(|(n, _)| n != "UserMail");
        generated.push(p("UserMail", &format!("gen{i}@example.com")));
        let reply = service.send(&sign(Call::new(v, "CreateSmartAccessGatewayClientUser", &generated)));
        assert_eq!(reply.status, 200, "{}", reply.body);
        // Refused: an invalid password, a wrong signature (the server computes its string to sign
        // over the password), a replay.
        let mut invalid = params.clone();
        invalid.retain(|(n, _)| n != "Password");
        invalid.push(p("Password", BAD_PASSWORD));
        let reply = service.send(&sign(Call::new(v, "CreateSmartAccessGatewayClientUser", &invalid)));
        reply.assert_error(400, "ClientUser.PasswordInvalid", "invalid password");
        let mut forged = Call::new(v, "CreateSmartAccessGatewayClientUser", &params);
        forged.secret = format!("{SECRET_KEY}-wrong");
        service.send(&forged).assert_error(400, "SignatureDoesNotMatch", "forged");
        let replay = sign(Call::new(v, "DescribeSmartAccessGatewayClientUsers", &describe("sag-demo")));
        assert_eq!(service.send(&replay).status, 200);
        service.send(&replay).assert_error(400, "SignatureNonceUsed", "replay");
    }
    assert_eq!(service.terminate().code(), Some(0));

    let mut secrets =
        vec![SECRET_KEY.to_owned(), format!("{SECRET_KEY}&"), PASSWORD.to_owned(), BAD_PASSWORD.to_owned()];
    let outbox = dir.path().join("data").join("outbox");
    for entry in std::fs::read_dir(&outbox).expect("outbox").flatten() {
        let mail = std::fs::read_to_string(entry.path()).expect("read a mail");
        // The generated passwords, as the account e-mail states them.
        for line in mail.lines() {
            if let Some((_, rest)) = line.split_once("assword") {
                let word = rest.trim_start_matches([':', ' ', '=']).trim();
                if word.len() >= 8 && word != PASSWORD {
                    secrets.push(word.to_owned());
                }
            }
        }
    }
    assert!(secrets.len() >= 6, "the generated passwords were found in the outbox: {secrets:?}");
    let log = std::fs::read_to_string(&service.log).expect("read the log");
    assert!(log.lines().count() > 20, "debug logging was on: {log}");
    // The runtime's debug log of each version 3 canonical request, values redacted, is there.
    assert!(log.contains("REDACTED"), "the canonical requests were logged: {log}");
    assert!(log.contains("SignatureDoesNotMatch") || log.contains("request refused"), "refusals are logged");
    for secret in &secrets {
        for form in forms(secret) {
            assert!(!log.contains(&form), "{form:?} appears in the log");
        }
    }
}
