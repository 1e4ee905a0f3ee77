//! `output`'s hot path: one lookup, then transmit; for a VLAN provider
//! network's uplink, an 802.1Q tag is pushed first (4 bytes of headroom,
//! the MAC addresses moved to the new front).

use std::sync::Arc;

use df_dp::stage::{Known, Route};
use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, RcuReader, RegSlot, Stage, StageIo};

use crate::counters::{NO_HEADROOM, RUNT, UNKNOWN_DESTINATION};
use crate::tables::{OutputTables, NAT, REMOTE};
use crate::trace::{DESTINATION, VLAN_PUSHED};

const REMOTE_EXIT: ExitId = ExitId(0);
const NAT_EXIT: ExitId = ExitId(1);

/// Bytes of the two MAC addresses.
const MACS_LEN: usize = 12;
/// Bytes of an 802.1Q tag.
const TAG_LEN: usize = 4;

/// Pushes an 802.1Q tag with `vid` (priority 0) in front of the frame's
/// EtherType. `Err(reason)` leaves a frame the caller drops.
#[inline]
fn push_tag(pkt: &mut Packet, vid: u16) -> Result<(), df_dp::DropId> {
    if pkt.len() < MACS_LEN + 2 {
        return Err(RUNT);
    }
    if pkt.prepend(TAG_LEN).is_none() {
        return Err(NO_HEADROOM);
    }
    let d = pkt.data_mut();
    d.copy_within(TAG_LEN..TAG_LEN + MACS_LEN, 0);
    d[MACS_LEN..MACS_LEN + TAG_LEN].copy_from_slice(&[0x81, 0x00, (vid >> 8) as u8, vid as u8]);
    Ok(())
}

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
        if !io.tracing() {
            // Mostly all to one local port (transmitted in one go), or all
            // to the overlay or to NAT (handed on in one go).
            if let Some(first) = batch.as_slice().first() {
                let key = first.reg(self.dst);
                let all_via = |via: u16| {
                    batch
                        .as_slice()
                        .iter()
                        .all(|p| t.port.get(p.reg(self.dst)).is_some_and(|o| o.vlan == via))
                };
                match t.port.get(key) {
                    Some(out)
                        if out.vlan == 0
                            && batch.as_slice().iter().all(|p| p.reg(self.dst) == key) =>
                    {
                        return io.tx_all(out.port, batch);
                    }
                    Some(out) if out.vlan == REMOTE && all_via(REMOTE) => {
                        return io.send_all(REMOTE_EXIT, batch);
                    }
                    Some(out) if out.vlan == NAT && all_via(NAT) => {
                        return io.send_all(NAT_EXIT, batch);
                    }
                    _ => {}
                }
            }
        }
        for mut pkt in batch.drain() {
            let key = pkt.reg(self.dst);
            io.note(&pkt, DESTINATION, key as u64);
            match t.port.get(key) {
                Some(out) if out.vlan == 0 => io.tx(out.port, pkt),
                Some(out) if out.vlan == REMOTE => io.send(REMOTE_EXIT, pkt),
                Some(out) if out.vlan == NAT => io.send(NAT_EXIT, pkt),
                Some(out) => match push_tag(&mut pkt, out.vlan) {
                    Ok(()) => {
                        io.note(&pkt, VLAN_PUSHED, u64::from(out.vlan));
                        io.tx(out.port, pkt)
                    }
                    Err(reason) => io.drop(pkt, reason),
                },
                None => io.drop(pkt, UNKNOWN_DESTINATION),
            }
        }
    }

    /// A known destination on an untagged local port: transmitted there,
    /// unchanged. A tag push changes the frame; remote and NAT ports go on.
    fn route(&self, _entry: EntryId, known: &mut Known, rcu: &RcuReader) -> Option<Route> {
        let out = self.tables.read(rcu).port.get(known.reg(self.dst)?)?;
        (out.vlan == 0).then_some(Route::Tx(out.port))
    }
}

#[cfg(test)]
mod tests {
    use df_dp::reg::DESTINATION_PORT_KEY;
    use df_dp::testing::StageHarness;

    use crate::OutputApp;

