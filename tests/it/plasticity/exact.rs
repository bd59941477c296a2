//! Exact checks: single pairs, the pairing-scheme definitions (brute force over spike lists,
//! written from plasticity.md §1.4 without traces), triplet = pair when A3 = 0, and independence
//! of the call order within a step.

use std::collections::HashMap;

use super::harness::{poisson_pair, run_trains, Event, Order, Synapse, DT_MS};
use hebb::plasticity::*;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const TAU_P: f64 = 16.8;
const TAU_M: f64 = 33.7;

const SCHEMES: [Pairing; 4] = [
    Pairing::AllToAll,
    Pairing::NearestSymmetric,
    Pairing::PresynapticCentred,
    Pairing::NearestRestricted,
];

fn pair_rule(pairing: Pairing, a_plus: f64, a_minus: f64) -> Rule {
    RuleSpec::PairStdp(PairStdpSpec {
        a_plus,
        tau_plus: TAU_P,
        a_minus,
        tau_minus: TAU_M,
        pairing,
        weight_dependence: WeightDependence::Additive,
        w_min: 0.0,
        w_max: 1.0,
        non_hebbian: NonHebbianSpec::default(),
    })
    .build()
}

fn triplet_rule(pairing: TripletPairing, a: [f64; 4], tau_x: f64, tau_y: f64, nh: NonHebbianSpec) -> Rule {
    RuleSpec::TripletStdp(TripletStdpSpec {
        pairing: Some(pairing),
        a2_plus: Some(a[0]),
        a3_plus: Some(a[1]),
        a2_minus: Some(a[2]),
        a3_minus: Some(a[3]),
        tau_plus: Some(TAU_P),
        tau_minus: Some(TAU_M),
        tau_x: Some(tau_x),
        tau_y: Some(tau_y),
        w_max: 1.0,
        non_hebbian: nh,
        ..Default::default()
    })
    .build()
}

/// Weight change of one isolated pair: first spike at 5 ms, the other `lag_ms` later.
fn one_pair(rule: &Rule, pre_first: bool, lag_ms: f64) -> f64 {
    let k0 = 50u64;
    let k1 = k0 + (lag_ms / DT_MS).round() as u64;
    let (pre, post) = if pre_first { (vec![k0], vec![k1]) } else { (vec![k1], vec![k0]) };
    let mut syn = Synapse::new(rule, 0.5);
    run_trains(&mut syn, &pre, &post, Order::PreFirst, 0);
    f64::from(syn.w) - 0.5
}

#[test]
fn single_pair_gives_the_exponential_window() {
    let (ap, am) = (0.01, 0.0105);
    let mut rules: Vec<(String, Rule)> = SCHEMES.iter().map(|&s| (format!("pair {s:?}"), pair_rule(s, ap, am))).collect();
    for tp in [TripletPairing::AllToAll, TripletPairing::NearestSpike] {
        // triplet factors are 0 for an isolated pair (the slow traces are read before the spike)
        rules.push((
            format!("triplet {tp:?}"),
            triplet_rule(tp, [ap, 0.02, am, 0.03], 101.0, 125.0, Default::default()),
        ));
    }
    for (name, rule) in &rules {
        for lag in [0.1, 1.0, 5.0, 10.0, 17.3, 33.7, 50.0, 100.0] {
            let ltp = one_pair(rule, true, lag);
            let ltd = one_pair(rule, false, lag);
            assert!((ltp - ap * (-lag / TAU_P).exp()).abs() < 1e-6, "{name} lag +{lag}: {ltp}");
            assert!((ltd + am * (-lag / TAU_M).exp()).abs() < 1e-6, "{name} lag -{lag}: {ltd}");
        }
    }
}

