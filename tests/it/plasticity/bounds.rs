//! Property-style check: for randomised valid parameter sets (seeded), weights stay inside
//! [w_min, w_max] and are never NaN, under random spike trains and under arbitrary readings.

use super::harness::{poisson_pair, run_trains, Order, Synapse};
use hebb::plasticity::*;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

type R = Xoshiro256PlusPlus;

/// Log-uniform in [lo, hi].
fn log_u(rng: &mut R, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

/// Amplitude: often 0, otherwise 1e-6 .. 10 times the weight range (huge steps included).
fn amp(rng: &mut R, range: f64) -> f64 {
    if rng.random::<f64>() < 0.15 {
        0.0
    } else {
        range * log_u(rng, 1e-6, 10.0)
    }
}

fn tau(rng: &mut R) -> f64 {
    log_u(rng, 0.05, 2000.0)
}

fn signed(rng: &mut R, scale: f64) -> f64 {
    if rng.random::<f64>() < 0.3 {
        0.0
    } else {
        let s = if rng.random::<bool>() { 1.0 } else { -1.0 };
        s * scale * log_u(rng, 1e-6, 1.0)
    }
}

fn random_spec(rng: &mut R) -> RuleSpec {
    let w_min = if rng.random::<bool>() { 0.0 } else { log_u(rng, 1e-3, 10.0) };
    let w_max = w_min + log_u(rng, 1e-3, 1e3);
    let range = w_max - w_min;
    let nh = |rng: &mut R| {
        let beta = if rng.random::<bool>() { 0.0 } else { log_u(rng, 1e-6, 10.0) };
        NonHebbianSpec {
            a_pre: signed(rng, range),
            a_post: signed(rng, range),
            drift: signed(rng, range * 0.01),
            beta,
            tau_o: if beta > 0.0 || rng.random::<bool>() { Some(tau(rng)) } else { None },
        }
    };
    match rng.random_range(0..3) {
        0 => RuleSpec::PairStdp(PairStdpSpec {
            a_plus: amp(rng, range),
            tau_plus: tau(rng),
            a_minus: amp(rng, range),
            tau_minus: tau(rng),
            pairing: [
                Pairing::AllToAll,
                Pairing::NearestSymmetric,
                Pairing::PresynapticCentred,
                Pairing::NearestRestricted,
            ][rng.random_range(0..4)],
            weight_dependence: match rng.random_range(0..4) {
                0 => WeightDependence::Additive,
                1 => WeightDependence::Multiplicative,
                2 => WeightDependence::PowerLaw {
                    mu: [0.0, 1.0][rng.random_range(0..2)],
                },
                _ => WeightDependence::PowerLaw { mu: rng.random::<f64>() },
            },
            w_min,
            w_max,
            non_hebbian: nh(rng),
        }),
        1 => {
            let (a3p, a3m) = (amp(rng, range), amp(rng, range));
            RuleSpec::TripletStdp(TripletStdpSpec {
                pairing: Some(if rng.random::<bool>() {
                    TripletPairing::AllToAll
                } else {
                    TripletPairing::NearestSpike
                }),
                a2_plus: Some(amp(rng, range)),
                a3_plus: Some(a3p),
                a2_minus: Some(amp(rng, range)),
                a3_minus: Some(a3m),
                tau_plus: Some(tau(rng)),
                tau_minus: Some(tau(rng)),
                tau_x: (a3m > 0.0 || rng.random::<bool>()).then(|| tau(rng)),
                tau_y: (a3p > 0.0 || rng.random::<bool>()).then(|| tau(rng)),
                w_min,
                w_max,
                non_hebbian: nh(rng),
                ..Default::default()
            })
        }
        _ => {
            let t = tau(rng);
            let use_rho = rng.random::<bool>();
            RuleSpec::Vogels2011(VogelsSpec {
                eta: amp(rng, range),
                tau: t,
                alpha: (!use_rho).then(|| log_u(rng, 1e-4, 100.0)),
                rho0: use_rho.then(|| log_u(rng, 1e-2, 500.0)),
                anti_hebbian: rng.random::<bool>(),
                w_min,
                w_max,
            })
        }
    }
}

fn inside(w: f32, rule: &Rule) -> bool {
    let w = f64::from(w);
    !w.is_nan() && w >= rule.w_min() && w <= rule.w_max()
}

#[test]
fn weights_stay_in_bounds_and_finite_for_random_valid_parameters() {
    let mut rng = R::seed_from_u64(2024);
    let presets = [
        TripletPreset::Pfister2006VcAllToAllMinimal,
        TripletPreset::Pfister2006VcAllToAllFull,
        TripletPreset::Pfister2006VcNearestMinimal,
        TripletPreset::Pfister2006VcNearestFull,
    ];
    for case in 0..400 {
        let spec = if case < 8 {
            RuleSpec::TripletStdp(TripletStdpSpec {
                preset: Some(presets[case % 4]),
                w_scale: Some(log_u(&mut rng, 1e-3, 1e3)),
                w_max: log_u(&mut rng, 1e-3, 1e3),
                ..Default::default()
            })
        } else {
            random_spec(&mut rng)
        };
        spec.validate()
            .unwrap_or_else(|e| panic!("case {case}: generator made an invalid spec {e:?}"));
        let rule = spec.build();
        let (lo, hi) = (rule.w_min(), rule.w_max());

        // (1) random trains, weight evolving, random call order in coincident steps
        let (pre, post) = poisson_pair(log_u(&mut rng, 1.0, 500.0), log_u(&mut rng, 1.0, 500.0), 20_000, case as u64);
        let w0 = (lo + rng.random::<f64>() * (hi - lo)) as f32;
        let mut syn = Synapse::new(&rule, w0);
        // every intermediate weight: w0 + the increments so far (exact: f32 differences in f64)
        let mut w = f64::from(w0);
        for e in run_trains(&mut syn, &pre, &post, Order::Random, case as u64) {
            w += e.dw;
            assert!(
                w >= lo && w <= hi,
                "case {case}: w = {w} outside [{lo}, {hi}] at t = {} for {spec:?}",
                e.t
            );
        }
        assert_eq!(w, f64::from(syn.w));
        assert!(syn.state.is_finite() && syn.state >= 0.0, "case {case}: state {}", syn.state);

        // (2) arbitrary readings, elapsed times and input weights (also outside the bounds, NaN)
        let (np, nq) = (rule.pre_traces().len(), rule.post_traces().len());
        let mut state = 0.0f32;
        for _ in 0..200 {
            let reading = |rng: &mut R| match rng.random_range(0..4) {
                0 => 0.0,
                1 => 1.0,
                2 => rng.random::<f64>(),
                _ => log_u(rng, 1e-300, 1e4),
            };
            let pre_r: Vec<f64> = (0..np).map(|_| reading(&mut rng)).collect();
            let post_r: Vec<f64> = (0..nq).map(|_| reading(&mut rng)).collect();
            let elapsed = if rng.random::<bool>() { 0.0 } else { log_u(&mut rng, 1e-3, 1e9) };
            let w_in = match rng.random_range(0..6) {
                0 => f32::NAN,
                1 => f32::INFINITY,
                2 => -1.0,
                3 => (hi * 2.0 + 1.0) as f32,
                _ => (lo + rng.random::<f64>() * (hi - lo)) as f32,
            };
            let w1 = rule.on_pre(w_in, &pre_r, &post_r, elapsed, &mut state);
            let w2 = rule.on_post(w_in, &pre_r, &post_r, elapsed, &mut state);
            assert!(
                inside(w1, &rule) && inside(w2, &rule),
                "case {case}: {w_in} -> {w1}, {w2} for {spec:?}"
            );
            assert!(state.is_finite(), "case {case}: state {state}");
        }

        // (3) the rate limit is finite
        for _ in 0..20 {
            let v = rule.rate_limit(
                log_u(&mut rng, 1e-3, 1e3),
                log_u(&mut rng, 1e-3, 1e3),
                lo + rng.random::<f64>() * (hi - lo),
            );
            assert!(v.is_finite(), "case {case}: rate_limit {v}");
        }
    }
}
