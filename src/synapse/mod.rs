//! Synapses: one [`Projection`] per declared projection, stored in compressed sparse rows by
//! presynaptic neuron (u32 targets, f32 weights), each row sorted by target. Delays are integer
//! steps (>= 1): one value for the whole projection, or one u16 per synapse when drawn from a
//! distribution. Delivery writes into the postsynaptic population's ring buffers ([`Ring`]), so the
//! work per step is proportional to spikes × fan-out, never to the number of synapses.
//!
//! Rows sorted by target let a thread that owns the postsynaptic neurons `lo..hi` find its part
//! of a row by binary search: every write is then owned by one thread, and the order in which a
//! neuron receives its inputs is the same whatever the number of threads (bit-identical results).

pub mod connect;
pub mod plastic;

pub use plastic::{Plastic, TraceSet};

use crate::spec::Kind;

/// Per-projection delays in steps.
#[derive(Clone, Debug)]
pub enum Delays {
    /// Every synapse has this delay.
    Constant(u32),
    /// One delay per synapse, in CSR order.
    PerSynapse(Vec<u16>),
}

/// Per-projection weights.
#[derive(Clone, Debug, PartialEq)]
pub enum Weights {
    /// Every synapse has this weight: a static projection with a constant weight, the common case
    /// of the benchmark networks, stores no weight per synapse (4 instead of 8 bytes a synapse).
    Uniform(f32),
    /// One weight per synapse, in CSR order (drawn, explicit or plastic weights).
    PerSynapse(Vec<f32>),
}

impl Weights {
    /// Weight of synapse `s`.
    #[inline]
    pub fn get(&self, s: usize) -> f32 {
        match self {
            Weights::Uniform(w) => *w,
            Weights::PerSynapse(v) => v[s],
        }
    }

    /// The per-synapse weights, if stored per synapse.
    pub fn as_slice(&self) -> Option<&[f32]> {
        match self {
            Weights::Uniform(_) => None,
            Weights::PerSynapse(v) => Some(v),
        }
    }

    /// Bytes stored.
    pub fn bytes(&self) -> usize {
        match self {
            Weights::Uniform(_) => 4,
            Weights::PerSynapse(v) => v.len() * 4,
        }
    }
}

/// A projection from one population to another (or the same).
#[derive(Clone, Debug)]
pub struct Projection {
    /// Name (unique).
    pub name: String,
    /// Index of the presynaptic population.
    pub pre: usize,
    /// Index of the postsynaptic population.
    pub post: usize,
    /// Receptor, from the presynaptic population's type (Dale's law).
    pub receptor: Kind,
    /// Row starts, `n_pre + 1` entries.
    pub row_ptr: Vec<u64>,
    /// Postsynaptic neuron (local index) of each synapse.
    pub targets: Vec<u32>,
    /// Weight magnitudes (unit of the postsynaptic model).
    pub weights: Weights,
    /// Delays.
    pub delays: Delays,
    /// Largest delay in steps.
    pub max_delay: u32,
    /// Plasticity, if the projection is plastic.
    pub plastic: Option<Box<Plastic>>,
}

impl Projection {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// True when the projection has no synapse.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Row of presynaptic neuron `j` as a range into `targets`/`weights`.
    #[inline]
    pub fn row(&self, j: usize) -> std::ops::Range<usize> {
        self.row_ptr[j] as usize..self.row_ptr[j + 1] as usize
    }

    /// The part of row `j` whose targets lie in `lo..hi`.
    #[inline]
    pub fn row_in(&self, j: usize, lo: u32, hi: u32, full: bool) -> std::ops::Range<usize> {
        let r = self.row(j);
        if full {
            return r;
        }
        let t = &self.targets[r.clone()];
        let a = t.partition_point(|&x| x < lo);
        let b = a + t[a..].partition_point(|&x| x < hi);
        r.start + a..r.start + b
    }

