//! The management protocol end to end: a test handler served on a temporary
//! socket, spoken to by `Client` and by raw sockets.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use df_mgmt::views::StatusView;
use df_mgmt::{
    handle_store, serve, Client, ErrorKind, Failure, Handler, HandlerFuture, MgmtError, Request,
    StoreRequest,
};
use df_store::{EmbeddedOptions, EmbeddedStore, Expect, Store};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::watch;

struct TestHandler {
    store: Arc<dyn Store>,
}

impl Handler for TestHandler {
    fn handle(&self, req: Request) -> HandlerFuture<'_> {
        Box::pin(async move {
            match req {
                Request::Status => Ok(serde_json::to_value(StatusView {
                    chassis: "host1".into(),
                    uptime_secs: 1.5,
                    ..Default::default()
                })
                .map_err(|e| Failure::from(e.to_string()))?),
                Request::Tables { vertex } => Ok(json!({ "asked": vertex })),
                Request::TraceLive { count } => {
                    tokio::time::sleep(Duration::from_millis(u64::from(count))).await;
                    Ok(json!({ "armed": count }))
                }
                Request::TraceRead => panic!("handler bug"),
                Request::Store(s) => handle_store(self.store.as_ref(), s).await,
                other => Err(Failure::unsupported(other.op())),
            }
        })
    }
}

