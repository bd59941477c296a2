//! Each neuron model against its closed-form solution, computed here in f64 independently of the
//! library's propagators. Tolerance 1e-9 relative: the exact integrators (CUBA, delta) differ from
//! the closed form by round-off only (~1e-15 per step); COBA's RK4 has a local error of
//! (h/tau)^5/120 ~ 3e-14 per step at h = 0.1 ms, tau = 20 ms, far below 1e-9 after 1000 steps.

use super::common::{model, run};

const DT: f64 = 0.1;

/// Max over samples of |sim - exact| / max|exact| (relative to the response's scale).
fn max_rel_err(sim: &[f64], exact: &[f64]) -> f64 {
    let scale = exact.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    sim.iter().zip(exact).map(|(s, e)| (s - e).abs()).fold(0.0, f64::max) / scale
}

/// Trace of `var` of neuron 0 at every step 1..=steps.
fn trace(text: &str, var: &str) -> Vec<f64> {
    let m = model(&format!(
        "{text}\n[record]\nspikes = \"none\"\nstate = [{{ population = \"n\", variables = [\"{var}\"], neurons = [0] }}]\n"
    ));
    let (_, rec) = run(&m, 1);
    rec.data.state[0].iter().map(|(_, v)| v[0]).collect()
}

fn header(neuron: &str, duration: f64) -> String {
    format!("[simulation]\ndt = {DT}\nduration = {duration}\n[[population]]\nname = \"n\"\ntype = \"excitatory\"\nsize = 1\nneuron = {neuron}\n")
}

#[test]
fn lif_cuba_constant_input_matches_closed_form() {
    // e_l = 0 so that V is the response itself; bias keeps V below threshold.
    let (tau, bias) = (20.0, 8.0);
    let v = trace(
        &header(
            &format!("{{ model = \"lif_cuba\", tau_m = {tau}, e_l = 0.0, v_th = 15.0, v_reset = 0.0, v_bias = {bias} }}"),
            100.0,
        ),
        "v",
    );
    let exact: Vec<f64> = (1..=v.len()).map(|k| bias * (1.0 - (-(k as f64) * DT / tau).exp())).collect();
    let err = max_rel_err(&v, &exact);
    assert!(err < 1e-9, "relative error {err}");
    // And with a realistic resting potential, V itself to 1e-9 relative.
    let v = trace(
        &header(
            &format!("{{ model = \"lif_cuba\", tau_m = {tau}, e_l = -70.0, v_th = -55.0, v_reset = -70.0, v_bias = {bias} }}"),
            100.0,
        ),
        "v",
    );
    let exact: Vec<f64> = (1..=v.len())
        .map(|k| -70.0 + bias * (1.0 - (-(k as f64) * DT / tau).exp()))
        .collect();
    assert!(max_rel_err(&v, &exact) < 1e-9);
}

#[test]
fn lif_cuba_single_input_spike_matches_closed_form() {
    for (tau_m, tau_s) in [(20.0, 5.0), (10.0, 10.0)] {
        let (w, t_s) = (2.5f32, 10.0);
        let text = header(
            &format!("{{ model = \"lif_cuba\", tau_m = {tau_m}, e_l = 0.0, v_th = 15.0, v_reset = 0.0, tau_exc = {tau_s} }}"),
            80.0,
        ) + &format!("[[input]]\ntype = \"spike_times\"\ntarget = \"n\"\ntimes = [{t_s}]\nweight = {w}\n");
        let v = trace(&text, "v");
        let w = w as f64; // the engine stores weights as f32: compare with the same value
        let exact: Vec<f64> = (1..=v.len())
            .map(|k| {
                let s = k as f64 * DT - t_s;
                if s <= 1e-12 {
                    0.0
                } else if tau_s == tau_m {
                    w * s / tau_m * (-s / tau_m).exp()
                } else {
                    w * tau_s / (tau_s - tau_m) * ((-s / tau_s).exp() - (-s / tau_m).exp())
                }
            })
            .collect();
        let err = max_rel_err(&v, &exact);
        assert!(err < 1e-9, "tau_m {tau_m} tau_s {tau_s}: relative error {err}");
        let i = trace(&text, "i_exc");
        let exact_i: Vec<f64> = (1..=i.len())
            .map(|k| {
                if k as f64 * DT >= t_s - 1e-9 {
                    w * (-(k as f64 * DT - t_s) / tau_s).exp()
                } else {
                    0.0
                }
            })
            .collect();
        assert!(max_rel_err(&i, &exact_i) < 1e-9);
    }
}

