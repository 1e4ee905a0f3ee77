//! The [`Model`] trait every stored table implements, and [`Ref`], one
//! reference from an object to another.
//!
//! Why a trait with associated consts: the store, the controller's cache and
//! the compiler handle all 24 tables alike (key, version, unique key, topic,
//! references, validation) and should not need a `match` per table for that;
//! the type-erased [`crate::Object`] dispatches to these methods. Capabilities
//! a table lacks (no version, no unique key, no topic, no references) take the
//! trait's defaults, so each model states only what it has.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ModelError;
use crate::object::ObjectVariant;

/// One NB table's object type.
pub trait Model:
    Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static + ObjectVariant
{
    /// The table name, the `<table>` of `/dragonflow/<table>/<id>`.
    const TABLE: &'static str;
    /// The store allocates a `unique_key` on create (lswitch, lport, lrouter,
    /// secgroup, sfc_flowclassifier, firewall_group).
    const HAS_UNIQUE_KEY: bool;
    /// Kept in the NB store; `false` for local-only tables (switch_port).
    const STORED: bool = true;
    /// Every table [`Model::references`] can point into.
    const REFERENCES_TO: &'static [&'static str];

    /// The object id (the `<id>` of its key).
    fn id(&self) -> &str;

    /// The version, for versioned tables (Neutron's `revision_number`).
    fn version(&self) -> Option<u64> {
        None
    }

    /// The allocated unique key; `None` before allocation or for tables
    /// without one.
    fn unique_key(&self) -> Option<u32> {
        None
    }

    /// Sets the unique key; a no-op for tables without one.
    fn set_unique_key(&mut self, _key: u32) {}

    /// The pub/sub topic (the Neutron project id) for topic tables.
    fn topic(&self) -> Option<&str> {
        None
    }

    /// Every reference this object makes, by id, with the field path.
    fn references(&self) -> Vec<Ref> {
        Vec::new()
    }

    /// Checks everything checkable on the object alone.
    ///
    /// # Errors
    /// The first problem found, naming the field and what was expected.
    fn validate(&self) -> Result<(), ModelError>;
}

/// A reference from one object to another: the target's table and id, and
/// the referring field's path (`lswitch`, `security_groups[1]`,
/// `binding.chassis`, `ports[0].lswitch`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    /// Target table.
    pub table: &'static str,
    /// Target id.
    pub id: String,
    /// Path of the field holding the reference in the referring object.
    pub field: String,
}

impl Ref {
    /// A reference from field `field` to `table`/`id`.
    pub fn new(table: &'static str, id: impl Into<String>, field: impl Into<String>) -> Self {
        Ref {
            table,
            id: id.into(),
            field: field.into(),
        }
    }
}

/// Collects references field by field.
#[derive(Debug, Default)]
pub(crate) struct Refs(Vec<Ref>);

impl Refs {
    pub(crate) fn one(mut self, field: &str, table: &'static str, id: &str) -> Self {
        self.0.push(Ref::new(table, id, field));
        self
    }

    pub(crate) fn opt(self, field: &str, table: &'static str, id: &Option<String>) -> Self {
        match id {
            Some(id) => self.one(field, table, id),
            None => self,
        }
    }

    pub(crate) fn list(mut self, field: &str, table: &'static str, ids: &[String]) -> Self {
        for (i, id) in ids.iter().enumerate() {
            self.0.push(Ref::new(table, id, format!("{field}[{i}]")));
        }
        self
    }

    pub(crate) fn done(self) -> Vec<Ref> {
        self.0
    }
}

/// The [`Model`] accessors most tables implement the same way, by field
/// name: `id` (`&self.id`), `version` (`self.version`), `unique_key` (with
/// `set_unique_key`), `topic` (a `String` field) or `topic_opt` (an
/// `Option<String>` field). Used inside `impl Model for ...`.
macro_rules! accessors {
    ($($f:ident),+ $(,)?) => { $(accessors!(@ $f);)+ };
    (@ id) => {
        fn id(&self) -> &str {
            &self.id
        }
    };
    (@ version) => {
        fn version(&self) -> Option<u64> {
            self.version
        }
    };
    (@ unique_key) => {
        fn unique_key(&self) -> Option<u32> {
            self.unique_key
        }
        fn set_unique_key(&mut self, key: u32) {
            self.unique_key = Some(key);
        }
    };
    (@ topic) => {
        fn topic(&self) -> Option<&str> {
            Some(&self.topic)
        }
    };
    (@ topic_opt) => {
        fn topic(&self) -> Option<&str> {
            self.topic.as_deref()
        }
    };
}
pub(crate) use accessors;
