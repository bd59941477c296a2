//! Spike sources: populations without a membrane whose spikes are given (spike generators) or
//! random (Poisson). They receive no input and can be the presynaptic side of any projection;
//! like NEST's `poisson_generator` + `parrot_neuron` and `spike_generator`, but each neuron is an
//! ordinary node with its own spike train, so sources can also carry plasticity traces.
//!
//! # Equations
//! - `poisson_source`: each neuron spikes in a step with probability `rate · dt` (a Bernoulli
//!   process per step: the discretised Poisson process; at most one spike per step). Draws come from
//!   the stream of the neuron's block, skipping geometrically between spiking neurons, so the cost
//!   is proportional to the number of spikes.
//! - `spike_source`: neuron k spikes at the steps `round(t / dt)` for every t in `times[k]`.
//! - `modulated_poisson`: groups of Poisson trains whose rates follow shared, rectified,
//!   low-pass filtered noise signals, with an input dead time (Vogels et al. 2011); see
//!   [`ModulatedPoisson`] for its equations and parameter table.
//!
//! # Parameters
//! | model | name | unit | default | meaning |
//! |---|---|---|---|---|
//! | `poisson_source` | `rate` | Hz | 0 | rate of every neuron; rate · dt must be <= 1 |
//! | `poisson_source` | `rates` | Hz | none | one rate per neuron (replaces `rate`); protocols and rate-pattern experiments change them at run time with `PoissonSource::set_rates` |
//! | `spike_source` | `times` | ms | (required) | one list of spike times per neuron |
//! | `modulated_poisson` | `groups`, `signal_tau`, `rate_background`, `rate_gain`, `t_ref`, `signal_stream` | —, ms, Hz, Hz, ms, — | required, 50, 5, required, 0, 0 | see [`ModulatedPoisson`] |
//!
//! # References
//! - NEST `poisson_generator`, `spike_generator`, `parrot_neuron`.
//! - Vogels TP, Sprekeler H, Zenke F, Clopath C, Gerstner W (2011) Science 334:1569-1573 (ModelDB
//!   143751, `inhib_plasticity.m`: the input signals of Fig. 1).

use crate::error::SpecIssue;
use crate::rng::{uniform_open0, Rng};
use serde::{Deserialize, Serialize};

/// Parameters of `poisson_source`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct PoissonSourceParams {
    /// Rate of each neuron, Hz.
    #[serde(default)]
    pub rate: f64,
    /// One rate per neuron, Hz (replaces `rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Vec<f64>>,
}

impl PoissonSourceParams {
    /// Range checks.
    pub fn validate(&self, field: &str, size: usize, issues: &mut Vec<SpecIssue>) {
        if !(self.rate.is_finite() && self.rate >= 0.0) {
            issues.push(SpecIssue::new(
                format!("{field}.rate"),
                format!("value {} Hz is not allowed; a rate must be >= 0", self.rate),
            ));
        }
        if let Some(r) = &self.rates {
            if r.len() != size {
                issues.push(SpecIssue::new(
                    format!("{field}.rates"),
                    format!(
                        "has {} entries but the population has {size} neurons; give one rate per neuron",
                        r.len()
                    ),
                ));
            }
            if let Some(x) = r.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                issues.push(SpecIssue::new(
                    format!("{field}.rates"),
                    format!("value {x} Hz is not allowed; a rate must be >= 0"),
                ));
            }
        }
    }
}

/// Parameters of `spike_source`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpikeSourceParams {
    /// Spike times per neuron, ms.
    pub times: Vec<Vec<f64>>,
}

impl SpikeSourceParams {
    /// Range checks.
    pub fn validate(&self, field: &str, size: usize, issues: &mut Vec<SpecIssue>) {
        if self.times.len() != size {
            issues.push(SpecIssue::new(
                format!("{field}.times"),
                format!(
                    "has {} lists but the population has {} neurons; give one list of spike times per neuron",
                    self.times.len(),
                    size
                ),
            ));
        }
        for (k, ts) in self.times.iter().enumerate() {
            if let Some(t) = ts.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
                issues.push(SpecIssue::new(
                    format!("{field}.times[{k}]"),
                    format!("value {t} ms is not allowed; spike times must be >= 0"),
                ));
            }
        }
    }
}

