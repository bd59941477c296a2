//! The rate rules validated against the spiking engine: the same plasticity rule (a model-file
//! `plasticity` table) drives a spiking network in [`crate::engine::Simulation`] and, through its
//! [`Rule::rate_limit`], the rate network of [`super::limits`]; these functions run both from the
//! same inputs and return what the tests and `examples/` compare.
//!
//! # Neurons
//! Output neurons are linear Poisson neurons ([`crate::neuron::poisson_linear`]):
//! `ν(t) = [rate0 + ν_ext + Σ_k J_k Σ_f ε(t - t_k^f)]` clamped to `[0, rate_max]`, with
//! `∫ε = 1`. For them the rate limit is exact up to the spike-spike correlations a neuron's own
//! inputs cause (Kempter et al. 1999; plasticity.md §4.3), which the rate side adds where they
//! matter ([`oja_drift`]):
//!
//! ```text
//! causal LTP:   + A+ τ+/(τ+ + τ_ε) · w_j ν_j                       (pre spike j raises ν_post for ~τ_ε)
//! shot noise:   - β w_j τ_o/(2(τ_o + τ_ε)) · Σ_k w_k² ν_k         (the input spikes make ν_post fluctuate)
//! ```
//!
//! Both are `O(1/(N ν τ))` relative to the Hebbian term (N inputs at rate ν). A LIF neuron would add
//! its non-linear gain on top; the linear Poisson neuron is the standard model for these limits.
//!
//! # Inputs
//! Input rates are drawn per sample from a factor model (no clipping needed: every rate stays
//! >= 0 by construction) and held for `sample_ms`:
//!
//! ```text
//! ν = m + L z + e ∘ η,   z_a, η_j independent, mean 0, variance 1
//! E[ν νᵀ] = m mᵀ + L Lᵀ + diag(e²)                 (the matrix whose eigenvectors Oja/PCA find)
//! ```
//!
//! `η` is uniform on `[-√3, √3]`; the factors `z` are uniform likewise ([`FactorDist::Uniform`]) or
//! standardised Bernoulli "on/off" events, `z = (b - p)/sqrt(p(1 - p))`, `b ~ Bernoulli(p)`
//! ([`FactorDist::Bernoulli`]): sparse events make the second moment less dominated by the mean
//! rates, so the principal vectors of different groups are far from parallel.
//!
//! Rates are non-negative, so the "principal components" are those of the *second moment*
//! `E[ν νᵀ]` (uncentred), which is what Oja's rule finds for inputs with a mean.
//!
//! # Limits validated (plasticity.md §4.5-4.6, §7)
//!
//! | experiment | rule | rate limit | measured |
//! |---|---|---|---|
//! | [`run_oja`] | pair LTP + post-triggered decay `β w o` | `dw = c ν_j ν_post - β τ_o w ν_post²` | cosine with the top eigenvector of `E[ννᵀ]`, `|w|` vs `sqrt(c/(β τ_o))`, trajectory vs rate |
//! | [`run_pca`] | same rule on feedforward (excitatory) and lateral (inhibitory) weights | `dW = c y xᵀ - β τ_o y² W`, `dM = c y yᵀ - β_M τ_o y² M` | projection error of the learned filter `(I + M)⁻¹ W` |
//! | [`run_hopfield`] | covariance configuration of pair STDP | `dW_ij = c (ν_j - ν̄)(ν_i - ν̄)` | correlation of `W_EE` with `Σ ξξᵀ`, pattern completion |
//!
//! # Parameters
//! Each experiment's parameter struct documents its fields with units; time constants in ms,
//! rates in Hz, durations in s, weights dimensionless (expected extra output spikes per input spike).
//! The values the tests and examples use:
//!
//! | name | unit | Oja | PCA | Hopfield | meaning |
//! |---|---|---|---|---|---|
//! | `a_plus` | 1 | 1e-4 | 8e-4 | set by `gain` | LTP amplitude `A+` (`c = A+ τ+`) |
//! | `tau_plus_ms` | ms | 10 | 10 | 20 | LTP window |
//! | `tau_o_ms` | ms | 10 | 10 | — | post trace of the decay term |
//! | `tau_eps_ms` | ms | 5 | 5 | 50 (E), 1 (I) | response kernel of the output neurons |
//! | `w_norm`, `s_w` | 1 | 0.3 | 0.05 | — | Oja norm `sqrt(c/(β τ_o))`; PCA feedforward scale `c/(β τ_o)` |
//! | `sample_ms` / `present_s` | ms / s | 200 | 200 | 2 s | how long each rate sample or pattern is held |
//! | `lateral_delay_ms` | ms | — | 15 | — | delay of the plastic lateral inhibition |
//! | `nu_bar_hz` | Hz | — | — | 100 | covariance reference rate; units fire at 0 or 2ν̄ |
//! | `gain` | 1 | — | — | 3 | Hopfield gain `k N` after storage, `k = T c ν̄²` |
//! | `baseline_in_k` | 1 | — | — | 3.5 sqrt(P) | E→E baseline `w0` in units of `k` |
//! | `dt_ms` | ms | 0.1 | 0.1 | 0.1 | integration step |
//!
//! # References
//! - Kempter R, Gerstner W, van Hemmen JL (1999) Phys Rev E 59:4498 (linear Poisson neuron, rate limits).
//! - Oja E (1982) J Math Biol 15:267. Pehlevan C, Hu T, Chklovskii DB (2015) Neural Comput 27:1461.
//! - Hopfield JJ (1982) PNAS 79:2554; (1984) PNAS 81:3088 (graded-response units).
//! - Amit DJ, Brunel N (1997) Cereb Cortex 7:237 (Hebbian terms on a baseline balanced by inhibition).
//! - plasticity.md §4.3, §4.5, §4.6, §7.
//!
//! [`Rule::rate_limit`]: crate::plasticity::Rule::rate_limit

use std::sync::atomic::AtomicBool;

use ndarray::{Array1, Array2, ArrayView1};
use rand::{Rng, RngExt, SeedableRng};

