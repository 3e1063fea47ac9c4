//! The protocol pipeline, one straight line per request:
//!
//! 1. a RequestId and a tracing span;
//! 2. [`decode::start`]: method, body (read once, limited; waited for only when there is one),
//!    query and form parameters;
//! 3. the answer's format, decided once from `Format`;
//! 4. [`process`]: the signature version, `Action` and `Version` (parameters under 1.0,
//!    `x-acs-*` headers under 3), no parameter twice, authentication, dispatch;
//! 5. rendering (JSON or XML) with the RequestId.
//!
//! Steps 2–4 run under the request timeout, and a panic below is answered as the protocol's
//! internal error: every failure is an error envelope, never plain text or a dropped connection.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use time::OffsetDateTime;
use tracing::Instrument as _;

use super::auth::{self, Remembered, Scheme, Verifier};
use super::config::ServerConfig;
use super::context::RequestContext;
use super::decode::{self, Incoming, Reading, Sent};
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
/// answering the protocol errors of `errors` (`&ProtocolErrors::STANDARD`, the gateway's, unless
/// the application must answer a protocol failure differently).
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
    // Every path and method reaches the one pipeline (the protocol ignores the path and answers
    // an unsupported method itself), so there is no route table to match.
    Router::new().fallback_service(Pipeline::new(dispatch, config, errors))
}

/// The pipeline as a tower service rather than an axum handler: a handler's future would be
/// wrapped, with the request and its parts, into one allocation of over a kilobyte per request
/// (see [`handle`]).
#[derive(Clone)]
struct Pipeline(Arc<Shared>);

impl Pipeline {
    fn new<D: Dispatch>(dispatch: D, config: ServerConfig, errors: &'static ProtocolErrors) -> Pipeline {
        let nonces = match config.custom_replay_cache() {
            Some(cache) => Replay::Custom(cache.clone()),
            None => Replay::Memory(MemoryReplayCache::new(config.nonce_capacity())),
        };
        Pipeline(Arc::new(Shared { dispatch: Box::new(dispatch), config, errors, nonces }))
    }
}

impl tower::Service<Request> for Pipeline {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        Box::pin(handle(Arc::clone(&self.0), request).map(Ok))
    }
}

