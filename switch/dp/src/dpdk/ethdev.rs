//! [`EthPort`]: one DPDK ethdev (a PCI NIC or a virtual device), opened by
//! spec, configured, started, and closed and hot-unplugged on drop.
//!
//! Why it is shaped so: a switch port is configured once (queues, rings,
//! RSS) and then used by several workers, each through its own queue pair
//! ([`super::DpdkQueue`]). DPDK's configuration calls are not thread-safe
//! and its burst calls are safe only with one thread per queue, so the port
//! hands out each rx and tx queue at most once, and the device is stopped
//! and closed only when the port and every queue taken from it are gone
//! (they share one reference-counted inner value).
//!
//! # Thread-safety
//! `EthPort` is `Send + Sync`: its methods are the stats, xstats and link
//! reads DPDK allows concurrently with bursts, and taking queues (under a
//! mutex). Configuration happens in `open` only; stop and close in the
//! inner value's `Drop`, when no queue remains.

use std::ffi::{CStr, CString};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use df_dpdk_sys as sys;

use super::eal::EalInner;
use super::{error_text, DpdkError, DpdkQueue, Eal, Mempool};
use crate::port::PortStats;

/// How to set a port up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortConfig {
    /// Receive queues (RSS spreads flows over them when there are several
    /// and the device supports it).
    pub rx_queues: u16,
    /// Transmit queues (one per worker that sends on the port).
    pub tx_queues: u16,
    /// Descriptors per receive ring (the device may round it).
    pub rx_ring: u16,
    /// Descriptors per transmit ring (the device may round it).
    pub tx_ring: u16,
    /// Accept frames for any destination MAC (a switch port must).
    pub promiscuous: bool,
}

impl Default for PortConfig {
    fn default() -> Self {
        PortConfig {
            rx_queues: 1,
            tx_queues: 1,
            rx_ring: 1024,
            tx_ring: 1024,
            promiscuous: true,
        }
    }
}

/// A port's link as the driver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LinkStatus {
    /// Link up.
    pub up: bool,
    /// Speed in Mbit/s (0 when unknown).
    pub speed_mbps: u32,
    /// Full duplex.
    pub full_duplex: bool,
}

pub(super) struct PortInner {
    pub(super) id: u16,
    pub(super) spec: String,
    pub(super) name: String,
    pub(super) driver: String,
    pub(super) rx_queues: u16,
    pub(super) tx_queues: u16,
    pub(super) pool: Arc<Mempool>,
    /// The device to hot-unplug on drop: set when `open` probed it.
    device: Option<NonNull<sys::rte_device>>,
    started: bool,
    /// Queues handed out: (rx, tx), indexed by queue id.
    pub(super) taken: Mutex<(Vec<bool>, Vec<bool>)>,
    _eal: Arc<EalInner>,
}

// SAFETY: `device` is only used in Drop (rte_dev_remove), which runs once on
// whichever thread drops the last reference; every other field is plain
// data, an Arc or a Mutex.
unsafe impl Send for PortInner {}
// SAFETY: shared access reads immutable fields or locks `taken`; `device`
// is not touched through &self.
unsafe impl Sync for PortInner {}

impl std::fmt::Debug for PortInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthPort")
            .field("id", &self.id)
            .field("spec", &self.spec)
            .field("driver", &self.driver)
            .field("rx_queues", &self.rx_queues)
            .field("tx_queues", &self.tx_queues)
            .finish()
    }
}

impl PortInner {
    pub(super) fn err(&self, text: String) -> DpdkError {
        DpdkError::Port {
            spec: self.spec.clone(),
            text,
        }
    }
}

/// Port ids open in this process: configuring a port another `EthPort`
/// is bursting on would race with its queues.
static OPEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());

fn claim(id: u16) -> bool {
    let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
    if open.contains(&id) {
        return false;
    }
    open.push(id);
    true
}