/// Runtime Poisson source.
#[derive(Clone, Debug)]
pub struct PoissonSource {
    /// Rate, Hz (can be changed between steps, e.g. by a protocol).
    pub rate: f64,
    /// Spike probability per step.
    pub p: f64,
    /// Per-neuron spike probabilities per step, when rates differ between neurons.
    pub p_each: Option<Vec<f64>>,
    n: usize,
    dt: f64,
}

impl PoissonSource {
    /// Build.
    pub fn new(p: &PoissonSourceParams, n: usize, dt: f64) -> Self {
        let mut s = PoissonSource {
            rate: 0.0,
            p: 0.0,
            p_each: None,
            n,
            dt,
        };
        s.set_rate(p.rate);
        if let Some(r) = &p.rates {
            s.set_rates(r);
        }
        s
    }

    /// Give every neuron the same rate (Hz).
    pub fn set_rate(&mut self, rate: f64) {
        self.rate = rate;
        self.p = (rate * self.dt * 1e-3).min(1.0);
        self.p_each = None;
    }

    /// Give each neuron its own rate (Hz); `rates.len()` must equal the population size.
    pub fn set_rates(&mut self, rates: &[f64]) {
        assert_eq!(rates.len(), self.n, "one rate per neuron");
        let dt = self.dt;
        match &mut self.p_each {
            Some(v) => v.iter_mut().zip(rates).for_each(|(p, r)| *p = (r * dt * 1e-3).min(1.0)),
            None => self.p_each = Some(rates.iter().map(|r| (r * dt * 1e-3).min(1.0)).collect()),
        }
    }

    /// Spikes of this step: one stream per block of [`crate::rng::BLOCK`] neurons.
    pub fn step(&self, rngs: &mut [Rng], spikes: &mut Vec<u32>) {
        if let Some(pe) = &self.p_each {
            // One uniform draw per neuron, in neuron order within each block's stream.
            for (b, rng) in rngs.iter_mut().enumerate() {
                let lo = b * crate::rng::BLOCK;
                let hi = (lo + crate::rng::BLOCK).min(self.n);
                for (i, &p) in pe[lo..hi].iter().enumerate() {
                    if crate::rng::uniform(rng) < p {
                        spikes.push((lo + i) as u32);
                    }
                }
            }
            return;
        }
        if self.p <= 0.0 {
            return;
        }
        let ln_q = (-self.p).ln_1p();
        for (b, rng) in rngs.iter_mut().enumerate() {
            let lo = b * crate::rng::BLOCK;
            let hi = (lo + crate::rng::BLOCK).min(self.n);
            if self.p >= 1.0 {
                spikes.extend(lo as u32..hi as u32);
                continue;
            }
            let mut i = lo as f64 - 1.0;
            loop {
                i += 1.0 + (uniform_open0(rng).ln() / ln_q).floor();
                if i >= hi as f64 {
                    break;
                }
                spikes.push(i as u32);
            }
        }
    }
}

/// Runtime spike generator.
#[derive(Clone, Debug)]
pub struct SpikeSource {
    /// (step, neuron) sorted by step, then neuron.
    events: Vec<(u64, u32)>,
    cursor: usize,
}

impl SpikeSource {
    /// Build from spike times.
    pub fn new(p: &SpikeSourceParams, dt: f64) -> Self {
        let mut events: Vec<(u64, u32)> = p
            .times
            .iter()
            .enumerate()
            .flat_map(|(k, ts)| ts.iter().map(move |t| ((t / dt).round() as u64, k as u32)))
            .collect();
        events.sort_unstable();
        events.dedup();
        SpikeSource { events, cursor: 0 }
    }

