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

mod campaign;
mod memory;
mod request;

use std::collections::HashMap;

use alibaba_rpc_runtime::params::Params;
use alibaba_rpc_runtime::signature::{v1, v3};
use axum::Router;
use axum::body::to_bytes;
use serde_json::Value;
use smartag_server::{
    Authentication, CreateSmartAccessGatewayClientUserRequest, DescribeSmartAccessGatewayClientUsersRequest,
    KeyMaterial, ModifySmartAccessGatewayClientUserRequest, Operation, ServerConfig,
};
use time::OffsetDateTime;
use tower::ServiceExt as _;

pub use campaign::{corpus, generate, mutate, rng};
use memory::Memory;
use request::{Input, build};

/// The access key the harness's server accepts, and the one its signed requests use.
const KEY_ID: &str = "testid";
/// The secret of [`KEY_ID`].
const SECRET: &str = "testsecret";

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
        let mut input = Input::new(bytes);
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