use super::limits::{oja_rule_toml, rule_from_toml, PairWindow};
use super::pca::{orthonormalize, projection_error, symmetric_eigen, top_eigenvectors};
use super::{RateError, Result};
use crate::engine::Simulation;
use crate::io::NullRecorder;
use crate::network::Network;
use crate::neuron::Dynamics;
use crate::plasticity::Rule;
use crate::synapse::Weights;

type Xoshiro = rand_xoshiro::Xoshiro256PlusPlus;

fn sim_err(e: crate::Error) -> RateError {
    RateError::Numerical(format!("spiking simulation: {e}"))
}

/// Distribution of the factors `z` (mean 0, variance 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FactorDist {
    /// Uniform on `[-√3, √3]`.
    Uniform,
    /// `(b - p)/sqrt(p(1 - p))` with `b ~ Bernoulli(p)`, `0 < p < 1`.
    Bernoulli(f64),
}

impl FactorDist {
    /// Smallest and largest value of `z`.
    fn range(self) -> (f64, f64) {
        match self {
            FactorDist::Uniform => (-SQRT3, SQRT3),
            FactorDist::Bernoulli(p) => (-(p / (1.0 - p)).sqrt(), ((1.0 - p) / p).sqrt()),
        }
    }

    fn sample<R: Rng + ?Sized>(self, rng: &mut R) -> f64 {
        match self {
            FactorDist::Uniform => SQRT3 * (2.0 * rng.random::<f64>() - 1.0),
            FactorDist::Bernoulli(p) => {
                let b = if rng.random::<f64>() < p { 1.0 } else { 0.0 };
                (b - p) / (p * (1.0 - p)).sqrt()
            }
        }
    }
}

/// Input rates `ν = m + L z + e ∘ η` (module doc), `N` inputs and `q` factors.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorInputs {
    /// Mean rates `m` (Hz, length N).
    pub mean: Array1<f64>,
    /// Loadings `L` (Hz, N × q).
    pub loadings: Array2<f64>,
    /// Private fluctuation amplitudes `e` (Hz, length N).
    pub private: Array1<f64>,
    /// Distribution of the factors.
    pub dist: FactorDist,
}

const SQRT3: f64 = 1.732_050_807_568_877_2;

impl FactorInputs {
    /// Checks shapes and that every rate the model can produce is >= 0.
    pub fn new(mean: Array1<f64>, loadings: Array2<f64>, private: Array1<f64>, dist: FactorDist) -> Result<Self> {
        let n = mean.len();
        if let FactorDist::Bernoulli(p) = dist {
            if !(p > 0.0 && p < 1.0) {
                return Err(RateError::invalid("dist", format!("Bernoulli({p}): p must be in (0, 1)")));
            }
        }
        let (zlo, zhi) = dist.range();
        if loadings.nrows() != n || private.len() != n || n == 0 {
            return Err(RateError::invalid(
                "loadings",
                format!("shapes {:?} and {} must match mean length {n} (> 0)", loadings.dim(), private.len()),
            ));
        }
        super::check_finite("mean", mean.iter())?;
        super::check_finite("loadings", loadings.iter())?;
        super::check_finite("private", private.iter())?;
        for j in 0..n {
            let low = mean[j] + loadings.row(j).iter().map(|&l| (l * zlo).min(l * zhi)).sum::<f64>() - SQRT3 * private[j].abs();
            if low < 0.0 {
                return Err(RateError::invalid(
                    "mean",
                    format!("input {j}: the lowest possible rate is {low} Hz; must be >= 0 (raise the mean or lower the fluctuations)"),
                ));
            }
        }
        Ok(FactorInputs {
            mean,
            loadings,
            private,
            dist,
        })
    }

    /// Number of inputs.
    pub fn n(&self) -> usize {
        self.mean.len()
    }

    /// One sample of rates (Hz).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Array1<f64> {
        let z = Array1::from_shape_fn(self.loadings.ncols(), |_| self.dist.sample(rng));
        let mut x = &self.mean + &self.loadings.dot(&z);
        for (xj, ej) in x.iter_mut().zip(self.private.iter()) {
            *xj += ej * SQRT3 * (2.0 * rng.random::<f64>() - 1.0);
        }
        x
    }

    /// `E[ν νᵀ] = m mᵀ + L Lᵀ + diag(e²)` (Hz²).
    pub fn second_moment(&self) -> Array2<f64> {
        let m = self.mean.view().insert_axis(ndarray::Axis(1));
        let mut c = m.dot(&m.t()) + self.loadings.dot(&self.loadings.t());
        for (j, e) in self.private.iter().enumerate() {
            c[[j, j]] += e * e;
        }
        c
    }
}

/// Sets the rates of a `poisson_source` population.
fn set_source_rates(net: &mut Network, pop: usize, rates: &[f64]) {
    if let Dynamics::PoissonSource(src) = &mut net.populations[pop].dynamics {
        src.set_rates(rates);
    }
}

/// Weights of projection `proj` as of now ([`Network::weights_now`]) as a dense `post × pre`
/// matrix (absent synapses are 0).
pub fn dense_weights(net: &Network, proj: usize) -> Array2<f64> {
    let pr = &net.projections[proj];
    let now = net.weights_now(proj);
    let mut w = Array2::zeros((net.populations[pr.post].size, net.populations[pr.pre].size));
    for j in 0..pr.row_ptr.len() - 1 {
        for s in pr.row_ptr[j] as usize..pr.row_ptr[j + 1] as usize {
            w[[pr.targets[s] as usize, j]] = f64::from(now[s]);
        }
    }
    w
}

/// Overwrites the weights of the existing synapses of `proj` from a dense `post × pre` matrix.
fn set_dense_weights(net: &mut Network, proj: usize, w: &Array2<f64>) {
    let pr = &mut net.projections[proj];
    pr.weights_mut(); // one weight per synapse from now on
    let Weights::PerSynapse(ws) = &mut pr.weights else { unreachable!() };
    for j in 0..pr.row_ptr.len() - 1 {
        for s in pr.row_ptr[j] as usize..pr.row_ptr[j + 1] as usize {
            ws[s] = w[[pr.targets[s] as usize, j]] as f32;
        }
    }
}

