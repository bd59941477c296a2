//! Plasticity-experiment protocols (`src/protocol/`, `models/protocols/`): the Sjöström
//! frequency protocol against the model table and the data of plasticity.md §2.3, the pair rule
//! under the same protocol, the window protocol against the rules' closed forms, frozen test
//! pulses, EPSP against weight with conductance synapses, post-spike methods, bad input, output
//! files.
//!
//! The §2.3 table values are reference values (the document's exact event-driven evaluation) and
//! are used with the issue's tolerance of 0.02; every other expectation is computed here from the
//! rule's definition or an independent integration, never copied from a run.

use super::common::model_path;
use hebb::protocol::{self, Options, ProtocolSpec, Purpose, Report, TrialResult};
use hebb::Error;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn file(name: &str) -> PathBuf {
    model_path(&format!("protocols/{name}"))
}

fn load(name: &str, purpose: Purpose) -> (ProtocolSpec, PathBuf) {
    let p = file(name);
    let (spec, _) = protocol::load(&p, purpose).unwrap_or_else(|e| panic!("{e}"));
    (spec, p)
}

fn run_file(name: &str, purpose: Purpose) -> Report {
    let (spec, p) = load(name, purpose);
    protocol::run(&spec, purpose, &p, 0).unwrap_or_else(|e| panic!("{e}"))
}

fn run_text(text: &str, purpose: Purpose) -> Report {
    let p = Path::new("inline.toml");
    let spec = protocol::parse(text, p, purpose).unwrap_or_else(|e| panic!("{e}"));
    protocol::run(&spec, purpose, p, 0).unwrap_or_else(|e| panic!("{e}"))
}

const FREQS: [f64; 5] = [0.1, 10.0, 20.0, 40.0, 50.0];

/// plasticity.md §2.3, "expected model outputs" [C]: rows x frequencies x (+10 ms, -10 ms).
const TABLE: [(&str, [[f64; 2]; 5]); 4] = [
    (
        "sjostrom2001_all_to_all_minimal.toml",
        [[0.000, -0.317], [0.119, -0.332], [0.228, -0.342], [0.532, 0.174], [0.763, 0.749]],
    ),
    (
        "sjostrom2001_all_to_all_full.toml",
        [[0.000, -0.312], [0.132, -0.334], [0.247, -0.352], [0.534, 0.155], [0.741, 0.727]],
    ),
    (
        "sjostrom2001_nearest_minimal.toml",
        [[0.000, -0.357], [0.101, -0.356], [0.322, -0.279], [0.568, 0.290], [0.636, 0.630]],
    ),
    (
        "sjostrom2001_nearest_full.toml",
        [[0.000, -0.294], [0.104, -0.411], [0.323, -0.338], [0.560, 0.260], [0.624, 0.619]],
    ),
];

/// plasticity.md §2.3 data (Sjöström et al. 2001): (Hz, mean +10, SEM, mean -10, SEM).
const DATA: [(f64, f64, f64, f64, f64); 5] = [
    (0.1, -0.04, 0.05, -0.29, 0.08),
    (10.0, 0.14, 0.10, -0.41, 0.11),
    (20.0, 0.29, 0.14, -0.34, 0.10),
    (40.0, 0.53, 0.11, 0.56, 0.32),
    (50.0, 0.56, 0.26, 0.75, 0.19),
];

/// The four triplet frequency sweeps, run once and shared by the tests below.
fn sjostrom_reports() -> &'static [Report] {
    static R: OnceLock<Vec<Report>> = OnceLock::new();
    R.get_or_init(|| TABLE.iter().map(|(f, _)| run_file(f, Purpose::Frequency)).collect())
}

fn at(r: &Report, f: f64, lag: f64) -> &TrialResult {
    r.trial(f, lag).unwrap_or_else(|| panic!("no trial at {f} Hz, {lag} ms"))
}

