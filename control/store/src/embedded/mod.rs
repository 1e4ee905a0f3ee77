//! The embedded store: the NB database in one local file, with etcd's semantics.
//!
//! Why: on a single host `dfswitchd` should not need an etcd cluster, but the controller
//! must not care which store it follows. So this store keeps etcd's model (global
//! revision, per-key create/mod revision and version, compare-and-swap, watches from a
//! revision, compaction, leases) on top of a `redb` file (see `db` for the layout).
//!
//! What happens where:
//! - every write is one redb write transaction, committed with fsync before `put`
//!   returns (a returned revision survives a crash or power loss);
//! - each revision's events are appended to a history table, trimmed to the last
//!   [`EmbeddedOptions::history_limit`] revisions (older ones read as `Compacted`);
//! - a watch is a task that *pulls* from that history: it sleeps on a revision signal
//!   (`tokio::sync::watch`), reads the new revisions in a read transaction and sends one
//!   batch to its channel. A slow reader only slows its own task; if it falls behind
//!   the history window it gets `Compacted`, as an etcd watcher would;
//! - lease deadlines live in memory (TTLs in the file); a tokio task revokes expired
//!   leases, deleting their keys in one revision. On reopen every lease gets a full TTL
//!   again, as etcd does after a leader change.
//!
//! # Thread-safety
//! [`EmbeddedStore`] is `Send + Sync`; share it as `Arc<dyn Store>`. Writers: any task
//! calling a write method; redb admits one write transaction at a time, so writes are
//! serialized and revisions are assigned in commit order. Readers (`get`, `list`,
//! watch tasks) use MVCC read transactions that see one committed state and never block
//! writers. All redb calls run on tokio's blocking pool, never on a runtime worker.
//! The revision signal is raised inside that blocking call right after the commit
//! (keeping the maximum, so out-of-order signals cannot move it back), so a write
//! cancelled by its caller still wakes the watchers. The lease clock map is a
//! `std::sync::Mutex` held for map operations only, never across an await or a
//! transaction. Reclamation: background tasks hold a `Weak` to the store, so dropping
//! the last `EmbeddedStore` closes the file (and releases its lock) at once; watches
//! then end with `Unavailable`.

mod codec;
mod db;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::{
    Expect, KeyValue, LeaseId, Revision, Status, Store, StoreError, WatchBatch, WatchStream,
};
use db::Db;

/// How many revisions a watch task reads from the file per transaction.
const REVISIONS_PER_READ: i64 = 1024;

/// Tuning of the embedded store.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Number of most recent revisions whose events are kept for watches (default
    /// 100 000). A watch from an older revision yields `Compacted`.
    pub history_limit: i64,
    /// How often the lease task looks for expired leases (default 200 ms).
    pub lease_check_interval: Duration,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            history_limit: 100_000,
            lease_check_interval: Duration::from_millis(200),
        }
    }
}

/// The NB store in one `redb` file: etcd's semantics, durable on return, one process
/// per file.
///
/// # Thread-safety
/// `Send + Sync`; call any method from any task concurrently. Writes are serialized by
/// redb's single write transaction (revisions follow commit order); reads and watch
/// tasks use MVCC snapshots and never block writes. File I/O runs on tokio's blocking
/// pool. Background tasks hold only a `Weak` reference: dropping the store closes the
/// file and ends its watches with `Unavailable`. Details in the module docs.
#[derive(Debug)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    /// Latest committed revision, raised after every commit; watch tasks sleep on it.
    revision: watch::Sender<Revision>,
    leases: Arc<Mutex<HashMap<LeaseId, LeaseClock>>>,
}

#[derive(Debug, Clone, Copy)]
struct LeaseClock {
    ttl: Duration,
    deadline: Instant,
}

impl Inner {
    fn committed(&self, revision: Revision) {
        self.revision.send_if_modified(|r| {
            let newer = revision > *r;
            if newer {
                *r = revision;
            }
            newer
        });
    }

    fn lock_leases(&self) -> std::sync::MutexGuard<'_, HashMap<LeaseId, LeaseClock>> {
        lock(&self.leases)
    }
}

