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
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::response::Response;
use futures::FutureExt as _;
use time::OffsetDateTime;
use tracing::Instrument as _;

use super::auth::{self, Scheme, Verified, Verifier};
use super::config::ServerConfig;
use super::context::RequestContext;
use super::decode::{self, Incoming, Sent};
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
    // One clock read: the request's deadline counts from here, and the debug log's elapsed time.
    let started = tokio::time::Instant::now();
    let mut action = None;
    let response = answer(&shared, &request_id, request, started, &mut action).instrument(span.clone()).await;
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

/// Steps 2–5 under the deadline (`request_timeout` after `started`); `action` is set to the
/// Action the request names (if loggable) as soon as it is known.
async fn answer(
    shared: &Shared,
    request_id: &str,
    request: Request,
    started: tokio::time::Instant,
    action: &mut Option<String>,
) -> Response {
    let limit = shared.config.request_timeout();
    let errors = shared.errors;
    // Until the parameters are read, only the query can say which format the caller wants: it
    // is looked at only if the request is refused before.
    let uri = request.uri().clone();
    // The format of the answer once the parameters say it.
    let mut format = None;
    // Steps 2–4, one future: reading, then processing (dropped before the answer is rendered).
    let outcome = {
        let work = std::pin::pin!(
            AssertUnwindSafe(async {
                let incoming = decode::read(request, shared.config.body_limit(), errors).await?;
                let Some(asked) = WireFormat::parse(incoming.params.get(common::FORMAT)) else {
                    format = Some(WireFormat::Json);
                    return Err(protocol_error(&errors.invalid_parameter, common::FORMAT));
                };
                format = Some(asked);
                process(shared, request_id, incoming, action).await
            })
            .catch_unwind()
        );
        within(started + limit, work).await
    };
    let format = format.unwrap_or_else(|| early_format(&uri));
    let reply = match outcome {
        Some(Ok(Ok((unnamed, success)))) => {
            let action = unnamed.as_deref().or(action.as_deref()).unwrap_or_default();
            match render::success(format, action, request_id, &success) {
                Ok(response) => return response,
                Err(e) => {
                    tracing::error!(action = loggable(action), error = %e, "response does not serialize");
                    ErrorReply::Internal
                }
            }
        }
        Some(Ok(Err(reply))) => reply,
        Some(Err(_)) => {
            tracing::error!("request handling panicked");
            ErrorReply::Internal
        }
        None => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            ErrorReply::from_spec(&errors.request_timeout, &[])
        }
    };
    respond::error(errors, shared.config.host_id(), request_id, format, reply)
}

/// The output of `work`, or `None` if `deadline` passes first. Most requests are answered without
/// waiting: the timer is set up only once `work` has to wait. (`work` is pinned by the caller, so
/// this future holds a reference, not a second copy of it.)
async fn within<F: Future>(deadline: tokio::time::Instant, mut work: Pin<&mut F>) -> Option<F::Output> {
    if let Poll::Ready(output) = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await {
        return Some(output);
    }
    tokio::select! {
        biased;
        output = &mut work => Some(output),
        () = tokio::time::sleep_until(deadline) => None,
    }
}

/// The format a refusal is answered in before the parameters are read: the query's `Format`.
fn early_format(uri: &Uri) -> WireFormat {
    WireFormat::parse(query_param(uri, common::FORMAT).as_deref()).unwrap_or_default()
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
    let verifier = |store| Verifier {
        store,
        errors,
        window: time::Duration::try_from(shared.config.timestamp_window()).unwrap_or(time::Duration::MAX),
        nonces: &shared.nonces,
    };
    // Everything but the nonce, in a block of its own: the headers' view is not kept across the
    // await of an installed replay cache.
    let (scheme, action, unnamed, anonymous, access) = {
        let sent = incoming.sent();
        let scheme = Scheme::of(&incoming, &sent);
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
            Scheme::V3 => sent.get(name).map(str::trim),
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
        let access = match shared.config.authentication().store() {
            // An operation called without credentials (`auth: none`): nothing to verify.
            _ if anonymous => Access::Anonymous,
            Some(store) => {
                let now = OffsetDateTime::now_utc();
                Access::Verified(auth::check(&verifier(store), scheme, &incoming, &sent, now)?, now)
            }
            None => Access::Claimed(claimed_key(scheme, &incoming, &sent)),
        };
        (scheme, action, unnamed, anonymous, access)
    };
    let access_key_id = match access {
        Access::Anonymous => None,
        Access::Claimed(key_id) => key_id,
        Access::Verified(verified, now) => {
            let Some(store) = shared.config.authentication().store() else { return Err(ErrorReply::Internal) };
            let key_id = auth::remember(&verifier(store), verified, now).await?;
            if traced {
                span.record("access_key_id", tracing::field::display(loggable(&key_id)));
            }
            Some(key_id)
        }
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

/// Who is calling, as far as [`process`] checks it before the nonce.
enum Access<'r> {
    /// An anonymous operation: nobody.
    Anonymous,
    /// Authentication is off: the AccessKeyId the request names, unverified.
    Claimed(Option<String>),
    /// Verified but for the nonce, at that time.
    Verified(Verified<'r>, OffsetDateTime),
}

/// The AccessKeyId a request names when authentication is off (unverified).
fn claimed_key(scheme: Scheme, incoming: &Incoming, sent: &Sent<'_>) -> Option<String> {
    let claimed = match scheme {
        Scheme::V1 => incoming.params.get(common::ACCESS_KEY_ID).map(str::to_owned),
        Scheme::V3 => sent
            .get(headers::AUTHORIZATION)
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