impl Drop for PortInner {
    fn drop(&mut self) {
        let release = |id: u16| {
            let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
            open.retain(|&x| x != id);
        };
        if self.started {
            // SAFETY: the port is started and no queue of it remains (each
            // holds this inner value), so no burst can run concurrently.
            let _ = unsafe { sys::rte_eth_dev_stop(self.id) };
        }
        // SAFETY: stopped (or never started), no queue left (as above).
        let _ = unsafe { sys::rte_eth_dev_close(self.id) };
        if let Some(dev) = self.device {
            // SAFETY: `dev` is the device `open` probed (from dev_info), not
            // removed since; its only ethdev is closed just above.
            let _ = unsafe { sys::rte_dev_remove(dev.as_ptr()) };
        }
        release(self.id);
    }
}

/// An opened, started DPDK port. See the module doc.
///
/// # Thread-safety
/// `Send + Sync`, cheap to clone (one shared inner value): stats, xstats
/// and link reads may run while workers burst; each queue is handed out once
/// ([`EthPort::queue`]), so no two threads burst on one queue. The device is
/// stopped, closed and unplugged when the last clone and queue are gone.
#[derive(Debug, Clone)]
pub struct EthPort {
    inner: Arc<PortInner>,
}

impl EthPort {
    /// Opens the device `spec` and starts it with `cfg`'s queues, each rx
    /// queue filling from `pool`.
    ///
    /// `spec` is a PCI address (`0000:00:04.0`, bound to vfio-pci) or a
    /// virtual device with its devargs (`net_null0`, `net_null0,size=64`,
    /// `net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap`, `net_ring0`,
    /// `net_af_packet0,iface=veth0`, `net_af_xdp0,iface=veth0`,
    /// `net_tap0,iface=dftap0`, `net_memif0,role=server`,
    /// `net_vhost0,iface=/run/df/vhost0.sock`). A device not yet present is
    /// hot-plugged (`rte_dev_probe`) and removed again when the port goes;
    /// one EAL already probed (a `--vdev` argument, a PCI device) is used as
    /// it is and only closed.
    ///
    /// # Errors
    /// [`DpdkError::Port`] naming `spec`: an unknown driver (with the list
    /// of drivers found), devargs the driver refuses, more queues than the
    /// device has, or a configure/queue setup/start failure with DPDK's text.
    pub fn open(
        eal: &Eal,
        spec: &str,
        cfg: &PortConfig,
        pool: &Arc<Mempool>,
    ) -> Result<EthPort, DpdkError> {
        let err = |text: String| DpdkError::Port {
            spec: spec.to_string(),
            text,
        };
        if cfg.rx_queues == 0 || cfg.tx_queues == 0 {
            return Err(err("needs at least one rx and one tx queue".into()));
        }
        let name = spec.split(',').next().unwrap_or("").trim().to_string();
        if name.is_empty() {
            return Err(err("empty device name".into()));
        }
        let (id, probed) = match port_by_name(&name) {
            Some(id) => (id, false),
            None => (probe(spec, &name).map_err(err)?, true),
        };
        if !claim(id) {
            return Err(err(format!(
                "device `{name}` is already open in this process; share that EthPort \
                 (it is Clone) and take more queues from it"
            )));
        }
        let mut info = sys::rte_eth_dev_info::default();
        // SAFETY: `id` is a valid port (found by name above); info is
        // writable for the call.
        let rc = unsafe { sys::rte_eth_dev_info_get(id, &mut info) };
        let driver = if info.driver_name.is_null() {
            String::from("?")
        } else {
            // SAFETY: non-null driver names are static C strings of the PMD.
            let d = unsafe { CStr::from_ptr(info.driver_name) };
            d.to_string_lossy().into_owned()
        };
        // From here on, dropping `inner` closes (and unplugs) the device.
        let mut inner = PortInner {
            id,
            spec: spec.to_string(),
            name,
            driver,
            rx_queues: cfg.rx_queues,
            tx_queues: cfg.tx_queues,
            pool: pool.clone(),
            device: if probed {
                NonNull::new(info.device)
            } else {
                None
            },
            started: false,
            taken: Mutex::new((
                vec![false; usize::from(cfg.rx_queues)],
                vec![false; usize::from(cfg.tx_queues)],
            )),
            _eal: eal.handle(),
        };
        if rc != 0 {
            return Err(inner.err(format!("rte_eth_dev_info_get: {}", error_text(rc))));
        }
        configure(&mut inner, &info, cfg)?;
        Ok(EthPort {
            inner: Arc::new(inner),
        })
    }