    /// Spikes of step `step`.
    pub fn step(&mut self, step: u64, spikes: &mut Vec<u32>) {
        while self.cursor < self.events.len() && self.events[self.cursor].0 < step {
            self.cursor += 1;
        }
        while self.cursor < self.events.len() && self.events[self.cursor].0 == step {
            spikes.push(self.events[self.cursor].1);
            self.cursor += 1;
        }
    }

    /// Replace the spike times (used by protocols); the next step continues from `from_step`.
    pub fn set_times(&mut self, times: &[Vec<f64>], dt: f64, from_step: u64) {
        *self = SpikeSource::new(&SpikeSourceParams { times: times.to_vec() }, dt);
        self.cursor = self.events.partition_point(|e| e.0 < from_step);
    }
}

/// Parameters of `modulated_poisson` (see [`ModulatedPoisson`] for the equations).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModulatedPoissonParams {
    /// Number of signals (input groups); neuron i belongs to group `floor(i · groups / size)`.
    pub groups: usize,
    /// Correlation time of each signal, ms (default 50).
    #[serde(default = "default_signal_tau")]
    pub signal_tau: f64,
    /// Rate without signal, Hz (default 5).
    #[serde(default = "default_rate_background")]
    pub rate_background: f64,
    /// Rate added per unit of the rectified signal (unit standard deviation), Hz.
    pub rate_gain: f64,
    /// Dead time after each spike, ms (default 0; a whole number of steps).
    #[serde(default)]
    pub t_ref: f64,
    /// Key of the signals: populations with the same `signal_stream`, `groups` and `signal_tau`
    /// see identical signals (default 0).
    #[serde(default)]
    pub signal_stream: u64,
}

fn default_signal_tau() -> f64 {
    50.0
}

fn default_rate_background() -> f64 {
    5.0
}

impl ModulatedPoissonParams {
    /// Range checks.
    pub fn validate(&self, field: &str, dt: f64, size: usize, issues: &mut Vec<SpecIssue>) {
        if self.groups == 0 || self.groups > size {
            issues.push(SpecIssue::new(
                format!("{field}.groups"),
                format!(
                    "value {} is not allowed; give 1 to {size} groups (the population size)",
                    self.groups
                ),
            ));
        }
        super::check_positive(issues, field, "signal_tau", self.signal_tau, "ms");
        for (name, v) in [("rate_background", self.rate_background), ("rate_gain", self.rate_gain)] {
            if !(v.is_finite() && v >= 0.0) {
                issues.push(SpecIssue::new(
                    format!("{field}.{name}"),
                    format!("value {v} Hz is not allowed; must be >= 0"),
                ));
            }
        }
        super::check_refractory(issues, field, self.t_ref, dt);
    }
}

