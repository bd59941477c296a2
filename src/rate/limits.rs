//! Rate rules obtained from spiking rules: the covariance (Hopfield) rule and Oja's rule as the
//! mean-field limits of pair STDP with non-Hebbian terms, computed through
//! [`Rule::rate_limit`] (never re-derived here: one definition, two uses).
//!
//! # Equations (plasticity.md §4.1, §4.5, §4.6; `plasticity/non_hebbian.rs`)
//!
//! Rate limit of pair STDP (all-to-all, additive) with the non-Hebbian terms, taus in seconds:
//!
//! ```text
//! d<w>/dt = c ν_pre ν_post + a_pre ν_pre + a_post ν_post + 1000 drift - β τ_o w ν_post²,
//! c = ∫W = A+ τ+ - A- τ-
//! ```
//!
//! Covariance (Hopfield) rule, §4.5: `a_pre = a_post = -c ν̄`, `1000 drift = c ν̄²`, `β = 0`:
//!
//! ```text
//! d<w>/dt = c (ν_pre - ν̄)(ν_post - ν̄)
//! pattern rates ν_i = ν̄ (1 + a ξ_i), ξ_i = ±1, held for T:   ΔW_ij = T c a² ν̄² ξ_i ξ_j
//! ```
//!
//! so storing `P` patterns gives `W = T c a² ν̄² N · (1/N) Σ_μ ξ^μ ξ^μᵀ`, the Hopfield matrix up to
//! a positive factor (which the sign dynamics ignore). [`hopfield_from_rule`] applies
//! `ΔW_ij = T · rule.rate_limit(ν_j, ν_i, W_ij)` pattern by pattern for `i ≠ j`.
//!
//! Oja's rule, §4.6: `a_pre = a_post = drift = 0`, `β > 0`, linear neuron `ν_post = Σ_j w_j ν_j`:
//!
//! ```text
//! dw_j/dt = c ν_j ν_post - β τ_o w_j ν_post²   (Oja with η = c)
//! fixed point: w ∥ top eigenvector of E[ν νᵀ],  |w|² = c/(β τ_o)
//! ```
//!
//! [`oja_from_rule`] advances `w_j <- clamp(w_j + dt · rule.rate_limit(ν_j, ν_post, w_j))`.
//!
//! **Signs.** Spiking weights are non-negative magnitudes in `[w_min, w_max]`. The Oja limit keeps
//! them there (the top eigenvector of a non-negative correlation matrix is non-negative). The
//! covariance rule produces couplings of both signs: [`Bounds::Signed`] accumulates the drift
//! without clamping, i.e. `W` is the change of the spiking weight around a baseline far from the
//! bounds. For a rule whose drift depends on `w` (multiplicative or power-law dependence, `β > 0`),
//! `rate_limit` clamps the `w` it is given, so signed couplings are meaningful only for additive
//! rules without `β`.
//!
//! # Parameters
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `a_plus`, `a_minus` | weight | — | pair amplitudes ([`PairWindow`]) |
//! | `tau_plus`, `tau_minus` | ms | — | pair time constants |
//! | `nu_bar` | Hz | — | reference rate of the covariance rule (> 0) |
//! | `a` | — | — | pattern contrast, `ν = ν̄(1 ± a)`, in (0, 1] |
//! | `duration` | s | — | time each pattern is presented (> 0) |
//! | `beta` | — | — | post-triggered decay coefficient of the Oja term (> 0) |
//! | `tau_o` | ms | — | time constant of the post trace `o` (> 0) |
//! | `dt` | s | — | step of the Oja rate dynamics (> 0) |
//! | `w_max` | weight | — | upper weight bound of the rule (> 0; `w_min = 0`) |
//!
//! # References
//! - Kempter, Gerstner & van Hemmen 1999, Phys Rev E 59:4498 (rate limit with non-Hebbian terms).
//! - Hopfield 1982, PNAS 79:2554; Sejnowski 1977, J Math Biol 4:303 (covariance rule).
//! - Oja 1982, J Math Biol 15:267.
//! - plasticity.md §4.5-4.6; `src/plasticity/pair.rs`, `src/plasticity/non_hebbian.rs`.
//!
//! [`Rule::rate_limit`]: crate::plasticity::Rule::rate_limit

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::hopfield::Hopfield;
use super::{check_binary, check_finite, RateError, Result};
use crate::plasticity::{Rule, RuleSpec};

