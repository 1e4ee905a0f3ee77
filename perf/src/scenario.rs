//! The benchmark scenarios and the topology each one builds.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use df_app_input::{InputConfig, InputPort};
use df_app_l2::{L2Config, L2Network, L2Port};
use df_app_output::{OutputConfig, OutputPort};
use df_app_xconnect::{XconnectConfig, XconnectPair};
use df_dp::{Graph, RcuDomain};
use df_wire::EthernetAddress;

use crate::frames;
use crate::overlay::{self, NatMode, Tunnel};
use crate::pipeline::{self, PipelineMode};

/// What the graph does to each packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// input -> xconnect -> output: no lookup on packet contents; the
    /// framework's own cost.
    Io,
    /// input -> l2 -> output with an FDB of `--macs` entries.
    L2,
    /// The seed's full pipeline (portsec, sg with conntrack, l2, l3) with
    /// the tables of `shared/peers/ovs-dpdk-ct.sh` (see [`crate::pipeline`]).
    Pipeline,
    /// VM -> 1000 ports on 4 remote chassis, Geneve or VXLAN encapsulated
    /// on the underlay port (see [`crate::overlay`]).
    Encap,
    /// The same encapsulated frames received on the underlay port ->
    /// decapsulated to 1000 local MACs.
    Decap,
    /// VM -> external network through a floating IP or distributed SNAT.
    Nat,
}

impl Scenario {
    /// The scenario's name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Io => "io",
            Scenario::L2 => "l2",
            Scenario::Pipeline => "pipeline",
            Scenario::Encap => "encap",
            Scenario::Decap => "decap",
            Scenario::Nat => "nat",
        }
    }
}

/// What the switch ports are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortsKind {
    /// In-memory generator + sink ports (no DPDK needed).
    Mem,
    /// DPDK virtual devices, as the peers' scripts use them: io over
    /// 2 x `net_null`, l2 over `net_pcap` (infinite rx) -> `net_null`.
    Dpdk,
}

/// Frame sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrameMix {
    /// Every frame this size on the wire (FCS included, as RFC 2544 counts).
    Fixed(usize),
    /// Simple IMIX: 64, 570 and 1518 bytes on the wire in the ratio 7:4:1.
    Imix,
}

/// A benchmark run's parameters.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Params {
    /// The scenario.
    pub scenario: Scenario,
    /// Switch ports (each a generator and a sink on every worker).
    pub ports: u16,
    /// FDB entries (l2).
    pub macs: u32,
    /// Distinct flows (5-tuples) per port.
    pub flows: u32,
    /// Frame sizes.
    pub frame: FrameMix,
    /// Worker threads.
    pub workers: usize,
    /// Cores to pin workers to (worker i on cores[i % len]); empty: unpinned.
    pub cores: Vec<usize>,
    /// Warm-up before measuring, seconds.
    pub warmup: f64,
    /// Measured window, seconds.
    pub seconds: f64,
    /// Packet buffers per worker.
    pub pool: usize,
    /// Trace the first this many packets of worker 0.
    pub trace: u32,
    /// What the ports are.
    pub ports_kind: PortsKind,
    /// DPDK: run EAL on hugepages (else `--no-huge`).
    pub hugepages: bool,
    /// DPDK: register workers with EAL (per-lcore mempool cache).
    pub lcore_register: bool,
    /// l2: every FDB MAC lives on this port (`None`: spread over the ports).
    pub fdb_port: Option<u16>,
    /// pipeline: forwarding (l2 or l3) and conntrack state (new or est).
    pub pipeline_mode: PipelineMode,
    /// encap, decap: the encapsulation.
    pub tunnel: Tunnel,
    /// nat: floating IP or SNAT.
    pub nat: NatMode,
    /// encap, decap: the layout the overlay runs in.
    pub overlay_layout: OverlayLayout,
    /// Let workers use what stages know in advance (wires, port plans,
    /// pass-overs); false: every packet crosses every stage.
    pub shortcuts: bool,
}

