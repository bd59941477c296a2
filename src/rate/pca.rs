//! Hebbian PCA: the similarity-matching Hebbian/anti-Hebbian network (Pehlevan, Hu & Chklovskii
//! 2015) in the form of the Flatiron reference code, Oja's single-neuron rule, the spiked-covariance
//! data generator, symmetric eigenvectors and the projection-error metric (plasticity.md §7).
//!
//! # Equations
//!
//! Similarity matching, input `x ∈ R^n`, output `y ∈ R^k`, feedforward `W` (`k × n`), lateral
//! `M` (`k × k`, zero diagonal), cumulative output power `D_i`:
//!
//! ```text
//! cost        min_Y ‖XᵀX - YᵀY‖²_F   (online)
//! dynamics    y_i <- W_i·x - Σ_{j≠i} M_ij y_j  to convergence, i.e.  y = (I + M)⁻¹ W x   (solved exactly)
//! power       D_i <- D_i + y_i²                                   (before the weights)
//! Hebbian     W_ij <- W_ij + (y_i x_j - y_i² W_ij) / D_i
//! anti-Hebb.  M_ij <- M_ij + (y_i y_j - y_i² M_ij) / D_i   (i ≠ j),   M_ii = 0
//! init        W ~ N(0, 1/n),  M = 0,  D_i = 2π ‖x_1‖² / n      (reference code, init_weight_mult = 2π)
//! filter      F = (I + M)⁻¹ W  (k × n); at the stationary state its rows are orthonormal and
//!             span the principal subspace
//! ```
//!
//! Oja (1982): `y = wᵀx`, `Δw = η y (x - y w)`; `w` converges to ± the top eigenvector of
//! `E[x xᵀ]` with `|w| = 1`. (The spiking-rule version with `|w|² = c/(βτ_o)` is `limits.rs`.)
//!
//! Projection error (reference `compute_projection_error.m`), `V` (`n × k`, orthonormal top-k
//! eigenvectors) and `F` (`n × k`, the approximate basis, e.g. the filter transposed):
//!
//! ```text
//! err = ‖V Vᵀ - F Fᵀ‖²_F / ‖V Vᵀ‖²_F = (k - 2 tr(A Aᵀ) + tr(B²)) / k,   A = Vᵀ F,  B = Fᵀ F
//! ```
//!
//! (`F` is not orthonormalised: a filter whose rows are not orthonormal counts as an error.)
//!
//! Spiked covariance (reference `low_rank_rnd_vector.m`, method `spiked_covariance`):
//!
//! ```text
//! x = Σ_{a=1..k} σ_a z_a v_a + √ρ η,   σ_a² = gap + slope (k - a),   z, η ~ N(0, 1)
//! v = orthonormal basis of a d × k standard Gaussian matrix (Gram-Schmidt, the span of `orth`)
//! C = E[x xᵀ] = V diag(σ²) Vᵀ + ρ I   (top-k eigenvalues σ_a² + ρ, the rest ρ)
//! ```
//!
//! Eigenvectors come from nalgebra's `SymmetricEigen` (Householder tridiagonalisation + implicit
//! QR), sorted by decreasing eigenvalue.
//!
//! # Parameters
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `d` | — | 50 | input dimension |
//! | `k` | — | 5 | number of spiked directions / output neurons |
//! | `rho` | (x units)² | 0.1 | noise variance per dimension |
//! | `gap` | (x units)² | 0.4 | smallest spike variance `σ_k²` |
//! | `slope` | (x units)² | 0.1 | spike variance step, `σ_a² = gap + slope (k - a)` |
//! | `init_mult` | — | 2π | `D_i(0) = init_mult ‖x_1‖²/n` (reference code) |
//! | `eta` | 1/(x units)² | — | Oja learning rate |
//!
//! # References
//! - Pehlevan, Hu & Chklovskii 2015, Neural Comput 27:1461 (arXiv 1503.00669).
//! - Flatiron Institute `online_psp_matlab`: `H_AH_NN_PCAFast.m`, `run_H_AH_PCA.m`,
//!   `compute_projection_error.m`, `low_rank_rnd_vector.m`.
//! - Oja 1982, J Math Biol 15:267.
//! - plasticity.md §7; source article §5.1.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use super::{check_finite, RateError, Result};

