//! Dense associative memory (Krotov & Hopfield 2016) and the modern continuous Hopfield network
//! (Ramsauer et al. 2021).
//!
//! # Equations (plasticity.md §5.4-5.5)
//!
//! Dense associative memory, binary `σ ∈ {-1, +1}^N`, patterns `ξ^μ` (`K × N`, rows):
//!
//! ```text
//! E(σ) = -Σ_μ F(ξ^μ · σ)
//! r_μ  = Σ_{j≠i} ξ_j^μ σ_j                                   (overlap without neuron i)
//! σ_i <- sign( Σ_μ [ F(ξ_i^μ + r_μ) - F(-ξ_i^μ + r_μ) ] )     (unchanged when the sum is 0)
//! F(x) = x^n (Polynomial), max(x, 0)^n (RectifiedPolynomial), e^x (Exponential)
//! ```
//!
//! Each update picks the sign with the lower energy given the other neurons, so asynchronous
//! dynamics strictly lowers `E` and stops at a fixed point. `n = 2` is the classic Hopfield
//! network (up to a constant). Signal-to-noise capacity (plasticity.md §5.4, derived): the one-step bit-error
//! probability of a stored pattern is `½ erfc( √( N^(n-1) / (2 K (2n-3)!!) ) )`
//! ([`dense_one_step_error_theory`]).
//!
//! Modern Hopfield network, continuous state `ξ ∈ R^d`, stored patterns `X = [x_1 … x_N]` (`d × N`,
//! columns), inverse temperature `β`:
//!
//! ```text
//! p      = softmax(β Xᵀ ξ)                          (attention weights over the patterns)
//! ξ_new  = X p
//! E(ξ)   = -lse(β, Xᵀ ξ) + ½ ξᵀ ξ + β⁻¹ ln N + ½ M²,   lse(β, z) = β⁻¹ ln Σ_i e^{β z_i},  M = max_i ‖x_i‖
//! ```
//!
//! Large `β` with well-separated patterns: one update from a noisy copy returns the nearest pattern
//! (error ~ e^{-β·separation}); `β -> 0`: `p -> 1/N`, the update returns the mean of the patterns
//! (the global-average fixed point). The update is transformer attention with keys = values = `X`.
//!
//! # Parameters
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `F` | — | — | [`Interaction`]: `Polynomial { n }`, `RectifiedPolynomial { n }` (n >= 1), `Exponential` |
//! | `K` | patterns | — | stored patterns (dense memory) |
//! | `beta` | 1/(pattern units)² | — | inverse temperature of the modern network (> 0, finite) |
//! | `max_sweeps` | sweeps | — | asynchronous relaxation guard |
//!
//! # References
//! - Krotov & Hopfield 2016, "Dense Associative Memory for Pattern Recognition", NeurIPS 29.
//! - Demircigil, Heusel, Löwe, Upgang & Vermet 2017, J Stat Phys 168:288 (F = exp).
//! - Ramsauer et al. 2021, "Hopfield Networks is All You Need", ICLR.
//! - plasticity.md §5.4-5.6.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::seq::SliceRandom;
use rand::Rng;

use super::hopfield::Relaxation;
use super::special::erfc;
use super::{check_binary, check_finite, RateError, Result};

/// Interaction function `F` of the dense associative memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interaction {
    /// `F(x) = x^n` (`n >= 1`; `n = 2` is the Hopfield network).
    Polynomial {
        /// Exponent.
        n: u32,
    },
    /// `F(x) = max(x, 0)^n` (`n >= 1`).
    RectifiedPolynomial {
        /// Exponent.
        n: u32,
    },
    /// `F(x) = e^x` (Demircigil et al. 2017); evaluated with a shift, so large `N` cannot overflow.
    Exponential,
}

impl Interaction {
    /// `F(x)`.
    pub fn f(self, x: f64) -> f64 {
        match self {
            Interaction::Polynomial { n } => x.powi(n as i32),
            Interaction::RectifiedPolynomial { n } => x.max(0.0).powi(n as i32),
            Interaction::Exponential => x.exp(),
        }
    }
}

/// Dense associative memory with binary neurons.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseMemory {
    patterns: Array2<i8>,
    f: Interaction,
}

impl DenseMemory {
    /// Memory storing the rows of `patterns` (`K × N`, entries ±1, `K >= 1`, `N >= 2`).
    pub fn new(patterns: Array2<i8>, f: Interaction) -> Result<Self> {
        if patterns.nrows() == 0 || patterns.ncols() < 2 {
            return Err(RateError::invalid(
                "patterns",
                format!("shape {:?}: need K >= 1, N >= 2", patterns.dim()),
            ));
        }
        check_binary("patterns", patterns.iter())?;
        match f {
            Interaction::Polynomial { n } | Interaction::RectifiedPolynomial { n } if n == 0 || n > 64 => {
                return Err(RateError::invalid("F", format!("n = {n}: must be in 1..=64")));
            }
            _ => {}
        }
        Ok(DenseMemory { patterns, f })
    }

