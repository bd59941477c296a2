//! The end-of-run summary printed by `hebb run` and written to `run.json`.

use crate::engine::{Simulation, Timers};
use serde::Serialize;

/// Per-population figures.
#[derive(Clone, Debug, Serialize)]
pub struct PopulationSummary {
    /// Name.
    pub name: String,
    /// `excitatory` / `inhibitory`.
    pub r#type: String,
    /// Neuron model.
    pub model: String,
    /// Neurons.
    pub neurons: usize,
    /// Spikes emitted.
    pub spikes: u64,
    /// Mean rate over the simulated time, Hz.
    pub mean_rate_hz: f64,
    /// Mean ISI coefficient of variation over neurons with >= 3 spikes (null if none).
    pub mean_isi_cv: Option<f64>,
}

/// Whole-run figures.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// hebb version.
    pub hebb_version: String,
    /// Model file.
    pub model: String,
    /// Seed.
    pub seed: u64,
    /// Time step, ms.
    pub dt_ms: f64,
    /// Requested duration, ms.
    pub requested_duration_ms: f64,
    /// Reached duration, ms.
    pub reached_duration_ms: f64,
    /// True when the run reached the requested duration.
    pub completed: bool,
    /// Threads (per rank).
    pub threads: usize,
    /// MPI ranks (1: one process).
    pub ranks: usize,
    /// Populations.
    pub populations: Vec<PopulationSummary>,
    /// Synapses.
    pub synapses: usize,
    /// Bytes of synapse storage per synapse (targets, weights, delays, row pointers).
    pub bytes_per_synapse: f64,
    /// Network construction, s.
    pub construction_s: f64,
    /// Simulation loop wall time, s.
    pub simulation_s: f64,
    /// Simulated time / wall time.
    pub realtime_factor: f64,
    /// Synaptic events delivered (spikes × out-degree).
    pub synaptic_events: u64,
    /// Synaptic events per wall-clock second.
    pub events_per_s: f64,
    /// Stage timers (present with --timings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings_s: Option<Timers>,
}

impl RunSummary {
    /// Collect the figures of a run.
    pub fn collect(sim: &Simulation, model: &str, requested_ms: f64, construction_s: f64, simulation_s: f64, completed: bool) -> Self {
        let net = sim.net();
        let t_s = net.time_ms() * 1e-3;
        let populations = net
            .populations
            .iter()
            .zip(&sim.stats)
            .map(|(p, st)| {
                let spikes = st.total();
                PopulationSummary {
                    name: p.name.clone(),
                    r#type: p.kind.name().into(),
                    model: p.spec.name().into(),
                    neurons: p.size,
                    spikes,
                    mean_rate_hz: if t_s > 0.0 { spikes as f64 / p.size as f64 / t_s } else { 0.0 },
                    mean_isi_cv: st.mean_cv(),
                }
            })
            .collect();
        let threaded = sim.comm().in_process();
        let (synapses, synapse_bytes) = sim.synapse_totals();
        let synapses = synapses as usize;
        RunSummary {
            hebb_version: env!("CARGO_PKG_VERSION").into(),
            model: model.into(),
            seed: net.seed,
            dt_ms: net.dt,
            requested_duration_ms: requested_ms,
            reached_duration_ms: net.time_ms(),
            completed,
            // The parts of `dist::threads` are one process's threads, not ranks.
            threads: if threaded {
                sim.threads() * sim.comm().size()
            } else {
                sim.threads()
            },
            ranks: if threaded { 1 } else { sim.comm().size() },
            populations,
            synapses,
            bytes_per_synapse: if synapses > 0 {
                synapse_bytes as f64 / synapses as f64
            } else {
                0.0
            },
            construction_s,
            simulation_s,
            realtime_factor: if simulation_s > 0.0 { t_s / simulation_s } else { f64::INFINITY },
            synaptic_events: sim.syn_events,
            events_per_s: if simulation_s > 0.0 {
                sim.syn_events as f64 / simulation_s
            } else {
                0.0
            },
            timings_s: sim.timers.enabled.then(|| sim.timers.clone()),
        }
    }

    /// The summary with other construction and simulation times (and the rates that follow).
    pub fn with_times(mut self, construction_s: f64, simulation_s: f64) -> Self {
        let t_s = self.reached_duration_ms * 1e-3;
        self.construction_s = construction_s;
        self.simulation_s = simulation_s;
        self.realtime_factor = if simulation_s > 0.0 { t_s / simulation_s } else { f64::INFINITY };
        self.events_per_s = if simulation_s > 0.0 {
            self.synaptic_events as f64 / simulation_s
        } else {
            0.0
        };
        self
    }
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<12} {:<11} {:>9} {:>10} {:>10} {:>8}",
            "population", "type", "neurons", "spikes", "rate (Hz)", "ISI CV"
        )?;
        for p in &self.populations {
            let cv = p.mean_isi_cv.map_or("-".to_string(), |c| format!("{c:.3}"));
            writeln!(
                f,
                "{:<12} {:<11} {:>9} {:>10} {:>10.3} {:>8}",
                p.name, p.r#type, p.neurons, p.spikes, p.mean_rate_hz, cv
            )?;
        }
        writeln!(
            f,
            "synapses            {} ({:.2} bytes/synapse)",
            self.synapses, self.bytes_per_synapse
        )?;
        writeln!(
            f,
            "simulated           {:.1} ms of {:.1} ms{}",
            self.reached_duration_ms,
            self.requested_duration_ms,
            if self.completed { "" } else { " (INCOMPLETE)" }
        )?;
        writeln!(f, "construction        {:.3} s", self.construction_s)?;
        if self.ranks > 1 {
            writeln!(
                f,
                "simulation          {:.3} s wall, {} ranks x {} thread(s)",
                self.simulation_s, self.ranks, self.threads
            )?;
        } else {
            writeln!(f, "simulation          {:.3} s wall, {} thread(s)", self.simulation_s, self.threads)?;
        }
        writeln!(f, "simulated/wall      {:.2}x real time", self.realtime_factor)?;
        write!(
            f,
            "synaptic events     {} ({:.3e} per second)",
            self.synaptic_events, self.events_per_s
        )?;
        if let Some(t) = &self.timings_s {
            write!(
                f,
                "\ntimings (s)         deliver {:.3}  integrate {:.3}  plasticity {:.3}  gather {:.3}  record {:.3}  other {:.3}",
                t.deliver, t.integrate, t.plasticity, t.gather, t.record, t.other
            )?;
        }
        Ok(())
    }
}
