//! Leaky integrate-and-fire neuron with exponentially decaying excitatory and inhibitory
//! conductances and reversal potentials (COBA).
//!
//! # Equations
//! ```text
//! c_m dV/dt     = g_leak (e_l - V) + g_exc (e_exc - V) + g_inh (e_inh - V) + i_bias + i_ext(t)
//! tau_exc dg_exc/dt = -g_exc          g_exc += w  at an excitatory spike arrival (w in nS)
//! tau_inh dg_inh/dt = -g_inh          g_inh += w  at an inhibitory spike arrival
//! V >= v_th  ->  spike, V = v_reset, V clamped for t_ref
//! ```
//! The conductances decay exactly (`g(t+h) = g e^{-h/tau}`). V obeys a linear ODE whose
//! coefficients are known in closed form during the step; it is integrated with the classical
//! fourth-order Runge-Kutta scheme using the exact conductances at t, t+h/2 and t+h. The local
//! error is O((h/tau_eff)^5) with tau_eff = c_m / (g_leak + g_exc + g_inh): about 1e-13 per step
//! at rest for h = 0.1 ms, tau_m = 20 ms (a test checks the closed form to 1e-9).
//! NEST's `iaf_cond_exp` uses adaptive RKF45 for the same equations.
//!
//! # Parameters
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `c_m` | pF | 200 | membrane capacitance |
//! | `g_leak` | nS | 10 | leak conductance (tau_m = c_m / g_leak = 20 ms) |
//! | `e_l` | mV | -60 | leak reversal potential |
//! | `v_th` | mV | -50 | threshold (spike when V >= v_th) |
//! | `v_reset` | mV | -60 | reset potential |
//! | `t_ref` | ms | 5 | absolute refractory period (a whole number of steps) |
//! | `e_exc` | mV | 0 | excitatory reversal potential |
//! | `e_inh` | mV | -80 | inhibitory reversal potential |
//! | `tau_exc` | ms | 5 | excitatory conductance decay |
//! | `tau_inh` | ms | 10 | inhibitory conductance decay |
//! | `i_bias` | pA | 0 | constant input current |
//!
//! Defaults are the Vogels & Abbott (2005) / Brette et al. (2007) COBA benchmark neuron. Weights of
//! projections onto this model are conductance jumps in nS.
//!
//! # References
//! - Vogels TP, Abbott LF (2005) J Neurosci 25:10786-10795.
//! - Brette R et al. (2007) J Comput Neurosci 23:349-398 (benchmark 1).
//! - Vogels TP, Sprekeler H, Zenke F, Clopath C, Gerstner W (2011) Science 334:1569-1573.

use super::{check_positive, check_refractory, Common};
use crate::error::SpecIssue;
use serde::{Deserialize, Serialize};

/// User parameters (see the module table).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LifCobaParams {
    /// Capacitance, pF.
    pub c_m: f64,
    /// Leak conductance, nS.
    pub g_leak: f64,
    /// Leak reversal, mV.
    pub e_l: f64,
    /// Threshold, mV.
    pub v_th: f64,
    /// Reset, mV.
    pub v_reset: f64,
    /// Refractory period, ms.
    pub t_ref: f64,
    /// Excitatory reversal, mV.
    pub e_exc: f64,
    /// Inhibitory reversal, mV.
    pub e_inh: f64,
    /// Excitatory conductance decay, ms.
    pub tau_exc: f64,
    /// Inhibitory conductance decay, ms.
    pub tau_inh: f64,
    /// Constant current, pA.
    pub i_bias: f64,
}

impl Default for LifCobaParams {
    fn default() -> Self {
        LifCobaParams {
            c_m: 200.0,
            g_leak: 10.0,
            e_l: -60.0,
            v_th: -50.0,
            v_reset: -60.0,
            t_ref: 5.0,
            e_exc: 0.0,
            e_inh: -80.0,
            tau_exc: 5.0,
            tau_inh: 10.0,
            i_bias: 0.0,
        }
    }
}

