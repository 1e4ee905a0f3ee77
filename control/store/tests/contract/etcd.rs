//! The contract against a real etcd (one per test), and etcd outages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use df_store::testing::Etcd;
use df_store::{EtcdOptions, EtcdStore, Expect, Store, StoreError};

use crate::suite::{events_until, next_item};

pub struct Fixture {
    pub store: Arc<dyn Store>,
    _etcd: Etcd,
}

async fn fixture(test: &str) -> Option<Fixture> {
    let etcd = Etcd::start_or_skip(test)?;
    let store = df_store::open(&etcd.url())
        .await
        .expect("connect to the test etcd");
    Some(Fixture { store, _etcd: etcd })
}

all_contract_tests!(fixture);

/// Polls `f` until it succeeds, for at most 10 s.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match f().await {
            Ok(v) => return v,
            Err(e) if Instant::now() < deadline => {
                assert!(
                    e.is_unavailable(),
                    "{what}: only Unavailable is expected while etcd restarts, got {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{what}: still failing after 10 s: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_is_reported_fast_and_recovered() {
    let Some(mut etcd) = Etcd::start_or_skip("outage_is_reported_fast_and_recovered") else {
        return;
    };
    let store = df_store::open(&etcd.url()).await.expect("connect");
    let before = store
        .put("/df/lport/p1", b"1", Expect::Any, None)
        .await
        .expect("put");
    let mut w = store.watch("/df/", before + 1).await.expect("watch");

    etcd.stop();
    let t = Instant::now();
    match next_item(&mut w).await {
        Some(Err(e @ StoreError::Unavailable { .. })) => {
            assert!(e.to_string().contains("is etcd running"), "{e}")
        }
        other => panic!("expected Unavailable on the watch, got {other:?}"),
    }
    assert!(
        next_item(&mut w).await.is_none(),
        "the watch ends after Unavailable"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "watch noticed the outage after {:?}",
        t.elapsed()
    );
    // Every call fails fast while etcd is down, for the 10 s outage the controller must
    // ride out.
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(10) {
        let t = Instant::now();
        let err = store.get("/df/lport/p1").await.expect_err("etcd is down");
        assert!(err.is_unavailable(), "{err}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "get failed only after {:?}",
            t.elapsed()
        );
        let err = store
            .put("/df/lport/p2", b"2", Expect::Absent, None)
            .await
            .expect_err("etcd is down");
        assert!(err.is_unavailable(), "{err}");
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    let err = df_store::open(&etcd.url())
        .await
        .expect_err("open while down");
    assert!(err.is_unavailable(), "{err}");

    etcd.start();
    // The same store object works again: what the controller does after an outage.
    let kv = eventually("get after restart", || store.get("/df/lport/p1")).await;
    assert_eq!(
        kv.map(|kv| kv.mod_revision),
        Some(before),
        "data survived the restart"
    );
    let (_, listed) = store.list("/df/").await.expect("re-list");
    let mut w = store.watch("/df/", listed + 1).await.expect("re-watch");
    let after = store
        .put("/df/lport/p2", b"2", Expect::Absent, None)
        .await
        .expect("put after restart");
    let events = events_until(&mut w, after).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].key(), "/df/lport/p2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_etcd_is_unavailable_then_recovers() {
    let Some(mut etcd) = Etcd::start_or_skip("killed_etcd_is_unavailable_then_recovers") else {
        return;
    };
    let store = df_store::open(&etcd.url()).await.expect("connect");
    let rev = store
        .put("/df/x", b"1", Expect::Any, None)
        .await
        .expect("put");
    etcd.kill();
    let t = Instant::now();
    assert!(store
        .status()
        .await
        .expect_err("etcd was killed")
        .is_unavailable());
    assert!(t.elapsed() < Duration::from_secs(5));
    etcd.start();
    let kv = eventually("get after crash", || store.get("/df/x")).await;
    assert_eq!(
        kv.map(|kv| kv.mod_revision),
        Some(rev),
        "an acknowledged put survives a kill -9"
    );
}

#[tokio::test]
async fn open_without_etcd_is_unavailable_fast() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let t = Instant::now();
    let err = df_store::open(&format!("etcd://127.0.0.1:{port}"))
        .await
        .expect_err("nothing listens");
    assert!(err.is_unavailable(), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("is etcd running at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_watch_outlives_the_request_timeout() {
    let Some(etcd) = Etcd::start_or_skip("idle_watch_outlives_the_request_timeout") else {
        return;
    };
    let options = EtcdOptions {
        request_timeout: Duration::from_secs(1),
        ..EtcdOptions::default()
    };
    let store = EtcdStore::connect(&[etcd.endpoint()], options)
        .await
        .expect("connect");
    let mut w = store.watch("/idle/", 0).await.expect("watch");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let rev = store
        .put("/idle/k", b"v", Expect::Any, None)
        .await
        .expect("put");
    assert_eq!(events_until(&mut w, rev).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_at_one_revision() {
    let Some(etcd) = Etcd::start_or_skip("list_pages_at_one_revision") else {
        return;
    };
    let options = EtcdOptions {
        list_page_size: 7,
        ..EtcdOptions::default()
    };
    let store = EtcdStore::connect(&[etcd.endpoint()], options)
        .await
        .expect("connect");
    let mut expected = Vec::new();
    for i in 0..30 {
        let key = format!("/df/lport/{i:03}");
        store.put(&key, b"x", Expect::Any, None).await.expect("put");
        expected.push(key);
    }
    store
        .put("/df/lportz", b"outside", Expect::Any, None)
        .await
        .expect("put");
    let (kvs, rev) = store.list("/df/lport/").await.expect("list");
    assert_eq!(
        kvs.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(rev, store.status().await.expect("status").revision);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_etcd_is_detected() {
    let Some(mut etcd) = Etcd::start_or_skip("frozen_etcd_is_detected") else {
        return;
    };
    // etcd refuses keep-alive pings more often than every 5 s.
    let options = EtcdOptions {
        keep_alive: (Duration::from_secs(5), Duration::from_secs(1)),
        ..EtcdOptions::default()
    };
    let store = EtcdStore::connect(&[etcd.endpoint()], options)
        .await
        .expect("connect");
    let mut w = store.watch("/df/", 0).await.expect("watch");
    etcd.pause();
    let t = Instant::now();
    let err = store.get("/df/x").await.expect_err("etcd is frozen");
    assert!(err.is_unavailable(), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "get failed only after {:?}",
        t.elapsed()
    );
    // The open watch notices through HTTP/2 keep-alive (interval + timeout).
    match next_item(&mut w).await {
        Some(Err(e)) => assert!(e.is_unavailable(), "{e}"),
        other => panic!("expected Unavailable on the watch, got {other:?}"),
    }
    eprintln!("frozen etcd: watch ended after {:?}", t.elapsed());
    etcd.resume();
    let rev = eventually("put after resume", || {
        store.put("/df/x", b"1", Expect::Any, None)
    })
    .await;
    let mut w = store.watch("/df/", rev).await.expect("re-watch");
    assert_eq!(events_until(&mut w, rev).await.len(), 1);
}
