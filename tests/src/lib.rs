//! Helpers shared by the pipeline tests (`tests/pipeline.rs`) and, later, the
//! end-to-end tests: frame builders and a small in-process topology.
#![forbid(unsafe_code)]

use std::sync::Arc;

use df_app_input::{InputConfig, InputPort};
use df_app_l2::{L2Config, L2Network, L2Port};
use df_app_output::{OutputConfig, OutputPort};
use df_dp::port::mem::{MemPort, MemPortHandle};
use df_dp::{Graph, RcuDomain};
use df_wire::EthernetAddress;

/// The MAC of VM `i` in the test topologies.
pub fn vm_mac(i: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, i]
}

/// An Ethernet II frame of `len` bytes (at least 14): `dst`, `src`, IPv4
/// ethertype, and a payload counting up from `tag` so frames can be told apart.
pub fn frame(dst: [u8; 6], src: [u8; 6], tag: u8, len: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(len.max(14));
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend((0..len.saturating_sub(14)).map(|i| tag.wrapping_add(i as u8)));
    f
}

/// The broadcast MAC.
pub const BROADCAST: [u8; 6] = [0xff; 6];

/// One network (key 1) with `n` VMs: VM `i` (1-based) has port key `i`, MAC
/// `vm_mac(i)`, and sits on switch port `i - 1`.
#[derive(Debug)]
pub struct Topology {
    /// The compiled graph, configured.
    pub graph: Arc<Graph>,
    /// The worker's side of each switch port.
    pub ports: Vec<MemPort>,
    /// The test's side of each switch port.
    pub handles: Vec<MemPortHandle>,
}

/// The input, l2 and output configs of a one-network topology of `n` VMs.
pub fn one_network(n: u8) -> (InputConfig, L2Config, OutputConfig) {
    let input = InputConfig {
        ports: (1..=n)
            .map(|i| InputPort {
                port: u16::from(i - 1),
                port_key: u32::from(i),
                network_key: 1,
            })
            .collect(),
        uplinks: Vec::new(),
        vlans: Vec::new(),
    };
    let l2 = L2Config {
        networks: vec![L2Network {
            network_key: 1,
            uplink: None,
            remote_flood: None,
            ports: (1..=n)
                .map(|i| L2Port {
                    port_key: u32::from(i),
                    mac: EthernetAddress(vm_mac(i)),
                    ips: Vec::new(),
                    flood: true,
                })
                .collect(),
        }],
    };
    let output = OutputConfig {
        ports: (1..=n)
            .map(|i| OutputPort {
                port_key: u32::from(i),
                port: u16::from(i - 1),
                vlan: None,
            })
            .collect(),
        remote: Vec::new(),
        nat: Vec::new(),
    };
    (input, l2, output)
}

impl Topology {
    /// Compiles `layout` and configures a one-network topology of `n` VMs
    /// (vertices named `input`, `l2`, `output`), with `ports` in-memory ports.
    ///
    /// # Panics
    /// If the layout does not compile or a config is refused (test helper).
    pub fn new(layout: &str, n: u8, ports: usize) -> Topology {
        let graph = Arc::new(
            df_catalog::compile_layout(layout, &RcuDomain::new())
                .unwrap_or_else(|e| panic!("layout does not compile: {e}")),
        );
        let (input, l2, output) = one_network(n);
        graph
            .configure("input", input)
            .unwrap_or_else(|e| panic!("{e}"));
        if graph.vertex("l2").is_some() {
            graph.configure("l2", l2).unwrap_or_else(|e| panic!("{e}"));
        }
        graph
            .configure("output", output)
            .unwrap_or_else(|e| panic!("{e}"));
        let (ports, handles) = (0..ports).map(|i| MemPort::new(&format!("p{i}"))).unzip();
        Topology {
            graph,
            ports,
            handles,
        }
    }
}
