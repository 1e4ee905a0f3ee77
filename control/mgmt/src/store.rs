//! The store proxy: the daemon's side ([`handle_store`]) and the client's
//! (`Client::store_*`) of [`StoreRequest`].
//!
//! Why the daemon proxies its store: the embedded store's file is locked by
//! the one process that opened it, so `dfctl` on a host running `dfswitchd`
//! reaches the NB database through the daemon. Both sides live here so the
//! JSON shapes below are written once:
//!
//! | action | result |
//! |---|---|
//! | `get` | `null`, or a [`KeyValueView`] |
//! | `list` | `{"revision": r, "kvs": [KeyValueView...]}` |
//! | `put` | `{"mod_revision": r}` |
//! | `delete` | `{"deleted": bool, "revision": r or null}` |
//! | `allocate-unique-key` | `{"unique_key": n}` |
//! | `status` | a [`StoreStatusView`] |
//!
//! Values travel as text (the store holds JSON text); a compare-and-swap
//! that does not hold is refused with kind `conflict`, an unreachable store
//! with kind `unavailable`.

use df_store::{Expect, KeyValue, Revision, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client::{Client, MgmtError};
use crate::proto::{ErrorKind, Failure, PutExpect, Request, StoreRequest};

/// One key on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValueView {
    /// The full key.
    pub key: String,
    /// The value as text (lossy if the stored bytes are not UTF-8).
    pub value: String,
    /// Revision of the key's creation.
    pub create_revision: i64,
    /// Revision of the key's last write.
    pub mod_revision: i64,
    /// Writes since creation.
    pub version: i64,
    /// Attached lease id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<i64>,
}

impl From<&KeyValue> for KeyValueView {
    fn from(kv: &KeyValue) -> Self {
        KeyValueView {
            key: kv.key.clone(),
            value: String::from_utf8_lossy(&kv.value).into_owned(),
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            lease: kv.lease.map(|l| l.0),
        }
    }
}

impl From<KeyValueView> for KeyValue {
    fn from(v: KeyValueView) -> Self {
        KeyValue {
            key: v.key,
            value: v.value.into_bytes(),
            create_revision: v.create_revision,
            mod_revision: v.mod_revision,
            version: v.version,
            lease: v.lease.map(df_store::LeaseId),
        }
    }
}

/// The store's status on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStatusView {
    /// Current revision.
    pub revision: i64,
    /// Oldest revision a watch can start from.
    pub compact_revision: i64,
    /// `embedded` or `etcd`.
    pub backend: String,
    /// File path or `host:port[,host:port]`.
    pub endpoint: String,
}

#[derive(Deserialize)]
struct ListView {
    revision: i64,
    kvs: Vec<KeyValueView>,
}

#[derive(Deserialize)]
struct PutView {
    mod_revision: i64,
}

#[derive(Deserialize)]
struct DeleteView {
    deleted: bool,
}

#[derive(Deserialize)]
struct UniqueKeyView {
    unique_key: u32,
}

impl From<&StoreError> for Failure {
    fn from(e: &StoreError) -> Failure {
        let kind = match e {
            StoreError::Conflict { .. } => ErrorKind::Conflict,
            StoreError::Unavailable { .. } => ErrorKind::Unavailable,
            StoreError::InvalidArgument { .. } | StoreError::BadUrl { .. } => ErrorKind::BadRequest,
            _ => ErrorKind::Failed,
        };
        Failure::new(kind, e.to_string())
    }
}

fn to_json<T: Serialize>(v: T) -> Result<Value, Failure> {
    serde_json::to_value(v).map_err(|e| Failure::from(format!("cannot encode the answer: {e}")))
}

