//! Classic Hopfield network: binary ±1 neurons, Hebbian (outer-product) weights, asynchronous and
//! synchronous zero-temperature dynamics, energy; capacity measurements and the AGS theory.
//!
//! # Equations (plasticity.md §5.1-5.3)
//!
//! ```text
//! patterns   ξ^μ ∈ {-1, +1}^N, μ = 1..P, load α = P/N
//! weights    W_ij = (1/N) Σ_μ ξ_i^μ ξ_j^μ  (i ≠ j),  W_ii = 0
//! field      h_i = Σ_j W_ij s_j
//! update     s_i <- +1 if h_i > 0, -1 if h_i < 0, unchanged if h_i = 0
//!            asynchronous: one neuron at a time, a fresh random order every sweep
//!            synchronous:  all neurons at once from the same h (may end in a 2-cycle)
//! energy     E = -½ Σ_ij W_ij s_i s_j   (never increases under asynchronous updates, W symmetric, W_ii = 0)
//! ```
//!
//! Capacity, three separate measurements (plasticity.md §5.3), never mixed:
//!
//! ```text
//! one-step stability   fraction of bits with ξ_i^μ h_i(ξ^μ) > 0 (h = 0 counts as unstable);
//!                      signal-to-noise theory: P(unstable) = ½ erfc(1/√(2α))
//! retrieval overlap    start at ξ^μ, run asynchronous dynamics to a fixed point, m = (1/N) Σ_i s_i ξ_i^μ
//! retrieval success    fraction of patterns whose final m > 0.9 (RETRIEVAL_THRESHOLD)
//! ```
//!
//! AGS zero-temperature replica-symmetric theory (Amit, Gutfreund & Sompolinsky 1987; the form of
//! plasticity.md §5.2):
//!
//! ```text
//! y √(2α) = φ(y) := erf(y) - (2/√π) y e^{-y²},   m = erf(y),   bit-error fraction (1 - m)/2
//! α(y) = (φ(y)/(√2 y))² is maximal where φ(y) = (4/√π) y³ e^{-y²}  (φ'(y) = (4/√π) y² e^{-y²}):
//! α_c = α(y_c),  m_c = erf(y_c)          (α_c ≈ 0.138, m_c ≈ 0.967)
//! below α_c the retrieval solution is the larger root y > y_c
//! ```
//!
//! Implementation: asynchronous dynamics keeps the local fields and updates them in `O(N)` per
//! flip (`h += (s_new - s_old) W_i·`, using the symmetry of `W`), so a sweep without flips costs
//! `O(N)`; all stored patterns' fields come from one matrix product `Ξ W`.
//!
//! # Parameters
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `N` | neurons | — | network size (>= 2) |
//! | `P` | patterns | — | stored patterns; `α = P/N` |
//! | `max_sweeps` | sweeps | — | asynchronous: stop after this many full sweeps (convergence is guaranteed, this is a guard) |
//! | `max_steps` | steps | — | synchronous: stop after this many parallel updates |
//! | [`RETRIEVAL_THRESHOLD`] | overlap | 0.9 | "retrieved" when the final overlap exceeds it |
//!
//! # References
//! - Hopfield 1982, PNAS 79:2554.
//! - Amit, Gutfreund & Sompolinsky 1985, PRL 55:1530; 1987, Ann Phys 173:30 (α_c ≈ 0.138).
//! - McEliece, Posner, Rodemich & Venkatesh 1987, IEEE Trans Inf Theory 33:461.
//! - plasticity.md §5.1-5.3.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::Rng;

use super::special::{erf, erfc};
use super::{check_binary, check_finite, overlap, random_patterns, to_f64, RateError, Result};

/// Final overlap above which a pattern counts as retrieved (plasticity.md §5.3).
pub const RETRIEVAL_THRESHOLD: f64 = 0.9;

