//! Rate-based limits (`hebb::rate`): Hopfield capacity and AGS theory, dense and modern Hopfield
//! networks, the normative E/I rule, similarity-matching PCA, and the covariance and Oja rules
//! obtained from spiking rules' rate limits.
//!
//! Tolerances come from statistics stated next to each assertion; no expected value here was
//! produced by this code. Every random draw is seeded.

use hebb::rate::dense::dense_one_step_error_theory;
use hebb::rate::hopfield::{
    measure_capacity, one_step_error_theory, one_step_margins, one_step_unstable, retrieval_overlaps, RETRIEVAL_THRESHOLD,
};
use hebb::rate::normative::NormativeMemory;
use hebb::rate::pca::orthonormalize;
use hebb::rate::{
    ags_critical, ags_overlap, corrupt, covariance_rule_toml, hopfield_from_rule, oja_from_rule, oja_rule_toml, oja_step, overlap,
    projection_error, random_patterns, rule_from_toml, symmetric_eigen, top_eigenvectors, DenseMemory, GradientForm, Hopfield, Interaction,
    ModernHopfield, PairWindow, SimilarityMatching, SpikedCovariance, SpikedParams,
};
use ndarray::{s, Array1, Array2, Axis};
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

fn norm(a: &Array1<f64>) -> f64 {
    a.dot(a).sqrt()
}

fn frob(a: &Array2<f64>) -> f64 {
    a.mapv(|v| v * v).sum().sqrt()
}

// ---------------------------------------------------------------------------------------------
// Classic Hopfield network and AGS theory (plasticity.md §5.2-5.3)

/// `y √(2α) - [erf(y) - (2/√π) y e^{-y²}]`, zero on the AGS solution (plasticity.md §5.2).
fn ags_equation(y: f64, alpha: f64) -> f64 {
    y * (2.0 * alpha).sqrt() - (hebb::rate::special::erf(y) - std::f64::consts::FRAC_2_SQRT_PI * y * (-y * y).exp())
}

/// AGS 1985/1987: α_c ≈ 0.138 with retrieval overlap ≈ 0.967 at the critical load.
#[test]
fn ags_critical_load_and_overlap() {
    let c = ags_critical();
    eprintln!(
        "AGS: alpha_c = {:.6}, y_c = {:.6}, m_c = {:.6}, error = {:.4} %",
        c.alpha,
        c.y,
        c.overlap,
        100.0 * c.error_fraction
    );
    assert!((0.1375..=0.1385).contains(&c.alpha), "alpha_c = {}", c.alpha);
    assert!((0.965..=0.970).contains(&c.overlap), "m(alpha_c) = {}", c.overlap);
    assert!(ags_equation(c.y, c.alpha).abs() < 1e-12);
    // retrieval branch: m decreases with load, down to m_c; no retrieval state above α_c
    let mut last = 1.0;
    for alpha in [0.02, 0.05, 0.08, 0.10, 0.12, 0.13, 0.135, c.alpha - 1e-9] {
        let s = ags_overlap(alpha).unwrap();
        assert!(ags_equation(s.y, alpha).abs() < 1e-12);
        assert!(
            s.overlap < last && s.overlap >= c.overlap - 1e-6,
            "alpha {alpha}: m = {}",
            s.overlap
        );
        last = s.overlap;
    }
    assert!(ags_overlap(c.alpha + 1e-4).is_none());
    // the RS error fractions tabulated in plasticity.md §5.2 (printed to 0.01 %)
    for (alpha, percent) in [(0.08, 0.02), (0.10, 0.10), (0.12, 0.34), (0.13, 0.64), (0.135, 0.96)] {
        let got = 100.0 * ags_overlap(alpha).unwrap().error_fraction;
        assert!((got - percent).abs() <= 0.005 + 1e-9, "alpha {alpha}: {got} %");
    }
}

/// Below capacity (α = 0.10, N = 1000, 4 networks) the stored patterns are retrieved: AGS gives
/// m = 0.998 (0.1 % errors, plasticity.md §5.2); 0.99 leaves room for finite-size effects and
/// for the spread of the mean over 400 patterns (per-pattern sd of m is ~1e-3).
#[test]
fn hopfield_retrieves_below_capacity() {
    let (n, p) = (1000, 100);
    let mut overlaps = Vec::new();
    for seed in 0..4 {
        let st = measure_capacity(n, p, 200, &mut rng(100 + seed)).unwrap();
        assert!(st.all_converged);
        overlaps.extend(st.overlaps);
    }
    let mean = overlaps.iter().sum::<f64>() / overlaps.len() as f64;
    let success = overlaps.iter().filter(|&&m| m > RETRIEVAL_THRESHOLD).count() as f64 / overlaps.len() as f64;
    eprintln!(
        "Hopfield N = {n}, alpha = 0.10: mean overlap {mean:.5}, success {success:.4}, AGS m = {:.5}",
        ags_overlap(0.10).unwrap().overlap
    );
    assert!(mean >= 0.99, "mean overlap {mean}");
}

