//! Figures of a run directory (`hebb::plot`): every kind is drawn as PNG and SVG from a real
//! run, weight trajectories from a plastic run, interrupted state reports (`data_flat`) are
//! read, and every missing or unusable input is an error naming the file.

use assert_cmd::Command;
use hebb::io::hdf5::{ReportSpec, RunMetadata, StateWriter};
use hebb::plot::{available, plot, PlotFormat, PlotKind};
use std::path::{Path, PathBuf};

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(name)
}

/// `hebb run MODEL --out <tmp>/run --duration D -q` plus extra arguments; returns (tmp, run dir).
fn real_run(name: &str, duration_ms: f64, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    Command::cargo_bin("hebb")
        .unwrap()
        .arg("run")
        .arg(model(name))
        .arg("--out")
        .arg(&out)
        .args(["--duration", &duration_ms.to_string(), "-q", "-j", "2"])
        .args(extra)
        .assert()
        .success();
    (tmp, out)
}

fn check_figure(path: &Path, format: PlotFormat) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 5_000, "{} is only {} bytes", path.display(), bytes.len());
    match format {
        PlotFormat::Png => {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
            // IHDR: width and height, big-endian, at bytes 16..24.
            let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
            let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
            assert!(w >= 800 && h >= 400, "{}: {w}x{h}", path.display());
        }
        PlotFormat::Svg => {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.starts_with("<svg"), "{}", path.display());
            assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
            // Axis labels with units and the run name in the title.
            assert!(
                text.contains("time (ms)") || text.contains("weight (") || text.contains("fraction of neurons"),
                "{}",
                path.display()
            );
            assert!(text.contains("run"), "{}", path.display());
        }
    }
}

#[test]
fn every_kind_is_drawn_as_png_and_svg_from_a_real_run() {
    let (_tmp, dir) = real_run("cuba.toml", 200.0, &[]);
    // Everything but the co-tuning figure, which needs modulated input groups (tested below).
    let kinds: Vec<PlotKind> = PlotKind::ALL.iter().copied().filter(|&k| k != PlotKind::Cotuning).collect();
    assert_eq!(available(&dir), kinds);
    for format in [PlotFormat::Png, PlotFormat::Svg] {
        let files = plot(&dir, &kinds, format).unwrap();
        let expect: Vec<PathBuf> = ["raster", "rate", "voltage", "weights", "cv", "currents"]
            .iter()
            .map(|k| dir.join(format!("{k}.{}", format.extension())))
            .collect();
        assert_eq!(files, expect);
        for f in &files {
            check_figure(f, format);
        }
    }
    // Units of the recorded variables reach the SVG.
    let svg = std::fs::read_to_string(dir.join("voltage.svg")).unwrap();
    assert!(svg.contains("v (mV)"), "no 'v (mV)' axis label");
    let svg = std::fs::read_to_string(dir.join("rate.svg")).unwrap();
    assert!(svg.contains("population rate (Hz)"));
    // Duplicates are drawn once.
    let files = plot(&dir, &[PlotKind::Rate, PlotKind::Rate], PlotFormat::Png).unwrap();
    assert_eq!(files, vec![dir.join("rate.png")]);
}

#[test]
fn balance_figures_are_drawn_from_the_vogels_single_cell() {
    let (_tmp, dir) = real_run("vogels2011_single_cell.toml", 3000.0, &[]);
    let av = available(&dir);
    for k in [PlotKind::Cv, PlotKind::Currents, PlotKind::Cotuning] {
        assert!(av.contains(&k), "{k:?} not in {av:?}");
    }
    for format in [PlotFormat::Png, PlotFormat::Svg] {
        let files = plot(&dir, &[PlotKind::Cotuning, PlotKind::Currents, PlotKind::Cv], format).unwrap();
        for f in &files {
            check_figure(f, format);
        }
    }
    let svg = std::fs::read_to_string(dir.join("cotuning.svg")).unwrap();
    assert!(
        svg.contains("I weight (nS)") && svg.contains("inhibitory, final"),
        "co-tuning labels"
    );
    let svg = std::fs::read_to_string(dir.join("currents.svg")).unwrap();
    assert!(svg.contains("input (pA)") && svg.contains("corr(E, -I)"), "current labels");
    let svg = std::fs::read_to_string(dir.join("cv.svg")).unwrap();
    assert!(svg.contains("fraction of neurons"));
    // A run without modulated sources has nothing to co-tune: an error naming weights.h5.
    let (_tmp2, cuba) = real_run("cuba.toml", 50.0, &[]);
    let err = plot(&cuba, &[PlotKind::Cotuning], PlotFormat::Png).unwrap_err().to_string();
    assert!(err.contains("weights.h5") && err.contains("modulated_poisson"), "{err}");
}

