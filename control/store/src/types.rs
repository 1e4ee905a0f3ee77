//! The data model every store speaks, and the [`Store`] trait.
//!
//! Why etcd's model: etcd is the multi-host store Dragonflow used, and its revision
//! model (one global counter; per key a create revision, a mod revision and a version;
//! watches resumable from a revision) is exactly what a controller needs to resume
//! after an outage without a full resync. The embedded store copies that model so the
//! controller is written once.

use tokio::sync::mpsc;

use crate::StoreError;

/// A store-wide revision: every successful write (put, delete, lease expiry) increases
/// it by one. An empty store is at revision 1 (as in etcd); the first write is revision 2.
pub type Revision = i64;

/// A lease: keys attached to it are deleted when it expires or is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeaseId(pub i64);

/// One key with its value and revision metadata (etcd's `mvccpb.KeyValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The full key, e.g. `/dragonflow/lport/<id>`.
    pub key: String,
    /// The value bytes (Dragonflow stores model JSON).
    pub value: Vec<u8>,
    /// Revision at which the key was last created.
    pub create_revision: Revision,
    /// Revision of the last write to the key.
    pub mod_revision: Revision,
    /// Number of writes since creation (1 after creation).
    pub version: i64,
    /// The lease the key is attached to, if any.
    pub lease: Option<LeaseId>,
}

/// The condition of a conditional write (compare-and-swap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Unconditional.
    Any,
    /// The key must not exist.
    Absent,
    /// The key's mod revision must be this one (`ModRevision(0)` behaves as `Absent`).
    ModRevision(Revision),
}

/// One change to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The key was created or updated; carries the key as written.
    Put(KeyValue),
    /// The key was deleted (explicitly or by lease expiry) at `mod_revision`.
    Delete {
        /// The deleted key.
        key: String,
        /// The revision of the deletion.
        mod_revision: Revision,
    },
}

impl Event {
    /// The key this event is about.
    pub fn key(&self) -> &str {
        match self {
            Event::Put(kv) => &kv.key,
            Event::Delete { key, .. } => key,
        }
    }

    /// The revision of this event.
    pub fn mod_revision(&self) -> Revision {
        match self {
            Event::Put(kv) => kv.mod_revision,
            Event::Delete { mod_revision, .. } => *mod_revision,
        }
    }
}

/// Events delivered together by a watch.
///
/// Never empty, and always holds *whole* revisions: the events of one revision are never
/// split across batches. `revision` is the revision of the last event; a watch resumed
/// from `revision + 1` misses nothing and repeats nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchBatch {
    /// The mod revision of the last event in `events`.
    pub revision: Revision,
    /// The events, in revision order.
    pub events: Vec<Event>,
}

/// What `status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The store's current revision.
    pub revision: Revision,
    /// The oldest revision a watch can start from (0 if nothing was ever compacted).
    pub compact_revision: Revision,
    /// `"embedded"` or `"etcd"`.
    pub backend: &'static str,
    /// The file path (embedded) or `host:port[,host:port]` (etcd).
    pub endpoint: String,
}

/// The receiving end of a watch.
///
/// Yields `Ok(batch)` in revision order. An `Err` is always the last item: after it the
/// stream ends (`None`). `Err(Compacted)` means the start revision (or the revision a slow
/// reader had reached) is gone: re-list and watch from the list revision + 1.
/// `Err(Unavailable)` means the connection was lost or the store closed: reconnect,
/// re-list, re-watch. Dropping the stream cancels the watch.
///
/// # Thread-safety
/// One reader: `next` takes `&mut self`. The store side is one task per watch, which
/// sends into a bounded channel (64 batches) and waits when it is full, so a slow reader
/// slows only its own watch.
#[derive(Debug)]
pub struct WatchStream {
    rx: mpsc::Receiver<Result<WatchBatch, StoreError>>,
}

impl WatchStream {
    /// Buffer between the store's delivery task and the reader, in batches. A reader that
    /// falls behind holds back its own delivery task only (and, for the embedded store,
    /// reads history from the file when it catches up).
    pub(crate) const CAPACITY: usize = 64;

