//! Output. The engine hands every step to a [`Recorder`]; what is kept is decided by a
//! [`RecordPlan`] resolved from the model's `[record]` table. [`MemoryRecorder`] keeps everything
//! in memory (tests, protocols, small runs); the HDF5 writer streams to files.

use crate::error::Result;
use crate::network::Network;
use crate::spec::{ModelSpec, Selection};

/// Create an output directory; an existing one is refused unless `force` (then it is replaced).
pub fn prepare_out_dir(dir: &std::path::Path, force: bool) -> Result<()> {
    use crate::error::Error;
    if dir.exists() {
        if !force {
            return Err(Error::io(
                dir,
                "output directory exists; choose another --out or pass --force to replace it",
            ));
        }
        if !dir.is_dir() {
            return Err(Error::io(dir, "exists and is not a directory"));
        }
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, format!("cannot remove the existing output directory: {e}")))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, format!("cannot create output directory: {e}")))
}

/// Receives each completed step.
pub trait Recorder {
    /// Called after step `net.step`, with that step's spikes per population.
    fn record(&mut self, net: &Network, spikes: &[Vec<u32>]) -> Result<()>;
    /// Called, when the simulation was asked to (`Simulation::record_spikes_of_all_ranks`), with
    /// every rank's spikes of step `step` once they have been exchanged, steps in order (up to a
    /// slice after `record` saw the step).
    fn record_all_ranks(&mut self, _net: &Network, _step: u64, _spikes: &[Vec<u32>]) -> Result<()> {
        Ok(())
    }
}

/// A recorder that keeps nothing.
pub struct NullRecorder;

impl Recorder for NullRecorder {
    fn record(&mut self, _: &Network, _: &[Vec<u32>]) -> Result<()> {
        Ok(())
    }
}

/// One sampled state variable.
#[derive(Clone, Debug)]
pub struct StateProbe {
    /// Population index.
    pub pop: usize,
    /// Variable name.
    pub variable: String,
    /// Unit.
    pub unit: &'static str,
    /// Neurons sampled.
    pub neurons: Vec<u32>,
    /// Sampling interval, steps.
    pub interval: u64,
}

/// What to record, resolved against a network.
#[derive(Clone, Debug)]
pub struct RecordPlan {
    /// Per population: record spikes of neurons `< limit` (0: none).
    pub spike_limit: Vec<u32>,
    /// State probes.
    pub state: Vec<StateProbe>,
    /// Population-rate bin in steps.
    pub rate_bin: Option<u64>,
    /// Per projection: write its synapses to `weights.h5`.
    pub weights: Vec<bool>,
    /// Interval of weight snapshots of plastic projections, steps.
    pub weight_interval: Option<u64>,
}

impl RecordPlan {
    /// Resolve the `[record]` table.
    pub fn from_spec(spec: &ModelSpec) -> Self {
        let r = &spec.record;
        let dt = spec.simulation.dt;
        let spike_limit = spec
            .populations
            .iter()
            .map(|p| {
                let on = match &r.spikes {
                    Selection::Keyword(k) => k == "all",
                    Selection::List(l) => l.contains(&p.name),
                };
                if on {
                    r.spikes_max_neurons.unwrap_or(p.size).min(p.size) as u32
                } else {
                    0
                }
            })
            .collect();
        let mut state = Vec::new();
        for s in &r.state {
            let pop = spec.population_index(&s.population).expect("validated");
            let ps = &spec.populations[pop];
            for var in &s.variables {
                let unit = ps
                    .neuron
                    .state_variables()
                    .iter()
                    .find(|(n, _)| n == var)
                    .map(|(_, u)| *u)
                    .unwrap_or("");
                let neurons = s.neurons.clone().unwrap_or_else(|| (0..ps.size.min(10) as u32).collect());
                let interval = s.interval.map_or(1, |iv| (iv / dt).round() as u64).max(1);
                state.push(StateProbe {
                    pop,
                    variable: var.clone(),
                    unit,
                    neurons,
                    interval,
                });
            }
        }
        let weights = spec
            .projections
            .iter()
            .map(|p| match &r.weights {
                Selection::Keyword(k) => k == "all",
                Selection::List(l) => l.contains(&p.resolved_name()),
            })
            .collect();
        RecordPlan {
            spike_limit,
            state,
            rate_bin: r.rate_bin.map(|b| (b / dt).round() as u64),
            weights,
            weight_interval: r.weight_interval.map(|b| ((b / dt).round() as u64).max(1)),
        }
    }

    /// Record nothing.
    pub fn none(pops: usize) -> Self {
        RecordPlan {
            spike_limit: vec![0; pops],
            state: Vec::new(),
            rate_bin: None,
            weights: Vec::new(),
            weight_interval: None,
        }
    }
}

/// Everything recorded, in memory.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// Per population: (step, neuron) of every recorded spike, in time order.
    pub spikes: Vec<Vec<(u64, u32)>>,
    /// Per probe: (step, values of the probe's neurons).
    pub state: Vec<Vec<(u64, Vec<f64>)>>,
    /// Per population: spike counts per rate bin.
    pub rate_counts: Vec<Vec<u32>>,
}

/// Keeps what the plan asks for in memory.
pub struct MemoryRecorder {
    /// The plan.
    pub plan: RecordPlan,
    /// The data.
    pub data: Recording,
}

impl MemoryRecorder {
    /// A recorder for `plan`.
    pub fn new(plan: RecordPlan) -> Self {
        let np = plan.spike_limit.len();
        let data = Recording {
            spikes: vec![Vec::new(); np],
            state: vec![Vec::new(); plan.state.len()],
            rate_counts: vec![Vec::new(); np],
        };
        MemoryRecorder { plan, data }
    }
}

impl Recorder for MemoryRecorder {
    fn record(&mut self, net: &Network, spikes: &[Vec<u32>]) -> Result<()> {
        let k = net.step;
        for (p, s) in spikes.iter().enumerate() {
            let lim = self.plan.spike_limit[p];
            if lim > 0 {
                self.data.spikes[p].extend(s.iter().filter(|&&i| i < lim).map(|&i| (k, i)));
            }
            if let Some(bin) = self.plan.rate_bin {
                let b = ((k - 1) / bin) as usize;
                let rc = &mut self.data.rate_counts[p];
                if rc.len() <= b {
                    rc.resize(b + 1, 0);
                }
                rc[b] += s.len() as u32;
            }
        }
        for (q, probe) in self.plan.state.iter().enumerate() {
            if k.is_multiple_of(probe.interval) {
                if let Some(vals) = net.populations[probe.pop].dynamics.var(&probe.variable) {
                    self.data.state[q].push((k, probe.neurons.iter().map(|&i| vals[i as usize]).collect()));
                }
            }
        }
        Ok(())
    }
}

pub mod h5recorder;
pub mod hdf5;
pub mod merge;
pub use h5recorder::H5Recorder;