/// How a relaxation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relaxation {
    /// Sweeps (asynchronous) or parallel steps (synchronous) performed, the last one included.
    pub sweeps: usize,
    /// Total number of neuron flips.
    pub flips: usize,
    /// The final state is a fixed point (a sweep without flips).
    pub fixed_point: bool,
    /// Synchronous only: the state returned to the one two steps earlier (a 2-cycle).
    pub cycle: bool,
}

/// A Hopfield network: a symmetric weight matrix with zero diagonal.
#[derive(Clone, Debug, PartialEq)]
pub struct Hopfield {
    w: Array2<f64>,
}

impl Hopfield {
    /// Network of `n >= 2` neurons with no pattern stored (`W = 0`).
    pub fn new(n: usize) -> Result<Self> {
        if n < 2 {
            return Err(RateError::invalid("n", format!("{n}: need at least 2 neurons")));
        }
        Ok(Hopfield { w: Array2::zeros((n, n)) })
    }

    /// Network storing the rows of `patterns` (`P × N`, entries ±1) with the Hebbian rule
    /// `W = (1/N) Σ_μ ξ^μ ξ^μᵀ`, zero diagonal.
    pub fn from_patterns(patterns: ArrayView2<i8>) -> Result<Self> {
        let n = patterns.ncols();
        let mut net = Hopfield::new(n)?;
        check_binary("patterns", patterns.iter())?;
        let xi = to_f64(patterns);
        net.w = xi.t().dot(&xi) / n as f64;
        net.w.diag_mut().fill(0.0);
        Ok(net)
    }

    /// Network with the given weights (any positive scale: the dynamics only use signs). `w` must
    /// be square (`N >= 2`), finite and symmetric to 1e-12 relative; the diagonal is set to 0.
    pub fn from_weights(mut w: Array2<f64>) -> Result<Self> {
        let n = w.nrows();
        if n < 2 || w.ncols() != n {
            return Err(RateError::invalid("w", format!("shape {:?}: must be square, N >= 2", w.dim())));
        }
        check_finite("w", w.iter())?;
        let scale = w.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
        for i in 0..n {
            for j in 0..i {
                if (w[[i, j]] - w[[j, i]]).abs() > 1e-12 * scale {
                    return Err(RateError::invalid("w", format!("not symmetric at ({i}, {j})")));
                }
            }
        }
        w.diag_mut().fill(0.0);
        Ok(Hopfield { w })
    }

    /// Adds one pattern (length `N`, entries ±1): `W += (1/N) ξ ξᵀ`, diagonal kept 0.
    pub fn store(&mut self, pattern: ArrayView1<i8>) -> Result<()> {
        self.check_state(pattern)?;
        let n = self.n();
        let inv = 1.0 / n as f64;
        for i in 0..n {
            let a = f64::from(pattern[i]) * inv;
            let mut row = self.w.row_mut(i);
            for j in 0..n {
                row[j] += a * f64::from(pattern[j]);
            }
        }
        self.w.diag_mut().fill(0.0);
        Ok(())
    }

    /// Number of neurons `N`.
    pub fn n(&self) -> usize {
        self.w.nrows()
    }

    /// The weight matrix.
    pub fn weights(&self) -> &Array2<f64> {
        &self.w
    }

    fn check_state(&self, s: ArrayView1<i8>) -> Result<()> {
        if s.len() != self.n() {
            return Err(RateError::invalid("state", format!("length {} != N = {}", s.len(), self.n())));
        }
        check_binary("state", s.iter())
    }

    /// Local fields `h = W s`.
    pub fn local_field(&self, s: ArrayView1<i8>) -> Result<Array1<f64>> {
        self.check_state(s)?;
        Ok(self.w.dot(&s.mapv(f64::from)))
    }

    /// Energy `E = -½ sᵀ W s`.
    pub fn energy(&self, s: ArrayView1<i8>) -> Result<f64> {
        let h = self.local_field(s)?;
        Ok(-0.5 * h.iter().zip(s.iter()).map(|(&h, &s)| h * f64::from(s)).sum::<f64>())
    }

