//! dfctl as an operator runs it: the built binary against an embedded store
//! file, a real etcd, and a test dfswitchd (a `df_mgmt::serve` handler that
//! proxies store requests to an embedded store and answers show/trace with
//! canned views). Exit codes and the messages operators read are pinned.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use df_mgmt::views::{
    CountersView, PortView, StatusView, TraceArmedView, TraceView, VertexCountersView,
};
use df_mgmt::{handle_store, Failure, Handler, HandlerFuture, Request};
use df_store::{EmbeddedOptions, EmbeddedStore, Store};
use serde_json::{json, Value};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Where dfctl finds the NB database.
#[derive(Clone)]
enum Backend {
    Db(String),
    Socket(PathBuf),
}

fn dfctl(backend: &Backend, args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dfctl"));
    cmd.env_remove("DF_DB")
        .env_remove("DF_SOCKET")
        .env_remove("DF_TOPIC");
    match backend {
        Backend::Db(url) => cmd.args(["--db", url]),
        Backend::Socket(p) => cmd.arg("--socket").arg(p),
    };
    let o = cmd.args(args).output().expect("run dfctl");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[track_caller]
fn ok(backend: &Backend, args: &[&str]) -> Out {
    let o = dfctl(backend, args);
    assert_eq!(
        o.code, 0,
        "dfctl {args:?} failed\nstdout: {}\nstderr: {}",
        o.stdout, o.stderr
    );
    o
}

#[track_caller]
fn fails(backend: &Backend, args: &[&str], code: i32, needle: &str) -> Out {
    let o = dfctl(backend, args);
    assert_eq!(
        o.code, code,
        "dfctl {args:?}: expected exit {code}\nstdout: {}\nstderr: {}",
        o.stdout, o.stderr
    );
    assert!(
        o.stderr.contains(needle),
        "dfctl {args:?}: stderr lacks {needle:?}:\n{}",
        o.stderr
    );
    o
}

fn file_backend(dir: &Path) -> Backend {
    Backend::Db(format!("file://{}", dir.join("nb.redb").display()))
}

/// The operator's walk: build a small network, look at it every way, change
/// it, take it apart.
fn scenario(b: &Backend) {
    let o = ok(b, &["network", "create", "net1", "--mtu", "1400"]);
    assert!(o.stdout.starts_with("created network net1"), "{}", o.stdout);
    let net = ok(b, &["--json", "network", "show", "net1"]).json();
    assert_eq!(net["name"], "net1");
    assert_eq!(net["mtu"], 1400);
    assert_eq!(net["version"], 1);
    assert_eq!(net["network_type"], "geneve");
    assert_eq!(net["segmentation_id"], net["unique_key"]);
    let net_id = net["id"].as_str().unwrap().to_string();

    ok(
        b,
        &[
            "subnet",
            "create",
            "sub1",
            "--network",
            "net1",
            "--cidr",
            "10.0.0.0/24",
            "--dns",
            "10.0.0.53",
        ],
    );
    let sub = ok(b, &["subnet", "show", "sub1", "--json"]).json();
    assert_eq!(sub["gateway_ip"], "10.0.0.1");
    assert_eq!(sub["dhcp_ip"], "10.0.0.2");
    assert_eq!(sub["lswitch"], net_id.as_str());
    let sub_id = sub["id"].as_str().unwrap().to_string();

    ok(b, &["security-group", "create", "web"]);
    let o = ok(
        b,
        &[
            "security-group",
            "rule",
            "add",
            "web",
            "--direction",
            "ingress",
            "--protocol",
            "tcp",
            "--port-range",
            "22",
        ],
    );
    assert!(o.stdout.starts_with("added rule "), "{}", o.stdout);
    let sg = ok(b, &["--json", "security-group", "show", "web"]).json();
    assert_eq!(sg["rules"][0]["protocol"], "tcp");
    assert_eq!(sg["rules"][0]["port_range_min"], 22);
    assert_eq!(sg["rules"][0]["port_range_max"], 22);
    assert_eq!(sg["rules"][0]["direction"], "ingress");
    assert_eq!(sg["version"], 2);
    let text = ok(b, &["security-group", "show", "web"]).stdout;
    assert!(text.contains("ingress") && text.contains("tcp"), "{text}");

    let vm1 = ok(b, &["--json", "port", "create", "vm1", "--network", "net1"]).json();
    assert_eq!(vm1["ips"], json!(["10.0.0.3"]));
    assert_eq!(vm1["subnets"], json!([sub_id]));
    assert!(vm1["macs"][0].as_str().unwrap().starts_with("fa:16:3e:"));
    let vm2 = ok(
        b,
        &[
            "--json",
            "port",
            "create",
            "vm2",
            "--network",
            "net1",
            "--ip",
            "10.0.0.20",
            "--mac",
            "fa:16:3e:00:00:20",
            "--security-group",
            "web",
            "--allowed-address-pair",
            "10.0.0.100",
        ],
    )
    .json();
    assert_eq!(vm2["macs"], json!(["fa:16:3e:00:00:20"]));
    assert_eq!(vm2["security_groups"], json!([sg["id"]]));
    assert_eq!(
        vm2["allowed_address_pairs"][0]["mac_address"],
        "fa:16:3e:00:00:20"
    );
    assert_ne!(vm1["unique_key"], vm2["unique_key"]);

    let text = ok(b, &["port", "list"]).stdout;
    for needle in ["vm1", "vm2", "dhcp-net1", "network:dhcp", "10.0.0.20"] {
        assert!(text.contains(needle), "port list lacks {needle}:\n{text}");
    }
    let ports = ok(b, &["--json", "port", "list", "--network", "net1"]).json();
    assert_eq!(ports.as_array().unwrap().len(), 3);

    ok(b, &["router", "create", "r1"]);
    let o = ok(b, &["router", "add-interface", "r1", "--subnet", "sub1"]);
    assert!(
        o.stdout.starts_with("added interface 10.0.0.1/24"),
        "{}",
        o.stdout
    );
    let r1 = ok(b, &["router", "show", "r1", "--json"]).json();
    let rport = &r1["ports"][0];
    assert_eq!(rport["network"], "10.0.0.1/24");
    assert_eq!(rport["lswitch"], net_id.as_str());
    let rif = ok(
        b,
        &["port", "show", rport["id"].as_str().unwrap(), "--json"],
    )
    .json();
    assert_eq!(rif["device_owner"], "network:router_interface");
    assert_eq!(rif["ips"], json!(["10.0.0.1"]));
    assert_eq!(rif["unique_key"], rport["unique_key"]);
    assert_eq!(rif["macs"][0], rport["mac"]);
    ok(
        b,
        &[
            "router",
            "add-route",
            "r1",
            "--destination",
            "192.168.0.0/16",
            "--nexthop",
            "10.0.0.254",
        ],
    );
    let text = ok(b, &["router", "list"]).stdout;
    assert!(text.contains("10.0.0.1/24"), "{text}");

    // df-db's verbs.
    let ids = ok(b, &["db", "ls", "lport"]).stdout;
    assert_eq!(ids.lines().count(), 4, "{ids}");
    assert!(ids.contains(vm1["id"].as_str().unwrap()));
    let objs = ok(b, &["db", "ls", "lport", "--json"]).json();
    assert_eq!(objs.as_array().unwrap().len(), 4);
    let got = ok(b, &["db", "get", "lswitch", &net_id, "--json"]).json();
    assert_eq!(got, net);
    let dump = ok(b, &["db", "dump", "--json"]).json();
    for t in ["lswitch", "lsubnet", "lport", "lrouter", "secgroup"] {
        assert!(dump[t].is_array(), "dump lacks {t}");
    }
    assert!(ok(b, &["db", "dump"]).stdout.contains("== lport =="));
    let tables = ok(b, &["db", "tables"]).stdout;
    assert!(tables.lines().any(|l| l == "lport"), "{tables}");
    assert!(!tables.lines().any(|l| l == "switch_port"), "{tables}");

    // Update merges at the top level and bumps the version.
    let patch = json!({"id": net_id, "mtu": 1500}).to_string();
    let up = ok(b, &["db", "update", "lswitch", "-j", &patch, "--json"]).json();
    assert_eq!(up["mtu"], 1500);
    assert_eq!(up["version"], 2);
    assert_eq!(up["name"], "net1");
    assert_eq!(up["unique_key"], net["unique_key"]);
    let o = ok(b, &["db", "update", "lswitch", "-j", &patch]);
    assert!(o.stderr.contains("nothing written"), "{}", o.stderr);

    let o = ok(
        b,
        &[
            "port",
            "bind",
            "vm1",
            "--chassis",
            "host1",
            "--switch-port",
            "vhost0",
        ],
    );
    assert!(
        o.stderr
            .contains(&format!("iface_id = \"{}\"", vm1["id"].as_str().unwrap())),
        "{}",
        o.stderr
    );
    let bound = ok(b, &["port", "show", "vm1", "--json"]).json();
    assert_eq!(
        bound["binding"],
        json!({"type": "chassis", "chassis": "host1"})
    );
    assert_eq!(bound["version"], 2);

    // Take it apart; what is in use is refused.
    fails(
        b,
        &["network", "delete", "net1"],
        1,
        "network `net1` is in use by ports",
    );
    fails(
        b,
        &["router", "remove-interface", "r1", "--subnet", "sub1"],
        1,
        "del-route",
    );
    ok(
        b,
        &[
            "router",
            "del-route",
            "r1",
            "--destination",
            "192.168.0.0/16",
            "--nexthop",
            "10.0.0.254",
        ],
    );
    ok(b, &["router", "remove-interface", "r1", "--subnet", "sub1"]);
    let r1 = ok(b, &["router", "show", "r1", "--json"]).json();
    assert!(r1.get("ports").is_none(), "{r1}");
    fails(
        b,
        &["port", "show", rport["id"].as_str().unwrap()],
        1,
        "not found",
    );
    fails(
        b,
        &["security-group", "delete", "web"],
        1,
        "used by ports `vm2`",
    );
    ok(b, &["port", "delete", "vm2"]);
    ok(b, &["security-group", "delete", "web"]);
    ok(b, &["port", "delete", "vm1"]);
    let r1_id = r1["id"].as_str().unwrap();
    let o = ok(b, &["db", "rm", "lrouter", r1_id]);
    assert!(o.stdout.contains("deleted lrouter"), "{}", o.stdout);
    fails(
        b,
        &["db", "rm", "lrouter", r1_id],
        1,
        &format!("lrouter `{r1_id}` not found"),
    );
    ok(b, &["network", "delete", "net1"]);
    assert_eq!(ok(b, &["db", "ls", "lport"]).stdout, "");
    assert_eq!(ok(b, &["db", "ls", "lsubnet"]).stdout, "");
    assert_eq!(ok(b, &["--json", "network", "list"]).json(), json!([]));
}

#[test]
fn scenario_on_an_embedded_store_file() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&file_backend(dir.path()));
}