    /// Number of neurons `N`.
    pub fn n(&self) -> usize {
        self.patterns.ncols()
    }

    /// The stored patterns (`K × N`).
    pub fn patterns(&self) -> ArrayView2<'_, i8> {
        self.patterns.view()
    }

    fn check_state(&self, s: ArrayView1<i8>) -> Result<()> {
        if s.len() != self.n() {
            return Err(RateError::invalid("state", format!("length {} != N = {}", s.len(), self.n())));
        }
        check_binary("state", s.iter())
    }

    fn overlaps(&self, s: ArrayView1<i8>) -> Vec<i64> {
        self.patterns
            .outer_iter()
            .map(|xi| xi.iter().zip(s.iter()).map(|(&a, &b)| i64::from(a) * i64::from(b)).sum())
            .collect()
    }

    /// Energy `E = -Σ_μ F(ξ^μ · σ)`.
    pub fn energy(&self, s: ArrayView1<i8>) -> Result<f64> {
        self.check_state(s)?;
        Ok(-self.overlaps(s).iter().map(|&u| self.f.f(u as f64)).sum::<f64>())
    }

    /// `Σ_μ [F(ξ_i^μ + r_μ) - F(-ξ_i^μ + r_μ)]` for neuron `i`, `u` = full overlaps.
    fn drive(&self, i: usize, s_i: i8, u: &[i64]) -> f64 {
        let col = self.patterns.column(i);
        match self.f {
            Interaction::Exponential => {
                // Σ_μ e^{r_μ} (e^{ξ} - e^{-ξ}) = 2 sinh(1) Σ_μ ξ_i^μ e^{r_μ}; shift by max r.
                let r = |mu: usize| (u[mu] - i64::from(col[mu]) * i64::from(s_i)) as f64;
                let rmax = (0..u.len()).map(r).fold(f64::NEG_INFINITY, f64::max);
                (0..u.len()).map(|mu| f64::from(col[mu]) * (r(mu) - rmax).exp()).sum()
            }
            f => (0..u.len())
                .map(|mu| {
                    let xi = i64::from(col[mu]);
                    let r = (u[mu] - xi * i64::from(s_i)) as f64;
                    f.f(r + xi as f64) - f.f(r - xi as f64)
                })
                .sum(),
        }
    }

    /// Asynchronous dynamics from `s` (in place) until a sweep without flips or `max_sweeps`
    /// sweeps; each sweep visits the neurons in a fresh random order.
    pub fn update_async<R: Rng + ?Sized>(&self, s: &mut Array1<i8>, max_sweeps: usize, rng: &mut R) -> Result<Relaxation> {
        self.check_state(s.view())?;
        let mut u = self.overlaps(s.view());
        let mut order: Vec<usize> = (0..self.n()).collect();
        let mut out = Relaxation {
            sweeps: 0,
            flips: 0,
            fixed_point: false,
            cycle: false,
        };
        while out.sweeps < max_sweeps {
            out.sweeps += 1;
            order.shuffle(rng);
            let mut flips = 0;
            for &i in &order {
                let d = self.drive(i, s[i], &u);
                let new = if d > 0.0 {
                    1
                } else if d < 0.0 {
                    -1
                } else {
                    s[i]
                };
                if new != s[i] {
                    let delta = i64::from(new - s[i]);
                    for (um, &x) in u.iter_mut().zip(self.patterns.column(i).iter()) {
                        *um += delta * i64::from(x);
                    }
                    s[i] = new;
                    flips += 1;
                }
            }
            out.flips += flips;
            if flips == 0 {
                out.fixed_point = true;
                break;
            }
        }
        Ok(out)
    }
}

/// Signal-to-noise one-step bit-error probability of a dense memory with `F(x) = x^n`, `N`
/// neurons and `K` patterns: `½ erfc(√(N^(n-1)/(2K(2n-3)!!)))` (plasticity.md §5.4, derived there).
pub fn dense_one_step_error_theory(n: u32, neurons: usize, k: usize) -> f64 {
    if n < 2 || k == 0 {
        return 0.0;
    }
    let double_fact: f64 = (1..=(2 * n - 3)).rev().step_by(2).map(f64::from).product();
    let snr2 = (neurons as f64).powi(n as i32 - 1) / (2.0 * k as f64 * double_fact);
    0.5 * erfc(snr2.sqrt())
}

/// Modern (continuous) Hopfield network.
#[derive(Clone, Debug, PartialEq)]
pub struct ModernHopfield {
    x: Array2<f64>,
    beta: f64,
}

