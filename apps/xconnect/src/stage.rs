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

#[cfg(test)]
mod tests {
    use df_dp::reg::{DESTINATION_PORT_KEY, SOURCE_PORT_KEY};
    use df_dp::testing::StageHarness;

    use crate::XconnectApp;

    #[test]
    fn patches_and_knows_them_in_advance() {
        let mut h = StageHarness::<XconnectApp>::new("").unwrap();
        h.configure_json(r#"{"pairs":[{"from":1,"to":2}]}"#)
            .unwrap();
        let pkts = vec![
            h.packet(&[0; 60], 0, &[(SOURCE_PORT_KEY, 1)]),
            h.packet(&[0; 60], 1, &[(SOURCE_PORT_KEY, 2)]),
        ];
        let out = h.run("default", pkts);
        let sent = out.by_exit("default");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].reg(h.reg(DESTINATION_PORT_KEY)), 2);
        assert_eq!(out.dropped("no-peer"), 1);
        assert_eq!(
            h.route("default", Some(0), &[(SOURCE_PORT_KEY, 1)]),
            Some((
                "exit:default".to_string(),
                vec![(DESTINATION_PORT_KEY.to_string(), 2)]
            ))
        );
        assert_eq!(h.route("default", Some(1), &[(SOURCE_PORT_KEY, 2)]), None);
        assert_eq!(h.route("default", Some(1), &[]), None);
    }
}
