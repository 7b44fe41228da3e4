//! Benchmark shapes and the standard suites, shared by the benches and the CLI.
//!
//! Shape strings: `CinxCout@HxW[sS][bN]`, where H×W is the *input* size (`@56` alone means
//! 56×56), `s` the stride (both directions) and `b` the batch; stride and batch default to 1.
//! Examples: `256x64@56`, `256x512@56s2`, `64x256@56x56b8`.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::spec::{ConvSpec, Dims};

/// One 1x1 convolution to benchmark, with how often it occurs in its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    pub cin: usize,
    pub cout: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    pub stride: usize,
    pub batch: usize,
    /// Occurrences in one forward pass of the network (1 for a shape given on its own).
    pub count: usize,
}

impl Shape {
    /// A stride-1, batch-1 shape on an H×W input.
    pub const fn new(cin: usize, cout: usize, h: usize, w: usize) -> Self {
        Shape {
            cin,
            cout,
            h,
            w,
            stride: 1,
            batch: 1,
            count: 1,
        }
    }
    const fn s2(mut self) -> Self {
        self.stride = 2;
        self
    }
    const fn times(mut self, count: usize) -> Self {
        self.count = count;
        self
    }
    /// The same shape with another batch size.
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch;
        self
    }
    /// Output height.
    pub fn hout(&self) -> usize {
        (self.h - 1) / self.stride + 1
    }
    /// Output width.
    pub fn wout(&self) -> usize {
        (self.w - 1) / self.stride + 1
    }
    /// Floating-point operations of one run: 2·N·Cin·Cout·Hout·Wout.
    pub fn flops(&self) -> f64 {
        2.0 * (self.batch * self.cin * self.cout * self.hout() * self.wout()) as f64
    }
    /// Input dimensions.
    pub fn dims(&self) -> Dims {
        Dims::new(self.batch, self.h, self.w)
    }
    /// A spec with this shape's channels and stride (NCHW, no epilogue, automatic ISA).
    pub fn spec(&self) -> ConvSpec {
        ConvSpec::new(self.cin, self.cout).stride(self.stride)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}@", self.cin, self.cout)?;
        if self.h == self.w {
            write!(f, "{}", self.h)?;
        } else {
            write!(f, "{}x{}", self.h, self.w)?;
        }
        if self.stride != 1 {
            write!(f, "s{}", self.stride)?;
        }
        if self.batch != 1 {
            write!(f, "b{}", self.batch)?;
        }
        Ok(())
    }
}

impl FromStr for Shape {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::Parse {
            what: "shape",
            got: s.to_string(),
            expected: "CinxCout@HxW[sS][bN], e.g. 256x64@56, 256x512@56s2, 64x256@56x56b8",
        };
        let num = |t: &str| t.parse::<usize>().ok().filter(|&v| v > 0).ok_or_else(bad);
        let (chans, rest) = s.trim().split_once('@').ok_or_else(bad)?;
        let (cin, cout) = chans.split_once(['x', 'X']).ok_or_else(bad)?;
        // Peel the optional batch, then stride, suffixes.
        let (rest, batch) = match rest.split_once('b') {
            Some((r, b)) => (r, num(b)?),
            None => (rest, 1),
        };
        let (size, stride) = match rest.split_once('s') {
            Some((r, st)) => (r, num(st)?),
            None => (rest, 1),
        };
        let (h, w) = match size.split_once(['x', 'X']) {
            Some((h, w)) => (num(h)?, num(w)?),
            None => (num(size)?, num(size)?),
        };
        Ok(Shape {
            cin: num(cin)?,
            cout: num(cout)?,
            h,
            w,
            stride,
            batch,
            count: 1,
        })
    }
}