    /// DPDK's port id.
    pub fn id(&self) -> u16 {
        self.inner.id
    }

    /// The spec it was opened with.
    pub fn spec(&self) -> &str {
        &self.inner.spec
    }

    /// The device name (the spec up to the first comma).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The driver's name (`net_null`, ...).
    pub fn driver(&self) -> &str {
        &self.inner.driver
    }

    /// Receive queues configured.
    pub fn rx_queues(&self) -> u16 {
        self.inner.rx_queues
    }

    /// Transmit queues configured.
    pub fn tx_queues(&self) -> u16 {
        self.inner.tx_queues
    }

    /// The mempool rx queues fill from.
    pub fn pool(&self) -> &Arc<Mempool> {
        &self.inner.pool
    }

    /// A worker's queues on this port: it polls the receive queues `rxqs`
    /// (may be empty) and transmits on `txq`. Each queue can be taken once
    /// until the queue value that holds it is dropped.
    ///
    /// # Errors
    /// A queue id past the configured count, or one already taken.
    pub fn queue(&self, rxqs: &[u16], txq: u16) -> Result<DpdkQueue, DpdkError> {
        DpdkQueue::new(self.inner.clone(), rxqs, txq)
    }

    /// The driver's basic counters (rx_dropped = missed + errors + no mbuf).
    pub fn stats(&self) -> PortStats {
        let mut s = sys::rte_eth_stats::default();
        // SAFETY: the port is valid while `inner` lives; s is writable.
        let rc = unsafe { sys::rte_eth_stats_get(self.inner.id, &mut s) };
        if rc != 0 {
            return PortStats::default();
        }
        PortStats {
            rx_packets: s.ipackets,
            rx_bytes: s.ibytes,
            rx_dropped: s.imissed + s.ierrors + s.rx_nombuf,
            tx_packets: s.opackets,
            tx_bytes: s.obytes,
        }
    }

    /// The driver's extended counters, by name.
    ///
    /// # Errors
    /// The driver failed to list them.
    pub fn xstats(&self) -> Result<Vec<(String, u64)>, DpdkError> {
        let id = self.inner.id;
        // SAFETY: valid port; a null array with size 0 asks for the count.
        let n = unsafe { sys::rte_eth_xstats_get_names(id, std::ptr::null_mut(), 0) };
        if n < 0 {
            return Err(self.inner.err(format!("xstats names: {}", error_text(n))));
        }
        let n = n as usize;
        let mut names = vec![sys::rte_eth_xstat_name { name: [0; 64] }; n];
        let mut vals = vec![sys::rte_eth_xstat::default(); n];
        // SAFETY: names has room for n entries.
        let got = unsafe { sys::rte_eth_xstats_get_names(id, names.as_mut_ptr(), n as u32) };
        // SAFETY: vals has room for n entries.
        let got2 = unsafe { sys::rte_eth_xstats_get(id, vals.as_mut_ptr(), n as u32) };
        if got < 0 || got2 < 0 {
            return Err(self.inner.err(format!(
                "xstats: {}",
                error_text(if got < 0 { got } else { got2 })
            )));
        }
        let k = (got as usize).min(got2 as usize).min(n);
        Ok(vals[..k]
            .iter()
            .map(|v| {
                let nm = names
                    .get(v.id as usize)
                    .map(|x| {
                        let b: Vec<u8> = x
                            .name
                            .iter()
                            .take_while(|&&c| c != 0)
                            .map(|&c| c as u8)
                            .collect();
                        String::from_utf8_lossy(&b).into_owned()
                    })
                    .unwrap_or_else(|| format!("xstat{}", v.id));
                (nm, v.value)
            })
            .collect())
    }

