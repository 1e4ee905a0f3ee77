//! Deserialising a parsed `serde_json::Value` while tracking the field path.
//!
//! Why this exists: serde's derived code reports *what* is wrong ("`zz` is not
//! a MAC address") but not *where*, and serde_json's position (line 1, column
//! 212) is useless for one-line JSON written by a program. An operator needs
//! `macs[0]`. [`from_value`] walks the value tree itself, hands each leaf to the
//! derived `Deserialize` code, and stamps the path of the innermost value onto
//! the first error that comes back. It handles exactly the shapes JSON has
//! (null, bool, number, string, array, object); a struct must be an object
//! (derived code would also take an array, which no Dragonflow writer emits).

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// An error with the path of the value it came from (`None` = the root).
#[derive(Debug)]
pub(crate) struct PathError {
    pub(crate) path: Option<String>,
    pub(crate) message: String,
}

impl PathError {
    /// Sets the path unless a deeper value already set it.
    fn at(mut self, path: &str) -> Self {
        if self.path.is_none() && !path.is_empty() {
            self.path = Some(path.to_owned());
        }
        if self.path.is_none() {
            // Mark the root as visited so an outer frame cannot claim it.
            self.path = Some(String::new());
        }
        self
    }

    /// The field path, `None` when the problem is with the root object.
    pub(crate) fn field(&self) -> Option<String> {
        self.path.clone().filter(|p| !p.is_empty())
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PathError {}

impl de::Error for PathError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        PathError {
            path: None,
            message: msg.to_string(),
        }
    }
}

/// Deserialises `T` from `value`, reporting the path of the first bad field.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, PathError> {
    T::deserialize(ValueDe {
        value,
        path: String::new(),
    })
}

fn child_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn child_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => de::Unexpected::Unsigned(u),
            (_, Some(i), _) => de::Unexpected::Signed(i),
            (_, _, Some(f)) => de::Unexpected::Float(f),
            _ => de::Unexpected::Other("number"),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

/// serde's `IpAddr` error does not quote the input; this one does.
fn improve(e: PathError, value: &Value) -> PathError {
    match value {
        Value::String(s) if e.path.is_none() && e.message == "invalid IP address syntax" => {
            PathError {
                path: None,
                message: format!("`{s}` is not an IP address (expected e.g. 10.0.0.5 or fd00::5)"),
            }
        }
        _ => e,
    }
}

struct ValueDe<'a> {
    value: &'a Value,
    path: String,
}

