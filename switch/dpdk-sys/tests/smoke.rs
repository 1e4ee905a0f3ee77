//! Smoke test of the raw bindings and the C shim against the installed
//! libdpdk, with two `net_null` virtual ports and no hugepages.
//!
//! EAL can be initialised once per process, so everything runs in ONE test
//! function, in order: EAL init, pool, ports, rx/tx bursts, mbuf data-area
//! helpers, errno, teardown. It runs as root without reserved hugepages
//! (`--no-huge --no-shconf`) and prints nothing on success.

// Unsafe is allowed here (STYLE.md rule 4): this is the raw FFI crate's own test.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::ptr;

use df_dpdk_sys::*;

const BURST: usize = 32;
const BURSTS: usize = 1000;
const POOL_SIZE: u32 = 8191;
const POOL_CACHE: u32 = 256;
const PRIV_SIZE: u16 = 64;
const RING_SIZE: u16 = 512;
/// EEXIST on Linux (asm-generic/errno-base.h); saves a libc dependency.
const EEXIST: i32 = 17;
const PORT_NAMES: [&str; 2] = ["net_null0", "net_null1"];

#[test]
fn eal_ports_bursts_and_mbufs() {
    // Unique per process, so parallel test runs never share EAL state.
    let prefix = format!("df-sys-test-{}", std::process::id());
    let args = [
        "df-sys-test",
        "--no-huge",
        "-m",
        "256",
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "--file-prefix",
        &prefix,
        "--vdev=net_null0",
        "--vdev=net_null1",
        "-l",
        "0",
        "--log-level",
        "*:error",
    ];
    // EAL may keep pointers into argv (and getopt permutes the array), so
    // both the strings and the pointer array live until the end of the test.
    let args: Vec<CString> = args.iter().map(|a| CString::new(*a).unwrap()).collect();
    let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
    let argc = i32::try_from(argv.len()).unwrap();

    // SAFETY: first and only EAL init in this process (one test function);
    // argv holds argc valid NUL-terminated strings that outlive EAL (above).
    let rc = unsafe { rte_eal_init(argc, argv.as_mut_ptr()) };
    assert!(rc >= 0, "rte_eal_init failed: rte_errno {}", errno());

    // SAFETY: EAL is initialised.
    let version = unsafe { rte_version() };
    // SAFETY: rte_version returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(version) };
    assert!(version.to_bytes().starts_with(b"DPDK 22.11"), "{version:?}");
    // SAFETY: called on the EAL main thread after init.
    let lcore = unsafe { df_lcore_id() };
    assert_eq!(lcore, 0, "-l 0 makes this thread lcore 0");
    // SAFETY: EAL is initialised, so the TSC frequency has been measured.
    let hz = unsafe { rte_get_tsc_hz() };
    assert!(hz > 0);
    // SAFETY: rdtsc has no preconditions.
    let t0 = unsafe { df_rdtsc() };

    let pool_name = CString::new("df-sys-test-pool").unwrap();
    // SAFETY: EAL is initialised; the name is a valid C string.
    let pool = unsafe {
        rte_pktmbuf_pool_create(
            pool_name.as_ptr(),
            POOL_SIZE,
            POOL_CACHE,
            PRIV_SIZE,
            RTE_MBUF_DEFAULT_BUF_SIZE,
            SOCKET_ID_ANY,
        )
    };
    assert!(!pool.is_null(), "pool create failed: rte_errno {}", errno());

    // A second pool with the same name fails and sets rte_errno (per-lcore
    // TLS), which checks df_rte_errno reads the right variable.
    // SAFETY: as above.
    let dup = unsafe { rte_pktmbuf_pool_create(pool_name.as_ptr(), 63, 0, 0, 2048, SOCKET_ID_ANY) };
    assert!(dup.is_null());
    assert_eq!(errno(), EEXIST);

    let ports = PORT_NAMES.map(|name| setup_port(name, pool));

    let mut bufs = [ptr::null_mut::<rte_mbuf>(); BURST];
    let (mut received, mut sent, mut unsent) = (0u64, 0u64, 0u64);
    for _ in 0..BURSTS {
        // SAFETY: port 0 is started with rx queue 0; bufs has room for BURST.
        let n = unsafe { df_eth_rx_burst(ports[0], 0, bufs.as_mut_ptr(), BURST as u16) };
        let n = usize::from(n);
        for &m in &bufs[..n] {
            // SAFETY: m was just returned by rx_burst, so it is a live mbuf we own.
            unsafe { check_rx_mbuf(m, pool, ports[0]) };
        }
        // SAFETY: port 1 is started with tx queue 0; bufs[..n] are owned mbufs.
        let tx = unsafe { df_eth_tx_burst(ports[1], 0, bufs.as_mut_ptr(), n as u16) };
        let tx = usize::from(tx);
        if tx < n {
            // SAFETY: the driver took bufs[..tx]; bufs[tx..n] are still ours.
            unsafe { rte_pktmbuf_free_bulk(bufs[tx..].as_mut_ptr(), (n - tx) as u32) };
        }
        received += n as u64;
        sent += tx as u64;
        unsent += (n - tx) as u64;
    }
    assert!(received > 0, "net_null produced no packets");
    assert_eq!(received, sent + unsent);

    let [rx_stats, tx_stats] = ports.map(stats);
    // net_null (22.11) counts packets only: ibytes/obytes stay 0.
    assert_eq!(rx_stats.ipackets, received);
    assert_eq!(tx_stats.opackets, sent);
    assert_eq!(rx_stats.opackets + tx_stats.ipackets, 0);

    // SAFETY: pool is a live mempool.
    unsafe { data_area_ops(pool) };

    // Every mbuf is back: net_null tx freed what it took, we freed the rest.
    // SAFETY: pool is a live mempool; avail_count counts ring + lcore caches.
    let avail = unsafe { rte_mempool_avail_count(pool) };
    assert_eq!(avail, POOL_SIZE);

    // SAFETY: rdtsc has no preconditions.
    let t1 = unsafe { df_rdtsc() };
    assert!(t1 > t0);

    for port in ports {
        // SAFETY: the port is started; no other thread uses it.
        let rc = unsafe { rte_eth_dev_stop(port) };
        assert_eq!(rc, 0);
        // SAFETY: the port is stopped.
        let rc = unsafe { rte_eth_dev_close(port) };
        assert_eq!(rc, 0);
    }
    // SAFETY: all ports using the pool are closed and every mbuf is back.
    unsafe { rte_mempool_free(pool) };
    // EAL creates its runtime dir (/var/run/dpdk/<prefix> for root) even
    // with --no-shconf and leaves it behind; it is empty by now.
    // SAFETY: EAL is initialised.
    let run_dir = unsafe { rte_eal_get_runtime_dir() };
    // SAFETY: a NUL-terminated string in EAL's config, valid until cleanup;
    // copied into a PathBuf before that.
    let run_dir = unsafe { CStr::from_ptr(run_dir) };
    let run_dir = std::path::PathBuf::from(run_dir.to_str().unwrap());
    // SAFETY: nothing DPDK is used after this point.
    let rc = unsafe { rte_eal_cleanup() };
    assert_eq!(rc, 0);
    std::fs::remove_dir(&run_dir).unwrap();
    drop(argv);
    drop(args);
}

