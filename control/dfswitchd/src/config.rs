//! `dfswitchd.toml`: what the daemon runs. Parsed once into typed values at
//! start (STYLE.md rule 8); every mistake is one error line that names the
//! section, the field and the fix.
//!
//! ```toml
//! [chassis]
//! id = "host1"                 # default: the host name
//! tunnel_ip = "192.0.2.10"     # optional until tunnels are used
//! external_ip = "198.51.100.7" # optional: this host's SNAT address on the external network
//!
//! [store]
//! url = "file:///var/lib/dragonflow-rs/nb.redb"   # or etcd://127.0.0.1:2379
//!
//! [datapath]
//! layout = "layouts/default.yaml"    # relative to this file; default: the seed's graph (etc/layouts/seed.yaml, built in)
//! workers = [1]                      # one pinned worker per listed core
//! pool = 16384                       # packet buffers per worker
//!
//! [dpdk]
//! args = ["--in-memory"]             # extra EAL arguments
//! hugepages = true                   # false: --no-huge (tests, CI; half the speed)
//! memory_mb = 512                    # with hugepages = false
//!
//! [management]
//! socket = "/run/dragonflow-rs/dfswitchd.sock"
//! metrics = "127.0.0.1:9464"         # optional Prometheus endpoint
//!
//! [[port]]
//! name = "vm1"
//! device = "net_af_packet0,iface=veth-vm1"    # a DPDK device: PCI address or vdev spec
//! iface_id = "0b7f..."                        # the NB lport this port carries
//! rx_queues = 1
//!
//! [[port]]
//! name = "uplink"
//! device = "0000:03:00.0"                     # a NIC on the physical network
//! physical_network = "physnet1"               # or: the uplink of a physical network
//!
//! [[port]]
//! name = "underlay"
//! device = "0000:04:00.0"
//! underlay = true                             # or: tunnels to other chassis (needs [chassis] tunnel_ip)
//! ```
//! Besides DPDK devices, two in-process devices exist for tests and
//! machines without DPDK: `pcap:rx=IN.pcap,tx=OUT.pcap[,loop]` and `null`.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A config that cannot run, as one line naming the field and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The config file.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The whole config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This host.
    #[serde(default)]
    pub chassis: ChassisSection,
    /// The NB store.
    #[serde(default)]
    pub store: StoreSection,
    /// Workers and the graph.
    #[serde(default)]
    pub datapath: DatapathSection,
    /// EAL.
    #[serde(default)]
    pub dpdk: DpdkSection,
    /// The management socket and metrics.
    #[serde(default)]
    pub management: ManagementSection,
    /// Switch ports, in port-id order.
    #[serde(default, rename = "port")]
    pub ports: Vec<PortSection>,
    /// The directory of the config file (relative paths resolve against it).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// `[chassis]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChassisSection {
    /// Chassis id (default: the host name).
    pub id: Option<String>,
    /// The tunnel endpoint address registered for this chassis.
    pub tunnel_ip: Option<IpAddr>,
    /// This chassis' address on the external network (Dragonflow's
    /// `external_host_ip`): VMs behind a router with SNAT leave as it.
    pub external_ip: Option<IpAddr>,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// `file:///abs/path.redb` (embedded) or `etcd://host:port[,host:port]`.
    #[serde(default = "default_store")]
    pub url: String,
    /// Seconds between service heartbeats.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_secs: u64,
}

fn default_store() -> String {
    "file:///var/lib/dragonflow-rs/nb.redb".into()
}

fn default_heartbeat() -> u64 {
    25
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            url: default_store(),
            heartbeat_secs: default_heartbeat(),
        }
    }
}

/// `[datapath]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatapathSection {
    /// Layout file (default: the seed's graph, built in).
    pub layout: Option<PathBuf>,
    /// Cores, one pinned worker each.
    #[serde(default = "default_workers")]
    pub workers: Vec<usize>,
    /// Packet buffers per worker.
    #[serde(default = "default_pool")]
    pub pool: usize,
    /// Most vertices a packet may cross.
    #[serde(default = "default_hops")]
    pub hop_limit: u8,
}

fn default_workers() -> Vec<usize> {
    vec![1]
}
fn default_pool() -> usize {
    16384
}
fn default_hops() -> u8 {
    32
}

impl Default for DatapathSection {
    fn default() -> Self {
        DatapathSection {
            layout: None,
            workers: default_workers(),
            pool: default_pool(),
            hop_limit: default_hops(),
        }
    }
}

/// `[dpdk]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpdkSection {
    /// Extra EAL arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Use hugepages (false: `--no-huge`).
    #[serde(default = "yes")]
    pub hugepages: bool,
    /// Memory in MB without hugepages.
    #[serde(default = "default_mem")]
    pub memory_mb: u32,
    /// `--file-prefix` (default: `dfswitchd-<chassis>`).
    pub file_prefix: Option<String>,
}