/// Answers a [`StoreRequest`] from `store`: what a daemon's [`crate::Handler`]
/// does with [`Request::Store`]. Result shapes are in the module docs.
///
/// # Errors
/// The store's error as a [`Failure`] (`conflict`, `unavailable`,
/// `bad-request` or `failed`); `bad-request` for an unknown table in
/// `allocate-unique-key`.
pub async fn handle_store(store: &dyn Store, req: StoreRequest) -> Result<Value, Failure> {
    let fail = |e: StoreError| Failure::from(&e);
    match req {
        StoreRequest::Get { key } => {
            let kv = store.get(&key).await.map_err(fail)?;
            to_json(kv.as_ref().map(KeyValueView::from))
        }
        StoreRequest::List { prefix } => {
            let (kvs, revision) = store.list(&prefix).await.map_err(fail)?;
            let kvs: Vec<KeyValueView> = kvs.iter().map(KeyValueView::from).collect();
            Ok(json!({ "revision": revision, "kvs": to_json(kvs)? }))
        }
        StoreRequest::Put { key, value, expect } => {
            let bytes = match value {
                Value::String(s) => s.into_bytes(),
                other => other.to_string().into_bytes(),
            };
            let expect = match expect {
                None => Expect::Any,
                Some(PutExpect::Absent) => Expect::Absent,
                Some(PutExpect::ModRevision(r)) => Expect::ModRevision(r),
            };
            let rev = store.put(&key, &bytes, expect, None).await.map_err(fail)?;
            Ok(json!({ "mod_revision": rev }))
        }
        StoreRequest::Delete { key } => {
            let rev = store.delete(&key, Expect::Any).await.map_err(fail)?;
            Ok(json!({ "deleted": rev.is_some(), "revision": rev }))
        }
        StoreRequest::AllocateUniqueKey { table } => {
            let has_key = df_model::table_info(&table).is_some_and(|i| i.has_unique_key);
            if !has_key {
                return Err(Failure::new(
                    ErrorKind::BadRequest,
                    format!("table `{table}` has no unique keys (or is unknown); only tables with a unique_key field allocate them"),
                ));
            }
            let counter = df_model::unique_key_counter(&table);
            let key = df_store::allocate_unique_key(store, &counter)
                .await
                .map_err(fail)?;
            Ok(json!({ "unique_key": key }))
        }
        StoreRequest::Status => {
            let s = store.status().await.map_err(fail)?;
            to_json(StoreStatusView {
                revision: s.revision,
                compact_revision: s.compact_revision,
                backend: s.backend.to_string(),
                endpoint: s.endpoint,
            })
        }
    }
}

impl Client {
    async fn store_call<T: serde::de::DeserializeOwned>(
        &self,
        req: StoreRequest,
    ) -> Result<T, MgmtError> {
        let op = Request::Store(req.clone()).op();
        let v = self.call(&Request::Store(req)).await?;
        serde_json::from_value(v).map_err(|e| MgmtError::BadResponse {
            path: self.path().to_path_buf(),
            op,
            reason: e.to_string(),
        })
    }

    /// The daemon store's value at `key`.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn store_get(&self, key: &str) -> Result<Option<KeyValue>, MgmtError> {
        let v: Option<KeyValueView> = self
            .store_call(StoreRequest::Get {
                key: key.to_string(),
            })
            .await?;
        Ok(v.map(KeyValue::from))
    }

    /// Every key under `prefix` and the revision of the listing.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn store_list(&self, prefix: &str) -> Result<(Vec<KeyValue>, Revision), MgmtError> {
        let v: ListView = self
            .store_call(StoreRequest::List {
                prefix: prefix.to_string(),
            })
            .await?;
        Ok((v.kvs.into_iter().map(KeyValue::from).collect(), v.revision))
    }

    /// A conditional write of UTF-8 `value`; the new mod revision.
    ///
    /// # Errors
    /// [`MgmtError::Refused`] of kind `conflict` when `expect` does not hold;
    /// otherwise as [`Client::call`].
    pub async fn store_put(
        &self,
        key: &str,
        value: &str,
        expect: Expect,
    ) -> Result<Revision, MgmtError> {
        let expect = match expect {
            Expect::Any => None,
            Expect::Absent => Some(PutExpect::Absent),
            Expect::ModRevision(r) => Some(PutExpect::ModRevision(r)),
        };
        let v: PutView = self
            .store_call(StoreRequest::Put {
                key: key.to_string(),
                value: Value::String(value.to_string()),
                expect,
            })
            .await?;
        Ok(v.mod_revision)
    }

    /// Deletes `key`; whether it existed.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn store_delete(&self, key: &str) -> Result<bool, MgmtError> {
        let v: DeleteView = self
            .store_call(StoreRequest::Delete {
                key: key.to_string(),
            })
            .await?;
        Ok(v.deleted)
    }

    /// The next unique key of `table`.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn store_allocate_unique_key(&self, table: &str) -> Result<u32, MgmtError> {
        let v: UniqueKeyView = self
            .store_call(StoreRequest::AllocateUniqueKey {
                table: table.to_string(),
            })
            .await?;
        Ok(v.unique_key)
    }

    /// The daemon store's status.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn store_status(&self) -> Result<StoreStatusView, MgmtError> {
        self.store_call(StoreRequest::Status).await
    }
}
