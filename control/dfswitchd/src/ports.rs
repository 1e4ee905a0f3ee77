//! Opening the switch ports of `dfswitchd.toml` and handing each worker its
//! queue pair on every port.
//!
//! DPDK devices get one transmit queue per worker and their receive queues
//! spread over the workers round-robin (OVS's `pmd-rxq-assign=roundrobin`);
//! in-process devices (`pcap:`, `null`) have one queue pair and run on a
//! single worker.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use df_dp::dpdk::{Eal, EthPort, Mempool, PortConfig};
use df_dp::port::gen::SinkPort;
use df_dp::port::pcap::PcapPort;
use df_dp::port::Port;
use df_dp::worker::RxqAssignment;
use df_dp::worker::WorkerSpec;
use df_dp::Graph;

use crate::config::{Config, Device};

/// What the daemon keeps about an open port.
#[derive(Debug)]
pub struct OpenPort {
    /// Switch port id.
    pub id: u16,
    /// Name from the config.
    pub name: String,
    /// Device string from the config.
    pub device: String,
    /// The lport it carries.
    pub iface_id: Option<String>,
    /// The physical network it is the uplink of.
    pub physical_network: Option<String>,
    /// The DPDK port, if it is one (stats, link).
    pub eth: Option<EthPort>,
}

/// Opens every port and builds one `WorkerSpec` per worker.
///
/// # Errors
/// A device that fails to open (naming the port and the DPDK error), or
/// in-process ports with more than one worker.
pub fn open(
    cfg: &Config,
    graph: &Graph,
    eal: Option<&Eal>,
    pool: Option<&Arc<Mempool>>,
) -> Result<(Vec<WorkerSpec>, Vec<OpenPort>, RxqAssignment)> {
    let nworkers = cfg.datapath.workers.len();
    let mut specs: Vec<WorkerSpec> = cfg
        .datapath
        .workers
        .iter()
        .map(|&core| WorkerSpec {
            core: Some(core),
            ports: Vec::new(),
            rx: Vec::new(),
            bindings: Vec::new(),
        })
        .collect();
    let names: Vec<(&str, u16)> = cfg
        .ports
        .iter()
        .map(|p| match p.parse_device() {
            Ok(Device::Dpdk(_)) => (p.name.as_str(), p.rx_queues),
            _ => (p.name.as_str(), 1),
        })
        .collect();
    let assign = RxqAssignment::round_robin(&names, nworkers);
    let mut open = Vec::new();
    for (i, p) in cfg.ports.iter().enumerate() {
        let id = i as u16;
        let at = || format!("port `{}` ({})", p.name, p.device);
        if p.underlay {
            // Tunnel frames go straight to the tunnel's decapsulation.
            let q = graph
                .vertices_of_type("tunnel")
                .next()
                .and_then(|v| graph.port_queue(&format!("{v}.in.decap")))
                .ok_or_else(|| {
                    anyhow!(
                        "{}: the underlay port needs a `tunnel` vertex in the layout (its `in.decap` takes the port's frames)",
                        at()
                    )
                })?;
            for s in &mut specs {
                s.bindings.push((id, q));
            }
        }
        let mut eth = None;
        match p.parse_device().map_err(|e| anyhow!("{}: {e}", at()))? {
            Device::Dpdk(spec) => {
                let (Some(eal), Some(pool)) = (eal, pool) else {
                    return Err(anyhow!("{}: DPDK is not initialised", at()));
                };
                let pc = PortConfig {
                    rx_queues: p.rx_queues,
                    tx_queues: nworkers as u16,
                    ..PortConfig::default()
                };
                let port = EthPort::open(eal, &spec, &pc, pool).with_context(at)?;
                for (w, spec_w) in specs.iter_mut().enumerate() {
                    let rxqs = assign.queues(w, id);
                    let q = port.queue(&rxqs, w as u16).with_context(at)?;
                    spec_w.ports.push((id, Box::new(q)));
                    if !rxqs.is_empty() {
                        spec_w.rx.push(id);
                    }
                }
                eth = Some(port);
            }
            Device::Pcap { rx, tx, looped } => {
                if nworkers > 1 {
                    return Err(anyhow!(
                        "{}: in-process ports run on one worker; set [datapath] workers to one core",
                        at()
                    ));
                }
                let port = PcapPort::open(&p.name, rx.as_deref(), looped, tx.as_deref())
                    .with_context(at)?;
                specs[0].ports.push((id, Box::new(port) as Box<dyn Port>));
                specs[0].rx.push(id);
            }
            Device::Null => {
                if nworkers > 1 {
                    return Err(anyhow!(
                        "{}: in-process ports run on one worker; set [datapath] workers to one core",
                        at()
                    ));
                }
                specs[0]
                    .ports
                    .push((id, Box::new(SinkPort::new(&p.name)) as Box<dyn Port>));
            }
        }
        open.push(OpenPort {
            id,
            name: p.name.clone(),
            device: p.device.clone(),
            iface_id: p.iface_id.clone(),
            physical_network: p.physical_network.clone(),
            eth,
        });
    }
    Ok((specs, open, assign))
}
