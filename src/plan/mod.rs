//! Plans: a validated spec with packed weights and a chosen kernel, reusable across calls
//! and threads.

mod exec;
pub(crate) mod split;
pub(crate) mod validate;

use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::kernel::{gather_row, registry, Entry, KernelInfo, GATHER_FLOATS};
use crate::pack::{pack_bias, pack_weights, AlignedBuf, Panels};
use crate::spec::{ConvSpec, Dims, Isa};
use exec::Buffers;
use split::{Split, Units};

/// A 1x1 convolution ready to run: spec checked, weights packed, ISA and kernel chosen.
///
/// Immutable after creation; `run` takes `&self` and allocates nothing.
///
/// ```
/// use conv1x1::{Activation, ConvSpec, Dims, Plan};
/// let (cin, cout) = (8, 4);
/// let weights: Vec<f32> = (0..cin * cout).map(|i| (i % 7) as f32 - 3.0).collect();
/// let plan = Plan::new(&ConvSpec::new(cin, cout).activation(Activation::Relu), &weights, None)?;
/// let dims = Dims::new(1, 5, 5);
/// let input = vec![1.0f32; cin * 5 * 5];
/// let mut output = vec![0.0f32; cout * 5 * 5];
/// plan.run(dims, &input, &mut output, None)?;
/// # Ok::<(), conv1x1::Error>(())
/// ```
#[derive(Clone)]
pub struct Plan {
    spec: ConvSpec,
    isa: Isa,
    kernel: &'static KernelInfo,
    /// Input channels per cache block (the packing and the driver agree on it).
    kc: usize,
    panels: Panels,
    packed: AlignedBuf,
    bias: Option<AlignedBuf>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("spec", &self.spec)
            .field("isa", &self.isa)
            .field("kernel", &self.kernel.name)
            .field("packed_len", &self.packed.len())
            .field("bias", &self.bias.is_some())
            .finish()
    }
}

// SAFETY (Send + Sync): a Plan owns its packed buffers (plain f32 in a Vec) and holds a
// `&'static KernelInfo`, which contains only plain data and fn pointers. Nothing in it is
// mutated after `new` returns (every method takes `&self`), and running reads the packed
// weights only, so sharing one plan between threads cannot race. The compiler derives both
// traits from the fields; these assertions keep it that way.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Plan>();
};

/// Input channels per cache block: at most the kernel's kc, in equal blocks (Cin 576 with kc
/// 512: 2 × 288, not 512 + 64, whose short block costs a pass over the output for little
/// work), and for gathered NCHW blocks at most what fits the gather buffer (one pixel tile of
/// every channel of the block).
fn block_channels(kernel: &KernelInfo, spec: &ConvSpec) -> usize {
    let cap = if gathers(kernel, spec) {
        (GATHER_FLOATS / gather_row(kernel.nr, kernel.lanes)).clamp(1, kernel.kc)
    } else {
        kernel.kc
    };
    let blocks = spec.cin.div_ceil(cap).max(1);
    spec.cin.div_ceil(blocks).max(1)
}

/// Whether a plan runs gathered NCHW blocks (see `NchwBlock::gather`): pixel-vectorized NCHW
/// kernels on strided convolutions.
fn gathers(kernel: &KernelInfo, spec: &ConvSpec) -> bool {
    // Measured (benches/README.md): stride 2 gains 2.3x; at stride 1, where every tile's
    // inputs are contiguous already, copying them measured no faster.
    matches!(kernel.entry, Entry::Nchw(_)) && (spec.stride_h > 1 || spec.stride_w > 1)
}

impl Plan {
    /// Validates `spec`, picks ISA and kernel, and packs `weights` (`[Cout][Cin]` row-major,
    /// the OIHW weight of a 1x1 convolution) and the optional `bias` (`[Cout]`).
    /// The caller's slices are copied; they may be dropped afterwards.
    pub fn new(spec: &ConvSpec, weights: &[f32], bias: Option<&[f32]>) -> Result<Plan> {
        validate::check_spec(spec, weights.len(), bias.map(<[f32]>::len))?;
        let isa = match (spec.isa, spec.kernel) {
            (Some(isa), _) => crate::dispatch::check(isa)?,
            // A kernel forced by name brings its ISA.
            (None, crate::spec::KernelKind::Named(name)) => {
                match crate::kernels().find(|k| k.name == name) {
                    Some(k) => crate::dispatch::check(k.isa)?,
                    None => crate::dispatch::auto_isa()?,
                }
            }
            (None, _) => crate::dispatch::auto_isa()?,
        };
        let kernel = registry::select(isa, spec)?;
        let panels = Panels::new(kernel, spec.cout);
        let kc = block_channels(kernel, spec);
        let packed = pack_weights(kernel, kc, spec.cin, spec.cout, weights);
        let bias = bias.map(|b| pack_bias(kernel, spec.cout, b));
        Ok(Plan {
            spec: *spec,
            isa,
            kernel,
            kc,
            panels,
            packed,
            bias,
        })
    }