#[test]
fn sjostrom_protocol_reproduces_the_model_table_for_each_triplet_preset() {
    for ((name, rows), r) in TABLE.iter().zip(sjostrom_reports()) {
        let mut worst: f64 = 0.0;
        for (f, [plus, minus]) in FREQS.iter().zip(rows) {
            for (lag, expected) in [(10.0, plus), (-10.0, minus)] {
                let t = at(r, *f, lag);
                // The protocol must really have paired at the lag: every post spike on its step.
                assert!(
                    t.timing_exact(),
                    "{name} {f} Hz {lag} ms: post spikes {}/{}+{}",
                    t.post_on_target,
                    t.post_expected,
                    t.post_other
                );
                assert_eq!(t.pairings, 60);
                // Tolerance: the issue's 0.02 (the table has 3 decimals; f32 weights add < 1e-5).
                let d = t.dw_rel() - expected;
                worst = worst.max(d.abs());
                assert!(d.abs() <= 0.02, "{name} {f} Hz {lag:+} ms: {:.4} vs table {expected}", t.dw_rel());
                // Delta synapses: the measured EPSP is the weight, so its ratio is the weight ratio
                // (up to the f64 arithmetic of V, ~1e-12).
                assert!(
                    (t.psp_ratio() - t.w_ratio()).abs() < 1e-9,
                    "{name}: EPSP ratio {} vs w ratio {}",
                    t.psp_ratio(),
                    t.w_ratio()
                );
            }
        }
        // The -10 ms branch changes sign between 20 and 40 Hz.
        let (d20, d40) = (at(r, 20.0, -10.0).dw_rel(), at(r, 40.0, -10.0).dw_rel());
        assert!(
            d20 < 0.0 && d40 > 0.0,
            "{name}: -10 ms branch {d20:+.3} at 20 Hz, {d40:+.3} at 40 Hz"
        );
        println!("{name}: largest deviation from the §2.3 table {worst:.5}");
    }
}

#[test]
fn sjostrom_triplet_presets_fit_the_data_chi2_per_point_below_one() {
    for ((name, _), r) in TABLE.iter().zip(sjostrom_reports()) {
        let mut chi2 = 0.0;
        for (f, m_plus, s_plus, m_minus, s_minus) in DATA {
            chi2 += ((at(r, f, 10.0).dw_rel() - m_plus) / s_plus).powi(2);
            chi2 += ((at(r, f, -10.0).dw_rel() - m_minus) / s_minus).powi(2);
        }
        let chi2 = chi2 / 10.0;
        // plasticity.md §2.2 reports 0.23-0.36 for the four rows; the claim tested is < 1.
        assert!(chi2 < 1.0, "{name}: chi2/10 = {chi2:.3}");
        let (c, n) = r.chi2().expect("the report compares with sjostrom2001");
        assert_eq!(n, 10);
        assert!((c - chi2).abs() < 1e-12, "{name}: report chi2 {c} vs {chi2}");
        println!("{name}: chi2/10 = {chi2:.3}");
    }
}

/// All-to-all additive pair window (plasticity.md §1.1), pair interval s at the synapse.
fn pair_window(s: f64, a_plus: f64, tau_plus: f64, a_minus: f64, tau_minus: f64) -> f64 {
    if s > 0.0 {
        a_plus * (-s / tau_plus).exp()
    } else if s < 0.0 {
        -a_minus * (s / tau_minus).exp()
    } else {
        0.0 // same synapse time: the pair is not counted (engine semantics, as NEST)
    }
}

/// Sum of `w(s)` over every (pre, post) pair of the trial's pairings, with the post spikes
/// reaching the synapse one delay late: the closed form of an all-to-all additive rule.
fn all_pairs(t: &TrialResult, delay: f64, w: impl Fn(f64) -> f64) -> f64 {
    let pre: Vec<f64> = t.pairings_detail.iter().map(|p| p[0]).collect();
    let post: Vec<f64> = t.pairings_detail.iter().map(|p| p[2]).collect();
    let mut sum = 0.0;
    for &a in &pre {
        for &b in &post {
            // interval rounded to the step grid (times are k * dt)
            let s = ((b + delay - a) * 10.0).round() / 10.0;
            sum += w(s);
        }
    }
    sum
}

