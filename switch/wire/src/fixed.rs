//! `FixedVec`: a tiny fixed-capacity list for reprs that must not allocate.
//!
//! Reprs such as [`DhcpRepr`](crate::DhcpRepr) or the ND option set carry
//! lists (DNS servers, static routes, prefixes, raw options). The datapath
//! builds replies without touching the heap, so those lists live inline with a
//! compile-time capacity. Pushing past the capacity is reported as
//! [`Error::Unsupported`] rather than silently dropping the item.
//!
//! Storage is `[Option<T>; N]` so that any `Copy` type works without a
//! `Default` bound (`Ipv4Addr` has none) and without `unsafe`.

use core::fmt;

use crate::{Error, Result};

/// An inline list of at most `N` `Copy` items.
#[derive(Clone, Copy)]
pub struct FixedVec<T: Copy, const N: usize> {
    items: [Option<T>; N],
    len: usize,
}

impl<T: Copy, const N: usize> FixedVec<T, N> {
    /// An empty list.
    pub const fn new() -> Self {
        FixedVec {
            items: [None; N],
            len: 0,
        }
    }

    /// Builds a list from a slice.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if `items` is longer than `N`.
    pub fn from_slice(items: &[T]) -> Result<Self> {
        let mut list = Self::new();
        for item in items {
            list.push(*item)?;
        }
        Ok(list)
    }

    /// Appends an item.
    ///
    /// # Errors
    /// [`Error::Unsupported`] if the list already holds `N` items.
    pub fn push(&mut self, item: T) -> Result<()> {
        let slot = self.items.get_mut(self.len).ok_or(Error::Unsupported)?;
        *slot = Some(item);
        self.len += 1;
        Ok(())
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// The item at `index`, if any.
    pub fn get(&self, index: usize) -> Option<T> {
        self.items.get(index).copied().flatten()
    }

    /// Number of items.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// `true` when the list holds no item.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fixed capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The items in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.items.iter().take(self.len).filter_map(|item| *item)
    }
}

impl<T: Copy, const N: usize> Default for FixedVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq for FixedVec<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Copy + Eq, const N: usize> Eq for FixedVec<T, N> {}

impl<T: Copy + fmt::Debug, const N: usize> fmt::Debug for FixedVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_until_full() {
        let mut list: FixedVec<u8, 2> = FixedVec::new();
        assert!(list.is_empty());
        list.push(1).unwrap();
        list.push(2).unwrap();
        assert_eq!(list.push(3), Err(Error::Unsupported));
        assert_eq!(list.iter().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(list.get(1), Some(2));
        assert_eq!(list.get(2), None);
        assert_eq!(format!("{list:?}"), "[1, 2]");
        list.clear();
        assert_eq!(list.len(), 0);
    }

    #[test]
    fn equality_ignores_capacity_slack() {
        let a: FixedVec<u8, 4> = FixedVec::from_slice(&[1, 2]).unwrap();
        let mut b: FixedVec<u8, 4> = FixedVec::from_slice(&[1, 2, 3]).unwrap();
        assert_ne!(a, b);
        b = FixedVec::from_slice(&[1, 2]).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            FixedVec::<u8, 1>::from_slice(&[1, 2]),
            Err(Error::Unsupported)
        );
    }
}
