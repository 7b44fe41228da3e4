//! Decodes fuzz input into one convolution problem: a spec (any sizes, strides, layout,
//! activation with clamp bounds from raw float bits, residual, kernel kind), dimensions, and
//! buffers whose lengths are usually right and sometimes not, filled with data that has NaN,
//! infinities, denormals and large values at chosen places.

use arbitrary::{Result, Unstructured};
use conv1x1::{Activation, ConvSpec, Dims, KernelKind, Layout};

/// Multiply-adds one problem may cost, so that an input runs in milliseconds on every ISA.
const WORK_BUDGET: usize = 1 << 18;

/// The bit pattern outputs start with: a signalling NaN that no arithmetic produces, so an
/// element that still has it after a successful run was never written.
pub const POISON: u32 = 0x7fa0_0bad;

/// One problem. `spec.isa` is `None`: the checks force each ISA in turn.
#[derive(Debug)]
pub struct Case {
    pub spec: ConvSpec,
    pub dims: Dims,
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub input: Vec<f32>,
    pub output_len: usize,
    pub residual: Option<Vec<f32>>,
    /// Items to split the run into through `Plan::work_items` (1..=8).
    pub max_items: usize,
    /// Items to split the run into through `Plan::run_item_raw` (0..=9; 0 must fail).
    pub raw_count: usize,
}

impl Case {
    pub fn decode(u: &mut Unstructured) -> Result<Case> {
        let (cin, cout) = channels(u)?;
        let dims = dims(u)?;
        let layout = if u.arbitrary()? {
            Layout::Nhwc
        } else {
            Layout::Nchw
        };
        let kernel = kernel_kind(u)?;
        let mut spec = ConvSpec::new(cin, cout)
            .layout(layout)
            .stride_hw(stride(u)?, stride(u)?)
            .activation(activation(u)?)
            .residual(u.arbitrary()?)
            .kernel(kernel);
        let dims = fit_budget(&mut spec, dims);

        let exact = ExactLengths::of(&spec, dims);
        let weights_len = length(u, exact.weights)?;
        let bias_len = match u.arbitrary::<bool>()? {
            true => Some(length(u, exact.bias)?),
            false => None,
        };
        let input_len = length(u, exact.input)?;
        let output_len = length(u, exact.output)?;
        // Usually a residual exactly when the spec has one; sometimes the other way round.
        let residual_given = spec.residual != (u.int_in_range(0..=7)? == 7);
        let residual_len = match residual_given {
            true => Some(length(u, exact.output)?),
            false => None,
        };

        let mut data = Data::new(u.arbitrary()?);
        let mut case = Case {
            spec,
            dims,
            weights: data.vec(weights_len),
            bias: bias_len.map(|n| data.vec(n)),
            input: data.vec(input_len),
            output_len,
            residual: residual_len.map(|n| data.vec(n)),
            max_items: u.int_in_range(1..=8)?,
            raw_count: u.int_in_range(1..=10)? % 10,
        };
        for _ in 0..u.int_in_range(0..=6)? {
            case.place_special(u)?;
        }
        Ok(case)
    }

    /// Puts one special value (NaN, ±Inf, a denormal, ±0, a large value) somewhere.
    fn place_special(&mut self, u: &mut Unstructured) -> Result<()> {
        let value = match u.int_in_range(0..=7)? {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => f32::from_bits(u.int_in_range(1..=0x007f_ffff)?),
            4 => -f32::from_bits(u.int_in_range(1..=0x007f_ffff)?),
            5 => -0.0,
            6 => 0.0,
            // Large but far from overflow: a product of two is 1e30, a sum of 600 such too.
            _ => 1e15 * if u.arbitrary()? { 1.0 } else { -1.0 },
        };
        let buffer = match u.int_in_range(0..=3)? {
            0 => Some(&mut self.weights),
            1 => self.bias.as_mut(),
            2 => Some(&mut self.input),
            _ => self.residual.as_mut(),
        };
        if let Some(buf) = buffer.filter(|b| !b.is_empty()) {
            let i = u.int_in_range(0..=buf.len() - 1)?;
            buf[i] = value;
        }
        Ok(())
    }
}

/// Channel counts: mostly small (tails of every tile), sometimes past one input-channel block
/// (kc = 256) or one output-channel block, rarely zero or large enough to overflow.
fn channels(u: &mut Unstructured) -> Result<(usize, usize)> {
    Ok(match u.int_in_range(0..=15)? {
        13 => (u.int_in_range(257..=300)?, size(u, 9)?),
        14 => (size(u, 4)?, u.int_in_range(500..=600)?),
        15 => (
            u.arbitrary::<u64>()? as usize,
            u.arbitrary::<u64>()? as usize,
        ),
        _ => (size(u, 40)?, size(u, 80)?),
    })
}

/// A size in 1..=max, or (rarely) 0. Ranges start at a valid value because `Unstructured`
/// answers with the start of the range once the input is used up: short inputs then still
/// decode to problems that run.
fn size(u: &mut Unstructured, max: usize) -> Result<usize> {
    let v = u.int_in_range(1..=max + 1)?;
    Ok(if v > max { 0 } else { v })
}

