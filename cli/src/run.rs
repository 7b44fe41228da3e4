//! `conv1x1 run`: one convolution on `.npy` files.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use conv1x1::{ConvSpec, Dims, Layout, Plan};

use crate::args::RunArgs;
use crate::npy::{self, Shape};

/// A float32 array read from a `.npy` file, with the file name for messages.
struct Array {
    name: String,
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Array {
    fn load(path: &Path, role: &str) -> Result<Array> {
        let name = format!("{role} {}", path.display());
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        let (shape, data) = npy::read_f32_array(&bytes).with_context(|| name.clone())?;
        Ok(Array { name, shape, data })
    }

    fn shape_text(&self) -> Shape {
        Shape(self.shape.clone())
    }
}

pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<()> {
    let layout: Layout = args.layout.into();
    let x = Array::load(&args.input, "input")?;
    let w = Array::load(&args.weights, "weights")?;
    let bias = args
        .bias
        .as_deref()
        .map(|p| Array::load(p, "bias"))
        .transpose()?;
    let residual = args
        .residual
        .as_deref()
        .map(|p| Array::load(p, "residual"))
        .transpose()?;

    let (batch, cin, h, wd) = match (x.shape.as_slice(), layout) {
        (&[n, c, h, w], Layout::Nchw) => (n, c, h, w),
        (&[n, h, w, c], Layout::Nhwc) => (n, c, h, w),
        _ => bail!(
            "{} has shape {}, expected 4 dimensions {} for layout {layout}",
            x.name,
            x.shape_text(),
            if layout == Layout::Nchw {
                "[N,C,H,W]"
            } else {
                "[N,H,W,C]"
            },
        ),
    };
    let (cout, w_cin) = match w.shape.as_slice() {
        &[co, ci] | &[co, ci, 1, 1] => (co, ci),
        _ => bail!(
            "{} has shape {}, expected [Cout,Cin] or [Cout,Cin,1,1]",
            w.name,
            w.shape_text()
        ),
    };
    if w_cin != cin {
        bail!(
            "channel mismatch: {} has {cin} channels (shape {}, {layout}) but {} expects \
             Cin = {w_cin} (shape {})",
            x.name,
            x.shape_text(),
            w.name,
            w.shape_text()
        );
    }
    if let Some(b) = &bias {
        if b.shape != [cout] {
            bail!(
                "{} has shape {}, expected ({cout},) = [Cout]",
                b.name,
                b.shape_text()
            );
        }
    }

    let (sh, sw) = args.stride;
    let mut spec = ConvSpec::new(cin, cout)
        .layout(layout)
        .stride_hw(sh, sw)
        .activation(args.activation)
        .residual(residual.is_some())
        .kernel(args.kernel);
    if let Some(isa) = args.isa.forced() {
        spec = spec.isa(isa);
    }
    let plan = Plan::new(&spec, &w.data, bias.as_ref().map(|b| b.data.as_slice()))?;
    let dims = Dims::new(batch, h, wd);
    let od = plan.output_dims(dims)?;
    let out_shape = match layout {
        Layout::Nchw => vec![od.batch, cout, od.height, od.width],
        Layout::Nhwc => vec![od.batch, od.height, od.width, cout],
    };
    if let Some(r) = &residual {
        if r.shape != out_shape {
            bail!(
                "{} has shape {}, expected the output's shape {}",
                r.name,
                r.shape_text(),
                Shape(out_shape)
            );
        }
    }

    let mut y = vec![0.0f32; plan.output_len(dims)?];
    let start = Instant::now();
    plan.run(
        dims,
        &x.data,
        &mut y,
        residual.as_ref().map(|r| r.data.as_slice()),
    )?;
    let elapsed = start.elapsed().as_secs_f64();

    let bytes = npy::write_f32_array(&out_shape, &y);
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("cannot write output {}", args.output.display()))?;
    writeln!(
        out,
        "wrote {}: float32 {} ({layout}); kernel {} ({}), {}",
        args.output.display(),
        Shape(out_shape),
        plan.kernel().name,
        plan.isa(),
        crate::format::duration(elapsed),
    )?;
    Ok(())
}