#[test]
fn pair_rule_under_the_sjostrom_protocol_keeps_depressing_at_minus_10_ms() {
    let r = run_file("sjostrom2001_pair.toml", Purpose::Frequency);
    let (ap, tp, am, tm) = (7.1e-3, 16.8, 7.1e-3, 33.7); // the file's rule
    let d = r.spec.delay();
    for t in &r.trials {
        assert!(t.timing_exact());
        // Closed form (every pre/post pair of the block, additive, no bound reached). Tolerance:
        // 120 updates each rounded to f32 at |w| < 2 (half an ulp <= 1.2e-7): < 1.5e-5.
        let expected = all_pairs(t, d, |s| pair_window(s, ap, tp, am, tm));
        assert!(
            (t.dw_rel() - expected).abs() < 1.5e-5,
            "{} Hz {:+} ms: engine {:.6}, closed form {expected:.6}",
            t.frequency_hz,
            t.lag_ms,
            t.dw_rel()
        );
    }
    for f in [40.0, 50.0] {
        let minus = at(&r, f, -10.0).dw_rel();
        assert!(
            minus < 0.0,
            "pair rule, {f} Hz, -10 ms: {minus:+.3} (the triplet rules potentiate here)"
        );
        println!("pair rule, {f} Hz: +10 ms {:+.3}, -10 ms {minus:+.3}", at(&r, f, 10.0).dw_rel());
    }
    // ...whereas every triplet preset potentiates there (same protocol, previous tests).
    for r in sjostrom_reports() {
        assert!(at(r, 40.0, -10.0).dw_rel() > 0.0 && at(r, 50.0, -10.0).dw_rel() > 0.0);
    }
}

#[test]
fn window_protocol_reproduces_the_closed_form_window_at_every_lag() {
    // Bi & Poo: all-to-all pair rule, 60 pairings at 1 Hz, lag = t_post + d - t_pre.
    let r = run_file("bi_poo1998_window.toml", Purpose::Window);
    let (ap, tp, am, tm) = (0.01295, 16.8, 0.00455, 33.7); // the file's rule
    let d = r.spec.delay();
    let lags = &r.spec.window.as_ref().unwrap().lags;
    assert_eq!(r.trials.len(), lags.len());
    for (t, &lag) in r.trials.iter().zip(lags) {
        assert!(t.timing_exact());
        // The realised interval at the synapse is the nominal lag for every pairing.
        assert!(t.pairings_detail.iter().all(|p| (p[3] - lag).abs() < 1e-9), "lag {lag}");
        // Closed form over all pairs; f32 rounding of 120 updates at |w| < 2: < 1.5e-5.
        let exact = all_pairs(t, d, |s| pair_window(s, ap, tp, am, tm));
        assert!((t.dw_rel() - exact).abs() < 1.5e-5, "lag {lag}: {} vs {exact}", t.dw_rel());
        // = 60 W(lag): the other pairs are >= 900 ms apart, exp(-900/16.8) < 1e-23.
        let window = 60.0 * pair_window(lag, ap, tp, am, tm);
        assert!((t.dw_rel() - window).abs() < 1.5e-5, "lag {lag}: {} vs 60 W = {window}", t.dw_rel());
    }

    // Vogels: one pairing changes w by eta (exp(-|s|/tau) - alpha) (alpha at every pre spike).
    let r = run_file("vogels2011_window.toml", Purpose::Window);
    let (eta, tau, alpha) = (0.035, 20.0, 0.25);
    let d = r.spec.delay();
    for t in &r.trials {
        assert!(t.timing_exact());
        let pairs = all_pairs(t, d, |s| if s == 0.0 { 0.0 } else { eta * (-s.abs() / tau).exp() });
        let expected = pairs - t.pairings_detail.len() as f64 * eta * alpha;
        // f32 rounding of 120 updates at w < 8 nS (half an ulp <= 4.8e-7): < 6e-5 nS.
        let dw = f64::from(t.w_after) - f64::from(t.w_before);
        assert!((dw - expected).abs() < 6e-5, "Vogels lag {}: {dw} vs {expected}", t.lag_ms);
        let window = 60.0 * eta * (if t.lag_ms == 0.0 { 0.0 } else { (-t.lag_ms.abs() / tau).exp() } - alpha);
        assert!(
            (dw - window).abs() < 6e-5,
            "Vogels lag {}: {dw} vs 60 (W - alpha) = {window}",
            t.lag_ms
        );
    }
}