    fn frame() -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend((0u8..46).collect::<Vec<_>>());
        f
    }

    #[test]
    fn transmits_tags_for_vlan_uplinks_and_drops_unknown_keys() {
        let mut h = StageHarness::<OutputApp>::new("").unwrap();
        h.configure_json(
            r#"{"ports":[{"port_key":1,"port":0},{"port_key":9,"port":3,"vlan":100}],"remote":[40],"nat":[50]}"#,
        )
        .unwrap();
        let to = |k| [(DESTINATION_PORT_KEY, k)];
        let pkts = vec![
            h.packet(&frame(), 0, &to(1)),
            h.packet(&frame(), 0, &to(9)),
            h.packet(&frame(), 0, &to(5)),
            h.packet(&[0; 8], 0, &to(9)),
            h.packet(&frame(), 0, &to(40)),
            h.packet(&frame(), 0, &to(50)),
        ];
        let out = h.run("default", pkts);
        assert_eq!(
            out.by_exit("remote").len(),
            1,
            "a remote port goes to the overlay"
        );
        assert_eq!(
            out.by_exit("nat").len(),
            1,
            "a floating IP's port goes to nat"
        );
        assert_eq!(out.tx.len(), 2);
        assert_eq!(out.tx[0].0, 0);
        assert_eq!(out.tx[0].1.data(), &frame()[..], "untagged, unchanged");
        assert_eq!(out.tx[1].0, 3);
        let tagged = out.tx[1].1.data();
        let f = frame();
        assert_eq!(&tagged[..12], &f[..12], "the MACs move to the new front");
        assert_eq!(&tagged[12..16], &[0x81, 0x00, 0x00, 100], "802.1Q, VID 100");
        assert_eq!(
            &tagged[16..],
            &f[12..],
            "EtherType and payload follow the tag"
        );
        assert_eq!(out.dropped("unknown-destination"), 1);
        assert_eq!(out.dropped("runt"), 1);
        // Known before any packet: an untagged local port is a transmit;
        // a tag push, the overlay and NAT change the frame or go on.
        let tx = |k| h.route("default", Some(0), &to(k)).map(|r| r.0);
        assert_eq!(tx(1), Some("tx:0".to_string()));
        for k in [9, 40, 50, 5] {
            assert_eq!(tx(k), None, "port key {k}");
        }
        assert_eq!(h.route("default", Some(0), &[]), None);
        // Untraced, a batch all to one untagged port is transmitted in one
        // go; any other batch packet by packet, with the same outcome.
        let pkts = (0..3)
            .map(|_| h.packet_untraced(&frame(), 0, &to(1)))
            .collect();
        let out = h.run("default", pkts);
        assert_eq!(out.tx.len(), 3);
        assert!(out
            .tx
            .iter()
            .all(|(p, pkt)| *p == 0 && pkt.data() == &frame()[..]));
        let pkts = [1, 9, 5]
            .iter()
            .map(|&k| h.packet_untraced(&frame(), 0, &to(k)))
            .collect();
        let out = h.run("default", pkts);
        let ports: Vec<u16> = out.tx.iter().map(|(p, _)| *p).collect();
        assert_eq!(ports, vec![0, 3]);
        assert_eq!(out.dropped("unknown-destination"), 1);
        for (keys, remote, nat) in [
            (vec![40, 40], 2, 0),
            (vec![50], 0, 1),
            (vec![40, 50, 40], 2, 1),
        ] {
            let pkts = keys
                .iter()
                .map(|&k| h.packet_untraced(&frame(), 0, &to(k)))
                .collect();
            let out = h.run("default", pkts);
            assert_eq!(out.by_exit("remote").len(), remote, "{keys:?}");
            assert_eq!(out.by_exit("nat").len(), nat, "{keys:?}");
            assert!(out.tx.is_empty());
        }
    }

    #[test]
    fn bad_configs_name_the_entry() {
        let mut h = StageHarness::<OutputApp>::new("").unwrap();
        let e = h
            .configure_json(r#"{"ports":[{"port_key":1,"port":0,"vlan":4095}]}"#)
            .unwrap_err();
        assert!(
            e.contains("ports[0].vlan: 4095 is not a VLAN id (1..=4094)"),
            "{e}"
        );
        let e = h
            .configure_json(r#"{"ports":[{"port_key":1,"port":0},{"port_key":1,"port":2}]}"#)
            .unwrap_err();
        assert!(
            e.contains("ports[1]: port key 1 is given two switch ports (0 and 2)"),
            "{e}"
        );
        let e = h
            .configure_json(r#"{"ports":[{"port_key":1,"port":0}],"remote":[1]}"#)
            .unwrap_err();
        assert!(
            e.contains("remote[0]: port key 1 is also a local port (switch port 0)"),
            "{e}"
        );
    }
}
