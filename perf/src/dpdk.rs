//! dfperf over DPDK ports (Cargo feature `dpdk`, `--ports-kind dpdk`).
//!
//! Why these ports: a figure is only worth quoting beside the peers'
//! (`shared/peers/*.sh`), so the scenarios use exactly their virtual
//! devices and frames:
//! * `io`: 2 x `net_null<i>,size=64` (rx hands out fresh 64 B mbufs with
//!   unwritten data, tx frees), as `testpmd-null.sh`; the io graph
//!   (input -> xconnect -> output) never reads packet contents.
//! * `l2`: `net_pcap0,rx_pcap=<pcap>,infinite_rx=1` -> `net_null1,no-rx=1`,
//!   as `ovs-dpdk-null.sh`, with the frames of `peers/lib/mkpcap.py`
//!   (written here with df-dp's `PcapWriter`: 64 B UDP frames cycling the
//!   1000 FDB MACs, all learnt on port 1).
//!
//! EAL runs once per process: [`DpdkEnv`] starts it (with hugepages and
//! `--in-memory` by default, reserving 2 MiB pages if too few are free and
//! restoring the count afterwards; `--no-huge` otherwise) and serves every
//! scenario of the run. Workers draw mbufs from one mempool shared with the
//! ports' rx queues, and register with EAL so its per-lcore cache serves
//! them (unless `--no-lcore-register`).

use std::any::Any;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{anyhow, Context, Result};
use df_dp::dpdk::{register_thread, Eal, EthPort, Mempool, PortConfig};
use df_dp::port::pcap::PcapWriter;
use df_dp::port::Port;
use df_dp::worker::{RxqAssignment, ThreadInit, WorkerEnv, WorkerSpec};
use df_dp::PacketPool;

use crate::measure::{measure, DpdkInfo, Measurement};
use crate::overlay::{self, Kind, Split};
use crate::pipeline::{self, Gated};
use crate::scenario::{build_graph, peer_frames, FrameMix, Params, Scenario};

const NR_HUGEPAGES: &str = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
const FREE_HUGEPAGES: &str = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages";
/// 2 MiB pages dfperf wants free (as the peers' scripts reserve).
pub const WANT_HUGEPAGES: u64 = 1024;
/// Mbufs in the run's mempool, and its per-lcore cache.
const POOL_MBUFS: u32 = 32767;
const POOL_CACHE: u32 = 512;

/// EAL and what dfperf set up around it for a run.
#[derive(Debug)]
pub struct DpdkEnv {
    eal: Option<Eal>,
    hugepages: Option<Hugepages>,
    on_huge: bool,
    dir: PathBuf,
    runs: u32,
}

impl DpdkEnv {
    /// Reserves hugepages (if `hugepages`), starts EAL with its main lcore
    /// on `main_core`, and makes a scratch directory for the pcap.
    ///
    /// # Errors
    /// Hugepages cannot be reserved (not root, no memory), or EAL fails.
    pub fn start(hugepages: bool, main_core: usize) -> Result<DpdkEnv> {
        let reserved = if hugepages {
            Hugepages::reserve(WANT_HUGEPAGES)?
        } else {
            None
        };
        let pid = std::process::id();
        let mut args: Vec<String> = vec![
            "--file-prefix".into(),
            format!("dfperf-{pid}"),
            "-l".into(),
            main_core.to_string(),
            "--no-pci".into(),
            "--no-telemetry".into(),
            "--log-level".into(),
            "*:error".into(),
        ];
        if hugepages {
            args.push("--in-memory".into());
        } else {
            args.extend(["--no-huge", "-m", "1024", "--no-shconf"].map(String::from));
        }
        let eal = Eal::init(&args).context("starting DPDK (run dfperf as root)")?;
        let dir = std::env::temp_dir().join(format!("dfperf-{pid}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(DpdkEnv {
            eal: Some(eal),
            hugepages: reserved,
            on_huge: hugepages,
            dir,
            runs: 0,
        })
    }