#[test]
fn same_step_pre_and_post_do_not_pair() {
    let mut rules: Vec<Rule> = SCHEMES.iter().map(|&s| pair_rule(s, 0.01, 0.01)).collect();
    rules.push(triplet_rule(
        TripletPairing::AllToAll,
        [0.01, 0.01, 0.01, 0.01],
        101.0,
        125.0,
        Default::default(),
    ));
    rules.push(triplet_rule(
        TripletPairing::NearestSpike,
        [0.01, 0.01, 0.01, 0.01],
        101.0,
        125.0,
        Default::default(),
    ));
    for rule in &rules {
        for order in [Order::PreFirst, Order::PostFirst] {
            let mut syn = Synapse::new(rule, 0.5);
            run_trains(&mut syn, &[100], &[100], order, 0);
            assert_eq!(syn.w, 0.5, "{rule:?} {order:?}");
        }
    }
    // Vogels: only the non-pair -eta alpha of the pre spike remains
    let v = RuleSpec::Vogels2011(VogelsSpec {
        eta: 0.01,
        tau: 20.0,
        alpha: Some(0.2),
        rho0: None,
        anti_hebbian: false,
        w_min: 0.0,
        w_max: 1.0,
    })
    .build();
    for order in [Order::PreFirst, Order::PostFirst] {
        let mut syn = Synapse::new(&v, 0.5);
        run_trains(&mut syn, &[100], &[100], order, 0);
        assert!((f64::from(syn.w) - 0.5 + 0.01 * 0.2).abs() < 1e-7, "{order:?}: {}", syn.w);
    }
}

// ---------------------------------------------------------------------------------------------
// Brute force from the definitions (step indices, so "before"/"same step" are exact)

fn kern(steps: u64, tau: f64) -> f64 {
    (-(steps as f64) * DT_MS / tau).exp()
}

fn last_before(v: &[u64], k: u64) -> Option<u64> {
    v.iter().copied().filter(|&x| x < k).max()
}

/// Expected pairing factor of every call, keyed by (step, is_pre): K+ at post, K- at pre.
fn brute_pair(pairing: Pairing, pre: &[u64], post: &[u64]) -> HashMap<(u64, bool), f64> {
    let mut m = HashMap::new();
    for &q in post {
        let prev_post = last_before(post, q);
        let k = match pairing {
            Pairing::AllToAll => pre.iter().filter(|&&p| p < q).map(|&p| kern(q - p, TAU_P)).sum(),
            Pairing::NearestSymmetric => last_before(pre, q).map_or(0.0, |p| kern(q - p, TAU_P)),
            // every pre since the previous post (a pre in the same step as that post is after it)
            Pairing::PresynapticCentred => pre
                .iter()
                .filter(|&&p| p < q && prev_post.is_none_or(|qp| p >= qp))
                .map(|&p| kern(q - p, TAU_P))
                .sum(),
            // nearest pre, only if strictly later than the previous post
            Pairing::NearestRestricted => match last_before(pre, q) {
                Some(p) if prev_post.is_none_or(|qp| p > qp) => kern(q - p, TAU_P),
                _ => 0.0,
            },
        };
        m.insert((q, false), k);
    }
    for &p in pre {
        let prev_pre = last_before(pre, p);
        let k = match pairing {
            Pairing::AllToAll => post.iter().filter(|&&q| q < p).map(|&q| kern(p - q, TAU_M)).sum(),
            Pairing::NearestSymmetric | Pairing::PresynapticCentred => last_before(post, p).map_or(0.0, |q| kern(p - q, TAU_M)),
            Pairing::NearestRestricted => match last_before(post, p) {
                Some(q) if prev_pre.is_none_or(|pp| q > pp) => kern(p - q, TAU_M),
                _ => 0.0,
            },
        };
        m.insert((p, true), k);
    }
    m
}

/// Random trains on a 1 ms grid at 100 Hz (10 % of spikes coincide with a partner spike), or
/// on the 0.1 ms grid.
fn trains(seed: u64, coarse: bool) -> (Vec<u64>, Vec<u64>) {
    if coarse {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut draw = || {
            (0..3000u64)
                .filter(|_| rng.random::<f64>() < 0.1)
                .map(|j| 10 * j)
                .collect::<Vec<_>>()
        };
        let pre = draw();
        let post = draw();
        (pre, post)
    } else {
        poisson_pair(30.0, 40.0, 30_000, seed)
    }
}

