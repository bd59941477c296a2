//! A small reference event loop standing in for the engine: per-neuron lazy traces read at t⁻,
//! one synapse, discretised spike trains, and `on_pre`/`on_post` calls at spike steps.

use hebb::plasticity::{Rule, TraceKind, TraceSpec};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Step of the discretised trains (ms).
pub const DT_MS: f64 = 0.1;

/// Up to this many readings per neuron (no allocation in the loop).
const MAX_TRACES: usize = 4;

/// Lazy per-neuron traces, evaluated from the last own spike (what the engine must do).
#[derive(Clone, Debug)]
pub struct NeuronTraces {
    specs: Vec<TraceSpec>,
    /// Value right after the last own spike.
    after_spike: [f64; MAX_TRACES],
    /// Time of the last own spike (ms); -inf: never.
    t_last: f64,
}

impl NeuronTraces {
    pub fn new(specs: &[TraceSpec]) -> Self {
        assert!(specs.len() <= MAX_TRACES);
        Self {
            specs: specs.to_vec(),
            after_spike: [0.0; MAX_TRACES],
            t_last: f64::NEG_INFINITY,
        }
    }

    /// Readings at `t` before any spike at `t` is counted (t⁻).
    #[inline]
    pub fn read(&self, t: f64, out: &mut [f64; MAX_TRACES]) {
        for (i, s) in self.specs.iter().enumerate() {
            out[i] = if self.t_last == f64::NEG_INFINITY {
                0.0
            } else {
                self.after_spike[i] * (-(t - self.t_last) / s.tau_ms).exp()
            };
        }
    }

    /// Own spike at `t`, given the readings at t⁻.
    #[inline]
    pub fn spike(&mut self, t: f64, before: &[f64; MAX_TRACES]) {
        for (i, s) in self.specs.iter().enumerate() {
            self.after_spike[i] = match s.kind {
                TraceKind::Accumulate => before[i] + 1.0,
                TraceKind::Nearest => 1.0,
            };
        }
        self.t_last = t;
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }
}

/// Which call comes first when pre and post spike in the same step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Order {
    PreFirst,
    PostFirst,
    /// A fair coin per coincidence.
    Random,
}

/// One synapse between two neurons, driven step by step.
pub struct Synapse<'a> {
    pub rule: &'a Rule,
    pub pre: NeuronTraces,
    pub post: NeuronTraces,
    pub w: f32,
    pub state: f32,
    t_last_event: f64,
    /// If set, every call gets this weight and `w` is not updated (drift measured at a fixed w).
    pub frozen: Option<f32>,
}

/// Weight change of one call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    pub t: f64,
    pub is_pre: bool,
    pub dw: f64,
}

impl<'a> Synapse<'a> {
    pub fn new(rule: &'a Rule, w: f32) -> Self {
        Self {
            rule,
            pre: NeuronTraces::new(rule.pre_traces()),
            post: NeuronTraces::new(rule.post_traces()),
            w,
            state: 0.0,
            t_last_event: 0.0,
            frozen: None,
        }
    }

    /// Processes a step at `t` (ms) in which the pre and/or post neuron spike; pushes the
    /// weight change of each call to `out` (frozen: change from the frozen weight).
    #[inline]
    pub fn step(&mut self, t: f64, pre_spike: bool, post_spike: bool, post_first: bool, out: &mut impl FnMut(Event)) {
        let mut xpre = [0.0; MAX_TRACES];
        let mut xpost = [0.0; MAX_TRACES];
        self.pre.read(t, &mut xpre);
        self.post.read(t, &mut xpost);
        let (np, nq) = (self.pre.len(), self.post.len());
        let calls: [(bool, bool); 2] = if post_first {
            [(post_spike, false), (pre_spike, true)]
        } else {
            [(pre_spike, true), (post_spike, false)]
        };
        for (spikes, is_pre) in calls {
            if !spikes {
                continue;
            }
            let elapsed = t - self.t_last_event;
            self.t_last_event = t;
            let w_in = self.frozen.unwrap_or(self.w);
            let w_out = if is_pre {
                self.rule.on_pre(w_in, &xpre[..np], &xpost[..nq], elapsed, &mut self.state)
            } else {
                self.rule.on_post(w_in, &xpre[..np], &xpost[..nq], elapsed, &mut self.state)
            };
            if self.frozen.is_none() {
                self.w = w_out;
            }
            out(Event {
                t,
                is_pre,
                dw: f64::from(w_out) - f64::from(w_in),
            });
        }
        if pre_spike {
            self.pre.spike(t, &xpre);
        }
        if post_spike {
            self.post.spike(t, &xpost);
        }
    }
}

