//! Retry policy: how many attempts, and how long to wait between them.

use std::time::Duration;

/// How often, and how patiently, a request is retried.
///
/// `max_attempts` counts the first attempt, so `1` means "never retry". Between attempts the client
/// waits a random duration between zero and `min(max_backoff, initial_backoff × 2^(retry − 1))`
/// ("full jitter" exponential backoff), so that many clients failing together do not retry in step.
///
/// Which failures are retried is decided per operation by the client (see
/// [`RpcClient::invoke`](super::RpcClient::invoke)): the policy only bounds how often.
///
/// ```
/// use std::time::Duration;
/// use smartag_runtime::client::RetryPolicy;
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
        let ceiling = self.backoff_ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
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
