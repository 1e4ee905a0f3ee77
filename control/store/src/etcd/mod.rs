//! The etcd store: the NB database in an etcd v3 cluster, for many hosts.
//!
//! Why this shape: etcd already has the semantics [`Store`] promises (the trait was
//! modelled on it), so each method is one etcd call: `get`/`list` are ranges (a list is
//! paged at the revision of its first page, so it stays one consistent snapshot),
//! conditional writes are transactions comparing `version == 0` (absent) or
//! `mod_revision`, and a watch is an etcd watch with `start_revision`. Only calls that
//! etcd 3.4 (Debian's etcd-server) serves are used: no `RangeStream`, no 3.5+ fields.
//!
//! Failure handling is deliberately thin: every call fails fast with `Unavailable`
//! (connect timeout 2 s, request timeout 3 s) and a watch ends with `Unavailable` when its
//! stream breaks, or `Compacted` when etcd cancels it for a compacted start revision. The
//! controller owns reconnection: back off, re-list, re-watch from the list revision + 1.
//! The client reconnects underneath by itself, so the same `EtcdStore` works again once
//! etcd is back; there is no need to reopen it.

use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, GetOptions, PutOptions, ResponseHeader, Txn, TxnOp,
    TxnOpResponse, WatchOptions,
};
use tonic::Code;

mod watch;

use crate::{Expect, KeyValue, LeaseId, Revision, Status, Store, StoreError, WatchStream};

/// Connection settings of [`EtcdStore`].
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    /// Limit on establishing a TCP connection to an endpoint (default 2 s).
    pub connect_timeout: Duration,
    /// Limit on every unary request, and on a watch's creation (default 3 s, so a frozen
    /// etcd is reported within 5 s).
    pub request_timeout: Duration,
    /// HTTP/2 keep-alive (interval, timeout) on open streams, so a watch on a silent
    /// (partitioned or frozen) etcd breaks within interval + timeout (default 10 s + 5 s;
    /// etcd rejects pings more often than every 5 s).
    pub keep_alive: (Duration, Duration),
    /// Keys per page of a `list` (default 1000).
    pub list_page_size: i64,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(3),
            keep_alive: (Duration::from_secs(10), Duration::from_secs(5)),
            list_page_size: 1000,
        }
    }
}

/// The NB store in etcd.
///
/// # Thread-safety
/// `Send + Sync` and cheap to clone; call any method from any task concurrently. All
/// calls share one HTTP/2 channel per endpoint (tonic multiplexes them); each call takes
/// its own clone of the client handle, so no lock is held across an await. Each watch
/// is owned by one spawned task that ends when its [`WatchStream`] is dropped.
#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
    endpoint: String,
    options: EtcdOptions,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoint", &self.endpoint)
            .field("options", &self.options)
            .finish()
    }
}

/// What an etcd error means to a caller.
enum Kind {
    Unavailable(String),
    Compacted,
    FutureRevision,
    LeaseNotFound,
    Other(String),
}

fn kind(e: &etcd_client::Error) -> Kind {
    use etcd_client::Error as E;
    match e {
        E::GRpcStatus(s) => {
            let msg = s.message();
            if msg.contains("required revision has been compacted") {
                Kind::Compacted
            } else if msg.contains("future revision") {
                Kind::FutureRevision
            } else if msg.contains("lease not found") {
                Kind::LeaseNotFound
            } else if matches!(
                s.code(),
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown
            ) {
                Kind::Unavailable(format!("{:?}: {msg}", s.code()))
            } else {
                Kind::Other(format!("{:?}: {msg}", s.code()))
            }
        }
        E::LeaseKeepAliveError(m) if m.contains("not found") => Kind::LeaseNotFound,
        E::TransportError(_) | E::IoError(_) | E::WatchError(_) | E::LeaseKeepAliveError(_) => {
            Kind::Unavailable(e.to_string())
        }
        other => Kind::Other(other.to_string()),
    }
}