/// Above capacity (α = 0.18 > α_c) there is no retrieval state in the large-N limit; at
/// N = 1000 finite-size effects keep some patterns, but at most a quarter. Over 10 networks
/// (1800 patterns) the binomial SE of the success fraction is ~0.01; network-to-network spread
/// (patterns of one network share their crosstalk) roughly doubles it, so the bound 0.25 lies
/// ~2.5 SD above a success fraction of 0.2.
#[test]
fn hopfield_fails_above_capacity() {
    let (n, p) = (1000, 180);
    let mut overlaps = Vec::new();
    for seed in 0..10 {
        let st = measure_capacity(n, p, 500, &mut rng(200 + seed)).unwrap();
        assert!(st.all_converged);
        overlaps.extend(st.overlaps);
    }
    let mean = overlaps.iter().sum::<f64>() / overlaps.len() as f64;
    let success = overlaps.iter().filter(|&&m| m > RETRIEVAL_THRESHOLD).count() as f64 / overlaps.len() as f64;
    eprintln!("Hopfield N = {n}, alpha = 0.18: mean overlap {mean:.4}, success {success:.4}");
    assert!(success <= 0.25, "success {success}");
}

/// One-step stability at α = 0.138 (plasticity.md §5.3, measurement 1): the fraction of unstable
/// bits against the signal-to-noise value p = ½ erfc(1/√(2α)) = 0.355 %, within 3 binomial
/// standard errors.
///
/// Each bit's margin is exactly a sum of (P-1)(N-1) independent ±1 terms, but bits of one pattern
/// share that pattern's crosstalk variance Σ_ν q_μν², so counting all N bits of every pattern is
/// over-dispersed (SD ≈ 1.7 binomial SE at N = 1000) and a binomial SE would be wrong. We therefore
/// count only the first 100 neurons of each pattern (any fixed subset has the same marginal),
/// over 20 networks: n = 276 000 bits, SE = sqrt(p(1-p)/n) = 3.2 % of p, over-dispersion ≈ 1.1.
/// The finite-N shift of the exact binomial marginal, P(Bin(M, ½) <= (M-N+1)/2) with
/// M = (P-1)(N-1), is -1.7 % of p (0.5 SE).
#[test]
fn hopfield_one_step_instability_matches_signal_to_noise() {
    let (n, p, neurons, nets) = (1000, 138, 100, 20u64);
    let alpha = p as f64 / n as f64;
    let mut unstable = 0usize;
    for seed in 0..nets {
        let mut r = rng(300 + seed);
        let pats = random_patterns(p, n, &mut r);
        let net = Hopfield::from_patterns(pats.view()).unwrap();
        let margins = one_step_margins(&net, pats.view()).unwrap();
        unstable += margins.slice(s![.., ..neurons]).iter().filter(|&&m| m <= 0.0).count();
        if seed == 0 {
            // the all-bit count agrees with the margins
            let all = margins.iter().filter(|&&m| m <= 0.0).count();
            assert_eq!(all, one_step_unstable(&net, pats.view()).unwrap());
        }
    }
    let bits = (nets as usize * p * neurons) as f64;
    let f = unstable as f64 / bits;
    let pt = one_step_error_theory(alpha);
    let se = (pt * (1.0 - pt) / bits).sqrt();
    eprintln!(
        "one-step unstable at alpha = {alpha}: {f:.6} vs theory {pt:.6} ({:+.2} SE)",
        (f - pt) / se
    );
    assert!((f - pt).abs() <= 3.0 * se, "measured {f}, theory {pt}, SE {se}");
}