fn yes() -> bool {
    true
}
fn default_mem() -> u32 {
    512
}

impl Default for DpdkSection {
    fn default() -> Self {
        DpdkSection {
            args: Vec::new(),
            hugepages: true,
            memory_mb: default_mem(),
            file_prefix: None,
        }
    }
}

/// `[management]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementSection {
    /// The unix socket dfctl talks to.
    #[serde(default = "default_socket")]
    pub socket: PathBuf,
    /// Prometheus `/metrics` listen address, e.g. `127.0.0.1:9464`.
    pub metrics: Option<String>,
}

fn default_socket() -> PathBuf {
    PathBuf::from("/run/dragonflow-rs/dfswitchd.sock")
}

impl Default for ManagementSection {
    fn default() -> Self {
        ManagementSection {
            socket: default_socket(),
            metrics: None,
        }
    }
}

/// One `[[port]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSection {
    /// Unique name.
    pub name: String,
    /// DPDK device (PCI address or vdev spec), `pcap:...` or `null`.
    pub device: String,
    /// The NB lport this switch port carries.
    pub iface_id: Option<String>,
    /// Or: the physical network this port is the uplink of (Dragonflow's
    /// `bridge_mappings`): flat and VLAN networks with that
    /// `provider:physical_network` reach the outside through it.
    pub physical_network: Option<String>,
    /// Or: the underlay port, where tunnels to the other chassis start and
    /// end (`[chassis] tunnel_ip` is its address); at most one.
    #[serde(default)]
    pub underlay: bool,
    /// Receive queues (spread over workers).
    #[serde(default = "one")]
    pub rx_queues: u16,
}

fn one() -> u16 {
    1
}

/// What a port's device string means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// A DPDK device spec (PCI address or vdev string).
    Dpdk(String),
    /// An in-process pcap port.
    Pcap {
        /// Frames to replay.
        rx: Option<PathBuf>,
        /// Where to write transmitted frames.
        tx: Option<PathBuf>,
        /// Replay forever.
        looped: bool,
    },
    /// An in-process port that drops what it is sent and receives nothing.
    Null,
}

/// DPDK drivers a vdev spec may name (Debian 12's DPDK 22.11 net PMDs that
/// need no hardware).
pub const VDEV_DRIVERS: &[&str] = &[
    "net_af_packet",
    "net_af_xdp",
    "net_tap",
    "net_memif",
    "net_vhost",
    "net_pcap",
    "net_null",
    "net_ring",
    "net_virtio_user",
];

