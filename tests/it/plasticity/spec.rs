//! Model-file side: TOML parsing and round trips, unknown fields, validation messages, and the
//! trace lists the built rules ask the engine for.

use hebb::plasticity::*;
use serde::{Deserialize, Serialize};

/// Stand-in for a projection table of a model file.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Projection {
    plasticity: RuleSpec,
}

fn parse(src: &str) -> Result<RuleSpec, toml::de::Error> {
    toml::from_str::<Projection>(src).map(|p| p.plasticity)
}

const PAIR: &str = r#"
[plasticity]
rule = "pair_stdp"
a_plus = 0.005          # weight units
tau_plus = 16.8         # ms
a_minus = 0.00525
tau_minus = 33.7
pairing = "nearest_restricted"
weight_dependence = { power_law = { mu = 0.4 } }
w_max = 1               # an integer is fine
non_hebbian = { a_pre = -1e-4, drift = 2e-6, beta = 0.01, tau_o = 50 }
"#;

const TRIPLET: &str = r#"
[plasticity]
rule = "triplet_stdp"
preset = "pfister2006_vc_nearest_full"
w_scale = 0.5
w_max = 2.0
"#;

const TRIPLET_CUSTOM: &str = r#"
[plasticity]
rule = "triplet_stdp"
pairing = "nearest_spike"
a2_plus = 0.0
a3_plus = 6.5e-3
a2_minus = 7.1e-3
a3_minus = 0.0
tau_plus = 16.8
tau_minus = 33.7
tau_y = 114
w_min = 0.1
w_max = 3
"#;

const VOGELS: &str = r#"
[plasticity]
rule = "vogels2011"
eta = 1e-3
tau = 20
rho0 = 3                # Hz
anti_hebbian = true
w_max = 100
"#;