/// The 15 distinct 1x1 convolutions of ResNet-50 (torchvision v1.5, 224×224 input) and how
/// often each occurs.
pub const RESNET50: [Shape; 15] = [
    Shape::new(64, 64, 56, 56),
    Shape::new(64, 256, 56, 56).times(4),
    Shape::new(256, 64, 56, 56).times(2),
    Shape::new(256, 128, 56, 56),
    Shape::new(128, 512, 28, 28).times(4),
    Shape::new(256, 512, 56, 56).s2(),
    Shape::new(512, 128, 28, 28).times(3),
    Shape::new(512, 256, 28, 28),
    Shape::new(256, 1024, 14, 14).times(6),
    Shape::new(512, 1024, 28, 28).s2(),
    Shape::new(1024, 256, 14, 14).times(5),
    Shape::new(1024, 512, 14, 14),
    Shape::new(512, 2048, 7, 7).times(3),
    Shape::new(1024, 2048, 14, 14).s2(),
    Shape::new(2048, 512, 7, 7).times(2),
];

/// The 19 distinct pointwise convolutions of MobileNetV2 (224×224 input) and how often each
/// occurs (expansions, projections and the final 320 → 1280).
pub const MOBILENETV2: [Shape; 19] = [
    Shape::new(32, 16, 112, 112),
    Shape::new(16, 96, 112, 112),
    Shape::new(96, 24, 56, 56),
    Shape::new(24, 144, 56, 56).times(2),
    Shape::new(144, 24, 56, 56),
    Shape::new(144, 32, 28, 28),
    Shape::new(32, 192, 28, 28).times(3),
    Shape::new(192, 32, 28, 28).times(2),
    Shape::new(192, 64, 14, 14),
    Shape::new(64, 384, 14, 14).times(4),
    Shape::new(384, 64, 14, 14).times(3),
    Shape::new(384, 96, 14, 14),
    Shape::new(96, 576, 14, 14).times(3),
    Shape::new(576, 96, 14, 14).times(2),
    Shape::new(576, 160, 7, 7),
    Shape::new(160, 960, 7, 7).times(3),
    Shape::new(960, 160, 7, 7).times(2),
    Shape::new(960, 320, 7, 7),
    Shape::new(320, 1280, 7, 7),
];

/// Names accepted by [`suite`].
pub const SUITE_NAMES: [&str; 3] = ["resnet50", "mobilenetv2", "all"];

/// The shapes of a suite by name: `resnet50`, `mobilenetv2` or `all` (both).
pub fn suite(name: &str) -> Result<Vec<Shape>, Error> {
    match name.to_ascii_lowercase().as_str() {
        "resnet50" => Ok(RESNET50.to_vec()),
        "mobilenetv2" => Ok(MOBILENETV2.to_vec()),
        "all" => Ok(RESNET50.iter().chain(MOBILENETV2.iter()).copied().collect()),
        _ => Err(Error::Parse {
            what: "suite",
            got: name.to_string(),
            expected: "resnet50, mobilenetv2, all",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_strings_round_trip() {
        for s in ["256x64@56", "256x512@56s2", "64x256@56x56b8", "3x5@7x9s3b2"] {
            let shape: Shape = s.parse().unwrap();
            let again: Shape = shape.to_string().parse().unwrap();
            assert_eq!(shape, again, "{s}");
        }
        let s: Shape = "64x256@56x56b8".parse().unwrap();
        assert_eq!(
            (s.cin, s.cout, s.h, s.w, s.stride, s.batch),
            (64, 256, 56, 56, 1, 8)
        );
        let s: Shape = "256x512@56s2".parse().unwrap();
        assert_eq!((s.hout(), s.wout()), (28, 28));
        for bad in [
            "", "256x64", "256@56", "0x4@4", "4x4@0", "4x4@4s0", "4x4@4b", "axb@c",
        ] {
            assert!(bad.parse::<Shape>().is_err(), "{bad}");
        }
    }

    #[test]
    fn suites_have_their_documented_sizes() {
        assert_eq!(RESNET50.iter().map(|s| s.count).sum::<usize>(), 36);
        assert_eq!(MOBILENETV2.iter().map(|s| s.count).sum::<usize>(), 34);
        assert_eq!(suite("all").unwrap().len(), 34);
        assert!(suite("vgg").is_err());
    }
}
