//! `df-store`: the NB database behind one trait, with an embedded backend and an etcd one.
//!
//! Why: the local controller in `dfswitchd` follows the NB database (Dragonflow's tables
//! as JSON under `/dragonflow/<table>/<id>`). On one host it should need nothing else
//! running, so the default is an embedded store in one file; across hosts it is etcd,
//! as in Dragonflow. Both implement [`Store`] with etcd's revision semantics, so the
//! controller has one code path: list a prefix at a revision, watch from that
//! revision plus one, and on `Compacted` or `Unavailable` re-list and re-watch
//! (DESIGN.md, "The control plane").
//!
//! What is here:
//! - [`Store`] and its data types ([`KeyValue`], [`Expect`], [`Event`], [`WatchBatch`],
//!   [`WatchStream`], [`LeaseId`], [`Status`]) and the error type [`StoreError`];
//! - [`EmbeddedStore`] (a `redb` file) and [`EtcdStore`] (etcd v3 through `etcd-client`,
//!   restricted to APIs that etcd 3.4 serves);
//! - [`open`] to pick one from a URL, and [`allocate_unique_key`], Dragonflow's
//!   compare-and-swap counter for per-table unique keys;
//! - `testing` (hidden): a harness that runs a real `etcd` process for tests.
//!
//! # Reconnecting (for the controller)
//! Neither backend reconnects a watch by itself: a watch ends with `Err(Unavailable)`
//! or `Err(Compacted)`. The controller then backs off, calls [`Store::list`] on its
//! prefix (which gives a revision `r`), diffs against its cache (deleting what vanished)
//! and watches again from `r + 1`. Unary calls on an [`EtcdStore`] reconnect on their
//! own once etcd is back; each call fails fast (`Unavailable`) while it is down.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod embedded;
mod error;
mod etcd;
#[doc(hidden)]
pub mod testing;
mod types;

use std::sync::Arc;

pub use embedded::{EmbeddedOptions, EmbeddedStore};
pub use error::StoreError;
pub use etcd::{EtcdOptions, EtcdStore};
pub use types::{
    Event, Expect, KeyValue, LeaseId, Revision, Status, Store, WatchBatch, WatchStream,
};

/// How many compare-and-swap rounds [`allocate_unique_key`] tries before giving up. Each
/// round lets at least one contender win, so this bounds the number of concurrent
/// allocators, not the time.
const UNIQUE_KEY_ATTEMPTS: usize = 1000;

/// Allocates the next unique key (1, 2, 3, ...) from the decimal counter at `counter_key`,
/// by compare-and-swap in a retry loop, as Dragonflow's etcd driver did on
/// `/unique_key/<table>`. The first allocation creates the counter with value 1.
///
/// # Errors
/// `BadValue` if the counter is not a decimal `u32` or is exhausted; `Conflict` if
/// 1000 rounds in a row all lost; any error of `get`/`put`.
pub async fn allocate_unique_key(store: &dyn Store, counter_key: &str) -> Result<u32, StoreError> {
    let mut last_conflict = None;
    for _ in 0..UNIQUE_KEY_ATTEMPTS {
        let (next, expect) = match store.get(counter_key).await? {
            None => (1u32, Expect::Absent),
            Some(kv) => {
                let current = parse_counter(counter_key, &kv.value)?;
                let next = current.checked_add(1).ok_or_else(|| StoreError::BadValue {
                    key: counter_key.to_string(),
                    reason: format!("unique-key counter exhausted at {current}"),
                })?;
                (next, Expect::ModRevision(kv.mod_revision))
            }
        };
        match store
            .put(counter_key, next.to_string().as_bytes(), expect, None)
            .await
        {
            Ok(_) => return Ok(next),
            Err(e @ StoreError::Conflict { .. }) => {
                last_conflict = Some(e);
                tokio::task::yield_now().await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_conflict.unwrap_or(StoreError::Conflict {
        key: counter_key.to_string(),
        current: None,
    }))
}

fn parse_counter(key: &str, value: &[u8]) -> Result<u32, StoreError> {
    let bad = |reason: String| StoreError::BadValue {
        key: key.to_string(),
        reason,
    };
    let text = std::str::from_utf8(value)
        .map_err(|_| bad("unique-key counter is not UTF-8".to_string()))?;
    text.trim().parse::<u32>().map_err(|e| {
        bad(format!(
            "unique-key counter {text:?} is not a decimal u32: {e}"
        ))
    })
}

/// Opens a store from a URL:
/// - `etcd://HOST:PORT[,HOST:PORT...]`: an [`EtcdStore`] with default [`EtcdOptions`]
///   (checks that etcd answers before returning);
/// - `file:///ABSOLUTE/PATH`: an [`EmbeddedStore`] in that file (created if missing) with
///   default [`EmbeddedOptions`].
///
/// Must be called inside a tokio runtime (the stores spawn tasks on it).
///
/// # Errors
/// `BadUrl` for anything else; `Unavailable` when etcd does not answer; `Locked`,
/// `Corrupt` or `Io` for the embedded file.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let bad = |reason: &str| StoreError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    if let Some(rest) = url.strip_prefix("etcd://") {
        let endpoints: Vec<String> = rest.split(',').map(|e| e.trim().to_string()).collect();
        for ep in &endpoints {
            let (host, port) = ep
                .rsplit_once(':')
                .ok_or_else(|| bad("each etcd endpoint needs HOST:PORT"))?;
            if host.is_empty() || port.parse::<u16>().is_err() {
                return Err(bad(
                    "each etcd endpoint needs a host and a numeric port, as in 127.0.0.1:2379",
                ));
            }
        }
        let store = EtcdStore::connect(&endpoints, EtcdOptions::default()).await?;
        Ok(Arc::new(store))
    } else if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(bad(
                "the file path must be absolute (three slashes: file:///var/lib/...)",
            ));
        }
        let store = EmbeddedStore::open(path, EmbeddedOptions::default()).await?;
        Ok(Arc::new(store))
    } else {
        Err(bad("unknown scheme"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_urls_name_the_accepted_forms() {
        for url in [
            "redis://x:1",
            "etcd://nohost",
            "etcd://h:notaport",
            "file://relative/x.redb",
            "",
        ] {
            let err = open(url).await.expect_err("must fail");
            assert!(matches!(err, StoreError::BadUrl { .. }), "{url}: {err}");
            assert!(err.to_string().contains("etcd://HOST:PORT"), "{err}");
        }
    }

    #[test]
    fn counter_parse() {
        assert_eq!(parse_counter("k", b"41").ok(), Some(41));
        assert!(matches!(
            parse_counter("k", b"x"),
            Err(StoreError::BadValue { .. })
        ));
    }
}