    /// Ask the cache for synapses `r` (targets, weights and per-synapse delays) ahead of their
    /// use. Delivery walks the rows of the step's spikes, which lie far apart in memory once the
    /// synapses outgrow the cache: without this each row costs a memory latency (~100 ns). A hint
    /// only: no effect on results.
    #[inline(always)]
    pub fn prefetch_part(&self, r: std::ops::Range<usize>) {
        prefetch_range(&self.targets, r.clone());
        if let Weights::PerSynapse(w) = &self.weights {
            prefetch_range(w, r.clone());
        }
        if let Delays::PerSynapse(d) = &self.delays {
            prefetch_range(d, r);
        }
    }

    /// Ask the cache for the row pointers of row `j` (asked for before [`Self::prefetch_part`], so that the row's bounds are known in time).
    #[inline(always)]
    pub fn prefetch_row_ptr(&self, j: usize) {
        prefetch_range(&self.row_ptr, j..j + 2);
    }

    /// Weight of synapse `s`.
    #[inline]
    pub fn weight(&self, s: usize) -> f32 {
        self.weights.get(s)
    }

    /// Every synapse's weight in CSR order (a copy when the weight is uniform), for export.
    pub fn weight_values(&self) -> std::borrow::Cow<'_, [f32]> {
        match &self.weights {
            Weights::Uniform(w) => std::borrow::Cow::Owned(vec![*w; self.len()]),
            Weights::PerSynapse(v) => std::borrow::Cow::Borrowed(v),
        }
    }

    /// Every synapse's weight, writable; a uniform weight becomes one weight per synapse first.
    pub fn weights_mut(&mut self) -> &mut [f32] {
        if let Weights::Uniform(w) = self.weights {
            self.weights = Weights::PerSynapse(vec![w; self.targets.len()]);
        }
        match &mut self.weights {
            Weights::PerSynapse(v) => v,
            Weights::Uniform(_) => unreachable!(),
        }
    }

    /// Set every synapse's weight to `w`.
    pub fn set_all_weights(&mut self, w: f32) {
        match &mut self.weights {
            Weights::Uniform(x) => *x = w,
            Weights::PerSynapse(v) => v.iter_mut().for_each(|x| *x = w),
        }
    }

    /// Delay of synapse `s` in steps.
    #[inline]
    pub fn delay(&self, s: usize) -> u32 {
        match &self.delays {
            Delays::Constant(d) => *d,
            Delays::PerSynapse(v) => v[s] as u32,
        }
    }

    /// Smallest delay in steps (0 for an empty projection).
    pub fn min_delay(&self) -> u32 {
        match &self.delays {
            Delays::Constant(d) => *d,
            Delays::PerSynapse(v) => v.iter().copied().min().map_or(0, u32::from),
        }
    }

    /// The synapses onto postsynaptic neurons `lo..hi`: their indices in CSR order, and the row
    /// starts of the projection that keeps only them (rows stay sorted by target).
    fn kept(&self, lo: u32, hi: u32) -> (Vec<usize>, Vec<u64>) {
        let n_pre = self.row_ptr.len() - 1;
        let mut keep = Vec::new();
        let mut row_ptr = Vec::with_capacity(n_pre + 1);
        row_ptr.push(0u64);
        for j in 0..n_pre {
            keep.extend(self.row_in(j, lo, hi, false));
            row_ptr.push(keep.len() as u64);
        }
        (keep, row_ptr)
    }

    /// A copy of this (static) projection with only the synapses onto `lo..hi` (a rank's share,
    /// see [`crate::dist`]), built without copying the rest.
    pub fn share(&self, lo: u32, hi: u32) -> Projection {
        assert!(self.plastic.is_none(), "shares are cut before plasticity is set up");
        let (keep, row_ptr) = self.kept(lo, hi);
        self.cut(&keep, row_ptr)
    }

    /// The static part of this projection restricted to synapses `keep` (see [`Projection::kept`]).
    fn cut(&self, keep: &[usize], row_ptr: Vec<u64>) -> Projection {
        Projection {
            name: self.name.clone(),
            pre: self.pre,
            post: self.post,
            receptor: self.receptor,
            row_ptr,
            targets: keep.iter().map(|&s| self.targets[s]).collect(),
            weights: match &self.weights {
                Weights::Uniform(w) => Weights::Uniform(*w),
                Weights::PerSynapse(w) => Weights::PerSynapse(keep.iter().map(|&s| w[s]).collect()),
            },
            delays: match &self.delays {
                Delays::Constant(d) => Delays::Constant(*d),
                Delays::PerSynapse(v) => Delays::PerSynapse(keep.iter().map(|&s| v[s]).collect()),
            },
            max_delay: self.max_delay,
            plastic: None,
        }
    }

    /// Keep only the synapses onto postsynaptic neurons `lo..hi` ([`Projection::share`] in place);
    /// a plastic projection keeps its synapses' state and gets its index rebuilt.
    pub fn retain_targets(&mut self, lo: u32, hi: u32, n_post: usize) {
        let mut plastic = self.plastic.take();
        let (keep, row_ptr) = self.kept(lo, hi);
        *self = self.cut(&keep, row_ptr);
        if let Some(pl) = plastic.as_mut() {
            if !pl.state.is_empty() {
                pl.state = keep.iter().map(|&s| pl.state[s]).collect();
            }
            let (col_ptr, col_syn, packed, row_hint, hint_shift) = Plastic::index(&self.row_ptr, &self.targets, n_post);
            pl.col_ptr = col_ptr;
            pl.col_syn = col_syn;
            pl.packed = packed;
            pl.row_hint = row_hint;
            pl.hint_shift = hint_shift;
        }
        self.plastic = plastic;
    }

    /// Bytes used by the synapse arrays (targets, weights, delays, row pointers).
    pub fn bytes(&self) -> usize {
        let d = match &self.delays {
            Delays::Constant(_) => 0,
            Delays::PerSynapse(v) => v.len() * 2,
        };
        self.targets.len() * 4 + self.weights.bytes() + d + self.row_ptr.len() * 8 + self.plastic.as_ref().map_or(0, |p| p.bytes())
    }

    /// Presynaptic neuron of every synapse, in CSR order (for export).
    pub fn sources(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len());
        for j in 0..self.row_ptr.len() - 1 {
            let r = self.row(j);
            out.extend(std::iter::repeat_n(j as u32, r.len()));
        }
        out
    }
}

