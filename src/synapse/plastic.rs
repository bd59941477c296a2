//! Runtime data of plastic projections: per-neuron traces and the transposed index.
//!
//! # Traces
//! A [`TraceSet`] holds the traces of one population as seen *at the synapse* with a given
//! shift: shift 0 for presynaptic traces, the projection's delay d for postsynaptic traces
//! (NEST's dendritic convention: a postsynaptic spike reaches the synapse d steps after it was
//! emitted, a presynaptic spike acts at the synapse when it is emitted, so a pair is evaluated at
//! the interval `t_post + d - t_pre`). Projections with equal trace specs share values.
//!
//! In the region of step k the engine evaluates plasticity at synapse time `sigma = k - 1`; the
//! serial gather of step k-1 has prepared every set for it:
//! - Accumulate traces are stored as `u = x / G(t)` with one gain per trace,
//!   `G(t) = exp(-(t - t0) dt / tau)`: all neurons of a set decay by the same factor, so instead
//!   of multiplying every value each step the gather only adds `1 / G(sigma - 1)` for the events of
//!   synapse time `sigma - 1` and moves the gain to `G(sigma)`; a reading is `u · G(sigma)`
//!   (a whole pass renormalises the values when `1/G` exceeds 1e200, every few simulated seconds);
//! - Nearest readings are computed from the stored event time as `exp(-(sigma - t_last) dt / tau)`
//!   (exact, so that two neurons that spiked in the same step read identical values);
//! - `last[i]` is the neuron's last event strictly before `sigma`, `cur[i]` its last event up to
//!   and including `sigma` (the engine needs both for each synapse's `elapsed_ms`).
//!
//! # Transposed index
//! For postsynaptic spikes, `col_ptr`/`col_syn` list the incoming synapses of each postsynaptic
//! neuron, in ascending order, 4 bytes each, in one of two forms:
//! - **packed** (presynaptic population and every row at most 65536): `(j << 16) | offset`, the
//!   presynaptic neuron and the synapse's position in its row, so the synapse is
//!   `row_ptr[j] + offset` without any search;
//! - **indexed** (larger): the synapse's index into the CSR arrays; its presynaptic neuron is found
//!   from `row_hint` (the row of every 2^hint_shift-th synapse) and a short forward scan.
//!
//! So a plastic synapse costs 4 (target) + 4 (weight) + 4 (index) bytes, plus per-neuron pointers.

use crate::plasticity::{Rule, TraceKind, TraceSpec};

/// "No event yet".
pub const NONE: u64 = u64::MAX;

/// Traces of one population at one synapse-time shift.
#[derive(Clone, Debug)]
pub struct TraceSet {
    /// Population.
    pub pop: usize,
    /// Shift of the events in steps (0: presynaptic side; d: postsynaptic side of a delay-d projection).
    pub shift: u64,
    /// The distinct traces read from this set.
    pub specs: Vec<TraceSpec>,
    /// Per spec: one-step decay factor.
    pub decay: Vec<f64>,
    /// Per spec: scaled values `u = x / G` (Accumulate only; empty for Nearest).
    pub values: Vec<Vec<f64>>,
    /// Per spec: the gain `G(sigma)`; a reading is `values[q][i] * gain[q]`.
    pub gain: Vec<f64>,
    /// Last event strictly before sigma, per neuron (NONE if none).
    pub last: Vec<u64>,
    /// Last event up to and including sigma, per neuron.
    pub cur: Vec<u64>,
    /// Per spec: dt / tau.
    pub dt_over_tau: Vec<f64>,
}

impl TraceSet {
    /// An empty set for `n` neurons.
    pub fn new(pop: usize, shift: u64, n: usize) -> Self {
        TraceSet {
            pop,
            shift,
            specs: Vec::new(),
            decay: Vec::new(),
            values: Vec::new(),
            gain: Vec::new(),
            last: vec![NONE; n],
            cur: vec![NONE; n],
            dt_over_tau: Vec::new(),
        }
    }