    /// The spec this plan was built from.
    pub fn spec(&self) -> &ConvSpec {
        &self.spec
    }
    /// The ISA this plan runs on.
    pub fn isa(&self) -> Isa {
        self.isa
    }
    /// The kernel this plan runs.
    pub fn kernel(&self) -> &'static KernelInfo {
        self.kernel
    }
    /// Whether the plan adds a bias.
    pub fn has_bias(&self) -> bool {
        self.bias.is_some()
    }
    /// Bytes of packed weights and bias held by the plan.
    pub fn packed_bytes(&self) -> usize {
        4 * (self.packed.len() + self.bias.as_ref().map_or(0, AlignedBuf::len))
    }

    /// Output dimensions `(batch, Hout, Wout)` for an input of `dims`.
    pub fn output_dims(&self, dims: Dims) -> Result<Dims> {
        let g = validate::geometry(&self.spec, dims)?;
        Ok(Dims::new(g.batch, g.hout, g.wout))
    }
    /// Elements the input must have: N·Cin·H·W.
    pub fn input_len(&self, dims: Dims) -> Result<usize> {
        Ok(validate::geometry(&self.spec, dims)?.input_len)
    }
    /// Elements the output (and residual) must have: N·Cout·Hout·Wout.
    pub fn output_len(&self, dims: Dims) -> Result<usize> {
        Ok(validate::geometry(&self.spec, dims)?.output_len)
    }

    /// Whether this plan runs gathered NCHW blocks.
    fn gathers(&self) -> bool {
        gathers(self.kernel, &self.spec)
    }

    /// Pixels per register tile along pixels: the work unit of most splits (see `split`).
    fn pixel_grain(&self) -> usize {
        match self.kernel.entry {
            Entry::Nchw(_) => self.kernel.nr,
            Entry::Nhwc(_) | Entry::NchwCv(_) => self.kernel.mr,
        }
    }

    fn checked(
        &self,
        dims: Dims,
        input: usize,
        output: usize,
        residual: Option<usize>,
    ) -> Result<validate::Geometry> {
        let geo = validate::geometry(&self.spec, dims)?;
        validate::check_buffers(&self.spec, &geo, input, output, residual)?;
        Ok(geo)
    }

    /// The output's pixel units for a split into at most `max_items` items (see `split`).
    fn units(&self, geo: &validate::Geometry, max_items: usize) -> Units {
        // Cutting an image's channels makes every item read all of its input (and gather it,
        // if strided); cutting its pixels makes every item read all the weights. Cin·pixels
        // against Cin·Cout floats: the smaller is the one to read twice.
        let strided = self.spec.stride_h > 1 || self.spec.stride_w > 1;
        let pixel_cut =
            matches!(self.kernel.entry, Entry::Nchw(_)) && (strided || self.spec.cout < geo.pout);
        Units::new(
            self.pixel_grain(),
            pixel_cut,
            geo.batch,
            geo.pout,
            max_items,
        )
    }

    /// Runs the convolution on the calling thread.
    ///
    /// `input` is `[N][Cin][H][W]` (NCHW) or `[N][H][W][Cin]` (NHWC); `output` and `residual`
    /// have the output's shape in the same layout. `residual` must be given exactly when the
    /// spec says so.
    pub fn run(
        &self,
        dims: Dims,
        input: &[f32],
        output: &mut [f32],
        residual: Option<&[f32]>,
    ) -> Result<()> {
        let geo = self.checked(dims, input.len(), output.len(), residual.map(<[f32]>::len))?;
        let split = Split::whole(self.units(&geo, 1), self.panels.count);
        let bufs = Buffers {
            x: input.as_ptr(),
            y: output.as_mut_ptr(),
            r: residual.map_or(std::ptr::null(), <[f32]>::as_ptr),
        };
        // SAFETY: lengths were checked against the geometry; `output` is borrowed mutably,
        // so nothing else reads or writes it meanwhile.
        unsafe { exec::run_region(self, &geo, bufs, split.region(0)) };
        Ok(())
    }

    /// Splits one convolution into at most `max_items` independent work items (see
    /// [`WorkItems`]) that may run on any threads, in any order. The result equals
    /// [`Plan::run`]'s bit for bit.
    ///
    /// ```
    /// # use conv1x1::{ConvSpec, Dims, Plan};
    /// # let plan = Plan::new(&ConvSpec::new(4, 4), &[0.5; 16], None)?;
    /// # let dims = Dims::new(1, 28, 28);
    /// # let input = vec![1.0; 4 * 28 * 28];
    /// # let mut output = vec![0.0; 4 * 28 * 28];
    /// let items = plan.work_items(dims, &input, &mut output, None, 4)?;
    /// std::thread::scope(|s| {
    ///     for item in items {
    ///         s.spawn(move || item.run());
    ///     }
    /// });
    /// # Ok::<(), conv1x1::Error>(())
    /// ```
    pub fn work_items<'a>(
        &'a self,
        dims: Dims,
        input: &'a [f32],
        output: &'a mut [f32],
        residual: Option<&'a [f32]>,
        max_items: usize,
    ) -> Result<WorkItems<'a>> {
        if max_items == 0 {
            return Err(Error::Zero { what: "max_items" });
        }
        let geo = self.checked(dims, input.len(), output.len(), residual.map(<[f32]>::len))?;
        Ok(WorkItems {
            plan: self,
            geo,
            split: Split::new(self.units(&geo, max_items), self.panels.count, max_items),
            bufs: Buffers {
                x: input.as_ptr(),
                y: output.as_mut_ptr(),
                r: residual.map_or(std::ptr::null(), <[f32]>::as_ptr),
            },
            next: 0,
            _borrows: PhantomData,
        })
    }

    /// How many non-empty items a split into at most `max_items` yields for `dims`.
    pub fn work_item_count(&self, dims: Dims, max_items: usize) -> Result<usize> {
        let geo = validate::geometry(&self.spec, dims)?;
        Ok(Split::new(
            self.units(&geo, max_items.max(1)),
            self.panels.count,
            max_items.max(1),
        )
        .count())
    }

    /// Runs item `index` of a split into at most `count` items on raw buffers: the form
    /// foreign thread pools (and the C ABI) use. Indices at or past
    /// [`Plan::work_item_count`] are valid and do nothing.
    ///
    /// # Safety
    /// `input` must be valid for reads of `input_len` elements, `output` for writes of
    /// `output_len` elements and `residual` (if non-null) for reads of `residual_len`
    /// elements, for the whole call; the output must not overlap input or residual; no two
    /// concurrent calls may use the same `index` with the same output.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn run_item_raw(
        &self,
        dims: Dims,
        input: *const f32,
        input_len: usize,
        output: *mut f32,
        output_len: usize,
        residual: *const f32,
        residual_len: usize,
        index: usize,
        count: usize,
    ) -> Result<()> {
        if count == 0 || index >= count {
            return Err(Error::WorkItem { index, count });
        }
        let residual_len = (!residual.is_null()).then_some(residual_len);
        let geo = self.checked(dims, input_len, output_len, residual_len)?;
        let split = Split::new(self.units(&geo, count), self.panels.count, count);
        if index >= split.count() {
            return Ok(());
        }
        let bufs = Buffers {
            x: input,
            y: output,
            r: residual,
        };
        exec::run_region(self, &geo, bufs, split.region(index));
        Ok(())
    }

    /// Runs the convolution's work items on rayon's global pool (two items per thread).
    #[cfg(feature = "rayon")]
    pub fn run_parallel(
        &self,
        dims: Dims,
        input: &[f32],
        output: &mut [f32],
        residual: Option<&[f32]>,
    ) -> Result<()> {
        use rayon::prelude::*;
        let items = self.work_items(
            dims,
            input,
            output,
            residual,
            2 * rayon::current_num_threads(),
        )?;
        items.par_bridge().for_each(WorkItem::run);
        Ok(())
    }
}

