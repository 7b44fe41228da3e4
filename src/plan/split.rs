//! Splitting one convolution into independent work items for a caller's thread pool.
//!
//! The output is cut into pixel units (one register tile wide: NR pixels in NCHW, MR pixels
//! in NHWC), numbered across the whole batch, and into output-channel panels. A split into at
//! most `count` items gives each item a contiguous range of pixel units; only when pixel units
//! are few (fewer than 4 per item) does it also cut the output channels, so that small images
//! (7×7, 14×14) still spread over the threads. Items write disjoint parts of the output and
//! every output element is computed the same way in any split, so results are bitwise
//! identical for any item count.

/// A rectangle of work: pixel units `unit0..unit1` (across the batch) × panels `panel0..panel1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    pub unit0: usize,
    pub unit1: usize,
    pub panel0: usize,
    pub panel1: usize,
}

/// How a convolution is cut: `pixel_splits × cout_splits` items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Split {
    pub units: usize,
    pub panels: usize,
    pub pixel_splits: usize,
    pub cout_splits: usize,
}

/// Fewest pixel units an item should get before output channels are cut too.
const MIN_UNITS_PER_ITEM: usize = 4;

impl Split {
    /// A split into at most `max_items` (≥ 1) items.
    pub fn new(units: usize, panels: usize, max_items: usize) -> Split {
        let max_items = max_items.max(1);
        let pixel_splits = max_items
            .min((units / MIN_UNITS_PER_ITEM).max(1))
            .min(units);
        let cout_splits = (max_items / pixel_splits).clamp(1, panels);
        Split {
            units,
            panels,
            pixel_splits,
            cout_splits,
        }
    }

    /// The whole convolution as one item.
    pub fn whole(units: usize, panels: usize) -> Split {
        Split {
            units,
            panels,
            pixel_splits: 1,
            cout_splits: 1,
        }
    }

    /// Number of (non-empty) items.
    pub fn count(&self) -> usize {
        self.pixel_splits * self.cout_splits
    }

    /// The region of item `index` (< `count()`).
    pub fn region(&self, index: usize) -> Region {
        let pi = index % self.pixel_splits;
        let ci = index / self.pixel_splits;
        Region {
            unit0: share(pi, self.units, self.pixel_splits),
            unit1: share(pi + 1, self.units, self.pixel_splits),
            panel0: share(ci, self.panels, self.cout_splits),
            panel1: share(ci + 1, self.panels, self.cout_splits),
        }
    }
}

/// `i · total / parts` (`i ≤ parts`, so the result is ≤ `total`). In u128: with a caller's
/// count of items in the billions, `i · total` can pass usize::MAX, and a wrapped product
/// would describe a region outside the output.
fn share(i: usize, total: usize, parts: usize) -> usize {
    (i as u128 * total as u128 / parts as u128) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Item counts and sizes whose products pass usize::MAX still give in-range regions.
    #[test]
    fn huge_splits_stay_in_range() {
        let (units, panels) = (1usize << 40, 1usize << 31);
        let s = Split::new(units, panels, usize::MAX);
        assert_eq!(s.pixel_splits, units / MIN_UNITS_PER_ITEM);
        for index in [0, 1, s.pixel_splits - 1, s.pixel_splits, s.count() - 1] {
            let r = s.region(index);
            assert!(r.unit0 < r.unit1 && r.unit1 <= units, "{r:?}");
            assert!(r.panel0 < r.panel1 && r.panel1 <= panels, "{r:?}");
        }
        assert_eq!(s.region(s.count() - 1).unit1, units);
    }

    #[test]
    #[cfg_attr(miri, ignore = "minutes under Miri; pure index arithmetic")]
    fn regions_tile_the_work_exactly() {
        for units in [1, 2, 3, 4, 7, 49, 196, 3136] {
            for panels in [1, 2, 3, 8, 128] {
                for max in [1, 2, 3, 4, 7, 8, 64] {
                    let s = Split::new(units, panels, max);
                    assert!(s.count() >= 1 && s.count() <= max);
                    let mut cover = vec![0u8; units * panels];
                    for i in 0..s.count() {
                        let r = s.region(i);
                        for u in r.unit0..r.unit1 {
                            for p in r.panel0..r.panel1 {
                                cover[u * panels + p] += 1;
                            }
                        }
                    }
                    assert!(
                        cover.iter().all(|&c| c == 1),
                        "units {units} panels {panels} max {max}"
                    );
                }
            }
        }
    }
}
