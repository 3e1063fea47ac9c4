//! The replay cache: the memory of nonces seen, behind a trait so that several servers (replicas)
//! can share one, e.g. in a database.
//!
//! The router checks a request's nonce last, once everything else about it (shape, key, date,
//! token, payload, signature) has been verified, so a forged request never occupies the cache.
//! By default each router keeps its own bounded [`MemoryReplayCache`]; a [`ReplayCache`]
//! installed with [`ServerConfigBuilder::replay_cache`](super::ServerConfigBuilder::replay_cache)
//! replaces it.

use std::collections::{BTreeMap, HashSet};
use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, ready};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

/// What a [`ReplayCache`] found for one nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NonceOutcome {
    /// Not seen before (or its earlier use has expired); now remembered until its expiry. The
    /// request proceeds.
    Fresh,
    /// Seen before and still remembered: a replay, refused with the protocol's
    /// `signature_nonce_used` (`SignatureNonceUsed`).
    Used,
    /// The cache cannot take another live nonce: the request is refused with the protocol's
    /// `throttling` (a cache must never forget a live nonce to make room).
    Full,
}

/// A replay cache could not answer (its database is unreachable, a query failed, …). The router
/// answers the protocol's `request_timeout` error (`ServiceUnavailable`, HTTP 503, retryable)
/// and logs this error and its source at warn level: neither may hold a secret (name the table or
/// the host, never a connection string with its password).
#[derive(Debug, thiserror::Error)]
#[error("the replay cache is unavailable: {message}")]
pub struct ReplayCacheError {
    message: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl ReplayCacheError {
    /// An error saying what failed, e.g. `"the nonce table could not be written"`.
    pub fn new(message: impl Into<String>) -> ReplayCacheError {
        ReplayCacheError { message: message.into(), source: None }
    }

    /// An error saying what failed, caused by `source` (e.g. the database driver's error).
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> ReplayCacheError {
        ReplayCacheError { message: message.into(), source: Some(source.into()) }
    }

    /// What failed, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Where a server remembers the nonces of authenticated requests, to refuse a replay.
///
/// [`check_and_remember`](ReplayCache::check_and_remember) is called once per authenticated,
/// signed request, after every other check passed, with the verified AccessKeyId, the request's
/// nonce (at most 128 bytes), the unix second until which it must be remembered, and the
/// current unix second. It must atomically remember the pair unless it is remembered already
/// with an expiry after `now_unix` — with several servers sharing one cache, exactly one of two
/// concurrent calls with the same pair may answer [`NonceOutcome::Fresh`]. Entries whose expiry
/// is at or before `now_unix` may be forgotten (the date window refuses such a replay by then).
///
/// The default is a [`MemoryReplayCache`] per router. A call is bounded by the request timeout
/// (a cache that hangs makes the request answer `ServiceUnavailable` at the deadline); a
/// [`ReplayCacheError`] is answered `ServiceUnavailable` at once.
///
/// # Example: one cache shared by two routers
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use alibaba_rpc_runtime::server::{NonceOutcome, ReplayCache, ReplayCacheError};
///
/// /// Stands in for a table `(access_key_id, nonce) → expires` in a database every replica uses.
/// #[derive(Default)]
/// struct SharedTable {
///     rows: Mutex<HashMap<(String, String), i64>>,
/// }
///
/// impl ReplayCache for SharedTable {
///     async fn check_and_remember(
///         &self,
///         access_key_id: &str,
///         nonce: &str,
///         expires_unix: i64,
///         now_unix: i64,
///     ) -> Result<NonceOutcome, ReplayCacheError> {
///         // A real implementation awaits its database here, e.g.
///         // `INSERT … ON CONFLICT (key, nonce) DO UPDATE SET expires = $3 WHERE nonces.expires <= $4`
///         // and maps a driver error to `ReplayCacheError::with_source`.
///         let mut rows = self.rows.lock().map_err(|_| ReplayCacheError::new("the table lock is poisoned"))?;
///         rows.retain(|_, expires| *expires > now_unix);
///         let key = (access_key_id.to_owned(), nonce.to_owned());
///         if rows.contains_key(&key) {
///             return Ok(NonceOutcome::Used);
///         }
///         rows.insert(key, expires_unix);
///         Ok(NonceOutcome::Fresh)
///     }
/// }
///
/// # use alibaba_rpc_runtime::operation::ServiceInfo;
/// # use alibaba_rpc_runtime::server::{Authentication, ServerConfig};
/// # static SERVICE: ServiceInfo =
/// #     ServiceInfo { product: "Ecs", version: "2014-05-26", endpoint_pattern: "https://ecs.{region}.aliyuncs.com" };
/// let table = Arc::new(SharedTable::default());
/// let keys = HashMap::from([("testid".to_owned(), "testsecret".to_owned())]);
/// // Each replica's configuration holds the same table: a nonce used at one is refused at the other.
/// let replica = |table: Arc<SharedTable>| {
///     ServerConfig::builder(&SERVICE)
///         .authentication(Authentication::signature(keys.clone()))
///         .replay_cache(table)
///         .build()
/// };
/// let (first, second) = (replica(Arc::clone(&table)), replica(table));
/// assert!(first.has_custom_replay_cache() && second.has_custom_replay_cache());
/// ```
pub trait ReplayCache: Send + Sync + 'static {
    /// Remembers `nonce` of `access_key_id` until `expires_unix` unless it is remembered already
    /// (then [`NonceOutcome::Used`]) or the cache is full of live nonces
    /// ([`NonceOutcome::Full`]); see the trait's documentation for the contract.
    fn check_and_remember(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_unix: i64,
        now_unix: i64,
    ) -> impl Future<Output = Result<NonceOutcome, ReplayCacheError>> + Send;
}

impl<T: ReplayCache> ReplayCache for Arc<T> {
    fn check_and_remember(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_unix: i64,
        now_unix: i64,
    ) -> impl Future<Output = Result<NonceOutcome, ReplayCacheError>> + Send {
        (**self).check_and_remember(access_key_id, nonce, expires_unix, now_unix)
    }
}

/// The future of an installed cache's answer, boxed so that the cache can be held as a trait
/// object.
pub(crate) type BoxedCheck = Pin<Box<dyn Future<Output = Result<NonceOutcome, ReplayCacheError>> + Send>>;

/// The object-safe form of [`ReplayCache`], implemented for every one: the cache's answer as a
/// future that owns what it asks about.
trait DynReplayCache: Send + Sync {
    fn check_and_remember_owned(
        self: Arc<Self>,
        access_key_id: String,
        nonce: String,
        expires: i64,
        now: i64,
    ) -> BoxedCheck;
}

impl<T: ReplayCache> DynReplayCache for T {
    fn check_and_remember_owned(
        self: Arc<Self>,
        access_key_id: String,
        nonce: String,
        expires: i64,
        now: i64,
    ) -> BoxedCheck {
        Box::pin(async move { self.check_and_remember(&access_key_id, &nonce, expires, now).await })
    }
}

/// A [`ReplayCache`] installed in a [`ServerConfig`](super::ServerConfig), shared by every
/// router built from it.
#[derive(Clone)]
pub(crate) struct CustomReplayCache(Arc<dyn DynReplayCache>);

impl CustomReplayCache {
    pub(crate) fn new(cache: impl ReplayCache) -> CustomReplayCache {
        CustomReplayCache(Arc::new(cache))
    }
}

impl fmt::Debug for CustomReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomReplayCache")
    }
}

