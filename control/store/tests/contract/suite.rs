//! The store contract: one function per promise of `df_store::Store`, each run against
//! every backend by `tests/contract.rs`. Waits are bounded (10 s); nothing asserts a
//! duration except "within 10 s".

use std::sync::Arc;
use std::time::Duration;

use df_store::{
    allocate_unique_key, Event, Expect, LeaseId, Revision, Store, StoreError, WatchBatch,
    WatchStream,
};

pub const WAIT: Duration = Duration::from_secs(10);

/// The next item of a watch, failing the test if none comes within 10 s.
pub async fn next_item(w: &mut WatchStream) -> Option<Result<WatchBatch, StoreError>> {
    tokio::time::timeout(WAIT, w.next())
        .await
        .expect("watch delivered nothing within 10 s")
}

/// Events from `w` until one at revision `until` or later has arrived.
pub async fn events_until(w: &mut WatchStream, until: Revision) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        let batch = next_item(w)
            .await
            .expect("watch ended")
            .expect("watch failed");
        assert!(!batch.events.is_empty(), "empty batch");
        assert_eq!(
            batch.revision,
            batch
                .events
                .last()
                .map(Event::mod_revision)
                .unwrap_or_default()
        );
        out.extend(batch.events);
        if batch.revision >= until {
            return out;
        }
    }
}

fn put_event(e: &Event) -> Option<(&str, &[u8], Revision)> {
    match e {
        Event::Put(kv) => Some((kv.key.as_str(), kv.value.as_slice(), kv.mod_revision)),
        Event::Delete { .. } => None,
    }
}

pub async fn get_put_delete(s: Arc<dyn Store>) {
    assert_eq!(s.get("/t/k").await.expect("get"), None);
    let r1 = s.put("/t/k", b"v1", Expect::Any, None).await.expect("put");
    let kv = s.get("/t/k").await.expect("get").expect("present");
    assert_eq!((kv.key.as_str(), kv.value.as_slice()), ("/t/k", &b"v1"[..]));
    assert_eq!(
        (kv.create_revision, kv.mod_revision, kv.version, kv.lease),
        (r1, r1, 1, None)
    );
    let r2 = s.put("/t/k", b"v2", Expect::Any, None).await.expect("put");
    let kv = s.get("/t/k").await.expect("get").expect("present");
    assert_eq!(
        (
            kv.value.as_slice(),
            kv.create_revision,
            kv.mod_revision,
            kv.version
        ),
        (&b"v2"[..], r1, r2, 2)
    );
    let r3 = s.delete("/t/k", Expect::Any).await.expect("delete");
    assert!(matches!(r3, Some(r) if r > r2), "{r3:?}");
    assert_eq!(s.get("/t/k").await.expect("get"), None);
    assert_eq!(
        s.delete("/t/k", Expect::Any).await.expect("delete absent"),
        None
    );
    // Re-created: a new create revision and version 1.
    let r4 = s
        .put("/t/k", b"v3", Expect::Absent, None)
        .await
        .expect("re-create");
    let kv = s.get("/t/k").await.expect("get").expect("present");
    assert_eq!((kv.create_revision, kv.version), (r4, 1));
    // Binary values are kept as they are.
    let bytes: Vec<u8> = (0..=255).collect();
    s.put("/t/bin", &bytes, Expect::Any, None)
        .await
        .expect("put binary");
    assert_eq!(
        s.get("/t/bin").await.expect("get").expect("present").value,
        bytes
    );
}