    fn eal(&self) -> Result<&Eal> {
        self.eal
            .as_ref()
            .ok_or_else(|| anyhow!("EAL already cleaned up"))
    }

    /// Runs one scenario over DPDK ports and tears them down.
    ///
    /// # Errors
    /// A port or pool cannot be set up, or the workers cannot start.
    pub fn run(&mut self, p: &Params) -> Result<Measurement> {
        if p.ports != 2 && p.scenario != Scenario::Pipeline {
            return Err(anyhow!(
                "--ports-kind dpdk uses 2 ports, as the peers do (got --ports {})",
                p.ports
            ));
        }
        if p.workers == 0 {
            return Err(anyhow!("--workers must be at least 1"));
        }
        self.runs += 1;
        let eal = self.eal()?.clone();
        let mut p = p.clone();
        let wire = match p.frame {
            FrameMix::Fixed(s) => s,
            FrameMix::Imix => return Err(anyhow!("--ports-kind dpdk needs a fixed --frame size")),
        };
        let workers = p.workers as u16;
        // Mbufs net_pcap's infinite rx keeps (every frame of each queue's
        // pcap), on top of what is in flight.
        let mut stored: u32 = 0;
        // (spec, polled for rx)
        let specs: Vec<(String, bool)> = match p.scenario {
            Scenario::Io => (0..2)
                .map(|i| (format!("net_null{i},size={wire}"), true))
                .collect(),
            Scenario::L2 => {
                p.fdb_port = Some(1);
                let pcap = self.write_pcap(&p, wire)?;
                let rx = format!("rx_pcap={},", pcap.display()).repeat(p.workers);
                vec![
                    (format!("net_pcap0,{rx}infinite_rx=1"), true),
                    ("net_null1,no-rx=1".to_string(), false),
                ]
            }
            Scenario::Pipeline => {
                if wire != 64 {
                    return Err(anyhow!(
                        "the pipeline scenario replays the peer's 64 B frames (got --frame {wire})"
                    ));
                }
                p.ports = pipeline::PORTS;
                let mode = p.pipeline_mode;
                let macs = if mode.l3() { 1 } else { pipeline::L2_MACS };
                let n = p.flows.max(1);
                let rx = |path: PathBuf| format!("rx_pcap={},", path.display()).repeat(p.workers);
                let fwd = self.write_frames(
                    &format!("flows-{n}-{macs}.pcap"),
                    &pipeline::flow_frames(n, macs, false),
                )?;
                let mut v = vec![
                    (format!("net_pcap0,{}infinite_rx=1", rx(fwd)), true),
                    ("net_null1,no-rx=1".to_string(), false),
                ];
                stored = n * workers as u32;
                if mode.est() {
                    let rep = self.write_frames(
                        &format!("reply-{n}.pcap"),
                        &pipeline::flow_frames(n, pipeline::L2_MACS, true),
                    )?;
                    v.push((format!("net_pcap2,{}infinite_rx=1", rx(rep)), true));
                    stored *= 2;
                }
                v
            }
            Scenario::Encap | Scenario::Decap | Scenario::Nat => {
                let kind = p
                    .overlay_kind()
                    .ok_or_else(|| anyhow!("not an overlay scenario"))?;
                if wire != 64 {
                    return Err(anyhow!(
                        "the overlay scenarios replay 64 B VM frames (got --frame {wire})"
                    ));
                }
                p.ports = overlay::PORTS;
                let n = p.flows.max(1);
                let rx = |path: PathBuf| format!("rx_pcap={},", path.display()).repeat(p.workers);
                let name = match kind {
                    Kind::Encap(_) => format!("encap-{n}.pcap"),
                    Kind::Decap(t) => format!("decap-{}-{n}.pcap", t.name()),
                    Kind::Nat(_) => format!("nat-{n}.pcap"),
                };
                let src = self.write_frames(&name, &overlay::source_frames(kind, n))?;
                let mut v = vec![
                    (format!("net_pcap0,{}infinite_rx=1", rx(src)), true),
                    ("net_null1,no-rx=1".to_string(), false),
                ];
                stored = n * workers as u32;
                if let Kind::Nat(mode) = kind {
                    let arp = self.write_frames(
                        &format!("arp-{}.pcap", mode.name()),
                        &[overlay::arp_reply(mode)],
                    )?;
                    v.push((format!("net_pcap2,{}infinite_rx=1", rx(arp)), true));
                    stored += workers as u32;
                }
                v
            }
        };
        let graph = build_graph(&p)?;
        let bindings = match p.overlay_kind() {
            Some(Kind::Decap(_)) => vec![(overlay::SRC_PORT, overlay::decap_queue(&graph)?)],
            _ => Vec::new(),
        };
        let nat = matches!(p.overlay_kind(), Some(Kind::Nat(_)));
        let mp = Mempool::new(
            &eal,
            &format!("dfperf{}", self.runs),
            POOL_MBUFS.saturating_add(stored),
            POOL_CACHE,
            2176,
            None,
        )?;
        let cfg = PortConfig {
            rx_queues: workers,
            tx_queues: workers,
            ..PortConfig::default()
        };
        let ports = specs
            .iter()
            .map(|(s, _)| EthPort::open(&eal, s, &cfg, &mp))
            .collect::<Result<Vec<_>, _>>()?;
        let rxqs: Vec<(&str, u16)> = ports
            .iter()
            .zip(&specs)
            .map(|(e, (_, rx))| (e.name(), if *rx { e.rx_queues() } else { 0 }))
            .collect();
        let assign = RxqAssignment::round_robin(&rxqs, p.workers);
        let (from, until) = pipeline::reply_window(p.warmup);
        let mut wspecs = Vec::new();
        for w in 0..p.workers {
            let mut qs: Vec<(u16, Box<dyn Port>)> = Vec::new();
            let mut rx_ports = assign.rx_ports(w);
            if nat {
                // The uplink (switch port 1): transmits to net_null1,
                // receives the gateway's ARP reply from net_pcap2 during
                // the warm-up only.
                let q0 = ports[0].queue(&assign.queues(w, 0), w as u16)?;
                let q1 = ports[1].queue(&assign.queues(w, 1), w as u16)?;
                let q2 = ports[2].queue(&assign.queues(w, 2), w as u16)?;
                qs.push((overlay::SRC_PORT, Box::new(q0)));
                qs.push((
                    overlay::SINK_PORT,
                    Box::new(Split::new(Gated::new(q2, from, until), q1)),
                ));
                rx_ports = vec![overlay::SRC_PORT, overlay::SINK_PORT];
            }
            for (k, e) in ports.iter().enumerate() {
                if nat {
                    break;
                }
                let q = e.queue(&assign.queues(w, k as u16), w as u16)?;
                if p.scenario == Scenario::Pipeline && k as u16 == pipeline::UPLINK_PORT {
                    // The replies: only during the warm-up (ct=est priming).
                    qs.push((k as u16, Box::new(Gated::new(q, from, until))));
                } else {
                    qs.push((k as u16, Box::new(q)));
                }
            }
            let init: Option<ThreadInit> = p.lcore_register.then(|| {
                let eal = eal.clone();
                Box::new(move || Box::new(register_thread(&eal).ok()) as Box<dyn Any>) as ThreadInit
            });
            wspecs.push((
                WorkerSpec {
                    core: (!p.cores.is_empty()).then(|| p.cores[w % p.cores.len()]),
                    ports: qs,
                    rx: rx_ports,
                    bindings: bindings.clone(),
                },
                WorkerEnv {
                    pool: Some(PacketPool::with_mempool(mp.clone())),
                    thread_init: init,
                },
            ));
        }
        let (mut m, reports) = measure(&p, &graph, wspecs)?;
        drop(reports);
        let port_stats = ports
            .iter()
            .map(|e| {
                let s = e.stats();
                (
                    e.spec().to_string(),
                    s.rx_packets,
                    s.tx_packets,
                    s.rx_dropped,
                )
            })
            .collect();
        drop(ports);
        let leaked = u64::from(mp.in_use());
        drop(mp);
        m.dpdk = Some(DpdkInfo {
            ports: specs.into_iter().map(|(s, _)| s).collect(),
            hugepages: self.on_huge,
            lcore_registered: p.lcore_register,
            rxq_table: assign.to_string(),
            mbufs_leaked: leaked,
            port_stats,
        });
        Ok(m)
    }