#[test]
fn test_pulses_with_plasticity_frozen_leave_the_weight_bit_identical() {
    let names = [
        "sjostrom2001_all_to_all_minimal.toml",
        "sjostrom2001_all_to_all_full.toml",
        "sjostrom2001_nearest_minimal.toml",
        "sjostrom2001_nearest_full.toml",
        "sjostrom2001_pair.toml",
        "bi_poo1998_window.toml",
        "vogels2011_window.toml",
    ];
    for name in names {
        let r = run_file(name, Purpose::Pairing);
        let t = &r.trials[0];
        assert_eq!(t.phases[0].w_start.to_bits(), t.w_initial.to_bits());
        for ph in t.phases.iter().filter(|p| !p.plasticity) {
            assert!(!ph.psps.is_empty() || ph.stimulus != "test_pulses");
            assert_eq!(
                ph.w_end.to_bits(),
                ph.w_start.to_bits(),
                "{name}: phase {} changed the weight",
                ph.name
            );
            // and not even transiently: no change point of the trajectory inside the phase
            assert!(
                !t.w_time
                    .iter()
                    .zip(&t.w)
                    .any(|(&time, _)| time > ph.start_ms && time < ph.end_ms - 1e-9),
                "{name}: weight changed during frozen phase {}",
                ph.name
            );
        }
        assert!(t.w_after != t.w_before, "{name}: the induction changes the weight");
    }

    // The Vogels rule depresses at every presynaptic spike (-eta alpha): with plasticity on,
    // the three baseline test pulses would act (no post spike, so x_post = 0).
    let (mut spec, p) = load("vogels2011_window.toml", Purpose::Pairing);
    let frozen = protocol::run(&spec, Purpose::Pairing, &p, 1).unwrap().trials.remove(0);
    spec.phases[0].plasticity = true;
    let plastic = protocol::run(&spec, Purpose::Pairing, &p, 1).unwrap().trials.remove(0);
    assert_eq!(frozen.phases[0].w_end.to_bits(), 3.5f32.to_bits());
    let expected = 3.5 - 3.0 * 0.035 * 0.25;
    let got = f64::from(plastic.phases[0].w_end);
    assert!((got - expected).abs() < 1e-6, "plastic baseline: {got} vs {expected}");
    // 3 f32 roundings
}

/// Peak EPSP (mV) of a conductance jump `w` (nS) onto the COBA neuron at rest, sampled at the
/// steps after the jump: C dV/dt = g_L (E_L - V) + w e^{-t/tau} (E_exc - V), integrated with RK4
/// at dt/200 (independent of the engine's one RK4 step per dt).
fn coba_epsp_reference(w: f64, dt: f64, samples: usize) -> f64 {
    let (c, gl, el, ee, tau) = (200.0, 10.0, -60.0, 0.0, 5.0);
    let f = |t: f64, v: f64| (gl * (el - v) + w * (-t / tau).exp() * (ee - v)) / c;
    let sub = 200;
    let h = dt / sub as f64;
    let (mut t, mut v, mut peak) = (0.0, el, f64::NEG_INFINITY);
    for _ in 0..samples {
        for _ in 0..sub {
            let k1 = f(t, v);
            let k2 = f(t + h / 2.0, v + h / 2.0 * k1);
            let k3 = f(t + h / 2.0, v + h / 2.0 * k2);
            let k4 = f(t + h, v + h * k3);
            v += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            t += h;
        }
        peak = peak.max(v - el);
    }
    peak
}

