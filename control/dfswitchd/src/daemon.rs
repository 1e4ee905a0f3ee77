//! The daemon's life: check, start (EAL, ports, workers, control thread),
//! serve, and stop cleanly on SIGINT/SIGTERM.
//!
//! Threads: one pinned poll-mode worker per configured core, and the control
//! thread (this one) running a small tokio runtime for the store, the
//! controller, heartbeats and the management socket. The control thread is
//! pinned to a core without a worker when the machine has one.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context, Result};
use df_controller::{
    Follower, Local, Publisher, StatusHandle, SwitchPortBinding, UnderlayBinding, UplinkBinding,
};
use std::any::Any;

use df_dp::dpdk::{register_thread, Eal, Mempool};
use df_dp::worker::{ThreadInit, WorkerEnv, Workers};
use df_dp::{ExecConfig, Graph, PacketPool, RcuDomain};
use df_store::{Expect, Store};
use tokio::sync::watch;

use crate::config::{available_cores, Config};
use crate::handler::{Handler, Shared};
use crate::ports;

macro_rules! log {
    ($($t:tt)*) => { eprintln!("dfswitchd: {}", format!($($t)*)) };
}

/// Compiles the configured layout (or, by default, the seed's datapath
/// graph: every core app, wired as Dragonflow's application-decoupling
/// design drew it).
fn graph(cfg: &Config) -> Result<Graph> {
    let text = match cfg.layout_path() {
        Some(p) => std::fs::read_to_string(&p)
            .with_context(|| format!("[datapath] layout: cannot read {}", p.display()))?,
        None => df_catalog::SEED_LAYOUT.to_string(),
    };
    df_catalog::compile_layout(&text, &RcuDomain::new()).map_err(|e| anyhow!("{e}"))
}

/// The underlay port's id, the chassis' tunnel IP and the port's MAC (a
/// DPDK port's own; an in-process port gets a locally administered one made
/// from the chassis id).
fn underlay(cfg: &Config, ports: &[crate::ports::OpenPort]) -> Option<UnderlayBinding> {
    let i = cfg.ports.iter().position(|p| p.underlay)?;
    let std::net::IpAddr::V4(ip) = cfg.chassis.tunnel_ip? else {
        return None;
    };
    let mac = ports
        .get(i)
        .and_then(|p| p.eth.as_ref())
        .map(|e| e.mac())
        .filter(|m| *m != [0; 6])
        .unwrap_or_else(|| {
            let h = cfg
                .chassis_id()
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            let b = h.to_be_bytes();
            [0x02, 0xdf, b[0], b[1], b[2], b[3]]
        });
    Some(UnderlayBinding {
        port: i as u16,
        ip,
        mac,
    })
}

fn local(cfg: &Config, underlay: Option<UnderlayBinding>) -> Local {
    Local {
        underlay,
        chassis: cfg.chassis_id(),
        ports: cfg
            .ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.iface_id.as_ref().map(|id| SwitchPortBinding {
                    port: i as u16,
                    name: p.name.clone(),
                    iface_id: id.clone(),
                })
            })
            .collect(),
        uplinks: cfg
            .ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.physical_network.as_ref().map(|n| UplinkBinding {
                    port: i as u16,
                    name: p.name.clone(),
                    physical_network: n.clone(),
                })
            })
            .collect(),
    }
}

/// `--check`: validates everything that can be checked without starting,
/// and prints the plan.
///
/// # Errors
/// A layout that does not compile.
pub fn check(cfg: &Config) -> Result<()> {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let g = graph(cfg)?;
    let mut s = String::new();
    let _ = writeln!(s, "chassis: {}", cfg.chassis_id());
    let _ = writeln!(s, "store: {}", cfg.store.url);
    let _ = writeln!(s, "workers on cores: {:?}", cfg.datapath.workers);
    let _ = writeln!(s, "management socket: {}", cfg.management.socket.display());
    for (i, p) in cfg.ports.iter().enumerate() {
        let _ = writeln!(
            s,
            "port {i} `{}`: {} ({})",
            p.name,
            p.device,
            match (&p.iface_id, &p.physical_network) {
                (Some(id), _) => format!("carries {id}"),
                (None, Some(net)) => format!("uplink of physical network {net}"),
                (None, None) => "carries no lport".to_string(),
            }
        );
    }
    s.push_str(&g.describe());
    s.push_str("config ok\n");
    // A closed pipe (`| head`) is not an error of the config.
    let _ = std::io::stdout().write_all(s.as_bytes());
    Ok(())
}

