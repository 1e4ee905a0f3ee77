//! The EAL's lifetime: initialised once per process, cleaned up when the
//! last object that needs it is gone.
//!
//! Why it is shaped so: `rte_eal_init` may run once per process (DPDK keeps
//! global state; a second call fails, and nothing may be used after
//! `rte_eal_cleanup`). So [`Eal::init`] guards with a process-wide flag, and
//! every mempool, port and registered thread holds a reference-counted
//! handle: the cleanup runs only when none remains, so no safe code can
//! touch DPDK memory after it. The argument strings are leaked on purpose:
//! EAL may keep pointers into argv for the life of the process.
//!
//! # Thread-safety
//! [`Eal`] is `Send + Sync` (a shared handle; it exposes no mutation). The
//! cleanup runs on whichever thread drops the last handle.

use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use df_dpdk_sys as sys;

use super::{rte_errno_text, DpdkError};

/// Set by the first [`Eal::init`]; never cleared (EAL cannot start twice).
static STARTED: AtomicBool = AtomicBool::new(false);

/// What the EAL handle owns: the cleanup and the runtime directory.
#[derive(Debug)]
pub(crate) struct EalInner {
    run_dir: Option<PathBuf>,
    /// True if this process's EAL created `run_dir` (so it may remove it).
    created_run_dir: bool,
    done: bool,
}

