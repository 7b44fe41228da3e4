//! Source-level loop unrolling for register tiles.
//!
//! A tile's accumulators are an array `[[V; NV]; MR]`. If any loop indexes it with a loop
//! variable, LLVM keeps the array in memory and stores every accumulator after every FMA
//! (seen in the generated code: one `vmovaps` to the stack per FMA). Writing the loop out
//! with constant indices from the start lets SROA turn every element into a register.

/// Runs `$body` with `$i` bound to each constant `0, 1, …, $n − 1` (`$n` a constant ≤ 16),
/// written out at the source level. Copies past `$n` are removed as dead code.
macro_rules! unroll {
    ($i:ident in $n:expr => $body:block) => {
        $crate::kernel::unroll::unroll!(@each $i, $n, $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@each $i:ident, $n:expr, $body:block; $($k:literal)*) => {{
        const { assert!($n <= 16, "unroll! supports at most 16 iterations") };
        $(
            if const { $k < $n } {
                let $i: usize = $k;
                $body
            }
        )*
    }};
}

pub(crate) use unroll;