const COBA: &str = r#"
[simulation]
dt = 0.1
[pre]
type = "excitatory"
[post]
neuron = { model = "lif_coba", c_m = 200.0, g_leak = 10.0, e_l = -60.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0, e_exc = 0.0, tau_exc = 5.0 }
[synapse]
weight = 3.0
delay = 0.1
plasticity = { rule = "triplet_stdp", preset = "pfister2006_vc_all_to_all_minimal", w_scale = 3.0, w_max = 30.0 }
[measure]
psp_window = 50.0
[[phase]]
name = "baseline"
plasticity = false
rest = 1000.0
stimulus = { type = "test_pulses", count = 3, interval = 1000.0 }
[[phase]]
name = "induction"
plasticity = true
stimulus = { type = "pairing", count = 60, frequency = 50.0, lag = 10.0, post_spike = { method = "current_pulse", amplitude = 30000.0, duration = 0.1 } }
[[phase]]
name = "follow_up"
plasticity = false
rest = 100.0
stimulus = { type = "test_pulses", count = 3, interval = 1000.0 }
"#;

#[test]
fn conductance_synapse_epsp_ratio_differs_from_the_weight_ratio() {
    let r = run_text(COBA, Purpose::Pairing);
    let t = &r.trials[0];
    assert!(t.timing_exact());
    let (wb, wa) = (f64::from(t.w_before), f64::from(t.w_after));
    // Independent EPSPs of the two weights: the window has 500 steps, the jump comes 1 step (the
    // delay) after the test spike, so 499 samples. The engine's RK4 (h = 0.1 ms, tau_eff >= 12 ms)
    // and the reference differ by < 1e-9 mV; 1e-6 mV leaves room.
    let (eb, ea) = (coba_epsp_reference(wb, 0.1, 499), coba_epsp_reference(wa, 0.1, 499));
    assert!(
        (t.psp_before - eb).abs() < 1e-6,
        "EPSP before: measured {} vs reference {eb}",
        t.psp_before
    );
    assert!(
        (t.psp_after - ea).abs() < 1e-6,
        "EPSP after: measured {} vs reference {ea}",
        t.psp_after
    );
    let (er, wr) = (t.psp_ratio(), t.w_ratio());
    // The difference comes from the driving force (E_exc - V) shrinking as V rises and from the
    // conductance shortening the membrane time constant: sublinear. It is about 2 % of the ratio
    // here (0.04 in absolute terms), far above the measurement error (1e-6 mV on EPSPs of 3-5 mV).
    assert!(er < wr, "EPSP ratio {er} should be below the weight ratio {wr}");
    assert!(wr - er > 0.01, "EPSP ratio {er:.4} vs weight ratio {wr:.4}");
    println!(
        "COBA, 60 pairings at 50 Hz +10 ms: w {wb:.4} -> {wa:.4} nS (x{wr:.4}), EPSP {:.4} -> {:.4} mV (x{er:.4}); \
         EPSP_after/EPSP_before differs from w_after/w_before by {:+.4} ({:+.2} % of the weight ratio); \
         measured - reference EPSP: {:.1e}, {:.1e} mV",
        t.psp_before,
        t.psp_after,
        er - wr,
        100.0 * (er / wr - 1.0),
        t.psp_before - eb,
        t.psp_after - ea
    );
}

