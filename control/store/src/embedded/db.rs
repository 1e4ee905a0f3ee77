//! The embedded store's file: blocking operations on one `redb` database.
//!
//! Why redb: one file, ACID transactions with a single writer and MVCC readers, a
//! commit that is durable (fsync) when it returns, recovery after a crash, and an
//! exclusive file lock, all in pure Rust. Each store operation is one redb transaction,
//! so the revision counter, the key, the lease index and the history entry of a write
//! change together or not at all.
//!
//! Tables:
//! - `kv`: key -> record (see `codec`): the current value of every key;
//! - `history`: revision -> the events of that revision (the last `history_limit`
//!   revisions, or fewer after `compact`);
//! - `meta`: `format`, `revision`, `compact_revision` (oldest revision a watch can start
//!   from), `next_lease`;
//! - `leases`: lease id -> TTL in seconds; `lease_keys`: (lease id, key) -> () to find the
//!   keys of a lease without a scan.
//!
//! Everything here blocks (fsync on commit); the async layer calls it from
//! `spawn_blocking`.

use std::path::Path;

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};

use super::codec::{decode_events, decode_record, encode_events, encode_record};
use crate::{Event, Expect, KeyValue, LeaseId, Revision, StoreError, WatchBatch};

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
const HISTORY: TableDefinition<i64, &[u8]> = TableDefinition::new("history");
const META: TableDefinition<&str, i64> = TableDefinition::new("meta");
const LEASES: TableDefinition<i64, i64> = TableDefinition::new("leases");
const LEASE_KEYS: TableDefinition<(i64, &str), ()> = TableDefinition::new("lease_keys");

const FORMAT: i64 = 1;
const M_FORMAT: &str = "format";
const M_REVISION: &str = "revision";
const M_COMPACT: &str = "compact_revision";
const M_NEXT_LEASE: &str = "next_lease";

/// A failure inside a transaction: either the storage engine's or an API error
/// (conflict, unknown lease) that aborts the transaction.
enum Fail {
    Redb(Box<redb::Error>),
    Api(StoreError),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Fail {
            fn from(e: $t) -> Self {
                Fail::Redb(Box::new(e.into()))
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Api(e)
    }
}

/// The open database file.
pub(super) struct Db {
    db: Database,
    path: String,
    history_limit: i64,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .field("history_limit", &self.history_limit)
            .finish()
    }
}

impl Db {
    /// Opens (or creates) the file and checks that it is an NB store of this format.
    pub(super) fn open(path: &Path, history_limit: i64) -> Result<Db, StoreError> {
        let path_str = path.display().to_string();
        let db = Database::create(path).map_err(|e| map_redb(&path_str, Fail::from(e)))?;
        let db = Db {
            db,
            path: path_str,
            history_limit: history_limit.max(1),
        };
        db.write(|txn| {
            let had_tables = txn.list_tables()?.count() > 0;
            let mut meta = txn.open_table(META)?;
            let format = meta.get(M_FORMAT)?.map(|g| g.value());
            match format {
                Some(FORMAT) => {}
                Some(other) => {
                    return Err(corrupt(format!(
                        "NB store format {other}, this build reads format {FORMAT}"
                    )));
                }
                None if had_tables => {
                    return Err(corrupt("a redb file without NB store metadata".to_string()));
                }
                None => {
                    meta.insert(M_FORMAT, FORMAT)?;
                    meta.insert(M_REVISION, 1)?;
                    meta.insert(M_COMPACT, 0)?;
                    meta.insert(M_NEXT_LEASE, 1)?;
                }
            }
            drop(meta);
            txn.open_table(KV)?;
            txn.open_table(HISTORY)?;
            txn.open_table(LEASES)?;
            txn.open_table(LEASE_KEYS)?;
            Ok(())
        })?;
        Ok(db)
    }

    pub(super) fn path(&self) -> &str {
        &self.path
    }

