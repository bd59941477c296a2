//! Merging the parts of a distributed run. Every rank streams what it owns (its neurons' spikes
//! and state, the synapses onto its neurons) into `DIR/ranks/rank_R/` while it runs, with the
//! same layout and the same `completed` flag as a single-process run; at the end rank 0 merges
//! the parts into `DIR/spikes.h5`, `DIR/state.h5` and `DIR/weights.h5`, which then hold exactly
//! what a single-process run writes:
//!
//! - spikes: the ranks' lists merged by (time, node id), the order of a single process (which
//!   writes each step's spikes in ascending id order);
//! - state: columns put back in the order the model asks for;
//! - weights: edges in CSR order (by source, then target: the ranks own ascending target
//!   ranges), and every snapshot permuted the same way.
//!
//! The threads of one process (`dist::threads`) write spikes and static synapses once, from part
//! 0, and merge only state and plastic synapses (see `merge_parts`).
//!
//! The merge reads whole datasets into memory (fine for the runs the test suite and a single
//! node make; a streaming k-way merge is the way to go past memory).

use super::hdf5::{read_edges, read_report, read_snapshots, read_spikes, ReportSpec, RunMetadata, SpikeWriter, StateWriter, WeightWriter};
use super::RecordPlan;
use crate::error::{Error, Result};
use crate::network::Network;
use std::path::{Path, PathBuf};

/// Directory of rank `r`'s part of a run in `dir`.
pub fn rank_dir(dir: &Path, r: usize) -> PathBuf {
    dir.join("ranks").join(format!("rank_{r}"))
}

/// The state reports a plan asks for (shared with the HDF5 recorder).
pub fn report_specs(net: &Network, plan: &RecordPlan) -> Vec<ReportSpec> {
    plan.state
        .iter()
        .map(|pr| ReportSpec {
            population: net.populations[pr.pop].name.clone(),
            variable: pr.variable.clone(),
            units: pr.unit.to_string(),
            node_ids: pr.neurons.iter().map(|&i| i as u64).collect(),
            start_ms: pr.interval as f64 * net.dt,
            dt_ms: pr.interval as f64 * net.dt,
        })
        .collect()
}

fn h5(p: &Path) -> impl Fn(super::hdf5::H5Error) -> Error + '_ {
    move |e| Error::io(p, e)
}

