//! Controlling calls, over real HTTP on loopback: the application's own reqwest client, a proxy,
//! per-call timeout / headers / retry policy, the deadline across retries, interceptors, the
//! server's retry hints, the retry budget, and attempts and RequestId on errors (on the span:
//! `client_span.rs`).
#![cfg(feature = "client")]

mod client_support;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alibaba_rpc_runtime::client::header::{HeaderName, HeaderValue};
use alibaba_rpc_runtime::client::{
    AfterReceive, AsyncSleep, BeforeSend, ClientConfig, ClientConfigBuilder, ConfigError, Interceptor, InvokeError,
    OperationError, RetryBudget, RetryPolicy, RpcClient, SignatureVersion, TransportErrorKind,
};
use client_support::*;

/// A builder for `endpoint`: test credentials, signature version 3, 5 s per attempt.
fn builder(endpoint: &str) -> ClientConfigBuilder {
    ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .endpoint(endpoint)
        .credentials(credentials())
        .timeout(Duration::from_secs(5))
}

fn build(builder: ClientConfigBuilder) -> RpcClient {
    RpcClient::new(builder.build().unwrap()).unwrap()
}

/// Records every wait the client chooses; returns at once (or, with `real`, really waits).
#[derive(Clone, Default)]
struct RecordedSleep {
    waits: Arc<Mutex<Vec<(Instant, Duration)>>>,
    real: bool,
}

impl RecordedSleep {
    fn real() -> Self {
        RecordedSleep { real: true, ..RecordedSleep::default() }
    }

    fn delays(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().iter().map(|(_, d)| *d).collect()
    }
}

impl AsyncSleep for RecordedSleep {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.waits.lock().unwrap().push((Instant::now(), duration));
        let real = self.real;
        Box::pin(async move {
            if real {
                tokio::time::sleep(duration).await;
            }
        })
    }
}

/// A rustls configuration with the ring provider and no trust anchors: enough for a reqwest
/// client that only speaks plain HTTP in these tests (the runtime installs no process-wide
/// provider, so the application's client brings its own).
fn plain_tls() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

#[tokio::test]
async fn the_applications_own_reqwest_client_is_used() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-own-client", HeaderValue::from_static("yes"));
    let mine = reqwest::Client::builder()
        .tls_backend_preconfigured(plain_tls())
        .default_headers(defaults)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let config = builder(&server.endpoint()).http_client(mine).build().unwrap();
    assert!(config.uses_own_http_client());
    let client = RpcClient::new(config).unwrap();
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.header("x-own-client"), Some("yes"), "the request went through the application's client");
    req.verify_v3(SECRET).unwrap();
    assert!(req.header("user-agent").unwrap().ends_with(" Smartag/2018-03-13"), "the user agent is still ours");

    // Settings that belong on that client are refused, not silently ignored.
    let own = || reqwest::Client::builder().tls_backend_preconfigured(plain_tls()).build().unwrap();
    for (b, setting) in [
        (builder("http://127.0.0.1:1").http_client(own()).proxy("http://127.0.0.1:3128"), "proxy()"),
        (builder("http://127.0.0.1:1").http_client(own()).no_proxy(), "no_proxy()"),
        (builder("http://127.0.0.1:1").http_client(own()).read_timeout(Duration::from_secs(1)), "read_timeout()"),
    ] {
        let err = b.build().unwrap_err();
        assert!(matches!(err, ConfigError::OwnHttpClientConflict { setting: s } if s == setting), "{err}");
        assert!(err.to_string().contains("reqwest::ClientBuilder"), "{err}");
    }
}

/// The endpoint is a closed port: only a proxy can answer.
#[tokio::test]
async fn a_configured_proxy_carries_every_request() {
    let proxy = FakeServer::start(vec![Reply::ok()]).await;
    let endpoint = closed_endpoint();
    let config = builder(&endpoint).proxy(format!("http://user:proxy-pass@{}", proxy.addr)).build().unwrap();
    assert_eq!(config.proxy(), Some(format!("http://{}/", proxy.addr).as_str()), "shown without user info");
    assert!(!format!("{config:?}").contains("proxy-pass"));
    let client = RpcClient::new(config).unwrap();
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    let target = endpoint.trim_start_matches("http://");
    assert_eq!(requests[0].header("host"), Some(target), "the proxy was asked for the endpoint");
    assert!(requests[0].header("proxy-authorization").is_some_and(|v| v.starts_with("Basic ")));
    requests[0].verify_v3(SECRET).unwrap();

    // `no_proxy()` goes straight to the (closed) endpoint.
    let direct = build(builder(&endpoint).no_proxy().retry(RetryPolicy::none()));
    let err = direct.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(t) if t.is_connect()), "{err:?}");
    assert_eq!(proxy.requests().len(), 1);

    let err = builder(&endpoint).proxy("not a proxy url").build().unwrap_err();
    assert!(matches!(err, ConfigError::InvalidProxy { .. }), "{err}");
}

