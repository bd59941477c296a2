//! Rate-based limits of Hebbian plasticity: Hopfield-family memories, the normative E/I memory
//! rule, similarity-matching PCA and Oja's rule.
//!
//! The spiking engine simulates spike trains; this module works one level up, with rates (or
//! binary states) and weight matrices. Where a rate rule is the mean-field limit of a spiking rule
//! of [`crate::plasticity`], it is *obtained from that rule* through [`Rule::rate_limit`] rather
//! than written a second time ([`limits`]): one definition, two uses.
//!
//! # Equations (one line each; every file opens with its full equations)
//!
//! ```text
//! hopfield   s_i = ±1,  W = (1/N) Σ_μ ξ^μ ξ^μᵀ, W_ii = 0,  s_i <- sign(Σ_j W_ij s_j),  E = -½ sᵀ W s
//!            AGS (T = 0, replica symmetric): y √(2α) = erf(y) - (2/√π) y e^{-y²},  m = erf(y)
//! dense      E = -Σ_μ F(ξ^μ·σ),  σ_i <- sign Σ_μ [F(ξ_i^μ + r_μ) - F(-ξ_i^μ + r_μ)],  F(x) = x^n
//! modern     ξ <- X softmax(β Xᵀ ξ),  E = -lse(β, Xᵀξ) + ½ ξᵀξ + β⁻¹ ln N + ½ M²
//! normative  τ dy/dt = W D y - y,  E = ½ ‖W D F - F‖²,  dW = F Fᵀ D - W D F Fᵀ D  (exact)
//! pca        y = (I + M)⁻¹ W x,  D_i += y_i²,  ΔW_ij = (y_i x_j - y_i² W_ij)/D_i,  ΔM_ij = (y_i y_j - y_i² M_ij)/D_i
//! oja        Δw = η y (x - y w),  y = wᵀx
//! limits     dW_ij/dt = rule.rate_limit(ν_j, ν_i, W_ij)   (covariance rule, Oja, from spiking rules)
//! ```
//!
//! | file | content | pattern layout |
//! |---|---|---|
//! | `special.rs` | `erf`, `erfc` to ~1e-15 | — |
//! | `hopfield.rs` | classic Hopfield network, capacity measurements (plasticity.md §5.3), AGS solution | `P × N`, one pattern per row, entries ±1 (`i8`) |
//! | `dense.rs` | dense associative memory (Krotov & Hopfield 2016), modern Hopfield (Ramsauer et al. 2021) | dense: `K × N` rows ±1; modern: `d × N`, one pattern per column |
//! | `normative.rs` | normative E/I memory rule, exact and printed gradients, extended rule, Dale clipping | `N × P`, one pattern per column (`F`) |
//! | `pca.rs` | spiked-covariance data, symmetric eigenvectors, projection error, similarity matching, Oja | samples are vectors of length `d` |
//! | `limits.rs` | rules built from TOML, covariance (Hopfield) learning and Oja's rule from `Rule::rate_limit` | — |
//! | `spiking.rs` | the same limits validated in the spiking engine: Oja, similarity-matching PCA and the covariance-rule Hopfield network with linear Poisson neurons (`poisson_linear`), next to their rate versions | Hopfield: `P × N` rows ±1 (balanced) |
//! | `commands.rs` | `hebb hopfield`, `hebb pca`, `hebb memory`: capacity curves, PCA error, normative training → HDF5 + figure | — |
//!
//! Layouts follow each paper's notation (ξ^μ as rows in Hopfield, X and F as column matrices).
//!
//! # Example
//!
//! ```
//! use hebb::rate::{ags_critical, corrupt, overlap, random_patterns, Hopfield};
//! use rand::SeedableRng;
//! let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
//! let patterns = random_patterns(10, 200, &mut rng); // α = 0.05, well below α_c
//! let net = Hopfield::from_patterns(patterns.view()).unwrap();
//! let mut s = corrupt(patterns.row(0), 0.15, &mut rng).unwrap();
//! let relax = net.update_async(&mut s, 100, &mut rng).unwrap();
//! assert!(relax.fixed_point);
//! assert_eq!(overlap(s.view(), patterns.row(0)), 1.0);
//! assert!((ags_critical().alpha - 0.138).abs() < 1e-3);
//! ```
//!
//! # Randomness
//! Every random function takes the generator as an argument (`&mut R` with `R: rand::Rng`); the
//! tests use [`crate::rng::Rng`]-compatible `Xoshiro256PlusPlus` seeded explicitly, so every number
//! is reproducible.
//!
//! # Errors
//! Bad input (wrong shapes, entries that are not ±1, non-finite or out-of-range parameters, an
//! invalid rule) returns a [`RateError`]; nothing here panics on user input.
//!
//! # References
//! - Hopfield 1982, PNAS 79:2554. Amit, Gutfreund & Sompolinsky 1985, PRL 55:1530; 1987, Ann Phys 173:30.
//! - Krotov & Hopfield 2016, NeurIPS 29 (dense associative memory).
//! - Ramsauer et al. 2021, ICLR, "Hopfield Networks is All You Need".
//! - Pehlevan, Hu & Chklovskii 2015, Neural Comput 27:1461; Flatiron `online_psp_matlab`.
//! - Oja 1982, J Math Biol 15:267.
//! - Kempter, Gerstner & van Hemmen 1999, Phys Rev E 59:4498 (rate limits of spiking rules).
//! - shared/reference/plasticity.md §4.5-4.7, §5, §7; source article §5-8.
//!
//! [`Rule::rate_limit`]: crate::plasticity::Rule::rate_limit

