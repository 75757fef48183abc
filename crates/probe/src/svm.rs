//! scikit-learn's `SVC` (C-support vector classification, libsvm inside): the classifier of the
//! original jukemir README's GTZAN example, `make_pipeline(StandardScaler(), SVC())`.
//!
//! # Why not a crate
//!
//! The example is only worth running if it gives scikit-learn's numbers, so the solver must follow
//! libsvm step by step. What was looked at:
//!
//! - `linfa-svm` solves the binary problem only (multi-class is left to linfa's one-vs-rest
//!   wrapper, where `SVC` votes one-vs-one), parameterises the Gaussian kernel by a width
//!   (`exp(-‖x−y‖²/eps)`) rather than `gamma`, keeps kernel values in the working precision
//!   instead of libsvm's `float` cache, and pins an older `ndarray` than this workspace;
//! - `libsvm-rs` is a young (2026) one-maintainer port of upstream libsvm that aims at "numerical
//!   equivalence, not bitwise identity" with upstream, and works on libsvm's sparse nodes; scikit-learn
//!   runs its own fork (dense rows, labels sorted in `svm_group_classes`, no iteration cap by
//!   default), so matching scikit-learn would still need checking and adapting every one of these;
//! - the `libsvm` crate binds the C library (a C++ toolchain and FFI, against this workspace's
//!   pure-Rust rule).
//!
//! So this module ports, from scikit-learn 1.3's `sklearn/svm/src/libsvm/svm.cpp`, exactly the
//! path `SVC(kernel="rbf" | "linear")` takes:
//!
//! - `Solver::Solve`: the SMO of Fan, Chen & Lin (JMLR 2005) with second-order working-set
//!   selection (WSS 3, `TAU = 1e-12`), libsvm's shrinking (`do_shrinking`, `be_shrunk`, the one-off
//!   unshrink at `10·eps`, gradient reconstruction with both of its loop orders), the clipping of the
//!   two-variable update, and `calculate_rho`; variables are permuted by `swap_index` as libsvm
//!   does, so ties in the working-set selection break the same way;
//! - kernel values rounded to `f32` as libsvm's `Qfloat` cache holds them (the whole kernel matrix
//!   of the training rows is computed once, in `f64` with libsvm's `‖x‖² + ‖y‖² − 2x·y` form, then
//!   rounded; each one-vs-one subproblem reads its block), `QD` in `f64`;
//! - `svm_train`'s one-vs-one scheme: classes sorted (scikit-learn's change to
//!   `svm_group_classes`), samples grouped by class in their original order, a `k(k−1)/2` binary
//!   problem per pair `(i, j)` with `+1` for class `i`, support vectors kept where any pair's
//!   coefficient is non-zero, `sv_coef` laid out as libsvm does;
//! - `svm_predict_values`: the kernel against each support vector (`exp(−gamma·Σ(x−s)²)`), the
//!   pairwise decision values summed in libsvm's order, a vote for `i` when the value is `> 0`,
//!   else for `j`, and the first class with the most votes (ties go to the lowest class);
//! - `gamma = "scale"`: `1 / (n_features · X.var())` with NumPy's pairwise summation, 1 when the
//!   variance is 0.
//!
//! The one known difference: scikit-learn's build computes its dot products with BLAS `ddot`,
//! whose summation order depends on the BLAS and the CPU; here they are summed in order. Kernel
//! values can therefore differ in the last bits of an `f64` (rarely in the `f32` cache), which can
//! change the solver's path by a hair; tests against scikit-learn (`tests/svm_parity.rs`) check
//! dual coefficients and decision values to 1e-6 and the predictions of a real-feature
//! cross-validation sample by sample.

use jukemir_pycompat::numpy::variance;
use std::fmt;

/// libsvm's `TAU`: the quadratic coefficient used when the kernel is not positive definite.
const TAU: f64 = 1e-12;

/// The kernel function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// `exp(-gamma · ‖x − y‖²)`, scikit-learn's default.
    Rbf,
    /// `x · y`.
    Linear,
}

/// `gamma` of the RBF kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// `1 / (n_features · X.var())` over the whole training matrix (scikit-learn's default since 0.22).
    Scale,
    /// `1 / n_features`.
    Auto,
    Value(f64),
}

