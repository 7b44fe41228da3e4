//! `conv1x1 run` on .npy files written by npyz, compared with the f64 reference.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use conv1x1::reference::{conv1x1_reference, relative_l2_error};
use conv1x1::{Activation, ConvSpec, Dims, Layout};

struct Problem {
    layout: Layout,
    n: usize,
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    stride: (usize, usize),
    activation: Activation,
    bias: bool,
    residual: bool,
    /// Weights as [Cout,Cin,1,1] instead of [Cout,Cin].
    w4: bool,
}

impl Problem {
    fn out_hw(&self) -> (usize, usize) {
        (
            (self.h - 1) / self.stride.0 + 1,
            (self.w - 1) / self.stride.1 + 1,
        )
    }

    /// Writes the inputs into `dir`, runs the binary, and returns the relative L2 error of
    /// its output against the reference.
    fn check(&self, dir: &Path, extra: &[&str]) -> f64 {
        let (ho, wo) = self.out_hw();
        let x_shape = match self.layout {
            Layout::Nchw => vec![self.n, self.cin, self.h, self.w],
            Layout::Nhwc => vec![self.n, self.h, self.w, self.cin],
        };
        let y_shape = match self.layout {
            Layout::Nchw => vec![self.n, self.cout, ho, wo],
            Layout::Nhwc => vec![self.n, ho, wo, self.cout],
        };
        let x = random(x_shape.iter().product(), 1);
        let w = random(self.cout * self.cin, 2);
        let b = random(self.cout, 3);
        let r = random(y_shape.iter().product(), 4);
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        write_npy(&dir.join("x.npy"), &x_shape, &x);
        let w_shape = if self.w4 {
            vec![self.cout, self.cin, 1, 1]
        } else {
            vec![self.cout, self.cin]
        };
        write_npy(&dir.join("w.npy"), &w_shape, &w);
        write_npy(&dir.join("b.npy"), &[self.cout], &b);
        write_npy(&dir.join("r.npy"), &y_shape, &r);

        let stride = format!("{}x{}", self.stride.0, self.stride.1);
        let activation = self.activation.to_string();
        let (xp, wp, bp, rp, yp) = (
            path("x.npy"),
            path("w.npy"),
            path("b.npy"),
            path("r.npy"),
            path("y.npy"),
        );
        let mut args = vec![
            "run",
            "--input",
            &xp,
            "--weights",
            &wp,
            "--output",
            &yp,
            "--layout",
            self.layout.name(),
            "--stride",
            &stride,
            "--activation",
            &activation,
        ];
        if self.bias {
            args.extend(["--bias", &bp]);
        }
        if self.residual {
            args.extend(["--residual", &rp]);
        }
        args.extend(extra);
        let stdout = ok(&args);
        assert!(stdout.contains("wrote"), "{stdout}");
        if let Some(i) = extra.iter().position(|&a| a == "--kernel") {
            assert!(stdout.contains(extra[i + 1]), "{stdout}");
        }

        let (got_shape, got) = read_npy(&dir.join("y.npy"));
        assert_eq!(got_shape, y_shape);
        let spec = ConvSpec::new(self.cin, self.cout)
            .layout(self.layout)
            .stride_hw(self.stride.0, self.stride.1)
            .activation(self.activation)
            .residual(self.residual);
        let want = conv1x1_reference(
            &spec,
            Dims::new(self.n, self.h, self.w),
            &w,
            self.bias.then_some(&b[..]),
            &x,
            self.residual.then_some(&r[..]),
        )
        .unwrap();
        relative_l2_error(&got, &want)
    }
}

fn base(layout: Layout) -> Problem {
    Problem {
        layout,
        n: 2,
        cin: 19,
        cout: 37,
        h: 9,
        w: 11,
        stride: (1, 1),
        activation: Activation::None,
        bias: false,
        residual: false,
        w4: false,
    }
}

#[test]
fn npy_round_trip_matches_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let cases = [
            base(layout),
            Problem {
                stride: (2, 2),
                bias: true,
                activation: Activation::Relu,
                ..base(layout)
            },
            Problem {
                stride: (1, 2),
                residual: true,
                bias: true,
                w4: true,
                activation: Activation::Clamp {
                    min: -0.25,
                    max: 0.5,
                },
                ..base(layout)
            },
            Problem {
                n: 1,
                cin: 64,
                cout: 16,
                h: 14,
                w: 14,
                stride: (2, 2),
                activation: Activation::Relu6,
                residual: true,
                ..base(layout)
            },
        ];
        for (i, p) in cases.iter().enumerate() {
            let err = p.check(dir.path(), &[]);
            assert!(err <= 1e-5, "{layout} case {i}: relative L2 error {err}");
        }
    }
}

#[test]
fn every_usable_generic_kernel_runs_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for k in conv1x1::kernels() {
        if k.specialized() || !conv1x1::dispatch::is_supported(k.isa) {
            continue;
        }
        let p = Problem {
            stride: (2, 2),
            bias: true,
            ..base(k.layout)
        };
        let err = p.check(dir.path(), &["--isa", k.isa.name(), "--kernel", k.name]);
        assert!(err <= 1e-5, "{}: {err}", k.name);
    }
}

