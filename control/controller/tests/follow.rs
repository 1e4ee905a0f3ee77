//! The controller against real stores: model objects written to the store
//! make traffic flow through a real datapath graph, deletes stop it, an etcd
//! outage never stops forwarding and changes made around it apply, a
//! compaction during a disconnection ends in a full resync with the right
//! tables, and bad records are reported while the rest applies.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use df_controller::{Follower, Local, Publisher, StatusHandle, SwitchPortBinding};
use df_dp::port::mem::{MemPort, MemPortHandle};
use df_dp::port::Port;
use df_dp::{Batch, ExecConfig, Executor, Graph, RcuDomain, BURST};
use df_store::{Expect, KeyValue, LeaseId, Revision, Status, Store, StoreError, WatchStream};
use tokio::sync::watch;

const N1: &str = r#"{"id":"n1","topic":"t1","unique_key":1,"version":1}"#;

fn lport(id: &str, key: u32, mac: u8) -> String {
    format!(
        r#"{{"id":"{id}","topic":"t1","unique_key":{key},"version":1,"lswitch":"n1","macs":["02:00:00:00:00:{mac:02x}"],"ips":[]}}"#
    )
}

fn frame(dst: u8, src: u8) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, dst, 2, 0, 0, 0, 0, src, 8, 0];
    f.resize(64, 0);
    f
}

/// A datapath with two in-memory ports carrying lports p1 and p2, driven by
/// the test thread.
struct Dp {
    graph: Arc<Graph>,
    ex: Executor,
    ports: Vec<Option<Box<dyn Port>>>,
    h: Vec<MemPortHandle>,
}

impl Dp {
    fn new() -> Dp {
        let graph = Arc::new(
            df_catalog::compile_layout(df_catalog::DEFAULT_LAYOUT, &RcuDomain::new()).unwrap(),
        );
        let ex = Executor::new(
            graph.clone(),
            &ExecConfig {
                ports: 2,
                ..ExecConfig::default()
            },
        );
        let (a, ha) = MemPort::new("sp0");
        let (b, hb) = MemPort::new("sp1");
        Dp {
            graph,
            ex,
            ports: vec![Some(Box::new(a)), Some(Box::new(b))],
            h: vec![ha, hb],
        }
    }

    /// Sends one frame p1 -> p2 and returns how many arrived at p2. The
    /// reader is online only while pumping, so control can publish.
    fn p1_to_p2(&mut self) -> usize {
        let mut reader = self.graph.rcu().register();
        self.h[0].inject(&frame(2, 1));
        let mut b = Batch::with_capacity(BURST);
        if let Some(p) = self.ports[0].as_mut() {
            if p.rx_burst(self.ex.pool_mut(), &mut b) > 0 {
                self.ex.process(0, &mut b, &reader);
                self.ex.flush(&mut self.ports);
            }
        }
        reader.quiescent();
        drop(reader);
        self.h[1].take_tx().len()
    }
}

fn local() -> Local {
    Local {
        chassis: "host1".into(),
        ports: vec![
            SwitchPortBinding {
                port: 0,
                name: "sp0".into(),
                iface_id: "p1".into(),
            },
            SwitchPortBinding {
                port: 1,
                name: "sp1".into(),
                iface_id: "p2".into(),
            },
        ],
        uplinks: Vec::new(),
        underlay: None,
    }
}

