//! A fake API (one operation, `Echo`) and request helpers for the server tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smartag_runtime::encoding::percent_encode;
use smartag_runtime::errors::{ErrorCode, ErrorSpec, ProtocolErrors};
use smartag_runtime::operation::{ListItem, Operation, ServiceInfo};
use smartag_runtime::params::{Params, WireValue};
use smartag_runtime::server::{
    Authentication, Dispatch, DispatchFuture, RequestContext, ServerConfig, ServerConfigBuilder, ServerError, invoke,
    router,
};
use smartag_runtime::signature::{format_timestamp, new_nonce, sign, string_to_sign};
use smartag_runtime::validate::{Violation, Violations};
use time::OffsetDateTime;
use tower::ServiceExt as _;

// ---- a fake API: one operation, `Echo` -------------------------------------------------------

pub static SERVICE: ServiceInfo =
    ServiceInfo { product: "Test", version: "2018-03-13", endpoint_pattern: "https://test.{region}.example.com" };

const fn spec(code: &'static str, status: u16, message: &'static str) -> ErrorSpec {
    ErrorSpec { code, status, message }
}

pub static ERRORS: ProtocolErrors = ProtocolErrors {
    missing_parameter: spec(
        "MissingParameter",
        400,
        "The input parameter \"{param}\" that is mandatory for processing this request is not supplied.",
    ),
    invalid_parameter: spec("InvalidParameter", 400, "The specified parameter \"{param}\" is not valid."),
    signature_does_not_match: spec(
        "SignatureDoesNotMatch",
        400,
        "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}",
    ),
    incomplete_signature: spec(
        "IncompleteSignature",
        400,
        "The request signature does not conform to Aliyun standards. {reason}",
    ),
    missing_security_token: spec(
        "MissingSecurityToken",
        400,
        "The security token of the temporary AccessKey is not supplied ({param}).",
    ),
    invalid_security_token: spec(
        "InvalidSecurityToken.MismatchWithAccessKey",
        400,
        "The security token does not belong to the AccessKey ({param}).",
    ),
    invalid_access_key_id: spec("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found."),
    signature_nonce_used: spec("SignatureNonceUsed", 400, "Specified signature nonce was used already."),
    invalid_timestamp_expired: spec("InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired."),
    invalid_timestamp_format: spec(
        "InvalidTimeStamp.Format",
        400,
        "Specified time stamp or date value is not well formatted.",
    ),
    invalid_action: spec(
        "InvalidAction.NotFound",
        404,
        "Specified api is not found, please check your url and method.",
    ),
    invalid_version: spec("InvalidVersion", 400, "Specified parameter Version is not valid."),
    request_too_large: spec("RequestTooLarge", 413, "The request body is larger than the server accepts."),
    request_timeout: spec(
        "ServiceUnavailable",
        503,
        "The request has failed due to a temporary failure of the server.",
    ),
    throttling: spec("Throttling", 400, "Request was denied due to request throttling."),
    internal_error: spec(
        "InternalError",
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoCode {
    MissingParameter,
    InvalidParameter,
    CountInvalid,
    NameTaken,
}

impl ErrorCode for EchoCode {
    fn code(&self) -> &'static str {
        match self {
            EchoCode::MissingParameter => "MissingParameter",
            EchoCode::InvalidParameter => "InvalidParameter",
            EchoCode::CountInvalid => "Echo.CountInvalid",
            EchoCode::NameTaken => "Echo.NameTaken",
        }
    }
    fn status(&self) -> u16 {
        match self {
            EchoCode::NameTaken => 409,
            _ => 400,
        }
    }
    fn message(&self) -> &'static str {
        match self {
            EchoCode::MissingParameter => ERRORS.missing_parameter.message,
            EchoCode::InvalidParameter => ERRORS.invalid_parameter.message,
            EchoCode::CountInvalid => "The specified Count is invalid.",
            EchoCode::NameTaken => "The specified name is taken.",
        }
    }
    fn retryable(&self) -> bool {
        false
    }
    fn from_code(code: &str) -> Option<Self> {
        [EchoCode::MissingParameter, EchoCode::InvalidParameter, EchoCode::CountInvalid, EchoCode::NameTaken]
            .into_iter()
            .find(|c| c.code() == code)
    }
}

#[derive(Debug)]
pub struct EchoRequest {
    name: String,
    count: Option<i64>,
    password: Option<String>,
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
    #[serde(rename = "Items", default, with = "smartag_runtime::wrapped_list")]
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

    fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("Name", self.name.clone())];
        if let Some(c) = self.count {
            out.push(("Count", c.to_wire()));
        }
        out
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
                Some(invoke::<EchoRequest, _, _>(ctx, &params, move |ctx, req| {
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