impl EtcdStore {
    /// Connects to etcd at `endpoints` (`host:port`, plain HTTP) and checks that it answers.
    ///
    /// # Errors
    /// `Unavailable` if no endpoint answers a status request within the timeouts;
    /// `BadUrl` for an endpoint the client cannot parse.
    pub async fn connect(
        endpoints: &[impl AsRef<str>],
        options: EtcdOptions,
    ) -> Result<EtcdStore, StoreError> {
        let endpoint = endpoints
            .iter()
            .map(|e| e.as_ref())
            .collect::<Vec<_>>()
            .join(",");
        let connect = ConnectOptions::new()
            .with_connect_timeout(options.connect_timeout)
            .with_timeout(options.request_timeout)
            .with_keep_alive(options.keep_alive.0, options.keep_alive.1)
            .with_keep_alive_while_idle(false)
            .with_require_leader(true);
        let eps: Vec<&str> = endpoints.iter().map(|e| e.as_ref()).collect();
        let client = match Client::connect(&eps, Some(connect)).await {
            Ok(c) => c,
            Err(e) => {
                return Err(match kind(&e) {
                    Kind::Unavailable(reason) => StoreError::Unavailable { endpoint, reason },
                    _ => StoreError::BadUrl {
                        url: format!("etcd://{endpoint}"),
                        reason: e.to_string(),
                    },
                })
            }
        };
        let store = EtcdStore {
            client,
            endpoint,
            options,
        };
        store.status().await?;
        Ok(store)
    }

    /// Maps an error of a call that involves no lease and no revision.
    fn error(&self, e: etcd_client::Error) -> StoreError {
        match kind(&e) {
            Kind::Unavailable(reason) => StoreError::Unavailable {
                endpoint: self.endpoint.clone(),
                reason,
            },
            _ => StoreError::Etcd {
                endpoint: self.endpoint.clone(),
                reason: e.to_string(),
            },
        }
    }

    /// Like `error`, for calls naming `lease`.
    fn lease_error(&self, e: etcd_client::Error, lease: i64) -> StoreError {
        match kind(&e) {
            Kind::LeaseNotFound => StoreError::LeaseNotFound { lease },
            _ => self.error(e),
        }
    }

    /// Like `error`, filling in the revisions of `Compacted` / `FutureRevision`.
    async fn revision_error(&self, e: etcd_client::Error, requested: Revision) -> StoreError {
        match kind(&e) {
            Kind::Compacted => {
                let compact_revision = self.compact_revision().await.unwrap_or(requested);
                StoreError::Compacted {
                    requested,
                    compact_revision,
                }
            }
            Kind::FutureRevision => {
                let current = self.current_revision().await.unwrap_or(0);
                StoreError::FutureRevision { requested, current }
            }
            _ => self.error(e),
        }
    }

    fn header_revision(&self, header: Option<&ResponseHeader>) -> Result<Revision, StoreError> {
        header
            .map(ResponseHeader::revision)
            .ok_or_else(|| StoreError::Etcd {
                endpoint: self.endpoint.clone(),
                reason: "response without a header".to_string(),
            })
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        let resp = self
            .client
            .maintenance_client()
            .status()
            .await
            .map_err(|e| self.error(e))?;
        self.header_revision(resp.header())
    }

    /// etcd's compaction point. HashKV is the only 3.4 call that reports it; it hashes the
    /// key space, which is cheap at NB sizes, so this is for `status`, not a hot path.
    async fn compact_revision(&self) -> Result<Revision, StoreError> {
        let resp = self
            .client
            .maintenance_client()
            .hash_kv(0)
            .await
            .map_err(|e| self.error(e))?;
        Ok(resp.compact_version().max(0))
    }