/// The lease map holds plain data, so a panic while it was held cannot leave it
/// inconsistent: recover from poisoning instead of propagating it.
fn lock(
    m: &Mutex<HashMap<LeaseId, LeaseClock>>,
) -> std::sync::MutexGuard<'_, HashMap<LeaseId, LeaseClock>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl EmbeddedStore {
    /// Opens the store in `path`, creating the file if it does not exist, and starts its
    /// lease task on the current tokio runtime.
    ///
    /// # Errors
    /// `Locked` if another process (or another `EmbeddedStore` in this one) has the file
    /// open; `Corrupt` if it is not an NB store file or is damaged; `Io` otherwise.
    ///
    /// # Panics
    /// If called outside a tokio runtime.
    pub async fn open(
        path: impl AsRef<Path>,
        options: EmbeddedOptions,
    ) -> Result<EmbeddedStore, StoreError> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let limit = options.history_limit;
        let (db, leases, revision) = run_blocking(&shown, move || {
            let db = Db::open(&path, limit)?;
            let leases = db.leases()?;
            let (revision, _) = db.revisions()?;
            Ok((db, leases, revision))
        })
        .await?;
        let now = Instant::now();
        let clocks = leases
            .into_iter()
            .map(|(id, ttl)| {
                let ttl = Duration::from_secs(u64::try_from(ttl).unwrap_or(1));
                (
                    id,
                    LeaseClock {
                        ttl,
                        deadline: now + ttl,
                    },
                )
            })
            .collect();
        let inner = Arc::new(Inner {
            db,
            revision: watch::Sender::new(revision),
            leases: Arc::new(Mutex::new(clocks)),
        });
        tokio::spawn(expire_leases(
            Arc::downgrade(&inner),
            options.lease_check_interval,
        ));
        Ok(EmbeddedStore { inner })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &str {
        self.inner.db.path()
    }

    /// How many revisions of history the file holds now.
    ///
    /// # Errors
    /// `Io`/`Corrupt` on a storage failure.
    pub async fn history_len(&self) -> Result<u64, StoreError> {
        self.blocking(|inner| inner.db.history_len()).await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        run_blocking(self.path(), move || f(&inner)).await
    }
}

async fn run_blocking<T: Send + 'static>(
    path: &str,
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(StoreError::Io {
            path: path.to_string(),
            reason: format!("store operation failed: {e}"),
        }),
    }
}

#[async_trait::async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        let key = key.to_string();
        self.blocking(move |inner| inner.db.get(&key)).await
    }

    async fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, Revision), StoreError> {
        let prefix = prefix.to_string();
        self.blocking(move |inner| inner.db.list(&prefix)).await
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expect: Expect,
        lease: Option<LeaseId>,
    ) -> Result<Revision, StoreError> {
        let (key, value) = (key.to_string(), value.to_vec());
        self.blocking(move |inner| {
            let revision = inner.db.put(&key, &value, expect, lease)?;
            inner.committed(revision);
            Ok(revision)
        })
        .await
    }

    async fn delete(&self, key: &str, expect: Expect) -> Result<Option<Revision>, StoreError> {
        let key = key.to_string();
        self.blocking(move |inner| {
            let revision = inner.db.delete(&key, expect)?;
            if let Some(r) = revision {
                inner.committed(r);
            }
            Ok(revision)
        })
        .await
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError> {
        let from = if from <= 0 {
            self.blocking(|inner| inner.db.revisions()).await?.0 + 1
        } else {
            from
        };
        let (tx, stream) = WatchStream::channel();
        let signal = self.inner.revision.subscribe();
        tokio::spawn(deliver(
            Arc::downgrade(&self.inner),
            self.path().to_string(),
            prefix.to_string(),
            from,
            tx,
            signal,
        ));
        Ok(stream)
    }

    async fn grant_lease(&self, ttl_secs: i64) -> Result<LeaseId, StoreError> {
        let ttl = u64::try_from(ttl_secs)
            .ok()
            .filter(|t| *t > 0)
            .ok_or_else(|| StoreError::InvalidArgument {
                reason: format!("lease TTL {ttl_secs} s must be at least 1 s"),
            })?;
        let id = self
            .blocking(move |inner| inner.db.grant_lease(ttl_secs))
            .await?;
        let ttl = Duration::from_secs(ttl);
        self.inner.lock_leases().insert(
            id,
            LeaseClock {
                ttl,
                deadline: Instant::now() + ttl,
            },
        );
        Ok(id)
    }

    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError> {
        match self.inner.lock_leases().get_mut(&lease) {
            Some(clock) => {
                clock.deadline = Instant::now() + clock.ttl;
                Ok(())
            }
            None => Err(StoreError::LeaseNotFound { lease: lease.0 }),
        }
    }

    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError> {
        self.inner.lock_leases().remove(&lease);
        self.blocking(move |inner| {
            if let Some(r) = inner.db.revoke_lease(lease)? {
                inner.committed(r);
            }
            Ok(())
        })
        .await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.blocking(move |inner| inner.db.compact(revision)).await
    }

    async fn status(&self) -> Result<Status, StoreError> {
        let (revision, compact_revision) = self.blocking(|inner| inner.db.revisions()).await?;
        Ok(Status {
            revision,
            compact_revision,
            backend: "embedded",
            endpoint: self.path().to_string(),
        })
    }
}

