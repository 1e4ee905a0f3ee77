//! The executor's own protections, each checked by its counter: the hop
//! limit, full frame queues, unwired exits, stages that leave packets behind,
//! transmit to a port that does not exist.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::sync::Arc;

use common::{entry, exit, forward, Fake};
use df_dp::contract::AppContract;
use df_dp::counters::FrameworkDrop;
use df_dp::rcu::RcuDomain;
use df_dp::trace::TraceEvent;
use df_dp::{compile, Batch, EntryId, ExecConfig, Executor, Layout, StageIo};

static BOUNCE: AppContract = AppContract {
    type_name: "bounce",
    summary: "sends every packet back to itself, through a progress exit",
    entries: &[entry("default", &[], &["again"], true)],
    exits: &[exit("again", &[], true)],
    drops: &[],
    tables: &[],
};

fn fan(_c: &'static AppContract, _e: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
    for p in batch.drain() {
        for _ in 0..1999 {
            if let Some(c) = io.clone_packet(&p) {
                io.send(df_dp::ExitId(0), c);
            }
        }
        io.send(df_dp::ExitId(0), p);
    }
}

fn lazy(_c: &'static AppContract, _e: EntryId, _batch: &mut Batch, _io: &mut StageIo<'_>) {}

fn to_port_9(_c: &'static AppContract, _e: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
    for p in batch.drain() {
        io.tx(9, p);
    }
}

static FAN: AppContract = AppContract {
    type_name: "fan",
    summary: "2000 copies of every packet",
    entries: &[entry("default", &[], &["out"], true)],
    exits: &[exit("out", &[], false)],
    drops: &[],
    tables: &[],
};
static SINK: AppContract = AppContract {
    type_name: "sink",
    summary: "transmits on port 0",
    entries: &[entry("default", &[], &[], false)],
    exits: &[],
    drops: &[],
    tables: &[],
};
static LAZY: AppContract = AppContract {
    type_name: "lazy",
    summary: "forgets its packets",
    entries: &[entry("default", &[], &[], true)],
    exits: &[],
    drops: &[],
    tables: &[],
};
static PORT9: AppContract = AppContract {
    type_name: "port9",
    summary: "transmits on a port that does not exist",
    entries: &[entry("default", &[], &[], true)],
    exits: &[],
    drops: &[],
    tables: &[],
};
static OPEN: AppContract = AppContract {
    type_name: "open",
    summary: "an exit the layout leaves unwired",
    entries: &[entry("default", &[], &["nowhere"], true)],
    exits: &[exit("nowhere", &[], false)],
    drops: &[],
    tables: &[],
};

static TYPES: [Fake; 6] = [
    Fake(&BOUNCE, forward),
    Fake(&FAN, fan),
    Fake(&SINK, forward),
    Fake(&LAZY, lazy),
    Fake(&PORT9, to_port_9),
    Fake(&OPEN, forward),
];

/// Compiles `yaml`, runs one 60-byte packet (traced) in on port 0, returns
/// the executor.
fn run_one(yaml: &str, pool: usize) -> Executor {
    let cat: Vec<&dyn df_dp::AppType> = TYPES.iter().map(|t| t as &dyn df_dp::AppType).collect();
    let g = Arc::new(compile(&Layout::parse(yaml).unwrap(), &cat, &RcuDomain::new()).unwrap());
    let mut ex = Executor::new(
        g.clone(),
        &ExecConfig {
            ports: 1,
            pool_size: pool,
            ..ExecConfig::default()
        },
    );
    let mut reader = g.rcu().register();
    let mut b = Batch::new();
    let mut p = ex.pool_mut().alloc().unwrap();
    p.set_data(&[0; 60]);
    p.meta_mut().flags = df_dp::packet::Meta::TRACE;
    b.push(p).unwrap();
    ex.process(0, &mut b, &reader);
    reader.quiescent();
    ex
}

#[test]
fn hop_limit_stops_a_packet_that_keeps_making_progress() {
    let ex = run_one(
        "vertices:\n  b: {type: bounce}\nedges:\n  b.out.again: b.in.default\n",
        16,
    );
    // Entered with 0 hops; each send adds one; the 33rd send is refused.
    assert_eq!(ex.counters().vertices[0].packets.get(), 33);
    assert_eq!(ex.counters().framework_drops(FrameworkDrop::HopLimit), 1);
    let last = ex.trace_records().pop().unwrap();
    assert_eq!(
        last.event,
        TraceEvent::FrameworkDrop(FrameworkDrop::HopLimit)
    );
    assert_eq!(ex.pool().available(), 16, "the dropped buffer went back");
}

#[test]
fn full_frame_queue_drops_and_counts() {
    let ex = run_one(
        "vertices:\n  f: {type: fan}\n  s: {type: sink}\nedges:\n  f.out.out: s.in.default\n",
        4096,
    );
    let frame_cap = df_dp::batch::FRAME_CAP as u64;
    assert_eq!(
        ex.counters().framework_drops(FrameworkDrop::FrameFull),
        2000 - frame_cap
    );
    assert_eq!(ex.counters().vertices[1].packets.get(), frame_cap);
    // Port 0 is not in the executor's port list: transmit buffer -> nowhere
    // until flush; every buffer is either queued for tx or back in the pool.
    assert_eq!(ex.pool().available() as u64, 4096 - frame_cap);
}

#[test]
fn pool_exhaustion_is_counted_as_no_buffer() {
    let ex = run_one(
        "vertices:\n  f: {type: fan}\n  s: {type: sink}\nedges:\n  f.out.out: s.in.default\n",
        100,
    );
    assert_eq!(
        ex.counters().framework_drops(FrameworkDrop::NoBuffer),
        1999 - 99
    );
}

#[test]
fn unwired_exit_drops_with_its_own_counter() {
    let ex = run_one("vertices:\n  o: {type: open}\n", 8);
    assert_eq!(ex.counters().vertices[0].unwired[0].get(), 1);
    let last = ex.trace_records().pop().unwrap();
    assert_eq!(last.event, TraceEvent::Unwired(df_dp::ExitId(0)));
    assert_eq!(ex.pool().available(), 8);
}

#[test]
fn a_stage_that_forgets_packets_is_caught() {
    let ex = run_one("vertices:\n  l: {type: lazy}\n", 8);
    assert_eq!(
        ex.counters().framework_drops(FrameworkDrop::StageLeftover),
        1
    );
    assert_eq!(ex.pool().available(), 8);
}

#[test]
fn transmit_to_a_missing_port_is_counted() {
    let ex = run_one("vertices:\n  p: {type: port9}\n", 8);
    assert_eq!(ex.counters().framework_drops(FrameworkDrop::BadTxPort), 1);
    assert_eq!(ex.pool().available(), 8);
}
