//! Ranks as threads (`hebb run -j N`, `dist::threads`): N threads run one part of the network
//! each and must write exactly the files of a one-thread run (spikes, state, weights and their
//! snapshots, bit for bit). The helpers serve the MPI tests too.

use hebb::io::hdf5::{read_edges, read_report, read_root_attrs, read_snapshots, read_spikes};
use std::path::Path;
use std::process::Command;

fn hebb() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("hebb")
}

/// The model text of `models/NAME` with its `[record]` table replaced by `record`.
pub fn with_record(name: &str, record: &str, duration: f64) -> String {
    let text = std::fs::read_to_string(super::common::model_path(name)).unwrap();
    let head = &text[..text.find("\n[record]").expect("model has a [record] table")];
    let head = head.replace("duration = 1000.0", &format!("duration = {duration}"));
    format!("{head}\n{record}\n")
}

pub fn run_single(model: &Path, out: &Path, threads: usize) {
    let st = Command::new(hebb())
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
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
}

/// Every dataset of the two run directories holds the same values (bit for bit).
pub fn assert_same_outputs(a: &Path, b: &Path, projections: &[&str], reports: &[(&str, &str)], plastic: &[&str]) {
    let (sa, sb) = (
        read_spikes(&a.join("spikes.h5")).unwrap(),
        read_spikes(&b.join("spikes.h5")).unwrap(),
    );
    assert_eq!(sa.len(), sb.len());
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!(x.0, y.0);
        assert!(!x.2.is_empty(), "population {} has spikes", x.0);
        assert_eq!(x.2, y.2, "spike ids of {}", x.0);
        assert_eq!(x.1, y.1, "spike times of {}", x.0);
    }
    for (pop, var) in reports {
        let (ra, rb) = (
            read_report(&a.join("state.h5"), pop, var).unwrap(),
            read_report(&b.join("state.h5"), pop, var).unwrap(),
        );
        assert_eq!(ra.0, rb.0);
        assert_eq!(ra.1, rb.1);
        assert!(!ra.2.is_empty());
        assert_eq!(ra.2, rb.2, "report {pop}/{var}");
    }
    for p in projections {
        let (ea, eb) = (
            read_edges(&a.join("weights.h5"), p).unwrap(),
            read_edges(&b.join("weights.h5"), p).unwrap(),
        );
        assert!(!ea.0.is_empty());
        assert_eq!(ea, eb, "edges of {p}");
    }
    for p in plastic {
        let (wa, wb) = (
            read_snapshots(&a.join("weights.h5"), p).unwrap(),
            read_snapshots(&b.join("weights.h5"), p).unwrap(),
        );
        assert!(wa.0.len() >= 2, "several snapshots of {p}");
        assert_eq!(wa, wb, "weight snapshots of {p}");
    }
    for f in ["spikes.h5", "state.h5", "weights.h5"] {
        assert_eq!(
            read_root_attrs(&b.join(f)).unwrap().get("completed").map(String::as_str),
            Some("1"),
            "{f} complete"
        );
    }
    let ja: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(a.join("run.json")).unwrap()).unwrap();
    let jb: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(b.join("run.json")).unwrap()).unwrap();
    for key in ["synapses", "synaptic_events", "populations"] {
        assert_eq!(ja[key], jb[key], "run.json {key}");
    }
    assert!(!b.join("ranks").exists(), "the parts are removed after a successful merge");
}

/// State probes on neurons of both ranks (rank 0 owns exc 0..2048, rank 1 exc 2048..3200 and all of inh).
pub const CUBA_RECORD: &str = r#"[record]
spikes = "all"
state = [{ population = "exc", variables = ["v", "i_exc"], neurons = [3000, 0, 2047, 2048, 5], interval = 0.5 },
         { population = "inh", variables = ["v"], neurons = [1, 799], interval = 1.0 }]
weights = "all"
weight_interval = 50.0
"#;

/// Delta neurons with delays of 1-3 ms (drawn per synapse) and 1.5 ms, and Poisson drive:
/// spikes travel between parts once per 10-step slice.
pub const DELTA_DELAYS: &str = r#"
[simulation]
dt = 0.1
duration = 200.0
seed = 7

[[population]]
name = "exc"
type = "excitatory"
size = 2500
neuron = { model = "lif_delta", tau_m = 20.0, e_l = 0.0, v_th = 20.0, v_reset = 10.0, t_ref = 2.0 }
initial = { v = { uniform = { low = 0.0, high = 20.0 } } }

[[population]]
name = "inh"
type = "inhibitory"
size = 1100
neuron = { model = "lif_delta", tau_m = 20.0, e_l = 0.0, v_th = 20.0, v_reset = 10.0, t_ref = 2.0 }