    /// Index of `spec` in the set, adding it if new.
    pub fn add(&mut self, spec: TraceSpec, dt: f64) -> usize {
        if let Some(q) = self.specs.iter().position(|s| *s == spec) {
            return q;
        }
        self.specs.push(spec);
        self.decay.push((-dt / spec.tau_ms).exp());
        self.dt_over_tau.push(dt / spec.tau_ms);
        self.gain.push(1.0);
        self.values.push(match spec.kind {
            TraceKind::Accumulate => vec![0.0; self.last.len()],
            TraceKind::Nearest => Vec::new(),
        });
        self.specs.len() - 1
    }

    /// Reading of trace `q` of neuron `i` at `sigma⁻`.
    #[inline]
    pub fn read(&self, q: usize, i: usize, sigma: u64) -> f64 {
        match self.specs[q].kind {
            TraceKind::Accumulate => self.values[q][i] * self.gain[q],
            TraceKind::Nearest => {
                let t = self.last[i];
                if t == NONE {
                    0.0
                } else {
                    (-((sigma - t) as f64) * self.dt_over_tau[q]).exp()
                }
            }
        }
    }

    /// Gather of step k: apply events of synapse time k-1 (`prev`), decay to k, mark events of
    /// synapse time k (`now`).
    pub fn advance(&mut self, k: u64, prev: &[u32], now: &[u32]) {
        for (q, spec) in self.specs.iter().enumerate() {
            if spec.kind == TraceKind::Accumulate {
                let v = &mut self.values[q];
                let add = 1.0 / self.gain[q];
                for &i in prev {
                    v[i as usize] += add;
                }
                self.gain[q] *= self.decay[q];
                if self.gain[q] < 1e-200 {
                    let g = self.gain[q];
                    v.iter_mut().for_each(|x| *x *= g);
                    self.gain[q] = 1.0;
                }
            }
        }
        for &i in prev {
            self.last[i as usize] = k - 1;
        }
        for &i in now {
            self.cur[i as usize] = k;
        }
    }
}

/// The plastic part of a projection.
#[derive(Clone, Debug)]
pub struct Plastic {
    /// The rule.
    pub rule: Rule,
    /// Whether weights change (switchable at run time; frozen weights stay bit-identical).
    pub enabled: bool,
    /// Synapse time from which the lazy drift counts (the last switch-on).
    pub enabled_since: u64,
    /// Delay in steps (plastic projections have one delay).
    pub delay: u64,
    /// Column starts per postsynaptic neuron (`n_post + 1`).
    pub col_ptr: Vec<u64>,
    /// Synapse indices per column, ascending.
    pub col_syn: Vec<u32>,
    /// Whether `col_syn` holds packed `(j << 16) | offset` entries (see the module doc).
    pub packed: bool,
    /// Row of every `2^hint_shift`-th synapse (indexed form only).
    pub row_hint: Vec<u32>,
    /// log2 of the hint spacing.
    pub hint_shift: u32,
    /// Per-synapse rule state (presynaptic-centred pairing only; empty otherwise).
    pub state: Vec<f32>,
    /// Trace set of the presynaptic side and the spec index of each reading.
    pub pre_set: usize,
    /// Spec indices within `pre_set`, in the rule's `pre_traces()` order.
    pub pre_read: Vec<usize>,
    /// Trace set of the postsynaptic side.
    pub post_set: usize,
    /// Spec indices within `post_set`, in the rule's `post_traces()` order.
    pub post_read: Vec<usize>,
}

