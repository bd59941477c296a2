//! Spiking rule vs. its rate limit: independent discretised Poisson trains (dt = 0.1 ms) through
//! the reference event loop; the measured mean drift must equal `rate_limit` within 3 % and
//! within 4 standard errors (batch means, see `harness::measure_drift`).

use super::harness::{assert_drift, measure_drift};
use hebb::plasticity::*;

/// Target standard error, relative to |predicted| (see `harness::measure_drift`).
const REL_SE: f64 = 0.005;

/// Rate pairs (nu_pre, nu_post) in Hz.
const RATES: [(f64, f64); 3] = [(5.0, 20.0), (20.0, 5.0), (12.0, 12.0)];

/// Frozen weight, far from the bounds [0, 1] (no clipping).
const W0: f32 = 0.3;

/// All four non-Hebbian terms at once. They push the same way as the (LTD-dominated) pair
/// part, so the total never nearly cancels (which would inflate the relative SE), and each is
/// at least 14 % of the total at one of the rate pairs (all-to-all: a_pre 32 % at (20,5);
/// a_post, drift 15 % and beta 18 % at (5,20); larger shares for the nearest schemes), so a wrong
/// sign or factor in any of them shows as an error far above 3 %.
fn all_terms() -> NonHebbianSpec {
    NonHebbianSpec {
        a_pre: -4e-4,
        a_post: -2e-4,
        drift: -4e-6,
        beta: 8e-4,
        tau_o: Some(50.0),
    }
}

/// Pair rule with tau+ = 30 ms, tau- = 50 ms: longer than the Bi & Poo values so that the
/// O(dt / 2 tau) discretisation bias of the harness stays below 0.2 % (0.4 SE); the scheme
/// denominators (1 + nu tau) still range over 1.15-2.6 at the rates used.
fn pair(pairing: Pairing, weight_dependence: WeightDependence, a_minus: f64, non_hebbian: NonHebbianSpec) -> Rule {
    let spec = RuleSpec::PairStdp(PairStdpSpec {
        a_plus: 1e-3,
        tau_plus: 30.0,
        a_minus,
        tau_minus: 50.0,
        pairing,
        weight_dependence,
        w_min: 0.0,
        w_max: 1.0,
        non_hebbian,
    });
    spec.validate().unwrap();
    spec.build()
}

/// Checks one rule at every rate pair; `seed` distinguishes the runs.
fn check_rule(label: &str, rule: &Rule, w0: f32, rates: &[(f64, f64)], seed: u64) {
    for (i, &(nu_pre, nu_post)) in rates.iter().enumerate() {
        let predicted = rule.rate_limit(nu_pre, nu_post, f64::from(w0));
        let d = measure_drift(rule, nu_pre, nu_post, w0, REL_SE * predicted.abs(), seed * 100 + i as u64);
        assert_drift(&format!("{label} nu=({nu_pre},{nu_post})"), d, predicted, predicted.abs());
    }
}

fn check_pair_scheme(pairing: Pairing, seed: u64) {
    // A- chosen so that |LTP - LTD| >= 0.34 (LTP + LTD) for every scheme and rate pair:
    // additive LTD-dominated, multiplicative and power-law LTP-dominated
    let cfgs = [
        ("additive", WeightDependence::Additive, 3e-3, NonHebbianSpec::default()),
        (
            "multiplicative",
            WeightDependence::Multiplicative,
            0.5e-3,
            NonHebbianSpec::default(),
        ),
        (
            "power_law(0.4)",
            WeightDependence::PowerLaw { mu: 0.4 },
            0.3e-3,
            NonHebbianSpec::default(),
        ),
        ("additive+non_hebbian", WeightDependence::Additive, 3e-3, all_terms()),
    ];
    for (j, (name, wd, a_minus, nh)) in cfgs.into_iter().enumerate() {
        let rule = pair(pairing, wd, a_minus, nh);
        check_rule(&format!("pair {pairing:?} {name}"), &rule, W0, &RATES, seed * 10 + j as u64);
    }
}

