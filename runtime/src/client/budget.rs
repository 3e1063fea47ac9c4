//! The retry budget: a token bucket shared by every call of one client, so that when the server is
//! failing a whole application backs off instead of multiplying its load by the number of attempts.

use std::sync::atomic::{AtomicU32, Ordering};

use super::error::TransportErrorKind;
use super::retry::Failure;

/// How many retries a client may spend, as a token bucket shared by all its calls (the scheme of
/// the AWS SDKs' "standard" retry strategy): the bucket starts full with `capacity` tokens; every
/// retry takes `retry_cost` tokens (`timeout_retry_cost` after a timeout); every successful call
/// puts back `success_refill` tokens, and a call that succeeds after retrying puts back what its
/// last retry took. When a retry would take more tokens than are left, it is not made: the call
/// fails with the error of its last attempt. First attempts never need a token.
///
/// The default, [`RetryBudget::standard`], lets a client that suddenly gets nothing but errors
/// retry 100 times (500 tokens, 5 a retry) before it stops retrying; a working client refills it.
///
/// ```
/// use alibaba_rpc_runtime::client::RetryBudget;
///
/// let budget = RetryBudget::standard();
/// assert_eq!((budget.capacity, budget.retry_cost, budget.timeout_retry_cost, budget.success_refill), (500, 5, 10, 1));
/// assert_eq!(RetryBudget::unlimited().retry_cost, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    /// Tokens in a full bucket (and at the start).
    pub capacity: u32,
    /// Tokens one retry takes.
    pub retry_cost: u32,
    /// Tokens one retry after a timeout takes (a timeout costs the server the most).
    pub timeout_retry_cost: u32,
    /// Tokens a successful call puts back.
    pub success_refill: u32,
}

impl RetryBudget {
    /// 500 tokens, 5 a retry, 10 a retry after a timeout, 1 back per success.
    pub const fn standard() -> Self {
        RetryBudget { capacity: 500, retry_cost: 5, timeout_retry_cost: 10, success_refill: 1 }
    }

    /// No budget: retries are bounded only by each call's [`RetryPolicy`](super::RetryPolicy).
    pub const fn unlimited() -> Self {
        RetryBudget { capacity: u32::MAX, retry_cost: 0, timeout_retry_cost: 0, success_refill: 0 }
    }

    /// What a retry after `failure` costs.
    pub(crate) fn cost(&self, failure: Failure) -> u32 {
        match failure {
            Failure::Transport(TransportErrorKind::Timeout) => self.timeout_retry_cost,
            _ => self.retry_cost,
        }
    }
}

impl Default for RetryBudget {
    /// [`RetryBudget::standard`].
    fn default() -> Self {
        RetryBudget::standard()
    }
}

/// The bucket itself, one per [`RpcClient`](super::RpcClient) (its clones share it).
///
/// One atomic counter: a successful call with a full bucket (the usual case) only reads it, so
/// concurrent calls never wait on each other or bounce a lock between cores.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    budget: RetryBudget,
    tokens: AtomicU32,
}

impl TokenBucket {
    pub(crate) fn new(budget: RetryBudget) -> Self {
        TokenBucket { budget, tokens: AtomicU32::new(budget.capacity) }
    }

    /// Takes the cost of a retry after `failure`; `None` (nothing taken) when the bucket holds
    /// less, otherwise the tokens taken.
    pub(crate) fn try_acquire(&self, failure: Failure) -> Option<u32> {
        let cost = self.budget.cost(failure);
        self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |tokens| tokens.checked_sub(cost)).ok()?;
        Some(cost)
    }

    /// A call succeeded; `refund` is what its last retry took (0 if it did not retry).
    pub(crate) fn on_success(&self, refund: u32) {
        let add = refund.saturating_add(self.budget.success_refill);
        let capacity = self.budget.capacity;
        // A full bucket (or nothing to add) is left alone: the common success path only reads.
        let _ = self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |tokens| {
            (add > 0 && tokens < capacity).then(|| tokens.saturating_add(add).min(capacity))
        });
    }

    /// Tokens left.
    pub(crate) fn available(&self) -> u32 {
        self.tokens.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_spend_and_successes_refill() {
        let bucket =
            TokenBucket::new(RetryBudget { capacity: 12, retry_cost: 5, timeout_retry_cost: 10, success_refill: 1 });
        let api = Failure::Api { status: 503, retryable_code: true };
        assert_eq!(bucket.try_acquire(api), Some(5));
        assert_eq!(bucket.available(), 7);
        assert_eq!(bucket.try_acquire(Failure::Transport(TransportErrorKind::Timeout)), None, "a timeout costs 10");
        assert_eq!(bucket.available(), 7, "a refused retry takes nothing");
        assert_eq!(bucket.try_acquire(api), Some(5));
        assert_eq!(bucket.try_acquire(api), None);
        bucket.on_success(5);
        assert_eq!(bucket.available(), 8);
        bucket.on_success(0);
        bucket.on_success(100);
        assert_eq!(bucket.available(), 12, "never beyond capacity");
    }

    #[test]
    fn unlimited_never_runs_out() {
        let bucket = TokenBucket::new(RetryBudget::unlimited());
        for _ in 0..10_000 {
            assert_eq!(bucket.try_acquire(Failure::Transport(TransportErrorKind::Timeout)), Some(0));
        }
    }
}
