//! Group commit of Creates. Every Create of an instance locks the instance's row until it
//! commits, and a commit waits for its WAL flush, so one transaction per Create serialises the
//! Creates of an instance on one `fsync` each. Here the Creates of this process that are waiting
//! at the same time are committed together: one writer task takes every queued Create (up to
//! [`MAX_BATCH`]), runs them in one transaction (a refused Create writes nothing, so one caller's
//! refusal does not touch the others: [`super::write::create_many`]), and answers each caller after the commit
//! that holds its user, as the SQLite store's writer does.
//!
//! The task is started by the first Create and again by a Create after it stopped (its runtime
//! shut down); a caller that gives up (its request timed out) leaves its Create to the task,
//! which still answers the others. A batch locks its instances in one global order (by region,
//! then instance), so batches of different replicas never deadlock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

use super::write;
use crate::store::{CreateUserError, NewUser, StoreError, UserRecord, WriterStats};

/// The most Creates one transaction holds.
pub(super) const MAX_BATCH: usize = 64;

/// One Create waiting for the writer.
struct Pending {
    user: NewUser,
    reply: oneshot::Sender<Result<UserRecord, CreateUserError>>,
}

/// What the writer needs of the store: its pool and the bound of one call.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) pool: Pool,
    pub(super) call_timeout: std::time::Duration,
}

/// The queue of Creates and its writer task, shared by the clones of one store.
pub(super) struct Group {
    target: Target,
    sender: Mutex<Option<mpsc::UnboundedSender<Pending>>>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    submitted: AtomicU64,
    committed: AtomicU64,
    transactions: AtomicU64,
}

impl Group {
    /// No writer yet (the first Create starts it); its batches run on `target`.
    pub(super) fn new(target: Target) -> Group {
        Group { target, sender: Mutex::new(None), counters: Arc::default() }
    }

    /// Creates `user` in the next batch of the writer (started on this runtime if it is not
    /// running) and waits for its answer.
    pub(super) async fn create(&self, user: NewUser) -> Result<UserRecord, CreateUserError> {
        let (reply, answer) = oneshot::channel();
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        self.enqueue(Pending { user, reply })?;
        answer.await.unwrap_or(Err(CreateUserError::Store(StoreError::WriterGone)))
    }

    fn enqueue(&self, pending: Pending) -> Result<(), StoreError> {
        let mut sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = match sender.as_ref() {
            Some(running) => match running.send(pending) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(pending)) => pending,
            },
            None => pending,
        };
        // No writer, or it stopped with the runtime it ran on: start one here.
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StoreError::WriterGone)?;
        let (new_sender, jobs) = mpsc::unbounded_channel();
        runtime.spawn(run(self.target.clone(), jobs, Arc::clone(&self.counters)));
        new_sender.send(pending).map_err(|_| StoreError::WriterGone)?;
        *sender = Some(new_sender);
        Ok(())
    }

    /// What the writer has done so far.
    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            submitted: self.counters.submitted.load(Ordering::Relaxed),
            committed: self.counters.committed.load(Ordering::Relaxed),
            transactions: self.counters.transactions.load(Ordering::Relaxed),
        }
    }
}

/// The writer: until every sender is gone, take the waiting Creates and commit them together.
async fn run(target: Target, mut jobs: mpsc::UnboundedReceiver<Pending>, counters: Arc<Counters>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            let Ok(next) = jobs.try_recv() else { break };
            batch.push(next);
        }
        commit(&target, batch, &counters).await;
    }
}

/// Runs `batch` in one transaction and answers each caller.
async fn commit(target: &Target, batch: Vec<Pending>, counters: &Counters) {
    let (users, replies): (Vec<NewUser>, Vec<_>) = batch.into_iter().map(|p| (p.user, p.reply)).unzip();
    let outcome = super::call(&target.pool, target.call_timeout, "creating users", |mut client| async move {
        write::create_many(&mut client, users).await
    })
    .await;
    match outcome {
        Ok(results) => {
            counters.transactions.fetch_add(1, Ordering::Relaxed);
            counters.committed.fetch_add(results.len() as u64, Ordering::Relaxed);
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(error) => {
            // Every Create of the batch failed with its transaction: each caller gets the error.
            let error = Arc::new(error);
            for reply in replies {
                let _ = reply.send(Err(CreateUserError::Store(StoreError::Shared(Arc::clone(&error)))));
            }
        }
    }
}
