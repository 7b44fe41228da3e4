//! Weight-packing time: one `Plan::new` (validation, kernel choice, allocation and packing of
//! the `[Cout][Cin]` weights) per suite shape, per ISA and layout.
//!
//! Groups are named by suite and channels (`pack/resnet50/256x64`: the image size plays no
//! part in packing); ids are `<isa>/<layout>`. Throughput is the weight size in bytes, so
//! criterion's B/s column is the rate at which weights are packed. Freeing the plan happens
//! outside the timed region. The source weights rotate among copies larger than the L2
//! cache, so they are read from L3, as weights just loaded by a framework would be.

mod common;

use std::collections::HashSet;

use common::Rotation;
use conv1x1::{ConvSpec, Isa, Layout, Plan};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

const WEIGHT_SEED: u64 = 1;

fn packing(c: &mut Criterion) {
    let mut seen = HashSet::new();
    for case in common::suite_shapes() {
        let (cin, cout) = (case.shape.cin, case.shape.cout);
        if !seen.insert((case.suite, cin, cout)) {
            continue;
        }
        let mut group = c.benchmark_group(format!("pack/{}/{cin}x{cout}", case.suite));
        group.throughput(Throughput::Bytes((4 * cin * cout) as u64));
        for layout in common::LAYOUTS {
            for isa in common::all_isas() {
                bench_pack(&mut group, cin, cout, layout, isa);
            }
        }
        group.finish();
    }
}

fn bench_pack(
    group: &mut BenchmarkGroup<'_, WallTime>,
    cin: usize,
    cout: usize,
    layout: Layout,
    isa: Isa,
) {
    let spec = ConvSpec::new(cin, cout).layout(layout).isa(isa);
    // Built on first use: only ids that pass the filter allocate their weights.
    let mut weights: Option<Rotation> = None;
    group.bench_function(format!("{isa}/{layout}"), |b| {
        let weights = weights.get_or_insert_with(|| {
            let w = Rotation::random(cin * cout, WEIGHT_SEED);
            // Fail before timing if this spec cannot be planned at all.
            Plan::new(&spec, &w.bufs[0], None)
                .unwrap_or_else(|e| panic!("{cin}x{cout} {isa}/{layout}: {e}"));
            w
        });
        let mut call = 0;
        b.iter_with_large_drop(|| {
            let w = &weights.bufs[weights.index(call)];
            call += 1;
            Plan::new(&spec, w, None).expect("checked before timing")
        });
    });
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = packing
}
criterion_main!(benches);