#[test]
fn any_post_neuron_and_post_spike_method_give_the_same_weight_change() {
    // Same rule and spike times; the post spike is imposed by an input spike (lif_delta) or by
    // a one-step current pulse (lif_cuba, lif_coba). The rule sees identical events, so the
    // weights are bit-identical (the weights' units differ, mV or nS, not their numbers).
    let base = COBA
        .replace("w_scale = 3.0, w_max = 30.0", "w_max = 30.0")
        .replace("weight = 3.0", "weight = 1.0");
    let delta = base
        .replace(
            r#"{ model = "lif_coba", c_m = 200.0, g_leak = 10.0, e_l = -60.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0, e_exc = 0.0, tau_exc = 5.0 }"#,
            r#"{ model = "lif_delta", e_l = 0.0, v_th = 20.0, v_reset = 0.0 }"#,
        )
        .replace(
            r#"{ method = "current_pulse", amplitude = 30000.0, duration = 0.1 }"#,
            r#"{ method = "input_spike", weight = 100.0 }"#,
        );
    let cuba = base
        .replace(
            r#"{ model = "lif_coba", c_m = 200.0, g_leak = 10.0, e_l = -60.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0, e_exc = 0.0, tau_exc = 5.0 }"#,
            r#"{ model = "lif_cuba", e_l = -70.0, v_th = -55.0, v_reset = -70.0 }"#,
        )
        .replace("amplitude = 30000.0", "amplitude = 5000.0");
    for (freq, lag) in [(20.0, 10.0), (20.0, -10.0), (50.0, -10.0)] {
        let set = |t: &str| t.replace("frequency = 50.0, lag = 10.0", &format!("frequency = {freq}, lag = {lag}"));
        let runs: Vec<TrialResult> = [&base, &delta, &cuba]
            .iter()
            .map(|t| run_text(&set(t), Purpose::Pairing).trials.remove(0))
            .collect();
        for t in &runs {
            assert!(
                t.timing_exact(),
                "{freq} Hz {lag} ms: {}/{}+{}",
                t.post_on_target,
                t.post_expected,
                t.post_other
            );
        }
        assert_eq!(
            runs[0].w_after.to_bits(),
            runs[1].w_after.to_bits(),
            "coba vs delta at {freq} Hz {lag} ms"
        );
        assert_eq!(
            runs[0].w_after.to_bits(),
            runs[2].w_after.to_bits(),
            "coba vs cuba at {freq} Hz {lag} ms"
        );
        assert_eq!(runs[1].latency_steps, 0, "an input spike fires lif_delta in its own step");
        assert_eq!(runs[2].latency_steps, 1, "a current changed at step k acts from step k+1");
    }
}

#[test]
fn bursts_schedule_k_pairings_m_times() {
    let text = COBA.replace(
        r#"type = "pairing", count = 60, frequency = 50.0, lag = 10.0,"#,
        r#"type = "bursts", pairings = 5, bursts = 15, frequency = 20.0, burst_interval = 2000.0, lag = -10.0,"#,
    );
    let t = run_text(&text, Purpose::Pairing).trials.remove(0);
    assert!(t.timing_exact());
    assert_eq!((t.pairings, t.pairings_detail.len()), (75, 75));
    let pre: Vec<f64> = t.pairings_detail.iter().map(|p| p[0]).collect();
    for (k, w) in pre.windows(2).enumerate() {
        let expected = if (k + 1) % 5 == 0 { 2000.0 - 4.0 * 50.0 } else { 50.0 };
        assert!((w[1] - w[0] - expected).abs() < 1e-6, "gap {k}: {}", w[1] - w[0]);
    }
    // One burst of 60 is the plain pairing protocol, bit for bit.
    let one = COBA.replace(
        r#"type = "pairing", count = 60, frequency = 50.0, lag = 10.0,"#,
        r#"type = "bursts", pairings = 60, bursts = 1, frequency = 50.0, burst_interval = 5000.0, lag = 10.0,"#,
    );
    let a = run_text(&one, Purpose::Pairing).trials.remove(0);
    let b = run_text(COBA, Purpose::Pairing).trials.remove(0);
    assert_eq!(a.w_after.to_bits(), b.w_after.to_bits());
}

