//! The contract against the embedded store, and what only the embedded file promises.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use df_store::{EmbeddedOptions, EmbeddedStore, Expect, Store, StoreError};

use crate::suite::{events_until, next_item};

pub struct Fixture {
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn fixture(_test: &str) -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path().join("nb.redb"), EmbeddedOptions::default())
        .await
        .expect("open");
    Some(Fixture {
        store: Arc::new(store),
        _dir: dir,
    })
}

all_contract_tests!(fixture);

async fn open(path: &std::path::Path) -> EmbeddedStore {
    EmbeddedStore::open(path, EmbeddedOptions::default())
        .await
        .expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_keeps_data_revision_history_and_leases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nb.redb");
    let store = open(&path).await;
    let first = store
        .put("/df/lport/p1", b"{\"id\":\"p1\"}", Expect::Absent, None)
        .await
        .expect("put");
    store
        .put("/df/lport/p2", b"{\"id\":\"p2\"}", Expect::Absent, None)
        .await
        .expect("put");
    store
        .delete("/df/lport/p2", Expect::Any)
        .await
        .expect("delete");
    let lease = store.grant_lease(60).await.expect("grant");
    store
        .put("/df/chassis/c1", b"{}", Expect::Any, Some(lease))
        .await
        .expect("put");
    let before = store.list("/").await.expect("list");
    let status = store.status().await.expect("status");
    drop(store); // no shutdown call: Drop is all there is
    let store = open(&path).await;
    assert_eq!(store.list("/").await.expect("list"), before);
    assert_eq!(store.status().await.expect("status"), status);
    // History survived too: a watch from the first write replays everything.
    let mut w = store.watch("/df/", first).await.expect("watch");
    assert_eq!(events_until(&mut w, status.revision).await.len(), 4);
    // The lease survived (with a fresh TTL) and can still be revoked.
    store
        .keep_alive(lease)
        .await
        .expect("lease kept across reopen");
    store.revoke_lease(lease).await.expect("revoke");
    assert_eq!(store.get("/df/chassis/c1").await.expect("get"), None);
    // Lease ids are not reused.
    assert!(store.grant_lease(5).await.expect("grant").0 > lease.0);
}