    /// Asynchronous zero-temperature dynamics from `s` (modified in place) until a sweep makes no
    /// flip or `max_sweeps` sweeps are done; each sweep visits all neurons in a fresh random order.
    pub fn update_async<R: Rng + ?Sized>(&self, s: &mut Array1<i8>, max_sweeps: usize, rng: &mut R) -> Result<Relaxation> {
        let mut h = self.local_field(s.view())?;
        Ok(self.relax_async(s, &mut h, max_sweeps, rng))
    }

    /// Asynchronous dynamics with precomputed fields `h = W s` (kept up to date).
    fn relax_async<R: Rng + ?Sized>(&self, s: &mut Array1<i8>, h: &mut Array1<f64>, max_sweeps: usize, rng: &mut R) -> Relaxation {
        let n = self.n();
        let mut order: Vec<usize> = (0..n).collect();
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
                let hi = h[i];
                let new = if hi > 0.0 {
                    1
                } else if hi < 0.0 {
                    -1
                } else {
                    s[i]
                };
                if new != s[i] {
                    let delta = f64::from(new - s[i]); // ±2
                    s[i] = new;
                    // W symmetric: column i == row i (contiguous).
                    h.scaled_add(delta, &self.w.row(i));
                    flips += 1;
                }
            }
            out.flips += flips;
            if flips == 0 {
                out.fixed_point = true;
                break;
            }
        }
        out
    }

    /// Synchronous dynamics: all neurons updated from the same fields, until a fixed point, a
    /// 2-cycle, or `max_steps` steps.
    pub fn update_sync(&self, s: &mut Array1<i8>, max_steps: usize) -> Result<Relaxation> {
        self.check_state(s.view())?;
        let mut out = Relaxation {
            sweeps: 0,
            flips: 0,
            fixed_point: false,
            cycle: false,
        };
        let mut prev = s.clone();
        while out.sweeps < max_steps {
            out.sweeps += 1;
            let h = self.w.dot(&s.mapv(f64::from));
            let next = Array1::from_shape_fn(s.len(), |i| {
                if h[i] > 0.0 {
                    1
                } else if h[i] < 0.0 {
                    -1
                } else {
                    s[i]
                }
            });
            let flips = next.iter().zip(s.iter()).filter(|(a, b)| a != b).count();
            out.flips += flips;
            if flips == 0 {
                out.fixed_point = true;
                break;
            }
            if out.sweeps >= 2 && next == prev {
                out.cycle = true;
                *s = next;
                break;
            }
            prev = std::mem::replace(s, next);
        }
        Ok(out)
    }
}

/// The three capacity measurements of plasticity.md §5.3 for one network.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityStats {
    /// Neurons `N`.
    pub n: usize,
    /// Stored patterns `P`.
    pub p: usize,
    /// Bits `(μ, i)` with `ξ_i^μ h_i(ξ^μ) <= 0` (one-step unstable).
    pub unstable_bits: usize,
    /// Final overlap of each pattern after asynchronous relaxation started at the pattern.
    pub overlaps: Vec<f64>,
    /// Whether every relaxation reached a fixed point within the sweep limit.
    pub all_converged: bool,
}

impl CapacityStats {
    /// Load `α = P/N`.
    pub fn alpha(&self) -> f64 {
        self.p as f64 / self.n as f64
    }

    /// Fraction of one-step unstable bits, `unstable_bits / (N P)`.
    pub fn unstable_fraction(&self) -> f64 {
        self.unstable_bits as f64 / (self.n * self.p).max(1) as f64
    }

    /// Mean final overlap over the patterns.
    pub fn mean_overlap(&self) -> f64 {
        self.overlaps.iter().sum::<f64>() / self.overlaps.len().max(1) as f64
    }

    /// Fraction of patterns with final overlap `> RETRIEVAL_THRESHOLD`.
    pub fn success_fraction(&self) -> f64 {
        self.overlaps.iter().filter(|&&m| m > RETRIEVAL_THRESHOLD).count() as f64 / self.overlaps.len().max(1) as f64
    }
}