/// One request through the pipeline. Everything that needs no waiting is done in plain calls
/// (no future holds the request while it is read, checked and authenticated); the future holds
/// only what is awaited: a body still arriving, an installed replay cache's answer, the
/// operation. It is boxed once per request: kept well under a kilobyte, that allocation is
/// served from the allocator's per-thread cache.
fn handle(shared: Arc<Shared>, request: Request) -> impl Future<Output = Response> + Send {
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
    let reading = span.in_scope(|| decode::start(request, shared.config.body_limit(), shared.errors));
    async move {
        let mut action = None;
        let response = answer(&shared, &request_id, reading, started, &mut action).instrument(span.clone()).await;
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
}

/// Steps 2–5 under the deadline (`request_timeout` after `started`); `action` is set to the
/// Action the request names (if loggable) as soon as it is known.
async fn answer(
    shared: &Shared,
    request_id: &str,
    reading: Reading,
    started: tokio::time::Instant,
    action: &mut Option<String>,
) -> Response {
    let limit = shared.config.request_timeout();
    let errors = shared.errors;
    // Until the parameters are read, only the query can say which format the caller wants: the
    // format it asks for, for a request refused (or timed out) before.
    let mut early = None;
    // The format of the answer once the parameters say it.
    let mut format = None;
    // Steps 2–4, one future: reading, then processing (dropped before the answer is rendered).
    let outcome = {
        let work = std::pin::pin!(
            AssertUnwindSafe(async {
                let incoming = match reading {
                    Reading::Read(incoming) => incoming,
                    Reading::Refused(reply, asked) => {
                        early = Some(asked);
                        return Err(*reply);
                    }
                    Reading::Body(rest, asked) => {
                        early = Some(asked);
                        rest.await?
                    }
                };
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
    let format = format.or(early).unwrap_or_default();
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
    // Boxed: the timer is not part of every request's future.
    let timer = Box::pin(tokio::time::sleep_until(deadline));
    tokio::select! {
        biased;
        output = &mut work => Some(output),
        () = timer => None,
    }
}

/// Step 4: the request admitted ([`admit`]), its nonce confirmed, the operation dispatched.
async fn process(
    shared: &Shared,
    request_id: &str,
    incoming: Box<Incoming>,
    named: &mut Option<String>,
) -> Result<(Option<String>, Success), ErrorReply> {
    let Admitted { scheme, action, unnamed, anonymous, caller, params, remote_addr } = admit(shared, incoming, named)?;
    let access_key_id = match caller {
        Caller::Known(key_id) => key_id,
        Caller::Pending(pending) => {
            let key_id = pending.await?;
            record_key(&tracing::Span::current(), &key_id);
            Some(key_id)
        }
    };
    let ctx = RequestContext {
        request_id: request_id.to_owned(),
        action,
        region_id: params.get(common::REGION_ID).filter(|r| !r.is_empty()).map(str::to_owned),
        access_key_id,
        remote_addr,
        signature_version: (shared.config.authentication().is_enabled() && !anonymous).then_some(scheme),
    };
    let Some(answer) = shared.dispatch.dispatch(ctx, params) else {
        return Err(protocol_error(&shared.errors.invalid_action, "Action"));
    };
    let value = answer.await?;
    Ok((unnamed, value))
}

/// Records the verified AccessKeyId on the request's span (for a subscriber that listens).
fn record_key(span: &tracing::Span, key_id: &str) {
    if !span.is_disabled() {
        span.record("access_key_id", tracing::field::display(loggable(key_id)));
    }
}

/// A request admitted to its operation: everything checked, the nonce perhaps still to be
/// confirmed by an installed replay cache.
struct Admitted<'s> {
    scheme: Scheme,
    action: String,
    /// The action to render the answer under when it is not `named`'s (see [`admit`]).
    unnamed: Option<String>,
    anonymous: bool,
    caller: Caller<'s>,
    params: Params,
    remote_addr: Option<std::net::SocketAddr>,
}

/// Who is calling, once admitted.
enum Caller<'s> {
    /// Nobody (an anonymous operation), the AccessKeyId a request names when authentication is
    /// off (unverified), or the verified one whose nonce the router's own memory accepted.
    Known(Option<String>),
    /// Verified, the installed replay cache's answer about the nonce still to come (the
    /// router's own memory, the common case, answers at once).
    Pending(auth::PendingNonce<'s>),
}

/// Step 4 but for waiting: signature version, `Action`, `Version`, no repeated parameter,
/// authentication (the nonce asked of the replay cache last).
fn admit<'s>(
    shared: &'s Shared,
    incoming: Box<Incoming>,
    named: &mut Option<String>,
) -> Result<Admitted<'s>, ErrorReply> {
    let errors = shared.errors;
    let span = tracing::Span::current();
    // Fields are filled only for a subscriber that listens (no formatting work otherwise).
    let traced = !span.is_disabled();
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
    let caller = match shared.config.authentication().store() {
        // An operation called without credentials (`auth: none`): nothing to verify.
        _ if anonymous => Caller::Known(None),
        Some(store) => {
            let verifier = Verifier {
                store,
                errors,
                window: time::Duration::try_from(shared.config.timestamp_window()).unwrap_or(time::Duration::MAX),
                nonces: &shared.nonces,
            };
            let now = OffsetDateTime::now_utc();
            let verified = auth::check(&verifier, scheme, &incoming, &sent, now)?;
            match auth::remember(&verifier, verified, now) {
                Remembered::Done(key_id) => {
                    let key_id = key_id?;
                    record_key(&span, &key_id);
                    Caller::Known(Some(key_id))
                }
                Remembered::Pending(pending) => Caller::Pending(pending),
            }
        }
        None => Caller::Known(claimed_key(scheme, &incoming, &sent)),
    };
    let Incoming { params, remote_addr, .. } = *incoming;
    Ok(Admitted { scheme, action, unnamed, anonymous, caller, params, remote_addr })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ErrorSpec;
    use crate::operation::ServiceInfo;
    use crate::server::Authentication;

    const SPEC: ErrorSpec = ErrorSpec::new("Refused", 400, "refused");
    static ERRORS: ProtocolErrors = ProtocolErrors {
        missing_parameter: SPEC,
        invalid_parameter: SPEC,
        signature_does_not_match: SPEC,
        incomplete_signature: SPEC,
        missing_security_token: SPEC,
        invalid_security_token: SPEC,
        invalid_access_key_id: SPEC,
        signature_nonce_used: SPEC,
        invalid_timestamp_expired: SPEC,
        invalid_timestamp_format: SPEC,
        invalid_action: SPEC,
        invalid_version: SPEC,
        request_too_large: SPEC,
        request_timeout: SPEC,
        throttling: SPEC,
        internal_error: SPEC,
    };
    static SERVICE: ServiceInfo = ServiceInfo { product: "Probe", version: "2020-01-01", endpoint_pattern: "x" };

    struct NoOperations;

    impl Dispatch for NoOperations {
        fn dispatch(&self, _: RequestContext, _: Params) -> Option<super::super::dispatch::DispatchFuture> {
            None
        }
    }

    /// The pipeline's future is boxed once per request. glibc's allocator serves blocks up to
    /// 1,032 bytes from a per-thread cache; a larger one takes its slow path (and consolidates
    /// free lists), which cost the router microseconds per request when the future (wrapped by
    /// axum's handler machinery) was over 3 KB. It holds only what is awaited; this keeps it so.
    #[test]
    fn the_request_future_fits_the_allocators_thread_cache() {
        for authentication in
            [Authentication::disabled(), Authentication::signature(std::collections::HashMap::<String, String>::new())]
        {
            let config = ServerConfig::builder(&SERVICE).authentication(authentication).build();
            let mut pipeline = Pipeline::new(NoOperations, config, &ERRORS);
            let future = tower::Service::call(&mut pipeline, Request::new(axum::body::Body::empty()));
            // The boxed future's own size (what is allocated), not the box's.
            let size = std::mem::size_of_val(&*future);
            assert!(size <= 1000, "the request future is {size} bytes");
        }
    }
}