    pub(crate) fn channel() -> (mpsc::Sender<Result<WatchBatch, StoreError>>, Self) {
        let (tx, rx) = mpsc::channel(Self::CAPACITY);
        (tx, WatchStream { rx })
    }

    /// The next batch, or `None` once the watch has ended (after an error, or when the
    /// store dropped the watch).
    pub async fn next(&mut self) -> Option<Result<WatchBatch, StoreError>> {
        self.rx.recv().await
    }

    /// A stream fed by `rx`: for wrappers that adapt another store's watch
    /// (a stream that ends with one `Err` then closes, as this type's own do).
    pub fn from_receiver(rx: mpsc::Receiver<Result<WatchBatch, StoreError>>) -> Self {
        WatchStream { rx }
    }

    /// The underlying channel, for `select!` loops that prefer a plain receiver.
    pub fn into_receiver(self) -> mpsc::Receiver<Result<WatchBatch, StoreError>> {
        self.rx
    }
}

/// A key-value store with etcd's revision semantics: the NB database of Dragonflow-RS.
///
/// Object-safe: the controller holds an `Arc<dyn Store>` from [`crate::open`].
/// All methods take `&self` and may be called concurrently from many tasks.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The key's current value, or `None` if absent.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; `Corrupt`/`Io` for the embedded file.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError>;

    /// Every key under `prefix` at one consistent revision (sorted by key), and that revision.
    ///
    /// # Errors
    /// As [`Store::get`]; for etcd also `Compacted` if a compaction overtook a paged list
    /// (retry it).
    async fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, Revision), StoreError>;

    /// Conditional write; returns the new mod revision of the key.
    ///
    /// # Errors
    /// `Conflict { key, current }` when `expect` does not hold; `LeaseNotFound` when
    /// `lease` is unknown; `InvalidArgument` for an empty key.
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expect: Expect,
        lease: Option<LeaseId>,
    ) -> Result<Revision, StoreError>;

    /// Conditional delete; `Ok(Some(revision))` if the key was deleted, `Ok(None)` if it
    /// was absent (with `Expect::Any` or `Expect::Absent`).
    ///
    /// # Errors
    /// `Conflict` when `expect` does not hold (`Absent` on a present key, `ModRevision` on
    /// a key with another revision or none).
    async fn delete(&self, key: &str, expect: Expect) -> Result<Option<Revision>, StoreError>;

    /// Events for keys under `prefix` with mod revision `>= from`, in revision order.
    /// `from <= 0` means "from the current revision + 1" (only new events).
    ///
    /// When this returns, the watch is established: every write that completes afterwards
    /// is delivered. See [`WatchStream`] for how it ends.
    ///
    /// # Errors
    /// `Unavailable` when the watch cannot be created. A compacted `from` is reported
    /// through the stream, not here.
    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError>;

    /// Grants a lease of `ttl_secs` seconds (etcd rounds small TTLs up to its minimum, 2 s
    /// by default).
    ///
    /// # Errors
    /// `InvalidArgument` for `ttl_secs <= 0`.
    async fn grant_lease(&self, ttl_secs: i64) -> Result<LeaseId, StoreError>;

    /// Refreshes the lease once: it now expires `ttl` seconds from now. Call it every
    /// `ttl / 3` seconds to keep the lease.
    ///
    /// # Errors
    /// `LeaseNotFound` if it already expired or was revoked.
    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError>;

    /// Revokes the lease now, deleting its keys (one revision, one Delete event per key).
    ///
    /// # Errors
    /// `LeaseNotFound` if it already expired or was revoked.
    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError>;

    /// Drops history older than `revision`: afterwards a watch can start at `revision` or
    /// later, and one from an earlier revision fails with `Compacted`.
    ///
    /// # Errors
    /// `Compacted` if `revision` is not newer than the current compaction point;
    /// `FutureRevision` if it is newer than the current revision.
    async fn compact(&self, revision: Revision) -> Result<(), StoreError>;

    /// Current revision, compaction point, backend and endpoint.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn status(&self) -> Result<Status, StoreError>;
}
