//! The engine: advances a [`Network`] step by step in a fixed, documented order and hands each
//! step's spikes to a [`Recorder`]. It orchestrates; all state lives in the network.
//!
//! # Step order (step k advances the state from (k-1)·dt to k·dt)
//! 1. **Drive, serial.** Current inputs whose change time is (k-1)·dt take effect; input spikes at
//!    k·dt are added to the inputs arriving at step k.
//! 2. **Deliver and integrate, per chunk of postsynaptic neurons (threads).** For every
//!    projection, each spike of step k-1 adds its weight to the target's ring-buffer slot for step
//!    k-1+delay (delay >= 1, so never into the past); Poisson drive adds its events of step k; each
//!    neuron is propagated from (k-1)·dt to k·dt (refractory neurons stay clamped and count down),
//!    then the inputs arriving at step k are added to its synaptic variables; threshold and reset.
//! 3. **Gather, serial.** Spikes of step k are collected in neuron order (chunk by chunk), spike
//!    sources add theirs, statistics are updated, and the recorder sees the step.
//!
//! A spike emitted at step t with delay d therefore reaches the synaptic variable at step t+d
//! exactly, and affects the membrane potential from step t+d+1 on (as in NEST).
//!
//! # Threads and determinism
//! Each population is cut into `threads` chunks made of whole random-stream blocks
//! ([`crate::rng::BLOCK`] neurons). A chunk owns its neurons' state, ring-buffer entries and
//! random streams; it reads every spike and takes the part of each CSR row whose targets it owns
//! (rows are sorted by target). Each neuron receives its inputs in the same order (projection,
//! spike, synapse) whatever the chunking, so results are bit-identical for any number of threads.

mod plastic;
mod team;
pub mod timers;

use crate::dist::{Comm, Local, STATUS_ERROR, STATUS_STOP};
use crate::error::Result;
use crate::io::Recorder;
use crate::network::Network;
use crate::neuron::{detect, lif_coba, lif_cuba, lif_delta, poisson_linear, Dynamics};
use crate::rng::{uniform, Rng, BLOCK};
use crate::spec::Kind;
use crate::synapse::{Delays, Projection, Weights};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
pub use timers::Timers;

/// One neuron's spike statistics and out-degree, in one 32-byte record: counting a spike
/// touches one cache line (five, when they were separate arrays).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
pub struct NeuronStats {
    /// Step of the last spike (u64::MAX: none yet).
    pub last: u64,
    /// Sum of inter-spike intervals, steps.
    pub isi_sum: f64,
    /// Sum of squared inter-spike intervals, steps².
    pub isi_sq: f64,
    /// Spikes.
    pub count: u32,
    /// Synapses leaving the neuron, over all ranks (its synaptic events per spike).
    pub out_degree: u32,
}

impl NeuronStats {
    /// Count a spike at step k; returns its synaptic events.
    #[inline(always)]
    fn spike(&mut self, k: u64) -> u64 {
        self.count += 1;
        if self.last != u64::MAX {
            let isi = (k - self.last) as f64;
            self.isi_sum += isi;
            self.isi_sq += isi * isi;
        }
        self.last = k;
        self.out_degree as u64
    }
}

/// Per-population spike statistics, updated at every spike.
#[derive(Clone, Debug, Default)]
pub struct SpikeStats {
    /// Per neuron; never resized after construction (threads write through a raw view of it).
    neurons: Vec<NeuronStats>,
}

impl SpikeStats {
    fn new(out_degree: &[u32]) -> Self {
        let neuron = |&d: &u32| NeuronStats {
            last: u64::MAX,
            isi_sum: 0.0,
            isi_sq: 0.0,
            count: 0,
            out_degree: d,
        };
        SpikeStats {
            neurons: out_degree.iter().map(neuron).collect(),
        }
    }

    /// Per neuron.
    pub fn neurons(&self) -> &[NeuronStats] {
        &self.neurons
    }

    /// Count the spikes `spikes` of step k (spike sources, on the main thread); returns their
    /// synaptic events.
    fn count_spikes(&mut self, spikes: &[u32], k: u64) -> u64 {
        spikes.iter().map(|&i| self.neurons[i as usize].spike(k)).sum()
    }

    /// Spikes of neuron i.
    pub fn count(&self, i: usize) -> u32 {
        self.neurons[i].count
    }

    /// Spikes per neuron.
    pub fn counts(&self) -> Vec<u32> {
        self.neurons.iter().map(|n| n.count).collect()
    }

    /// Step of neuron i's last spike, if any.
    pub fn last(&self, i: usize) -> Option<u64> {
        Some(self.neurons[i].last).filter(|&l| l != u64::MAX)
    }

    /// Total spikes.
    pub fn total(&self) -> u64 {
        self.neurons.iter().map(|n| n.count as u64).sum()
    }

    /// Mean over neurons with at least two intervals of the ISI coefficient of variation.
    pub fn mean_cv(&self) -> Option<f64> {
        let mut acc = 0.0;
        let mut n = 0usize;
        for s in &self.neurons {
            let m = s.count as f64 - 1.0;
            if m >= 2.0 {
                let mean = s.isi_sum / m;
                let var = (s.isi_sq / m - mean * mean).max(0.0) * m / (m - 1.0);
                if mean > 0.0 {
                    acc += var.sqrt() / mean;
                    n += 1;
                }
            }
        }
        (n > 0).then(|| acc / n as f64)
    }
}

/// Below this many neurons, `threads = 0` (automatic) runs on one thread.
pub const AUTO_THREADS_MIN_NEURONS: usize = 20_000;

/// A simulation: a network, its thread team and per-step buffers.
pub struct Simulation {
    net: Network,
    threads: usize,
    team: Option<team::Team>,
    /// Threads pinned to CPUs (see [`Simulation::bind_threads`]).
    binding: Option<team::Binding>,
    /// ranges[pop][chunk] = (lo, hi), inside the neurons this rank owns.
    ranges: Vec<Vec<(u32, u32)>>,
    /// Neurons this rank owns, per population (all of them in one process).
    owned: Vec<(u32, u32)>,
    /// Populations whose spikes are exchanged between ranks (integrated neurons, not sources).
    integrated: Vec<usize>,
    /// Delivery lag: the spikes of step σ are delivered (and their plasticity applied) at step
    /// σ + slice; ranks exchange spikes once per slice. 1 with plasticity, else the minimum delay.
    slice: u64,
    /// The other ranks (one process: [`Local`]).
    comm: Box<dyn Comm>,
    /// Status word this rank sends at the next exchange ([`STATUS_STOP`], [`STATUS_ERROR`]).
    status_local: u32,
    /// Union of the ranks' status words at the last exchange.
    status_all: u32,
    /// Reused exchange buffers.
    xchg: Exchange,
    /// Steps whose spikes every rank now has in `hist`, for `Recorder::record_all_ranks` (kept
    /// only when asked for: `record_spikes_of_all_ranks`).
    exchanged: Option<Vec<u64>>,
    /// Every integrated population adds its inputs after integrating (sparse CUBA input) and
    /// nothing is plastic, so steps run as [`Phase::IntegrateThenDeliver`], and with several ranks a step can integrate
    /// before the previous slice's exchange completes: `run` starts each exchange non-blocking
    /// and finishes it between the next step's [`Phase::Integrate`] and [`Phase::Deliver`].
    integrate_first: bool,
    /// Exchanges start non-blocking (inside the several-rank loop of `run`, with `integrate_first`).
    defer: bool,
    /// The steps (first, last) whose exchange is in flight.
    pending: Option<(u64, u64)>,
    /// The last step whose spikes every rank has in `hist` (exchanged or in flight).
    exchanged_to: u64,
    /// Synapses and their bytes over all ranks.
    synapse_totals: (u64, u64),
    /// Spikes of the last completed step of the neurons this rank owns, per population.
    spikes: Vec<Vec<u32>>,
    /// Per-chunk spike buffers, [chunk][pop].
    chunk_spikes: Vec<Vec<Vec<u32>>>,
    /// Per-chunk lists of the ring entries written since they were last read, for populations
    /// whose inputs are applied sparsely: [chunk][pop][receptor][slot].
    chunk_touched: Vec<Vec<Touched>>,
    /// Per population: inputs applied sparsely (see [`Ctx::process_chunk`]).
    sparse: Vec<bool>,
    /// Per projection: where each chunk's part of every row starts.
    splits: Vec<RowSplits>,
    /// Per-chunk results of the last call (stage times, synaptic events).
    chunk_out: Vec<ChunkOut>,
    /// Projections onto each population.
    onto: Vec<Vec<usize>>,
    /// Poisson drives onto each population.
    poisson_onto: Vec<Vec<usize>>,
    /// Spike statistics per population.
    pub stats: Vec<SpikeStats>,
    /// Synaptic events delivered (spikes × out-degree).
    pub syn_events: u64,
    /// Stage timers (on with `set_timings(true)`).
    pub timers: Timers,
    /// Spikes of all ranks of the last `hist.len()` steps, [step % len][pop]: delivery reads step
    /// k - slice, plasticity reads postsynaptic spikes a delay back.
    hist: Vec<Vec<Vec<u32>>>,
    /// Buffers for the raw views of a step.
    bufs: RawBufs,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// All requested steps were simulated.
    Completed,
    /// Stopped early at the caller's request (Ctrl-C).
    Interrupted,
}

