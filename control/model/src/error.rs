//! The one error type of the crate, [`ModelError`].
//!
//! Why one enum shaped like this: a model error is read by an operator looking
//! at a rejected object (a log line, `dfctl`, a parked object in the
//! controller), so every variant carries the table and the object id, and a
//! field problem carries the field path (`macs[0]`, `binding.chassis`,
//! `rules[2].remote_ip_prefix`) and a reason that says what was expected. The
//! display form is one line:
//!
//! ```text
//! lport `p1`: field `macs[0]`: `zz` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)
//! ```
//!
//! The crate-internal [`Ctx`] builds these errors inside `validate()`.

use thiserror::Error;

/// Why an object was rejected: by [`crate::decode`] or by
/// [`crate::Model::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The bytes are not JSON. `reason` is serde_json's, without its position.
    #[error("{table} `{id}`: malformed JSON at line {line} column {column}: {reason}")]
    Syntax {
        /// The table the bytes were read for.
        table: &'static str,
        /// The id taken from the key (the JSON could not be read).
        id: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What serde_json found.
        reason: String,
    },
    /// A value is of the wrong shape, out of range or inconsistent.
    /// `field` is `None` for problems of the object as a whole (an unknown or
    /// missing top-level field, two fields that contradict each other).
    #[error("{table} `{id}`: {}{reason}", field_prefix(.field))]
    Invalid {
        /// The object's table.
        table: &'static str,
        /// The object's id (from its JSON when it has one, else from its key).
        id: String,
        /// The path of the offending field, e.g. `ports[0].network`.
        field: Option<String>,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// The object stored under `/dragonflow/<table>/<key_id>` says its id is
    /// something else.
    #[error("{table} key says id `{key_id}` but the object's id is `{object_id}`")]
    IdMismatch {
        /// The object's table.
        table: &'static str,
        /// The id in the key.
        key_id: String,
        /// The id in the JSON.
        object_id: String,
    },
    /// The table name is not one of [`crate::TABLES`].
    #[error("unknown table `{table}` (known tables: {})", crate::TABLES.join(", "))]
    UnknownTable {
        /// The name that was given.
        table: String,
    },
}

fn field_prefix(field: &Option<String>) -> String {
    match field {
        Some(f) => format!("field `{f}`: "),
        None => String::new(),
    }
}

impl ModelError {
    /// The table the error is about, when it is a known one.
    pub fn table(&self) -> Option<&'static str> {
        match self {
            ModelError::Syntax { table, .. }
            | ModelError::Invalid { table, .. }
            | ModelError::IdMismatch { table, .. } => Some(table),
            ModelError::UnknownTable { .. } => None,
        }
    }

    /// The id of the object the error is about.
    pub fn id(&self) -> Option<&str> {
        match self {
            ModelError::Syntax { id, .. } | ModelError::Invalid { id, .. } => Some(id),
            ModelError::IdMismatch { key_id, .. } => Some(key_id),
            ModelError::UnknownTable { .. } => None,
        }
    }

    /// The path of the offending field, when the error is about one field.
    pub fn field(&self) -> Option<&str> {
        match self {
            ModelError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

/// Error context while validating one object: its table and id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) table: &'static str,
    pub(crate) id: &'a str,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(table: &'static str, id: &'a str) -> Self {
        Ctx { table, id }
    }

    /// An error about one field.
    pub(crate) fn field(&self, field: impl Into<String>, reason: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            table: self.table,
            id: self.id.to_owned(),
            field: Some(field.into()),
            reason: reason.into(),
        }
    }

    /// An error about the object as a whole.
    pub(crate) fn object(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            table: self.table,
            id: self.id.to_owned(),
            field: None,
            reason: reason.into(),
        }
    }
}
