//! The client side of the protocol: credentials, configuration, and [`RpcClient::invoke`], which
//! validates, signs, sends, retries and decodes one operation.
//!
//! # Signing
//!
//! By default requests are signed with **signature version 3** (`ACS3-HMAC-SHA256`), as the
//! current official (Tea-generation) SDKs sign: `POST <endpoint>/?<operation parameters>` with an
//! empty body, the parameters in the query exactly as they are canonicalized, and the protocol
//! fields in headers — `host`, `x-acs-action`, `x-acs-version`, `x-acs-date`,
//! `x-acs-signature-nonce`, `x-acs-content-sha256` and, with STS credentials,
//! `x-acs-security-token` and `x-acs-accesskey-id`. The client signs `host` and every `x-acs-*`
//! header it sends (not `accept` or `user-agent`; it sends no `content-type`), and sends
//! `authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<list>,Signature=<hex>`.
//!
//! [`ClientConfigBuilder::signature_version`]`(`[`SignatureVersion::V1`]`)` signs with version 1.0
//! (`HMAC-SHA1`) instead, as the legacy Python and Go SDKs do: `POST <endpoint>/` with every
//! parameter — `Action`, `Version`, `AccessKeyId`, `Signature*`, `Timestamp`, `SecurityToken`… —
//! in a form body (the legacy SDKs put the same pairs in the query; Alibaba Cloud reads and signs
//! both alike).
//!
//! Under both, every attempt (retries included) is signed afresh with a new random nonce and the
//! current UTC time.
//!
//! ```no_run
//! use alibaba_rpc_runtime::client::{ClientConfig, Credentials, RpcClient};
//! # use alibaba_rpc_runtime::operation::ServiceInfo;
//! # static SERVICE: ServiceInfo = ServiceInfo {
//! #     product: "Ecs",
//! #     version: "2014-05-26",
//! #     endpoint_pattern: "https://ecs.{region}.aliyuncs.com",
//! # };
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::builder(&SERVICE)
//!     .region("cn-shanghai")
//!     .credentials(Credentials::from_env()?)
//!     .build()?;
//! let client = RpcClient::new(config)?;
//! // let response = client.invoke(&request).await?;  // `request` implements `Operation`
//! # let _ = client;
//! # Ok(())
//! # }
//! ```
//!
//! Nothing secret is ever logged: `tracing` events (at debug level) carry the action, the attempt,
//! the signature version, the HTTP status, the error code and the `RequestId`, never the secret,
//! the signature or the `authorization` header, the security token or any parameter value.

mod anonymous;
mod budget;
mod call;
mod config;
mod credentials;
mod error;
mod interceptor;
mod options;
mod paging;
pub mod retry;
mod signing_key;
mod sleep;
mod tls;
mod transport;

pub use budget::RetryBudget;
pub use call::Call;
pub use config::{ClientConfig, ClientConfigBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, default_user_agent};
pub use credentials::{
    Credentials, CredentialsError, CredentialsErrorKind, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN,
    ProvideCredentials, ProvideCredentialsFuture,
};
pub use error::{
    ConfigError, DeadlineError, DecodeError, InvokeError, OperationError, TransportError, TransportErrorKind,
};
pub use interceptor::{AfterReceive, BeforeSend, Interceptor};
pub use paging::Pages;
pub use retry::RetryPolicy;
pub use sleep::{AsyncSleep, TokioSleep};
pub use tls::client_config as tls_config;

/// HTTP header types, for [`Call::header`] and interceptors (reqwest's, re-exported).
pub mod header {
    pub use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
}

pub use crate::signature::SignatureVersion;
/// The algorithm of version 3 signatures ([`ClientConfigBuilder::signature_algorithm`]).
pub use crate::signature::v3::Algorithm as SignatureAlgorithm;

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument;

use crate::flatten::WireParam;
use crate::operation::Operation;

use budget::TokenBucket;
use call::CallOptions;

