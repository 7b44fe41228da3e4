//! Plans through the C ABI: create, inspect, run (whole or by work item), destroy.

use std::ffi::CString;
use std::mem::size_of;

use engine::{Dims, Error, Plan};

use crate::buffers::{Buffer, RunBuffers};
use crate::status::{conv1x1_status, guard, guard_value, Failure, Outcome};
use crate::types::{conv1x1_dims, conv1x1_plan_info, conv1x1_sizes, conv1x1_spec, isa_code};

/// A 1x1 convolution ready to run: spec checked, weights packed, ISA and kernel chosen.
/// Opaque; create with `conv1x1_plan_create`, free with `conv1x1_plan_destroy`.
///
/// A plan is immutable: any number of threads may run it at the same time (on different
/// outputs, or on different work items of one output).
pub struct conv1x1_plan {
    plan: Plan,
    /// The kernel name as a C string, for `conv1x1_plan_get_info`.
    kernel_name: CString,
}

/// Largest element count of a float buffer that Rust can view as one slice.
const MAX_FLOATS: usize = isize::MAX as usize / size_of::<f32>();

/// Borrows the plan behind a C pointer.
///
/// # Safety
/// `plan` must be NULL or a live pointer from `conv1x1_plan_create`.
unsafe fn plan_ref<'a>(plan: *const conv1x1_plan) -> Outcome<&'a Plan> {
    // SAFETY: the caller guarantees a non-null `plan` is live; plans are never mutated.
    unsafe { plan.as_ref() }
        .map(|p| &p.plan)
        .ok_or_else(|| Failure::null("plan"))
}

/// Checks one of the creation arrays and views it as a slice.
///
/// # Safety
/// A non-null `ptr` must be valid for reading `len` floats.
unsafe fn creation_slice<'a>(
    what: &'static str,
    ptr: *const f32,
    len: usize,
    expected: Option<usize>,
    formula: &'static str,
) -> Outcome<&'a [f32]> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format!(
            "{what} (address {ptr:p}) is not aligned to 4 bytes"
        )));
    }
    // Refuse a length that disagrees with the spec before viewing the memory, so a wrong
    // count is reported rather than read past. `None`: the product overflowed, which
    // `Plan::new` reports.
    if let Some(expected) = expected.filter(|&e| e != len) {
        return Err(Error::Length {
            what,
            got: len,
            expected,
            formula,
        }
        .into());
    }
    if len > MAX_FLOATS {
        return Err(Error::Overflow {
            what,
            formula: "element count × 4 bytes",
        }
        .into());
    }
    // SAFETY: non-null, aligned, at most isize::MAX bytes, and the caller guarantees `len`
    // readable floats; the slice lives only during plan creation.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Creates a plan: checks `spec`, chooses ISA and kernel, and packs the weights (and bias).
///
/// - `weights`: `[Cout][Cin]` row-major floats (the OIHW weight of a 1x1 convolution);
///   `weights_len` is the number of floats it holds and must equal `cin * cout`.
/// - `bias`: `[Cout]` floats when `spec->has_bias`, else NULL; `bias_len` is its element
///   count (`cout`; ignored when `bias` is NULL).
///
/// Weights and bias are copied: the caller may free them as soon as this returns. On
/// success `*plan` receives the new plan; on failure it is set to NULL (if `plan` is not
/// NULL).
///
/// Errors: `CONV1X1_NULL_POINTER` (spec, weights, plan, or bias when `has_bias`);
/// `CONV1X1_INVALID_ARGUMENT` (zero channels or stride, unknown enumeration value, invalid
/// clamp bounds, a bias when `has_bias` is false, misaligned arrays); `CONV1X1_BAD_LENGTH`;
/// `CONV1X1_OVERFLOW`; `CONV1X1_UNSUPPORTED_ISA` (forced ISA missing on this CPU, or a bad
/// `CONV1X1_ISA`); `CONV1X1_NO_KERNEL` (forced specialized kernel that does not exist).
///
/// # Safety
/// `spec` must be NULL or point to a readable `conv1x1_spec`; non-null `weights` and `bias`
/// must be readable for `weights_len` and `bias_len` floats; `plan` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn conv1x1_plan_create(
    spec: *const conv1x1_spec,
    weights: *const f32,
    weights_len: usize,
    bias: *const f32,
    bias_len: usize,
    plan: *mut *mut conv1x1_plan,
) -> conv1x1_status {
    guard(|| {
        if plan.is_null() {
            return Err(Failure::null("plan (the out-parameter)"));
        }
        // SAFETY: non-null and writable per the contract; cleared first so that every
        // failure leaves NULL behind.
        unsafe { plan.write(std::ptr::null_mut()) };
        // SAFETY: the caller guarantees a non-null `spec` is readable.
        let c_spec = unsafe { spec.as_ref() }.ok_or_else(|| Failure::null("spec"))?;
        let rust_spec = c_spec.to_conv_spec()?;
        // Zero channel counts first, so they are not reported as a weight length mismatch.
        for (count, what) in [(c_spec.cin, "Cin"), (c_spec.cout, "Cout")] {
            if count == 0 {
                return Err(Error::Zero { what }.into());
            }
        }
        let expected_weights = c_spec.cin.checked_mul(c_spec.cout);
        // SAFETY: the caller guarantees `weights_len` readable floats.
        let w = unsafe {
            creation_slice(
                "weights",
                weights,
                weights_len,
                expected_weights,
                "Cout·Cin",
            )
        }?;
        let b = match (c_spec.has_bias, bias.is_null()) {
            (true, true) => {
                return Err(Failure::null("bias (the spec has has_bias = true)"));
            }
            (false, false) => {
                return Err(Failure::invalid(
                    "a bias was given but the spec has has_bias = false",
                ));
            }
            (false, true) => None,
            // SAFETY: the caller guarantees `bias_len` readable floats.
            (true, false) => {
                Some(unsafe { creation_slice("bias", bias, bias_len, Some(c_spec.cout), "Cout") }?)
            }
        };
        let built = Plan::new(&rust_spec, w, b)?;
        let kernel_name =
            CString::new(built.kernel().name.replace('\0', "")).expect("NUL bytes were removed");
        let boxed = Box::new(conv1x1_plan {
            plan: built,
            kernel_name,
        });
        // SAFETY: checked non-null and writable above.
        unsafe { plan.write(Box::into_raw(boxed)) };
        Ok(())
    })
}

