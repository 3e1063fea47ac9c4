//! Fuzzing the server side of the protocol on stable Rust.
//!
//! One input is a byte string; [`Harness::run`] reads it as a request (raw bytes, or a request
//! signed with version 1.0 or 3 from a dictionary of names and hostile values, possibly tampered
//! with), sends it through the generated server's router over an in-memory implementation, and
//! checks the properties:
//!
//! - nothing panics (the router's own panic guard answers `InternalError`, which is a 5xx and so
//!   fails the next property);
//! - every answer is below 500 (a client mistake is never a server error), carries an
//!   `x-acs-request-id`, and is the API's envelope (JSON or XML) with that RequestId;
//! - the canonicalization of the same parameters (version 1.0 canonical query and string to
//!   sign, version 3 canonical request, `Authorization` parsing) does not panic;
//! - each generated request type's `Operation::from_params` does not panic, and whatever it
//!   accepts validates and survives `to_params` → `from_params` unchanged.
//!
//! The driver (`src/main.rs`) feeds it seeded random and mutated inputs; `tests/corpus.rs` replays
//! `corpus/` and runs a bounded, fixed-seed campaign in `cargo test`.

use std::collections::HashMap;
use std::sync::Mutex;

use alibaba_rpc_runtime::encoding::percent_encode;
use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::signature::{self, format_timestamp, v1, v3};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;
use smartag_server::{
    Authentication, CreateSmartAccessGatewayClientUserRequest, CreateSmartAccessGatewayClientUserResponse,
    CreateSmartAccessGatewayClientUserServerError, DescribeSmartAccessGatewayClientUsersRequest,
    DescribeSmartAccessGatewayClientUsersResponse, DescribeSmartAccessGatewayClientUsersServerError, KeyMaterial,
    ModifySmartAccessGatewayClientUserRequest, ModifySmartAccessGatewayClientUserResponse,
    ModifySmartAccessGatewayClientUserServerError, Operation, Reply, RequestContext, ServerConfig, ServerError,
    SmartagApi, User,
};
use time::OffsetDateTime;
use tower::ServiceExt as _;

const KEY_ID: &str = "testid";
const SECRET: &str = "testsecret";

/// The in-memory implementation behind the router: users by `(instance, name)`.
#[derive(Default)]
struct Memory {
    users: Mutex<HashMap<(String, String), User>>,
}