/// The parameters of scikit-learn's `SVC`; [`Default`] gives `SVC()`.
#[derive(Debug, Clone, PartialEq)]
pub struct SvcParams {
    pub c: f64,
    pub kernel: Kernel,
    pub gamma: Gamma,
    /// Stopping tolerance on the maximal KKT violation (`tol`, libsvm's `eps`).
    pub tol: f64,
    pub shrinking: bool,
    /// Iteration cap per binary problem (`max_iter`; `None` is scikit-learn's `-1`: no cap).
    pub max_iter: Option<usize>,
}

impl Default for SvcParams {
    fn default() -> Self {
        SvcParams { c: 1.0, kernel: Kernel::Rbf, gamma: Gamma::Scale, tol: 1e-3, shrinking: true, max_iter: None }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SvmError {
    #[error("the training data is empty or not a whole number of {dim}-value rows ({len} values)")]
    Shape { len: usize, dim: usize },
    #[error("{rows} rows but {labels} labels")]
    Labels { rows: usize, labels: usize },
    #[error("the training data has one class only; an SVC needs at least two")]
    OneClass,
    #[error("C must be positive and finite (got {0})")]
    BadC(f64),
    #[error("the training data holds NaN or infinite values")]
    NotFinite,
}

/// A trained one-vs-one SVC, laid out as libsvm's `svm_model`.
#[derive(Clone, PartialEq)]
pub struct Svc {
    /// The class labels, sorted (scikit-learn's `classes_`).
    pub classes: Vec<usize>,
    pub kernel: Kernel,
    /// The gamma in use (`_gamma`).
    pub gamma: f64,
    pub dim: usize,
    /// Row indices of the support vectors in the training data (`support_`), grouped by class.
    pub support: Vec<usize>,
    /// Support vectors per class (`n_support_`).
    pub n_support: Vec<usize>,
    /// `support.len() × dim` values.
    pub support_vectors: Vec<f64>,
    /// libsvm's `sv_coef`: `classes − 1` rows of `support.len()` (scikit-learn's `_dual_coef_`).
    pub dual_coef: Vec<Vec<f64>>,
    /// One per pair `(i, j)`, `i < j`, in order (scikit-learn's `_intercept_` is `−rho`).
    pub rho: Vec<f64>,
    /// SMO iterations per pair, and whether a pair stopped at `max_iter`.
    pub iterations: Vec<usize>,
    pub hit_max_iter: bool,
}

impl fmt::Debug for Svc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Svc")
            .field("classes", &self.classes)
            .field("gamma", &self.gamma)
            .field("dim", &self.dim)
            .field("n_support", &self.n_support)
            .field("rho", &self.rho)
            .finish_non_exhaustive()
    }
}

/// libsvm's dense `dot`, summed in order.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (x, y) in a.iter().zip(b) {
        sum += x * y;
    }
    sum
}

impl Svc {
    /// Trains on `y.len()` rows of `dim` values laid out contiguously in `x`; `y` holds class
    /// labels (any `usize`s; classes are ordered by value, as scikit-learn's `np.unique` orders them).
    pub fn fit(x: &[f64], dim: usize, y: &[usize], params: &SvcParams) -> Result<Svc, SvmError> {
        if dim == 0 || x.is_empty() || !x.len().is_multiple_of(dim) {
            return Err(SvmError::Shape { len: x.len(), dim });
        }
        let n = x.len() / dim;
        if y.len() != n {
            return Err(SvmError::Labels { rows: n, labels: y.len() });
        }
        if !(params.c > 0.0 && params.c.is_finite()) {
            return Err(SvmError::BadC(params.c));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(SvmError::NotFinite);
        }
        let mut classes: Vec<usize> = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return Err(SvmError::OneClass);
        }
        let gamma = match (params.kernel, params.gamma) {
            (Kernel::Linear, _) => 0.0,
            (Kernel::Rbf, Gamma::Value(g)) => g,
            (Kernel::Rbf, Gamma::Auto) => 1.0 / dim as f64,
            (Kernel::Rbf, Gamma::Scale) => {
                let var = variance(x);
                if var != 0.0 {
                    1.0 / (dim as f64 * var)
                } else {
                    1.0
                }
            }
        };