async fn wait_for(
    status: &StatusHandle,
    what: &str,
    f: impl Fn(&df_controller::ControllerStatus) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if f(&status.lock().unwrap()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            status.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn put(s: &dyn Store, table: &str, id: &str, json: &str) -> Revision {
    s.put(
        &format!("/dragonflow/{table}/{id}"),
        json.as_bytes(),
        Expect::Any,
        None,
    )
    .await
    .unwrap()
}

/// Sends frames until one arrives (or 10 s pass): the follower publishes
/// asynchronously after a write.
async fn flows(dp: &mut Dp) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if dp.p1_to_p2() > 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn start(
    store: Arc<dyn Store>,
    dp: &Dp,
) -> (
    StatusHandle,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let f = Follower::new(
        store,
        "/dragonflow/",
        local(),
        Publisher::new(dp.graph.clone()),
    );
    let status = f.status();
    let (tx, rx) = watch::channel(false);
    let h = tokio::spawn(f.run(rx, None));
    (status, tx, h)
}

async fn create_delete_cycle(store: Arc<dyn Store>) {
    let mut dp = Dp::new();
    assert_eq!(dp.p1_to_p2(), 0, "nothing configured yet");
    let (status, stop, task) = start(store.clone(), &dp);
    put(&*store, "lswitch", "n1", N1).await;
    put(&*store, "lport", "p1", &lport("p1", 11, 1)).await;
    let rev = put(&*store, "lport", "p2", &lport("p2", 12, 2)).await;
    wait_for(&status, "revision", |s| s.revision >= rev).await;
    assert!(
        flows(&mut dp).await,
        "traffic flows once the model is in the store"
    );
    // A malformed record and an unknown field are reported; the rest applies.
    store
        .put("/dragonflow/lport/bad", b"{oops", Expect::Any, None)
        .await
        .unwrap();
    let rev = put(
        &*store,
        "lport",
        "p3",
        r#"{"id":"p3","topic":"t1","lswitch":"n1","colour":"red"}"#,
    )
    .await;
    wait_for(&status, "errors", |s| {
        s.revision >= rev && s.errors.len() == 2
    })
    .await;
    {
        let s = status.lock().unwrap();
        assert!(
            s.errors
                .iter()
                .any(|(k, e)| k == "/dragonflow/lport/p3" && e.contains("unknown field `colour`")),
            "{:?}",
            s.errors
        );
    }
    assert!(flows(&mut dp).await);
    // A dangling reference parks the object; it is reported.
    let rev = put(
        &*store,
        "lport",
        "p4",
        &lport("p4", 14, 4).replace("\"n1\"", "\"n9\""),
    )
    .await;
    wait_for(&status, "parked", |s| {
        s.revision >= rev && s.parked.iter().any(|(k, _)| k == "lport/p4")
    })
    .await;
    // Deleting p2 stops the traffic.
    let rev = store
        .delete("/dragonflow/lport/p2", Expect::Any)
        .await
        .unwrap()
        .unwrap();
    wait_for(&status, "delete", |s| s.revision >= rev).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(dp.p1_to_p2(), 0, "deleting the port stops the traffic");
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_drives_the_datapath() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}/nb.redb", dir.path().display());
    let store = df_store::open(&url).await.unwrap();
    create_delete_cycle(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_drives_the_datapath() {
    let Some(e) = df_store::testing::Etcd::start_or_skip("etcd_drives_the_datapath") else {
        return;
    };
    let store = df_store::open(&e.url()).await.unwrap();
    create_delete_cycle(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_outage_keeps_forwarding_and_changes_apply_after_reconnect() {
    let Some(mut e) = df_store::testing::Etcd::start_or_skip("etcd_outage") else {
        return;
    };
    let store = df_store::open(&e.url()).await.unwrap();
    let mut dp = Dp::new();
    let (status, stop, task) = start(store.clone(), &dp);
    put(&*store, "lswitch", "n1", N1).await;
    put(&*store, "lport", "p1", &lport("p1", 11, 1)).await;
    put(&*store, "lport", "p2", &lport("p2", 12, 2)).await;
    assert!(flows(&mut dp).await);
    // etcd goes away for 10 s: forwarding never stops.
    e.stop();
    wait_for(&status, "disconnect", |s| !s.connected).await;
    let t0 = Instant::now();
    let mut sent = 0;
    while t0.elapsed() < Duration::from_secs(10) {
        assert_eq!(
            dp.p1_to_p2(),
            1,
            "forwarding continues while the store is down"
        );
        sent += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent >= 50);
    // Back: a change made right after the restart applies.
    e.start();
    let store2 = df_store::open(&e.url()).await.unwrap();
    let rev = put(&*store2, "lport", "p2", &lport("p2", 12, 7)).await;
    wait_for(&status, "reconnect", |s| s.connected && s.revision >= rev).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        dp.p1_to_p2(),
        0,
        "p2's MAC changed: frames to the old MAC are dropped"
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}

/// A real store behind a gate: closed, every call fails as if the store were
/// unreachable and open watches end, while the test keeps writing to the real
/// store directly (changes made during the controller's outage).
#[derive(Debug)]
struct Gate {
    inner: Arc<dyn Store>,
    closed: Arc<AtomicBool>,
}

impl Gate {
    fn check(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable {
                endpoint: "gate".into(),
                reason: "closed by the test".into(),
            })
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for Gate {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.check()?;
        self.inner.get(key).await
    }
    async fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, Revision), StoreError> {
        self.check()?;
        self.inner.list(prefix).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        expect: Expect,
        lease: Option<LeaseId>,
    ) -> Result<Revision, StoreError> {
        self.check()?;
        self.inner.put(key, value, expect, lease).await
    }
    async fn delete(&self, key: &str, expect: Expect) -> Result<Option<Revision>, StoreError> {
        self.check()?;
        self.inner.delete(key, expect).await
    }
    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError> {
        self.check()?;
        let mut inner = self.inner.watch(prefix, from).await?;
        let closed = self.closed.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    b = inner.next() => match b {
                        Some(b) => if tx.send(b).await.is_err() { return },
                        None => return,
                    },
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {
                        if closed.load(Ordering::SeqCst) {
                            let _ = tx.send(Err(StoreError::Unavailable { endpoint: "gate".into(), reason: "closed".into() })).await;
                            return;
                        }
                    }
                }
            }
        });
        Ok(WatchStream::from_receiver(rx))
    }
    async fn grant_lease(&self, ttl: i64) -> Result<LeaseId, StoreError> {
        self.check()?;
        self.inner.grant_lease(ttl).await
    }
    async fn keep_alive(&self, lease: LeaseId) -> Result<(), StoreError> {
        self.check()?;
        self.inner.keep_alive(lease).await
    }
    async fn revoke_lease(&self, lease: LeaseId) -> Result<(), StoreError> {
        self.check()?;
        self.inner.revoke_lease(lease).await
    }
    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.check()?;
        self.inner.compact(revision).await
    }
    async fn status(&self) -> Result<Status, StoreError> {
        self.check()?;
        self.inner.status().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_during_an_outage_ends_in_a_full_resync() {
    let Some(e) = df_store::testing::Etcd::start_or_skip("compaction_during_outage") else {
        return;
    };
    let real = df_store::open(&e.url()).await.unwrap();
    let closed = Arc::new(AtomicBool::new(false));
    let gated: Arc<dyn Store> = Arc::new(Gate {
        inner: real.clone(),
        closed: closed.clone(),
    });
    let mut dp = Dp::new();
    let (status, stop, task) = start(gated, &dp);
    put(&*real, "lswitch", "n1", N1).await;
    put(&*real, "lport", "p1", &lport("p1", 11, 1)).await;
    put(&*real, "lport", "p2", &lport("p2", 12, 2)).await;
    put(&*real, "lport", "p9", &lport("p9", 19, 9)).await;
    assert!(flows(&mut dp).await);
    let relists = status.lock().unwrap().relists;
    closed.store(true, Ordering::SeqCst);
    wait_for(&status, "disconnect", |s| !s.connected).await;
    // While the controller is cut off: p9 goes, p2 changes MAC, history is compacted.
    real.delete("/dragonflow/lport/p9", Expect::Any)
        .await
        .unwrap();
    let rev = put(&*real, "lport", "p2", &lport("p2", 12, 5)).await;
    real.compact(rev).await.unwrap();
    closed.store(false, Ordering::SeqCst);
    wait_for(&status, "resync", |s| {
        s.connected && s.relists > relists && s.revision >= rev
    })
    .await;
    {
        let s = status.lock().unwrap();
        assert_eq!(
            s.last_swept,
            vec!["lport/p9".to_string()],
            "the resync sweeps what vanished"
        );
    }
    assert_eq!(dp.p1_to_p2(), 0, "frames to p2's old MAC no longer pass");
    let mut f = frame(5, 1);
    dp.h[0].inject(&f);
    f.clear();
    assert!(flows_to_new_mac(&mut dp).await, "p2's new MAC is live");
    stop.send(true).unwrap();
    task.await.unwrap();
}

async fn flows_to_new_mac(dp: &mut Dp) -> bool {
    let mut reader = dp.graph.rcu().register();
    dp.h[0].inject(&frame(5, 1));
    let mut b = Batch::with_capacity(BURST);
    if let Some(p) = dp.ports[0].as_mut() {
        let n = p.rx_burst(dp.ex.pool_mut(), &mut b);
        if n > 0 {
            dp.ex.process(0, &mut b, &reader);
            dp.ex.flush(&mut dp.ports);
        }
    }
    reader.quiescent();
    drop(reader);
    !dp.h[1].take_tx().is_empty()
}
