//! A harness to unit-test one app's stage without a graph: build the app from
//! a config, hand its stage a batch at an entry, and collect what left by
//! each exit, what was transmitted, what was dropped and the trace.
//!
//! Apps test their packet logic with it (`apps/*/src/stage.rs` tests); the
//! graph and the executor are tested on their own in df-dp and with real apps
//! in the pipeline tests.

use std::sync::Arc;

use crate::app::{App, RegMap, VertexCtx};
use crate::batch::{Batch, Frame, BATCH_MAX, FRAME_CAP};
use crate::contract::{AppContract, EntryId};
use crate::counters::{FrameworkDrop, VertexCounters, WorkerCounters};
use crate::packet::{Meta, Packet, PacketPool, RegSlot};
use crate::rcu::{RcuCell, RcuDomain, RcuReader};
use crate::stage::{Stage, StageIo, Target};
use crate::trace::{TraceRecord, TraceRing};

/// What one run of a stage did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Packets sent, with the exit's name, in order.
    pub sent: Vec<(&'static str, Packet)>,
    /// Packets transmitted, with the switch port.
    pub tx: Vec<(u16, Packet)>,
    /// Drops by reason name (app reasons, then framework names), non-zero only.
    pub drops: Vec<(&'static str, u64)>,
    /// Trace records of traced packets.
    pub trace: Vec<TraceRecord>,
}

impl Outcome {
    /// The packets that left by `exit`.
    pub fn by_exit(&self, exit: &str) -> Vec<&Packet> {
        self.sent
            .iter()
            .filter(|(x, _)| *x == exit)
            .map(|(_, p)| p)
            .collect()
    }

    /// How many packets were dropped for `reason`.
    pub fn dropped(&self, reason: &str) -> u64 {
        self.drops
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, n)| *n)
    }
}

/// One app vertex, its tables and one stage, outside any graph.
pub struct StageHarness<A: App> {
    contract: &'static AppContract,
    regs: RegMap,
    rcu: RcuDomain,
    reader: Option<RcuReader>,
    app: Arc<A>,
    tables: Arc<RcuCell<A::Tables>>,
    stage: A::Stage,
    pool: PacketPool,
    ports: usize,
    now: u64,
}

impl<A: App> std::fmt::Debug for StageHarness<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StageHarness({})", self.contract.type_name)
    }
}

impl<A: App> StageHarness<A> {
    /// Builds the app with `params` (YAML text, `""` for none) and the
    /// registers of its own contract, and a stage with empty tables.
    ///
    /// # Errors
    /// The app refuses the params.
    pub fn new(params: &str) -> Result<Self, String> {
        let contract = A::contract();
        let regs = RegMap::new(contract.registers().iter().map(|r| r.to_string()).collect());
        let params: serde_yaml::Value = if params.trim().is_empty() {
            serde_yaml::Value::Null
        } else {
            serde_yaml::from_str(params).map_err(|e| e.to_string())?
        };
        let app = Arc::new(A::new(&VertexCtx {
            name: contract.type_name,
            params: &params,
            regs: &regs,
        })?);
        let rcu = RcuDomain::new();
        let tables = Arc::new(RcuCell::new(&rcu, app.empty_tables()));
        let stage = app.new_stage(tables.clone());
        let reader = Some(rcu.register());
        Ok(StageHarness {
            contract,
            regs,
            rcu,
            reader,
            app,
            tables,
            stage,
            pool: PacketPool::new(4096),
            ports: 16,
            now: 1,
        })
    }

    /// Builds tables from `config` and publishes them.
    ///
    /// # Errors
    /// The app refuses the config.
    pub fn configure(&mut self, config: &A::Config) -> Result<(), String> {
        let t = self.app.build_tables(config)?;
        // This thread is the harness's only reader: step out of the read side
        // while waiting for the grace period.
        if let Some(r) = self.reader.as_mut() {
            r.offline();
        }
        self.tables.publish(t);
        if let Some(r) = self.reader.as_mut() {
            r.online();
        }
        Ok(())
    }

    /// Builds tables from a JSON config and publishes them.
    ///
    /// # Errors
    /// The JSON does not fit, or the app refuses the config.
    pub fn configure_json(&mut self, json: &str) -> Result<(), String> {
        let c: A::Config = serde_json::from_str(json).map_err(|e| e.to_string())?;
        self.configure(&c)
    }

    /// The slot of register `name` (as the contract spells it).
    ///
    /// # Panics
    /// If the app's contract does not name the register (a test bug).
    pub fn reg(&self, name: &str) -> RegSlot {
        self.regs
            .slot(name)
            .unwrap_or_else(|| panic!("register `{name}` is not in the contract"))
    }

    /// Sets the TSC value stages see as `io.now()` (rate limits, ageing).
    pub fn set_now(&mut self, tsc: u64) {
        self.now = tsc;
    }

    /// A packet holding `bytes`, received on `in_port`, with registers set.
    ///
    /// # Panics
    /// If the pool is empty or the frame too large (a test bug).
    pub fn packet(&mut self, bytes: &[u8], in_port: u16, regs: &[(&str, u32)]) -> Packet {
        let mut p = self
            .pool
            .alloc()
            .unwrap_or_else(|| panic!("harness pool empty"));
        assert!(p.set_data(bytes), "frame too large");
        p.meta_mut().in_port = in_port;
        p.meta_mut().flags = Meta::TRACE;
        p.meta_mut().trace_id = 1;
        for (name, v) in regs {
            let s = self.reg(name);
            p.set_reg(s, *v);
        }
        p
    }

