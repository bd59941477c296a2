//! Leaky integrate-and-fire neuron with exponentially decaying excitatory and inhibitory synaptic
//! currents (CUBA), integrated exactly (Rotter & Diesmann 1999).
//!
//! # Equations
//! Currents are expressed in voltage units (R·I, mV): the depolarisation they would hold the
//! membrane at. This is the form of the Vogels & Abbott (2005) / Brette et al. (2007) CUBA
//! benchmark, where a spike makes `i_exc` jump by the weight in mV.
//!
//! ```text
//! tau_m   dV/dt     = -(V - e_l) + i_exc + i_inh + v_bias + v_ext(t)
//! tau_exc di_exc/dt = -i_exc          i_exc += w   at an excitatory spike arrival
//! tau_inh di_inh/dt = -i_inh          i_inh -= w   at an inhibitory spike arrival (w >= 0)
//! V >= v_th  ->  spike, V = v_reset, V clamped for t_ref
//! ```
//! Over one step h, with `V_inf = e_l + v_bias + v_ext` constant during the step:
//! ```text
//! V(t+h) = V_inf + (V - V_inf) e^{-h/tau_m} + P_e i_exc + P_i i_inh
//! P_s    = tau_s / (tau_s - tau_m) (e^{-h/tau_s} - e^{-h/tau_m})     (tau_s != tau_m)
//!        = (h / tau_m) e^{-h/tau_m}                                 (tau_s == tau_m)
//! i_s(t+h) = i_s e^{-h/tau_s} + (inputs arriving at t+h)
//! ```
//! The update is exact for piecewise-constant external input, so the only error is round-off.
//!
//! # Parameters
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `tau_m` | ms | 20 | membrane time constant |
//! | `e_l` | mV | -70 | resting (leak reversal) potential |
//! | `v_th` | mV | -55 | spike threshold (spike when V >= v_th) |
//! | `v_reset` | mV | -70 | reset potential |
//! | `t_ref` | ms | 2 | absolute refractory period (a whole number of steps) |
//! | `tau_exc` | ms | 5 | decay time constant of the excitatory current |
//! | `tau_inh` | ms | 10 | decay time constant of the inhibitory current |
//! | `v_bias` | mV | 0 | constant input, as the depolarisation R·I it causes |
//!
//! Weights of projections onto this model are in mV (jump of `i_exc` or `i_inh`).
//!
//! # References
//! - Rotter S, Diesmann M (1999) Exact digital simulation of time-invariant linear systems with
//!   applications to neuronal modeling. Biol Cybern 81:381-402.
//! - Vogels TP, Abbott LF (2005) Signal propagation and logic gating in networks of
//!   integrate-and-fire neurons. J Neurosci 25:10786-10795.
//! - Brette R et al. (2007) Simulation of networks of spiking neurons: a review of tools and
//!   strategies. J Comput Neurosci 23:349-398 (benchmark 2).
//! - NEST `iaf_psc_exp` (same propagators, currents in pA).

use super::{check_positive, check_refractory, Common};
use crate::error::SpecIssue;
use serde::{Deserialize, Serialize};

/// User parameters (see the module table).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LifCubaParams {
    /// Membrane time constant, ms.
    pub tau_m: f64,
    /// Leak reversal potential, mV.
    pub e_l: f64,
    /// Threshold, mV.
    pub v_th: f64,
    /// Reset potential, mV.
    pub v_reset: f64,
    /// Absolute refractory period, ms.
    pub t_ref: f64,
    /// Excitatory current decay, ms.
    pub tau_exc: f64,
    /// Inhibitory current decay, ms.
    pub tau_inh: f64,
    /// Constant input as R·I, mV.
    pub v_bias: f64,
}

impl Default for LifCubaParams {
    fn default() -> Self {
        LifCubaParams {
            tau_m: 20.0,
            e_l: -70.0,
            v_th: -55.0,
            v_reset: -70.0,
            t_ref: 2.0,
            tau_exc: 5.0,
            tau_inh: 10.0,
            v_bias: 0.0,
        }
    }
}

