//! The controller's copy of the NB model: decoded, validated objects whose
//! references all resolve, plus what could not be used yet and why.
//!
//! An object whose references have not arrived is *parked* under each
//! missing (table, id) and released when that object is stored, so the
//! compiler never sees a half-connected graph. A record that does not decode
//! (malformed JSON, an unknown field, a bad value) is kept as an error naming
//! the key and the reason; if an earlier good version of that object is
//! cached, it stays in force (bad input never destroys good state).

use std::collections::{BTreeMap, BTreeSet};

use df_model::{decode, parse_key, Object, Ref, Snapshot, PREFIX, UNIQUE_KEY_DIR};

type Key = (&'static str, String);

/// What a put or delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Stored (and these parked objects were released with it).
    Stored { released: usize },
    /// Parked until the listed references arrive.
    Parked { missing: Vec<Ref> },
    /// An older version than the cached one: ignored.
    Stale,
    /// Identical to the cached object: nothing to do.
    Unchanged,
    /// Removed.
    Removed,
    /// Not an object key (unique-key counters, unknown prefixes): ignored.
    Ignored,
    /// Could not be decoded; the message names the key and the reason.
    Rejected(String),
}

impl Change {
    /// Whether the change can alter the compiled tables.
    pub fn affects_tables(&self) -> bool {
        matches!(self, Change::Stored { .. } | Change::Removed)
    }
}

/// The cache.
#[derive(Debug, Default)]
pub struct Cache {
    snap: Snapshot,
    parked: BTreeMap<Key, (Object, Vec<Ref>)>,
    waiting_on: BTreeMap<Key, BTreeSet<Key>>,
    errors: BTreeMap<String, String>,
}

impl Cache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The complete objects.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// Records that could not be decoded: key -> reason.
    pub fn errors(&self) -> &BTreeMap<String, String> {
        &self.errors
    }

    /// Parked objects: `table/id` -> the references they wait for.
    pub fn parked(&self) -> Vec<(String, Vec<Ref>)> {
        self.parked
            .iter()
            .map(|((t, id), (_, refs))| (format!("{t}/{id}"), refs.clone()))
            .collect()
    }

    /// Applies a stored record.
    pub fn put(&mut self, key: &str, value: &[u8]) -> Change {
        let Some((table, id)) = parse_key(key) else {
            return self.not_an_object(key);
        };
        let obj = match decode(table, id, value) {
            Ok(o) => o,
            Err(e) => {
                let msg = format!("{key}: {e}");
                self.errors.insert(key.to_string(), msg.clone());
                return Change::Rejected(msg);
            }
        };
        self.errors.remove(key);
        let k: Key = (table, id.to_string());
        if let Some(old) = self.snap.get_object(table, id) {
            if old == &obj {
                return Change::Unchanged;
            }
            if let (Some(a), Some(b)) = (old.version(), obj.version()) {
                if b < a {
                    return Change::Stale;
                }
            }
        }
        self.unpark(&k);
        let missing = self.snap.missing_refs(&obj);
        if !missing.is_empty() {
            for r in &missing {
                if let Some(t) = df_model::known_table(r.table) {
                    self.waiting_on
                        .entry((t, r.id.clone()))
                        .or_default()
                        .insert(k.clone());
                }
            }
            self.snap.remove(table, id);
            self.parked.insert(k, (obj, missing.clone()));
            return Change::Parked { missing };
        }
        self.snap.insert(obj);
        Change::Stored {
            released: self.release(k),
        }
    }

    /// Applies a deleted record.
    pub fn delete(&mut self, key: &str) -> Change {
        self.errors.remove(key);
        let Some((table, id)) = parse_key(key) else {
            return Change::Ignored;
        };
        let k: Key = (table, id.to_string());
        let was_parked = self.unpark(&k);
        if self.snap.remove(table, id).is_some() || was_parked {
            Change::Removed
        } else {
            Change::Ignored
        }
    }

    /// Replaces the whole cache with `records` (a full re-list at one
    /// revision). Returns the `table/id` of objects that vanished.
    pub fn reset<'a>(
        &mut self,
        records: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Vec<String> {
        let old: BTreeSet<String> = self
            .snap
            .objects()
            .map(|o| format!("{}/{}", o.table(), o.id()))
            .chain(self.parked.keys().map(|(t, id)| format!("{t}/{id}")))
            .collect();
        *self = Cache::new();
        for (k, v) in records {
            self.put(k, v);
        }
        let now: BTreeSet<String> = self
            .snap
            .objects()
            .map(|o| format!("{}/{}", o.table(), o.id()))
            .chain(self.parked.keys().map(|(t, id)| format!("{t}/{id}")))
            .collect();
        old.difference(&now).cloned().collect()
    }

    fn not_an_object(&mut self, key: &str) -> Change {
        let counter = format!("{PREFIX}{UNIQUE_KEY_DIR}");
        if key.starts_with(&counter) || !key.starts_with(PREFIX) {
            return Change::Ignored;
        }
        let msg = format!(
            "{key}: not a key of a known table (expected {PREFIX}<table>/<id> with a table of `dfctl db tables`)"
        );
        self.errors.insert(key.to_string(), msg.clone());
        Change::Rejected(msg)
    }

    /// Forgets a parked object (it was replaced or deleted).
    fn unpark(&mut self, k: &Key) -> bool {
        let Some((_, refs)) = self.parked.remove(k) else {
            return false;
        };
        for r in refs {
            if let Some(t) = df_model::known_table(r.table) {
                let wk = (t, r.id);
                if let Some(set) = self.waiting_on.get_mut(&wk) {
                    set.remove(k);
                    if set.is_empty() {
                        self.waiting_on.remove(&wk);
                    }
                }
            }
        }
        true
    }

    /// Stores parked objects that waited for `k`, transitively; returns how many.
    fn release(&mut self, k: Key) -> usize {
        let mut released = 0;
        let mut work = vec![k];
        while let Some(arrived) = work.pop() {
            let Some(waiters) = self.waiting_on.remove(&arrived) else {
                continue;
            };
            for w in waiters {
                let Some((obj, _)) = self.parked.get(&w) else {
                    continue;
                };
                if self.snap.missing_refs(obj).is_empty() {
                    if let Some((obj, _)) = self.parked.remove(&w) {
                        self.snap.insert(obj);
                        released += 1;
                        work.push(w);
                    }
                }
            }
        }
        released
    }
}
