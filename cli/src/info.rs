//! `conv1x1 info`: the machine as the library sees it.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::args::InfoArgs;
use crate::format;

#[derive(Debug, Serialize)]
pub struct Info {
    pub arch: String,
    pub cpu: String,
    pub features: Vec<String>,
    pub isas: Vec<String>,
    pub selected: String,
    /// The transparent huge page mode (`always`, `madvise`, `never` or `unavailable`):
    /// whether `bench --huge-pages` and `AlignedBuf::huge_zeroed` can get huge pages.
    pub thp_mode: String,
    pub kernels: Vec<KernelEntry>,
}

#[derive(Debug, Serialize)]
pub struct KernelEntry {
    pub name: String,
    pub isa: String,
    pub layout: String,
    pub cin: Option<usize>,
    pub cout: Option<usize>,
    pub mr: usize,
    pub nr: usize,
    pub specialized: bool,
}

/// Gathers the information; fails only when `CONV1X1_ISA` names an ISA this CPU lacks.
pub fn gather() -> Result<Info> {
    Ok(Info {
        arch: crate::cpu::arch().to_string(),
        cpu: crate::cpu::model(),
        features: crate::cpu::features()
            .into_iter()
            .map(str::to_string)
            .collect(),
        isas: conv1x1::dispatch::supported_isas()
            .iter()
            .map(|i| i.name().to_string())
            .collect(),
        selected: conv1x1::dispatch::auto_isa()?.name().to_string(),
        thp_mode: crate::cpu::thp_mode(),
        kernels: conv1x1::kernels()
            .map(|k| KernelEntry {
                name: k.name.to_string(),
                isa: k.isa.name().to_string(),
                layout: k.layout.name().to_string(),
                cin: k.cin,
                cout: k.cout,
                mr: k.mr,
                nr: k.nr,
                specialized: k.specialized(),
            })
            .collect(),
    })
}

pub fn run(args: &InfoArgs, out: &mut dyn Write) -> Result<()> {
    let info = gather()?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &info)?;
        writeln!(out)?;
        return Ok(());
    }
    let env = match std::env::var(conv1x1::dispatch::ISA_ENV) {
        Ok(v) if !v.trim().is_empty() => format!(" ({}={v})", conv1x1::dispatch::ISA_ENV),
        _ => String::new(),
    };
    writeln!(out, "arch:      {}", info.arch)?;
    writeln!(out, "cpu:       {}", info.cpu)?;
    writeln!(out, "features:  {}", info.features.join(" "))?;
    writeln!(out, "isas:      {}", info.isas.join(" "))?;
    writeln!(out, "selected:  {}{env}", info.selected)?;
    writeln!(out, "THP mode:  {}", info.thp_mode)?;
    writeln!(out, "\nkernels ({}):", info.kernels.len())?;
    let dash = || "-".to_string();
    let rows: Vec<Vec<String>> = info
        .kernels
        .iter()
        .map(|k| {
            vec![
                k.name.clone(),
                k.isa.clone(),
                k.layout.clone(),
                k.cin.map_or_else(dash, |c| c.to_string()),
                k.cout.map_or_else(dash, |c| c.to_string()),
                format!("{}x{}", k.mr, k.nr),
                if k.specialized {
                    "specialized"
                } else {
                    "generic"
                }
                .to_string(),
                if info.isas.contains(&k.isa) {
                    "yes"
                } else {
                    "no"
                }
                .to_string(),
            ]
        })
        .collect();
    write!(
        out,
        "{}",
        format::table(
            "  ",
            &["name", "isa", "layout", "cin", "cout", "tile", "kind", "usable"],
            &[false, false, false, true, true, false, false, false],
            &rows,
        )
    )?;
    Ok(())
}
