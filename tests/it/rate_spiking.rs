//! The rate rules as limits of the spiking rules, validated in the spiking engine
//! (`hebb::rate::spiking`, plasticity.md §4.3, §4.5, §4.6, §7): the linear Poisson neuron, Oja's
//! rule, similarity-matching PCA and the covariance (Hopfield) rule in an E/I network.
//!
//! Every expected value comes from theory (closed forms, eigen-decompositions, the rule's own
//! rate limit); tolerances are derived from the statistics next to each assertion. Each test
//! also checks that its starting point fails the criterion, so it cannot pass vacuously.

use super::common::model;
use hebb::engine::Simulation;
use hebb::io::NullRecorder;
use hebb::rate::spiking::{
    balanced_patterns, cosine, run_hopfield, run_oja, run_pca, subspace_error, FactorDist, FactorInputs, HopfieldParams, OjaParams, OjaRun,
    PcaParams,
};
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use std::sync::atomic::AtomicBool;

fn norm(a: &Array1<f64>) -> f64 {
    a.dot(a).sqrt()
}

// ---------------------------------------------------------------------------------------------
// The linear Poisson neuron

fn poisson_linear_net(tau: f64) -> String {
    format!(
        "[simulation]\ndt = 0.1\nduration = 10000.0\nseed = 3\n\
         [[population]]\nname = \"in\"\ntype = \"excitatory\"\nsize = 100\nneuron = {{ model = \"poisson_source\", rate = 20.0 }}\n\
         [[population]]\nname = \"out\"\ntype = \"excitatory\"\nsize = 2048\nneuron = {{ model = \"poisson_linear\", rate0 = 5.0, tau = {tau:?} }}\n\
         [[projection]]\npre = \"in\"\npost = \"out\"\nconnectivity = {{ rule = \"all_to_all\" }}\nweight = 0.05\n\
         [record]\nspikes = \"none\"\n"
    )
}

/// Mean output rate `rate0 + Σ_j J_j ν_j` (∫ε = 1) and bit-identical spikes for 1 and 2 threads.
#[test]
fn poisson_linear_rate_is_bias_plus_weighted_input_rates() {
    // τ = 1 ms = 10 steps: a kernel sampled with the wrong normalisation is off by ~dt/τ = 10 %.
    let m = model(&poisson_linear_net(1.0));
    let mut counts = Vec::new();
    for threads in [1, 2] {
        let net = hebb::build::build(&m).unwrap();
        let mut sim = Simulation::new(net, threads).unwrap();
        sim.run(m.steps(), &mut NullRecorder, &AtomicBool::new(false), |_| {}).unwrap();
        counts.push(sim.stats[1].counts());
    }
    assert_eq!(counts[0], counts[1], "spikes depend on the thread count");
    let t = 10.0;
    let expected: f64 = (5.0 + 100.0 * 0.05 * 20.0) * t; // 105 Hz x 10 s
    let mean = counts[0].iter().map(|&c| f64::from(c)).sum::<f64>() / 2048.0;
    // All outputs share the same 100 input trains: the shared part of the count has variance
    // Σ_j J² ν_j T = 100 · 0.0025 · 20 · 10 = 50; the private Poisson part adds mean/2048.
    let sd = (50.0 + expected / 2048.0).sqrt();
    eprintln!("poisson_linear: mean count {mean:.1}, expected {expected:.1} ± {sd:.1}");
    assert!((mean - expected).abs() < 4.0 * sd, "mean count {mean} vs {expected} ± {sd}");
}

// ---------------------------------------------------------------------------------------------
// Oja (plasticity.md §4.6)

/// 30 inputs with a shared uniform fluctuation (mean 30 Hz, loading 15 Hz, private 2 Hz) and 20
/// weakly driven inputs (10 Hz, private 5 Hz): the top eigenvector of `E[ννᵀ]` weights the first
/// group ~5 times more, far from the uniform start (cosine 0.89).
fn oja_params(a_plus: f64, samples: usize, seed: u64) -> OjaParams {
    oja_params_sampled(a_plus, 200.0, samples, seed)
}

