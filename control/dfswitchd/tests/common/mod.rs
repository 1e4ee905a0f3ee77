//! Helpers of the network-namespace end-to-end tests: shell commands, loud
//! skips, namespaces and the daemon (removed on drop), and writing NB objects
//! through the daemon's management socket.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use df_mgmt::{Client, Request, StoreRequest};

pub fn sh(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn out(cmd: &str) -> String {
    let o = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Prints a loud skip line and returns true, unless `DF_REQUIRE_E2E=1`
/// (CI), which makes a missing facility a failure.
pub fn skip(why: &str) -> bool {
    if std::env::var("DF_REQUIRE_E2E").is_ok_and(|v| v == "1") {
        panic!("end-to-end test required (DF_REQUIRE_E2E=1) but {why}");
    }
    eprintln!("\n*** SKIPPED: dfswitchd netns end-to-end test: {why} ***\n");
    true
}

/// Whether this machine can run the tests (root, netns, iperf3), after a
/// loud skip line if not.
pub fn can_run() -> bool {
    if !out("id -u").eq("0") && skip("not running as root") {
        return false;
    }
    if !sh("ip netns list") && skip("`ip netns` does not work here") {
        return false;
    }
    if !sh("command -v iperf3") && skip("iperf3 is not installed (apt-get install iperf3)") {
        return false;
    }
    true
}

/// Namespaces, veths and the daemon, removed on drop.
pub struct Env {
    pub tag: String,
    pub dir: PathBuf,
    pub daemons: Vec<Child>,
    pub names: Vec<String>,
}

impl Env {
    /// A fresh environment with a tag unique to this process and test.
    pub fn new(test: &str) -> Env {
        let tag = format!("d{}{test}", std::process::id() % 10_000);
        let dir = std::env::temp_dir().join(format!("{tag}-e2e"));
        std::fs::create_dir_all(&dir).unwrap();
        Env {
            tag,
            dir,
            daemons: Vec::new(),
            names: Vec::new(),
        }
    }

    /// A namespace `{tag}{ns}` with a veth whose host end `{tag}{ns}h` is
    /// left for a switch port; the VM end gets `cidr` and a default route
    /// via `gw`. Returns the VM end's MAC.
    pub fn vm(&mut self, ns: &str, cidr: &str, gw: Option<&str>) -> String {
        let tag = &self.tag;
        let (n, h, v) = (
            format!("{tag}{ns}"),
            format!("{tag}{ns}h"),
            format!("{tag}{ns}v"),
        );
        self.names.push(ns.to_string());
        assert!(sh(&format!("ip netns add {n}")), "ip netns add");
        assert!(sh(&format!("ip link add {h} type veth peer name {v}")));
        assert!(sh(&format!("ip link set {v} netns {n}")));
        // The host end is only a switch port: no host addresses, no ARP
        // answers or IPv6 chatter from the host kernel on it.
        sh(&format!("sysctl -qw net.ipv6.conf.{h}.disable_ipv6=1"));
        sh(&format!("sysctl -qw net.ipv4.conf.{h}.arp_ignore=8"));
        assert!(sh(&format!("ip link set {h} up")));
        assert!(sh(&format!("ip netns exec {n} ip link set lo up")));
        assert!(sh(&format!("ip netns exec {n} ip addr add {cidr} dev {v}")));
        assert!(sh(&format!("ip netns exec {n} ip link set {v} up")));
        if let Some(gw) = gw {
            assert!(sh(&format!(
                "ip netns exec {n} ip route add default via {gw}"
            )));
        }
        // Checksum offload on a veth leaves partial checksums for the peer
        // to fill; a userspace switch in between must see complete ones.
        sh(&format!("ip netns exec {n} ethtool -K {v} tx off"));
        out(&format!("ip netns exec {n} cat /sys/class/net/{v}/address"))
    }

    /// Starts dfswitchd with `config` and waits for its controller to
    /// connect; returns the management socket.
    pub fn start_daemon(&mut self, config: &str) -> PathBuf {
        self.start_daemon_named("dfswitchd", config)
    }

    /// As [`Env::start_daemon`] for one of several daemons: `config` must
    /// put the management socket at `{dir}/{name}.sock`; the config and the
    /// log are `{dir}/{name}.toml` and `.log`.
    pub fn start_daemon_named(&mut self, name: &str, config: &str) -> PathBuf {
        let sock = self.dir.join(format!("{name}.sock"));
        let cfg = self.dir.join(format!("{name}.toml"));
        let log_path = self.dir.join(format!("{name}.log"));
        std::fs::write(&cfg, config).unwrap();
        let spawn = || {
            let log = std::fs::File::create(&log_path).unwrap();
            Command::new(env!("CARGO_BIN_EXE_dfswitchd"))
                .arg("--config")
                .arg(&cfg)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap()
        };
        self.daemons.push(spawn());
        // DPDK 22.11's net_af_packet names its fanout group after the
        // process id XOR the interface index: with several daemons in one
        // namespace two pairs can XOR the same, and the later one fails to
        // attach (EAL: `could not set PACKET_FANOUT`). A new process has
        // another id; start again, at most twice (the failure is named in
        // dfswitchd's error).
        let mut retries = 2;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !sock.exists() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let child = self.daemons.last_mut().unwrap();
            if child.try_wait().ok().flatten().is_some() {
                if retries > 0 && log.contains("could not set PACKET_FANOUT") {
                    retries -= 1;
                    eprintln!("dfswitchd {name}: AF_PACKET fanout group taken; starting again");
                    *child = spawn();
                    continue;
                }
                panic!("dfswitchd {name} exited:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "dfswitchd {name} did not start:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let st = mgmt(&sock, Request::Status);
            if st["controller"]["connected"] == true {
                return sock;
            }
            assert!(
                Instant::now() < deadline,
                "controller never connected: {st}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for mut d in self.daemons.drain(..) {
            stop(&mut d);
        }
        for ns in &self.names {
            sh(&format!(
                "ip netns pids {t}{ns} | xargs -r kill",
                t = self.tag
            ));
            sh(&format!("ip netns del {}{ns}", self.tag));
            sh(&format!("ip link del {}{ns}h", self.tag));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops a daemon: SIGTERM, then SIGKILL after 10 s.
pub fn stop(d: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(d.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if d.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = d.kill();
    let _ = d.wait();
}

pub fn mgmt(sock: &Path, req: Request) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = Client::connect(sock).await.unwrap();
        c.call(&req).await.unwrap()
    })
}

/// Writes `obj` into `table` through the daemon, allocating its unique key
/// first for keyed tables; returns the key (0 for unkeyed tables).
pub fn put(sock: &Path, table: &str, mut obj: serde_json::Value) -> u32 {
    if df_model::table_info(table).is_some_and(|t| t.has_unique_key) {
        let k = mgmt(
            sock,
            Request::Store(StoreRequest::AllocateUniqueKey {
                table: table.into(),
            }),
        );
        obj["unique_key"] = k["unique_key"].clone();
    }
    let key = obj["unique_key"].as_u64().unwrap_or(0) as u32;
    let id = obj["id"].as_str().unwrap().to_string();
    mgmt(
        sock,
        Request::Store(StoreRequest::Put {
            key: df_model::key(table, &id),
            value: serde_json::Value::String(obj.to_string()),
            expect: None,
        }),
    );
    key
}

/// Waits until the controller holds at least `objects` objects, none parked.
pub fn wait_for_objects(sock: &Path, objects: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = mgmt(sock, Request::Status);
        let c = &st["controller"];
        if c["objects"].as_u64() >= Some(objects)
            && c["parked"].as_array().is_some_and(Vec::is_empty)
        {
            std::thread::sleep(Duration::from_millis(200));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the model never fully arrived: {st}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The DPDK/daemon part of a config: embedded store in `dir`, one worker on
/// core 1, no hugepages, the management socket in `dir`.
pub fn base_config(dir: &Path, tag: &str, extra: &str) -> String {
    format!(
        r#"[chassis]
id = "e2e"
[store]
url = "file://{d}/nb.redb"
[datapath]
workers = [1]
pool = 4096
{extra}
[dpdk]
hugepages = false
memory_mb = 256
file_prefix = "{tag}"
[management]
socket = "{d}/dfswitchd.sock"
"#,
        d = dir.display()
    )
}

/// A `[[port]]` section for the host end of VM `ns`.
pub fn port(tag: &str, ns: &str, index: usize) -> String {
    format!(
        "[[port]]\nname = \"vm{ns}\"\ndevice = \"net_af_packet{index},iface={tag}{ns}h,qdisc_bypass=1\"\niface_id = \"vm{ns}\"\n"
    )
}

/// Waits (at most 20 s) until something listens on TCP `port` in namespace
/// `{tag}{ns}`.
pub fn wait_listening(tag: &str, ns: &str, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sh(&format!(
        "ip netns exec {tag}{ns} ss -Hltn 'sport = :{port}' | grep -q LISTEN"
    )) {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {tag}{ns}:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The daemon's counters of vertex `name` (calls, packets, cycles, drops).
pub fn vertex_counters(sock: &Path, name: &str) -> serde_json::Value {
    let c = mgmt(sock, Request::Counters);
    c["vertices"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["vertex"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no vertex `{name}` in the counters: {c}"))
}

/// A 2 s iperf3 TCP transfer from namespace `{tag}{client}` to a server in
/// `{tag}{server}` bound to `ip`; asserts it completed and moved more than
/// 1 MB, and returns the bytes received.
pub fn iperf3(tag: &str, server: &str, ip: &str, client: &str) -> u64 {
    let mut srv = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &format!("{tag}{server}"),
            "iperf3",
            "-s",
            "-1",
            "-B",
            ip,
            "-p",
            "5299",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(tag, server, 5299);
    let iperf = out(&format!(
        "ip netns exec {tag}{client} iperf3 -c {ip} -p 5299 -t 2 -J; echo rc=$?"
    ));
    let _ = srv.kill();
    let _ = srv.wait();
    assert!(
        iperf.ends_with("rc=0"),
        "iperf3 {client} -> {server} ({ip}) failed:\n{iperf}"
    );
    let json_end = iperf.rfind('}').unwrap();
    let v: serde_json::Value = serde_json::from_str(&iperf[..=json_end]).unwrap();
    let bytes = v["end"]["sum_received"]["bytes"].as_u64().unwrap_or(0);
    assert!(bytes > 1_000_000, "iperf3 moved only {bytes} bytes");
    bytes
}

/// An Ethernet + IPv4 + ICMP echo request frame (60 bytes), checksums
/// filled in, for a synthetic trace.
pub fn icmp_echo_frame(src_mac: &str, dst_mac: &str, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    fn csum(b: &[u8]) -> u16 {
        let mut s: u32 = b
            .chunks(2)
            .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
            .sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
    let mac = |m: &str| -> Vec<u8> {
        m.split(':')
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    };
    let mut f = mac(dst_mac);
    f.extend(mac(src_mac));
    f.extend([0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0];
    ip.extend(src);
    ip.extend(dst);
    let c = csum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    let c = csum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    f.extend(ip);
    f.extend(icmp);
    f.resize(60, 0);
    f
}

/// Puts security group `all`, which allows every IPv4 packet in and out.
pub fn allow_all_group(sock: &Path) {
    put(
        sock,
        "secgroup",
        serde_json::json!({"id": "all", "topic": "e2e", "version": 1, "rules": [
            {"id": "e4", "direction": "egress", "ethertype": "IPv4", "security_group_id": "all", "topic": "e2e"},
            {"id": "i4", "direction": "ingress", "ethertype": "IPv4", "security_group_id": "all", "topic": "e2e"}]}),
    );
}

/// Puts network `id` (extra fields from `extra`, an object) and its IPv4
/// subnet `{id}-sub` with `cidr`, DHCP off, gateway `gw` if any.
pub fn network(sock: &Path, id: &str, extra: serde_json::Value, cidr: &str, gw: Option<&str>) {
    let mut n = serde_json::json!({"id": id, "topic": "e2e", "version": 1});
    if let (Some(n), Some(e)) = (n.as_object_mut(), extra.as_object()) {
        n.extend(e.clone());
    }
    put(sock, "lswitch", n);
    let mut s = serde_json::json!({"id": format!("{id}-sub"), "topic": "e2e", "version": 1,
        "lswitch": id, "cidr": cidr, "enable_dhcp": false});
    if let Some(gw) = gw {
        s["gateway_ip"] = gw.into();
    }
    put(sock, "lsubnet", s);
}

/// Serves `dir` over HTTP from namespace `{tag}{server}` on `bind:port`
/// (python3 -m http.server), fetches `url` with curl from namespace
/// `{tag}{client}`, stops the server; returns curl's output (ending in
/// `rc=<exit code>`) and the server's log (which names each client).
pub fn fetch(
    tag: &str,
    dir: &Path,
    server: &str,
    bind: &str,
    port: u16,
    client: &str,
    url: &str,
) -> (String, String) {
    let mut srv = Command::new("ip")
        .args([
            "netns",
            "exec",
            &format!("{tag}{server}"),
            "python3",
            "-m",
            "http.server",
        ])
        .arg(port.to_string())
        .args(["--bind", bind])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_listening(tag, server, port);
    let page = out(&format!(
        "ip netns exec {tag}{client} curl -s -m 5 {url}; echo rc=$?"
    ));
    let _ = srv.kill();
    let log = srv
        .wait_with_output()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .unwrap_or_default();
    (page, log)
}