/// Parameters of the spiked-covariance generator (defaults: the reference example).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikedParams {
    /// Input dimension `d` (> k).
    pub d: usize,
    /// Number of spiked directions `k` (>= 1).
    pub k: usize,
    /// Noise variance `ρ` (>= 0).
    pub rho: f64,
    /// Smallest spike variance (> 0).
    pub gap: f64,
    /// Spike variance step (>= 0).
    pub slope: f64,
}

impl Default for SpikedParams {
    fn default() -> Self {
        SpikedParams {
            d: 50,
            k: 5,
            rho: 0.1,
            gap: 0.4,
            slope: 0.1,
        }
    }
}

/// Spiked-covariance data generator with a fixed random basis.
#[derive(Clone, Debug, PartialEq)]
pub struct SpikedCovariance {
    params: SpikedParams,
    v: Array2<f64>,
    sigma: Array1<f64>,
}

impl SpikedCovariance {
    /// Draws the orthonormal basis `V` (`d × k`) from `rng`.
    pub fn new<R: Rng + ?Sized>(params: SpikedParams, rng: &mut R) -> Result<Self> {
        let SpikedParams { d, k, rho, gap, slope } = params;
        if k == 0 || d <= k {
            return Err(RateError::invalid("d, k", format!("d = {d}, k = {k}: need 1 <= k < d")));
        }
        if !(rho.is_finite() && rho >= 0.0 && gap.is_finite() && gap > 0.0 && slope.is_finite() && slope >= 0.0) {
            return Err(RateError::invalid(
                "rho, gap, slope",
                format!("{rho}, {gap}, {slope}: need rho >= 0, gap > 0, slope >= 0"),
            ));
        }
        let g = Array2::from_shape_simple_fn((d, k), || rng.sample::<f64, _>(StandardNormal));
        let v = orthonormalize(g.view())?;
        let sigma = Array1::from_shape_fn(k, |a| (gap + slope * (k - 1 - a) as f64).sqrt());
        Ok(SpikedCovariance { params, v, sigma })
    }

    /// The parameters.
    pub fn params(&self) -> SpikedParams {
        self.params
    }

    /// The generating basis `V` (`d × k`, orthonormal columns, column `a` has variance `σ_a²`).
    pub fn basis(&self) -> ArrayView2<'_, f64> {
        self.v.view()
    }

    /// Spike standard deviations `σ_a` (decreasing).
    pub fn sigma(&self) -> ArrayView1<'_, f64> {
        self.sigma.view()
    }

    /// One sample `x = V (σ ∘ z) + √ρ η`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Array1<f64> {
        let z = Array1::from_shape_fn(self.params.k, |a| self.sigma[a] * rng.sample::<f64, _>(StandardNormal));
        let mut x = self.v.dot(&z);
        let s = self.params.rho.sqrt();
        x.mapv_inplace(|v| v + s * rng.sample::<f64, _>(StandardNormal));
        x
    }

    /// Population covariance `C = V diag(σ²) Vᵀ + ρ I`.
    pub fn covariance(&self) -> Array2<f64> {
        let vs = &self.v * &self.sigma.view().insert_axis(ndarray::Axis(0));
        let mut c = vs.dot(&vs.t());
        c.diag_mut().mapv_inplace(|v| v + self.params.rho);
        c
    }
}

