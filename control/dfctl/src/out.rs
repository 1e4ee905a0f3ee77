//! Output: text tables, `key: value` object views, JSON, warnings.
//!
//! Why write to stdout by hand: a CLI prints for a living, and a closed pipe
//! (`dfctl db dump | head`) must end the output quietly, not panic as
//! `println!` does.

use std::io::Write;

use serde_json::Value;

/// Prints `text` (a newline is added when missing).
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Prints `v` as pretty JSON.
pub fn print_json(v: &Value) {
    print(&serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()));
}

/// A warning on stderr; the command goes on.
pub fn warn(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "dfctl: warning: {msg}");
}

/// A note on stderr (advice, not a problem).
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "note: {msg}");
}

/// Aligned columns with a header row.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut s = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, cell) in cells.enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            l.push_str(cell);
            if i + 1 < widths.len() {
                l.push_str(&" ".repeat(w.saturating_sub(cell.chars().count()) + 2));
            }
        }
        s.push_str(l.trim_end());
        s.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    s
}

/// A scalar as text: strings bare, the rest as JSON.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// An object as `key: value` lines, `id` and `name` first; lists of
/// scalars joined by commas, lists of objects one per line.
pub fn object_lines(v: &Value) -> String {
    let Value::Object(map) = v else {
        return scalar(v);
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| match k.as_str() {
        "id" => 0,
        "name" => 1,
        _ => 2,
    });
    let width = keys.iter().map(|k| k.len()).max().unwrap_or(0) + 1;
    let mut s = String::new();
    for k in keys {
        let label = format!("{k}:");
        match &map[k] {
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                s.push_str(&format!("{label}\n"));
                for item in items {
                    s.push_str(&format!("  - {item}\n"));
                }
            }
            Value::Array(items) => {
                let text: Vec<String> = items.iter().map(scalar).collect();
                s.push_str(&format!("{label:width$} {}\n", text.join(", ")));
            }
            other => s.push_str(&format!("{label:width$} {}\n", scalar(other))),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = table(
            &["ID", "NAME"],
            &[vec!["a".into(), "x".into()], vec!["bbb".into(), "y".into()]],
        );
        assert_eq!(t, "ID   NAME\na    x\nbbb  y\n");
    }

    #[test]
    fn objects_print_id_first() {
        let v = serde_json::json!({"b": [1, 2], "id": "i", "r": [{"x": 1}]});
        assert_eq!(object_lines(&v), "id: i\nb:  1, 2\nr:\n  - {\"x\":1}\n");
    }
}