/// Prefetch the cache lines of `v[r]` into L1 (x86-64 `prefetcht0`; a hint, never a fault; no-op
/// on other targets).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn prefetch_range<T>(_v: &[T], _r: std::ops::Range<usize>) {}

/// Prefetch the cache lines of `v[r]` into L1 (x86-64 `prefetcht0`; a hint, never a fault; no-op
/// on other targets).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn prefetch_range<T>(v: &[T], r: std::ops::Range<usize>) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    if r.start >= r.end || r.end > v.len() {
        return;
    }
    let line = 64 / std::mem::size_of::<T>().max(1);
    let base = v.as_ptr();
    let mut s = r.start;
    // SAFETY: the addresses lie inside `v`; prefetching has no architectural effect.
    unsafe {
        while s < r.end {
            _mm_prefetch(base.add(s) as *const i8, _MM_HINT_T0);
            s += line;
        }
        _mm_prefetch(base.add(r.end - 1) as *const i8, _MM_HINT_T0);
    }
}

/// Delayed input of one receptor of a population: `slots × n` values, slot-major, so that the
/// input of one step is a contiguous slice that the neuron update reads and clears. Values are f32
/// like the weights they sum: the neuron loop is memory-bound, and f32 inputs cut its traffic by a
/// third while a sum of f32 weights loses nothing that the weights had.
#[derive(Clone, Debug)]
pub struct Ring {
    /// Values, `slots * n`.
    pub data: Vec<f32>,
    /// Number of slots (max delay + 1).
    pub slots: usize,
    /// Neurons.
    pub n: usize,
}

impl Ring {
    /// A ring for delays up to `max_delay` steps.
    pub fn new(n: usize, max_delay: u32) -> Self {
        let slots = max_delay as usize + 1;
        Ring {
            data: vec![0.0; slots * n],
            slots,
            n,
        }
    }

    /// Offset of the slot for step `step`.
    #[inline]
    pub fn slot_offset(&self, step: u64) -> usize {
        (step % self.slots as u64) as usize * self.n
    }
}
