//! The layout file: the seed's YAML format, parsed into typed values once.
//!
//! ```yaml
//! vertices:
//!   l2: {type: l2}
//!   output: {type: output, params: {}}
//! edges:
//!   l2.out.unicast: output.in.default
//! ```
//! Both maps are read as ordered lists of pairs, so a vertex declared twice or
//! an exit wired twice reaches the compiler, which reports it by name instead
//! of the YAML layer keeping one silently.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::error::GraphError;

/// A parsed layout, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The vertices.
    pub vertices: Vec<VertexDecl>,
    /// The edges.
    pub edges: Vec<EdgeDecl>,
}

/// One vertex of the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct VertexDecl {
    /// Instance name.
    pub name: String,
    /// App type (`type:`).
    pub app_type: String,
    /// `params:` (null when absent).
    pub params: serde_yaml::Value,
}

/// One edge, as written: `from` (`<vertex>.out.<exit>`) to `to` (`<vertex>.in.<entry>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeDecl {
    /// The exit side.
    pub from: String,
    /// The entry side.
    pub to: String,
}

impl fmt::Display for EdgeDecl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.from, self.to)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayout {
    vertices: Pairs<RawVertex>,
    #[serde(default)]
    edges: Pairs<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVertex {
    #[serde(rename = "type")]
    app_type: String,
    #[serde(default)]
    params: serde_yaml::Value,
}

/// A YAML map read as pairs, keeping order and duplicates.
struct Pairs<V>(Vec<(String, V)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, V>()? {
                    v.push((k, val));
                }
                Ok(Pairs(v))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}

impl Layout {
    /// Parses a layout from YAML text.
    ///
    /// # Errors
    /// [`GraphError::Syntax`] with the YAML error and its line and column.
    pub fn parse(text: &str) -> Result<Layout, GraphError> {
        let raw: RawLayout = serde_yaml::from_str(text).map_err(|e| {
            GraphError::Syntax(format!(
                "{e} (expected `vertices:` mapping names to {{type: <app type>, params: ...}} and `edges:` mapping `<vertex>.out.<exit>` to `<vertex>.in.<entry>`)"
            ))
        })?;
        Ok(Layout {
            vertices: raw
                .vertices
                .0
                .into_iter()
                .map(|(name, v)| VertexDecl {
                    name,
                    app_type: v.app_type,
                    params: v.params,
                })
                .collect(),
            edges: raw
                .edges
                .0
                .into_iter()
                .map(|(from, to)| EdgeDecl { from, to })
                .collect(),
        })
    }

    /// Reads and parses a layout file.
    ///
    /// # Errors
    /// The file cannot be read (naming the path), or [`Layout::parse`] fails.
    pub fn load(path: &std::path::Path) -> Result<Layout, GraphError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| GraphError::Syntax(format!("cannot read {}: {e}", path.display())))?;
        Layout::parse(&text).map_err(|e| match e {
            GraphError::Syntax(m) => GraphError::Syntax(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_duplicates() {
        let l = Layout::parse(
            "vertices:\n  b: {type: x}\n  a: {type: y, params: {k: 1}}\nedges:\n  b.out.o: a.in.i\n  b.out.o: a.in.j\n",
        )
        .unwrap();
        assert_eq!(l.vertices[0].name, "b");
        assert_eq!(l.vertices[1].params["k"], serde_yaml::Value::from(1));
        assert_eq!(l.edges.len(), 2, "duplicate keys reach the compiler");
    }

    #[test]
    fn syntax_errors_say_where_and_what() {
        let e = Layout::parse("vertices:\n  a: {kind: x}\n").unwrap_err();
        let m = e.to_string();
        assert!(m.contains("unknown field `kind`"), "{m}");
        assert!(m.contains("line 2"), "{m}");
        let e = Layout::parse("edges: {}\n").unwrap_err().to_string();
        assert!(e.contains("missing field `vertices`"), "{e}");
    }
}
