//! Following the NB store: list at one revision, then watch from the next;
//! after each batch of changes, recompile and publish what changed.
//!
//! Recovery is the same path as start-up (a diff against what is cached):
//! on a lost connection, back off (100 ms doubling to 5 s) and re-list; on a
//! compaction (the watch asked for history the store no longer has), re-list
//! at once. A re-list replaces the cache and sweeps objects that vanished
//! during the outage. Forwarding never stops meanwhile: the datapath keeps
//! the last published tables until new ones are compiled.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use df_store::{Event, Store, StoreError};
use tokio::sync::watch;

use crate::cache::{Cache, Change};
use crate::compile::{compile, Local};
use crate::publish::Publisher;

/// What the controller reports (management API, `dfctl show store`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ControllerStatus {
    /// The store's URL/endpoint.
    pub store: String,
    /// Whether the watch is live.
    pub connected: bool,
    /// The last revision applied.
    pub revision: i64,
    /// Seconds since the epoch of the last change applied.
    pub last_event_unix: Option<f64>,
    /// Events applied.
    pub events: u64,
    /// Full re-lists (start, reconnects, compactions).
    pub relists: u64,
    /// Objects swept by the last re-list.
    pub last_swept: Vec<String>,
    /// Compilations.
    pub compiles: u64,
    /// Tables published into the datapath.
    pub publishes: u64,
    /// Records that could not be decoded: key -> reason.
    pub errors: Vec<(String, String)>,
    /// Objects waiting for references: `table/id` -> what they wait for.
    pub parked: Vec<(String, Vec<String>)>,
    /// Compiler warnings (objects left out and why).
    pub warnings: Vec<String>,
    /// Vertices that refused a config.
    pub config_errors: Vec<String>,
    /// The last store error.
    pub last_error: Option<String>,
    /// Objects in the cache.
    pub objects: usize,
}

/// Shared status handle.
pub type StatusHandle = Arc<Mutex<ControllerStatus>>;

/// Where the follower reports what an operator should see in the log:
/// records it rejects, objects it parks, lost and regained connections.
pub type Logger = Box<dyn Fn(&str) + Send + Sync>;

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn set(status: &StatusHandle, f: impl FnOnce(&mut ControllerStatus)) {
    // A poisoned lock only means a panic elsewhere while reporting; the
    // status is plain data, still usable.
    let mut s = status.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut s);
}

/// The controller's follow loop.
pub struct Follower {
    store: Arc<dyn Store>,
    prefix: String,
    local: Local,
    cache: Cache,
    publisher: Publisher,
    status: StatusHandle,
    log: Option<Logger>,
    /// How the store is named in status and errors (its URL).
    label: String,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("store", &self.store)
            .field("prefix", &self.prefix)
            .field("local", &self.local)
            .finish()
    }
}

/// Called after every publish with the instant the change was seen (for
/// latency benchmarks and tests).
pub type OnPublish = Box<dyn FnMut(i64) + Send>;

impl Follower {
    /// A follower of `prefix` in `store` for the chassis `local`.
    pub fn new(store: Arc<dyn Store>, prefix: &str, local: Local, publisher: Publisher) -> Self {
        Follower {
            store,
            prefix: prefix.to_string(),
            local,
            cache: Cache::new(),
            publisher,
            status: Arc::new(Mutex::new(ControllerStatus::default())),
            log: None,
            label: "the NB store".to_string(),
        }
    }

    /// Names the store (its URL) in the status and in error messages.
    pub fn with_store_label(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }

    /// Reports rejected records, parked objects and connection changes to
    /// `log` (the daemon prints them).
    pub fn with_logger(mut self, log: Logger) -> Self {
        self.log = Some(log);
        self
    }

    fn say(&self, msg: &str) {
        if let Some(l) = &self.log {
            l(msg);
        }
    }

