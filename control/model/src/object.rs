//! The type-erased [`Object`], the table list, and the JSON boundary:
//! [`decode`] and [`encode`].
//!
//! Why an enum rather than `Box<dyn Any>`: the set of tables is closed and
//! known, and the store, the controller and `dfctl` all need "any object"
//! values they can match on, compare and clone. One macro invocation lists
//! every table once, in dependency order; the enum, [`TABLES`],
//! [`table_info`] and the decoder are all generated from that list, so they
//! cannot drift apart.
//!
//! [`decode`] is the only way bytes from a store become model values: parse
//! the JSON, deserialise with field paths, check the id against the key, then
//! [`Model::validate`]. [`encode`] writes compact JSON and does not validate;
//! writers call `validate()` first.

use serde_json::Value;

use crate::bgp::{BgpPeer, BgpSpeaker};
use crate::chassis::Chassis;
use crate::de::{from_value, PathError};
use crate::error::ModelError;
use crate::firewall::{FirewallGroup, FirewallPolicy, FirewallRule};
use crate::misc::{ActivePort, Listener, Migration, Publisher, Service, SwitchPort};
use crate::model::{Model, Ref};
use crate::nat::FloatingIp;
use crate::network::{LogicalPort, LogicalSwitch, Subnet};
use crate::qos::QosPolicy;
use crate::router::LogicalRouter;
use crate::secgroup::SecurityGroup;
use crate::sfc::{FlowClassifier, PortChain, PortPair, PortPairGroup};
use crate::trunk::ChildPortSegmentation;

/// Converts between a model type and [`Object`]. Implemented for every
/// model by this module; a supertrait of [`Model`].
pub trait ObjectVariant: Sized {
    /// Wraps the value.
    fn into_object(self) -> Object;
    /// The value, if `object` is of this type.
    fn from_object(object: &Object) -> Option<&Self>;
    /// The value, mutably, if `object` is of this type.
    fn from_object_mut(object: &mut Object) -> Option<&mut Self>;
}

/// What a table is, for stores and the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableInfo {
    /// The table name.
    pub table: &'static str,
    /// The store allocates a `unique_key` on create.
    pub has_unique_key: bool,
    /// Kept in the NB store (false: local only).
    pub stored: bool,
    /// Tables this table's objects may reference.
    pub references_to: &'static [&'static str],
}

