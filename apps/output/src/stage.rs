//! `output`'s hot path: one lookup, then transmit.

use std::sync::Arc;

use df_dp::{Batch, EntryId, RcuCell, RegSlot, Stage, StageIo};

use crate::counters::UNKNOWN_DESTINATION;
use crate::tables::OutputTables;
use crate::trace::DESTINATION;

/// The `output` stage of one worker.
#[derive(Debug)]
pub struct OutputStage {
    dst: RegSlot,
    tables: Arc<RcuCell<OutputTables>>,
}

impl OutputStage {
    pub(crate) fn new(dst: RegSlot, tables: Arc<RcuCell<OutputTables>>) -> Self {
        OutputStage { dst, tables }
    }
}

impl Stage for OutputStage {
    fn process(&mut self, _entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        for pkt in batch.drain() {
            let key = pkt.reg(self.dst);
            io.note(&pkt, DESTINATION, key as u64);
            match t.port.get(key) {
                Some(port) => io.tx(port, pkt),
                None => io.drop(pkt, UNKNOWN_DESTINATION),
            }
        }
    }
}