/// Orthonormal basis of the column span of `a` (`n × k`, `k <= n`, full column rank), by modified
/// Gram-Schmidt with one re-orthogonalisation pass.
pub fn orthonormalize(a: ArrayView2<f64>) -> Result<Array2<f64>> {
    check_finite("a", a.iter())?;
    let (n, k) = a.dim();
    if k > n {
        return Err(RateError::invalid("a", format!("shape {:?}: more columns than rows", a.dim())));
    }
    let mut q = a.to_owned();
    for j in 0..k {
        let norm0 = q.column(j).dot(&q.column(j)).sqrt();
        for _pass in 0..2 {
            for i in 0..j {
                let r = q.column(i).dot(&q.column(j));
                let qi = q.column(i).to_owned();
                q.column_mut(j).scaled_add(-r, &qi);
            }
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt();
        if norm.is_nan() || norm <= 1e-12 * norm0.max(f64::MIN_POSITIVE) {
            return Err(RateError::Numerical(format!(
                "column {j} is linearly dependent on the previous ones"
            )));
        }
        q.column_mut(j).mapv_inplace(|v| v / norm);
    }
    Ok(q)
}

/// Eigen-decomposition of a symmetric matrix (`n × n`, finite, symmetric to 1e-10 relative):
/// eigenvalues in decreasing order and the matching unit eigenvectors as columns.
pub fn symmetric_eigen(c: ArrayView2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let n = c.nrows();
    if n == 0 || c.ncols() != n {
        return Err(RateError::invalid(
            "c",
            format!("shape {:?}: must be square and non-empty", c.dim()),
        ));
    }
    check_finite("c", c.iter())?;
    let scale = c.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
    for i in 0..n {
        for j in 0..i {
            if (c[[i, j]] - c[[j, i]]).abs() > 1e-10 * scale {
                return Err(RateError::invalid("c", format!("not symmetric at ({i}, {j})")));
            }
        }
    }
    let m = DMatrix::from_fn(n, n, |i, j| c[[i, j]]);
    let eig =
        SymmetricEigen::try_new(m, f64::EPSILON, 10_000).ok_or_else(|| RateError::Numerical("SymmetricEigen did not converge".into()))?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let values = order.iter().map(|&i| eig.eigenvalues[i]).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, col)| eig.eigenvectors[(r, order[col])]);
    Ok((values, vectors))
}

/// The `k` eigenvectors of the largest eigenvalues of a symmetric matrix, as columns (`n × k`).
pub fn top_eigenvectors(c: ArrayView2<f64>, k: usize) -> Result<Array2<f64>> {
    if k == 0 || k > c.nrows() {
        return Err(RateError::invalid("k", format!("{k}: must be in 1..={}", c.nrows())));
    }
    let (_, v) = symmetric_eigen(c)?;
    Ok(v.slice(ndarray::s![.., ..k]).to_owned())
}

/// Projection error `(k - 2 tr(A Aᵀ) + tr(B²))/k` with `A = Vᵀ F`, `B = Fᵀ F`; `v`, `f` are
/// `n × k` (`v` orthonormal). 0 when `F` is an orthonormal basis of the span of `V`.
pub fn projection_error(v: ArrayView2<f64>, f: ArrayView2<f64>) -> Result<f64> {
    if v.dim() != f.dim() || v.ncols() == 0 {
        return Err(RateError::invalid(
            "f",
            format!("shape {:?} != shape of v {:?} (need k >= 1)", f.dim(), v.dim()),
        ));
    }
    check_finite("v", v.iter())?;
    check_finite("f", f.iter())?;
    let k = v.ncols() as f64;
    let a = v.t().dot(&f);
    let b = f.t().dot(&f);
    let tr_aat = a.mapv(|x| x * x).sum();
    let tr_b2 = b.mapv(|x| x * x).sum(); // B symmetric: tr(B²) = ‖B‖²_F
    Ok((k - 2.0 * tr_aat + tr_b2) / k)
}

