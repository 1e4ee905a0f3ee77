//! `dfperf`: the Dragonflow-RS benchmark runner. See `dfperf --help`.

use std::process::ExitCode;

use anyhow::{anyhow, Result};
use clap::Parser;
use df_dp::sys::CountingAlloc;
use df_perf::{
    run, FrameMix, Measurement, NatMode, OverlayLayout, Params, PipelineMode, PortsKind, Scenario,
    Tunnel,
};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Measure the switch's datapath in process: generated frames go through the
/// compiled graph on pinned workers; dfperf reports Mpps, TSC cycles per
/// packet (whole loop and per stage), drops, and heap allocations in the
/// measured window.
///
/// Examples:
///   dfperf --scenario io,l2                 both scenarios, 1 worker, 64 B
///   dfperf --scenario l2 --workers 2 --json
///   dfperf --scenario l2 --frame imix --macs 100000
///   dfperf --scenario io,l2 --max-l2-over-io 60 --max-allocs 0   (exit 1 if missed)
///   dfperf --ports-kind dpdk --scenario io,l2 --workers 2   (feature `dpdk`, as root)
#[derive(Debug, Parser)]
#[command(name = "dfperf", version, verbatim_doc_comment)]
struct Cli {
    /// Scenarios to run, in order (comma-separated): io (input -> xconnect ->
    /// output, the framework's own cost), l2 (input -> l2 -> output),
    /// pipeline (the seed's full pipeline: portsec, sg with conntrack, l2,
    /// l3, with the tables of shared/peers/ovs-dpdk-ct.sh), encap (VM ->
    /// 1000 ports on remote chassis, encapsulated on the underlay), decap
    /// (encapsulated frames on the underlay -> 1000 local MACs), nat (VM ->
    /// external network through a floating IP or SNAT).
    /// Example: dfperf --scenario pipeline --pipeline-mode l2-new,l2-est,l3-est --flows 100000
    ///          dfperf --scenario encap,decap --tunnel geneve,vxlan --scenario nat --nat fip,snat
    #[arg(long, value_delimiter = ',', default_value = "io,l2")]
    scenario: Vec<Scenario>,
    /// Switch ports; each is a generator and a sink on every worker.
    #[arg(long, default_value_t = 2)]
    ports: u16,
    /// FDB entries for the l2 scenario.
    #[arg(long, default_value_t = 1000)]
    macs: u32,
    /// Distinct UDP flows each port generates.
    #[arg(long, default_value_t = 1000)]
    flows: u32,
    /// pipeline: the modes to run, in order (comma-separated): l2-new,
    /// l2-est, l3-est, l3-new (l2: 1000 dst MACs; l3: the router MAC and
    /// 256 routes; new: one-way UDP; est: every flow's reply replayed during
    /// the warm-up first).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "l2-est")]
    pipeline_mode: Vec<PipelineMode>,
    /// encap, decap: the encapsulations to run, in order (comma-separated):
    /// geneve, vxlan.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "geneve")]
    tunnel: Vec<Tunnel>,
    /// nat: the modes to run, in order (comma-separated): fip (floating
    /// IP), snat (the chassis' external address, one mapping per flow).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fip")]
    nat: Vec<NatMode>,
    /// encap, decap: the layout: seed (the seed's graph, with portsec, sg
    /// and the router's ingress filter on the path) or default
    /// (etc/layouts/default.yaml: input -> l2 -> output, with the implicit
    /// tunnel).
    #[arg(long, value_enum, default_value = "seed")]
    overlay_layout: OverlayLayout,
    /// Write the overlay scenarios' pcaps (the frames dfperf replays, for
    /// the OVS peer perf/peers/ovs-dpdk-overlay.sh) into this directory
    /// and exit: encap-N.pcap, decap-geneve-N.pcap, decap-vxlan-N.pcap,
    /// nat-N.pcap (N = --flows).
    #[arg(long)]
    write_pcaps: Option<std::path::PathBuf>,
    /// Frame size on the wire in bytes (64..=1518), or `imix` (64/570/1518 in 7:4:1).
    #[arg(long, default_value = "64")]
    frame: String,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Cores to pin workers to, comma-separated (default: worker i on core
    /// (1 + i) mod ncpu, keeping core 0 for this thread while cores allow).
    #[arg(long, value_delimiter = ',')]
    cores: Vec<usize>,
    /// Do not pin workers.
    #[arg(long)]
    no_pin: bool,
    /// Warm-up seconds before the measured window.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Measured window in seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Packet buffers per worker.
    #[arg(long, default_value_t = 8192)]
    pool: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Trace the first N packets of each scenario and print each stage's decisions.
    #[arg(long, default_value_t = 0)]
    trace: u32,
    /// Print each scenario's compiled graph first.
    #[arg(long)]
    show_graph: bool,
    /// Exit 1 if the l2 scenario costs more than this many busy-loop cycles
    /// per packet over the io scenario (needs both in the run).
    #[arg(long)]
    max_l2_over_io: Option<f64>,
    /// Run every packet through every stage: no wires, port plans or
    /// pass-overs (the graph's own cost; e.g. io then measures
    /// input -> xconnect -> output per packet instead of a port-to-port wire).
    #[arg(long)]
    no_shortcuts: bool,
    /// Exit 1 if any scenario allocates more than this in its window.
    #[arg(long)]
    max_allocs: Option<u64>,
    /// Exit 1 if any scenario drops more than this many packets in its
    /// window (all reasons together).
    #[arg(long)]
    max_drops: Option<u64>,
    /// Ports: mem (in-memory generator + sink) or dpdk (the peers' DPDK
    /// virtual devices: io over 2 x net_null, l2 over net_pcap -> net_null;
    /// needs a build with `--features dpdk` and root).
    #[arg(long, value_enum, default_value = "mem")]
    ports_kind: PortsKind,
    /// DPDK: run EAL without hugepages (--no-huge; about half the rate).
    /// By default dfperf reserves 1024 x 2 MiB pages if fewer are free and
    /// restores the count afterwards.
    #[arg(long)]
    no_huge: bool,
    /// DPDK: do not register workers with EAL (no per-lcore mempool cache).
    #[arg(long)]
    no_lcore_register: bool,
    /// DPDK: the core of EAL's main lcore (this thread; it only sleeps).
    #[arg(long, default_value_t = 0)]
    eal_core: usize,
}

fn frame_mix(s: &str) -> Result<FrameMix> {
    if s == "imix" {
        return Ok(FrameMix::Imix);
    }
    match s.parse::<usize>() {
        Ok(n) if (64..=1518).contains(&n) => Ok(FrameMix::Fixed(n)),
        _ => Err(anyhow!(
            "--frame {s}: expected a size from 64 to 1518 bytes, or `imix`"
        )),
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(ok) => {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("dfperf: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::print_stdout)]
fn real_main() -> Result<bool> {
    let cli = Cli::parse();
    if !(cli.seconds > 0.0 && cli.warmup >= 0.0) {
        return Err(anyhow!("--seconds must be > 0 and --warmup >= 0"));
    }
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(&c) = cli.cores.iter().find(|&&c| c >= ncpu) {
        return Err(anyhow!(
            "--cores {c}: this machine has cores 0..{} only",
            ncpu - 1
        ));
    }
    let cores = if cli.no_pin {
        Vec::new()
    } else if cli.cores.is_empty() {
        (0..cli.workers).map(|i| (1 + i) % ncpu).collect()
    } else {
        cli.cores.clone()
    };
    let frame = frame_mix(&cli.frame)?;
    if let Some(dir) = &cli.write_pcaps {
        df_perf::overlay::write_pcaps(dir, cli.flows)?;
        return Ok(true);
    }
    let mut dpdk_env = DpdkRuns::new(&cli)?;
    let mut results: Vec<Measurement> = Vec::new();
    type Run = (Scenario, PipelineMode, Tunnel, NatMode);
    let runs: Vec<Run> = cli
        .scenario
        .iter()
        .flat_map(|&s| -> Vec<Run> {
            let (t, n) = (Tunnel::Geneve, NatMode::Fip);
            match s {
                Scenario::Pipeline => cli.pipeline_mode.iter().map(|&m| (s, m, t, n)).collect(),
                Scenario::Encap | Scenario::Decap => cli
                    .tunnel
                    .iter()
                    .map(|&k| (s, PipelineMode::L2Est, k, n))
                    .collect(),
                Scenario::Nat => cli
                    .nat
                    .iter()
                    .map(|&m| (s, PipelineMode::L2Est, t, m))
                    .collect(),
                _ => vec![(s, PipelineMode::L2Est, t, n)],
            }
        })
        .collect();
    for (scenario, pipeline_mode, tunnel, nat) in runs {
        let p = Params {
            scenario,
            ports: cli.ports,
            macs: cli.macs,
            flows: cli.flows,
            frame,
            workers: cli.workers,
            cores: cores.clone(),
            warmup: cli.warmup,
            seconds: cli.seconds,
            pool: cli.pool,
            trace: cli.trace,
            ports_kind: cli.ports_kind,
            hugepages: !cli.no_huge,
            lcore_register: !cli.no_lcore_register,
            fdb_port: None,
            pipeline_mode,
            tunnel,
            nat,
            overlay_layout: cli.overlay_layout,
            shortcuts: !cli.no_shortcuts,
        };
        if cli.show_graph && !cli.json {
            print!("{}", df_perf::scenario::build_graph(&p)?.describe());
        }
        let m = match cli.ports_kind {
            PortsKind::Mem => run(&p)?,
            PortsKind::Dpdk => dpdk_env.run(&p)?,
        };
        if !cli.json {
            print!("{}", df_perf::report::text(&m));
        }
        results.push(m);
    }
    dpdk_env.finish()?;
    let find = |s: Scenario| results.iter().find(|m| m.params.scenario == s);
    let over = match (find(Scenario::Io), find(Scenario::L2)) {
        (Some(io), Some(l2)) => Some(l2.cycles_per_packet - io.cycles_per_packet),
        _ => None,
    };
    let mut ok = true;
    let mut verdicts = Vec::new();
    if let Some(d) = over {
        if !cli.json {
            println!("l2 over io: {d:+.1} TSC cycles/packet (busy loop)");
        }
    }
    if let Some(max) = cli.max_l2_over_io {
        match over {
            Some(d) if d <= max => verdicts.push(format!("PASS l2 over io {d:.1} <= {max}")),
            Some(d) => {
                ok = false;
                verdicts.push(format!("FAIL l2 over io {d:.1} > {max}"));
            }
            None => return Err(anyhow!("--max-l2-over-io needs --scenario io,l2")),
        }
    }
    if let Some(max) = cli.max_allocs {
        for m in &results {
            let name = m.params.label();
            if m.allocations <= max {
                verdicts.push(format!(
                    "PASS {name} allocations {} <= {max}",
                    m.allocations
                ));
            } else {
                ok = false;
                verdicts.push(format!("FAIL {name} allocations {} > {max}", m.allocations));
            }
        }
    }
    if let Some(max) = cli.max_drops {
        for m in &results {
            let name = m.params.label();
            let drops: u64 = m.drops.iter().map(|d| d.1).sum();
            if drops <= max {
                verdicts.push(format!("PASS {name} drops {drops} <= {max}"));
            } else {
                ok = false;
                verdicts.push(format!("FAIL {name} drops {drops} > {max}"));
            }
        }
    }
    if cli.json {
        let j = serde_json::json!({
            "results": results,
            "l2_over_io_cycles_per_packet": over,
            "verdicts": verdicts,
            "ok": ok,
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        for v in &verdicts {
            println!("{v}");
        }
    }
    Ok(ok)
}

/// EAL for `--ports-kind dpdk`, started once for all scenarios of the run.
#[cfg(feature = "dpdk")]
struct DpdkRuns(Option<df_perf::dpdk::DpdkEnv>);

#[cfg(feature = "dpdk")]
impl DpdkRuns {
    fn new(cli: &Cli) -> Result<DpdkRuns> {
        Ok(DpdkRuns(match cli.ports_kind {
            PortsKind::Dpdk => Some(df_perf::dpdk::DpdkEnv::start(!cli.no_huge, cli.eal_core)?),
            PortsKind::Mem => None,
        }))
    }
    fn run(&mut self, p: &Params) -> Result<Measurement> {
        match &mut self.0 {
            Some(env) => env.run(p),
            None => Err(anyhow!("DPDK is not started")),
        }
    }
    fn finish(self) -> Result<()> {
        self.0.map_or(Ok(()), df_perf::dpdk::DpdkEnv::finish)
    }
}

/// Without the `dpdk` feature, `--ports-kind dpdk` is refused up front.
#[cfg(not(feature = "dpdk"))]
struct DpdkRuns;

#[cfg(not(feature = "dpdk"))]
impl DpdkRuns {
    fn new(cli: &Cli) -> Result<DpdkRuns> {
        match cli.ports_kind {
            PortsKind::Mem => Ok(DpdkRuns),
            PortsKind::Dpdk => Err(anyhow!(
                "--ports-kind dpdk: this dfperf was built without DPDK; build it with \
                 `cargo build --release -p df-perf --features dpdk`"
            )),
        }
    }
    fn run(&mut self, _p: &Params) -> Result<Measurement> {
        Err(anyhow!(
            "--ports-kind dpdk needs a build with --features dpdk"
        ))
    }
    fn finish(self) -> Result<()> {
        Ok(())
    }
}