        // svm_group_classes: samples grouped by (sorted) class, in their original order.
        let k = classes.len();
        let class_of: Vec<usize> = y.iter().map(|label| classes.binary_search(label).expect("listed")).collect();
        let mut count = vec![0usize; k];
        for &c in &class_of {
            count[c] += 1;
        }
        let mut start = vec![0usize; k];
        for c in 1..k {
            start[c] = start[c - 1] + count[c - 1];
        }
        let mut perm = vec![0usize; n];
        let mut fill = start.clone();
        for (row, &c) in class_of.iter().enumerate() {
            perm[fill[c]] = row;
            fill[c] += 1;
        }

        let kernel = KernelMatrix::new(x, dim, params.kernel, gamma);
        let mut nonzero = vec![false; n];
        let mut pairs = Vec::with_capacity(k * (k - 1) / 2);
        let mut iterations = Vec::with_capacity(k * (k - 1) / 2);
        let mut hit_max_iter = false;
        for i in 0..k {
            for j in i + 1..k {
                let (si, sj, ci, cj) = (start[i], start[j], count[i], count[j]);
                let rows: Vec<usize> = perm[si..si + ci].iter().chain(&perm[sj..sj + cj]).copied().collect();
                let signs: Vec<i8> = (0..ci + cj).map(|t| if t < ci { 1 } else { -1 }).collect();
                let solution = solve_c_svc(&kernel, &rows, &signs, params.c, params.c, params);
                for t in 0..ci {
                    if solution.alpha[t].abs() > 0.0 {
                        nonzero[si + t] = true;
                    }
                }
                for t in 0..cj {
                    if solution.alpha[ci + t].abs() > 0.0 {
                        nonzero[sj + t] = true;
                    }
                }
                iterations.push(solution.iterations);
                hit_max_iter |= solution.hit_max_iter;
                pairs.push(solution);
            }
        }

        // Build the model as svm_train does.
        let mut n_support = vec![0usize; k];
        for c in 0..k {
            n_support[c] = (0..count[c]).filter(|&t| nonzero[start[c] + t]).count();
        }
        let total: usize = n_support.iter().sum();
        let mut support = Vec::with_capacity(total);
        let mut support_vectors = Vec::with_capacity(total * dim);
        for (grouped, &row) in perm.iter().enumerate() {
            if nonzero[grouped] {
                support.push(row);
                support_vectors.extend_from_slice(&x[row * dim..(row + 1) * dim]);
            }
        }
        let mut nz_start = vec![0usize; k];
        for c in 1..k {
            nz_start[c] = nz_start[c - 1] + n_support[c - 1];
        }
        let mut dual_coef = vec![vec![0.0f64; total]; k - 1];
        let mut rho = Vec::with_capacity(pairs.len());
        let mut p = 0;
        for i in 0..k {
            for j in i + 1..k {
                let alpha = &pairs[p].alpha;
                let (si, sj, ci, cj) = (start[i], start[j], count[i], count[j]);
                let mut q = nz_start[i];
                for t in 0..ci {
                    if nonzero[si + t] {
                        dual_coef[j - 1][q] = alpha[t];
                        q += 1;
                    }
                }
                let mut q = nz_start[j];
                for t in 0..cj {
                    if nonzero[sj + t] {
                        dual_coef[i][q] = alpha[ci + t];
                        q += 1;
                    }
                }
                rho.push(pairs[p].rho);
                p += 1;
            }
        }
        Ok(Svc {
            classes,
            kernel: params.kernel,
            gamma,
            dim,
            support,
            n_support,
            support_vectors,
            dual_coef,
            rho,
            iterations,
            hit_max_iter,
        })
    }

    /// libsvm's `k_function` between a row and support vector `s`.
    fn kernel_value(&self, row: &[f64], s: usize) -> f64 {
        let sv = &self.support_vectors[s * self.dim..(s + 1) * self.dim];
        match self.kernel {
            Kernel::Linear => dot(row, sv),
            Kernel::Rbf => {
                let mut sum = 0.0;
                for (a, b) in row.iter().zip(sv) {
                    let d = a - b;
                    sum += d * d;
                }
                (-self.gamma * sum).exp()
            }
        }
    }

    /// libsvm's one-vs-one decision values for one row: one per pair `(i, j)`, `i < j`, in order;
    /// positive means class `i`. (scikit-learn's `decision_function(…, shape "ovo")` gives the same
    /// for three or more classes, and their negation for two.)
    pub fn decision_values(&self, row: &[f64]) -> Vec<f64> {
        assert_eq!(row.len(), self.dim, "row length");
        let kvalue: Vec<f64> = (0..self.support.len()).map(|s| self.kernel_value(row, s)).collect();
        let k = self.classes.len();
        let mut start = vec![0usize; k];
        for c in 1..k {
            start[c] = start[c - 1] + self.n_support[c - 1];
        }
        let mut values = Vec::with_capacity(self.rho.len());
        let mut p = 0;
        for i in 0..k {
            for j in i + 1..k {
                let (si, sj, ci, cj) = (start[i], start[j], self.n_support[i], self.n_support[j]);
                let coef1 = &self.dual_coef[j - 1];
                let coef2 = &self.dual_coef[i];
                let mut sum = 0.0;
                for t in 0..ci {
                    sum += coef1[si + t] * kvalue[si + t];
                }
                for t in 0..cj {
                    sum += coef2[sj + t] * kvalue[sj + t];
                }
                sum -= self.rho[p];
                values.push(sum);
                p += 1;
            }
        }
        values
    }

    /// The class index (into [`Svc::classes`]) libsvm's vote picks for one row.
    pub fn predict_index(&self, row: &[f64]) -> usize {
        let values = self.decision_values(row);
        let k = self.classes.len();
        let mut votes = vec![0usize; k];
        let mut p = 0;
        for i in 0..k {
            for j in i + 1..k {
                if values[p] > 0.0 {
                    votes[i] += 1;
                } else {
                    votes[j] += 1;
                }
                p += 1;
            }
        }
        let mut best = 0;
        for c in 1..k {
            if votes[c] > votes[best] {
                best = c;
            }
        }
        best
    }

    /// Predicted labels for rows laid out contiguously.
    pub fn predict(&self, x: &[f64]) -> Vec<usize> {
        x.chunks_exact(self.dim).map(|row| self.classes[self.predict_index(row)]).collect()
    }
}