/// Input dimensions: mostly small (including one past a pixel block of 480), rarely zero or
/// huge (then no buffer can match and every call must fail cleanly).
fn dims(u: &mut Unstructured) -> Result<Dims> {
    if u.int_in_range(0..=15)? == 15 {
        let mut raw = || -> Result<usize> { Ok(u.arbitrary::<u64>()? as usize) };
        return Ok(Dims::new(raw()?, raw()?, raw()?));
    }
    Ok(Dims::new(size(u, 3)?, size(u, 24)?, size(u, 24)?))
}

/// Automatic (mostly), generic, specialized, or any kernel of the registry by name, fitting
/// or not, or a name that is in no registry.
fn kernel_kind(u: &mut Unstructured) -> Result<KernelKind> {
    Ok(match u.int_in_range(0..=7)? {
        7 => KernelKind::Specialized,
        6 => KernelKind::Generic,
        5 => {
            let names: Vec<&'static str> = conv1x1::kernels().map(|k| k.name).collect();
            let i = u.int_in_range(0..=names.len())?;
            KernelKind::Named(names.get(i).copied().unwrap_or("f32_nchw_0x0__none"))
        }
        _ => KernelKind::Auto,
    })
}

/// 1..=4, or (rarely) 0.
fn stride(u: &mut Unstructured) -> Result<usize> {
    size(u, 4)
}

/// Any activation; clamp bounds are either small round numbers or raw bit patterns (NaN,
/// infinities, denormals, anything).
fn activation(u: &mut Unstructured) -> Result<Activation> {
    let bound = |u: &mut Unstructured| -> Result<f32> {
        if u.arbitrary()? {
            Ok(f32::from_bits(u.arbitrary()?))
        } else {
            Ok(f32::from(u.arbitrary::<i8>()?) / 16.0)
        }
    };
    Ok(match u.int_in_range(0..=3)? {
        0 => Activation::None,
        1 => Activation::Relu,
        2 => Activation::Relu6,
        _ => Activation::Clamp {
            min: bound(u)?,
            max: bound(u)?,
        },
    })
}

/// Multiply-adds of a problem (sizes of 0 count as 1), saturating.
fn work(s: &ConvSpec, d: &Dims) -> usize {
    [s.cin, s.cout, d.batch, d.height, d.width]
        .iter()
        .try_fold(1usize, |acc, &v| acc.checked_mul(v.max(1)))
        .unwrap_or(usize::MAX)
}

/// Shrinks a problem of ordinary sizes until it fits the work budget (halving the largest of
/// the image sizes, then the channels). Huge sizes stay: no buffer will match them.
fn fit_budget(spec: &mut ConvSpec, mut d: Dims) -> Dims {
    let sizes = [spec.cin, spec.cout, d.batch, d.height, d.width];
    if sizes.iter().any(|&v| v > 1 << 16) {
        return d;
    }
    while work(spec, &d) > WORK_BUDGET {
        let biggest = d.height.max(d.width).max(d.batch);
        if biggest > 1 {
            if d.height == biggest {
                d.height /= 2;
            } else if d.width == biggest {
                d.width /= 2;
            } else {
                d.batch /= 2;
            }
        } else if spec.cout >= spec.cin {
            spec.cout /= 2;
        } else {
            spec.cin /= 2;
        }
    }
    d
}

/// The lengths a correct caller would pass, where they are computable and the problem fits
/// the work budget. Otherwise `None`: the buffers get small arbitrary lengths, which cannot
/// all be right for a problem that large, so the calls must fail.
struct ExactLengths {
    weights: Option<usize>,
    bias: Option<usize>,
    input: Option<usize>,
    output: Option<usize>,
}

impl ExactLengths {
    fn of(spec: &ConvSpec, d: Dims) -> ExactLengths {
        let fits = work(spec, &d) <= WORK_BUDGET;
        let product = |v: &[usize]| {
            v.iter()
                .try_fold(1usize, |acc, &x| acc.checked_mul(x))
                .filter(|_| fits)
        };
        let out_size = |n: usize, s: usize| (s > 0 && n > 0).then(|| (n - 1) / s + 1);
        let output = match (
            out_size(d.height, spec.stride_h),
            out_size(d.width, spec.stride_w),
        ) {
            (Some(ho), Some(wo)) => product(&[d.batch, spec.cout, ho, wo]),
            _ => None,
        };
        ExactLengths {
            weights: product(&[spec.cin, spec.cout]),
            bias: product(&[spec.cout]),
            input: product(&[d.batch, spec.cin, d.height, d.width]),
            output,
        }
    }
}

/// A length near `exact` (mostly equal, sometimes one off), or any small one.
fn length(u: &mut Unstructured, exact: Option<usize>) -> Result<usize> {
    Ok(match (exact, u.int_in_range(0..=15)?) {
        (Some(n), 13) => n.saturating_sub(1),
        (Some(n), 14) => n + 1,
        (Some(_), 15) | (None, _) => u.int_in_range(0..=64)?,
        (Some(n), _) => n,
    })
}

/// Pseudo-random values in [-1, 1) from a seed (xorshift64): varied data whatever the
/// length of the fuzz input.
struct Data(u64);

impl Data {
    fn new(seed: u64) -> Data {
        Data(seed | 1)
    }
    fn vec(&mut self, len: usize) -> Vec<f32> {
        (0..len)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }
}
