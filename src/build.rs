//! The one build step: a validated [`ModelSpec`] becomes a runnable [`Network`].
//! Every random draw comes from a stream bound to (seed, purpose, projection or population, block),
//! so the network is identical for any number of threads.

use crate::error::Result;
use crate::input::{CurrentDrive, Drives, PoissonDrive, SpikeDrive};
use crate::network::{Network, Population};
use crate::quantity::Quantity;
use crate::rng::{self, Purpose};
use crate::spec::{Connectivity, InputSpec, ModelSpec};
use crate::synapse::{connect, Delays, Plastic, Projection, Ring, TraceSet, Weights};
use rayon::prelude::*;

fn to_steps(ms: f64, dt: f64) -> u64 {
    (ms / dt).round() as u64
}

/// Build the network with the spec's seed.
pub fn build(spec: &ModelSpec) -> Result<Network> {
    build_with_seed(spec, spec.simulation.seed)
}

/// Build the network with another seed.
pub fn build_with_seed(spec: &ModelSpec, seed: u64) -> Result<Network> {
    build_share(spec, seed, 0, 1)
}

/// Build rank `rank`'s share of the network for `ranks` ranks ([`crate::dist`]): everything but
/// the synapses onto neurons other ranks own. Each projection is drawn in full (the random
/// streams are those of a single process, so the share is exactly the single-process synapses
/// onto this rank's neurons) and cut right away, so that only one whole projection is ever in
/// memory at a time.
pub fn build_share(spec: &ModelSpec, seed: u64, rank: usize, ranks: usize) -> Result<Network> {
    let drawn = draw(spec, seed, (ranks > 1).then_some((rank, ranks)));
    finish(spec, seed, drawn, rank, ranks)
}

/// A network drawn in full and not yet cut into shares: populations with their initial state,
/// the static structure of every projection, and the out-degrees. The threads of
/// [`crate::dist::threads`] draw it once and each takes its share ([`Drawn::share`]), instead of
/// each drawing every projection as an MPI rank does.
pub struct Drawn {
    populations: Vec<Population>,
    projections: Vec<Projection>,
    out_degree: Vec<Vec<u32>>,
}

impl Drawn {
    /// The whole network of `spec`, drawn with `seed`.
    pub fn new(spec: &ModelSpec, seed: u64) -> Self {
        draw(spec, seed, None)
    }

    /// The projections, whole (static structure only: no plasticity yet).
    pub fn projections(&self) -> &[Projection] {
        &self.projections
    }

    /// Rank `rank`'s share for `ranks` ranks: exactly what [`build_share`] builds. Its arrays are
    /// allocated (and first touched) by the calling thread.
    pub fn share(&self, spec: &ModelSpec, seed: u64, rank: usize, ranks: usize) -> Result<Network> {
        let projections = self
            .projections
            .iter()
            .map(|pr| {
                let n_post = self.populations[pr.post].size;
                let (lo, hi) = crate::dist::owned_range(n_post, rank, ranks);
                pr.share(lo, hi)
            })
            .collect();
        let drawn = Drawn {
            populations: self.populations.clone(),
            projections,
            out_degree: self.out_degree.clone(),
        };
        finish(spec, seed, drawn, rank, ranks)
    }
}