impl LifCobaParams {
    /// Range checks.
    pub fn validate(&self, field: &str, dt: f64, issues: &mut Vec<SpecIssue>) {
        check_positive(issues, field, "c_m", self.c_m, "pF");
        check_positive(issues, field, "g_leak", self.g_leak, "nS");
        check_positive(issues, field, "tau_exc", self.tau_exc, "ms");
        check_positive(issues, field, "tau_inh", self.tau_inh, "ms");
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
pub struct LifCobaConsts {
    h: f64,
    inv_c: f64,
    g_leak: f64,
    g_leak_e_l: f64,
    e_exc: f64,
    e_inh: f64,
    i_bias: f64,
    de: f64,
    di: f64,
    de_half: f64,
    di_half: f64,
}

/// Runtime state.
#[derive(Clone, Debug)]
pub struct LifCoba {
    /// Parameters.
    pub params: LifCobaParams,
    /// Derived constants.
    pub consts: LifCobaConsts,
    /// Membrane potential, mV.
    pub v: Vec<f64>,
    /// Excitatory conductance, nS.
    pub g_exc: Vec<f64>,
    /// Inhibitory conductance, nS.
    pub g_inh: Vec<f64>,
    /// Refractory counters and external input.
    pub common: Common,
}

impl LifCoba {
    /// Fresh state at rest.
    pub fn new(p: &LifCobaParams, n: usize, dt: f64) -> Self {
        let consts = LifCobaConsts {
            h: dt,
            inv_c: 1.0 / p.c_m,
            g_leak: p.g_leak,
            g_leak_e_l: p.g_leak * p.e_l,
            e_exc: p.e_exc,
            e_inh: p.e_inh,
            i_bias: p.i_bias,
            de: (-dt / p.tau_exc).exp(),
            di: (-dt / p.tau_inh).exp(),
            de_half: (-0.5 * dt / p.tau_exc).exp(),
            di_half: (-0.5 * dt / p.tau_inh).exp(),
        };
        LifCoba {
            params: p.clone(),
            consts,
            v: vec![p.e_l; n],
            g_exc: vec![0.0; n],
            g_inh: vec![0.0; n],
            common: Common::new(n, super::steps(p.t_ref, dt), p.v_th, p.v_reset),
        }
    }
}

/// Advance one step (see [`super::lif_cuba::step`] for the argument conventions; `i_ext` in pA).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn step(
    c: &LifCobaConsts,
    v: &mut [f64],
    ge: &mut [f64],
    gi: &mut [f64],
    refr: &mut [u16],
    in_exc: &mut [f32],
    in_inh: &mut [f32],
    i_ext: Option<&[f64]>,
    v_th: f64,
) -> bool {
    let n = v.len();
    // Two monomorphised loops (as in lif_cuba): an Option looked up inside the loop kept it
    // from vectorising (the COBA integrate took ~8x the CUBA one per neuron). The arithmetic is
    // the same in both (`i_bias + 0.0` without external input), so results are unchanged.
    match i_ext {
        None => step_with(c, v, ge, gi, refr, in_exc, in_inh, |_| 0.0, v_th),
        Some(x) => {
            let x = &x[..n];
            step_with(c, v, ge, gi, refr, in_exc, in_inh, |k| x[k], v_th)
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn step_with(
    c: &LifCobaConsts,
    v: &mut [f64],
    ge: &mut [f64],
    gi: &mut [f64],
    refr: &mut [u16],
    in_exc: &mut [f32],
    in_inh: &mut [f32],
    ext: impl Fn(usize) -> f64,
    v_th: f64,
) -> bool {
    let n = v.len();
    let (ge, gi, refr, in_exc, in_inh) = (&mut ge[..n], &mut gi[..n], &mut refr[..n], &mut in_exc[..n], &mut in_inh[..n]);
    let h = c.h;
    let mut crossed = false;
    for k in 0..n {
        let i = c.i_bias + ext(k);
        let (ge0, gi0) = (ge[k], gi[k]);
        let (ge_h, gi_h) = (ge0 * c.de_half, gi0 * c.di_half);
        let (ge1, gi1) = (ge0 * c.de, gi0 * c.di);
        // dV/dt = a - b V with a, b known at each stage.
        let a0 = (c.g_leak_e_l + ge0 * c.e_exc + gi0 * c.e_inh + i) * c.inv_c;
        let b0 = (c.g_leak + ge0 + gi0) * c.inv_c;
        let ah = (c.g_leak_e_l + ge_h * c.e_exc + gi_h * c.e_inh + i) * c.inv_c;
        let bh = (c.g_leak + ge_h + gi_h) * c.inv_c;
        let a1 = (c.g_leak_e_l + ge1 * c.e_exc + gi1 * c.e_inh + i) * c.inv_c;
        let b1 = (c.g_leak + ge1 + gi1) * c.inv_c;
        let v0 = v[k];
        let k1 = a0 - b0 * v0;
        let k2 = ah - bh * (v0 + 0.5 * h * k1);
        let k3 = ah - bh * (v0 + 0.5 * h * k2);
        let k4 = a1 - b1 * (v0 + h * k3);
        let prop = v0 + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        let r = refr[k];
        let nv = if r == 0 { prop } else { v0 };
        v[k] = nv;
        crossed |= nv >= v_th;
        refr[k] = r.saturating_sub(1);
        ge[k] = ge1 + in_exc[k] as f64;
        gi[k] = gi1 + in_inh[k] as f64;
        in_exc[k] = 0.0;
        in_inh[k] = 0.0;
    }
    crossed
}
