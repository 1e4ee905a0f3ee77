//! The app contract: what an app type promises the graph compiler.
//!
//! Dragonflow's application decoupling made each app declare entrypoints (and
//! the variables each consumes), exitpoints (and the variables each provides)
//! and private state, so that a layout file could wire apps together and a
//! compiler could allocate registers and check the wiring. This module is that
//! declaration, as `'static` data written once next to each app's stage.

use std::fmt;

/// Index of an entrypoint in its app's [`AppContract::entries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub u8);

/// Index of an exitpoint in its app's [`AppContract::exits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExitId(pub u8);

/// Index of a drop reason in its app's [`AppContract::drops`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DropId(pub u16);

/// A named way into an app.
#[derive(Debug, Clone, Copy)]
pub struct EntrySpec {
    /// Name as the layout spells it (`<vertex>.in.<name>`).
    pub name: &'static str,
    /// Registers the entry reads; every path to it must have written them.
    pub reads: &'static [&'static str],
    /// Exits a packet entering here may leave by (used for the register and
    /// loop checks, so list exactly the ones the stage can choose).
    pub exits: &'static [&'static str],
    /// Packets received on switch ports may be delivered here.
    pub from_ports: bool,
    /// One line for `dfctl show graph` and docs.
    pub doc: &'static str,
}

/// A named way out of an app.
#[derive(Debug, Clone, Copy)]
pub struct ExitSpec {
    /// Name as the layout spells it (`<vertex>.out.<name>`).
    pub name: &'static str,
    /// Registers guaranteed written for every packet leaving here.
    pub writes: &'static [&'static str],
    /// Leaving here is progress (the packet moved to another network, its TTL
    /// was decremented, ...), so a cycle through this exit cannot spin: the
    /// loop check allows cycles that cross at least one progress exit.
    pub progress: bool,
    /// One line for `dfctl show graph` and docs.
    pub doc: &'static str,
}

/// A named reason to drop a packet, counted per vertex.
#[derive(Debug, Clone, Copy)]
pub struct DropSpec {
    /// Counter name (kebab-case).
    pub name: &'static str,
    /// What it means and what to check.
    pub doc: &'static str,
}

/// Everything the graph compiler knows about an app type.
#[derive(Debug)]
pub struct AppContract {
    /// The type name as the layout's `type:` spells it (kebab-case).
    pub type_name: &'static str,
    /// One line describing the app.
    pub summary: &'static str,
    /// Entrypoints; [`EntryId`] indexes this.
    pub entries: &'static [EntrySpec],
    /// Exitpoints; [`ExitId`] indexes this.
    pub exits: &'static [ExitSpec],
    /// Drop reasons; [`DropId`] indexes this.
    pub drops: &'static [DropSpec],
    /// Names of the app's private tables (its private state).
    pub tables: &'static [&'static str],
}

/// A contract that contradicts itself (a bug in an app, found by its tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError(pub String);

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ContractError {}

impl AppContract {
    /// The entry named `name`.
    pub fn entry(&self, name: &str) -> Option<EntryId> {
        self.entries
            .iter()
            .position(|e| e.name == name)
            .map(|i| EntryId(i as u8))
    }

    /// The exit named `name`.
    pub fn exit(&self, name: &str) -> Option<ExitId> {
        self.exits
            .iter()
            .position(|e| e.name == name)
            .map(|i| ExitId(i as u8))
    }

    /// The drop reason named `name`.
    pub fn drop_reason(&self, name: &str) -> Option<DropId> {
        self.drops
            .iter()
            .position(|d| d.name == name)
            .map(|i| DropId(i as u16))
    }

    /// Checks the contract against itself: unique names, entries that name
    /// existing exits, sizes that fit the id types.
    ///
    /// # Errors
    /// The first contradiction found, naming the app and the item.
    pub fn validate(&self) -> Result<(), ContractError> {
        let t = self.type_name;
        let err = |m: String| Err(ContractError(format!("app type `{t}`: {m}")));
        if self.entries.len() > u8::MAX as usize || self.exits.len() > u8::MAX as usize {
            return err("more than 255 entries or exits".into());
        }
        for (i, e) in self.entries.iter().enumerate() {
            if self.entries[..i].iter().any(|o| o.name == e.name) {
                return err(format!("entry `{}` declared twice", e.name));
            }
            for x in e.exits {
                if self.exit(x).is_none() {
                    return err(format!("entry `{}` lists unknown exit `{x}`", e.name));
                }
            }
        }
        for (i, x) in self.exits.iter().enumerate() {
            if self.exits[..i].iter().any(|o| o.name == x.name) {
                return err(format!("exit `{}` declared twice", x.name));
            }
        }
        for (i, d) in self.drops.iter().enumerate() {
            if self.drops[..i].iter().any(|o| o.name == d.name) {
                return err(format!("drop reason `{}` declared twice", d.name));
            }
        }
        Ok(())
    }

    /// Every register name this contract reads or writes, in first-use order.
    pub fn registers(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let all = self
            .entries
            .iter()
            .flat_map(|e| e.reads.iter())
            .chain(self.exits.iter().flat_map(|x| x.writes.iter()));
        for r in all {
            if !out.contains(r) {
                out.push(r);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static BAD: AppContract = AppContract {
        type_name: "bad",
        summary: "",
        entries: &[EntrySpec {
            name: "default",
            reads: &[],
            exits: &["nowhere"],
            from_ports: false,
            doc: "",
        }],
        exits: &[],
        drops: &[],
        tables: &[],
    };

    #[test]
    fn validate_names_the_problem() {
        let e = BAD.validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "app type `bad`: entry `default` lists unknown exit `nowhere`"
        );
    }
}
