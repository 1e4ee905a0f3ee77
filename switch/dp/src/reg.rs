//! Names of the registers apps share, so that contracts agree on spelling.
//!
//! These are Dragonflow's public variables (reg6, reg7, metadata, reg5 in the
//! original); the graph compiler gives each name used by a graph one slot of
//! the packet's register file.

/// The logical port the packet came from (0 for tunnels and physical networks).
pub const SOURCE_PORT_KEY: &str = "source_port_key";
/// The logical port the packet goes to.
pub const DESTINATION_PORT_KEY: &str = "destination_port_key";
/// The logical network (lswitch unique key) the packet is in.
pub const NETWORK_KEY: &str = "network_key";
/// The logical router handling the packet.
pub const ROUTER_KEY: &str = "router_key";