fn oja_params_sampled(a_plus: f64, sample_ms: f64, samples: usize, seed: u64) -> OjaParams {
    let (na, n) = (30, 50);
    let mean = Array1::from_shape_fn(n, |j| if j < na { 30.0 } else { 10.0 });
    let loadings = Array2::from_shape_fn((n, 1), |(j, _)| if j < na { 15.0 } else { 0.0 });
    let private = Array1::from_shape_fn(n, |j| if j < na { 2.0 } else { 5.0 });
    OjaParams {
        inputs: FactorInputs::new(mean, loadings, private, FactorDist::Uniform).unwrap(),
        a_plus,
        tau_plus_ms: 10.0,
        tau_o_ms: 10.0,
        tau_eps_ms: 5.0,
        w_norm: 0.3,
        sample_ms,
        samples,
        record_every: samples / 20,
        dt_ms: 0.1,
        w0: Array1::from_elem(n, 0.3 / (n as f64).sqrt()),
        seed,
    }
}

/// One spiking neuron with pair LTP and the post-triggered decay converges to the top principal
/// component of its inputs with `|w| = sqrt(c/(β τ_o))` (issue 7: cosine > 0.95, norm within 10 %).
#[test]
fn oja_spiking_neuron_learns_top_principal_component() {
    // A+ = 1e-4: c λ = 1e-6 s · 35400 Hz² → relaxation ~30 s; 400 s is > 10 relaxation times.
    let p = oja_params(1e-4, 2000, 1);
    let run = run_oja(&p).unwrap();
    let w = run.spiking.last().unwrap();
    let (cos0, cos) = (cosine(p.w0.view(), run.pc.view()), cosine(w.view(), run.pc.view()));
    eprintln!(
        "oja: cos(w0, pc) = {cos0:.4}, cos(w, pc) = {cos:.4}, |w| = {:.4} (target {}), output {:.1} Hz",
        norm(w),
        p.w_norm,
        run.out_rate_hz
    );
    assert!(cos0 < 0.95, "the start already satisfies the criterion: {cos0}");
    assert!(cos > 0.95, "cosine with the top eigenvector {cos}");
    // The spike-correlation terms (module doc of rate::spiking) raise |w| by ~1.5 %; the spike
    // noise of |w| is ~1 % (A+ = 1e-4); 10 % is the criterion.
    assert!((norm(w) / p.w_norm - 1.0).abs() < 0.10, "|w| = {} vs {}", norm(w), p.w_norm);
}

