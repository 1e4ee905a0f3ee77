//! Byte layout of the embedded store's values: key records and history entries.
//!
//! Why hand-rolled: two fixed little-endian layouts are smaller and faster than a
//! serde format, have no dependency, and every decode is checked, so a damaged file
//! becomes a `Corrupt` error instead of a panic.
//!
//! Record (value of table `kv`): `create_revision i64 | mod_revision i64 | version i64 |
//! lease i64 (0 = none) | value bytes...`.
//! History entry (value of table `history`, keyed by revision): a sequence of events,
//! each `tag u8 (0 put, 1 delete) | key_len u32 | key | [record_len u32 | record]`
//! (the record only for puts); a delete's revision is the entry's key.

use crate::{Event, KeyValue, LeaseId, Revision};

const HEADER: usize = 32;
const TAG_PUT: u8 = 0;
const TAG_DELETE: u8 = 1;

/// Encodes a key's record.
pub(super) fn encode_record(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + kv.value.len());
    out.extend_from_slice(&kv.create_revision.to_le_bytes());
    out.extend_from_slice(&kv.mod_revision.to_le_bytes());
    out.extend_from_slice(&kv.version.to_le_bytes());
    out.extend_from_slice(&kv.lease.map_or(0, |l| l.0).to_le_bytes());
    out.extend_from_slice(&kv.value);
    out
}

/// Decodes a key's record.
pub(super) fn decode_record(key: &str, bytes: &[u8]) -> Result<KeyValue, String> {
    if bytes.len() < HEADER {
        return Err(format!(
            "record of key {key:?} is {} bytes, shorter than its {HEADER}-byte header",
            bytes.len()
        ));
    }
    let lease = read_i64(bytes, 24);
    Ok(KeyValue {
        key: key.to_string(),
        value: bytes[HEADER..].to_vec(),
        create_revision: read_i64(bytes, 0),
        mod_revision: read_i64(bytes, 8),
        version: read_i64(bytes, 16),
        lease: (lease != 0).then_some(LeaseId(lease)),
    })
}

/// Encodes the events of one revision.
pub(super) fn encode_events(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        match event {
            Event::Put(kv) => {
                out.push(TAG_PUT);
                push_bytes(&mut out, kv.key.as_bytes());
                push_bytes(&mut out, &encode_record(kv));
            }
            Event::Delete { key, .. } => {
                out.push(TAG_DELETE);
                push_bytes(&mut out, key.as_bytes());
            }
        }
    }
    out
}

/// Decodes the events of revision `revision`.
pub(super) fn decode_events(revision: Revision, mut bytes: &[u8]) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        let (key, rest) = take_bytes(rest).ok_or_else(|| truncated(revision))?;
        let key = std::str::from_utf8(key).map_err(|_| {
            format!("history entry of revision {revision} holds a key that is not UTF-8")
        })?;
        match tag {
            TAG_PUT => {
                let (record, rest) = take_bytes(rest).ok_or_else(|| truncated(revision))?;
                events.push(Event::Put(decode_record(key, record)?));
                bytes = rest;
            }
            TAG_DELETE => {
                events.push(Event::Delete {
                    key: key.to_string(),
                    mod_revision: revision,
                });
                bytes = rest;
            }
            other => {
                return Err(format!(
                    "history entry of revision {revision} has unknown event tag {other}"
                ))
            }
        }
    }
    Ok(events)
}

fn truncated(revision: Revision) -> String {
    format!("history entry of revision {revision} is truncated")
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are bounded far below 4 GiB by redb (3 GiB values); saturating
    // keeps this total, and a saturated length fails the checked decode.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

fn take_bytes(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len_bytes: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let len = usize::try_from(u32::from_le_bytes(len_bytes)).ok()?;
    let rest = &bytes[4..];
    (rest.len() >= len).then(|| rest.split_at(len))
}

fn read_i64(bytes: &[u8], at: usize) -> i64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(&bytes[at..at + 8]);
    i64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, lease: Option<LeaseId>) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: b"{\"id\":\"p1\"}".to_vec(),
            create_revision: 2,
            mod_revision: 7,
            version: 3,
            lease,
        }
    }

    #[test]
    fn record_round_trip() {
        for lease in [None, Some(LeaseId(42))] {
            let original = kv("/df/lport/p1", lease);
            let decoded = decode_record("/df/lport/p1", &encode_record(&original));
            assert_eq!(decoded, Ok(original));
        }
    }

    #[test]
    fn events_round_trip() {
        let events = vec![
            Event::Put(kv("/a", None)),
            Event::Delete {
                key: "/b".to_string(),
                mod_revision: 7,
            },
            Event::Put(kv("/c", Some(LeaseId(9)))),
        ];
        assert_eq!(decode_events(7, &encode_events(&events)), Ok(events));
    }

    #[test]
    fn damaged_bytes_are_errors_not_panics() {
        let good = encode_events(&[Event::Put(kv("/a", None))]);
        for cut in 0..good.len() {
            let _ = decode_events(3, &good[..cut]);
        }
        assert!(decode_events(3, &[9, 0, 0, 0, 0]).is_err());
        assert!(decode_record("/a", &[0; 31]).is_err());
    }
}
