//! HTTPS: the binary serves with a PEM certificate and key (rustls, ring); a client that trusts
//! the certificate (made at test time with rcgen) completes a real handshake and gets answers; one
//! that does not is refused; SIGTERM stops it with exit 0; bad files are named; an overlong
//! request line over HTTPS gets the API's envelope (the runtime's guard on the decrypted stream).

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

/// Writes `request` over a TLS connection (trusting `trusted`) to `service` and reads everything
/// answered until the server closes.
fn tls_exchange(service: &Running, trusted: &[u8], request: &[u8]) -> std::io::Result<String> {
    use std::io::{Read as _, Write as _};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(trusted.to_vec())).map_err(std::io::Error::other)?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").map_err(std::io::Error::other)?;
    let connection = rustls::ClientConnection::new(Arc::new(config), name).map_err(std::io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(connection, support::connect(service.addr)?);
    stream.write_all(request)?;
    stream.flush()?;
    let mut seen = Vec::new();
    match stream.read_to_end(&mut seen) {
        Ok(_) => {}
        // A peer that closes without close_notify: what was read is the answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !seen.is_empty() => {}
        Err(e) => return Err(e),
    }
    Ok(String::from_utf8_lossy(&seen).into_owned())
}

/// Over HTTPS as over HTTP, a request line over hyper's limit is answered `RequestTooLarge` 413 in
/// the API's envelope (not hyper's bare 414), and a request pipelined behind it on the same TLS
/// connection gets its own answer.
#[test]
fn an_overlong_request_line_over_https_gets_the_envelope() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = certificate(dir.path(), "server");
    let service = start_tls(dir.path(), &cert);
    let pad = "p".repeat(100 * 1024);
    let requests = format!(
        "POST /?Action=CreateSmartAccessGatewayClientUser&Pad={pad} HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n\
         POST /?Format=XML HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\nAction=Y&"
    );
    let text = tls_exchange(&service, &cert.der, requests.as_bytes()).expect("a TLS exchange");
    let first = text.find("HTTP/1.1 ").expect(&text);
    assert!(text[first..].starts_with("HTTP/1.1 413"), "{text}");
    let second = text[first + 1..].find("HTTP/1.1 ").map(|i| i + first + 1).expect(&text);
    let envelope = &text[first..second];
    for part in ["\"Code\":\"RequestTooLarge\"", "\"RequestId\":", "\"HostId\":", "x-acs-request-id:"] {
        assert!(envelope.contains(part), "{part} missing: {envelope}");
    }
    assert!(text[second..].contains("<RequestId>") && !text[second..].contains("RequestTooLarge"), "{text}");

    // The service goes on serving over HTTPS.
    let (status, body) = describe_over_https(&client(Some(&cert.der)), &service).expect("a TLS exchange");
    assert_eq!(status, 200, "{body}");
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
