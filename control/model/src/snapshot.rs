//! [`Snapshot`]: a set of NB objects indexed by (table, id), with reference
//! checks, for the controller's cache and the compiler's input.
//!
//! Why here: reference resolution is a property of the model (which fields
//! point where), not of any store. The controller keeps an object *parked*
//! until everything it references is present, so the compiler only ever sees
//! complete graphs. The intended protocol:
//!
//! 1. an object arrives: `missing_refs(&obj)`; empty -> `insert`, else park it
//!    under each missing (table, id);
//! 2. after each insert, retry the objects parked under that (table, id)
//!    (inserting one may release others: repeat until nothing moves);
//! 3. a delete: `remove`; `referrers` tells what now dangles (Neutron deletes
//!    referrers first, so normally nothing), `dangling()` audits the whole set.
//!
//! Lookups by id do not allocate. Scans (`dangling`, `referrers`) are linear
//! in the snapshot size; callers needing them per event should index.

use std::collections::BTreeMap;

use crate::model::{Model, Ref};
use crate::object::{Object, TABLES};

/// Objects by table, then id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    tables: BTreeMap<&'static str, BTreeMap<String, Object>>,
}

/// A reference whose target is absent from a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dangling {
    /// The referring object's table.
    pub owner_table: &'static str,
    /// The referring object's id.
    pub owner_id: String,
    /// The reference (target table and id, referring field).
    pub reference: Ref,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an object; returns the one it replaced.
    pub fn insert(&mut self, object: Object) -> Option<Object> {
        self.tables
            .entry(object.table())
            .or_default()
            .insert(object.id().to_owned(), object)
    }

    /// Adds or replaces a model value; returns the object it replaced.
    pub fn insert_model<T: Model>(&mut self, model: T) -> Option<Object> {
        self.insert(model.into_object())
    }

    /// Removes an object; returns it.
    pub fn remove(&mut self, table: &str, id: &str) -> Option<Object> {
        let objects = self.tables.get_mut(table)?;
        let removed = objects.remove(id);
        if objects.is_empty() {
            self.tables.remove(table);
        }
        removed
    }

    /// The `T` with this id.
    pub fn get<T: Model>(&self, id: &str) -> Option<&T> {
        self.get_object(T::TABLE, id).and_then(T::from_object)
    }

    /// The object of `table` with this id.
    pub fn get_object(&self, table: &str, id: &str) -> Option<&Object> {
        self.tables.get(table)?.get(id)
    }

    /// An object of `table` with this id is present.
    pub fn contains(&self, table: &str, id: &str) -> bool {
        self.get_object(table, id).is_some()
    }

    /// Every `T`, by id.
    pub fn iter<T: Model>(&self) -> impl Iterator<Item = &T> + '_ {
        self.tables
            .get(T::TABLE)
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(T::from_object)
    }

    /// Every object, tables in dependency order ([`TABLES`]), ids sorted.
    pub fn objects(&self) -> impl Iterator<Item = &Object> + '_ {
        TABLES
            .iter()
            .filter_map(|t| self.tables.get(t))
            .flat_map(|m| m.values())
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.tables.values().map(BTreeMap::len).sum()
    }

    /// No objects.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The references of `object` whose targets are not in this snapshot
    /// (`object` itself need not be in it). Empty = it can be admitted.
    pub fn missing_refs(&self, object: &Object) -> Vec<Ref> {
        object
            .references()
            .into_iter()
            .filter(|r| !self.contains(r.table, &r.id))
            .collect()
    }

    /// Every reference in the snapshot whose target is absent.
    pub fn dangling(&self) -> Vec<Dangling> {
        self.objects()
            .flat_map(|o| {
                self.missing_refs(o)
                    .into_iter()
                    .map(move |reference| Dangling {
                        owner_table: o.table(),
                        owner_id: o.id().to_owned(),
                        reference,
                    })
            })
            .collect()
    }

    /// The objects referring to `table`/`id`, each with the referring field.
    pub fn referrers(&self, table: &str, id: &str) -> Vec<(&Object, Ref)> {
        self.objects()
            .flat_map(|o| {
                o.references()
                    .into_iter()
                    .filter(|r| r.table == table && r.id == id)
                    .map(move |r| (o, r))
            })
            .collect()
    }
}

impl FromIterator<Object> for Snapshot {
    fn from_iter<I: IntoIterator<Item = Object>>(iter: I) -> Self {
        let mut s = Snapshot::new();
        for o in iter {
            s.insert(o);
        }
        s
    }
}

impl Extend<Object> for Snapshot {
    fn extend<I: IntoIterator<Item = Object>>(&mut self, iter: I) {
        for o in iter {
            self.insert(o);
        }
    }
}