impl Memory {
    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), User>> {
        self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SmartagApi for Memory {
    async fn create_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        r: CreateSmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<CreateSmartAccessGatewayClientUserResponse>, CreateSmartAccessGatewayClientUserServerError> {
        use smartag_server::CreateSmartAccessGatewayClientUserErrorCode as Code;
        let name = r.user_name.clone().unwrap_or_else(|| r.user_mail.clone());
        let mut users = self.users();
        if users.len() >= 1000 {
            return Err(ServerError::api(Code::ClientUserUserOverLimit));
        }
        if users.contains_key(&(r.smart_ag_id.clone(), name.clone())) {
            return Err(ServerError::api(Code::ClientUserUserExist));
        }
        let user = User {
            user_name: name.clone(),
            user_mail: r.user_mail.clone(),
            bandwidth: r.bandwidth,
            client_ip: r.client_ip.clone(),
            state: 0,
            accelerate_bandwidth: Some(0),
            is_static_ip: Some(i64::from(r.client_ip.is_some())),
        };
        users.insert((r.smart_ag_id.clone(), name.clone()), user);
        Ok(CreateSmartAccessGatewayClientUserResponse {
            user_name: name,
            user_mail: r.user_mail,
            bandwidth: r.bandwidth,
            client_ip: r.client_ip,
            ..Default::default()
        }
        .into())
    }

    async fn modify_smart_access_gateway_client_user(
        &self,
        _ctx: RequestContext,
        r: ModifySmartAccessGatewayClientUserRequest,
    ) -> Result<Reply<ModifySmartAccessGatewayClientUserResponse>, ModifySmartAccessGatewayClientUserServerError> {
        use smartag_server::ModifySmartAccessGatewayClientUserErrorCode as Code;
        let mut users = self.users();
        let Some(user) = users.get_mut(&(r.smart_ag_id.clone(), r.user_name.clone())) else {
            return Err(ServerError::api(Code::ClientUserNotExist));
        };
        user.bandwidth = r.bandwidth;
        if let Some(mail) = r.user_mail.filter(|m| !m.is_empty()) {
            user.user_mail = mail;
        }
        Ok(ModifySmartAccessGatewayClientUserResponse {
            user_name: user.user_name.clone(),
            user_mail: user.user_mail.clone(),
            bandwidth: user.bandwidth,
            client_ip: user.client_ip.clone(),
            ..Default::default()
        }
        .into())
    }

    async fn describe_smart_access_gateway_client_users(
        &self,
        _ctx: RequestContext,
        r: DescribeSmartAccessGatewayClientUsersRequest,
    ) -> Result<Reply<DescribeSmartAccessGatewayClientUsersResponse>, DescribeSmartAccessGatewayClientUsersServerError>
    {
        let users: Vec<User> = self
            .users()
            .iter()
            .filter(|((instance, _), u)| {
                *instance == r.smart_ag_id
                    && r.user_name.as_deref().is_none_or(|n| n.is_empty() || n == u.user_name)
                    && r.user_mail.as_deref().is_none_or(|m| m.is_empty() || m == u.user_mail)
            })
            .map(|(_, u)| u.clone())
            .collect();
        let (number, size) = (r.page_number_or_default(), r.page_size_or_default());
        let skip = usize::try_from(i64::from(number - 1) * i64::from(size)).unwrap_or(usize::MAX);
        let size_usize = usize::try_from(size).unwrap_or(0);
        Ok(DescribeSmartAccessGatewayClientUsersResponse {
            total_count: i32::try_from(users.len()).unwrap_or(i32::MAX),
            page_number: number,
            page_size: size,
            users: users.into_iter().skip(skip).take(size_usize).collect(),
            ..Default::default()
        }
        .into())
    }
}

/// A byte reader that never fails: past the end it reads zeros.
struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn u8(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((b, rest)) => {
                self.bytes = rest;
                *b
            }
            None => 0,
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::from(self.u8()) % items.len()]
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head
    }

    fn len(&mut self, max: usize) -> usize {
        (usize::from(self.u8()) << 8 | usize::from(self.u8())) % (max + 1)
    }
}

const METHODS: &[&str] = &["POST", "GET", "PUT", "DELETE"];
const ACTIONS: &[&str] = &[
    "CreateSmartAccessGatewayClientUser",
    "ModifySmartAccessGatewayClientUser",
    "DescribeSmartAccessGatewayClientUsers",
    "DescribeRegions",
    "",
];
const NAMES: &[&str] = &[
    "RegionId",
    "SmartAGId",
    "UserMail",
    "Bandwidth",
    "UserName",
    "Password",
    "ClientIp",
    "Email",
    "PageNumber",
    "PageSize",
    "OwnerId",
    "ResourceOwnerId",
    "OwnerAccount",
    "ResourceOwnerAccount",
    "Format",
    "Action",
    "Version",
    "Signature",
    "SignatureNonce",
    "Timestamp",
    "AccessKeyId",
    "SecurityToken",
];
const VALUES: &[&str] = &[
    "cn-shanghai",
    "sag-demo",
    "alice@example.com",
    "alice01x",
    "Passw0rd-1",
    "10.10.0.7",
    "192.168.1.1",
    "8.8.8.8",
    "20",
    "2000",
    "2001",
    "0",
    "-1",
    "+5",
    "007",
    " 5",
    "1e3",
    "١٢",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "2147483648",
    "",
    "XML",
    "JSON",
    "xml",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "a\0b",
    "line\nbreak",
    "${jndi:ldap://x/a}",
    "%ZZ",
    "\u{FFFD}",
    "a@b.c",
    "CreateSmartAccessGatewayClientUser",
    "2018-03-13",
];
const HEADERS: &[&str] = &[
    "authorization",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-security-token",
    "content-type",
    "host",
    "content-length",
];
const HEADER_VALUES: &[&str] = &[
    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action,Signature=00",
    "ACS3-HMAC-SHA256 ",
    "ACS3-HMAC-SHA256 Credential=,SignedHeaders=,Signature=",
    "ACS3-HMAC-SHA256 Credential=testid,,Signature=zz,SignedHeaders=HOST;;x-acs-date",
    "ACS3-HMAC-SM3 Credential=testid,SignedHeaders=host;x-acs-action,Signature=00",
    "ACS3-RSA-SHA256 Credential=testid,SignedHeaders=host,Signature=00",
    "CreateSmartAccessGatewayClientUser",
    "2018-03-13",
    "2026-11-23T01:09:05Z",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "text/plain",
    v3::EMPTY_BODY_SHA256,
    v3::EMPTY_BODY_SM3,
    "",
    "  ",
];