/// One-step margins `ξ_i^μ h_i(ξ^μ)` of every bit of the stored patterns (`P × N`, rows), from one
/// matrix product `Ξ W`. A bit is one-step stable when its margin is `> 0`.
pub fn one_step_margins(net: &Hopfield, patterns: ArrayView2<i8>) -> Result<Array2<f64>> {
    check_patterns(net, patterns)?;
    let mut h = to_f64(patterns).dot(&net.w); // row μ = (W ξ^μ)ᵀ, W symmetric
    h.zip_mut_with(&patterns, |h, &x| *h *= f64::from(x));
    Ok(h)
}

/// One-step unstable bits of the stored patterns (`P × N`, rows): count of `ξ_i^μ h_i(ξ^μ) <= 0`.
pub fn one_step_unstable(net: &Hopfield, patterns: ArrayView2<i8>) -> Result<usize> {
    Ok(one_step_margins(net, patterns)?.iter().filter(|&&m| m <= 0.0).count())
}

/// Final overlaps after asynchronous relaxation from each stored pattern (rows of `patterns`).
/// Returns the overlaps and whether all relaxations reached a fixed point.
pub fn retrieval_overlaps<R: Rng + ?Sized>(
    net: &Hopfield,
    patterns: ArrayView2<i8>,
    max_sweeps: usize,
    rng: &mut R,
) -> Result<(Vec<f64>, bool)> {
    check_patterns(net, patterns)?;
    let fields = to_f64(patterns).dot(&net.w);
    let mut all = true;
    let mut out = Vec::with_capacity(patterns.nrows());
    for (xi, h0) in patterns.axis_iter(Axis(0)).zip(fields.axis_iter(Axis(0))) {
        let mut s = xi.to_owned();
        let mut h = h0.to_owned();
        let r = net.relax_async(&mut s, &mut h, max_sweeps, rng);
        all &= r.fixed_point;
        out.push(overlap(s.view(), xi));
    }
    Ok((out, all))
}

fn check_patterns(net: &Hopfield, patterns: ArrayView2<i8>) -> Result<()> {
    if patterns.ncols() != net.n() {
        return Err(RateError::invalid(
            "patterns",
            format!("{} columns != N = {}", patterns.ncols(), net.n()),
        ));
    }
    check_binary("patterns", patterns.iter())
}

/// Draws `p` random patterns for `n` neurons, stores them, and takes the three measurements of
/// plasticity.md §5.3 (asynchronous relaxation limited to `max_sweeps` sweeps per pattern).
pub fn measure_capacity<R: Rng + ?Sized>(n: usize, p: usize, max_sweeps: usize, rng: &mut R) -> Result<CapacityStats> {
    if p == 0 {
        return Err(RateError::invalid("p", "need at least one pattern"));
    }
    let patterns = random_patterns(p, n, rng);
    let net = Hopfield::from_patterns(patterns.view())?;
    let unstable_bits = one_step_unstable(&net, patterns.view())?;
    let (overlaps, all_converged) = retrieval_overlaps(&net, patterns.view(), max_sweeps, rng)?;
    Ok(CapacityStats {
        n,
        p,
        unstable_bits,
        overlaps,
        all_converged,
    })
}

/// Signal-to-noise probability that a bit of a stored pattern is one-step unstable,
/// `½ erfc(1/√(2α))` (plasticity.md §5.2).
pub fn one_step_error_theory(alpha: f64) -> f64 {
    if alpha <= 0.0 {
        return 0.0;
    }
    0.5 * erfc(1.0 / (2.0 * alpha).sqrt())
}

/// A point of the AGS zero-temperature retrieval solution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AgsSolution {
    /// Load `α`.
    pub alpha: f64,
    /// The auxiliary variable `y` (`m = erf(y)`).
    pub y: f64,
    /// Retrieval overlap `m`.
    pub overlap: f64,
    /// Bit-error fraction `(1 - m)/2`.
    pub error_fraction: f64,
}