    /// The link's state (without waiting for autonegotiation).
    pub fn link(&self) -> LinkStatus {
        let mut l = sys::rte_eth_link::default();
        // SAFETY: valid port; l writable for the call.
        let rc = unsafe { sys::rte_eth_link_get_nowait(self.inner.id, &mut l) };
        if rc != 0 {
            return LinkStatus {
                up: false,
                speed_mbps: 0,
                full_duplex: false,
            };
        }
        LinkStatus {
            up: u32::from(l.link_status()) == sys::RTE_ETH_LINK_UP,
            speed_mbps: l.link_speed,
            full_duplex: l.link_duplex() != 0,
        }
    }

    /// The port's MAC address (all zero if the driver cannot say).
    pub fn mac(&self) -> [u8; 6] {
        let mut a = sys::rte_ether_addr::default();
        // SAFETY: valid port; `a` writable for the call.
        let rc = unsafe { sys::rte_eth_macaddr_get(self.inner.id, &mut a) };
        if rc != 0 {
            return [0; 6];
        }
        a.addr_bytes
    }
}

/// Configures queues (with RSS when asked for several rx queues and the
/// device can), sets them up on `pool`, starts the port.
fn configure(
    p: &mut PortInner,
    info: &sys::rte_eth_dev_info,
    cfg: &PortConfig,
) -> Result<(), DpdkError> {
    if cfg.rx_queues > info.max_rx_queues || cfg.tx_queues > info.max_tx_queues {
        return Err(p.err(format!(
            "asks for {} rx / {} tx queues; driver {} allows at most {} / {}",
            cfg.rx_queues, cfg.tx_queues, p.driver, info.max_rx_queues, info.max_tx_queues
        )));
    }
    let mut conf = sys::rte_eth_conf::default();
    let rss = (sys::RTE_ETH_RSS_IP | sys::RTE_ETH_RSS_UDP | sys::RTE_ETH_RSS_TCP)
        & info.flow_type_rss_offloads;
    if cfg.rx_queues > 1 && rss != 0 {
        conf.rxmode.mq_mode = sys::RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss;
    }
    let id = p.id;
    let step = |what: &str, rc: i32| -> Result<(), DpdkError> {
        if rc < 0 {
            Err(DpdkError::Port {
                spec: p.spec.clone(),
                text: format!("{what}: {}", error_text(rc)),
            })
        } else {
            Ok(())
        }
    };
    // SAFETY: valid, stopped port (just opened); conf lives across the call.
    let rc = unsafe { sys::rte_eth_dev_configure(id, cfg.rx_queues, cfg.tx_queues, &conf) };
    step("rte_eth_dev_configure", rc)?;
    let (mut rx_ring, mut tx_ring) = (cfg.rx_ring, cfg.tx_ring);
    // SAFETY: configured port; both pointers are to locals.
    let rc = unsafe { sys::rte_eth_dev_adjust_nb_rx_tx_desc(id, &mut rx_ring, &mut tx_ring) };
    step("rte_eth_dev_adjust_nb_rx_tx_desc", rc)?;
    // SAFETY: valid port.
    let socket = unsafe { sys::rte_eth_dev_socket_id(id) };
    // SOCKET_ID_ANY (-1) as unsigned is DPDK's own "any socket" convention.
    let socket = socket as u32;
    for q in 0..cfg.rx_queues {
        // SAFETY: configured with rx_queues queues; null rxconf = driver
        // defaults; the pool outlives the port (PortInner holds an Arc).
        let rc = unsafe {
            sys::rte_eth_rx_queue_setup(id, q, rx_ring, socket, std::ptr::null(), p.pool.as_ptr())
        };
        step(&format!("rx queue {q} setup"), rc)?;
    }
    for q in 0..cfg.tx_queues {
        // SAFETY: configured with tx_queues queues; null txconf = defaults.
        let rc = unsafe { sys::rte_eth_tx_queue_setup(id, q, tx_ring, socket, std::ptr::null()) };
        step(&format!("tx queue {q} setup"), rc)?;
    }
    // SAFETY: every queue is set up.
    let rc = unsafe { sys::rte_eth_dev_start(id) };
    step("rte_eth_dev_start", rc)?;
    p.started = true;
    if cfg.promiscuous {
        // Virtual devices often do not implement it (-ENOTSUP): harmless.
        // SAFETY: started port.
        let _ = unsafe { sys::rte_eth_promiscuous_enable(id) };
    }
    Ok(())
}

