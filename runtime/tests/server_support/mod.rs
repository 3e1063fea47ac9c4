//! A fake API (one operation, `Echo`) and request helpers for the server tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use alibaba_rpc_runtime::encoding::percent_encode;
use alibaba_rpc_runtime::errors::{ErrorCode, ErrorSpec, ProtocolErrors};
use alibaba_rpc_runtime::flatten::{Flattener, WireParam};
use alibaba_rpc_runtime::operation::{ListItem, Operation, ServiceInfo};
use alibaba_rpc_runtime::params::{Params, WireValue};
use alibaba_rpc_runtime::server::{
    Authentication, Dispatch, DispatchFuture, RequestContext, ServerConfig, ServerConfigBuilder, ServerError, invoke,
    router,
};
use alibaba_rpc_runtime::signature::{format_timestamp, new_nonce, sign, string_to_sign};
use alibaba_rpc_runtime::validate::{Violation, Violations};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use tower::ServiceExt as _;

// ---- a fake API: one operation, `Echo` -------------------------------------------------------

pub static SERVICE: ServiceInfo =
    ServiceInfo { product: "Test", version: "2018-03-13", endpoint_pattern: "https://test.{region}.example.com" };

/// The gateway's protocol errors, as every generated server answers them.
pub static ERRORS: ProtocolErrors = ProtocolErrors::STANDARD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoCode {
    MissingParameter,
    InvalidParameter,
    CountInvalid,
    NameTaken,
}

impl ErrorCode for EchoCode {
    const DECLARED: &'static [Self] =
        &[EchoCode::MissingParameter, EchoCode::InvalidParameter, EchoCode::CountInvalid, EchoCode::NameTaken];

    fn spec(&self) -> &'static ErrorSpec {
        const COUNT_INVALID: ErrorSpec = ErrorSpec::new("Echo.CountInvalid", 400, "The specified Count is invalid.");
        const NAME_TAKEN: ErrorSpec = ErrorSpec::new("Echo.NameTaken", 409, "The specified name is taken.");
        match self {
            EchoCode::MissingParameter => &ERRORS.missing_parameter,
            EchoCode::InvalidParameter => &ERRORS.invalid_parameter,
            EchoCode::CountInvalid => &COUNT_INVALID,
            EchoCode::NameTaken => &NAME_TAKEN,
        }
    }
}

#[derive(Debug)]
pub struct EchoRequest {
    name: String,
    count: Option<i64>,
    password: Option<String>,
}

impl EchoRequest {
    /// An `Echo` request (for client-side tests).
    pub fn new(name: &str, count: Option<i64>, password: Option<&str>) -> EchoRequest {
        EchoRequest { name: name.to_owned(), count, password: password.map(str::to_owned) }
    }
}

impl EchoResponse {
    /// The `Name` echoed.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `Count` echoed.
    pub fn count(&self) -> i64 {
        self.count
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    #[serde(rename = "Value")]
    value: String,
}

impl ListItem for Item {
    const ELEMENT: &'static str = "Item";
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EchoResponse {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Count")]
    count: i64,
    #[serde(rename = "Items", default, with = "alibaba_rpc_runtime::wrapped_list")]
    items: Vec<Item>,
    #[serde(rename = "Context", skip_serializing_if = "Option::is_none")]
    context: Option<Value>,
}

impl Operation for EchoRequest {
    const ACTION: &'static str = "Echo";
    const IDEMPOTENT: bool = true;
    type Response = EchoResponse;
    type ErrorCode = EchoCode;

    fn validate(&self) -> Result<(), Violations> {
        let mut problems = Violations::new();
        if self.name.is_empty() {
            problems.push(Violation::new(EchoCode::MissingParameter, "Name"));
        }
        if self.count.is_some_and(|c| !(0..=10).contains(&c)) {
            problems.push(Violation::new(EchoCode::CountInvalid, "Count"));
        }
        problems.into_result()
    }

    fn to_params(&self) -> Vec<WireParam<'_>> {
        let mut out = Flattener::with_capacity(3);
        out.put("Name", &self.name);
        out.put_opt("Count", &self.count);
        out.put_opt("Password", &self.password);
        out.finish()
    }