/// Dynamics basics: energy never increases asynchronously; a stored pattern at low load is a
/// fixed point of both update modes; a corrupted cue is completed.
#[test]
fn hopfield_dynamics_energy_and_modes() {
    let mut r = rng(7);
    let (n, p) = (200, 10); // α = 0.05: one-step error 4e-6 per bit
    let pats = random_patterns(p, n, &mut r);
    let net = Hopfield::from_patterns(pats.view()).unwrap();
    // storing one by one gives the same matrix
    let mut inc = Hopfield::new(n).unwrap();
    for xi in pats.outer_iter() {
        inc.store(xi).unwrap();
    }
    assert!((net.weights() - inc.weights()).iter().all(|v| v.abs() < 1e-12));
    let mut s = corrupt(pats.row(0), 0.2, &mut r).unwrap();
    let mut e = net.energy(s.view()).unwrap();
    loop {
        let rel = net.update_async(&mut s, 1, &mut r).unwrap();
        let e2 = net.energy(s.view()).unwrap();
        assert!(e2 <= e + 1e-12);
        e = e2;
        if rel.fixed_point {
            break;
        }
    }
    assert_eq!(overlap(s.view(), pats.row(0)), 1.0, "20 % corrupted cue completed at α = 0.05");
    let mut s = pats.row(3).to_owned();
    let rel = net.update_sync(&mut s, 10).unwrap();
    assert!(rel.fixed_point && rel.flips == 0);
    let mut s = pats.row(3).to_owned();
    let rel = net.update_async(&mut s, 10, &mut r).unwrap();
    assert!(rel.fixed_point && rel.flips == 0 && rel.sweeps == 1);
    // overlaps helper agrees
    let (ov, ok) = retrieval_overlaps(&net, pats.view(), 10, &mut r).unwrap();
    assert!(ok && ov.iter().all(|&m| m == 1.0));
}

// ---------------------------------------------------------------------------------------------
// Dense associative memory and modern Hopfield network (plasticity.md §5.4-5.5)

/// Krotov & Hopfield 2016: with F(x) = x³, N = 100 neurons store K = 300 = 3N patterns (22× the
/// Hopfield capacity 0.138 N). Signal-to-noise: one-step bit-error probability
/// ½ erfc(√(N²/(2·K·3))) = 4e-4, i.e. ~12 of the 30 000 bits; the bound 0.5 % (150 bits) is >10
/// Poisson standard deviations above that. The same patterns with n = 2 (Hopfield, α = 3) have
/// one-step error 28 %; after relaxation well over 10 % of the bits are wrong.
#[test]
fn dense_memory_stores_far_beyond_hopfield_capacity() {
    let (n, k) = (100, 300);
    let pats = random_patterns(k, n, &mut rng(11));
    let err = |f: Interaction| {
        let mem = DenseMemory::new(pats.clone(), f).unwrap();
        let mut r = rng(12);
        let mut wrong = 0usize;
        for xi in pats.outer_iter() {
            let mut s = xi.to_owned();
            let rel = mem.update_async(&mut s, 100, &mut r).unwrap();
            assert!(rel.fixed_point);
            wrong += s.iter().zip(xi.iter()).filter(|(a, b)| a != b).count();
        }
        wrong as f64 / (n * k) as f64
    };
    let e3 = err(Interaction::Polynomial { n: 3 });
    let e2 = err(Interaction::Polynomial { n: 2 });
    eprintln!(
        "dense N = {n}, K = {k}: bit errors n=3 {:.4} % (one-step theory {:.4} %), n=2 {:.2} % (one-step theory {:.2} %)",
        100.0 * e3,
        100.0 * dense_one_step_error_theory(3, n, k),
        100.0 * e2,
        100.0 * dense_one_step_error_theory(2, n, k)
    );
    assert!(e3 < 0.005, "n = 3: {e3}");
    assert!(e2 > 0.10, "n = 2: {e2}");
}

/// Dense memory with n = 3 also completes corrupted cues at K = 3N (10 % of bits flipped:
/// the signal drops to (1 - 2·0.1)² = 0.64 of its value, still ~4 noise sd per bit).
#[test]
fn dense_memory_completes_corrupted_cues() {
    let (n, k) = (100, 300);
    let mut r = rng(13);
    let pats = random_patterns(k, n, &mut r);
    let mem = DenseMemory::new(pats.clone(), Interaction::Polynomial { n: 3 }).unwrap();
    let mut retrieved = 0;
    let tried = 50;
    for xi in pats.outer_iter().take(tried) {
        let mut s = corrupt(xi, 0.1, &mut r).unwrap();
        mem.update_async(&mut s, 100, &mut r).unwrap();
        if overlap(s.view(), xi) > 0.98 {
            retrieved += 1;
        }
    }
    eprintln!("dense n = 3 from 10 % corrupted cues: {retrieved}/{tried} retrieved (m > 0.98)");
    assert!(retrieved >= 45, "{retrieved}/{tried}");
}

