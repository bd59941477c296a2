//! Bad input: one test per class. Each must exit with code 2 and one clear message naming the
//! file, the field and the value (and what is allowed) — never a panic or a backtrace.

use super::common::model_path;
use assert_cmd::Command;

fn hebb() -> Command {
    Command::cargo_bin("hebb").unwrap()
}

/// Runs `hebb check FILE [extra]` on `text` written to a temp file and returns stderr.
fn check_text(text: &str, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("model.toml");
    std::fs::write(&f, text).unwrap();
    let out = hebb().arg("check").arg(&f).args(extra).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code 2 expected; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !err.contains("panicked") && !err.contains("backtrace") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    (err, f.display().to_string())
}

fn cuba() -> String {
    std::fs::read_to_string(model_path("cuba.toml")).unwrap()
}

fn assert_all(err: &str, parts: &[&str]) {
    for p in parts {
        assert!(err.contains(p), "message lacks '{p}':\n{err}");
    }
}

#[test]
fn missing_file() {
    let out = hebb().args(["check", "/nonexistent/model.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_all(&String::from_utf8_lossy(&out.stderr), &["/nonexistent/model.toml", "cannot read"]);
}

#[test]
fn toml_syntax_error() {
    let (err, f) = check_text("[simulation\nduration = 1.0\n", &[]);
    assert_all(&err, &[&f, "line 1", "expected `]`"]);
}

#[test]
fn unknown_field() {
    let (err, f) = check_text(&cuba().replace("seed = 1", "seed = 1\nspeed = 3"), &[]);
    assert_all(&err, &[&f, "unknown field `speed`", "expected one of", "line"]);
}

#[test]
fn wrong_type() {
    let (err, f) = check_text(&cuba().replacen("size = 3200", "size = \"many\"", 1), &[]);
    assert_all(&err, &[&f, "\"many\"", "invalid type", "line"]);
}

#[test]
fn non_positive_time_constant() {
    let (err, f) = check_text(&cuba().replacen("tau_m = 20.0", "tau_m = 0.0", 1), &[]);
    assert_all(&err, &[&f, "population.exc.neuron.tau_m", "value 0 ms", "> 0"]);
    let (err, _) = check_text(&cuba().replacen("tau_exc = 5.0", "tau_exc = -5.0", 1), &[]);
    assert_all(&err, &["population.exc.neuron.tau_exc", "value -5 ms", "> 0"]);
}

#[test]
fn probability_out_of_range() {
    let (err, f) = check_text(&cuba(), &["--set", "projection.exc_to_inh.connectivity.p=1.5"]);
    assert_all(&err, &[&f, "projection.exc_to_inh.connectivity.p", "1.5", "[0, 1]"]);
}

#[test]
fn delay_shorter_than_dt() {
    let (err, f) = check_text(&cuba(), &["--set", "projection.exc_to_exc.delay=0.05"]);
    assert_all(&err, &[&f, "projection.exc_to_exc.delay", "0.05 ms", "dt = 0.1 ms"]);
}

#[test]
fn zero_neurons() {
    let (err, f) = check_text(&cuba(), &["--set", "population.inh.size=0"]);
    assert_all(&err, &[&f, "population.inh.size", "value 0", "at least one neuron"]);
}

#[test]
fn refractory_not_a_multiple_of_dt() {
    let (err, f) = check_text(&cuba(), &["--set", "population.exc.neuron.t_ref=5.05"]);
    assert_all(&err, &[&f, "population.exc.neuron.t_ref", "5.05 ms", "multiple of dt"]);
}

#[test]
fn negative_rate() {
    let text = cuba() + "\n[[input]]\ntype = \"poisson\"\ntarget = \"exc\"\nrate = -3.0\nweight = 0.1\n";
    let (err, f) = check_text(&text, &[]);
    assert_all(&err, &[&f, "input[0].rate", "-3 Hz", ">= 0"]);
}

#[test]
fn dale_violation() {
    let (err, f) = check_text(&cuba(), &["--set", "projection.inh_to_exc.weight=-9.0"]);
    assert_all(
        &err,
        &[&f, "projection.inh_to_exc.weight", "-9", "magnitudes", "'inh' (inhibitory)", "Dale"],
    );
}

#[test]
fn unwritable_output_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    std::fs::write(&file, "x").unwrap();
    let out_dir = file.join("run"); // a directory below a regular file cannot be created
    let out = hebb()
        .arg("run")
        .arg(model_path("cuba.toml"))
        .arg("--out")
        .arg(&out_dir)
        .args(["--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_all(&err, &[&out_dir.display().to_string(), "cannot create output directory"]);
}

#[test]
fn existing_output_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = hebb()
        .arg("run")
        .arg(model_path("cuba.toml"))
        .arg("--out")
        .arg(dir.path())
        .args(["--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_all(&String::from_utf8_lossy(&out.stderr), &["exists", "--force"]);
}

#[test]
fn bad_override() {
    let (err, _) = check_text(&cuba(), &["--set", "population.nosuch.size=3"]);
    assert_all(&err, &["--set population.nosuch.size=3", "no population named 'nosuch'"]);
}

#[test]
fn bad_modulated_source_parameters_name_field_and_value() {
    let text = "[simulation]\nduration = 10.0\n[[population]]\nname = \"src\"\ntype = \"excitatory\"\nsize = 4\n\
                neuron = { model = \"modulated_poisson\", groups = 5, rate_gain = -1.0, t_ref = 0.05 }\n";
    let (err, file) = check_text(text, &[]);
    assert_all(&err, &[&file, "population.src.neuron.groups", "value 5", "1 to 4 groups"]);
    assert_all(&err, &["rate_gain", "value -1 Hz", ">= 0"]);
    assert_all(&err, &["t_ref", "not a multiple of dt"]);
}
