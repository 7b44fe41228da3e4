//! Random shapes (proptest): any channel counts, image sizes, strides, batch, layout,
//! epilogue and ISA agree with the f64 reference.

mod common;

use common::*;
use conv1x1::{Dims, KernelKind, Layout};
use proptest::prelude::*;

fn arb_case() -> impl Strategy<Value = Case> {
    let isas = isas();
    (
        0..isas.len(),
        prop_oneof![Just(Layout::Nchw), Just(Layout::Nhwc)],
        1usize..80,
        1usize..80,
        (1usize..4, 1usize..20, 1usize..20),
        (1usize..4, 1usize..4),
        0..EPILOGUES.len(),
        // 0: automatic choice, 1: generic, 2..: each generic kernel of the ISA and layout by name.
        0usize..4,
    )
        .prop_map(
            move |(i, layout, cin, cout, (n, h, w), stride, e, choice)| {
                let isa = isas[i];
                let named: Vec<KernelKind> = generic_kernels(layout)
                    .into_iter()
                    .filter(|&(k, _)| k == isa)
                    .map(|(_, k)| k)
                    .collect();
                let kernel = match choice {
                    0 => KernelKind::Auto,
                    1 => KernelKind::Generic,
                    c => named[c % named.len()],
                };
                Case {
                    isa,
                    layout,
                    cin,
                    cout,
                    dims: Dims::new(n, h, w),
                    stride,
                    epi: EPILOGUES[e],
                    kernel,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if quick() { 40 } else { 300 }, ..ProptestConfig::default() })]

    #[test]
    fn random_shapes_match_reference(case in arb_case(), seed in any::<u64>()) {
        check_case(&case, seed);
    }
}
