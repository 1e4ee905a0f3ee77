//! Model objects in the store: read and decode, find by id or name, create,
//! update with compare-and-swap, delete; plus new ids, MACs and addresses.
//!
//! Why every write goes through here: Dragonflow's NB API gave every writer
//! the same rules (version 1 on create, a unique key from the table's
//! counter, top-level merge and a version bump on update), and every object
//! written must pass df-model's decode, so its errors (table, id, field) are
//! what the operator sees. Creates are `Expect::Absent`; updates are
//! read-modify-write on the mod revision, retried a few times when another
//! writer got in between.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use df_model::{
    Chassis, FloatingIp, LogicalPort, LogicalRouter, LogicalSwitch, Mac, Model, Object,
    SecurityGroup, Service, Subnet,
};
use df_store::Expect;
use serde_json::{Map, Value};

use crate::db::{Db, DbError};
use crate::error::{fail, CliError};

/// How many times an update re-reads and retries after a conflict.
const UPDATE_ATTEMPTS: usize = 5;

/// A model type with the words dfctl uses for it.
pub trait Resource: Model {
    /// What the operator calls it.
    const NOUN: &'static str;
    /// The dfctl command managing it.
    const CMD: &'static str;
}

macro_rules! resource {
    ($t:ty, $noun:literal, $cmd:literal) => {
        impl Resource for $t {
            const NOUN: &'static str = $noun;
            const CMD: &'static str = $cmd;
        }
    };
}

resource!(LogicalSwitch, "network", "network");
resource!(Subnet, "subnet", "subnet");
resource!(LogicalPort, "port", "port");
resource!(LogicalRouter, "router", "router");
resource!(SecurityGroup, "security group", "security-group");
resource!(FloatingIp, "floating IP", "floating-ip");
resource!(Chassis, "chassis", "chassis");
resource!(Service, "service", "chassis");

/// An object and the mod revision it was read at.
#[derive(Debug, Clone)]
pub struct Stored<T> {
    /// The object.
    pub obj: T,
    /// For compare-and-swap.
    pub rev: i64,
}

/// Whether `table`'s objects have field `field`.
pub fn has_field(table: &str, field: &str) -> bool {
    df_model::type_schema(table).is_some_and(|t| t.fields.iter().any(|f| f.name == field))
}

