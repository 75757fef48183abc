//! Flushing denormal floats to zero. Late in training, gradients of a converged probe fall into
//! the denormal range, where x86 FMA units slow down by 10–100x: one linear probe on 4800-dim
//! features took 3x longer because of it. Values below 1.2e-38 do not change a probe's result.

/// Set FTZ and DAZ for the calling thread (x86-64; elsewhere a no-op). Threads inherit nothing:
/// call it on every thread that trains (probe kernels run on the training thread: see
/// `single_threaded_kernels` in the CLI).
pub fn flush_denormals_on_this_thread() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: only the FTZ (bit 15) and DAZ (bit 6) flags of this thread's MXCSR change.
    #[allow(deprecated)] // the intrinsics are deprecated in favour of inline asm, with the same effect
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}
