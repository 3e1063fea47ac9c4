//! Retries: which failures may be retried ([`is_retryable`], the one classifier, used by the
//! retry loop and by every operation error's `is_retryable()`), how often and how patiently
//! ([`RetryPolicy`]), how long the server asks to wait ([`server_delay`]), and how many retries a
//! client may spend in all ([`RetryBudget`](super::RetryBudget)).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::error::TransportErrorKind;

/// A failed attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// No usable response arrived.
    Transport(TransportErrorKind),
    /// The server answered an error: its HTTP status, and whether the spec marks its code
    /// retryable (false for a code the operation does not declare).
    Api {
        /// The HTTP status.
        status: u16,
        /// Whether the spec marks the code retryable.
        retryable_code: bool,
    },
    /// Refused before sending (validation), or answered 2xx with a body that is not the response:
    /// the same request fails the same way again.
    Final,
}

/// Whether a request that failed with `failure` may be tried again, for an operation that is
/// `idempotent` or not. The one retry classifier: the client's retry loop asks it after every
/// attempt, and every operation error's `is_retryable()` answers with it.
///
/// - A connect error never reached the server: retryable for every operation.
/// - A timeout or another transport error may have reached the server: retryable only when the
///   operation is idempotent. A request that could not even be built is not retryable.
/// - An error answer is retryable only when the operation is idempotent and the server failed
///   (HTTP 5xx) or the spec marks the code retryable (throttling): a non-idempotent operation is
///   never repeated once the server has answered.
/// - Validation and decoding failures are never retryable.
///
/// ```
/// use alibaba_rpc_runtime::client::TransportErrorKind;
/// use alibaba_rpc_runtime::client::retry::{Failure, is_retryable};
///
/// assert!(is_retryable(false, Failure::Transport(TransportErrorKind::Connect)));
/// assert!(!is_retryable(false, Failure::Transport(TransportErrorKind::Timeout)));
/// assert!(is_retryable(true, Failure::Transport(TransportErrorKind::Timeout)));
/// assert!(is_retryable(true, Failure::Api { status: 400, retryable_code: true }));
/// assert!(!is_retryable(false, Failure::Api { status: 503, retryable_code: true }));
/// ```
pub fn is_retryable(idempotent: bool, failure: Failure) -> bool {
    match failure {
        Failure::Transport(TransportErrorKind::Connect) => true,
        Failure::Transport(TransportErrorKind::Timeout | TransportErrorKind::Other) => idempotent,
        Failure::Transport(TransportErrorKind::Request) => false,
        Failure::Api { status, retryable_code } => idempotent && (status >= 500 || retryable_code),
        Failure::Final => false,
    }
}

/// How often, and how patiently, a request is retried.
///
/// `max_attempts` counts the first attempt, so `1` means "never retry". Between attempts the client
/// waits a random duration between zero and `min(max_backoff, initial_backoff × 2^(retry − 1))`
/// ("full jitter" exponential backoff), so that many clients failing together do not retry in step
/// — unless the server said how long to wait (`x-acs-retry-after` in milliseconds, as Alibaba
/// Cloud's gateway sends with `Throttling`, or `Retry-After` in seconds or as an HTTP date): then
/// the client waits that long, capped at `max_backoff` ([`RetryPolicy::delay`]).
///
/// Which failures are retried is decided by [`is_retryable`], per operation: the policy only
/// bounds how often.
///
/// ```
/// use std::time::Duration;
/// use alibaba_rpc_runtime::client::RetryPolicy;
///
/// let patient = RetryPolicy {
///     max_attempts: 5,
///     initial_backoff: Duration::from_millis(100),
///     max_backoff: Duration::from_secs(2),
/// };
/// assert_eq!(RetryPolicy::default().max_attempts, 3);
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Upper bound of the wait before the first retry.
    pub initial_backoff: Duration,
    /// Cap of every wait.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// A single attempt, never retried.
    pub const fn none() -> Self {
        RetryPolicy { max_attempts: 1, initial_backoff: Duration::ZERO, max_backoff: Duration::ZERO }
    }

    /// The upper bound of the wait before retry number `retry` (1 for the first retry):
    /// `min(max_backoff, initial_backoff × 2^(retry − 1))`, without overflow.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(31);
        self.initial_backoff.checked_mul(1u32 << shift).unwrap_or(Duration::MAX).min(self.max_backoff)
    }

    /// A random wait in `0..=backoff_ceiling(retry)` (full jitter).
    pub fn backoff(&self, retry: u32) -> Duration {
        use rand::Rng;
        self.delay(retry, None, rand::rng().random_range(0.0..=1.0))
    }

    /// The wait before retry number `retry` (1 for the first retry), with the randomness made
    /// explicit: `unit` is a number in `0.0..=1.0` (the client draws it at random).
    ///
    /// - When the server said how long to wait (`server_delay`, see [`server_delay`]), that,
    ///   capped at `max_backoff`: the server knows best, and it is not jittered.
    /// - Otherwise full jitter: `unit × backoff_ceiling(retry)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use alibaba_rpc_runtime::client::RetryPolicy;
    ///
    /// let p = RetryPolicy::default(); // 200 ms initial, 5 s cap
    /// assert_eq!(p.delay(2, None, 1.0), Duration::from_millis(400));
    /// assert_eq!(p.delay(2, None, 0.5), Duration::from_millis(200));
    /// assert_eq!(p.delay(1, Some(Duration::from_millis(1500)), 0.0), Duration::from_millis(1500));
    /// assert_eq!(p.delay(1, Some(Duration::from_secs(60)), 0.0), Duration::from_secs(5));
    /// ```
    pub fn delay(&self, retry: u32, server_delay: Option<Duration>, unit: f64) -> Duration {
        if let Some(asked) = server_delay {
            return asked.min(self.max_backoff);
        }
        self.backoff_ceiling(retry).mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// Header in which Alibaba Cloud's gateway says, in milliseconds, when to retry a throttled request.
pub const X_ACS_RETRY_AFTER: &str = "x-acs-retry-after";

/// How long the server asked the client to wait before trying again, from an error answer's
/// headers: `x-acs-retry-after` (milliseconds, as Alibaba Cloud's gateway sends it with
/// `Throttling`), else the standard `Retry-After` (delay-seconds, or an HTTP date, measured from
/// `now`; a date in the past means "now"). `None` when neither is present or readable.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use alibaba_rpc_runtime::client::retry::server_delay;
/// use reqwest::header::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", HeaderValue::from_static("2"));
/// assert_eq!(server_delay(&headers, SystemTime::now()), Some(Duration::from_secs(2)));
/// headers.insert("x-acs-retry-after", HeaderValue::from_static("750"));
/// assert_eq!(server_delay(&headers, SystemTime::now()), Some(Duration::from_millis(750)));
/// ```
pub fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = text(X_ACS_RETRY_AFTER).and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_millis(ms));
    }
    let value = text(reqwest::header::RETRY_AFTER.as_str())?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

