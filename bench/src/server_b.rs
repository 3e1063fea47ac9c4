//! Side B, the reference: Describe written by hand on axum 0.8 as a user would write it — the
//! parameters parsed with serde (`axum::extract::Query` into a struct), the same checks, and the
//! same JSON (same fields in the same order, `RequestId` first as an uppercase UUID, also in the
//! `x-acs-request-id` header).
//!
//! With authentication on it verifies signature version 3 with the functions of
//! `alibaba_rpc_runtime::signature::v3`: the `Authorization` header, the required signed headers, the
//! key, the date within 15 minutes, the payload hash, the signature, and a nonce replay memory (a
//! `Mutex<HashSet>`), so both sides do the same security work.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use alibaba_rpc_runtime::signature::parse_timestamp;
use alibaba_rpc_runtime::signature::v3::{self, headers as h};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Auth;
use crate::fixture::{self, NONCE_CAPACITY};

/// The parameters of Describe, as the query carries them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeQuery {
    /// `RegionId`.
    #[serde(default)]
    pub region_id: String,
    /// `SmartAGId`.
    #[serde(rename = "SmartAGId", default)]
    pub smart_ag_id: String,
    /// `UserName`.
    pub user_name: Option<String>,
    /// `UserMail`.
    pub user_mail: Option<String>,
    /// `PageNumber`.
    pub page_number: Option<i32>,
    /// `PageSize`.
    pub page_size: Option<i32>,
    /// `OwnerId`.
    pub owner_id: Option<i64>,
    /// `ResourceOwnerId`.
    pub resource_owner_id: Option<i64>,
    /// `OwnerAccount`.
    pub owner_account: Option<String>,
    /// `ResourceOwnerAccount`.
    pub resource_owner_account: Option<String>,
}

/// One user as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserOut {
    /// `UserName`.
    pub user_name: String,
    /// `UserMail`.
    pub user_mail: String,
    /// `Bandwidth`.
    pub bandwidth: i64,
    /// `ClientIp`.
    pub client_ip: String,
    /// `State`.
    pub state: i32,
    /// `AccelerateBandwidth`.
    pub accelerate_bandwidth: i64,
    /// `IsStaticIp`.
    pub is_static_ip: i64,
}

/// `Users: {"User": [...]}`, as the API wraps lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersOut {
    /// The users.
    #[serde(rename = "User", default)]
    pub user: Vec<UserOut>,
}

/// The Describe answer (also what the raw reqwest caller decodes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeOut {
    /// `RequestId`.
    pub request_id: String,
    /// `TotalCount`.
    pub total_count: i32,
    /// `PageNumber`.
    pub page_number: i32,
    /// `PageSize`.
    pub page_size: i32,
    /// `Users`.
    pub users: UsersOut,
}

/// The borrowed form written by the handler (the page is not cloned per request).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeReply<'a> {
    request_id: &'a str,
    total_count: i32,
    page_number: i32,
    page_size: i32,
    users: UsersReply<'a>,
}

#[derive(Serialize)]
struct UsersReply<'a> {
    #[serde(rename = "User")]
    user: &'a [UserOut],
}

/// The error envelope.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorOut<'a> {
    request_id: &'a str,
    host_id: &'a str,
    code: &'a str,
    message: String,
    recommend: &'a str,
}

/// A refusal: status, code, message.
struct Refusal(StatusCode, &'static str, String);

fn bad(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, code, message.into())
}

struct Keys {
    secrets: HashMap<String, String>,
    nonces: Mutex<HashSet<String>>,
}

struct AppState {
    users: Vec<UserOut>,
    keys: Option<Keys>,
}

const WINDOW_SECONDS: i64 = 15 * 60;

/// The hand-written router: Describe at `/`, authenticated when `auth` is on.
pub fn router(auth: Auth) -> Router {
    let users = fixture::users()
        .into_iter()
        .map(|u| UserOut {
            user_name: u.user_name,
            user_mail: u.user_mail,
            bandwidth: u.bandwidth,
            client_ip: u.client_ip,
            state: u.state,
            accelerate_bandwidth: u.accelerate_bandwidth,
            is_static_ip: u.is_static_ip,
        })
        .collect();
    let keys = match auth {
        Auth::Off => None,
        Auth::On => Some(Keys {
            secrets: HashMap::from([(fixture::ACCESS_KEY_ID.to_owned(), fixture::ACCESS_KEY_SECRET.to_owned())]),
            nonces: Mutex::new(HashSet::new()),
        }),
    };
    Router::new().route("/", any(describe)).with_state(Arc::new(AppState { users, keys }))
}

async fn describe(
    State(state): State<Arc<AppState>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    query: Result<Query<DescribeQuery>, QueryRejection>,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string().to_ascii_uppercase();
    match answer(&state, &request_id, &method, &headers, raw_query.as_deref().unwrap_or(""), query, &body) {
        Ok(reply) => json(StatusCode::OK, &request_id, &reply),
        Err(Refusal(status, code, message)) => {
            let envelope =
                ErrorOut { request_id: &request_id, host_id: fixture::HOST_ID, code, message, recommend: "" };
            json(status, &request_id, &envelope)
        }
    }
}