impl Simulation {
    /// Wrap a network. `threads` = 0 chooses automatically: one thread below
    /// [`AUTO_THREADS_MIN_NEURONS`] neurons (a parallel region at every 0.1 ms step costs more than
    /// it saves there), all cores above. Results do not depend on the number of threads.
    pub fn new(net: Network, threads: usize) -> Result<Self> {
        Self::with_comm(net, threads, Box::new(Local))
    }

    /// Wrap a network for rank `comm.rank()` of `comm.size()`: this rank keeps only the synapses
    /// onto the neurons it owns ([`crate::dist::owned_range`]) and simulates those neurons;
    /// spikes, weights and statistics of the neurons it owns are bit-identical to a single
    /// process run.
    pub fn with_comm(mut net: Network, threads: usize, comm: Box<dyn Comm>) -> Result<Self> {
        let (rank, ranks) = (comm.rank(), comm.size());
        let owned: Vec<(u32, u32)> = net
            .populations
            .iter()
            .map(|p| crate::dist::owned_range(p.size, rank, ranks))
            .collect();
        let owned_neurons: usize = owned.iter().map(|&(a, b)| (b - a) as usize).sum();
        let threads = if threads == 0 {
            if owned_neurons < AUTO_THREADS_MIN_NEURONS {
                1
            } else {
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
            }
        } else {
            threads
        };
        let team = if threads > 1 {
            Some(team::Team::new(threads).map_err(|e| crate::Error::Usage(format!("cannot start {threads} threads: {e}")))?)
        } else {
            None
        };
        let np = net.populations.len();
        // Chunks of a population that draws random numbers while running (Poisson drive,
        // stochastic neurons) are whole blocks, so that each block's stream is used by one thread
        // in one order; the others are cut at multiples of 64 neurons (whole cache lines), which
        // balances the threads better (40k neurons: 20000/20000 instead of 20480/19520).
        let random_while_running =
            |p: usize| net.drives.poisson.iter().any(|d| d.pop == p) || matches!(net.populations[p].dynamics, Dynamics::PoissonLinear(_));
        let ranges: Vec<Vec<(u32, u32)>> = (0..net.populations.len())
            .zip(&owned)
            .map(|(p, &(lo, hi))| {
                let unit = if random_while_running(p) { BLOCK } else { 64 };
                // `lo` is a block boundary and `hi` one too or the population's end.
                let units = ((hi - lo) as usize).div_ceil(unit);
                (0..threads)
                    .map(|c| {
                        let u0 = c * units / threads;
                        let u1 = (c + 1) * units / threads;
                        let cut = |u: usize| (lo as usize + u * unit).min(hi as usize) as u32;
                        (cut(u0), cut(u1))
                    })
                    .collect()
            })
            .collect();
        let onto = (0..np)
            .map(|p| {
                net.projections
                    .iter()
                    .enumerate()
                    .filter(|(_, pr)| pr.post == p)
                    .map(|(k, _)| k)
                    .collect()
            })
            .collect();
        let poisson_onto: Vec<Vec<usize>> = (0..np)
            .map(|p| {
                net.drives
                    .poisson
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.pop == p)
                    .map(|(k, _)| k)
                    .collect()
            })
            .collect();
        let plastic = net.projections.iter().any(|p| p.plastic.is_some());
        let min_delay = net
            .projections
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| p.min_delay())
            .min()
            .unwrap_or(1);
        let slice = if plastic { 1 } else { min_delay.max(1) as u64 };
        let hist_len = net.traces.iter().map(|t| t.shift as usize).max().unwrap_or(0) + slice as usize + 2;
        match net.share {
            s if s == (rank, ranks) => {}
            (0, 1) => {
                // A whole network handed to one rank of several: keep its share.
                for pr in net.projections.iter_mut() {
                    let (lo, hi) = owned[pr.post];
                    let n_post = net.populations[pr.post].size;
                    pr.retain_targets(lo, hi, n_post);
                }
                net.share = (rank, ranks);
            }
            (r, n) => {
                return Err(crate::Error::Usage(format!(
                    "this network holds the synapses of rank {r} of {n}, but runs as rank {rank} of {ranks}"
                )))
            }
        }
        // Sparse input: a CUBA population fed only through projections (no Poisson or spike-time
        // drive, which write the ring outside the touched lists) reads only the ring entries that
        // deliveries wrote instead of the whole slot (~25 % less memory traffic in the neuron
        // loop of a low-rate network).
        let sparse: Vec<bool> = (0..np)
            .map(|p| {
                matches!(net.populations[p].dynamics, Dynamics::LifCuba(_))
                    && poisson_onto[p].is_empty()
                    && !net.drives.spikes.iter().any(|d| d.pop == p)
            })
            .collect();
        let chunk_touched = (0..threads)
            .map(|_| {
                net.populations
                    .iter()
                    .zip(&sparse)
                    .map(|(pop, &sp)| {
                        let slots = if sp { pop.ring_exc.slots } else { 0 };
                        [vec![Vec::new(); slots], vec![Vec::new(); slots]]
                    })
                    .collect()
            })
            .collect();
        let splits: Vec<RowSplits> = net
            .projections
            .iter()
            .map(|pr| {
                if pr.plastic.is_some() {
                    RowSplits::default()
                } else {
                    RowSplits::new(pr, &ranges[pr.post])
                }
            })
            .collect();
        let split_bytes: usize = splits.iter().map(RowSplits::bytes).sum();
        let mut synapse_totals = [net.synapses() as u64, (net.synapse_bytes() + split_bytes) as u64];
        comm.sum_u64(&mut synapse_totals);
        let integrated: Vec<usize> = net
            .populations
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.spec.is_source())
            .map(|(i, _)| i)
            .collect();
        // Fan-out over all ranks (`net.out_degree` counts every rank's synapses; `retain_targets`
        // above leaves it alone), so that the ranks' event counts add up to the single-process count.
        if net.out_degree.len() != np || net.out_degree.iter().zip(&net.populations).any(|(d, p)| d.len() != p.size) {
            return Err(crate::Error::Usage("the network's out-degrees do not match its populations".into()));
        }
        let stats = net.out_degree.iter().map(|d| SpikeStats::new(d)).collect();
        // Not with plasticity: the traces advance at the end of each step from every rank's
        // spikes, so the exchange cannot be left in flight into the next step.
        let integrate_first = integrated.iter().all(|&p| sparse[p]) && net.traces.is_empty();
        Ok(Simulation {
            integrate_first,
            defer: false,
            pending: None,
            exchanged_to: 0,
            spikes: vec![Vec::new(); np],
            chunk_spikes: vec![vec![Vec::new(); np]; threads],
            chunk_touched,
            sparse,
            splits,
            chunk_out: vec![ChunkOut::default(); threads],
            net,
            threads,
            team,
            binding: None,
            ranges,
            owned,
            integrated,
            slice,
            comm,
            status_local: 0,
            status_all: 0,
            xchg: Exchange::default(),
            exchanged: None,
            synapse_totals: (synapse_totals[0], synapse_totals[1]),
            onto,
            poisson_onto,
            stats,
            syn_events: 0,
            timers: Timers::default(),
            hist: vec![vec![Vec::new(); np]; hist_len],
            bufs: RawBufs::default(),
        })
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// Mutable network (between steps).
    pub fn net_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// Give the network back.
    pub fn into_network(self) -> Network {
        self.net
    }

    /// Threads used.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Spikes of the last completed step, per population (indices within the population,
    /// ascending), of the neurons this rank owns (all of them in one process).
    pub fn last_spikes(&self) -> &[Vec<u32>] {
        &self.spikes
    }

    /// Neurons of each population this rank owns, `(lo, hi)`.
    pub fn owned(&self) -> &[(u32, u32)] {
        &self.owned
    }

    /// Steps between spike exchanges (and the delivery lag): 1 with plasticity, else the minimum delay.
    pub fn slice(&self) -> u64 {
        self.slice
    }

    /// Synapses and their storage in bytes, over all ranks (collected at construction).
    pub fn synapse_totals(&self) -> (u64, u64) {
        self.synapse_totals
    }

    /// The communicator (ranks).
    pub fn comm(&self) -> &dyn Comm {
        &*self.comm
    }

    /// Sum the spike statistics and event counts over ranks, so that every rank holds the
    /// statistics of the whole network (each rank counted only the neurons it owns). Collective:
    /// call on every rank, once, after the run.
    pub fn reduce_stats(&mut self) {
        if self.comm.size() == 1 {
            return;
        }
        for st in self.stats.iter_mut() {
            let mut c: Vec<u64> = st.neurons.iter().map(|n| n.count as u64).collect();
            let mut sum: Vec<f64> = st.neurons.iter().map(|n| n.isi_sum).collect();
            let mut sq: Vec<f64> = st.neurons.iter().map(|n| n.isi_sq).collect();
            self.comm.sum_u64(&mut c);
            self.comm.sum_f64(&mut sum);
            self.comm.sum_f64(&mut sq);
            for (i, n) in st.neurons.iter_mut().enumerate() {
                (n.count, n.isi_sum, n.isi_sq) = (c[i] as u32, sum[i], sq[i]);
            }
        }
        let mut e = [self.syn_events];
        self.comm.sum_u64(&mut e);
        self.syn_events = e[0];
    }

    /// Switch the plasticity of projection `proj` on or off (weights of a frozen projection stay
    /// bit-identical; traces keep running, and the lazy drift only counts time while on: freezing
    /// first stores the drift owed since each synapse's last event, see `Network::weights_now`).
    pub fn set_plasticity(&mut self, proj: usize, on: bool) {
        let step = self.net.step;
        // Freezing commits the drift that the rule owes since each synapse's last event (it is
        // applied lazily, at the next event, which a frozen synapse never sees).
        let drifting = self.net.projections[proj]
            .plastic
            .as_deref()
            .is_some_and(|pl| pl.enabled && pl.rule.has_drift());
        if !on && drifting {
            let now = self.net.weights_now(proj).into_owned();
            self.net.projections[proj].weights_mut().copy_from_slice(&now);
        }
        if let Some(pl) = self.net.projections[proj].plastic.as_mut() {
            if on && !pl.enabled {
                pl.enabled_since = step;
            }
            pl.enabled = on;
        }
    }

    /// Pin each simulation thread to its own CPU, the w-th of those the calling thread may run on
    /// (`mpirun --bind-to` or `taskset` choose them). Ranks start at CPU `local rank × threads`
    /// (modulo their number; [`Comm::local_rank`]), so that ranks sharing a set of CPUs (those an
    /// MPI launcher started with `--bind-to socket` or `none`, or the parts of
    /// [`crate::dist::threads`]) take different ones. Returns false, changing nothing, when
    /// there are fewer such CPUs than threads. Results do not change. Pinned threads keep their
    /// chunks in their own cores' caches on a machine to themselves, and share CPUs with whatever
    /// else was pinned there on a shared one. Threads started while the simulation lives inherit
    /// the caller's one CPU; dropping the simulation gives the caller its CPUs back. A second call
    /// keeps the first binding.
    pub fn bind_threads(&mut self) -> std::io::Result<bool> {
        if self.binding.is_some() {
            return Ok(true);
        }
        let first = self.comm.local_rank().map_or(0, |local| local * self.threads);
        self.binding = match &self.team {
            Some(team) => team.bind(first)?,
            None => team::Binding::new(&[], first)?,
        };
        Ok(self.binding.is_some())
    }

    /// Give the calling thread back the CPUs it had before [`Simulation::bind_threads`] (the
    /// workers stay where they are until the simulation is dropped).
    pub fn unbind_threads(&mut self) {
        self.binding = None;
    }

    /// Hand the recorder every rank's spikes of each step once they have been exchanged
    /// ([`Recorder::record_all_ranks`]): one rank can then write the whole raster as a single
    /// process does (the threads of [`crate::dist::threads`] do).
    pub fn record_spikes_of_all_ranks(&mut self, on: bool) {
        self.exchanged = on.then(Vec::new);
    }

    /// Pass the steps exchanged since the last call to `recorder.record_all_ranks`.
    fn record_exchanged(&mut self, recorder: &mut dyn Recorder) -> Result<()> {
        let Some(steps) = self.exchanged.as_mut() else {
            return Ok(());
        };
        let h = self.hist.len() as u64;
        let r = steps
            .iter()
            .try_for_each(|&step| recorder.record_all_ranks(&self.net, step, &self.hist[(step % h) as usize]));
        steps.clear();
        r
    }

    /// Switch stage timers on or off.
    pub fn set_timings(&mut self, on: bool) {
        self.timers.enabled = on;
    }

    /// Run `steps` steps, calling `recorder` after each and `progress` every `every` steps; stops
    /// at the end of the current step when `stop` becomes true.
    pub fn run(&mut self, steps: u64, recorder: &mut dyn Recorder, stop: &AtomicBool, mut progress: impl FnMut(u64)) -> Result<RunEnd> {
        let every = 200;
        if self.comm.size() == 1 {
            for s in 0..steps {
                if stop.load(Ordering::Relaxed) {
                    return Ok(RunEnd::Interrupted);
                }
                self.step();
                let t0 = self.timers.start();
                recorder.record(&self.net, &self.spikes)?;
                if self.exchanged.is_some() {
                    // One rank: its spikes are every rank's.
                    recorder.record_all_ranks(&self.net, self.net.step, &self.spikes)?;
                }
                self.timers.add_record(t0);
                if (s + 1) % every == 0 || s + 1 == steps {
                    progress(s + 1);
                }
            }
            return Ok(RunEnd::Completed);
        }
        // Several ranks: a rank never leaves the loop alone (the others would wait for it at the
        // next exchange). Stop requests and failures travel in the status word of the exchange
        // and every rank stops after the same step.
        let mut failed: Option<crate::Error> = None;
        self.status_all = 0;
        // Exchanges may stay in flight across a step; every rank sees a status word at the same
        // step (one later than without overlap) and stops after that same step.
        self.defer = true;
        for s in 0..steps {
            if stop.load(Ordering::Relaxed) {
                self.status_local |= STATUS_STOP;
            }
            self.step();
            if failed.is_none() {
                let t0 = self.timers.start();
                if let Err(e) = recorder
                    .record(&self.net, &self.spikes)
                    .and_then(|()| self.record_exchanged(recorder))
                {
                    failed = Some(e);
                    self.status_local |= STATUS_ERROR;
                }
                self.timers.add_record(t0);
            } else if let Some(steps) = self.exchanged.as_mut() {
                steps.clear();
            }
            if (s + 1) % every == 0 || s + 1 == steps {
                progress(s + 1);
            }
            if self.status_all != 0 {
                break;
            }
        }
        self.defer = false;
        let t0 = self.timers.start();
        self.exchange_finish();
        // The steps since the last slice (a run that is not a whole number of slices, or one
        // that stopped), so that every rank has every spike up to the end (every rank stops
        // after the same step, so all take part).
        if self.net.step > self.exchanged_to {
            self.exchange_start(self.net.step);
            self.exchange_finish();
        }
        self.timers.add_gather(t0);
        if failed.is_none() {
            // The spikes of the last steps, exchanged just now.
            let t0 = self.timers.start();
            if let Err(e) = self.record_exchanged(recorder) {
                failed = Some(e);
            }
            self.timers.add_record(t0);
        }
        let status = self.status_all;
        self.status_local = 0;
        self.status_all = 0;
        match failed {
            Some(e) => Err(e),
            None if status & STATUS_ERROR != 0 => Err(crate::Error::PeerFailed {
                reached_ms: self.net.time_ms(),
                unit: self.comm.unit_name(),
            }),
            None if status & STATUS_STOP != 0 => Ok(RunEnd::Interrupted),
            None => Ok(RunEnd::Completed),
        }
    }

    /// Advance one step (see the module documentation for the order).
    pub fn step(&mut self) {
        let k = self.net.step + 1;
        let t0 = self.timers.start();
        let staged = self.timers.deliver + self.timers.plasticity + self.timers.integrate + self.timers.gather;
        self.apply_drives(k);
        match self.pending {
            // The spikes to deliver are still on their way: integrate first (these populations
            // add the inputs arriving at step k after integrating, so the arithmetic is that of
            // `Phase::All`), then wait for them and deliver.
            Some(_) => {
                self.run_chunks(k, Phase::Integrate);
                let t1 = self.timers.start();
                self.exchange_finish();
                self.timers.add_gather(t1);
                self.run_chunks(k, Phase::Deliver);
            }
            None if self.integrate_first => self.run_chunks(k, Phase::IntegrateThenDeliver),
            None => self.run_chunks(k, Phase::All),
        }
        let staged = self.timers.deliver + self.timers.plasticity + self.timers.integrate + self.timers.gather - staged;
        self.timers.add_other(t0, staged);
        let t1 = self.timers.start();
        self.gather(k);
        self.net.step = k;
        self.timers.add_gather(t1);
    }

    /// Run `phase` of step k on every chunk (on the team when there is one).
    fn run_chunks(&mut self, k: u64, phase: Phase) {
        let ctx = Ctx::new(
            &mut self.bufs,
            &mut self.net,
            &mut self.stats,
            self.slice,
            &self.hist,
            &self.ranges,
            &self.onto,
            &self.poisson_onto,
            &self.sparse,
            &self.splits,
            self.threads,
            k,
            self.timers.enabled,
        );
        let times = match &self.team {
            None => {
                let out = &mut self.chunk_spikes[0];
                let touched = &mut self.chunk_touched[0];
                // SAFETY: one chunk covering every neuron; nothing else accesses the network meanwhile.
                let r = unsafe { ctx.process_phases(0, phase, out, touched) };
                self.syn_events += r.events;
                r.times
            }
            Some(team) => {
                let ctx = &ctx;
                let spikes = SyncPtr(self.chunk_spikes.as_mut_ptr());
                let touched = SyncPtr(self.chunk_touched.as_mut_ptr());
                let results = SyncPtr(self.chunk_out.as_mut_ptr());
                // SAFETY: thread c runs chunk c only (one call per chunk per phase); chunks own
                // disjoint neuron ranges and their own buffers (see Ctx::process_chunk).
                team.run(&|c| unsafe {
                    *results.get().add(c) = ctx.process_phases(c, phase, &mut *spikes.get().add(c), &mut *touched.get().add(c));
                });
                self.syn_events += self.chunk_out.iter().map(|r| r.events).sum::<u64>();
                // The stages of the first chunk (the others run at the same time).
                self.chunk_out[0].times
            }
        };
        if self.timers.enabled {
            let [d, pl, i] = times;
            self.timers.deliver += d;
            self.timers.plasticity += pl;
            self.timers.integrate += i;
        }
    }

    fn apply_drives(&mut self, k: u64) {
        let net = &mut self.net;
        for d in &mut net.drives.spikes {
            while d.cursor < d.events.len() && d.events[d.cursor].0 < k {
                d.cursor += 1;
            }
            let pop = &mut net.populations[d.pop];
            let ring = match d.receptor {
                Kind::Excitatory => &mut pop.ring_exc,
                Kind::Inhibitory => &mut pop.ring_inh,
            };
            let off = ring.slot_offset(k);
            while d.cursor < d.events.len() && d.events[d.cursor].0 == k {
                ring.data[off + d.events[d.cursor].1 as usize] += d.weight as f32;
                d.cursor += 1;
            }
        }
        let mut changed = false;
        for c in &mut net.drives.currents {
            while c.cursor < c.changes.len() && c.changes[c.cursor].0 < k {
                c.active = c.changes[c.cursor].1;
                c.cursor += 1;
                changed = true;
            }
        }
        if changed {
            // Recompute external input as the sum of active amplitudes (exact on/off).
            for p in net.populations.iter_mut() {
                if let Some(ext) = p.dynamics.common_mut().and_then(|c| c.ext.as_mut()) {
                    ext.iter_mut().for_each(|x| *x = 0.0);
                }
            }
            for c in &net.drives.currents {
                if let Some(ext) = net.populations[c.pop].dynamics.common_mut().and_then(|cm| cm.ext.as_mut()) {
                    match &c.neurons {
                        None => ext.iter_mut().for_each(|x| *x += c.active),
                        Some(ns) => ns.iter().for_each(|&i| ext[i as usize] += c.active),
                    }
                }
            }
        }
    }

    fn gather(&mut self, k: u64) {
        let h = self.hist.len() as u64;
        let slot = (k % h) as usize;
        for (p, pop) in self.net.populations.iter_mut().enumerate() {
            let s = &mut self.spikes[p];
            s.clear();
            let all = &mut self.hist[slot][p];
            all.clear();
            let (lo, hi) = self.owned[p];
            // Sources are generated in full on every rank (the same block streams); a rank
            // reports and counts the ones it owns. Integrated populations' spikes were counted
            // by their chunks (`StatsRaw::count` in `Ctx::process_chunk`).
            let source = match &mut pop.dynamics {
                Dynamics::PoissonSource(src) => {
                    src.step(&mut pop.rngs, all);
                    true
                }
                Dynamics::SpikeSource(src) => {
                    src.step(k, all);
                    true
                }
                Dynamics::ModulatedPoisson(src) => {
                    src.step(&mut pop.rngs, all);
                    true
                }
                _ => {
                    for c in &self.chunk_spikes {
                        s.extend_from_slice(&c[p]);
                    }
                    all.extend_from_slice(s);
                    false
                }
            };
            if source {
                let a = all.partition_point(|&i| i < lo);
                let b = all.partition_point(|&i| i < hi);
                s.extend_from_slice(&all[a..b]);
                self.syn_events += self.stats[p].count_spikes(s, k);
            }
        }
        if self.comm.size() > 1 && k.is_multiple_of(self.slice) {
            self.exchange_start(k);
            if !(self.integrate_first && self.defer) {
                self.exchange_finish();
            }
        }
        if self.net.traces.is_empty() {
            return;
        }
        // Traces exist only with plasticity, where the slice is one step: `hist` holds every
        // rank's spikes up to step k here.
        let empty: &[u32] = &[];
        for ts in self.net.traces.iter_mut() {
            let at = |m: u64| {
                if m >= 1 && k - m < h {
                    &self.hist[(m % h) as usize][ts.pop][..]
                } else {
                    empty
                }
            };
            let prev = if k > ts.shift { at(k - 1 - ts.shift) } else { empty };
            let now = if k >= ts.shift { at(k - ts.shift) } else { empty };
            ts.advance(k, prev, now);
        }
    }

    /// Start exchanging the spikes of the steps after the last exchanged one up to step k: the
    /// slice ending at k, or at the end of a run the steps since the last slice (see
    /// `exchange_finish`).
    fn exchange_start(&mut self, k: u64) {
        let h = self.hist.len() as u64;
        let first = self.exchanged_to + 1;
        let x = &mut self.xchg;
        x.header.clear();
        x.send.clear();
        x.header.push(self.status_local);
        for step in first..=k {
            let slot = (step % h) as usize;
            for &p in &self.integrated {
                let l = &self.hist[slot][p];
                x.header.push(l.len() as u32);
                x.send.extend_from_slice(l);
            }
        }
        self.comm.all_gather_start(&x.header, &x.send);
        self.pending = Some((first, k));
        self.exchanged_to = k;
    }

    /// Finish the exchange in flight: afterwards `hist` holds every rank's spikes of its slice,
    /// in ascending order (the ranks own ascending neuron ranges).
    fn exchange_finish(&mut self) {
        let Some((first, k)) = self.pending.take() else { return };
        let h = self.hist.len() as u64;
        if let Some(steps) = self.exchanged.as_mut() {
            steps.extend(first..=k);
        }
        let x = &mut self.xchg;
        self.comm
            .all_gather_finish(&x.header, &x.send, &mut x.headers, &mut x.counts, &mut x.out);
        let hl = x.header.len();
        for step in first..=k {
            for &p in &self.integrated {
                self.hist[(step % h) as usize][p].clear();
            }
        }
        let mut start = 0;
        for (r, &count) in x.counts.iter().enumerate() {
            let hdr = &x.headers[r * hl..(r + 1) * hl];
            self.status_all |= hdr[0];
            let mut pos = start;
            let mut i = 1;
            for step in first..=k {
                for &p in &self.integrated {
                    let c = hdr[i] as usize;
                    self.hist[(step % h) as usize][p].extend_from_slice(&x.out[pos..pos + c]);
                    pos += c;
                    i += 1;
                }
            }
            start += count;
        }
    }
}