#[tokio::test]
async fn per_call_timeout_and_headers() {
    let slow = FakeServer::start(vec![Reply::ok().delayed(Duration::from_secs(3))]).await;
    let client = build(builder(&slow.endpoint()).retry(RetryPolicy::none()));
    let err = client.call(&FakeDescribe::valid()).timeout(Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(&err, OperationError::Transport(t) if t.kind() == TransportErrorKind::Timeout), "{err:?}");
    assert_eq!(err.attempts(), 1);

    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = build(builder(&server.endpoint()));
    client
        .call(&FakeDescribe::valid())
        .header(HeaderName::from_static("x-acs-app-trace"), HeaderValue::from_static("trace-1"))
        .header(HeaderName::from_static("x-plain"), HeaderValue::from_static("p"))
        .header(HeaderName::from_static("x-acs-action"), HeaderValue::from_static("Evil"))
        .await
        .unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.header("x-acs-app-trace"), Some("trace-1"));
    assert_eq!(req.header("x-plain"), Some("p"));
    assert_eq!(req.header("x-acs-action"), Some("DescribeSmartAccessGatewayClientUsers"), "the protocol's value wins");
    let (auth, _) = req.verify_v3(SECRET).unwrap();
    assert!(auth.signed_headers.iter().any(|h| h == "x-acs-app-trace"), "{:?}", auth.signed_headers);
    assert!(!auth.signed_headers.iter().any(|h| h == "x-plain"), "{:?}", auth.signed_headers);

    // Under version 1.0 the header is sent as well.
    let v1 = build(builder(&server.endpoint()).signature_version(SignatureVersion::V1));
    v1.call(&FakeDescribe::valid())
        .header(HeaderName::from_static("x-acs-app-trace"), HeaderValue::from_static("trace-2"))
        .await
        .unwrap();
    assert_eq!(server.requests()[1].header("x-acs-app-trace"), Some("trace-2"));
}

