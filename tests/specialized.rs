//! Every specialized kernel this CPU can run, against the f64 reference: stride 1 and 2,
//! batch 1 and 3, every epilogue, on small images that still cover a full register tile plus
//! a tail on the kernel's constant path. Outputs start as NaN, so an element a kernel forgets
//! to write fails. Every kernel is checked on every leg; under `CONV1X1_TEST_QUICK`
//! (emulators) with fewer cases per kernel.

mod common;

use common::*;
use conv1x1::suite::suite;
use conv1x1::{dispatch, Dims, KernelInfo, KernelKind, Layout, Plan};

/// The specialized kernels this CPU supports.
fn specialized_kernels() -> Vec<&'static KernelInfo> {
    conv1x1::kernels()
        .filter(|k| k.specialized() && dispatch::is_supported(k.isa))
        .collect()
}

/// The stride a pair runs at in the suites (its kernel's constant path), else 1.
fn own_stride(cin: usize, cout: usize) -> usize {
    suite("all")
        .unwrap()
        .iter()
        .find(|s| (s.cin, s.cout) == (cin, cout))
        .map_or(1, |s| s.stride)
}

/// Output pixels `(rows, columns)` with one full pixel tile of the kernel and a tail in every
/// run: NCHW tiles run along a row (runs are output rows at stride 2), NHWC tiles span rows
/// (two rows, so tiles cross a row end; one under `quick`).
fn tile_and_tail(kernel: &KernelInfo) -> (usize, usize) {
    match (kernel.layout, quick()) {
        (Layout::Nchw, false) => (1, kernel.nr + 3),
        (Layout::Nchw, true) => (1, kernel.nr + 1),
        (Layout::Nhwc, false) => (2, kernel.mr + 2),
        (Layout::Nhwc, true) => (1, kernel.mr + 1),
    }
}

/// The input image whose output is `out` at `stride`.
fn input_for(out: (usize, usize), stride: usize) -> (usize, usize) {
    ((out.0 - 1) * stride + 1, (out.1 - 1) * stride + 1)
}

/// The cases of one kernel: (stride, batch, output pixels). The constant path (the pair's own
/// stride) gets a full tile plus tail at batch 1 and a short image at batch 3; the other
/// stride (the fallback path) short images. The f64 reference costs Cin·Cout per pixel, so
/// images stay small; `CONV1X1_TEST_QUICK` (emulators) keeps two cases.
fn cases(kernel: &KernelInfo, own: usize) -> Vec<(usize, usize, (usize, usize))> {
    let other = if own == 1 { 2 } else { 1 };
    let short = if quick() { (1, 1) } else { (1, 2) };
    let mut list = vec![(own, 1, tile_and_tail(kernel)), (other, 3, short)];
    if !quick() {
        list.push((own, 3, (1, 3)));
        list.push((other, 1, (2, 3)));
    }
    list
}

#[test]
fn every_specialized_kernel_matches_reference() {
    let kernels = specialized_kernels();
    let mut seed = 1;
    for (index, kernel) in kernels.iter().enumerate() {
        let (cin, cout) = (kernel.cin.unwrap(), kernel.cout.unwrap());
        for (n, (stride, batch, out)) in
            cases(kernel, own_stride(cin, cout)).into_iter().enumerate()
        {
            // Consecutive kernels start at different epilogues, so each kernel meets all four
            // (two under `quick`) and every epilogue meets every ISA, layout and stride.
            let epi = EPILOGUES[(index + n) % EPILOGUES.len()];
            let (h, w) = input_for(out, stride);
            let case = Case {
                isa: kernel.isa,
                layout: kernel.layout,
                cin,
                cout,
                dims: Dims::new(batch, h, w),
                stride: (stride, stride),
                epi,
                // By name: plan creation fails unless this very kernel fits the case.
                kernel: KernelKind::Named(kernel.name),
            };
            seed += 1;
            check_case(&case, seed);
        }
    }
    eprintln!("{} specialized kernels checked", kernels.len());
}

/// `Auto` and `Specialized` pick the specialized kernel of a pair; `Generic` never does.
#[test]
fn auto_prefers_specialized_and_generic_avoids_it() {
    for kernel in specialized_kernels() {
        let (cin, cout) = (kernel.cin.unwrap(), kernel.cout.unwrap());
        let spec = conv1x1::ConvSpec::new(cin, cout)
            .layout(kernel.layout)
            .isa(kernel.isa);
        let weights = vec![0.5f32; cin * cout];
        let auto = Plan::new(&spec, &weights, None).unwrap();
        assert_eq!(auto.kernel().name, kernel.name);
        let special = Plan::new(&spec.kernel(KernelKind::Specialized), &weights, None).unwrap();
        assert_eq!(special.kernel().name, kernel.name);
        let generic = Plan::new(&spec.kernel(KernelKind::Generic), &weights, None).unwrap();
        assert!(!generic.kernel().specialized(), "{}", generic.kernel().name);
    }
}

/// Forcing a specialized kernel for a pair the spec does not list is an error, not a panic.
#[test]
fn missing_specialized_kernel_is_an_error() {
    let spec = conv1x1::ConvSpec::new(7, 5).kernel(KernelKind::Specialized);
    let err = Plan::new(&spec, &[0.0; 35], None).unwrap_err();
    let message = err.to_string();
    assert!(message.contains('7') && message.contains('5'), "{message}");
}

/// The kernel names follow the registry's scheme and are unique.
#[test]
fn names_follow_the_scheme() {
    let mut names: Vec<&str> = conv1x1::kernels().map(|k| k.name).collect();
    for k in conv1x1::kernels().filter(|k| k.specialized()) {
        let want = format!(
            "f32_{}_c{}k{}_{}x{}__{}",
            k.layout,
            k.cin.unwrap(),
            k.cout.unwrap(),
            k.mr,
            k.nr,
            k.isa
        );
        assert_eq!(k.name, want);
        assert_eq!(k.nr % k.lanes, 0, "{}", k.name);
        assert_eq!(k.cin.unwrap() % k.kc, 0, "{}: kc must divide Cin", k.name);
    }
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "duplicate kernel names");
}

/// kernels/README.md shows the header of a generated kernel, which cites the spec line the
/// kernel comes from; that line of kernels/pairs.spec must still say what the README quotes
/// (editing the spec's comments moves its lines).
#[test]
#[cfg_attr(miri, ignore = "reads files")]
fn readme_cites_the_spec_line_it_quotes() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/kernels/README.md")).unwrap();
    let spec = std::fs::read_to_string(format!("{root}/kernels/pairs.spec")).unwrap();
    let prefix = "// kernels/pairs.spec:";
    let cite = readme
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .expect("kernels/README.md quotes a generated kernel header");
    let (line, quoted) = cite.split_once(": ").expect("`<line>: `<text>``");
    let line: usize = line.parse().expect("a line number");
    let quoted = quoted.trim_matches('`');
    let actual = spec.lines().nth(line - 1).unwrap_or_default();
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        words(actual),
        words(quoted),
        "kernels/README.md cites pairs.spec:{line}; update the line number"
    );
}
