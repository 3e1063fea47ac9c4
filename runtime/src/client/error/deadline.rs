//! [`DeadlineError`]: a call whose deadline passed before it could succeed.

use std::time::Duration;

use crate::client::retry::Failure;

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