#[test]
fn plastic_run_draws_weight_trajectories() {
    let (_tmp, dir) = real_run("cuba_stdp.toml", 300.0, &["--set", "record.weight_interval=50.0"]);
    let (times, _) = hebb::io::hdf5::read_snapshots(&dir.join("weights.h5"), "exc_to_exc").unwrap();
    assert!(times.len() >= 2, "expected snapshots, got {times:?}");
    for format in [PlotFormat::Png, PlotFormat::Svg] {
        let files = plot(&dir, &[PlotKind::Weights], format).unwrap();
        check_figure(&files[0], format);
    }
    let svg = std::fs::read_to_string(dir.join("weights.svg")).unwrap();
    assert!(svg.contains("weights over time"), "no trajectory panel");
    assert!(svg.contains("10-90 % of synapses"));
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let (_tmp, dir) = real_run("cuba.toml", 50.0, &[]);
    for (file, kind) in [
        ("state.h5", PlotKind::Voltage),
        ("weights.h5", PlotKind::Weights),
        ("spikes.h5", PlotKind::Raster),
        ("spikes.h5", PlotKind::Rate),
    ] {
        let _ = std::fs::remove_file(dir.join(file));
        let err = plot(&dir, &[kind], PlotFormat::Png).unwrap_err().to_string();
        assert!(err.contains(file) && err.contains("no such file"), "{kind:?}: {err}");
        assert!(!dir.join(format!("{}.png", kind.name())).exists());
    }
    assert!(available(&dir).is_empty());
    let err = plot(&dir.join("nope"), &[PlotKind::Raster], PlotFormat::Png)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope") && err.contains("not a run directory"), "{err}");
}

#[test]
fn a_run_without_state_or_weights_says_so() {
    let (_tmp, dir) = real_run("cuba.toml", 50.0, &["--set", "record.state=[]", "--set", "record.weights=\"none\""]);
    assert_eq!(available(&dir), vec![PlotKind::Raster, PlotKind::Rate, PlotKind::Cv]);
    let err = plot(&dir, &[PlotKind::Voltage], PlotFormat::Svg).unwrap_err().to_string();
    assert!(err.contains("state.h5") && err.contains("no recorded state"), "{err}");
    let err = plot(&dir, &[PlotKind::Weights], PlotFormat::Svg).unwrap_err().to_string();
    assert!(err.contains("weights.h5") && err.contains("no projections"), "{err}");
    let err = plot(&dir, &[PlotKind::Currents], PlotFormat::Svg).unwrap_err().to_string();
    assert!(err.contains("state.h5") && err.contains("no input currents"), "{err}");
    // What is there is still drawn.
    assert_eq!(plot(&dir, &available(&dir), PlotFormat::Png).unwrap().len(), 3);
}

#[test]
fn unreadable_inputs_and_outputs_are_errors_naming_the_file() {
    let (_tmp, dir) = real_run("cuba.toml", 50.0, &[]);
    // Output path taken by a directory.
    std::fs::create_dir(dir.join("rate.png")).unwrap();
    let err = plot(&dir, &[PlotKind::Rate], PlotFormat::Png).unwrap_err().to_string();
    assert!(err.contains("rate.png"), "{err}");
    // A file that is not HDF5.
    std::fs::write(dir.join("weights.h5"), "not hdf5").unwrap();
    let err = plot(&dir, &[PlotKind::Weights], PlotFormat::Png).unwrap_err().to_string();
    assert!(err.contains("weights.h5") && err.contains("HDF5"), "{err}");
}

#[test]
fn an_interrupted_state_report_is_drawn_from_data_flat() {
    // A writer dropped without `finish` leaves `data_flat` (rank 1) and completed = 0, as after
    // a crash; the plot reads the whole frames in it.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let meta = RunMetadata {
        hebb_version: "test".into(),
        seed: 3,
        dt_ms: 0.1,
        requested_duration_ms: 1000.0,
        model_text: String::new(),
        command_line: "test".into(),
    };
    let spec = ReportSpec {
        population: "exc".into(),
        variable: "v".into(),
        units: "mV".into(),
        node_ids: vec![0, 7, 9],
        start_ms: 0.1,
        dt_ms: 0.1,
    };
    {
        let mut w = StateWriter::create(&dir.join("state.h5"), &[spec], &meta).unwrap();
        for f in 0..50_000u32 {
            let t = f as f32 * 0.1;
            w.append_frame(0, &[-65.0 + (t / 7.0).sin() * 10.0, -70.0 + (f % 200) as f32 * 0.1, -60.0])
                .unwrap();
        }
    }
    let files = plot(dir, &[PlotKind::Voltage], PlotFormat::Svg).unwrap();
    check_figure(&files[0], PlotFormat::Svg);
    let svg = std::fs::read_to_string(&files[0]).unwrap();
    assert!(svg.contains("INTERRUPTED"), "the subtitle must say the run is incomplete");
    assert!(svg.contains("neuron 9"));
}
