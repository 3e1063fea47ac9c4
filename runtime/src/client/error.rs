//! Errors of the client: configuration errors and invocation errors.

use std::fmt;
use std::time::Duration;

use super::credentials::CredentialsError;
use super::retry::{self, Failure};
use crate::errors::{ApiError, ErrorCode};
use crate::operation::Operation;
use crate::validate::Violations;

/// A client configuration that cannot work, found before any request is sent.
///
/// Every message says what is wrong and how to fix it. None of them contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No region was configured.
    #[error(
        "no region configured: call `.region(\"cn-shanghai\")` (or another region id) on the client config builder"
    )]
    MissingRegion,
    /// The region id cannot be part of a host name.
    #[error("invalid region {region:?}: a region id is lowercase letters, digits and `-` (for example `cn-shanghai`)")]
    InvalidRegion {
        /// The region as given.
        region: String,
    },
    /// The endpoint is not an absolute `http`/`https` URL of the expected form.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it and how to fix it.
        reason: String,
    },
    /// A required credential environment variable is unset or empty.
    #[error(
        "environment variable {var} is not set: set it, or pass credentials explicitly with `.credentials(Credentials::new(id, secret))`"
    )]
    MissingEnv {
        /// The variable's name.
        var: &'static str,
    },
    /// A credential environment variable is not valid Unicode.
    #[error("environment variable {var} is not valid Unicode: an AccessKey value is plain ASCII")]
    EnvNotUnicode {
        /// The variable's name.
        var: &'static str,
    },
    /// A credential value is empty.
    #[error("the {field} is empty: every request would be rejected; pass the value from the Alibaba Cloud console")]
    EmptyCredential {
        /// Which credential (`access key id`, `access key secret` or `security token`).
        field: &'static str,
    },
    /// A credential value starts or ends with whitespace.
    #[error(
        "the {field} has leading or trailing whitespace: a stray space (or newline) makes every request fail with SignatureDoesNotMatch; remove it where the value comes from (values are never trimmed silently)"
    )]
    CredentialWhitespace {
        /// Which credential (`access key id`, `access key secret` or `security token`).
        field: &'static str,
    },
    /// A timeout is zero.
    #[error("the {which} timeout is zero: every request would fail; use a positive duration (default {default:?})")]
    ZeroTimeout {
        /// `connect` or `overall`.
        which: &'static str,
        /// The default for this timeout.
        default: Duration,
    },
    /// An optional limit (read timeout, operation timeout) is zero.
    #[error(
        "the {which} timeout is zero: every call would fail at once; use a positive duration, or do not set it (no limit)"
    )]
    ZeroLimit {
        /// `read` or `operation`.
        which: &'static str,
    },
    /// A setting that belongs on the application's own HTTP client was given with
    /// [`ClientConfigBuilder::http_client`](super::ClientConfigBuilder::http_client).
    #[error(
        "{setting} has no effect with http_client(): the runtime builds no HTTP client then; configure it on your reqwest::ClientBuilder instead"
    )]
    OwnHttpClientConflict {
        /// The builder method, e.g. `proxy()`.
        setting: &'static str,
    },
    /// The proxy URL cannot be used.
    #[error("invalid proxy {proxy:?}: {reason}; give a URL such as `http://127.0.0.1:3128`")]
    InvalidProxy {
        /// The proxy URL, without user info.
        proxy: String,
        /// What reqwest reported.
        reason: String,
    },
    /// The retry policy allows no attempt at all.
    #[error(
        "the retry policy has max_attempts = 0: it counts the first attempt, so use at least 1 (`RetryPolicy::none()` for no retries)"
    )]
    ZeroAttempts,
    /// A version 3 algorithm other than the default was chosen for signature version 1.0.
    #[error(
        "signature algorithm {algorithm} belongs to signature version 3, but version 1.0 was chosen: drop \
         `signature_version(SignatureVersion::V1)` or `signature_algorithm(..)`"
    )]
    AlgorithmNeedsVersion3 {
        /// The algorithm chosen.
        algorithm: crate::signature::v3::Algorithm,
    },
    /// The user agent cannot be sent as an HTTP header value.
    #[error("the user agent is not a valid HTTP header value: use visible ASCII characters and spaces only")]
    InvalidUserAgent,
    /// The HTTP client could not be created (for example, no TLS backend could be initialised).
    #[error("the HTTP client could not be created: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The TLS configuration could not be created (for example, the platform's trust store could not
    /// be read).
    #[error("the TLS configuration could not be created: {0}")]
    Tls(#[source] rustls::Error),
}