impl<'de> de::Deserializer<'de> for ValueDe<'_> {
    type Error = PathError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        let ValueDe { value, path } = self;
        let result = match value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    match n.as_f64() {
                        Some(f) => visitor.visit_f64(f),
                        None => Err(de::Error::custom("number out of range")),
                    }
                }
            }
            Value::String(s) => visitor.visit_str(s).map_err(|e| improve(e, value)),
            Value::Array(items) => visit_array(items, &path, visitor),
            Value::Object(map) => visit_object(map, &path, visitor),
        };
        result.map_err(|e| e.at(&path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.value {
            Value::Null => visitor
                .visit_none()
                .map_err(|e: PathError| e.at(&self.path)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        match self.value {
            Value::Object(map) => {
                visit_object(map, &self.path, visitor).map_err(|e| e.at(&self.path))
            }
            other => Err(de::Error::invalid_type(unexpected(other), &visitor))
                .map_err(|e: PathError| e.at(&self.path)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        let result = match self.value {
            Value::String(s) => {
                visitor.visit_enum(IntoDeserializer::<PathError>::into_deserializer(s.as_str()))
            }
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        };
        result.map_err(|e| e.at(&self.path))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

fn visit_array<'de, V: Visitor<'de>>(
    items: &[Value],
    path: &str,
    visitor: V,
) -> Result<V::Value, PathError> {
    let mut seq = SeqDe {
        items: items.iter().enumerate(),
        path,
    };
    let value = visitor.visit_seq(&mut seq)?;
    match seq.items.len() {
        0 => Ok(value),
        _ => Err(de::Error::invalid_length(
            items.len(),
            &"fewer elements in array",
        )),
    }
}

fn visit_object<'de, V: Visitor<'de>>(
    map: &Map<String, Value>,
    path: &str,
    visitor: V,
) -> Result<V::Value, PathError> {
    visitor.visit_map(MapDe {
        entries: map.iter(),
        pending: None,
        path,
    })
}

struct SeqDe<'a, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: &'p str,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_, '_> {
    type Error = PathError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, PathError> {
        match self.items.next() {
            Some((i, value)) => {
                let path = child_index(self.path, i);
                // Attached here too: a type's own `deserialize` may reject a
                // value after the inner deserializer returned (PortRange).
                seed.deserialize(ValueDe {
                    value,
                    path: path.clone(),
                })
                .map(Some)
                .map_err(|e| e.at(&path))
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a, 'p> {
    entries: serde_json::map::Iter<'a>,
    pending: Option<(&'a String, &'a Value)>,
    path: &'p str,
}

impl<'de> de::MapAccess<'de> for MapDe<'_, '_> {
    type Error = PathError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, PathError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some((key, value));
                seed.deserialize(KeyDe { key }).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, PathError> {
        match self.pending.take() {
            Some((key, value)) => {
                let path = child_key(self.path, key);
                seed.deserialize(ValueDe {
                    value,
                    path: path.clone(),
                })
                .map_err(|e| e.at(&path))
            }
            None => Err(de::Error::custom("value requested before key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A map key: a string, which integer-keyed maps (DHCP options) parse.
struct KeyDe<'a> {
    key: &'a str,
}

impl KeyDe<'_> {
    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        if let Ok(u) = self.key.parse::<u64>() {
            visitor.visit_u64(u)
        } else if let Ok(i) = self.key.parse::<i64>() {
            visitor.visit_i64(i)
        } else {
            Err(de::Error::invalid_value(
                de::Unexpected::Str(self.key),
                &visitor,
            ))
        }
    }
}

impl<'de> de::Deserializer<'de> for KeyDe<'_> {
    type Error = PathError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_str(self.key)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.integer(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.integer(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.integer(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.integer(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        n: u8,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        list: Vec<Inner>,
        #[serde(default)]
        opt: Option<Inner>,
        #[serde(default)]
        map: BTreeMap<u8, String>,
    }

    fn err(json: &str) -> PathError {
        let v: Value = serde_json::from_str(json).unwrap();
        from_value::<Outer>(&v).unwrap_err()
    }

    #[test]
    fn paths_point_at_the_innermost_value() {
        let e = err(r#"{"list":[{"n":1},{"n":300}]}"#);
        assert_eq!(e.field().as_deref(), Some("list[1].n"));
        assert!(e.message.contains("300"), "{}", e.message);
        let e = err(r#"{"list":[],"opt":{"m":1}}"#);
        assert_eq!(e.field().as_deref(), Some("opt"));
        assert!(e.message.starts_with("unknown field `m`"), "{}", e.message);
    }

    #[test]
    fn root_problems_have_no_field() {
        let e = err(r#"{"lst":[]}"#);
        assert_eq!(e.field(), None);
        assert!(e
            .message
            .starts_with("unknown field `lst`, expected one of"));
        let e = err(r#"{}"#);
        assert_eq!(e.field(), None);
        assert_eq!(e.message, "missing field `list`");
    }

    #[test]
    fn structs_must_be_objects_and_map_keys_may_be_integers() {
        let e = err(r#"{"list":[[1]]}"#);
        assert_eq!(e.field().as_deref(), Some("list[0]"));
        let v: Value = serde_json::from_str(r#"{"list":[],"map":{"3":"x"}}"#).unwrap();
        let o: Outer = from_value(&v).unwrap();
        assert_eq!(o.map.get(&3).map(String::as_str), Some("x"));
        let e = err(r#"{"list":[],"map":{"x":"y"}}"#);
        assert_eq!(e.field().as_deref(), Some("map"));
    }
}
