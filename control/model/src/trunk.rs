//! `child_port_segmentation`: a trunk sub-port, i.e. a child lport carried
//! inside a parent lport, told apart by a VLAN tag (trunk) or by its own MAC
//! or IP (Dragonflow's "port behind port": macvlan / ipvlan).
//!
//! Why its own table: the child is an ordinary lport; this object only says
//! how to find the child's traffic inside the parent's, so the trunk app can
//! classify it and the port locator can give the child the parent's binding.
//! Dragonflow derives the id as uuid5(parent/child); the writer computes it.

use serde::{Deserialize, Serialize};

use crate::check;
use crate::enums::SegmentationType;
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};

/// How a child port's traffic is found inside its parent port's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildPortSegmentation {
    /// Id (uuid5 of parent and child in Dragonflow).
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Reference to the parent (trunk) `lport`.
    pub parent: String,
    /// Reference to the child `lport`.
    pub port: String,
    /// vlan, macvlan or ipvlan.
    pub segmentation_type: SegmentationType,
    /// VLAN id (vlan); unused (0) for macvlan and ipvlan.
    pub segmentation_id: u32,
}

impl Model for ChildPortSegmentation {
    const TABLE: &'static str = table::CHILD_PORT_SEGMENTATION;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::LPORT];

    accessors!(id, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .one("parent", table::LPORT, &self.parent)
            .one("port", table::LPORT, &self.port)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::reference(&cx, "parent", &self.parent)?;
        check::reference(&cx, "port", &self.port)?;
        if self.parent == self.port {
            return Err(cx.field("port", format!("`{}` cannot be its own parent", self.port)));
        }
        let s = self.segmentation_id;
        if self.segmentation_type == SegmentationType::Vlan && !(1..=4094).contains(&s) {
            return Err(cx.field(
                "segmentation_id",
                format!(
                    "{s} is not a valid VLAN id (expected 1..=4094 for segmentation_type vlan)"
                ),
            ));
        }
        Ok(())
    }
}