/// The replay cache one router uses: its own memory (the default, called directly, no future
/// boxed), or an installed one.
pub(crate) enum Replay {
    /// The router's own [`MemoryReplayCache`].
    Memory(MemoryReplayCache),
    /// A cache installed with `ServerConfigBuilder::replay_cache`.
    Custom(CustomReplayCache),
}

/// What [`Replay::check_and_remember`] answers: the router's own memory answers at once; an
/// installed cache's answer is awaited.
pub(crate) enum Checked {
    /// The answer.
    Ready(Result<NonceOutcome, ReplayCacheError>),
    /// The installed cache's future answer (owning the key and nonce it asks about, so that the
    /// request it came from need not be kept while it is awaited).
    Pending(BoxedCheck),
}

impl Replay {
    /// See [`ReplayCache::check_and_remember`]: the memory's answer, or the installed cache's
    /// future (so the common case, the router's own memory, is a plain call).
    pub(crate) fn check_and_remember(&self, access_key_id: &str, nonce: &str, expires: i64, now: i64) -> Checked {
        match self {
            Replay::Memory(memory) => Checked::Ready(Ok(memory.check_and_insert(access_key_id, nonce, expires, now))),
            Replay::Custom(CustomReplayCache(cache)) => Checked::Pending(Arc::clone(cache).check_and_remember_owned(
                access_key_id.to_owned(),
                nonce.to_owned(),
                expires,
                now,
            )),
        }
    }

    /// The memory's capacity, `None` for an installed cache (for the log of a full cache).
    pub(crate) fn capacity(&self) -> Option<usize> {
        match self {
            Replay::Memory(memory) => Some(memory.capacity()),
            Replay::Custom(_) => None,
        }
    }
}

