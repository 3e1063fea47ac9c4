//! `ClientConfigBuilder::credentials_provider`: the provider is awaited once per attempt, just
//! before signing, and each attempt is signed with what it answered; a provider that fails sends
//! nothing and is not retried.
#![cfg(feature = "client")]

mod client_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alibaba_rpc_runtime::client::{
    ClientConfig, Credentials, CredentialsError, CredentialsErrorKind, InvokeError, OperationError, ProvideCredentials,
    ProvideCredentialsFuture, RpcClient, SignatureVersion,
};
use alibaba_rpc_runtime::signature::{string_to_sign, verify};
use client_support::*;

/// Answers `id-N` / `secret-N` on its N-th call, or always fails (`fail`), or fails from its
/// `fail_from`-th call on.
#[derive(Debug, Default)]
struct Rotating {
    calls: Arc<AtomicUsize>,
    fail: bool,
    fail_from: Option<usize>,
}

impl ProvideCredentials for Rotating {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let fail = self.fail || self.fail_from.is_some_and(|from| n >= from);
        Box::pin(async move {
            if fail {
                return Err(CredentialsError::unavailable("vault at https://vault.example", "sealed"));
            }
            Ok(Credentials::new(format!("id-{n}"), format!("secret-{n}")))
        })
    }
}

fn client_with_provider(endpoint: &str, provider: Rotating) -> RpcClient {
    let config = ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .endpoint(endpoint)
        .credentials_provider(provider)
        .signature_version(SignatureVersion::V1)
        .timeout(Duration::from_secs(5))
        .retry(fast_retry(3))
        .build()
        .unwrap();
    RpcClient::new(config).unwrap()
}

#[tokio::test]
async fn each_attempt_asks_the_provider_and_signs_with_its_answer() {
    let server = FakeServer::start(vec![
        Reply::envelope(503, "ServiceUnavailable", "later"),
        Reply::new(503, "busy"),
        Reply::ok(),
    ])
    .await;
    let provider = Rotating::default();
    let calls = Arc::clone(&provider.calls);
    let client = client_with_provider(&server.endpoint(), provider);
    client.invoke(&FakeDescribe::valid()).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "once per attempt");
    for (i, req) in requests.iter().enumerate() {
        let n = i + 1;
        assert_eq!(req.param("AccessKeyId"), Some(format!("id-{n}")));
        let params = req.params();
        let signature = params.get("Signature").unwrap();
        let to_sign = string_to_sign("POST", params.iter());
        assert!(verify(&format!("secret-{n}"), &to_sign, signature), "attempt {n} is signed with secret-{n}");
    }
}

#[tokio::test]
async fn a_failing_provider_sends_nothing_and_is_not_retried() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let provider = Rotating { fail: true, ..Rotating::default() };
    let calls = Arc::clone(&provider.calls);
    let client = client_with_provider(&server.endpoint(), provider);

    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    let InvokeError::Credentials { error: e, attempts: 0 } = &err else {
        panic!("expected InvokeError::Credentials, got {err:?}")
    };
    assert_eq!(e.kind(), CredentialsErrorKind::Unavailable);
    assert_eq!(err.to_string(), "no credentials to sign with: vault at https://vault.example: sealed");

    let typed = client.call(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(typed, OperationError::Credentials { attempts: 0, .. }), "{typed:?}");
    assert!(!typed.is_retryable());
    assert!(std::error::Error::source(&typed).is_some());

    assert!(server.requests().is_empty(), "nothing was sent");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one call per invocation: not retried");
}

#[tokio::test]
async fn a_refresh_failing_before_a_retry_counts_the_attempts_sent() {
    let server = FakeServer::start(vec![Reply::envelope(503, "ServiceUnavailable", "later"), Reply::ok()]).await;
    let provider = Rotating { fail_from: Some(2), ..Rotating::default() };
    let client = client_with_provider(&server.endpoint(), provider);

    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!(err.attempts(), 1, "{err:?}");
    let InvokeError::Credentials { error, attempts: 1 } = &err else { panic!("{err:?}") };
    assert_eq!(error.kind(), CredentialsErrorKind::Unavailable);
    assert_eq!(
        err.to_string(),
        "no credentials to sign with: vault at https://vault.example: sealed (after 1 attempt sent)"
    );
    assert_eq!(server.requests().len(), 1, "the retry that could not be signed was not sent");
}

#[tokio::test]
async fn the_typed_error_counts_the_attempts_sent_too() {
    let server = FakeServer::start(vec![
        Reply::envelope(503, "ServiceUnavailable", "later"),
        Reply::envelope(503, "ServiceUnavailable", "later"),
    ])
    .await;
    let provider = Rotating { fail_from: Some(3), ..Rotating::default() };
    let client = client_with_provider(&server.endpoint(), provider);

    let typed = client.call(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(typed, OperationError::Credentials { attempts: 2, .. }), "{typed:?}");
    assert_eq!(typed.attempts(), 2);
    assert!(!typed.is_retryable());
    assert!(
        typed.to_string().contains("not retried") && typed.to_string().contains("after 2 attempts sent"),
        "{typed}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn fixed_credentials_are_still_checked_when_the_config_is_built() {
    let err = ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .credentials(Credentials::new("id", "secret "))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("whitespace"), "{err}");
    // A provider is shown by its own (secret-free) Debug.
    let config = ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .credentials_provider(Credentials::new("shown-id", "hidden-secret"))
        .build()
        .unwrap();
    let shown = format!("{config:?}");
    assert!(shown.contains("shown-id") && !shown.contains("hidden-secret"), "{shown}");
}
