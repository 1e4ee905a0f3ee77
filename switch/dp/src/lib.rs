//! df-dp: the Dragonflow-RS datapath runtime.
//!
//! It owns everything between a port and an app: the [`packet::Packet`] and
//! its pool, the fixed [`batch::Batch`], the [`port::Port`] trait and the
//! hardware-free ports, the app contract ([`contract`]) and the
//! [`stage::Stage`] trait, the layout format and its compiler ([`graph`]),
//! the vector executor ([`exec`]), counters and the trace ring, the RCU cell
//! that publishes tables ([`rcu`]), and the pinned poll-mode workers
//! ([`worker`]).
//!
//! Reading order: `packet`, `batch`, `contract`, `stage`, `app`, `graph`,
//! `exec`, `worker`. `docs/ARCHITECTURE.md` walks the same path.
//!
//! Unsafe code is allowed only in the fenced modules `sys` (the TSC),
//! `rcu` (table publication) and, with the Cargo feature `dpdk`, `dpdk`
//! (EAL, mempools, mbufs, ethdev ports); every other module is checked by
//! the workspace's `unsafe_code = "deny"`.

pub mod app;
pub mod batch;
pub mod contract;
pub mod counters;
#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod exec;
pub mod graph;
pub mod packet;
pub mod port;
pub mod ratelimit;
pub mod rcu;
pub mod reg;
pub mod stage;
pub mod sys;
pub mod table;
pub mod testing;
pub mod trace;
pub mod worker;

pub use app::{App, AppInstance, AppType, AppTypeOf, ConfigError, RegMap, VertexCtx};
pub use batch::{Batch, BATCH_MAX, BURST};
pub use contract::{AppContract, DropId, DropSpec, EntryId, EntrySpec, ExitId, ExitSpec};
pub use exec::{ExecConfig, Executor};
pub use graph::{compile, Graph, GraphError, GraphErrors, Layout};
pub use packet::{Packet, PacketPool, RegSlot};
pub use port::{Port, PortStats};
pub use rcu::{RcuCell, RcuDomain, RcuReader};
pub use stage::{Stage, StageIo};