/// Configure `name` with one rx and one tx queue fed from `pool`, start it,
/// return its port id.
fn setup_port(name: &str, pool: *mut rte_mempool) -> u16 {
    let cname = CString::new(name).expect("port names have no NUL");
    let mut port = u16::MAX;
    // SAFETY: EAL is initialised; cname is a valid C string; port is writable.
    let rc = unsafe { rte_eth_dev_get_port_by_name(cname.as_ptr(), &mut port) };
    assert_eq!(rc, 0, "no port {name}");
    // All-zero config: no offloads, no RSS, default MTU.
    let conf = rte_eth_conf::default();
    // SAFETY: the port exists and is not started; conf lives across the call.
    let rc = unsafe { rte_eth_dev_configure(port, 1, 1, &conf) };
    assert_eq!(rc, 0, "configure {name}");
    // SAFETY: the port exists.
    let socket = unsafe { rte_eth_dev_socket_id(port) };
    // SOCKET_ID_ANY (-1) is a valid "any socket" for the unsigned parameter.
    let socket = socket as u32;
    // SAFETY: configured with 1 rx queue; NULL rxconf means driver defaults;
    // pool outlives the port (freed after close).
    let rc = unsafe { rte_eth_rx_queue_setup(port, 0, RING_SIZE, socket, ptr::null(), pool) };
    assert_eq!(rc, 0, "rx queue {name}");
    // SAFETY: configured with 1 tx queue; NULL txconf means driver defaults.
    let rc = unsafe { rte_eth_tx_queue_setup(port, 0, RING_SIZE, socket, ptr::null()) };
    assert_eq!(rc, 0, "tx queue {name}");
    // SAFETY: all queues are set up.
    let rc = unsafe { rte_eth_dev_start(port) };
    assert_eq!(rc, 0, "start {name}");
    port
}