/// Ramsauer et al. 2021: at large β one update from a noisy cue returns the stored pattern
/// (error ~ e^{-β Δ}, Δ the separation, here ≥ ~20 for d = 64 ±1 patterns, N = 20); at small β
/// the update returns the mean of all patterns: with |β xᵢᵀξ| ≤ β d = 6.4e-5 the softmax differs
/// from uniform by < 1.3e-4 relative, so the update is within 1.3e-4 · max‖xᵢ‖ = 1e-3 of the mean.
#[test]
fn modern_hopfield_one_step_retrieval_and_average() {
    let (d, npat) = (64, 20);
    let mut r = rng(21);
    let pats = random_patterns(npat, d, &mut r); // rows
    let x = pats.t().mapv(f64::from); // d × N, columns
    let big = ModernHopfield::new(x.clone(), 1.0).unwrap();
    let mut worst = 0.0f64;
    for mu in 0..npat {
        let cue = corrupt(pats.row(mu), 0.125, &mut r).unwrap().mapv(f64::from);
        let out = big.update(cue.view()).unwrap();
        let target = x.column(mu).to_owned();
        let rel = norm(&(&out - &target)) / norm(&target);
        assert!(rel < 1e-6, "pattern {mu}: relative error {rel} after one update");
        worst = worst.max(rel);
        // energy does not increase (Ramsauer et al., Theorem 1)
        assert!(big.energy(out.view()).unwrap() <= big.energy(cue.view()).unwrap() + 1e-9);
    }
    let small = ModernHopfield::new(x.clone(), 1e-6).unwrap();
    let mean = x.mean_axis(Axis(1)).unwrap();
    let cue = x.column(0).to_owned();
    let out = small.update(cue.view()).unwrap();
    let dist = norm(&(&out - &mean));
    eprintln!(
        "modern Hopfield: beta = 1: worst relative error after one update {worst:.1e}; beta = 1e-6: update is {dist:.2e} from the pattern mean (|mean| = {:.3})",
        norm(&mean)
    );
    assert!(dist < 1e-3, "distance to the mean {dist}");
    let (_, iters) = big.retrieve(cue.view(), 10, 1e-12).unwrap();
    assert!(iters <= 2, "a stored pattern is a fixed point: {iters} updates");
}

// ---------------------------------------------------------------------------------------------
// Normative E/I memory rule (source article §7-8, plasticity.md §4.7)

fn ei_setup(n_e: usize, n_i: usize, p: usize, seed: u64) -> (Vec<i8>, Array2<f64>) {
    let mut r = rng(seed);
    let signs: Vec<i8> = (0..n_e + n_i).map(|i| if i < n_e { 1 } else { -1 }).collect();
    let f = Array2::from_shape_simple_fn((n_e + n_i, p), || r.sample::<f64, _>(StandardNormal));
    (signs, f)
}