/// The kernel matrix of the training rows as libsvm's cache holds it (`Qfloat`, i.e. `f32`), and
/// its diagonal in `f64` (`QD`).
struct KernelMatrix {
    n: usize,
    values: Vec<f32>,
    diagonal: Vec<f64>,
}

impl KernelMatrix {
    fn new(x: &[f64], dim: usize, kernel: Kernel, gamma: f64) -> KernelMatrix {
        let n = x.len() / dim;
        let row = |i: usize| &x[i * dim..(i + 1) * dim];
        let square: Vec<f64> = (0..n).map(|i| dot(row(i), row(i))).collect();
        // Kernel::kernel_rbf / kernel_linear; symmetric in (i, j) bit for bit.
        let value = |i: usize, j: usize| match kernel {
            Kernel::Linear => dot(row(i), row(j)),
            Kernel::Rbf => (-gamma * (square[i] + square[j] - 2.0 * dot(row(i), row(j)))).exp(),
        };
        let mut values = vec![0.0f32; n * n];
        let mut diagonal = vec![0.0f64; n];
        for i in 0..n {
            diagonal[i] = value(i, i);
            values[i * n + i] = diagonal[i] as f32;
            for j in i + 1..n {
                let v = value(i, j) as f32;
                values[i * n + j] = v;
                values[j * n + i] = v;
            }
        }
        KernelMatrix { n, values, diagonal }
    }
}

struct Solution {
    /// `y_t · alpha_t` per subproblem sample, in the subproblem's order.
    alpha: Vec<f64>,
    rho: f64,
    iterations: usize,
    hit_max_iter: bool,
}