fn stats(port: u16) -> rte_eth_stats {
    let mut s = rte_eth_stats::default();
    // SAFETY: the port exists; s is writable for the call.
    let rc = unsafe { rte_eth_stats_get(port, &mut s) };
    assert_eq!(rc, 0);
    s
}

/// Layout checks on a received mbuf: private area, buffer, data pointer.
///
/// # Safety
/// `m` is a live single-segment mbuf from `pool`, owned by the caller.
unsafe fn check_rx_mbuf(m: *mut rte_mbuf, pool: *mut rte_mempool, port: u16) {
    // SAFETY: m is live (caller).
    let mb = unsafe { &*m };
    assert_eq!(mb.pool, pool);
    assert_eq!(mb.port, port);
    assert_eq!(mb.nb_segs, 1);
    assert_eq!(mb.data_len, 64);
    assert_eq!(mb.pkt_len, 64);
    assert_eq!(mb.priv_size, PRIV_SIZE);
    assert_eq!(mb.data_off, RTE_PKTMBUF_HEADROOM);

    // SAFETY: m is live (caller).
    let priv_area = unsafe { df_mbuf_to_priv(m) }.cast::<u8>();
    let mbuf_start = m.cast::<u8>();
    let buf = mb.buf_addr.cast::<u8>();
    // Layout: [struct rte_mbuf (128 B)][priv (64 B)][headroom (128 B)][data...]
    assert_eq!(std::mem::size_of::<rte_mbuf>(), 128);
    assert_eq!(priv_area as usize - mbuf_start as usize, 128);
    assert_eq!(buf as usize - priv_area as usize, usize::from(PRIV_SIZE));

    // SAFETY: m is live (caller).
    let data = unsafe { df_pktmbuf_mtod(m) }.cast::<u8>();
    assert_eq!(data as usize - buf as usize, usize::from(mb.data_off));
    // SAFETY: m is live (caller).
    let headroom = unsafe { df_pktmbuf_headroom(m) };
    assert_eq!(headroom, mb.data_off);
    // SAFETY: m is live (caller).
    let refcnt = unsafe { df_mbuf_refcnt_read(m) };
    assert_eq!(refcnt, 1);
}