/// With D ≠ I the exact gradient F Fᵀ D - W D F Fᵀ D stores the patterns as fixed points
/// (W D F = F, W D = the projection P onto the pattern span), while the printed form
/// F Fᵀ D - W F Fᵀ has no fixed point at all: W Fᵀ-products only reach the row space of F Fᵀ, so
/// the part F Fᵀ D (I - P) of the update is never cancelled and W drifts linearly, taking the
/// residual W D F - F with it. Descent is deterministic: the tolerances are those of the
/// convergence criterion (‖ΔW‖ < 1e-13) and of rounding.
#[test]
fn normative_exact_gradient_makes_patterns_fixed_points() {
    let (signs, f) = ei_setup(30, 10, 5, 31);
    let eta = NormativeMemory::safe_learning_rate(f.view()).unwrap();
    let fnorm = frob(&f);

    let mut exact = NormativeMemory::new(&signs, false).unwrap();
    let rep = exact.train(f.view(), GradientForm::Exact, eta, 20_000, 1e-13).unwrap();
    let res_exact = frob(&exact.residual(f.view()).unwrap()) / fnorm;
    assert!(rep.last_change < 1e-13, "exact descent converged");
    assert!(res_exact < 1e-9, "exact: ‖WDF - F‖/‖F‖ = {res_exact}");
    let proj = exact.effective(); // = P, checked below

    let mut printed = NormativeMemory::new(&signs, false).unwrap();
    printed.train(f.view(), GradientForm::Printed, eta, 2_000, 0.0).unwrap();
    let res_2k = frob(&printed.residual(f.view()).unwrap()) / fnorm;
    let rep_p = printed.train(f.view(), GradientForm::Printed, eta, 2_000, 0.0).unwrap();
    let res_4k = frob(&printed.residual(f.view()).unwrap()) / fnorm;
    eprintln!(
        "normative D != I: exact residual {res_exact:.2e} after {} steps; printed residual {res_2k:.1} after 2000 steps, {res_4k:.1} after 4000 (step size {:.2e})",
        rep.steps, rep_p.last_change
    );
    assert!(res_2k > 0.1, "printed: ‖WDF - F‖/‖F‖ = {res_2k}");
    assert!(res_4k > 1.8 * res_2k, "printed: residual grows linearly ({res_2k} -> {res_4k})");
    // its step tends to the constant η F Fᵀ D (I - P), and inside the span it satisfies W F Fᵀ = F Fᵀ D P
    let c = f.dot(&f.t());
    let d = Array1::from(signs.iter().map(|&s| f64::from(s)).collect::<Vec<_>>());
    let cd = &c * &d.view().insert_axis(Axis(0));
    let drift = (&cd - &cd.dot(&proj)) * eta;
    assert!(frob(&drift) > 1e-3 * frob(&cd) * eta, "D F leaves the pattern span");
    assert!((rep_p.last_change / frob(&drift) - 1.0).abs() < 1e-6);
    let inside = printed.weights().dot(&c) - cd.dot(&proj);
    assert!(frob(&inside) < 1e-8 * frob(&cd), "{}", frob(&inside) / frob(&cd));

    // exact: W D is the orthogonal projection onto the pattern span (idempotent, symmetric)
    let a = exact.effective();
    assert!(frob(&(a.dot(&a) - &a)) < 1e-8 && frob(&(&a - &a.t())) < 1e-8);
    // the rate dynamics keep a pattern and remove everything orthogonal to the span
    let y = exact.simulate(f.column(0), 10.0, 0.1, 50.0).unwrap();
    assert!(norm(&(&y - &f.column(0))) < 1e-8 * norm(&f.column(0).to_owned()));
    let mut r = rng(32);
    let noise = Array1::from_shape_simple_fn(40, || r.sample::<f64, _>(StandardNormal));
    let noise_perp = &noise - &a.dot(&noise);
    let cue = &f.column(1) + &noise_perp;
    let y = exact.simulate(cue.view(), 10.0, 0.1, 300.0).unwrap(); // 30 τ: e^-30
    assert!(norm(&(&y - &f.column(1))) < 1e-6 * norm(&f.column(1).to_owned()));

    // with D = I the two forms are the same rule and both store the patterns
    let ones = vec![1i8; 40];
    for form in [GradientForm::Exact, GradientForm::Printed] {
        let mut net = NormativeMemory::new(&ones, false).unwrap();
        net.train(f.view(), form, eta, 20_000, 1e-13).unwrap();
        let res = frob(&net.residual(f.view()).unwrap()) / fnorm;
        assert!(res < 1e-9, "D = I, {form:?}: residual {res}");
    }
}