#[tokio::test]
async fn per_call_retry_policy_overrides_the_configuration() {
    let server = FakeServer::start(vec![Reply::envelope(503, "ServiceUnavailable", "down")]).await;
    let sleep = RecordedSleep::default();
    let client = build(builder(&server.endpoint()).retry(RetryPolicy::none()).sleep(sleep.clone()));
    let err = client.call(&FakeDescribe::valid()).retry(fast_retry(3)).await.unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(server.requests().len(), 3);
    let err = client.call(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!(err.attempts(), 1, "the configuration's policy again");

    let client = build(builder(&server.endpoint()).retry(fast_retry(4)).sleep(sleep));
    let err = client.call(&FakeDescribe::valid()).retry(RetryPolicy::none()).await.unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert!(err.is_retryable(), "retryable, but this call allowed no retry");
}

#[tokio::test]
async fn the_deadline_bounds_the_whole_call_and_no_wait_passes_it() {
    // The server always asks to come back in 150 ms; the policy would allow 50 attempts.
    let server = FakeServer::start(vec![
        Reply::envelope(503, "ServiceUnavailable", "down").with_header("x-acs-retry-after", "150"),
    ])
    .await;
    let sleep = RecordedSleep::real();
    let policy = RetryPolicy {
        max_attempts: 50,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(1),
    };
    let client = build(builder(&server.endpoint()).retry(policy).sleep(sleep.clone()));
    let deadline = Instant::now() + Duration::from_millis(700);
    let err = client.call(&FakeDescribe::valid()).deadline(deadline).await.unwrap_err();
    let OperationError::DeadlineExceeded(d) = &err else { panic!("expected a deadline error, got {err:?}") };
    let attempts = u32::try_from(server.requests().len()).unwrap();
    assert_eq!(err.attempts(), attempts);
    assert_eq!(d.attempts(), attempts);
    assert!((1..50).contains(&attempts), "{attempts}");
    assert!(err.to_string().contains(&format!("deadline exceeded after {attempts} attempt")), "{err}");
    assert!(d.last_failure().is_some_and(|l| l.contains("ServiceUnavailable")), "{d:?}");
    assert_eq!(err.request_id(), Some("req-ServiceUnavailable"));
    // (`at` is taken when the wait starts, a moment after the client decided it: a little slack.)
    for (at, wait) in sleep.waits.lock().unwrap().iter() {
        assert!(*at + *wait < deadline + Duration::from_millis(20), "a wait of {wait:?} would end after the deadline");
    }
    assert_eq!(sleep.delays().len(), usize::try_from(attempts - 1).unwrap(), "one wait between two attempts");
    assert!(err.is_retryable(), "the deadline, not the classifier, stopped it");

    // An attempt in flight is cut off at the deadline (its own timeout is longer).
    let slow = FakeServer::start(vec![Reply::ok().delayed(Duration::from_secs(3))]).await;
    let client = build(builder(&slow.endpoint()).operation_timeout(Duration::from_millis(300)).retry(fast_retry(5)));
    let err = client.call(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(&err, OperationError::DeadlineExceeded(d) if d.attempts() == 1), "{err:?}");
    assert!(err.to_string().contains("timeout"), "{err}");

    // A deadline already passed sends nothing.
    let err = client.call(&FakeDescribe::valid()).deadline(Instant::now()).await.unwrap_err();
    assert!(matches!(&err, OperationError::DeadlineExceeded(d) if d.attempts() == 0), "{err:?}");
    assert_eq!(slow.requests().len(), 1);
}

/// Records what it sees, under its name.
struct Recorder {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

impl Interceptor for Recorder {
    fn before_send(&self, request: &mut BeforeSend<'_>) {
        let seen_a = request.headers().contains_key("x-acs-from-a");
        self.log.lock().unwrap().push(format!("{} before {} saw_a={seen_a}", self.name, request.attempt()));
        if self.name == "a" {
            request.insert_header(HeaderName::from_static("x-acs-from-a"), HeaderValue::from_static("1"));
        }
    }

    fn after_receive(&self, response: &AfterReceive<'_>) {
        assert_eq!(response.action(), "DescribeSmartAccessGatewayClientUsers");
        assert!(response.latency() > Duration::ZERO);
        self.log.lock().unwrap().push(format!(
            "{} after {} {:?} {:?} {:?}",
            self.name,
            response.attempt(),
            response.status(),
            response.request_id(),
            response.transport_error(),
        ));
    }
}

#[tokio::test]
async fn interceptors_run_around_every_attempt_in_order() {
    let server = FakeServer::start(vec![Reply::envelope(503, "ServiceUnavailable", "down"), Reply::ok()]).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = build(
        builder(&server.endpoint())
            .retry(fast_retry(3))
            .sleep(RecordedSleep::default())
            .interceptor(Recorder { name: "a", log: log.clone() })
            .interceptor(Recorder { name: "b", log: log.clone() }),
    );
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "a before 1 saw_a=false",
            "b before 1 saw_a=true",
            "a after 1 Some(503) Some(\"req-ServiceUnavailable\") None",
            "b after 1 Some(503) Some(\"req-ServiceUnavailable\") None",
            "a before 2 saw_a=false",
            "b before 2 saw_a=true",
            "a after 2 Some(200) Some(\"req-ok\") None",
            "b after 2 Some(200) Some(\"req-ok\") None",
        ]
    );
    // The header added before signing is sent and signed, on every attempt.
    for req in server.requests() {
        assert_eq!(req.header("x-acs-from-a"), Some("1"));
        let (auth, _) = req.verify_v3(SECRET).unwrap();
        assert!(auth.signed_headers.iter().any(|h| h == "x-acs-from-a"));
    }

    // A transport failure is observed too.
    log.lock().unwrap().clear();
    let refused = build(
        builder(&closed_endpoint()).retry(RetryPolicy::none()).interceptor(Recorder { name: "a", log: log.clone() }),
    );
    refused.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!(*log.lock().unwrap(), ["a before 1 saw_a=false", "a after 1 None None Some(Connect)"]);
}

/// The wait chosen before the one retry after `reply`, under `policy`.
async fn chosen_wait(reply: Reply, policy: RetryPolicy) -> Duration {
    let server = FakeServer::start(vec![reply, Reply::ok()]).await;
    let sleep = RecordedSleep::default();
    let client = build(builder(&server.endpoint()).retry(policy).sleep(sleep.clone()));
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    assert_eq!(server.requests().len(), 2);
    let delays = sleep.delays();
    assert_eq!(delays.len(), 1);
    delays[0]
}

