//! End to end, as root: two network namespaces ("VMs") on one network,
//! each attached by a veth whose host end is a dfswitchd DPDK port
//! (net_af_packet). The topology is written into the daemon's embedded store
//! through its management socket; then ping and a TCP transfer (iperf3) pass
//! through the switch, and the switch's port counters agree.
//!
//! Skips, loudly, only when the facility is truly absent (not root, no
//! network namespaces, no iperf3); `DF_REQUIRE_E2E=1` turns a skip into a
//! failure (CI sets it).
#![allow(clippy::unwrap_used, clippy::print_stdout)] // test code

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use df_mgmt::{Client, Request, StoreRequest};

fn sh(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn out(cmd: &str) -> String {
    let o = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn skip(why: &str) -> bool {
    if std::env::var("DF_REQUIRE_E2E").is_ok_and(|v| v == "1") {
        panic!("end-to-end test required (DF_REQUIRE_E2E=1) but {why}");
    }
    eprintln!("\n*** SKIPPED: dfswitchd netns end-to-end test: {why} ***\n");
    true
}

/// Namespaces, veths and processes, removed on drop.
struct Env {
    tag: String,
    dir: PathBuf,
    daemon: Option<Child>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
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
        for ns in ["a", "b"] {
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

fn mgmt(sock: &Path, req: Request) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = Client::connect(sock).await.unwrap();
        c.call(&req).await.unwrap()
    })
}

fn put(sock: &Path, table: &str, mut obj: serde_json::Value) {
    if df_model::table_info(table).is_some_and(|t| t.has_unique_key) {
        let k = mgmt(
            sock,
            Request::Store(StoreRequest::AllocateUniqueKey {
                table: table.into(),
            }),
        );
        obj["unique_key"] = k["unique_key"].clone();
    }
    let id = obj["id"].as_str().unwrap().to_string();
    mgmt(
        sock,
        Request::Store(StoreRequest::Put {
            key: df_model::key(table, &id),
            value: serde_json::Value::String(obj.to_string()),
            expect: None,
        }),
    );
}

#[test]
fn two_vms_ping_and_transfer_through_dfswitchd() {
    if !out("id -u").eq("0") && skip("not running as root") {
        return;
    }
    if !sh("ip netns list") && skip("`ip netns` does not work here") {
        return;
    }
    if !sh("command -v iperf3") && skip("iperf3 is not installed (apt-get install iperf3)") {
        return;
    }
    let tag = format!("df{}", std::process::id() % 100_000);
    let dir = std::env::temp_dir().join(format!("{tag}-e2e"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut env = Env {
        tag: tag.clone(),
        dir: dir.clone(),
        daemon: None,
    };
    let mut macs = Vec::new();
    for (ns, ip) in [("a", "203.0.113.1"), ("b", "203.0.113.2")] {
        let (n, h, v) = (
            format!("{tag}{ns}"),
            format!("{tag}{ns}h"),
            format!("{tag}{ns}v"),
        );
        assert!(sh(&format!("ip netns add {n}")), "ip netns add");
        assert!(sh(&format!("ip link add {h} type veth peer name {v}")));
        assert!(sh(&format!("ip link set {v} netns {n}")));
        // The host end is only a switch port: no host addresses, no ARP
        // answers or IPv6 chatter from the host kernel on it.
        sh(&format!("sysctl -qw net.ipv6.conf.{h}.disable_ipv6=1"));
        sh(&format!("sysctl -qw net.ipv4.conf.{h}.arp_ignore=8"));
        assert!(sh(&format!("ip link set {h} up")));
        assert!(sh(&format!("ip netns exec {n} ip link set lo up")));
        assert!(sh(&format!(
            "ip netns exec {n} ip addr add {ip}/24 dev {v}"
        )));
        assert!(sh(&format!("ip netns exec {n} ip link set {v} up")));
        // Checksum offload on a veth leaves partial checksums for the peer
        // to fill; a userspace switch in between must see complete ones.
        sh(&format!("ip netns exec {n} ethtool -K {v} tx off"));
        macs.push(out(&format!(
            "ip netns exec {n} cat /sys/class/net/{v}/address"
        )));
    }
    let sock = dir.join("dfswitchd.sock");
    let mport = 20000 + std::process::id() % 20000;
    let cfg = dir.join("dfswitchd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[chassis]
id = "e2e"
[store]
url = "file://{d}/nb.redb"
[datapath]
workers = [1]
pool = 4096
[dpdk]
hugepages = false
memory_mb = 256
file_prefix = "{tag}"
[management]
socket = "{s}"
metrics = "127.0.0.1:{mport}"
[[port]]
name = "vma"
device = "net_af_packet0,iface={tag}ah,qdisc_bypass=1"
iface_id = "vma"
[[port]]
name = "vmb"
device = "net_af_packet1,iface={tag}bh,qdisc_bypass=1"
iface_id = "vmb"
"#,
            d = dir.display(),
            s = sock.display(),
            mport = mport
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("dfswitchd.log")).unwrap();
    env.daemon = Some(
        Command::new(env!("CARGO_BIN_EXE_dfswitchd"))
            .arg("--config")
            .arg(&cfg)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sock.exists() {
        assert!(
            Instant::now() < deadline,
            "dfswitchd did not start:\n{}",
            std::fs::read_to_string(dir.join("dfswitchd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Wait for the store to be open.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = mgmt(&sock, Request::Status);
        if st["controller"]["connected"] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "controller never connected: {st}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    put(
        &sock,
        "lswitch",
        serde_json::json!({"id": "net1", "topic": "e2e", "version": 1}),
    );
    for (id, mac, ip) in [
        ("vma", &macs[0], "203.0.113.1"),
        ("vmb", &macs[1], "203.0.113.2"),
    ] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": "net1", "macs": [mac], "ips": [ip]}),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = mgmt(&sock, Request::Status);
        if st["controller"]["objects"].as_u64() >= Some(3)
            && st["controller"]["publishes"].as_u64() >= Some(3)
        {
            break;
        }
        assert!(Instant::now() < deadline, "tables never published: {st}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let ping = out(&format!(
        "ip netns exec {tag}a ping -c 5 -i 0.2 -W 2 203.0.113.2; echo rc=$?"
    ));
    assert!(
        ping.ends_with("rc=0"),
        "ping through dfswitchd failed:\n{ping}"
    );
    // TCP: iperf3 for 2 s.
    let mut server = Command::new("ip")
        .args([
            "netns",
            "exec",
            &format!("{tag}b"),
            "iperf3",
            "-s",
            "-1",
            "-B",
            "203.0.113.2",
            "-p",
            "5299",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let iperf = out(&format!(
        "ip netns exec {tag}a iperf3 -c 203.0.113.2 -p 5299 -t 2 -J; echo rc=$?"
    ));
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        iperf.ends_with("rc=0"),
        "iperf3 through dfswitchd failed:\n{iperf}"
    );
    let json_end = iperf.rfind('}').unwrap();
    let v: serde_json::Value = serde_json::from_str(&iperf[..=json_end]).unwrap();
    let bytes = v["end"]["sum_received"]["bytes"].as_u64().unwrap_or(0);
    assert!(bytes > 1_000_000, "iperf3 moved only {bytes} bytes");
    // Counters: every packet received was sent or dropped for a counted
    // reason (ARP/ND answered by the switch go back to the port they came
    // from). Read once the counters are still.
    let mut last = serde_json::Value::Null;
    let deadline = Instant::now() + Duration::from_secs(10);
    let c = loop {
        std::thread::sleep(Duration::from_millis(300));
        let c = mgmt(&sock, Request::Counters);
        if c == last || Instant::now() > deadline {
            break c;
        }
        last = c;
    };
    let (rx, tx) = (c["rx"].as_u64().unwrap(), c["tx"].as_u64().unwrap());
    let mut dropped = 0;
    for v in c["vertices"].as_array().unwrap() {
        for n in v["drops"]
            .as_object()
            .unwrap()
            .values()
            .chain(v["unwired"].as_object().unwrap().values())
        {
            dropped += n.as_u64().unwrap();
        }
    }
    for n in c["framework_drops"].as_object().unwrap().values() {
        dropped += n.as_u64().unwrap();
    }
    let p = c["ports"].as_array().unwrap();
    let port_rx: u64 = p.iter().map(|p| p["rx_packets"].as_u64().unwrap()).sum();
    let port_tx: u64 = p.iter().map(|p| p["tx_packets"].as_u64().unwrap()).sum();
    println!("switch rx {rx} tx {tx} dropped {dropped}; ports rx {port_rx} tx {port_tx}; iperf3 {bytes} bytes");
    assert!(rx > 1000, "{c}");
    assert_eq!(
        rx,
        tx + dropped,
        "every packet received is sent or counted as dropped: {c}"
    );
    assert_eq!(
        port_rx, rx,
        "the ports' rx counters match the switch's: {c}"
    );
    assert_eq!(
        port_tx, tx,
        "the ports' tx counters match the switch's: {c}"
    );
}
