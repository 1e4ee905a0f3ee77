//! Bookkeeping tables: `publisher`, `listener`, `service` (liveness of the
//! processes around the NB database), `activeport` (which port currently owns
//! an allowed-address-pair IP), `migration` (live-migration progress) and the
//! local-only `switch_port`.
//!
//! Why together: none of them describes the virtual network itself; they are
//! written by services and controllers, mostly unversioned, and small.
//! Timestamps are seconds since the epoch as `f64` (Dragonflow's
//! `TimestampField`); this crate has no clock, so liveness helpers take `now`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check;
use crate::enums::{AdminState, MigrationStatus, SwitchPortType};
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};
use crate::types::Mac;

// ---------------------------------------------------------------- publisher

/// A pub/sub publisher endpoint (one per Neutron server host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    /// Id.
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where subscribers connect, e.g. `tcp://10.0.0.2:8866`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Last heartbeat, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_timestamp: Option<f64>,
}

impl Publisher {
    /// No heartbeat within `timeout` seconds of `now` (Dragonflow drops stale
    /// publishers from listings).
    pub fn is_stale(&self, now: f64, timeout: f64) -> bool {
        match self.last_activity_timestamp {
            Some(t) => now - t > timeout,
            None => true,
        }
    }
}

impl Model for Publisher {
    const TABLE: &'static str = table::PUBLISHER;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[];

    accessors!(id);

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        if let Some(uri) = &self.uri {
            let ok = uri
                .split_once("://")
                .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty());
            if !ok {
                return Err(cx.field(
                    "uri",
                    format!("`{uri}` is not a URI (expected scheme://address, e.g. tcp://10.0.0.2:8866)"),
                ));
            }
        }
        check::timestamp(&cx, "last_activity_timestamp", self.last_activity_timestamp)
    }
}

// ---------------------------------------------------------------- listener

/// A Neutron server process's heartbeat. Its pub/sub topic is derived,
/// `listener_<id>` ([`Listener::topic_name`]); [`Model::topic`] is `None`
/// because the object has no topic field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// Id.
    pub id: String,
    /// Last heartbeat, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<f64>,
    /// The server's parent process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppid: Option<u32>,
}

impl Listener {
    /// `listener_<id>`, the topic this listener subscribes to.
    pub fn topic_name(&self) -> String {
        format!("listener_{}", self.id)
    }
}

impl Model for Listener {
    const TABLE: &'static str = table::LISTENER;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[];

    accessors!(id);

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::timestamp(&cx, "timestamp", self.timestamp)
    }
}

// ---------------------------------------------------------------- service

/// A service (binary) running on a chassis, with its heartbeat. Dragonflow
/// derives the id as uuid5(chassis + binary); the writer computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Id.
    pub id: String,
    /// Reference to the `chassis`.
    pub chassis: String,
    /// The program, e.g. `dfswitchd`.
    pub binary: String,
    /// Last heartbeat, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_up: Option<f64>,
    /// Administratively disabled.
    #[serde(default)]
    pub disabled: bool,
    /// Why it was disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

impl Service {
    /// Seen within `down_time` seconds of `now` (Dragonflow's
    /// `service_down_time`).
    pub fn is_alive(&self, now: f64, down_time: f64) -> bool {
        self.last_seen_up.is_some_and(|t| now - t <= down_time)
    }
}

impl Model for Service {
    const TABLE: &'static str = table::SERVICE;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::CHASSIS];

    accessors!(id);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .one("chassis", table::CHASSIS, &self.chassis)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::reference(&cx, "chassis", &self.chassis)?;
        if self.binary.is_empty() {
            return Err(cx.field("binary", "the program name must be non-empty"));
        }
        check::timestamp(&cx, "last_seen_up", self.last_seen_up)
    }
}

// ---------------------------------------------------------------- activeport

/// Which lport currently answers for an allowed-address-pair IP (detected by
/// controllers from gratuitous ARP). Dragonflow's id is network id + IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivePort {
    /// Id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// The shared IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// Reference to the `lswitch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The MAC seen using the IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_mac: Option<Mac>,
    /// Reference to the `lport` seen using the IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_lport: Option<String>,
}

impl Model for ActivePort {
    const TABLE: &'static str = table::ACTIVEPORT;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::LSWITCH, table::LPORT];

    accessors!(id, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .opt("network", table::LSWITCH, &self.network)
            .opt("detected_lport", table::LPORT, &self.detected_lport)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::opt_reference(&cx, "network", &self.network)?;
        check::opt_reference(&cx, "detected_lport", &self.detected_lport)?;
        if let Some(ip) = self.ip {
            check::host_address(&cx, "ip", ip)?;
        }
        if let Some(mac) = &self.detected_mac {
            check::unicast_mac(&cx, "detected_mac", mac)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- migration

/// Live-migration progress of one lport; the id is the lport id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// The migrating lport's id.
    pub id: String,
    /// Reference to the destination `chassis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_chassis: Option<String>,
    /// Reference to the migrating `lport`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lport: Option<String>,
    /// dest_plug, src_unplug or rebound.
    pub status: MigrationStatus,
}

impl Model for Migration {
    const TABLE: &'static str = table::MIGRATION;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::CHASSIS, table::LPORT];

    accessors!(id);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .opt("dest_chassis", table::CHASSIS, &self.dest_chassis)
            .opt("lport", table::LPORT, &self.lport)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::opt_reference(&cx, "dest_chassis", &self.dest_chassis)?;
        check::opt_reference(&cx, "lport", &self.lport)?;
        match &self.lport {
            Some(p) if *p != self.id => Err(cx.field(
                "lport",
                format!("`{p}` differs from the id; a migration's id is its lport's id"),
            )),
            _ => Ok(()),
        }
    }
}

// ---------------------------------------------------------------- switch_port

/// A local switch interface (Dragonflow read these from OVSDB). Local only:
/// never written to the NB store ([`Model::STORED`] is false).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchPort {
    /// Interface id.
    pub id: String,
    /// Interface name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The datapath port number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_num: Option<u32>,
    /// up or down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_state: Option<AdminState>,
    /// Reference to the `lport` plugged here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lport: Option<String>,
    /// What the interface is.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<SwitchPortType>,
    /// The other end of a patch port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The interface's MAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_in_use: Option<Mac>,
    /// The MAC of what is attached (the VM's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_mac: Option<Mac>,
    /// Tunnel type of a tunnel port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_type: Option<String>,
}

impl Model for SwitchPort {
    const TABLE: &'static str = table::SWITCH_PORT;
    const HAS_UNIQUE_KEY: bool = false;
    const STORED: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::LPORT];

    accessors!(id);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .opt("lport", table::LPORT, &self.lport)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::opt_reference(&cx, "lport", &self.lport)
    }
}
