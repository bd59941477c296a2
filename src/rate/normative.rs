//! Normative E/I memory model (source article §7-8; plasticity.md §4.7): a linear rate network
//! with excitatory and inhibitory neurons whose weights descend the error of storing patterns as
//! fixed points.
//!
//! # Equations
//!
//! ```text
//! dynamics    τ dy/dt = W D y - y            W: magnitudes (>= 0 under Dale's law), D = diag(±1) (+1 E, -1 I presynaptic)
//! objective   E(W) = ½ ‖W D F - F‖²_F          F = [f_1 … f_P] (N × P), patterns as columns
//! exact       dW = -∂E/∂W = F Fᵀ D - W D F Fᵀ D   = (F - W D F)(D F)ᵀ
//! printed     dW = F Fᵀ D - W F Fᵀ               (as printed in the source article, §7)
//! step        W <- W + η dW,   then W <- max(W, 0) if Dale's signs are kept (clipping)
//! extended    dW = y_post y_preᵀ D               (source article §8)
//! ```
//!
//! **Where the two forms differ.** They are equal when `D = I`. For `D ≠ I`, printed minus exact
//! is `W (D F Fᵀ D - F Fᵀ)`, whose E-I blocks are `-2 W (F Fᵀ)_EI`: non-zero as soon as the
//! patterns correlate an E with an I neuron. The fixed points:
//!
//! - *exact*: `W D F Fᵀ D = F Fᵀ D  ⇔  (W D F - F) Fᵀ = 0  ⇔  W D F = F` for linearly independent
//!   patterns: every stored pattern is a fixed point of the dynamics (eigenvalue 1 of `W D`).
//!   Gradient descent from `W = 0` converges to `W D = F F⁺`, the orthogonal projection onto the
//!   pattern span, so the linear network has eigenvalue 1 on the span (marginally stable
//!   subspace, not isolated attractors) and 0 elsewhere (plasticity.md §4.7).
//! - *printed*: a fixed point would need `W F Fᵀ = F Fᵀ D`. The left side has its rows in the
//!   pattern span (the row space of `F Fᵀ`), the right side has rows in the span of `D F`; for
//!   E/I patterns (`D F` outside the span of `F`) there is **no fixed point**: the update tends to
//!   the constant `F Fᵀ D (I - P)` (`P = F F⁺`), so `W` drifts linearly, and with it the residual
//!   `W D F - F`, while inside the span `W F Fᵀ -> F Fᵀ D P`. The patterns are never fixed points
//!   (tested: residual of order 100 ‖F‖ after 2000 steps, doubling by 4000). When
//!   `span(D F) = span(F)` (e.g. `D = I`, or patterns carried by E neurons only) it converges,
//!   and for `D = I` to the same `W` as the exact form.
//!
//! **The extended rule** `dW = y_post y_preᵀ D` is a Hebbian outer product with the presynaptic
//! sign. With `y_pre = F` and `y_post = F - W D F` (the pattern minus its recurrent prediction) it
//! *is* the exact gradient; with `y_post = F` it is plain Hebbian storage `F Fᵀ D`. The article's
//! printed expansion `F Fᵀ D - W F Fᵀ + W F Fᵀ + W D F Fᵀ D` is not an identity of either
//! product; [`NormativeMemory::outer_product_step`] implements the rule for any `y_post`, `y_pre`.
//!
//! **Dale's law.** Neither form keeps `W >= 0`: the exact solution `W = F F⁺ D` has entries of
//! both signs. With `dale = true` every step ends with `W <- max(W, 0)` (projected gradient
//! descent: the objective still decreases for `η <= 1/λ_max(FFᵀ)`, but the patterns are then fixed
//! points only approximately).
//!
//! Stability of the discrete descent: `η < 2/λ_max(F Fᵀ)` (both forms, since `D F Fᵀ D` has the
//! eigenvalues of `F Fᵀ`); [`NormativeMemory::safe_learning_rate`] returns `1/‖F‖²_F <= 1/λ_max`.
//!
//! # Parameters
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `signs` | — | — | `D_jj = +1` (excitatory) or `-1` (inhibitory) for presynaptic neuron `j` |
//! | `eta` | 1/(pattern units)² | — | learning rate per step (> 0) |
//! | `dale` | — | false | clip `W` at 0 after every step |
//! | `tau` | ms | — | time constant of the rate dynamics (> 0) |
//! | `dt` | ms | — | Euler step of the rate dynamics (0 < dt <= tau) |
//!
//! # References
//! - Source article §7 ("Normative approaches to memory retrieval") and §8 (extended rule).
//! - plasticity.md §4.7 (exact gradient, fixed point).
//! - Mongillo, Rumpel & Loewenstein 2018, Nat Neurosci 21 (E/I Hebbian/anti-Hebbian storage).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::{check_finite, RateError, Result};

