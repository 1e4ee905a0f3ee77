//! Test support: a real `etcd` server on free loopback ports, owned by a test.
//!
//! Why a real server: the etcd store's value is in its mapping of etcd's behaviour
//! (revisions, compaction, cancelled watches, outages), which a fake would only restate.
//! Debian's `etcd-server` starts in about a second, so each test can own one: no shared
//! state between tests, and outage tests can stop and restart their own.
//!
//! Usage (from any crate's tests):
//! ```no_run
//! # async fn t() {
//! let Some(mut etcd) = df_store::testing::Etcd::start_or_skip("my_test") else { return };
//! let store = df_store::open(&etcd.url()).await.expect("etcd store");
//! etcd.stop();   // SIGTERM, keeps the data: the store now reports Unavailable
//! etcd.start();  // same ports, same data
//! etcd.pause();  // SIGSTOP: a silent etcd, as in a partition; etcd.resume() thaws it
//! # }
//! ```
//! If the `etcd` binary is missing, `start_or_skip` prints a `SKIPPED:` line to stderr
//! and returns `None`, unless `DF_REQUIRE_ETCD=1`, which turns that into a panic (CI
//! sets it). `DF_ETCD_BIN` overrides the binary's path. Dropping an [`Etcd`] kills the
//! process and removes its directory.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long a started etcd may take to report healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a stopped etcd may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running (or stopped) etcd owned by a test.
#[derive(Debug)]
pub struct Etcd {
    binary: PathBuf,
    dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

/// The etcd binary: `$DF_ETCD_BIN`, else `etcd` on `PATH`.
pub fn etcd_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("DF_ETCD_BIN") {
        return Some(PathBuf::from(bin));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("etcd"))
        .find(|p| p.is_file())
}

/// True when `DF_REQUIRE_ETCD=1`: a missing etcd fails the test instead of skipping it.
pub fn etcd_required() -> bool {
    std::env::var("DF_REQUIRE_ETCD").is_ok_and(|v| v == "1")
}

impl Etcd {
    /// Starts etcd, or returns `None` after printing a loud skip line when it is not
    /// installed (see the module docs).
    ///
    /// # Panics
    /// If etcd is installed but does not start, or is missing while `DF_REQUIRE_ETCD=1`.
    pub fn start_or_skip(test: &str) -> Option<Etcd> {
        let Some(binary) = etcd_binary() else {
            if etcd_required() {
                panic!("{test}: etcd not installed but DF_REQUIRE_ETCD=1 (apt-get install etcd-server)");
            }
            // Straight to the process's stderr: libtest captures `eprintln!`, and a skip
            // must be seen even when the test "passes".
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: etcd not installed (apt-get install etcd-server) -- test {test}"
            );
            return None;
        };
        match Etcd::start_with(&binary) {
            Ok(etcd) => Some(etcd),
            Err(e) => panic!("{test}: {e}"),
        }
    }

    /// Starts `binary` on free loopback ports with a fresh data directory; retries with
    /// other ports if the first choice was taken meanwhile.
    ///
    /// # Errors
    /// A description (with the tail of etcd's log) if it did not become healthy.
    pub fn start_with(binary: &Path) -> Result<Etcd, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let dir = temp_dir().map_err(|e| format!("cannot create a temp dir for etcd: {e}"))?;
            let (client_port, peer_port) = (free_port()?, free_port()?);
            let mut etcd = Etcd {
                binary: binary.to_path_buf(),
                dir,
                client_port,
                peer_port,
                child: None,
            };
            match etcd.try_start() {
                Ok(()) => return Ok(etcd),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// `127.0.0.1:<client port>`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    /// `etcd://127.0.0.1:<client port>`, for [`crate::open`].
    pub fn url(&self) -> String {
        format!("etcd://{}", self.endpoint())
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Starts it again on the same ports and data (after `stop` or `kill`).
    ///
    /// # Panics
    /// If it does not become healthy in time.
    pub fn start(&mut self) {
        if self.is_running() {
            return;
        }
        if let Err(e) = self.try_start() {
            panic!("{e}");
        }
    }

    /// Stops it with SIGTERM (a clean shutdown) and waits for it to exit; data is kept.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").arg("-TERM").arg(&pid).status();
        // A paused etcd would never handle the SIGTERM.
        let _ = Command::new("kill").arg("-CONT").arg(&pid).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Freezes it with SIGSTOP: connections stay open but nothing answers (as in a
    /// network partition). Undo with [`Etcd::resume`].
    pub fn pause(&mut self) {
        self.signal("-STOP");
    }

    /// Thaws it with SIGCONT after [`Etcd::pause`].
    pub fn resume(&mut self) {
        self.signal("-CONT");
    }

    fn signal(&mut self, sig: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .arg(sig)
                .arg(child.id().to_string())
                .status();
        }
    }

    /// Kills it with SIGKILL (a crash); data is kept.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn try_start(&mut self) -> Result<(), String> {
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log_path = self.dir.join("etcd.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&self.binary)
            .args(["--name", "default", "--data-dir"])
            .arg(self.dir.join("data"))
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &format!("default={peer}")])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                break;
            }
            if healthy(self.client_port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: String = tail
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        Err(format!(
            "etcd on 127.0.0.1:{} did not become healthy; its log ends with:\n{tail}",
            self.client_port
        ))
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// etcd's `/health` endpoint says `"health":"true"`.
fn healthy(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.contains("\"health\":\"true\"")
}

fn free_port() -> Result<u16, String> {
    let l =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn temp_dir() -> std::io::Result<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("df-store-etcd-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