/// One watch: pulls `prefix`'s events from the history, from `next` on, into `tx`.
async fn deliver(
    store: Weak<Inner>,
    path: String,
    prefix: String,
    mut next: Revision,
    tx: mpsc::Sender<Result<WatchBatch, StoreError>>,
    mut signal: watch::Receiver<Revision>,
) {
    let closed = || StoreError::Unavailable {
        endpoint: path.clone(),
        reason: "the store was dropped".to_string(),
    };
    loop {
        let committed = *signal.borrow_and_update();
        if committed >= next {
            let Some(inner) = store.upgrade() else {
                let _ = tx.send(Err(closed())).await;
                return;
            };
            let p = prefix.clone();
            let read = run_blocking(&path, move || {
                inner.db.history(&p, next, REVISIONS_PER_READ)
            })
            .await;
            match read {
                Ok((batch, scanned)) => {
                    if let Some(batch) = batch {
                        if tx.send(Ok(batch)).await.is_err() {
                            return;
                        }
                    }
                    next = scanned + 1;
                    continue;
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        tokio::select! {
            changed = signal.changed() => {
                if changed.is_err() {
                    let _ = tx.send(Err(closed())).await;
                    return;
                }
            }
            () = tx.closed() => return,
        }
    }
}

/// Revokes leases whose deadline passed, until the store is dropped.
async fn expire_leases(store: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let Some(leases) = store.upgrade().map(|s| Arc::clone(&s.leases)) else {
        return;
    };
    loop {
        tick.tick().await;
        if store.strong_count() == 0 {
            return;
        }
        let now = Instant::now();
        let expired: Vec<(LeaseId, LeaseClock)> = {
            let mut map = lock(&leases);
            let ids: Vec<LeaseId> = map
                .iter()
                .filter(|(_, c)| c.deadline <= now)
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| map.remove(&id).map(|c| (id, c)))
                .collect()
        };
        for (id, clock) in expired {
            let Some(inner) = store.upgrade() else { return };
            let path = inner.db.path().to_string();
            let revoked = run_blocking(&path, move || {
                if let Some(r) = inner.db.revoke_lease(id)? {
                    inner.committed(r);
                }
                Ok(())
            })
            .await;
            // Revoked meanwhile: nothing left to do. A storage failure: try again in a
            // second, so the lease's keys do not outlive it.
            if let Err(e) = revoked {
                if !matches!(e, StoreError::LeaseNotFound { .. }) {
                    let retry = LeaseClock {
                        ttl: clock.ttl,
                        deadline: Instant::now() + Duration::from_secs(1),
                    };
                    lock(&leases).entry(id).or_insert(retry);
                }
            }
        }
    }
}