pub async fn cas_absent(s: Arc<dyn Store>) {
    let r1 = s
        .put("/t/a", b"1", Expect::Absent, None)
        .await
        .expect("create");
    match s.put("/t/a", b"2", Expect::Absent, None).await {
        Err(StoreError::Conflict { key, current }) => {
            assert_eq!((key.as_str(), current), ("/t/a", Some(r1)))
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        s.get("/t/a").await.expect("get").expect("present").value,
        b"1"
    );
    match s.delete("/t/a", Expect::Absent).await {
        Err(StoreError::Conflict { current, .. }) => assert_eq!(current, Some(r1)),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        s.delete("/t/none", Expect::Absent)
            .await
            .expect("absent delete"),
        None
    );
}

pub async fn cas_mod_revision(s: Arc<dyn Store>) {
    let r1 = s.put("/t/m", b"1", Expect::Any, None).await.expect("put");
    let r2 = s
        .put("/t/m", b"2", Expect::ModRevision(r1), None)
        .await
        .expect("cas");
    assert!(r2 > r1);
    match s.put("/t/m", b"3", Expect::ModRevision(r1), None).await {
        Err(StoreError::Conflict { key, current }) => {
            assert_eq!((key.as_str(), current), ("/t/m", Some(r2)))
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    match s
        .put("/t/absent", b"x", Expect::ModRevision(r1), None)
        .await
    {
        Err(StoreError::Conflict { current, .. }) => assert_eq!(current, None),
        other => panic!("expected Conflict, got {other:?}"),
    }
    match s.delete("/t/m", Expect::ModRevision(r1)).await {
        Err(e @ StoreError::Conflict { .. }) => assert!(e.to_string().contains("/t/m"), "{e}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let r3 = s
        .delete("/t/m", Expect::ModRevision(r2))
        .await
        .expect("cas delete");
    assert!(matches!(r3, Some(r) if r > r2));
}

pub async fn list_is_one_revision(s: Arc<dyn Store>) {
    let mut written = Vec::new();
    for i in 0..5 {
        let key = format!("/t/lport/p{i}");
        let rev = s
            .put(&key, format!("v{i}").as_bytes(), Expect::Any, None)
            .await
            .expect("put");
        written.push((key, rev));
    }
    s.put("/t/lportx", b"not under /t/lport/", Expect::Any, None)
        .await
        .expect("put");
    let last = s
        .put("/t/lswitch/s1", b"other", Expect::Any, None)
        .await
        .expect("put");
    let (kvs, rev) = s.list("/t/lport/").await.expect("list");
    assert_eq!(rev, last, "list revision is the store revision");
    let got: Vec<(String, Revision)> = kvs
        .iter()
        .map(|kv| (kv.key.clone(), kv.mod_revision))
        .collect();
    assert_eq!(got, written);
    assert_eq!(kvs[3].value, b"v3");
    let (all, _) = s.list("/t/").await.expect("list all");
    assert_eq!(all.len(), 7);
    let (none, _) = s.list("/nothing/").await.expect("empty list");
    assert!(none.is_empty());
}

pub async fn revisions_increase(s: Arc<dyn Store>) {
    let start = s.status().await.expect("status").revision;
    let mut prev = start;
    for i in 0..20 {
        let key = format!("/t/r{}", i % 3);
        let rev = s.put(&key, b"x", Expect::Any, None).await.expect("put");
        assert!(rev > prev, "revision {rev} after {prev}");
        assert_eq!(
            s.get(&key)
                .await
                .expect("get")
                .expect("present")
                .mod_revision,
            rev
        );
        prev = rev;
    }
    let status = s.status().await.expect("status");
    assert_eq!(status.revision, prev);
}

pub async fn watch_replays_history(s: Arc<dyn Store>) {
    let r1 = s.put("/t/w/a", b"1", Expect::Any, None).await.expect("put");
    let r2 = s.put("/t/w/b", b"2", Expect::Any, None).await.expect("put");
    s.put("/t/other", b"-", Expect::Any, None)
        .await
        .expect("put");
    let r3 = s
        .delete("/t/w/a", Expect::Any)
        .await
        .expect("delete")
        .expect("deleted");
    let r4 = s.put("/t/w/b", b"3", Expect::Any, None).await.expect("put");
    assert!(r1 < r2 && r2 < r3 && r3 < r4);
    let mut w = s.watch("/t/w/", r2).await.expect("watch");
    let events = events_until(&mut w, r4).await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(put_event(&events[0]), Some(("/t/w/b", &b"2"[..], r2)));
    assert_eq!(
        events[1],
        Event::Delete {
            key: "/t/w/a".to_string(),
            mod_revision: r3
        }
    );
    assert_eq!(put_event(&events[2]), Some(("/t/w/b", &b"3"[..], r4)));
    // The same watch goes on with live events.
    let r5 = s.put("/t/w/c", b"4", Expect::Any, None).await.expect("put");
    let events = events_until(&mut w, r5).await;
    assert_eq!(
        events.iter().map(Event::mod_revision).collect::<Vec<_>>(),
        vec![r5]
    );
}

pub async fn watch_from_now(s: Arc<dyn Store>) {
    s.put("/t/n/old", b"1", Expect::Any, None)
        .await
        .expect("put");
    let current = s.status().await.expect("status").revision;
    let mut from_next = s.watch("/t/n/", current + 1).await.expect("watch");
    let mut from_zero = s.watch("/t/n/", 0).await.expect("watch");
    let r = s
        .put("/t/n/new", b"2", Expect::Any, None)
        .await
        .expect("put");
    for w in [&mut from_next, &mut from_zero] {
        let events = events_until(w, r).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].key(), "/t/n/new");
    }
    // Many writes arrive in order, whatever the batching.
    let mut last = r;
    for i in 0..30 {
        last = s
            .put(&format!("/t/n/k{i}"), b"x", Expect::Any, None)
            .await
            .expect("put");
    }
    let revs: Vec<Revision> = events_until(&mut from_next, last)
        .await
        .iter()
        .map(Event::mod_revision)
        .collect();
    assert_eq!(revs.len(), 30);
    assert!(revs.windows(2).all(|p| p[0] < p[1]), "{revs:?}");
}

pub async fn watch_after_compaction(s: Arc<dyn Store>) {
    let mut revs = Vec::new();
    for i in 0..5 {
        revs.push(
            s.put(&format!("/t/c/{i}"), b"x", Expect::Any, None)
                .await
                .expect("put"),
        );
    }
    s.compact(revs[2]).await.expect("compact");
    assert_eq!(s.status().await.expect("status").compact_revision, revs[2]);
    let mut w = s
        .watch("/t/c/", revs[0])
        .await
        .expect("watch is created, the error comes through it");
    match next_item(&mut w).await {
        Some(Err(StoreError::Compacted {
            requested,
            compact_revision,
        })) => {
            assert_eq!((requested, compact_revision), (revs[0], revs[2]));
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    assert!(
        next_item(&mut w).await.is_none(),
        "the stream ends after an error"
    );
    let mut w = s.watch("/t/c/", revs[3]).await.expect("watch");
    let got: Vec<Revision> = events_until(&mut w, revs[4])
        .await
        .iter()
        .map(Event::mod_revision)
        .collect();
    assert_eq!(got, revs[3..].to_vec());
    assert!(matches!(
        s.compact(revs[1]).await,
        Err(StoreError::Compacted { .. })
    ));
    assert!(matches!(
        s.compact(revs[4] + 100).await,
        Err(StoreError::FutureRevision { .. })
    ));
}

pub async fn lease_expiry_deletes_keys(s: Arc<dyn Store>) {
    assert!(matches!(
        s.put("/t/l/x", b"x", Expect::Any, Some(LeaseId(0x7eadbeef)))
            .await,
        Err(StoreError::LeaseNotFound { lease: 0x7eadbeef })
    ));
    let lease = s.grant_lease(2).await.expect("grant");
    let r1 = s
        .put("/t/l/a", b"1", Expect::Any, Some(lease))
        .await
        .expect("put");
    s.put("/t/l/b", b"2", Expect::Absent, Some(lease))
        .await
        .expect("put");
    s.put("/t/l/keep", b"3", Expect::Any, None)
        .await
        .expect("put");
    assert_eq!(
        s.get("/t/l/a").await.expect("get").expect("present").lease,
        Some(lease)
    );
    let mut w = s.watch("/t/l/", r1 + 1).await.expect("watch");
    let mut deleted = Vec::new();
    while deleted.len() < 2 {
        let batch = next_item(&mut w)
            .await
            .expect("watch ended")
            .expect("watch failed");
        for e in batch.events {
            if let Event::Delete { key, .. } = e {
                deleted.push(key);
            }
        }
    }
    deleted.sort();
    assert_eq!(deleted, ["/t/l/a", "/t/l/b"]);
    assert_eq!(s.get("/t/l/a").await.expect("get"), None);
    assert!(s.get("/t/l/keep").await.expect("get").is_some());
    assert!(matches!(
        s.keep_alive(lease).await,
        Err(StoreError::LeaseNotFound { .. })
    ));
}

pub async fn keep_alive_extends(s: Arc<dyn Store>) {
    let lease = s.grant_lease(2).await.expect("grant");
    s.put("/t/ka", b"1", Expect::Any, Some(lease))
        .await
        .expect("put");
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        s.keep_alive(lease).await.expect("keep alive");
    }
    assert!(
        s.get("/t/ka").await.expect("get").is_some(),
        "the key outlived its TTL while kept alive"
    );
    s.revoke_lease(lease).await.expect("revoke");
    assert_eq!(
        s.get("/t/ka").await.expect("get"),
        None,
        "revoke deletes the lease's keys"
    );
    assert!(matches!(
        s.keep_alive(lease).await,
        Err(StoreError::LeaseNotFound { .. })
    ));
    assert!(matches!(
        s.revoke_lease(lease).await,
        Err(StoreError::LeaseNotFound { .. })
    ));
}

pub async fn unique_keys_concurrent(s: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            allocate_unique_key(s.as_ref(), "/t/unique_key/lport").await
        }));
    }
    let mut keys = Vec::new();
    for t in tasks {
        keys.push(t.await.expect("task").expect("allocate"));
    }
    keys.sort_unstable();
    assert_eq!(keys, (1..=8).collect::<Vec<u32>>());
    assert_eq!(
        allocate_unique_key(s.as_ref(), "/t/unique_key/lport")
            .await
            .expect("allocate"),
        9
    );
    assert_eq!(
        allocate_unique_key(s.as_ref(), "/t/unique_key/lswitch")
            .await
            .expect("allocate"),
        1
    );
    s.put("/t/unique_key/bad", b"x", Expect::Any, None)
        .await
        .expect("put");
    assert!(matches!(
        allocate_unique_key(s.as_ref(), "/t/unique_key/bad").await,
        Err(StoreError::BadValue { .. })
    ));
}

pub async fn bad_arguments(s: Arc<dyn Store>) {
    assert!(matches!(
        s.put("", b"x", Expect::Any, None).await,
        Err(StoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        s.grant_lease(0).await,
        Err(StoreError::InvalidArgument { .. })
    ));
    let status = s.status().await.expect("status");
    assert!(status.revision >= 1);
    assert!(["embedded", "etcd"].contains(&status.backend));
    assert!(!status.endpoint.is_empty());
}