/// Populations, projections (static structure, cut to `cut`'s share right away when given, so
/// that only one whole projection is in memory at a time) and out-degrees over all ranks.
fn draw(spec: &ModelSpec, seed: u64, cut: Option<(usize, usize)>) -> Drawn {
    let dt = spec.simulation.dt;
    let populations: Vec<Population> = spec
        .populations
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let mut dynamics = p.neuron.build(p.size, dt);
            if let crate::neuron::Dynamics::ModulatedPoisson(m) = &mut dynamics {
                m.seed_signals(seed);
            }
            // Initial values: one stream per (population, block); variables in name order.
            let blocks = p.size.div_ceil(rng::BLOCK);
            for (vi, (var, q)) in p.initial.iter().enumerate() {
                if let Some(values) = dynamics.var_mut(var) {
                    match q.as_constant() {
                        Some(c) => values.iter_mut().for_each(|x| *x = c),
                        None => {
                            values.par_chunks_mut(rng::BLOCK).enumerate().for_each(|(b, chunk)| {
                                let mut r = rng::stream(seed, Purpose::Init, (k as u64) << 16 | vi as u64, b as u64);
                                for x in chunk {
                                    *x = q.sample(&mut r, var.starts_with("g_"));
                                }
                            });
                        }
                    }
                }
            }
            let rngs = (0..blocks).map(|b| rng::stream(seed, Purpose::Drive, k as u64, b as u64)).collect();
            Population {
                name: p.name.clone(),
                kind: p.kind,
                size: p.size,
                spec: p.neuron.clone(),
                dynamics,
                ring_exc: Ring::new(0, 0),
                ring_inh: Ring::new(0, 0),
                rngs,
            }
        })
        .collect();

    let mut projections = Vec::with_capacity(spec.projections.len());
    let mut out_degree: Vec<Vec<u32>> = spec.populations.iter().map(|p| vec![0; p.size]).collect();
    for (k, pr) in spec.projections.iter().enumerate() {
        let pre = spec.population_index(&pr.pre).expect("validated");
        let post = spec.population_index(&pr.post).expect("validated");
        let (n_pre, n_post) = (spec.populations[pre].size, spec.populations[post].size);
        let csr = connect::build(&pr.connectivity, n_pre, n_post, pre == post, seed, k as u64);
        let n = csr.targets.len();
        let blocks = n_pre.div_ceil(rng::BLOCK);
        // Draw a per-synapse quantity row-block by row-block (stream per block of presynaptic rows).
        let draw = |q: &Quantity, salt: u64, clip: bool| -> Vec<f64> {
            let mut out = vec![0.0; n];
            let mut parts: Vec<&mut [f64]> = Vec::with_capacity(blocks);
            let mut rest = out.as_mut_slice();
            for b in 0..blocks {
                let hi = csr.row_ptr[((b + 1) * rng::BLOCK).min(n_pre)] - csr.row_ptr[b * rng::BLOCK];
                let (a, r) = rest.split_at_mut(hi as usize);
                parts.push(a);
                rest = r;
            }
            parts.into_par_iter().enumerate().for_each(|(b, part)| {
                let mut r = rng::stream(seed, Purpose::Values, (k as u64) << 1 | salt, b as u64);
                for x in part.iter_mut() {
                    *x = q.sample(&mut r, clip);
                }
            });
            out
        };
        let explicit = match &pr.connectivity {
            Connectivity::Explicit { weight, delay, .. } => Some((weight, delay)),
            _ => None,
        };
        let weights = match pr.uniform_weight() {
            Some(w) => Weights::Uniform(w as f32),
            None => Weights::PerSynapse(match (explicit.and_then(|e| e.0.as_ref()), pr.weight.as_constant()) {
                (Some(ws), _) => csr.order.iter().map(|&s| ws[s as usize] as f32).collect(),
                // A constant plastic weight: one per synapse from the start (they diverge).
                (None, Some(c)) => vec![c as f32; n],
                (None, None) => draw(&pr.weight, 0, true).into_iter().map(|x| x as f32).collect(),
            }),
        };
        let delay_q = pr.delay.clone().unwrap_or(Quantity::Constant(dt));
        let clamp_steps = |ms: f64| to_steps(ms, dt).clamp(1, u16::MAX as u64) as u16;
        let delays = match (explicit.and_then(|e| e.1.as_ref()), delay_q.as_constant()) {
            (Some(ds), _) => Delays::PerSynapse(csr.order.iter().map(|&s| clamp_steps(ds[s as usize])).collect()),
            (None, Some(c)) => Delays::Constant(clamp_steps(c) as u32),
            (None, None) => Delays::PerSynapse(draw(&delay_q, 1, true).into_iter().map(clamp_steps).collect()),
        };
        let max_delay = match &delays {
            Delays::Constant(d) => *d,
            Delays::PerSynapse(v) => v.iter().copied().max().unwrap_or(1) as u32,
        };
        let mut proj = Projection {
            name: pr.resolved_name(),
            pre,
            post,
            receptor: spec.populations[pre].kind,
            row_ptr: csr.row_ptr,
            targets: csr.targets,
            weights,
            delays,
            max_delay,
            plastic: None,
        };
        for (j, d) in out_degree[pre].iter_mut().enumerate() {
            *d += proj.row(j).len() as u32;
        }
        if let Some((rank, ranks)) = cut {
            let (lo, hi) = crate::dist::owned_range(spec.populations[post].size, rank, ranks);
            proj = proj.share(lo, hi);
        }
        projections.push(proj);
    }
    Drawn {
        populations,
        projections,
        out_degree,
    }
}

