//! External drive: Poisson trains, input spikes at given times, constant and step currents.
//!
//! - Poisson: `count` independent trains of `rate` per target neuron are one Poisson process of
//!   rate `count·rate`; each step a neuron receives k ~ Poisson(count·rate·dt) events, drawn by
//!   inversion from its block's stream, and `k·weight` is added to the input arriving at that step.
//! - Spike times: `weight` is added to the input of the listed neurons at step round(t/dt).
//! - Currents: piecewise-constant external input (mV as R·I for lif_cuba/lif_delta, pA for
//!   lif_coba). A change at time t = s·dt acts on the propagation from s·dt to (s+1)·dt on. The
//!   external input of a neuron is recomputed as the sum of the active amplitudes at each change,
//!   so switching a current off restores exactly the previous value.

use crate::spec::Kind;

/// A Poisson drive of one population.
#[derive(Clone, Debug)]
pub struct PoissonDrive {
    /// Target population.
    pub pop: usize,
    /// Receptor.
    pub receptor: Kind,
    /// Weight magnitude.
    pub weight: f64,
    /// Mean events per neuron and step.
    pub lambda: f64,
    /// Target neurons (sorted), or all.
    pub neurons: Option<Vec<u32>>,
    /// Cumulative distribution of Poisson(lambda), up to 1 - 1e-16.
    pub cdf: Vec<f64>,
}

impl PoissonDrive {
    /// Build with mean `lambda` events per step.
    pub fn new(pop: usize, receptor: Kind, weight: f64, lambda: f64, neurons: Option<Vec<u32>>) -> Self {
        let mut cdf = Vec::new();
        let mut pk = (-lambda).exp();
        let mut acc = 0.0;
        let mut k = 0u32;
        loop {
            acc += pk;
            cdf.push(acc);
            k += 1;
            pk *= lambda / k as f64;
            if (1.0 - acc < 1e-16 && k as f64 > lambda) || k > 10_000 {
                break;
            }
        }
        let neurons = neurons.map(|mut v| {
            v.sort_unstable();
            v.dedup();
            v
        });
        PoissonDrive {
            pop,
            receptor,
            weight,
            lambda,
            neurons,
            cdf,
        }
    }

    /// Number of events for one uniform draw `u`.
    #[inline]
    pub fn events(&self, u: f64) -> u32 {
        let mut k = 0;
        while k + 1 < self.cdf.len() && u >= self.cdf[k] {
            k += 1;
        }
        k as u32
    }
}

/// Input spikes at given steps.
#[derive(Clone, Debug)]
pub struct SpikeDrive {
    /// Target population.
    pub pop: usize,
    /// Receptor.
    pub receptor: Kind,
    /// Weight magnitude.
    pub weight: f64,
    /// (step, neuron), sorted.
    pub events: Vec<(u64, u32)>,
    /// Next event.
    pub cursor: usize,
}

/// A current input: amplitude changes at given steps.
#[derive(Clone, Debug)]
pub struct CurrentDrive {
    /// Target population.
    pub pop: usize,
    /// Target neurons, or all.
    pub neurons: Option<Vec<u32>>,
    /// (step, amplitude from then on), sorted by step.
    pub changes: Vec<(u64, f64)>,
    /// Amplitude now.
    pub active: f64,
    /// Next change.
    pub cursor: usize,
}

/// All external drive of a network.
#[derive(Clone, Debug, Default)]
pub struct Drives {
    /// Poisson drives.
    pub poisson: Vec<PoissonDrive>,
    /// Spike-time drives.
    pub spikes: Vec<SpikeDrive>,
    /// Currents.
    pub currents: Vec<CurrentDrive>,
}