/// A pointer to per-chunk buffers that threads share; each thread touches only its own chunk.
struct SyncPtr<T>(*mut T);
// SAFETY: used only to hand chunk c's buffers to the thread that runs chunk c.
unsafe impl<T> Sync for SyncPtr<T> {}
unsafe impl<T> Send for SyncPtr<T> {}
impl<T> SyncPtr<T> {
    fn get(&self) -> *mut T {
        self.0
    }
}

/// Reused buffers of the spike exchange.
#[derive(Default)]
struct Exchange {
    header: Vec<u32>,
    send: Vec<u32>,
    headers: Vec<u32>,
    counts: Vec<usize>,
    out: Vec<u32>,
}

/// Reused buffers for the raw views of a step (no allocation per step).
#[derive(Default)]
struct RawBufs {
    pops: Vec<PopRaw>,
    plastic: Vec<plastic::PlasticPtrs>,
    stats: Vec<StatsRaw>,
}

/// What a chunk reports from one call of [`Ctx::process_chunk`].
#[derive(Clone, Copy, Default)]
struct ChunkOut {
    /// Deliver, plasticity and integrate seconds (when timed).
    times: [f64; 3],
    /// Synaptic events of the spikes the chunk's neurons emitted (spikes × out-degree).
    events: u64,
}