[[projection]]
pre = "exc"
post = "exc"
connectivity = { rule = "fixed_indegree", k = 100 }
weight = 0.2
delay = { uniform = { low = 1.0, high = 3.0 } }

[[projection]]
pre = "exc"
post = "inh"
connectivity = { rule = "fixed_indegree", k = 100 }
weight = 0.2
delay = 1.5

[[projection]]
pre = "inh"
post = "exc"
connectivity = { rule = "fixed_indegree", k = 25 }
weight = 1.0
delay = 1.5

[[input]]
type = "poisson"
target = "exc"
rate = 20.0
count = 1000
weight = 0.1

[[input]]
type = "poisson"
target = "inh"
rate = 20.0
count = 1000
weight = 0.1

[record]
spikes = "all"
state = [{ population = "exc", variables = ["v"], neurons = [0, 1100, 2100, 2499], interval = 0.1 }]
"#;

#[test]
fn threads_write_the_one_thread_files_for_cuba() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("cuba.toml");
    std::fs::write(&model, with_record("cuba.toml", CUBA_RECORD, 300.0)).unwrap();
    run_single(&model, &dir.path().join("one"), 1);
    for threads in [2, 3] {
        let out = dir.path().join(format!("t{threads}"));
        run_single(&model, &out, threads);
        assert_same_outputs(
            &dir.path().join("one"),
            &out,
            &["exc_to_exc", "exc_to_inh", "inh_to_exc", "inh_to_inh"],
            &[("exc", "v"), ("exc", "i_exc"), ("inh", "v")],
            &[],
        );
        let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        assert_eq!((run["threads"].as_u64(), run["ranks"].as_u64()), (Some(threads as u64), Some(1)));
    }
}

#[test]
fn threads_write_the_one_thread_files_for_cuba_stdp() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("cuba_stdp.toml");
    std::fs::write(&model, with_record("cuba_stdp.toml", CUBA_RECORD, 300.0)).unwrap();
    run_single(&model, &dir.path().join("one"), 1);
    run_single(&model, &dir.path().join("two"), 2);
    assert_same_outputs(
        &dir.path().join("one"),
        &dir.path().join("two"),
        &["exc_to_exc", "inh_to_exc"],
        &[("exc", "v"), ("inh", "v")],
        &["exc_to_exc"],
    );
}

/// Slices of 10 steps, per-synapse delays and Poisson drive, cut into 3 parts; 2007 steps, so
/// that the run ends 7 steps into a slice (their spikes are exchanged at the end).
#[test]
fn threads_exchange_per_min_delay_slice_is_exact_with_distributed_delays() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("delta.toml");
    assert!(DELTA_DELAYS.contains("duration = 200.0"));
    std::fs::write(&model, DELTA_DELAYS.replace("duration = 200.0", "duration = 200.7")).unwrap();
    run_single(&model, &dir.path().join("one"), 1);
    run_single(&model, &dir.path().join("three"), 3);
    assert_same_outputs(&dir.path().join("one"), &dir.path().join("three"), &[], &[("exc", "v")], &[]);
}

/// An output directory that cannot be made stops every thread with one message and exit code 2.
#[test]
fn threads_stop_together_with_one_message_on_a_bad_output() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not_a_dir");
    std::fs::write(&blocker, "").unwrap();
    let out = Command::new(hebb())
        .args([
            "run",
            super::common::model_path("cuba.toml").to_str().unwrap(),
            "--quiet",
            "-j",
            "3",
            "--out",
        ])
        .arg(blocker.join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not_a_dir"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "one message: {err}");
    assert!(
        err.starts_with("error: ") && !err.contains("thread 0:"),
        "part 0's error, as one process words it: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// `hebb bench -j 2` runs the network of `-j 1` (same synapses, events and rates), with and
/// without recording, and leaves no temporary files.
#[test]
fn bench_with_threads_runs_the_one_thread_network() {
    let json = |threads: &str| -> serde_json::Value {
        let out = Command::new(hebb())
            .args(["bench", super::common::model_path("cuba.toml").to_str().unwrap()])
            .args(["--duration", "100", "--repeat", "2", "--record", "--json", "-j", threads])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (one, two) = (json("1"), json("2"));
    for key in ["synapses", "synaptic_events", "populations"] {
        assert_eq!(one["summary"][key], two["summary"][key], "{key}");
    }
    assert_eq!(two["summary"]["threads"], 2);
    assert_eq!(two["simulation_recording_s_all"].as_array().unwrap().len(), 2);
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("hebb-bench-"))
        .filter(|e| {
            // Only this test's processes; other tests may bench at the same time.
            let pid = e
                .file_name()
                .to_string_lossy()
                .trim_start_matches("hebb-bench-")
                .parse::<u32>()
                .ok();
            pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary directories left: {leftovers:?}");
}