/// The child half of `crash_keeps_acknowledged_writes`: writes until the parent's
/// threshold, printing each acknowledged revision, then aborts (no destructors run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Some(path) = std::env::var_os("DF_STORE_CRASH_CHILD") else {
        return;
    };
    let store = Arc::new(open(std::path::Path::new(&path)).await);
    let writer = Arc::clone(&store);
    // Writes continue in another task while the process aborts, so the crash can land
    // in the middle of a commit.
    let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        for i in 0u32.. {
            let key = format!("/df/crash/{i}");
            let value = vec![b'x'; 100 + (i as usize % 7) * 1000];
            match writer.put(&key, &value, Expect::Absent, None).await {
                Ok(rev) => {
                    if ack_tx.send((key, rev)).is_err() {
                        return;
                    }
                }
                Err(e) => panic!("write failed: {e}"),
            }
        }
    });
    let mut out = std::io::stdout();
    let mut acks = 0;
    while let Some((key, rev)) = ack_rx.recv().await {
        writeln!(out, "ACK {key} {rev}").expect("stdout");
        out.flush().expect("stdout");
        acks += 1;
        if acks == 60 {
            std::process::abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nb.redb");
    let exe = std::env::current_exe().expect("test binary");
    let child = Command::new(exe)
        .args([
            "--exact",
            "embedded::crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DF_STORE_CRASH_CHILD", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the crashing child");
    let output = child.wait_with_output().expect("child output");
    assert!(!output.status.success(), "the child must have aborted");
    let acked: Vec<(String, i64)> = BufReader::new(output.stdout.as_slice())
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            // libtest may print "test ... " on the same line as the first ACK.
            let mut parts = l.split("ACK ").nth(1)?.split(' ');
            Some((parts.next()?.to_string(), parts.next()?.parse().ok()?))
        })
        .collect();
    assert_eq!(
        acked.len(),
        60,
        "the child acknowledged 60 writes before aborting"
    );
    let store = open(&path).await;
    for (key, rev) in &acked {
        let kv = store
            .get(key)
            .await
            .expect("get")
            .unwrap_or_else(|| panic!("{key} acknowledged but lost"));
        assert_eq!(kv.mod_revision, *rev);
    }
    let status = store.status().await.expect("status");
    assert!(status.revision >= acked.last().map_or(0, |a| a.1));
    // The store is usable after recovery.
    store
        .put("/df/after-crash", b"ok", Expect::Absent, None)
        .await
        .expect("write after recovery");
}

#[tokio::test]
async fn second_open_is_locked_and_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nb.redb");
    let _first = open(&path).await;
    match EmbeddedStore::open(&path, EmbeddedOptions::default()).await {
        Err(e @ StoreError::Locked { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(&path.display().to_string()) && msg.contains("dfswitchd"),
                "{msg}"
            );
        }
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_file_is_corrupt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nb.redb");
    std::fs::write(&path, vec![0x5a; 8192]).expect("write garbage");
    match EmbeddedStore::open(&path, EmbeddedOptions::default()).await {
        Err(e @ StoreError::Corrupt { .. }) => assert!(e.to_string().contains("nb.redb"), "{e}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn foreign_redb_file_is_rejected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("other.redb");
    {
        const OTHER: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("someone_else");
        let db = redb::Database::create(&path).expect("create");
        let txn = db.begin_write().expect("txn");
        txn.open_table(OTHER)
            .expect("table")
            .insert(1, 2)
            .expect("insert");
        txn.commit().expect("commit");
    }
    match EmbeddedStore::open(&path, EmbeddedOptions::default()).await {
        Err(e @ StoreError::Corrupt { .. }) => {
            assert!(e.to_string().contains("without NB store metadata"), "{e}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_window_is_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = EmbeddedOptions {
        history_limit: 10,
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedStore::open(dir.path().join("nb.redb"), options)
        .await
        .expect("open");
    let mut last = 0;
    for i in 0..30 {
        last = store
            .put(&format!("/h/{i}"), b"x", Expect::Any, None)
            .await
            .expect("put");
    }
    assert_eq!(store.history_len().await.expect("len"), 10);
    let status = store.status().await.expect("status");
    assert_eq!(status.compact_revision, last - 9);
    let mut w = store.watch("/h/", 2).await.expect("watch");
    match next_item(&mut w).await {
        Some(Err(StoreError::Compacted {
            requested: 2,
            compact_revision,
        })) => assert_eq!(compact_revision, last - 9),
        other => panic!("expected Compacted, got {other:?}"),
    }
    let mut w = store.watch("/h/", last - 9).await.expect("watch");
    assert_eq!(events_until(&mut w, last).await.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_gets_everything_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir.path().join("nb.redb")).await;
    let mut w = store.watch("/s/", 0).await.expect("watch");
    let mut last = 0;
    // More batches than the stream buffers, none read until all are written.
    for i in 0..200 {
        last = store
            .put(&format!("/s/{i}"), b"x", Expect::Any, None)
            .await
            .expect("put");
    }
    let revs: Vec<i64> = events_until(&mut w, last)
        .await
        .iter()
        .map(df_store::Event::mod_revision)
        .collect();
    assert_eq!(revs.len(), 200);
    assert!(revs.windows(2).all(|p| p[1] == p[0] + 1));
}

#[tokio::test]
async fn watch_ends_when_the_store_is_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nb.redb");
    let store = open(&path).await;
    let mut w = store.watch("/", 0).await.expect("watch");
    drop(store);
    assert!(matches!(
        next_item(&mut w).await,
        Some(Err(StoreError::Unavailable { .. }))
    ));
    assert!(next_item(&mut w).await.is_none());
    // And the file is free again.
    let _again = open(&path).await;
}

#[tokio::test]
async fn open_by_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("file://{}", dir.path().join("nb.redb").display());
    let store = df_store::open(&url).await.expect("open by URL");
    assert_eq!(store.status().await.expect("status").backend, "embedded");
}