/// `solve_c_svc` on the subproblem of training rows `rows` with labels `signs` (`±1`).
fn solve_c_svc(kernel: &KernelMatrix, rows: &[usize], signs: &[i8], cp: f64, cn: f64, params: &SvcParams) -> Solution {
    let l = rows.len();
    // The subproblem's kernel block, indexed by subproblem position (libsvm's `x` before any swap).
    let mut block = vec![0.0f32; l * l];
    for (a, &ra) in rows.iter().enumerate() {
        let src = &kernel.values[ra * kernel.n..(ra + 1) * kernel.n];
        for (b, &rb) in rows.iter().enumerate() {
            block[a * l + b] = src[rb];
        }
    }
    let qd: Vec<f64> = rows.iter().map(|&r| kernel.diagonal[r]).collect();
    let c: Vec<f64> = signs.iter().map(|&s| if s > 0 { cp } else { cn }).collect();
    let mut solver = Solver {
        l,
        active_size: l,
        y: signs.to_vec(),
        g: vec![-1.0; l],
        status: Vec::new(),
        alpha: vec![0.0; l],
        block,
        qd,
        eps: params.tol,
        c,
        p: vec![-1.0; l],
        active_set: (0..l).collect(),
        g_bar: vec![0.0; l],
        unshrink: false,
    };
    let (mut alpha, rho, iterations, hit_max_iter) = solver.solve(params.shrinking, params.max_iter);
    for (a, &s) in alpha.iter_mut().zip(signs) {
        *a *= f64::from(s);
    }
    Solution { alpha, rho, iterations, hit_max_iter }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Lower,
    Upper,
    Free,
}

/// libsvm's `Solver` for `min ½αᵀQα + pᵀα  s.t.  yᵀα = 0, 0 ≤ α_t ≤ C_t`. Every per-variable array
/// is indexed by the variable's current position; `active_set[pos]` is its original index, which
/// also addresses the kernel block (libsvm swaps its rows and cache instead: the same values).
struct Solver {
    l: usize,
    active_size: usize,
    y: Vec<i8>,
    g: Vec<f64>,
    status: Vec<Bound>,
    alpha: Vec<f64>,
    /// `l × l` kernel values by original index.
    block: Vec<f32>,
    /// `QD` by original index.
    qd: Vec<f64>,
    eps: f64,
    c: Vec<f64>,
    p: Vec<f64>,
    active_set: Vec<usize>,
    /// The gradient if free variables were 0.
    g_bar: Vec<f64>,
    unshrink: bool,
}

impl Solver {
    /// `Q_ij` as libsvm's cache returns it: `(Qfloat)(y_i · y_j · K_ij)`, widened to `f64`.
    #[inline]
    fn q(&self, i: usize, j: usize) -> f64 {
        let k = self.block[self.active_set[i] * self.l + self.active_set[j]];
        let v = if self.y[i] == self.y[j] { k } else { -k };
        f64::from(v)
    }

    #[inline]
    fn qd(&self, i: usize) -> f64 {
        self.qd[self.active_set[i]]
    }

    fn update_alpha_status(&mut self, i: usize) {
        self.status[i] = if self.alpha[i] >= self.c[i] {
            Bound::Upper
        } else if self.alpha[i] <= 0.0 {
            Bound::Lower
        } else {
            Bound::Free
        };
    }

    fn is_upper(&self, i: usize) -> bool {
        self.status[i] == Bound::Upper
    }

    fn is_lower(&self, i: usize) -> bool {
        self.status[i] == Bound::Lower
    }

    fn is_free(&self, i: usize) -> bool {
        self.status[i] == Bound::Free
    }

    fn swap_index(&mut self, i: usize, j: usize) {
        self.y.swap(i, j);
        self.g.swap(i, j);
        self.status.swap(i, j);
        self.alpha.swap(i, j);
        self.p.swap(i, j);
        self.active_set.swap(i, j);
        self.g_bar.swap(i, j);
        self.c.swap(i, j);
    }

    fn reconstruct_gradient(&mut self) {
        if self.active_size == self.l {
            return;
        }
        let (active, l) = (self.active_size, self.l);
        for j in active..l {
            self.g[j] = self.g_bar[j] + self.p[j];
        }
        let nr_free = (0..active).filter(|&j| self.is_free(j)).count();
        if nr_free * l > 2 * active * (l - active) {
            for i in active..l {
                let mut gi = self.g[i];
                for j in 0..active {
                    if self.is_free(j) {
                        gi += self.alpha[j] * self.q(i, j);
                    }
                }
                self.g[i] = gi;
            }
        } else {
            for i in 0..active {
                if self.is_free(i) {
                    let alpha_i = self.alpha[i];
                    for j in active..l {
                        self.g[j] += alpha_i * self.q(i, j);
                    }
                }
            }
        }
    }

