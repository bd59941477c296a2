//! Distributed runs (cargo feature `mpi`): `mpirun -np 2` must write exactly the files of a
//! single-process run (spikes, state, weights and their snapshots, bit for bit), and a rank that
//! fails must stop the whole run with rank 0's message. Needs Open MPI (`mpirun` on PATH); run
//! with `cargo test --release --features mpi --test main mpi` (`.ci/run` does).

use super::parts::{assert_same_outputs, run_single, with_record, CUBA_RECORD, DELTA_DELAYS};
use hebb::io::hdf5::{read_root_attrs, read_spikes};
use std::path::Path;
use std::process::Command;

fn hebb() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("hebb")
}

fn mpirun(np: usize) -> Command {
    let mut c = Command::new("mpirun");
    // Two ranks share the 2 cores of a CI machine with the test harness; CI runs as root.
    c.args(["--oversubscribe", "--allow-run-as-root", "-np", &np.to_string()]);
    // Oversubscribed ranks should yield the core while they wait at an exchange.
    c.env("OMPI_MCA_mpi_yield_when_idle", "1");
    c
}

fn run_mpi(np: usize, model: &Path, out: &Path, threads: usize) -> std::process::Output {
    mpirun(np)
        .arg(hebb())
        .args([
            "run",
            model.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--threads",
            &threads.to_string(),
        ])
        .output()
        .unwrap()
}

#[test]
fn mpi_two_ranks_write_the_single_process_files_for_cuba() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("cuba.toml");
    std::fs::write(&model, with_record("cuba.toml", CUBA_RECORD, 300.0)).unwrap();
    run_single(&model, &dir.path().join("one"), 1);
    let out = run_mpi(2, &model, &dir.path().join("two"), 1);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_outputs(
        &dir.path().join("one"),
        &dir.path().join("two"),
        &["exc_to_exc", "exc_to_inh", "inh_to_exc", "inh_to_inh"],
        &[("exc", "v"), ("exc", "i_exc"), ("inh", "v")],
        &[],
    );
}

#[test]
fn mpi_two_ranks_two_threads_write_the_single_process_files_for_cuba_stdp() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("cuba_stdp.toml");
    std::fs::write(&model, with_record("cuba_stdp.toml", CUBA_RECORD, 300.0)).unwrap();
    run_single(&model, &dir.path().join("one"), 1);
    let out = run_mpi(2, &model, &dir.path().join("two"), 2);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_outputs(
        &dir.path().join("one"),
        &dir.path().join("two"),
        &["exc_to_exc", "inh_to_exc"],
        &[("exc", "v"), ("inh", "v")],
        &["exc_to_exc"],
    );
}

/// Delays of 1.5 ms and drawn per synapse (at least 1 ms): spikes travel between ranks once per
/// 10-step slice, and delivery still lands on the exact step.
#[test]
fn mpi_exchange_per_min_delay_slice_is_exact_with_distributed_delays() {
    let text = DELTA_DELAYS;
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("delta.toml");
    std::fs::write(&model, text).unwrap();
    run_single(&model, &dir.path().join("one"), 1);
    let out = run_mpi(2, &model, &dir.path().join("two"), 1);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_outputs(&dir.path().join("one"), &dir.path().join("two"), &[], &[("exc", "v")], &[]);
    // Three ranks: a partition that cuts populations differently.
    let out = run_mpi(3, &model, &dir.path().join("three"), 1);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_same_outputs(&dir.path().join("one"), &dir.path().join("three"), &[], &[("exc", "v")], &[]);
}

/// Rank 1 cannot write its part (its output path runs through a regular file, as on a node
/// whose file system refuses it): every rank stops, rank 0 says why, exit code 2, no hang.
#[test]
fn mpi_a_failing_rank_stops_the_run_with_a_message_from_rank_0() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not_a_dir");
    std::fs::write(&blocker, "").unwrap();
    let model = super::common::model_path("cuba.toml");
    let good = dir.path().join("out");
    let bad = blocker.join("out");
    let mut c = mpirun(1);
    // MPMD launch: rank 0 writes to a good path, rank 1 to one it cannot create.
    c.arg(hebb())
        .args(["run", model.to_str().unwrap(), "--out", good.to_str().unwrap(), "--quiet"]);
    c.args([":", "-np", "1"])
        .arg(hebb())
        .args(["run", model.to_str().unwrap(), "--out", bad.to_str().unwrap(), "--quiet"]);
    let t = std::time::Instant::now();
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rank 1:") && err.contains("not_a_dir"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "one message, from rank 0: {err}");
    // A hang would wait forever; a generous bound only catches that.
    assert!(t.elapsed().as_secs() < 120);
}

/// An interrupted distributed run (mpirun stopped with SIGINT; Open MPI then ends every rank)
/// leaves each rank's part readable, holding a prefix of the run and marked incomplete.
#[test]
fn mpi_an_interrupted_run_leaves_each_rank_part_readable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let model = super::common::model_path("cuba.toml");
    let mut child = mpirun(2)
        .arg(hebb())
        .args([
            "run",
            model.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--duration",
            "1000000",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until both parts hold spikes (the writers flush whole chunks), then interrupt.
    let t = std::time::Instant::now();
    let part = |r: usize| hebb::io::merge::rank_dir(&out, r).join("spikes.h5");
    let has_spikes = |r: usize| {
        read_spikes(&part(r))
            .map(|p| p.iter().any(|(_, t, _)| !t.is_empty()))
            .unwrap_or(false)
    };
    while !(has_spikes(0) && has_spikes(1)) {
        assert!(t.elapsed().as_secs() < 120, "no spikes written within 120 s");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    for r in 0..2 {
        for f in ["spikes.h5", "state.h5", "weights.h5"] {
            let p = hebb::io::merge::rank_dir(&out, r).join(f);
            let attrs = read_root_attrs(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert_eq!(attrs.get("completed").map(String::as_str), Some("0"), "{}", p.display());
        }
        let spikes = read_spikes(&part(r)).unwrap();
        // What is there is a consistent prefix: times never decrease.
        for (_, t, _) in &spikes {
            assert!(t.windows(2).all(|w| w[0] <= w[1]));
        }
    }
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(summary["completed"], false);
}