fn rms_relative_gap(run: &OjaRun) -> f64 {
    let d: Vec<f64> = run
        .spiking
        .iter()
        .zip(&run.rate)
        .skip(1)
        .map(|(s, r)| norm(&(s - r)) / norm(r))
        .collect();
    (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt()
}

/// The spiking trajectory follows the rate trajectory (same start, same rate samples) and the gap
/// shrinks as the learning rate does: at fixed learning time `c·t` the spike noise of the weights
/// is a diffusion with variance ∝ A+, so the gap should scale as sqrt(A+) (ratio 0.5 for A+/4);
/// a bias of the limit would not shrink (ratio → 1).
#[test]
fn oja_spiking_trajectory_follows_the_rate_limit_better_as_learning_slows() {
    let fast = run_oja(&oja_params(4e-4, 500, 2)).unwrap();
    let slow = run_oja(&oja_params(1e-4, 2000, 2)).unwrap();
    let (g_fast, g_slow) = (rms_relative_gap(&fast), rms_relative_gap(&slow));
    eprintln!(
        "oja trajectory gap (rms |w_spk - w_rate|/|w_rate|): A+ = 4e-4: {g_fast:.4}, 1e-4: {g_slow:.4}, ratio {:.3}",
        g_slow / g_fast
    );
    // The ratio estimate fluctuates by ~15 % (20 records of one trajectory, correlated over the
    // relaxation time): 0.75 is 1.7 standard errors above 0.5... and far below 1.
    assert!(g_slow / g_fast < 0.75, "gap ratio {}", g_slow / g_fast);
    assert!(g_slow < 0.1, "gap at A+ = 1e-4: {g_slow}");
}

/// Within its statistical error: over independent seeds (spike trains and rate samples), the
/// final spiking-minus-rate difference of the weight norm and of the weight fraction on the
/// strongly driven group has mean zero within 3.5 standard errors (t with 7 degrees of
/// freedom: p ≈ 0.01). The rate side includes the spike-correlation terms of the linear Poisson
/// neuron (module doc of `rate::spiking`); without them its norm is 1.5 % lower. Rates are held
/// for 1 s: the limit assumes rates constant over times long against τ+, τ_ε, τ_o (10, 5, 10
/// ms); with 200 ms samples the pairs and the output lag that straddle sample boundaries lose
/// ~(τ+ + τ_ε)/T of the covariance, and the group-A fraction comes out 0.2 % low (measured at
/// 4 SE with these seeds).
#[test]
fn oja_spiking_endpoint_has_no_bias_against_the_rate_limit() {
    let seeds = 8;
    let (mut dn, mut df) = (Vec::new(), Vec::new());
    for seed in 0..seeds {
        let run = run_oja(&oja_params_sampled(1e-4, 1000.0, 400, 100 + seed)).unwrap();
        let (s, r) = (run.spiking.last().unwrap(), run.rate.last().unwrap());
        dn.push(norm(s) - norm(r));
        let frac = |w: &Array1<f64>| w.iter().take(30).sum::<f64>() / w.sum();
        df.push(frac(s) - frac(r));
    }
    for (name, d) in [("norm", &dn), ("group-A fraction", &df)] {
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        let se = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
        eprintln!("oja endpoint {name}: spiking - rate = {mean:.5} ± {se:.5} (SE)");
        assert!(mean.abs() < 3.5 * se, "{name}: bias {mean} vs SE {se}");
    }
}

// ---------------------------------------------------------------------------------------------
// Similarity-matching PCA (plasticity.md §7)

/// Two groups of 20 inputs with their own sparse on/off events (p = 0.2: 2 Hz off, 102 Hz on)
/// and 20 inputs with private noise: the top-2 subspace of `E[ννᵀ]` is ~ the span of the two
/// group indicators.
fn pca_params(a_plus: f64, samples: usize, seed: u64) -> PcaParams {
    let n = 60;
    let g = |j: usize| j / 20;
    let mean = Array1::from_shape_fn(n, |j| [22.0, 22.0, 10.0][g(j)]);
    let loadings = Array2::from_shape_fn((n, 2), |(j, a)| if g(j) == a { 40.0 } else { 0.0 });
    let private = Array1::from_shape_fn(n, |j| [1.0, 1.0, 5.0][g(j)]);
    PcaParams {
        inputs: FactorInputs::new(mean, loadings, private, FactorDist::Bernoulli(0.2)).unwrap(),
        k: 2,
        a_plus,
        a_plus_lateral: a_plus,
        tau_plus_ms: 10.0,
        tau_o_ms: 10.0,
        tau_eps_ms: 5.0,
        s_w: 0.05,
        lateral_delay_ms: 15.0,
        sample_ms: 200.0,
        samples,
        record_every: samples / 40,
        dt_ms: 0.1,
        seed,
    }
}

/// `k = 2` spiking outputs with plastic excitation and plastic lateral inhibition learn the
/// principal subspace: projection error below 0.1 (issue 7), from a random start above 1.
#[test]
fn pca_spiking_network_learns_principal_subspace() {
    let p = pca_params(8e-4, 4000, 1);
    let run = run_pca(&p).unwrap();
    eprintln!(
        "pca: error start {:.3}, spiking (weights averaged over the last quarter) {:.4}, rate limit {:.5}; output rates {:?} Hz",
        run.spiking_error[0],
        run.spiking_tail_error,
        run.rate_error.last().unwrap(),
        run.out_rates_hz
    );
    assert!(run.spiking_error[0] > 0.5, "start error {}", run.spiking_error[0]);
    assert!(run.spiking_tail_error < 0.1, "spiking projection error {}", run.spiking_tail_error);
    // The rate limit (same rules, same samples) converges much closer: its residual comes from
    // the sample noise of the last ~1/(c λ) seconds only.
    assert!(
        *run.rate_error.last().unwrap() < 0.01,
        "rate projection error {}",
        run.rate_error.last().unwrap()
    );
    // Dale: lateral weights are inhibitory magnitudes >= 0, feedforward >= 0.
    assert!(run.w.iter().chain(run.m.iter()).all(|&w| w >= 0.0));
}

/// The subspace error of the spiking network shrinks with the learning rate (its residual is
/// the spike noise of the weights, variance ∝ A+): A+/4 at least halves it.
#[test]
fn pca_spiking_error_shrinks_with_learning_rate() {
    let fast = run_pca(&pca_params(8e-4, 4000, 2)).unwrap();
    let slow = run_pca(&pca_params(2e-4, 8000, 2)).unwrap();
    eprintln!(
        "pca tail error: A+ = 8e-4: {:.5}, 2e-4: {:.5}",
        fast.spiking_tail_error, slow.spiking_tail_error
    );
    // The error is quadratic in the weight deviations, so ∝ A+ (ratio 0.25 expected); 0.5 leaves
    // room for the fluctuation of single-run estimates.
    assert!(slow.spiking_tail_error < 0.5 * fast.spiking_tail_error);
}

/// `subspace_error` only sees the row span: a matrix against its own span gives 0.
#[test]
fn subspace_error_is_zero_on_own_row_span() {
    let w = Array2::from_shape_fn((2, 6), |(i, j)| ((i + 1) * (j + 2)) as f64 + if i == j { 1.0 } else { 0.0 });
    let v = hebb::rate::top_eigenvectors(w.t().dot(&w).view(), 2).unwrap();
    assert!(subspace_error(&v, &w).unwrap().abs() < 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Hopfield (plasticity.md §4.5)

/// `baseline_in_k`: the baseline w0 in units of the per-pattern change k; `|Σ_μ ξ_i ξ_j| <= P`.
fn hopfield_params(p: usize, n: usize, baseline_in_k: f64, seed: u64) -> HopfieldParams {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    HopfieldParams {
        baseline_in_k,
        ..HopfieldParams::validated(balanced_patterns(p, n, &mut rng).unwrap(), seed)
    }
}

fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

fn check_hopfield(p: usize, n: usize, baseline_in_k: f64, seed: u64) {
    let params = hopfield_params(p, n, baseline_in_k, seed);
    let run = run_hopfield(&params).unwrap();
    eprintln!(
        "hopfield N = {n}, P = {p}: w0 = {:.4}, min w = {:.4}, r = {:.4}, slope vs rate limit = {:.4}\n  cue {:?}\n  spiking {:?}\n  rate {:?}",
        run.w0, run.w_min, run.r_hebb, run.slope, run.cue_overlaps, run.spiking_overlaps, run.rate_overlaps
    );
    // Dale: every learned E→E weight is a non-negative magnitude (the bound 0 of the rule). The
    // Hebbian term rides on the baseline: a weight reaches 0 only where |Σ_μ ξ_i ξ_j| exceeds
    // w0/k, a binomial tail (Σ = 2B - P, B ~ Binomial(P, 1/2)); allow 3 times its expectation
    // plus 3 Poisson SD of the count (0 when the baseline covers every possible |Σ|).
    let pairs = (n * (n - 1)) as f64;
    let b0 = params.baseline_in_k;
    let tail: f64 = (0..=p)
        .filter(|&b| (2.0 * b as f64 - p as f64).abs() > b0)
        .map(|b| binomial(p, b) / 2f64.powi(p as i32))
        .sum();
    let clipped = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter(|&(i, j)| i != j && run.w_spiking[[i, j]] <= 0.0)
        .count() as f64;
    let allowed = 3.0 * tail * pairs + 3.0 * (tail * pairs).sqrt();
    eprintln!("  weights at 0: {clipped} (binomial expectation {:.1})", tail * pairs);
    assert!(run.w_spiking.iter().all(|&w| w >= 0.0));
    assert!(clipped <= allowed, "{clipped} weights at the bound 0, allowed {allowed}");
    // Spike-count noise of each weight is ~14 % of k per pattern (issue criterion r >= 0.95).
    assert!(run.r_hebb >= 0.95, "r = {}", run.r_hebb);
    // The amplitude is the rate limit's T c ν̄² per pattern to within a few % (pattern-boundary
    // pairs, lost within τ+/T = 1 %, and spike noise).
    assert!((run.slope - 1.0).abs() < 0.05, "slope {}", run.slope);
    for (i, ((&c, &s), &r)) in run
        .cue_overlaps
        .iter()
        .zip(&run.spiking_overlaps)
        .zip(&run.rate_overlaps)
        .enumerate()
    {
        assert!(c < 0.9, "cue {i} already completes the pattern: {c}");
        assert!(r >= 0.9, "rate network, pattern {i}: {r}");
        assert!(s >= 0.9, "spiking network, pattern {i}: {s}");
    }
}

/// An E/I spiking network learns P = 6 rate patterns (α = 0.03) through the covariance
/// configuration: learned E→E weights correlate with Σ ξξᵀ (r >= 0.95), stay non-negative, and
/// complete every pattern from a cue with 20 % of its bits flipped (overlap >= 0.9), as the rate
/// network learned with the same rule's limit does.
#[test]
fn hopfield_spiking_network_learns_and_completes_patterns() {
    // Baseline 3.5 SD of Σ_μ ξ_i ξ_j (sd sqrt(P)): for P = 6, |Σ| = 6 > 8.6 never occurs.
    check_hopfield(6, 200, 3.5 * 6f64.sqrt(), 11);
}

/// The same at α = 0.05 with 400 units (about 25 s in release mode).
#[test]
#[ignore]
fn hopfield_spiking_network_at_alpha_005_large() {
    // With P = 20 a 3.5 SD baseline (15.7 k) is crossed by ~64 of the 160000 pairs (|Σ| >= 16).
    check_hopfield(20, 400, 3.5 * 20f64.sqrt(), 12);
}

/// The learned couplings approach the rate limit's as learning slows: at fixed `k = T c ν̄²`
/// the spike-count noise of each weight relative to `k` scales as `1/sqrt(ν T)`, so presenting
/// each pattern 4 times longer (with `A+` 4 times smaller) halves the rms deviation from the
/// rate limit's `T c ν̄² Σ ξξᵀ` (means removed: the flush and the baseline shift them alike).
#[test]
fn hopfield_spiking_weights_approach_rate_limit_as_learning_slows() {
    let dev = |present_s: f64| {
        let mut params = hopfield_params(6, 200, 3.5 * 6f64.sqrt(), 21);
        params.present_s = present_s;
        params.free_ms = 100.0;
        let run = run_hopfield(&params).unwrap();
        let n = params.n;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    a.push(run.w_spiking[[i, j]]);
                    b.push(run.w_rate[[i, j]]);
                }
            }
        }
        let (ma, mb) = (a.iter().sum::<f64>() / a.len() as f64, b.iter().sum::<f64>() / b.len() as f64);
        let num: f64 = a.iter().zip(&b).map(|(x, y)| ((x - ma) - (y - mb)).powi(2)).sum();
        let den: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        (num / den).sqrt()
    };
    let (fast, slow) = (dev(0.5), dev(2.0));
    eprintln!(
        "hopfield rms deviation from the rate limit: T = 0.5 s: {fast:.4}, 2 s: {slow:.4}, ratio {:.3}",
        slow / fast
    );
    // ~39000 weights: the rms estimates are precise to < 1 %; the expected ratio is 0.5, and a
    // bias of the limit (e.g. pairs straddling pattern boundaries, ~τ+/T) would shrink slower.
    assert!(slow / fast < 0.6, "ratio {}", slow / fast);
    assert!(slow < 0.15, "deviation at T = 2 s: {slow}");
}

/// Bad `poisson_linear` parameters are reported with their field and what is allowed.
#[test]
fn poisson_linear_rejects_bad_parameters() {
    for (field, bad) in [
        ("tau", "tau = 0.0"),
        ("rate0", "rate0 = -1.0"),
        ("rate_max", "rate0 = 5.0, rate_max = 5.0"),
    ] {
        let text = format!(
            "[simulation]\nduration = 10.0\n[[population]]\nname = \"out\"\ntype = \"excitatory\"\nsize = 2\nneuron = {{ model = \"poisson_linear\", {bad} }}\n"
        );
        let err = hebb::spec::parse(&text, "bad.toml".as_ref(), &[])
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("neuron.{field}")) && err.contains("not allowed"),
            "{field}: {err}"
        );
    }
}
