//! Test doubles shared by the df-dp integration tests: an app type whose
//! contract and stage behaviour each test chooses.
#![allow(dead_code)]

use std::any::Any;

use df_dp::contract::{AppContract, EntrySpec, ExitSpec};
use df_dp::rcu::RcuDomain;
use df_dp::{AppInstance, AppType, Batch, EntryId, Stage, StageIo, VertexCtx};

/// What a fake stage does with a batch.
pub type Behaviour = fn(&'static AppContract, EntryId, &mut Batch, &mut StageIo<'_>);

/// An app type with a chosen contract and behaviour.
pub struct Fake(pub &'static AppContract, pub Behaviour);

impl Fake {
    /// Sends every packet by the first exit its entry lists, or transmits it
    /// on port 0 if the entry lists none.
    pub const fn forward(c: &'static AppContract) -> Fake {
        Fake(c, forward)
    }
}

/// The default behaviour (see [`Fake::forward`]).
pub fn forward(c: &'static AppContract, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
    let e = &c.entries[entry.0 as usize];
    for p in batch.drain() {
        match e.exits.first().and_then(|x| c.exit(x)) {
            Some(x) => io.send(x, p),
            None => io.tx(0, p),
        }
    }
}

struct FakeInstance(&'static AppContract, Behaviour);

struct FakeStage(&'static AppContract, Behaviour);

impl Stage for FakeStage {
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        (self.1)(self.0, entry, batch, io);
    }
}

impl AppInstance for FakeInstance {
    fn new_stage(&self) -> Box<dyn Stage> {
        Box::new(FakeStage(self.0, self.1))
    }
    fn configure(&self, _c: Box<dyn Any + Send>) -> Result<(), String> {
        Ok(())
    }
    fn configure_json(&self, _c: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}

impl AppType for Fake {
    fn contract(&self) -> &'static AppContract {
        self.0
    }
    fn instantiate(
        &self,
        ctx: &VertexCtx<'_>,
        _rcu: &RcuDomain,
    ) -> Result<Box<dyn AppInstance>, String> {
        if let Some(v) = ctx.params.get("fail") {
            return Err(format!("param `fail` must not be set (got {v:?})"));
        }
        Ok(Box::new(FakeInstance(self.0, self.1)))
    }
}

/// An entry spec.
pub const fn entry(
    name: &'static str,
    reads: &'static [&'static str],
    exits: &'static [&'static str],
    from_ports: bool,
) -> EntrySpec {
    EntrySpec {
        name,
        reads,
        exits,
        from_ports,
        doc: "",
    }
}

/// An exit spec.
pub const fn exit(name: &'static str, writes: &'static [&'static str], progress: bool) -> ExitSpec {
    ExitSpec {
        name,
        writes,
        progress,
        doc: "",
    }
}