#[test]
fn phases_of_fixed_duration_pauses_and_whole_trial_membrane_records() {
    // A pause (no stimulus, plasticity on) between baseline and induction, a baseline of fixed
    // duration, and the membrane sampled every 1 ms over the whole trial.
    let text = COBA
        .replace("[measure]", "[record]\nmembrane = \"all\"\ninterval = 1.0\n[measure]")
        .replace(
            "name = \"baseline\"\nplasticity = false\nrest = 1000.0",
            "name = \"baseline\"\nplasticity = false\nduration = 3500.0",
        )
        .replace(
            "[[phase]]\nname = \"induction\"",
            "[[phase]]\nname = \"pause\"\nplasticity = true\nduration = 500.0\nstimulus = { type = \"none\" }\n[[phase]]\nname = \"induction\"",
        );
    let r = run_text(&text, Purpose::Pairing);
    let t = &r.trials[0];
    let bounds: Vec<(f64, f64)> = t.phases.iter().map(|p| (p.start_ms, p.end_ms)).collect();
    assert!(
        (bounds[0].1 - 3500.0).abs() < 1e-9 && (bounds[1].1 - 4000.0).abs() < 1e-9,
        "{bounds:?}"
    );
    assert_eq!(t.phases[1].w_end.to_bits(), t.phases[1].w_start.to_bits(), "a pause has no events");
    assert!(t.timing_exact() && t.w_after > t.w_before);
    // Samples at 0, 1, 2, ... ms up to the end.
    assert_eq!(t.v.len(), (t.duration_ms + 1e-6).floor() as usize + 1);
    assert!(t.v_time.iter().enumerate().all(|(k, &x)| (x - k as f64).abs() < 1e-6));
    // A fixed duration shorter than its stimuli is refused, naming the field and the need.
    let short = text.replace("duration = 3500.0", "duration = 2000.0");
    let spec = protocol::parse(&short, Path::new("short.toml"), Purpose::Pairing).unwrap();
    let is = issues(protocol::run(&spec, Purpose::Pairing, Path::new("short.toml"), 1).unwrap_err());
    assert!(
        is.iter().any(|(f, m)| f == "phase.baseline.duration" && m.contains("2000")),
        "{is:?}"
    );
}

fn issues(e: Error) -> Vec<(String, String)> {
    match e {
        Error::Invalid { issues, .. } => issues.into_iter().map(|i| (i.field, i.message)).collect(),
        other => panic!("expected Error::Invalid, got {other}"),
    }
}

#[test]
fn bad_protocol_files_name_the_file_field_value_and_what_is_allowed() {
    let p = Path::new("bad.toml");
    // Unknown field: a parse error naming it and the allowed ones.
    let e = protocol::parse(&COBA.replace("count = 60,", "count = 60, bogus = 1,"), p, Purpose::Pairing).unwrap_err();
    let m = e.to_string();
    assert!(
        matches!(e, Error::Parse { .. }) && m.contains("bad.toml") && m.contains("bogus") && m.contains("lag"),
        "{m}"
    );
    // Wrong type.
    let e = protocol::parse(&COBA.replace("weight = 3.0", "weight = \"3\""), p, Purpose::Pairing).unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e}");
    // Several bad values at once, each with field, value and what is allowed.
    let text = COBA
        .replace("weight = 3.0", "weight = -3.0")
        .replace("lag = 10.0", "lag = 10.05")
        .replace("frequency = 50.0", "frequency = 0.0")
        .replace("interval = 1000.0", "interval = 20.0")
        .replace("model = \"lif_coba\"", "model = \"lif_coba\", t_ref = 0.25")
        .replace(", t_ref = 5.0", "");
    let is = issues(protocol::parse(&text, p, Purpose::Pairing).unwrap_err());
    let has = |field: &str, value: &str| is.iter().any(|(f, m)| f == field && m.contains(value));
    assert!(has("synapse.weight", "-3"), "{is:?}");
    assert!(has("phase.induction.stimulus.lag", "10.05"), "{is:?}");
    assert!(has("phase.induction.stimulus.frequency", "0 Hz"), "{is:?}");
    assert!(has("phase.baseline.stimulus.interval", "20 ms"), "{is:?}");
    assert!(has("post.neuron.t_ref", "0.25"), "{is:?}");
    // A spike source cannot be the post neuron.
    let text = COBA.replace(
        r#"{ model = "lif_coba", c_m = 200.0, g_leak = 10.0, e_l = -60.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0, e_exc = 0.0, tau_exc = 5.0 }"#,
        r#"{ model = "poisson_source", rate = 5.0 }"#,
    );
    assert!(issues(protocol::parse(&text, p, Purpose::Pairing).unwrap_err())
        .iter()
        .any(|(f, m)| f == "post.neuron.model" && m.contains("poisson_source")));
    // The sweep tables are required by their commands only.
    assert!(issues(protocol::parse(COBA, p, Purpose::Window).unwrap_err())
        .iter()
        .any(|(f, _)| f == "window"));
    assert!(issues(protocol::parse(COBA, p, Purpose::Frequency).unwrap_err())
        .iter()
        .any(|(f, _)| f == "frequency"));
    // A post-spike input too weak to fire the neuron is found before the trial runs.
    let spec = protocol::parse(&COBA.replace("amplitude = 30000.0", "amplitude = 300.0"), p, Purpose::Pairing).unwrap();
    let is = issues(protocol::run(&spec, Purpose::Pairing, p, 1).unwrap_err());
    assert!(
        is.iter()
            .any(|(f, m)| f == "phase.induction.stimulus.post_spike.amplitude" && m.contains("300 pA") && m.contains("fire")),
        "{is:?}"
    );
    // An input that fires the neuron more than once is refused too (lif_cuba: the input's
    // exponential current outlasts the refractory period).
    let text = COBA
        .replace(
            r#"{ model = "lif_coba", c_m = 200.0, g_leak = 10.0, e_l = -60.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0, e_exc = 0.0, tau_exc = 5.0 }"#,
            r#"{ model = "lif_cuba", e_l = -70.0, v_th = -55.0, v_reset = -70.0 }"#,
        )
        .replace(r#"{ method = "current_pulse", amplitude = 30000.0, duration = 0.1 }"#, r#"{ method = "input_spike", weight = 5000.0 }"#);
    let spec = protocol::parse(&text, p, Purpose::Pairing).unwrap();
    let is = issues(protocol::run(&spec, Purpose::Pairing, p, 1).unwrap_err());
    assert!(
        is.iter()
            .any(|(f, m)| f == "phase.induction.stimulus.post_spike.weight" && m.contains("times")),
        "{is:?}"
    );
    // Missing file.
    let e = protocol::load(Path::new("/nonexistent/protocol.toml"), Purpose::Pairing).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("/nonexistent/protocol.toml"));
}