#[tokio::test]
async fn the_servers_retry_hints_are_honoured_and_capped() {
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(5),
    };
    let throttled = || Reply::envelope(400, "Throttling.User", "slow down");
    let unavailable = || Reply::envelope(503, "ServiceUnavailable", "down");

    let wait = chosen_wait(throttled().with_header("x-acs-retry-after", "1234"), policy).await;
    assert_eq!(wait, Duration::from_millis(1234), "x-acs-retry-after is in milliseconds");
    let wait = chosen_wait(unavailable().with_header("retry-after", "3"), policy).await;
    assert_eq!(wait, Duration::from_secs(3), "Retry-After in seconds");
    let at = std::time::SystemTime::now() + Duration::from_secs(4);
    let wait = chosen_wait(unavailable().with_header("retry-after", &httpdate::fmt_http_date(at)), policy).await;
    assert!(wait > Duration::from_secs(2) && wait <= Duration::from_secs(4), "Retry-After as a date: {wait:?}");
    let wait =
        chosen_wait(throttled().with_header("x-acs-retry-after", "700").with_header("retry-after", "4"), policy).await;
    assert_eq!(wait, Duration::from_millis(700), "Alibaba's header first");
    let wait = chosen_wait(throttled().with_header("x-acs-retry-after", "60000"), policy).await;
    assert_eq!(wait, Duration::from_secs(5), "capped by the policy's max_backoff");
    let wait = chosen_wait(unavailable(), policy).await;
    assert!(wait <= policy.backoff_ceiling(1), "without a hint, full jitter under the ceiling: {wait:?}");

    // A hint never makes a failure retryable: the classifier decides.
    let server = FakeServer::start(vec![
        Reply::envelope(400, "ClientUser.BandwidthInvalid", "bad").with_header("x-acs-retry-after", "10"),
    ])
    .await;
    let client = build(builder(&server.endpoint()).retry(policy).sleep(RecordedSleep::default()));
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn the_retry_budget_is_shared_and_runs_out() {
    let down = || Reply::envelope(503, "ServiceUnavailable", "down");
    let server = FakeServer::start(vec![down(), down(), down(), down(), Reply::ok()]).await;
    let budget = RetryBudget { capacity: 10, retry_cost: 5, timeout_retry_cost: 10, success_refill: 1 };
    let client =
        build(builder(&server.endpoint()).retry(fast_retry(10)).retry_budget(budget).sleep(RecordedSleep::default()));
    assert_eq!(client.retry_tokens(), 10);

    let err = client.call(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!(err.attempts(), 3, "two retries took the ten tokens");
    assert_eq!(client.retry_tokens(), 0);
    let clone = client.clone();
    let err = clone.call(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!(err.attempts(), 1, "the clone shares the empty bucket: no retry");
    assert!(err.is_retryable());
    clone.call(&FakeDescribe::valid()).await.unwrap();
    assert_eq!(client.retry_tokens(), 1, "a success refills");
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn attempts_and_the_last_request_id_are_on_every_error() {
    let server = FakeServer::start(vec![
        Reply::envelope_with_id(503, "ServiceUnavailable", "r-1"),
        Reply::envelope_with_id(503, "ServiceUnavailable", "r-2"),
        Reply::envelope_with_id(503, "ServiceUnavailable", "r-3"),
    ])
    .await;
    let client = build(builder(&server.endpoint()).retry(fast_retry(3)).sleep(RecordedSleep::default()));
    let err = client.call(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(err, OperationError::Api { code: FakeCode::ServiceUnavailable, attempts: 3, .. }), "{err:?}");
    assert_eq!((err.attempts(), err.request_id()), (3, Some("r-3")));
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!((err.attempts(), err.request_id()), (3, Some("r-3")));

    let refused = build(builder(&closed_endpoint()).retry(fast_retry(2)).sleep(RecordedSleep::default()));
    let err = refused.call(&FakeCreate::valid()).await.unwrap_err();
    assert_eq!((err.attempts(), err.request_id()), (2, None));
    let invalid = FakeCreate { bandwidth: 5000, ..FakeCreate::valid() };
    let err = refused.call(&invalid).await.unwrap_err();
    assert_eq!(err.attempts(), 0, "nothing was sent");

    let garbled = FakeServer::start(vec![
        Reply::envelope(503, "ServiceUnavailable", "down"),
        Reply::new(200, r#"{"RequestId":"r-9"}"#),
    ])
    .await;
    let client = build(builder(&garbled.endpoint()).retry(fast_retry(3)).sleep(RecordedSleep::default()));
    let err = client.call(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(&err, OperationError::Decode(_)), "{err:?}");
    assert_eq!((err.attempts(), err.request_id()), (2, Some("r-9")));
}
