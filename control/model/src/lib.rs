//! `df-model`: Dragonflow's northbound (NB) data model as typed, validated
//! Rust values.
//!
//! Why a crate of its own: the model is the contract between whoever writes
//! the NB database (a Neutron driver, `dfctl`, tests), the stores that keep it,
//! and the local controller that compiles it into datapath tables. Parsing and
//! checking happen once, here, at the boundary (STYLE rule 8): bytes from a
//! store go through [`decode`], which yields an [`Object`] that is
//! well-formed and internally consistent, or a [`ModelError`] naming table,
//! id, field and reason. Nothing downstream sees JSON.
//!
//! What it holds:
//! - one struct per table of Dragonflow's model (section 2 of the reference),
//!   with Dragonflow's JSON field names, plus the FWaaS v2 tables of the
//!   fwaas spec ([`firewall`]);
//! - field types [`Mac`], [`IpNetwork`], [`PortRange`], [`Protocol`] and the
//!   enums;
//! - the [`Model`] trait and the type-erased [`Object`], [`TABLES`] in
//!   dependency order, [`table_info`];
//! - store keys ([`key`], [`parse_key`], [`unique_key_counter`]);
//! - [`Snapshot`], a reference-checked object set for the controller;
//! - [`schema_text`], the `df-model` print.
//!
//! No I/O and no clock: callers pass bytes and timestamps in.
//!
//! ```
//! use df_model::{decode, encode, parse_key, LogicalSwitch, Snapshot};
//!
//! let key = "/dragonflow/lswitch/net1";
//! let json = br#"{"id": "net1", "topic": "proj", "unique_key": 7,
//!                 "network_type": "vxlan", "segmentation_id": 1001}"#;
//! let (table, id) = parse_key(key).unwrap();
//! let object = decode(table, id, json).unwrap();
//! assert_eq!(object.unique_key(), Some(7));
//!
//! let mut snapshot = Snapshot::new();
//! snapshot.insert(object.clone());
//! let sw: &LogicalSwitch = snapshot.get("net1").unwrap();
//! assert_eq!(sw.segmentation_id, Some(1001));
//! assert_eq!(decode(table, id, &encode(&object)).unwrap(), object);
//!
//! let err = decode("lswitch", "net1", br#"{"id": "net1", "topic": "p", "mtu": 20}"#);
//! assert_eq!(
//!     err.unwrap_err().to_string(),
//!     "lswitch `net1`: field `mtu`: 20 is not a valid MTU (expected 68..=65535)"
//! );
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bgp;
mod chassis;
mod check;
mod de;
mod enums;
mod error;
pub mod firewall;
mod keys;
mod misc;
mod model;
mod nat;
mod network;
mod object;
mod qos;
mod router;
mod schema;
mod secgroup;
mod sfc;
mod snapshot;
mod trunk;
mod types;

pub use bgp::{BgpPeer, BgpSpeaker};
pub use chassis::Chassis;
pub use enums::{
    device_owner, AdminState, BindingType, Direction, EtherType, IpVersion, Ipv6Mode,
    MigrationStatus, NetworkType, Protocol, SegmentationType, SwitchPortType, TunnelType,
    VNIC_TYPES,
};
pub use error::ModelError;
pub use firewall::{FirewallAction, FirewallGroup, FirewallPolicy, FirewallRule};
pub use keys::{key, parse_key, table, table_prefix, unique_key_counter, PREFIX, UNIQUE_KEY_DIR};
pub use misc::{ActivePort, Listener, Migration, Publisher, Service, SwitchPort};
pub use model::{Model, Ref};
pub use nat::FloatingIp;
pub use network::{
    AddressPair, DhcpParams, HostRoute, LogicalPort, LogicalSwitch, PortBinding, Subnet,
};
pub use object::{
    decode, decode_model, encode, encode_model, known_table, table_info, Object, ObjectVariant,
    TableInfo, TABLES,
};
pub use qos::{QosDirection, QosPolicy, QosPolicyRule, QosRuleType, VALID_DSCP_MARKS};
pub use router::{ExternalGateway, LogicalRouter, LogicalRouterPort};
pub use schema::{schema_text, type_schema, FieldSchema, TypeSchema, SCHEMA};
pub use secgroup::{SecurityGroup, SecurityGroupRule};
pub use sfc::{
    ChainProtocol, CorrelationMechanism, FlowClassifier, PortChain, PortPair, PortPairGroup,
};
pub use snapshot::{Dangling, Snapshot};
pub use trunk::ChildPortSegmentation;
pub use types::{IpNetwork, IpNetworkError, Mac, MacParseError, PortRange, PortRangeError};
