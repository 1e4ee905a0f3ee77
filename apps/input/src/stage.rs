//! `input`'s hot path: one direct-indexed lookup by receive port.

use std::sync::Arc;

use df_dp::{Batch, EntryId, ExitId, RcuCell, RegSlot, Stage, StageIo};

use crate::counters::UNBOUND_PORT;
use crate::tables::{Binding, InputTables};
use crate::trace::{SOURCE_PORT, UPLINK};

const VM_EGRESS: ExitId = ExitId(0);
const PROVIDER: ExitId = ExitId(1);

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
                Some(Binding::Vm(port_key, net_key)) => {
                    pkt.set_reg(self.regs.src, port_key);
                    pkt.set_reg(self.regs.net, net_key);
                    io.note(&pkt, SOURCE_PORT, port_key as u64);
                    io.send(VM_EGRESS, pkt);
                }
                Some(Binding::Uplink) => {
                    io.note(&pkt, UPLINK, u64::from(pkt.meta().in_port));
                    io.send(PROVIDER, pkt);
                }
                None => io.drop(pkt, UNBOUND_PORT),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use df_dp::reg::{NETWORK_KEY, SOURCE_PORT_KEY};
    use df_dp::testing::StageHarness;

    use crate::InputApp;

    #[test]
    fn vm_ports_uplinks_and_unbound_ports() {
        let mut h = StageHarness::<InputApp>::new("").unwrap();
        h.configure_json(r#"{"ports":[{"port":0,"port_key":5,"network_key":2}],"uplinks":[3]}"#)
            .unwrap();
        let f = [0u8; 60];
        let pkts = vec![
            h.packet(&f, 0, &[]),
            h.packet(&f, 3, &[]),
            h.packet(&f, 1, &[]),
        ];
        let out = h.run("default", pkts);
        let vm = out.by_exit("vm-egress");
        assert_eq!(vm.len(), 1);
        assert_eq!(vm[0].reg(h.reg(SOURCE_PORT_KEY)), 5);
        assert_eq!(vm[0].reg(h.reg(NETWORK_KEY)), 2);
        let up = out.by_exit("provider");
        assert_eq!(up.len(), 1);
        assert_eq!(up[0].meta().in_port, 3);
        assert_eq!(out.dropped("unbound-port"), 1);
    }
}