macro_rules! objects {
    ($($(#[$doc:meta])* $variant:ident($ty:ident)),+ $(,)?) => {
        /// Any NB object, tagged by table.
        // Variants are unboxed on purpose: objects live in maps and are
        // matched on far more often than moved, and `Object::LogicalPort(p)`
        // patterns stay plain. The largest (lport) is a few hundred bytes.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Object {
            $($(#[$doc])* $variant($ty)),+
        }

        /// Every table, in dependency order: a table comes after every table
        /// its objects reference. Load or apply in this order and references
        /// resolve (deletes go in reverse).
        pub const TABLES: &[&str] = &[$(<$ty as Model>::TABLE),+];

        const INFO: &[TableInfo] = &[$(TableInfo {
            table: <$ty as Model>::TABLE,
            has_unique_key: <$ty as Model>::HAS_UNIQUE_KEY,
            stored: <$ty as Model>::STORED,
            references_to: <$ty as Model>::REFERENCES_TO,
        }),+];

        impl Object {
            /// The table.
            pub fn table(&self) -> &'static str {
                match self { $(Object::$variant(_) => <$ty as Model>::TABLE),+ }
            }

            /// The object id.
            pub fn id(&self) -> &str {
                match self { $(Object::$variant(o) => o.id()),+ }
            }

            /// See [`Model::version`].
            pub fn version(&self) -> Option<u64> {
                match self { $(Object::$variant(o) => o.version()),+ }
            }

            /// See [`Model::unique_key`].
            pub fn unique_key(&self) -> Option<u32> {
                match self { $(Object::$variant(o) => o.unique_key()),+ }
            }

            /// See [`Model::set_unique_key`].
            pub fn set_unique_key(&mut self, key: u32) {
                match self { $(Object::$variant(o) => o.set_unique_key(key)),+ }
            }

            /// See [`Model::topic`].
            pub fn topic(&self) -> Option<&str> {
                match self { $(Object::$variant(o) => o.topic()),+ }
            }

            /// See [`Model::references`].
            pub fn references(&self) -> Vec<Ref> {
                match self { $(Object::$variant(o) => o.references()),+ }
            }

            /// See [`Model::validate`].
            ///
            /// # Errors
            /// The first problem found.
            pub fn validate(&self) -> Result<(), ModelError> {
                match self { $(Object::$variant(o) => o.validate()),+ }
            }

            fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
                match self { $(Object::$variant(o) => serde_json::to_vec(o)),+ }
            }
        }

        $(
            impl ObjectVariant for $ty {
                fn into_object(self) -> Object {
                    Object::$variant(self)
                }
                fn from_object(object: &Object) -> Option<&Self> {
                    match object {
                        Object::$variant(o) => Some(o),
                        _ => None,
                    }
                }
                fn from_object_mut(object: &mut Object) -> Option<&mut Self> {
                    match object {
                        Object::$variant(o) => Some(o),
                        _ => None,
                    }
                }
            }

            impl From<$ty> for Object {
                fn from(o: $ty) -> Object {
                    Object::$variant(o)
                }
            }
        )+

        fn deserialize_as(table: &str, value: &Value) -> Result<Object, PathError> {
            $(if table == <$ty as Model>::TABLE {
                return from_value::<$ty>(value).map(Object::$variant);
            })+
            Err(serde::de::Error::custom(format!("unknown table `{table}`")))
        }
    };
}

objects! {
    /// `chassis`.
    Chassis(Chassis),
    /// `publisher`.
    Publisher(Publisher),
    /// `listener`.
    Listener(Listener),
    /// `service`.
    Service(Service),
    /// `qospolicy`.
    QosPolicy(QosPolicy),
    /// `lswitch`.
    LogicalSwitch(LogicalSwitch),
    /// `lsubnet`.
    Subnet(Subnet),
    /// `secgroup`.
    SecurityGroup(SecurityGroup),
    /// `lport`.
    LogicalPort(LogicalPort),
    /// `lrouter`.
    LogicalRouter(LogicalRouter),
    /// `floatingip`.
    FloatingIp(FloatingIp),
    /// `activeport`.
    ActivePort(ActivePort),
    /// `migration`.
    Migration(Migration),
    /// `child_port_segmentation`.
    ChildPortSegmentation(ChildPortSegmentation),
    /// `switch_port` (local only).
    SwitchPort(SwitchPort),
    /// `sfc_portpair`.
    PortPair(PortPair),
    /// `sfc_portpairgroup`.
    PortPairGroup(PortPairGroup),
    /// `sfc_flowclassifier`.
    FlowClassifier(FlowClassifier),
    /// `sfc_portchain`.
    PortChain(PortChain),
    /// `bgp_peer`.
    BgpPeer(BgpPeer),
    /// `bgp_speaker`.
    BgpSpeaker(BgpSpeaker),
    /// `firewall_rule`.
    FirewallRule(FirewallRule),
    /// `firewall_policy`.
    FirewallPolicy(FirewallPolicy),
    /// `firewall_group`.
    FirewallGroup(FirewallGroup),
}

impl Object {
    /// The model value, if this object is a `T`.
    pub fn get<T: Model>(&self) -> Option<&T> {
        T::from_object(self)
    }

    /// The model value, mutably, if this object is a `T`.
    pub fn get_mut<T: Model>(&mut self) -> Option<&mut T> {
        T::from_object_mut(self)
    }

    /// [`Object::validate`], and for tables with a unique key, that it has
    /// been allocated: what an object read back from the store must satisfy
    /// before the controller compiles it. ([`decode`] does not require the
    /// key, so it can also read objects that are about to be created.)
    ///
    /// # Errors
    /// The first problem found; a missing key is reported on `unique_key`.
    pub fn validate_stored(&self) -> Result<(), ModelError> {
        self.validate()?;
        let needs_key = table_info(self.table()).is_some_and(|i| i.has_unique_key);
        if needs_key && self.unique_key().is_none() {
            return Err(ModelError::Invalid {
                table: self.table(),
                id: self.id().to_owned(),
                field: Some("unique_key".to_owned()),
                reason: "missing; the store allocates it when the object is created".to_owned(),
            });
        }
        Ok(())
    }

    /// The object's store key, `/dragonflow/<table>/<id>`.
    pub fn key(&self) -> String {
        crate::keys::key(self.table(), self.id())
    }
}

/// What kind of table `table` is; `None` for an unknown name.
pub fn table_info(table: &str) -> Option<TableInfo> {
    INFO.iter().find(|i| i.table == table).copied()
}

/// The `'static` spelling of a known table name.
pub fn known_table(table: &str) -> Option<&'static str> {
    TABLES.iter().copied().find(|t| *t == table)
}

