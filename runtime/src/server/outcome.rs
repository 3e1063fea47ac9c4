//! What the pipeline answered, handed to the layers around the router.

use std::sync::Arc;

/// What the protocol pipeline answered for one request. The router attaches it to every response
/// as an extension (`response.extensions().get::<Answered>()`), so that a tower layer or axum
/// middleware around the router can write an access log line or count requests by operation and
/// code without reading the body.
///
/// ```
/// use alibaba_rpc_runtime::server::Answered;
/// use axum::extract::Request;
/// use axum::middleware::Next;
/// use axum::response::Response;
///
/// async fn access_log(request: Request, next: Next) -> Response {
///     let response = next.run(request).await;
///     if let Some(answered) = response.extensions().get::<Answered>() {
///         let action = answered.action.as_deref().unwrap_or("-");
///         let code = answered.code.unwrap_or("-");
///         println!("{} {action} {code} {}", answered.request_id, response.status());
///     }
///     response
/// }
/// # let _ = axum::middleware::from_fn::<_, (Request,)>(access_log);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The `RequestId` answered (also in the `x-acs-request-id` header).
    pub request_id: Arc<str>,
    /// The `Action` the request named (the parameter under signature 1.0, `x-acs-action` under 3),
    /// whether or not it is an operation of the API; `None` when the request named none, or the
    /// name is not a short plain token (`A-Z a-z 0-9 . _ -`, at most 128 bytes), which is never
    /// passed on. It is not necessarily authenticated: the code says whether the request was
    /// refused.
    pub action: Option<String>,
    /// The error code answered (e.g. `Throttling`, `InternalError`); `None` for a success.
    pub code: Option<&'static str>,
}
