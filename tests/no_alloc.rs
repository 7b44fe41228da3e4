//! `Plan::run` and running work items allocate nothing: a counting global allocator watches
//! every ISA and layout, with stride, batch and the full epilogue. Both run on the calling
//! thread, whose allocations are the ones counted.

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use conv1x1::{dispatch, Activation, ConvSpec, Dims, Layout, Plan};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on the test's thread while it runs the plan: only that thread's allocations count.
    /// Other threads, such as the test harness's own after it has started the test, may
    /// allocate meanwhile: a CI run under qemu once counted two allocations the plan's run
    /// path cannot make.
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    // `try_with`: an allocation during thread teardown must not panic.
    if WATCHED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        count();
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn running_a_plan_allocates_nothing() {
    // The counter sees this thread's allocations while watched.
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    WATCHED.set(true);
    let probe = std::hint::black_box(vec![1u8; 10]);
    WATCHED.set(false);
    drop(probe);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), before + 1);

    for isa in dispatch::supported_isas() {
        for layout in [Layout::Nchw, Layout::Nhwc] {
            let (cin, cout) = (300, 37);
            let spec = ConvSpec::new(cin, cout)
                .layout(layout)
                .stride(2)
                .activation(Activation::Relu6)
                .residual(true)
                .isa(isa);
            let weights = vec![0.25f32; cin * cout];
            let bias = vec![0.5f32; cout];
            let plan = Plan::new(&spec, &weights, Some(&bias)).unwrap();
            let dims = Dims::new(2, 9, 11);
            let input = vec![1.0f32; plan.input_len(dims).unwrap()];
            let residual = vec![1.0f32; plan.output_len(dims).unwrap()];
            let mut output = vec![0.0f32; plan.output_len(dims).unwrap()];

            let before = ALLOCATIONS.load(Ordering::SeqCst);
            WATCHED.set(true);
            plan.run(dims, &input, &mut output, Some(&residual))
                .unwrap();
            for item in plan
                .work_items(dims, &input, &mut output, Some(&residual), 3)
                .unwrap()
            {
                item.run();
            }
            WATCHED.set(false);
            let after = ALLOCATIONS.load(Ordering::SeqCst);
            assert_eq!(after, before, "{isa} {layout}: run allocated");
        }
    }
}
