//! Publishing compiled configs into a datapath graph: only the configs that
//! changed since the last publish, to every vertex of the app type each
//! config is for. A config a vertex refuses is reported and the vertex keeps
//! its previous tables (the graph never runs a half-applied change). An app
//! type with no vertex in the graph is skipped.

use std::sync::Arc;

use df_dp::Graph;

use crate::compile::TableConfigs;

/// Publishes table configs into one graph, remembering what is live.
#[derive(Debug)]
pub struct Publisher {
    graph: Arc<Graph>,
    live: Option<TableConfigs>,
    publishes: u64,
}

impl Publisher {
    /// A publisher for `graph` (nothing published yet).
    pub fn new(graph: Arc<Graph>) -> Self {
        Publisher {
            graph,
            live: None,
            publishes: 0,
        }
    }

    /// The graph.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// Tables published so far (one per vertex configured).
    pub fn publishes(&self) -> u64 {
        self.publishes
    }

    /// Publishes what differs from the live configs. Returns the errors of
    /// vertices that refused their config (each names the vertex and field).
    pub fn publish(&mut self, cfg: &TableConfigs) -> Vec<String> {
        let mut errors = Vec::new();
        let old = self.live.take();
        if old.as_ref().is_none_or(|o| o.input != cfg.input) {
            self.configure_type("input", &cfg.input, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.l2 != cfg.l2) {
            self.configure_type("l2", &cfg.l2, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.output != cfg.output) {
            self.configure_type("output", &cfg.output, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.portsec != cfg.portsec) {
            self.configure_type("portsec", &cfg.portsec, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.sg != cfg.sg) {
            self.configure_type("sg", &cfg.sg, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.dhcp != cfg.dhcp) {
            self.configure_type("dhcp", &cfg.dhcp, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.l3 != cfg.l3) {
            self.configure_type("l3-proactive", &cfg.l3, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.firewall != cfg.firewall) {
            self.configure_type("firewall", &cfg.firewall, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.provider != cfg.provider) {
            self.configure_type("provider", &cfg.provider, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.tunnel != cfg.tunnel) {
            self.configure_type("tunnel", &cfg.tunnel, &mut errors);
        }
        if old.as_ref().is_none_or(|o| o.nat != cfg.nat) {
            self.configure_type("nat", &cfg.nat, &mut errors);
        }
        self.live = Some(cfg.clone());
        errors
    }

    fn configure_type<C: Clone + Send + 'static>(
        &mut self,
        app_type: &str,
        cfg: &C,
        errors: &mut Vec<String>,
    ) {
        let names: Vec<String> = self
            .graph
            .vertices_of_type(app_type)
            .map(str::to_string)
            .collect();
        for v in names {
            match self.graph.configure(&v, cfg.clone()) {
                Ok(()) => self.publishes += 1,
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
}
