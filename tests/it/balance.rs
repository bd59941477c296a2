//! E/I balance (issue 6): the Vogels et al. (2011) models, the modulated input source and the
//! input-current measures, each against a closed form, the reference port of the authors'
//! program (plasticity.md 3.2) or the rule's rate limit.

use super::common::{model, model_path, run};
use hebb::analysis::{analyze, coba_currents, currents, trains, AnalysisParams, CurrentTraces};
use hebb::engine::Simulation;
use hebb::neuron::Dynamics;
use hebb::spec::ModelSpec;

fn load(name: &str, overrides: &[String]) -> ModelSpec {
    hebb::spec::load(&model_path(name), overrides).unwrap_or_else(|e| panic!("{e}")).0
}

/// Spike trains (ms) of population `p`.
fn pop_trains(sim: &Simulation, rec: &hebb::io::MemoryRecorder, p: usize) -> Vec<Vec<f64>> {
    let dt = sim.net().dt;
    let (t, i): (Vec<f64>, Vec<u64>) = rec.data.spikes[p].iter().map(|&(k, i)| (k as f64 * dt, i as u64)).unzip();
    trains(sim.net().populations[p].size, &t, &i)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn source(extra: &str, size: usize, groups: usize, name: &str, stream: u64) -> String {
    format!(
        "[[population]]\nname = \"{name}\"\ntype = \"excitatory\"\nsize = {size}\n\
         neuron = {{ model = \"modulated_poisson\", groups = {groups}, signal_stream = {stream}, rate_background = 5.0, rate_gain = 152.1{extra} }}\n"
    )
}

#[test]
fn modulated_source_has_the_closed_form_mean_rate_shared_signals_and_its_dead_time() {
    // Mean rate without dead time: 5 Hz + gain E[max(0, s)] with s of unit variance and (very
    // nearly) Gaussian: the filtered sum of ~tau/dt uniforms has excess kurtosis
    // -1.2 (1 - a^2)/(1 + a^2) = -0.002, so E[max(0, s)] = 1/sqrt(2 pi) to < 0.1 %.
    let dur = 40_000.0;
    let text = format!(
        "[simulation]\ndt = 0.1\nduration = {dur}\nseed = 4\n{}{}{}[record]\nspikes = \"all\"\n",
        source("", 80, 8, "a", 1),
        source("", 16, 8, "b", 1),
        source(", t_ref = 5.0", 80, 8, "c", 2),
    );
    let m = model(&text);
    let (sim, rec) = run(&m, 1);
    let expected = 5.0 + 152.1 / (2.0 * std::f64::consts::PI).sqrt();
    let a = pop_trains(&sim, &rec, 0);
    let rate = a.iter().map(|t| t.len()).sum::<usize>() as f64 / 80.0 / (dur * 1e-3);
    // The rate of one group fluctuates with SD 152.1 sqrt(1/2 - 1/(2 pi)) = 88.8 Hz and
    // correlation time ~tau = 50 ms: a 40 s average of 8 independent groups has a standard error
    // of 88.8 sqrt(2 * 0.05 / 40) / sqrt(8) = 1.6 Hz (spike-count noise: 0.1 Hz). 4 SE:
    assert!((rate - expected).abs() < 6.4, "rate {rate} Hz, closed form {expected} Hz");
    // Same signal_stream and groups: identical signals, different stream: different ones.
    let sig = |p: usize| match &sim.net().populations[p].dynamics {
        Dynamics::ModulatedPoisson(m) => m.signal.clone(),
        _ => unreachable!(),
    };
    assert_eq!(sig(0), sig(1));
    assert_ne!(sig(0), sig(2));
    // Dead time 5 ms = 50 steps: no interval shorter than 51 steps (5.1 ms), and intervals of
    // exactly 51 steps occur (the dead time is not longer than asked).
    let c = pop_trains(&sim, &rec, 2);
    let min_isi = c.iter().flat_map(|t| t.windows(2).map(|w| w[1] - w[0])).fold(f64::MAX, f64::min);
    assert!((min_isi - 5.1).abs() < 1e-9, "shortest interval {min_isi} ms");
}

/// Per-group mean weight of the projections `<prefix>_<k>_to_cell`, k = 1..8.
fn group_means(sim: &Simulation, prefix: &str) -> Vec<f64> {
    (1..=8)
        .map(|k| {
            let name = format!("{prefix}_{k}_to_cell");
            let p = sim.net().projections.iter().find(|p| p.name == name).unwrap();
            p.weight_values().iter().map(|&w| w as f64).sum::<f64>() / p.len() as f64
        })
        .collect()
}

fn cell_rate(tr: &[Vec<f64>], t0: f64, t1: f64) -> f64 {
    tr[0].iter().filter(|&&t| t >= t0 && t < t1).count() as f64 / ((t1 - t0) * 1e-3)
}

#[test]
fn single_cell_rate_falls_to_the_target_and_inhibition_co_tunes_with_excitation() {
    // The full 150 s of Fig. 1 (about 5 s of wall time in release mode).
    let m = load("vogels2011_single_cell.toml", &[]);
    let (sim, rec) = run(&m, 1);
    let tr = pop_trains(&sim, &rec, 0);
    // Weak initial inhibition: the port of the authors' program fires at 60-100 Hz over the
    // first 7.5 s; the issue asks for > 30 Hz in the first seconds.
    let early = cell_rate(&tr, 0.0, 2000.0);
    assert!(early > 30.0, "first 2 s: {early} Hz");
    // Last 30 s: the port settles at 5.3-5.5 Hz (4 seeds; naive target alpha/(2 tau) = 6.25 Hz,
    // co-modulated E and I inputs pull it lower). The SD across 1.5 s bins is 1.7 Hz, so a 30 s
    // mean has an SE of about 1.7/sqrt(20) = 0.4 Hz; [4, 7] Hz is the band, 3 SE around
    // the port's values.
    let late = cell_rate(&tr, 120_000.0, 150_000.0);
    assert!((4.0..=7.0).contains(&late), "last 30 s: {late} Hz");
    // Co-tuning: the port's r = 0.998 between per-group mean E and I weights.
    let (e, i) = (group_means(&sim, "exc_in"), group_means(&sim, "inh_in"));
    let r = hebb::analysis::correlation(&e, &i).unwrap();
    assert!(r > 0.9, "r = {r}, E {e:?}, I {i:?}");
}

#[test]
fn anti_hebbian_inhibition_has_an_unstable_fixed_point() {
    // Rate limit: d<w>/dt = -eta nu_pre (2 tau nu_post - alpha), zero at 6.25 Hz but unstable.
    // From weak inhibition (cell above 6.25 Hz) every weight runs down to w_min = 0 and the
    // cell fires fast; from strong inhibition (cell below 6.25 Hz) the weights grow.
    let m = load("vogels2011_single_cell_anti_hebbian.toml", &["simulation.duration=20000.0".into()]);
    let (sim, rec) = run(&m, 1);
    let i = group_means(&sim, "inh_in");
    assert!(i.iter().all(|&w| w == 0.0), "I weights {i:?}");
    let tr = pop_trains(&sim, &rec, 0);
    let late = cell_rate(&tr, 15_000.0, 20_000.0);
    // The Hebbian cell is at 5-7 Hz by then; without inhibition it fires far above the target.
    assert!(late > 30.0, "last 5 s: {late} Hz");

    let w0 = 1.0; // nS, about 3 x the Hebbian equilibrium (0.88 x 0.35 nS)
    let mut strong: Vec<String> = (1..=8).map(|k| format!("projection.inh_in_{k}_to_cell.weight={w0}")).collect();
    strong.push("simulation.duration=10000.0".into());
    let m = load("vogels2011_single_cell_anti_hebbian.toml", &strong);
    let (sim, rec) = run(&m, 1);
    let tr = pop_trains(&sim, &rec, 0);
    let late = cell_rate(&tr, 5000.0, 10_000.0);
    assert!(late < 6.25, "last 5 s: {late} Hz (fixed point 6.25 Hz)");
    let i = group_means(&sim, "inh_in");
    assert!(i.iter().all(|&w| w > w0), "I weights {i:?} should grow above {w0}");
}

/// Runs `m` (a model from `file`) and returns the E statistics in `t0..t1`, after checking that
/// the same network without iSTDP (I->E fixed at its initial 0) fires more than 10 times faster:
/// its E cells fire at ~190 Hz from the first 100 ms on, so 1 s (from 200 ms) is enough to see it.
fn with_and_without_istdp(file: &str, m: &ModelSpec, t0: f64, t1: f64, threads: usize) -> hebb::analysis::PopulationStats {
    let (sim, rec) = run(m, threads);
    let s = analyze("exc", &pop_trains(&sim, &rec, 0), t0, t1, &AnalysisParams::default());
    let off = load(
        file,
        &[
            "projection.inh_to_exc.plasticity.eta=0.0".into(),
            "simulation.duration=1000.0".into(),
        ],
    );
    let (sim0, rec0) = run(&off, threads);
    let s0 = analyze("exc", &pop_trains(&sim0, &rec0, 0), 200.0, 1000.0, &AnalysisParams::default());
    assert!(
        s0.rate_hz > 10.0 * s.rate_hz,
        "without iSTDP {} Hz, with {} Hz",
        s0.rate_hz,
        s.rate_hz
    );
    s
}

#[test]
fn network_istdp_brings_the_rate_down_to_an_asynchronous_irregular_state() {
    let m = load("vogels2011_network_scaled.toml", &[]);
    let end = m.simulation.duration;
    let s = with_and_without_istdp("vogels2011_network_scaled.toml", &m, end - 10_000.0, end, 1);
    // With iSTDP, last 10 s after 40 s of learning: the band [2, 4.5] Hz for the 3 Hz
    // target. Measured at seeds 1-4: 4.09-4.11 Hz (SD 0.01 Hz across seeds; the rate is still
    // falling by ~0.05 Hz per 10 s, and the full network settles at 3.95 Hz), so the upper edge
    // is ~40 SD away and only a change of the dynamics or the rule can cross it.
    assert!((2.0..=4.5).contains(&s.rate_hz), "E rate {} Hz", s.rate_hz);
    // Asynchronous irregular: measured CV 0.98-0.99, chi 0.04-0.05, pair correlation < 0.01
    // (first 10 s: chi 0.72). The CV > 0.8; chi < 0.25 is the Brunel AI margin of
    // src/analysis.rs widened for a network of thousands rather than 10000.
    assert!(s.cv_mean.unwrap() > 0.8, "CV {:?}", s.cv_mean);
    assert!(s.chi.unwrap() < 0.25, "chi {:?}", s.chi);
    assert!(s.pair_corr.unwrap().abs() < 0.05, "pair correlation {:?}", s.pair_corr);
}

#[test]
fn input_current_measures_have_known_answers() {
    // COBA currents: g_exc = 2 nS at V = -60 mV, e_exc = 0 -> 120 pA; g_inh = 1 nS, e_inh = -80 ->
    // -20 pA. Two neurons, two frames, time-major.
    let c = coba_currents(
        vec![0.0, 1.0],
        2,
        &[-60.0, -50.0, -60.0, -50.0],
        &[2.0, 1.0, 2.0, 1.0],
        &[1.0, 3.0, 1.0, 3.0],
        0.0,
        -80.0,
    );
    assert_eq!(c.exc, vec![vec![120.0, 120.0], vec![50.0, 50.0]]);
    assert_eq!(c.inh, vec![vec![-20.0, -20.0], vec![-90.0, -90.0]]);
    let s = currents("p", &c, 0.0, 2.0).unwrap();
    assert!((s.exc_mean - 85.0).abs() < 1e-12 && (s.inh_mean + 55.0).abs() < 1e-12);
    assert!((s.ei_ratio.unwrap() - 55.0 / 85.0).abs() < 1e-12);
    assert_eq!(s.ei_corr, None); // constant currents: no correlation defined

    // Inhibition that tracks excitation exactly (I_I = -(b + k I_E)): correlation 1, ratio from
    // the means; independent inhibition: correlation ~ 0 with SE 1/sqrt(frames) per neuron.
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    let frames = 4000;
    let n = 10;
    let e: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..frames).map(|_| 100.0 + 20.0 * rng.random::<f64>()).collect())
        .collect();
    let tight = CurrentTraces {
        times_ms: (0..frames).map(|k| k as f64).collect(),
        inh: e.iter().map(|x| x.iter().map(|v| -(10.0 + 1.5 * v)).collect()).collect(),
        exc: e.clone(),
        unit: "pA".into(),
    };
    let s = currents("p", &tight, 0.0, frames as f64).unwrap();
    assert!((s.ei_corr.unwrap() - 1.0).abs() < 1e-12);
    assert!((s.ei_ratio.unwrap() - (10.0 + 1.5 * 110.0) / 110.0).abs() < 0.01); // mean of E is 110 +- 0.05
    let loose = CurrentTraces {
        inh: (0..n)
            .map(|_| (0..frames).map(|_| -100.0 * rng.random::<f64>()).collect())
            .collect(),
        ..tight.clone()
    };
    let s = currents("p", &loose, 0.0, frames as f64).unwrap();
    // Mean of 10 independent correlations, each with SE 1/sqrt(4000): SE 0.005; 5 SE.
    assert!(s.ei_corr.unwrap().abs() < 0.025, "corr {:?}", s.ei_corr);
    // Windows select frames: the second half only.
    let s2 = currents("p", &tight, 2000.0, 4000.0).unwrap();
    let m2 = e.iter().map(|x| mean(&x[2000..])).sum::<f64>() / n as f64;
    assert!((s2.exc_mean - m2).abs() < 1e-9);
}

