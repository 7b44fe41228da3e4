//! Splitting one convolution into independent work items for a caller's thread pool.
//!
//! The output is cut into pixel units, numbered across the whole batch, and into
//! output-channel panels. A unit is normally one register tile along pixels (NR pixels in
//! NCHW, MR in NHWC). A split into at most `count` items gives each item a contiguous range
//! of units; only when units are few (fewer than 4 per item) does it also cut the output
//! channels, so that small images (7×7, 14×14) still spread over the threads.
//!
//! NCHW images with fewer whole tiles than 4 per item are instead cut into single-pixel
//! units, and an item then takes at least two tiles' worth of pixels, where that is cheaper
//! than cutting the channels (the plan decides, see `Plan::units`): each item of a channel
//! cut reads (and, if strided, gathers) the whole input, each item of a pixel cut all the
//! weights. A 14×14 image of `192x64@14` then splits into two items of 98 pixels (two tiles
//! each, with one leftover pixel per tile) rather than two halves of its output channels (or
//! 96 + 100 pixels, where the larger item's last tile computes four more). Measured with two
//! threads, in runs alternating with the channel cut: `192x64@14` 1.75–1.78× against
//! 1.44–1.64×, `384x64@14` 1.76–1.84× against 1.46–1.73×, `512x1024@28s2` 1.97–1.98× against
//! 1.82–1.88× (benches/README.md, note 48). Images with enough whole tiles keep tile units,
//! so cuts fall on a tile (and, for line-aligned planes, a cache line) boundary: 28×28 images
//! cut at 392 pixels instead of 384 ran up to 7 % slower.
//!
//! Items write disjoint parts of the output and every output element is computed the same
//! way in any split, so results are bitwise identical for any item count.

/// A rectangle of work: pixel units `unit0..unit1` (across the batch; `grain` pixels each,
/// the last unit of an image possibly fewer) × panels `panel0..panel1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    pub grain: usize,
    pub unit0: usize,
    pub unit1: usize,
    pub panel0: usize,
    pub panel1: usize,
}

/// How a convolution's output pixels are cut into units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Units {
    /// Pixels per unit.
    pub grain: usize,
    /// Units across the batch: `batch · ⌈pixels / grain⌉`.
    pub count: usize,
    /// Fewest units an item should get before output channels are cut too.
    pub min_per_item: usize,
}

/// Fewest tiles an item should get before output channels are cut too.
const MIN_TILES_PER_ITEM: usize = 4;
/// Fewest tiles' worth of single pixels an NCHW item should get (see the module doc).
const MIN_PIXEL_TILES_PER_ITEM: usize = 2;

impl Units {
    /// The units of `batch` images of `pixels` output pixels each, for a split into at most
    /// `max_items` items, with tiles of `tile` pixels. `pixel_cut`: whether images with too
    /// few whole tiles may be cut at any pixel (the plan's choice, for NCHW layers where that
    /// is cheaper than cutting the channels; NHWC tiles are a few pixels already).
    pub fn new(
        tile: usize,
        pixel_cut: bool,
        batch: usize,
        pixels: usize,
        max_items: usize,
    ) -> Units {
        let whole_tiles = batch.saturating_mul(pixels / tile);
        if pixel_cut && whole_tiles < MIN_TILES_PER_ITEM.saturating_mul(max_items) {
            Units {
                grain: 1,
                count: batch * pixels,
                min_per_item: MIN_PIXEL_TILES_PER_ITEM * tile,
            }
        } else {
            Units {
                grain: tile,
                count: batch * pixels.div_ceil(tile),
                min_per_item: MIN_TILES_PER_ITEM,
            }
        }
    }
}

/// How a convolution is cut: `pixel_splits × cout_splits` items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Split {
    pub units: Units,
    pub panels: usize,
    pub pixel_splits: usize,
    pub cout_splits: usize,
}

impl Split {
    /// A split into at most `max_items` (≥ 1) items.
    pub fn new(units: Units, panels: usize, max_items: usize) -> Split {
        let max_items = max_items.max(1);
        let pixel_splits = max_items
            .min((units.count / units.min_per_item).max(1))
            .min(units.count);
        let cout_splits = (max_items / pixel_splits).clamp(1, panels);
        Split {
            units,
            panels,
            pixel_splits,
            cout_splits,
        }
    }

    /// The whole convolution as one item.
    pub fn whole(units: Units, panels: usize) -> Split {
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
            grain: self.units.grain,
            unit0: share(pi, self.units.count, self.pixel_splits),
            unit1: share(pi + 1, self.units.count, self.pixel_splits),
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

    fn tile_units(count: usize) -> Units {
        Units {
            grain: 48,
            count,
            min_per_item: MIN_TILES_PER_ITEM,
        }
    }

    /// The pixel ranges `(p0, p1)` of a batch-1 split's items, and how many cut the channels.
    fn pixel_ranges(units: Units, pixels: usize, max_items: usize) -> (Vec<(usize, usize)>, usize) {
        let s = Split::new(units, 8, max_items);
        let ranges = (0..s.pixel_splits)
            .map(|i| s.region(i))
            .map(|r| (r.unit0 * r.grain, (r.unit1 * r.grain).min(pixels)))
            .collect();
        (ranges, s.cout_splits)
    }

    #[test]
    fn small_nchw_images_split_at_pixels_large_ones_at_tiles() {
        // 14×14, two items: two halves of 98 pixels, no channel cut.
        let u = Units::new(48, true, 1, 196, 2);
        assert_eq!(u.grain, 1);
        assert_eq!(pixel_ranges(u, 196, 2), (vec![(0, 98), (98, 196)], 1));
        // 28×28: 16 whole tiles, enough for two items of 4; cuts fall on tiles.
        let u = Units::new(48, true, 1, 784, 2);
        assert_eq!(u.grain, 48);
        assert_eq!(pixel_ranges(u, 784, 2), (vec![(0, 384), (384, 784)], 1));
        // 7×7: fewer than two tiles' worth of pixels per item; the channels are cut instead.
        assert_eq!(
            pixel_ranges(Units::new(48, true, 1, 49, 2), 49, 2),
            (vec![(0, 49)], 2)
        );
        // 14×14 with four items: two pixel halves × two channel halves.
        let u = Units::new(48, true, 1, 196, 4);
        assert_eq!(pixel_ranges(u, 196, 4), (vec![(0, 98), (98, 196)], 2));
        // Two 14×14 images have 8 whole tiles: two items of one image each.
        let u = Units::new(48, true, 2, 196, 2);
        assert_eq!((u.grain, u.count), (48, 10));
        // NHWC is never cut at single pixels.
        assert_eq!(Units::new(6, false, 1, 49, 2).grain, 6);
        // One item: tiles unless the image has none to spare; either way the whole image.
        assert_eq!(Units::new(48, true, 1, 3136, 1).grain, 48);
        assert_eq!(
            pixel_ranges(Units::new(48, true, 1, 49, 1), 49, 1),
            (vec![(0, 49)], 1)
        );
    }

    /// Item counts and sizes whose products pass usize::MAX still give in-range regions.
    #[test]
    fn huge_splits_stay_in_range() {
        let (units, panels) = (1usize << 40, 1usize << 31);
        let s = Split::new(tile_units(units), panels, usize::MAX);
        assert_eq!(s.pixel_splits, units / MIN_TILES_PER_ITEM);
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
                    let s = Split::new(tile_units(units), panels, max);
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