#[test]
fn lif_delta_matches_closed_form() {
    let (tau, bias, j, t_s) = (20.0, 5.0, 1.5f32, 30.0);
    let text = header(
        &format!("{{ model = \"lif_delta\", tau_m = {tau}, e_l = 0.0, v_th = 20.0, v_reset = 10.0, v_bias = {bias} }}"),
        100.0,
    ) + &format!("[[input]]\ntype = \"spike_times\"\ntarget = \"n\"\ntimes = [{t_s}]\nweight = {j}\n");
    let v = trace(&text, "v");
    let exact: Vec<f64> = (1..=v.len())
        .map(|k| {
            let t = k as f64 * DT;
            let base = bias * (1.0 - (-t / tau).exp());
            if t >= t_s - 1e-9 {
                base + j as f64 * (-(t - t_s) / tau).exp()
            } else {
                base
            }
        })
        .collect();
    let err = max_rel_err(&v, &exact);
    assert!(err < 1e-9, "relative error {err}");
}

#[test]
fn lif_coba_constant_input_matches_closed_form() {
    let (c, gl, el, i) = (200.0, 10.0, -60.0, 80.0); // pA: V_inf = -52 mV, below threshold
    let v = trace(
        &header(
            &format!("{{ model = \"lif_coba\", c_m = {c}, g_leak = {gl}, e_l = {el}, i_bias = {i} }}"),
            100.0,
        ),
        "v",
    );
    let tau = c / gl;
    let exact: Vec<f64> = (1..=v.len())
        .map(|k| el + i / gl * (1.0 - (-(k as f64) * DT / tau).exp()))
        .collect();
    let resp_sim: Vec<f64> = v.iter().map(|x| x - el).collect();
    let resp_exact: Vec<f64> = exact.iter().map(|x| x - el).collect();
    let err = max_rel_err(&resp_sim, &resp_exact);
    assert!(err < 1e-9, "relative error {err}");
}

/// V(t) for C dV/dt = -g_L (V - E_L) - g0 e^{-t/tau} (V - E_e), V(0) = E_L:
/// V(t) = e^{-Phi(t)} [E_L + (1/C) int_0^t e^{Phi(s)} (g_L E_L + g0 e^{-s/tau} E_e) ds],
/// Phi(t) = (g_L t + g0 tau (1 - e^{-t/tau})) / C. The integral is evaluated with composite
/// 8-point Gauss-Legendre quadrature on 0.01 ms panels (error far below 1e-13 for this smooth integrand).
#[allow(clippy::excessive_precision)]
fn coba_exact(t: f64, c: f64, gl: f64, el: f64, ee: f64, g0: f64, tau: f64) -> f64 {
    let phi = |s: f64| (gl * s + g0 * tau * (1.0 - (-s / tau).exp())) / c;
    let f = |s: f64| phi(s).exp() * (gl * el + g0 * (-s / tau).exp() * ee) / c;
    let nodes = [
        (0.1834346424956498, 0.3626837833783620),
        (-0.1834346424956498, 0.3626837833783620),
        (0.5255324099163290, 0.3137066458778873),
        (-0.5255324099163290, 0.3137066458778873),
        (0.7966664774136267, 0.2223810344533745),
        (-0.7966664774136267, 0.2223810344533745),
        (0.9602898564975363, 0.1012285362903763),
        (-0.9602898564975363, 0.1012285362903763),
    ];
    let panels = (t / 0.01).ceil().max(1.0) as usize;
    let h = t / panels as f64;
    let mut integral = 0.0;
    for p in 0..panels {
        let mid = (p as f64 + 0.5) * h;
        for (x, w) in nodes {
            integral += w * 0.5 * h * f(mid + 0.5 * h * x);
        }
    }
    (-phi(t)).exp() * (el + integral)
}

