//! The one error type of every store operation.
//!
//! Why one enum for both backends: the controller reacts to the *kind* of failure
//! (retry a CAS, re-list after a compaction, back off while the store is down), not to
//! which backend produced it. Every variant names the object (key, URL, file, lease,
//! endpoint) and, where there is one, the fix, because these messages end up in
//! `dfswitchd`'s log and in front of an operator.

use crate::Revision;

/// What went wrong in a store operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached (connection refused or lost, request timed out,
    /// no leader) or the embedded store was closed. Watches end with this error; the
    /// caller reconnects, re-lists and re-watches.
    #[error("NB store unavailable at {endpoint}: {reason} ({})", unavailable_hint(.endpoint))]
    Unavailable {
        /// `host:port[,host:port]` for etcd, the file path for the embedded store.
        endpoint: String,
        /// What the transport or the server said.
        reason: String,
    },

    /// The requested revision is older than the oldest one the store still keeps.
    #[error(
        "revision {requested} has been compacted (oldest revision kept: {compact_revision}); \
         re-list the prefix and watch again from the listed revision + 1"
    )]
    Compacted {
        /// The revision asked for.
        requested: Revision,
        /// The oldest revision from which a watch can still start.
        compact_revision: Revision,
    },

    /// The requested revision is newer than the store's current revision.
    #[error("revision {requested} is in the future (current revision: {current})")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The store's revision when asked.
        current: Revision,
    },

    /// A compare-and-swap condition ([`crate::Expect`]) did not hold.
    #[error(
        "conflict on key {key:?}: the expected revision does not hold (current mod revision: {}); \
         read the key again and retry",
        match .current { Some(r) => r.to_string(), None => "none (absent)".to_string() }
    )]
    Conflict {
        /// The key written or deleted.
        key: String,
        /// The key's mod revision when the condition was checked, `None` if absent.
        current: Option<Revision>,
    },

    /// A lease id that the store does not know (never granted, expired or revoked).
    #[error(
        "lease {lease:#x} not found (expired or revoked); grant a new lease and re-attach its keys"
    )]
    LeaseNotFound {
        /// The lease id.
        lease: i64,
    },

    /// A store URL that `open` does not understand.
    #[error(
        "bad NB store URL {url:?}: {reason}; accepted forms: \
         etcd://HOST:PORT[,HOST:PORT...] or file:///ABSOLUTE/PATH/nb.redb"
    )]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Which part is wrong.
        reason: String,
    },

    /// An argument the store rejects (empty key, non-positive TTL, ...).
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong and what is accepted.
        reason: String,
    },

    /// A value that does not have the shape this crate expects (e.g. a unique-key counter
    /// that is not a decimal integer).
    #[error("bad value at key {key:?}: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The embedded store's file is held by another process.
    #[error(
        "NB store file {path} is locked by another process (is another dfswitchd running?); \
         stop it or point this one at another file"
    )]
    Locked {
        /// The file.
        path: String,
    },

    /// The embedded store's file is damaged or is not an NB store file.
    #[error(
        "NB store file {path} is corrupt: {reason}; restore it from a backup or move it \
         away to start empty (then re-sync from Neutron)"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// What the storage engine or the decoder found.
        reason: String,
    },

    /// An I/O error on the embedded store's file (disk full, permissions, ...).
    #[error("I/O error on NB store file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's or storage engine's message.
        reason: String,
    },

    /// etcd answered with an error this crate does not classify further.
    #[error("etcd at {endpoint} rejected the request: {reason}")]
    Etcd {
        /// `host:port[,host:port]`.
        endpoint: String,
        /// The gRPC status or client error.
        reason: String,
    },
}

impl StoreError {
    /// True when retrying later (after reconnecting) can succeed: the caller should back off,
    /// then re-list and re-watch.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// True for a failed compare-and-swap.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// True when a watch must be restarted from a fresh list.
    pub fn is_compacted(&self) -> bool {
        matches!(self, StoreError::Compacted { .. })
    }
}

fn unavailable_hint(endpoint: &str) -> String {
    if endpoint.starts_with('/') {
        "the embedded store was closed: open it again".to_string()
    } else {
        format!(
            "is etcd running at {endpoint}? the controller retries, re-lists and re-watches \
             when it is back"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_object_and_the_fix() {
        let etcd = StoreError::Unavailable {
            endpoint: "127.0.0.1:2379".into(),
            reason: "connection refused".into(),
        };
        assert!(etcd
            .to_string()
            .contains("is etcd running at 127.0.0.1:2379?"));
        let file = StoreError::Unavailable {
            endpoint: "/var/lib/dragonflow/nb.redb".into(),
            reason: "closed".into(),
        };
        assert!(!file.to_string().contains("etcd"), "{file}");
        let conflict = StoreError::Conflict {
            key: "/dragonflow/lport/p1".into(),
            current: None,
        };
        assert!(conflict.to_string().contains("/dragonflow/lport/p1"));
        assert!(conflict.to_string().contains("absent"));
    }
}
