//! Engine semantics: delays, the order of operations inside a step, determinism across threads.

use super::common::{model, model_path, run};
use hebb::spec;

const DT: f64 = 0.1;

/// A spike source neuron firing at `t_spike` onto one lif_cuba neuron with delay `delay` ms.
fn relay(t_spike: f64, delay: f64, w: f64) -> String {
    format!(
        "[simulation]\ndt = {DT}\nduration = 20.0\n\
         [[population]]\nname = \"src\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"spike_source\", times = [[{t_spike}]] }}\n\
         [[population]]\nname = \"n\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"lif_cuba\", e_l = 0.0, v_th = 50.0, v_reset = 0.0 }}\n\
         [[projection]]\npre = \"src\"\npost = \"n\"\nconnectivity = {{ rule = \"one_to_one\" }}\nweight = {w}\ndelay = {delay}\n\
         [record]\nspikes = \"all\"\nstate = [{{ population = \"n\", variables = [\"v\", \"i_exc\"] }}]\n"
    )
}

#[test]
fn spike_at_step_t_with_delay_d_arrives_at_step_t_plus_d() {
    for (t_spike, delay) in [(1.0, 0.1), (1.0, 1.0), (2.3, 1.5), (0.5, 7.7)] {
        let m = model(&relay(t_spike, delay, 2.0));
        let (_, rec) = run(&m, 1);
        let t = (t_spike / DT).round() as u64;
        let d = (delay / DT).round() as u64;
        assert_eq!(rec.data.spikes[0], vec![(t, 0)], "the source fires at step t");
        // state[1] is i_exc; the first step where it is non-zero is t + d.
        let first = rec.data.state[1].iter().find(|(_, v)| v[0] != 0.0).map(|(k, _)| *k);
        assert_eq!(first, Some(t + d), "t_spike {t_spike} delay {delay}");
        // The membrane is untouched at step t+d and moves from step t+d+1 on (input enters the
        // synaptic current at the end of step t+d).
        let v_at = |k: u64| rec.data.state[0].iter().find(|(s, _)| *s == k).unwrap().1[0];
        assert_eq!(v_at(t + d), 0.0);
        assert!(v_at(t + d + 1) > 0.0);
    }
}

#[test]
fn heterogeneous_delays_arrive_at_their_own_steps() {
    // Two synapses from one source with delays 0.3 and 1.2 ms: i_exc jumps at both steps.
    let text = format!(
        "[simulation]\ndt = {DT}\nduration = 5.0\n\
         [[population]]\nname = \"src\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"spike_source\", times = [[1.0]] }}\n\
         [[population]]\nname = \"n\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"lif_cuba\", e_l = 0.0, v_th = 50.0, v_reset = 0.0, tau_exc = 1e9 }}\n\
         [[projection]]\npre = \"src\"\npost = \"n\"\nconnectivity = {{ rule = \"explicit\", pre = [0, 0], post = [0, 0], weight = [1.0, 2.0], delay = [0.3, 1.2] }}\n\
         [record]\nspikes = \"none\"\nstate = [{{ population = \"n\", variables = [\"i_exc\"] }}]\n"
    );
    let (_, rec) = run(&model(&text), 1);
    let i_at = |k: u64| rec.data.state[0].iter().find(|(s, _)| *s == k).unwrap().1[0];
    assert_eq!(i_at(12), 0.0);
    assert!((i_at(13) - 1.0).abs() < 1e-6);
    assert!((i_at(21) - 1.0).abs() < 1e-6);
    assert!((i_at(22) - 3.0).abs() < 1e-6);
}