fn frozen_events(rule: &Rule, pre: &[u64], post: &[u64], order: Order) -> Vec<Event> {
    let mut syn = Synapse::new(rule, 0.3);
    syn.frozen = Some(0.3);
    run_trains(&mut syn, pre, post, order, 7)
}

/// One f32 ulp at 0.3 bounds the rounding of w0 + dw (w stays in [0.25, 0.5)).
const F32_TOL: f64 = 3e-8;

#[test]
fn pairing_schemes_match_their_definitions() {
    let a = 0.01;
    for pairing in SCHEMES {
        let rule = pair_rule(pairing, a, a);
        for (seed, coarse) in [(1, true), (2, true), (3, false)] {
            let (pre, post) = trains(seed, coarse);
            let want = brute_pair(pairing, &pre, &post);
            for order in [Order::PreFirst, Order::PostFirst, Order::Random] {
                let ev = frozen_events(&rule, &pre, &post, order);
                assert_eq!(ev.len(), pre.len() + post.len());
                for e in ev {
                    let k = want[&((e.t / DT_MS).round() as u64, e.is_pre)];
                    let dw = if e.is_pre { -a * k } else { a * k };
                    assert!(
                        (e.dw - dw).abs() < F32_TOL,
                        "{pairing:?} {order:?} t={} pre={}: {} vs {dw}",
                        e.t,
                        e.is_pre,
                        e.dw
                    );
                }
            }
        }
    }
}

#[test]
fn triplet_matches_its_definition() {
    let amp = [2e-4, 6e-4, 5e-4, 4e-4]; // |dw| < 0.05 at 100 Hz: no clamping
    let (tx, ty) = (101.0, 125.0);
    for pairing in [TripletPairing::AllToAll, TripletPairing::NearestSpike] {
        let rule = triplet_rule(pairing, amp, tx, ty, Default::default());
        // trace value at step k from the spikes strictly before k
        let tr = |v: &[u64], k: u64, tau: f64| -> f64 {
            match pairing {
                TripletPairing::AllToAll => v.iter().filter(|&&s| s < k).map(|&s| kern(k - s, tau)).sum(),
                TripletPairing::NearestSpike => last_before(v, k).map_or(0.0, |s| kern(k - s, tau)),
            }
        };
        for (seed, coarse) in [(11, true), (12, false)] {
            let (pre, post) = trains(seed, coarse);
            for order in [Order::PreFirst, Order::PostFirst] {
                for e in frozen_events(&rule, &pre, &post, order) {
                    let k = (e.t / DT_MS).round() as u64;
                    let dw = if e.is_pre {
                        -tr(&post, k, TAU_M) * (amp[2] + amp[3] * tr(&pre, k, tx))
                    } else {
                        tr(&pre, k, TAU_P) * (amp[0] + amp[1] * tr(&post, k, ty))
                    };
                    assert!(
                        (e.dw - dw).abs() < F32_TOL,
                        "{pairing:?} t={} pre={}: {} vs {dw}",
                        e.t,
                        e.is_pre,
                        e.dw
                    );
                }
            }
        }
    }
}

#[test]
fn vogels_matches_its_definition() {
    let (eta, alpha, tau) = (0.002, 0.3, 20.0);
    for anti in [false, true] {
        let rule = RuleSpec::Vogels2011(VogelsSpec {
            eta,
            tau,
            alpha: Some(alpha),
            rho0: None,
            anti_hebbian: anti,
            w_min: 0.0,
            w_max: 1.0,
        })
        .build();
        let s = if anti { -1.0 } else { 1.0 };
        let x = |v: &[u64], k: u64| -> f64 { v.iter().filter(|&&t| t < k).map(|&t| kern(k - t, tau)).sum() };
        let (pre, post) = trains(21, true);
        for e in frozen_events(&rule, &pre, &post, Order::Random) {
            let k = (e.t / DT_MS).round() as u64;
            let dw = if e.is_pre {
                s * eta * (x(&post, k) - alpha)
            } else {
                s * eta * x(&pre, k)
            };
            assert!((e.dw - dw).abs() < F32_TOL, "anti={anti} t={}: {} vs {dw}", e.t, e.dw);
        }
    }
}