/// Frees a plan. NULL is allowed and does nothing.
///
/// # Safety
/// `plan` must be NULL or a pointer from `conv1x1_plan_create` not destroyed yet, and no
/// other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn conv1x1_plan_destroy(plan: *mut conv1x1_plan) {
    if plan.is_null() {
        return;
    }
    guard_value((), || {
        // SAFETY: created by Box::into_raw in conv1x1_plan_create and, per the contract,
        // destroyed only once.
        drop(unsafe { Box::from_raw(plan) });
    });
}

/// Stores facts about `plan` (ISA, kernel, packed size) in `*info`.
///
/// Errors: `CONV1X1_NULL_POINTER`.
///
/// # Safety
/// `plan` must be NULL or a live plan; `info` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn conv1x1_plan_get_info(
    plan: *const conv1x1_plan,
    info: *mut conv1x1_plan_info,
) -> conv1x1_status {
    guard(|| {
        // SAFETY: the caller guarantees a non-null `plan` is live.
        let wrapper = unsafe { plan.as_ref() }.ok_or_else(|| Failure::null("plan"))?;
        if info.is_null() {
            return Err(Failure::null("info"));
        }
        let p = &wrapper.plan;
        let facts = conv1x1_plan_info {
            isa: isa_code(p.isa()),
            specialized: p.kernel().specialized(),
            kernel_name: wrapper.kernel_name.as_ptr(),
            packed_bytes: p.packed_bytes(),
        };
        // SAFETY: non-null and writable per the contract.
        unsafe { info.write(facts) };
        Ok(())
    })
}

/// Stores in `*sizes` the output dimensions and the element counts of input, output and
/// residual for a run of `plan` on an input of `dims`.
///
/// Errors: `CONV1X1_NULL_POINTER`; `CONV1X1_INVALID_ARGUMENT` (a zero dimension);
/// `CONV1X1_OVERFLOW` (the counts do not fit).
///
/// # Safety
/// `plan` must be NULL or a live plan; `sizes` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn conv1x1_plan_sizes(
    plan: *const conv1x1_plan,
    dims: conv1x1_dims,
    sizes: *mut conv1x1_sizes,
) -> conv1x1_status {
    guard(|| {
        // SAFETY: the caller guarantees a non-null `plan` is live.
        let p = unsafe { plan_ref(plan) }?;
        if sizes.is_null() {
            return Err(Failure::null("sizes"));
        }
        let dims = Dims::from(dims);
        let output_len = p.output_len(dims)?;
        let answer = conv1x1_sizes {
            output: p.output_dims(dims)?.into(),
            input_len: p.input_len(dims)?,
            output_len,
            residual_len: if p.spec().residual { output_len } else { 0 },
        };
        // SAFETY: non-null and writable per the contract.
        unsafe { sizes.write(answer) };
        Ok(())
    })
}