/// Which weight update [`NormativeMemory::gradient`] computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradientForm {
    /// `F Fᵀ D - W D F Fᵀ D`, the exact negative gradient of `½‖WDF - F‖²`.
    Exact,
    /// `F Fᵀ D - W F Fᵀ`, the source article's printed form (exact only for `D = I`).
    Printed,
}

/// Linear E/I rate network `τ dy/dt = W D y - y` with normative weight learning.
#[derive(Clone, Debug, PartialEq)]
pub struct NormativeMemory {
    w: Array2<f64>,
    d: Array1<f64>,
    dale: bool,
}

/// Summary of a training run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainReport {
    /// Steps performed.
    pub steps: usize,
    /// Objective `½‖WDF - F‖²` at the end.
    pub objective: f64,
    /// Frobenius norm of the last applied weight change `‖ΔW‖` (after clipping).
    pub last_change: f64,
}

impl NormativeMemory {
    /// Network with `W = 0` and presynaptic signs `signs` (each +1 or -1; length `N >= 1`).
    pub fn new(signs: &[i8], dale: bool) -> Result<Self> {
        if signs.is_empty() {
            return Err(RateError::invalid("signs", "need at least one neuron"));
        }
        super::check_binary("signs", signs.iter())?;
        let n = signs.len();
        Ok(NormativeMemory {
            w: Array2::zeros((n, n)),
            d: signs.iter().map(|&s| f64::from(s)).collect(),
            dale,
        })
    }

    /// Replaces the weights (`N × N`, finite; clipped at 0 if Dale's signs are kept).
    pub fn set_weights(&mut self, w: Array2<f64>) -> Result<()> {
        if w.dim() != self.w.dim() {
            return Err(RateError::invalid("w", format!("shape {:?} != {:?}", w.dim(), self.w.dim())));
        }
        check_finite("w", w.iter())?;
        self.w = w;
        if self.dale {
            self.w.mapv_inplace(|v| v.max(0.0));
        }
        Ok(())
    }

    /// Number of neurons.
    pub fn n(&self) -> usize {
        self.d.len()
    }

    /// Weight magnitudes `W`.
    pub fn weights(&self) -> &Array2<f64> {
        &self.w
    }

    /// Presynaptic signs, the diagonal of `D`.
    pub fn signs(&self) -> &Array1<f64> {
        &self.d
    }

    /// Whether Dale's signs are kept by clipping.
    pub fn dale(&self) -> bool {
        self.dale
    }

    /// Effective connectivity `W D` (column `j` times the sign of neuron `j`).
    pub fn effective(&self) -> Array2<f64> {
        &self.w * &self.d.view().insert_axis(Axis(0))
    }

    fn check_patterns(&self, f: ArrayView2<f64>) -> Result<()> {
        if f.nrows() != self.n() || f.ncols() == 0 {
            return Err(RateError::invalid(
                "patterns",
                format!("shape {:?}: must be N × P with N = {}, P >= 1", f.dim(), self.n()),
            ));
        }
        check_finite("patterns", f.iter())
    }

    /// Residual `W D F - F`.
    pub fn residual(&self, f: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.check_patterns(f)?;
        Ok(self.effective().dot(&f) - f)
    }

    /// Objective `E = ½ ‖W D F - F‖²_F`.
    pub fn objective(&self, f: ArrayView2<f64>) -> Result<f64> {
        Ok(0.5 * self.residual(f)?.mapv(|v| v * v).sum())
    }

    /// Weight change direction `dW` of the chosen form (without learning rate or clipping).
    pub fn gradient(&self, f: ArrayView2<f64>, form: GradientForm) -> Result<Array2<f64>> {
        self.check_patterns(f)?;
        let dcol = self.d.view().insert_axis(Axis(0));
        let c = f.dot(&f.t()); // F Fᵀ
        let cd = &c * &dcol; // F Fᵀ D
        Ok(match form {
            GradientForm::Exact => {
                // F Fᵀ D - W D F Fᵀ D = (F Fᵀ - W D F Fᵀ) D
                (&c - &self.effective().dot(&c)) * dcol
            }
            GradientForm::Printed => cd - self.w.dot(&c),
        })
    }

    fn apply(&mut self, dw: Array2<f64>, eta: f64) -> Result<f64> {
        if !(eta.is_finite() && eta > 0.0) {
            return Err(RateError::invalid("eta", format!("{eta}: must be finite and > 0")));
        }
        let old = if self.dale { Some(self.w.clone()) } else { None };
        self.w.scaled_add(eta, &dw);
        if let Some(old) = old {
            self.w.mapv_inplace(|v| v.max(0.0));
            Ok((&self.w - &old).mapv(|v| v * v).sum().sqrt())
        } else {
            Ok(eta * dw.mapv(|v| v * v).sum().sqrt())
        }
    }