/// Why an invocation failed, untyped: [`RpcClient::invoke`](super::RpcClient::invoke) answers it;
/// [`RpcClient::call`](super::RpcClient::call) answers the typed [`OperationError`].
///
/// The enum is exhaustive (exactly these six cases), so generated code can match it completely.
/// [`InvokeError::attempts`] tells how many attempts were made, [`InvokeError::request_id`] the
/// `RequestId` of the last answer.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The request breaks the API's constraints; nothing was sent. Holds every violation.
    #[error("invalid request: {0}")]
    Validation(Violations),
    /// The server answered with an error (non-2xx).
    #[error("{error}{}", after_attempts(*.attempts))]
    Api {
        /// The answer: HTTP status, `RequestId`, code, message.
        error: ApiError,
        /// Attempts made, the first included.
        attempts: u32,
    },
    /// No usable response arrived (connect failure, timeout, reset, ...), after every allowed attempt.
    #[error(transparent)]
    Transport(TransportError),
    /// The server answered 2xx but the body is not the expected response.
    #[error(transparent)]
    Decode(DecodeError),
    /// The credentials provider could not deliver credentials to sign with; nothing was sent for
    /// that attempt, and it is not retried.
    #[error("no credentials to sign with: {error}{}", sent_before(*.attempts))]
    Credentials {
        /// What the provider said.
        error: CredentialsError,
        /// Attempts sent before the credentials failed (0 when the first attempt could not be
        /// signed; more when a refresh failed before a retry).
        attempts: u32,
    },
    /// The call's deadline passed before it could succeed.
    #[error(transparent)]
    DeadlineExceeded(DeadlineError),
}

/// `, after N attempts sent` when a retry could not be signed.
fn sent_before(attempts: u32) -> String {
    match attempts {
        0 => String::new(),
        1 => " (after 1 attempt sent)".to_owned(),
        n => format!(" (after {n} attempts sent)"),
    }
}

/// `, after N attempts` when there was more than one.
fn after_attempts(attempts: u32) -> String {
    if attempts > 1 { format!(", after {attempts} attempts") } else { String::new() }
}

impl InvokeError {
    /// The API error the server answered with, if that is what this is.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            InvokeError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The server's error code (`Code` of the envelope), if the server answered with an error.
    pub fn code(&self) -> Option<&str> {
        self.as_api().map(|e| e.code.as_str())
    }

    /// The `RequestId` of the last answer, when it carried one (for a support ticket).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            InvokeError::Api { error, .. } if !error.request_id.is_empty() => Some(error.request_id.as_str()),
            InvokeError::Decode(e) => e.request_id(),
            InvokeError::DeadlineExceeded(e) => e.request_id(),
            _ => None,
        }
    }

    /// How many attempts were made, the first included (0 when validation refused the request;
    /// for missing credentials, the attempts sent before they failed).
    pub fn attempts(&self) -> u32 {
        match self {
            InvokeError::Validation(_) => 0,
            InvokeError::Credentials { attempts, .. } => *attempts,
            InvokeError::Api { attempts, .. } => *attempts,
            InvokeError::Transport(e) => e.attempts(),
            InvokeError::Decode(e) => e.attempts(),
            InvokeError::DeadlineExceeded(e) => e.attempts(),
        }
    }
}

impl<Op: Operation> From<OperationError<Op>> for InvokeError {
    fn from(e: OperationError<Op>) -> Self {
        match e {
            OperationError::Api { error, attempts, .. } | OperationError::Unknown { error, attempts } => {
                InvokeError::Api { error, attempts }
            }
            OperationError::Validation(v) => InvokeError::Validation(v),
            OperationError::Transport(t) => InvokeError::Transport(t),
            OperationError::Decode(d) => InvokeError::Decode(d),
            OperationError::Credentials { error, attempts } => InvokeError::Credentials { error, attempts },
            OperationError::DeadlineExceeded(d) => InvokeError::DeadlineExceeded(d),
        }
    }
}

