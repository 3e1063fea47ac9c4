//! Shared pieces of the client tests: fake operations and a recording HTTP server.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alibaba_rpc_runtime::client::{ClientConfig, Credentials, RetryPolicy, RpcClient, SignatureVersion};
use alibaba_rpc_runtime::errors::{ErrorCode, ErrorSpec};
use alibaba_rpc_runtime::flatten::{Flattener, WireParam};
use alibaba_rpc_runtime::operation::{Operation, ServiceInfo};
use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::signature::v3;
use alibaba_rpc_runtime::validate::{Violation, Violations};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub static SERVICE: ServiceInfo = ServiceInfo {
    product: "Smartag",
    version: "2018-03-13",
    endpoint_pattern: "https://smartag.{region}.aliyuncs.com",
};

pub const ACCESS_KEY_ID: &str = "test-access-key-id";
pub const SECRET: &str = "test-Secret-Value-42";
pub const TOKEN: &str = "sts-Token-Value-99";
pub const PASSWORD: &str = "p@ss w+rd/&=Zz9";
pub const USER_NAME: &str = "space user*~";

/// Error codes of the fake operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeCode {
    Throttling,
    BandwidthInvalid,
    NameEmpty,
    ServiceUnavailable,
}

impl ErrorCode for FakeCode {
    const DECLARED: &'static [Self] =
        &[FakeCode::Throttling, FakeCode::BandwidthInvalid, FakeCode::NameEmpty, FakeCode::ServiceUnavailable];

    fn spec(&self) -> &'static ErrorSpec {
        const THROTTLING: ErrorSpec =
            ErrorSpec::new_retryable("Throttling.User", 400, "Request was denied due to request throttling.");
        const BANDWIDTH_INVALID: ErrorSpec =
            ErrorSpec::new("ClientUser.BandwidthInvalid", 400, "The parameter {param} is invalid.");
        const NAME_EMPTY: ErrorSpec = ErrorSpec::new("ClientUser.NameEmpty", 400, "The parameter {param} is empty.");
        const SERVICE_UNAVAILABLE: ErrorSpec =
            ErrorSpec::new_retryable("ServiceUnavailable", 503, "The service is unavailable.");
        match self {
            FakeCode::Throttling => &THROTTLING,
            FakeCode::BandwidthInvalid => &BANDWIDTH_INVALID,
            FakeCode::NameEmpty => &NAME_EMPTY,
            FakeCode::ServiceUnavailable => &SERVICE_UNAVAILABLE,
        }
    }
}

/// The fake operation's response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FakeResponse {
    #[serde(rename = "RequestId")]
    pub request_id: String,
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "Bandwidth")]
    pub bandwidth: i32,
}

/// A fake operation; `IDEMPOTENT` chooses the retry behaviour.
#[derive(Debug, Clone)]
pub struct FakeOp<const IDEMPOTENT: bool> {
    pub user_name: String,
    pub password: String,
    pub bandwidth: i32,
}

pub type FakeCreate = FakeOp<false>;
pub type FakeDescribe = FakeOp<true>;

impl<const I: bool> FakeOp<I> {
    pub fn valid() -> Self {
        FakeOp { user_name: USER_NAME.to_string(), password: PASSWORD.to_string(), bandwidth: 20 }
    }
}

impl<const I: bool> Operation for FakeOp<I> {
    const ACTION: &'static str =
        if I { "DescribeSmartAccessGatewayClientUsers" } else { "CreateSmartAccessGatewayClientUser" };
    const IDEMPOTENT: bool = I;
    type Response = FakeResponse;
    type ErrorCode = FakeCode;

    fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::new();
        if self.user_name.is_empty() {
            v.push(Violation::new(FakeCode::NameEmpty, "UserName"));
        }
        if self.bandwidth > 2000 {
            v.push(Violation::new(FakeCode::BandwidthInvalid, "Bandwidth"));
        }
        v.into_result()
    }

    fn to_params(&self) -> Vec<WireParam<'_>> {
        static REGION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "cn-shanghai".to_owned());
        let mut out = Flattener::with_capacity(4);
        out.put("RegionId", &*REGION);
        out.put("UserName", &self.user_name);
        out.put("Password", &self.password);
        out.put("Bandwidth", &self.bandwidth);
        out.finish()
    }

    fn from_params(params: &Params) -> Result<Self, Violations> {
        let op = FakeOp {
            user_name: params.get("UserName").unwrap_or_default().to_string(),
            password: params.get("Password").unwrap_or_default().to_string(),
            bandwidth: params.get("Bandwidth").and_then(|b| b.parse().ok()).unwrap_or_default(),
        };
        op.validate()?;
        Ok(op)
    }
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The parameters, decoded, as a server reads them: the query's, then those of an
    /// `application/x-www-form-urlencoded` body.
    pub fn params(&self) -> Params {
        let mut params = Params::parse_urlencoded(self.raw_query.as_bytes());
        if self.header("content-type") == Some("application/x-www-form-urlencoded") {
            params.append_urlencoded(&self.body);
        }
        params
    }

    /// The form body as text (empty without one).
    pub fn form(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a form body is ASCII")
    }

    /// The first value of `name` in the decoded parameters.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params().get(name).map(str::to_owned)
    }

    /// The only value of header `name` (panics if it is repeated or not text).
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next()?;
        assert!(values.next().is_none(), "header {name} is repeated");
        Some(first.to_str().expect("text header"))
    }

    /// Every header as (name, value), in the order received.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.to_str().expect("text header"))).collect()
    }

    /// Verifies the request as a version 3 server would, from what was received only: parses
    /// `authorization`, rebuilds the canonical headers from its `SignedHeaders` list, the canonical
    /// query from the received query and the payload hash from `x-acs-content-sha256`, and checks
    /// the signature with `secret`. Returns the parsed header and the string to sign, or why not.
    pub fn verify_v3(&self, secret: &str) -> Result<(v3::Authorization, String), String> {
        let auth = self.header("authorization").ok_or("no authorization header")?;
        let auth = v3::Authorization::parse(auth).map_err(|e| e.to_string())?;
        let signed: Vec<&str> = auth.signed_headers.iter().map(String::as_str).collect();
        let pairs = self.header_pairs();
        let (block, list) = v3::canonical_headers(pairs.iter().copied(), &signed);
        let params = self.params();
        let hashed = self.header("x-acs-content-sha256").ok_or("no x-acs-content-sha256")?;
        let canonical = v3::canonical_request(self.method.as_str(), params.iter(), &block, &list, hashed);
        let sts = v3::string_to_sign(&canonical);
        if v3::verify(secret, &sts, &auth.signature) {
            Ok((auth, sts))
        } else {
            Err(format!("signature does not verify; canonical request:\n{canonical}"))
        }
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Reply { status, body: body.into(), delay: Duration::ZERO, headers: Vec::new() }
    }

    pub fn ok() -> Self {
        Reply::new(200, r#"{"RequestId":"req-ok","UserName":"space user*~","Bandwidth":20}"#)
    }

    pub fn envelope(status: u16, code: &str, message: &str) -> Self {
        Reply::new(
            status,
            serde_json::json!({
                "RequestId": format!("req-{code}"),
                "HostId": "smartag.cn-shanghai.aliyuncs.com",
                "Code": code,
                "Message": message,
                "Recommend": "https://api.aliyun.com/troubleshoot",
            })
            .to_string(),
        )
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// An error envelope with its own RequestId.
    pub fn envelope_with_id(status: u16, code: &str, request_id: &str) -> Self {
        Reply::new(
            status,
            serde_json::json!({"RequestId": request_id, "HostId": "h", "Code": code, "Message": "m"}).to_string(),
        )
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

#[derive(Clone, Default)]
struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

/// A recording server on 127.0.0.1 answering from a script; the last reply repeats.
pub struct FakeServer {
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    pub async fn start(script: Vec<Reply>) -> FakeServer {
        let shared = Shared { requests: Arc::default(), script: Arc::new(Mutex::new(script.into())) };
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeServer { addr, shared, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    shared.requests.lock().unwrap().push(Recorded {
        method,
        path: uri.path().to_string(),
        raw_query: uri.query().unwrap_or_default().to_string(),
        headers,
        body: body.to_vec(),
    });
    let reply = {
        let mut script = shared.script.lock().unwrap();
        if script.len() > 1 { script.pop_front().unwrap() } else { script.front().cloned().unwrap_or_else(Reply::ok) }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response =
        (StatusCode::from_u16(reply.status).unwrap(), [("content-type", "application/json;charset=utf-8")], reply.body)
            .into_response();
    for (name, value) in reply.headers {
        response.headers_mut().append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

/// A fast retry policy for tests.
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy { max_attempts, initial_backoff: Duration::from_millis(5), max_backoff: Duration::from_millis(20) }
}

pub fn credentials() -> Credentials {
    Credentials::new(ACCESS_KEY_ID, SECRET)
}

/// A client for `endpoint` with test credentials, signing with version 1.0 (the tests written
/// before version 3 became the default check the version 1.0 wire form).
pub fn client(endpoint: &str, retry: RetryPolicy, credentials: Credentials) -> RpcClient {
    client_with(endpoint, retry, credentials, Some(SignatureVersion::V1))
}

/// A client for `endpoint` with the default signature version (3).
pub fn client_v3(endpoint: &str, retry: RetryPolicy, credentials: Credentials) -> RpcClient {
    client_with(endpoint, retry, credentials, None)
}

/// A client for `endpoint`; `version: None` leaves the builder's default.
pub fn client_with(
    endpoint: &str,
    retry: RetryPolicy,
    credentials: Credentials,
    version: Option<SignatureVersion>,
) -> RpcClient {
    let mut builder = ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .endpoint(endpoint)
        .credentials(credentials)
        .timeout(Duration::from_secs(5))
        .retry(retry);
    if let Some(version) = version {
        builder = builder.signature_version(version);
    }
    RpcClient::new(builder.build().unwrap()).unwrap()
}

/// An address nothing listens on.
pub fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
