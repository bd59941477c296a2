//! Plasticity inside the engine: replay of recorded spike trains through short independent
//! reference implementations, exact single pairs with delays, freezing, threads.
//!
//! Semantics pinned here (README, "Plasticity semantics"):
//! - a presynaptic spike acts at the synapse at its emission step; a postsynaptic spike reaches
//!   the synapse after the projection's delay d (dendritic delay, NEST's convention), so a pair is
//!   evaluated at the interval `t_post + d - t_pre`;
//! - traces are read just before the current synapse time (events at the same synapse time do not
//!   pair); at equal synapse times the presynaptic event is applied first;
//! - every update is clamped to [w_min, w_max] and stored as f32.

use super::common::{model, model_path, run};
use hebb::engine::Simulation;
use hebb::io::NullRecorder;
use std::sync::atomic::AtomicBool;

const DT: f64 = 0.1;

/// A small CUBA network with three plastic projections (pair STDP on E->E with a 1.5 ms delay,
/// triplet STDP on E->I, Vogels iSTDP on I->E with 0.8 ms) and Poisson drive.
fn plastic_net() -> String {
    let neuron = "{ model = \"lif_cuba\", tau_m = 20.0, e_l = -57.0, v_th = -50.0, v_reset = -60.0, t_ref = 2.0 }";
    format!(
        "[simulation]\ndt = {DT}\nduration = 2000.0\nseed = 5\n\
         [[population]]\nname = \"exc\"\ntype = \"excitatory\"\nsize = 400\nneuron = {neuron}\n\
         [[population]]\nname = \"inh\"\ntype = \"inhibitory\"\nsize = 100\nneuron = {neuron}\n\
         [[projection]]\nname = \"ee\"\npre = \"exc\"\npost = \"exc\"\nconnectivity = {{ rule = \"fixed_probability\", p = 0.1 }}\nweight = 1.0\ndelay = 1.5\n\
         plasticity = {{ rule = \"pair_stdp\", a_plus = 0.02, tau_plus = 16.8, a_minus = 0.021, tau_minus = 33.7, w_max = 2.0 }}\n\
         [[projection]]\nname = \"ei\"\npre = \"exc\"\npost = \"inh\"\nconnectivity = {{ rule = \"fixed_probability\", p = 0.1 }}\nweight = 1.0\ndelay = 0.1\n\
         plasticity = {{ rule = \"triplet_stdp\", a2_plus = 0.005, a3_plus = 0.006, a2_minus = 0.007, a3_minus = 0.002, tau_plus = 16.8, tau_minus = 33.7, tau_x = 101.0, tau_y = 125.0, w_max = 2.0 }}\n\
         [[projection]]\nname = \"ie\"\npre = \"inh\"\npost = \"exc\"\nconnectivity = {{ rule = \"fixed_probability\", p = 0.1 }}\nweight = 2.0\ndelay = 0.8\n\
         plasticity = {{ rule = \"vogels2011\", eta = 0.05, tau = 20.0, rho0 = 5.0, w_max = 10.0 }}\n\
         [[input]]\ntype = \"poisson\"\ntarget = \"exc\"\nrate = 10.0\ncount = 100\nweight = 1.2\n\
         [[input]]\ntype = \"poisson\"\ntarget = \"inh\"\nrate = 10.0\ncount = 100\nweight = 1.2\n\
         [record]\nspikes = \"all\"\n"
    )
}

fn trace(events: &[u64], sigma: u64, tau: f64) -> f64 {
    events
        .iter()
        .filter(|&&t| t < sigma)
        .map(|&t| (-((sigma - t) as f64) * DT / tau).exp())
        .sum()
}

fn clamp32(w: f64, lo: f64, hi: f64) -> f32 {
    (w.clamp(lo, hi) as f32).clamp(lo as f32, hi as f32)
}

/// Events of one synapse at synapse time: (time, is_post), pre first at equal times.
fn events(pre: &[u64], post: &[u64], d: u64) -> Vec<(u64, bool)> {
    let mut ev: Vec<(u64, bool)> = pre.iter().map(|&t| (t, false)).chain(post.iter().map(|&t| (t + d, true))).collect();
    ev.sort();
    ev
}