/// The port id of an ethdev named `name`, if there is one.
fn port_by_name(name: &str) -> Option<u16> {
    let c = CString::new(name).ok()?;
    let mut id = u16::MAX;
    // SAFETY: EAL is initialised (callers hold an Eal); c is a valid C
    // string and id writable for the call.
    let rc = unsafe { sys::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
    (rc == 0).then_some(id)
}

/// Hot-plugs `spec` and returns its port id.
fn probe(spec: &str, name: &str) -> Result<u16, String> {
    let c = CString::new(spec).map_err(|_| "the spec contains a NUL byte".to_string())?;
    // SAFETY: EAL is initialised (callers hold an Eal); c is a valid C
    // string; DPDK copies what it keeps.
    let rc = unsafe { sys::rte_dev_probe(c.as_ptr()) };
    if rc < 0 {
        return Err(probe_error(name, rc));
    }
    port_by_name(name).ok_or_else(|| {
        format!(
            "the device was probed but no ethdev named `{name}` appeared \
             (is it a network device?)"
        )
    })
}

fn probe_error(name: &str, rc: i32) -> String {
    let is_pci = name.contains(':');
    if is_pci {
        return format!(
            "rte_dev_probe failed: {}; is the device bound to vfio-pci (dpdk-devbind.py) \
             and EAL started without --no-pci?",
            error_text(rc)
        );
    }
    let driver = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let known = net_drivers();
    if !known.is_empty() && !known.iter().any(|d| d == driver) {
        return format!("unknown driver `{driver}` (drivers: {})", known.join(", "));
    }
    let af_packet = if driver == "net_af_packet" {
        // DPDK 22.11 names a socket's fanout group after the process id
        // XOR the interface index; another AF_PACKET process in the same
        // network namespace whose pair XORs the same joins a foreign group.
        "; if EAL said `could not set PACKET_FANOUT`, another AF_PACKET process \
         in this network namespace holds the same fanout group (DPDK derives it \
         from the process id and the interface index): start again (a new \
         process id picks another group)"
    } else {
        ""
    };
    format!(
        "rte_dev_probe failed: {}; check the devargs against the `{driver}` guide \
         (and that the name ends in an instance number, e.g. `{driver}0`){af_packet}",
        error_text(rc)
    )
}

/// Network drivers EAL can load, from the PMD plugin directories
/// (`/usr/lib/<triple>/dpdk/pmds-*/librte_net_<x>.so` -> `net_<x>`).
fn net_drivers() -> Vec<String> {
    let mut out = Vec::new();
    for root in ["/usr/lib", "/usr/local/lib"] {
        let Ok(triples) = std::fs::read_dir(root) else {
            continue;
        };
        for t in triples.flatten() {
            let Ok(dirs) = std::fs::read_dir(t.path().join("dpdk")) else {
                continue;
            };
            for d in dirs.flatten() {
                let Ok(files) = std::fs::read_dir(d.path()) else {
                    continue;
                };
                for f in files.flatten() {
                    let n = f.file_name().to_string_lossy().into_owned();
                    if let Some(x) = n
                        .strip_prefix("librte_net_")
                        .and_then(|x| x.strip_suffix(".so"))
                    {
                        out.push(format!("net_{x}"));
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