impl LifCubaParams {
    /// Range checks.
    pub fn validate(&self, field: &str, dt: f64, issues: &mut Vec<SpecIssue>) {
        check_positive(issues, field, "tau_m", self.tau_m, "ms");
        check_positive(issues, field, "tau_exc", self.tau_exc, "ms");
        check_positive(issues, field, "tau_inh", self.tau_inh, "ms");
        check_refractory(issues, field, self.t_ref, dt);
        for (n, v) in [
            ("e_l", self.e_l),
            ("v_th", self.v_th),
            ("v_reset", self.v_reset),
            ("v_bias", self.v_bias),
        ] {
            if !v.is_finite() {
                issues.push(SpecIssue::new(format!("{field}.{n}"), format!("value {v} is not a finite number")));
            }
        }
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

/// Propagator for a synaptic current with time constant `tau_s` onto a membrane with `tau_m`.
pub fn current_propagator(h: f64, tau_m: f64, tau_s: f64) -> f64 {
    let em = (-h / tau_m).exp();
    if ((tau_s - tau_m) / tau_m).abs() < 1e-12 {
        h / tau_m * em
    } else {
        // e^{-h/ts} - e^{-h/tm} computed as em * expm1(h/tm - h/ts) keeps precision when ts ~ tm.
        tau_s / (tau_s - tau_m) * em * (h / tau_m - h / tau_s).exp_m1()
    }
}

/// Constants derived once from the parameters and the step.
#[derive(Clone, Debug)]
pub struct LifCubaConsts {
    p_vv: f64,
    p_ve: f64,
    p_vi: f64,
    p_ee: f64,
    p_ii: f64,
    one_minus_p_vv: f64,
    v_rest: f64,
}

/// Runtime state, structure of arrays.
#[derive(Clone, Debug)]
pub struct LifCuba {
    /// Parameters it was built from.
    pub params: LifCubaParams,
    /// Derived constants.
    pub consts: LifCubaConsts,
    /// Membrane potential, mV.
    pub v: Vec<f64>,
    /// Excitatory current (R·I), mV.
    pub i_exc: Vec<f64>,
    /// Inhibitory current (R·I), mV; <= 0.
    pub i_inh: Vec<f64>,
    /// Common pieces (refractory counters, external input).
    pub common: Common,
}

impl LifCuba {
    /// Fresh state for `n` neurons at rest.
    pub fn new(params: &LifCubaParams, n: usize, dt: f64) -> Self {
        let p = params;
        let p_vv = (-dt / p.tau_m).exp();
        let consts = LifCubaConsts {
            p_vv,
            p_ve: current_propagator(dt, p.tau_m, p.tau_exc),
            p_vi: current_propagator(dt, p.tau_m, p.tau_inh),
            p_ee: (-dt / p.tau_exc).exp(),
            p_ii: (-dt / p.tau_inh).exp(),
            one_minus_p_vv: -(-dt / p.tau_m).exp_m1(),
            v_rest: p.e_l + p.v_bias,
        };
        LifCuba {
            params: p.clone(),
            consts,
            v: vec![p.e_l; n],
            i_exc: vec![0.0; n],
            i_inh: vec![0.0; n],
            common: Common::new(n, super::steps(p.t_ref, dt), p.v_th, p.v_reset),
        }
    }
}

/// [`step`] without the ring inputs: the engine adds them afterwards for the few neurons that
/// received any (`ie += in_exc`, `ii -= in_inh`, the same arithmetic as `step`), which saves
/// reading and clearing two dense input arrays per step. Returns whether any neuron reached
/// `v_th`: most sub-blocks have no spike in a step, and the threshold scan can skip them.
pub fn propagate(
    c: &LifCubaConsts,
    v: &mut [f64],
    ie: &mut [f64],
    ii: &mut [f64],
    refr: &mut [u16],
    v_ext: Option<&[f64]>,
    v_th: f64,
) -> bool {
    with_drive::<false>(c, v, ie, ii, refr, &mut [], &mut [], v_ext, v_th)
}

/// Advance neurons `lo..hi` by one step; inputs arriving now are in `in_exc`/`in_inh` (read and
/// zeroed), `v_ext` is the external input (mV) of this step. Returns whether any neuron reached
/// `v_th` (the engine then runs the threshold scan).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn step(
    c: &LifCubaConsts,
    v: &mut [f64],
    ie: &mut [f64],
    ii: &mut [f64],
    refr: &mut [u16],
    in_exc: &mut [f32],
    in_inh: &mut [f32],
    v_ext: Option<&[f64]>,
    v_th: f64,
) -> bool {
    with_drive::<true>(c, v, ie, ii, refr, in_exc, in_inh, v_ext, v_th)
}

/// [`update`] with the constant part of the drive: two monomorphised loops rather than an
/// `Option` looked up per neuron, which would keep the loop from vectorising; without external
/// input the constant part is computed once.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn with_drive<const INPUTS: bool>(
    c: &LifCubaConsts,
    v: &mut [f64],
    ie: &mut [f64],
    ii: &mut [f64],
    refr: &mut [u16],
    in_exc: &mut [f32],
    in_inh: &mut [f32],
    v_ext: Option<&[f64]>,
    v_th: f64,
) -> bool {
    match v_ext {
        None => {
            let a = c.one_minus_p_vv * c.v_rest;
            update::<INPUTS>(c, v, ie, ii, refr, in_exc, in_inh, |_| a, v_th)
        }
        Some(x) => {
            let x = &x[..v.len()];
            update::<INPUTS>(c, v, ie, ii, refr, in_exc, in_inh, |i| c.one_minus_p_vv * (c.v_rest + x[i]), v_th)
        }
    }
}

/// The update of [`step`] (`INPUTS`: add and clear the ring inputs) and [`propagate`] (not);
/// `drive(i)` is the constant part `(1 - P_vv) (v_rest + v_ext)` for neuron i.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn update<const INPUTS: bool>(
    c: &LifCubaConsts,
    v: &mut [f64],
    ie: &mut [f64],
    ii: &mut [f64],
    refr: &mut [u16],
    in_exc: &mut [f32],
    in_inh: &mut [f32],
    drive: impl Fn(usize) -> f64,
    v_th: f64,
) -> bool {
    let n = v.len();
    let (ie, ii, refr) = (&mut ie[..n], &mut ii[..n], &mut refr[..n]);
    let m = if INPUTS { n } else { 0 };
    let (in_exc, in_inh) = (&mut in_exc[..m], &mut in_inh[..m]);
    let mut crossed = false;
    for i in 0..n {
        let prop = drive(i) + v[i] * c.p_vv + ie[i] * c.p_ve + ii[i] * c.p_vi;
        let r = refr[i];
        let nv = if r == 0 { prop } else { v[i] };
        v[i] = nv;
        crossed |= nv >= v_th;
        refr[i] = r.saturating_sub(1);
        if INPUTS {
            ie[i] = ie[i] * c.p_ee + in_exc[i] as f64;
            ii[i] = ii[i] * c.p_ii - in_inh[i] as f64;
            in_exc[i] = 0.0;
            in_inh[i] = 0.0;
        } else {
            ie[i] *= c.p_ee;
            ii[i] *= c.p_ii;
        }
    }
    crossed
}
