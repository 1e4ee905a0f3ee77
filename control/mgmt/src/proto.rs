//! The protocol's messages: [`Request`] (what `dfctl` asks), [`Response`]
//! (the envelope of every answer) and [`Failure`] (a refused request).
//!
//! Why serde-tagged enums: a request is one JSON object whose `op` names the
//! operation (`{"op":"tables","vertex":"l2"}`), readable and writable by hand
//! with `socat` when debugging a host. Store requests nest a second tag,
//! `action`, in the same object (`{"op":"store","action":"get","key":...}`).
//! Failures carry a [`ErrorKind`] besides the message so a client can react
//! (retry a compare-and-swap on `conflict`, report `unavailable` as such)
//! without parsing text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One request to `dfswitchd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// The daemon: chassis, uptime, store URL, controller status
    /// ([`crate::views::StatusView`]).
    Status,
    /// Switch ports and their counters ([`crate::views::PortsView`]).
    Ports,
    /// Workers: cores, rx queues, busy/idle cycles ([`crate::views::WorkersView`]).
    Workers,
    /// The compiled datapath graph as text and JSON ([`crate::views::GraphView`]).
    Graph,
    /// The apps' tables, of one vertex or all ([`crate::views::TablesView`]).
    Tables {
        /// Only this vertex.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vertex: Option<String>,
    },
    /// Per-vertex and framework counters, drops by reason, port stats
    /// ([`crate::views::CountersView`]).
    Counters,
    /// Inject a synthetic frame at a switch port and return its trace
    /// ([`crate::views::TraceView`]).
    Trace {
        /// The switch port's name, as in `dfswitchd.toml`.
        port: String,
        /// The frame, hex encoded (Ethernet header first).
        frame_hex: String,
    },
    /// Trace the next `count` received packets ([`crate::views::TraceArmedView`]).
    TraceLive {
        /// How many packets.
        count: u32,
    },
    /// The trace records gathered so far ([`crate::views::TraceView`]).
    TraceRead,
    /// A request to the daemon's own NB store (see [`crate::handle_store`]).
    Store(StoreRequest),
}

impl Request {
    /// The `op` name, for messages.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Ports => "ports",
            Request::Workers => "workers",
            Request::Graph => "graph",
            Request::Tables { .. } => "tables",
            Request::Counters => "counters",
            Request::Trace { .. } => "trace",
            Request::TraceLive { .. } => "trace-live",
            Request::TraceRead => "trace-read",
            Request::Store(s) => s.op(),
        }
    }
}

/// A request to the daemon's NB store: `dfctl` uses these when it has no
/// `--db` of its own (the embedded store's file can only be opened by the
/// daemon that holds it). Results are described at [`crate::handle_store`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum StoreRequest {
    /// One key.
    Get {
        /// The full key, e.g. `/dragonflow/lswitch/net1`.
        key: String,
    },
    /// Every key under a prefix, at one revision.
    List {
        /// E.g. `/dragonflow/lport/`.
        prefix: String,
    },
    /// A conditional write.
    Put {
        /// The full key.
        key: String,
        /// The value: a JSON string is stored as its text, any other JSON
        /// value as its compact serialisation.
        value: Value,
        /// The condition; absent or `null` means unconditional.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect: Option<PutExpect>,
    },
    /// Delete a key (unconditionally).
    Delete {
        /// The full key.
        key: String,
    },
    /// Allocate the next unique key of a table (Dragonflow's CAS counter at
    /// `/dragonflow/unique_key/<table>`).
    AllocateUniqueKey {
        /// The table, e.g. `lport`.
        table: String,
    },
    /// The store's revision, backend and endpoint.
    Status,
}

impl StoreRequest {
    fn op(&self) -> &'static str {
        match self {
            StoreRequest::Get { .. } => "store get",
            StoreRequest::List { .. } => "store list",
            StoreRequest::Put { .. } => "store put",
            StoreRequest::Delete { .. } => "store delete",
            StoreRequest::AllocateUniqueKey { .. } => "store allocate-unique-key",
            StoreRequest::Status => "store status",
        }
    }
}

/// The condition of a [`StoreRequest::Put`]: on the wire, the string
/// `"absent"` or a mod revision number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutExpect {
    /// The key must not exist.
    Absent,
    /// The key's mod revision must be this one.
    ModRevision(i64),
}

impl Serialize for PutExpect {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PutExpect::Absent => s.serialize_str("absent"),
            PutExpect::ModRevision(r) => s.serialize_i64(*r),
        }
    }
}

impl<'de> Deserialize<'de> for PutExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Rev(i64),
            Text(String),
        }
        match Raw::deserialize(d) {
            Ok(Raw::Rev(r)) => Ok(PutExpect::ModRevision(r)),
            Ok(Raw::Text(t)) if t == "absent" => Ok(PutExpect::Absent),
            _ => Err(serde::de::Error::custom(
                "`expect` must be \"absent\" or a mod revision number",
            )),
        }
    }
}