impl Config {
    /// Reads and checks a config file.
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML of this shape, or
    /// describes something that cannot run.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(format!("cannot read the config: {e}")))?;
        let mut c: Config = toml::from_str(&text).map_err(|e| err(one_line(&e.to_string())))?;
        c.dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        c.check(available_cores()).map_err(err)?;
        Ok(c)
    }

    /// Checks what serde cannot: cores, names, devices, store URL.
    ///
    /// # Errors
    /// The first problem, naming the field and the fix.
    pub fn check(&self, ncpu: usize) -> Result<(), String> {
        if self.datapath.workers.is_empty() {
            return Err("[datapath] workers: list at least one core (e.g. workers = [1])".into());
        }
        for &c in &self.datapath.workers {
            if c >= ncpu {
                return Err(format!(
                    "[datapath] workers: core {c} does not exist (this machine has cores 0..={}); pick cores from that range",
                    ncpu.saturating_sub(1)
                ));
            }
        }
        let distinct: BTreeSet<usize> = self.datapath.workers.iter().copied().collect();
        if distinct.len() != self.datapath.workers.len() {
            return Err("[datapath] workers: a core is listed twice; one worker per core".into());
        }
        if self.datapath.pool < 1024 {
            return Err(format!(
                "[datapath] pool: {} buffers is too few (at least 1024 per worker)",
                self.datapath.pool
            ));
        }
        if !(self.store.url.starts_with("file://") || self.store.url.starts_with("etcd://")) {
            return Err(format!(
                "[store] url: `{}` is not a store URL (use file:///abs/path.redb or etcd://host:port)",
                self.store.url
            ));
        }
        if self.ports.len() > usize::from(u16::MAX) {
            return Err("too many [[port]] sections".into());
        }
        let mut names = BTreeSet::new();
        let mut ifaces = BTreeSet::new();
        let mut physnets = BTreeSet::new();
        let mut underlay: Option<&str> = None;
        for (i, p) in self.ports.iter().enumerate() {
            let at = format!("[[port]] #{} `{}`", i + 1, p.name);
            if p.name.is_empty()
                || !p
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(format!(
                    "{at}: name must be letters, digits, `-`, `_` or `.`"
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(format!("{at}: the name is used by another port"));
            }
            if let (Some(id), Some(net)) = (&p.iface_id, &p.physical_network) {
                return Err(format!(
                    "{at}: both iface_id `{id}` and physical_network `{net}`: a port carries one lport or is one physical network's uplink, not both"
                ));
            }
            if p.underlay {
                if p.iface_id.is_some() || p.physical_network.is_some() {
                    return Err(format!(
                        "{at}: the underlay port carries tunnels only: remove its iface_id / physical_network"
                    ));
                }
                if let Some(other) = underlay.replace(p.name.as_str()) {
                    return Err(format!(
                        "{at}: `{other}` is the underlay port already; a chassis has one"
                    ));
                }
                match self.chassis.tunnel_ip {
                    Some(IpAddr::V4(_)) => {}
                    Some(IpAddr::V6(a)) => {
                        return Err(format!(
                            "[chassis] tunnel_ip: {a} is IPv6; the underlay is IPv4 for now (give an IPv4 address)"
                        ))
                    }
                    None => {
                        return Err(format!(
                            "{at}: an underlay port needs [chassis] tunnel_ip, its IPv4 address (e.g. tunnel_ip = \"172.16.0.1\")"
                        ))
                    }
                }
            }
            if let Some(net) = &p.physical_network {
                if net.is_empty() {
                    return Err(format!(
                        "{at}: physical_network must not be empty (e.g. physical_network = \"physnet1\")"
                    ));
                }
                if !physnets.insert(net.as_str()) {
                    return Err(format!(
                        "{at}: physical_network `{net}` has another uplink; one port per physical network"
                    ));
                }
            }
            if let Some(id) = &p.iface_id {
                if !ifaces.insert(id.as_str()) {
                    return Err(format!(
                        "{at}: iface_id `{id}` is carried by another port; one switch port per lport"
                    ));
                }
            }
            if p.rx_queues == 0 || p.rx_queues > 64 {
                return Err(format!("{at}: rx_queues must be 1..=64"));
            }
            p.parse_device().map_err(|m| format!("{at}: device: {m}"))?;
        }
        Ok(())
    }

    /// The chassis id: configured, or the host name.
    pub fn chassis_id(&self) -> String {
        self.chassis.id.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .map(|s| s.trim().to_string())
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "localhost".into())
        })
    }

    /// The layout path, resolved against the config's directory.
    pub fn layout_path(&self) -> Option<PathBuf> {
        self.datapath.layout.as_ref().map(|p| self.dir.join(p))
    }

    /// Whether any port is a DPDK device (EAL must start).
    pub fn needs_dpdk(&self) -> bool {
        self.ports
            .iter()
            .any(|p| matches!(p.parse_device(), Ok(Device::Dpdk(_))))
    }
}

impl PortSection {
    /// Interprets `device`.
    ///
    /// # Errors
    /// An unknown driver or a malformed pcap spec, with the accepted forms.
    pub fn parse_device(&self) -> Result<Device, String> {
        let d = self.device.trim();
        if d == "null" {
            return Ok(Device::Null);
        }
        if let Some(rest) = d.strip_prefix("pcap:") {
            let (mut rx, mut tx, mut looped) = (None, None, false);
            for part in rest.split(',').filter(|s| !s.is_empty()) {
                match part.split_once('=') {
                    Some(("rx", v)) => rx = Some(PathBuf::from(v)),
                    Some(("tx", v)) => tx = Some(PathBuf::from(v)),
                    None if part == "loop" => looped = true,
                    _ => {
                        return Err(format!(
                            "`{part}` is not a pcap option (expected rx=FILE, tx=FILE, loop)"
                        ))
                    }
                }
            }
            return Ok(Device::Pcap { rx, tx, looped });
        }
        if is_pci(d) {
            return Ok(Device::Dpdk(d.to_string()));
        }
        let driver: String = d
            .split(',')
            .next()
            .unwrap_or_default()
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_string();
        if VDEV_DRIVERS.contains(&driver.as_str()) {
            return Ok(Device::Dpdk(d.to_string()));
        }
        Err(format!(
            "unknown driver `{driver}` in `{d}` (DPDK virtual devices: {}; a PCI address like 0000:00:04.0; or the in-process `pcap:rx=FILE,tx=FILE` and `null`)",
            VDEV_DRIVERS.join(", ")
        ))
    }
}

