//! The replay cache in the database: a nonce seen by any replica is refused by every other until
//! it expires. [`PgStore`] is the router's [`ReplayCache`] when the service runs on PostgreSQL.

use std::sync::atomic::Ordering;

use alibaba_rpc_runtime::server::{NonceOutcome, ReplayCache, ReplayCacheError};

use super::{PgStore, pg};
use crate::store::StoreError;

/// Every this many calls of [`PgStore::remember_nonce`] a replica also deletes expired entries.
const PURGE_EVERY: u64 = 256;

/// Remembers the nonce unless it is remembered and unexpired: one statement, so two replicas
/// racing with the same nonce get one `Fresh` and one `Used`.
const REMEMBER: &str = "INSERT INTO nonces AS n (access_key_id, nonce, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE n.expires_at <= $4 \
     RETURNING 1";

impl PgStore {
    /// Remembers `nonce` of `access_key_id` until `expires_unix` (Unix seconds) unless it is
    /// already remembered with an expiry after `now_unix`: insert-or-refresh-if-expired in one
    /// statement: [`NonceOutcome::Fresh`] or [`NonceOutcome::Used`] (never `Full`: the table has no
    /// capacity limit). Every [`PURGE_EVERY`] calls, expired entries are deleted too.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (the request should be
    /// refused as `ServiceUnavailable`: a nonce that cannot be checked is not accepted).
    pub async fn remember_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_unix: i64,
        now_unix: i64,
    ) -> Result<NonceOutcome, StoreError> {
        let purge = self.nonce_calls.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1;
        let (key, nonce) = (access_key_id.to_owned(), nonce.to_owned());
        let outcome = self
            .call("remembering a nonce", |client| async move {
                let statement = client.prepare_cached(REMEMBER).await.map_err(pg("preparing the nonce insert"))?;
                let row = client
                    .query_opt(&statement, &[&key, &nonce, &expires_unix, &now_unix])
                    .await
                    .map_err(pg("remembering a nonce"))?;
                Ok::<_, StoreError>(if row.is_some() { NonceOutcome::Fresh } else { NonceOutcome::Used })
            })
            .await?;
        if purge {
            // Housekeeping only: the nonce is remembered either way, so a failed purge must not
            // refuse the request (the next purge catches up).
            if let Err(error) = self.purge_expired_nonces(now_unix).await {
                tracing::warn!(error = %error, "deleting expired nonces failed; retried later");
            }
        }
        Ok(outcome)
    }

    /// Deletes the nonce entries expired at `now_unix`; how many.
    ///
    /// # Errors
    /// When the database fails or cannot be reached.
    pub async fn purge_expired_nonces(&self, now_unix: i64) -> Result<u64, StoreError> {
        self.call("deleting expired nonces", |client| async move {
            client
                .execute("DELETE FROM nonces WHERE expires_at <= $1", &[&now_unix])
                .await
                .map_err(pg("deleting expired nonces"))
        })
        .await
    }
}

/// The router asks the database: replicas on one database refuse a nonce used at any of them. A
/// database that cannot be reached answers [`ReplayCacheError`], which the router turns into
/// `ServiceUnavailable` (a nonce that cannot be checked is not accepted). The table has no
/// capacity limit, so the answer is never [`NonceOutcome::Full`].
impl ReplayCache for PgStore {
    async fn check_and_remember(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_unix: i64,
        now_unix: i64,
    ) -> Result<NonceOutcome, ReplayCacheError> {
        self.remember_nonce(access_key_id, nonce, expires_unix, now_unix)
            .await
            .map_err(|error| ReplayCacheError::with_source("the nonce table cannot be reached", error))
    }
}