/// A raw view of one population's spike statistics: each chunk counts the spikes of its own
/// neurons where it detects them, instead of the main thread counting all of them between steps.
struct StatsRaw(*mut NeuronStats);

impl StatsRaw {
    /// Count the spikes `spikes` of step k; returns their synaptic events.
    ///
    /// # Safety
    /// Every id in `spikes` indexes the population; no other thread touches these neurons' entries.
    #[inline]
    unsafe fn count(&self, spikes: &[u32], k: u64) -> u64 {
        spikes.iter().map(|&i| (*self.0.add(i as usize)).spike(k)).sum()
    }
}

/// Raw views of one population's mutable state, for the threaded region.
#[derive(PartialEq)]
struct PopRaw {
    model: RawModel,
    refr: *mut u16,
    ext: *const f64,
    v: *mut f64,
    v_th: f64,
    v_reset: f64,
    refr_steps: u16,
    ring_e: *mut f32,
    ring_i: *mut f32,
    ring_slots: u64,
    n: usize,
    rngs: *mut Rng,
}

#[derive(PartialEq)]
enum RawModel {
    Cuba(*const lif_cuba::LifCubaConsts, *mut f64, *mut f64),
    Coba(*const lif_coba::LifCobaConsts, *mut f64, *mut f64),
    Delta(*const lif_delta::LifDeltaConsts),
    PoissonLinear(*const poisson_linear::PoissonLinearConsts, *mut f64),
    Source,
}