impl Plastic {
    /// Build the transposed index of a CSR projection: (col_ptr, col_syn, packed, row_hint, hint_shift).
    pub fn index(row_ptr: &[u64], targets: &[u32], n_post: usize) -> (Vec<u64>, Vec<u32>, bool, Vec<u32>, u32) {
        let n = targets.len();
        let mut col_ptr = vec![0u64; n_post + 1];
        for &t in targets {
            col_ptr[t as usize + 1] += 1;
        }
        for i in 0..n_post {
            col_ptr[i + 1] += col_ptr[i];
        }
        let mut fill = col_ptr.clone();
        let mut col_syn = vec![0u32; n];
        for (s, &t) in targets.iter().enumerate() {
            let t = t as usize;
            col_syn[fill[t] as usize] = s as u32;
            fill[t] += 1;
        }
        let n_pre = row_ptr.len() - 1;
        let max_row = row_ptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        if n_pre <= 1 << 16 && max_row <= 1 << 16 {
            // Packed form: replace each synapse index by (row, offset in row).
            let mut row_of_syn = vec![0u32; n];
            for j in 0..n_pre {
                row_of_syn[row_ptr[j] as usize..row_ptr[j + 1] as usize]
                    .iter_mut()
                    .for_each(|x| *x = j as u32);
            }
            for e in col_syn.iter_mut() {
                let j = row_of_syn[*e as usize];
                *e = (j << 16) | (*e - row_ptr[j as usize] as u32);
            }
            return (col_ptr, col_syn, true, Vec::new(), 0);
        }
        let mean_row = (n as f64 / n_pre.max(1) as f64).max(1.0);
        let hint_shift = (mean_row.log2().floor() as u32).min(10);
        let mut row_hint = Vec::with_capacity((n >> hint_shift) + 1);
        let mut j = 0usize;
        let mut s = 0usize;
        while s < n {
            while row_ptr[j + 1] as usize <= s {
                j += 1;
            }
            row_hint.push(j as u32);
            s += 1 << hint_shift;
        }
        (col_ptr, col_syn, false, row_hint, hint_shift)
    }

    /// (presynaptic neuron, synapse index) of a column entry.
    #[inline]
    pub fn entry(&self, row_ptr: &[u64], e: u32) -> (usize, usize) {
        if self.packed {
            let j = (e >> 16) as usize;
            (j, row_ptr[j] as usize + (e & 0xffff) as usize)
        } else {
            (self.row_of(row_ptr, e), e as usize)
        }
    }

    /// Presynaptic neuron of synapse `s`.
    #[inline]
    pub fn row_of(&self, row_ptr: &[u64], s: u32) -> usize {
        let mut j = self.row_hint[(s >> self.hint_shift) as usize] as usize;
        while row_ptr[j + 1] <= s as u64 {
            j += 1;
        }
        j
    }

    /// Bytes of the plastic index and state.
    pub fn bytes(&self) -> usize {
        self.col_ptr.len() * 8 + self.col_syn.len() * 4 + self.row_hint.len() * 4 + self.state.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scaled representation read at sigma⁻ equals the exact sum of exp(-(sigma - t)/tau) over
    /// earlier events, across several renormalisations (tau = 2 ms: one every ~46000 steps).
    #[test]
    fn accumulate_readings_match_exact_sums_across_renormalisation() {
        let (dt, tau) = (0.1, 2.0);
        let mut ts = TraceSet::new(0, 0, 3);
        let q = ts.add(
            TraceSpec {
                tau_ms: tau,
                kind: TraceKind::Accumulate,
            },
            dt,
        );
        let spikes = |k: u64| -> Vec<u32> { (0..3u32).filter(|&i| (k * (i as u64 + 3)).is_multiple_of(97)).collect() };
        let mut history: Vec<Vec<u64>> = vec![Vec::new(); 3];
        let mut renormalised = 0;
        for k in 1..200_000u64 {
            let prev = spikes(k - 1);
            for &i in &prev {
                history[i as usize].push(k - 1);
            }
            let before = ts.gain[q];
            ts.advance(k, &prev, &[]);
            renormalised += (ts.gain[q] > before) as usize;
            if k % 9973 == 0 {
                for (i, h) in history.iter().enumerate() {
                    let exact: f64 = h.iter().map(|&t| (-((k - t) as f64) * dt / tau).exp()).sum();
                    let got = ts.read(q, i, k);
                    assert!(
                        (got - exact).abs() <= 1e-12 * exact.max(1e-300),
                        "step {k} neuron {i}: {got} vs {exact}"
                    );
                }
            }
        }
        assert!(renormalised >= 3, "renormalised {renormalised} times");
    }
}
