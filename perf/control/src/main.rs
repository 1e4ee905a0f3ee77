//! `dfperf-control`: control-plane benchmarks. See `dfperf-control --help`.
//!
//! - `compile`: a full compile of a large model (default 10k ports in 1k
//!   networks, 1k security-group rules) into table configs, and building and
//!   publishing those tables into the seed's datapath graph (input, portsec,
//!   sg, l2, l3-proactive, firewall, output).
//! - `latency`: the time from a store write to the new table being live in
//!   the datapath (published by RCU while a worker forwards), p50 and p99,
//!   against etcd on loopback (started by the benchmark) or the embedded store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use df_controller::{compile, Follower, Local, Publisher, SwitchPortBinding};
use df_model::{decode, encode, key, LogicalPort, Object, Snapshot};
use df_store::{Expect, Store};

/// Control-plane benchmarks of Dragonflow-RS.
///
/// Examples:
///   dfperf-control compile                       10k ports, 1k networks, 1k SG rules
///   dfperf-control latency --writes 500          etcd on loopback (needs etcd-server)
///   dfperf-control latency --store embedded --json
#[derive(Debug, Parser)]
#[command(name = "dfperf-control", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Full compile of a large model.
    Compile {
        /// Logical ports (all bound to switch ports of this chassis).
        #[arg(long, default_value_t = 10_000)]
        ports: u32,
        /// Networks (ports are spread evenly).
        #[arg(long, default_value_t = 1_000)]
        networks: u32,
        /// Security-group rules (10 per group).
        #[arg(long, default_value_t = 1_000)]
        rules: u32,
        /// Repetitions (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: u32,
    },
    /// Store write to live table latency.
    Latency {
        /// `etcd` (started on loopback) or `embedded`.
        #[arg(long, default_value = "etcd")]
        store: String,
        /// Writes to measure.
        #[arg(long, default_value_t = 300)]
        writes: u32,
    },
}

fn obj(table: &str, json: String) -> Result<Object> {
    let v: serde_json::Value = serde_json::from_str(&json)?;
    let id = v["id"].as_str().unwrap_or_default().to_string();
    decode(table, &id, json.as_bytes()).map_err(|e| anyhow!("{e}"))
}

fn mac(i: u32) -> String {
    let b = i.to_be_bytes();
    format!("fa:16:3e:{:02x}:{:02x}:{:02x}", b[1], b[2], b[3])
}

/// The benchmark model: `networks` lswitches, `ports` lports, and groups of
/// 10 rules each until `rules`.
fn model(ports: u32, networks: u32, rules: u32) -> Result<(Snapshot, Local)> {
    let mut s = Snapshot::new();
    for n in 0..networks {
        s.insert(obj(
            "lswitch",
            format!(
                r#"{{"id":"n{n}","topic":"t","unique_key":{},"version":1}}"#,
                n + 1
            ),
        )?);
    }
    for g in 0..rules.div_ceil(10) {
        let rs: Vec<String> = (0..10.min(rules - g * 10))
            .map(|r| {
                format!(
                    r#"{{"id":"g{g}r{r}","direction":"ingress","ethertype":"IPv4","protocol":"tcp","port_range_min":{p},"port_range_max":{p},"remote_ip_prefix":"10.{r}.0.0/16","security_group_id":"g{g}","topic":"t"}}"#,
                    p = 1000 + r
                )
            })
            .collect();
        s.insert(obj(
            "secgroup",
            format!(
                r#"{{"id":"g{g}","topic":"t","unique_key":{},"version":1,"rules":[{}]}}"#,
                g + 1,
                rs.join(",")
            ),
        )?);
    }
    let mut local = Local {
        chassis: "host1".into(),
        ports: Vec::new(),
        uplinks: Vec::new(),
        underlay: None,
    };
    let groups = rules.div_ceil(10).max(1);
    for p in 0..ports {
        let n = p % networks.max(1);
        let sg = if rules > 0 {
            format!(r#","security_groups":["g{}"]"#, p % groups)
        } else {
            String::new()
        };
        s.insert(obj(
            "lport",
            format!(
                r#"{{"id":"p{p}","topic":"t","unique_key":{},"version":1,"lswitch":"n{n}","macs":["{}"],"ips":["10.{}.{}.{}"]{sg}}}"#,
                p + 1,
                mac(p),
                (p >> 16) & 255,
                (p >> 8) & 255,
                p & 255
            ),
        )?);
        local.ports.push(SwitchPortBinding {
            port: p as u16,
            name: format!("sp{p}"),
            iface_id: format!("p{p}"),
        });
    }
    Ok((s, local))
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(0.0)
}

#[allow(clippy::print_stdout)]
fn bench_compile(json: bool, ports: u32, networks: u32, rules: u32, runs: u32) -> Result<()> {
    let (snap, local) = model(ports, networks, rules)?;
    // The seed's layout: its portsec, sg and l3 vertices build their tables too.
    let graph = Arc::new(df_catalog::compile_layout(
        df_catalog::SEED_LAYOUT,
        &df_dp::RcuDomain::new(),
    )?);
    let (mut tc, mut tp) = (Vec::new(), Vec::new());
    let mut warnings = 0;
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        let out = compile(&snap, &local);
        let t1 = Instant::now();
        // A fresh publisher publishes everything: every table is built.
        let mut publisher = Publisher::new(graph.clone());
        let errors = publisher.publish(&out.configs);
        let t2 = Instant::now();
        if !errors.is_empty() {
            return Err(anyhow!("publish refused: {errors:?}"));
        }
        warnings = out.warnings.len();
        tc.push((t1 - t0).as_secs_f64() * 1e3);
        tp.push((t2 - t1).as_secs_f64() * 1e3);
    }
    let (c, p) = (percentile(&tc, 0.5), percentile(&tp, 0.5));
    if json {
        println!(
            "{}",
            serde_json::json!({"benchmark": "compile", "ports": ports, "networks": networks,
                "rules": rules, "objects": snap.len(), "compile_ms": c, "build_and_publish_ms": p,
                "total_ms": c + p, "warnings": warnings})
        );
    } else {
        println!(
            "compile: {ports} ports, {networks} networks, {rules} SG rules ({} objects): compile {c:.1} ms + build and publish tables {p:.1} ms = {:.1} ms (median of {runs})",
            snap.len(),
            c + p
        );
    }
    Ok(())
}