pub mod commands;
pub mod dense;
pub mod hopfield;
pub mod limits;
pub mod normative;
pub mod pca;
pub mod special;
pub mod spiking;

pub use dense::{DenseMemory, Interaction, ModernHopfield};
pub use hopfield::{ags_critical, ags_overlap, AgsSolution, CapacityStats, Hopfield, Relaxation};
pub use limits::{
    covariance_rule_toml, hopfield_from_rule, oja_from_rule, oja_rule_toml, rate_rule_step, rule_from_toml, Bounds, PairWindow,
};
pub use normative::{GradientForm, NormativeMemory};
pub use pca::{oja_step, projection_error, symmetric_eigen, top_eigenvectors, SimilarityMatching, SpikedCovariance, SpikedParams};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::{Rng, RngExt};

/// Everything that can go wrong in the rate module.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateError {
    /// An argument is not allowed: `what` names it, `message` says what is allowed.
    #[error("{what}: {message}")]
    Invalid {
        /// The argument, e.g. `patterns` or `beta`.
        what: String,
        /// The offending value and what is allowed.
        message: String,
    },
    /// A plasticity rule could not be parsed or built.
    #[error("plasticity rule: {0}")]
    Rule(String),
    /// A numerical step failed (a singular matrix, an eigen-decomposition that did not converge).
    #[error("numerical failure: {0}")]
    Numerical(String),
}

impl RateError {
    pub(crate) fn invalid(what: &str, message: impl Into<String>) -> Self {
        RateError::Invalid {
            what: what.to_string(),
            message: message.into(),
        }
    }
}

impl From<RateError> for crate::Error {
    fn from(e: RateError) -> Self {
        crate::Error::Usage(e.to_string())
    }
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, RateError>;

/// `P × N` matrix of i.i.d. unbiased ±1 patterns, one per row.
pub fn random_patterns<R: Rng + ?Sized>(p: usize, n: usize, rng: &mut R) -> Array2<i8> {
    Array2::from_shape_simple_fn((p, n), || if rng.random::<bool>() { 1 } else { -1 })
}

/// Copy of `pattern` with each entry flipped independently with probability `q` (0 <= q <= 1).
pub fn corrupt<R: Rng + ?Sized>(pattern: ArrayView1<i8>, q: f64, rng: &mut R) -> Result<Array1<i8>> {
    if !(0.0..=1.0).contains(&q) {
        return Err(RateError::invalid("q", format!("{q}: must be in [0, 1]")));
    }
    Ok(pattern.mapv(|s| if rng.random_bool(q) { -s } else { s }))
}

/// Overlap `m = (1/N) Σ_i s_i ξ_i` of two ±1 vectors of equal length (0 for empty vectors).
pub fn overlap(s: ArrayView1<i8>, xi: ArrayView1<i8>) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let dot: i64 = s.iter().zip(xi.iter()).map(|(&a, &b)| i64::from(a) * i64::from(b)).sum();
    dot as f64 / s.len() as f64
}

/// Checks that every entry of a binary array is ±1.
pub(crate) fn check_binary<'a>(what: &str, values: impl IntoIterator<Item = &'a i8>) -> Result<()> {
    match values.into_iter().position(|&v| v != 1 && v != -1) {
        None => Ok(()),
        Some(i) => Err(RateError::invalid(what, format!("entry {i} is not ±1"))),
    }
}

/// Checks that every entry is finite.
pub(crate) fn check_finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f64>) -> Result<()> {
    match values.into_iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(RateError::invalid(what, format!("entry {i} is not finite"))),
    }
}

/// `±1` matrix as `f64`.
pub(crate) fn to_f64(a: ArrayView2<i8>) -> Array2<f64> {
    a.mapv(f64::from)
}