/// The layout of the overlay scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverlayLayout {
    /// The seed's graph (portsec, sg, l2, l3-proactive, firewall) with the
    /// implicit tunnel and nat vertices.
    Seed,
    /// `etc/layouts/default.yaml` (input -> l2 -> output) with the
    /// implicit tunnel: encap and decap only (no router, no port security).
    Default,
}

impl Params {
    /// The overlay scenario of an `encap`, `decap` or `nat` run.
    pub fn overlay_kind(&self) -> Option<overlay::Kind> {
        match self.scenario {
            Scenario::Encap => Some(overlay::Kind::Encap(self.tunnel)),
            Scenario::Decap => Some(overlay::Kind::Decap(self.tunnel)),
            Scenario::Nat => Some(overlay::Kind::Nat(self.nat)),
            _ => None,
        }
    }

    /// The run's name in reports: the scenario and its mode.
    pub fn label(&self) -> String {
        match self.scenario {
            Scenario::Pipeline => format!("pipeline {}", self.pipeline_mode.name()),
            Scenario::Encap | Scenario::Decap => format!(
                "{} {}{}",
                self.scenario.name(),
                self.tunnel.name(),
                if self.overlay_layout == OverlayLayout::Default {
                    " (default layout)"
                } else {
                    ""
                }
            ),
            Scenario::Nat => format!("nat {}", self.nat.name()),
            s => s.name().to_string(),
        }
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            scenario: Scenario::Io,
            ports: 2,
            macs: 1000,
            flows: 1000,
            frame: FrameMix::Fixed(64),
            workers: 1,
            cores: Vec::new(),
            warmup: 1.0,
            seconds: 5.0,
            pool: 8192,
            trace: 0,
            ports_kind: PortsKind::Mem,
            hugepages: true,
            lcore_register: true,
            fdb_port: None,
            pipeline_mode: PipelineMode::L2Est,
            tunnel: Tunnel::Geneve,
            nat: NatMode::Fip,
            overlay_layout: OverlayLayout::Seed,
            shortcuts: true,
        }
    }
}

/// MAC of FDB entry `i` (02:00:00:00:HH:LL, as the peers' pcap generator).
pub fn fdb_mac(i: u32) -> [u8; 6] {
    let b = i.to_be_bytes();
    [0x02, 0, b[0], b[1], b[2], b[3]]
}

/// The port key of switch port `p`.
pub fn port_key(p: u16) -> u32 {
    u32::from(p) + 1
}

