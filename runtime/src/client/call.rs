//! One call being prepared: the options of a single call ([`Call`]), awaited to run it.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::RpcClient;
use super::error::OperationError;
use super::retry::RetryPolicy;
use crate::operation::Operation;

/// The options of one call, all optional: without them the configuration's apply.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    /// Time allowed for each attempt, instead of the configuration's `timeout`.
    pub(crate) timeout: Option<Duration>,
    /// Extra headers of every attempt.
    pub(crate) headers: HeaderMap,
    /// Instead of the configuration's retry policy.
    pub(crate) retry: Option<RetryPolicy>,
    /// When the whole call must be over, attempts and waits included.
    pub(crate) deadline: Option<Instant>,
}

impl CallOptions {
    /// Adds an extra header (replacing an earlier value of the same name); the protocol's own
    /// headers are refused here, once, so that attempts send the map as it is.
    pub(crate) fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        if !super::transport::is_protocol_header(&name) {
            self.headers.insert(name, value);
        }
    }
}

/// One call of operation `Op`, with its options: what every generated client method returns.
/// **Await it** to send the request (`client.create_user(&request).await`); before that, chain
/// the options this call needs:
///
/// - [`Call::timeout`]: the time allowed for each attempt (instead of the configuration's);
/// - [`Call::header`]: an extra header on every attempt (an `x-acs-*` header is signed under
///   signature version 3);
/// - [`Call::retry`]: this call's retry policy (instead of the configuration's);
/// - [`Call::deadline`] / [`Call::deadline_in`]: when the whole call must be over, attempts and
///   waits between them included (instead of the configuration's `operation_timeout`).
///
/// ```no_run
/// # use alibaba_rpc_runtime::client::{Call, OperationError, RetryPolicy, header::{HeaderName, HeaderValue}};
/// # use alibaba_rpc_runtime::operation::Operation;
/// # use std::time::Duration;
/// # async fn demo<Op: Operation + Sync>(call: Call<'_, Op>) -> Result<Op::Response, OperationError<Op>> {
/// // let call = client.describe_instances(&request);
/// let response = call
///     .timeout(Duration::from_secs(2))
///     .header(HeaderName::from_static("x-acs-trace-id"), HeaderValue::from_static("trace-42"))
///     .retry(RetryPolicy::none())
///     .deadline_in(Duration::from_secs(10))
///     .await?;
/// # Ok(response)
/// # }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'a, Op: Operation> {
    client: &'a RpcClient,
    request: &'a Op,
    options: CallOptions,
}

impl<'a, Op: Operation> Call<'a, Op> {
    pub(crate) fn new(client: &'a RpcClient, request: &'a Op) -> Self {
        Call::with_options(client, request, CallOptions::default())
    }

    pub(crate) fn with_options(client: &'a RpcClient, request: &'a Op, options: CallOptions) -> Self {
        Call { client, request, options }
    }

    /// Time allowed for each attempt of this call (connect, send, read the answer), instead of
    /// the configuration's `timeout`. An attempt that would end after the call's deadline is cut
    /// off at the deadline.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Sends `name: value` with every attempt of this call (replacing an earlier value of the same
    /// name). Under signature version 3 an `x-acs-*` header is signed with the request; others
    /// are sent unsigned. The protocol's own headers (`host`, `authorization`, `x-acs-action`,
    /// `x-acs-date`, …) cannot be replaced: the client's values are sent.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.options.insert_header(name, value);
        self
    }

    /// This call's retry policy, instead of the configuration's. Which failures are retried is
    /// still decided by the one classifier ([`retry::is_retryable`](super::retry::is_retryable)),
    /// and retries still spend the client's retry budget.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = Some(policy);
        self
    }

    /// When the whole call must be over: no attempt runs past it (the one in flight is cut off
    /// there) and the client never waits past it — when the next wait would end after the
    /// deadline, the call fails at once with [`OperationError::DeadlineExceeded`], which names the
    /// attempts made and the last failure.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.options.deadline = Some(deadline);
        self
    }

    /// [`Call::deadline`] `timeout` from now.
    pub fn deadline_in(self, timeout: Duration) -> Self {
        let at = Instant::now().checked_add(timeout);
        match at {
            Some(at) => self.deadline(at),
            None => self,
        }
    }
}

impl<'a, Op: Operation + Sync> IntoFuture for Call<'a, Op> {
    type Output = Result<Op::Response, OperationError<Op>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.client.execute(self.request, self.options))
    }
}