impl ModernHopfield {
    /// Network storing the columns of `x` (`d × N`, finite, `N >= 1`) at inverse temperature
    /// `beta` (finite, > 0).
    pub fn new(x: Array2<f64>, beta: f64) -> Result<Self> {
        if x.ncols() == 0 || x.nrows() == 0 {
            return Err(RateError::invalid("x", format!("shape {:?}: need d >= 1, N >= 1", x.dim())));
        }
        check_finite("x", x.iter())?;
        if !(beta.is_finite() && beta > 0.0) {
            return Err(RateError::invalid("beta", format!("{beta}: must be finite and > 0")));
        }
        Ok(ModernHopfield { x, beta })
    }

    /// Stored patterns (`d × N`, columns).
    pub fn patterns(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }

    /// Inverse temperature.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    fn check_state(&self, xi: ArrayView1<f64>) -> Result<()> {
        if xi.len() != self.x.nrows() {
            return Err(RateError::invalid(
                "state",
                format!("length {} != d = {}", xi.len(), self.x.nrows()),
            ));
        }
        check_finite("state", xi.iter())
    }

    /// Attention weights `p = softmax(β Xᵀ ξ)` (sum 1).
    pub fn attention(&self, xi: ArrayView1<f64>) -> Result<Array1<f64>> {
        self.check_state(xi)?;
        let z = self.x.t().dot(&xi) * self.beta;
        let zmax = z.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let e = z.mapv(|v| (v - zmax).exp());
        let s = e.sum();
        Ok(e / s)
    }

    /// One update `ξ_new = X softmax(β Xᵀ ξ)`.
    pub fn update(&self, xi: ArrayView1<f64>) -> Result<Array1<f64>> {
        let p = self.attention(xi)?;
        Ok(self.x.dot(&p))
    }

    /// Energy `E(ξ) = -lse(β, Xᵀξ) + ½ ξᵀξ + β⁻¹ ln N + ½ M²`.
    pub fn energy(&self, xi: ArrayView1<f64>) -> Result<f64> {
        self.check_state(xi)?;
        let z = self.x.t().dot(&xi);
        let zmax = z.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let lse = zmax + z.mapv(|v| (self.beta * (v - zmax)).exp()).sum().ln() / self.beta;
        let m2 = self.x.columns().into_iter().map(|c| c.dot(&c)).fold(0.0, f64::max);
        let n = self.x.ncols() as f64;
        Ok(-lse + 0.5 * xi.dot(&xi) + n.ln() / self.beta + 0.5 * m2)
    }

    /// Repeated updates until `‖ξ_new - ξ‖ <= tol ‖ξ_new‖` or `max_iter` updates; returns the
    /// final state and the number of updates.
    pub fn retrieve(&self, xi: ArrayView1<f64>, max_iter: usize, tol: f64) -> Result<(Array1<f64>, usize)> {
        let mut cur = xi.to_owned();
        for it in 1..=max_iter {
            let next = self.update(cur.view())?;
            let diff = (&next - &cur).mapv(|v| v * v).sum().sqrt();
            let norm = next.mapv(|v| v * v).sum().sqrt();
            cur = next;
            if diff <= tol * norm {
                return Ok((cur, it));
            }
        }
        Ok((cur, max_iter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate::random_patterns;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn dense_energy_decreases_and_n2_matches_hopfield_theory() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let pats = random_patterns(30, 60, &mut rng);
        for f in [
            Interaction::Polynomial { n: 3 },
            Interaction::RectifiedPolynomial { n: 4 },
            Interaction::Exponential,
        ] {
            let mem = DenseMemory::new(pats.clone(), f).unwrap();
            let mut s = random_patterns(1, 60, &mut rng).row(0).to_owned();
            let mut e = mem.energy(s.view()).unwrap();
            for _ in 0..100 {
                let r = mem.update_async(&mut s, 1, &mut rng).unwrap();
                let e2 = mem.energy(s.view()).unwrap();
                assert!(e2 <= e + 1e-12 * e.abs().max(1.0), "{f:?}: {e} -> {e2}");
                e = e2;
                if r.fixed_point {
                    break;
                }
            }
        }
        let a: f64 = 0.138;
        let h = crate::rate::hopfield::one_step_error_theory(a);
        let d = dense_one_step_error_theory(2, 1000, 138);
        assert!((h / d - 1.0).abs() < 1e-12);
    }

    #[test]
    fn softmax_is_normalised_and_energy_finite() {
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i as f64 - j as f64) * 10.0);
        let net = ModernHopfield::new(x, 50.0).unwrap();
        let xi = Array1::from(vec![1.0, -2.0, 3.0, 0.5]);
        let p = net.attention(xi.view()).unwrap();
        assert!((p.sum() - 1.0).abs() < 1e-12);
        assert!(net.energy(xi.view()).unwrap().is_finite());
        assert!(ModernHopfield::new(Array2::zeros((2, 2)), 0.0).is_err());
    }
}