impl EalInner {
    fn shutdown(&mut self) -> Result<(), DpdkError> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        // SAFETY: this is the last handle (we are in its Drop, or
        // `Eal::cleanup` unwrapped the only Arc), so no mempool, port, queue
        // or registered thread remains: each holds a handle. Loose mbufs
        // cannot outlive this either: a mempool dropped while any of its
        // mbufs was in use leaks its handle (mempool.rs), keeping EAL up.
        let rc = unsafe { sys::rte_eal_cleanup() };
        if rc < 0 {
            return Err(DpdkError::Eal(format!(
                "rte_eal_cleanup failed: {}",
                super::error_text(rc)
            )));
        }
        if let (true, Some(dir)) = (self.created_run_dir, &self.run_dir) {
            std::fs::remove_dir_all(dir).map_err(|e| {
                DpdkError::Eal(format!(
                    "cannot remove EAL's runtime directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        Ok(())
    }
}

impl Drop for EalInner {
    fn drop(&mut self) {
        // Errors cannot be reported from Drop; `Eal::cleanup` returns them.
        let _ = self.shutdown();
    }
}

/// The initialised DPDK environment (EAL). Cloning shares it; mempools,
/// ports and registered threads hold it too. See the module doc.
///
/// # Thread-safety
/// `Send + Sync`: a shared, immutable handle; the cleanup runs once, on the
/// thread that drops the last handle (or calls [`Eal::cleanup`]).
#[derive(Debug, Clone)]
pub struct Eal {
    inner: Arc<EalInner>,
}

impl Eal {
    /// Initialises EAL with `args`, the EAL arguments *without* a program
    /// name (e.g. `["--in-memory", "-l", "0", "--no-pci"]`; see the module
    /// doc of [`crate::dpdk`] for the recommended sets). The main lcore is
    /// this thread: EAL pins it to the first core of `-l`.
    ///
    /// # Errors
    /// [`DpdkError::AlreadyInitialised`] on a second call in this process
    /// (even after a failed first one: DPDK cannot retry), or
    /// [`DpdkError::Eal`] with `rte_errno`'s text if EAL refuses the
    /// arguments or the machine (no hugepages, a `--file-prefix` in use,
    /// not root).
    pub fn init(args: &[String]) -> Result<Eal, DpdkError> {
        if STARTED.swap(true, Ordering::SeqCst) {
            return Err(DpdkError::AlreadyInitialised);
        }
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(CString::new("dragonflow").map_err(|e| DpdkError::Eal(e.to_string()))?);
        for a in args {
            all.push(
                CString::new(a.as_str())
                    .map_err(|_| DpdkError::Eal(format!("argument {a:?} contains a NUL byte")))?,
            );
        }
        let existed = run_dir_candidates(args)
            .into_iter()
            .filter(|d| d.exists())
            .collect::<Vec<_>>();
        // EAL keeps pointers into argv (and getopt permutes the array), so
        // strings and pointer array live for the rest of the process.
        let strings: &'static [CString] = Box::leak(all.into_boxed_slice());
        let argv: &'static mut [*mut c_char] = Box::leak(
            strings
                .iter()
                .map(|s| s.as_ptr().cast_mut())
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let argc = i32::try_from(argv.len())
            .map_err(|_| DpdkError::Eal(format!("{} arguments are too many", argv.len())))?;
        // SAFETY: first call in this process (STARTED above); argv holds argc
        // valid NUL-terminated strings that live forever (leaked above).
        let rc = unsafe { sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        if rc < 0 {
            return Err(DpdkError::Eal(format!(
                "rte_eal_init failed: {} (arguments: {}). Common causes: no free \
                 hugepages (reserve some, or pass --no-huge -m 512), a --file-prefix \
                 another DPDK process uses, not running as root",
                rte_errno_text(),
                args.join(" ")
            )));
        }
        // SAFETY: EAL is initialised (above); the result is a NUL-terminated
        // string in EAL's configuration, copied out at once.
        let dir = unsafe { sys::rte_eal_get_runtime_dir() };
        let run_dir = (!dir.is_null()).then(|| {
            // SAFETY: non-null, NUL-terminated, valid until cleanup (above).
            let s = unsafe { CStr::from_ptr(dir) };
            PathBuf::from(s.to_string_lossy().into_owned())
        });
        let created_run_dir = run_dir
            .as_ref()
            .is_some_and(|d| d.exists() && !existed.contains(d));
        Ok(Eal {
            inner: Arc::new(EalInner {
                run_dir,
                created_run_dir,
                done: false,
            }),
        })
    }

    /// Cleans up EAL now (`rte_eal_cleanup`) and removes the runtime
    /// directory it created, reporting errors (dropping the last handle does
    /// the same silently).
    ///
    /// # Errors
    /// Other handles are alive (clones, mempools, ports, queues, registered
    /// threads): drop them first; the cleanup then runs when the last one
    /// goes. Or EAL's own cleanup, or removing its directory, failed.
    pub fn cleanup(self) -> Result<(), DpdkError> {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => inner.shutdown(),
            Err(shared) => Err(DpdkError::Eal(format!(
                "cannot clean up: {} other handle(s) still use the EAL (mempools, ports, \
                 queues, registered threads, Eal clones); drop them first",
                Arc::strong_count(&shared) - 1
            ))),
        }
    }

    /// EAL's runtime directory (`/var/run/dpdk/<file-prefix>` for root).
    pub fn runtime_dir(&self) -> Option<&Path> {
        self.inner.run_dir.as_deref()
    }

    /// The TSC frequency EAL measured, in Hz.
    pub fn tsc_hz(&self) -> u64 {
        // SAFETY: EAL is initialised (this handle exists), which measured it.
        unsafe { sys::rte_get_tsc_hz() }
    }

    pub(crate) fn handle(&self) -> Arc<EalInner> {
        self.inner.clone()
    }
}

/// Where EAL may put its runtime directory for the `--file-prefix` in
/// `args` (default `rte`): root uses /var/run, others XDG_RUNTIME_DIR or /tmp.
fn run_dir_candidates(args: &[String]) -> Vec<PathBuf> {
    let mut prefix = "rte".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(p) = a.strip_prefix("--file-prefix=") {
            prefix = p.to_string();
        } else if a == "--file-prefix" {
            if let Some(p) = it.next() {
                prefix = p.clone();
            }
        }
    }
    let mut bases = vec![PathBuf::from("/var/run/dpdk"), PathBuf::from("/tmp/dpdk")];
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
        bases.push(PathBuf::from(x).join("dpdk"));
    }
    bases.into_iter().map(|b| b.join(&prefix)).collect()
}

/// A thread registered with EAL (`rte_thread_register`): it has an lcore id,
/// so mempool allocations and frees go through its per-lcore cache instead
/// of the shared ring. Dropping it unregisters the thread; it cannot be sent
/// to another thread.
#[derive(Debug)]
pub struct LcoreGuard {
    lcore: u32,
    registered: bool,
    _eal: Arc<EalInner>,
    _not_send: PhantomData<*const ()>,
}

impl LcoreGuard {
    /// The lcore id this thread now has.
    pub fn lcore_id(&self) -> u32 {
        self.lcore
    }
}

impl Drop for LcoreGuard {
    fn drop(&mut self) {
        if self.registered {
            // SAFETY: this thread registered itself in `register_thread`
            // (the guard is !Send, so this is the same thread); EAL is alive
            // (the guard holds a handle).
            unsafe { sys::rte_thread_unregister() };
        }
    }
}

/// Registers the calling thread with EAL so it gets an lcore id (and with
/// it the mempools' per-lcore caches). A thread that already has one (the
/// main lcore) gets a guard that does nothing.
///
/// Workers work without this too (rx/tx bursts and mempools are usable
/// from any thread), but every mbuf alloc and free then goes to the
/// mempool's shared ring; see `perf/README.md` for the measured difference.
///
/// # Errors
/// EAL has no free lcore id left (`RTE_MAX_LCORE`).
pub fn register_thread(eal: &Eal) -> Result<LcoreGuard, DpdkError> {
    // SAFETY: EAL is initialised (`eal` exists); reads this thread's lcore id.
    let current = unsafe { sys::df_lcore_id() };
    if current != sys::LCORE_ID_ANY {
        return Ok(LcoreGuard {
            lcore: current,
            registered: false,
            _eal: eal.handle(),
            _not_send: PhantomData,
        });
    }
    // SAFETY: EAL is initialised; this thread has no lcore id (checked).
    let rc = unsafe { sys::rte_thread_register() };
    if rc < 0 {
        return Err(DpdkError::Eal(format!(
            "rte_thread_register failed: {}",
            rte_errno_text()
        )));
    }
    // SAFETY: as above; now registered.
    let lcore = unsafe { sys::df_lcore_id() };
    Ok(LcoreGuard {
        lcore,
        registered: true,
        _eal: eal.handle(),
        _not_send: PhantomData,
    })
}
