//! The catalog: the one place that lists every app type the graph compiler
//! can instantiate (like VPP's feature list; no registration by linker
//! magic), plus the layouts shipped in `etc/layouts/`.
//!
//! To add an app: write its crate under `apps/`, add it to this crate's
//! dependencies and one line to [`APP_TYPES`].
#![forbid(unsafe_code)]

use df_dp::{AppType, AppTypeOf, Graph, GraphErrors, Layout, RcuDomain};

static DHCP: AppTypeOf<df_app_dhcp::DhcpApp> = AppTypeOf::new();
static INPUT: AppTypeOf<df_app_input::InputApp> = AppTypeOf::new();
static L2: AppTypeOf<df_app_l2::L2App> = AppTypeOf::new();
static OUTPUT: AppTypeOf<df_app_output::OutputApp> = AppTypeOf::new();
static PORTSEC: AppTypeOf<df_app_portsec::PortsecApp> = AppTypeOf::new();
static XCONNECT: AppTypeOf<df_app_xconnect::XconnectApp> = AppTypeOf::new();

/// Every app type, by the name the layout's `type:` uses.
pub static APP_TYPES: &[&dyn AppType] = &[&DHCP, &INPUT, &L2, &OUTPUT, &PORTSEC, &XCONNECT];

/// The default layout: input -> l2 -> output.
pub const DEFAULT_LAYOUT: &str = include_str!("../../../etc/layouts/default.yaml");
/// The framework-cost layout used by the `io` benchmark: input -> xconnect -> output.
pub const IO_LAYOUT: &str = include_str!("../../../etc/layouts/io.yaml");
/// The datapath of the seed document (Dragonflow's application-decoupling graph).
pub const SEED_LAYOUT: &str = include_str!("../../../etc/layouts/seed.yaml");

/// The app type named `name`.
pub fn app_type(name: &str) -> Option<&'static dyn AppType> {
    APP_TYPES
        .iter()
        .copied()
        .find(|t| t.contract().type_name == name)
}

/// Parses and compiles a layout with this catalog.
///
/// # Errors
/// Every problem in the layout, one per line.
pub fn compile_layout(text: &str, rcu: &RcuDomain) -> Result<Graph, GraphErrors> {
    let layout = Layout::parse(text)?;
    df_dp::compile(&layout, APP_TYPES, rcu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_is_consistent_and_names_are_unique() {
        for (i, t) in APP_TYPES.iter().enumerate() {
            t.contract().validate().unwrap();
            let n = t.contract().type_name;
            assert!(
                APP_TYPES[..i].iter().all(|o| o.contract().type_name != n),
                "{n} listed twice"
            );
            assert!(app_type(n).is_some());
        }
    }
}