fn run_steps(sim: &mut Simulation, steps: u64) -> Result<()> {
    sim.run(steps, &mut NullRecorder, &AtomicBool::new(false), |_| {})
        .map_err(sim_err)?;
    Ok(())
}

fn build(text: &str) -> Result<Simulation> {
    let (spec, _) = crate::spec::parse(text, "rate-validation.toml".as_ref(), &[]).map_err(sim_err)?;
    let net = crate::build::build(&spec).map_err(sim_err)?;
    Simulation::new(net, 1).map_err(sim_err)
}

/// Cosine of the angle between two vectors.
pub fn cosine(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.dot(&b) / (a.dot(&a).sqrt() * b.dot(&b).sqrt())
}

// ------------------------------------------------------------------------------------------------
// Oja
// ------------------------------------------------------------------------------------------------

/// One spiking neuron learning with pair LTP and the post-triggered decay (plasticity.md §4.6).
#[derive(Clone, Debug)]
pub struct OjaParams {
    /// Input rate statistics.
    pub inputs: FactorInputs,
    /// LTP amplitude `A+` (weight units; the learning rate: `c = A+ τ+`).
    pub a_plus: f64,
    /// LTP window time constant `τ+` (ms).
    pub tau_plus_ms: f64,
    /// Time constant of the post trace `o` (ms).
    pub tau_o_ms: f64,
    /// Response-kernel time constant `τ_ε` of the linear Poisson neuron (ms).
    pub tau_eps_ms: f64,
    /// Target weight norm `sqrt(c/(β τ_o))`; sets `β`.
    pub w_norm: f64,
    /// How long each rate sample is held (ms, a multiple of `dt_ms`).
    pub sample_ms: f64,
    /// Number of samples.
    pub samples: usize,
    /// Record the weights every this many samples.
    pub record_every: usize,
    /// Integration step (ms).
    pub dt_ms: f64,
    /// Initial weights (length N).
    pub w0: Array1<f64>,
    /// Seed of the spike trains and of the rate samples.
    pub seed: u64,
}

impl OjaParams {
    /// `β = c/(|w|² τ_o)` for the target norm (`c = A+ τ+`).
    pub fn beta(&self) -> f64 {
        self.a_plus * self.tau_plus_ms / (self.w_norm * self.w_norm * self.tau_o_ms)
    }

    /// The plasticity table (TOML) both sides use.
    pub fn rule_toml(&self) -> Result<String> {
        let window = PairWindow {
            a_plus: self.a_plus,
            tau_plus_ms: self.tau_plus_ms,
            a_minus: 0.0,
            tau_minus_ms: self.tau_plus_ms,
        };
        // w_max far above any weight the rule reaches: the bound never acts.
        oja_rule_toml(window, self.beta(), self.tau_o_ms, 100.0 * self.w_norm)
    }
}

/// Weight trajectories of [`run_oja`].
#[derive(Clone, Debug)]
pub struct OjaRun {
    /// Times of the records (s).
    pub times_s: Vec<f64>,
    /// Spiking weights at each record.
    pub spiking: Vec<Array1<f64>>,
    /// Rate weights ([`oja_drift`], same samples) at each record.
    pub rate: Vec<Array1<f64>>,
    /// Top eigenvector of `E[ν νᵀ]` (unit norm, non-negative).
    pub pc: Array1<f64>,
    /// Its eigenvalue (Hz²).
    pub lambda: f64,
    /// Mean output rate over the last quarter of the run (Hz).
    pub out_rate_hz: f64,
}

/// The causal pair factor `∫ e^{-s/τ+} ε(s) ds = τ+/(τ+ + τ_ε)` as the engine samples it: an
/// input spike at step 0 reaches the neuron at step `d` (the projection delay), raises the rate
/// of steps `d + n`, n >= 1, by `J (e^{h/τ_ε} - 1)/h · e^{-n h/τ_ε}`, and an output spike at
/// step `d + n` reaches the synapse `d` steps later, so the pair interval is `2d + n` steps:
///
/// ```text
/// Σ_{n>=1} (e^{a} - 1) e^{-n a} e^{-(2d + n) b},   a = h/τ_ε, b = h/τ+
/// ```
///
/// (0.650 instead of 0.667 for h = 0.1, τ_ε = 5, τ+ = 10 ms, d = 1: the 2.5 % matter for the
/// direction of `w` at the precision of the bias test).
pub fn causal_pair_factor(h_ms: f64, tau_plus_ms: f64, tau_eps_ms: f64, d_steps: u64) -> f64 {
    let (a, b) = (h_ms / tau_eps_ms, h_ms / tau_plus_ms);
    let q = (-(a + b)).exp();
    a.exp_m1() * (-(2.0 * d_steps as f64) * b).exp() * q / (1.0 - q)
}

/// Drift `dw/dt` (per s) of the Oja configuration for the linear Poisson neuron at input rates
/// `nu` (Hz): the rule's rate limit with `ν_post = w·ν`, plus, if `correlations`, the two
/// spike-correlation terms of the module doc (the causal one with [`causal_pair_factor`] for the
/// delay of one step that [`run_oja`] uses).
pub fn oja_drift(rule: &Rule, p: &OjaParams, w: ArrayView1<f64>, nu: ArrayView1<f64>, correlations: bool) -> Array1<f64> {
    let nu_post = w.dot(&nu);
    let (to, te) = (p.tau_o_ms * 1e-3, p.tau_eps_ms * 1e-3);
    let causal = causal_pair_factor(p.dt_ms, p.tau_plus_ms, p.tau_eps_ms, 1);
    let shot: f64 = w.iter().zip(nu.iter()).map(|(wk, nk)| wk * wk * nk).sum();
    let beta = p.beta();
    Array1::from_shape_fn(w.len(), |j| {
        let mut d = rule.rate_limit(nu[j], nu_post, w[j]);
        if correlations {
            d += p.a_plus * causal * w[j] * nu[j];
            d -= beta * w[j] * to / (2.0 * (to + te)) * shot;
        }
        d
    })
}