    fn corrupt(&self, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            reason,
        }
    }

    /// Runs `f` in a write transaction and commits it (durably) if `f` succeeds.
    fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let run = || -> Result<T, Fail> {
            let txn = self.db.begin_write()?;
            let out = f(&txn)?;
            txn.commit()?;
            Ok(out)
        };
        run().map_err(|e| map_redb(&self.path, e))
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let run = || -> Result<T, Fail> {
            let txn = self.db.begin_read()?;
            f(&txn)
        };
        run().map_err(|e| map_redb(&self.path, e))
    }

    pub(super) fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.read(|txn| {
            let kv = txn.open_table(KV)?;
            let guard = kv.get(key)?;
            guard
                .map(|g| decode_record(key, g.value()).map_err(|r| Fail::Api(self.corrupt(r))))
                .transpose()
        })
    }

    pub(super) fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, Revision), StoreError> {
        self.read(|txn| {
            let revision = meta_get(&txn.open_table(META)?, M_REVISION)?;
            let kv = txn.open_table(KV)?;
            let mut out = Vec::new();
            for entry in kv.range(prefix..)? {
                let (k, v) = entry?;
                let key = k.value();
                if !key.starts_with(prefix) {
                    break;
                }
                out.push(decode_record(key, v.value()).map_err(|r| Fail::Api(self.corrupt(r)))?);
            }
            Ok((out, revision))
        })
    }

    /// `(revision, compact_revision)`.
    pub(super) fn revisions(&self) -> Result<(Revision, Revision), StoreError> {
        self.read(|txn| {
            let meta = txn.open_table(META)?;
            Ok((meta_get(&meta, M_REVISION)?, meta_get(&meta, M_COMPACT)?))
        })
    }

    pub(super) fn put(
        &self,
        key: &str,
        value: &[u8],
        expect: Expect,
        lease: Option<LeaseId>,
    ) -> Result<Revision, StoreError> {
        check_key(key)?;
        self.write(|txn| {
            let mut kv = txn.open_table(KV)?;
            let current = match kv.get(key)? {
                Some(g) => {
                    Some(decode_record(key, g.value()).map_err(|r| Fail::Api(self.corrupt(r)))?)
                }
                None => None,
            };
            check_expect(key, expect, current.as_ref().map(|c| c.mod_revision))?;
            if let Some(l) = lease {
                if txn.open_table(LEASES)?.get(l.0)?.is_none() {
                    return Err(Fail::Api(StoreError::LeaseNotFound { lease: l.0 }));
                }
            }
            let revision = self.next_revision(txn)?;
            let record = KeyValue {
                key: key.to_string(),
                value: value.to_vec(),
                create_revision: current.as_ref().map_or(revision, |c| c.create_revision),
                mod_revision: revision,
                version: current.as_ref().map_or(1, |c| c.version + 1),
                lease,
            };
            kv.insert(key, encode_record(&record).as_slice())?;
            let mut lease_keys = txn.open_table(LEASE_KEYS)?;
            if let Some(old) = current.as_ref().and_then(|c| c.lease) {
                lease_keys.remove((old.0, key))?;
            }
            if let Some(l) = lease {
                lease_keys.insert((l.0, key), ())?;
            }
            self.record(txn, revision, &[Event::Put(record)])?;
            Ok(revision)
        })
    }

    pub(super) fn delete(&self, key: &str, expect: Expect) -> Result<Option<Revision>, StoreError> {
        check_key(key)?;
        self.write(|txn| {
            let mut kv = txn.open_table(KV)?;
            let current = match kv.get(key)? {
                Some(g) => {
                    Some(decode_record(key, g.value()).map_err(|r| Fail::Api(self.corrupt(r)))?)
                }
                None => None,
            };
            check_expect(key, expect, current.as_ref().map(|c| c.mod_revision))?;
            let Some(current) = current else {
                return Ok(None);
            };
            let revision = self.next_revision(txn)?;
            kv.remove(key)?;
            if let Some(l) = current.lease {
                txn.open_table(LEASE_KEYS)?.remove((l.0, key))?;
            }
            self.record(
                txn,
                revision,
                &[Event::Delete {
                    key: key.to_string(),
                    mod_revision: revision,
                }],
            )?;
            Ok(Some(revision))
        })
    }

    pub(super) fn grant_lease(&self, ttl_secs: i64) -> Result<LeaseId, StoreError> {
        self.write(|txn| {
            let mut meta = txn.open_table(META)?;
            let id = meta_get(&meta, M_NEXT_LEASE)?;
            meta.insert(M_NEXT_LEASE, id + 1)?;
            txn.open_table(LEASES)?.insert(id, ttl_secs)?;
            Ok(LeaseId(id))
        })
    }

    /// Every persisted lease with its TTL (to restart their clocks after open).
    pub(super) fn leases(&self) -> Result<Vec<(LeaseId, i64)>, StoreError> {
        self.read(|txn| {
            let leases = txn.open_table(LEASES)?;
            let mut out = Vec::new();
            for entry in leases.iter()? {
                let (id, ttl) = entry?;
                out.push((LeaseId(id.value()), ttl.value()));
            }
            Ok(out)
        })
    }

    /// Deletes the lease and its keys (in one revision if it had keys).
    pub(super) fn revoke_lease(&self, lease: LeaseId) -> Result<Option<Revision>, StoreError> {
        self.write(|txn| {
            if txn.open_table(LEASES)?.remove(lease.0)?.is_none() {
                return Err(Fail::Api(StoreError::LeaseNotFound { lease: lease.0 }));
            }
            let mut lease_keys = txn.open_table(LEASE_KEYS)?;
            let mut keys = Vec::new();
            for entry in lease_keys.range((lease.0, "")..)? {
                let (k, _) = entry?;
                let (id, key) = k.value();
                if id != lease.0 {
                    break;
                }
                keys.push(key.to_string());
            }
            if keys.is_empty() {
                return Ok(None);
            }
            let revision = self.next_revision(txn)?;
            let mut kv = txn.open_table(KV)?;
            let mut events = Vec::with_capacity(keys.len());
            for key in &keys {
                lease_keys.remove((lease.0, key.as_str()))?;
                if kv.remove(key.as_str())?.is_some() {
                    events.push(Event::Delete {
                        key: key.clone(),
                        mod_revision: revision,
                    });
                }
            }
            self.record(txn, revision, &events)?;
            Ok(Some(revision))
        })
    }

    /// The events under `prefix` from revision `from` on (at most `max_revisions` of them),
    /// as one batch (or none if no event matched), and the last revision examined.
    pub(super) fn history(
        &self,
        prefix: &str,
        from: Revision,
        max_revisions: i64,
    ) -> Result<(Option<WatchBatch>, Revision), StoreError> {
        self.read(|txn| {
            let meta = txn.open_table(META)?;
            let (current, compact) = (meta_get(&meta, M_REVISION)?, meta_get(&meta, M_COMPACT)?);
            if from < compact {
                return Err(Fail::Api(StoreError::Compacted {
                    requested: from,
                    compact_revision: compact,
                }));
            }
            let to = current.min(from.saturating_add(max_revisions - 1));
            if to < from {
                return Ok((None, from - 1));
            }
            let history = txn.open_table(HISTORY)?;
            let mut events = Vec::new();
            for entry in history.range(from..=to)? {
                let (rev, bytes) = entry?;
                let decoded = decode_events(rev.value(), bytes.value())
                    .map_err(|r| Fail::Api(self.corrupt(r)))?;
                events.extend(decoded.into_iter().filter(|e| e.key().starts_with(prefix)));
            }
            let batch = events
                .last()
                .map(|e| e.mod_revision())
                .map(|revision| WatchBatch { revision, events });
            Ok((batch, to))
        })
    }

    pub(super) fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut meta = txn.open_table(META)?;
            let (current, compact) = (meta_get(&meta, M_REVISION)?, meta_get(&meta, M_COMPACT)?);
            if revision <= compact {
                return Err(Fail::Api(StoreError::Compacted {
                    requested: revision,
                    compact_revision: compact,
                }));
            }
            if revision > current {
                return Err(Fail::Api(StoreError::FutureRevision {
                    requested: revision,
                    current,
                }));
            }
            txn.open_table(HISTORY)?
                .retain_in(..revision, |_, _| false)?;
            meta.insert(M_COMPACT, revision)?;
            Ok(())
        })
    }

    /// Number of history entries kept (for tests and `dfctl`).
    pub(super) fn history_len(&self) -> Result<u64, StoreError> {
        self.read(|txn| Ok(txn.open_table(HISTORY)?.len()?))
    }

    fn next_revision(&self, txn: &WriteTransaction) -> Result<Revision, Fail> {
        let mut meta = txn.open_table(META)?;
        let revision = meta_get(&meta, M_REVISION)? + 1;
        meta.insert(M_REVISION, revision)?;
        Ok(revision)
    }

    /// Appends the events of `revision` to the history and trims it to `history_limit`
    /// revisions, moving the compaction point forward.
    fn record(
        &self,
        txn: &WriteTransaction,
        revision: Revision,
        events: &[Event],
    ) -> Result<(), Fail> {
        let mut history = txn.open_table(HISTORY)?;
        history.insert(revision, encode_events(events).as_slice())?;
        let oldest_kept = revision - self.history_limit + 1;
        let mut meta = txn.open_table(META)?;
        if oldest_kept > meta_get(&meta, M_COMPACT)? {
            history.retain_in(..oldest_kept, |_, _| false)?;
            meta.insert(M_COMPACT, oldest_kept)?;
        }
        Ok(())
    }
}

