//! How an app type plugs into the datapath: the [`App`] trait an app crate
//! implements, and the type-erased [`AppType`] / [`AppInstance`] the graph
//! compiler and the control side hold.
//!
//! The split follows STYLE.md rule 1 and rule 6: an app's `Config` (what
//! control hands it) is built into `Tables` off the workers, published by RCU
//! into a cell every worker's stage reads once per batch. Start-up publishes
//! empty tables, so start and reconfiguration share one path.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::contract::AppContract;
use crate::packet::RegSlot;
use crate::rcu::{RcuCell, RcuDomain};
use crate::stage::Stage;

/// Register names resolved to slots by the compiler.
#[derive(Debug, Clone, Default)]
pub struct RegMap {
    names: Vec<String>,
}

impl RegMap {
    pub(crate) fn new(names: Vec<String>) -> RegMap {
        RegMap { names }
    }

    /// The slot of register `name`.
    pub fn slot(&self, name: &str) -> Option<RegSlot> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(RegSlot::new)
    }

    /// The slot of a register the app's own contract names. The compiler
    /// allocated a slot for every register of every contract in the graph,
    /// so a missing one is an app bug, reported as an error string.
    ///
    /// # Errors
    /// The register is not in the map.
    pub fn require(&self, name: &str) -> Result<RegSlot, String> {
        self.slot(name)
            .ok_or_else(|| format!("register `{name}` has no slot (not in the app's contract?)"))
    }

    /// Register names by slot.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// What an app sees when the compiler instantiates one of its vertices.
#[derive(Debug)]
pub struct VertexCtx<'a> {
    /// The vertex name in the layout.
    pub name: &'a str,
    /// The vertex's `params:` (YAML null when absent).
    pub params: &'a serde_yaml::Value,
    /// Register slots.
    pub regs: &'a RegMap,
}

/// A configuration that could not be applied to a vertex. Nothing of it was
/// published: the previous tables stay live.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vertex `{vertex}` (type {app_type}): {message}")]
pub struct ConfigError {
    /// The vertex name.
    pub vertex: String,
    /// Its app type.
    pub app_type: String,
    /// What was wrong, naming the field.
    pub message: String,
}

/// An app, written once per app crate.
pub trait App: Sized + Send + Sync + 'static {
    /// What control hands the app (serde, `deny_unknown_fields`).
    type Config: serde::de::DeserializeOwned + Send + 'static;
    /// Lookup-ready tables built from a config.
    type Tables: Send + Sync + 'static;
    /// The hot-path stage.
    type Stage: Stage + 'static;

    /// The app's contract.
    fn contract() -> &'static AppContract;

    /// Builds the per-vertex constant part from the vertex's params and
    /// register slots.
    ///
    /// # Errors
    /// Bad params, naming the field.
    fn new(ctx: &VertexCtx<'_>) -> Result<Self, String>;

    /// Tables before any config arrives.
    fn empty_tables(&self) -> Self::Tables;

    /// Builds tables from a config (off the workers).
    ///
    /// # Errors
    /// An invalid config, naming the object and field.
    fn build_tables(&self, config: &Self::Config) -> Result<Self::Tables, String>;

    /// A stage for one worker.
    fn new_stage(self: &Arc<Self>, tables: Arc<RcuCell<Self::Tables>>) -> Self::Stage;

    /// A JSON summary of the tables for `dfctl show tables`.
    fn describe(&self, _tables: &Self::Tables) -> serde_json::Value {
        serde_json::Value::Null
    }
}

/// A type-erased app type: one entry of the catalog.
pub trait AppType: Send + Sync {
    /// The contract.
    fn contract(&self) -> &'static AppContract;
    /// Instantiates one vertex.
    ///
    /// # Errors
    /// Bad params, as text naming the field.
    fn instantiate(
        &self,
        ctx: &VertexCtx<'_>,
        rcu: &RcuDomain,
    ) -> Result<Box<dyn AppInstance>, String>;
}

/// A type-erased vertex instance, shared by the workers (each gets a stage)
/// and by control (which configures it).
pub trait AppInstance: Send + Sync {
    /// A stage for one worker.
    fn new_stage(&self) -> Box<dyn Stage>;
    /// Applies a typed config (`Box<App::Config>`): build, then publish.
    ///
    /// # Errors
    /// Wrong config type or invalid config; nothing is published then.
    fn configure(&self, config: Box<dyn Any + Send>) -> Result<(), String>;
    /// Applies a config given as JSON (files, tools).
    ///
    /// # Errors
    /// JSON that does not fit the config type, or an invalid config.
    fn configure_json(&self, config: &serde_json::Value) -> Result<(), String>;
    /// A JSON summary of the live tables.
    fn describe(&self) -> serde_json::Value;
}

/// The catalog entry of app `A`.
pub struct AppTypeOf<A: App>(PhantomData<fn() -> A>);

impl<A: App> AppTypeOf<A> {
    /// The catalog entry.
    pub const fn new() -> Self {
        AppTypeOf(PhantomData)
    }
}

impl<A: App> Default for AppTypeOf<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: App> fmt::Debug for AppTypeOf<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppTypeOf({})", A::contract().type_name)
    }
}

impl<A: App> AppType for AppTypeOf<A> {
    fn contract(&self) -> &'static AppContract {
        A::contract()
    }

    fn instantiate(
        &self,
        ctx: &VertexCtx<'_>,
        rcu: &RcuDomain,
    ) -> Result<Box<dyn AppInstance>, String> {
        let app = Arc::new(A::new(ctx)?);
        let tables = Arc::new(RcuCell::new(rcu, app.empty_tables()));
        Ok(Box::new(Instance { app, tables }))
    }
}

struct Instance<A: App> {
    app: Arc<A>,
    tables: Arc<RcuCell<A::Tables>>,
}

impl<A: App> Instance<A> {
    fn apply(&self, cfg: &A::Config) -> Result<(), String> {
        let t = self.app.build_tables(cfg)?;
        self.tables.publish(t);
        Ok(())
    }
}

impl<A: App> AppInstance for Instance<A> {
    fn new_stage(&self) -> Box<dyn Stage> {
        Box::new(self.app.new_stage(self.tables.clone()))
    }

    fn configure(&self, config: Box<dyn Any + Send>) -> Result<(), String> {
        let cfg = config.downcast::<A::Config>().map_err(|_| {
            format!(
                "expects a {} config (`{}`), got another type",
                A::contract().type_name,
                std::any::type_name::<A::Config>()
            )
        })?;
        self.apply(&cfg)
    }

    fn configure_json(&self, config: &serde_json::Value) -> Result<(), String> {
        let cfg: A::Config = serde_json::from_value(config.clone()).map_err(|e| e.to_string())?;
        self.apply(&cfg)
    }

    fn describe(&self) -> serde_json::Value {
        self.tables.with_current(|t| self.app.describe(t))
    }
}
