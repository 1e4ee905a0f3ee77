//! `xconnect`'s table: source port key -> destination port key.

use df_dp::table::KeyMap;

use crate::config::XconnectConfig;

/// Lookup-ready patches.
#[derive(Debug, Clone, Default)]
pub struct XconnectTables {
    pub(crate) peer: KeyMap<u32>,
}

impl XconnectTables {
    /// Builds the table.
    ///
    /// # Errors
    /// A zero key, or one source patched twice.
    pub fn build(cfg: &XconnectConfig) -> Result<XconnectTables, String> {
        let mut peer = KeyMap::new();
        for (i, p) in cfg.pairs.iter().enumerate() {
            if p.from == 0 || p.to == 0 {
                return Err(format!("pairs[{i}]: port keys must be non-zero"));
            }
            if let Some(old) = peer.insert(p.from, p.to) {
                return Err(format!(
                    "pairs[{i}]: port key {} is patched twice (to {old} and {})",
                    p.from, p.to
                ));
            }
        }
        Ok(XconnectTables { peer })
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let pairs: Vec<_> = self
            .peer
            .iter()
            .map(|(f, t)| serde_json::json!({"from": f, "to": t}))
            .collect();
        serde_json::json!({ "pairs": pairs })
    }
}