/// Everything a chunk needs for one step. Raw pointers are taken fresh each step from `&mut
/// Network` and the spike statistics, and only dereferenced inside `process_chunk` for the
/// chunk's own neuron range.
struct Ctx<'a> {
    pops: &'a [PopRaw],
    plastic: &'a [plastic::PlasticPtrs],
    stats: &'a [StatsRaw],
    net: *const Network,
    slice: u64,
    hist: &'a [Vec<Vec<u32>>],
    ranges: &'a [Vec<(u32, u32)>],
    onto: &'a [Vec<usize>],
    poisson_onto: &'a [Vec<usize>],
    sparse: &'a [bool],
    splits: &'a [RowSplits],
    chunks: usize,
    k: u64,
    timed: bool,
}

/// Where each chunk's part of every row of a projection starts (rows are sorted by target), so
/// that a thread finds its part with one load instead of a binary search per spike and row:
/// `at[j * (chunks - 1) + c - 1]` is the offset in row j of chunk c's first synapse. Empty when one
/// chunk runs everything or a row is too long for u16 offsets (then the binary search is used).
#[derive(Default)]
struct RowSplits {
    at: Vec<u16>,
}

impl RowSplits {
    fn new(pr: &Projection, chunks: &[(u32, u32)]) -> Self {
        let m = chunks.len().saturating_sub(1);
        let n_pre = pr.row_ptr.len() - 1;
        if m == 0 || (0..n_pre).any(|j| pr.row(j).len() > u16::MAX as usize) {
            return RowSplits::default();
        }
        let mut at = Vec::with_capacity(n_pre * m);
        for j in 0..n_pre {
            let t = &pr.targets[pr.row(j)];
            at.extend(chunks[1..].iter().map(|&(lo, _)| t.partition_point(|&x| x < lo) as u16));
        }
        RowSplits { at }
    }