    /// The status handle (cheap to clone; read it from any thread).
    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    /// Runs until `stop` turns true. `on_publish` sees the revision each
    /// publish made live.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>, mut on_publish: Option<OnPublish>) {
        let mut backoff = Duration::from_millis(100);
        let label = self.label.clone();
        set(&self.status, |s| s.store = label);
        loop {
            if *stop.borrow() {
                return;
            }
            // 1. List at one revision, replace the cache, publish.
            let from = match self.store.list(&self.prefix).await {
                Ok((kvs, rev)) => {
                    let swept = self
                        .cache
                        .reset(kvs.iter().map(|kv| (kv.key.as_str(), kv.value.as_slice())));
                    self.say(&format!(
                        "listed {} records at revision {rev}; {} rejected, {} parked, {} swept",
                        kvs.len(),
                        self.cache.errors().len(),
                        self.cache.parked().len(),
                        swept.len()
                    ));
                    for m in self.cache.errors().values() {
                        self.say(&format!("rejected NB record {m}"));
                    }
                    set(&self.status, |s| {
                        s.relists += 1;
                        s.last_swept = swept;
                        s.revision = rev;
                        s.connected = true;
                    });
                    self.recompile();
                    if let Some(f) = on_publish.as_mut() {
                        f(rev);
                    }
                    backoff = Duration::from_millis(100);
                    rev + 1
                }
                Err(e) => {
                    self.lost(&e);
                    if sleep_or_stop(&mut stop, backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            // 2. Watch from the next revision.
            let mut w = match self.store.watch(&self.prefix, from).await {
                Ok(w) => w,
                Err(e) => {
                    self.lost(&e);
                    if sleep_or_stop(&mut stop, backoff).await {
                        return;
                    }
                    continue;
                }
            };
            loop {
                let batch = tokio::select! {
                    _ = stop.changed() => return,
                    b = w.next() => b,
                };
                match batch {
                    Some(Ok(b)) => {
                        let mut affects = false;
                        for ev in &b.events {
                            let ch = match ev {
                                Event::Put(kv) => self.cache.put(&kv.key, &kv.value),
                                Event::Delete { key, .. } => self.cache.delete(key),
                            };
                            match &ch {
                                Change::Rejected(m) => self.say(&format!("rejected NB record {m}")),
                                Change::Parked { missing } => self.say(&format!(
                                    "{} waits for {}",
                                    ev.key(),
                                    missing
                                        .iter()
                                        .map(|r| format!("{}/{} ({})", r.table, r.id, r.field))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                                _ => {}
                            }
                            affects |= ch.affects_tables() || matches!(ch, Change::Parked { .. });
                        }
                        let n = b.events.len() as u64;
                        set(&self.status, |s| {
                            s.revision = b.revision;
                            s.events += n;
                            s.last_event_unix = Some(now_unix());
                        });
                        if affects {
                            self.recompile();
                        } else {
                            self.report_cache();
                        }
                        if let Some(f) = on_publish.as_mut() {
                            f(b.revision);
                        }
                    }
                    Some(Err(e)) => {
                        let compacted = e.is_compacted();
                        self.lost(&e);
                        if !compacted && sleep_or_stop(&mut stop, backoff).await {
                            return;
                        }
                        break;
                    }
                    None => {
                        self.lost(&StoreError::Unavailable {
                            endpoint: self.label.clone(),
                            reason: "the watch ended".into(),
                        });
                        if sleep_or_stop(&mut stop, backoff).await {
                            return;
                        }
                        break;
                    }
                }
            }
        }
    }

    fn lost(&self, e: &StoreError) {
        self.say(&format!("store: {e}; re-listing after a backoff"));
        set(&self.status, |s| {
            s.connected = false;
            s.last_error = Some(e.to_string());
        });
    }

    fn recompile(&mut self) {
        let t0 = Instant::now();
        let out = compile(self.cache.snapshot(), &self.local);
        let errors = self.publisher.publish(&out.configs);
        let _ = t0;
        let publishes = self.publisher.publishes();
        set(&self.status, |s| {
            s.compiles += 1;
            s.publishes = publishes;
            s.warnings = out.warnings;
            s.config_errors = errors;
        });
        self.report_cache();
    }

    fn report_cache(&self) {
        let errors: Vec<(String, String)> = self
            .cache
            .errors()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let parked: Vec<(String, Vec<String>)> = self
            .cache
            .parked()
            .into_iter()
            .map(|(k, refs)| {
                (
                    k,
                    refs.iter()
                        .map(|r| format!("{}/{} ({})", r.table, r.id, r.field))
                        .collect(),
                )
            })
            .collect();
        let objects = self.cache.snapshot().len();
        set(&self.status, |s| {
            s.errors = errors;
            s.parked = parked;
            s.objects = objects;
        });
    }
}

/// Sleeps `d` unless `stop` turns true first; returns true on stop.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stop.changed() => true,
        _ = tokio::time::sleep(d) => *stop.borrow(),
    }
}
