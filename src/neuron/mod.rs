//! Neuron models. Each model lives in its own file with its equations, parameter table and
//! references; this module holds the closed set of models ([`NeuronSpec`] on the model-file side,
//! [`Dynamics`] at run time) and the pieces they share.
//!
//! Every model is advanced by one step with the same convention (see `ARCHITECTURE.md`):
//! propagate the state from t to t+h with the inputs of the previous step, count down the
//! refractory period, then add the inputs arriving at t+h to the synaptic variables; the engine
//! then applies the threshold ([`detect`]).

pub mod lif_coba;
pub mod lif_cuba;
pub mod lif_delta;
pub mod poisson_linear;
pub mod sources;

use crate::error::SpecIssue;
use serde::{Deserialize, Serialize};

pub use lif_coba::{LifCoba, LifCobaParams};
pub use lif_cuba::{LifCuba, LifCubaParams};
pub use lif_delta::{LifDelta, LifDeltaParams};
pub use poisson_linear::{PoissonLinear, PoissonLinearParams};
pub use sources::{ModulatedPoisson, ModulatedPoissonParams, PoissonSource, PoissonSourceParams, SpikeSource, SpikeSourceParams};

/// The neuron model of a population, as written in a model file (`model = "lif_cuba"` plus the
/// model's parameters in the same table).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum NeuronSpec {
    /// Current-based LIF with exponential currents ([`lif_cuba`]).
    LifCuba(LifCubaParams),
    /// Conductance-based LIF with exponential conductances ([`lif_coba`]).
    LifCoba(LifCobaParams),
    /// LIF with delta synapses ([`lif_delta`]).
    LifDelta(LifDeltaParams),
    /// Linear Poisson neuron: rate = bias + filtered inputs ([`poisson_linear`]).
    PoissonLinear(PoissonLinearParams),
    /// Independent Poisson spike trains ([`sources`]).
    PoissonSource(PoissonSourceParams),
    /// Spikes at given times ([`sources`]).
    SpikeSource(SpikeSourceParams),
    /// Poisson trains driven by shared, temporally modulated rate signals ([`sources`]).
    ModulatedPoisson(ModulatedPoissonParams),
}

impl NeuronSpec {
    /// The model's name in model files.
    pub fn name(&self) -> &'static str {
        match self {
            NeuronSpec::LifCuba(_) => "lif_cuba",
            NeuronSpec::LifCoba(_) => "lif_coba",
            NeuronSpec::LifDelta(_) => "lif_delta",
            NeuronSpec::PoissonLinear(_) => "poisson_linear",
            NeuronSpec::PoissonSource(_) => "poisson_source",
            NeuronSpec::SpikeSource(_) => "spike_source",
            NeuronSpec::ModulatedPoisson(_) => "modulated_poisson",
        }
    }

    /// Range checks; `field` is the dotted path of the table.
    pub fn validate(&self, field: &str, dt: f64, size: usize, issues: &mut Vec<SpecIssue>) {
        match self {
            NeuronSpec::LifCuba(p) => p.validate(field, dt, issues),
            NeuronSpec::LifCoba(p) => p.validate(field, dt, issues),
            NeuronSpec::LifDelta(p) => p.validate(field, dt, issues),
            NeuronSpec::PoissonLinear(p) => p.validate(field, issues),
            NeuronSpec::PoissonSource(p) => p.validate(field, size, issues),
            NeuronSpec::SpikeSource(p) => p.validate(field, size, issues),
            NeuronSpec::ModulatedPoisson(p) => p.validate(field, dt, size, issues),
        }
    }

    /// Unit of the weights of projections onto this model.
    pub fn weight_unit(&self) -> &'static str {
        match self {
            NeuronSpec::LifCuba(_) | NeuronSpec::LifDelta(_) => "mV",
            NeuronSpec::LifCoba(_) => "nS",
            NeuronSpec::PoissonSource(_) | NeuronSpec::SpikeSource(_) | NeuronSpec::ModulatedPoisson(_) => "none (sources take no input)",
            NeuronSpec::PoissonLinear(_) => "1 (expected extra output spikes per input spike)",
        }
    }

    /// Unit of external currents injected into this model.
    pub fn current_unit(&self) -> &'static str {
        match self {
            NeuronSpec::LifCoba(_) => "pA",
            NeuronSpec::PoissonLinear(_) => "Hz",
            _ => "mV",
        }
    }

    /// Names and units of the state variables that can be initialised and recorded.
    pub fn state_variables(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            NeuronSpec::LifCuba(_) => &[("v", "mV"), ("i_exc", "mV"), ("i_inh", "mV")],
            NeuronSpec::LifCoba(_) => &[("v", "mV"), ("g_exc", "nS"), ("g_inh", "nS")],
            NeuronSpec::LifDelta(_) => &[("v", "mV")],
            NeuronSpec::PoissonSource(_) | NeuronSpec::SpikeSource(_) | NeuronSpec::ModulatedPoisson(_) => &[],
            NeuronSpec::PoissonLinear(_) => &[("u", "Hz")],
        }
    }

    /// Whether the population is a spike source (receives no input, has no membrane).
    pub fn is_source(&self) -> bool {
        matches!(
            self,
            NeuronSpec::PoissonSource(_) | NeuronSpec::SpikeSource(_) | NeuronSpec::ModulatedPoisson(_)
        )
    }

    /// Fresh runtime state for `n` neurons.
    pub fn build(&self, n: usize, dt: f64) -> Dynamics {
        match self {
            NeuronSpec::LifCuba(p) => Dynamics::LifCuba(LifCuba::new(p, n, dt)),
            NeuronSpec::LifCoba(p) => Dynamics::LifCoba(LifCoba::new(p, n, dt)),
            NeuronSpec::LifDelta(p) => Dynamics::LifDelta(LifDelta::new(p, n, dt)),
            NeuronSpec::PoissonLinear(p) => Dynamics::PoissonLinear(PoissonLinear::new(p, n, dt)),
            NeuronSpec::PoissonSource(p) => Dynamics::PoissonSource(PoissonSource::new(p, n, dt)),
            NeuronSpec::SpikeSource(p) => Dynamics::SpikeSource(SpikeSource::new(p, dt)),
            NeuronSpec::ModulatedPoisson(p) => Dynamics::ModulatedPoisson(ModulatedPoisson::new(p, n, dt)),
        }
    }
}