/// Bernoulli(p = rate dt) spikes per step, drawn as geometric gaps: a discretised Poisson train.
pub struct PoissonSteps {
    ln_q: f64,
    next: u64,
}

impl PoissonSteps {
    pub fn new(rate_hz: f64, rng: &mut Xoshiro256PlusPlus) -> Self {
        let p = rate_hz * DT_MS * 1e-3;
        assert!(p > 0.0 && p < 1.0);
        let mut s = Self {
            ln_q: (-p).ln_1p(),
            next: 0,
        };
        s.next = s.gap(rng) - 1; // first spike: first success counting from step 0
        s
    }

    #[inline]
    fn gap(&self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        let u = 1.0 - rng.random::<f64>(); // (0, 1]
        1 + (u.ln() / self.ln_q).floor() as u64
    }

    /// Step index of the next spike, then advance.
    #[inline]
    pub fn pop(&mut self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        let k = self.next;
        self.next += self.gap(rng);
        k
    }

    #[inline]
    pub fn peek(&self) -> u64 {
        self.next
    }
}

/// Spike step lists of two independent discretised Poisson trains over `n_steps`.
pub fn poisson_pair(nu_pre: f64, nu_post: f64, n_steps: u64, seed: u64) -> (Vec<u64>, Vec<u64>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut a = PoissonSteps::new(nu_pre, &mut rng);
    let mut b = PoissonSteps::new(nu_post, &mut rng);
    let mut pre = Vec::new();
    let mut post = Vec::new();
    while a.peek() < n_steps {
        pre.push(a.pop(&mut rng));
    }
    while b.peek() < n_steps {
        post.push(b.pop(&mut rng));
    }
    (pre, post)
}

/// Runs given spike step lists through the synapse; returns every call's event.
pub fn run_trains(syn: &mut Synapse, pre: &[u64], post: &[u64], order: Order, seed: u64) -> Vec<Event> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut events = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < pre.len() || j < post.len() {
        let k = pre
            .get(i)
            .copied()
            .unwrap_or(u64::MAX)
            .min(post.get(j).copied().unwrap_or(u64::MAX));
        let ps = pre.get(i) == Some(&k);
        let qs = post.get(j) == Some(&k);
        i += usize::from(ps);
        j += usize::from(qs);
        let post_first = match order {
            Order::PreFirst => false,
            Order::PostFirst => true,
            Order::Random => rng.random::<bool>(),
        };
        syn.step(k as f64 * DT_MS, ps, qs, post_first, &mut |e| events.push(e));
    }
    events
}

/// Mean drift (weight units per second) with its standard error.
#[derive(Clone, Copy, Debug)]
pub struct Drift {
    pub mean: f64,
    pub se: f64,
    /// Simulated time counted (s).
    pub seconds: f64,
}

/// Length of one batch (s): far longer than any trace time constant (<= 0.714 s).
const BATCH_S: f64 = 200.0;

/// One synapse driven by independent discretised Poisson trains, weight frozen at `w0`.
///
/// Every call gets `w0` and its increment is recorded, so the estimate is the drift at `w0`
/// exactly, which is what `rate_limit(nu_pre, nu_post, w0)` predicts (no clipping, no weight
/// wandering). Same-step coincidences are ordered by a fair coin. The first 10 s are simulated
/// but not counted (traces start empty).
pub struct DriftSim<'a> {
    rng: Xoshiro256PlusPlus,
    a: PoissonSteps,
    b: PoissonSteps,
    syn: Synapse<'a>,
    /// End of the counted time so far (ms).
    t_end: f64,
}

impl<'a> DriftSim<'a> {
    pub fn new(rule: &'a Rule, nu_pre: f64, nu_post: f64, w0: f32, seed: u64) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let a = PoissonSteps::new(nu_pre, &mut rng);
        let b = PoissonSteps::new(nu_post, &mut rng);
        let mut syn = Synapse::new(rule, w0);
        syn.frozen = Some(w0);
        let mut sim = Self {
            rng,
            a,
            b,
            syn,
            t_end: 0.0,
        };
        sim.run_until(10_000.0, &mut |_| {});
        sim
    }