/// Runtime modulated Poisson source: inputs driven by shared, temporally modulated rate signals,
/// as the input spike trains of Vogels et al. (2011, Fig. 1; their program `inhib_plasticity.m`).
///
/// # Equations
/// ```text
/// s_k(t+dt) = a s_k(t) + sqrt(1 - a²) √12 u,   a = exp(-dt / signal_tau),  u ~ U(-1/2, 1/2)
/// rate_k(t) = rate_background + rate_gain · max(0, s_k(t))
/// ```
/// `s_k` is low-pass filtered white noise with unit stationary variance (it starts at 0, as in the
/// program); every neuron of group k spikes in a step with probability `min(1, rate_k dt)` unless
/// it is within `t_ref` of its previous spike (the program's 5 ms input refractoriness). The
/// program filters uniform noise (`F <- F a + (1 - a) u`, stationary SD 0.00913 at dt = 0.1 ms,
/// tau = 50 ms) and sets `rate = 5 Hz + 500 Hz · max(0, F) / 0.03`; that is `rate_gain =
/// 500 · 0.00913 / 0.03 = 152 Hz` per unit SD here, which stays the same at any dt.
///
/// # Parameters (`model = "modulated_poisson"`)
/// | name | unit | default | meaning |
/// |---|---|---|---|
/// | `groups` | — | required | number of signals; neuron i is in group `floor(i · groups / size)` |
/// | `signal_tau` | ms | 50 | correlation time of each signal |
/// | `rate_background` | Hz | 5 | rate without signal |
/// | `rate_gain` | Hz | required | rate per unit of the rectified unit-variance signal |
/// | `t_ref` | ms | 0 | input dead time after a spike |
/// | `signal_stream` | — | 0 | populations with equal `signal_stream`, `groups`, `signal_tau` share their signals |
///
/// Signals come from one random stream per (seed, `signal_stream`, group), spikes from the
/// population's per-block streams, so results do not depend on threads.
#[derive(Clone, Debug)]
pub struct ModulatedPoisson {
    params: ModulatedPoissonParams,
    /// Current value of each signal (unit variance).
    pub signal: Vec<f64>,
    signal_rngs: Vec<Rng>,
    /// Spike probability per step of each group (scratch, recomputed every step).
    p_group: Vec<f64>,
    /// Group of each neuron.
    group: Vec<u16>,
    /// Remaining dead-time steps per neuron.
    refr: Vec<u16>,
    refr_steps: u16,
    a: f64,
    b: f64,
    dt: f64,
}

impl ModulatedPoisson {
    /// Build; the signals stay at 0 until [`ModulatedPoisson::seed_signals`] gives them their streams.
    pub fn new(p: &ModulatedPoissonParams, n: usize, dt: f64) -> Self {
        let g = p.groups.max(1);
        let a = (-dt / p.signal_tau).exp();
        ModulatedPoisson {
            params: p.clone(),
            signal: vec![0.0; g],
            signal_rngs: Vec::new(),
            p_group: vec![0.0; g],
            group: (0..n).map(|i| (i * g / n.max(1)) as u16).collect(),
            refr: vec![0; n],
            refr_steps: super::steps(p.t_ref, dt),
            a,
            b: (1.0 - a * a).sqrt() * 12f64.sqrt(),
            dt,
        }
    }

    /// Bind the signals to their streams (seed, `signal_stream`, group).
    pub fn seed_signals(&mut self, seed: u64) {
        self.signal_rngs = (0..self.signal.len())
            .map(|k| crate::rng::stream(seed, crate::rng::Purpose::Signal, self.params.signal_stream, k as u64))
            .collect();
    }

    /// Group of neuron `i`.
    pub fn group_of(&self, i: usize) -> usize {
        self.group[i] as usize
    }

    /// Current rate of each group, Hz.
    pub fn rates_hz(&self) -> Vec<f64> {
        self.signal
            .iter()
            .map(|s| self.params.rate_background + self.params.rate_gain * s.max(0.0))
            .collect()
    }

    /// Advance the signals and draw this step's spikes.
    pub fn step(&mut self, rngs: &mut [Rng], spikes: &mut Vec<u32>) {
        let (bg, gain, to_p) = (self.params.rate_background, self.params.rate_gain, self.dt * 1e-3);
        for (k, s) in self.signal.iter_mut().enumerate() {
            if let Some(r) = self.signal_rngs.get_mut(k) {
                *s = self.a * *s + self.b * (crate::rng::uniform(r) - 0.5);
            }
            self.p_group[k] = ((bg + gain * s.max(0.0)) * to_p).min(1.0);
        }
        let n = self.group.len();
        for (b, rng) in rngs.iter_mut().enumerate() {
            let lo = b * crate::rng::BLOCK;
            let hi = (lo + crate::rng::BLOCK).min(n);
            for i in lo..hi {
                if self.refr[i] > 0 {
                    self.refr[i] -= 1;
                } else if crate::rng::uniform(rng) < self.p_group[self.group[i] as usize] {
                    spikes.push(i as u32);
                    self.refr[i] = self.refr_steps;
                }
            }
        }
    }
}