/// Solves `A y = b` for a small square `A` by Gaussian elimination with partial pivoting.
fn solve_small(mut a: Array2<f64>, mut b: Array1<f64>) -> Result<Array1<f64>> {
    let k = b.len();
    let scale = a.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
    for col in 0..k {
        let piv = (col..k)
            .max_by(|&i, &j| a[[i, col]].abs().total_cmp(&a[[j, col]].abs()))
            .unwrap_or(col);
        let pivot = a[[piv, col]].abs();
        if pivot.is_nan() || pivot <= 1e-14 * scale {
            return Err(RateError::Numerical("I + M is singular".into()));
        }
        if piv != col {
            for j in 0..k {
                a.swap([piv, j], [col, j]);
            }
            b.swap(piv, col);
        }
        for r in col + 1..k {
            let factor = a[[r, col]] / a[[col, col]];
            if factor != 0.0 {
                for j in col..k {
                    a[[r, j]] -= factor * a[[col, j]];
                }
                b[r] -= factor * b[col];
            }
        }
    }
    for col in (0..k).rev() {
        let mut s = b[col];
        for j in col + 1..k {
            s -= a[[col, j]] * b[j];
        }
        b[col] = s / a[[col, col]];
    }
    Ok(b)
}

/// Similarity-matching Hebbian/anti-Hebbian network (the Flatiron online algorithm).
#[derive(Clone, Debug, PartialEq)]
pub struct SimilarityMatching {
    w: Array2<f64>,
    m: Array2<f64>,
    d: Array1<f64>,
}

impl SimilarityMatching {
    /// Reference initialisation for inputs of dimension `n` and `k` outputs (`1 <= k <= n`):
    /// `W ~ N(0, 1/n)`, `M = 0`, `D_i = init_mult ‖x_1‖²/n` with `x_1` the first sample
    /// (`init_mult = 2π` in the reference code).
    pub fn new<R: Rng + ?Sized>(k: usize, x1: ArrayView1<f64>, init_mult: f64, rng: &mut R) -> Result<Self> {
        let n = x1.len();
        if k == 0 || k > n {
            return Err(RateError::invalid("k", format!("{k}: must be in 1..={n}")));
        }
        check_finite("x1", x1.iter())?;
        let d0 = init_mult * x1.dot(&x1) / n as f64;
        if !(d0.is_finite() && d0 > 0.0) {
            return Err(RateError::invalid("init_mult, x1", format!("D(0) = {d0}: must be finite and > 0")));
        }
        let s = 1.0 / (n as f64).sqrt();
        let w = Array2::from_shape_simple_fn((k, n), || s * rng.sample::<f64, _>(StandardNormal));
        Ok(SimilarityMatching {
            w,
            m: Array2::zeros((k, k)),
            d: Array1::from_elem(k, d0),
        })
    }

    /// Network with given `W` (`k × n`), `M` (`k × k`, diagonal ignored) and `D` (`k`, > 0).
    pub fn with_state(w: Array2<f64>, mut m: Array2<f64>, d: Array1<f64>) -> Result<Self> {
        let k = w.nrows();
        if k == 0 || m.dim() != (k, k) || d.len() != k {
            return Err(RateError::invalid(
                "w, m, d",
                format!("shapes {:?}, {:?}, {}: need k × n, k × k, k", w.dim(), m.dim(), d.len()),
            ));
        }
        check_finite("w", w.iter())?;
        check_finite("m", m.iter())?;
        if d.iter().any(|&v| !(v.is_finite() && v > 0.0)) {
            return Err(RateError::invalid("d", "entries must be finite and > 0"));
        }
        m.diag_mut().fill(0.0);
        Ok(SimilarityMatching { w, m, d })
    }

    /// Feedforward weights `W` (`k × n`).
    pub fn w(&self) -> &Array2<f64> {
        &self.w
    }

    /// Lateral weights `M` (`k × k`, zero diagonal).
    pub fn m(&self) -> &Array2<f64> {
        &self.m
    }

    /// Cumulative output power `D`.
    pub fn power(&self) -> &Array1<f64> {
        &self.d
    }

    fn i_plus_m(&self) -> Array2<f64> {
        let mut a = self.m.clone();
        a.diag_mut().mapv_inplace(|v| v + 1.0);
        a
    }