#[test]
fn scenario_on_etcd() {
    let Some(etcd) = df_store::testing::Etcd::start_or_skip("scenario_on_etcd") else {
        return;
    };
    let b = Backend::Db(etcd.url());
    scenario(&b);
    // Errors read the same on etcd.
    fails(
        &b,
        &["port", "create", "x", "--network", "nope"],
        1,
        "network `nope` not found",
    );
}

#[test]
fn errors_name_the_object_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let b = file_backend(dir.path());
    ok(&b, &["network", "create", "net1"]);
    ok(
        &b,
        &[
            "subnet",
            "create",
            "sub1",
            "--network",
            "net1",
            "--cidr",
            "10.0.0.0/24",
        ],
    );

    fails(
        &b,
        &["port", "create", "x", "--network", "nope"],
        1,
        "network `nope` not found: no lswitch has that id or name (see `dfctl network list`)",
    );
    fails(
        &b,
        &[
            "subnet",
            "create",
            "s2",
            "--network",
            "net1",
            "--cidr",
            "10.1.0.0/33",
        ],
        2,
        "`10.1.0.0/33` is not an IP network",
    );
    fails(
        &b,
        &[
            "subnet",
            "create",
            "s2",
            "--network",
            "net1",
            "--cidr",
            "10.1",
        ],
        2,
        "'--cidr <CIDR>'",
    );
    let o = fails(
        &b,
        &[
            "subnet",
            "create",
            "s2",
            "--network",
            "net1",
            "--cidr",
            "10.1.0.1/24",
        ],
        1,
        "cannot create subnet `s2`: lsubnet `",
    );
    assert!(
        o.stderr
            .contains("field `cidr`: 10.1.0.1/24 has host bits set"),
        "{}",
        o.stderr
    );
    fails(
        &b,
        &[
            "subnet",
            "create",
            "s2",
            "--network",
            "net1",
            "--cidr",
            "10.0.0.0/25",
        ],
        1,
        "overlaps subnet `sub1`",
    );
    fails(
        &b,
        &[
            "subnet",
            "create",
            "s2",
            "--network",
            "net1",
            "--cidr",
            "10.2.0.0/24",
            "--gateway",
            "10.3.0.1",
        ],
        1,
        "field `gateway_ip`: 10.3.0.1 is not inside cidr 10.2.0.0/24",
    );
    fails(
        &b,
        &["port", "create", "x", "--network", "net1", "--mac", "zz:16"],
        2,
        "`zz:16` is not a MAC address (expected six hex bytes",
    );
    fails(
        &b,
        &[
            "port",
            "create",
            "x",
            "--network",
            "net1",
            "--mac",
            "01:00:5e:00:00:01",
        ],
        1,
        "field `macs[0]`",
    );
    fails(
        &b,
        &[
            "port",
            "create",
            "x",
            "--network",
            "net1",
            "--ip",
            "10.0.0.1",
        ],
        1,
        "address 10.0.0.1 is the gateway of subnet `sub1`",
    );
    fails(
        &b,
        &[
            "port",
            "create",
            "x",
            "--network",
            "net1",
            "--ip",
            "10.9.0.1",
        ],
        1,
        "address 10.9.0.1 is not in any subnet of network `net1` (subnets: sub1 10.0.0.0/24)",
    );
    ok(
        &b,
        &[
            "port",
            "create",
            "p1",
            "--network",
            "net1",
            "--ip",
            "10.0.0.9",
        ],
    );
    fails(
        &b,
        &[
            "port",
            "create",
            "p2",
            "--network",
            "net1",
            "--ip",
            "10.0.0.9",
        ],
        1,
        "address 10.0.0.9 is already used by port `p1`",
    );
    fails(
        &b,
        &["port", "create", "p1", "--network", "net1"],
        1,
        "a port named `p1` already exists",
    );
    fails(
        &b,
        &["network", "create", "net1"],
        1,
        "a network named `net1` already exists",
    );
    ok(&b, &["network", "create", "n2", "--id", "n2"]);
    fails(
        &b,
        &["network", "create", "n3", "--id", "n2"],
        1,
        "cannot create network `n3`: lswitch `n2` already exists",
    );
    fails(
        &b,
        &[
            "network",
            "create",
            "v",
            "--network-type",
            "vlan",
            "--physical-network",
            "p",
        ],
        1,
        "field `segmentation_id`: a vlan network needs a segmentation_id",
    );
    fails(
        &b,
        &["network", "create", "v", "--network-type", "bogus"],
        2,
        "`bogus` is not a network type",
    );
    fails(
        &b,
        &[
            "floating-ip",
            "create",
            "--external-network",
            "net1",
            "--address",
            "10.0.0.50",
        ],
        1,
        "network `net1` is not external",
    );
    fails(
        &b,
        &[
            "router",
            "add-route",
            "n2",
            "--destination",
            "1.0.0.0/8",
            "--nexthop",
            "10.0.0.1",
        ],
        1,
        "router `n2` not found",
    );

    // df-db: decode errors are df-model's.
    fails(
        &b,
        &["db", "ls", "nope"],
        1,
        "unknown table `nope` (known tables: chassis,",
    );
    fails(
        &b,
        &["db", "add", "lswitch", "-j", r#"{"id": "n5", "mtu": 20}"#],
        1,
        "lswitch `n5`: field `mtu`: 20 is not a valid MTU (expected 68..=65535)",
    );
    fails(
        &b,
        &["db", "add", "lswitch", "-j", "{not json"],
        1,
        "-j: malformed JSON",
    );
    fails(
        &b,
        &[
            "db",
            "add",
            "lswitch",
            "-j",
            r#"{"id": "n6", "unique_key": 9}"#,
        ],
        1,
        "field `unique_key`: allocated by the store on create",
    );
    fails(
        &b,
        &["db", "add", "lswitch", "-j", r#"{"id": "n2"}"#],
        1,
        "lswitch `n2` already exists",
    );
    fails(
        &b,
        &[
            "db",
            "update",
            "lswitch",
            "-j",
            r#"{"id": "zz", "mtu": 1400}"#,
        ],
        1,
        "lswitch `zz` not found",
    );
    fails(
        &b,
        &["db", "update", "lswitch", "-j", r#"{"id": "n2", "mtu": 1}"#],
        1,
        "lswitch `n2`: field `mtu`: 1 is not a valid MTU",
    );
    fails(
        &b,
        &[
            "db",
            "update",
            "lswitch",
            "-j",
            r#"{"id": "n2", "unique_key": 99}"#,
        ],
        1,
        "field `unique_key`: cannot be changed",
    );
    fails(
        &b,
        &["db", "get", "lport", "nope"],
        1,
        "lport `nope` not found",
    );
    let file = dir.path().join("obj.json");
    std::fs::write(&file, r#"{"id": "dupa", "name": "dup"}"#).unwrap();
    ok(&b, &["db", "add", "lswitch", "-f", file.to_str().unwrap()]);
    ok(
        &b,
        &[
            "db",
            "add",
            "lswitch",
            "-j",
            r#"{"id": "dupb", "name": "dup"}"#,
        ],
    );
    fails(
        &b,
        &["network", "show", "dup"],
        1,
        "network name `dup` is ambiguous: it names dupa, dupb",
    );
    fails(&b, &["db", "add", "lswitch"], 2, "required");

    // An invalid object in the store is shown with df-model's complaint.
    let bad = json!({"id": "bad", "topic": "t", "mtu": 5}).to_string();
    let store_dir = dir.path().to_path_buf();
    drop(b);
    put_raw(&store_dir.join("nb.redb"), "/dragonflow/lswitch/bad", &bad);
    let b = file_backend(&store_dir);
    let o = ok(&b, &["db", "get", "lswitch", "bad"]);
    assert!(
        o.stderr
            .contains("lswitch `bad`: field `mtu`: 5 is not a valid MTU"),
        "{}",
        o.stderr
    );
    let o = ok(&b, &["network", "list"]);
    assert!(
        o.stderr.contains("skipping an invalid object"),
        "{}",
        o.stderr
    );
}

fn put_raw(file: &Path, key: &str, value: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = EmbeddedStore::open(file, EmbeddedOptions::default())
            .await
            .unwrap();
        s.put(key, value.as_bytes(), df_store::Expect::Any, None)
            .await
            .unwrap();
    });
}

#[test]
fn unreachable_store_or_daemon_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    fails(
        &Backend::Db("etcd://127.0.0.1:1".into()),
        &["network", "list"],
        3,
        "NB store unavailable at 127.0.0.1:1",
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    fails(
        &Backend::Db("redis://x:1".into()),
        &["network", "list"],
        2,
        "bad NB store URL",
    );
    let sock = Backend::Socket(dir.path().join("none.sock"));
    for args in [
        &["network", "list"][..],
        &["show", "status"],
        &["db", "dump"],
    ] {
        fails(
            &sock,
            args,
            3,
            "is dfswitchd running? (start it, or use --db etcd://... to talk to etcd directly)",
        );
    }
    // An embedded store file held by another process (a running dfswitchd).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let file = dir.path().join("held.redb");
    let _held = rt
        .block_on(EmbeddedStore::open(&file, EmbeddedOptions::default()))
        .unwrap();
    fails(
        &Backend::Db(format!("file://{}", file.display())),
        &["network", "list"],
        3,
        "without --db, dfctl goes through the running dfswitchd's socket",
    );
}

// ---------------------------------------------------------------- through a daemon

/// A stand-in dfswitchd: store requests go to an embedded store; show and
/// trace get canned answers; the trace requests are recorded.
struct FakeDaemon {
    store: Arc<dyn Store>,
    traced: Mutex<Vec<(String, String)>>,
}

impl Handler for FakeDaemon {
    fn handle(&self, req: Request) -> HandlerFuture<'_> {
        Box::pin(async move {
            let to =
                |v: Result<Value, serde_json::Error>| v.map_err(|e| Failure::from(e.to_string()));
            match req {
                Request::Store(s) => handle_store(self.store.as_ref(), s).await,
                Request::Status => to(serde_json::to_value(StatusView {
                    chassis: "host1".into(),
                    version: "0.1.0".into(),
                    pid: 42,
                    uptime_secs: 3725.0,
                    store: "file:///var/lib/dragonflow-rs/nb.redb".into(),
                    layout: "etc/layouts/default.yaml".into(),
                    workers: 1,
                    ports: 2,
                    controller: json!({"connected": true, "revision": 17, "events": 5, "objects": 9,
                                       "relists": 1, "parked": [], "errors": [], "last_error": null}),
                })),
                Request::Counters => to(serde_json::to_value(CountersView {
                    rx: 10,
                    tx: 7,
                    vertices: vec![VertexCountersView {
                        vertex: "l2".into(),
                        app_type: "l2".into(),
                        calls: 3,
                        packets: 10,
                        cycles: 170,
                        drops: [
                            ("unknown-network".to_string(), 3u64),
                            ("zero".to_string(), 0),
                        ]
                        .into(),
                        unwired: Default::default(),
                    }],
                    framework_drops: [("hop-limit".to_string(), 0u64)].into(),
                    ports: vec![PortView {
                        id: 0,
                        name: "vm1".into(),
                        driver: "mem".into(),
                        rx_packets: 10,
                        tx_dropped: 1,
                        ..Default::default()
                    }],
                })),
                Request::Trace { port, frame_hex } => {
                    self.traced
                        .lock()
                        .unwrap()
                        .push((port.clone(), frame_hex.clone()));
                    to(serde_json::to_value(TraceView {
                        lines: vec![
                            format!(
                                "#1 port: received on port {port} len={}",
                                frame_hex.len() / 2
                            ),
                            "#1 l2.in.default: exit unicast -> output.in.default".into(),
                        ],
                    }))
                }
                Request::TraceLive { count } => {
                    to(serde_json::to_value(TraceArmedView { armed: count }))
                }
                Request::TraceRead => to(serde_json::to_value(TraceView { lines: vec![] })),
                other => Err(Failure::unsupported(other.op())),
            }
        })
    }
}