/// The `name` of an object, if it has one.
pub fn name_of<T: Model>(obj: &T) -> Option<String> {
    match serde_json::to_value(obj).ok()? {
        Value::Object(mut m) => match m.remove("name") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// `name` if set, else the id: how objects are shown in lists.
pub fn label<T: Model>(obj: &T) -> String {
    name_of(obj).unwrap_or_else(|| obj.id().to_string())
}

fn model_error(e: df_model::ModelError) -> anyhow::Error {
    CliError::Failed(e.to_string()).into()
}

/// Reads one object by id.
///
/// # Errors
/// Store errors; df-model's message when the stored object does not decode.
pub async fn get<T: Resource>(db: &dyn Db, id: &str) -> Result<Option<Stored<T>>> {
    let Some(kv) = db.get(&df_model::key(T::TABLE, id)).await? else {
        return Ok(None);
    };
    let obj = df_model::decode_model::<T>(id, &kv.value).map_err(model_error)?;
    Ok(Some(Stored {
        obj,
        rev: kv.mod_revision,
    }))
}

/// Reads every object of `T`'s table; objects that do not decode are
/// skipped with a warning (df-model's message).
///
/// # Errors
/// Store errors.
pub async fn list<T: Resource>(db: &dyn Db) -> Result<Vec<Stored<T>>> {
    let mut out = Vec::new();
    for kv in db.list(&df_model::table_prefix(T::TABLE)).await? {
        let Some((_, id)) = df_model::parse_key(&kv.key) else {
            continue;
        };
        match df_model::decode_model::<T>(id, &kv.value) {
            Ok(obj) => out.push(Stored {
                obj,
                rev: kv.mod_revision,
            }),
            Err(e) => crate::out::warn(&format!("skipping an invalid object: {e}")),
        }
    }
    Ok(out)
}

/// Finds an object by id, else by unique name.
///
/// # Errors
/// Not found ("network `x` not found ..."), an ambiguous name (listing the
/// ids), store errors.
pub async fn resolve<T: Resource>(db: &dyn Db, what: &str) -> Result<Stored<T>> {
    if df_model::parse_key(&df_model::key(T::TABLE, what)).is_some() {
        if let Some(s) = get::<T>(db, what).await? {
            return Ok(s);
        }
    }
    let mut matches: Vec<Stored<T>> = list::<T>(db)
        .await?
        .into_iter()
        .filter(|s| name_of(&s.obj).as_deref() == Some(what))
        .collect();
    match matches.len() {
        0 => fail!(
            "{} `{what}` not found: no {} has that id or name (see `dfctl {} list`)",
            T::NOUN,
            T::TABLE,
            T::CMD
        ),
        1 => Ok(matches.remove(0)),
        _ => {
            let ids: Vec<&str> = matches.iter().map(|s| s.obj.id()).collect();
            fail!(
                "{} name `{what}` is ambiguous: it names {}; use an id instead",
                T::NOUN,
                ids.join(", ")
            )
        }
    }
}

/// Refuses a name another object of the table already has.
///
/// # Errors
/// The name is taken; store errors.
pub async fn check_name_free<T: Resource>(db: &dyn Db, name: &str) -> Result<()> {
    let taken: Vec<String> = list::<T>(db)
        .await?
        .iter()
        .filter(|s| name_of(&s.obj).as_deref() == Some(name))
        .map(|s| s.obj.id().to_string())
        .collect();
    if let Some(id) = taken.first() {
        fail!(
            "a {} named `{name}` already exists (id {id}); pick another name",
            T::NOUN
        );
    }
    Ok(())
}

/// Creates an object given as JSON: sets `version` 1 (versioned tables),
/// validates with df-model, allocates the unique key (keyed tables) and
/// writes it if absent.
///
/// # Errors
/// df-model's message; "already exists"; a `unique_key` given by hand;
/// store errors.
pub async fn create_value(db: &dyn Db, table: &str, map: Map<String, Value>) -> Result<Object> {
    let has_key = df_model::table_info(table).is_some_and(|i| i.has_unique_key);
    if has_key && map.contains_key("unique_key") {
        let id = map.get("id").and_then(Value::as_str).unwrap_or("?");
        fail!(
            "{table} `{id}`: field `unique_key`: allocated by the store on create; remove it from the object"
        );
    }
    insert_value(db, table, map).await
}

/// [`create_value`] that keeps a `unique_key` the caller allocated itself.
async fn insert_value(db: &dyn Db, table: &str, mut map: Map<String, Value>) -> Result<Object> {
    let info = df_model::table_info(table).ok_or_else(|| {
        CliError::Failed(
            df_model::ModelError::UnknownTable {
                table: table.to_string(),
            }
            .to_string(),
        )
    })?;
    let id = match map.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => fail!("{table}: the object has no string `id`; add \"id\": \"...\""),
    };
    if has_field(table, "version") {
        map.insert("version".into(), Value::from(1));
    }
    let bytes = serde_json::to_vec(&Value::Object(map.clone()))?;
    // Validate before allocating, so a bad object does not use up a key.
    df_model::decode(table, &id, &bytes).map_err(model_error)?;
    if info.has_unique_key && !map.contains_key("unique_key") {
        let key = db.allocate_unique_key(table).await?;
        map.insert("unique_key".into(), Value::from(key));
    }
    let bytes = serde_json::to_vec(&Value::Object(map))?;
    let object = df_model::decode(table, &id, &bytes).map_err(model_error)?;
    let bytes = df_model::encode(&object);
    match db
        .put(&df_model::key(table, &id), &bytes, Expect::Absent)
        .await
    {
        Ok(_) => Ok(object),
        Err(DbError::Conflict(_)) => fail!(
            "{table} `{id}` already exists; change it with `dfctl db update {table}` or pick another id"
        ),
        Err(e) => Err(e.into()),
    }
}

/// [`create_value`] for a typed object.
///
/// # Errors
/// As [`create_value`], with the noun and name in front of df-model's message.
pub async fn create<T: Resource>(db: &dyn Db, obj: T) -> Result<T> {
    let what = format!("cannot create {} `{}`", T::NOUN, label(&obj));
    let map = match serde_json::to_value(&obj)? {
        Value::Object(m) => m,
        _ => fail!("{what}: it does not serialise to a JSON object"),
    };
    let object = insert_value(db, T::TABLE, map)
        .await
        .map_err(|e| prefix_failure(e, &what))?;
    match object.get::<T>() {
        Some(t) => Ok(t.clone()),
        None => fail!("{what}: the store returned another kind of object"),
    }
}

/// Puts `what` in front of a failure's message; other errors (unreachable
/// store) pass unchanged so their exit code stays.
fn prefix_failure(e: anyhow::Error, what: &str) -> anyhow::Error {
    if crate::error::exit_code(&e) == 1 {
        CliError::Failed(format!("{what}: {e}")).into()
    } else {
        e
    }
}

/// The outcome of an update.
#[derive(Debug)]
pub enum Updated {
    /// Written: the new object.
    Changed(Object),
    /// The merge changed nothing; nothing was written.
    Unchanged(Object),
}

/// Merges `patch` into the stored object at the top level (as Dragonflow's
/// NB API update did), bumps `version` unless the patch sets a new one,
/// validates and writes with the read mod revision; retries on conflict.
///
/// # Errors
/// Not found; a changed `unique_key`; df-model's message; repeated
/// conflicts; store errors.
pub async fn update_value(
    db: &dyn Db,
    table: &str,
    id: &str,
    patch: &Map<String, Value>,
) -> Result<Updated> {
    let key = df_model::key(table, id);
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(kv) = db.get(&key).await? else {
            fail!("{table} `{id}` not found; create it with `dfctl db add {table}`");
        };
        let stored: Map<String, Value> = match serde_json::from_slice(&kv.value) {
            Ok(Value::Object(m)) => m,
            _ => fail!(
                "{table} `{id}`: the stored value is not a JSON object; replace it with `dfctl db rm` and `dfctl db add`"
            ),
        };
        let mut merged = stored.clone();
        for (k, v) in patch {
            merged.insert(k.clone(), v.clone());
        }
        if merged == stored {
            let object = df_model::decode(table, id, &kv.value).map_err(model_error)?;
            return Ok(Updated::Unchanged(object));
        }
        if merged.get("unique_key") != stored.get("unique_key") {
            fail!("{table} `{id}`: field `unique_key`: cannot be changed (the datapath uses it); leave it out of the update");
        }
        if has_field(table, "version") && merged.get("version") == stored.get("version") {
            let v = stored.get("version").and_then(Value::as_u64).unwrap_or(0);
            merged.insert("version".into(), Value::from(v + 1));
        }
        let bytes = serde_json::to_vec(&Value::Object(merged))?;
        let object = df_model::decode(table, id, &bytes).map_err(model_error)?;
        match db
            .put(
                &key,
                &df_model::encode(&object),
                Expect::ModRevision(kv.mod_revision),
            )
            .await
        {
            Ok(_) => return Ok(Updated::Changed(object)),
            Err(DbError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    fail!(
        "{table} `{id}` was changed by someone else {UPDATE_ATTEMPTS} times while updating it; try again"
    )
}

/// Read-modify-write of a typed object: `change` edits it (and may refuse),
/// then [`update_value`]'s rules apply (version bump, validation, CAS and
/// retries).
///
/// # Errors
/// As [`update_value`], and `change`'s own.
pub async fn update<T, F>(db: &dyn Db, id: &str, mut change: F) -> Result<T>
where
    T: Resource,
    F: FnMut(&mut T) -> Result<()>,
{
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(stored) = get::<T>(db, id).await? else {
            fail!("{} `{id}` not found (see `dfctl {} list`)", T::NOUN, T::CMD);
        };
        let mut obj = stored.obj.clone();
        change(&mut obj)?;
        if obj == stored.obj {
            return Ok(obj);
        }
        let mut value = serde_json::to_value(&obj)?;
        if has_field(T::TABLE, "version") {
            let v = stored.obj.version().unwrap_or(0) + 1;
            if let Value::Object(m) = &mut value {
                m.insert("version".into(), Value::from(v));
            }
        }
        let bytes = serde_json::to_vec(&value)?;
        let obj = df_model::decode_model::<T>(id, &bytes).map_err(|e| {
            CliError::Failed(format!(
                "cannot update {} `{}`: {e}",
                T::NOUN,
                label(&stored.obj)
            ))
        })?;
        match db
            .put(
                &df_model::key(T::TABLE, id),
                &df_model::encode_model(&obj),
                Expect::ModRevision(stored.rev),
            )
            .await
        {
            Ok(_) => return Ok(obj),
            Err(DbError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    fail!(
        "{} `{id}` was changed by someone else {UPDATE_ATTEMPTS} times while updating it; try again",
        T::NOUN
    )
}

/// Deletes an object.
///
/// # Errors
/// Not found; store errors.
pub async fn delete(db: &dyn Db, table: &str, id: &str) -> Result<()> {
    if !db.delete(&df_model::key(table, id)).await? {
        fail!("{table} `{id}` not found");
    }
    Ok(())
}

// ---------------------------------------------------------------- ids, MACs, addresses

fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS per process; the counter and the
    // clock make successive values differ.
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.finish()
}

/// A new random (version 4) UUID, as Neutron ids are.
pub fn new_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A MAC in OpenStack's `fa:16:3e` range with random low bytes, avoiding `used`.
pub fn new_mac(used: &HashSet<Mac>) -> Mac {
    loop {
        let r = random_u64().to_be_bytes();
        let mac = Mac([0xfa, 0x16, 0x3e, r[0], r[1], r[2]]);
        if !used.contains(&mac) {
            return mac;
        }
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_bits(v6: bool, v: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(v.into())
    } else {
        // At most 32 significant bits for IPv4 here.
        IpAddr::V4(u32::try_from(v).unwrap_or(0).into())
    }
}

/// The host addresses of a prefix dfctl hands out, in order: IPv4 without
/// the network and broadcast addresses (below /31), IPv6 without the
/// subnet-router anycast address, at most 65536 candidates.
pub fn hosts(cidr: &df_model::IpNetwork) -> impl Iterator<Item = IpAddr> {
    let v6 = cidr.is_ipv6();
    let width = u32::from(cidr.max_prefix_len());
    let host_bits = width - u32::from(cidr.prefix_len());
    let base = bits(cidr.network_address());
    let size: u128 = if host_bits >= 128 {
        u128::MAX
    } else {
        1u128 << host_bits
    };
    let (first, last) = if host_bits <= 1 {
        (0, size - 1)
    } else if v6 {
        (1, size - 1)
    } else {
        (1, size - 2)
    };
    let last = last.min(first + 65_535);
    (first..=last).map(move |off| from_bits(v6, base + off))
}

/// The first address of `subnet` that is not its gateway, its DHCP address
/// or in `used`.
pub fn free_ip(subnet: &Subnet, used: &HashSet<IpAddr>) -> Option<IpAddr> {
    hosts(&subnet.cidr).find(|ip| {
        Some(*ip) != subnet.gateway_ip && Some(*ip) != subnet.dhcp_ip && !used.contains(ip)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_uuids() {
        let a = new_id();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_id());
    }

    #[test]
    fn host_ranges() {
        let net: df_model::IpNetwork = "10.0.0.0/30".parse().unwrap();
        let h: Vec<String> = hosts(&net).map(|i| i.to_string()).collect();
        assert_eq!(h, ["10.0.0.1", "10.0.0.2"]);
        let net: df_model::IpNetwork = "10.0.0.4/31".parse().unwrap();
        assert_eq!(hosts(&net).count(), 2);
        let net: df_model::IpNetwork = "fd00::/64".parse().unwrap();
        assert_eq!(hosts(&net).next().unwrap().to_string(), "fd00::1");
        assert_eq!(hosts(&net).count(), 65536);
    }
}