/// Parses a plasticity rule from TOML text (a `plasticity` table: `rule = "pair_stdp"`, ...) and
/// builds it with [`RuleSpec::try_build`]; every invalid field is reported.
pub fn rule_from_toml(text: &str) -> Result<Rule> {
    let spec: RuleSpec = toml::from_str(text).map_err(|e| RateError::Rule(e.to_string()))?;
    spec.try_build()
        .map_err(|errs| RateError::Rule(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")))
}

/// Pair-STDP window amplitudes and time constants (exponential windows).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairWindow {
    /// LTP amplitude `A+` (weight units, >= 0).
    pub a_plus: f64,
    /// LTP time constant `τ+` (ms, > 0).
    pub tau_plus_ms: f64,
    /// LTD amplitude `A-` (weight units, >= 0).
    pub a_minus: f64,
    /// LTD time constant `τ-` (ms, > 0).
    pub tau_minus_ms: f64,
}

impl PairWindow {
    /// Window integral `c = ∫W = A+ τ+ - A- τ-` in weight units × seconds.
    pub fn integral_s(&self) -> f64 {
        (self.a_plus * self.tau_plus_ms - self.a_minus * self.tau_minus_ms) * 1e-3
    }

    fn toml_head(&self) -> String {
        format!(
            "rule = \"pair_stdp\"\na_plus = {:?}\ntau_plus = {:?}\na_minus = {:?}\ntau_minus = {:?}\npairing = \"all_to_all\"\nweight_dependence = \"additive\"\n",
            self.a_plus, self.tau_plus_ms, self.a_minus, self.tau_minus_ms
        )
    }
}

fn check_param(what: &str, v: f64, positive: bool) -> Result<()> {
    if !v.is_finite() || (positive && v <= 0.0) {
        return Err(RateError::invalid(
            what,
            format!("{v}: must be finite{}", if positive { " and > 0" } else { "" }),
        ));
    }
    Ok(())
}

/// TOML text of the covariance (Hopfield) rule of plasticity.md §4.5: all-to-all additive pair
/// STDP with window `window` (`c = ∫W`) and `a_pre = a_post = -c ν̄`, `drift = c ν̄²/1000` per ms,
/// bounds `[0, w_max]`. Its rate limit is `c (ν_pre - ν̄)(ν_post - ν̄)`.
pub fn covariance_rule_toml(window: PairWindow, nu_bar_hz: f64, w_max: f64) -> Result<String> {
    check_param("nu_bar_hz", nu_bar_hz, true)?;
    check_param("w_max", w_max, true)?;
    let c = window.integral_s();
    check_param("window integral", c, false)?;
    Ok(format!(
        "{}w_min = 0.0\nw_max = {:?}\nnon_hebbian = {{ a_pre = {:?}, a_post = {:?}, drift = {:?} }}\n",
        window.toml_head(),
        w_max,
        -c * nu_bar_hz,
        -c * nu_bar_hz,
        c * nu_bar_hz * nu_bar_hz * 1e-3
    ))
}

/// TOML text of the Oja limit of plasticity.md §4.6: all-to-all additive pair STDP with window
/// `window` plus the post-triggered decay `β w o` (`o` with time constant `tau_o_ms`), bounds
/// `[0, w_max]`. Its rate limit is `c ν_pre ν_post - β τ_o w ν_post²`.
pub fn oja_rule_toml(window: PairWindow, beta: f64, tau_o_ms: f64, w_max: f64) -> Result<String> {
    check_param("beta", beta, true)?;
    check_param("tau_o_ms", tau_o_ms, true)?;
    check_param("w_max", w_max, true)?;
    Ok(format!(
        "{}w_min = 0.0\nw_max = {:?}\nnon_hebbian = {{ beta = {:?}, tau_o = {:?} }}\n",
        window.toml_head(),
        w_max,
        beta,
        tau_o_ms
    ))
}

/// How [`rate_rule_step`] treats the rule's weight bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bounds {
    /// Clamp every weight to the rule's `[w_min, w_max]` after the step (spiking weights).
    Rule,
    /// No clamping: `W` holds signed changes around a baseline (module doc, "Signs").
    Signed,
}