/// The work items of one convolution, from [`Plan::work_items`]. Each item is yielded once;
/// items write disjoint parts of the output, so they may run concurrently on any threads.
#[derive(Debug)]
pub struct WorkItems<'a> {
    plan: &'a Plan,
    geo: validate::Geometry,
    split: Split,
    bufs: Buffers,
    next: usize,
    _borrows: PhantomData<(&'a [f32], &'a mut [f32])>,
}

// SAFETY: the iterator only creates `WorkItem`s (which are Send, see below) from its
// pointers; moving it to another thread moves the right to create them, each once.
unsafe impl Send for WorkItems<'_> {}

impl<'a> Iterator for WorkItems<'a> {
    type Item = WorkItem<'a>;
    fn next(&mut self) -> Option<WorkItem<'a>> {
        if self.next >= self.split.count() {
            return None;
        }
        let item = WorkItem {
            plan: self.plan,
            geo: self.geo,
            bufs: self.bufs,
            region: self.split.region(self.next),
            index: self.next,
            _borrows: PhantomData,
        };
        self.next += 1;
        Some(item)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.split.count() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for WorkItems<'_> {}

/// One independent part of a convolution. Run it on any thread.
#[derive(Debug)]
pub struct WorkItem<'a> {
    plan: &'a Plan,
    geo: validate::Geometry,
    bufs: Buffers,
    region: split::Region,
    index: usize,
    _borrows: PhantomData<(&'a [f32], &'a mut [f32])>,
}

// SAFETY: a WorkItem carries raw pointers into buffers borrowed for 'a (shared input and
// residual, exclusively borrowed output). Each item is created once by `WorkItems` and
// writes only its own region of the output, disjoint from every other item's, so moving
// items to other threads and running them concurrently cannot race.
unsafe impl Send for WorkItem<'_> {}

impl WorkItem<'_> {
    /// This item's index in its split.
    pub fn index(&self) -> usize {
        self.index
    }
    /// Computes this item's part of the output.
    pub fn run(self) {
        // SAFETY: buffers were validated by `Plan::work_items` and stay borrowed for 'a; this
        // item's region is written by no other item.
        unsafe { exec::run_region(self.plan, &self.geo, self.bufs, self.region) }
    }
}
