//! df-controller: the local controller of a chassis.
//!
//! It follows the NB store (list, then watch), keeps a [`cache::Cache`] of
//! complete objects, compiles them into the apps' table configs for what
//! this chassis needs ([`compile`]), and publishes the configs that changed
//! into the datapath graph by RCU ([`publish`]). The compiler is pure, so it
//! is tested and benchmarked without a store or a datapath.
#![forbid(unsafe_code)]

pub mod cache;
pub mod compile;
mod firewall;
pub mod follow;
mod nat;
mod overlay;
pub mod publish;
mod security;
mod services;

pub use cache::{Cache, Change};
pub use compile::{
    compile, Compiled, Local, SwitchPortBinding, TableConfigs, UnderlayBinding, UplinkBinding,
    UPLINK_KEY_BIT,
};
pub use follow::{ControllerStatus, Follower, StatusHandle};
pub use overlay::FLOOD_KEY_BIT;
pub use publish::Publisher;