/// Free 2 MiB hugepages.
fn free_hugepages() -> u64 {
    std::fs::read_to_string("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn eal_args(cfg: &Config, control_core: usize, mbufs: u32) -> Result<Vec<String>> {
    let prefix = cfg
        .dpdk
        .file_prefix
        .clone()
        .unwrap_or_else(|| format!("dfswitchd-{}", cfg.chassis_id()));
    let mut a = vec![
        "-l".to_string(),
        control_core.to_string(),
        "--file-prefix".into(),
        prefix,
        "--no-telemetry".into(),
    ];
    if cfg.dpdk.hugepages {
        // ~2.4 KiB per mbuf plus 64 MiB for EAL and the rings.
        let need = u64::from(mbufs) * 2432 / (2 << 20) + 32;
        let free = free_hugepages();
        if free < need {
            return Err(anyhow!(
                "too few hugepages: {free} free 2 MiB pages, {need} needed for {mbufs} mbufs; reserve them with `echo {} > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages` (or set [dpdk] hugepages = false to run slower without)",
                need + 64
            ));
        }
        a.push("--in-memory".into());
    } else {
        a.extend([
            "--no-huge".into(),
            "-m".into(),
            cfg.dpdk.memory_mb.to_string(),
            "--no-shconf".into(),
        ]);
    }
    if !cfg
        .ports
        .iter()
        .any(|p| p.device.contains(':') && !p.device.starts_with("pcap:"))
    {
        a.push("--no-pci".into());
    }
    a.extend(cfg.dpdk.args.iter().cloned());
    Ok(a)
}

/// Runs the daemon until SIGINT/SIGTERM.
///
/// # Errors
/// Anything that prevents start-up (layout, EAL, a port, the socket); after
/// start, store outages are reported and retried, never fatal.
pub fn run(cfg: Config) -> Result<()> {
    let started = Instant::now();

    let graph = Arc::new(graph(&cfg)?);
    let ncpu = available_cores();
    let control_core = (0..ncpu)
        .find(|c| !cfg.datapath.workers.contains(c))
        .unwrap_or(0);
    let nworkers = cfg.datapath.workers.len();
    let mbufs = (cfg.datapath.pool * nworkers + cfg.ports.len() * 2048 * (1 + nworkers)) as u32;
    let (eal, mempool) = if cfg.needs_dpdk() {
        let args = eal_args(&cfg, control_core, mbufs)?;
        log!("EAL {}", args.join(" "));
        let eal = Eal::init(&args).context("starting DPDK (EAL)")?;
        let pool = Mempool::new(&eal, "dfswitchd", mbufs, 256, 2176, None)
            .context("creating the packet pool")?;
        (Some(eal), Some(pool))
    } else {
        let _ = core_pin(control_core);
        (None, None)
    };
    let (specs, open_ports, assign) = ports::open(&cfg, &graph, eal.as_ref(), mempool.as_ref())?;
    let exec = ExecConfig {
        ports: cfg.ports.len(),
        pool_size: cfg.datapath.pool,
        hop_limit: cfg.datapath.hop_limit,
        trace_capacity: 4096,
        trace_first: 0,
        shortcuts: true,
    };
    // DPDK workers draw mbufs from the shared mempool and register with EAL
    // so its per-lcore cache serves them.
    let specs = specs
        .into_iter()
        .map(|s| {
            let env = WorkerEnv {
                pool: mempool.clone().map(PacketPool::with_mempool),
                thread_init: eal.clone().map(|eal| {
                    Box::new(move || Box::new(register_thread(&eal).ok()) as Box<dyn Any>)
                        as ThreadInit
                }),
            };
            (s, env)
        })
        .collect();
    let workers = Workers::start_with(&graph, specs, &exec).context("starting the workers")?;
    log!(
        "{} worker(s) on cores {:?}, {} port(s), control on core {control_core}",
        nworkers,
        cfg.datapath.workers,
        open_ports.len()
    );
    let shared = Arc::new(Shared {
        chassis: cfg.chassis_id(),
        store_url: cfg.store.url.clone(),
        layout: cfg.layout_path().map_or_else(
            || "built-in: the seed's graph (etc/layouts/seed.yaml)".to_string(),
            |p| p.display().to_string(),
        ),
        started,
        graph: graph.clone(),
        ports: open_ports,
        assign,
        cores: cfg.datapath.workers.clone(),
        counters: workers.counters().to_vec(),
        traces: workers.live_traces().to_vec(),
        controller: Mutex::new(None),
        store: Mutex::new(None),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the control runtime")?;
    let res = rt.block_on(control(&cfg, graph, shared.clone()));
    log!("stopping");
    let reports = workers.stop();
    drop(reports);
    drop(shared);
    drop(rt);
    drop(mempool);
    if let Some(eal) = eal {
        if let Err(e) = eal.cleanup() {
            log!("EAL cleanup: {e}");
        }
    }
    log!("stopped");
    res
}

fn core_pin(core: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: core })
}

async fn control(cfg: &Config, graph: Arc<Graph>, shared: Arc<Shared>) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // The management socket first: dfctl can reach the daemon even while
    // the store is down.
    let handler: Arc<dyn df_mgmt::Handler> = Arc::new(Handler::new(shared.clone()));
    let sock = cfg.management.socket.clone();
    let mgmt = {
        let stop = stop_rx.clone();
        tokio::spawn(async move { df_mgmt::serve(&sock, handler, stop).await })
    };
    if let Some(addr) = cfg.management.metrics.clone() {
        let shared = shared.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::metrics::serve(&addr, shared, stop).await {
                log!("[management] metrics = {addr}: {e}");
            }
        });
        log!(
            "Prometheus metrics on http://{}/metrics",
            cfg.management.metrics.as_deref().unwrap_or("")
        );
    }
    let store_task = {
        let cfg = cfg.clone();
        let shared = shared.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move { follow_store(cfg, graph, shared, stop).await })
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    log!(
        "ready: management socket {}",
        cfg.management.socket.display()
    );
    let mgmt_failed = tokio::select! {
        _ = tokio::signal::ctrl_c() => None,
        _ = term.recv() => None,
        r = mgmt => Some(r),
    };
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), store_task).await;
    match mgmt_failed {
        Some(Ok(Err(e))) => Err(anyhow!(
            "management socket {}: {e}",
            cfg.management.socket.display()
        )),
        _ => Ok(()),
    }
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Opens the store (retrying), registers the chassis, heartbeats the
/// service, and runs the controller until `stop`.
async fn follow_store(
    cfg: Config,
    graph: Arc<Graph>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(200);
    let store: Arc<dyn Store> = loop {
        match df_store::open(&cfg.store.url).await {
            Ok(s) => break s,
            Err(e) => {
                log!("store {}: {e} (retrying in {:?})", cfg.store.url, backoff);
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    };
    if let Ok(mut s) = shared.store.lock() {
        *s = Some(store.clone());
    }
    let chassis = cfg.chassis_id();
    let ip = cfg
        .chassis
        .tunnel_ip
        .map_or("127.0.0.1".to_string(), |i| i.to_string());
    if cfg.chassis.tunnel_ip.is_none() {
        log!("no [chassis] tunnel_ip: registering 127.0.0.1 (set it for a multi-host deployment)");
    }
    let underlay_binding = underlay(&cfg, &shared.ports);
    let mut chassis_json =
        serde_json::json!({"id": chassis, "ip": ip, "tunnel_types": ["geneve", "vxlan"]});
    if let Some(ip) = cfg.chassis.external_ip {
        chassis_json["external_host_ip"] = ip.to_string().into();
    }
    if let Some(u) = &underlay_binding {
        let m = u.mac;
        chassis_json["tunnel_mac"] = format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
        .into();
    }
    if let Err(e) = store
        .put(
            &df_model::key("chassis", &chassis),
            chassis_json.to_string().as_bytes(),
            Expect::Any,
            None,
        )
        .await
    {
        log!("registering chassis `{chassis}`: {e}");
    }
    let heartbeat = tokio::spawn(heartbeat(
        store.clone(),
        chassis.clone(),
        cfg.store.heartbeat_secs,
        stop.clone(),
    ));
    let follower = Follower::new(
        store,
        df_model::PREFIX,
        local(&cfg, underlay_binding),
        Publisher::new(graph),
    )
    .with_logger(Box::new(|m| eprintln!("dfswitchd: controller: {m}")))
    .with_store_label(&cfg.store.url);
    let status: StatusHandle = follower.status();
    if let Ok(mut c) = shared.controller.lock() {
        *c = Some(status);
    }
    follower.run(stop.clone(), None).await;
    let _ = heartbeat.await;
}

/// Dragonflow's service health report: a `service` row for this chassis'
/// dfswitchd, refreshed every `secs` (alive while seen within 80 s).
async fn heartbeat(
    store: Arc<dyn Store>,
    chassis: String,
    secs: u64,
    mut stop: watch::Receiver<bool>,
) {
    let id = format!("{chassis}.dfswitchd");
    let key = df_model::key("service", &id);
    loop {
        let row = serde_json::json!({"id": id, "chassis": chassis, "binary": "dfswitchd", "last_seen_up": now_unix()});
        if let Err(e) = store
            .put(&key, row.to_string().as_bytes(), Expect::Any, None)
            .await
        {
            log!("service heartbeat: {e}");
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(secs.max(1))) => {}
        }
    }
}