/// Compiles the scenario's layout and configures its tables.
///
/// # Errors
/// Invalid parameters (no ports, no MACs) or a configuration the apps refuse.
pub fn build_graph(p: &Params) -> Result<Arc<Graph>> {
    if p.ports == 0 {
        return Err(anyhow!("--ports must be at least 1"));
    }
    let layout = match p.scenario {
        Scenario::Io => df_catalog::IO_LAYOUT,
        Scenario::L2 => df_catalog::DEFAULT_LAYOUT,
        Scenario::Encap | Scenario::Decap if p.overlay_layout == OverlayLayout::Default => {
            df_catalog::DEFAULT_LAYOUT
        }
        Scenario::Nat if p.overlay_layout == OverlayLayout::Default => {
            return Err(anyhow!(
                "--overlay-layout default has no router (l3-proactive): nat needs the seed layout"
            ));
        }
        Scenario::Pipeline | Scenario::Encap | Scenario::Decap | Scenario::Nat => {
            df_catalog::SEED_LAYOUT
        }
    };
    let g = df_catalog::compile_layout(layout, &RcuDomain::new())?;
    if p.scenario == Scenario::Pipeline {
        let g = Arc::new(g);
        pipeline::configure(&g, p.pipeline_mode)?;
        return Ok(g);
    }
    if let Some(kind) = p.overlay_kind() {
        let g = Arc::new(g);
        overlay::configure(&g, kind)?;
        return Ok(g);
    }
    g.configure(
        "input",
        InputConfig {
            ports: (0..p.ports)
                .map(|i| InputPort {
                    port: i,
                    port_key: port_key(i),
                    network_key: 1,
                })
                .collect(),
            uplinks: Vec::new(),
            vlans: Vec::new(),
        },
    )?;
    g.configure(
        "output",
        OutputConfig {
            ports: (0..p.ports)
                .map(|i| OutputPort {
                    port_key: port_key(i),
                    port: i,
                    vlan: None,
                })
                .collect(),
            remote: Vec::new(),
            nat: Vec::new(),
        },
    )?;
    match p.scenario {
        Scenario::Io => {
            let peer = |i: u16| if p.ports == 1 { i } else { (i ^ 1) % p.ports };
            g.configure(
                "xconnect",
                XconnectConfig {
                    pairs: (0..p.ports)
                        .map(|i| XconnectPair {
                            from: port_key(i),
                            to: port_key(peer(i)),
                        })
                        .collect(),
                },
            )?;
        }
        Scenario::L2 => {
            if p.macs == 0 {
                return Err(anyhow!("--macs must be at least 1 for the l2 scenario"));
            }
            g.configure(
                "l2",
                L2Config {
                    networks: vec![L2Network {
                        network_key: 1,
                        uplink: None,
                        remote_flood: None,
                        ports: (0..p.macs)
                            .map(|m| L2Port {
                                port_key: port_key(
                                    p.fdb_port.unwrap_or((m % u32::from(p.ports)) as u16),
                                ),
                                mac: EthernetAddress(fdb_mac(m)),
                                ips: Vec::new(),
                                flood: true,
                            })
                            .collect(),
                    }],
                },
            )
            .context("configuring the FDB")?;
        }
        Scenario::Pipeline | Scenario::Encap | Scenario::Decap | Scenario::Nat => {}
    }
    Ok(Arc::new(g))
}

/// The peers' pcap frames (`shared/peers/lib/mkpcap.py OUT macs flows`),
/// byte for byte: `flows` UDP frames of `wire` bytes on the wire (FCS
/// included), frame i to FDB MAC i % macs from 02:00:01:00:00:01.
pub fn peer_frames(p: &Params, wire: usize) -> Vec<Vec<u8>> {
    (0..p.flows.max(1))
        .map(|i| {
            let k = i % p.macs.max(1);
            frames::udp4(fdb_mac(k), [2, 0, 1, 0, 0, 1], k, wire.saturating_sub(4))
        })
        .collect()
}

/// The frames switch port `port` generates: `flows` UDP flows, each to an
/// FDB MAC that lives on another port (when there is one).
pub fn port_frames(p: &Params, port: u16) -> Vec<Vec<u8>> {
    let n = u32::from(p.ports);
    (0..p.flows.max(1))
        .map(|f| {
            let mut m = f % p.macs.max(1);
            if n > 1 && m % n == u32::from(port) {
                m = (m + 1) % p.macs.max(1);
            }
            let wire = match p.frame {
                FrameMix::Fixed(s) => s,
                FrameMix::Imix => match f % 12 {
                    0..=6 => 64,
                    7..=10 => 570,
                    _ => 1518,
                },
            };
            frames::udp4(
                fdb_mac(m),
                [0x02, 0, 1, 0, 0, port as u8],
                f,
                wire.saturating_sub(4).max(60),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames 0 and 999 of `mkpcap.py OUT 1000` (hex from the script).
    #[test]
    fn peer_frames_match_mkpcap() {
        let f = peer_frames(&Params::default(), 64);
        assert_eq!(f.len(), 1000);
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&f[0]),
            "02000000000002000100000108004500002e000000004011ee98c6120001c613000004000400001a\
             0000000000000000000000000000000000000000"
        );
        assert_eq!(
            hex(&f[999]),
            "0200000003e702000100000108004500002e03e700004011e6cac6120001c61303e7040007e7001a\
             0000000000000000000000000000000000000000"
        );
    }
}
