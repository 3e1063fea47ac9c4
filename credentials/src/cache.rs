//! Temporary credentials, cached and refreshed before they expire, one refresh at a time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use alibaba_rpc_runtime::client::{Credentials, CredentialsError};
use time::OffsetDateTime;
use tokio::sync::{Mutex, RwLock};

/// Credentials are refreshed when less than this is left before they expire (the official SDKs
/// use 3 minutes).
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(180);

/// Credentials and when they stop working.
#[derive(Clone, Debug)]
pub(crate) struct Expiring {
    pub(crate) credentials: Credentials,
    pub(crate) expires_at: OffsetDateTime,
}

impl Expiring {
    fn fresh(&self, now: OffsetDateTime) -> bool {
        self.expires_at - now > REFRESH_BEFORE_EXPIRY
    }

    fn usable(&self, now: OffsetDateTime) -> bool {
        self.expires_at > now
    }
}

/// The future a [`Fetch`] returns.
pub(crate) type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Expiring, CredentialsError>> + Send + 'a>>;

/// Gets new temporary credentials (from STS, the metadata service).
pub(crate) trait Fetch: Send + Sync + fmt::Debug + 'static {
    fn fetch(&self) -> FetchFuture<'_>;
}

/// The cache in front of a [`Fetch`]: readers share the cached value while it is fresh; when it is
/// not, one caller refreshes under a lock while the others wait for its result (so concurrent
/// callers cause one fetch, not one each). When a refresh fails while the cached credentials have
/// not expired yet, those are still answered (and the next call tries again).
pub(crate) struct Refreshing<F> {
    fetch: F,
    cached: RwLock<Option<Expiring>>,
    refresh: Mutex<()>,
}

impl<F: Fetch> Refreshing<F> {
    pub(crate) fn new(fetch: F) -> Self {
        Refreshing { fetch, cached: RwLock::new(None), refresh: Mutex::new(()) }
    }

    pub(crate) fn into_inner(self) -> F {
        self.fetch
    }

    pub(crate) fn inner(&self) -> &F {
        &self.fetch
    }

    /// Credentials valid now: cached, or freshly fetched.
    pub(crate) async fn get(&self) -> Result<Credentials, CredentialsError> {
        if let Some(c) = self.fresh().await {
            return Ok(c);
        }
        let _one_at_a_time = self.refresh.lock().await;
        // Whoever held the lock before may have refreshed already.
        if let Some(c) = self.fresh().await {
            return Ok(c);
        }
        match self.fetch.fetch().await {
            Ok(new) => {
                tracing::debug!(source = ?self.fetch, expires_at = %new.expires_at, "temporary credentials refreshed");
                let credentials = new.credentials.clone();
                *self.cached.write().await = Some(new);
                Ok(credentials)
            }
            Err(e) => {
                let now = OffsetDateTime::now_utc();
                match self.cached.read().await.as_ref() {
                    Some(old) if old.usable(now) => {
                        tracing::warn!(error = %e, expires_at = %old.expires_at, "refresh failed; using the credentials that have not expired yet");
                        Ok(old.credentials.clone())
                    }
                    _ => Err(e),
                }
            }
        }
    }

    async fn fresh(&self) -> Option<Credentials> {
        let now = OffsetDateTime::now_utc();
        self.cached.read().await.as_ref().filter(|c| c.fresh(now)).map(|c| c.credentials.clone())
    }
}

impl<F: fmt::Debug> fmt::Debug for Refreshing<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cached credentials are not shown (their Debug would be safe, but says nothing useful).
        f.debug_struct("Refreshing").field("source", &self.fetch).finish_non_exhaustive()
    }
}

/// Parses an `Expiration` as STS and the metadata service write it (`2015-04-09T11:52:19Z`).
pub(crate) fn parse_expiration(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).ok()
}
