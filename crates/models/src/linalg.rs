//! One checked entry point to the `gemm` crate's strided matrix product, shared by the hand-written
//! networks (choi, jukebox) and the probes' grouped trainer: the bounds are checked here so that the unsafe call only ever sees
//! in-range strides.

/// A read-only operand: `(values, row stride, column stride)`.
pub type Operand<'a> = (&'a [f32], usize, usize);

/// `dst[m×n] = lhs[m×k] · rhs[k×n]`, or `dst += …` with `accumulate`. `dst` is `(values, row
/// stride)` with unit column stride. `threads > 1` lets the GEMM split the work with rayon.
pub fn matmul(
    (m, n, k): (usize, usize, usize),
    (dst, dst_rs): (&mut [f32], usize),
    (lhs, lhs_rs, lhs_cs): Operand,
    (rhs, rhs_rs, rhs_cs): Operand,
    accumulate: bool,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for row in 0..m {
                dst[row * dst_rs..row * dst_rs + n].fill(0.0);
            }
        }
        return;
    }
    let last = |rows: usize, rs: usize, cols: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(last(m, dst_rs, n, 1) < dst.len(), "GEMM output out of bounds");
    assert!(last(m, lhs_rs, k, lhs_cs) < lhs.len(), "GEMM left operand out of bounds");
    assert!(last(k, rhs_rs, n, rhs_cs) < rhs.len(), "GEMM right operand out of bounds");
    #[cfg(feature = "openblas")]
    if threads > 1
        && openblas::sgemm((m, n, k), (dst, dst_rs), (lhs, lhs_rs, lhs_cs), (rhs, rhs_rs, rhs_cs), accumulate, threads)
    {
        return;
    }
    let parallelism = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    // SAFETY: every index the GEMM touches is below a bound checked above, and `dst` is a unique
    // borrow, so it cannot alias the operands.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// This machine's f32 throughput with this GEMM, in GFLOP/s: the best of three `n³` products on
/// `threads` threads (the denominator of the benchmarks' "fraction of peak").
pub fn peak_gflops(n: usize, threads: usize) -> f64 {
    let a = vec![0.5f32; n * n];
    let b = vec![0.25f32; n * n];
    let mut c = vec![0f32; n * n];
    (0..3)
        .map(|_| {
            let start = std::time::Instant::now();
            matmul((n, n, n), (&mut c, n), (&a, n, 1), (&b, n, 1), false, threads);
            2.0 * (n as f64).powi(3) / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// The system OpenBLAS for the large, multi-threaded products (`--features openblas`). Small
/// products run on rayon threads with `gemm`, so OpenBLAS's own threads never stack on them.
#[cfg(feature = "openblas")]
mod openblas {
    use cblas_sys::{cblas_sgemm, CBLAS_LAYOUT, CBLAS_TRANSPOSE};

    // Links the system library (Debian's libopenblas-dev); cblas-sys only declares the functions.
    #[link(name = "openblas")]
    extern "C" {
        fn openblas_set_num_threads(threads: std::os::raw::c_int);
    }

    /// BLAS takes each operand with one unit stride; returns `false` (nothing done) for other
    /// layouts or sizes beyond `i32`.
    pub(super) fn sgemm(
        (m, n, k): (usize, usize, usize),
        (dst, dst_rs): (&mut [f32], usize),
        (lhs, lhs_rs, lhs_cs): super::Operand,
        (rhs, rhs_rs, rhs_cs): super::Operand,
        accumulate: bool,
        threads: usize,
    ) -> bool {
        let layout = |rs: usize, cs: usize, rows: usize, cols: usize| match (rs, cs) {
            (rs, 1) if rs >= cols.max(1) => Some((CBLAS_TRANSPOSE::CblasNoTrans, rs)),
            (1, cs) if cs >= rows.max(1) => Some((CBLAS_TRANSPOSE::CblasTrans, cs)),
            _ => None,
        };
        let (Some((ta, lda)), Some((tb, ldb))) = (layout(lhs_rs, lhs_cs, m, k), layout(rhs_rs, rhs_cs, k, n)) else {
            return false;
        };
        let fits = |v: usize| i32::try_from(v).is_ok();
        if ![m, n, k, lda, ldb, dst_rs, threads].into_iter().all(fits) || dst_rs < n {
            return false;
        }
        // SAFETY: the caller checked that every element these strides reach lies inside the
        // slices; `dst` is a unique borrow. OpenBLAS is thread-safe for concurrent calls.
        unsafe {
            openblas_set_num_threads(threads as i32);
            cblas_sgemm(
                CBLAS_LAYOUT::CblasRowMajor,
                ta,
                tb,
                m as i32,
                n as i32,
                k as i32,
                1.0,
                lhs.as_ptr(),
                lda as i32,
                rhs.as_ptr(),
                ldb as i32,
                if accumulate { 1.0 } else { 0.0 },
                dst.as_mut_ptr(),
                dst_rs as i32,
            );
        }
        true
    }
}