fn is_pci(s: &str) -> bool {
    // dddd:bb:dd.f or bb:dd.f
    let parts: Vec<&str> = s.split([':', '.']).collect();
    matches!(parts.len(), 3 | 4)
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cores this process may run on.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(toml_text).map_err(|e| one_line(&e.to_string()))?;
        c.check(2)?;
        Ok(c)
    }

    #[test]
    fn a_full_config_parses() {
        let c = parse(
            r#"
[chassis]
id = "h1"
tunnel_ip = "192.0.2.1"
[store]
url = "etcd://127.0.0.1:2379"
[datapath]
workers = [0, 1]
[dpdk]
hugepages = false
[[port]]
name = "vm1"
device = "net_af_packet0,iface=veth1"
iface_id = "p1"
[[port]]
name = "cap"
device = "pcap:rx=/tmp/in.pcap,tx=/tmp/out.pcap,loop"
"#,
        )
        .unwrap();
        assert_eq!(c.chassis_id(), "h1");
        assert_eq!(c.ports.len(), 2);
        assert!(c.needs_dpdk());
        assert_eq!(
            c.ports[1].parse_device().unwrap(),
            Device::Pcap {
                rx: Some("/tmp/in.pcap".into()),
                tx: Some("/tmp/out.pcap".into()),
                looped: true
            }
        );
    }

    #[test]
    fn every_mistake_names_the_field_and_the_fix() {
        let e = parse("[datapath]\nworkers = [7]\n").unwrap_err();
        assert_eq!(e, "[datapath] workers: core 7 does not exist (this machine has cores 0..=1); pick cores from that range");
        let e = parse("[[port]]\nname = \"a\"\ndevice = \"net_foo0\"\n").unwrap_err();
        assert!(
            e.starts_with("[[port]] #1 `a`: device: unknown driver `net_foo` in `net_foo0`"),
            "{e}"
        );
        let e = parse("[[port]]\nname = \"a\"\ndevice = \"null\"\n[[port]]\nname = \"a\"\ndevice = \"null\"\n").unwrap_err();
        assert_eq!(e, "[[port]] #2 `a`: the name is used by another port");
        let e = parse("[store]\nurl = \"redis://x\"\n").unwrap_err();
        assert!(e.contains("is not a store URL"), "{e}");
        let e = parse("[datapath]\nworkerz = [1]\n").unwrap_err();
        assert!(e.contains("unknown field `workerz`"), "{e}");
        let e = parse("[[port]]\nname = \"a\"\ndevice = \"pcap:rx\"\n").unwrap_err();
        assert!(e.contains("`rx` is not a pcap option"), "{e}");
        assert!(parse("[[port]]\nname = \"p\"\ndevice = \"0000:00:04.0\"\n").is_ok());
    }

    /// Uplinks and the underlay: what a port may be, and what it needs.
    #[test]
    fn uplink_and_underlay_ports_are_checked() {
        let port = |name: &str, extra: &str| {
            format!("[[port]]\nname = \"{name}\"\ndevice = \"null\"\n{extra}\n")
        };
        let e = parse(&port(
            "a",
            "iface_id = \"p1\"\nphysical_network = \"physnet1\"",
        ))
        .unwrap_err();
        assert!(
            e.contains("both iface_id `p1` and physical_network `physnet1`"),
            "{e}"
        );
        let e = parse(&format!(
            "{}{}",
            port("a", "physical_network = \"physnet1\""),
            port("b", "physical_network = \"physnet1\"")
        ))
        .unwrap_err();
        assert_eq!(e, "[[port]] #2 `b`: physical_network `physnet1` has another uplink; one port per physical network");
        let e = parse(&port("u", "underlay = true")).unwrap_err();
        assert_eq!(e, "[[port]] #1 `u`: an underlay port needs [chassis] tunnel_ip, its IPv4 address (e.g. tunnel_ip = \"172.16.0.1\")");
        let tip = "[chassis]\ntunnel_ip = \"172.16.0.1\"\n";
        let e = parse(&format!(
            "{tip}{}{}",
            port("u", "underlay = true"),
            port("v", "underlay = true")
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "[[port]] #2 `v`: `u` is the underlay port already; a chassis has one"
        );
        let e = parse(&format!(
            "{tip}{}",
            port("u", "underlay = true\niface_id = \"p1\"")
        ))
        .unwrap_err();
        assert!(e.contains("the underlay port carries tunnels only"), "{e}");
        let e = parse(&format!(
            "[chassis]\ntunnel_ip = \"fd00::1\"\n{}",
            port("u", "underlay = true")
        ))
        .unwrap_err();
        assert!(e.contains("is IPv6; the underlay is IPv4 for now"), "{e}");
        let c = parse(&format!(
            "{tip}{}{}",
            port("u", "underlay = true"),
            port("x", "physical_network = \"physnet1\"")
        ))
        .unwrap();
        assert!(c.ports[0].underlay && c.ports[1].physical_network.is_some());
    }
}
