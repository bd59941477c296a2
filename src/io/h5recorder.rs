//! The default recorder of `hebb run`: streams what the [`RecordPlan`] asks for into
//! `spikes.h5`, `state.h5` and `weights.h5` (layouts in [`super::hdf5`] and the README).
//! Files are created before the first step with `completed = 0`; [`H5Recorder::finish`] sets it
//! to 1 only after a clean end. An interrupted or failed run leaves readable files holding a
//! consistent prefix and `completed = 0`.

use super::hdf5::{H5Error, RunMetadata, SpikeWriter, StateWriter, WeightWriter};
use super::{RecordPlan, Recorder};
use crate::error::{Error, Result};
use crate::network::Network;
use std::path::{Path, PathBuf};

/// Streams a run to HDF5 files in a directory.
pub struct H5Recorder {
    plan: RecordPlan,
    dir: PathBuf,
    spikes: SpikeWriter,
    /// Recorded population index -> position in the spike file.
    spike_slot: Vec<Option<usize>>,
    state: StateWriter,
    weights: WeightWriter,
    /// Projections whose weights are snapshotted (plastic and selected).
    snapshot: Vec<usize>,
    t_buf: Vec<f64>,
    id_buf: Vec<u64>,
    frame: Vec<f32>,
    /// Spikes come from `record_all_ranks` (every rank's), not from `record`.
    spikes_of_all_ranks: bool,
}

fn h5(e: H5Error, dir: &Path) -> Error {
    Error::io(dir, e)
}

impl H5Recorder {
    /// Create the three files in `dir` (which must exist) and write the initial connectivity.
    pub fn create(dir: &Path, net: &Network, plan: RecordPlan, meta: &RunMetadata) -> Result<Self> {
        let mut pops = Vec::new();
        let mut spike_slot = vec![None; net.populations.len()];
        for (p, pop) in net.populations.iter().enumerate() {
            if plan.spike_limit[p] > 0 {
                spike_slot[p] = Some(pops.len());
                pops.push((pop.name.clone(), pop.size as u64));
            }
        }
        let spikes = SpikeWriter::create(&dir.join("spikes.h5"), &pops, meta).map_err(|e| h5(e, dir))?;
        let reports = super::merge::report_specs(net, &plan);
        let state = StateWriter::create(&dir.join("state.h5"), &reports, meta).map_err(|e| h5(e, dir))?;
        let mut weights = WeightWriter::create(&dir.join("weights.h5"), meta).map_err(|e| h5(e, dir))?;
        for (k, pr) in net.projections.iter().enumerate() {
            if plan.weights.get(k).copied().unwrap_or(false) {
                write_edges(&mut weights, net, pr).map_err(|e| h5(e, dir))?;
            }
        }
        Ok(H5Recorder {
            plan,
            dir: dir.to_path_buf(),
            spikes,
            spike_slot,
            state,
            weights,
            snapshot: Vec::new(),
            t_buf: Vec::new(),
            id_buf: Vec::new(),
            frame: Vec::new(),
            spikes_of_all_ranks: false,
        })
    }

    /// Write every rank's spikes (from [`Recorder::record_all_ranks`]) instead of this rank's.
    pub fn spikes_of_all_ranks(&mut self) {
        self.spikes_of_all_ranks = true;
    }

    /// Append step `step`'s spikes (time `t` ms) of the populations the plan records.
    fn write_spikes(&mut self, t: f64, spikes: &[Vec<u32>]) -> Result<()> {
        for (p, s) in spikes.iter().enumerate() {
            let Some(slot) = self.spike_slot[p] else {
                continue;
            };
            if s.is_empty() {
                continue;
            }
            let lim = self.plan.spike_limit[p];
            self.id_buf.clear();
            self.id_buf.extend(s.iter().filter(|&&i| i < lim).map(|&i| i as u64));
            self.t_buf.clear();
            self.t_buf.resize(self.id_buf.len(), t);
            self.spikes.append(slot, &self.t_buf, &self.id_buf).map_err(|e| h5(e, &self.dir))?;
        }
        Ok(())
    }

    /// Snapshot the weights of these projections every `weight_interval` and at the end.
    pub fn snapshot_projections(&mut self, projections: Vec<usize>) {
        self.snapshot = projections
            .into_iter()
            .filter(|&k| self.plan.weights.get(k).copied().unwrap_or(false))
            .collect();
    }

    fn write_snapshots(&mut self, net: &Network) -> Result<()> {
        for &k in &self.snapshot {
            let pr = &net.projections[k];
            self.weights
                .append_snapshot(&pr.name, net.time_ms(), &net.weights_now(k))
                .map_err(|e| h5(e, &self.dir))?;
        }
        Ok(())
    }

    /// Close the files: final weight snapshots, `completed`, reached time and wall time.
    pub fn finish(mut self, net: &Network, completed: bool, wall_time_s: f64) -> Result<()> {
        let snap = self.write_snapshots(net);
        let reached = net.time_ms();
        let dir = self.dir.clone();
        let r1 = self.spikes.finish(completed && snap.is_ok(), reached, wall_time_s);
        let r2 = self.state.finish(completed && snap.is_ok(), reached, wall_time_s);
        let r3 = self.weights.finish(completed && snap.is_ok(), reached, wall_time_s);
        snap?;
        r1.map_err(|e| h5(e, &dir))?;
        r2.map_err(|e| h5(e, &dir))?;
        r3.map_err(|e| h5(e, &dir))?;
        Ok(())
    }
}

/// Write the synapses of `pr` (a projection between populations of `net`) as edges.
pub fn write_edges(weights: &mut WeightWriter, net: &Network, pr: &crate::synapse::Projection) -> std::result::Result<(), H5Error> {
    let src: Vec<u64> = pr.sources().into_iter().map(u64::from).collect();
    let tgt: Vec<u64> = pr.targets.iter().map(|&t| t as u64).collect();
    let delay: Vec<f64> = (0..pr.len()).map(|s| pr.delay(s) as f64 * net.dt).collect();
    let unit = net.populations[pr.post].spec.weight_unit();
    weights.write_edges(
        &pr.name,
        &net.populations[pr.pre].name,
        &net.populations[pr.post].name,
        &src,
        &tgt,
        &pr.weight_values(),
        &delay,
        unit,
    )
}

impl Recorder for H5Recorder {
    fn record(&mut self, net: &Network, spikes: &[Vec<u32>]) -> Result<()> {
        let k = net.step;
        if !self.spikes_of_all_ranks {
            self.write_spikes(net.time_ms(), spikes)?;
        }
        for (q, probe) in self.plan.state.iter().enumerate() {
            if k.is_multiple_of(probe.interval) {
                if let Some(vals) = net.populations[probe.pop].dynamics.var(&probe.variable) {
                    self.frame.clear();
                    self.frame.extend(probe.neurons.iter().map(|&i| vals[i as usize] as f32));
                    self.state.append_frame(q, &self.frame).map_err(|e| h5(e, &self.dir))?;
                }
            }
        }
        if let Some(iv) = self.plan.weight_interval {
            if k.is_multiple_of(iv) && !self.snapshot.is_empty() {
                self.write_snapshots(net)?;
            }
        }
        Ok(())
    }

    fn record_all_ranks(&mut self, net: &Network, step: u64, spikes: &[Vec<u32>]) -> Result<()> {
        if self.spikes_of_all_ranks {
            // The time `record` would write for that step (`Network::time_ms`).
            self.write_spikes(step as f64 * net.dt, spikes)?;
        }
        Ok(())
    }
}