#[test]
fn toml_snippets_parse_validate_build_and_round_trip() {
    for src in [PAIR, TRIPLET, TRIPLET_CUSTOM, VOGELS] {
        let spec = parse(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
        spec.validate().unwrap_or_else(|e| panic!("{e:?}\n{src}"));
        let rule = spec.build();
        assert!(rule.w_min() < rule.w_max());
        let text = toml::to_string(&Projection { plasticity: spec.clone() }).unwrap();
        assert_eq!(parse(&text).unwrap(), spec, "round trip of\n{text}");
    }
    // the values arrive where they belong
    let RuleSpec::PairStdp(p) = parse(PAIR).unwrap() else { panic!() };
    assert_eq!(p.pairing, Pairing::NearestRestricted);
    assert_eq!(p.weight_dependence, WeightDependence::PowerLaw { mu: 0.4 });
    assert_eq!((p.w_min, p.w_max), (0.0, 1.0));
    assert_eq!(
        p.non_hebbian,
        NonHebbianSpec {
            a_pre: -1e-4,
            a_post: 0.0,
            drift: 2e-6,
            beta: 0.01,
            tau_o: Some(50.0)
        }
    );
    let Rule::Vogels(v) = parse(VOGELS).unwrap().build() else {
        panic!()
    };
    assert!((v.alpha() - 2.0 * 3.0 * 0.020).abs() < 1e-15); // rho0 Hz x tau s
    assert!((v.target_rate_hz() - 3.0).abs() < 1e-12);
}

#[test]
fn defaults_apply() {
    let spec = parse("[plasticity]\nrule = \"pair_stdp\"\na_plus = 1\ntau_plus = 20\na_minus = 1\ntau_minus = 20\nw_max = 5\n").unwrap();
    let RuleSpec::PairStdp(p) = &spec else { panic!() };
    assert_eq!(p.pairing, Pairing::AllToAll);
    assert_eq!(p.weight_dependence, WeightDependence::Additive);
    assert_eq!(p.w_min, 0.0);
    assert_eq!(p.non_hebbian, NonHebbianSpec::default());
    let mult = parse("[plasticity]\nrule = \"pair_stdp\"\na_plus = 1\ntau_plus = 20\na_minus = 1\ntau_minus = 20\nw_max = 5\nweight_dependence = \"multiplicative\"\n").unwrap();
    let RuleSpec::PairStdp(p) = &mult else { panic!() };
    assert_eq!(p.weight_dependence, WeightDependence::Multiplicative);
}

#[test]
fn unknown_fields_and_names_are_rejected() {
    let bad = [
        PAIR.replace("tau_plus =", "tau_plsu ="),
        PAIR.replace("beta = 0.01", "gamma = 0.01"),
        PAIR.replace("\"nearest_restricted\"", "\"nearest\""),
        PAIR.replace("power_law = { mu = 0.4 }", "power_law = { mu = 0.4, nu = 1 }"),
        PAIR.replace("pair_stdp", "pair_stpd"),
        TRIPLET.replace("w_scale", "scale"),
        TRIPLET.replace("pfister2006_vc_nearest_full", "pfister2006_hippocampus"),
        VOGELS.replace("rho0", "rho_0"),
        VOGELS.replace("w_max = 100", ""), // required
    ];
    for src in bad {
        assert!(parse(&src).is_err(), "accepted:\n{src}");
    }
}

fn fields(spec: &RuleSpec) -> Vec<String> {
    spec.validate().err().unwrap_or_default().into_iter().map(|e| e.field).collect()
}

fn pair_spec() -> PairStdpSpec {
    let RuleSpec::PairStdp(p) = parse(PAIR).unwrap() else { panic!() };
    p
}

#[test]
fn validation_names_every_bad_field() {
    let mut p = pair_spec();
    p.tau_plus = 0.0;
    p.a_minus = -1.0;
    p.a_plus = f64::NAN;
    p.weight_dependence = WeightDependence::PowerLaw { mu: 1.5 };
    p.w_min = 2.0;
    p.non_hebbian.tau_o = None;
    p.non_hebbian.drift = f64::INFINITY;
    let f = fields(&RuleSpec::PairStdp(p));
    for want in [
        "plasticity.tau_plus",
        "plasticity.a_minus",
        "plasticity.a_plus",
        "plasticity.weight_dependence.power_law.mu",
        "plasticity.w_max",
        "plasticity.non_hebbian.tau_o",
        "plasticity.non_hebbian.drift",
    ] {
        assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
    }
    // messages carry the value and the allowed range
    let mut p = pair_spec();
    p.tau_minus = -3.0;
    let e = RuleSpec::PairStdp(p).validate().unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].to_string(), "plasticity.tau_minus = -3: must be finite and > 0");

    let mut p = pair_spec();
    p.w_min = -0.1;
    assert_eq!(fields(&RuleSpec::PairStdp(p)), ["plasticity.w_min"]);
    let mut p = pair_spec();
    p.w_max = 1e40; // not an f32
    assert_eq!(fields(&RuleSpec::PairStdp(p)), ["plasticity.w_max"]);

    // triplet: preset excludes parameters; w_scale needs a preset; missing amplitudes / taus
    let RuleSpec::TripletStdp(mut t) = parse(TRIPLET).unwrap() else {
        panic!()
    };
    t.a2_plus = Some(1e-3);
    t.pairing = Some(TripletPairing::AllToAll);
    t.w_scale = Some(0.0);
    let f = fields(&RuleSpec::TripletStdp(t));
    assert_eq!(f, ["plasticity.pairing", "plasticity.a2_plus", "plasticity.w_scale"]);
    let RuleSpec::TripletStdp(mut t) = parse(TRIPLET_CUSTOM).unwrap() else {
        panic!()
    };
    t.w_scale = Some(2.0);
    t.a3_minus = Some(1e-3); // needs tau_x
    t.tau_y = None; // needed by a3_plus > 0
    t.a2_minus = None;
    let f = fields(&RuleSpec::TripletStdp(t));
    assert_eq!(
        f,
        ["plasticity.w_scale", "plasticity.a2_minus", "plasticity.tau_x", "plasticity.tau_y"]
    );

    // vogels: exactly one of alpha and rho0
    let RuleSpec::Vogels2011(mut v) = parse(VOGELS).unwrap() else {
        panic!()
    };
    v.alpha = Some(0.1);
    assert_eq!(fields(&RuleSpec::Vogels2011(v.clone())), ["plasticity.alpha"]);
    v.alpha = None;
    v.rho0 = None;
    assert_eq!(fields(&RuleSpec::Vogels2011(v.clone())), ["plasticity.alpha"]);
    v.rho0 = Some(-1.0);
    v.eta = -1.0;
    v.tau = 0.0;
    assert_eq!(
        fields(&RuleSpec::Vogels2011(v)),
        ["plasticity.eta", "plasticity.tau", "plasticity.rho0"]
    );
}