/// Rates held for `duration_s` seconds: `W_ij += duration_s · rule.rate_limit(ν_pre_j, ν_post_i, W_ij)`
/// for every `i, j` (`i ≠ j` if `skip_diagonal`). `w` is `len(ν_post) × len(ν_pre)`; rates in Hz.
pub fn rate_rule_step(
    rule: &Rule,
    w: &mut Array2<f64>,
    nu_post: ArrayView1<f64>,
    nu_pre: ArrayView1<f64>,
    duration_s: f64,
    bounds: Bounds,
    skip_diagonal: bool,
) -> Result<()> {
    if w.dim() != (nu_post.len(), nu_pre.len()) {
        return Err(RateError::invalid(
            "w",
            format!(
                "shape {:?} != (len(nu_post), len(nu_pre)) = ({}, {})",
                w.dim(),
                nu_post.len(),
                nu_pre.len()
            ),
        ));
    }
    check_finite("nu_post", nu_post.iter())?;
    check_finite("nu_pre", nu_pre.iter())?;
    check_param("duration_s", duration_s, true)?;
    let (lo, hi) = (rule.w_min(), rule.w_max());
    for (i, mut row) in w.outer_iter_mut().enumerate() {
        let nu_i = nu_post[i];
        for (j, wij) in row.iter_mut().enumerate() {
            if skip_diagonal && i == j {
                continue;
            }
            let v = *wij + duration_s * rule.rate_limit(nu_pre[j], nu_i, *wij);
            *wij = match bounds {
                Bounds::Rule => v.clamp(lo, hi),
                Bounds::Signed => v,
            };
        }
    }
    Ok(())
}

/// Hopfield network learned with a spiking rule's rate limit (plasticity.md §4.5): each pattern
/// (row of `patterns`, ±1) is presented for `duration_s` seconds as rates
/// `ν_i = ν̄ (1 + a ξ_i)`; couplings are signed ([`Bounds::Signed`]), the diagonal stays 0.
/// With the covariance rule ([`covariance_rule_toml`]) the result is `T c a² ν̄² Σ_μ ξ^μ ξ^μᵀ`.
/// Fails if the learned matrix is not symmetric (a rule with `a_pre ≠ a_post`, for instance).
pub fn hopfield_from_rule(rule: &Rule, patterns: ArrayView2<i8>, nu_bar_hz: f64, a: f64, duration_s: f64) -> Result<Hopfield> {
    check_binary("patterns", patterns.iter())?;
    check_param("nu_bar_hz", nu_bar_hz, true)?;
    if !(a > 0.0 && a <= 1.0) {
        return Err(RateError::invalid("a", format!("{a}: must be in (0, 1] (rates >= 0)")));
    }
    let n = patterns.ncols();
    let mut w = Array2::zeros((n, n));
    for xi in patterns.outer_iter() {
        let nu: Array1<f64> = xi.mapv(|s| nu_bar_hz * (1.0 + a * f64::from(s)));
        rate_rule_step(rule, &mut w, nu.view(), nu.view(), duration_s, Bounds::Signed, true)?;
    }
    let scale = w.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
    let asym = (&w - &w.t()).iter().fold(0.0f64, |m, &v| m.max(v.abs()));
    if asym > 1e-9 * scale {
        return Err(RateError::Rule(format!(
            "the rule's drift is not symmetric in pre and post rates (max |W - Wᵀ| = {asym:e}, max |W| = {scale:e}); a Hopfield matrix needs a_pre = a_post"
        )));
    }
    let sym = (&w + &w.t()) * 0.5;
    Hopfield::from_weights(sym)
}

/// One step of Oja's rule obtained from `rule`'s rate limit (plasticity.md §4.6): linear neuron
/// `ν_post = Σ_j w_j ν_pre_j`, then `w_j <- clamp(w_j + dt_s · rule.rate_limit(ν_pre_j, ν_post, w_j))`
/// to the rule's bounds. Rates in Hz, `dt_s` in seconds; returns `ν_post`.
pub fn oja_from_rule(rule: &Rule, w: &mut Array1<f64>, nu_pre: ArrayView1<f64>, dt_s: f64) -> Result<f64> {
    if w.len() != nu_pre.len() {
        return Err(RateError::invalid(
            "nu_pre",
            format!("length {} != length of w {}", nu_pre.len(), w.len()),
        ));
    }
    check_finite("nu_pre", nu_pre.iter())?;
    check_param("dt_s", dt_s, true)?;
    let nu_post = w.dot(&nu_pre);
    let (lo, hi) = (rule.w_min(), rule.w_max());
    for (wj, &nj) in w.iter_mut().zip(nu_pre.iter()) {
        *wj = (*wj + dt_s * rule.rate_limit(nj, nu_post, *wj)).clamp(lo, hi);
    }
    Ok(nu_post)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_toml_is_an_error_naming_the_field() {
        let e = rule_from_toml("rule = \"pair_stdp\"\na_plus = -1.0\ntau_plus = 20.0\na_minus = 0.0\ntau_minus = 20.0\nw_max = 1.0\n")
            .unwrap_err();
        assert!(e.to_string().contains("a_plus"), "{e}");
        assert!(rule_from_toml("rule = \"nope\"").is_err());
    }
}