/// One value: from the dictionary, a long repetition, or raw bytes (lossy text).
fn value(input: &mut Input<'_>) -> String {
    match input.u8() % 8 {
        0 => {
            let n = input.len(70_000);
            "a".repeat(n)
        }
        1 | 2 => {
            let n = input.len(40);
            String::from_utf8_lossy(input.take(n)).into_owned()
        }
        _ => input.pick(VALUES).to_owned(),
    }
}

/// Raw bytes made safe for a URI (everything but a few characters escaped).
fn uri_safe(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"=&%+.-_~".contains(b) {
                (*b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A request built from `input`, and the pieces the direct checks look at.
struct Built {
    request: Request<Body>,
    params: Params,
    authorization: Option<String>,
}

fn build(input: &mut Input<'_>, now: OffsetDateTime, nonce: u64) -> Built {
    let mode = input.u8() % 4;
    let method = input.pick(METHODS);
    let mut headers: Vec<(String, String)> = Vec::new();
    let (query, body, form) = if mode == 0 || mode == 3 {
        // Raw: arbitrary query bytes, headers and body.
        let n = input.len(300);
        let query = uri_safe(input.take(n));
        for _ in 0..input.u8() % 6 {
            let name = input.pick(HEADERS);
            let v = if input.u8().is_multiple_of(2) {
                input.pick(HEADER_VALUES).to_owned()
            } else {
                let n = input.len(60);
                String::from_utf8_lossy(input.take(n)).into_owned()
            };
            headers.push((name.to_owned(), v));
        }
        let n = input.len(3000);
        let body = input.take(n).to_vec();
        (query, body, input.u8().is_multiple_of(2))
    } else {
        // Structured: parameters from the dictionary, placed in the query and/or a form body,
        // signed with version 1.0 (mode 1) or 3 (mode 2), then maybe tampered with.
        let action = input.pick(ACTIONS);
        let mut in_query: Vec<(String, String)> = Vec::new();
        let mut in_body: Vec<(String, String)> = Vec::new();
        for _ in 0..input.u8() % 12 {
            let pair = (input.pick(NAMES).to_owned(), value(input));
            match input.u8() % 4 {
                0 => in_body.push(pair),
                1 => {
                    in_query.push(pair.clone());
                    in_body.push(pair);
                }
                _ => in_query.push(pair),
            }
        }
        let form = !in_body.is_empty() || input.u8().is_multiple_of(4);
        let skew = match input.u8() % 16 {
            0 => time::Duration::minutes(20),
            1 => time::Duration::minutes(-20),
            _ => time::Duration::ZERO,
        };
        let date = format_timestamp(now + skew);
        // A third of the version 3 requests sign with ACS3-HMAC-SM3, chosen by the nonce's number
        // so that an input means the same bytes it always did.
        let sm3 = nonce.is_multiple_of(3);
        let nonce = format!("fuzz{nonce:016x}");
        let body = encode(&in_body).into_bytes();
        if mode == 1 {
            let common = [
                ("Action", action),
                ("Version", "2018-03-13"),
                ("AccessKeyId", KEY_ID),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureVersion", "1.0"),
                ("SignatureNonce", nonce.as_str()),
                ("Timestamp", date.as_str()),
            ];
            in_query.extend(common.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            let mut all: Vec<(&str, &str)> = in_query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            if form {
                all.extend(in_body.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
            let sts = v1::string_to_sign(method, all);
            in_query.push(("Signature".to_owned(), v1::sign(SECRET, &sts)));
        } else {
            let algorithm = if sm3 { v3::Algorithm::HmacSm3 } else { v3::Algorithm::HmacSha256 };
            let hash = algorithm.hash_payload(&body);
            let mut signed: Vec<(&str, &str)> = vec![
                ("host", "smartag.cn-shanghai.aliyuncs.com"),
                ("x-acs-action", action),
                ("x-acs-version", "2018-03-13"),
                ("x-acs-date", date.as_str()),
                ("x-acs-signature-nonce", nonce.as_str()),
                ("x-acs-content-sha256", hash.as_str()),
            ];
            if form {
                signed.push(("content-type", "application/x-www-form-urlencoded"));
            }
            let query = signature::canonical_query(in_query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let s = v3::sign_request_with(algorithm, KEY_ID, SECRET, method, &query, &signed, &hash);
            headers.extend(signed.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            headers.push(("authorization".to_owned(), s.authorization));
        }
        let mut query = encode(&in_query);
        let mut body = body;
        // Tampering: a flipped byte in the query, the body or a header, or a dropped header.
        match input.u8() % 8 {
            0 if !query.is_empty() => {
                let at = usize::from(input.u8()) % query.len();
                let mut bytes = query.into_bytes();
                bytes[at] ^= 1 << (input.u8() % 7);
                query = uri_safe(&bytes);
            }
            1 if !body.is_empty() => {
                let at = usize::from(input.u8()) % body.len();
                body[at] ^= 1 << (input.u8() % 8);
            }
            2 if !headers.is_empty() => {
                let at = usize::from(input.u8()) % headers.len();
                headers.remove(at);
            }
            3 if !headers.is_empty() => {
                let at = usize::from(input.u8()) % headers.len();
                let extra = input.pick(HEADER_VALUES).to_owned();
                headers.push((headers[at].0.clone(), extra));
            }
            _ => {}
        }
        (query, body, form)
    };
    if form && !headers.iter().any(|(n, _)| n == "content-type") {
        headers.push(("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned()));
    }
    let mut params = Params::parse_urlencoded(query.as_bytes());
    if form {
        params.extend(Params::parse_urlencoded(&body));
    }
    let authorization = headers.iter().find(|(n, _)| n == "authorization").map(|(_, v)| v.clone());
    let mut builder = Request::builder().method(method).uri(format!("/?{query}"));
    for (name, v) in &headers {
        if let (Ok(n), Ok(v)) =
            (axum::http::HeaderName::try_from(name.as_str()), axum::http::HeaderValue::try_from(v.as_str()))
        {
            builder = builder.header(n, v);
        }
    }
    let request = builder.body(Body::from(body)).unwrap_or_else(|_| {
        // An invalid URI or header (the builder refused it): send the bare request instead.
        Request::builder().method(Method::POST).uri("/").body(Body::empty()).unwrap_or_default()
    });
    Built { request, params, authorization }
}

fn encode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// `R::from_params` never panics, and what it accepts validates and round-trips.
fn check_operation<R: Operation + PartialEq>(params: &Params) -> Result<(), String> {
    let Ok(request) = R::from_params(params) else { return Ok(()) };
    if let Err(v) = request.validate() {
        return Err(format!("{}: from_params accepted what validate refuses: {v:?}", R::ACTION));
    }
    let again = Params::from_pairs(request.to_params().into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())));
    match R::from_params(&again) {
        Ok(back) if back == request => Ok(()),
        Ok(_) => Err(format!("{}: to_params → from_params changed the request", R::ACTION)),
        Err(v) => Err(format!("{}: to_params → from_params refused: {v:?}", R::ACTION)),
    }
}

/// The router, the runtime that drives it, and a nonce counter.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Router,
    nonce: std::sync::atomic::AtomicU64,
}

impl Harness {
    /// A router over an empty in-memory implementation, authenticating with `testid`/`testsecret`.
    ///
    /// # Panics
    /// If the async runtime cannot be started.
    pub fn new() -> Harness {
        let keys = HashMap::from([(
            KEY_ID.to_owned(),
            KeyMaterial { secret: SECRET.to_owned().into(), security_token: None },
        )]);
        let config = ServerConfig::builder(&smartag_server::SERVICE)
            .host_id(smartag_server::HOST_ID)
            .authentication(Authentication::signature(keys))
            .build();
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a current-thread tokio runtime");
        Harness { runtime, app: smartag_server::router(Memory::default(), config), nonce: 0.into() }
    }

    /// Runs one input: the router's HTTP status, or `Err` describing the broken property.
    pub fn run(&self, bytes: &[u8]) -> Result<u16, String> {
        let mut input = Input { bytes };
        let nonce = self.nonce.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let built = build(&mut input, OffsetDateTime::now_utc(), nonce);

        // Canonicalization and Authorization parsing of the same request.
        let pairs: Vec<(&str, &str)> = built.params.iter().collect();
        let _ = v1::canonicalized_query(pairs.iter().copied());
        let _ = v1::string_to_sign("POST", pairs.iter().copied());
        let (block, names) = v3::canonical_headers([("host", "h"), ("x-acs-action", "a")], &["host", "x-acs-action"]);
        let _ = v3::canonical_request("POST", pairs.iter().copied(), &block, &names, v3::EMPTY_BODY_SHA256);
        if let Some(Ok(parsed)) = built.authorization.as_deref().map(v3::Authorization::parse) {
            let _ = parsed.signs("host");
        }
        let _ = v3::Authorization::parse(&String::from_utf8_lossy(bytes));

        // Validation of each operation.
        check_operation::<CreateSmartAccessGatewayClientUserRequest>(&built.params)?;
        check_operation::<ModifySmartAccessGatewayClientUserRequest>(&built.params)?;
        check_operation::<DescribeSmartAccessGatewayClientUsersRequest>(&built.params)?;

        // The router's answer.
        let app = self.app.clone();
        let request = built.request;
        let (status, request_id, content_type, body) = self.runtime.block_on(async move {
            let response = match app.oneshot(request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let status = response.status().as_u16();
            let header =
                |n: &str| response.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let (request_id, content_type) = (header("x-acs-request-id"), header("content-type"));
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
            (status, request_id, content_type, String::from_utf8_lossy(&body).into_owned())
        });
        check_answer(status, &request_id, &content_type, &body).map(|()| status)
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// Below 500, a RequestId, and the envelope (JSON or XML) naming it.
fn check_answer(status: u16, request_id: &str, content_type: &str, body: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("{why}: status {status}, content-type {content_type:?}, body {body:.400}"));
    if status >= 500 {
        return fail("a 5xx answer");
    }
    if request_id.is_empty() {
        return fail("no x-acs-request-id");
    }
    if content_type.starts_with("application/json") {
        let Ok(Value::Object(v)) = serde_json::from_str::<Value>(body) else { return fail("not a JSON object") };
        if v.get("RequestId").and_then(Value::as_str) != Some(request_id) {
            return fail("RequestId differs from the header");
        }
        if status >= 300 {
            let keys: Vec<&str> = v.keys().map(String::as_str).collect();
            if keys != ["RequestId", "HostId", "Code", "Message", "Recommend"] {
                return fail("not the error envelope");
            }
            if v.get("Code").and_then(Value::as_str).is_none_or(str::is_empty) {
                return fail("an empty Code");
            }
        }
        Ok(())
    } else if content_type.starts_with("text/xml") || content_type.starts_with("application/xml") {
        if !body.contains(&format!("<RequestId>{request_id}</RequestId>")) {
            return fail("XML without its RequestId");
        }
        if status >= 300 && !(body.contains("<Error>") && body.contains("<Code>")) {
            return fail("XML error without <Error><Code>");
        }
        Ok(())
    } else {
        fail("neither JSON nor XML")
    }
}

/// A random input.
pub fn generate(rng: &mut StdRng) -> Vec<u8> {
    let len = match rng.random_range(0..10) {
        0 => rng.random_range(0..4000),
        _ => rng.random_range(0..120),
    };
    let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
    // Favour the structured, signed modes: they reach validation.
    if let Some(first) = bytes.first_mut() {
        *first = rng.random_range(0..8) % 4;
    }
    bytes
}

/// `input` mutated: bytes flipped, replaced, inserted, removed, or a slice duplicated.
pub fn mutate(rng: &mut StdRng, input: &mut Vec<u8>) {
    for _ in 0..rng.random_range(1..5) {
        if input.is_empty() {
            input.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..input.len());
        match rng.random_range(0..5) {
            0 => input[at] ^= 1 << rng.random_range(0..8),
            1 => input[at] = rng.random(),
            2 => input.insert(at, rng.random()),
            3 => {
                input.remove(at);
            }
            _ => {
                let end = (at + rng.random_range(1..16)).min(input.len());
                let slice = input[at..end].to_vec();
                input.splice(at..at, slice);
            }
        }
    }
}

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Runs `run` on `input`, turning a panic into an `Err`.
pub fn run_caught(harness: &Harness, input: &[u8]) -> Result<u16, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| harness.run(input))) {
        Ok(result) => result,
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

/// Every file of `dir` (sorted by name) with its bytes; an absent folder is an empty corpus.
pub fn corpus(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect();
    out.sort();
    out
}