    /// Returns `(alpha in original order, rho, iterations, stopped at max_iter)`.
    fn solve(&mut self, shrinking: bool, max_iter: Option<usize>) -> (Vec<f64>, f64, usize, bool) {
        let l = self.l;
        self.status = vec![Bound::Lower; l];
        for i in 0..l {
            self.update_alpha_status(i);
        }
        // Gradient: G = p + Q·alpha (alpha starts at 0 for C-SVC, but stay general).
        for i in 0..l {
            self.g[i] = self.p[i];
            self.g_bar[i] = 0.0;
        }
        for i in 0..l {
            if !self.is_lower(i) {
                let alpha_i = self.alpha[i];
                let upper = self.is_upper(i);
                let c_i = self.c[i];
                for j in 0..l {
                    let q = self.q(i, j);
                    self.g[j] += alpha_i * q;
                    if upper {
                        self.g_bar[j] += c_i * q;
                    }
                }
            }
        }

        let mut iter = 0usize;
        let mut counter = l.min(1000) + 1;
        let mut hit_max_iter = false;
        loop {
            if max_iter.is_some_and(|m| iter >= m) {
                hit_max_iter = true;
                break;
            }
            counter -= 1;
            if counter == 0 {
                counter = l.min(1000);
                if shrinking {
                    self.do_shrinking();
                }
            }
            let (i, j) = match self.select_working_set() {
                Some(pair) => pair,
                None => {
                    self.reconstruct_gradient();
                    self.active_size = l;
                    match self.select_working_set() {
                        None => break,
                        Some(pair) => {
                            counter = 1;
                            pair
                        }
                    }
                }
            };
            iter += 1;
            self.take_step(i, j);
        }

        let rho = self.calculate_rho();
        let mut alpha = vec![0.0; l];
        for i in 0..l {
            alpha[self.active_set[i]] = self.alpha[i];
        }
        (alpha, rho, iter, hit_max_iter)
    }

    /// The analytic two-variable update and its bookkeeping (the body of libsvm's main loop).
    fn take_step(&mut self, i: usize, j: usize) {
        let (c_i, c_j) = (self.c[i], self.c[j]);
        let (old_alpha_i, old_alpha_j) = (self.alpha[i], self.alpha[j]);
        let q_ij = self.q(i, j);
        if self.y[i] != self.y[j] {
            let mut quad_coef = self.qd(i) + self.qd(j) + 2.0 * q_ij;
            if quad_coef <= 0.0 {
                quad_coef = TAU;
            }
            let delta = (-self.g[i] - self.g[j]) / quad_coef;
            let diff = self.alpha[i] - self.alpha[j];
            self.alpha[i] += delta;
            self.alpha[j] += delta;
            if diff > 0.0 {
                if self.alpha[j] < 0.0 {
                    self.alpha[j] = 0.0;
                    self.alpha[i] = diff;
                }
            } else if self.alpha[i] < 0.0 {
                self.alpha[i] = 0.0;
                self.alpha[j] = -diff;
            }
            if diff > c_i - c_j {
                if self.alpha[i] > c_i {
                    self.alpha[i] = c_i;
                    self.alpha[j] = c_i - diff;
                }
            } else if self.alpha[j] > c_j {
                self.alpha[j] = c_j;
                self.alpha[i] = c_j + diff;
            }
        } else {
            let mut quad_coef = self.qd(i) + self.qd(j) - 2.0 * q_ij;
            if quad_coef <= 0.0 {
                quad_coef = TAU;
            }
            let delta = (self.g[i] - self.g[j]) / quad_coef;
            let sum = self.alpha[i] + self.alpha[j];
            self.alpha[i] -= delta;
            self.alpha[j] += delta;
            if sum > c_i {
                if self.alpha[i] > c_i {
                    self.alpha[i] = c_i;
                    self.alpha[j] = sum - c_i;
                }
            } else if self.alpha[j] < 0.0 {
                self.alpha[j] = 0.0;
                self.alpha[i] = sum;
            }
            if sum > c_j {
                if self.alpha[j] > c_j {
                    self.alpha[j] = c_j;
                    self.alpha[i] = sum - c_j;
                }
            } else if self.alpha[i] < 0.0 {
                self.alpha[i] = 0.0;
                self.alpha[j] = sum;
            }
        }

        let delta_alpha_i = self.alpha[i] - old_alpha_i;
        let delta_alpha_j = self.alpha[j] - old_alpha_j;
        for k in 0..self.active_size {
            let update = self.q(i, k) * delta_alpha_i + self.q(j, k) * delta_alpha_j;
            self.g[k] += update;
        }

        let ui = self.is_upper(i);
        let uj = self.is_upper(j);
        self.update_alpha_status(i);
        self.update_alpha_status(j);
        for (t, was_upper, c_t) in [(i, ui, c_i), (j, uj, c_j)] {
            if was_upper != self.is_upper(t) {
                for k in 0..self.l {
                    let q = self.q(t, k);
                    if was_upper {
                        self.g_bar[k] -= c_t * q;
                    } else {
                        self.g_bar[k] += c_t * q;
                    }
                }
            }
        }
    }