/// Reads an object stored under `/dragonflow/<table>/<id_from_key>`: parses
/// the JSON, checks the object's `id` equals `id_from_key`, and validates.
///
/// # Errors
/// [`ModelError::UnknownTable`], [`ModelError::Syntax`] (with line and
/// column), [`ModelError::Invalid`] (unknown or missing field, bad value,
/// failed validation; with the field path), [`ModelError::IdMismatch`].
pub fn decode(table: &str, id_from_key: &str, json: &[u8]) -> Result<Object, ModelError> {
    let table = known_table(table).ok_or_else(|| ModelError::UnknownTable {
        table: table.to_owned(),
    })?;
    let (value, id) = parse(table, id_from_key, json)?;
    let object = deserialize_as(table, &value).map_err(|e| invalid(table, &id, e))?;
    finish(table, id_from_key, object)
}

/// [`decode`] for a statically known model type.
///
/// # Errors
/// As [`decode`], except that the table cannot be unknown.
pub fn decode_model<T: Model>(id_from_key: &str, json: &[u8]) -> Result<T, ModelError> {
    let (value, id) = parse(T::TABLE, id_from_key, json)?;
    let model: T = from_value(&value).map_err(|e| invalid(T::TABLE, &id, e))?;
    if model.id() != id_from_key {
        return Err(id_mismatch(T::TABLE, id_from_key, model.id()));
    }
    model.validate()?;
    Ok(model)
}

/// Compact JSON for `object`, the form stored in the NB database. Does not
/// validate.
pub fn encode(object: &Object) -> Vec<u8> {
    // Cannot fail: every model serialises to a JSON object with string keys
    // and no fallible custom serialiser (DHCP option tags become strings).
    #[allow(clippy::expect_used)]
    object
        .to_json()
        .expect("model objects always serialise to JSON")
}

/// [`encode`] for a model value.
pub fn encode_model<T: Model>(model: &T) -> Vec<u8> {
    // Cannot fail, as for `encode`.
    #[allow(clippy::expect_used)]
    serde_json::to_vec(model).expect("model objects always serialise to JSON")
}

fn parse(
    table: &'static str,
    id_from_key: &str,
    json: &[u8],
) -> Result<(Value, String), ModelError> {
    let value: Value = serde_json::from_slice(json).map_err(|e| {
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let text = e.to_string();
        ModelError::Syntax {
            table,
            id: id_from_key.to_owned(),
            line: e.line(),
            column: e.column(),
            reason: text.strip_suffix(&suffix).unwrap_or(&text).to_owned(),
        }
    })?;
    let id = match value.get("id") {
        Some(Value::String(s)) => s.clone(),
        _ => id_from_key.to_owned(),
    };
    let found = match &value {
        Value::Object(_) => return Ok((value, id)),
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
    };
    Err(ModelError::Invalid {
        table,
        id,
        field: None,
        reason: format!("expected a JSON object, found {found}"),
    })
}

fn invalid(table: &'static str, id: &str, e: PathError) -> ModelError {
    ModelError::Invalid {
        table,
        id: id.to_owned(),
        field: e.field(),
        reason: e.message,
    }
}

fn id_mismatch(table: &'static str, key_id: &str, object_id: &str) -> ModelError {
    ModelError::IdMismatch {
        table,
        key_id: key_id.to_owned(),
        object_id: object_id.to_owned(),
    }
}

fn finish(table: &'static str, id_from_key: &str, object: Object) -> Result<Object, ModelError> {
    if object.id() != id_from_key {
        return Err(id_mismatch(table, id_from_key, object.id()));
    }
    object.validate()?;
    Ok(object)
}
