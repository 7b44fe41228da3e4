//! A deliberate out-of-bounds access, run only by `.ci/checks/asan.sh` under AddressSanitizer,
//! once per ISA × layout × operand (`CONV1X1_ASAN_CANARY=isa:layout:input|output`).
//!
//! The plan is told a buffer one float longer than its allocation, so the kernels read (input)
//! or write (output) exactly one float past it, in their tail code: masked vector loads and
//! stores on AVX2 and AVX-512, scalar ones on the portable path. The sanitizer must stop the
//! process with a heap-buffer-overflow; if the run completes instead, the ASan leg does not
//! check what it claims to, and the script fails.

use conv1x1::{dispatch, ConvSpec, Dims, Isa, Layout, Plan};

#[test]
#[ignore = "accesses one float past an allocation on purpose; run by .ci/checks/asan.sh"]
fn one_float_past_a_buffer() {
    let Ok(which) = std::env::var("CONV1X1_ASAN_CANARY") else {
        return;
    };
    let parts: Vec<&str> = which.split(':').collect();
    let [isa, layout, operand] = parts[..] else {
        panic!("CONV1X1_ASAN_CANARY={which}: expected isa:layout:input|output");
    };
    let isa: Isa = isa.parse().unwrap();
    let layout: Layout = layout.parse().unwrap();
    if !dispatch::is_supported(isa) {
        println!("canary: {isa} is not supported here");
        return;
    }
    // 17 channels in, 17 out, 17 pixels: a tail in every direction.
    let (cin, cout) = (17, 17);
    let dims = Dims::new(1, 1, 17);
    let spec = ConvSpec::new(cin, cout).layout(layout).isa(isa);
    let plan = Plan::new(&spec, &vec![0.5f32; cin * cout], None).unwrap();
    let (in_len, out_len) = (
        plan.input_len(dims).unwrap(),
        plan.output_len(dims).unwrap(),
    );
    let short = |len: usize| vec![1.0f32; len - 1];
    let (mut input, mut output) = (vec![1.0f32; in_len], vec![0.0f32; out_len]);
    match operand {
        "input" => input = short(in_len),
        "output" => output = short(out_len),
        _ => panic!("operand {operand}: expected input or output"),
    }
    // SAFETY: none; reading or writing past the allocation is the point. Under
    // AddressSanitizer the first such access ends the process.
    let (x, y) = unsafe {
        (
            std::slice::from_raw_parts(input.as_ptr(), in_len),
            std::slice::from_raw_parts_mut(output.as_mut_ptr(), out_len),
        )
    };
    plan.run(dims, x, y, None).unwrap();
    println!("canary: {which} ran to completion");
}