/// What kind of failure a [`Failure`] is, so clients can react without
/// parsing the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The request could not be read or is malformed.
    BadRequest,
    /// The object named in the request does not exist.
    NotFound,
    /// A compare-and-swap condition did not hold: read again and retry.
    Conflict,
    /// The daemon's store (or another dependency) cannot be reached.
    Unavailable,
    /// This daemon does not implement the operation.
    Unsupported,
    /// Anything else.
    #[default]
    Failed,
}

/// A refused request: a message naming the object and the fix, and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// One line for the operator.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// The answer to an operation this daemon does not implement.
    pub fn unsupported(op: &str) -> Failure {
        Failure::new(
            ErrorKind::Unsupported,
            format!("this dfswitchd does not implement `{op}` yet; upgrade dfswitchd"),
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::new(ErrorKind::Failed, message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::new(ErrorKind::Failed, message)
    }
}

/// The envelope of every answer: `{"ok":true,"result":...}` or
/// `{"ok":false,"error":"...","kind":"..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request succeeded.
    pub ok: bool,
    /// The result (when `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The message (when not `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure's kind (when not `ok`; `failed` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
}

impl Response {
    /// A success.
    pub fn success(result: Value) -> Response {
        Response {
            ok: true,
            result: Some(result),
            error: None,
            kind: None,
        }
    }

    /// A failure.
    pub fn failure(f: Failure) -> Response {
        Response {
            ok: false,
            result: None,
            error: Some(f.message),
            kind: Some(f.kind),
        }
    }

    /// The result, or the failure.
    ///
    /// # Errors
    /// The [`Failure`] when `ok` is false.
    pub fn into_result(self) -> Result<Value, Failure> {
        if self.ok {
            Ok(self.result.unwrap_or(Value::Null))
        } else {
            Err(Failure::new(
                self.kind.unwrap_or_default(),
                self.error
                    .unwrap_or_else(|| "dfswitchd refused the request without a message".into()),
            ))
        }
    }
}

impl From<Result<Value, Failure>> for Response {
    fn from(r: Result<Value, Failure>) -> Response {
        match r {
            Ok(v) => Response::success(v),
            Err(f) => Response::failure(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(req: Request, text: Value) {
        assert_eq!(serde_json::to_value(&req).unwrap(), text);
        assert_eq!(serde_json::from_value::<Request>(text).unwrap(), req);
    }

    #[test]
    fn wire_forms() {
        round_trip(Request::Status, json!({"op": "status"}));
        round_trip(Request::Tables { vertex: None }, json!({"op": "tables"}));
        round_trip(
            Request::Tables {
                vertex: Some("l2".into()),
            },
            json!({"op": "tables", "vertex": "l2"}),
        );
        round_trip(
            Request::Trace {
                port: "vm1".into(),
                frame_hex: "ff".into(),
            },
            json!({"op": "trace", "port": "vm1", "frame_hex": "ff"}),
        );
        round_trip(
            Request::TraceLive { count: 3 },
            json!({"op": "trace-live", "count": 3}),
        );
        round_trip(Request::TraceRead, json!({"op": "trace-read"}));
        round_trip(
            Request::Store(StoreRequest::Get { key: "/k".into() }),
            json!({"op": "store", "action": "get", "key": "/k"}),
        );
        round_trip(
            Request::Store(StoreRequest::Put {
                key: "/k".into(),
                value: json!("v"),
                expect: Some(PutExpect::Absent),
            }),
            json!({"op": "store", "action": "put", "key": "/k", "value": "v", "expect": "absent"}),
        );
        round_trip(
            Request::Store(StoreRequest::Put {
                key: "/k".into(),
                value: json!({"a": 1}),
                expect: Some(PutExpect::ModRevision(7)),
            }),
            json!({"op": "store", "action": "put", "key": "/k", "value": {"a": 1}, "expect": 7}),
        );
        round_trip(
            Request::Store(StoreRequest::AllocateUniqueKey {
                table: "lport".into(),
            }),
            json!({"op": "store", "action": "allocate-unique-key", "table": "lport"}),
        );
        round_trip(
            Request::Store(StoreRequest::Status),
            json!({"op": "store", "action": "status"}),
        );
    }

    #[test]
    fn bad_expect_is_refused() {
        let e = serde_json::from_value::<Request>(
            json!({"op": "store", "action": "put", "key": "/k", "value": 1, "expect": "maybe"}),
        );
        assert!(e.is_err());
    }

    #[test]
    fn envelope() {
        let ok = Response::success(json!(1));
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"ok": true, "result": 1})
        );
        let err = Response::failure(Failure::new(ErrorKind::Conflict, "x"));
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"ok": false, "error": "x", "kind": "conflict"})
        );
        let bare: Response = serde_json::from_value(json!({"ok": false, "error": "y"})).unwrap();
        assert_eq!(bare.into_result().unwrap_err().kind, ErrorKind::Failed);
    }
}
