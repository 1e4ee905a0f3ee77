//! `input`'s hot path: one direct-indexed lookup by receive port.

use std::sync::Arc;

use df_dp::{Batch, EntryId, ExitId, RcuCell, RegSlot, Stage, StageIo};

use crate::counters::UNBOUND_PORT;
use crate::tables::InputTables;
use crate::trace::SOURCE_PORT;

const VM_EGRESS: ExitId = ExitId(0);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) net: RegSlot,
}

/// The `input` stage of one worker.
#[derive(Debug)]
pub struct InputStage {
    regs: Regs,
    tables: Arc<RcuCell<InputTables>>,
}

impl InputStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<InputTables>>) -> Self {
        InputStage { regs, tables }
    }
}

impl Stage for InputStage {
    fn process(&mut self, _entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        for mut pkt in batch.drain() {
            match t
                .by_port
                .get(pkt.meta().in_port as usize)
                .copied()
                .flatten()
            {
                Some((port_key, net_key)) => {
                    pkt.set_reg(self.regs.src, port_key);
                    pkt.set_reg(self.regs.net, net_key);
                    io.note(&pkt, SOURCE_PORT, port_key as u64);
                    io.send(VM_EGRESS, pkt);
                }
                None => io.drop(pkt, UNBOUND_PORT),
            }
        }
    }
}