#[test]
fn frequency_command_writes_hdf5_table_traces_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(file("sjostrom2001_nearest_minimal.toml"))
        .unwrap()
        .replace("frequencies = [0.1, 10.0, 20.0, 40.0, 50.0]", "frequencies = [20.0, 50.0]");
    let src = dir.path().join("sj.toml");
    std::fs::write(&src, &text).unwrap();
    let out = dir.path().join("out");
    let opts = Options {
        threads: 2,
        force: false,
        command_line: "hebb protocol frequency sj.toml --out out".into(),
    };
    let r = protocol::frequency(&src, &out, &opts).unwrap();
    assert_eq!(r.trials.len(), 4);
    let table = r.to_string();
    assert!(table.contains("chi2/n") && table.contains("+0.29 +- 0.14"), "{table}");
    // The output directory is not replaced without force.
    assert!(matches!(protocol::frequency(&src, &out, &opts), Err(Error::Io { .. })));

    let f = hdf5_pure::File::open(out.join("protocol.h5")).unwrap();
    let read = |p: &str| f.dataset(p).unwrap().read_f64().unwrap();
    let dw = read("table/dw_rel");
    assert_eq!(dw.len(), 4);
    for (x, t) in dw.iter().zip(&r.trials) {
        assert_eq!(x.to_bits(), t.dw_rel().to_bits());
    }
    assert_eq!(read("table/data_mean"), vec![0.29, -0.34, 0.56, 0.75]);
    for (k, t) in r.trials.iter().enumerate() {
        let g = format!("trials/trial_{k:03}");
        assert_eq!(read(&format!("{g}/spikes/post/timestamps")), t.post_spikes);
        assert_eq!(read(&format!("{g}/spikes/pre/timestamps")).len(), 70); // 60 pairings + 10 test pulses
        let v = f.dataset(&format!("{g}/membrane/v")).unwrap().read_f32().unwrap();
        assert_eq!(v.len(), t.v.len());
        assert!(v.len() > 60 * 200, "membrane samples around every pairing");
        assert_eq!(read(&format!("{g}/test_pulses/psp")).len(), 10);
    }
    let png = std::fs::read(out.join("frequency.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    let svg = std::fs::read_to_string(out.join("frequency.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("pairing frequency"));
    let csv = std::fs::read_to_string(out.join("table.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
}