/// Extended rule dW = y_post y_preᵀ D (article §8): with y_pre = F and y_post = F - W D F it is the
/// exact gradient step (to rounding). Dale clipping keeps every W ≥ 0 and still lowers the
/// objective monotonically (projected gradient descent with η ≤ 1/λ_max). With few patterns
/// (P = 3, N = 20) a non-negative W storing them exists and is found; with P = N it cannot exist:
/// W D F = F would need W D = I, i.e. W_ii = -1 on the inhibitory neurons, and for any W ≥ 0 the
/// objective is at least ½ σ_min(F)² ‖W D - I‖² ≥ ½ σ_min(F)² n_I.
#[test]
fn normative_extended_rule_and_dale_clipping() {
    let (signs, f) = ei_setup(16, 4, 3, 41);
    let eta = NormativeMemory::safe_learning_rate(f.view()).unwrap();
    let mut a = NormativeMemory::new(&signs, false).unwrap();
    a.train(f.view(), GradientForm::Exact, eta, 7, 0.0).unwrap(); // somewhere along the way
    let mut b = a.clone();
    a.step(f.view(), GradientForm::Exact, eta).unwrap();
    let y_post = &f - &b.effective().dot(&f);
    b.outer_product_step(y_post.view(), f.view(), eta).unwrap();
    assert!(frob(&(a.weights() - b.weights())) < 1e-12 * frob(a.weights()));

    let free = {
        let mut n = NormativeMemory::new(&signs, false).unwrap();
        n.train(f.view(), GradientForm::Exact, eta, 20_000, 1e-13).unwrap();
        n
    };
    assert!(
        free.weights().iter().any(|&w| w < 0.0),
        "the unconstrained optimum violates Dale's law"
    );

    for (p, seed) in [(3, 41), (20, 42)] {
        let (signs, f) = ei_setup(16, 4, p, seed);
        let eta = NormativeMemory::safe_learning_rate(f.view()).unwrap();
        let mut dale = NormativeMemory::new(&signs, true).unwrap();
        let e0 = dale.objective(f.view()).unwrap();
        let mut last = e0;
        for _ in 0..5000 {
            dale.step(f.view(), GradientForm::Exact, eta).unwrap();
            let e = dale.objective(f.view()).unwrap();
            assert!(e <= last + 1e-12 * last.max(1.0), "objective rose: {last} -> {e}");
            last = e;
        }
        assert!(dale.weights().iter().all(|&w| w >= 0.0));
        let (sv2, _) = symmetric_eigen(f.t().dot(&f).view()).unwrap();
        let bound = 0.5 * sv2[p - 1] * 4.0;
        eprintln!("Dale-clipped, N = 20, P = {p}: objective {last:.2e} of initial {e0:.3}");
        if p == 3 {
            assert!(last < 1e-12 * e0, "a non-negative solution exists for P = 3 and is found");
        } else {
            eprintln!("  lower bound for P = N: {bound:.2e}");
            assert!(last >= bound * (1.0 - 1e-9), "objective {last} below the lower bound {bound}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Similarity-matching PCA and Oja (plasticity.md §7)

fn spiked_run(seed: u64, checkpoints: &[usize]) -> Vec<f64> {
    let mut r = rng(seed);
    let gen = SpikedCovariance::new(SpikedParams::default(), &mut r).unwrap();
    // eigenvectors of the population covariance, from the symmetric eigen-decomposition
    let v = top_eigenvectors(gen.covariance().view(), 5).unwrap();
    let x1 = gen.sample(&mut r);
    let mut net = SimilarityMatching::new(5, x1.view(), 2.0 * std::f64::consts::PI, &mut r).unwrap();
    net.step(x1.view()).unwrap();
    let mut out = Vec::new();
    let mut t = 1;
    for &c in checkpoints {
        while t < c {
            let x = gen.sample(&mut r);
            net.step(x.view()).unwrap();
            t += 1;
        }
        let fil = net.filter().unwrap();
        out.push(projection_error(v.view(), fil.t()).unwrap());
    }
    out
}

/// Spiked covariance d = 50, k = 5, ρ = 0.1, gap 0.4, slope 0.1 (the reference example): the
/// similarity-matching network reaches projection error < 0.01 after 1e4 samples and < 1e-3 after
/// 1e5 (online estimation error decays ~ 1/t).
#[test]
fn similarity_matching_pca_converges_on_spiked_covariance() {
    let errs = spiked_run(51, &[10_000, 100_000]);
    eprintln!(
        "similarity matching: projection error {:.2e} after 1e4, {:.2e} after 1e5 samples",
        errs[0], errs[1]
    );
    assert!(errs[0] < 0.01, "after 1e4: {}", errs[0]);
    assert!(errs[1] < 1e-3, "after 1e5: {}", errs[1]);
}

/// Oja's rule Δw = η y (x - y w), with a slowly decreasing η, finds the top eigenvector of the
/// spiked covariance (eigenvalue gap 0.1 to the second) with |w| = 1.
#[test]
fn oja_rate_rule_finds_top_eigenvector() {
    let mut r = rng(61);
    let gen = SpikedCovariance::new(SpikedParams::default(), &mut r).unwrap();
    let (vals, vecs) = symmetric_eigen(gen.covariance().view()).unwrap();
    assert!(vals[0] > vals[1]);
    let v1 = vecs.column(0).to_owned();
    let mut w = Array1::from_shape_simple_fn(50, || r.sample::<f64, _>(StandardNormal) / 50f64.sqrt());
    for t in 0..40_000 {
        let x = gen.sample(&mut r);
        let eta = 0.02 / (1.0 + t as f64 / 5000.0);
        oja_step(&mut w, x.view(), eta).unwrap();
    }
    let cos = w.dot(&v1).abs() / norm(&w);
    eprintln!("Oja (rate): |cos| = {cos:.4}, |w| = {:.4}", norm(&w));
    assert!(cos > 0.95 && (norm(&w) - 1.0).abs() < 0.05);
}

/// Oja's rule obtained from the spiking rule's rate limit (plasticity.md §4.6): pair STDP with
/// ∫W = c plus the post-triggered decay β w o gives dw/dt = c ν_pre ν_post - β τ_o w ν_post²;
/// a linear rate neuron then converges to the top eigenvector of E[ν νᵀ] with |w|² = c/(β τ_o).
/// Inputs: 20 rectified Gaussian rates, two groups with shared fluctuations of different size,
/// so the top eigenvector is far from uniform (cosine with the uniform vector printed). The norm
/// tolerance 10 % covers the O(η) bias of the stochastic updates; the cosine 0.95 the
/// fluctuations of w around the fixed point.
#[test]
fn oja_from_spiking_rule_rate_limit() {
    // c = a_plus τ+ = 0.01 · 20 ms = 2e-4 weight·s; β τ_o = 2e-3 · 0.1 s = 2e-4 s: |w|² = 1.
    let text = r#"
        rule = "pair_stdp"
        a_plus = 0.01
        tau_plus = 20.0
        a_minus = 0.0
        tau_minus = 20.0
        pairing = "all_to_all"
        weight_dependence = "additive"
        w_min = 0.0
        w_max = 10.0
        non_hebbian = { beta = 0.002, tau_o = 100.0 }
    "#;
    let rule = rule_from_toml(text).unwrap();
    let c = 0.01 * 20.0e-3;
    let beta_tau = 0.002 * 100.0e-3;
    let target = c / beta_tau;
    // the builder writes the same rule
    let built = rule_from_toml(
        &oja_rule_toml(
            PairWindow {
                a_plus: 0.01,
                tau_plus_ms: 20.0,
                a_minus: 0.0,
                tau_minus_ms: 20.0,
            },
            0.002,
            100.0,
            10.0,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(built, rule);

    let d = 20;
    let mut r = rng(71);
    let sample = |r: &mut Xoshiro256PlusPlus| {
        let za: f64 = r.sample(StandardNormal);
        let zb: f64 = r.sample(StandardNormal);
        Array1::from_shape_fn(d, |j| {
            let shared = if j < d / 2 { 20.0 * za } else { 2.0 * zb };
            let private: f64 = r.sample(StandardNormal);
            (2.0 + shared + 2.0 * private).max(0.0) // Hz
        })
    };
    // reference: top eigenvector of the empirical E[ν νᵀ] (2e5 samples)
    let m = 200_000;
    let mut corr = Array2::<f64>::zeros((d, d));
    for _ in 0..m {
        let x = sample(&mut r);
        let xc = x.view().insert_axis(Axis(1));
        corr += &xc.dot(&xc.t());
    }
    corr /= m as f64;
    let e1 = top_eigenvectors(corr.view(), 1).unwrap().column(0).to_owned();
    let e1 = if e1.sum() < 0.0 { -e1 } else { e1 };
    let uniform = Array1::from_elem(d, 1.0 / (d as f64).sqrt());
    let mut w = Array1::from_elem(d, 0.05);
    let dt = 0.001; // s per sample
    for _ in 0..200_000 {
        let x = sample(&mut r);
        oja_from_rule(&rule, &mut w, x.view(), dt).unwrap();
    }
    let cos = w.dot(&e1) / norm(&w);
    let n2 = w.dot(&w);
    eprintln!(
        "Oja from rule: cos(w, e1) = {cos:.6}, |w|² = {n2:.5} (c/(β τ_o) = {target}), cos(e1, uniform) = {:.3}",
        e1.dot(&uniform)
    );
    assert!(e1.dot(&uniform) < 0.85, "the target is not the trivial uniform vector");
    assert!(cos > 0.95, "cos = {cos}");
    assert!((n2 / target - 1.0).abs() < 0.10, "|w|² = {n2}, target {target}");
}

/// Covariance (Hopfield) rule from the spiking rule (plasticity.md §4.5): pair STDP with ∫W = c,
/// a_pre = a_post = -c ν̄ and drift c ν̄² has rate limit c (ν_pre - ν̄)(ν_post - ν̄); presenting
/// patterns as rates ν̄(1 + a ξ) stores T c a² ν̄² Σ ξ ξᵀ, the Hopfield matrix. Exact identities:
/// tolerances are rounding (1e-9 relative).
#[test]
fn covariance_rule_from_spiking_rule_builds_hopfield_matrix() {
    // c = 0.005 · 20 ms - 0.001 · 20 ms = 8e-5 weight·s, ν̄ = 10 Hz:
    // a_pre = a_post = -8e-4, drift = c ν̄² / 1000 = 8e-6 per ms.
    let text = r#"
        rule = "pair_stdp"
        a_plus = 0.005
        tau_plus = 20.0
        a_minus = 0.001
        tau_minus = 20.0
        w_max = 1.0
        non_hebbian = { a_pre = -8e-4, a_post = -8e-4, drift = 8e-6 }
    "#;
    let rule = rule_from_toml(text).unwrap();
    let (c, nu_bar) = (8e-5, 10.0);
    let mut r = rng(81);
    for _ in 0..100 {
        let (x, y): (f64, f64) = (r.random_range(0.0..40.0), r.random_range(0.0..40.0));
        let expect = c * (x - nu_bar) * (y - nu_bar);
        assert!((rule.rate_limit(x, y, 0.5) - expect).abs() < 1e-12, "{x} {y}");
    }
    let window = PairWindow {
        a_plus: 0.005,
        tau_plus_ms: 20.0,
        a_minus: 0.001,
        tau_minus_ms: 20.0,
    };
    let built = rule_from_toml(&covariance_rule_toml(window, nu_bar, 1.0).unwrap()).unwrap();
    for (x, y) in [(3.0, 17.0), (25.0, 0.5), (10.0, 10.0)] {
        assert!((built.rate_limit(x, y, 0.5) - c * (x - nu_bar) * (y - nu_bar)).abs() < 1e-12);
    }

    let (n, p, a, t) = (200, 20, 0.5, 2.0);
    let pats = random_patterns(p, n, &mut r);
    let learned = hopfield_from_rule(&rule, pats.view(), nu_bar, a, t).unwrap();
    let hebb = Hopfield::from_patterns(pats.view()).unwrap();
    let scale = t * c * a * a * nu_bar * nu_bar * n as f64;
    let diff = frob(&(learned.weights() / scale - hebb.weights()));
    assert!(
        diff < 1e-9 * frob(hebb.weights()),
        "relative difference {}",
        diff / frob(hebb.weights())
    );
    // and it retrieves like the Hebbian network (α = 0.1)
    let (ov, _) = retrieval_overlaps(&learned, pats.view(), 100, &mut r).unwrap();
    assert!(ov.iter().sum::<f64>() / p as f64 > 0.99);
    // a rule with a_pre != a_post gives no symmetric matrix: reported, not silently used
    let asym = rule_from_toml(&text.replace("a_post = -8e-4", "a_post = -4e-4")).unwrap();
    assert!(hopfield_from_rule(&asym, pats.view(), nu_bar, a, t).is_err());
}

/// Bad input is an error, never a panic.
#[test]
fn rate_module_rejects_bad_input() {
    let mut r = rng(91);
    assert!(Hopfield::from_patterns(Array2::from_elem((2, 5), 2i8).view()).is_err());
    assert!(DenseMemory::new(random_patterns(3, 5, &mut r), Interaction::Polynomial { n: 0 }).is_err());
    assert!(ModernHopfield::new(Array2::from_elem((2, 2), f64::NAN), 1.0).is_err());
    assert!(SpikedCovariance::new(
        SpikedParams {
            d: 5,
            k: 5,
            ..SpikedParams::default()
        },
        &mut r
    )
    .is_err());
    assert!(projection_error(Array2::<f64>::zeros((4, 2)).view(), Array2::<f64>::zeros((4, 3)).view()).is_err());
    assert!(orthonormalize(Array2::from_elem((4, 2), 1.0).view()).is_err());
    assert!(rule_from_toml("rule = \"pair_stdp\"").is_err());
    let err: hebb::Error = rule_from_toml("x").unwrap_err().into();
    assert!(err.to_string().contains("plasticity rule"));
    let mut w = Array1::zeros(3);
    let rule = rule_from_toml(
        &oja_rule_toml(
            PairWindow {
                a_plus: 0.01,
                tau_plus_ms: 20.0,
                a_minus: 0.0,
                tau_minus_ms: 20.0,
            },
            0.002,
            100.0,
            10.0,
        )
        .unwrap(),
    )
    .unwrap();
    assert!(oja_from_rule(&rule, &mut w, Array1::zeros(4).view(), 0.001).is_err());
    assert!(oja_from_rule(&rule, &mut w, Array1::zeros(3).view(), -1.0).is_err());
}