    /// WSS 3 of Fan et al.: `i` maximises `−y_i ∇f_i` over I_up, `j` minimises the second-order
    /// decrease over I_low. `None` when optimal within `eps`.
    fn select_working_set(&self) -> Option<(usize, usize)> {
        let mut gmax = f64::NEG_INFINITY;
        let mut gmax2 = f64::NEG_INFINITY;
        let mut gmax_idx: Option<usize> = None;
        let mut gmin_idx: Option<usize> = None;
        let mut obj_diff_min = f64::INFINITY;
        for t in 0..self.active_size {
            if self.y[t] == 1 {
                if !self.is_upper(t) && -self.g[t] >= gmax {
                    gmax = -self.g[t];
                    gmax_idx = Some(t);
                }
            } else if !self.is_lower(t) && self.g[t] >= gmax {
                gmax = self.g[t];
                gmax_idx = Some(t);
            }
        }
        for j in 0..self.active_size {
            if self.y[j] == 1 {
                if !self.is_lower(j) {
                    let grad_diff = gmax + self.g[j];
                    if self.g[j] >= gmax2 {
                        gmax2 = self.g[j];
                    }
                    if grad_diff > 0.0 {
                        let i = gmax_idx.expect("grad_diff > 0 needs a finite Gmax");
                        let quad_coef = self.qd(i) + self.qd(j) - 2.0 * f64::from(self.y[i]) * self.q(i, j);
                        let obj_diff = if quad_coef > 0.0 {
                            -(grad_diff * grad_diff) / quad_coef
                        } else {
                            -(grad_diff * grad_diff) / TAU
                        };
                        if obj_diff <= obj_diff_min {
                            gmin_idx = Some(j);
                            obj_diff_min = obj_diff;
                        }
                    }
                }
            } else if !self.is_upper(j) {
                let grad_diff = gmax - self.g[j];
                if -self.g[j] >= gmax2 {
                    gmax2 = -self.g[j];
                }
                if grad_diff > 0.0 {
                    let i = gmax_idx.expect("grad_diff > 0 needs a finite Gmax");
                    let quad_coef = self.qd(i) + self.qd(j) + 2.0 * f64::from(self.y[i]) * self.q(i, j);
                    let obj_diff = if quad_coef > 0.0 {
                        -(grad_diff * grad_diff) / quad_coef
                    } else {
                        -(grad_diff * grad_diff) / TAU
                    };
                    if obj_diff <= obj_diff_min {
                        gmin_idx = Some(j);
                        obj_diff_min = obj_diff;
                    }
                }
            }
        }
        match (gmax_idx, gmin_idx) {
            (Some(i), Some(j)) if gmax + gmax2 >= self.eps => Some((i, j)),
            _ => None,
        }
    }

    fn be_shrunk(&self, i: usize, gmax1: f64, gmax2: f64) -> bool {
        if self.is_upper(i) {
            if self.y[i] == 1 {
                -self.g[i] > gmax1
            } else {
                -self.g[i] > gmax2
            }
        } else if self.is_lower(i) {
            if self.y[i] == 1 {
                self.g[i] > gmax2
            } else {
                self.g[i] > gmax1
            }
        } else {
            false
        }
    }