/// Runs the spiking neuron and the rate rule on the same rate samples.
pub fn run_oja(p: &OjaParams) -> Result<OjaRun> {
    let n = p.inputs.n();
    if p.w0.len() != n {
        return Err(RateError::invalid("w0", format!("length {} != {n} inputs", p.w0.len())));
    }
    let steps_per = (p.sample_ms / p.dt_ms).round() as u64;
    if steps_per == 0 || !crate::neuron::is_multiple(p.sample_ms, p.dt_ms) {
        return Err(RateError::invalid(
            "sample_ms",
            format!("{}: must be a positive multiple of dt = {}", p.sample_ms, p.dt_ms),
        ));
    }
    let rule_toml = p.rule_toml()?;
    let rule = rule_from_toml(&rule_toml)?;
    let text = format!(
        "[simulation]\ndt = {dt:?}\nduration = {dur:?}\nseed = {seed}\n\
         [[population]]\nname = \"in\"\ntype = \"excitatory\"\nsize = {n}\nneuron = {{ model = \"poisson_source\", rate = 0.0 }}\n\
         [[population]]\nname = \"out\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"poisson_linear\", rate0 = 0.0, tau = {te:?} }}\n\
         [[projection]]\nname = \"ff\"\npre = \"in\"\npost = \"out\"\nconnectivity = {{ rule = \"all_to_all\" }}\nweight = 0.0\ndelay = {dt:?}\n\
         [projection.plasticity]\n{rule_toml}\n\
         [record]\nspikes = \"none\"\nweights = \"none\"\n",
        dt = p.dt_ms,
        dur = p.sample_ms,
        seed = p.seed,
        te = p.tau_eps_ms,
    );
    let mut sim = build(&text)?;
    set_dense_weights(sim.net_mut(), 0, &p.w0.view().insert_axis(ndarray::Axis(0)).to_owned());
    let c = p.inputs.second_moment();
    let (vals, vecs) = symmetric_eigen(c.view())?;
    let mut pc = vecs.column(0).to_owned();
    if pc.sum() < 0.0 {
        pc.mapv_inplace(|v| -v);
    }
    let mut rng = Xoshiro::seed_from_u64(p.seed ^ 0x0a1a);
    let mut w_rate = p.w0.clone();
    let sample_s = p.sample_ms * 1e-3;
    // The rate side integrates each sample with sub-steps short against the learning time.
    let sub = 10;
    let mut out = OjaRun {
        times_s: vec![0.0],
        spiking: vec![p.w0.clone()],
        rate: vec![p.w0.clone()],
        pc,
        lambda: vals[0],
        out_rate_hz: 0.0,
    };
    let tail_from = p.samples - p.samples / 4;
    let mut tail_spikes = 0u64;
    for s in 0..p.samples {
        let nu = p.inputs.sample(&mut rng);
        set_source_rates(sim.net_mut(), 0, nu.as_slice().expect("contiguous"));
        let before = sim.stats[1].count(0);
        run_steps(&mut sim, steps_per)?;
        if s >= tail_from {
            tail_spikes += u64::from(sim.stats[1].count(0) - before);
        }
        for _ in 0..sub {
            let d = oja_drift(&rule, p, w_rate.view(), nu.view(), true);
            w_rate.scaled_add(sample_s / sub as f64, &d);
        }
        if (s + 1) % p.record_every == 0 || s + 1 == p.samples {
            out.times_s.push((s + 1) as f64 * sample_s);
            out.spiking.push(dense_weights(sim.net(), 0).row(0).to_owned());
            out.rate.push(w_rate.clone());
        }
    }
    out.out_rate_hz = tail_spikes as f64 / ((p.samples - tail_from) as f64 * sample_s);
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// PCA
// ------------------------------------------------------------------------------------------------

/// `k` spiking outputs with plastic feedforward excitation and plastic lateral inhibition
/// learning the principal subspace (similarity matching, plasticity.md §7, with the Oja-type
/// spiking terms of §4.6 on both projections).
#[derive(Clone, Debug)]
pub struct PcaParams {
    /// Input rate statistics.
    pub inputs: FactorInputs,
    /// Number of outputs `k`.
    pub k: usize,
    /// LTP amplitude of the feedforward rule (`c = A+ τ+`).
    pub a_plus: f64,
    /// LTP amplitude of the lateral rule.
    pub a_plus_lateral: f64,
    /// LTP window time constant (ms), both rules.
    pub tau_plus_ms: f64,
    /// Post-trace time constant (ms), both rules.
    pub tau_o_ms: f64,
    /// Response-kernel time constant of the outputs (ms).
    pub tau_eps_ms: f64,
    /// Feedforward scale `s_W = c/(β τ_o)`: the learned filter rows have norm `sqrt(s_W)`.
    pub s_w: f64,
    /// Delay of the lateral inhibition (ms): the pair interval of an inhibitory spike and the
    /// output spikes it suppresses is twice this delay (transmission, then the dendritic delay of
    /// the plastic synapse; README "Plasticity semantics"), so a delay of a few `τ+` keeps that
    /// spike-spike correlation, `-A+ τ+/(τ+ + τ_ε) e^{-2d/τ+} M_ij ν_j`, out of the LTP window.
    pub lateral_delay_ms: f64,
    /// Rate-sample duration (ms).
    pub sample_ms: f64,
    /// Number of samples.
    pub samples: usize,
    /// Record every this many samples.
    pub record_every: usize,
    /// Integration step (ms).
    pub dt_ms: f64,
    /// Seed.
    pub seed: u64,
}

/// Result of [`run_pca`].
#[derive(Clone, Debug)]
pub struct PcaRun {
    /// Record times (s).
    pub times_s: Vec<f64>,
    /// Projection error of the spiking filter's row span at each record.
    pub spiking_error: Vec<f64>,
    /// Projection error of the rate network (same rule limits, same samples).
    pub rate_error: Vec<f64>,
    /// Final spiking feedforward weights (`k × N`) and lateral weights (`k × k`).
    pub w: Array2<f64>,
    /// Final lateral weights.
    pub m: Array2<f64>,
    /// Final rate-network feedforward weights.
    pub w_rate: Array2<f64>,
    /// Final rate-network lateral weights.
    pub m_rate: Array2<f64>,
    /// Mean output rates over the last quarter (Hz).
    pub out_rates_hz: Vec<f64>,
    /// Projection error of the spiking filter built from the weights averaged over the records of
    /// the last quarter of the run (averaging removes most of the spike noise of the weights).
    pub spiking_tail_error: f64,
}

/// Projection error of the row span of `f` (`k × N`) against the top-`k` eigenvectors `v`
/// (`N × k`): the rows are orthonormalised first, so only the subspace counts.
pub fn subspace_error(v: &Array2<f64>, f: &Array2<f64>) -> Result<f64> {
    let q = orthonormalize(f.t())?;
    projection_error(v.view(), q.view())
}

/// Filter `(I + M)⁻¹ W` (k × N).
fn pca_filter(w: &Array2<f64>, m: &Array2<f64>) -> Result<Array2<f64>> {
    let k = w.nrows();
    let mut cols = Array2::zeros(w.dim());
    let a = Array2::from_shape_fn((k, k), |(i, j)| if i == j { 1.0 } else { 0.0 }) + m;
    for c in 0..w.ncols() {
        let y = solve(a.clone(), w.column(c).to_owned())?;
        cols.column_mut(c).assign(&y);
    }
    Ok(cols)
}

fn solve(mut a: Array2<f64>, mut b: Array1<f64>) -> Result<Array1<f64>> {
    let k = b.len();
    for col in 0..k {
        let piv = (col..k)
            .max_by(|&i, &j| a[[i, col]].abs().total_cmp(&a[[j, col]].abs()))
            .unwrap_or(col);
        if a[[piv, col]].abs() < 1e-14 {
            return Err(RateError::Numerical("I + M is singular".into()));
        }
        for j in 0..k {
            a.swap([piv, j], [col, j]);
        }
        b.swap(piv, col);
        for r in col + 1..k {
            let f = a[[r, col]] / a[[col, col]];
            for j in col..k {
                a[[r, j]] -= f * a[[col, j]];
            }
            b[r] -= f * b[col];
        }
    }
    for r in (0..k).rev() {
        let s: f64 = (r + 1..k).map(|j| a[[r, j]] * b[j]).sum();
        b[r] = (b[r] - s) / a[[r, r]];
    }
    Ok(b)
}

/// Runs the spiking network and its rate limit on the same samples.
pub fn run_pca(p: &PcaParams) -> Result<PcaRun> {
    let n = p.inputs.n();
    let k = p.k;
    if k == 0 || k >= n {
        return Err(RateError::invalid("k", format!("{k}: must be in 1..{n}")));
    }
    let steps_per = (p.sample_ms / p.dt_ms).round() as u64;
    if steps_per == 0 || !crate::neuron::is_multiple(p.sample_ms, p.dt_ms) {
        return Err(RateError::invalid(
            "sample_ms",
            format!("{}: must be a positive multiple of dt = {}", p.sample_ms, p.dt_ms),
        ));
    }
    let window = |a: f64| PairWindow {
        a_plus: a,
        tau_plus_ms: p.tau_plus_ms,
        a_minus: 0.0,
        tau_minus_ms: p.tau_plus_ms,
    };
    // Feedforward: β = c/(s_W τ_o). Lateral: s_M = 1 (β_M τ_o = c_M), the only scale at which
    // the fixed points include rotations of the principal basis (needed for non-negative W).
    let beta_w = p.a_plus * p.tau_plus_ms / (p.s_w * p.tau_o_ms);
    let beta_m = p.a_plus_lateral * p.tau_plus_ms / p.tau_o_ms;
    let w_max = 100.0;
    let ff_toml = oja_rule_toml(window(p.a_plus), beta_w, p.tau_o_ms, w_max)?;
    let lat_toml = oja_rule_toml(window(p.a_plus_lateral), beta_m, p.tau_o_ms, w_max)?;
    let (ff_rule, lat_rule) = (rule_from_toml(&ff_toml)?, rule_from_toml(&lat_toml)?);
    let text = format!(
        "[simulation]\ndt = {dt:?}\nduration = {dur:?}\nseed = {seed}\n\
         [[population]]\nname = \"in\"\ntype = \"excitatory\"\nsize = {n}\nneuron = {{ model = \"poisson_source\", rate = 0.0 }}\n\
         [[population]]\nname = \"out\"\ntype = \"inhibitory\"\nsize = {k}\nneuron = {{ model = \"poisson_linear\", rate0 = 0.0, tau = {te:?} }}\n\
         [[projection]]\nname = \"ff\"\npre = \"in\"\npost = \"out\"\nconnectivity = {{ rule = \"all_to_all\" }}\nweight = 0.0\ndelay = {dt:?}\n\
         [projection.plasticity]\n{ff_toml}\n\
         [[projection]]\nname = \"lateral\"\npre = \"out\"\npost = \"out\"\nconnectivity = {{ rule = \"all_to_all\" }}\nweight = 0.0\ndelay = {ld:?}\n\
         [projection.plasticity]\n{lat_toml}\n\
         [record]\nspikes = \"none\"\nweights = \"none\"\n",
        dt = p.dt_ms,
        dur = p.sample_ms,
        seed = p.seed,
        te = p.tau_eps_ms,
        ld = p.lateral_delay_ms,
    );
    let mut sim = build(&text)?;
    let mut rng = Xoshiro::seed_from_u64(p.seed ^ 0x9ca);
    // Random non-negative initial filter of row norm ~ sqrt(s_W), no lateral inhibition.
    let scale = (p.s_w / n as f64).sqrt();
    let w0 = Array2::from_shape_fn((k, n), |_| scale * 2.0 * rng.random::<f64>());
    let m0 = Array2::<f64>::zeros((k, k));
    set_dense_weights(sim.net_mut(), 0, &w0);
    set_dense_weights(sim.net_mut(), 1, &m0);
    let v = top_eigenvectors(p.inputs.second_moment().view(), k)?;
    let (mut w_r, mut m_r) = (w0.clone(), m0.clone());
    let sample_s = p.sample_ms * 1e-3;
    let sub = 10;
    let mut out = PcaRun {
        times_s: vec![0.0],
        spiking_error: vec![subspace_error(&v, &pca_filter(&w0, &m0)?)?],
        rate_error: vec![subspace_error(&v, &pca_filter(&w0, &m0)?)?],
        w: w0.clone(),
        m: m0.clone(),
        w_rate: w0.clone(),
        m_rate: m0.clone(),
        out_rates_hz: vec![0.0; k],
        spiking_tail_error: f64::NAN,
    };
    let (mut w_sum, mut m_sum, mut n_sum) = (Array2::<f64>::zeros((k, n)), Array2::<f64>::zeros((k, k)), 0usize);
    let tail_from = p.samples - p.samples / 4;
    let before_tail = |sim: &Simulation| sim.stats[1].counts();
    let mut tail0 = None;
    for s in 0..p.samples {
        if s == tail_from {
            tail0 = Some(before_tail(&sim));
        }
        let nu = p.inputs.sample(&mut rng);
        set_source_rates(sim.net_mut(), 0, nu.as_slice().expect("contiguous"));
        run_steps(&mut sim, steps_per)?;
        for _ in 0..sub {
            let y = pca_filter(&w_r, &m_r)?.dot(&nu).mapv(|v| v.max(0.0));
            let h = sample_s / sub as f64;
            super::limits::rate_rule_step(&ff_rule, &mut w_r, y.view(), nu.view(), h, super::limits::Bounds::Rule, false)?;
            super::limits::rate_rule_step(&lat_rule, &mut m_r, y.view(), y.view(), h, super::limits::Bounds::Rule, true)?;
        }
        if (s + 1) % p.record_every == 0 || s + 1 == p.samples {
            let (w, m) = (dense_weights(sim.net(), 0), dense_weights(sim.net(), 1));
            if s >= tail_from {
                w_sum += &w;
                m_sum += &m;
                n_sum += 1;
            }
            out.times_s.push((s + 1) as f64 * sample_s);
            out.spiking_error.push(subspace_error(&v, &pca_filter(&w, &m)?)?);
            out.rate_error.push(subspace_error(&v, &pca_filter(&w_r, &m_r)?)?);
        }
    }
    let t0 = tail0.unwrap_or_else(|| vec![0; k]);
    let tail_s = (p.samples - tail_from) as f64 * sample_s;
    out.out_rates_hz = sim.stats[1]
        .counts()
        .iter()
        .zip(t0)
        .map(|(&c, c0)| (c - c0) as f64 / tail_s)
        .collect();
    out.w = dense_weights(sim.net(), 0);
    out.m = dense_weights(sim.net(), 1);
    if n_sum > 0 {
        out.spiking_tail_error = subspace_error(&v, &pca_filter(&(w_sum / n_sum as f64), &(m_sum / n_sum as f64))?)?;
    }
    out.w_rate = w_r;
    out.m_rate = m_r;
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// Hopfield
// ------------------------------------------------------------------------------------------------

/// An E/I spiking network that learns rate patterns with the covariance configuration of pair
/// STDP (plasticity.md §4.5) and completes them from corrupted cues.
///
/// Pattern units are `n` excitatory graded-response linear Poisson neurons with rate
/// `clamp(ν̄ + ext + u, 0, 2ν̄)`: the stored pattern `ξ` is the rate pattern `ν̄(1 + ξ)` (contrast
/// `a = 1`). E→E weights start at a baseline `w0` and learn `ΔW_ij = T c (ν_i - ν̄)(ν_j - ν̄) =
/// T c ν̄² ξ_i ξ_j` per presentation of duration `T`, so `W = w0 + k Σ_μ ξ^μ ξ^μᵀ` with
/// `k = T c ν̄²`, non-negative while `w0 > k max|Σ_μ ξ_i ξ_j|` (Dale). An inhibitory population of
/// fast linear Poisson neurons (rate `w_EI Σ_j ν_j`) feeds back `w_IE` so that
/// `n_I w_IE w_EI = w0`: it cancels the baseline's mean excitation (Amit & Brunel 1997), leaving
/// the field `h_i = k Σ_μ ξ_i^μ Σ_j ξ_j^μ ν_j`, the Hopfield field up to a positive factor
/// (patterns are balanced, `Σ_j ξ_j = 0`, so the `ν̄` part of `ν_j` drops out).
///
/// During learning an external drive of `±drive` Hz clamps each unit at 0 or `2ν̄`: its spikes then
/// do not depend on its inputs, so the rate limit holds without spike-correlation terms.
#[derive(Clone, Debug)]
pub struct HopfieldParams {
    /// Number of excitatory pattern units.
    pub n: usize,
    /// Number of inhibitory neurons.
    pub n_inh: usize,
    /// Stored patterns (`P × n`, ±1, balanced rows).
    pub patterns: Array2<i8>,
    /// Reference rate `ν̄` (Hz); units fire at 0 or `2ν̄`.
    pub nu_bar_hz: f64,
    /// Kernel time constant of the pattern units (ms).
    pub tau_eps_ms: f64,
    /// Kernel time constant of the inhibitory neurons (ms; short: fast inhibition).
    pub tau_inh_ms: f64,
    /// LTP time constant `τ+` (ms) of the rule (`A-` = 0; the covariance terms do the depression).
    pub tau_plus_ms: f64,
    /// Hopfield gain `k n` reached after storing the patterns (sets `A+ = k/(τ+ ν̄² T)`).
    pub gain: f64,
    /// Baseline `w0` in units of `k` (must exceed the largest `|Σ_μ ξ_i ξ_j|`).
    pub baseline_in_k: f64,
    /// Presentation time per pattern (s).
    pub present_s: f64,
    /// External drive during learning and cueing (Hz, ±).
    pub drive_hz: f64,
    /// Cue duration (ms) and free-running time after it (ms); the state is read from the spike
    /// counts of the last half of the free time.
    pub cue_ms: f64,
    /// Free-running time after the cue (ms).
    pub free_ms: f64,
    /// Fraction of cue bits flipped.
    pub flip: f64,
    /// Integration step (ms).
    pub dt_ms: f64,
    /// Seed.
    pub seed: u64,
}

impl HopfieldParams {
    /// The configuration the validation uses (`tests/it/rate_spiking.rs`) for `patterns`
    /// (`P × N`): N excitatory and N inhibitory neurons, ν̄ = 100 Hz, τ_ε = 50 ms, τ_inh = 1 ms,
    /// τ+ = 20 ms, gain 3, baseline w0 = 3.5 √P k (a binomial tail of the |Σ_μ ξξ| reaches it),
    /// 2 s per pattern under a ±500 Hz drive, 100 ms cues with 20 % flipped bits, 400 ms of free
    /// running, dt = 0.1 ms.
    pub fn validated(patterns: Array2<i8>, seed: u64) -> Self {
        let (p, n) = patterns.dim();
        HopfieldParams {
            n,
            n_inh: n,
            patterns,
            nu_bar_hz: 100.0,
            tau_eps_ms: 50.0,
            tau_inh_ms: 1.0,
            tau_plus_ms: 20.0,
            gain: 3.0,
            baseline_in_k: 3.5 * (p as f64).sqrt(),
            present_s: 2.0,
            drive_hz: 500.0,
            cue_ms: 100.0,
            free_ms: 400.0,
            flip: 0.2,
            dt_ms: 0.1,
            seed,
        }
    }
}

/// Result of [`run_hopfield`].
#[derive(Clone, Debug)]
pub struct HopfieldRun {
    /// Learned E→E weights (`n × n`, diagonal 0).
    pub w_spiking: Array2<f64>,
    /// Couplings learned by the rate limit of the same rule (`T c ν̄² Σ_μ ξξᵀ`, diagonal 0).
    pub w_rate: Array2<f64>,
    /// Baseline `w0`.
    pub w0: f64,
    /// Pearson correlation of the spiking weights with `Σ_μ ξ^μ ξ^μᵀ` (off-diagonal).
    pub r_hebb: f64,
    /// Least-squares slope of `W_spiking - w0` against `W_rate` (1 = the rate limit's amplitude).
    pub slope: f64,
    /// Smallest learned weight.
    pub w_min: f64,
    /// Overlap of each cue with its pattern.
    pub cue_overlaps: Vec<f64>,
    /// Overlap after the spiking network ran from the cue.
    pub spiking_overlaps: Vec<f64>,
    /// Overlap after the rate (classic Hopfield) network relaxed from the same cue.
    pub rate_overlaps: Vec<f64>,
    /// Mean rate of the pattern units during recall (Hz).
    pub recall_rate_hz: f64,
    /// State read from the spiking network after each cue (+1: rate above ν̄).
    pub states: Vec<Array1<i8>>,
}

/// `P × n` balanced ±1 patterns (each row has `n/2` entries +1; `n` even), random.
pub fn balanced_patterns<R: Rng + ?Sized>(p: usize, n: usize, rng: &mut R) -> Result<Array2<i8>> {
    if n == 0 || !n.is_multiple_of(2) {
        return Err(RateError::invalid("n", format!("{n}: must be even and > 0")));
    }
    let mut out = Array2::zeros((p, n));
    for mut row in out.outer_iter_mut() {
        let mut v: Vec<i8> = (0..n).map(|i| if i < n / 2 { 1 } else { -1 }).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            v.swap(i, j);
        }
        row.assign(&Array1::from(v));
    }
    Ok(out)
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

fn set_ext(net: &mut Network, pop: usize, ext: Vec<f64>) {
    if let Some(c) = net.populations[pop].dynamics.common_mut() {
        c.ext = Some(ext);
    }
}

/// Learns the patterns in the spiking network, then cues each pattern and reads the state the
/// network settles in; the rate network learns with the same rule's rate limit and is cued alike.
pub fn run_hopfield(p: &HopfieldParams) -> Result<HopfieldRun> {
    let (np, n) = p.patterns.dim();
    if n != p.n || np == 0 {
        return Err(RateError::invalid(
            "patterns",
            format!("shape {:?}: need at least one row of length n = {}", p.patterns.dim(), p.n),
        ));
    }
    super::check_binary("patterns", p.patterns.iter())?;
    if p.patterns.outer_iter().any(|r| r.iter().map(|&x| i64::from(x)).sum::<i64>() != 0) {
        return Err(RateError::invalid("patterns", "every pattern must be balanced (as many +1 as -1)"));
    }
    let nu = p.nu_bar_hz;
    let k = p.gain / n as f64;
    let c_s = k / (nu * nu * p.present_s); // ∫W in weight × s
    let window = PairWindow {
        a_plus: c_s / (p.tau_plus_ms * 1e-3),
        tau_plus_ms: p.tau_plus_ms,
        a_minus: 0.0,
        tau_minus_ms: p.tau_plus_ms,
    };
    let w0 = p.baseline_in_k * k;
    let rule_toml = super::limits::covariance_rule_toml(window, nu, 1.0_f64.max(4.0 * w0))?;
    let rule = rule_from_toml(&rule_toml)?;
    // Inhibition: ν_I = w_EI Σ_j ν_j with ν_I ≈ 2ν̄ at the mean E rate; n_I w_IE w_EI = w0.
    let w_ei = 2.0 / n as f64;
    let w_ie = w0 / (p.n_inh as f64 * w_ei);
    let text = format!(
        "[simulation]\ndt = {dt:?}\nduration = 1.0\nseed = {seed}\n\
         [[population]]\nname = \"exc\"\ntype = \"excitatory\"\nsize = {n}\nneuron = {{ model = \"poisson_linear\", rate0 = {nu:?}, tau = {te:?}, rate_max = {rmax:?} }}\n\
         [[population]]\nname = \"inh\"\ntype = \"inhibitory\"\nsize = {ni}\nneuron = {{ model = \"poisson_linear\", rate0 = 0.0, tau = {ti:?} }}\n\
         [[projection]]\nname = \"ei\"\npre = \"exc\"\npost = \"inh\"\nconnectivity = {{ rule = \"all_to_all\" }}\nweight = {w_ei:?}\ndelay = {dt:?}\n\
         [[projection]]\nname = \"ie\"\npre = \"inh\"\npost = \"exc\"\nconnectivity = {{ rule = \"all_to_all\" }}\nweight = {w_ie:?}\ndelay = {dt:?}\n\
         [[projection]]\nname = \"ee\"\npre = \"exc\"\npost = \"exc\"\nconnectivity = {{ rule = \"all_to_all\" }}\nweight = {w0:?}\ndelay = {dt:?}\n\
         [projection.plasticity]\n{rule_toml}\n\
         [record]\nspikes = \"none\"\nweights = \"none\"\n",
        dt = p.dt_ms,
        seed = p.seed,
        te = p.tau_eps_ms,
        ti = p.tau_inh_ms,
        rmax = 2.0 * nu,
        ni = p.n_inh,
    );
    let mut sim = build(&text)?;
    let ee = 2;
    let steps = |ms: f64| (ms / p.dt_ms).round() as u64;
    // Learning: each pattern clamped by the drive for `present_s`.
    for xi in p.patterns.outer_iter() {
        set_ext(sim.net_mut(), 0, xi.iter().map(|&s| f64::from(s) * p.drive_hz).collect());
        run_steps(&mut sim, steps(p.present_s * 1e3))?;
    }
    // Wash-out before recall: 20 ms with every unit clamped at 2ν̄ ends the last pattern's
    // activity and adds the same drift k/100 to every weight, which the inhibition's rebalancing
    // below absorbs. (The drift that silent pairs owe is applied lazily, at a synapse's next
    // event; `dense_weights` reads it through `Network::weights_now`.)
    set_ext(sim.net_mut(), 0, vec![p.drive_hz; n]);
    run_steps(&mut sim, steps(20.0))?;
    let w_spiking = dense_weights(sim.net(), ee);
    let rate_net = super::limits::hopfield_from_rule(&rule, p.patterns.view(), nu, 1.0, p.present_s)?;
    let w_rate = rate_net.weights().clone();
    let hebb = super::to_f64(p.patterns.view()).t().dot(&super::to_f64(p.patterns.view()));
    let (mut xs, mut ys, mut rs) = (Vec::new(), Vec::new(), Vec::new());
    let mut w_min = f64::INFINITY;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                xs.push(w_spiking[[i, j]]);
                ys.push(hebb[[i, j]]);
                rs.push(w_rate[[i, j]]);
                w_min = w_min.min(w_spiking[[i, j]]);
            }
        }
    }
    let r_hebb = pearson(&xs, &ys);
    let slope = xs.iter().zip(&rs).map(|(x, r)| (x - w0) * r).sum::<f64>() / rs.iter().map(|r| r * r).sum::<f64>();
    // Recall, plasticity off. The inhibition is rebalanced to the mean learned E→E weight: the
    // Hopfield field needs W - <W>, and the learned mean differs from w0 by the wash-out above and by
    // O(1%) of k per pattern; uncorrected, a mean offset δ gives every unit the same extra field
    // δ Σ_j ν_j, of the order of the Hopfield field itself. This is the balance
    // that inhibitory plasticity establishes (Vogels et al. 2011), set here directly.
    sim.set_plasticity(ee, false);
    let w_mean = xs.iter().sum::<f64>() / xs.len() as f64;
    {
        let ie = &mut sim.net_mut().projections[1];
        let v = (w_mean / (p.n_inh as f64 * w_ei)) as f32;
        ie.set_all_weights(v);
    }
    let mut rng = Xoshiro::seed_from_u64(p.seed ^ 0x40f);
    let mut out = HopfieldRun {
        w_spiking,
        w_rate,
        w0,
        r_hebb,
        slope,
        w_min,
        cue_overlaps: Vec::new(),
        spiking_overlaps: Vec::new(),
        rate_overlaps: Vec::new(),
        recall_rate_hz: 0.0,
        states: Vec::new(),
    };
    let read_steps = steps(p.free_ms / 2.0);
    let (mut spikes_total, mut time_total) = (0u64, 0.0);
    for xi in p.patterns.outer_iter() {
        let cue = super::corrupt(xi, p.flip, &mut rng)?;
        out.cue_overlaps.push(super::overlap(cue.view(), xi));
        set_ext(sim.net_mut(), 0, cue.iter().map(|&s| f64::from(s) * p.drive_hz).collect());
        run_steps(&mut sim, steps(p.cue_ms))?;
        set_ext(sim.net_mut(), 0, vec![0.0; n]);
        run_steps(&mut sim, steps(p.free_ms) - read_steps)?;
        let before = sim.stats[0].counts();
        run_steps(&mut sim, read_steps)?;
        let read_s = read_steps as f64 * p.dt_ms * 1e-3;
        let state: Array1<i8> = Array1::from_iter(sim.stats[0].counts().iter().zip(&before).map(|(&a, &b)| {
            let rate = f64::from(a - b) / read_s;
            spikes_total += u64::from(a - b);
            if rate > nu {
                1
            } else {
                -1
            }
        }));
        time_total += read_s * n as f64;
        out.spiking_overlaps.push(super::overlap(state.view(), xi));
        out.states.push(state);
        let mut s = cue.clone();
        rate_net.update_async(&mut s, 100, &mut rng)?;
        out.rate_overlaps.push(super::overlap(s.view(), xi));
    }
    out.recall_rate_hz = spikes_total as f64 / time_total;
    Ok(out)
}
