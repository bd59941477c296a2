//! HDF5 output of `hebb run`, end to end: what the engine records equals what is read back, and
//! an interrupted run leaves readable files holding a consistent prefix with completed = 0.

use super::common::{model_path, run};
use assert_cmd::Command;
use hebb::io::hdf5;

fn spec(duration: f64) -> hebb::spec::ModelSpec {
    hebb::spec::load(&model_path("cuba.toml"), &[format!("simulation.duration={duration:?}")])
        .unwrap()
        .0
}

#[test]
fn run_output_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    Command::cargo_bin("hebb")
        .unwrap()
        .arg("run")
        .arg(model_path("cuba.toml"))
        .arg("--out")
        .arg(&out)
        .args(["--duration", "150", "-q", "-j", "2"])
        .assert()
        .success();
    // The same model in memory (1 thread: results do not depend on threads).
    let m = spec(150.0);
    let (sim, rec) = run(&m, 1);
    let net = sim.net();
    let spikes = hdf5::read_spikes(&out.join("spikes.h5")).unwrap();
    for (p, pop) in net.populations.iter().enumerate() {
        let (_, times, ids) = spikes.iter().find(|(n, _, _)| n == &pop.name).unwrap();
        let expect = &rec.data.spikes[p];
        assert_eq!(times.len(), expect.len());
        assert!(!expect.is_empty());
        for ((t, i), (k, j)) in times.iter().zip(ids).zip(expect) {
            assert_eq!(*t, *k as f64 * net.dt);
            assert_eq!(*i, *j as u64);
        }
    }
    let attrs = hdf5::read_root_attrs(&out.join("spikes.h5")).unwrap();
    assert_eq!(attrs["completed"], "1");
    assert_eq!(attrs["reached_duration_ms"].parse::<f64>().unwrap(), 150.0);
    // State: every probe, every frame, as f32.
    for (q, probe) in rec.plan.state.iter().enumerate() {
        let (ids, time, data) = hdf5::read_report(&out.join("state.h5"), &net.populations[probe.pop].name, &probe.variable).unwrap();
        assert_eq!(ids, probe.neurons.iter().map(|&i| i as u64).collect::<Vec<_>>());
        assert_eq!(time[2], probe.interval as f64 * net.dt);
        let frames = &rec.data.state[q];
        assert_eq!(data.len(), frames.len() * ids.len());
        for (f, (_, vals)) in frames.iter().enumerate() {
            for (c, v) in vals.iter().enumerate() {
                assert_eq!(data[f * ids.len() + c], *v as f32);
            }
        }
    }
    // Weights: every synapse of every projection.
    for pr in &net.projections {
        let (src, tgt, w, d) = hdf5::read_edges(&out.join("weights.h5"), &pr.name).unwrap();
        assert_eq!(src, pr.sources().iter().map(|&x| x as u64).collect::<Vec<_>>());
        assert_eq!(tgt, pr.targets.iter().map(|&x| x as u64).collect::<Vec<_>>());
        assert_eq!(w, *pr.weight_values());
        assert!(d.iter().all(|&x| (x - 0.1).abs() < 1e-12));
    }
}

/// On one thread and on two (two parts, merged when interrupted).
#[test]
fn interrupted_run_leaves_a_consistent_prefix() {
    for threads in ["1", "2"] {
        interrupted_run_leaves_a_consistent_prefix_on(threads);
    }
}

fn interrupted_run_leaves_a_consistent_prefix_on(threads: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let bin = assert_cmd::cargo::cargo_bin("hebb");
    // Long enough never to finish before the interrupt (about 100 s of simulated time).
    let child = std::process::Command::new(bin)
        .arg("run")
        .arg(model_path("cuba.toml"))
        .arg("--out")
        .arg(&out)
        .args(["--duration", "100000", "-q", "-j", threads, "--bind-threads"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the files exist and the run has progressed, then send SIGINT.
    let t0 = std::time::Instant::now();
    while !out.join("run.json").exists() && t0.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    if threads != "1" {
        // The parts path runs (not chunks of one network): its threads are named so.
        // (name, CPUs it may run on) of every thread.
        let tasks: Vec<(String, String)> = std::fs::read_dir(format!("/proc/{}/task", child.id()))
            .unwrap()
            .filter_map(|t| {
                let dir = t.ok()?.path();
                let status = std::fs::read_to_string(dir.join("status")).ok()?;
                let cpus = status
                    .lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?
                    .trim()
                    .to_string();
                Some((std::fs::read_to_string(dir.join("comm")).ok()?.trim().to_string(), cpus))
            })
            .collect();
        let cpus = |name: &str| tasks.iter().find(|(n, _)| n == name).map(|(_, c)| c.clone());
        let part1 = cpus("hebb-part-1").unwrap_or_else(|| panic!("no part thread: {tasks:?}"));
        // --bind-threads: part 0 (the main thread) on the first CPU this process may use, part 1
        // on the second, where there are two.
        let mine = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let allowed = mine
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_string();
        if allowed.contains(['-', ',']) {
            let main = cpus("hebb").unwrap();
            assert!(
                !part1.contains(['-', ',']) && !main.contains(['-', ',']) && part1 != main,
                "{tasks:?}"
            );
        }
    }
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    // A lost interrupt would hang here: give up after a minute instead.
    let mut child = child;
    let t1 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t1.elapsed().as_secs() > 60 {
            child.kill().unwrap();
            panic!("the run did not stop on SIGINT ({threads} thread(s))");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("marked incomplete"));
    let attrs = hdf5::read_root_attrs(&out.join("spikes.h5")).unwrap();
    assert_eq!(attrs["completed"], "0");
    let reached: f64 = attrs["reached_duration_ms"].parse().unwrap();
    assert!(reached > 0.0 && reached < 100000.0);
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(summary["completed"], false);
    // serde_json's default float parser may be one ulp off: compare to 1e-12 relative.
    assert!((summary["reached_duration_ms"].as_f64().unwrap() - reached).abs() <= 1e-12 * reached);
    // The files hold exactly the spikes of an uninterrupted run up to the time reached.
    let m = spec(reached);
    let (_, rec) = run(&m, 1);
    let spikes = hdf5::read_spikes(&out.join("spikes.h5")).unwrap();
    for (p, name) in ["exc", "inh"].iter().enumerate() {
        let (_, times, ids) = spikes.iter().find(|(n, _, _)| n == name).unwrap();
        let expect = &rec.data.spikes[p];
        assert_eq!(times.len(), expect.len(), "{name}, {threads} thread(s)");
        assert!(times
            .iter()
            .zip(ids)
            .zip(expect)
            .all(|((t, i), (k, j))| *t == *k as f64 * 0.1 && *i == *j as u64));
    }
    let state = hdf5::read_root_attrs(&out.join("state.h5")).unwrap();
    assert_eq!(state["completed"], "0");
}
