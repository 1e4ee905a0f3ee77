//! The DPDK module's test, against the installed libdpdk with virtual
//! devices and no hugepages.
//!
//! EAL can be initialised once per process, so everything runs in ONE test
//! function, in order: EAL, mempool and mbuf packets, ports and queues,
//! bursts, errors, thread registration, teardown (every mbuf back, EAL's
//! runtime directory removed). Needs root (EAL), like CI has.

use std::sync::Arc;

use super::*;
use crate::batch::Batch;
use crate::packet::{PacketPool, RegSlot, HEADROOM};
use crate::port::Port;

const POOL: u32 = 4095;

fn eal_args() -> Vec<String> {
    let prefix = format!("df-dp-test-{}", std::process::id());
    [
        "--no-huge",
        "-m",
        "512",
        "--no-pci",
        "--no-shconf",
        "--no-telemetry",
        "--file-prefix",
        &prefix,
        "-l",
        "0",
        "--log-level",
        "*:error",
        "--vdev=net_null0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn eal_mempool_packets_ports_and_teardown() {
    let eal = Eal::init(&eal_args()).unwrap();
    assert_eq!(
        Eal::init(&eal_args()).unwrap_err(),
        DpdkError::AlreadyInitialised
    );
    let run_dir = eal.runtime_dir().unwrap().to_path_buf();
    assert!(eal.tsc_hz() > 0);

    let mp = Mempool::new(&eal, "df-dp-test", POOL, 256, 2176, None).unwrap();
    assert_eq!((mp.size(), mp.available(), mp.in_use()), (POOL, POOL, 0));
    let dup = Mempool::new(&eal, "df-dp-test", 63, 0, 2176, None).unwrap_err();
    assert!(
        dup.to_string().starts_with("mempool `df-dp-test`: "),
        "{dup}"
    );

    mbuf_packets(&mp);
    ports_and_bursts(&eal, &mp);
    registered_thread(&eal, &mp);

    assert_eq!(mp.in_use(), 0, "every mbuf is back in the pool");
    drop(mp);
    eal.cleanup().unwrap();
    assert!(!run_dir.exists(), "{} left behind", run_dir.display());
}

/// The packet API on mbufs, and mixing them with heap packets.
fn mbuf_packets(mp: &Arc<Mempool>) {
    let mut pool = PacketPool::with_mempool(mp.clone());
    assert_eq!(pool.capacity(), POOL as usize);
    let mut p = pool.alloc().unwrap();
    assert!(p.is_mbuf());
    assert_eq!(mp.in_use(), 1);
    assert_eq!((p.len(), p.headroom(), p.tailroom()), (0, HEADROOM, 2048));
    assert!(p.set_data(&[1, 2, 3, 4]));
    p.prepend(2).unwrap().copy_from_slice(&[9, 8]);
    assert_eq!(p.data(), &[9, 8, 1, 2, 3, 4]);
    assert_eq!(p.headroom(), HEADROOM - 2);
    assert!(p.adj(3));
    assert_eq!(p.data(), &[2, 3, 4]);
    p.append(1).unwrap()[0] = 5;
    assert_eq!(p.data(), &[2, 3, 4, 5]);
    p.truncate(1);
    assert_eq!(p.data(), &[2]);
    assert!(!p.adj(2));
    assert!(p.prepend(HEADROOM + 10).is_none());
    assert!(p.append(4096).is_none());
    assert!(!p.set_data(&[0; 2049]));
    assert_eq!(p.data(), &[2], "failed operations change nothing");

    // Registers and metadata live in the private area of the mbuf.
    let r = RegSlot::new(5).unwrap();
    p.set_reg(r, 0xdead_beef);
    p.meta_mut().in_port = 7;
    let m = p.into_mbuf().unwrap();
    assert_eq!(m.priv_area().regs[5], 0xdead_beef);
    assert_eq!(m.priv_area().meta.in_port, 7);
    let mut p = crate::Packet::from_mbuf(m);

    // mbuf -> heap and heap -> mbuf copies keep bytes, headroom, registers.
    let mut heap_pool = PacketPool::new(2);
    let mut h = heap_pool.alloc().unwrap();
    p.copy_into(&mut h);
    assert!(!h.is_mbuf());
    assert_eq!(
        (h.data(), h.headroom(), h.reg(r)),
        (&[2u8][..], HEADROOM + 1, 0xdead_beef)
    );
    h.set_data(&[7; 60]);
    h.copy_into(&mut p);
    assert_eq!((p.data(), p.meta().in_port), (&[7u8; 60][..], 7));

    // alloc resets the private area; frees go back in bulk.
    pool.free(p);
    let q = pool.alloc().unwrap();
    assert_eq!((q.reg(r), q.meta().in_port, q.len()), (0, 0, 0));
    // An mbuf freed into a heap pool goes to its mempool; a heap packet
    // freed into a DPDK pool is released (the pool keeps no heap buffers).
    heap_pool.free(q);
    heap_pool.flush_frees();
    pool.free(h);
    pool.flush_frees();
    assert_eq!(pool.overflow(), 1);
    assert_eq!(mp.in_use(), 0);
}

/// Ports by spec (pre-probed, hot-plugged, unknown), queues, bursts.
fn ports_and_bursts(eal: &Eal, mp: &Arc<Mempool>) {
    let cfg = PortConfig {
        rx_queues: 2,
        tx_queues: 2,
        rx_ring: 512,
        tx_ring: 512,
        promiscuous: true,
    };
    // Given as --vdev at init: used as is.
    let null0 = EthPort::open(eal, "net_null0", &cfg, mp).unwrap();
    assert_eq!((null0.name(), null0.driver()), ("net_null0", "net_null"));
    let again = EthPort::open(eal, "net_null0", &cfg, mp).unwrap_err();
    assert!(again.to_string().contains("already open"), "{again}");
    // Hot-plugged.
    let ring = EthPort::open(eal, "net_ring0", &PortConfig::default(), mp).unwrap();
    assert!(ring.link().up);
    let unknown = EthPort::open(eal, "net_foo0", &cfg, mp)
        .unwrap_err()
        .to_string();
    assert!(
        unknown.starts_with("port `net_foo0`: unknown driver `net_foo` (drivers: "),
        "{unknown}"
    );
    assert!(unknown.contains("net_null"), "{unknown}");
    let too_many = PortConfig {
        rx_queues: 4096,
        ..cfg
    };
    let e = EthPort::open(eal, "net_null9", &too_many, mp).unwrap_err();
    assert!(e.to_string().contains("allows at most"), "{e}");

    let mut q0 = null0.queue(&[0, 1], 0).unwrap();
    assert!(null0
        .queue(&[1], 1)
        .unwrap_err()
        .to_string()
        .contains("rx queue 1"));
    let mut r0 = ring.queue(&[0], 0).unwrap();
    let mut pool = PacketPool::with_mempool(mp.clone());
    let mut batch = Batch::new();
    let slot = RegSlot::new(2).unwrap();
    let mut received = 0;
    for _ in 0..100 {
        let n = q0.rx_burst(&mut pool, &mut batch);
        assert_eq!(n, batch.len());
        received += n;
        for (i, p) in batch.as_mut_slice().iter_mut().enumerate() {
            assert!(p.is_mbuf());
            assert_eq!((p.len(), p.reg(slot), p.meta().flags), (64, 0, 0));
            p.set_reg(slot, i as u32);
        }
        // Out through the ring port; it loops back to its own rx.
        let sent = r0.tx_burst(&mut batch, &mut pool);
        for p in batch.drain() {
            pool.free(p);
        }
        let mut back = Batch::new();
        assert_eq!(r0.rx_burst(&mut pool, &mut back), sent);
        assert!(
            back.as_slice().iter().all(|p| p.reg(slot) == 0),
            "rx resets"
        );
        for p in back.drain() {
            pool.free(p);
        }
    }
    assert!(
        received >= 100 * 32,
        "net_null filled the bursts: {received}"
    );
    assert_eq!(q0.stats().rx_packets, received as u64);

    // A heap packet sent to a DPDK port is copied into an mbuf (counted).
    let mut heap = PacketPool::new(1);
    let mut h = heap.alloc().unwrap();
    h.set_data(&[0xab; 60]);
    batch.push(h).unwrap();
    assert_eq!(r0.tx_burst(&mut batch, &mut heap), 1);
    assert_eq!((r0.heap_copies(), heap.available()), (1, 1));
    let mut back = Batch::new();
    assert_eq!(r0.rx_burst(&mut pool, &mut back), 1);
    assert_eq!(back.as_slice()[0].data(), &[0xab; 60]);
    for p in back.drain() {
        pool.free(p);
    }
    pool.flush_frees();

    let st = null0.stats();
    assert_eq!(st.rx_packets, received as u64);
    let xs = ring.xstats().unwrap();
    assert!(
        xs.iter().any(|(n, v)| n == "rx_good_packets" && *v > 0),
        "{xs:?}"
    );
    drop((q0, r0, null0, ring, pool));
}

/// A thread registered with EAL gets an lcore id and uses the pool.
fn registered_thread(eal: &Eal, mp: &Arc<Mempool>) {
    let main = register_thread(eal).unwrap();
    assert_eq!(main.lcore_id(), 0, "the main lcore keeps its id");
    let (eal2, mp2) = (eal.clone(), mp.clone());
    std::thread::spawn(move || {
        let g = register_thread(&eal2).unwrap();
        assert_ne!(g.lcore_id(), df_dpdk_sys::LCORE_ID_ANY);
        let mut pool = PacketPool::with_mempool(mp2);
        let p: Vec<_> = (0..100).map(|_| pool.alloc().unwrap()).collect();
        for x in p {
            pool.free(x);
        }
        drop(pool);
        drop(g);
    })
    .join()
    .unwrap();
}