    fn from_params(params: &Params) -> Result<Self, Violations> {
        let mut problems = Violations::new();
        let count = match params.get("Count") {
            None | Some("") => None,
            Some(raw) => match i64::from_wire(raw) {
                Some(c) => Some(c),
                None => {
                    problems.push(Violation::new(EchoCode::InvalidParameter, "Count"));
                    None
                }
            },
        };
        let request = EchoRequest {
            name: params.get("Name").unwrap_or_default().to_owned(),
            count,
            password: params.get("Password").map(str::to_owned),
        };
        if let Err(more) = request.validate() {
            problems.extend(more);
        }
        problems.into_result().map(|()| request)
    }
}

pub async fn echo(ctx: RequestContext, req: EchoRequest) -> Result<EchoResponse, ServerError<EchoCode>> {
    match req.name.as_str() {
        "taken" => return Err(ServerError::api(EchoCode::NameTaken)),
        "busy" => return Err(ServerError::api(EchoCode::NameTaken).retry_after(Duration::from_millis(1500))),
        "boom-with-header" => {
            return Err(ServerError::internal("internal").retry_after(Duration::from_millis(1500)));
        }
        "boom" => return Err(ServerError::internal("database password is hunter2-internal")),
        "panic" => panic!("handler panicked"),
        "slow" => tokio::time::sleep(Duration::from_secs(5)).await,
        _ => {}
    }
    let context = (req.name == "ctx").then(|| {
        serde_json::json!({
            "RequestId": ctx.request_id,
            "Action": ctx.action,
            "RegionId": ctx.region_id,
            "AccessKeyId": ctx.access_key_id,
            "RemoteAddr": ctx.remote_addr.map(|a| a.to_string()),
            "HasPassword": req.password.is_some(),
        })
    });
    Ok(EchoResponse {
        name: req.name,
        count: req.count.unwrap_or(1),
        items: vec![Item { value: "a<&>".into() }, Item { value: "b".into() }],
        context,
    })
}

pub struct TestDispatch;

impl Dispatch for TestDispatch {
    fn dispatch(&self, ctx: RequestContext, params: Params) -> Option<DispatchFuture> {
        match ctx.action.as_str() {
            EchoRequest::ACTION => {
                let shared = Arc::new(());
                Some(invoke::<EchoRequest, _, _, _>(ctx, &params, move |ctx, req| {
                    let _shared = shared.clone();
                    async move { echo(ctx, req).await }
                }))
            }
            _ => None,
        }
    }
}

// ---- helpers -----------------------------------------------------------------------------------

pub const KEY_ID: &str = "testid";
pub const SECRET: &str = "testsecret";

pub fn keys() -> HashMap<String, String> {
    HashMap::from([(KEY_ID.to_owned(), SECRET.to_owned())])
}

pub fn app() -> Router {
    app_with(|b| b)
}

pub fn app_with(
    tweak: impl FnOnce(ServerConfigBuilder<Authentication>) -> ServerConfigBuilder<Authentication>,
) -> Router {
    let builder = ServerConfig::builder(&SERVICE).authentication(Authentication::signature(keys()));
    router(TestDispatch, tweak(builder).build(), &ERRORS)
}

/// Common parameters as the official SDKs send them (with `SignatureType=` empty).
pub fn common(action: &str, at: OffsetDateTime) -> Vec<(String, String)> {
    [
        ("Action", action.to_owned()),
        ("Version", "2018-03-13".to_owned()),
        ("Format", "JSON".to_owned()),
        ("AccessKeyId", KEY_ID.to_owned()),
        ("SignatureMethod", "HMAC-SHA1".to_owned()),
        ("SignatureType", String::new()),
        ("SignatureVersion", "1.0".to_owned()),
        ("SignatureNonce", new_nonce()),
        ("Timestamp", format_timestamp(at)),
        ("RegionId", "cn-shanghai".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub fn set(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    params.retain(|(k, _)| k != name);
    params.push((name.to_owned(), value.to_owned()));
}

pub fn remove(params: &mut Vec<(String, String)>, name: &str) {
    params.retain(|(k, _)| k != name);
}

/// `params` plus `Signature` computed for `method` with `secret`.
pub fn signed(method: &str, secret: &str, mut params: Vec<(String, String)>) -> Vec<(String, String)> {
    let sts = string_to_sign(method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    params.push(("Signature".to_owned(), sign(secret, &sts)));
    params
}

pub fn echo_params(name: &str) -> Vec<(String, String)> {
    let mut p = common("Echo", OffsetDateTime::now_utc());
    set(&mut p, "Name", name);
    p
}

pub fn encode(params: &[(String, String)]) -> String {
    params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// POST with everything in the query and an empty body, as the official SDKs send.
pub fn sdk_post(params: &[(String, String)]) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/?{}", encode(params)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap_or_default()
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub header_request_id: String,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or_default().to_owned()
    }

    pub fn message(&self) -> String {
        self.json()["Message"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts an error envelope with `status` and `code` (JSON), returns its message.
    pub fn expect_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
        assert_eq!(self.content_type, "application/json;charset=utf-8");
        let v = self.json();
        let keys: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        assert_eq!(keys, ["RequestId", "HostId", "Code", "Message", "Recommend"], "{}", self.text);
        assert_eq!(v["HostId"], "test.example.com");
        assert_eq!(v["RequestId"].as_str(), Some(self.header_request_id.as_str()));
        assert!(!self.header_request_id.is_empty());
        self.message()
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = match app.clone().oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let content_type = header("content-type");
    let header_request_id = header("x-acs-request-id");
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
    Answer { status, content_type, header_request_id, text: String::from_utf8_lossy(&bytes).into_owned() }
}

pub fn missing(param: &str) -> String {
    format!("The input parameter \"{param}\" that is mandatory for processing this request is not supplied.")
}

// ---- signature version 3 -----------------------------------------------------------------------

/// A version 3 request under construction: method, query parameters, extra headers, body.
#[derive(Clone)]
pub struct V3 {
    pub method: Method,
    pub action: String,
    pub query: Vec<(String, String)>,
    /// Headers besides the protocol ones (lowercase names).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub key_id: String,
    pub secret: String,
    pub date: String,
    pub nonce: String,
    /// Which headers to sign: `None` signs every header sent, as the Python Tea SDK does.
    pub sign_only: Option<Vec<String>>,
    /// The algorithm (`ACS3-HMAC-SHA256` unless changed).
    pub algorithm: alibaba_rpc_runtime::signature::v3::Algorithm,
}

impl V3 {
    /// `Echo` with `Name=name` in the query, signed with the test key, now.
    pub fn echo(name: &str) -> V3 {
        V3 {
            method: Method::POST,
            action: "Echo".to_owned(),
            query: vec![("Name".to_owned(), name.to_owned()), ("RegionId".to_owned(), "cn-shanghai".to_owned())],
            headers: vec![("accept".to_owned(), "application/json".to_owned())],
            body: Vec::new(),
            key_id: KEY_ID.to_owned(),
            secret: SECRET.to_owned(),
            date: format_timestamp(OffsetDateTime::now_utc()),
            nonce: new_nonce(),
            sign_only: None,
            algorithm: alibaba_rpc_runtime::signature::v3::Algorithm::HmacSha256,
        }
    }

    /// The same request signed with `algorithm`.
    pub fn algorithm(mut self, algorithm: alibaba_rpc_runtime::signature::v3::Algorithm) -> V3 {
        self.algorithm = algorithm;
        self
    }

    /// Sets (or replaces) a query parameter.
    pub fn param(mut self, name: &str, value: &str) -> V3 {
        set(&mut self.query, name, value);
        self
    }

    /// Sets (or replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> V3 {
        set(&mut self.headers, name, value);
        self
    }

    /// A form body holding `params` (moved out of the query by the caller, as Node's SDK does).
    pub fn form(mut self, params: &[(String, String)]) -> V3 {
        self.body = encode(params).into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// Every header of the request, the protocol ones included, before signing.
    pub fn all_headers(&self) -> Vec<(String, String)> {
        let hash = self.algorithm.hash_payload(&self.body);
        let mut all = vec![
            ("host".to_owned(), "test.cn-shanghai.example.com".to_owned()),
            ("x-acs-action".to_owned(), self.action.clone()),
            ("x-acs-version".to_owned(), "2018-03-13".to_owned()),
            ("x-acs-date".to_owned(), self.date.clone()),
            ("x-acs-signature-nonce".to_owned(), self.nonce.clone()),
            ("x-acs-content-sha256".to_owned(), hash),
        ];
        for (name, value) in &self.headers {
            set(&mut all, name, value);
        }
        all
    }

    /// The string to sign the client computes.
    pub fn string_to_sign(&self) -> String {
        use alibaba_rpc_runtime::signature::v3;
        let headers = self.all_headers();
        let names: Vec<&str> = match &self.sign_only {
            Some(only) => only.iter().map(String::as_str).collect(),
            None => headers.iter().map(|(n, _)| n.as_str()).collect(),
        };
        let (block, line) = v3::canonical_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())), &names);
        let hash =
            headers.iter().find(|(n, _)| n == "x-acs-content-sha256").map(|(_, v)| v.clone()).unwrap_or_default();
        let canonical = v3::canonical_request(
            self.method.as_str(),
            self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &block,
            &line,
            &hash,
        );
        self.algorithm.string_to_sign(&canonical)
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> String {
        use alibaba_rpc_runtime::signature::v3;
        let headers = self.all_headers();
        let mut names: Vec<String> = match &self.sign_only {
            Some(only) => only.clone(),
            None => headers.iter().map(|(n, _)| n.clone()).collect(),
        };
        names.sort();
        names.dedup();
        let signature = self.algorithm.sign(&self.secret, &self.string_to_sign());
        v3::authorization(self.algorithm, &self.key_id, &names.join(";"), &signature)
    }

    /// The signed HTTP request.
    pub fn request(&self) -> Request<Body> {
        let authorization = self.authorization();
        self.request_with_authorization(Some(&authorization))
    }

    /// The HTTP request with `authorization` (or none) instead of the computed one.
    pub fn request_with_authorization(&self, authorization: Option<&str>) -> Request<Body> {
        let mut builder = Request::builder().method(self.method.clone()).uri(format!("/?{}", encode(&self.query)));
        for (name, value) in self.all_headers() {
            builder = builder.header(name, value);
        }
        if let Some(authorization) = authorization {
            builder = builder.header("authorization", authorization);
        }
        builder.body(Body::from(self.body.clone())).unwrap_or_default()
    }
}

// ---- property-test helpers ---------------------------------------------------------------------

/// Parameter values as users write them: any unicode, the reserved ASCII set, empty.
pub fn any_value() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just(String::new()),
        "[ -~]{0,24}",
        "\\PC{0,12}",
        prop::collection::vec(
            prop::sample::select(vec!["*", "~", "+", "%", "&", "=", " ", "/", "?", "#", "é", "用户"]),
            0..8
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// A current-thread runtime for one property case.
pub fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => panic!("cannot start a runtime: {e}"),
    }
}