#[test]
fn lif_coba_single_input_spike_matches_closed_form() {
    let (c, gl, el, ee, tau, g0, t_s) = (200.0, 10.0, -60.0, 0.0, 5.0, 3.0f32, 10.0);
    let text = header(
        &format!("{{ model = \"lif_coba\", c_m = {c}, g_leak = {gl}, e_l = {el}, e_exc = {ee}, tau_exc = {tau} }}"),
        60.0,
    ) + &format!("[[input]]\ntype = \"spike_times\"\ntarget = \"n\"\ntimes = [{t_s}]\nweight = {g0}\n");
    let v = trace(&text, "v");
    let mut resp_sim = Vec::new();
    let mut resp_exact = Vec::new();
    for (k, vs) in v.iter().enumerate() {
        let t = (k + 1) as f64 * DT;
        let exact = if t <= t_s + 1e-9 {
            el
        } else {
            coba_exact(t - t_s, c, gl, el, ee, g0 as f64, tau)
        };
        resp_sim.push(vs - el);
        resp_exact.push(exact - el);
    }
    let err = max_rel_err(&resp_sim, &resp_exact);
    assert!(err < 1e-9, "relative error {err}");
    // The response is a real depolarisation of a few tenths of a mV, not a trivial zero.
    assert!(resp_exact.iter().cloned().fold(0.0, f64::max) > 0.1);
}

#[test]
fn lif_f_i_curve_within_one_step() {
    // r = 1/(t_ref + tau ln((RI - V_reset)/(RI - V_th))) with potentials relative to E_L = 0.
    // The engine detects a crossing at the first grid point after it, so every interval is the
    // theoretical one plus at most one step: T_theory <= T_sim < T_theory + dt.
    let (tau, v_th, v_r, t_ref): (f64, f64, f64, f64) = (20.0, 15.0, 5.0, 2.0);
    for ri in [15.5f64, 16.0, 20.0, 30.0, 50.0, 100.0] {
        let text = header(
            &format!(
                "{{ model = \"lif_cuba\", tau_m = {tau}, e_l = 0.0, v_th = {v_th}, v_reset = {v_r}, t_ref = {t_ref}, v_bias = {ri} }}"
            ),
            2000.0,
        ) + "[record]\nspikes = \"all\"\n";
        let (_, rec) = run(&model(&text), 1);
        let steps: Vec<u64> = rec.data.spikes[0].iter().map(|s| s.0).collect();
        assert!(steps.len() >= 3, "RI = {ri}: too few spikes");
        // Skip the first interval (starts at rest, not at reset).
        let isis: Vec<f64> = steps.windows(2).skip(1).map(|w| (w[1] - w[0]) as f64 * DT).collect();
        let t_theory = t_ref + tau * ((ri - v_r) / (ri - v_th)).ln();
        for isi in &isis {
            assert!(
                *isi >= t_theory - 1e-9 && *isi < t_theory + DT + 1e-9,
                "RI = {ri}: ISI {isi} vs theory {t_theory}"
            );
        }
        let rate_sim = 1000.0 / (isis.iter().sum::<f64>() / isis.len() as f64);
        let rate_theory = 1000.0 / t_theory;
        assert!(
            rate_sim <= rate_theory + 1e-9 && rate_sim > 1000.0 / (t_theory + DT),
            "RI = {ri}: {rate_sim} Hz vs {rate_theory} Hz"
        );
    }
}

#[test]
fn sub_threshold_constant_current_never_fires() {
    let text = header(
        "{ model = \"lif_cuba\", tau_m = 20.0, e_l = 0.0, v_th = 15.0, v_reset = 5.0, v_bias = 14.99 }",
        1000.0,
    ) + "[record]\nspikes = \"all\"\n";
    let (_, rec) = run(&model(&text), 1);
    assert!(rec.data.spikes[0].is_empty());
}