/// Plasticity, ring buffers and drives: the network of rank `rank` of `ranks` from its drawn share.
fn finish(spec: &ModelSpec, seed: u64, drawn: Drawn, rank: usize, ranks: usize) -> Result<Network> {
    let dt = spec.simulation.dt;
    let Drawn {
        mut populations,
        mut projections,
        out_degree,
    } = drawn;

    // Plastic projections: transposed index, per-synapse state, trace sets.
    let mut traces: Vec<TraceSet> = Vec::new();
    let set_for = |pop: usize, shift: u64, n: usize, traces: &mut Vec<TraceSet>| -> usize {
        traces.iter().position(|t| t.pop == pop && t.shift == shift).unwrap_or_else(|| {
            traces.push(TraceSet::new(pop, shift, n));
            traces.len() - 1
        })
    };
    for (k, pr) in spec.projections.iter().enumerate() {
        let Some(rule_spec) = &pr.plasticity else { continue };
        let rule = rule_spec.try_build().expect("validated");
        let proj = &mut projections[k];
        let delay = proj.max_delay as u64;
        let (n_pre, n_post) = (spec.populations[proj.pre].size, spec.populations[proj.post].size);
        let (col_ptr, col_syn, packed, row_hint, hint_shift) = Plastic::index(&proj.row_ptr, &proj.targets, n_post);
        let pre_set = set_for(proj.pre, 0, n_pre, &mut traces);
        let post_set = set_for(proj.post, delay, n_post, &mut traces);
        let pre_read = rule.pre_traces().iter().map(|s| traces[pre_set].add(*s, dt)).collect();
        let post_read = rule.post_traces().iter().map(|s| traces[post_set].add(*s, dt)).collect();
        let state = if rule.needs_synapse_state() {
            vec![0.0; proj.len()]
        } else {
            Vec::new()
        };
        proj.plastic = Some(Box::new(Plastic {
            rule,
            enabled: true,
            enabled_since: 0,
            delay,
            col_ptr,
            col_syn,
            packed,
            row_hint,
            hint_shift,
            state,
            pre_set,
            pre_read,
            post_set,
            post_read,
        }));
    }

    for (k, p) in populations.iter_mut().enumerate() {
        if p.spec.is_source() {
            continue;
        }
        let max_delay = projections
            .iter()
            .filter(|pr| pr.post == k)
            .map(|pr| pr.max_delay)
            .max()
            .unwrap_or(1)
            .max(1);
        p.ring_exc = Ring::new(p.size, max_delay);
        p.ring_inh = Ring::new(p.size, max_delay);
    }

    let mut drives = Drives::default();
    for inp in &spec.inputs {
        let pop = spec.population_index(inp.target()).expect("validated");
        match inp {
            InputSpec::Poisson {
                rate,
                count,
                weight,
                receptor,
                neurons,
                ..
            } => {
                drives.poisson.push(PoissonDrive::new(
                    pop,
                    *receptor,
                    *weight,
                    rate * *count as f64 * dt * 1e-3,
                    neurons.clone(),
                ));
            }
            InputSpec::SpikeTimes {
                times,
                neurons,
                weight,
                receptor,
                ..
            } => {
                let targets: Vec<u32> = neurons.clone().unwrap_or_else(|| (0..spec.populations[pop].size as u32).collect());
                let mut events: Vec<(u64, u32)> = times
                    .iter()
                    .flat_map(|t| targets.iter().map(move |&i| (to_steps(*t, dt), i)))
                    .collect();
                events.sort_unstable();
                drives.spikes.push(SpikeDrive {
                    pop,
                    receptor: *receptor,
                    weight: *weight,
                    events,
                    cursor: 0,
                });
            }
            InputSpec::Current {
                amplitude,
                start,
                stop,
                neurons,
                ..
            } => {
                let mut changes = vec![(to_steps(*start, dt), *amplitude)];
                if let Some(s) = stop {
                    changes.push((to_steps(*s, dt), 0.0));
                }
                drives.currents.push(CurrentDrive {
                    pop,
                    neurons: neurons.clone(),
                    changes,
                    active: 0.0,
                    cursor: 0,
                });
            }
            InputSpec::StepCurrent {
                times,
                amplitudes,
                neurons,
                ..
            } => {
                let changes = times.iter().zip(amplitudes).map(|(t, a)| (to_steps(*t, dt), *a)).collect();
                drives.currents.push(CurrentDrive {
                    pop,
                    neurons: neurons.clone(),
                    changes,
                    active: 0.0,
                    cursor: 0,
                });
            }
        }
        if matches!(inp, InputSpec::Current { .. } | InputSpec::StepCurrent { .. }) {
            if let Some(c) = populations[pop].dynamics.common_mut() {
                c.ext.get_or_insert_with(|| vec![0.0; spec.populations[pop].size]);
            }
        }
    }

    Ok(Network {
        dt,
        seed,
        populations,
        projections,
        drives,
        traces,
        step: 0,
        out_degree,
        share: (rank, ranks),
    })
}