/// Why operation `Op` failed: the error type of every generated client method
/// (`pub type CreateUserError = OperationError<CreateUserRequest>`).
///
/// An error answer with one of the operation's codes is [`OperationError::Api`], its `code`
/// matchable as the operation's own code enum (which holds only the codes the operation
/// declares, and the protocol codes every operation shares):
///
/// ```ignore
/// match client.create_user(&request).await {
///     Err(CreateUserError::Api { code: CreateUserErrorCode::UserExist, .. }) => { /* taken */ }
///     Err(e) if e.is_retryable() => { /* try again later */ }
///     Err(e) => return Err(e.into()),
///     Ok(created) => { /* ... */ }
/// }
/// ```
///
/// Every case tells how many attempts were made ([`OperationError::attempts`]) and, when an
/// answer carried one, the last `RequestId` ([`OperationError::request_id`]).
///
/// `Debug` and `Display` never show a secret: the request is not kept, violations never hold
/// parameter values, and transport errors drop the URL's query.
pub enum OperationError<Op: Operation> {
    /// The server answered one of the operation's codes; `error` is the whole answer.
    Api {
        /// The code, as the operation's code enum.
        code: Op::ErrorCode,
        /// The answer: HTTP status, `RequestId`, code, message.
        error: ApiError,
        /// Attempts made, the first included.
        attempts: u32,
    },
    /// The server answered a code the operation does not declare; code and message are kept.
    Unknown {
        /// The answer: HTTP status, `RequestId`, code, message.
        error: ApiError,
        /// Attempts made, the first included.
        attempts: u32,
    },
    /// The request breaks the spec's constraints; nothing was sent. Every violation is listed.
    Validation(Violations),
    /// No usable response arrived (connection, timeout, TLS), after every allowed attempt.
    Transport(TransportError),
    /// The server answered success, but not with the response the spec describes.
    Decode(DecodeError),
    /// The credentials provider could not deliver credentials to sign with; nothing was sent for
    /// that attempt, and it is not retried.
    Credentials {
        /// What the provider said.
        error: CredentialsError,
        /// Attempts sent before the credentials failed (0 when the first attempt could not be
        /// signed; more when a refresh failed before a retry).
        attempts: u32,
    },
    /// The call's deadline ([`Call::deadline`](super::Call::deadline) or the configuration's
    /// `operation_timeout`) passed before it could succeed: the attempt in flight was cut off at
    /// the deadline, or the next wait would have ended after it.
    DeadlineExceeded(DeadlineError),
}

impl<Op: Operation> From<InvokeError> for OperationError<Op> {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Api { error, attempts } => match <Op::ErrorCode as ErrorCode>::from_code(&error.code) {
                Some(code) => OperationError::Api { code, error, attempts },
                None => OperationError::Unknown { error, attempts },
            },
            InvokeError::Validation(v) => OperationError::Validation(v),
            InvokeError::Transport(t) => OperationError::Transport(t),
            InvokeError::Decode(d) => OperationError::Decode(d),
            InvokeError::Credentials { error, attempts } => OperationError::Credentials { error, attempts },
            InvokeError::DeadlineExceeded(d) => OperationError::DeadlineExceeded(d),
        }
    }
}

impl<Op: Operation> OperationError<Op> {
    /// The server's answer (RequestId, HTTP status, Code, Message), when the server answered
    /// with an error.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            OperationError::Api { error, .. } | OperationError::Unknown { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The operation's code, when the server answered one it declares (or a protocol code).
    pub fn code(&self) -> Option<Op::ErrorCode> {
        match self {
            OperationError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The `RequestId` of the last answer, when it carried one (for a support ticket).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            OperationError::Api { error, .. } | OperationError::Unknown { error, .. }
                if !error.request_id.is_empty() =>
            {
                Some(error.request_id.as_str())
            }
            OperationError::Decode(e) => e.request_id(),
            OperationError::DeadlineExceeded(e) => e.request_id(),
            _ => None,
        }
    }

    /// How many attempts were made, the first included (0 when validation refused the request;
    /// for missing credentials, the attempts sent before they failed).
    pub fn attempts(&self) -> u32 {
        match self {
            OperationError::Validation(_) => 0,
            OperationError::Credentials { attempts, .. } => *attempts,
            OperationError::Api { attempts, .. } | OperationError::Unknown { attempts, .. } => *attempts,
            OperationError::Transport(e) => e.attempts(),
            OperationError::Decode(e) => e.attempts(),
            OperationError::DeadlineExceeded(e) => e.attempts(),
        }
    }