    fn bytes(&self) -> usize {
        self.at.len() * 2
    }
}

/// What a chunk does in one call of [`Ctx::process_chunk`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The whole step: deliver, drive, integrate, threshold.
    All,
    /// Integrate and threshold only; `Deliver` follows. Only for populations that add the inputs
    /// arriving at step k after integrating (sparse CUBA input): their membrane at step k does
    /// not depend on them, so delivering after the threshold changes nothing.
    Integrate,
    /// Deliver and add the inputs arriving at step k, after `Integrate`.
    Deliver,
    /// `Integrate`, then `Deliver`: the whole step where every population allows it. A thread
    /// then starts on its own neurons' state instead of the spike lists the main thread has
    /// just written (40k neurons on 2 threads, 16-core VM: 0.251 s against 0.290 s and 0.282 s
    /// against 0.291 s in the order of `All`, medians of 5 and 7; same results).
    IntegrateThenDeliver,
}

/// Ring entries written since last read, per receptor and slot (sparse populations only).
type Touched = [Vec<Vec<u32>>; 2];

// SAFETY: the raw pointers are only used for disjoint neuron ranges, one chunk per thread.
unsafe impl Sync for Ctx<'_> {}

impl<'a> Ctx<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        bufs: &'a mut RawBufs,
        net: &mut Network,
        stats: &mut [SpikeStats],
        slice: u64,
        hist: &'a [Vec<Vec<u32>>],
        ranges: &'a [Vec<(u32, u32)>],
        onto: &'a [Vec<usize>],
        poisson_onto: &'a [Vec<usize>],
        sparse: &'a [bool],
        splits: &'a [RowSplits],
        chunks: usize,
        k: u64,
        timed: bool,
    ) -> Self {
        let np = net.populations.len();
        bufs.pops.truncate(np);
        for (i, p) in net.populations.iter_mut().enumerate() {
            let n = p.size;
            let ring_slots = p.ring_exc.slots as u64;
            let ring_e = p.ring_exc.data.as_mut_ptr();
            let ring_i = p.ring_inh.data.as_mut_ptr();
            let rngs = p.rngs.as_mut_ptr();
            let (model, v, common) = match &mut p.dynamics {
                Dynamics::LifCuba(m) => (
                    RawModel::Cuba(&m.consts, m.i_exc.as_mut_ptr(), m.i_inh.as_mut_ptr()),
                    m.v.as_mut_ptr(),
                    Some(&mut m.common),
                ),
                Dynamics::LifCoba(m) => (
                    RawModel::Coba(&m.consts, m.g_exc.as_mut_ptr(), m.g_inh.as_mut_ptr()),
                    m.v.as_mut_ptr(),
                    Some(&mut m.common),
                ),
                Dynamics::LifDelta(m) => (RawModel::Delta(&m.consts), m.v.as_mut_ptr(), Some(&mut m.common)),
                Dynamics::PoissonLinear(m) => (
                    RawModel::PoissonLinear(&m.consts, m.u.as_mut_ptr()),
                    m.v.as_mut_ptr(),
                    Some(&mut m.common),
                ),
                _ => (RawModel::Source, std::ptr::null_mut(), None),
            };
            let (refr, ext, v_th, v_reset, refr_steps) = match common {
                Some(c) => (
                    c.refr.as_mut_ptr(),
                    c.ext.as_ref().map_or(std::ptr::null(), |e| e.as_ptr()),
                    c.v_th,
                    c.v_reset,
                    c.refr_steps,
                ),
                None => (std::ptr::null_mut(), std::ptr::null(), 0.0, 0.0, 0),
            };
            let raw = PopRaw {
                model,
                refr,
                ext,
                v,
                v_th,
                v_reset,
                refr_steps,
                ring_e,
                ring_i,
                ring_slots,
                n,
                rngs,
            };
            // Rewrite only what changed (nothing, between steps): a store would take the line
            // from the other threads' caches, and each would fetch it back at every step.
            match bufs.pops.get_mut(i) {
                Some(old) if *old == raw => {}
                Some(old) => *old = raw,
                None => bufs.pops.push(raw),
            }
        }
        // Taken afresh at every step (a pointer kept from an earlier borrow would not be valid
        // after a later `&mut` to the statistics, e.g. `reduce_stats`); checked against the
        // population sizes, since `Simulation::stats` is public and threads index it unchecked.
        bufs.stats.clear();
        for (st, p) in stats.iter_mut().zip(&net.populations) {
            assert_eq!(st.neurons.len(), p.size, "spike statistics of population {} resized", p.name);
            bufs.stats.push(StatsRaw(st.neurons.as_mut_ptr()));
        }
        bufs.plastic.clear();
        bufs.plastic.extend(net.projections.iter_mut().map(|pr| match pr.plastic.as_mut() {
            Some(pl) => plastic::PlasticPtrs {
                w: match &mut pr.weights {
                    Weights::PerSynapse(v) => v.as_mut_ptr(),
                    Weights::Uniform(_) => unreachable!("plastic projections store one weight per synapse"),
                },
                state: pl.state.as_mut_ptr(),
            },
            None => plastic::PlasticPtrs {
                w: std::ptr::null_mut(),
                state: std::ptr::null_mut(),
            },
        }));
        Ctx {
            pops: &bufs.pops,
            plastic: &bufs.plastic,
            stats: &bufs.stats,
            net: net as *const Network,
            slice,
            hist,
            ranges,
            onto,
            poisson_onto,
            sparse,
            splits,
            chunks,
            k,
            timed,
        }
    }

    /// [`Ctx::process_chunk`], with `IntegrateThenDeliver` run as its two phases.
    ///
    /// # Safety
    /// As for [`Ctx::process_chunk`].
    unsafe fn process_phases(&self, c: usize, phase: Phase, out: &mut [Vec<u32>], touched: &mut [Touched]) -> ChunkOut {
        if phase == Phase::IntegrateThenDeliver {
            let a = self.process_chunk(c, Phase::Integrate, out, touched);
            let b = self.process_chunk(c, Phase::Deliver, out, touched);
            let t = |s: usize| a.times[s] + b.times[s];
            return ChunkOut {
                times: [t(0), t(1), t(2)],
                events: a.events + b.events,
            };
        }
        self.process_chunk(c, phase, out, touched)
    }

    /// Deliver, drive and integrate chunk `c` (the parts `phase` asks for) and count its spikes;
    /// returns (deliver, plasticity, integrate) seconds when timed and the spikes' synaptic events.
    ///
    /// # Safety
    /// Chunks must be processed at most once each per step and their neuron ranges must be
    /// disjoint (they are: `ranges` partitions every population): a chunk writes the state, ring
    /// entries, random streams and spike statistics of its own neurons only, and counts each spike
    /// once, in the call that integrates (`Phase::Deliver` counts nothing). Only the network's
    /// read-only parts (projections, drives) are read through `self.net`.
    unsafe fn process_chunk(&self, c: usize, phase: Phase, out: &mut [Vec<u32>], touched: &mut [Touched]) -> ChunkOut {
        let net = &*self.net;
        let k = self.k;
        // The spikes delivered now are those of step σ = k - slice (every rank's, see `gather`).
        let sigma = k.saturating_sub(self.slice);
        let h = self.hist.len() as u64;
        let empty: &[Vec<u32>] = &[];
        let delivered = if k >= self.slice {
            &self.hist[(sigma % h) as usize][..]
        } else {
            empty
        };
        let (mut t_deliver, mut t_plastic, mut t_integrate) = (0.0, 0.0, 0.0);
        let mut events = 0;
        let (deliver, integrate) = (phase != Phase::Integrate, phase != Phase::Deliver);
        if deliver {
            self.prefetch_first_rows(c, delivered);
        }
        for (p, raw) in self.pops.iter().enumerate() {
            if integrate {
                out[p].clear();
            }
            if matches!(raw.model, RawModel::Source) {
                continue;
            }
            let (lo, hi) = self.ranges[p][c];
            if lo == hi {
                continue;
            }
            let full = lo == 0 && hi as usize == raw.n;
            let t0 = self.timed.then(Instant::now);
            // 1. Deliver the spikes of step σ.
            for &pi in self.onto[p].iter().filter(|_| deliver) {
                let pr = &net.projections[pi];
                let ring = match pr.receptor {
                    Kind::Excitatory => raw.ring_e,
                    Kind::Inhibitory => raw.ring_i,
                };
                let pre_spikes = delivered.get(pr.pre).map_or(&[][..], |v| &v[..]);
                if let Some(pl) = pr.plastic.as_deref().filter(|pl| pl.enabled) {
                    let tp = self.timed.then(Instant::now);
                    let ec = plastic::EventCtx {
                        pr,
                        pl,
                        pre_set: &net.traces[pl.pre_set],
                        post_set: &net.traces[pl.post_set],
                        sigma,
                        dt: net.dt,
                        lo,
                        hi,
                        full,
                    };
                    let slot_index = ((sigma + pl.delay) % raw.ring_slots) as usize;
                    let slot = ring.add(slot_index * raw.n);
                    let seen = self.sparse[p].then(|| &mut touched[p][pr.receptor as usize][slot_index]);
                    plastic::pre_events(&ec, self.plastic[pi], pre_spikes, slot, seen);
                    if sigma > pl.delay {
                        plastic::post_events(&ec, self.plastic[pi], &self.hist[((sigma - pl.delay) % h) as usize][pr.post]);
                    }
                    if let Some(tp) = tp {
                        t_plastic += tp.elapsed().as_secs_f64();
                    }
                    continue;
                }
                if self.sparse[p] {
                    // Record the index of every write (unconditionally: a test for "was zero"
                    // would be a branch the predictor cannot learn). An index written twice is
                    // applied twice, the second time adding the zero the first left.
                    let lists = &mut touched[p][pr.receptor as usize];
                    match &pr.delays {
                        Delays::Constant(d) => {
                            let slot = ((sigma + *d as u64) % raw.ring_slots) as usize;
                            let base = ring.add(slot * raw.n);
                            let list = &mut lists[slot];
                            for (n, &j) in pre_spikes.iter().enumerate() {
                                self.prefetch_ahead(pr, pi, pre_spikes, n, c, lo, hi);
                                let r = self.chunk_row(pr, pi, j as usize, c, lo, hi);
                                let ts = &pr.targets[r.clone()];
                                list.extend_from_slice(ts);
                                add_row(base, ts, &pr.weights, r.start);
                            }
                        }
                        Delays::PerSynapse(ds) => {
                            for (n, &j) in pre_spikes.iter().enumerate() {
                                self.prefetch_ahead(pr, pi, pre_spikes, n, c, lo, hi);
                                for s in self.chunk_row(pr, pi, j as usize, c, lo, hi) {
                                    let slot = ((sigma + ds[s] as u64) % raw.ring_slots) as usize;
                                    let t = pr.targets[s];
                                    lists[slot].push(t);
                                    *ring.add(slot * raw.n + t as usize) += pr.weight(s);
                                }
                            }
                        }
                    }
                    continue;
                }
                match &pr.delays {
                    Delays::Constant(d) => {
                        let slot = ring.add((((sigma + *d as u64) % raw.ring_slots) as usize) * raw.n);
                        for (n, &j) in pre_spikes.iter().enumerate() {
                            self.prefetch_ahead(pr, pi, pre_spikes, n, c, lo, hi);
                            let r = self.chunk_row(pr, pi, j as usize, c, lo, hi);
                            add_row(slot, &pr.targets[r.clone()], &pr.weights, r.start);
                        }
                    }
                    Delays::PerSynapse(ds) => {
                        for (n, &j) in pre_spikes.iter().enumerate() {
                            self.prefetch_ahead(pr, pi, pre_spikes, n, c, lo, hi);
                            let r = self.chunk_row(pr, pi, j as usize, c, lo, hi);
                            for s in r {
                                let off = (((sigma + ds[s] as u64) % raw.ring_slots) as usize) * raw.n;
                                *ring.add(off + pr.targets[s] as usize) += pr.weight(s);
                            }
                        }
                    }
                }
            }
            let slot_k = (((k % raw.ring_slots) as usize) * raw.n) + lo as usize;
            let len = (hi - lo) as usize;
            // 2. Poisson drive of step k, block by block from the blocks' streams.
            for &di in self.poisson_onto[p].iter().filter(|_| integrate) {
                let d = &net.drives.poisson[di];
                let ring = match d.receptor {
                    Kind::Excitatory => raw.ring_e,
                    Kind::Inhibitory => raw.ring_i,
                };
                let b0 = lo as usize / BLOCK;
                let b1 = (hi as usize).div_ceil(BLOCK);
                for b in b0..b1 {
                    let rng = &mut *raw.rngs.add(b);
                    let (blo, bhi) = (b * BLOCK, ((b + 1) * BLOCK).min(raw.n));
                    let base = ring.add(((k % raw.ring_slots) as usize) * raw.n);
                    match &d.neurons {
                        None => {
                            for i in blo..bhi {
                                let e = d.events(uniform(rng));
                                if e > 0 {
                                    *base.add(i) += (e as f64 * d.weight) as f32;
                                }
                            }
                        }
                        Some(ns) => {
                            let a = ns.partition_point(|&x| (x as usize) < blo);
                            for &i in ns[a..].iter().take_while(|&&x| (x as usize) < bhi) {
                                let e = d.events(uniform(rng));
                                if e > 0 {
                                    *base.add(i as usize) += (e as f64 * d.weight) as f32;
                                }
                            }
                        }
                    }
                }
            }
            let t1 = self.timed.then(Instant::now);
            // 3. Integrate and 4. threshold, in sub-blocks small enough that the threshold scan
            // re-reads the membrane potentials from L1.
            const SUB: usize = 512;
            let mut a = 0;
            while integrate && a < len {
                let b = (a + SUB).min(len);
                let at = lo as usize + a;
                let n = b - a;
                let sl = |ptr: *mut f64| std::slice::from_raw_parts_mut(ptr.add(at), n);
                let in_e = std::slice::from_raw_parts_mut(raw.ring_e.add(slot_k + a), n);
                let in_i = std::slice::from_raw_parts_mut(raw.ring_i.add(slot_k + a), n);
                let refr = std::slice::from_raw_parts_mut(raw.refr.add(at), n);
                let ext = (!raw.ext.is_null()).then(|| std::slice::from_raw_parts(raw.ext.add(at), n));
                let v = sl(raw.v);
                // Each model reports whether a neuron reached threshold; most sub-blocks have
                // no spike in a step and skip the scan.
                let crossed = match raw.model {
                    RawModel::Cuba(cst, ie, ii) if self.sparse[p] => lif_cuba::propagate(&*cst, v, sl(ie), sl(ii), refr, ext, raw.v_th),
                    RawModel::Cuba(cst, ie, ii) => lif_cuba::step(&*cst, v, sl(ie), sl(ii), refr, in_e, in_i, ext, raw.v_th),
                    RawModel::Coba(cst, ge, gi) => lif_coba::step(&*cst, v, sl(ge), sl(gi), refr, in_e, in_i, ext, raw.v_th),
                    RawModel::Delta(cst) => lif_delta::step(&*cst, v, refr, in_e, in_i, ext, raw.v_th),
                    // Sub-blocks never straddle a random-stream block (SUB divides BLOCK and chunks
                    // are whole blocks), so the draws do not depend on the thread count.
                    RawModel::PoissonLinear(cst, u) => {
                        poisson_linear::step(&*cst, v, sl(u), in_e, in_i, ext, &mut *raw.rngs.add(at / BLOCK));
                        true
                    }
                    RawModel::Source => unreachable!(),
                };
                if crossed {
                    detect(v, refr, raw.v_th, raw.v_reset, raw.refr_steps, at as u32, &mut out[p]);
                }
                a = b;
            }
            if integrate {
                // SAFETY: `out[p]` holds this step's spikes of the chunk's own neurons.
                events += self.stats[p].count(&out[p], k);
            }
            if let (true, true, RawModel::Cuba(_, ie, ii)) = (deliver, self.sparse[p], &raw.model) {
                // The inputs arriving at step k, after propagation (as `lif_cuba::step` adds
                // them): only the entries deliveries wrote, which are then cleared.
                let slot = (k % raw.ring_slots) as usize;
                let base = slot * raw.n;
                let [te, ti] = &mut touched[p];
                for &t in &te[slot] {
                    let x = raw.ring_e.add(base + t as usize);
                    *ie.add(t as usize) += *x as f64;
                    *x = 0.0;
                }
                te[slot].clear();
                for &t in &ti[slot] {
                    let x = raw.ring_i.add(base + t as usize);
                    *ii.add(t as usize) -= *x as f64;
                    *x = 0.0;
                }
                ti[slot].clear();
            }
            if let (Some(t0), Some(t1)) = (t0, t1) {
                t_deliver += (t1 - t0).as_secs_f64();
                t_integrate += t1.elapsed().as_secs_f64();
            }
        }
        // Plasticity ran inside the delivery loop: report it apart.
        ChunkOut {
            times: [t_deliver - t_plastic, t_plastic, t_integrate],
            events,
        }
    }
}

