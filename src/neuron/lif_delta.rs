//! Leaky integrate-and-fire neuron with delta synapses: every input spike makes the membrane
//! potential jump (Brunel 2000, model A).
//!
//! # Equations
//! ```text
//! tau_m dV/dt = -(V - e_l) + v_bias + v_ext(t) + tau_m sum_k J_k delta(t - t_k)
//! V >= v_th  ->  spike, V = v_reset, V clamped for t_ref (inputs arriving then are discarded)
//! ```
//! Exact update over one step h: `V(t+h) = V_inf + (V - V_inf) e^{-h/tau_m} + J(t+h)` with
//! `V_inf = e_l + v_bias + v_ext`, where `J(t+h)` is the sum of the jumps arriving at `t+h`
//! (excitatory positive, inhibitory negative). As in NEST `iaf_psc_delta`, input arriving during
//! the refractory period is discarded.
//!
//! # Parameters
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `tau_m` | ms | 20 | membrane time constant |
//! | `e_l` | mV | 0 | resting potential |
//! | `v_th` | mV | 20 | threshold (spike when V >= v_th) |
//! | `v_reset` | mV | 10 | reset potential |
//! | `t_ref` | ms | 2 | absolute refractory period (a whole number of steps) |
//! | `v_bias` | mV | 0 | constant input as the depolarisation R·I it causes |
//!
//! Defaults are Brunel (2000) model A. Weights of projections onto this model are the jump J in mV.
//!
//! # References
//! - Brunel N (2000) Dynamics of sparsely connected networks of excitatory and inhibitory spiking
//!   neurons. J Comput Neurosci 8:183-208.
//! - NEST `iaf_psc_delta`.

use super::{check_positive, check_refractory, Common};
use crate::error::SpecIssue;
use serde::{Deserialize, Serialize};

/// User parameters (see the module table).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LifDeltaParams {
    /// Membrane time constant, ms.
    pub tau_m: f64,
    /// Resting potential, mV.
    pub e_l: f64,
    /// Threshold, mV.
    pub v_th: f64,
    /// Reset, mV.
    pub v_reset: f64,
    /// Refractory period, ms.
    pub t_ref: f64,
    /// Constant input as R·I, mV.
    pub v_bias: f64,
}

impl Default for LifDeltaParams {
    fn default() -> Self {
        LifDeltaParams {
            tau_m: 20.0,
            e_l: 0.0,
            v_th: 20.0,
            v_reset: 10.0,
            t_ref: 2.0,
            v_bias: 0.0,
        }
    }
}

impl LifDeltaParams {
    /// Range checks.
    pub fn validate(&self, field: &str, dt: f64, issues: &mut Vec<SpecIssue>) {
        check_positive(issues, field, "tau_m", self.tau_m, "ms");
        check_refractory(issues, field, self.t_ref, dt);
        if self.v_reset >= self.v_th {
            issues.push(SpecIssue::new(
                format!("{field}.v_reset"),
                format!(
                    "value {} mV is not below v_th = {} mV; the reset must lie below the threshold",
                    self.v_reset, self.v_th
                ),
            ));
        }
    }
}

/// Derived constants.
#[derive(Clone, Debug)]
pub struct LifDeltaConsts {
    p_vv: f64,
    one_minus_p_vv: f64,
    v_rest: f64,
}

/// Runtime state.
#[derive(Clone, Debug)]
pub struct LifDelta {
    /// Parameters.
    pub params: LifDeltaParams,
    /// Derived constants.
    pub consts: LifDeltaConsts,
    /// Membrane potential, mV.
    pub v: Vec<f64>,
    /// Refractory counters and external input.
    pub common: Common,
}

impl LifDelta {
    /// Fresh state at rest.
    pub fn new(p: &LifDeltaParams, n: usize, dt: f64) -> Self {
        let consts = LifDeltaConsts {
            p_vv: (-dt / p.tau_m).exp(),
            one_minus_p_vv: -(-dt / p.tau_m).exp_m1(),
            v_rest: p.e_l + p.v_bias,
        };
        LifDelta {
            params: p.clone(),
            consts,
            v: vec![p.e_l; n],
            common: Common::new(n, super::steps(p.t_ref, dt), p.v_th, p.v_reset),
        }
    }
}

/// Advance one step (see [`super::lif_cuba::step`] for the argument conventions).
#[inline]
pub fn step(
    c: &LifDeltaConsts,
    v: &mut [f64],
    refr: &mut [u16],
    in_exc: &mut [f32],
    in_inh: &mut [f32],
    v_ext: Option<&[f64]>,
    v_th: f64,
) -> bool {
    let n = v.len();
    let (refr, in_exc, in_inh) = (&mut refr[..n], &mut in_exc[..n], &mut in_inh[..n]);
    let mut crossed = false;
    for i in 0..n {
        let x = v_ext.map_or(0.0, |x| x[i]);
        let prop = c.one_minus_p_vv * (c.v_rest + x) + v[i] * c.p_vv + (in_exc[i] as f64 - in_inh[i] as f64);
        let r = refr[i];
        let nv = if r == 0 { prop } else { v[i] };
        v[i] = nv;
        crossed |= nv >= v_th;
        refr[i] = r.saturating_sub(1);
        in_exc[i] = 0.0;
        in_inh[i] = 0.0;
    }
    crossed
}