    /// The violations, when the request was refused before sending.
    pub fn violations(&self) -> Option<&Violations> {
        match self {
            OperationError::Validation(v) => Some(v),
            _ => None,
        }
    }

    /// The failure as the retry classifier sees it. A passed deadline is seen as the failure of
    /// the last attempt (as when the attempts run out), or as final when no attempt was made.
    pub fn failure(&self) -> Failure {
        match self {
            OperationError::Api { code, error, .. } => {
                Failure::Api { status: error.status, retryable_code: code.retryable() }
            }
            OperationError::Unknown { error, .. } => Failure::Api { status: error.status, retryable_code: false },
            OperationError::Transport(t) => Failure::Transport(t.kind()),
            OperationError::DeadlineExceeded(d) => d.last_failure.unwrap_or(Failure::Final),
            OperationError::Validation(_) | OperationError::Decode(_) | OperationError::Credentials { .. } => {
                Failure::Final
            }
        }
    }

    /// Whether trying the same request again may succeed, by [`retry::is_retryable`] — the very
    /// classifier the client's retry loop uses, so an error the client gave up on after retrying
    /// says `true` (the attempts, the retry budget or the deadline ran out) and one it did not retry
    /// says `false`. Considers the operation's idempotency: a timeout, or a 5xx or throttling
    /// answer, is retryable only for an idempotent operation.
    pub fn is_retryable(&self) -> bool {
        retry::is_retryable(Op::IDEMPOTENT, self.failure())
    }
}

impl<Op: Operation> fmt::Debug for OperationError<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationError::Api { code, error, attempts } => {
                f.debug_struct("Api").field("code", code).field("error", error).field("attempts", attempts).finish()
            }
            OperationError::Unknown { error, attempts } => {
                f.debug_struct("Unknown").field("error", error).field("attempts", attempts).finish()
            }
            OperationError::DeadlineExceeded(d) => f.debug_tuple("DeadlineExceeded").field(d).finish(),
            OperationError::Validation(v) => f.debug_tuple("Validation").field(v).finish(),
            OperationError::Transport(t) => f.debug_tuple("Transport").field(t).finish(),
            OperationError::Decode(d) => f.debug_tuple("Decode").field(d).finish(),
            OperationError::Credentials { error, attempts } => {
                f.debug_struct("Credentials").field("error", error).field("attempts", attempts).finish()
            }
        }
    }
}

impl<Op: Operation> fmt::Display for OperationError<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationError::Api { error, attempts, .. } | OperationError::Unknown { error, attempts } => {
                write!(f, "{error}{}", after_attempts(*attempts))
            }
            OperationError::Validation(v) => write!(f, "{} was not sent: {v}", Op::ACTION),
            OperationError::DeadlineExceeded(d) => d.fmt(f),
            OperationError::Transport(t) => t.fmt(f),
            OperationError::Decode(d) => d.fmt(f),
            OperationError::Credentials { error, attempts: 0 } => {
                write!(f, "{} was not sent: no credentials to sign with: {error}", Op::ACTION)
            }
            OperationError::Credentials { error, attempts } => {
                write!(
                    f,
                    "{} was not retried: no credentials to sign with: {error}{}",
                    Op::ACTION,
                    sent_before(*attempts)
                )
            }
        }
    }
}

impl<Op: Operation> std::error::Error for OperationError<Op> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OperationError::Transport(t) => std::error::Error::source(t),
            OperationError::Decode(d) => std::error::Error::source(d),
            OperationError::Credentials { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<Violations> for InvokeError {
    fn from(v: Violations) -> Self {
        InvokeError::Validation(v)
    }
}

impl From<ApiError> for InvokeError {
    /// An error answer to a single attempt.
    fn from(error: ApiError) -> Self {
        InvokeError::Api { error, attempts: 1 }
    }
}

impl From<TransportError> for InvokeError {
    fn from(e: TransportError) -> Self {
        InvokeError::Transport(e)
    }
}

impl From<CredentialsError> for InvokeError {
    /// Credentials missing for the first attempt (nothing sent).
    fn from(error: CredentialsError) -> Self {
        InvokeError::Credentials { error, attempts: 0 }
    }
}

impl From<DecodeError> for InvokeError {
    fn from(e: DecodeError) -> Self {
        InvokeError::Decode(e)
    }
}

/// What kind of transport failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS failure, TLS handshake, connect timeout):
    /// the request cannot have reached the server.
    Connect,
    /// The request or response did not complete in time; the server may have acted on it.
    Timeout,
    /// Anything else (connection reset, broken body, ...); the server may have acted on it.
    Other,
    /// The request could not be built (an invalid URL or header): nothing was sent, and the same
    /// request fails the same way again.
    Request,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect error",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Other => "transport error",
            TransportErrorKind::Request => "invalid request",
        })
    }
}