/// Runtime state of a population's neurons (structure of arrays inside each variant).
#[derive(Clone, Debug)]
pub enum Dynamics {
    /// See [`lif_cuba`].
    LifCuba(LifCuba),
    /// See [`lif_coba`].
    LifCoba(LifCoba),
    /// See [`lif_delta`].
    LifDelta(LifDelta),
    /// See [`poisson_linear`].
    PoissonLinear(PoissonLinear),
    /// See [`sources`].
    PoissonSource(PoissonSource),
    /// See [`sources`].
    SpikeSource(SpikeSource),
    /// See [`sources`].
    ModulatedPoisson(ModulatedPoisson),
}

impl Dynamics {
    /// A state variable by name (`v`, `i_exc`, `g_inh`, ...).
    pub fn var(&self, name: &str) -> Option<&[f64]> {
        match (self, name) {
            (Dynamics::LifCuba(m), "v") => Some(&m.v),
            (Dynamics::LifCuba(m), "i_exc") => Some(&m.i_exc),
            (Dynamics::LifCuba(m), "i_inh") => Some(&m.i_inh),
            (Dynamics::LifCoba(m), "v") => Some(&m.v),
            (Dynamics::LifCoba(m), "g_exc") => Some(&m.g_exc),
            (Dynamics::LifCoba(m), "g_inh") => Some(&m.g_inh),
            (Dynamics::LifDelta(m), "v") => Some(&m.v),
            (Dynamics::PoissonLinear(m), "u") => Some(&m.u),
            _ => None,
        }
    }

    /// Mutable access to a state variable.
    pub fn var_mut(&mut self, name: &str) -> Option<&mut [f64]> {
        match (self, name) {
            (Dynamics::LifCuba(m), "v") => Some(&mut m.v),
            (Dynamics::LifCuba(m), "i_exc") => Some(&mut m.i_exc),
            (Dynamics::LifCuba(m), "i_inh") => Some(&mut m.i_inh),
            (Dynamics::LifCoba(m), "v") => Some(&mut m.v),
            (Dynamics::LifCoba(m), "g_exc") => Some(&mut m.g_exc),
            (Dynamics::LifCoba(m), "g_inh") => Some(&mut m.g_inh),
            (Dynamics::LifDelta(m), "v") => Some(&mut m.v),
            (Dynamics::PoissonLinear(m), "u") => Some(&mut m.u),
            _ => None,
        }
    }