    /// One learning step `W <- W + η dW` (then clipped at 0 if Dale's signs are kept); returns
    /// `‖ΔW‖_F` actually applied.
    pub fn step(&mut self, f: ArrayView2<f64>, form: GradientForm, eta: f64) -> Result<f64> {
        let dw = self.gradient(f, form)?;
        self.apply(dw, eta)
    }

    /// `steps` learning steps; stops early when `‖ΔW‖_F` falls below `tol`.
    pub fn train(&mut self, f: ArrayView2<f64>, form: GradientForm, eta: f64, steps: usize, tol: f64) -> Result<TrainReport> {
        let mut last_change = f64::INFINITY;
        let mut done = 0;
        for _ in 0..steps {
            last_change = self.step(f, form, eta)?;
            done += 1;
            if last_change < tol {
                break;
            }
        }
        Ok(TrainReport {
            steps: done,
            objective: self.objective(f)?,
            last_change,
        })
    }

    /// Extended rule of source article §8: `W <- W + η y_post y_preᵀ D` (then clipping if Dale),
    /// `y_post`, `y_pre` of shape `N × B` (a batch of `B` activity vectors as columns). With
    /// `y_pre = F`, `y_post = F - W D F` this is exactly the [`GradientForm::Exact`] step.
    pub fn outer_product_step(&mut self, y_post: ArrayView2<f64>, y_pre: ArrayView2<f64>, eta: f64) -> Result<f64> {
        self.check_patterns(y_post)?;
        self.check_patterns(y_pre)?;
        if y_post.ncols() != y_pre.ncols() {
            return Err(RateError::invalid("y_pre", "y_post and y_pre need the same number of columns"));
        }
        let dw = y_post.dot(&y_pre.t()) * self.d.view().insert_axis(Axis(0));
        self.apply(dw, eta)
    }

    /// Learning rate `1/‖F‖²_F`, always below `1/λ_max(F Fᵀ)`: monotone descent for the exact
    /// gradient (and for both forms when `D = I`). With `D ≠ I` the printed form has no fixed point
    /// and its objective grows without bound at any rate (`hebb memory` plots it).
    pub fn safe_learning_rate(f: ArrayView2<f64>) -> Result<f64> {
        check_finite("patterns", f.iter())?;
        let s = f.mapv(|v| v * v).sum();
        if s > 0.0 {
            Ok(1.0 / s)
        } else {
            Err(RateError::invalid("patterns", "all zero"))
        }
    }

    /// Rate dynamics `τ dy/dt = W D y - y` from `y0` for `t_end` (same time unit as `tau`, `dt`),
    /// forward Euler; returns `y(t_end)`.
    pub fn simulate(&self, y0: ArrayView1<f64>, tau: f64, dt: f64, t_end: f64) -> Result<Array1<f64>> {
        if y0.len() != self.n() {
            return Err(RateError::invalid("y0", format!("length {} != N = {}", y0.len(), self.n())));
        }
        check_finite("y0", y0.iter())?;
        if !(tau.is_finite() && tau > 0.0 && dt.is_finite() && dt > 0.0 && dt <= tau && t_end.is_finite() && t_end >= 0.0) {
            return Err(RateError::invalid(
                "tau, dt, t_end",
                format!("{tau}, {dt}, {t_end}: need tau > 0, 0 < dt <= tau, t_end >= 0"),
            ));
        }
        let a = self.effective();
        let mut y = y0.to_owned();
        let steps = (t_end / dt).round() as usize;
        let k = dt / tau;
        for _ in 0..steps {
            let dy = a.dot(&y) - &y;
            y.scaled_add(k, &dy);
        }
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_agree_for_d_identity() {
        let f = Array2::from_shape_fn((6, 2), |(i, j)| ((i * 7 + j * 3) % 5) as f64 - 2.0);
        let mut net = NormativeMemory::new(&[1; 6], false).unwrap();
        net.set_weights(Array2::from_shape_fn((6, 6), |(i, j)| 0.1 * (i as f64 - j as f64)))
            .unwrap();
        let a = net.gradient(f.view(), GradientForm::Exact).unwrap();
        let b = net.gradient(f.view(), GradientForm::Printed).unwrap();
        assert!((&a - &b).iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(NormativeMemory::new(&[], false).is_err());
        assert!(NormativeMemory::new(&[1, 0], false).is_err());
        let net = NormativeMemory::new(&[1, -1], false).unwrap();
        assert!(net.objective(Array2::zeros((3, 1)).view()).is_err());
        assert!(net.simulate(Array1::zeros(2).view(), 1.0, 2.0, 1.0).is_err());
    }
}
