//! HTTPS: the binary serves with a PEM certificate and key (rustls, ring); a client that trusts
//! the certificate (made at test time with rcgen) completes a real handshake and gets answers; one
//! that does not is refused; SIGTERM stops it with exit 0; bad files are named.

mod operating;
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use operating::{Running, command, run_to_end};
use support::{Call, describe};

struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    der: Vec<u8>,
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, written as PEM files into `dir`.
fn certificate(dir: &Path, name: &str) -> Certificate {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("generate a certificate");
    let cert = dir.join(format!("{name}.crt.pem"));
    let key = dir.join(format!("{name}.key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("write the certificate");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write the key");
    Certificate { cert, key, der: made.cert.der().to_vec() }
}

/// A reqwest client (rustls, ring) trusting exactly `trusted` (DER), or nothing.
fn client(trusted: Option<&[u8]>) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(der) = trusted {
        roots.add(rustls::pki_types::CertificateDer::from(der.to_vec())).expect("add the root");
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder().tls_backend_preconfigured(tls).build().expect("client")
}

/// A signed version 1.0 Describe of `sag-demo`, sent over HTTPS: the status and body.
fn describe_over_https(client: &reqwest::Client, service: &Running) -> Result<(u16, String), reqwest::Error> {
    let call = Call::v1("DescribeSmartAccessGatewayClientUsers", &describe("sag-demo"));
    let (query, _) = call.head(service.addr);
    let url = format!("https://127.0.0.1:{}/?{query}", service.addr.port());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let answer = client.post(url).send().await?;
        let status = answer.status().as_u16();
        Ok((status, answer.text().await?))
    })
}

fn start_tls(dir: &Path, cert: &Certificate) -> Running {
    let mut c = command();
    c.args(["--listen", "127.0.0.1:0", "--tls-cert"]).arg(&cert.cert).arg("--tls-key").arg(&cert.key);
    c.arg("--data").arg(dir.join("data/smartag.db"));
    Running::start(c, &dir.join("service.log"))
}

#[test]
fn https_answers_a_client_that_trusts_the_certificate_and_refuses_one_that_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = certificate(dir.path(), "server");
    let service = start_tls(dir.path(), &cert);
    assert_eq!(service.scheme, "https");

    let (status, body) = describe_over_https(&client(Some(&cert.der)), &service).expect("a TLS exchange");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"TotalCount\""), "{body}");

    // A client that does not trust the certificate fails the handshake.
    let other = certificate(dir.path(), "other");
    let refused = describe_over_https(&client(Some(&other.der)), &service);
    assert!(refused.as_ref().is_err_and(reqwest::Error::is_connect), "{refused:?}");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let call = Call::v1("DescribeSmartAccessGatewayClientUsers", &describe("sag-demo"));
    assert!(support::exchange(service.addr, &call.to_bytes(service.addr)).is_err(), "plain HTTP was answered");
}

#[test]
fn sigterm_stops_the_https_service_with_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = certificate(dir.path(), "server");
    let mut service = start_tls(dir.path(), &cert);
    let (status, _) = describe_over_https(&client(Some(&cert.der)), &service).expect("a TLS exchange");
    assert_eq!(status, 200);
    let exit = service.terminate();
    assert!(exit.success(), "{exit:?}; log: {}", service.log_text());
}

#[test]
fn ctrl_c_stops_the_https_service_with_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = certificate(dir.path(), "server");
    let mut service = start_tls(dir.path(), &cert);
    let (status, _) = describe_over_https(&client(Some(&cert.der)), &service).expect("a TLS exchange");
    assert_eq!(status, 200);
    support::signal(service.child.id(), "INT");
    let exit = support::wait_with_guard(&mut service.child);
    assert!(exit.success(), "{exit:?}; log: {}", service.log_text());
}

#[test]
fn the_certificate_and_key_can_come_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = certificate(dir.path(), "server");
    let mut c = command();
    c.env("SMARTAG_TLS_CERT", &cert.cert).env("SMARTAG_TLS_KEY", &cert.key).args(["--listen", "127.0.0.1:0"]);
    c.arg("--data").arg(dir.path().join("data/smartag.db"));
    let service = Running::start(c, &dir.path().join("env.log"));
    assert_eq!(service.scheme, "https");
    let (status, _) = describe_over_https(&client(Some(&cert.der)), &service).expect("a TLS exchange");
    assert_eq!(status, 200);
}

/// Starts the binary with `cert` and `key` and returns its error output (it must not start).
fn refused(dir: &Path, cert: &Path, key: &Path) -> String {
    let mut c = command();
    c.args(["--listen", "127.0.0.1:0", "--tls-cert"]).arg(cert).arg("--tls-key").arg(key);
    c.arg("--data").arg(dir.join("refused/smartag.db"));
    let out = run_to_end(c);
    assert!(!out.status.success(), "started with {} and {}", cert.display(), key.display());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn unusable_tls_files_are_named_and_the_service_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = certificate(dir.path(), "good");
    let other = certificate(dir.path(), "other");
    let missing = dir.path().join("missing.pem");
    let not_pem = dir.path().join("not-pem.txt");
    std::fs::write(&not_pem, "hello\n").expect("write");

    let err = refused(dir.path(), &missing, &good.key);
    assert!(err.contains(&format!("cannot read TLS certificate file {}", missing.display())), "{err}");
    let err = refused(dir.path(), &not_pem, &good.key);
    assert!(err.contains(&format!("TLS certificate file {} is not usable", not_pem.display())), "{err}");
    assert!(err.contains("BEGIN CERTIFICATE"), "{err}");
    let err = refused(dir.path(), &good.cert, &good.cert);
    assert!(
        err.contains(&format!("TLS private key file {} is not usable: no private key", good.cert.display())),
        "{err}"
    );
    let err = refused(dir.path(), &good.cert, &other.key);
    assert!(err.contains("cannot be used together"), "{err}");
    assert!(!dir.path().join("refused").exists(), "the service opened its database anyway");

    // A certificate without its key.
    let mut c = command();
    c.env("SMARTAG_TLS_CERT", &good.cert).args(["--listen", "127.0.0.1:0", "--data"]);
    c.arg(dir.path().join("refused/smartag.db"));
    let out = run_to_end(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("the key is missing") && err.contains("SMARTAG_TLS_KEY"), "{err}");
}