#[test]
fn invalid_spec_does_not_build() {
    let mut p = pair_spec();
    p.tau_plus = 0.0;
    let spec = RuleSpec::PairStdp(p);
    assert!(spec.try_build().is_err());
    assert!(std::panic::catch_unwind(|| spec.build()).is_err());
}

#[test]
fn preset_w_scale_scales_the_amplitudes() {
    let one = parse(&TRIPLET.replace("w_scale = 0.5\n", "")).unwrap().build();
    let half = parse(TRIPLET).unwrap().build();
    for (x, y) in [(5.0, 10.0), (30.0, 40.0)] {
        assert!((half.rate_limit(x, y, 1.0) - 0.5 * one.rate_limit(x, y, 1.0)).abs() < 1e-15);
    }
}

#[test]
fn trace_lists_follow_the_scheme() {
    use TraceKind::{Accumulate as A, Nearest as N};
    let spec = |pairing, beta: f64, tau_o| {
        let mut p = pair_spec();
        p.pairing = pairing;
        p.non_hebbian = NonHebbianSpec {
            beta,
            tau_o,
            ..Default::default()
        };
        RuleSpec::PairStdp(p).build()
    };
    let kinds = |t: &[TraceSpec]| t.iter().map(|t| (t.tau_ms, t.kind)).collect::<Vec<_>>();
    let r = spec(Pairing::AllToAll, 0.0, None);
    assert_eq!((kinds(r.pre_traces()), kinds(r.post_traces())), (vec![(16.8, A)], vec![(33.7, A)]));
    assert!(!r.needs_synapse_state());
    let r = spec(Pairing::NearestSymmetric, 0.0, None);
    assert_eq!((kinds(r.pre_traces()), kinds(r.post_traces())), (vec![(16.8, N)], vec![(33.7, N)]));
    let r = spec(Pairing::NearestRestricted, 0.1, Some(50.0));
    assert_eq!(
        (kinds(r.pre_traces()), kinds(r.post_traces())),
        (vec![(16.8, N)], vec![(33.7, N), (50.0, A)])
    );
    assert!(!r.needs_synapse_state());
    let r = spec(Pairing::PresynapticCentred, 0.0, None);
    assert_eq!((kinds(r.pre_traces()), kinds(r.post_traces())), (vec![(16.8, A)], vec![(33.7, N)]));
    assert!(r.needs_synapse_state());
    // o shares the pairing trace when equal
    let r = spec(Pairing::AllToAll, 0.1, Some(33.7));
    assert_eq!(kinds(r.post_traces()), vec![(33.7, A)]);

    let r = parse(TRIPLET).unwrap().build(); // nearest full: r1, r2, o1, o2
    assert_eq!(kinds(r.pre_traces()), vec![(16.8, N), (714.0, N)]);
    assert_eq!(kinds(r.post_traces()), vec![(33.7, N), (40.0, N)]);
    let r = parse(TRIPLET_CUSTOM).unwrap().build(); // minimal: no r2
    assert_eq!(kinds(r.pre_traces()), vec![(16.8, N)]);
    assert_eq!(kinds(r.post_traces()), vec![(33.7, N), (114.0, N)]);
    let r = parse(VOGELS).unwrap().build();
    assert_eq!((kinds(r.pre_traces()), kinds(r.post_traces())), (vec![(20.0, A)], vec![(20.0, A)]));
}