/// Triplet with A3+ = A3- = 0 is the pair rule (all-to-all; nearest-spike = nearest_symmetric),
/// with the weight evolving, non-Hebbian terms included, on random trains.
#[test]
fn triplet_without_triplet_terms_equals_pair_rule() {
    let nh = NonHebbianSpec {
        a_pre: 1e-4,
        a_post: -2e-4,
        drift: 3e-6,
        beta: 0.01,
        tau_o: Some(40.0),
    };
    for (tp, pp) in [
        (TripletPairing::AllToAll, Pairing::AllToAll),
        (TripletPairing::NearestSpike, Pairing::NearestSymmetric),
    ] {
        let trip = triplet_rule(tp, [4e-3, 0.0, 3e-3, 0.0], 101.0, 125.0, nh);
        let pair = RuleSpec::PairStdp(PairStdpSpec {
            a_plus: 4e-3,
            tau_plus: TAU_P,
            a_minus: 3e-3,
            tau_minus: TAU_M,
            pairing: pp,
            weight_dependence: WeightDependence::Additive,
            w_min: 0.0,
            w_max: 1.0,
            non_hebbian: nh,
        })
        .build();
        let (pre, post) = poisson_pair(25.0, 15.0, 2_000_000, 5); // 200 s
        let mut s1 = Synapse::new(&trip, 0.5);
        let mut s2 = Synapse::new(&pair, 0.5);
        let e1 = run_trains(&mut s1, &pre, &post, Order::Random, 9);
        let e2 = run_trains(&mut s2, &pre, &post, Order::Random, 9);
        assert_eq!(e1.len(), e2.len());
        let mut w = 0.0;
        for (a, b) in e1.iter().zip(&e2) {
            assert!((a.dw - b.dw).abs() <= 1e-12, "{tp:?} t={}: {} vs {}", a.t, a.dw, b.dw);
            w += a.dw;
        }
        assert!((f64::from(s1.w) - f64::from(s2.w)).abs() <= 1e-12);
        assert!(w.abs() > 1e-3, "the weight must actually move ({w})");
    }
}

/// Every rule pairs identically whichever of on_pre/on_post the engine calls first in a step.
/// (Without `drift`: the lazily applied drift goes to whichever call comes first.)
#[test]
fn call_order_within_a_step_does_not_matter() {
    let nh = NonHebbianSpec {
        a_pre: 1e-4,
        a_post: -2e-4,
        drift: 0.0,
        beta: 0.01,
        tau_o: Some(40.0),
    };
    let mut rules: Vec<Rule> = SCHEMES.iter().map(|&s| pair_rule(s, 0.01, 0.012)).collect();
    rules.push(triplet_rule(TripletPairing::AllToAll, [2e-3, 6e-3, 5e-3, 4e-3], 101.0, 125.0, nh));
    rules.push(triplet_rule(
        TripletPairing::NearestSpike,
        [2e-3, 6e-3, 5e-3, 4e-3],
        714.0,
        40.0,
        nh,
    ));
    let (pre, post) = trains(31, true);
    for rule in &rules {
        let key = |ev: Vec<Event>| {
            let mut m: Vec<_> = ev
                .into_iter()
                .map(|e| ((e.t / DT_MS).round() as u64, e.is_pre, e.dw.to_bits()))
                .collect();
            m.sort();
            m
        };
        assert_eq!(
            key(frozen_events(rule, &pre, &post, Order::PreFirst)),
            key(frozen_events(rule, &pre, &post, Order::PostFirst)),
            "{rule:?}"
        );
    }
}