    /// Runs a compare-and-swap transaction; on failure reads the key's current revision
    /// (the `or_else` branch) into the `Conflict`.
    async fn cas(
        &self,
        key: &str,
        compare: Compare,
        then: TxnOp,
        lease: Option<LeaseId>,
    ) -> Result<etcd_client::TxnResponse, StoreError> {
        let txn = Txn::new()
            .when([compare])
            .and_then([then])
            .or_else([TxnOp::get(key, None)]);
        let resp = self
            .client
            .kv_client()
            .txn(txn)
            .await
            .map_err(|e| self.lease_error(e, lease.map_or(0, |l| l.0)))?;
        if resp.succeeded() {
            return Ok(resp);
        }
        let current = resp.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Get(g) => Some(g.kvs().first().map(|kv| kv.mod_revision())),
            _ => None,
        });
        Err(StoreError::Conflict {
            key: key.to_string(),
            current: current.flatten(),
        })
    }
}

fn compare_for(key: &str, expect: Expect) -> Option<Compare> {
    match expect {
        Expect::Any => None,
        Expect::Absent => Some(Compare::version(key, CompareOp::Equal, 0)),
        Expect::ModRevision(r) => Some(Compare::mod_revision(key, CompareOp::Equal, r)),
    }
}

fn convert(kv: &etcd_client::KeyValue) -> KeyValue {
    KeyValue {
        // Keys this crate writes are UTF-8; a foreign binary key is shown lossily rather
        // than failing a whole list.
        key: String::from_utf8_lossy(kv.key()).into_owned(),
        value: kv.value().to_vec(),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        version: kv.version(),
        lease: (kv.lease() != 0).then_some(LeaseId(kv.lease())),
    }
}

/// The end of the key range holding every key that starts with `prefix` (etcd's rule:
/// increment the last byte that is not 0xff; `\0` means "to the end of the key space").
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn check_key(key: &str) -> Result<(), StoreError> {
    if key.is_empty() {
        return Err(StoreError::InvalidArgument {
            reason: "the key is empty; keys look like /dragonflow/<table>/<id>".to_string(),
        });
    }
    Ok(())
}

