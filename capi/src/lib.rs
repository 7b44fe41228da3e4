//! The C ABI of conv1x1: `libconv1x1.a` / `libconv1x1.so` and the header `include/conv1x1.h`
//! (generated from this crate by cbindgen; `tests/header.rs` keeps it in sync).
//!
//! Every entry point catches panics, so no unwinding crosses into C; fallible calls return a
//! [`conv1x1_status`] and leave a message for [`conv1x1_last_error`]. Inputs that C passes as
//! enumerations are plain integers here, so that an out-of-range value is an
//! `CONV1X1_INVALID_ARGUMENT` instead of undefined behaviour.

// The names are the C names.
#![allow(non_camel_case_types)]

mod buffers;
mod info;
mod plan;
mod status;
mod types;

pub use info::*;
pub use plan::*;
pub use status::*;
pub use types::*;
