//! The protocol pipeline, one straight line per request:
//!
//! 1. a RequestId and a tracing span;
//! 2. [`decode::read`]: method, body (read once, limited), query and form parameters;
//! 3. the answer's format, decided once from `Format`;
//! 4. [`process`]: the signature version, `Action` and `Version` (parameters under 1.0,
//!    `x-acs-*` headers under 3), no parameter twice, authentication, dispatch;
//! 5. rendering (JSON or XML) with the RequestId.
//!
//! Steps 2–4 run under the request timeout, and a panic below is answered as the protocol's
//! internal error: every failure is an error envelope, never plain text or a dropped connection.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::response::Response;
use futures::FutureExt as _;
use time::OffsetDateTime;
use tracing::Instrument as _;

use super::auth::{Scheme, Verifier, authenticate};
use super::config::ServerConfig;
use super::context::RequestContext;
use super::decode::{self, Incoming};
use super::dispatch::{Dispatch, Success};
use super::error::ErrorReply;
use super::nonce::{MemoryReplayCache, Replay};
use super::outcome::Answered;
use super::render::{self, WireFormat};
use super::respond::{self, AnsweredCode, loggable};
use crate::errors::{ErrorSpec, ProtocolErrors};
use crate::params::Params;
use crate::signature::v1::common;
use crate::signature::v3::headers;

/// What every request of one router shares.
struct Shared {
    dispatch: Box<dyn Dispatch>,
    config: ServerConfig,
    errors: &'static ProtocolErrors,
    nonces: Replay,
}

