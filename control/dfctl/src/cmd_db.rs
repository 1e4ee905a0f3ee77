//! `dfctl db`: Dragonflow's df-db verbs over the NB database.
//!
//! Why raw: this is the tool for looking at and repairing what is stored,
//! whatever wrote it. Reads show objects as stored, with df-model's message
//! as a warning when one does not decode; writes go through the same rules
//! as every other command ([`crate::objects`]).

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

use crate::cli::{DbCommand, Global, JsonInput};
use crate::db::Db;
use crate::error::{fail, CliError};
use crate::objects::{self, Updated};
use crate::out;

/// Runs a `db` subcommand.
///
/// # Errors
/// Unknown table, not found, invalid object, store errors.
pub async fn run(g: &Global, cmd: DbCommand) -> Result<()> {
    if let DbCommand::Tables = cmd {
        let tables: Vec<&str> = df_model::TABLES
            .iter()
            .copied()
            .filter(|t| df_model::table_info(t).is_some_and(|i| i.stored))
            .collect();
        if g.json {
            out::print_json(&Value::from(tables));
        } else {
            out::print(&tables.join("\n"));
        }
        return Ok(());
    }
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    match cmd {
        DbCommand::Tables => Ok(()),
        DbCommand::Ls { table } => {
            let table = known(&table)?;
            let objects = read_table(db, table).await?;
            if g.json {
                out::print_json(&Value::Array(objects.into_iter().map(|(_, v)| v).collect()));
            } else {
                let ids: Vec<String> = objects.into_iter().map(|(id, _)| id).collect();
                if !ids.is_empty() {
                    out::print(&ids.join("\n"));
                }
            }
            Ok(())
        }
        DbCommand::Get { table, id } => {
            let table = known(&table)?;
            let Some(kv) = db.get(&df_model::key(table, &id)).await? else {
                fail!("{table} `{id}` not found (see `dfctl db ls {table}`)");
            };
            let value = stored_value(table, &id, &kv.value);
            if g.json {
                out::print_json(&value);
            } else {
                out::print(&out::object_lines(&value));
            }
            Ok(())
        }
        DbCommand::Dump => {
            let mut all = BTreeMap::new();
            let mut text = String::new();
            for table in df_model::TABLES {
                if !df_model::table_info(table).is_some_and(|i| i.stored) {
                    continue;
                }
                let objects = read_table(db, table).await?;
                if objects.is_empty() {
                    continue;
                }
                text.push_str(&format!("== {table} ==\n"));
                for (id, v) in &objects {
                    text.push_str(&format!("{id} {v}\n"));
                }
                all.insert(
                    table.to_string(),
                    Value::Array(objects.into_iter().map(|(_, v)| v).collect()),
                );
            }
            if g.json {
                out::print_json(&Value::Object(all.into_iter().collect()));
            } else if !text.is_empty() {
                out::print(&text);
            }
            Ok(())
        }
        DbCommand::Add { table, input } => {
            let table = known(&table)?;
            let mut map = read_input(&input)?;
            if !map.contains_key("id") {
                map.insert("id".into(), Value::from(objects::new_id()));
            }
            if objects::has_field(table, "topic") && !map.contains_key("topic") {
                map.insert("topic".into(), Value::from(g.topic.clone()));
            }
            let object = objects::create_value(db, table, map).await?;
            print_object(g, &object, "created");
            Ok(())
        }
        DbCommand::Update { table, input } => {
            let table = known(&table)?;
            let patch = read_input(&input)?;
            let id = match patch.get("id") {
                Some(Value::String(id)) => id.clone(),
                _ => fail!(
                    "{table}: the update has no string `id`; add \"id\": \"<the object's id>\""
                ),
            };
            match objects::update_value(db, table, &id, &patch).await? {
                Updated::Changed(o) => print_object(g, &o, "updated"),
                Updated::Unchanged(o) => {
                    out::note(&format!(
                        "{table} `{id}` already had these values; nothing written"
                    ));
                    print_object(g, &o, "unchanged");
                }
            }
            Ok(())
        }
        DbCommand::Rm { table, id } => {
            let table = known(&table)?;
            objects::delete(db, table, &id).await?;
            if g.json {
                out::print_json(&serde_json::json!({"deleted": {"table": table, "id": id}}));
            } else {
                out::print(&format!("deleted {table} {id}"));
            }
            Ok(())
        }
    }
}

fn known(table: &str) -> Result<&'static str> {
    match df_model::known_table(table) {
        Some(t) => Ok(t),
        None => Err(CliError::Failed(
            df_model::ModelError::UnknownTable {
                table: table.to_string(),
            }
            .to_string(),
        )
        .into()),
    }
}

/// The stored JSON of an object; df-model's complaint, if any, as a warning.
fn stored_value(table: &str, id: &str, bytes: &[u8]) -> Value {
    if let Err(e) = df_model::decode(table, id, bytes) {
        out::warn(&e.to_string());
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

async fn read_table(db: &dyn Db, table: &str) -> Result<Vec<(String, Value)>> {
    let mut objects = Vec::new();
    for kv in db.list(&df_model::table_prefix(table)).await? {
        let Some((_, id)) = df_model::parse_key(&kv.key) else {
            continue;
        };
        objects.push((id.to_string(), stored_value(table, id, &kv.value)));
    }
    Ok(objects)
}

fn read_input(input: &JsonInput) -> Result<Map<String, Value>> {
    let (text, from) = match (&input.text, &input.file) {
        (Some(j), _) => (j.clone(), "-j".to_string()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read the object from stdin")?;
            (s, "stdin".to_string())
        }
        (None, Some(path)) => (
            std::fs::read_to_string(path)
                .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", path.display())))?,
            path.display().to_string(),
        ),
        (None, None) => {
            return Err(CliError::Usage("give the object with -j JSON or -f FILE".into()).into())
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => fail!("{from}: expected a JSON object ({{...}})"),
        Err(e) => fail!("{from}: malformed JSON: {e}"),
    }
}

fn print_object(g: &Global, object: &df_model::Object, verb: &str) {
    let value: Value = serde_json::from_slice(&df_model::encode(object)).unwrap_or(Value::Null);
    if g.json {
        out::print_json(&value);
    } else {
        out::print(&format!("{verb} {} {}", object.table(), object.id()));
        out::print(&out::object_lines(&value));
    }
}