    /// As [`StageHarness::packet`], but not traced: a batch of only such
    /// packets runs the stage's untraced path (whole-batch hand-offs), and
    /// records no trace.
    pub fn packet_untraced(&mut self, bytes: &[u8], in_port: u16, regs: &[(&str, u32)]) -> Packet {
        let mut p = self.packet(bytes, in_port, regs);
        p.meta_mut().flags &= !Meta::TRACE;
        p.meta_mut().trace_id = 0;
        p
    }

    /// The stage's partial evaluation ([`Stage::route`]) of the packets
    /// arriving at `entry` on `in_port` (`None`: any port) with the given
    /// registers known: `Some("exit:NAME")`, `Some("tx:PORT")` or `None`,
    /// with the registers it says it writes (by name).
    ///
    /// # Panics
    /// If `entry` or a register name is unknown.
    pub fn route(
        &self,
        entry: &str,
        in_port: Option<u16>,
        regs: &[(&str, u32)],
    ) -> Option<(String, Vec<(String, u32)>)> {
        let c = self.contract;
        let e = c
            .entry(entry)
            .unwrap_or_else(|| panic!("no entry `{entry}` in {}", c.type_name));
        let mut known = match in_port {
            Some(p) => crate::stage::Known::new(p),
            None => crate::stage::Known::any(),
        };
        for &(name, v) in regs {
            known.set_reg(self.reg(name), v);
        }
        let before = known;
        let reader = self.reader.as_ref().unwrap_or_else(|| unreachable!());
        let r = self.stage.route(e, &mut known, reader)?;
        let to = match r {
            crate::stage::Route::Exit(x) => format!("exit:{}", c.exits[x.0 as usize].name),
            crate::stage::Route::Tx(p) => format!("tx:{p}"),
        };
        let writes = known
            .writes()
            .filter(|&(slot, v)| before.reg(slot) != Some(v))
            .map(|(slot, v)| {
                let name = self
                    .regs
                    .names()
                    .get(slot.index())
                    .unwrap_or_else(|| panic!("register slot {slot:?} has no name"));
                (name.clone(), v)
            })
            .collect();
        Some((to, writes))
    }

    /// Runs the stage on `pkts` arriving at `entry`.
    ///
    /// # Panics
    /// If `entry` is not in the contract, or more packets than a batch holds.
    pub fn run(&mut self, entry: &str, pkts: Vec<Packet>) -> Outcome {
        let c = self.contract;
        let e = c
            .entry(entry)
            .unwrap_or_else(|| panic!("no entry `{entry}` in {}", c.type_name));
        let nexits = c.exits.len();
        let mut frames: Vec<Frame> = (0..nexits)
            .map(|_| Frame::with_capacity(FRAME_CAP))
            .collect();
        let targets: Vec<Target> = (0..nexits).map(|i| Target::Queue(i as u16)).collect();
        let vc = VertexCounters::new(c.drops.len(), nexits);
        let wc = WorkerCounters::new(Box::new([]));
        let mut tx: Vec<Batch> = (0..self.ports)
            .map(|_| Batch::with_capacity(FRAME_CAP))
            .collect();
        let mut trace = TraceRing::new(1024);
        let mut batch = Batch::with_capacity(BATCH_MAX);
        for p in pkts {
            assert!(batch.push(p).is_ok(), "more than {BATCH_MAX} packets");
        }
        let reader = self.reader.as_ref().unwrap_or_else(|| unreachable!());
        let tracing = batch.as_slice().iter().any(Packet::traced);
        {
            let mut io = StageIo {
                frames: &mut frames,
                targets: &targets,
                vc: &vc,
                wc: &wc,
                tx: &mut tx,
                pool: &mut self.pool,
                trace: &mut trace,
                rcu: reader,
                vertex: 0,
                entry: EntryId(e.0),
                hop_limit: 255,
                now: self.now,
                tracing,
            };
            self.stage.process(e, &mut batch, &mut io);
        }
        assert!(batch.is_empty(), "the stage left packets in its batch");
        let mut out = Outcome::default();
        for (i, f) in frames.iter_mut().enumerate() {
            for p in f.drain() {
                out.sent.push((c.exits[i].name, p));
            }
        }
        for (port, b) in tx.iter_mut().enumerate() {
            for p in b.drain() {
                out.tx.push((port as u16, p));
            }
        }
        for (i, d) in c.drops.iter().enumerate() {
            let n = vc.drops[i].get();
            if n > 0 {
                out.drops.push((d.name, n));
            }
        }
        for d in FrameworkDrop::ALL {
            let n = wc.framework_drops(d);
            if n > 0 {
                out.drops.push((d.name(), n));
            }
        }
        out.trace = trace.records();
        out
    }

    /// Returns a packet's buffer to the harness pool.
    pub fn free(&mut self, p: Packet) {
        self.pool.free(p);
    }
}

impl<A: App> Drop for StageHarness<A> {
    fn drop(&mut self) {
        // Readers go before the domain and cells they registered with.
        self.reader.take();
        let _ = &self.rcu;
    }
}