impl Default for RetryPolicy {
    /// 3 attempts, 200 ms initial backoff, 5 s cap.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table: every failure, for both kinds of operation.
    #[test]
    fn classifier_table() {
        use TransportErrorKind::{Connect, Other, Request, Timeout};
        let api = |status, retryable_code| Failure::Api { status, retryable_code };
        let table = [
            // (failure, idempotent operation, non-idempotent operation)
            (Failure::Transport(Connect), true, true),
            (Failure::Transport(Timeout), true, false),
            (Failure::Transport(Other), true, false),
            (Failure::Transport(Request), false, false),
            (api(500, false), true, false),
            (api(503, true), true, false),
            (api(400, true), true, false),
            (api(400, false), false, false),
            (api(404, false), false, false),
            (api(499, false), false, false),
            (Failure::Final, false, false),
        ];
        for (failure, idempotent, not_idempotent) in table {
            assert_eq!(is_retryable(true, failure), idempotent, "{failure:?}, idempotent");
            assert_eq!(is_retryable(false, failure), not_idempotent, "{failure:?}, not idempotent");
        }
    }

    /// A non-idempotent operation is retried only when the request cannot have reached the
    /// server; anything that may have reached it is retried only for an idempotent one.
    #[test]
    fn non_idempotent_retries_are_a_subset() {
        use TransportErrorKind::{Connect, Other, Request, Timeout};
        let mut all = vec![Failure::Final];
        all.extend([Connect, Timeout, Other, Request].map(Failure::Transport));
        for status in [200, 400, 403, 404, 429, 500, 502, 503, 504] {
            all.extend([false, true].map(|retryable_code| Failure::Api { status, retryable_code }));
        }
        for failure in all {
            if is_retryable(false, failure) {
                assert!(is_retryable(true, failure), "{failure:?}");
                assert_eq!(failure, Failure::Transport(Connect));
            }
        }
    }

    #[test]
    fn ceiling_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(2), Duration::from_millis(400));
        assert_eq!(p.backoff_ceiling(3), Duration::from_millis(800));
        assert_eq!(p.backoff_ceiling(10), Duration::from_secs(5));
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_within_ceiling() {
        let p = RetryPolicy::default();
        for retry in 1..8 {
            for _ in 0..50 {
                assert!(p.backoff(retry) <= p.backoff_ceiling(retry));
            }
        }
        assert_eq!(RetryPolicy::none().backoff(1), Duration::ZERO);
    }

    #[test]
    fn huge_initial_backoff_does_not_overflow() {
        let p = RetryPolicy { max_attempts: 3, initial_backoff: Duration::MAX, max_backoff: Duration::MAX };
        assert_eq!(p.backoff_ceiling(40), Duration::MAX);
        let _ = p.backoff(40);
    }
}
