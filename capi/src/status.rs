//! Status codes, the thread-local last-error message and the guard that every entry point
//! runs its body in (it turns errors and panics into a status).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use engine::Error;

/// What a fallible call returns. Every value except `CONV1X1_OK` leaves a message for
/// `conv1x1_last_error()`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum conv1x1_status {
    /// Success.
    CONV1X1_OK = 0,
    /// A required pointer argument was NULL.
    CONV1X1_NULL_POINTER = 1,
    /// An argument has a value the call does not accept: a zero size, an unknown enumeration
    /// value, invalid clamp bounds, a misaligned buffer, a work item index out of range, a
    /// bias or residual given where the spec has none.
    CONV1X1_INVALID_ARGUMENT = 2,
    /// A buffer's element count differs from what the spec and dimensions require.
    CONV1X1_BAD_LENGTH = 3,
    /// A product of sizes does not fit in `size_t` (or in the addressable range).
    CONV1X1_OVERFLOW = 4,
    /// The requested ISA cannot run on this CPU, or `CONV1X1_ISA` names one that cannot.
    CONV1X1_UNSUPPORTED_ISA = 5,
    /// A specialized kernel was forced but none exists for this configuration.
    CONV1X1_NO_KERNEL = 6,
    /// The output buffer overlaps the input or the residual.
    CONV1X1_OVERLAP = 7,
    /// An internal error inside the library (a bug): the call had no effect on the plan, but
    /// the output buffer may be partly written.
    CONV1X1_PANIC = 8,
}

use conv1x1_status::*;

impl conv1x1_status {
    /// The enumerator's name, NUL-terminated.
    fn name(self) -> &'static CStr {
        match self {
            CONV1X1_OK => c"CONV1X1_OK",
            CONV1X1_NULL_POINTER => c"CONV1X1_NULL_POINTER",
            CONV1X1_INVALID_ARGUMENT => c"CONV1X1_INVALID_ARGUMENT",
            CONV1X1_BAD_LENGTH => c"CONV1X1_BAD_LENGTH",
            CONV1X1_OVERFLOW => c"CONV1X1_OVERFLOW",
            CONV1X1_UNSUPPORTED_ISA => c"CONV1X1_UNSUPPORTED_ISA",
            CONV1X1_NO_KERNEL => c"CONV1X1_NO_KERNEL",
            CONV1X1_OVERLAP => c"CONV1X1_OVERLAP",
            CONV1X1_PANIC => c"CONV1X1_PANIC",
        }
    }

    const ALL: [conv1x1_status; 9] = [
        CONV1X1_OK,
        CONV1X1_NULL_POINTER,
        CONV1X1_INVALID_ARGUMENT,
        CONV1X1_BAD_LENGTH,
        CONV1X1_OVERFLOW,
        CONV1X1_UNSUPPORTED_ISA,
        CONV1X1_NO_KERNEL,
        CONV1X1_OVERLAP,
        CONV1X1_PANIC,
    ];
}

/// Why a call failed: the status to return and the message to keep.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: conv1x1_status,
    pub message: String,
}

impl Failure {
    pub fn new(status: conv1x1_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
    /// `what is NULL`.
    pub fn null(what: &str) -> Failure {
        Failure::new(CONV1X1_NULL_POINTER, format!("{what} is NULL"))
    }
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(CONV1X1_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match &e {
            Error::Length { .. } => CONV1X1_BAD_LENGTH,
            Error::Overflow { .. } => CONV1X1_OVERFLOW,
            Error::UnsupportedIsa { .. } => CONV1X1_UNSUPPORTED_ISA,
            Error::NoSpecializedKernel { .. } => CONV1X1_NO_KERNEL,
            Error::Aliasing(_) => CONV1X1_OVERLAP,
            // Zero sizes, clamp bounds, residual mismatches, work item indices, unparsable
            // CONV1X1_ISA values, and any kind of error added later.
            _ => CONV1X1_INVALID_ARGUMENT,
        };
        Failure::new(status, e.to_string())
    }
}

pub(crate) type Outcome<T = ()> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // Interior NULs would cut the C string short; messages carry none, but user-provided
    // environment values end up in them.
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // `try_with` fails only while the thread is being torn down; the message is lost then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = text);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

/// Runs an entry point's body: records the outcome for `conv1x1_last_error()` (cleared on
/// success) and converts errors and panics into a status, so unwinding never reaches C.
pub(crate) fn guard(body: impl FnOnce() -> Outcome) -> conv1x1_status {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error("");
            return CONV1X1_OK;
        }
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::new(
            CONV1X1_PANIC,
            format!("internal error in conv1x1: {}", panic_message(&*payload)),
        ),
    };
    set_last_error(&failure.message);
    failure.status
}

/// Runs an infallible entry point's body, returning `fallback` if it panics.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The message of the most recent failed call on the calling thread, or an empty string when
/// the most recent fallible call succeeded (or none was made yet). Never NULL.
///
/// The string belongs to the library and stays valid until the calling thread makes its next
/// conv1x1 call that returns a `conv1x1_status`; copy it to keep it.
#[no_mangle]
pub extern "C" fn conv1x1_last_error() -> *const c_char {
    let empty = c"".as_ptr();
    guard_value(empty, || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(empty)
    })
}

/// The name of a status value (`"CONV1X1_OK"`, `"CONV1X1_NULL_POINTER"`, ...), or
/// `"CONV1X1_UNKNOWN_STATUS"` for a value that is not one. A static string; never NULL.
#[no_mangle]
pub extern "C" fn conv1x1_status_name(status: c_int) -> *const c_char {
    let unknown = c"CONV1X1_UNKNOWN_STATUS".as_ptr();
    guard_value(unknown, || {
        conv1x1_status::ALL
            .into_iter()
            .find(|&s| s as c_int == status)
            .map_or(unknown, |s| s.name().as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        // SAFETY: conv1x1_last_error never returns NULL and the string lives until the next
        // fallible call on this thread.
        unsafe { CStr::from_ptr(conv1x1_last_error()) }
            .to_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_panic_becomes_a_status_with_its_message() {
        let status = guard(|| panic!("kernel exploded"));
        assert_eq!(status, CONV1X1_PANIC);
        assert!(last_error().contains("kernel exploded"), "{}", last_error());
        assert_eq!(guard(|| Ok(())), CONV1X1_OK);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn errors_map_to_statuses() {
        let status = guard(|| {
            Err(Error::Length {
                what: "input",
                got: 3,
                expected: 4,
                formula: "N·Cin·H·W",
            }
            .into())
        });
        assert_eq!(status, CONV1X1_BAD_LENGTH);
        assert!(last_error().contains("input has 3 elements"));
    }

    #[test]
    fn status_names_round_trip() {
        for s in conv1x1_status::ALL {
            // SAFETY: conv1x1_status_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(conv1x1_status_name(s as c_int)) };
            assert_eq!(name, s.name());
        }
        // SAFETY: as above.
        let name = unsafe { CStr::from_ptr(conv1x1_status_name(99)) };
        assert_eq!(name.to_str().unwrap(), "CONV1X1_UNKNOWN_STATUS");
    }
}
