//! Lookup structures apps build their tables from.
//!
//! [`KeyMap`] maps the small integer keys the NB database allocates (port,
//! network and router unique keys) to values: a direct-indexed vector for keys
//! below [`KeyMap::DIRECT`], a hash map above, so a lookup is one bounds check
//! and one load in the common case.

use hashbrown::HashMap;

/// Unique key -> value.
#[derive(Debug, Clone)]
pub struct KeyMap<T: Copy> {
    direct: Vec<Option<T>>,
    spill: HashMap<u32, T>,
    len: usize,
}

impl<T: Copy> Default for KeyMap<T> {
    fn default() -> Self {
        KeyMap {
            direct: Vec::new(),
            spill: HashMap::new(),
            len: 0,
        }
    }
}

impl<T: Copy> KeyMap<T> {
    /// Keys below this are stored in the direct vector.
    pub const DIRECT: u32 = 1 << 16;

    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: u32, value: T) -> Option<T> {
        let old = if key < Self::DIRECT {
            let k = key as usize;
            if self.direct.len() <= k {
                self.direct.resize(k + 1, None);
            }
            self.direct[k].replace(value)
        } else {
            self.spill.insert(key, value)
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: u32) -> Option<T> {
        if key < Self::DIRECT {
            self.direct.get(key as usize).copied().flatten()
        } else {
            self.spill.get(&key).copied()
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every (key, value), direct keys first in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, T)> + '_ {
        self.direct
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| (k as u32, v)))
            .chain(self.spill.iter().map(|(k, v)| (*k, *v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((any::<u32>(), any::<u16>()), 0..200)) {
            let mut m = KeyMap::new();
            let mut r = std::collections::HashMap::new();
            for (k, v) in ops {
                let k = k % 200_000;
                prop_assert_eq!(m.insert(k, v), r.insert(k, v));
            }
            prop_assert_eq!(m.len(), r.len());
            for (k, v) in &r {
                prop_assert_eq!(m.get(*k), Some(*v));
            }
            prop_assert_eq!(m.iter().count(), r.len());
        }
    }
}