#[test]
fn step_order_refractory_and_current_onset() {
    // A neuron driven far above threshold: after a spike at step k it sits at v_reset for the
    // t_ref/dt steps k+1..k+R and integrates again at step k+R+1.
    let text = format!(
        "[simulation]\ndt = {DT}\nduration = 30.0\n\
         [[population]]\nname = \"n\"\ntype = \"excitatory\"\nsize = 1\nneuron = {{ model = \"lif_cuba\", e_l = 0.0, v_th = 10.0, v_reset = 0.0, t_ref = 2.0 }}\n\
         [[input]]\ntype = \"current\"\ntarget = \"n\"\namplitude = 200.0\nstart = 1.0\n\
         [record]\nspikes = \"all\"\nstate = [{{ population = \"n\", variables = [\"v\"] }}]\n"
    );
    let (_, rec) = run(&model(&text), 1);
    let v_at = |k: u64| rec.data.state[0].iter().find(|(s, _)| *s == k).unwrap().1[0];
    // The current switched on at t = 1 ms acts on the propagation from step 10 to 11.
    assert_eq!(v_at(10), 0.0);
    assert!(v_at(11) > 0.0);
    let k = rec.data.spikes[0][0].0;
    let r = 20;
    for s in k..=k + r {
        assert_eq!(v_at(s), 0.0, "clamped at reset at step {s} (spike at {k})");
    }
    assert!(v_at(k + r + 1) > 0.0, "integrates again at step k + R + 1");
    let k2 = rec.data.spikes[0][1].0;
    assert!(k2 > k + r, "no spike during the refractory period");
}

fn raster(path: &std::path::Path, seed: u64, threads: usize, sets: &[&str]) -> Vec<Vec<(u64, u32)>> {
    let mut s: Vec<String> = sets.iter().map(|x| x.to_string()).collect();
    s.push(format!("simulation.seed={seed}"));
    s.push("simulation.duration=300.0".into());
    let (m, _) = spec::load(path, &s).unwrap();
    run(&m, threads).1.data.spikes
}

#[test]
fn same_seed_same_raster_for_any_thread_count() {
    let p = model_path("cuba.toml");
    let one = raster(&p, 7, 1, &[]);
    assert!(one[0].len() > 1000, "the network is active");
    for threads in [2, 3, 4] {
        assert_eq!(one, raster(&p, 7, threads, &[]), "{threads} threads");
    }
    assert_ne!(one, raster(&p, 8, 1, &[]), "another seed gives another raster");
    // Poisson drive, heterogeneous delays and a population spanning several random blocks.
    let sets = [
        "population.exc.size=5000",
        "projection.exc_to_exc.delay={ uniform = { low = 0.1, high = 2.0 } }",
    ];
    let a = raster(&p, 3, 1, &sets);
    assert_eq!(a, raster(&p, 3, 2, &sets));
    assert_eq!(a, raster(&p, 3, 3, &sets));
}

/// Each thread counts the spikes of its own neurons (counts, intervals, synaptic events): the
/// statistics must equal those computed from the raster, for any thread count. Two networks:
/// CUBA with a Poisson source population (counted between steps; the step order
/// integrate-then-deliver), and CUBA with a Poisson drive (the order deliver-then-integrate) plus
/// a population of 100 neurons, smaller than three chunks of 64 (an empty chunk).
#[test]
fn spike_statistics_match_the_raster_for_any_thread_count() {
    let text = std::fs::read_to_string(model_path("cuba.toml")).unwrap();
    let record = text.find("\n[record]").unwrap();
    let source = "\n[[population]]\nname = \"src\"\ntype = \"excitatory\"\nsize = 200\n\
                  neuron = { model = \"poisson_source\", rate = 20.0 }\n\
                  \n[[projection]]\npre = \"src\"\npost = \"exc\"\n\
                  connectivity = { rule = \"fixed_probability\", p = 0.05 }\nweight = 0.5\ndelay = 0.1\n";
    let dense = "\n[[population]]\nname = \"tiny\"\ntype = \"excitatory\"\nsize = 100\n\
                 neuron = { model = \"lif_delta\", t_ref = 2.0 }\n\
                 \n[[projection]]\npre = \"tiny\"\npost = \"exc\"\n\
                 connectivity = { rule = \"fixed_probability\", p = 0.05 }\nweight = 0.5\ndelay = 0.1\n\
                 \n[[input]]\ntype = \"poisson\"\ntarget = \"tiny\"\nrate = 2000.0\nweight = 10.0\n\
                 \n[[input]]\ntype = \"poisson\"\ntarget = \"exc\"\nrate = 100.0\nweight = 0.5\n";
    for extra in [source, dense] {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), format!("{}{}{}", &text[..record], extra, &text[record..])).unwrap();
        let (m, _) = spec::load(f.path(), &["simulation.duration=300.0".into()]).unwrap();
        let mut first = None;
        for threads in [1, 2, 3] {
            let (sim, rec) = run(&m, threads);
            let net = sim.net();
            let mut events = 0u64;
            for (p, st) in sim.stats.iter().enumerate() {
                let n = net.populations[p].size;
                let (mut count, mut last, mut sum, mut sq) = (vec![0u32; n], vec![None::<u64>; n], vec![0.0; n], vec![0.0; n]);
                for &(k, i) in &rec.data.spikes[p] {
                    let i = i as usize;
                    count[i] += 1;
                    if let Some(l) = last[i] {
                        let isi = (k - l) as f64;
                        sum[i] += isi;
                        sq[i] += isi * isi;
                    }
                    last[i] = Some(k);
                    events += net.out_degree[p][i] as u64;
                }
                let at = format!("population {}, {threads} threads", net.populations[p].name);
                assert!(count.iter().sum::<u32>() > 100, "{at} is active");
                assert_eq!(st.counts(), count, "counts, {at}");
                for (i, s) in st.neurons().iter().enumerate() {
                    assert_eq!(st.last(i), last[i], "last spike, {at}, neuron {i}");
                    assert_eq!((s.isi_sum, s.isi_sq), (sum[i], sq[i]), "intervals, {at}, neuron {i}");
                }
            }
            assert_eq!(sim.syn_events, events, "synaptic events, {threads} threads");
            let cvs: Vec<_> = sim.stats.iter().map(|s| s.mean_cv()).collect();
            match &first {
                None => first = Some(cvs),
                Some(f) => assert_eq!(f, &cvs, "{threads} threads"),
            }
        }
    }
}