/// The default [`ReplayCache`]: nonces per `(AccessKeyId, SignatureNonce)` in this process's
/// memory, each kept until its expiry, expired ones evicted, at most `capacity` live ones at once
/// (beyond that it answers [`NonceOutcome::Full`]: it fails closed, never forgetting a live
/// nonce).
///
/// A router without an installed cache keeps its own, of
/// [`ServerConfig::nonce_capacity`](super::ServerConfig::nonce_capacity). Install one
/// (`Arc<MemoryReplayCache>`) with
/// [`ServerConfigBuilder::replay_cache`](super::ServerConfigBuilder::replay_cache) to share it
/// between routers of one process.
///
/// ```
/// use alibaba_rpc_runtime::server::{MemoryReplayCache, NonceOutcome};
///
/// let cache = MemoryReplayCache::new(2);
/// assert_eq!(cache.check_and_insert("key", "n1", 100, 0), NonceOutcome::Fresh);
/// assert_eq!(cache.check_and_insert("key", "n1", 100, 50), NonceOutcome::Used);
/// assert_eq!(cache.check_and_insert("key", "n2", 100, 50), NonceOutcome::Fresh);
/// assert_eq!(cache.check_and_insert("key", "n3", 100, 50), NonceOutcome::Full);
/// // At its expiry a nonce is forgotten.
/// assert_eq!(cache.check_and_insert("key", "n3", 200, 100), NonceOutcome::Fresh);
/// ```
#[derive(Debug)]
pub struct MemoryReplayCache {
    capacity: usize,
    /// The keys of the fingerprints: random per cache, so that no one can choose two nonces
    /// whose fingerprints collide.
    keys: [RandomState; 2],
    inner: Mutex<Inner>,
}

/// The live nonces, as fingerprints (see [`MemoryReplayCache::fingerprint`]): no allocation per
/// nonce, and about 40 bytes of memory each.
#[derive(Debug, Default)]
struct Inner {
    /// The live fingerprints.
    entries: HashSet<u128, BuildFingerprintHasher>,
    /// The fingerprints by expiry (unix seconds), for eviction in expiry order: one list per
    /// distinct second, so remembering a nonce appends to the list of its second.
    by_expiry: BTreeMap<i64, Vec<u128>>,
}

impl Inner {
    /// Forgets every entry whose expiry is at or before `now`.
    fn evict_expired(&mut self, now: i64) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if *entry.key() > now {
                break;
            }
            for fingerprint in entry.remove() {
                self.entries.remove(&fingerprint);
            }
        }
    }
}

/// Hashes a fingerprint, already uniformly random, by taking its low 64 bits.
#[derive(Debug, Default, Clone, Copy)]
struct BuildFingerprintHasher;

/// The hasher of [`BuildFingerprintHasher`].
#[derive(Debug)]
struct FingerprintHasher(u64);

impl BuildHasher for BuildFingerprintHasher {
    type Hasher = FingerprintHasher;

    fn build_hasher(&self) -> FingerprintHasher {
        FingerprintHasher(0)
    }
}

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // The set only hashes `u128`s (`write_u128`); other input is folded in all the same.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, value: u128) {
        // Truncation intended: the low half of a uniformly random value.
        self.0 = value as u64;
    }
}

impl MemoryReplayCache {
    /// An empty cache holding at most `capacity` live nonces.
    pub fn new(capacity: usize) -> MemoryReplayCache {
        MemoryReplayCache { capacity, keys: [RandomState::new(), RandomState::new()], inner: Mutex::default() }
    }

    /// The most live nonces held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many nonces are remembered (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).entries.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remembers `nonce` of `access_key_id` until `expires` (unix seconds) unless it is live
    /// already (a replay) or the cache is full of live nonces, evicting expired ones first.
    /// The synchronous form of [`ReplayCache::check_and_remember`].
    pub fn check_and_insert(&self, access_key_id: &str, nonce: &str, expires: i64, now: i64) -> NonceOutcome {
        let fingerprint = self.fingerprint(access_key_id, nonce);
        // The map stays consistent even if a holder panicked mid-way (every mutation is
        // completed before anything can panic), so a poisoned lock is still usable.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.evict_expired(now);
        if inner.entries.contains(&fingerprint) {
            return NonceOutcome::Used;
        }
        if inner.entries.len() >= self.capacity {
            return NonceOutcome::Full;
        }
        inner.entries.insert(fingerprint);
        inner.by_expiry.entry(expires).or_default().push(fingerprint);
        NonceOutcome::Fresh
    }

