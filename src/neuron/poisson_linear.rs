//! Linear Poisson neuron: an inhomogeneous Poisson process whose rate is a bias plus the linearly
//! filtered input spike trains (Kempter, Gerstner & van Hemmen 1999). It is the neuron for which
//! the rate limits of the spiking rules (plasticity.md §4.3-4.6) are exact, which is why the
//! spiking-versus-rate validations of `hebb::rate` use it.
//!
//! # Equations
//! ```text
//! ν(t) = min(rate_max, [ rate0 + ν_ext(t) + u(t) ]_+)    (Hz)
//! u(t) = Σ_k J_k Σ_f ε(t - t_k^f),  ε(s) = 1000 e^{-s/tau} / tau  (s > 0, ms; Hz per unit weight)
//! spike in each step with probability min(1, ν dt / 1000)
//! ```
//! `J_k` is the weight of the synapse (positive from excitatory, negative from inhibitory
//! populations); it is dimensionless: the expected number of extra output spikes caused by one
//! input spike (∫ε = 1). The kernel is sampled so that its sum over steps is exactly 1: an input
//! arriving at step k adds `J (e^{dt/tau} - 1)/dt` (per ms) to `u` *after* the draw of step k, so
//! the output rate changes from step k+1 on (the membrane convention of the LIF models), and `u`
//! decays by `e^{-dt/tau}` per step before each draw: the draws see `J (e^{dt/tau} - 1)/dt ·
//! e^{-n dt/tau}`, n = 1, 2, ..., whose sum times `dt` is `J`. There is no refractoriness and no reset: the output is a Cox
//! process, conditionally Poisson given the inputs.
//!
//! Spikes are drawn from the random streams of the population's blocks of neurons, so results do
//! not depend on the number of threads. The state variable `u` is recorded in Hz; the spike
//! indicator is kept internally in `v` (1 in a spiking step, 0 otherwise) so that the engine's
//! common threshold detection applies unchanged.
//!
//! # Parameters
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `rate0` | Hz | 0 | baseline rate (>= 0) |
//! | `tau` | ms | 10 | time constant of the exponential response kernel ε (> 0) |
//! | `rate_max` | Hz | none | saturation rate (> `rate0`); with it the neuron is a graded-response unit of a
//! rate Hopfield network (Hopfield 1984); while clamped at 0 or `rate_max` its spikes do not depend on its inputs |
//!
//! Weights of projections onto this model are dimensionless (expected extra spikes per input
//! spike); current inputs (`[[input]] type = "current"`) add to the rate, in Hz.
//!
//! # References
//! - Kempter R, Gerstner W, van Hemmen JL (1999) Hebbian learning and spiking neurons. Phys Rev E
//!   59:4498-4514 (the linear Poisson neuron and the rate limit of STDP).
//! - Gerstner W, Kistler WM (2002) Spiking Neuron Models, ch. 11 (inhomogeneous Poisson model).
//! - shared/reference/plasticity.md §4.3 (correlation term for this neuron).

use super::check_positive;
use crate::error::SpecIssue;
use crate::rng::{uniform, Rng};
use serde::{Deserialize, Serialize};

/// User parameters (see the module table).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PoissonLinearParams {
    /// Baseline rate, Hz.
    pub rate0: f64,
    /// Response-kernel time constant, ms.
    pub tau: f64,
    /// Saturation rate, Hz (none: unbounded).
    pub rate_max: Option<f64>,
}

impl Default for PoissonLinearParams {
    fn default() -> Self {
        PoissonLinearParams {
            rate0: 0.0,
            tau: 10.0,
            rate_max: None,
        }
    }
}

impl PoissonLinearParams {
    /// Range checks.
    pub fn validate(&self, field: &str, issues: &mut Vec<SpecIssue>) {
        check_positive(issues, field, "tau", self.tau, "ms");
        if !(self.rate0.is_finite() && self.rate0 >= 0.0) {
            issues.push(SpecIssue::new(
                format!("{field}.rate0"),
                format!("value {} Hz is not allowed; must be >= 0", self.rate0),
            ));
        }
        if let Some(m) = self.rate_max {
            if !(m.is_finite() && m > self.rate0) {
                issues.push(SpecIssue::new(
                    format!("{field}.rate_max"),
                    format!("value {m} Hz is not allowed; must be finite and > rate0 = {} Hz", self.rate0),
                ));
            }
        }
    }
}

/// Derived constants.
#[derive(Clone, Debug)]
pub struct PoissonLinearConsts {
    /// Per-step decay of `u`.
    decay: f64,
    /// Increment of `u` (Hz) per unit of arriving weight: 1000 (e^{dt/tau} - 1) / dt.
    gain: f64,
    /// Probability per Hz per step: dt / 1000.
    p_per_hz: f64,
    rate0: f64,
    rate_max: f64,
}

/// Runtime state.
#[derive(Clone, Debug)]
pub struct PoissonLinear {
    /// Parameters.
    pub params: PoissonLinearParams,
    /// Derived constants.
    pub consts: PoissonLinearConsts,
    /// Filtered input, Hz.
    pub u: Vec<f64>,
    /// Spike indicator of the last step (1 or 0; read by the threshold detection).
    pub v: Vec<f64>,
    /// Refractory counters (always 0) and external input (Hz).
    pub common: super::Common,
}

impl PoissonLinear {
    /// Fresh state (no filtered input).
    pub fn new(p: &PoissonLinearParams, n: usize, dt: f64) -> Self {
        let consts = PoissonLinearConsts {
            decay: (-dt / p.tau).exp(),
            gain: 1000.0 * (dt / p.tau).exp_m1() / dt,
            p_per_hz: dt / 1000.0,
            rate0: p.rate0,
            rate_max: p.rate_max.unwrap_or(f64::INFINITY),
        };
        PoissonLinear {
            params: p.clone(),
            consts,
            u: vec![0.0; n],
            v: vec![0.0; n],
            // Threshold 1 on the spike indicator, reset 0, no refractory period.
            common: super::Common::new(n, 0, 1.0, 0.0),
        }
    }
}

/// Advance one step for a sub-block of neurons that lies inside one random-stream block: decay
/// `u`, draw the spikes of this step with rate `min(rate_max, [rate0 + ext + u]_+)` (marked as `v = 1`), then add
/// the inputs arriving now. Every neuron consumes exactly one uniform number per step.
#[inline]
pub fn step(
    c: &PoissonLinearConsts,
    v: &mut [f64],
    u: &mut [f64],
    in_exc: &mut [f32],
    in_inh: &mut [f32],
    ext: Option<&[f64]>,
    rng: &mut Rng,
) {
    let n = v.len();
    let (u, in_exc, in_inh) = (&mut u[..n], &mut in_exc[..n], &mut in_inh[..n]);
    for i in 0..n {
        let x = ext.map_or(0.0, |x| x[i]);
        let ui = u[i] * c.decay;
        let rate = (c.rate0 + x + ui).clamp(0.0, c.rate_max);
        v[i] = if uniform(rng) < rate * c.p_per_hz { 1.0 } else { 0.0 };
        u[i] = ui + c.gain * (in_exc[i] as f64 - in_inh[i] as f64);
        in_exc[i] = 0.0;
        in_inh[i] = 0.0;
    }
}
