//! CPU feature detection and the automatic ISA choice. Detection runs once; the choice is
//! cached in a `OnceLock`, so the hot path never re-detects.

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::spec::Isa;

/// The environment variable that overrides automatic dispatch: `scalar|avx2|avx512|neon`.
pub const ISA_ENV: &str = "CONV1X1_ISA";

#[cfg(target_arch = "x86_64")]
mod x86_detect {
    // cpufeatures checks both CPUID and that the OS saves the wider register state (XCR0).
    cpufeatures::new!(avx2_fma, "avx2", "fma");
    cpufeatures::new!(avx512f, "avx512f");

    pub fn has_avx2_fma() -> bool {
        avx2_fma::get()
    }
    pub fn has_avx512f() -> bool {
        avx512f::get()
    }
}

/// Whether this CPU (and this build's target) can run `isa`.
pub fn is_supported(isa: Isa) -> bool {
    match isa {
        Isa::Scalar => true,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => x86_detect::has_avx2_fma(),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => x86_detect::has_avx512f(),
        // Advanced SIMD is part of the aarch64 base architecture on every target Rust supports.
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The ISAs usable here, in `Isa::ALL` order (scalar first).
pub fn supported_isas() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|&i| is_supported(i)).collect()
}

pub(crate) fn supported_names() -> String {
    supported_isas()
        .iter()
        .map(|i| i.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The best ISA this CPU supports: AVX-512F > AVX2+FMA > scalar on x86-64, NEON on aarch64.
/// Ignores `CONV1X1_ISA`.
pub fn best_isa() -> Isa {
    static BEST: OnceLock<Isa> = OnceLock::new();
    *BEST.get_or_init(|| {
        [Isa::Avx512, Isa::Avx2, Isa::Neon]
            .into_iter()
            .find(|&i| is_supported(i))
            .unwrap_or(Isa::Scalar)
    })
}

/// The ISA plans use when none is forced: `CONV1X1_ISA` if set (an error when it names an
/// unknown or unsupported ISA), else [`best_isa`]. Read once per process.
pub fn auto_isa() -> Result<Isa> {
    static AUTO: OnceLock<Result<Isa>> = OnceLock::new();
    AUTO.get_or_init(|| match std::env::var(ISA_ENV) {
        Ok(v) if !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("auto") => {
            let isa: Isa = v.trim().parse().map_err(|e| match e {
                Error::Parse { got, expected, .. } => Error::Parse {
                    what: "CONV1X1_ISA value",
                    got,
                    expected,
                },
                other => other,
            })?;
            check(isa)
        }
        _ => Ok(best_isa()),
    })
    .clone()
}

/// `Ok(isa)` when this CPU supports it, else a typed error listing what is supported.
pub fn check(isa: Isa) -> Result<Isa> {
    if is_supported(isa) {
        Ok(isa)
    } else {
        Err(Error::UnsupportedIsa {
            isa,
            supported: supported_names(),
        })
    }
}
