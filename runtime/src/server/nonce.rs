//! The memory of nonces seen, bounded, failing closed.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

/// What [`NonceCache::check_and_insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceOutcome {
    /// Not seen before; now remembered.
    Fresh,
    /// Seen before and still remembered: a replay.
    Used,
    /// The cache is full of live nonces: the request must be refused (never forget a live one).
    Full,
}

/// Nonces per `(AccessKeyId, SignatureNonce)`, each kept until its expiry (unix seconds), expired
/// ones evicted, at most `capacity` at once.
#[derive(Debug)]
pub(crate) struct NonceCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The live keys (see [`key`]).
    entries: HashSet<Arc<str>>,
    /// (expiry, sequence number) → key, for eviction in expiry order; the sequence number keeps
    /// entries with the same expiry apart.
    by_expiry: BTreeMap<(i64, u64), Arc<str>>,
    next_seq: u64,
}

/// One string per `(AccessKeyId, nonce)`, unambiguous: the key id's length, `:`, the key id,
/// the nonce.
fn key(access_key_id: &str, nonce: &str) -> String {
    format!("{}:{access_key_id}{nonce}", access_key_id.len())
}

impl Inner {
    /// Forgets every entry whose expiry is at or before `now`.
    fn evict_expired(&mut self, now: i64) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.entries.remove(&key);
        }
    }
}

impl NonceCache {
    /// An empty cache holding at most `capacity` live nonces.
    pub(crate) fn new(capacity: usize) -> NonceCache {
        NonceCache { capacity, inner: Mutex::new(Inner::default()) }
    }

    /// The most live nonces held at once.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many nonces are remembered (expired ones included until evicted).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).entries.len()
    }

    /// Remembers `nonce` of `access_key_id` until `expires` (unix seconds) unless it is live
    /// already (a replay) or the cache is full of live nonces, evicting expired ones first.
    pub(crate) fn check_and_insert(&self, access_key_id: &str, nonce: &str, expires: i64, now: i64) -> NonceOutcome {
        // The map stays consistent even if a holder panicked mid-way (every mutation is
        // completed before anything can panic), so a poisoned lock is still usable.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.evict_expired(now);
        let key = key(access_key_id, nonce);
        if inner.entries.contains(key.as_str()) {
            return NonceOutcome::Used;
        }
        if inner.entries.len() >= self.capacity {
            return NonceOutcome::Full;
        }
        let seq = inner.next_seq;
        inner.next_seq = inner.next_seq.wrapping_add(1);
        let key: Arc<str> = Arc::from(key);
        inner.by_expiry.insert((expires, seq), Arc::clone(&key));
        inner.entries.insert(key);
        NonceOutcome::Fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_are_refused_until_expiry() {
        let cache = NonceCache::new(10);
        assert_eq!(cache.check_and_insert("k", "n1", 100, 0), NonceOutcome::Fresh);
        assert_eq!(cache.check_and_insert("k", "n1", 100, 50), NonceOutcome::Used);
        assert_eq!(cache.check_and_insert("k", "n1", 100, 99), NonceOutcome::Used);
        // Another key's identical nonce is a different entry.
        assert_eq!(cache.check_and_insert("other", "n1", 100, 99), NonceOutcome::Fresh);
        // At expiry it is forgotten (the timestamp check refuses such a replay by then).
        assert_eq!(cache.check_and_insert("k", "n1", 200, 100), NonceOutcome::Fresh);
    }

    #[test]
    fn bounded_and_fails_closed() {
        let cache = NonceCache::new(3);
        assert_eq!(cache.check_and_insert("k", "a", 100, 0), NonceOutcome::Fresh);
        assert_eq!(cache.check_and_insert("k", "b", 50, 0), NonceOutcome::Fresh);
        assert_eq!(cache.check_and_insert("k", "c", 150, 0), NonceOutcome::Fresh);
        // Full of live nonces: refuse, and keep every live one.
        assert_eq!(cache.check_and_insert("k", "d", 100, 10), NonceOutcome::Full);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.check_and_insert("k", "a", 100, 10), NonceOutcome::Used);
        assert_eq!(cache.check_and_insert("k", "b", 100, 10), NonceOutcome::Used);
        // Once `b` expires (earliest, though inserted second), there is room again.
        assert_eq!(cache.check_and_insert("k", "d", 100, 50), NonceOutcome::Fresh);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.check_and_insert("k", "e", 200, 60), NonceOutcome::Full);
        // Later, everything but `c` has expired.
        assert_eq!(cache.check_and_insert("k", "e", 200, 120), NonceOutcome::Fresh);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.check_and_insert("k", "c", 200, 120), NonceOutcome::Used);
    }

    #[test]
    fn keys_are_unambiguous() {
        let cache = NonceCache::new(10);
        assert_eq!(cache.check_and_insert("ab", "c", 100, 0), NonceOutcome::Fresh);
        assert_eq!(cache.check_and_insert("a", "bc", 100, 0), NonceOutcome::Fresh);
    }

    #[test]
    fn zero_capacity_refuses_everything() {
        let cache = NonceCache::new(0);
        assert_eq!(cache.check_and_insert("k", "a", 100, 0), NonceOutcome::Full);
    }

    #[test]
    fn same_expiry_entries_are_distinct() {
        let cache = NonceCache::new(100);
        for i in 0..50 {
            assert_eq!(cache.check_and_insert("k", &i.to_string(), 10, 0), NonceOutcome::Fresh);
        }
        assert_eq!(cache.len(), 50);
        assert_eq!(cache.check_and_insert("k", "x", 20, 10), NonceOutcome::Fresh);
        assert_eq!(cache.len(), 1);
    }
}