    /// Writes `frames` as pcap `name` into the scratch dir.
    fn write_frames(&self, name: &str, frames: &[Vec<u8>]) -> Result<PathBuf> {
        let path = self.dir.join(name);
        let mut w = PcapWriter::create(&path)?;
        for f in frames {
            w.write(f)?;
        }
        w.flush()?;
        Ok(path)
    }

    /// Writes the peers' pcap ([`peer_frames`]) into the scratch dir.
    fn write_pcap(&self, p: &Params, wire: usize) -> Result<PathBuf> {
        let path = self.dir.join(format!("m{}.pcap", p.macs));
        let mut w = PcapWriter::create(&path)?;
        for f in peer_frames(p, wire) {
            w.write(&f)?;
        }
        w.flush()?;
        Ok(path)
    }

    /// Cleans up EAL, restores the hugepage count, removes the scratch dir.
    ///
    /// # Errors
    /// EAL's cleanup failed (a port or pool still alive).
    pub fn finish(mut self) -> Result<()> {
        let r = match self.eal.take() {
            Some(e) => e.cleanup().map_err(anyhow::Error::from),
            None => Ok(()),
        };
        drop(self);
        r
    }
}

impl Drop for DpdkEnv {
    fn drop(&mut self) {
        drop(self.eal.take());
        drop(self.hugepages.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A hugepage reservation to undo: the page count before, and whether
/// dfperf mounted hugetlbfs.
#[derive(Debug)]
struct Hugepages {
    saved: u64,
    mounted: bool,
}

fn read_num(path: &str) -> Result<u64> {
    let s = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    s.trim()
        .parse()
        .with_context(|| format!("{path} holds {s:?}, not a number"))
}

impl Hugepages {
    /// Makes sure `want` 2 MiB pages are free and hugetlbfs is mounted;
    /// `None` if nothing had to change.
    fn reserve(want: u64) -> Result<Option<Hugepages>> {
        let mounted = if hugetlbfs_mounted() {
            false
        } else {
            std::fs::create_dir_all("/dev/hugepages")?;
            let ok = Command::new("mount")
                .args(["-t", "hugetlbfs", "nodev", "/dev/hugepages"])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(anyhow!(
                    "hugetlbfs is not mounted and `mount -t hugetlbfs nodev /dev/hugepages` \
                     failed (run as root, or pass --no-huge)"
                ));
            }
            true
        };
        let free = read_num(FREE_HUGEPAGES)?;
        if free >= want {
            return Ok(mounted.then_some(Hugepages {
                saved: read_num(NR_HUGEPAGES)?,
                mounted,
            }));
        }
        let saved = read_num(NR_HUGEPAGES)?;
        let guard = Hugepages { saved, mounted };
        std::fs::write(NR_HUGEPAGES, (saved + want - free).to_string()).with_context(|| {
            format!("reserving hugepages in {NR_HUGEPAGES} (run as root, or pass --no-huge)")
        })?;
        let now = read_num(FREE_HUGEPAGES)?;
        if now < want {
            return Err(anyhow!(
                "asked the kernel for {want} free 2 MiB hugepages, got {now} \
                 (memory too fragmented?); pass --no-huge to run without"
            ));
        }
        Ok(Some(guard))
    }
}

fn hugetlbfs_mounted() -> bool {
    std::fs::read_to_string("/proc/mounts")
        .map(|m| {
            m.lines()
                .any(|l| l.split_whitespace().nth(2) == Some("hugetlbfs"))
        })
        .unwrap_or(false)
}

impl Drop for Hugepages {
    fn drop(&mut self) {
        let _ = std::fs::write(NR_HUGEPAGES, self.saved.to_string());
        if self.mounted {
            let _ = Command::new("umount").arg("/dev/hugepages").status();
        }
    }
}
