//! Runs a model in memory (no HDF5 involved) and prints what its HDF5 output must contain, in
//! the schema of `examples/python/check_interop.py`: spike counts, first/last and sampled spikes,
//! sampled state values and weights. Because runs are deterministic, a `hebb run` of the same
//! model and seed must write exactly these values; CI compares them with h5py and libsonata.
//!
//! `cargo run --release --example interop_expected -- MODEL.toml [--set F=V ...] > expected.json`

use hebb::engine::Simulation;
use hebb::io::{MemoryRecorder, RecordPlan};
use serde_json::json;
use std::sync::atomic::AtomicBool;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_path = args.first().expect("usage: interop_expected MODEL.toml [--set F=V ...]");
    let sets: Vec<String> = args.windows(2).filter(|w| w[0] == "--set").map(|w| w[1].clone()).collect();
    let (model, resolved) = hebb::spec::load(model_path.as_ref(), &sets).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let net = hebb::build::build(&model).unwrap();
    let dt = net.dt;
    let mut sim = Simulation::new(net, 1).unwrap();
    let plan = RecordPlan::from_spec(&model);
    let mut rec = MemoryRecorder::new(plan.clone());
    sim.run(model.steps(), &mut rec, &AtomicBool::new(false), |_| {}).unwrap();
    let net = sim.net();

    let mut pops = serde_json::Map::new();
    for (p, pop) in net.populations.iter().enumerate() {
        if plan.spike_limit[p] == 0 {
            continue;
        }
        let s = &rec.data.spikes[p];
        let at = |i: usize| json!([s[i].0 as f64 * dt, s[i].1]);
        let samples: Vec<_> = [0, s.len() / 3, s.len() / 2, s.len().saturating_sub(2)]
            .iter()
            .filter(|&&i| i < s.len())
            .map(|&i| json!([i, s[i].0 as f64 * dt, s[i].1]))
            .collect();
        pops.insert(pop.name.clone(), json!({ "count": s.len(), "n_nodes": pop.size, "first": if s.is_empty() { json!(null) } else { at(0) }, "last": if s.is_empty() { json!(null) } else { at(s.len() - 1) }, "samples": samples }));
    }
    let reports: Vec<_> = plan
        .state
        .iter()
        .enumerate()
        .map(|(q, pr)| {
            let frames = &rec.data.state[q];
            let step_ms = pr.interval as f64 * dt;
            let n = frames.len();
            let samples: Vec<_> = [(0, 0), (n / 2, pr.neurons.len() - 1), (n.saturating_sub(1), pr.neurons.len() / 2)].iter().filter(|(f, _)| *f < n).map(|&(f, c)| json!([f, c, frames[f].1[c] as f32])).collect();
            json!({ "population": net.populations[pr.pop].name, "variable": pr.variable, "units": pr.unit, "node_ids": pr.neurons, "n_frames": n, "time": [step_ms, step_ms + n as f64 * step_ms, step_ms], "samples": samples })
        })
        .collect();
    let projections: Vec<_> = net
        .projections
        .iter()
        .enumerate()
        .filter(|(k, _)| plan.weights[*k])
        .map(|(_, pr)| {
            let src = pr.sources();
            let n = pr.len();
            let samples: Vec<_> = [0, n / 2, n.saturating_sub(1)].iter().filter(|&&e| e < n).map(|&e| json!([e, src[e], pr.targets[e], pr.weight(e), pr.delay(e) as f64 * dt])).collect();
            json!({ "name": pr.name, "source_population": net.populations[pr.pre].name, "target_population": net.populations[pr.post].name, "n_edges": n, "weight_units": net.populations[pr.post].spec.weight_unit(), "samples": samples })
        })
        .collect();
    let out = json!({
        "interrupted": false,
        "root_attrs": { "hebb_version": env!("CARGO_PKG_VERSION"), "seed": model.simulation.seed, "dt_ms": dt, "requested_duration_ms": model.simulation.duration, "model_text_len": resolved.len() },
        "spikes": { "file": "spikes.h5", "completed": 1, "populations": pops },
        "state": { "file": "state.h5", "completed": 1, "reports": reports },
        "weights": { "file": "weights.h5", "completed": 1, "projections": projections },
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