async fn put_obj(store: &dyn Store, o: &Object) -> Result<i64> {
    Ok(store
        .put(&key(o.table(), o.id()), &encode(o), Expect::Any, None)
        .await?)
}

#[allow(clippy::print_stdout)]
async fn bench_latency(json: bool, which: &str, writes: u32) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut _etcd = None;
    let url = match which {
        "etcd" => {
            let e = df_store::testing::Etcd::start_or_skip("dfperf-control latency")
                .ok_or_else(|| anyhow!("etcd is not installed (apt-get install etcd-server)"))?;
            let u = e.url();
            _etcd = Some(e);
            u
        }
        "embedded" => format!("file://{}/nb.redb", dir.path().display()),
        other => return Err(anyhow!("--store {other}: expected `etcd` or `embedded`")),
    };
    let store = df_store::open(&url).await.context("opening the store")?;
    // A small topology and a datapath worker forwarding generated traffic,
    // so every publish waits for a real grace period.
    let (snap, local) = model(2, 1, 0)?;
    for o in snap.objects() {
        put_obj(&*store, o).await?;
    }
    let graph = Arc::new(df_catalog::compile_layout(
        df_catalog::DEFAULT_LAYOUT,
        &df_dp::RcuDomain::new(),
    )?);
    let mut frame = vec![0xfa, 0x16, 0x3e, 0, 0, 1, 2, 0, 0, 0, 0, 1, 8, 0];
    frame.resize(60, 0);
    let gen = df_dp::port::gen::GenPort::new("gen", &[frame], None);
    let workers = df_dp::worker::Workers::start(
        &graph,
        vec![df_dp::worker::WorkerSpec {
            core: None,
            ports: vec![
                (0, Box::new(gen)),
                (1, Box::new(df_dp::port::gen::SinkPort::new("sink"))),
            ],
            rx: vec![0],
            bindings: vec![],
        }],
        &df_dp::ExecConfig {
            ports: 2,
            ..df_dp::ExecConfig::default()
        },
    )?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(i64, Instant)>();
    let follower = Follower::new(
        store.clone(),
        df_model::PREFIX,
        local,
        Publisher::new(graph.clone()),
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(follower.run(
        stop_rx,
        Some(Box::new(move |rev| {
            let _ = tx.send((rev, Instant::now()));
        })),
    ));
    // The initial list.
    let _ = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await?;
    let base = snap
        .get::<LogicalPort>("p1")
        .ok_or_else(|| anyhow!("model has no p1"))?
        .clone();
    let mut lat = Vec::new();
    for i in 0..writes {
        let mut p = base.clone();
        p.macs = vec![mac(100_000 + (i % 2))
            .parse()
            .map_err(|e| anyhow!("{e:?}"))?];
        p.version = Some(u64::from(i) + 2);
        let t0 = Instant::now();
        let rev = put_obj(&*store, &Object::from(p)).await?;
        loop {
            let (r, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await?
                .ok_or_else(|| anyhow!("the follower stopped"))?;
            if r >= rev {
                lat.push((at - t0).as_secs_f64() * 1e3);
                break;
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = task.await;
    let _ = workers.stop();
    let (p50, p99, max) = (
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    );
    if json {
        println!(
            "{}",
            serde_json::json!({"benchmark": "latency", "store": which, "writes": writes,
                "p50_ms": p50, "p99_ms": p99, "max_ms": max})
        );
    } else {
        println!(
            "store write -> live table ({which}, {writes} writes, a worker forwarding): p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Compile {
            ports,
            networks,
            rules,
            runs,
        } => bench_compile(cli.json, ports, networks, rules, runs),
        Cmd::Latency { store, writes } => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?
            .block_on(bench_latency(cli.json, &store, writes)),
    }
}
