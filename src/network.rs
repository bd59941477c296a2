//! The runtime network: populations (neuron state as structure of arrays plus delayed-input ring
//! buffers), projections (CSR synapses) and external drive. Built from a [`crate::spec::ModelSpec`]
//! by [`crate::build::build`]; advanced by [`crate::engine::Simulation`].

use crate::input::Drives;
use crate::neuron::{Dynamics, NeuronSpec};
use crate::rng::Rng;
use crate::spec::Kind;
use crate::synapse::{Projection, Ring, TraceSet};

/// Typed handle of a population.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PopId(pub usize);

/// Typed handle of a projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProjId(pub usize);

/// One population.
#[derive(Clone, Debug)]
pub struct Population {
    /// Name.
    pub name: String,
    /// Excitatory or inhibitory (sign of its outgoing weights).
    pub kind: Kind,
    /// Number of neurons.
    pub size: usize,
    /// Model and parameters it was built from.
    pub spec: NeuronSpec,
    /// Neuron state.
    pub dynamics: Dynamics,
    /// Delayed excitatory input.
    pub ring_exc: Ring,
    /// Delayed inhibitory input (magnitudes; the model applies the sign).
    pub ring_inh: Ring,
    /// One random stream per block of neurons (Poisson drive, Poisson sources).
    pub rngs: Vec<Rng>,
}

/// The whole network.
#[derive(Clone, Debug)]
pub struct Network {
    /// Time step, ms.
    pub dt: f64,
    /// Seed it was built with.
    pub seed: u64,
    /// Populations in declaration order.
    pub populations: Vec<Population>,
    /// Projections in declaration order.
    pub projections: Vec<Projection>,
    /// External inputs.
    pub drives: Drives,
    /// Plasticity traces (per population and synapse-time shift).
    pub traces: Vec<TraceSet>,
    /// Current step: the state describes time `step * dt`.
    pub step: u64,
    /// Per population, per neuron: synapses leaving it over all projections and all ranks.
    pub out_degree: Vec<Vec<u32>>,
    /// `(rank, ranks)` whose share of the synapses this network holds (`(0, 1)`: all of them).
    pub share: (usize, usize),
}

impl Network {
    /// Handle of a population by name.
    pub fn population(&self, name: &str) -> Option<PopId> {
        self.populations.iter().position(|p| p.name == name).map(PopId)
    }

    /// Handle of a projection by name.
    pub fn projection(&self, name: &str) -> Option<ProjId> {
        self.projections.iter().position(|p| p.name == name).map(ProjId)
    }

    /// Every weight of projection `k` (CSR order) as of the current step. Rules with a constant
    /// drift apply it lazily, at a synapse's next event, so their stored weights lag by the drift
    /// since each synapse's last event; this adds it (without changing the stored weights, so
    /// reading never alters a run). Otherwise the stored weights themselves.
    ///
    /// A synapse's last event is the later of its presynaptic neuron's last spike and its
    /// postsynaptic neuron's last spike plus the delay, both at synapse times up to step-1 (the
    /// ones the last step applied), or the last switch-on of plasticity; the drift runs up to the
    /// current step.
    pub fn weights_now(&self, k: usize) -> std::borrow::Cow<'_, [f32]> {
        let pr = &self.projections[k];
        let Some(pl) = pr.plastic.as_deref().filter(|pl| pl.enabled && pl.rule.has_drift()) else {
            return pr.weight_values();
        };
        let nz = |t: u64| if t == crate::synapse::plastic::NONE { 0 } else { t };
        let (tp, tq) = (&self.traces[pl.pre_set], &self.traces[pl.post_set]);
        let mut w = pr.weight_values().into_owned();
        for j in 0..pr.row_ptr.len() - 1 {
            let last_pre = nz(tp.last[j]).max(pl.enabled_since);
            for s in pr.row(j) {
                let prior = last_pre.max(nz(tq.last[pr.targets[s] as usize]));
                let elapsed = self.step.saturating_sub(prior) as f64 * self.dt;
                w[s] = pl.rule.drifted(w[s], elapsed);
            }
        }
        std::borrow::Cow::Owned(w)
    }

    /// Current time, ms.
    pub fn time_ms(&self) -> f64 {
        self.step as f64 * self.dt
    }

    /// Total neurons.
    pub fn neurons(&self) -> usize {
        self.populations.iter().map(|p| p.size).sum()
    }

    /// Total synapses.
    pub fn synapses(&self) -> usize {
        self.projections.iter().map(|p| p.len()).sum()
    }

    /// Bytes of synapse storage.
    pub fn synapse_bytes(&self) -> usize {
        self.projections.iter().map(|p| p.bytes()).sum()
    }

    /// Approximate bytes of neuron state and ring buffers.
    pub fn neuron_bytes(&self) -> usize {
        self.populations
            .iter()
            .map(|p| {
                let vars = p.spec.state_variables().len();
                p.size * (vars * 8 + 4) + (p.ring_exc.data.len() + p.ring_inh.data.len()) * 8
            })
            .sum()
    }
}
