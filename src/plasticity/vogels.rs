//! Inhibitory STDP of Vogels, Sprekeler, Zenke, Clopath & Gerstner 2011, and its anti-Hebbian
//! mirror.
//!
//! # Equations (plasticity.md §3.1)
//!
//! One symmetric Accumulate trace per neuron (time constant `tau`, `+1` per spike), readings at
//! t⁻. For a synapse from inhibitory neuron j (pre) onto neuron i (post), `s = +1` (Hebbian,
//! default) or `s = -1` (`anti_hebbian = true`):
//!
//! ```text
//! at a pre spike:   w <- clamp( w + s eta (x_post - alpha) )
//! at a post spike:  w <- clamp( w + s eta x_pre )
//! alpha = 2 rho0 tau          (rho0 in Hz, tau in s: alpha = 2 rho0[Hz] tau[ms] / 1000)
//! ```
//!
//! `w` is the magnitude of the inhibitory weight (bounds `0 <= w_min < w_max`).
//!
//! # Rate limit (independent Poisson trains; tau in s)
//!
//! ```text
//! d<w>/dt = s eta nu_pre (2 tau nu_post - alpha)
//! ```
//!
//! zero at `nu_post = rho0 = alpha / (2 tau)`. Hebbian (`s = +1`): above `rho0` inhibition grows,
//! which lowers the postsynaptic rate, so `rho0` is a stable fixed point (homeostasis).
//! Anti-Hebbian (`s = -1`): the same fixed-point rate but unstable: above `rho0` inhibition
//! weakens and the rate runs away upward, below it inhibition grows until the cell is silenced
//! (or the weight hits a bound). Input-output correlations shift the realised rate (§3.2).
//!
//! # Parameters (`rule = "vogels2011"`)
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `eta` | weight | required | learning rate: step per unit trace (>= 0) |
//! | `tau` | ms | required | time constant of both traces (> 0); 20 in the paper |
//! | `alpha` | 1 | — | depression per pre spike in units of `eta` (>= 0); exactly one of `alpha`, `rho0` |
//! | `rho0` | Hz | — | target postsynaptic rate (>= 0), sets `alpha = 2 rho0 tau` |
//! | `anti_hebbian` | bool | false | negate the whole update (unstable fixed point) |
//! | `w_min` | weight | 0 | lower hard bound (>= 0) |
//! | `w_max` | weight | required | upper hard bound (> `w_min`) |
//!
//! # References
//! - Vogels, Sprekeler, Zenke, Clopath & Gerstner 2011, Science 334:1569.
//! - NEST `vogels_sprekeler_synapse` (set the post neuron's `tau_minus` equal to `tau`).
//! - Haga & Fukai 2018, arXiv 1809.05254 (anti-Hebbian inhibitory learning).

use serde::{Deserialize, Serialize};

use super::{check_bounds, check_nonneg, check_positive, err, to_weight, SpecError, TraceSpec, MS};

/// Spec of the Vogels rule (`rule = "vogels2011"`); parameter table in the module doc.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VogelsSpec {
    /// Learning rate `eta` (weight units per unit trace, >= 0).
    pub eta: f64,
    /// Trace time constant `tau` (ms, > 0).
    pub tau: f64,
    /// Depression constant `alpha` (dimensionless, >= 0); exactly one of `alpha`, `rho0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Target postsynaptic rate `rho0` (Hz, >= 0); `alpha = 2 rho0 tau`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rho0: Option<f64>,
    /// Negate the whole update (anti-Hebbian mirror). Default false.
    #[serde(default)]
    pub anti_hebbian: bool,
    /// Lower weight bound (weight units, >= 0). Default 0.
    #[serde(default)]
    pub w_min: f64,
    /// Upper weight bound (weight units, > `w_min`).
    pub w_max: f64,
}

impl VogelsSpec {
    pub(crate) fn validate_into(&self, errs: &mut Vec<SpecError>) {
        check_nonneg(errs, "eta", self.eta);
        check_positive(errs, "tau", self.tau);
        match (self.alpha, self.rho0) {
            (Some(a), None) => check_nonneg(errs, "alpha", a),
            (None, Some(r)) => check_nonneg(errs, "rho0", r),
            (Some(a), Some(_)) => err(errs, "alpha", a, "give exactly one of alpha and rho0, not both"),
            (None, None) => err(errs, "alpha", "missing", "give exactly one of alpha (>= 0) and rho0 (Hz, >= 0)"),
        }
        check_bounds(errs, self.w_min, self.w_max);
    }

    pub(crate) fn build_unchecked(&self) -> VogelsRule {
        let alpha = match (self.alpha, self.rho0) {
            (Some(a), _) => a,
            (None, Some(r)) => 2.0 * r * self.tau * MS,
            (None, None) => 0.0,
        };
        let sign = if self.anti_hebbian { -1.0 } else { 1.0 };
        VogelsRule {
            eta: sign * self.eta,
            tau: self.tau,
            alpha,
            w_min: self.w_min,
            w_max: self.w_max,
            traces: [TraceSpec::accumulate(self.tau)],
        }
    }
}

/// Runtime Vogels rule (built by [`super::RuleSpec::build`]).
#[derive(Clone, Debug, PartialEq)]
pub struct VogelsRule {
    /// `s * eta`: negative for the anti-Hebbian mirror.
    eta: f64,
    tau: f64,
    alpha: f64,
    w_min: f64,
    w_max: f64,
    traces: [TraceSpec; 1],
}

impl VogelsRule {
    /// `[x(tau)]`, Accumulate.
    #[inline]
    pub fn pre_traces(&self) -> &[TraceSpec] {
        &self.traces
    }

    /// `[x(tau)]`, Accumulate.
    #[inline]
    pub fn post_traces(&self) -> &[TraceSpec] {
        &self.traces
    }

    /// Always false.
    #[inline]
    pub fn needs_synapse_state(&self) -> bool {
        false
    }

    /// Depression constant `alpha` in effect (dimensionless).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Fixed-point postsynaptic rate `alpha / (2 tau)` (Hz).
    pub fn target_rate_hz(&self) -> f64 {
        self.alpha / (2.0 * self.tau * MS)
    }

    /// See [`super::Rule::on_pre`].
    #[inline]
    pub fn on_pre(&self, w: f32, _pre: &[f64], post: &[f64], _elapsed_ms: f64, _state: &mut f32) -> f32 {
        to_weight(f64::from(w) + self.eta * (post[0] - self.alpha), self.w_min, self.w_max)
    }

    /// See [`super::Rule::on_post`].
    #[inline]
    pub fn on_post(&self, w: f32, pre: &[f64], _post: &[f64], _elapsed_ms: f64, _state: &mut f32) -> f32 {
        to_weight(f64::from(w) + self.eta * pre[0], self.w_min, self.w_max)
    }

    /// See [`super::Rule::rate_limit`]: `s eta nu_pre (2 tau nu_post - alpha)`.
    #[inline]
    pub fn rate_limit(&self, nu_pre_hz: f64, nu_post_hz: f64, _w: f64) -> f64 {
        self.eta * nu_pre_hz * (2.0 * self.tau * MS * nu_post_hz - self.alpha)
    }

    /// Lower weight bound.
    #[inline]
    pub fn w_min(&self) -> f64 {
        self.w_min
    }

    /// Upper weight bound.
    #[inline]
    pub fn w_max(&self) -> f64 {
        self.w_max
    }
}
