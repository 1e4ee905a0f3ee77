//! The NB database as dfctl sees it: the [`Db`] trait and its two backends,
//! [`StoreDb`] (a store opened from `--db`) and [`DaemonDb`] (the local
//! dfswitchd's store, through its management socket).
//!
//! Why a trait this small: every dfctl command is get / list / conditional
//! put / delete / allocate a unique key, whichever way the store is reached.
//! The embedded store's file is locked by the daemon that holds it, so on a
//! host running dfswitchd the daemon must proxy; with etcd, dfctl can go
//! direct. Errors are sorted into the three kinds the commands react to.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use df_mgmt::{Client, ErrorKind, MgmtError};
use df_store::{Expect, KeyValue, Store, StoreError};

use crate::cli::Global;
use crate::error::CliError;

/// How long opening a store may take (etcd answers within its own timeouts).
const OPEN_TIMEOUT: Duration = Duration::from_secs(8);

/// A store failure, sorted for the commands.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The store cannot be reached.
    #[error("{0}")]
    Unreachable(String),
    /// A compare-and-swap did not hold.
    #[error("{0}")]
    Conflict(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

impl DbError {
    /// The process exit code (see [`CliError::exit_code`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            DbError::Unreachable(_) => 3,
            DbError::Conflict(_) | DbError::Failed(_) => 1,
        }
    }
}

impl From<DbError> for CliError {
    fn from(e: DbError) -> CliError {
        match e {
            DbError::Unreachable(m) => CliError::Unreachable(m),
            DbError::Conflict(m) | DbError::Failed(m) => CliError::Failed(m),
        }
    }
}

fn from_store(e: StoreError) -> DbError {
    match &e {
        StoreError::Unavailable { .. } => DbError::Unreachable(e.to_string()),
        StoreError::Locked { .. } => DbError::Unreachable(format!(
            "{e} (without --db, dfctl goes through the running dfswitchd's socket)"
        )),
        StoreError::Conflict { .. } => DbError::Conflict(e.to_string()),
        _ => DbError::Failed(e.to_string()),
    }
}

fn from_mgmt(e: MgmtError) -> DbError {
    if e.is_unreachable() {
        DbError::Unreachable(e.to_string())
    } else if e.kind() == Some(ErrorKind::Conflict) {
        DbError::Conflict(e.to_string())
    } else {
        DbError::Failed(e.to_string())
    }
}

/// One stored key.
#[derive(Debug, Clone)]
pub struct Kv {
    /// The full key.
    pub key: String,
    /// The value (model JSON).
    pub value: Vec<u8>,
    /// For compare-and-swap.
    pub mod_revision: i64,
}

impl From<KeyValue> for Kv {
    fn from(kv: KeyValue) -> Kv {
        Kv {
            key: kv.key,
            value: kv.value,
            mod_revision: kv.mod_revision,
        }
    }
}

/// The NB database.
#[async_trait]
pub trait Db: Send + Sync {
    /// The key's value, or `None`.
    async fn get(&self, key: &str) -> Result<Option<Kv>, DbError>;
    /// Every key under `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<Kv>, DbError>;
    /// A conditional write; the new mod revision.
    async fn put(&self, key: &str, value: &[u8], expect: Expect) -> Result<i64, DbError>;
    /// Deletes `key`; whether it existed.
    async fn delete(&self, key: &str) -> Result<bool, DbError>;
    /// The next unique key of `table`.
    async fn allocate_unique_key(&self, table: &str) -> Result<u32, DbError>;
}

/// A store dfctl opened itself (`--db`).
#[derive(Debug)]
pub struct StoreDb(pub Arc<dyn Store>);

#[async_trait]
impl Db for StoreDb {
    async fn get(&self, key: &str) -> Result<Option<Kv>, DbError> {
        Ok(self.0.get(key).await.map_err(from_store)?.map(Kv::from))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Kv>, DbError> {
        let (kvs, _) = self.0.list(prefix).await.map_err(from_store)?;
        Ok(kvs.into_iter().map(Kv::from).collect())
    }

    async fn put(&self, key: &str, value: &[u8], expect: Expect) -> Result<i64, DbError> {
        self.0
            .put(key, value, expect, None)
            .await
            .map_err(from_store)
    }

    async fn delete(&self, key: &str) -> Result<bool, DbError> {
        let rev = self.0.delete(key, Expect::Any).await.map_err(from_store)?;
        Ok(rev.is_some())
    }

    async fn allocate_unique_key(&self, table: &str) -> Result<u32, DbError> {
        df_store::allocate_unique_key(self.0.as_ref(), &df_model::unique_key_counter(table))
            .await
            .map_err(from_store)
    }
}

/// The local dfswitchd's store, through its socket.
#[derive(Debug)]
pub struct DaemonDb(pub Client);

#[async_trait]
impl Db for DaemonDb {
    async fn get(&self, key: &str) -> Result<Option<Kv>, DbError> {
        Ok(self
            .0
            .store_get(key)
            .await
            .map_err(from_mgmt)?
            .map(Kv::from))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Kv>, DbError> {
        let (kvs, _) = self.0.store_list(prefix).await.map_err(from_mgmt)?;
        Ok(kvs.into_iter().map(Kv::from).collect())
    }

    async fn put(&self, key: &str, value: &[u8], expect: Expect) -> Result<i64, DbError> {
        let text = std::str::from_utf8(value)
            .map_err(|_| DbError::Failed(format!("value for {key} is not UTF-8 text")))?;
        self.0.store_put(key, text, expect).await.map_err(from_mgmt)
    }

    async fn delete(&self, key: &str) -> Result<bool, DbError> {
        self.0.store_delete(key).await.map_err(from_mgmt)
    }

    async fn allocate_unique_key(&self, table: &str) -> Result<u32, DbError> {
        self.0
            .store_allocate_unique_key(table)
            .await
            .map_err(from_mgmt)
    }
}

/// Opens the NB database the flags point at: `--db URL`, else the daemon.
///
/// # Errors
/// [`CliError::Usage`] for a bad URL, [`CliError::Unreachable`] when the
/// store or the daemon cannot be reached, [`CliError::Failed`] otherwise.
pub async fn open(g: &Global) -> Result<Box<dyn Db>, CliError> {
    match &g.db {
        Some(url) => {
            let store = match tokio::time::timeout(OPEN_TIMEOUT, df_store::open(url)).await {
                Err(_) => {
                    return Err(CliError::Unreachable(format!(
                        "NB store {url} did not answer within {} s; is it running?",
                        OPEN_TIMEOUT.as_secs()
                    )))
                }
                Ok(Err(e @ StoreError::BadUrl { .. })) => {
                    return Err(CliError::Usage(format!("--db: {e}")))
                }
                Ok(Err(e)) => return Err(from_store(e).into()),
                Ok(Ok(s)) => s,
            };
            Ok(Box::new(StoreDb(store)))
        }
        None => {
            let client = connect(g).await?;
            Ok(Box::new(DaemonDb(client)))
        }
    }
}

/// Connects to the daemon's socket.
///
/// # Errors
/// [`CliError::Unreachable`] with the client's message (which says how to
/// start the daemon or use `--db`).
pub async fn connect(g: &Global) -> Result<Client, CliError> {
    Client::connect(&g.socket)
        .await
        .map_err(|e| CliError::Unreachable(e.to_string()))
}