/// The CPUs this thread may run on (`Cpus_allowed_list`, e.g. "0-3,8").
#[cfg(target_os = "linux")]
fn allowed_cpus() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_string();
    list.split(',')
        .flat_map(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            a.parse::<usize>().unwrap()..=b.parse::<usize>().unwrap()
        })
        .collect()
}

/// Pinned threads change where the threads run, not what they compute: the calling thread sits
/// on the first CPU it may use while the simulation lives and gets its CPUs back afterwards.
#[cfg(target_os = "linux")]
#[test]
fn bound_threads_give_the_same_raster_and_restore_the_caller() {
    let before = allowed_cpus();
    let (m, _) = spec::load(&model_path("cuba.toml"), &["simulation.duration=200.0".into()]).unwrap();
    let reference = run(&m, 1).1.data.spikes;
    for threads in [1, 2] {
        let mut sim = hebb::engine::Simulation::new(hebb::build::build(&m).unwrap(), threads).unwrap();
        let bound = sim.bind_threads().unwrap();
        assert_eq!(bound, before.len() >= threads, "{threads} threads on CPUs {before:?}");
        if bound {
            assert_eq!(
                allowed_cpus(),
                [before[0]],
                "the caller is pinned to the first CPU while the simulation lives"
            );
        }
        let mut rec = hebb::io::MemoryRecorder::new(hebb::io::RecordPlan::from_spec(&m));
        sim.run(m.steps(), &mut rec, &std::sync::atomic::AtomicBool::new(false), |_| {})
            .unwrap();
        assert_eq!(rec.data.spikes, reference, "{threads} bound threads");
        drop(sim);
        assert_eq!(allowed_cpus(), before, "the caller's CPUs are restored");
    }
}