/// A client for one service in one region: signs and sends operations, with retries.
///
/// Cheap to clone (the connection pool and configuration are shared); clone it rather than creating
/// one per request.
///
/// ```
/// use alibaba_rpc_runtime::client::{ClientConfig, Credentials, RpcClient};
/// use alibaba_rpc_runtime::operation::ServiceInfo;
///
/// static SERVICE: ServiceInfo = ServiceInfo {
///     product: "Ecs",
///     version: "2014-05-26",
///     endpoint_pattern: "https://ecs.{region}.aliyuncs.com",
/// };
///
/// # fn main() -> Result<(), alibaba_rpc_runtime::client::ConfigError> {
/// let client = RpcClient::new(
///     ClientConfig::builder(&SERVICE)
///         .region("cn-hangzhou")
///         .credentials(Credentials::new("my-access-key-id", "my-access-key-secret"))
///         .build()?,
/// )?;
/// assert_eq!(client.region(), "cn-hangzhou");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RpcClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    budget: Arc<TokenBucket>,
    sleep: Arc<dyn AsyncSleep>,
}

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient")
            .field("config", &self.config)
            .field("retry_tokens", &self.budget.available())
            .finish_non_exhaustive()
    }
}

impl RpcClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// [`ConfigError::Tls`] when the TLS configuration cannot be created (for example when the
    /// platform's trust store cannot be read), [`ConfigError::HttpClient`] when the HTTP client
    /// cannot be created.
    ///
    /// # TLS
    /// rustls with the *ring* crypto provider and the operating system's trust store (through
    /// `rustls-platform-verifier`), configured for this client only: no process-wide default
    /// provider is installed, so the application's own choice stands. With
    /// [`ClientConfigBuilder::http_client`], the application's own client (and its TLS) is used
    /// instead.
    pub fn new(config: ClientConfig) -> Result<RpcClient, ConfigError> {
        let http = config.http_client(tls::client_config)?;
        let budget = Arc::new(TokenBucket::new(config.control.retry_budget));
        let sleep = config.control.sleeper();
        Ok(RpcClient { http, config: Arc::new(config), budget, sleep })
    }

    /// Tokens left in the retry budget this client (and its clones) share; see [`RetryBudget`].
    pub fn retry_tokens(&self) -> u32 {
        self.budget.available()
    }

    /// The region this client sends to.
    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Validates, signs, sends and decodes one operation, retrying as the operation allows.
    ///
    /// 1. `req.validate()`: on violations, returns [`InvokeError::Validation`] with all of them,
    ///    and sends nothing.
    /// 2. Each attempt is signed afresh, with a new random nonce and the current UTC time, and sent
    ///    as a `POST` to the endpoint:
    ///    - under [`SignatureVersion::V3`] (the default) as `POST <endpoint>/?<query>` with an empty
    ///      body: the query is `req.to_params()` in canonical form, and the protocol fields are
    ///      signed `x-acs-*` headers (`x-acs-action`, `x-acs-version`, `x-acs-date`,
    ///      `x-acs-signature-nonce`, `x-acs-content-sha256`, and `x-acs-security-token` +
    ///      `x-acs-accesskey-id` with STS credentials) next to a signed `host` and the
    ///      `authorization` header (see the [module documentation](self));
    ///    - under [`SignatureVersion::V1`] as `POST <endpoint>/` with a form body that holds the
    ///      common parameters (`Action`, `Version`, `Format=JSON`, `AccessKeyId`,
    ///      `SignatureMethod=HMAC-SHA1`, an empty `SignatureType`, `SignatureVersion=1.0`,
    ///      `SignatureNonce`, `Timestamp`, and `SecurityToken` with STS credentials),
    ///      `req.to_params()`, and the `Signature` over them all for `POST`.
    /// 3. A 2xx response is decoded as `Op::Response` ([`InvokeError::Decode`] if it is not one);
    ///    any other status gives [`InvokeError::Api`], from the error envelope, or, when the body is
    ///    not an envelope, with the synthetic code `HTTP<status>` and the start of the body as message.
    ///
    /// Retries (up to [`RetryPolicy::max_attempts`], with jittered exponential backoff, every attempt
    /// re-signed with a new nonce and timestamp) whatever [`retry::is_retryable`] allows — the
    /// classifier [`OperationError::is_retryable`] answers with:
    /// - operations with `Op::IDEMPOTENT`: on transport errors (connect, timeout, reset), on HTTP
    ///   5xx, and on error codes the spec marks retryable (such as throttling);
    /// - other operations: only on connect errors, where the request cannot have reached the
    ///   server; never after a response or a timeout.
    ///
    /// # Errors
    /// See [`InvokeError`]. [`InvokeError::attempts`] tells how many attempts were made.
    ///
    /// # Example
    /// ```no_run
    /// # use alibaba_rpc_runtime::client::{ClientConfig, Credentials, InvokeError, RpcClient};
    /// # use alibaba_rpc_runtime::errors::{ErrorCode, ErrorSpec};
    /// # use alibaba_rpc_runtime::operation::{Operation, ServiceInfo};
    /// # use alibaba_rpc_runtime::params::Params;
    /// # use alibaba_rpc_runtime::validate::Violations;
    /// # static SERVICE: ServiceInfo = ServiceInfo {
    /// #     product: "Ecs",
    /// #     version: "2014-05-26",
    /// #     endpoint_pattern: "https://ecs.{region}.aliyuncs.com",
    /// # };
    /// # #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// # enum Code { Throttling }
    /// # impl ErrorCode for Code {
    /// #     const DECLARED: &'static [Self] = &[Code::Throttling];
    /// #     fn spec(&self) -> &'static ErrorSpec {
    /// #         const THROTTLING: ErrorSpec = ErrorSpec::new_retryable("Throttling", 400, "Request was denied.");
    /// #         &THROTTLING
    /// #     }
    /// # }
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct DescribeInstancesResponse { #[serde(rename = "RequestId")] request_id: String }
    /// # struct DescribeInstances { region_id: String, instance_name: String }
    /// # impl Operation for DescribeInstances {
    /// #     const ACTION: &'static str = "DescribeInstances";
    /// #     const IDEMPOTENT: bool = true;
    /// #     type Response = DescribeInstancesResponse;
    /// #     type ErrorCode = Code;
    /// #     fn validate(&self) -> Result<(), Violations> { Ok(()) }
    /// #     fn to_params(&self) -> Vec<alibaba_rpc_runtime::flatten::WireParam<'_>> {
    /// #         vec![("RegionId".into(), self.region_id.as_str().into()), ("InstanceName".into(), self.instance_name.as_str().into())]
    /// #     }
    /// #     fn from_params(_: &Params) -> Result<Self, Violations> { unimplemented!() }
    /// # }
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = RpcClient::new(ClientConfig::builder(&SERVICE).region("cn-shanghai").build()?)?;
    /// // `DescribeInstances` implements `Operation` (the generated model provides the real ones).
    /// let request = DescribeInstances { region_id: "cn-shanghai".into(), instance_name: "web-1".into() };
    /// match client.invoke(&request).await {
    ///     Ok(response) => println!("RequestId {}", response.request_id),
    ///     Err(InvokeError::Api { error: e, .. }) => eprintln!("the server said {}: {}", e.code, e.message),
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn invoke<Op: Operation + Sync>(&self, req: &Op) -> Result<Op::Response, InvokeError> {
        self.call(req).await.map_err(InvokeError::from)
    }

    /// [`RpcClient::invoke`], with the operation's typed error (an error answer with one of
    /// `Op`'s codes is [`OperationError::Api`] with that code) and per-call options: what
    /// generated clients call. Await the returned [`Call`], after setting any option it needs
    /// (timeout, headers, retry policy, deadline).
    ///
    /// # Errors
    /// See [`OperationError`].
    pub fn call<'a, Op: Operation>(&'a self, req: &'a Op) -> Call<'a, Op> {
        Call::new(self, req)
    }

    /// Runs one call: validation, then the retry loop, in a `rpc.invoke` span that records the
    /// attempts made and the last `RequestId`. The request is validated and turned into its
    /// parameters at once, so the future (boxed once per call) holds the parameters and the
    /// options, not the request.
    fn execute<'a, Op: Operation>(
        &'a self,
        req: &'a Op,
        options: CallOptions,
    ) -> impl Future<Output = Result<Op::Response, OperationError<Op>>> + Send + 'a {
        let checked = match req.validate() {
            Err(violations) => {
                tracing::debug!(
                    action = Op::ACTION,
                    violations = violations.len(),
                    "request rejected by validation; nothing sent"
                );
                Err(violations)
            }
            Ok(()) => Ok(req.to_params()),
        };
        async move {
            let params = checked.map_err(OperationError::Validation)?;
            let span = tracing::debug_span!(
                "rpc.invoke",
                product = self.config.service.product,
                action = Op::ACTION,
                attempts = tracing::field::Empty,
                request_id = tracing::field::Empty,
            );
            self.invoke_with_retries::<Op>(&params, &options).instrument(span).await
        }
    }

    /// The retry loop. Each failure becomes the error the caller would get, and the loop retries
    /// exactly when that error's [`OperationError::is_retryable`] says so — the user-facing answer
    /// and the loop's decision are one computation — and attempts, the retry budget and the
    /// deadline allow.
    async fn invoke_with_retries<Op: Operation>(
        &self,
        params: &[WireParam<'_>],
        options: &CallOptions,
    ) -> Result<Op::Response, OperationError<Op>> {
        use rand::Rng as _;

        let started = Instant::now();
        let deadline =
            options.deadline.or_else(|| self.config.control.operation_timeout.and_then(|t| started.checked_add(t)));
        let policy = options.retry.as_ref().unwrap_or(&self.config.retry);
        let max_attempts = policy.max_attempts.max(1);
        let attempt_timeout = options.timeout.unwrap_or(self.config.timeout);
        let deadline_error = |attempts: u32, last: Option<(String, retry::Failure)>, request_id: Option<String>| {
            tracing::debug!(attempts, "deadline exceeded");
            OperationError::DeadlineExceeded(DeadlineError::new(
                Op::ACTION,
                attempts,
                started.elapsed(),
                last,
                request_id,
            ))
        };
        let mut attempt: u32 = 0;
        let mut last_cost = 0;
        let mut last_request_id: Option<String> = None;
        loop {
            // No attempt starts after the deadline, and none runs past it.
            let timeout = match deadline {
                Some(deadline) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return Err(deadline_error(attempt, None, last_request_id));
                    }
                    attempt_timeout.min(remaining)
                }
                None => attempt_timeout,
            };
            let cut_by_deadline = timeout < attempt_timeout;
            attempt += 1;
            tracing::Span::current().record("attempts", attempt);
            let spec = transport::AttemptSpec { attempt, headers: &options.headers, timeout };
            // The failure and the error it makes are dropped before the wait: the future of a
            // call does not hold them.
            let delay = {
                let failure = match transport::attempt::<Op>(&self.http, &self.config, params, spec).await {
                    Ok(answer) => {
                        if let Some(id) = &answer.request_id {
                            tracing::Span::current().record("request_id", id.as_str());
                        }
                        self.budget.on_success(last_cost);
                        return Ok(answer.response);
                    }
                    Err(failure) => failure,
                };
                if let Some(id) = failure.request_id() {
                    tracing::Span::current().record("request_id", id);
                    last_request_id = Some(id.to_owned());
                }
                let reason = failure.reason();
                let retry_after = failure.retry_after();
                if cut_by_deadline && failure.is_timeout() {
                    let error = OperationError::<Op>::from(failure.into_error(Op::ACTION, attempt));
                    let last = (error.to_string(), error.failure());
                    return Err(deadline_error(attempt, Some(last), last_request_id));
                }
                let error = OperationError::<Op>::from(failure.into_error(Op::ACTION, attempt));
                let retry = error.is_retryable();
                if !retry || attempt >= max_attempts {
                    tracing::debug!(attempt, retryable = retry, reason, "giving up");
                    return Err(error);
                }
                let delay = policy.delay(attempt, retry_after, rand::rng().random_range(0.0..=1.0));
                if deadline.is_some_and(|deadline| Instant::now().checked_add(delay).is_none_or(|end| end >= deadline))
                {
                    let last = (error.to_string(), error.failure());
                    return Err(deadline_error(attempt, Some(last), last_request_id));
                }
                let Some(cost) = self.budget.try_acquire(error.failure()) else {
                    tracing::debug!(attempt, reason, "retry budget exhausted; giving up");
                    return Err(error);
                };
                last_cost = cost;
                tracing::debug!(
                    attempt,
                    reason,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    server_asked = retry_after.is_some(),
                    "retrying"
                );
                delay
            };
            self.sleep.sleep(delay).await;
        }
    }
}