struct Server {
    path: PathBuf,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run").join("dfswitchd.sock");
    let store = EmbeddedStore::open(dir.path().join("nb.redb"), EmbeddedOptions::default())
        .await
        .unwrap();
    let handler = Arc::new(TestHandler {
        store: Arc::new(store),
    });
    let (stop, rx) = watch::channel(false);
    let p = path.clone();
    let task = tokio::spawn(async move { serve(&p, handler, rx).await });
    for _ in 0..200 {
        if UnixStream::connect(&path).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Server {
        path,
        stop,
        task,
        _dir: dir,
    }
}

async fn raw_lines(path: &Path, send: &[u8], answers: usize) -> Vec<Value> {
    let stream = UnixStream::connect(path).await.unwrap();
    let (r, mut w) = stream.into_split();
    w.write_all(send).await.unwrap();
    let mut reader = BufReader::new(r);
    let mut out = Vec::new();
    for _ in 0..answers {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        out.push(serde_json::from_str(&line).unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips() {
    let s = start().await;
    let mode = std::fs::metadata(&s.path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let c = Client::connect(&s.path).await.unwrap();
    let status: StatusView =
        serde_json::from_value(c.call(&Request::Status).await.unwrap()).unwrap();
    assert_eq!(status.chassis, "host1");
    assert_eq!(
        c.call(&Request::Tables {
            vertex: Some("l2".into())
        })
        .await
        .unwrap(),
        json!({"asked": "l2"})
    );
    let err = c.call(&Request::Graph).await.unwrap_err();
    assert_eq!(err.kind(), Some(ErrorKind::Unsupported));
    assert!(
        err.to_string().contains("does not implement `graph`"),
        "{err}"
    );
    assert!(!err.is_unreachable());

    // The store proxy, through the typed client calls.
    assert_eq!(c.store_get("/dragonflow/lswitch/n1").await.unwrap(), None);
    let rev = c
        .store_put("/dragonflow/lswitch/n1", r#"{"id":"n1"}"#, Expect::Absent)
        .await
        .unwrap();
    let kv = c
        .store_get("/dragonflow/lswitch/n1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kv.value, br#"{"id":"n1"}"#);
    assert_eq!(kv.mod_revision, rev);
    let conflict = c
        .store_put("/dragonflow/lswitch/n1", "{}", Expect::Absent)
        .await
        .unwrap_err();
    assert_eq!(conflict.kind(), Some(ErrorKind::Conflict));
    c.store_put("/dragonflow/lswitch/n1", "{}", Expect::ModRevision(rev))
        .await
        .unwrap();
    let (kvs, _) = c.store_list("/dragonflow/").await.unwrap();
    assert_eq!(kvs.len(), 1);
    assert_eq!(c.store_allocate_unique_key("lport").await.unwrap(), 1);
    assert_eq!(c.store_allocate_unique_key("lport").await.unwrap(), 2);
    let bad = c.store_allocate_unique_key("lsubnet").await.unwrap_err();
    assert_eq!(bad.kind(), Some(ErrorKind::BadRequest));
    assert!(c.store_delete("/dragonflow/lswitch/n1").await.unwrap());
    assert!(!c.store_delete("/dragonflow/lswitch/n1").await.unwrap());
    assert_eq!(c.store_status().await.unwrap().backend, "embedded");

    // A raw put with a JSON (non-string) value is stored as its text.
    let v = raw_lines(
        &s.path,
        b"{\"op\":\"store\",\"action\":\"put\",\"key\":\"/k\",\"value\":{\"a\":1}}\n\
          {\"op\":\"store\",\"action\":\"get\",\"key\":\"/k\"}\n",
        2,
    )
    .await;
    assert_eq!(v[0]["ok"], json!(true));
    assert_eq!(v[1]["result"]["value"], json!("{\"a\":1}"));

    let _ = s.stop.send(true);
    s.task.await.unwrap().unwrap();
    assert!(!s.path.exists(), "the socket file is removed on stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_answered_and_the_connection_goes_on() {
    let s = start().await;
    let mut big = vec![b'x'; df_mgmt::MAX_REQUEST_LINE + 10];
    big.push(b'\n');
    let mut send = b"this is not json\n{\"op\":\"nope\"}\n\n".to_vec();
    send.extend_from_slice(&big);
    send.extend_from_slice(b"{\"op\":\"trace-read\"}\n{\"op\":\"status\"}\n");
    let v = raw_lines(&s.path, &send, 5).await;
    assert_eq!(v[0]["ok"], json!(false));
    assert_eq!(v[0]["kind"], json!("bad-request"));
    assert!(v[0]["error"]
        .as_str()
        .unwrap()
        .contains("cannot read the request"));
    assert_eq!(v[1]["kind"], json!("bad-request"));
    assert!(
        v[2]["error"].as_str().unwrap().contains("longer than"),
        "{}",
        v[2]
    );
    // A panicking handler costs one answer, not the connection.
    assert_eq!(v[3]["kind"], json!("failed"));
    assert!(v[3]["error"].as_str().unwrap().contains("bug"), "{}", v[3]);
    assert_eq!(v[4]["result"]["chassis"], json!("host1"));
    let _ = s.stop.send(true);
    s.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients() {
    let s = start().await;
    let mut tasks = Vec::new();
    for i in 0..16u32 {
        let path = s.path.clone();
        tasks.push(tokio::spawn(async move {
            let c = Client::connect(&path).await.unwrap();
            for j in 0..20u32 {
                let n = (i * 7 + j) % 5;
                let v = c.call(&Request::TraceLive { count: n }).await.unwrap();
                assert_eq!(v, json!({ "armed": n }));
            }
            // Concurrent unique keys never repeat.
            c.store_allocate_unique_key("lswitch").await.unwrap()
        }));
    }
    let mut keys = Vec::new();
    for t in tasks {
        keys.push(t.await.unwrap());
    }
    keys.sort_unstable();
    assert_eq!(keys, (1..=16).collect::<Vec<u32>>());
    let _ = s.stop.send(true);
    s.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.sock");
    let err = Client::connect(&path).await.unwrap_err();
    assert!(matches!(err, MgmtError::Unreachable { .. }));
    assert!(err.is_unreachable());
    let text = err.to_string();
    assert!(text.contains("cannot connect to dfswitchd at"), "{text}");
    assert!(text.contains("is dfswitchd running?"), "{text}");
    assert!(text.contains("--db etcd://"), "{text}");

    // A server that never answers: the call times out.
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let hold = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(s);
    });
    let c = Client::connect_with_timeout(&path, Duration::from_millis(200))
        .await
        .unwrap();
    let err = c.call(&Request::Status).await.unwrap_err();
    assert!(matches!(err, MgmtError::Timeout { .. }), "{err}");
    assert!(err.is_unreachable());
    // A late answer must not be taken for the next call's.
    let err = c.call(&Request::Status).await.unwrap_err();
    assert!(matches!(err, MgmtError::Disconnected { .. }), "{err}");
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_socket_is_replaced_and_a_live_one_is_not() {
    let s = start().await;
    // A second server on the same path refuses: someone answers there.
    let (_stop, rx) = watch::channel(false);
    let handler = Arc::new(TestHandler {
        store: Arc::new(
            EmbeddedStore::open(s._dir.path().join("other.redb"), EmbeddedOptions::default())
                .await
                .unwrap(),
        ),
    });
    let err = serve(&s.path, handler.clone(), rx).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);

    // A socket file nobody answers on is stale: it is replaced.
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let (stop2, rx2) = watch::channel(false);
    let p = stale.clone();
    let task = tokio::spawn(async move { serve(&p, handler, rx2).await });
    let mut connected = None;
    for _ in 0..200 {
        if let Ok(c) = Client::connect(&stale).await {
            connected = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let c = connected.expect("serves on the stale path");
    assert!(c.call(&Request::Status).await.is_ok());
    let _ = stop2.send(true);
    task.await.unwrap().unwrap();
    let _ = s.stop.send(true);
    s.task.await.unwrap().unwrap();
}

#[test]
fn store_requests_have_ops() {
    assert_eq!(
        Request::Store(StoreRequest::List { prefix: "/".into() }).op(),
        "store list"
    );
}
