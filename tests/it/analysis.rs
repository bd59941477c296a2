//! Analysis measures against cases with known answers, and Brunel's four states.

use super::common::{model_path, run};
use hebb::analysis::{analyze, chi, classify_brunel, siegert_rate_brunel, trains, AnalysisParams, BrunelState};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Independent Poisson trains (exponential intervals), n neurons, rate Hz, duration ms.
fn poisson_trains(n: usize, rate: f64, dur: f64, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut t = 0.0;
            let mut v = Vec::new();
            loop {
                let u: f64 = rng.random::<f64>();
                t += -(1.0 - u).ln() / rate * 1e3;
                if t >= dur {
                    break v;
                }
                v.push(t);
            }
        })
        .collect()
}

#[test]
fn poisson_trains_have_cv_one_fano_one_and_no_synchrony() {
    // 400 neurons at 20 Hz for 50 s: ~1000 intervals per neuron, so each neuron's CV has a
    // standard error of about 1/sqrt(2 * 1000) = 0.022 and the mean over 400 neurons about 0.0011;
    // the Fano factor over 500 bins of 100 ms has a standard error of about sqrt(2/500) = 0.063 per
    // neuron, 0.003 for the mean. Tolerances are 5 standard errors (plus the small-sample bias of the
    // CV estimator, about -1/(4n) for exponential intervals).
    let n = 400;
    let tr = poisson_trains(n, 20.0, 50_000.0, 3);
    let s = analyze("p", &tr, 0.0, 50_000.0, &AnalysisParams::default());
    assert!(
        (s.rate_hz - 20.0).abs() < 5.0 * (20.0f64 / (n as f64 * 50.0)).sqrt(),
        "rate {}",
        s.rate_hz
    );
    assert!((s.cv_mean.unwrap() - 1.0).abs() < 0.006, "CV {:?}", s.cv_mean);
    assert!((s.fano.unwrap() - 1.0).abs() < 0.016, "Fano {:?}", s.fano);
    // Independent trains: chi^2 = 1/N up to sampling noise; with N = 400, chi ~ 0.05.
    assert!(s.chi.unwrap() < 0.08, "chi {:?}", s.chi);
    assert!(s.pair_corr.unwrap().abs() < 0.01, "corr {:?}", s.pair_corr);
}

#[test]
fn identical_trains_have_chi_one() {
    let one = poisson_trains(1, 20.0, 10_000.0, 9).remove(0);
    let tr: Vec<Vec<f64>> = (0..50).map(|_| one.clone()).collect();
    let s = analyze("s", &tr, 0.0, 10_000.0, &AnalysisParams::default());
    assert!((s.chi.unwrap() - 1.0).abs() < 1e-12);
    assert!((s.pair_corr.unwrap() - 1.0).abs() < 1e-12);
    // And chi of explicit signals: half the neurons identical, half silent-but-varying cannot exceed 1.
    assert!(chi(&[vec![0.0, 1.0, 0.0, 2.0], vec![0.0, 1.0, 0.0, 2.0]]).unwrap() > 0.999_999);
}

fn brunel(state: &str, duration: f64) -> hebb::analysis::PopulationStats {
    let (m, _) = hebb::spec::load(
        &model_path(&format!("brunel2000_{state}.toml")),
        &[format!("simulation.duration={duration:?}")],
    )
    .unwrap();
    let (sim, rec) = run(&m, 2);
    let dt = sim.net().dt;
    let (times, ids): (Vec<f64>, Vec<u64>) = rec.data.spikes[0].iter().map(|&(k, i)| (k as f64 * dt, i as u64)).unzip();
    analyze("exc", &trains(10_000, &times, &ids), 100.0, duration, &AnalysisParams::default())
}

#[test]
fn brunel_states_are_labelled_and_state_c_matches_siegert() {
    // Windows of 500 ms after a 100 ms transient (the classifier's margins were measured there).
    let c = brunel("c", 600.0);
    assert_eq!(classify_brunel(&c), Some(BrunelState::AsynchronousIrregular), "{c:?}");
    // Siegert mean-field rate of state C. Tolerance 5 %: the diffusion approximation neglects the
    // finite jump J = 0.1 mV (corrections of order J/sigma ~ 1.3 % here) and the network's residual
    // correlations; the sampling error of 500 ms x 10000 neurons (~190k spikes) is 0.2 %.
    let siegert = siegert_rate_brunel(1000.0, 0.25, 0.1, 5.0, 20.0, 20.0, 20.0, 10.0, 2.0);
    assert!(
        (c.rate_hz - siegert).abs() < 0.05 * siegert,
        "simulated {} Hz, Siegert {siegert} Hz",
        c.rate_hz
    );
    let b = brunel("b", 600.0);
    assert_eq!(classify_brunel(&b), Some(BrunelState::SynchronousIrregularFast), "{b:?}");
    let d = brunel("d", 600.0);
    assert_eq!(classify_brunel(&d), Some(BrunelState::SynchronousIrregularSlow), "{d:?}");
    let a = brunel("a", 300.0);
    assert_eq!(classify_brunel(&a), Some(BrunelState::SynchronousRegular), "{a:?}");
}