/// Runs the convolution on the calling thread.
///
/// `input` is `[N][Cin][H][W]` (NCHW) or `[N][H][W][Cin]` (NHWC) for `dims = {N, H, W}`;
/// `output` and `residual` have the output's shape in the same layout (see
/// `conv1x1_plan_sizes`). Each `*_len` is the number of floats the caller's buffer holds;
/// the library checks it against the required count and fails rather than read or write
/// past it. `residual` must be non-NULL exactly when the plan has `has_residual`
/// (`residual_len` is ignored when it is NULL). The output must not overlap the input or
/// the residual (input and residual may overlap each other).
///
/// Errors: `CONV1X1_NULL_POINTER`; `CONV1X1_INVALID_ARGUMENT` (zero dimension, misaligned
/// buffer, residual given to a plan without one); `CONV1X1_BAD_LENGTH`; `CONV1X1_OVERFLOW`;
/// `CONV1X1_OVERLAP`. On error nothing is written.
///
/// # Safety
/// `plan` must be NULL or a live plan; non-null buffers must be valid for `*_len` floats
/// (reads for input and residual, writes for output) for the whole call, and no other
/// thread may access the output meanwhile.
#[no_mangle]
pub unsafe extern "C" fn conv1x1_plan_run(
    plan: *const conv1x1_plan,
    dims: conv1x1_dims,
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
    residual: *const f32,
    residual_len: usize,
) -> conv1x1_status {
    guard(|| {
        // SAFETY: forwarded contract; one item of a split into one is the whole convolution.
        unsafe {
            run_checked(
                plan,
                dims,
                run_buffers(input, input_len, output, output_len, residual, residual_len),
                0,
                1,
            )
        }
    })
}

/// Stores in `*count` the number of non-empty work items a split of one run on `dims` into
/// at most `max_items` items yields (at least 1). Together the items compute the whole
/// output; they may run on any threads in any order, and the result equals
/// `conv1x1_plan_run`'s bit for bit.
///
/// Errors: `CONV1X1_NULL_POINTER`; `CONV1X1_INVALID_ARGUMENT` (zero dimension or
/// `max_items == 0`); `CONV1X1_OVERFLOW`.
///
/// # Safety
/// `plan` must be NULL or a live plan; `count` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn conv1x1_plan_work_item_count(
    plan: *const conv1x1_plan,
    dims: conv1x1_dims,
    max_items: usize,
    count: *mut usize,
) -> conv1x1_status {
    guard(|| {
        // SAFETY: the caller guarantees a non-null `plan` is live.
        let p = unsafe { plan_ref(plan) }?;
        if count.is_null() {
            return Err(Failure::null("count"));
        }
        if max_items == 0 {
            return Err(Error::Zero { what: "max_items" }.into());
        }
        let n = p.work_item_count(dims.into(), max_items)?;
        // SAFETY: non-null and writable per the contract.
        unsafe { count.write(n) };
        Ok(())
    })
}

/// Runs work item `index` of a split of one run into at most `count` items: the way an
/// engine's own thread pool parallelizes one convolution. Call it for every `index` in
/// `0..count` (from any threads, in any order, each index once) with the same `count`,
/// dims and buffers; indices at or past `conv1x1_plan_work_item_count(plan, dims, count)`
/// are valid and do nothing, so `count` may simply be the number of threads.
///
/// Buffers and errors as for `conv1x1_plan_run`; additionally `CONV1X1_INVALID_ARGUMENT`
/// when `count == 0` or `index >= count`.
///
/// # Safety
/// As for `conv1x1_plan_run`, except that calls for different indices of the same split may
/// write the same output concurrently (each writes its own disjoint part).
#[no_mangle]
pub unsafe extern "C" fn conv1x1_plan_run_item(
    plan: *const conv1x1_plan,
    dims: conv1x1_dims,
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
    residual: *const f32,
    residual_len: usize,
    index: usize,
    count: usize,
) -> conv1x1_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            run_checked(
                plan,
                dims,
                run_buffers(input, input_len, output, output_len, residual, residual_len),
                index,
                count,
            )
        }
    })
}

fn run_buffers(
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
    residual: *const f32,
    residual_len: usize,
) -> RunBuffers {
    RunBuffers {
        input: Buffer::new("input", input, input_len),
        output: Buffer::new("output", output.cast_const(), output_len),
        residual: Buffer::new("residual", residual, residual_len),
    }
}

/// Checks everything checkable, then runs item `index` of `count`.
///
/// # Safety
/// `plan` must be NULL or live; the buffers must be as `conv1x1_plan_run_item` requires.
unsafe fn run_checked(
    plan: *const conv1x1_plan,
    dims: conv1x1_dims,
    bufs: RunBuffers,
    index: usize,
    count: usize,
) -> Outcome {
    // SAFETY: forwarded contract.
    let p = unsafe { plan_ref(plan) }?;
    let dims = Dims::from(dims);
    if count == 0 || index >= count {
        return Err(Error::WorkItem { index, count }.into());
    }
    bufs.check(p, dims)?;
    let residual_len = if bufs.residual.is_null() {
        0
    } else {
        bufs.residual.len
    };
    // SAFETY: `check` verified non-null, aligned buffers whose caller-declared lengths equal
    // what the plan needs, and an output disjoint from input and residual; the caller
    // guarantees those lengths are valid memory and that no one else writes this item's part
    // of the output.
    unsafe {
        p.run_item_raw(
            dims,
            bufs.input.ptr,
            bufs.input.len,
            bufs.output.ptr.cast_mut(),
            bufs.output.len,
            bufs.residual.ptr,
            residual_len,
            index,
            count,
        )
    }?;
    Ok(())
}
