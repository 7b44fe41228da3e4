//! What the library and this CPU offer: version, ISAs, automatic choice.

use std::ffi::{c_char, CStr};

use engine::{dispatch, Isa};

use crate::status::{conv1x1_status, guard, guard_value, Failure};
use crate::types::{conv1x1_isa, isa_code, isa_from_code, CONV1X1_ISA_SCALAR};

/// The library version (`"MAJOR.MINOR.PATCH"`), a static string.
#[no_mangle]
pub extern "C" fn conv1x1_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("the package version contains a NUL byte"),
        };
    VERSION.as_ptr()
}

/// The ISAs this CPU (and this build's target) can run, as a mask: bit `1u << isa` is set for
/// each supported `CONV1X1_ISA_*` value. `CONV1X1_ISA_SCALAR` is always set.
#[no_mangle]
pub extern "C" fn conv1x1_supported_isas() -> u32 {
    guard_value(1 << CONV1X1_ISA_SCALAR, || {
        dispatch::supported_isas()
            .into_iter()
            .fold(0, |mask, isa| mask | (1 << isa_code(isa)))
    })
}

/// The best ISA this CPU supports (AVX-512F, then AVX2+FMA, then scalar on x86-64; NEON on
/// AArch64), ignoring the `CONV1X1_ISA` environment variable.
#[no_mangle]
pub extern "C" fn conv1x1_best_isa() -> conv1x1_isa {
    guard_value(CONV1X1_ISA_SCALAR, || isa_code(dispatch::best_isa()))
}

/// The ISA plans with `CONV1X1_ISA_AUTO` use: the one named by the `CONV1X1_ISA` environment
/// variable (`scalar`, `avx2`, `avx512`, `neon`; read once per process) if set, else
/// `conv1x1_best_isa()`. Stored in `*isa`.
///
/// Errors: `CONV1X1_NULL_POINTER` when `isa` is NULL; `CONV1X1_INVALID_ARGUMENT` when
/// `CONV1X1_ISA` names no ISA; `CONV1X1_UNSUPPORTED_ISA` when it names one this CPU lacks.
///
/// # Safety
/// `isa` must be NULL or valid for writing one `conv1x1_isa`.
#[no_mangle]
pub unsafe extern "C" fn conv1x1_auto_isa(isa: *mut conv1x1_isa) -> conv1x1_status {
    guard(|| {
        if isa.is_null() {
            return Err(Failure::null("isa"));
        }
        let chosen = dispatch::auto_isa()?;
        // SAFETY: non-null, and the caller guarantees it is writable.
        unsafe { isa.write(isa_code(chosen)) };
        Ok(())
    })
}

/// The lower-case name of an ISA value (`"scalar"`, `"avx2"`, `"avx512"`, `"neon"`,
/// `"auto"`), a static string; NULL for a value that names none.
#[no_mangle]
pub extern "C" fn conv1x1_isa_name(isa: conv1x1_isa) -> *const c_char {
    guard_value(std::ptr::null(), || match isa_from_code(isa) {
        Ok(Some(isa)) => isa_name_c(isa).as_ptr(),
        Ok(None) => c"auto".as_ptr(),
        Err(_) => std::ptr::null(),
    })
}

fn isa_name_c(isa: Isa) -> &'static CStr {
    match isa {
        Isa::Scalar => c"scalar",
        Isa::Avx2 => c"avx2",
        Isa::Avx512 => c"avx512",
        Isa::Neon => c"neon",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_the_rust_library_version() {
        let root = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"));
        let line = root
            .lines()
            .find(|l| l.starts_with("version = "))
            .expect("the root Cargo.toml has a version");
        // SAFETY: conv1x1_version returns a static NUL-terminated string.
        let ours = unsafe { CStr::from_ptr(conv1x1_version()) }
            .to_str()
            .unwrap();
        assert_eq!(
            line,
            format!("version = \"{ours}\""),
            "keep capi/Cargo.toml's version equal to the library's"
        );
    }

    #[test]
    fn isa_names_match_the_rust_names() {
        for isa in Isa::ALL {
            // SAFETY: a known ISA value yields a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(conv1x1_isa_name(isa_code(isa))) };
            assert_eq!(name.to_str().unwrap(), isa.name());
        }
        assert!(conv1x1_isa_name(77).is_null());
    }

    #[test]
    fn the_mask_matches_dispatch() {
        let mask = conv1x1_supported_isas();
        for isa in Isa::ALL {
            assert_eq!(
                mask & (1 << isa_code(isa)) != 0,
                dispatch::is_supported(isa)
            );
        }
        assert_ne!(mask & (1 << conv1x1_best_isa()), 0);
    }
}