#[test]
fn pair_all_to_all_matches_rate_limit() {
    check_pair_scheme(Pairing::AllToAll, 1);
}

#[test]
fn pair_nearest_symmetric_matches_rate_limit() {
    check_pair_scheme(Pairing::NearestSymmetric, 2);
}

#[test]
fn pair_presynaptic_centred_matches_rate_limit() {
    check_pair_scheme(Pairing::PresynapticCentred, 3);
}

#[test]
fn pair_nearest_restricted_matches_rate_limit() {
    check_pair_scheme(Pairing::NearestRestricted, 4);
}

fn preset(p: TripletPreset) -> Rule {
    RuleSpec::TripletStdp(TripletStdpSpec {
        preset: Some(p),
        w_max: 10.0,
        ..Default::default()
    })
    .build()
}

/// Rates away from the BCM thresholds (~19 Hz for the all-to-all rows).
const TRIPLET_RATES: [(f64, f64); 3] = [(10.0, 5.0), (10.0, 40.0), (30.0, 5.0)];

#[test]
fn triplet_all_to_all_presets_match_rate_limit() {
    check_rule(
        "triplet vc_all_to_all_minimal",
        &preset(TripletPreset::Pfister2006VcAllToAllMinimal),
        1.0,
        &TRIPLET_RATES,
        51,
    );
    check_rule(
        "triplet vc_all_to_all_full",
        &preset(TripletPreset::Pfister2006VcAllToAllFull),
        1.0,
        &TRIPLET_RATES,
        52,
    );
}

#[test]
fn triplet_nearest_presets_match_rate_limit() {
    check_rule(
        "triplet vc_nearest_minimal",
        &preset(TripletPreset::Pfister2006VcNearestMinimal),
        1.0,
        &TRIPLET_RATES,
        53,
    );
    check_rule(
        "triplet vc_nearest_full",
        &preset(TripletPreset::Pfister2006VcNearestFull),
        1.0,
        &TRIPLET_RATES,
        54,
    );
}

/// Custom triplet rules with all four amplitudes and all non-Hebbian terms, both schemes.
#[test]
fn triplet_with_non_hebbian_terms_matches_rate_limit() {
    for (k, pairing) in [TripletPairing::AllToAll, TripletPairing::NearestSpike].into_iter().enumerate() {
        let spec = RuleSpec::TripletStdp(TripletStdpSpec {
            pairing: Some(pairing),
            a2_plus: Some(2e-3),
            a3_plus: Some(6e-3),
            a2_minus: Some(5e-3),
            a3_minus: Some(1e-3),
            tau_plus: Some(16.8),
            tau_minus: Some(33.7),
            tau_x: Some(101.0),
            tau_y: Some(125.0),
            w_max: 1.0,
            non_hebbian: NonHebbianSpec {
                a_pre: -2e-4,
                a_post: -2e-4,
                drift: -1e-6,
                beta: 2e-3,
                tau_o: Some(40.0),
            },
            ..Default::default()
        });
        spec.validate().unwrap();
        check_rule(
            &format!("triplet custom {pairing:?} + non_hebbian"),
            &spec.build(),
            W0,
            &TRIPLET_RATES,
            60 + k as u64,
        );
    }
}

fn vogels(anti_hebbian: bool) -> Rule {
    RuleSpec::Vogels2011(VogelsSpec {
        eta: 1e-3,
        tau: 20.0,
        alpha: Some(0.2),
        rho0: None,
        anti_hebbian,
        w_min: 0.0,
        w_max: 1.0,
    })
    .build()
}

#[test]
fn vogels_matches_rate_limit() {
    let rates = [(10.0, 2.0), (10.0, 10.0), (25.0, 8.0)];
    check_rule("vogels", &vogels(false), 0.5, &rates, 71);
    check_rule("vogels anti-Hebbian", &vogels(true), 0.5, &rates, 72);
}