#[test]
#[ignore = "full size: 10000 neurons, 300 s of learning at the published rate (about 60 s in release mode)"]
fn full_network_istdp_reaches_an_asynchronous_irregular_state() {
    let m = load("vogels2011_network.toml", &["simulation.duration=300000.0".into()]);
    let s = with_and_without_istdp("vogels2011_network.toml", &m, 240_000.0, 300_000.0, 0);
    // The band [2, 4.5] Hz, once settled: with the published eta = 0.01 nS the rate
    // falls to 4.5 Hz at ~100 s and stays at 3.9-4.1 Hz (10-s windows) from 180 s on; measured
    // (seed 1) 3.95 Hz over 240-300 s, CV 0.98, chi 0.05. See the model header.
    assert!((2.0..=4.5).contains(&s.rate_hz), "E rate {} Hz", s.rate_hz);
    assert!(s.cv_mean.unwrap() > 0.8, "CV {:?}", s.cv_mean);
    assert!(s.chi.unwrap() < 0.2, "chi {:?}", s.chi);
}

#[test]
fn modulated_inputs_do_not_depend_on_the_thread_count() {
    let m = load("vogels2011_single_cell.toml", &["simulation.duration=2000.0".into()]);
    let (s1, r1) = run(&m, 1);
    let (s2, r2) = run(&m, 2);
    assert_eq!(r1.data.spikes, r2.data.spikes);
    let w = |s: &Simulation| s.net().projections.iter().map(|p| p.weight_values().to_vec()).collect::<Vec<_>>();
    assert_eq!(w(&s1), w(&s2));
}