    fn run_until(&mut self, end_ms: f64, sink: &mut impl FnMut(f64)) {
        loop {
            let k = self.a.peek().min(self.b.peek());
            let t = k as f64 * DT_MS;
            if t >= end_ms {
                break;
            }
            let ps = self.a.peek() == k;
            let qs = self.b.peek() == k;
            if ps {
                self.a.pop(&mut self.rng);
            }
            if qs {
                self.b.pop(&mut self.rng);
            }
            let post_first = ps && qs && self.rng.random::<bool>();
            self.syn.step(t, ps, qs, post_first, &mut |e| sink(e.dw));
        }
        self.t_end = end_ms;
    }

    /// Drift (weight units per second) over the next `seconds` of simulated time.
    pub fn batch(&mut self, seconds: f64) -> f64 {
        let mut sum = 0.0;
        self.run_until(self.t_end + seconds * 1e3, &mut |dw| sum += dw);
        sum / seconds
    }
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Measures `d<w>/dt` at the frozen weight `w0` with a standard error close to `se_target`.
///
/// Standard error from **batch means** of the weight increments: consecutive batches of 200 s,
/// far longer than any trace time constant, so the batch drifts are (nearly) independent and
/// SE = sd(batch drifts) / sqrt(batches). Two stages, so that the SE is not biased by the choice
/// of the run length: a pilot run of 100 batches estimates the batch SD and fixes the number of
/// batches (50 to 5000, i.e. 1e4 to 1e6 s) of an independent second run whose mean and SE are
/// returned. The callers aim at 0.5 % of the predicted drift: small enough that a 3 % error is
/// 6 SE, large enough that the O(dt / 2 tau) bias of trace readings on the 0.1 ms grid
/// (discretised trains vs. the continuum rate limit; 0.1-0.5 % here) stays within 1 SE.
pub fn measure_drift(rule: &Rule, nu_pre: f64, nu_post: f64, w0: f32, se_target: f64, seed: u64) -> Drift {
    let mut pilot = DriftSim::new(rule, nu_pre, nu_post, w0, seed ^ 0x9e37_79b9_7f4a_7c15);
    let x: Vec<f64> = (0..100).map(|_| pilot.batch(BATCH_S)).collect();
    let sd = mean_se(&x).1 * (x.len() as f64).sqrt();
    let batches = ((sd / se_target).powi(2).ceil() as usize).clamp(50, 5000);
    let mut sim = DriftSim::new(rule, nu_pre, nu_post, w0, seed);
    let x: Vec<f64> = (0..batches).map(|_| sim.batch(BATCH_S)).collect();
    let (mean, se) = mean_se(&x);
    Drift {
        mean,
        se,
        seconds: batches as f64 * BATCH_S,
    }
}

/// Asserts the measured drift equals `rate_limit` within 3 % (relative to `scale`, normally
/// |predicted|) and within 4 standard errors, and that the run had the power for the 3 % check
/// (SE <= 1 % of `scale`, i.e. 3 % is at least 3 SE). Returns the relative error.
pub fn assert_drift(label: &str, d: Drift, predicted: f64, scale: f64) -> f64 {
    let err = d.mean - predicted;
    let rel = err / scale;
    let z = err / d.se;
    eprintln!(
        "{label}: predicted {predicted:.6e}  measured {:.6e} ± {:.2e} (SE, {:.0} s)  rel.err {:+.3}%  z {z:+.2}  SE/scale {:.3}%",
        d.mean,
        d.se,
        d.seconds,
        100.0 * rel,
        100.0 * d.se / scale
    );
    assert!(
        d.se <= 0.01 * scale,
        "{label}: SE {:.3e} too large for a 3 % check of {scale:.3e}",
        d.se
    );
    assert!(
        rel.abs() < 0.03,
        "{label}: measured {:.6e} vs predicted {predicted:.6e}: {:.2}% off",
        d.mean,
        100.0 * rel
    );
    assert!(
        z.abs() < 4.0,
        "{label}: measured {:.6e} vs predicted {predicted:.6e}: {z:.2} SE off",
        d.mean
    );
    rel
}