    /// The 128-bit fingerprint of `(access_key_id, nonce)`: two independently keyed SipHash
    /// values of the pair (led by the key id's length, so the pair is unambiguous). A fresh
    /// nonce is mistaken for a replay only if its fingerprint equals a live one's: with a million
    /// live nonces, a probability of 10^6 / 2^128 (below 10^-32) per request. The keys are random
    /// per cache, so no one can choose nonces to collide.
    fn fingerprint(&self, access_key_id: &str, nonce: &str) -> u128 {
        let [high, low] = &self.keys;
        let pair = (access_key_id.len(), access_key_id, nonce);
        (u128::from(high.hash_one(pair)) << 64) | u128::from(low.hash_one(pair))
    }
}

impl ReplayCache for MemoryReplayCache {
    fn check_and_remember(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_unix: i64,
        now_unix: i64,
    ) -> impl Future<Output = Result<NonceOutcome, ReplayCacheError>> + Send {
        ready(Ok(self.check_and_insert(access_key_id, nonce, expires_unix, now_unix)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_are_refused_until_expiry() {
        let cache = MemoryReplayCache::new(10);
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
        let cache = MemoryReplayCache::new(3);
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
        let cache = MemoryReplayCache::new(10);
        assert_eq!(cache.check_and_insert("ab", "c", 100, 0), NonceOutcome::Fresh);
        assert_eq!(cache.check_and_insert("a", "bc", 100, 0), NonceOutcome::Fresh);
    }

    #[test]
    fn fingerprints_are_keyed_per_cache() {
        let (one, two) = (MemoryReplayCache::new(1), MemoryReplayCache::new(1));
        assert_eq!(one.fingerprint("k", "n"), one.fingerprint("k", "n"));
        assert_ne!(one.fingerprint("k", "n"), two.fingerprint("k", "n"));
        assert_ne!(one.fingerprint("k", "n"), one.fingerprint("k", "m"));
        assert_ne!(one.fingerprint("kn", ""), one.fingerprint("k", "n"));
    }

    #[test]
    fn eviction_walks_the_seconds_in_order() {
        let cache = MemoryReplayCache::new(1000);
        for second in [30, 10, 20, 10, 30] {
            for i in 0..100 {
                let nonce = format!("{second}-{i}-{}", cache.len());
                assert_eq!(cache.check_and_insert("k", &nonce, second, 0), NonceOutcome::Fresh);
            }
        }
        assert_eq!(cache.len(), 500);
        assert_eq!(cache.check_and_insert("k", "late", 40, 10), NonceOutcome::Fresh);
        assert_eq!(cache.len(), 301);
        assert_eq!(cache.check_and_insert("k", "later", 40, 25), NonceOutcome::Fresh);
        assert_eq!(cache.len(), 202);
        assert_eq!(cache.check_and_insert("k", "late", 40, 30), NonceOutcome::Used);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn zero_capacity_refuses_everything() {
        let cache = MemoryReplayCache::new(0);
        assert_eq!(cache.check_and_insert("k", "a", 100, 0), NonceOutcome::Full);
    }

    #[test]
    fn same_expiry_entries_are_distinct() {
        let cache = MemoryReplayCache::new(100);
        for i in 0..50 {
            assert_eq!(cache.check_and_insert("k", &i.to_string(), 10, 0), NonceOutcome::Fresh);
        }
        assert_eq!(cache.len(), 50);
        assert_eq!(cache.check_and_insert("k", "x", 20, 10), NonceOutcome::Fresh);
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn the_memory_through_the_trait_and_as_installed() {
        let shared = Arc::new(MemoryReplayCache::new(10));
        assert_eq!(shared.check_and_remember("k", "n", 100, 0).await.ok(), Some(NonceOutcome::Fresh));
        let installed = Replay::Custom(CustomReplayCache::new(Arc::clone(&shared)));
        let Checked::Pending(answer) = installed.check_and_remember("k", "n", 100, 1) else {
            panic!("an installed cache is asked through its future");
        };
        assert_eq!(answer.await.ok(), Some(NonceOutcome::Used));
        assert_eq!(installed.capacity(), None);
        let own = Replay::Memory(MemoryReplayCache::new(1));
        let Checked::Ready(answer) = own.check_and_remember("k", "n", 100, 1) else {
            panic!("the router's own memory answers at once");
        };
        assert_eq!(answer.ok(), Some(NonceOutcome::Fresh));
        assert_eq!(own.capacity(), Some(1));
    }
}
