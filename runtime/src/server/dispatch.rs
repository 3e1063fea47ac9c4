//! How the router reaches the operations: the [`Dispatch`] trait the generated server implements,
//! and [`invoke`], which runs one operation.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use super::context::RequestContext;
use super::error::{ErrorReply, ServerError};
use super::reply::Reply;
use crate::operation::Operation;
use crate::params::Params;

/// The answer of one dispatched request: the response, or the error answered.
pub type DispatchFuture = BoxFuture<'static, Result<Success, ErrorReply>>;

/// A successful operation's response, kept typed until the router knows the wire format: JSON is
/// written straight from the type, XML goes through a JSON value.
pub struct Success(Erased);

/// The response behind a [`Success`]: boxed when the success owns it, or the implementation's
/// shared one (no copy, no box).
enum Erased {
    Owned(Box<dyn ErasedResponse>),
    Shared(Arc<dyn ErasedResponse + Sync>),
}

impl Success {
    /// Wraps a response.
    pub fn new(response: impl Serialize + Send + 'static) -> Success {
        Success(Erased::Owned(Box::new(response)))
    }

    /// Wraps a response shared with others (serialized from the shared value, not copied).
    pub fn shared<T: Serialize + Send + Sync + 'static>(response: Arc<T>) -> Success {
        Success(Erased::Shared(response))
    }

    /// Wraps what an implementation answered, owned or shared.
    pub fn from_reply<T: Serialize + Send + Sync + 'static>(reply: Reply<T>) -> Success {
        match reply {
            Reply::Owned(response) => Success::new(response),
            Reply::Shared(response) => Success::shared(response),
        }
    }

    fn response(&self) -> &dyn ErasedResponse {
        match &self.0 {
            Erased::Owned(response) => response.as_ref(),
            Erased::Shared(response) => response.as_ref(),
        }
    }

    /// The response as compact JSON bytes.
    pub(crate) fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        self.response().to_json()
    }

    /// The response as a JSON value.
    pub(crate) fn to_value(&self) -> serde_json::Result<Value> {
        self.response().to_value()
    }
}

impl std::fmt::Debug for Success {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Success(..)")
    }
}

/// A response of any operation, serializable both ways.
trait ErasedResponse: Send {
    fn to_json(&self) -> serde_json::Result<Vec<u8>>;
    fn to_value(&self) -> serde_json::Result<Value>;
}

impl<T: Serialize + Send> ErasedResponse for T {
    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        // A page of a list answer is a few KiB: one allocation instead of doubling from 128 bytes.
        let mut out = Vec::with_capacity(4096);
        serde_json::to_writer(&mut out, self)?;
        Ok(out)
    }

    fn to_value(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }
}

/// Routes a request to its operation by `ctx.action`. Implemented by the generated server crate
/// (one match arm per operation, each calling [`invoke`]).
pub trait Dispatch: Send + Sync + 'static {
    /// The future answering the request, or `None` if `ctx.action` is not an operation of the API
    /// (answered with the protocol's `invalid_action`).
    fn dispatch(&self, ctx: RequestContext, params: Params) -> Option<DispatchFuture>;

    /// Whether `action` is an anonymous operation (the spec's `auth: none`,
    /// [`Operation::ANONYMOUS`]): the router then answers it without authenticating the request
    /// (no signature, date, nonce or key check), and the context carries no AccessKeyId. `false`
    /// unless the generated server says otherwise.
    fn is_anonymous(&self, action: &str) -> bool {
        let _ = action;
        false
    }
}

/// Runs operation `Op`: reads the request from `params` ([`Operation::from_params`], every
/// violation answered at once with the first one's code), then calls `f`, keeps its response
/// (owned, or shared: anything that converts into a [`Reply`]) for rendering or maps its
/// [`ServerError`] (an internal error is logged here at error level and answered without
/// details).
///
/// ```ignore
/// Op::ACTION => Some(alibaba_rpc_runtime::server::invoke::<Op, _, _, _>(ctx, &params, move |ctx, req| {
///     let api = api.clone();
///     async move { api.method(ctx, req).await }
/// })),
/// ```
pub fn invoke<Op, F, Fut, R>(ctx: RequestContext, params: &Params, f: F) -> DispatchFuture
where
    Op: Operation,
    Op::Response: Sync,
    F: FnOnce(RequestContext, Op) -> Fut + Send + 'static,
    Fut: Future<Output = Result<R, ServerError<Op::ErrorCode>>> + Send + 'static,
    R: Into<Reply<Op::Response>>,
{
    let request = match Op::from_params(params) {
        Ok(request) => request,
        Err(violations) => {
            tracing::info!(
                action = Op::ACTION,
                violations = violations.len(),
                codes = ?violations.iter().map(|v| (v.code, v.param)).collect::<Vec<_>>(),
                "request rejected by validation"
            );
            let reply = ErrorReply::from(violations);
            return Box::pin(async move { Err(reply) });
        }
    };
    Box::pin(async move {
        match f(ctx, request).await {
            Ok(response) => Ok(Success::from_reply(response.into())),
            Err(ServerError::Internal(e)) => {
                tracing::error!(action = Op::ACTION, error = %e, "operation failed with an internal error");
                Err(ErrorReply::Internal)
            }
            Err(e) => {
                let reply = ErrorReply::from(e);
                tracing::info!(action = Op::ACTION, code = reply.code().unwrap_or(""), "operation answered an error");
                Err(reply)
            }
        }
    })
}