/// Merge the parts of `ranks` ranks in `dir` into the single-process files of `dir`. `net` is
/// any rank's network (populations, projection names and plasticity are the same on all ranks)
/// and `plan` the full record plan of the model. `weights`: `dir/weights.h5`, already open and
/// holding the edges of every static projection the plan asks for (the threads of one process
/// write them from the whole network, see `hebb run`), so that the parts hold only plastic ones.
/// `spikes_in_rank_0`: rank 0's `spikes.h5` already holds every rank's spikes (see
/// `Simulation::record_spikes_of_all_ranks`) and is moved into place instead of merged.
#[allow(clippy::too_many_arguments)]
pub fn merge_parts(
    dir: &Path,
    ranks: usize,
    net: &Network,
    plan: &RecordPlan,
    meta: &RunMetadata,
    completed: bool,
    reached_ms: f64,
    wall_s: f64,
    weights: Option<WeightWriter>,
    spikes_in_rank_0: bool,
) -> Result<()> {
    let parts: Vec<PathBuf> = (0..ranks).map(|r| rank_dir(dir, r)).collect();

    // Spikes.
    let out = dir.join("spikes.h5");
    if spikes_in_rank_0 {
        let all = parts[0].join("spikes.h5");
        std::fs::rename(&all, &out).map_err(|e| Error::io(&out, format!("cannot move {} here: {e}", all.display())))?;
    } else {
        merge_spikes(dir, &parts, net, plan, meta, completed, reached_ms, wall_s)?;
    }

    // State.
    let reports = report_specs(net, plan);
    let out = dir.join("state.h5");
    let mut stw = StateWriter::create(&out, &reports, meta).map_err(h5(&out))?;
    for (q, rep) in reports.iter().enumerate() {
        // (node ids, values time-major) per rank that recorded any of this report's neurons.
        let mut got = Vec::new();
        let size = net.populations[plan.state[q].pop].size;
        for (r, part) in parts.iter().enumerate() {
            let (lo, hi) = crate::dist::owned_range(size, r, ranks);
            if !rep.node_ids.iter().any(|&i| i >= lo as u64 && i < hi as u64) {
                continue;
            }
            let f = part.join("state.h5");
            let (ids, _, vals) = read_report(&f, &rep.population, &rep.variable).map_err(h5(&f))?;
            if !ids.is_empty() {
                got.push((ids, vals));
            }
        }
        let frames = got.iter().map(|(ids, v)| v.len() / ids.len()).min().unwrap_or(0);
        let source: Vec<(usize, usize)> = rep
            .node_ids
            .iter()
            .map(|id| {
                got.iter()
                    .enumerate()
                    .find_map(|(g, (ids, _))| ids.iter().position(|x| x == id).map(|c| (g, c)))
                    .ok_or_else(|| Error::io(dir, format!("no rank recorded neuron {id} of {}/{}", rep.population, rep.variable)))
            })
            .collect::<Result<_>>()?;
        let mut frame = vec![0f32; rep.node_ids.len()];
        for f in 0..frames {
            for (x, &(g, c)) in frame.iter_mut().zip(&source) {
                let n = got[g].0.len();
                *x = got[g].1[f * n + c];
            }
            stw.append_frame(q, &frame).map_err(h5(&out))?;
        }
    }
    stw.finish(completed, reached_ms, wall_s).map_err(h5(&out))?;

    // Weights.
    let out = dir.join("weights.h5");
    let static_written = weights.is_some();
    let mut ww = match weights {
        Some(w) => w,
        None => WeightWriter::create(&out, meta).map_err(h5(&out))?,
    };
    for (k, pr) in net.projections.iter().enumerate() {
        if !plan.weights.get(k).copied().unwrap_or(false) || (static_written && pr.plastic.is_none()) {
            continue;
        }
        let mut cols = Vec::with_capacity(ranks);
        for part in &parts {
            let f = part.join("weights.h5");
            cols.push(read_edges(&f, &pr.name).map_err(h5(&f))?);
        }
        // CSR order: by source; for one source the ranks hold ascending target ranges, and
        // within a rank the edges are already in order, so a stable sort by source suffices.
        let mut order: Vec<(u64, usize, usize)> = Vec::new();
        for (r, (s, _, _, _)) in cols.iter().enumerate() {
            order.extend(s.iter().enumerate().map(|(e, &src)| (src, r, e)));
        }
        order.sort_by_key(|&(src, r, e)| (src, r, e));
        let pick_u64 = |c: usize| -> Vec<u64> {
            order
                .iter()
                .map(|&(_, r, e)| if c == 0 { cols[r].0[e] } else { cols[r].1[e] })
                .collect()
        };
        let (src, tgt) = (pick_u64(0), pick_u64(1));
        let w: Vec<f32> = order.iter().map(|&(_, r, e)| cols[r].2[e]).collect();
        let d: Vec<f64> = order.iter().map(|&(_, r, e)| cols[r].3[e]).collect();
        let unit = net.populations[pr.post].spec.weight_unit();
        ww.write_edges(
            &pr.name,
            &net.populations[pr.pre].name,
            &net.populations[pr.post].name,
            &src,
            &tgt,
            &w,
            &d,
            unit,
        )
        .map_err(h5(&out))?;
        if pr.plastic.is_none() {
            continue;
        }
        let mut snaps = Vec::with_capacity(ranks);
        for (part, c) in parts.iter().zip(&cols) {
            let f = part.join("weights.h5");
            let (times, flat) = read_snapshots(&f, &pr.name).map_err(h5(&f))?;
            snaps.push((times, flat, c.0.len()));
        }
        let n_snap = snaps.iter().map(|s| s.0.len()).min().unwrap_or(0);
        let mut buf = vec![0f32; order.len()];
        for i in 0..n_snap {
            for (x, &(_, r, e)) in buf.iter_mut().zip(&order) {
                let (_, flat, n) = &snaps[r];
                *x = flat[i * n + e];
            }
            ww.append_snapshot(&pr.name, snaps[0].0[i], &buf).map_err(h5(&out))?;
        }
    }
    ww.finish(completed, reached_ms, wall_s).map_err(h5(&out))?;
    Ok(())
}

/// The spikes of the parts (`parts[r]` is `dir/ranks/rank_r`), merged into `dir/spikes.h5`.
#[allow(clippy::too_many_arguments)]
fn merge_spikes(
    dir: &Path,
    parts: &[PathBuf],
    net: &Network,
    plan: &RecordPlan,
    meta: &RunMetadata,
    completed: bool,
    reached_ms: f64,
    wall_s: f64,
) -> Result<()> {
    let ranks = parts.len();
    let mut pops = Vec::new();
    for (p, pop) in net.populations.iter().enumerate() {
        if plan.spike_limit[p] > 0 {
            pops.push((pop.name.clone(), pop.size as u64));
        }
    }
    let out = dir.join("spikes.h5");
    let mut sw = SpikeWriter::create(&out, &pops, meta).map_err(h5(&out))?;
    let mut per_rank = Vec::with_capacity(ranks);
    for part in parts {
        let f = part.join("spikes.h5");
        per_rank.push(read_spikes(&f).map_err(h5(&f))?);
    }
    for (slot, (name, _)) in pops.iter().enumerate() {
        let mut all: Vec<(f64, u64)> = Vec::new();
        for r in &per_rank {
            if let Some((_, t, ids)) = r.iter().find(|(n, _, _)| n == name) {
                all.extend(t.iter().copied().zip(ids.iter().copied()));
            }
        }
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (t, ids): (Vec<f64>, Vec<u64>) = all.into_iter().unzip();
        sw.append(slot, &t, &ids).map_err(h5(&out))?;
    }
    sw.finish(completed, reached_ms, wall_s).map_err(h5(&out))
}