/// The axum router serving `dispatch` with the protocol checks and error envelopes of `config`,
/// answering the protocol errors of `errors` (the generated `PROTOCOL_ERRORS`).
///
/// Every path and method reaches the protocol handler: GET and POST are served (POST with a
/// form body merges it after the query); any other method is answered with `invalid_action`.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that
/// [`RequestContext::remote_addr`] is known.
///
/// The body limit and the request timeout of `config` are part of the pipeline, because their
/// failures are answered with the API's own envelope. Anything else is the caller's to compose
/// with ordinary tower layers on the returned router (`router(..).layer(..)`), for example a
/// concurrency limit, tracing of HTTP traffic, or compression; they see every request before
/// the pipeline does.
pub fn router<D: Dispatch>(dispatch: D, config: ServerConfig, errors: &'static ProtocolErrors) -> Router {
    let nonces = match config.custom_replay_cache() {
        Some(cache) => Replay::Custom(cache.clone()),
        None => Replay::Memory(MemoryReplayCache::new(config.nonce_capacity())),
    };
    let shared = Arc::new(Shared { dispatch: Box::new(dispatch), config, errors, nonces });
    // Every path and method reaches the one handler (the protocol ignores the path and answers
    // an unsupported method itself), so there is no route table to match.
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let request_id = respond::new_request_id();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        action = tracing::field::Empty,
        access_key_id = tracing::field::Empty,
        signature_version = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut action = None;
    let response = answer(&shared, &request_id, request, &mut action).instrument(span.clone()).await;
    let mut response = respond::with_request_id(response, &request_id);
    let code = response.extensions_mut().remove::<AnsweredCode>().map(|AnsweredCode(code)| code);
    {
        let _entered = span.enter();
        // The access log is the outer layers' (from `Answered`): here only at debug level.
        tracing::debug!(
            status = response.status().as_u16(),
            code = code.unwrap_or(""),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
    }
    response.extensions_mut().insert(Answered { request_id, action, code });
    response
}

/// Steps 2–5 under the deadline; `action` is set to the Action the request names (if loggable)
/// as soon as it is known.
async fn answer(shared: &Shared, request_id: &str, request: Request, action: &mut Option<String>) -> Response {
    let limit = shared.config.request_timeout();
    let deadline = tokio::time::Instant::now() + limit;
    let refuse = |format: WireFormat, reply: ErrorReply| {
        respond::error(shared.errors, shared.config.host_id(), request_id, format, reply)
    };
    let timed_out = || {
        tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
        ErrorReply::from_spec(&shared.errors.request_timeout, &[])
    };
    let panicked = || {
        tracing::error!("request handling panicked");
        ErrorReply::Internal
    };

    // Until the body is read, only the query can say which format the caller wants; it is
    // looked at only if reading fails.
    let uri = request.uri().clone();
    let early = || WireFormat::parse(query_param(&uri, common::FORMAT).as_deref()).unwrap_or_default();
    // One timer for the whole request, polled by both stages.
    let deadline_passed = tokio::time::sleep_until(deadline);
    tokio::pin!(deadline_passed);

    let reading = AssertUnwindSafe(decode::read(request, shared.config.body_limit(), shared.errors)).catch_unwind();
    let incoming = tokio::select! {
        biased;
        read = reading => match read {
            Ok(Ok(incoming)) => incoming,
            Ok(Err(reply)) => return refuse(early(), reply),
            Err(_) => return refuse(early(), panicked()),
        },
        () = &mut deadline_passed => return refuse(early(), timed_out()),
    };

    let Some(format) = WireFormat::parse(incoming.params.get(common::FORMAT)) else {
        let reply = protocol_error(&shared.errors.invalid_parameter, common::FORMAT);
        return refuse(WireFormat::Json, reply);
    };
    let processing = AssertUnwindSafe(process(shared, request_id, incoming, action)).catch_unwind();
    let processed = tokio::select! {
        biased;
        processed = processing => processed,
        () = &mut deadline_passed => return refuse(format, timed_out()),
    };
    match processed {
        Ok(Ok((unnamed, success))) => {
            let action = unnamed.as_deref().or(action.as_deref()).unwrap_or_default();
            match render::success(format, action, request_id, &success) {
                Ok(response) => response,
                Err(e) => {
                    tracing::error!(action = loggable(action), error = %e, "response does not serialize");
                    refuse(format, ErrorReply::Internal)
                }
            }
        }
        Ok(Err(reply)) => refuse(format, reply),
        Err(_) => refuse(format, panicked()),
    }
}

/// The first value of query parameter `name`.
fn query_param(uri: &Uri, name: &str) -> Option<String> {
    Params::parse_urlencoded(uri.query().unwrap_or("").as_bytes()).get(name).map(str::to_owned)
}

/// Step 4: signature version, `Action`, `Version`, no repeated parameter, authentication,
/// dispatch.
async fn process(
    shared: &Shared,
    request_id: &str,
    incoming: Incoming,
    named: &mut Option<String>,
) -> Result<(Option<String>, Success), ErrorReply> {
    let errors = shared.errors;
    let span = tracing::Span::current();
    // Fields are filled only for a subscriber that listens (no formatting work otherwise).
    let traced = !span.is_disabled();
    let scheme = Scheme::of(&incoming);
    if traced {
        span.record("signature_version", tracing::field::display(scheme));
    }

    // Where each protocol field is read from, and the name a refusal gives it.
    let (action_name, version_name) = match scheme {
        Scheme::V1 => (common::ACTION, common::VERSION),
        Scheme::V3 => (headers::ACTION, headers::VERSION),
    };
    let field = |name: &str| match scheme {
        Scheme::V1 => incoming.params.get(name),
        Scheme::V3 => incoming.header(name).map(str::trim),
    };
    let (action_field, version_field) = (field(action_name), field(version_name));
    let action = match action_field {
        None | Some("") => return Err(protocol_error(&errors.missing_parameter, action_name)),
        Some(action) => action.to_owned(),
    };
    let plain = loggable(&action) == action;
    if traced {
        span.record("action", tracing::field::display(if plain { action.as_str() } else { loggable(&action) }));
    }
    // The name the answer is rendered under: `named` when the action is a plain token (every
    // operation's is), else a copy kept here.
    let unnamed = if plain {
        *named = Some(action.clone());
        None
    } else {
        Some(action.clone())
    };
    match version_field {
        None | Some("") => return Err(protocol_error(&errors.missing_parameter, version_name)),
        Some(version) if version != shared.config.version() => {
            return Err(protocol_error(&errors.invalid_version, version_name));
        }
        Some(_) => {}
    }
    if let Some(name) = incoming.repeated_param() {
        return Err(protocol_error(&errors.invalid_parameter, name));
    }

    let anonymous = shared.dispatch.is_anonymous(&action);
    let access_key_id = match shared.config.authentication().store() {
        // An operation called without credentials (`auth: none`): nothing to verify.
        _ if anonymous => None,
        Some(store) => {
            let verifier = Verifier {
                store,
                errors,
                window: time::Duration::try_from(shared.config.timestamp_window()).unwrap_or(time::Duration::MAX),
                nonces: &shared.nonces,
            };
            let key_id = authenticate(&verifier, scheme, &incoming, OffsetDateTime::now_utc()).await?;
            if traced {
                span.record("access_key_id", tracing::field::display(loggable(&key_id)));
            }
            Some(key_id)
        }
        None => claimed_key(scheme, &incoming),
    };

    let Incoming { params, remote_addr, .. } = incoming;
    let ctx = RequestContext {
        request_id: request_id.to_owned(),
        action,
        region_id: params.get(common::REGION_ID).filter(|r| !r.is_empty()).map(str::to_owned),
        access_key_id,
        remote_addr,
        signature_version: (shared.config.authentication().is_enabled() && !anonymous).then_some(scheme),
    };
    let Some(answer) = shared.dispatch.dispatch(ctx, params) else {
        return Err(protocol_error(&errors.invalid_action, "Action"));
    };
    let value = answer.await?;
    Ok((unnamed, value))
}

/// The AccessKeyId a request names when authentication is off (unverified).
fn claimed_key(scheme: Scheme, incoming: &Incoming) -> Option<String> {
    let claimed = match scheme {
        Scheme::V1 => incoming.params.get(common::ACCESS_KEY_ID).map(str::to_owned),
        Scheme::V3 => incoming
            .header(headers::AUTHORIZATION)
            .and_then(|a| crate::signature::v3::Authorization::parse(a).ok())
            .map(|a| a.credential),
    };
    claimed.filter(|k| !k.is_empty())
}

/// A protocol error about `param`.
fn protocol_error(spec: &ErrorSpec, param: &str) -> ErrorReply {
    tracing::info!(code = spec.code, param = loggable(param), "request refused");
    ErrorReply::from_spec(spec, &[("param", param)])
}