    /// Shared pieces of membrane models; `None` for sources.
    pub fn common(&self) -> Option<&Common> {
        match self {
            Dynamics::LifCuba(m) => Some(&m.common),
            Dynamics::LifCoba(m) => Some(&m.common),
            Dynamics::LifDelta(m) => Some(&m.common),
            Dynamics::PoissonLinear(m) => Some(&m.common),
            _ => None,
        }
    }

    /// Mutable shared pieces.
    pub fn common_mut(&mut self) -> Option<&mut Common> {
        match self {
            Dynamics::LifCuba(m) => Some(&mut m.common),
            Dynamics::LifCoba(m) => Some(&mut m.common),
            Dynamics::LifDelta(m) => Some(&mut m.common),
            Dynamics::PoissonLinear(m) => Some(&mut m.common),
            _ => None,
        }
    }
}

/// State and constants every membrane model has.
#[derive(Clone, Debug)]
pub struct Common {
    /// Remaining refractory steps per neuron (0 = integrating); u16 keeps the memory-bound neuron
    /// loop lean (refractory periods up to 65535 steps).
    pub refr: Vec<u16>,
    /// Refractory period in steps.
    pub refr_steps: u16,
    /// Threshold, mV.
    pub v_th: f64,
    /// Reset, mV.
    pub v_reset: f64,
    /// External input per neuron (model current units), present only if a current input targets the
    /// population.
    pub ext: Option<Vec<f64>>,
}

impl Common {
    fn new(n: usize, refr_steps: u16, v_th: f64, v_reset: f64) -> Self {
        Common {
            refr: vec![0; n],
            refr_steps,
            v_th,
            v_reset,
            ext: None,
        }
    }
}

/// Threshold and reset for neurons `v` (local indices offset by `base`): pushes spiking neurons.
#[inline]
pub fn detect(v: &mut [f64], refr: &mut [u16], v_th: f64, v_reset: f64, refr_steps: u16, base: u32, spikes: &mut Vec<u32>) {
    let refr = &mut refr[..v.len()];
    // Spikes are rare: test 16 neurons at a time with a branch-free (vectorised) reduction and
    // look at single neurons only in groups that contain a crossing.
    const G: usize = 16;
    let groups = v.len() / G;
    for g in 0..groups {
        let vs = &v[g * G..(g + 1) * G];
        if vs.iter().fold(false, |a, &x| a | (x >= v_th)) {
            for i in g * G..(g + 1) * G {
                if v[i] >= v_th {
                    v[i] = v_reset;
                    refr[i] = refr_steps;
                    spikes.push(base + i as u32);
                }
            }
        }
    }
    for i in groups * G..v.len() {
        if v[i] >= v_th {
            v[i] = v_reset;
            refr[i] = refr_steps;
            spikes.push(base + i as u32);
        }
    }
}

/// Number of whole steps in `t` ms (validated to be a multiple of dt and at most 65535 steps).
pub fn steps(t: f64, dt: f64) -> u16 {
    (t / dt).round() as u16
}

pub(crate) fn check_positive(issues: &mut Vec<SpecIssue>, field: &str, name: &str, v: f64, unit: &str) {
    if !(v.is_finite() && v > 0.0) {
        issues.push(SpecIssue::new(
            format!("{field}.{name}"),
            format!("value {v} {unit} is not allowed; must be > 0"),
        ));
    }
}

/// True when `t` is a whole number of steps of `dt` (to 1e-9 relative).
pub fn is_multiple(t: f64, dt: f64) -> bool {
    let r = t / dt;
    (r - r.round()).abs() <= 1e-9 * r.abs().max(1.0)
}

pub(crate) fn check_refractory(issues: &mut Vec<SpecIssue>, field: &str, t_ref: f64, dt: f64) {
    if !(t_ref.is_finite() && t_ref >= 0.0) {
        issues.push(SpecIssue::new(
            format!("{field}.t_ref"),
            format!("value {t_ref} ms is not allowed; must be >= 0"),
        ));
    } else if t_ref / dt > u16::MAX as f64 {
        issues.push(SpecIssue::new(
            format!("{field}.t_ref"),
            format!("value {t_ref} ms is longer than {} steps of dt = {dt} ms", u16::MAX),
        ));
    } else if !is_multiple(t_ref, dt) {
        issues.push(SpecIssue::new(
            format!("{field}.t_ref"),
            format!("value {t_ref} ms is not a multiple of dt = {dt} ms; the refractory period must be a whole number of steps"),
        ));
    }
}