#[test]
fn analyze_writes_currents_and_before_after_for_a_plastic_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let hebb = || assert_cmd::Command::cargo_bin("hebb").unwrap();
    hebb()
        .arg("run")
        .arg(model_path("vogels2011_single_cell.toml"))
        .arg("--out")
        .arg(&out)
        // Spikes of the cell only: the analysis of 16 input populations would dominate the time.
        .args(["--duration", "4000", "-q", "--set", "record.spikes=[\"cell\"]"])
        .assert()
        .success();
    let o = hebb().arg("analyze").arg(&out).args(["--windows", "2"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("corr E,I") && text.contains("before/after plasticity"), "{text}");
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("analysis.json")).unwrap()).unwrap();
    let cur = j["currents"].as_array().unwrap();
    assert_eq!(cur.len(), 3, "whole run and 2 windows of the cell: {cur:?}");
    assert_eq!(cur[0]["unit"], "pA");
    // Inhibition grows from 0.1 g_I: the ratio -I/E rises from the first to the last window.
    let ba = j["before_after"].as_array().unwrap();
    let ratio = ba.iter().find(|c| c["name"] == "cell" && c["measure"] == "ei_ratio").unwrap();
    assert!(
        ratio["after"].as_f64().unwrap() > 2.0 * ratio["before"].as_f64().unwrap(),
        "{ratio}"
    );
    let rate = ba.iter().find(|c| c["name"] == "cell" && c["measure"] == "rate_hz").unwrap();
    assert!(rate["after"].as_f64().unwrap() < rate["before"].as_f64().unwrap(), "{rate}");
}
