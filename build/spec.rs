//! Parser of `kernels/pairs.spec` (the format is described at the top of that file).

use std::collections::HashMap;

use crate::isa::{isa_named, Isa, Layout};

/// One kernel to generate: one cell of the spec.
#[derive(Debug)]
pub struct Kernel {
    pub cin: usize,
    pub cout: usize,
    /// The stride the pair runs at: the kernel's constant path is for this stride only.
    pub stride: usize,
    pub isa: &'static Isa,
    pub layout: Layout,
    /// Broadcast side of the tile.
    pub mr: usize,
    /// Vectors on the vector side of the tile.
    pub nv: usize,
    /// Input channels per block; divides `cin`.
    pub kc: usize,
    /// Output channels per cache block.
    pub mc: usize,
    /// Output pixels per cache block.
    pub nc: usize,
    /// Line of the spec the kernel comes from (1-based) and the line itself.
    pub line: usize,
    pub source: String,
}

impl Kernel {
    /// Vector side of the tile in elements.
    pub fn nr(&self) -> usize {
        self.nv * self.isa.lanes
    }
    /// Width of one output-channel panel (NCHW: MR, NHWC: NR).
    pub fn panel_width(&self) -> usize {
        match self.layout {
            Layout::Nchw => self.mr,
            Layout::Nhwc => self.nr(),
        }
    }
    /// Valid output channels in the last panel: a constant for a fixed Cout.
    pub fn last_panel(&self) -> usize {
        let w = self.panel_width();
        self.cout - (self.cout.div_ceil(w) - 1) * w
    }
    /// `f32_<layout>_c<Cin>k<Cout>_<MR>x<NR>__<isa>`, as in the registry's naming scheme.
    pub fn name(&self) -> String {
        format!(
            "f32_{}_c{}k{}_{}x{}__{}",
            self.layout.name(),
            self.cin,
            self.cout,
            self.mr,
            self.nr(),
            self.isa.name
        )
    }
}

/// A column: which ISA and layout the cells below it are for.
#[derive(Debug, Clone, Copy)]
struct Column {
    isa: &'static Isa,
    layout: Layout,
}

/// Per-ISA cache blocks (`blocks` lines).
#[derive(Debug, Clone, Copy)]
struct Blocks {
    mc: usize,
    nc: usize,
}

/// Overrides a cell may carry after its tile.
#[derive(Debug, Default)]
struct Options {
    kc: Option<usize>,
    mc: Option<usize>,
    nc: Option<usize>,
}

/// Parses the spec text; `file` names it in error messages.
pub fn parse(file: &str, text: &str) -> Result<Vec<Kernel>, String> {
    let mut kc_max = None;
    let mut kc_max_of: HashMap<(&'static str, Layout), usize> = HashMap::new();
    let mut blocks: HashMap<&'static str, Blocks> = HashMap::new();
    let mut columns: Option<Vec<Column>> = None;
    let mut kernels = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let at = |msg: String| format!("{file}:{line}: {msg}");
        let content = raw.split('#').next().unwrap_or("").trim();
        let mut words = content.split_whitespace();
        let Some(first) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        match first {
            "kc-max" => match rest[..] {
                [n] => kc_max = Some(positive(n).map_err(at)?),
                [col, n] => {
                    let col = column(col).map_err(at)?;
                    kc_max_of.insert((col.isa.name, col.layout), positive(n).map_err(at)?);
                }
                _ => return Err(at("expected `kc-max [<isa>.<layout>] <N>`".into())),
            },
            "blocks" => {
                let [isa, mc, nc] = rest[..] else {
                    return Err(at("expected `blocks <isa> mc=<M> nc=<N>`".into()));
                };
                let isa = isa_named(isa).ok_or_else(|| at(format!("unknown ISA `{isa}`")))?;
                let mc = keyed("mc", mc).map_err(at)?;
                let nc = keyed("nc", nc).map_err(at)?;
                blocks.insert(isa.name, Blocks { mc, nc });
            }
            "columns" => {
                let cols = rest
                    .iter()
                    .map(|c| column(c))
                    .collect::<Result<Vec<_>, _>>();
                columns = Some(cols.map_err(at)?);
            }
            pair => {
                let (cin, rest_of_pair) = pair
                    .split_once('x')
                    .ok_or_else(|| at(format!("unknown directive `{pair}`")))?;
                let (cout, stride) = match rest_of_pair.split_once('s') {
                    Some((cout, stride)) => (cout, positive(stride).map_err(at)?),
                    None => (rest_of_pair, 1),
                };
                let (cin, cout) = (positive(cin).map_err(at)?, positive(cout).map_err(at)?);
                let cols = columns
                    .as_ref()
                    .ok_or_else(|| at("a pair line before the `columns` line".into()))?;
                if rest.len() != cols.len() {
                    return Err(at(format!(
                        "{} cells for {} columns",
                        rest.len(),
                        cols.len()
                    )));
                }
                let kc_max = kc_max.ok_or_else(|| at("a pair line before `kc-max <N>`".into()))?;
                for (cell, col) in rest.iter().zip(cols) {
                    if *cell == "-" {
                        continue;
                    }
                    let isa_blocks = *blocks
                        .get(col.isa.name)
                        .ok_or_else(|| at(format!("no `blocks` line for {}", col.isa.name)))?;
                    let kc_max = *kc_max_of
                        .get(&(col.isa.name, col.layout))
                        .unwrap_or(&kc_max);
                    let kernel =
                        cell_kernel(cell, (cin, cout, stride), *col, kc_max, isa_blocks, line)
                            .map_err(|e| {
                                at(format!(
                                    "{}.{} `{cell}`: {e}",
                                    col.isa.name,
                                    col.layout.name()
                                ))
                            })?;
                    if kernels
                        .iter()
                        .any(|k: &Kernel| k.name() == kernel.name() || same_slot(k, &kernel))
                    {
                        return Err(at(format!("{}x{} listed twice", cin, cout)));
                    }
                    kernels.push(Kernel {
                        source: content.split_whitespace().collect::<Vec<_>>().join(" "),
                        ..kernel
                    });
                }
            }
        }
    }
    Ok(kernels)
}