    fn do_shrinking(&mut self) {
        let mut gmax1 = f64::NEG_INFINITY; // max { −y_i ∇f_i | i ∈ I_up }
        let mut gmax2 = f64::NEG_INFINITY; // max { y_i ∇f_i | i ∈ I_low }
        for i in 0..self.active_size {
            if self.y[i] == 1 {
                if !self.is_upper(i) && -self.g[i] >= gmax1 {
                    gmax1 = -self.g[i];
                }
                if !self.is_lower(i) && self.g[i] >= gmax2 {
                    gmax2 = self.g[i];
                }
            } else {
                if !self.is_upper(i) && -self.g[i] >= gmax2 {
                    gmax2 = -self.g[i];
                }
                if !self.is_lower(i) && self.g[i] >= gmax1 {
                    gmax1 = self.g[i];
                }
            }
        }
        if !self.unshrink && gmax1 + gmax2 <= self.eps * 10.0 {
            self.unshrink = true;
            self.reconstruct_gradient();
            self.active_size = self.l;
        }
        let mut i = 0;
        while i < self.active_size {
            if self.be_shrunk(i, gmax1, gmax2) {
                self.active_size -= 1;
                while self.active_size > i {
                    if !self.be_shrunk(self.active_size, gmax1, gmax2) {
                        self.swap_index(i, self.active_size);
                        break;
                    }
                    self.active_size -= 1;
                }
            }
            i += 1;
        }
    }

    fn calculate_rho(&self) -> f64 {
        let mut nr_free = 0usize;
        let (mut ub, mut lb, mut sum_free) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
        for i in 0..self.active_size {
            let yg = f64::from(self.y[i]) * self.g[i];
            if self.is_upper(i) {
                if self.y[i] == -1 {
                    ub = if ub < yg { ub } else { yg };
                } else {
                    lb = if lb > yg { lb } else { yg };
                }
            } else if self.is_lower(i) {
                if self.y[i] == 1 {
                    ub = if ub < yg { ub } else { yg };
                } else {
                    lb = if lb > yg { lb } else { yg };
                }
            } else {
                nr_free += 1;
                sum_free += yg;
            }
        }
        if nr_free > 0 {
            sum_free / nr_free as f64
        } else {
            (ub + lb) / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_points_are_classified() {
        let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 5.0, 5.0, 5.0, 6.0, 6.0, 5.0];
        let y = [3, 3, 3, 9, 9, 9];
        let svc = Svc::fit(&x, 2, &y, &SvcParams::default()).unwrap();
        assert_eq!(svc.classes, vec![3, 9]);
        assert_eq!(svc.predict(&x), y.to_vec());
        assert_eq!(svc.predict(&[0.5, 0.5, 5.5, 5.5]), vec![3, 9]);
    }

    #[test]
    fn rejects_one_class_and_bad_shapes() {
        assert_eq!(Svc::fit(&[1.0, 2.0], 1, &[0, 0], &SvcParams::default()).unwrap_err(), SvmError::OneClass);
        assert!(matches!(Svc::fit(&[1.0, 2.0, 3.0], 2, &[0], &SvcParams::default()), Err(SvmError::Shape { .. })));
        assert!(matches!(Svc::fit(&[1.0, 2.0], 1, &[0], &SvcParams::default()), Err(SvmError::Labels { .. })));
    }

    #[test]
    fn ties_in_the_vote_go_to_the_lowest_class() {
        // Three classes on a line, a test point where every pair disagrees: one vote each.
        let x = [0.0, 0.1, 1.0, 1.1, 2.0, 2.1];
        let y = [0, 0, 1, 1, 2, 2];
        let svc = Svc::fit(&x, 1, &y, &SvcParams { gamma: Gamma::Value(1.0), ..SvcParams::default() }).unwrap();
        for t in [-1.0f64, 0.05, 1.05, 2.05, 3.0] {
            let values = svc.decision_values(&[t]);
            let mut votes = [0; 3];
            let mut p = 0;
            for i in 0..3 {
                for j in i + 1..3 {
                    votes[if values[p] > 0.0 { i } else { j }] += 1;
                    p += 1;
                }
            }
            let best = votes.iter().enumerate().fold(0, |b, (c, &v)| if v > votes[b] { c } else { b });
            assert_eq!(svc.predict_index(&[t]), best);
        }
    }
}