/// Paths of a small valid problem (NCHW, x [1,4,3,3], w [8,4], b [8]) in a temp dir.
struct Files {
    _dir: tempfile::TempDir,
    x: String,
    w: String,
    b: String,
    y: String,
    root: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_npy(&root.join("x.npy"), &[1, 4, 3, 3], &random(36, 5));
    write_npy(&root.join("w.npy"), &[8, 4], &random(32, 6));
    write_npy(&root.join("b.npy"), &[8], &random(8, 7));
    let p = |n: &str| root.join(n).to_string_lossy().into_owned();
    Files {
        x: p("x.npy"),
        w: p("w.npy"),
        b: p("b.npy"),
        y: p("y.npy"),
        root,
        _dir: dir,
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let f = files();
    let p = |n: &str| f.root.join(n).to_string_lossy().into_owned();
    let run = |x: &str, w: &str, extra: &[&str]| {
        let mut args = vec!["run", "--input", x, "--weights", w, "--output", &f.y];
        args.extend(extra);
        fails(&args, 1)
    };

    let e = run(&p("missing.npy"), &f.w, &[]);
    assert!(
        e.contains("cannot read input") && e.contains("missing.npy"),
        "{e}"
    );

    std::fs::write(p("junk.npy"), b"definitely not numpy").unwrap();
    let e = run(&p("junk.npy"), &f.w, &[]);
    assert!(e.contains("not a .npy file"), "{e}");

    // Truncated data.
    let mut bytes = std::fs::read(&f.x).unwrap();
    bytes.truncate(bytes.len() - 4);
    std::fs::write(p("short.npy"), bytes).unwrap();
    let e = run(&p("short.npy"), &f.w, &[]);
    assert!(e.contains("data has") && e.contains("needs"), "{e}");

    // float64 written by npyz.
    {
        use npyz::WriterBuilder;
        let mut out = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[8, 4])
            .writer(&mut out)
            .begin_nd()
            .unwrap();
        w.extend((0..32).map(|i| i as f64)).unwrap();
        w.finish().unwrap();
        std::fs::write(p("w64.npy"), out).unwrap();
    }
    let e = run(&f.x, &p("w64.npy"), &[]);
    assert!(
        e.contains("weights") && e.contains("'<f8'") && e.contains("float32"),
        "{e}"
    );

    // Fortran order written by npyz.
    {
        use npyz::WriterBuilder;
        let mut out = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[8, 4])
            .order(npyz::Order::Fortran)
            .writer(&mut out)
            .begin_nd()
            .unwrap();
        w.extend(random(32, 8)).unwrap();
        w.finish().unwrap();
        std::fs::write(p("wf.npy"), out).unwrap();
    }
    let e = run(&f.x, &p("wf.npy"), &[]);
    assert!(e.contains("Fortran order"), "{e}");

    write_npy(&f.root.join("w5.npy"), &[8, 5], &random(40, 9));
    let e = run(&f.x, &p("w5.npy"), &[]);
    assert!(
        e.contains("channel mismatch") && e.contains("4 channels") && e.contains("Cin = 5"),
        "{e}"
    );

    // The same file read as NHWC has 3 channels.
    let e = run(&f.x, &f.w, &["--layout", "nhwc"]);
    assert!(
        e.contains("channel mismatch") && e.contains("3 channels"),
        "{e}"
    );

    write_npy(&f.root.join("x3.npy"), &[4, 3, 3], &random(36, 5));
    let e = run(&p("x3.npy"), &f.w, &[]);
    assert!(e.contains("expected 4 dimensions"), "{e}");

    write_npy(&f.root.join("w3.npy"), &[8, 4, 3], &random(96, 9));
    let e = run(&f.x, &p("w3.npy"), &[]);
    assert!(e.contains("[Cout,Cin]"), "{e}");

    write_npy(&f.root.join("b5.npy"), &[5], &random(5, 9));
    let e = run(&f.x, &f.w, &["--bias", &p("b5.npy")]);
    assert!(e.contains("bias") && e.contains("[Cout]"), "{e}");

    write_npy(&f.root.join("r.npy"), &[1, 8, 2, 2], &random(32, 9));
    let e = run(&f.x, &f.w, &["--residual", &p("r.npy")]);
    assert!(e.contains("residual") && e.contains("(1, 8, 3, 3)"), "{e}");

    let e = run(&f.x, &f.w, &["--activation", "clamp:2:1"]);
    assert!(e.contains("clamp"), "{e}");

    if let Some(isa) = unsupported_isa() {
        let e = run(&f.x, &f.w, &["--isa", isa]);
        assert!(e.contains(isa) && e.contains("not supported"), "{e}");
    }

    let e = run(&f.x, &f.w, &["--kernel", "specialized"]);
    assert!(e.contains("no specialized kernel"), "{e}");

    let mut args = vec!["run", "--input", &f.x, "--weights", &f.w, "--bias", &f.b];
    let bad_out = p("no/such/dir/y.npy");
    args.extend(["--output", &bad_out]);
    let e = fails(&args, 1);
    assert!(e.contains("cannot write output"), "{e}");

    // Usage errors: exit status 2.
    fails(
        &[
            "run",
            "--input",
            &f.x,
            "--weights",
            &f.w,
            "--output",
            &f.y,
            "--stride",
            "0",
        ],
        2,
    );
    fails(
        &[
            "run",
            "--input",
            &f.x,
            "--weights",
            &f.w,
            "--output",
            &f.y,
            "--activation",
            "gelu",
        ],
        2,
    );
    fails(
        &[
            "run",
            "--input",
            &f.x,
            "--weights",
            &f.w,
            "--output",
            &f.y,
            "--isa",
            "all",
        ],
        2,
    );
}
