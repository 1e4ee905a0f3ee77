//! `xconnect`'s hot path: one direct-indexed lookup by source port key.

use std::sync::Arc;

use df_dp::stage::{Known, Route};
use df_dp::{Batch, EntryId, ExitId, RcuCell, RcuReader, RegSlot, Stage, StageIo};

use crate::counters::NO_PEER;
use crate::tables::XconnectTables;
use crate::trace::PEER;

const DEFAULT: ExitId = ExitId(0);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) dst: RegSlot,
}

/// The `xconnect` stage of one worker.
#[derive(Debug)]
pub struct XconnectStage {
    regs: Regs,
    tables: Arc<RcuCell<XconnectTables>>,
}

impl XconnectStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<XconnectTables>>) -> Self {
        XconnectStage { regs, tables }
    }
}

impl Stage for XconnectStage {
    fn process(&mut self, _entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        for mut pkt in batch.drain() {
            match t.peer.get(pkt.reg(self.regs.src)) {
                Some(to) => {
                    pkt.set_reg(self.regs.dst, to);
                    io.note(&pkt, PEER, to as u64);
                    io.send(DEFAULT, pkt);
                }
                None => io.drop(pkt, NO_PEER),
            }
        }
    }

    /// A known source port key with a peer: every packet goes to the peer.
    fn route(&self, _entry: EntryId, known: &mut Known, rcu: &RcuReader) -> Option<Route> {
        let to = self.tables.read(rcu).peer.get(known.reg(self.regs.src)?)?;
        known.set_reg(self.regs.dst, to);
        Some(Route::Exit(DEFAULT))
    }
}
