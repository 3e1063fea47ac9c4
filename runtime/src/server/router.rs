//! The protocol pipeline: method and body, `Format`, `Action`, `Version`, authentication,
//! dispatch, rendering.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::any;
use serde_json::Value;
use time::OffsetDateTime;

use super::auth::{Verifier, authenticate};
use super::config::ServerConfig;
use super::context::RequestContext;
use super::dispatch::Dispatch;
use super::error::ErrorReply;
use super::layers::{RequestMeta, body_limit, loggable, request_scope, timeout};
use super::nonce::NonceCache;
use super::render::{self, WireFormat};
use crate::errors::{ErrorBody, ProtocolErrors};
use crate::params::Params;

/// What every request of one router shares.
pub(crate) struct Shared {
    pub dispatch: Box<dyn Dispatch>,
    pub config: ServerConfig,
    pub errors: &'static ProtocolErrors,
    pub nonces: NonceCache,
}

/// The axum router serving `dispatch` with the protocol checks and error envelopes of `config`,
/// answering the protocol errors of `errors` (the generated `PROTOCOL_ERRORS`).
///
/// Every path and method reaches the protocol handler: GET and POST are served (POST with a
/// form body merges it after the query); any other method is answered with `invalid_action`.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that
/// [`RequestContext::remote_addr`] is known.
pub fn router<D: Dispatch>(dispatch: D, config: ServerConfig, errors: &'static ProtocolErrors) -> Router {
    let nonces = NonceCache::new(config.nonce_capacity());
    let shared = Arc::new(Shared { dispatch: Box::new(dispatch), config, errors, nonces });
    Router::new()
        .route("/", any(handle))
        .fallback(handle)
        .layer(from_fn_with_state(shared.clone(), body_limit))
        .layer(from_fn_with_state(shared.clone(), timeout))
        .layer(from_fn_with_state(shared.clone(), request_scope))
        .with_state(shared)
}

/// The envelope answering `reply` in `format`.
pub(crate) fn error_response(shared: &Shared, meta: &RequestMeta, format: WireFormat, reply: ErrorReply) -> Response {
    let (code, status, message) = match reply {
        ErrorReply::Coded { code, status, message } => (code, status, message),
        ErrorReply::Internal => {
            let spec = &shared.errors.internal_error;
            (spec.code, spec.status, spec.render(&[]))
        }
    };
    let envelope = ErrorBody {
        request_id: meta.request_id.to_string(),
        host_id: shared.config.host_id().to_owned(),
        code: code.to_owned(),
        message,
        recommend: String::new(),
    };
    render::error(format, status, &envelope)
}

/// Whether the body is `application/x-www-form-urlencoded` (parameters).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let meta = RequestMeta::of(&request);
    let remote_addr = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr);
    let (parts, body) = request.into_parts();
    let mut params = Params::parse_urlencoded(parts.uri.query().unwrap_or("").as_bytes());

    if parts.method != Method::GET && parts.method != Method::POST {
        tracing::info!(code = shared.errors.invalid_action.code, "unsupported HTTP method");
        let reply = ErrorReply::from_spec(&shared.errors.invalid_action, &[("param", "Action")]);
        return error_response(&shared, &meta, meta.format(), reply);
    }
    if parts.method == Method::POST && is_form(&parts.headers) {
        match to_bytes(body, shared.config.body_limit()).await {
            Ok(bytes) => params.extend(Params::parse_urlencoded(&bytes)),
            Err(_) => {
                let reply = ErrorReply::from_spec(&shared.errors.request_too_large, &[]);
                return error_response(&shared, &meta, meta.format(), reply);
            }
        }
    }

    let Some(format) = WireFormat::parse(params.get("Format")) else {
        tracing::info!(code = shared.errors.invalid_parameter.code, "unsupported Format");
        let reply = ErrorReply::from_spec(&shared.errors.invalid_parameter, &[("param", "Format")]);
        return error_response(&shared, &meta, WireFormat::Json, reply);
    };
    meta.set_format(format);

    match process(&shared, &meta, parts.method.as_str(), params, remote_addr).await {
        Ok((action, value)) => render::success(format, &action, &meta.request_id, value),
        Err(reply) => error_response(&shared, &meta, format, reply),
    }
}

/// `Action`, `Version`, authentication, dispatch.
async fn process(
    shared: &Shared,
    meta: &RequestMeta,
    method: &str,
    params: Params,
    remote_addr: Option<SocketAddr>,
) -> Result<(String, Value), ErrorReply> {
    let errors = shared.errors;
    let span = tracing::Span::current();

    let action = match params.get("Action") {
        None | Some("") => return Err(protocol_error(&errors.missing_parameter, "Action")),
        Some(action) => action.to_owned(),
    };
    span.record("action", tracing::field::display(loggable(&action)));

    match params.get("Version") {
        None | Some("") => return Err(protocol_error(&errors.missing_parameter, "Version")),
        Some(version) if version != shared.config.version() => {
            return Err(protocol_error(&errors.invalid_version, "Version"));
        }
        Some(_) => {}
    }

    let access_key_id = match shared.config.authentication().store() {
        Some(store) => {
            let verifier = Verifier {
                store,
                errors,
                window: time::Duration::try_from(shared.config.timestamp_window()).unwrap_or(time::Duration::MAX),
                nonces: &shared.nonces,
            };
            if let Some(key) = params.get("AccessKeyId") {
                span.record("access_key_id", tracing::field::display(loggable(key)));
            }
            Some(authenticate(&verifier, method, &params, OffsetDateTime::now_utc())?)
        }
        None => params.get("AccessKeyId").filter(|k| !k.is_empty()).map(str::to_owned),
    };

    let ctx = RequestContext {
        request_id: meta.request_id.to_string(),
        action: action.clone(),
        region_id: params.get("RegionId").filter(|r| !r.is_empty()).map(str::to_owned),
        access_key_id,
        remote_addr,
    };
    let Some(answer) = shared.dispatch.dispatch(ctx, params) else {
        tracing::info!(code = errors.invalid_action.code, "unknown action");
        return Err(protocol_error(&errors.invalid_action, "Action"));
    };
    let value = answer.await?;
    Ok((action, value))
}

/// A protocol error about `param`.
fn protocol_error(spec: &crate::errors::ErrorSpec, param: &str) -> ErrorReply {
    tracing::info!(code = spec.code, param, "request refused");
    ErrorReply::from_spec(spec, &[("param", param)])
}