    /// Fixed point of the neural dynamics, `y = (I + M)⁻¹ W x`.
    pub fn output(&self, x: ArrayView1<f64>) -> Result<Array1<f64>> {
        if x.len() != self.w.ncols() {
            return Err(RateError::invalid("x", format!("length {} != n = {}", x.len(), self.w.ncols())));
        }
        check_finite("x", x.iter())?;
        solve_small(self.i_plus_m(), self.w.dot(&x))
    }

    /// One online step: output, then `D`, `W`, `M` updates (module doc); returns `y`.
    pub fn step(&mut self, x: ArrayView1<f64>) -> Result<Array1<f64>> {
        let y = self.output(x)?;
        let k = y.len();
        for i in 0..k {
            let yi = y[i];
            self.d[i] += yi * yi;
            let g = yi / self.d[i];
            let g2 = yi * g;
            let mut wi = self.w.row_mut(i);
            for (wij, &xj) in wi.iter_mut().zip(x.iter()) {
                *wij += g * xj - g2 * *wij;
            }
            for j in 0..k {
                if j != i {
                    self.m[[i, j]] += g * y[j] - g2 * self.m[[i, j]];
                }
            }
        }
        Ok(y)
    }

    /// Filter `F = (I + M)⁻¹ W` (`k × n`); `y = F x`.
    pub fn filter(&self) -> Result<Array2<f64>> {
        let a = self.i_plus_m();
        let (k, n) = self.w.dim();
        let mut f = Array2::zeros((k, n));
        for j in 0..n {
            let col = solve_small(a.clone(), self.w.column(j).to_owned())?;
            f.column_mut(j).assign(&col);
        }
        Ok(f)
    }
}

/// One step of Oja's rule, `y = wᵀx`, `w <- w + η y (x - y w)`; returns `y`.
pub fn oja_step(w: &mut Array1<f64>, x: ArrayView1<f64>, eta: f64) -> Result<f64> {
    if w.len() != x.len() {
        return Err(RateError::invalid("x", format!("length {} != length of w {}", x.len(), w.len())));
    }
    if !eta.is_finite() {
        return Err(RateError::invalid("eta", format!("{eta}: must be finite")));
    }
    let y = w.dot(&x);
    let a = eta * y;
    for (wj, &xj) in w.iter_mut().zip(x.iter()) {
        *wj += a * (xj - y * *wj);
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn eigen_and_error_metric_are_consistent() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let gen = SpikedCovariance::new(SpikedParams::default(), &mut rng).unwrap();
        let c = gen.covariance();
        let (vals, vecs) = symmetric_eigen(c.view()).unwrap();
        // eigenvalues σ_a² + ρ then ρ (plasticity.md §7)
        for a in 0..5 {
            let expect = 0.4 + 0.1 * (4 - a) as f64 + 0.1;
            assert!((vals[a] - expect).abs() < 1e-12, "{a}: {}", vals[a]);
        }
        assert!((vals[49] - 0.1).abs() < 1e-12);
        let v = vecs.slice(ndarray::s![.., ..5]).to_owned();
        assert!(projection_error(v.view(), gen.basis()).unwrap().abs() < 1e-12);
        // a sign flip or a rotation inside the span changes nothing; the orthogonal complement is error 2
        let flipped = -&v;
        assert!(projection_error(v.view(), flipped.view()).unwrap().abs() < 1e-12);
        let other = vecs.slice(ndarray::s![.., 5..10]).to_owned();
        assert!((projection_error(v.view(), other.view()).unwrap() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn solve_small_matches_product() {
        let a = Array2::from_shape_vec((3, 3), vec![0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 3.0, 0.0, 1.0]).unwrap();
        let y = Array1::from(vec![1.0, -2.0, 0.5]);
        let b = a.dot(&y);
        let got = solve_small(a, b).unwrap();
        assert!((&got - &y).iter().all(|v| v.abs() < 1e-12));
    }
}
