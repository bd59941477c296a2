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
//!
//! # Parameters
//! | model | name | unit | default | meaning |
//! |---|---|---|---|---|
//! | `poisson_source` | `rate` | Hz | 0 | rate of every neuron; rate · dt must be <= 1 |
//! | `poisson_source` | `rates` | Hz | none | one rate per neuron (replaces `rate`); protocols and rate-pattern experiments change them at run time with `PoissonSource::set_rates` |
//! | `spike_source` | `times` | ms | (required) | one list of spike times per neuron |
//!
//! # References
//! - NEST `poisson_generator`, `spike_generator`, `parrot_neuron`.

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