/// How many spikes ahead delivery asks for a row (see [`Projection::prefetch_part`]); the row
/// pointers are asked for twice as far ahead, so that the row's address is known in time.
/// Plastic presynaptic loops use it too (`plastic::pre_loop`).
const PREFETCH_AHEAD: usize = 4;

impl Ctx<'_> {
    /// Ask for the row pointers of the first spikes of every static projection at once, and then
    /// for their rows, before delivery starts: `prefetch_ahead` runs PREFETCH_AHEAD spikes ahead
    /// within one projection, so without this the first spikes of each projection in each step
    /// (a large share at ~20 spikes per step) would each wait for their misses in turn.
    fn prefetch_first_rows(&self, c: usize, delivered: &[Vec<u32>]) {
        // SAFETY: only the read-only projections are read.
        let net = unsafe { &*self.net };
        // (projection, its index, the chunk's target range, the spikes it delivers) of every
        // static projection onto a population the chunk has neurons of.
        let static_onto = || {
            self.onto.iter().enumerate().flat_map(move |(p, pis)| {
                let (lo, hi) = self.ranges[p][c];
                pis.iter().filter(move |_| lo < hi).filter_map(move |&pi| {
                    let pr = &net.projections[pi];
                    let spikes = delivered.get(pr.pre).map_or(&[][..], |v| &v[..]);
                    pr.plastic.is_none().then_some((pr, pi, lo, hi, spikes))
                })
            })
        };
        for (pr, pi, _, _, spikes) in static_onto() {
            for &j in spikes.iter().take(2 * PREFETCH_AHEAD) {
                self.prefetch_row_bounds(pr, pi, j as usize);
            }
        }
        for (pr, pi, lo, hi, spikes) in static_onto() {
            for &j in spikes.iter().take(PREFETCH_AHEAD) {
                pr.prefetch_part(self.chunk_row(pr, pi, j as usize, c, lo, hi));
            }
        }
    }

    /// Ask for what `chunk_row` reads to find row j's part: the row pointers and, with several
    /// chunks, the row's chunk offsets.
    #[inline(always)]
    fn prefetch_row_bounds(&self, pr: &Projection, pi: usize, j: usize) {
        pr.prefetch_row_ptr(j);
        if self.chunks > 1 {
            let m = self.chunks - 1;
            crate::synapse::prefetch_range(&self.splits[pi].at, j * m..(j + 1) * m);
        }
    }

    /// Chunk c's part of row j of projection `pi` (targets in `lo..hi`).
    #[inline(always)]
    fn chunk_row(&self, pr: &Projection, pi: usize, j: usize, c: usize, lo: u32, hi: u32) -> std::ops::Range<usize> {
        let r = pr.row(j);
        if self.chunks == 1 {
            // One chunk owns every target the rows hold (a rank keeps only its own).
            return r;
        }
        let at = &self.splits[pi].at;
        if at.is_empty() {
            return pr.row_in(j, lo, hi, false);
        }
        let m = self.chunks - 1;
        let a = if c == 0 { 0 } else { at[j * m + c - 1] as usize };
        let b = if c == m { r.len() } else { at[j * m + c] as usize };
        r.start + a..r.start + b
    }

    /// Ask for the rows of spike n + PREFETCH_AHEAD, and for the row pointers (and chunk
    /// offsets) of spike n + 2 PREFETCH_AHEAD.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn prefetch_ahead(&self, pr: &Projection, pi: usize, spikes: &[u32], n: usize, c: usize, lo: u32, hi: u32) {
        if let Some(&j) = spikes.get(n + 2 * PREFETCH_AHEAD) {
            self.prefetch_row_bounds(pr, pi, j as usize);
        }
        if let Some(&j) = spikes.get(n + PREFETCH_AHEAD) {
            pr.prefetch_part(self.chunk_row(pr, pi, j as usize, c, lo, hi));
        }
    }
}

/// Add the weights of synapses `start..start + ts.len()` onto their targets' ring entries.
///
/// # Safety
/// `slot` must point to a ring slot with room for every target in `ts`.
#[inline(always)]
unsafe fn add_row(slot: *mut f32, ts: &[u32], weights: &Weights, start: usize) {
    match weights {
        Weights::Uniform(w) => {
            for t in ts {
                *slot.add(*t as usize) += *w;
            }
        }
        Weights::PerSynapse(v) => {
            for (t, w) in ts.iter().zip(&v[start..start + ts.len()]) {
                *slot.add(*t as usize) += *w;
            }
        }
    }
}

/// Stop flag that Ctrl-C sets (see the binary).
pub fn stop_flag() -> &'static AtomicBool {
    static STOP: AtomicBool = AtomicBool::new(false);
    &STOP
}