/// Two kernels for the same (Cin, Cout, ISA, layout): the registry could pick only one.
fn same_slot(a: &Kernel, b: &Kernel) -> bool {
    (a.cin, a.cout, a.isa.name, a.layout) == (b.cin, b.cout, b.isa.name, b.layout)
}

fn column(text: &str) -> Result<Column, String> {
    let (isa, layout) = text
        .split_once('.')
        .ok_or_else(|| format!("column `{text}` is not <isa>.<layout>"))?;
    Ok(Column {
        isa: isa_named(isa).ok_or_else(|| format!("unknown ISA `{isa}`"))?,
        layout: Layout::parse(layout).ok_or_else(|| format!("unknown layout `{layout}`"))?,
    })
}

/// Parses one cell `MRxNV[:key=value,...]` into a kernel.
fn cell_kernel(
    cell: &str,
    (cin, cout, stride): (usize, usize, usize),
    col: Column,
    kc_max: usize,
    blocks: Blocks,
    line: usize,
) -> Result<Kernel, String> {
    let (tile, opts) = match cell.split_once(':') {
        Some((tile, opts)) => (tile, options(opts)?),
        None => (cell, Options::default()),
    };
    let (mr, nv) = tile
        .split_once('x')
        .ok_or_else(|| "the tile is not MRxNV".to_string())?;
    let (mr, nv) = (positive(mr)?, positive(nv)?);
    if mr > 16 || nv > 16 {
        return Err("MR and NV are at most 16 (the template unrolls tile loops up to 16)".into());
    }
    let needed = mr * nv + nv + 1;
    if needed > col.isa.registers {
        return Err(format!(
            "the tile needs {needed} vector registers ({mr}·{nv} sums + {nv} loads + 1 broadcast), {} has {}",
            col.isa.name, col.isa.registers
        ));
    }
    let kc = match opts.kc {
        Some(kc) if !cin.is_multiple_of(kc) => {
            return Err(format!("kc={kc} does not divide Cin = {cin}"));
        }
        Some(kc) => kc,
        None => default_kc(cin, kc_max),
    };
    Ok(Kernel {
        cin,
        cout,
        stride,
        isa: col.isa,
        layout: col.layout,
        mr,
        nv,
        kc,
        mc: opts.mc.unwrap_or(blocks.mc),
        nc: opts.nc.unwrap_or(blocks.nc),
        line,
        source: String::new(),
    })
}

/// Cin itself when it fits, else its largest divisor that does: equal, constant blocks.
fn default_kc(cin: usize, kc_max: usize) -> usize {
    (1..=kc_max.min(cin))
        .rev()
        .find(|&d| cin.is_multiple_of(d))
        .unwrap_or(1)
}

fn options(text: &str) -> Result<Options, String> {
    let mut opts = Options::default();
    for kv in text.split(',') {
        let (key, value) = kv
            .split_once('=')
            .ok_or_else(|| format!("option `{kv}` is not key=value"))?;
        let value = positive(value)?;
        match key {
            "kc" => opts.kc = Some(value),
            "mc" => opts.mc = Some(value),
            "nc" => opts.nc = Some(value),
            _ => return Err(format!("unknown option `{key}` (kc, mc, nc)")),
        }
    }
    Ok(opts)
}

/// `key=<positive number>`.
fn keyed(key: &str, text: &str) -> Result<usize, String> {
    match text.split_once('=') {
        Some((k, v)) if k == key => positive(v),
        _ => Err(format!("expected {key}=<number>, got `{text}`")),
    }
}

fn positive(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{text}` is not a positive number"))
}