#[test]
#[allow(clippy::needless_range_loop)]
fn replay_matches_independent_reference_implementations() {
    let m = model(&plastic_net());
    let (sim, rec) = run(&m, 2);
    let net = sim.net();
    let steps_of = |p: usize| {
        let mut v: Vec<Vec<u64>> = vec![Vec::new(); net.populations[p].size];
        for &(k, i) in &rec.data.spikes[p] {
            v[i as usize].push(k);
        }
        v
    };
    let (exc, inh) = (steps_of(0), steps_of(1));
    let w0 = |k: usize| if k == 2 { 2.0f32 } else { 1.0f32 };
    let mut checked = 0;
    let mut changed = 0;
    for (k, pr) in net.projections.iter().enumerate() {
        let (pre_tr, post_tr) = match k {
            0 => (&exc, &exc),
            1 => (&exc, &inh),
            _ => (&inh, &exc),
        };
        let d = pr.max_delay as u64;
        for j in 0..pr.row_ptr.len() - 1 {
            for s in pr.row(j) {
                let i = pr.targets[s] as usize;
                let (pre, post) = (&pre_tr[j], &post_tr[i]);
                let post_sh: Vec<u64> = post.iter().map(|t| t + d).collect();
                let mut w = w0(k);
                // At the end of a run of K steps, events up to synapse time K-1 have been applied
                // (spikes of step K are delivered at step K+1; post spikes reach the synapse d later).
                for (t, is_post) in events(pre, post, d).into_iter().filter(|e| e.0 < m.steps()) {
                    w = match (k, is_post) {
                        // Pair STDP, all-to-all, additive: LTD at pre with x_post, LTP at post with x_pre.
                        (0, false) => clamp32(w as f64 - 0.021 * trace(&post_sh, t, 33.7), 0.0, 2.0),
                        (0, true) => clamp32(w as f64 + 0.02 * trace(pre, t, 16.8), 0.0, 2.0),
                        // Triplet (Pfister & Gerstner 2006), all-to-all.
                        (1, false) => clamp32(
                            w as f64 - trace(&post_sh, t, 33.7) * (0.007 + 0.002 * trace(pre, t, 101.0)),
                            0.0,
                            2.0,
                        ),
                        (1, true) => clamp32(
                            w as f64 + trace(pre, t, 16.8) * (0.005 + 0.006 * trace(&post_sh, t, 125.0)),
                            0.0,
                            2.0,
                        ),
                        // Vogels et al. 2011: alpha = 2 rho0 tau = 2 * 5 Hz * 20 ms = 0.2.
                        (_, false) => clamp32(w as f64 + 0.05 * (trace(&post_sh, t, 20.0) - 0.2), 0.0, 10.0),
                        (_, true) => clamp32(w as f64 + 0.05 * trace(pre, t, 20.0), 0.0, 10.0),
                    };
                }
                let got = pr.weight(s);
                assert!(
                    (got - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "{}: synapse {j}->{i}: engine {got}, reference {w}",
                    pr.name
                );
                checked += 1;
                changed += (got != w0(k)) as usize;
            }
        }
    }
    assert!(checked > 20_000 && changed > checked / 2, "{changed} of {checked} weights changed");
}

/// One source neuron onto one target, both spike sources driven at given times; pair rule.
fn pair_net(t_pre: f64, t_post: f64, delay: f64) -> String {
    format!(
        "[simulation]\ndt = {DT}\nduration = 300.0\n\
         [[population]]\nname = \"pre\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"spike_source\", times = [[{t_pre}]] }}\n\
         [[population]]\nname = \"post\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"lif_delta\", e_l = 0.0, v_th = 10.0, v_reset = 0.0 }}\n\
         [[projection]]\npre = \"pre\"\npost = \"post\"\nconnectivity = {{ rule = \"one_to_one\" }}\nweight = 0.5\ndelay = {delay}\n\
         plasticity = {{ rule = \"pair_stdp\", a_plus = 0.1, tau_plus = 16.8, a_minus = 0.05, tau_minus = 33.7, w_max = 1.0 }}\n\
         [[input]]\ntype = \"spike_times\"\ntarget = \"post\"\ntimes = [{t_post}]\nweight = 100.0\n"
    )
}

#[test]
fn single_pair_through_the_engine_gives_the_window_with_dendritic_delay() {
    for delay in [0.1, 2.0] {
        for lag in [-40.0, -10.0, -3.0, 2.0, 5.0, 20.0] {
            let t_pre = 100.0;
            // The input jump of 100 mV makes the (delta-synapse) post neuron fire once, at the input's
            // step; the post spike is measured rather than assumed.
            let (sim, _) = run(&model(&pair_net(t_pre, t_pre + lag, delay)), 1);
            let post_step = sim.stats[1].last(0).expect("post fired");
            assert_eq!(sim.stats[1].count(0), 1, "exactly one post spike");
            let interval = (post_step as f64 * DT + delay) - t_pre;
            let expected = if interval > 0.0 {
                0.1 * (-interval / 16.8).exp()
            } else {
                -0.05 * (interval / 33.7).exp()
            };
            let dw = sim.net().projections[0].weight(0) as f64 - 0.5;
            assert!(
                (dw - expected).abs() < 1e-6,
                "delay {delay} lag {lag}: dw {dw} expected {expected} (interval {interval})"
            );
        }
    }
}

#[test]
fn frozen_plasticity_keeps_weights_bit_identical_and_threads_do_not_matter() {
    let m = model(&plastic_net().replace("duration = 2000.0", "duration = 500.0"));
    let net = hebb::build::build(&m).unwrap();
    let initial: Vec<Vec<f32>> = net.projections.iter().map(|p| p.weight_values().to_vec()).collect();
    let mut sim = Simulation::new(net, 2).unwrap();
    for k in 0..3 {
        sim.set_plasticity(k, false);
    }
    sim.run(m.steps(), &mut NullRecorder, &AtomicBool::new(false), |_| {}).unwrap();
    assert!(sim.stats.iter().all(|s| s.total() > 200), "every population is active");
    for (k, p) in sim.net().projections.iter().enumerate() {
        assert!(*p.weight_values() == initial[k][..], "{} frozen", p.name);
    }
    // Switched on again, they learn; and 1, 2 and 3 threads give bit-identical weights.
    let runs: Vec<Vec<Vec<f32>>> = [1, 2, 3]
        .iter()
        .map(|&t| run(&m, t).0.net().projections.iter().map(|p| p.weight_values().to_vec()).collect())
        .collect();
    assert!(runs[0].iter().zip(&initial).all(|(a, b)| a != b), "every projection learned");
    assert!(runs[0] == runs[1], "1 vs 2 threads");
    assert!(runs[0] == runs[2], "1 vs 3 threads");
}

#[test]
fn cuba_stdp_mean_weight_matches_the_peers() {
    // NEST 3.10 (0.4994-0.4995) and Brian2 2.9 (0.5004-0.5005, both delay conventions) after 1 s;
    // the gap between them is NEST's lazy read-out of potentiation (~0.0011 w_max, peers.md 4.2).
    // hebb updates at the post spike like Brian2, so its mean must lie in Brian2's band widened by
    // the seed-to-seed spread (sd of the mean ~1e-4 here: 200k synapses, sd 0.025 each... and
    // network-level rate fluctuations): [0.4995, 0.5015].
    let (m, _) = hebb::spec::load(&model_path("cuba_stdp.toml"), &[]).unwrap();
    let (sim, _) = run(&m, 2);
    let p = &sim.net().projections[0];
    let mean = p.weight_values().iter().map(|&w| w as f64).sum::<f64>() / p.len() as f64 / 3.24;
    assert!((0.4995..=0.5015).contains(&mean), "mean w / w_max = {mean}");
    assert!(p.weight_values().iter().all(|&w| (0.0..=3.24f32).contains(&w)));
}

/// N independent synapses (one_to_one) from Poisson sources at `nu_pre` onto delta neurons that
/// fire once at each event of their own Poisson drive (a 2000 mV jump over a 1000 mV threshold,
/// t_ref = 0), so the post trains are Poisson and independent of the plastic input (the plastic
/// weights, <= 1 mV, can never bring V near the threshold on their own).
fn drift_net(n: usize, nu_pre: f64, nu_post: f64, seconds: f64, rule: &str) -> String {
    format!(
        "[simulation]\ndt = {DT}\nduration = {}\nseed = 11\n\
         [[population]]\nname = \"pre\"\ntype = \"{}\"\nsize = {n}\nneuron = {{ model = \"poisson_source\", rate = {nu_pre} }}\n\
         [[population]]\nname = \"post\"\ntype = \"excitatory\"\nsize = {n}\nneuron = {{ model = \"lif_delta\", e_l = 0.0, v_th = 1000.0, v_reset = 0.0, t_ref = 0.0 }}\n\
         [[projection]]\npre = \"pre\"\npost = \"post\"\nconnectivity = {{ rule = \"one_to_one\" }}\nweight = 0.5\ndelay = 0.1\nplasticity = {rule}\n\
         [[input]]\ntype = \"poisson\"\ntarget = \"post\"\nrate = {nu_post}\nweight = 2000.0\n\
         [record]\nspikes = \"none\"\n",
        seconds * 1000.0,
        if rule.contains("vogels") { "inhibitory" } else { "excitatory" }
    )
}

#[test]
fn engine_drift_matches_the_rate_limit() {
    // Tolerance: within 3 % of the predicted drift and within 4 standard errors, where the
    // standard error is sd(delta w over synapses) / sqrt(N): the N synapses are independent (each
    // has its own pre source and its own post neuron and drive). The discretisation at 0.1 ms biases
    // trace readings by about -dt/(2 tau) (< 0.3 % here).
    let rules = [
        "{ rule = \"pair_stdp\", a_plus = 0.001, tau_plus = 20.0, a_minus = 0.0003, tau_minus = 33.7, w_max = 1.0 }",
        "{ rule = \"pair_stdp\", a_plus = 0.001, tau_plus = 20.0, a_minus = 0.0003, tau_minus = 33.7, w_max = 1.0, pairing = \"nearest_symmetric\" }",
        "{ rule = \"vogels2011\", eta = 0.001, tau = 20.0, alpha = 0.2, w_max = 1.0 }",
    ];
    for rule in rules {
        // Vogels' drift vanishes at nu_post = alpha / (2 tau) = 5 Hz: test it on both sides, away
        // from the fixed point where a relative tolerance would be meaningless.
        let pairs: &[(f64, f64)] = if rule.contains("vogels") {
            &[(10.0, 2.0), (10.0, 10.0), (20.0, 15.0)]
        } else {
            &[(10.0, 10.0), (20.0, 5.0), (5.0, 30.0)]
        };
        for &(nu_pre, nu_post) in pairs {
            let (n, seconds) = (3000, 10.0);
            let m = model(&drift_net(n, nu_pre, nu_post, seconds, rule));
            let (sim, _) = run(&m, 2);
            let net = sim.net();
            let pr = &net.projections[0];
            let dws: Vec<f64> = pr.weight_values().iter().map(|&w| (w as f64 - 0.5) / seconds).collect();
            assert!(pr.weight_values().iter().all(|&w| w > 0.0 && w < 1.0), "no synapse reached a bound");
            let mean = dws.iter().sum::<f64>() / n as f64;
            let sd = (dws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            let se = sd / (n as f64).sqrt();
            // The drive fires a neuron in a step with probability 1 - exp(-nu dt): its actual rate.
            let nu_post_eff = (1.0 - (-nu_post * DT * 1e-3).exp()) / (DT * 1e-3);
            let rule_rt = pr.plastic.as_ref().unwrap().rule.clone();
            let predicted = rule_rt.rate_limit(nu_pre, nu_post_eff, 0.5);
            let err = (mean - predicted).abs();
            assert!(
                err < 0.03 * predicted.abs() && err < 4.0 * se,
                "{rule} at ({nu_pre}, {nu_post}) Hz: measured {mean:.4e} +- {se:.1e}, rate limit {predicted:.4e}"
            );
            assert!(se < 0.01 * predicted.abs(), "the test resolves 1 %: se {se:.1e} vs {predicted:.1e}");
        }
    }
}

/// Pre sources at `nu_pre` Hz onto silent delta neurons (no drive): with a pair rule whose only
/// non-Hebbian term is a constant drift, the weight is `w0 + drift t` (clamped) whatever the
/// presynaptic events, as the post trace stays 0.
fn silent_post_net(nu_pre: f64, drift: f64, ms: f64) -> String {
    format!(
        "[simulation]\ndt = {DT}\nduration = {ms}\nseed = 3\n\
         [[population]]\nname = \"pre\"\ntype = \"excitatory\"\nsize = 200\nneuron = {{ model = \"poisson_source\", rate = {nu_pre} }}\n\
         [[population]]\nname = \"post\"\ntype = \"excitatory\"\nsize = 200\nneuron = {{ model = \"lif_delta\", e_l = 0.0, v_th = 1000.0, v_reset = 0.0, t_ref = 0.0 }}\n\
         [[projection]]\npre = \"pre\"\npost = \"post\"\nconnectivity = {{ rule = \"one_to_one\" }}\nweight = 0.5\ndelay = 0.1\n\
         plasticity = {{ rule = \"pair_stdp\", a_plus = 0.01, tau_plus = 20.0, a_minus = 0.01, tau_minus = 20.0, w_max = 1.0, non_hebbian = {{ drift = {drift} }} }}\n\
         [record]\nspikes = \"none\"\n"
    )
}

#[test]
fn weights_read_out_include_the_drift_not_yet_applied() {
    let ms = 2000.0;
    for drift in [1e-5f64, -4e-4] {
        let expect = (0.5 + drift * ms).clamp(0.0, 1.0) as f32;
        // No event at all: the stored weights never move, the read-out follows the closed form
        // exactly (one rounding to f32, as at an event).
        let (mut sim, _) = run(&model(&silent_post_net(0.0, drift, ms)), 1);
        assert!(
            sim.net().projections[0].weight_values().iter().all(|&w| w == 0.5),
            "stored weights lag"
        );
        assert!(
            sim.net().weights_now(0).iter().all(|&w| w == expect),
            "drift {drift}: read-out {:?}, expected {expect}",
            &sim.net().weights_now(0)[..3]
        );
        // Freezing commits the drift owed so far (no event would ever apply it), and a frozen
        // projection does not drift; switched on again, it drifts from then on.
        sim.set_plasticity(0, false);
        assert!(
            sim.net().projections[0].weight_values().iter().all(|&w| w == expect),
            "freezing commits the drift"
        );
        let stop = AtomicBool::new(false);
        sim.run(500, &mut NullRecorder, &stop, |_| {}).unwrap();
        assert!(sim.net().weights_now(0).iter().all(|&w| w == expect), "frozen weights do not drift");
        sim.set_plasticity(0, true);
        sim.run(1000, &mut NullRecorder, &stop, |_| {}).unwrap();
        let later = (f64::from(expect) + drift * 100.0).clamp(0.0, 1.0) as f32;
        assert!(
            sim.net().weights_now(0).iter().all(|&w| w == later),
            "drift counts from the switch-on"
        );
        // With presynaptic events (the drift is applied at each, rounded to f32 each time): the
        // read-out is within one f32 rounding per event (<= 2 events per 100 ms here at 10 Hz
        // for 2 s, about 40 in all, 6e-8 each at w ~ 0.5) of the closed form.
        let (sim, _) = run(&model(&silent_post_net(10.0, drift, ms)), 2);
        let now = sim.net().weights_now(0);
        let stored = sim.net().projections[0].weight_values();
        assert!(stored.iter().any(|&w| w != 0.5), "events applied part of the drift");
        for (&w, &s) in now.iter().zip(stored.iter()) {
            assert!(
                (w - expect).abs() <= 40.0 * 6e-8 + f32::EPSILON,
                "drift {drift}: read-out {w} (stored {s}), closed form {expect}"
            );
        }
    }
}
