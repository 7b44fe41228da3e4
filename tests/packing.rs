//! Packed weights take the raw weight bytes plus tile padding and nothing more: for every
//! kernel this CPU can run (generic, vectorized along output channels, specialized), the plan
//! holds Cin × (Cout rounded up to its panels) floats, and the bias Cout rounded up the same
//! way.

mod common;

use common::isas;
use conv1x1::{kernels, ConvSpec, KernelInfo, KernelKind, Plan};

/// Output channels including padding: pixel-vectorized (NCHW) kernels pack panels of MR
/// channels, zero padded; channel-vectorized kernels (NHWC, and the NCHW `_cv_` ones) panels
/// of NR channels, the last one only to whole vectors, except an NHWC last panel of 1, 3, 5
/// or 7 half vectors on AVX2 / AVX-512, which is k-paired and not padded at all. (A last
/// panel of exactly one vector is k-paired too; it needs no padding either way.)
fn padded_cout(k: &KernelInfo, cout: usize) -> usize {
    let pixel_vectorized = k.layout == conv1x1::Layout::Nchw && !k.name.contains("_cv_");
    if pixel_vectorized {
        cout.next_multiple_of(k.mr)
    } else {
        let full = (cout - 1) / k.nr;
        let last = cout - full * k.nr;
        let half = k.lanes / 2;
        let k_paired = k.layout == conv1x1::Layout::Nhwc
            && matches!(k.isa, conv1x1::Isa::Avx2 | conv1x1::Isa::Avx512)
            && last % k.lanes == half
            && last / half <= 7;
        if k_paired {
            cout
        } else {
            full * k.nr + last.next_multiple_of(k.lanes)
        }
    }
}

fn check(k: &KernelInfo, cin: usize, cout: usize) {
    let spec = ConvSpec::new(cin, cout)
        .layout(k.layout)
        .kernel(KernelKind::Named(k.name));
    let weights = vec![0.25f32; cin * cout];
    let bias = vec![0.5f32; cout];
    let padded = padded_cout(k, cout);
    // Padding is less than one panel per input channel.
    assert!(
        padded >= cout && padded - cout < k.mr.max(k.nr),
        "{}",
        k.name
    );
    let plan = Plan::new(&spec, &weights, None).unwrap();
    assert_eq!(plan.kernel().name, k.name);
    assert_eq!(
        plan.packed_bytes(),
        4 * cin * padded,
        "{} {cin}x{cout}: packed weights",
        k.name
    );
    let with_bias = Plan::new(&spec, &weights, Some(&bias)).unwrap();
    assert_eq!(
        with_bias.packed_bytes(),
        4 * (cin * padded + padded),
        "{} {cin}x{cout}: packed weights and bias",
        k.name
    );
}

#[test]
fn packed_weights_are_raw_bytes_plus_tile_padding() {
    let supported = isas();
    for k in kernels().filter(|k| supported.contains(&k.isa)) {
        match (k.cin, k.cout) {
            (Some(cin), Some(cout)) => check(k, cin, cout),
            _ => {
                for cin in [1, 3, 64, 300] {
                    for cout in [1, 7, 8, 12, 16, 24, 40, 65, 100, 120, 600] {
                        check(k, cin, cout);
                    }
                }
            }
        }
    }
}