#[test]
fn through_the_daemon_socket() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let path = dir.path().join("dfswitchd.sock");
    let store = rt
        .block_on(EmbeddedStore::open(
            dir.path().join("nb.redb"),
            EmbeddedOptions::default(),
        ))
        .unwrap();
    let daemon = Arc::new(FakeDaemon {
        store: Arc::new(store),
        traced: Mutex::new(Vec::new()),
    });
    let (stop, rx) = tokio::sync::watch::channel(false);
    let (p, h) = (path.clone(), daemon.clone());
    let server = rt.spawn(async move { df_mgmt::serve(&p, h, rx).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let b = Backend::Socket(path.clone());

    // The DaemonDb path: the whole walk through the daemon's store.
    scenario(&b);

    let s = ok(&b, &["show", "status"]).stdout;
    for needle in [
        "chassis:    host1",
        "uptime:     1h 2m 5s",
        "connected=true revision=17",
        "file:///var/lib",
    ] {
        assert!(s.contains(needle), "status lacks {needle}:\n{s}");
    }
    assert_eq!(ok(&b, &["show", "status", "--json"]).json()["pid"], 42);
    let c = ok(&b, &["show", "counters"]).stdout;
    assert!(c.contains("rx 10  tx 7"), "{c}");
    assert!(c.contains("17.0"), "cycles per packet: {c}");
    let d = ok(&b, &["show", "drops"]).stdout;
    assert!(
        d.contains("unknown-network") && d.contains("tx dropped"),
        "{d}"
    );
    assert!(!d.contains("zero") && !d.contains("hop-limit"), "{d}");
    let dj = ok(&b, &["show", "drops", "--json"]).json();
    assert_eq!(dj.as_array().unwrap().len(), 2, "{dj}");
    fails(
        &b,
        &["show", "graph"],
        1,
        "this dfswitchd does not implement `graph` yet",
    );

    let t = ok(
        &b,
        &[
            "trace",
            "--port",
            "vm1",
            "--src-mac",
            "fa:16:3e:00:00:01",
            "--dst-mac",
            "fa:16:3e:00:00:02",
            "--src-ip",
            "10.0.0.3",
            "--dst-ip",
            "10.0.0.4",
            "--proto",
            "udp",
            "--dport",
            "53",
        ],
    )
    .stdout;
    assert!(t.starts_with("frame: "), "{t}");
    assert!(t.contains("exit unicast -> output.in.default"), "{t}");
    let (port, hex) = daemon.traced.lock().unwrap().last().cloned().unwrap();
    assert_eq!(port, "vm1");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(bytes.len(), 60);
    assert_eq!(&bytes[12..14], &[0x08, 0x00]);
    assert_eq!(bytes[23], 17, "UDP");
    ok(
        &b,
        &[
            "trace",
            "--port",
            "vm1",
            "--frame-hex",
            "ffff ffff ffff 0200 0000 0001 0806",
        ],
    );
    assert_eq!(
        daemon.traced.lock().unwrap().last().unwrap().1,
        "ffffffffffff0200000000010806"
    );
    fails(
        &b,
        &["trace", "--port", "vm1", "--frame-hex", "abc"],
        2,
        "odd number of hex digits",
    );
    fails(
        &b,
        &[
            "trace",
            "--port",
            "vm1",
            "--src-mac",
            "fa:16:3e:00:00:01",
            "--proto",
            "tcp",
        ],
        2,
        "--proto tcp needs --src-ip and --dst-ip",
    );
    fails(&b, &["trace"], 2, "required");
    let l = ok(&b, &["trace", "--live", "5"]).stdout;
    assert!(l.contains("tracing the next 5 received packets"), "{l}");
    assert_eq!(
        ok(&b, &["trace", "--read"]).stdout.trim(),
        "no trace records"
    );

    let _ = stop.send(true);
    rt.block_on(server).unwrap().unwrap();
}

#[test]
fn chassis_show_service_liveness() {
    let dir = tempfile::tempdir().unwrap();
    let b = file_backend(dir.path());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for (host, ip, seen) in [
        ("host1", "192.0.2.1", now - 5.0),
        ("host2", "192.0.2.2", now - 300.0),
    ] {
        let c = json!({"id": host, "ip": ip, "tunnel_types": ["vxlan"]}).to_string();
        ok(&b, &["db", "add", "chassis", "-j", &c]);
        let s = json!({"id": format!("svc-{host}"), "chassis": host, "binary": "dfswitchd", "last_seen_up": seen})
            .to_string();
        ok(&b, &["db", "add", "service", "-j", &s]);
    }
    let text = ok(&b, &["chassis", "list"]).stdout;
    let line = |h: &str| {
        text.lines()
            .find(|l| l.starts_with(h))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("host1").contains("dfswitchd alive"), "{text}");
    assert!(line("host2").contains("dfswitchd down"), "{text}");
    let j = ok(&b, &["chassis", "list", "--json"]).json();
    assert_eq!(j[0]["services"][0]["alive"], true);
    assert_eq!(j[1]["services"][0]["alive"], false);
    ok(&b, &["network", "create", "n"]);
    ok(&b, &["port", "create", "p", "--network", "n"]);
    let o = ok(&b, &["port", "bind", "p", "--chassis", "host9"]);
    assert!(
        o.stderr.contains("chassis `host9` is not registered yet"),
        "{}",
        o.stderr
    );
    ok(&b, &["port", "bind", "p", "--chassis", "host1"]);
    let show = ok(&b, &["chassis", "show", "host1", "--json"]).json();
    assert_eq!(show["ports"], json!(["p"]));
    fails(
        &b,
        &["chassis", "show", "nope"],
        1,
        "chassis `nope` not found",
    );
}

#[test]
fn help_has_examples() {
    let b = Backend::Db("etcd://127.0.0.1:1".into());
    for args in [
        &["--help"][..],
        &["db", "add", "--help"],
        &["network", "create", "--help"],
        &["subnet", "create", "--help"],
        &["port", "bind", "--help"],
        &["router", "add-interface", "--help"],
        &["security-group", "rule", "add", "--help"],
        &["floating-ip", "create", "--help"],
        &["chassis", "list", "--help"],
        &["show", "drops", "--help"],
        &["trace", "--help"],
    ] {
        let o = ok(&b, args);
        assert!(o.stdout.contains("Examples:"), "{args:?}:\n{}", o.stdout);
    }
}