fn meta_get<T: ReadableTable<&'static str, i64>>(meta: &T, name: &str) -> Result<i64, Fail> {
    match meta.get(name)? {
        Some(g) => Ok(g.value()),
        None => Err(corrupt(format!("metadata entry {name:?} is missing"))),
    }
}

fn corrupt(reason: String) -> Fail {
    Fail::Redb(Box::new(redb::Error::Corrupted(reason)))
}

fn check_key(key: &str) -> Result<(), StoreError> {
    if key.is_empty() {
        return Err(StoreError::InvalidArgument {
            reason: "the key is empty; keys look like /dragonflow/<table>/<id>".to_string(),
        });
    }
    Ok(())
}

fn check_expect(key: &str, expect: Expect, current: Option<Revision>) -> Result<(), Fail> {
    let holds = match expect {
        Expect::Any => true,
        Expect::Absent => current.is_none(),
        Expect::ModRevision(r) => current.unwrap_or(0) == r,
    };
    if holds {
        Ok(())
    } else {
        Err(Fail::Api(StoreError::Conflict {
            key: key.to_string(),
            current,
        }))
    }
}

/// Turns a transaction failure into the error the caller sees, naming the file.
fn map_redb(path: &str, fail: Fail) -> StoreError {
    let e = match fail {
        Fail::Api(e) => return e,
        Fail::Redb(e) => *e,
    };
    let path = path.to_string();
    match e {
        redb::Error::DatabaseAlreadyOpen => StoreError::Locked { path },
        redb::Error::Corrupted(reason) => StoreError::Corrupt { path, reason },
        redb::Error::UpgradeRequired(v) => StoreError::Corrupt {
            path,
            reason: format!("redb file format {v} needs an upgrade"),
        },
        redb::Error::TableTypeMismatch { .. }
        | redb::Error::TypeDefinitionChanged { .. }
        | redb::Error::TableIsMultimap(_) => StoreError::Corrupt {
            path,
            reason: format!("not an NB store file: {e}"),
        },
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            StoreError::Corrupt {
                path,
                reason: io.to_string(),
            }
        }
        other => StoreError::Io {
            path,
            reason: other.to_string(),
        },
    }
}