/// `hebb bench --bind-threads` pins every repetition, recording ones included: a kept simulation
/// must not leave the next team on the main thread's one CPU (which `bind_threads` would then
/// refuse with a warning).
#[cfg(target_os = "linux")]
#[test]
fn bench_binds_every_repetition() {
    let threads = 2;
    let out = assert_cmd::Command::cargo_bin("hebb")
        .unwrap()
        .args([
            "bench",
            model_path("cuba.toml").to_str().unwrap(),
            "--duration",
            "50",
            "--repeat",
            "2",
            "--record",
        ])
        .args(["--threads", &threads.to_string(), "--bind-threads"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.contains("warning: --bind-threads"),
        allowed_cpus().len() < threads,
        "{stderr}"
    );
}

/// A CUBA population fed only through projections, static or plastic, applies its inputs
/// sparsely (only the ring entries that deliveries wrote); any Poisson drive switches it to the
/// dense path. A drive of rate 0 adds nothing, so both paths must give the same spikes, membrane
/// traces and weights, bit for bit, with constant and with per-synapse delays, with and without
/// STDP, on one thread and on several.
#[test]
fn sparse_and_dense_input_paths_agree_bit_for_bit() {
    for file in ["cuba.toml", "cuba_stdp.toml"] {
        let base = std::fs::read_to_string(model_path(file)).unwrap();
        let zero_drive = "\n[[input]]\ntype = \"poisson\"\ntarget = \"exc\"\nrate = 0.0\nweight = 1.0\n\
                          \n[[input]]\ntype = \"poisson\"\ntarget = \"inh\"\nrate = 0.0\nweight = 1.0\n";
        let record = base.find("\n[record]").unwrap();
        let dense = format!("{}{}{}", &base[..record], zero_drive, &base[record..]);
        for delays in ["", "projection.exc_to_inh.delay={ uniform = { low = 0.1, high = 2.0 } }"] {
            let load = |text: &str| {
                let f = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(f.path(), text).unwrap();
                let mut sets = vec!["simulation.duration=300.0".to_string()];
                if !delays.is_empty() {
                    sets.push(delays.to_string());
                }
                spec::load(f.path(), &sets).unwrap().0
            };
            let (ms, md) = (load(&base), load(&dense));
            for threads in [1, 3] {
                let ((ss, s), (sd, d)) = (run(&ms, threads), run(&md, threads));
                let at = format!("{file}, {threads} threads, delays {delays:?}");
                assert!(s.data.spikes[0].len() > 500, "the network is active");
                assert_eq!(s.data.spikes, d.data.spikes, "spikes, {at}");
                assert_eq!(s.data.state, d.data.state, "state, {at}");
                let weights = |sim: &hebb::engine::Simulation| sim.net().projections.iter().map(|p| p.weights.clone()).collect::<Vec<_>>();
                assert_eq!(weights(&ss), weights(&sd), "weights, {at}");
            }
        }
    }
}

#[test]
fn poisson_drive_is_thread_independent_and_has_the_right_rate() {
    // Neurons that relay every input: a delta neuron with a huge jump fires at each input event.
    // Rate of events = count * rate; with t_ref = 0 and one event per step at most being likely,
    // the output rate is the probability of >= 1 event per step: (1 - e^{-lambda}) / dt.
    let text = "[simulation]\ndt = 0.1\nduration = 2000.0\n\
        [[population]]\nname = \"n\"\ntype = \"excitatory\"\nsize = 3000\nneuron = { model = \"lif_delta\", t_ref = 0.0 }\n\
        [[input]]\ntype = \"poisson\"\ntarget = \"n\"\nrate = 10.0\ncount = 5\nweight = 100.0\n";
    let m = model(text);
    let (sim1, rec1) = run(&m, 1);
    let (_, rec2) = run(&m, 2);
    assert_eq!(rec1.data.spikes, rec2.data.spikes);
    let lambda: f64 = 50.0 * 1e-4;
    let expected = (1.0 - (-lambda).exp()) / 1e-4; // Hz
    let n_spikes = sim1.stats[0].total() as f64;
    let measured = n_spikes / 3000.0 / 2.0;
    // Poisson count: standard error sqrt(N)/ (neurons * T); allow 4 standard errors.
    let se = n_spikes.sqrt() / 3000.0 / 2.0;
    assert!((measured - expected).abs() < 4.0 * se, "{measured} Hz vs {expected} Hz (se {se})");
}

#[test]
fn cuba_rates_match_the_peers() {
    // NEST 3.10 and Brian2 2.9 gave 5.5-6.1 Hz for this network over 1 s; the band is
    // [4.5, 7] Hz for both populations.
    let (m, _) = spec::load(&model_path("cuba.toml"), &[]).unwrap();
    let (sim, _) = run(&m, 2);
    for (p, st) in sim.net().populations.iter().zip(&sim.stats) {
        let rate = st.total() as f64 / p.size as f64 / (m.simulation.duration * 1e-3);
        assert!((4.5..=7.0).contains(&rate), "{}: {rate} Hz", p.name);
        // Asynchronous irregular firing, not a clock.
        assert!(st.mean_cv().unwrap() > 0.3, "{}: CV {:?}", p.name, st.mean_cv());
    }
}

#[test]
fn connectivity_rules_give_the_declared_structure() {
    let text = "[simulation]\nduration = 1.0\n\
        [[population]]\nname = \"a\"\ntype = \"excitatory\"\nsize = 2000\nneuron = { model = \"lif_cuba\" }\n\
        [[population]]\nname = \"b\"\ntype = \"inhibitory\"\nsize = 1500\nneuron = { model = \"lif_cuba\" }\n\
        [[projection]]\nname = \"indeg\"\npre = \"a\"\npost = \"a\"\nconnectivity = { rule = \"fixed_indegree\", k = 50 }\n\
        [[projection]]\nname = \"outdeg\"\npre = \"b\"\npost = \"a\"\nconnectivity = { rule = \"fixed_outdegree\", k = 30 }\n\
        [[projection]]\nname = \"prob\"\npre = \"a\"\npost = \"b\"\nconnectivity = { rule = \"fixed_probability\", p = 0.1 }\n\
        [[projection]]\nname = \"all\"\npre = \"b\"\npost = \"b\"\nconnectivity = { rule = \"all_to_all\" }\n\
        weight = { normal = { mean = 1.0, std = 2.0 } }\n";
    let net = hebb::build::build(&model(text)).unwrap();
    let indeg = &net.projections[0];
    let mut deg = vec![0u32; 2000];
    for j in 0..2000 {
        let r = indeg.row(j);
        let t = &indeg.targets[r];
        assert!(t.windows(2).all(|w| w[0] < w[1]), "rows sorted, no multapses");
        assert!(!t.contains(&(j as u32)), "no autapses");
        t.iter().for_each(|&i| deg[i as usize] += 1);
    }
    assert!(deg.iter().all(|&d| d == 50));
    let out = &net.projections[1];
    assert!((0..1500).all(|j| out.row(j).len() == 30));
    // Binomial count: mean p N M, sd sqrt(p (1-p) N M); 5 sd.
    let prob = &net.projections[2];
    let (mean, sd) = (0.1 * 2000.0 * 1500.0, (0.1f64 * 0.9 * 2000.0 * 1500.0).sqrt());
    assert!((prob.len() as f64 - mean).abs() < 5.0 * sd);
    let all = &net.projections[3];
    assert_eq!(all.len(), 1500 * 1499);
    assert!(all.weight_values().iter().all(|&w| w >= 0.0), "normal weights clipped at 0 (Dale)");
    assert!(all.weight_values().contains(&0.0) && all.weight_values().iter().any(|&w| w > 3.0));
}

#[test]
fn poisson_sources_with_per_neuron_rates_and_run_time_changes() {
    use hebb::neuron::Dynamics;
    // 4 neurons at 5, 10, 20, 40 Hz for 200 s: counts are binomial(2e6 steps, r dt), so each is
    // within 5 sd = 5 sqrt(r T) of r T.
    let text = "[simulation]\ndt = 0.1\nduration = 200000.0\n\
        [[population]]\nname = \"src\"\ntype = \"excitatory\"\nsize = 4\nneuron = { model = \"poisson_source\", rates = [5.0, 10.0, 20.0, 40.0] }\n\
        [record]\nspikes = \"none\"\n";
    let (sim, _) = run(&model(text), 1);
    for (i, r) in [5.0, 10.0, 20.0, 40.0].iter().enumerate() {
        let c = sim.stats[0].count(i) as f64;
        assert!(
            (c - r * 200.0).abs() < 5.0 * (r * 200.0f64).sqrt(),
            "neuron {i}: {c} spikes for {r} Hz"
        );
    }
    // Switching rates between steps: silence, then 50 Hz for everyone.
    let m = model(&text.replace("200000.0", "1000.0"));
    let mut s = hebb::engine::Simulation::new(hebb::build::build(&m).unwrap(), 1).unwrap();
    if let Dynamics::PoissonSource(p) = &mut s.net_mut().populations[0].dynamics {
        p.set_rates(&[0.0; 4]);
    }
    s.run(
        10_000,
        &mut hebb::io::NullRecorder,
        &std::sync::atomic::AtomicBool::new(false),
        |_| {},
    )
    .unwrap();
    assert_eq!(s.stats[0].total(), 0);
    if let Dynamics::PoissonSource(p) = &mut s.net_mut().populations[0].dynamics {
        p.set_rate(50.0);
    }
    s.run(
        10_000,
        &mut hebb::io::NullRecorder,
        &std::sync::atomic::AtomicBool::new(false),
        |_| {},
    )
    .unwrap();
    let c = s.stats[0].total() as f64;
    assert!((c - 200.0).abs() < 5.0 * 200f64.sqrt(), "{c} spikes, expected 200");
}