fn ags_phi(y: f64) -> f64 {
    erf(y) - std::f64::consts::FRAC_2_SQRT_PI * y * (-y * y).exp()
}

/// `α(y) = (φ(y)/(√2 y))²`, the load at which `y` solves the AGS equation.
fn ags_alpha_of_y(y: f64) -> f64 {
    let r = ags_phi(y) / (std::f64::consts::SQRT_2 * y);
    r * r
}

fn solution(y: f64, alpha: f64) -> AgsSolution {
    let m = erf(y);
    AgsSolution {
        alpha,
        y,
        overlap: m,
        error_fraction: (1.0 - m) / 2.0,
    }
}

/// Bisection for a sign change of `f` on `[lo, hi]` (`f(lo)` and `f(hi)` of opposite signs).
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let flo = f(lo);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if (f(mid) > 0.0) == (flo > 0.0) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The critical point of the AGS equation: the largest load `α_c` with a retrieval solution, and
/// the overlap there. Solves `φ(y) = (4/√π) y³ e^{-y²}` by bisection on `y ∈ [0.5, 5]`.
pub fn ags_critical() -> AgsSolution {
    let g = |y: f64| 2.0 * std::f64::consts::FRAC_2_SQRT_PI * y * y * y * (-y * y).exp() - ags_phi(y);
    let y = bisect(g, 0.5, 5.0);
    solution(y, ags_alpha_of_y(y))
}

/// The AGS retrieval solution at load `α` (the larger root), or `None` for `α > α_c` (no
/// retrieval state) or a non-finite or negative `α`. `α = 0` gives `m = 1`.
pub fn ags_overlap(alpha: f64) -> Option<AgsSolution> {
    if !(alpha.is_finite() && alpha >= 0.0) {
        return None;
    }
    if alpha == 0.0 {
        return Some(AgsSolution {
            alpha,
            y: f64::INFINITY,
            overlap: 1.0,
            error_fraction: 0.0,
        });
    }
    let c = ags_critical();
    if alpha > c.alpha {
        return None;
    }
    if alpha == c.alpha {
        return Some(c);
    }
    // α(y) decreases from α_c to 0 on (y_c, ∞); α(27) ~ 7e-4, so search further out if needed.
    let mut hi = 2.0 * c.y;
    while ags_alpha_of_y(hi) > alpha {
        hi *= 2.0;
        if hi > 1e12 {
            return Some(solution(hi, alpha));
        }
    }
    let y = bisect(|y| ags_alpha_of_y(y) - alpha, c.y, hi);
    Some(solution(y, alpha))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn energy_never_increases_and_sync_finds_fixed_points_or_cycles() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let pats = random_patterns(20, 100, &mut rng);
        let net = Hopfield::from_patterns(pats.view()).unwrap();
        let mut s = random_patterns(1, 100, &mut rng).row(0).to_owned();
        let mut e = net.energy(s.view()).unwrap();
        for _ in 0..50 {
            let r = net.update_async(&mut s, 1, &mut rng).unwrap();
            let e2 = net.energy(s.view()).unwrap();
            assert!(e2 <= e + 1e-12);
            e = e2;
            if r.fixed_point {
                break;
            }
        }
        let mut s = random_patterns(1, 100, &mut rng).row(0).to_owned();
        let r = net.update_sync(&mut s, 1000).unwrap();
        assert!(r.fixed_point || r.cycle);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Hopfield::new(1).is_err());
        let bad = Array2::from_elem((2, 3), 0i8);
        assert!(Hopfield::from_patterns(bad.view()).is_err());
        let mut w = Array2::zeros((3, 3));
        w[[0, 1]] = 1.0;
        assert!(Hopfield::from_weights(w).is_err());
        assert!(ags_overlap(0.2).is_none());
        assert!(ags_overlap(f64::NAN).is_none());
    }
}