fn answer<'a>(
    state: &'a AppState,
    request_id: &'a str,
    method: &Method,
    headers: &HeaderMap,
    raw_query: &str,
    query: Result<Query<DescribeQuery>, QueryRejection>,
    body: &[u8],
) -> Result<DescribeReply<'a>, Refusal> {
    if method != Method::POST && method != Method::GET {
        return Err(bad("InvalidAction.NotFound", "Specified api is not found, please check your url and method."));
    }
    match header_str(headers, h::ACTION) {
        Some(fixture::ACTION) => {}
        Some(_) => return Err(Refusal(StatusCode::NOT_FOUND, "InvalidAction.NotFound", "Unknown action".into())),
        None => return Err(bad("MissingParameter", "x-acs-action is missing")),
    }
    if header_str(headers, h::VERSION) != Some(fixture::VERSION) {
        return Err(bad("InvalidVersion", "Specified parameter Version is not valid."));
    }
    if let Some(keys) = &state.keys {
        verify(keys, method, headers, raw_query, body)?;
    }
    let Query(query) = query.map_err(|e| bad("InvalidParameter", e.body_text()))?;
    if query.region_id.is_empty() {
        return Err(bad("MissingParameter", "RegionId is mandatory"));
    }
    if query.smart_ag_id.is_empty() {
        return Err(bad("SAG.InstanceIdEmpty", "You must specify the SAG instance ID."));
    }
    let page_number = query.page_number.unwrap_or(1);
    let page_size = query.page_size.unwrap_or(10);
    if page_number < 1 {
        return Err(bad("InvalidParameter", "PageNumber is not valid"));
    }
    if !(1..=100).contains(&page_size) {
        return Err(bad("InvalidParameter", "PageSize is not valid"));
    }
    if query.region_id != fixture::REGION || query.smart_ag_id != fixture::INSTANCE {
        return Err(bad("SAG.InstanceNoFound", "The specified SAG instance does not exist."));
    }
    Ok(DescribeReply {
        request_id,
        total_count: i32::try_from(state.users.len()).unwrap_or(i32::MAX),
        page_number,
        page_size,
        users: UsersReply { user: &state.users },
    })
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Signature version 3, checked by hand with the runtime's `signature::v3` functions.
fn verify(keys: &Keys, method: &Method, headers: &HeaderMap, raw_query: &str, body: &[u8]) -> Result<(), Refusal> {
    let incomplete = |why: &str| bad("IncompleteSignature", why.to_owned());
    let authorization = header_str(headers, h::AUTHORIZATION).ok_or_else(|| incomplete("no Authorization"))?;
    let authorization = v3::Authorization::parse(authorization).map_err(|e| incomplete(&e.to_string()))?;
    for name in [h::HOST, h::ACTION, h::VERSION, h::DATE, h::SIGNATURE_NONCE, h::CONTENT_SHA256] {
        if !authorization.signs(name) {
            return Err(incomplete("a required header is not signed"));
        }
    }
    let secret = keys
        .secrets
        .get(&authorization.credential)
        .ok_or_else(|| bad("InvalidAccessKeyId.NotFound", "Specified access key is not found."))?;
    let date = header_str(headers, h::DATE).and_then(parse_timestamp).ok_or_else(|| incomplete("bad x-acs-date"))?;
    if (OffsetDateTime::now_utc() - date).whole_seconds().abs() > WINDOW_SECONDS {
        return Err(bad("InvalidTimeStamp.Expired", "the date is outside the window"));
    }
    let payload_hash = header_str(headers, h::CONTENT_SHA256).unwrap_or_default();
    if !v3::hash_payload(body).eq_ignore_ascii_case(payload_hash) {
        return Err(incomplete("the body does not hash to x-acs-content-sha256"));
    }
    let nonce = header_str(headers, h::SIGNATURE_NONCE).filter(|n| !n.is_empty() && n.len() <= 128);
    let nonce = nonce.ok_or_else(|| incomplete("bad x-acs-signature-nonce"))?;

    let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(raw_query.as_bytes()).collect();
    let sent: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap_or(""))).collect();
    let signed: Vec<&str> = authorization.signed_headers.iter().map(String::as_str).collect();
    let (block, signed_line) = v3::canonical_headers(sent.iter().copied(), &signed);
    let canonical = v3::canonical_request(
        method.as_str(),
        pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
        &block,
        &signed_line,
        payload_hash,
    );
    let to_sign = v3::string_to_sign(&canonical);
    if !v3::verify(secret, &to_sign, &authorization.signature) {
        return Err(bad("SignatureDoesNotMatch", format!("server string to sign is:{to_sign}")));
    }

    let mut nonces = keys.nonces.lock().unwrap_or_else(PoisonError::into_inner);
    if nonces.len() >= NONCE_CAPACITY {
        return Err(bad("Throttling", "nonce memory full"));
    }
    if !nonces.insert(format!("{}:{nonce}", authorization.credential)) {
        return Err(bad("SignatureNonceUsed", "Specified signature nonce was used already."));
    }
    Ok(())
}

fn json(status: StatusCode, request_id: &str, value: &impl Serialize) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(body) => body,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", value);
    }
    response
}