/// prepend/adj/append/trim, head/tailroom, refcounts and bulk alloc/free on
/// freshly allocated mbufs; everything is returned to `pool`.
///
/// # Safety
/// `pool` is a live pktmbuf pool with PRIV_SIZE private bytes and default
/// buffer size, used only by this thread.
unsafe fn data_area_ops(pool: *mut rte_mempool) {
    // SAFETY: pool is live (caller).
    let m = unsafe { df_pktmbuf_alloc(pool) };
    assert!(!m.is_null());
    let room = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM;
    // SAFETY: m is a live mbuf, we own it (until the frees at the end).
    let head = unsafe { df_pktmbuf_headroom(m) };
    // SAFETY: m is a live mbuf, we own it.
    let tail = unsafe { df_pktmbuf_tailroom(m) };
    assert_eq!((head, tail), (RTE_PKTMBUF_HEADROOM, room));
    // SAFETY: m is a live mbuf, we own it.
    let start = unsafe { df_pktmbuf_mtod(m) }.cast::<c_char>();

    // SAFETY: m is a live mbuf, we own it.
    let p = unsafe { df_pktmbuf_append(m, 100) };
    assert_eq!(p, start, "append on an empty mbuf returns the data start");
    // SAFETY: m is a live mbuf, we own it.
    let mb = unsafe { &*m };
    assert_eq!((mb.data_len, mb.pkt_len), (100, 100));

    // SAFETY: m is a live mbuf, we own it.
    let p = unsafe { df_pktmbuf_prepend(m, 14) };
    assert_eq!(p as usize, start as usize - 14);
    // SAFETY: m is a live mbuf, we own it.
    let mtod = unsafe { df_pktmbuf_mtod(m) }.cast::<c_char>();
    assert_eq!(mtod, p);
    // SAFETY: m is a live mbuf, we own it.
    let head = unsafe { df_pktmbuf_headroom(m) };
    assert_eq!(head, RTE_PKTMBUF_HEADROOM - 14);

    // SAFETY: m is a live mbuf, we own it.
    let p = unsafe { df_pktmbuf_adj(m, 14) };
    assert_eq!(p, start);
    // SAFETY: m is a live mbuf, we own it.
    let rc = unsafe { df_pktmbuf_trim(m, 50) };
    assert_eq!(rc, 0);
    // SAFETY: m is a live mbuf, we own it.
    let mb = unsafe { &*m };
    assert_eq!((mb.data_len, mb.pkt_len), (50, 50));
    // SAFETY: m is a live mbuf, we own it.
    let tail = unsafe { df_pktmbuf_tailroom(m) };
    assert_eq!(tail, room - 50);

    // Failures leave the mbuf unchanged.
    // SAFETY: m is a live mbuf, we own it.
    let rc = unsafe { df_pktmbuf_trim(m, 51) };
    assert_eq!(rc, -1);
    // SAFETY: m is a live mbuf, we own it.
    let p = unsafe { df_pktmbuf_prepend(m, RTE_PKTMBUF_HEADROOM + 1) };
    assert!(p.is_null());
    // SAFETY: m is a live mbuf, we own it.
    let p = unsafe { df_pktmbuf_append(m, room) };
    assert!(p.is_null());
    // SAFETY: m is a live mbuf, we own it.
    let p = unsafe { df_pktmbuf_adj(m, 51) };
    assert!(p.is_null());

    // A second reference (what a clone or a flood does), then two frees.
    // SAFETY: m is a live mbuf, we own it.
    unsafe { df_pktmbuf_refcnt_update(m, 1) };
    // SAFETY: m is a live mbuf, we own it.
    let refcnt = unsafe { df_mbuf_refcnt_read(m) };
    assert_eq!(refcnt, 2);
    // SAFETY: drops one of the two references; m stays live.
    unsafe { df_pktmbuf_free(m) };
    // SAFETY: m is still live with one reference.
    let refcnt = unsafe { df_mbuf_refcnt_read(m) };
    assert_eq!(refcnt, 1);
    // SAFETY: drops the last reference; m is not used after this.
    unsafe { df_pktmbuf_free(m) };

    let mut bulk = [ptr::null_mut::<rte_mbuf>(); BURST];
    // SAFETY: pool is live; bulk has room for BURST pointers.
    let rc = unsafe { df_pktmbuf_alloc_bulk(pool, bulk.as_mut_ptr(), BURST as u32) };
    assert_eq!(rc, 0);
    assert!(bulk.iter().all(|m| !m.is_null()));
    // SAFETY: all BURST mbufs are live and ours; none is used after this.
    unsafe { rte_pktmbuf_free_bulk(bulk.as_mut_ptr(), BURST as u32) };
}

fn errno() -> i32 {
    // SAFETY: reads this thread's rte_errno; no preconditions.
    unsafe { df_rte_errno() }
}