#[async_trait::async_trait]
impl Store for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        check_key(key)?;
        let resp = self
            .client
            .kv_client()
            .get(key, None)
            .await
            .map_err(|e| self.error(e))?;
        Ok(resp.kvs().first().map(convert))
    }

    async fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, Revision), StoreError> {
        let end = prefix_end(prefix.as_bytes());
        let mut start: Vec<u8> = if prefix.is_empty() {
            vec![0]
        } else {
            prefix.as_bytes().to_vec()
        };
        let mut revision = 0;
        let mut out = Vec::new();
        let mut kv = self.client.kv_client();
        loop {
            let mut opts = GetOptions::new()
                .with_range(end.clone())
                .with_limit(self.options.list_page_size.max(1));
            if revision > 0 {
                opts = opts.with_revision(revision);
            }
            let resp = match kv.get(start.clone(), Some(opts)).await {
                Ok(r) => r,
                Err(e) => return Err(self.revision_error(e, revision).await),
            };
            if revision == 0 {
                revision = self.header_revision(resp.header())?;
            }
            out.extend(resp.kvs().iter().map(convert));
            match resp.kvs().last() {
                Some(last) if resp.more() => {
                    start = last.key().to_vec();
                    start.push(0);
                }
                _ => return Ok((out, revision)),
            }
        }
    }

    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expect: Expect,
        lease: Option<LeaseId>,
    ) -> Result<Revision, StoreError> {
        check_key(key)?;
        let opts = lease.map(|l| PutOptions::new().with_lease(l.0));
        match compare_for(key, expect) {
            None => {
                let resp = self
                    .client
                    .kv_client()
                    .put(key, value, opts)
                    .await
                    .map_err(|e| self.lease_error(e, lease.map_or(0, |l| l.0)))?;
                self.header_revision(resp.header())
            }
            Some(compare) => {
                let resp = self
                    .cas(key, compare, TxnOp::put(key, value, opts), lease)
                    .await?;
                self.header_revision(resp.header())
            }
        }
    }

    async fn delete(&self, key: &str, expect: Expect) -> Result<Option<Revision>, StoreError> {
        check_key(key)?;
        let deleted = match compare_for(key, expect) {
            None => {
                let resp = self
                    .client
                    .kv_client()
                    .delete(key, None)
                    .await
                    .map_err(|e| self.error(e))?;
                (resp.deleted() > 0).then(|| self.header_revision(resp.header()))
            }
            Some(compare) => {
                let then = if expect == Expect::Absent {
                    TxnOp::get(key, None)
                } else {
                    TxnOp::delete(key, None)
                };
                let resp = self.cas(key, compare, then, None).await?;
                let count = resp.op_responses().into_iter().find_map(|op| match op {
                    TxnOpResponse::Delete(d) => Some(d.deleted()),
                    _ => None,
                });
                (count.unwrap_or(0) > 0).then(|| self.header_revision(resp.header()))
            }
        };
        deleted.transpose()
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError> {
        let mut opts = WatchOptions::new().with_prefix();
        if from > 0 {
            opts = opts.with_start_revision(from);
        }
        let unavailable = |reason: String| StoreError::Unavailable {
            endpoint: self.endpoint.clone(),
            reason,
        };
        let mut watch_client = self.client.watch_client();
        let created = tokio::time::timeout(self.options.request_timeout, async {
            let mut stream = watch_client
                .watch(prefix, Some(opts))
                .await
                .map_err(|e| self.error(e))?;
            // etcd first confirms the watch (`created`, no events); after it, every later
            // write is delivered.
            match stream.message().await {
                Ok(Some(resp)) if resp.created() => Ok((stream, resp)),
                Ok(Some(_)) => Err(unavailable("etcd did not confirm the watch".to_string())),
                Ok(None) => Err(unavailable("etcd closed the watch stream".to_string())),
                Err(e) => Err(self.error(e)),
            }
        })
        .await
        .map_err(|_| {
            unavailable(format!(
                "no watch confirmation within {:?}",
                self.options.request_timeout
            ))
        })??;
        let (stream, first) = created;
        let (tx, out) = WatchStream::channel();
        // The first revision not yet delivered: what a later Compacted reports.
        let next = if from > 0 {
            from
        } else {
            first.header().map_or(0, |h| h.revision() + 1)
        };
        tokio::spawn(watch::deliver(
            stream,
            first,
            next,
            self.endpoint.clone(),
            tx,
        ));
        Ok(out)
    }

    async fn grant_lease(&self, ttl_secs: i64) -> Result<LeaseId, StoreError> {
        if ttl_secs <= 0 {
            return Err(StoreError::InvalidArgument {
                reason: format!("lease TTL {ttl_secs} s must be at least 1 s"),
            });
        }
        let resp = self
            .client
            .lease_client()
            .grant(ttl_secs, None)
            .await
            .map_err(|e| self.error(e))?;
        Ok(LeaseId(resp.id()))
    }

    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError> {
        let mut leases = self.client.lease_client();
        // One refresh: etcd-client sends one keep-alive on a new stream and waits for the
        // answer (TTL <= 0 means the lease is gone); the stream is dropped afterwards.
        match tokio::time::timeout(self.options.request_timeout, leases.keep_alive(lease.0)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.lease_error(e, lease.0)),
            Err(_) => Err(StoreError::Unavailable {
                endpoint: self.endpoint.clone(),
                reason: format!(
                    "no keep-alive answer within {:?}",
                    self.options.request_timeout
                ),
            }),
        }
    }

    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError> {
        self.client
            .lease_client()
            .revoke(lease.0)
            .await
            .map_err(|e| self.lease_error(e, lease.0))?;
        Ok(())
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let opts = etcd_client::CompactionOptions::new().with_physical();
        match self.client.kv_client().compact(revision, Some(opts)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.revision_error(e, revision).await),
        }
    }

    async fn status(&self) -> Result<Status, StoreError> {
        let revision = self.current_revision().await?;
        let compact_revision = self.compact_revision().await?;
        Ok(Status {
            revision,
            compact_revision,
            backend: "etcd",
            endpoint: self.endpoint.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_follows_etcd() {
        assert_eq!(prefix_end(b"/df/"), b"/df0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }
}