/// A request that got no usable response.
///
/// Keeps the number of attempts made and the underlying error chain (through
/// [`std::error::Error::source`]). The chain never holds the request URL's query, so it never shows
/// the signature, the security token or parameter values.
#[derive(Debug, thiserror::Error)]
#[error("{action}: {kind} after {attempts} attempt{s}", s = if *.attempts == 1 { "" } else { "s" })]
pub struct TransportError {
    action: &'static str,
    kind: TransportErrorKind,
    attempts: u32,
    #[source]
    source: reqwest::Error,
}

impl TransportError {
    pub(crate) fn new(action: &'static str, attempts: u32, source: reqwest::Error) -> Self {
        TransportError { action, kind: classify(&source), attempts, source: redact(source) }
    }

    /// The operation's wire name (`Action`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// Connect, timeout or other.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// How many attempts were made, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the request cannot have reached the server.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// Whether the request timed out (the server may have acted on it).
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }
}

/// Connect beats timeout: a connect timeout never reached the server.
pub(crate) fn classify(e: &reqwest::Error) -> TransportErrorKind {
    if e.is_builder() {
        TransportErrorKind::Request
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    }
}

/// Drops the query (signature, token, parameter values) from the URL reqwest keeps in its error.
pub(crate) fn redact(mut e: reqwest::Error) -> reqwest::Error {
    if let Some(url) = e.url_mut() {
        url.set_query(None);
        url.set_fragment(None);
    }
    e
}

/// A 2xx response whose body is not the operation's response.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{action}: cannot decode the response (HTTP {status}{rid}): {message}; body starts with: {excerpt:?}",
    rid = match &.request_id { Some(id) => format!(", RequestId: {id}"), None => String::new() }
)]
pub struct DecodeError {
    action: &'static str,
    attempts: u32,
    status: u16,
    request_id: Option<String>,
    message: String,
    excerpt: String,
}

impl DecodeError {
    pub(crate) fn new(
        action: &'static str,
        status: u16,
        request_id: Option<String>,
        message: String,
        excerpt: String,
    ) -> Self {
        DecodeError { action, attempts: 1, status, request_id, message, excerpt }
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// How many attempts were made, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The operation's wire name (`Action`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response's `RequestId`, when it could be found.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// What the JSON decoder reported.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The start of the body (at most a few hundred characters).
    pub fn excerpt(&self) -> &str {
        &self.excerpt
    }
}

/// A call whose deadline passed before it could succeed.
///
/// Says how many attempts were made, how long the call took, why the last attempt failed (no
/// secret: the same text as the error it would otherwise have been), and the last `RequestId`.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{action}: deadline exceeded after {attempts} attempt{s} in {elapsed:?}{last}{rid}",
    s = if *.attempts == 1 { "" } else { "s" },
    last = match &.last { Some(last) => format!("; last failure: {last}"), None => String::new() },
    rid = match &.request_id { Some(id) => format!(" [RequestId: {id}]"), None => String::new() }
)]
pub struct DeadlineError {
    action: &'static str,
    attempts: u32,
    elapsed: Duration,
    last: Option<String>,
    pub(crate) last_failure: Option<Failure>,
    request_id: Option<String>,
}

impl DeadlineError {
    pub(crate) fn new(
        action: &'static str,
        attempts: u32,
        elapsed: Duration,
        last: Option<(String, Failure)>,
        request_id: Option<String>,
    ) -> Self {
        let (last, last_failure) = match last {
            Some((text, failure)) => (Some(text), Some(failure)),
            None => (None, None),
        };
        DeadlineError { action, attempts, elapsed, last, last_failure, request_id }
    }

    /// The operation's wire name (`Action`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// How many attempts were made before the deadline, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long the call ran, from its start until it gave up.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Why the last attempt failed, when one was made.
    pub fn last_failure(&self) -> Option<&str> {
        self.last.as_deref()
    }

    /// The `RequestId` of the last answer, when one carried it.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}
