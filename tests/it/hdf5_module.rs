//! Round trips of the three writers through the module's own readers, interrupted writers
//! (dropped without `finish`), argument checks and error messages.

use std::path::{Path, PathBuf};

use hebb::io::hdf5::*;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("h5io-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn meta() -> RunMetadata {
    let mut model = String::from("[network] # ünïcode ✓\n");
    while model.len() < 100_000 {
        model.push_str("exc = { n = 800, tau_m = 20.0 } # a long resolved model to exceed 64 KiB\n");
    }
    RunMetadata {
        hebb_version: "0.1.0".into(),
        seed: u64::MAX - 7,
        dt_ms: 0.1,
        requested_duration_ms: 250.0,
        model_text: model,
        command_line: "hebb run m.toml --seed 18446744073709551608".into(),
    }
}

fn check_meta(path: &Path, completed: Option<(bool, f64, f64)>) {
    let a = read_root_attrs(path).unwrap();
    let m = meta();
    assert_eq!(a["magic"], "2682");
    assert_eq!(a["version"], "[0, 1]");
    assert_eq!(a["hebb_version"], m.hebb_version);
    assert_eq!(a["seed"], m.seed.to_string());
    assert_eq!(a["dt_ms"], "0.1");
    assert_eq!(a["requested_duration_ms"], "250");
    assert!(a["model_text"] == m.model_text, "model_text differs");
    assert_eq!(a["command_line"], m.command_line);
    match completed {
        Some((c, reached, wall)) => {
            assert_eq!(a["completed"], if c { "1" } else { "0" });
            assert_eq!(a["reached_duration_ms"], reached.to_string());
            assert_eq!(a["wall_time_s"], wall.to_string());
        }
        None => {
            assert_eq!(a["completed"], "0");
            assert!(!a.contains_key("reached_duration_ms"));
            assert!(!a.contains_key("wall_time_s"));
        }
    }
}

/// Deterministic spikes: `n` spikes of a population of `size`, in time order.
fn spikes(n: usize, size: u64, salt: u64) -> (Vec<f64>, Vec<u64>) {
    let t = (0..n).map(|i| (i / 13) as f64 * 0.1 + salt as f64 * 1e-3).collect();
    let id = (0..n as u64).map(|i| (i * 2_654_435_761 + salt) % size).collect();
    (t, id)
}

#[test]
fn spikes_round_trip() {
    let dir = tmpdir("spikes");
    let path = dir.join("spikes.h5");
    let pops = vec![("exc".to_string(), 800), ("inh".to_string(), 200), ("silent".to_string(), 5)];
    let (te, ie) = spikes(100_003, 800, 1);
    let (ti, ii) = spikes(70_001, 200, 2);
    let mut w = SpikeWriter::create(&path, &pops, &meta()).unwrap();
    // Uneven batches: small ones, ones larger than several chunks, empty ones; the two
    // populations interleaved.
    let (mut a, mut b) = (0usize, 0usize);
    for (k, step) in [1usize, 999, 0, 7, 150_000, 3, 40_000].iter().cycle().enumerate() {
        if a >= te.len() && b >= ti.len() {
            break;
        }
        let a2 = (a + step).min(te.len());
        w.append(0, &te[a..a2], &ie[a..a2]).unwrap();
        a = a2;
        let b2 = (b + step / 2 + k % 3).min(ti.len());
        w.append(1, &ti[b..b2], &ii[b..b2]).unwrap();
        b = b2;
    }
    assert_eq!(w.count(0), te.len() as u64);
    assert_eq!(w.count(1), ti.len() as u64);
    w.finish(true, 250.0, 1.5).unwrap();

    let got = read_spikes(&path).unwrap();
    assert_eq!(got.len(), 3);
    assert!(got[0] == ("exc".to_string(), te.clone(), ie.clone()), "exc differs");
    assert!(got[1] == ("inh".to_string(), ti.clone(), ii.clone()), "inh differs");
    assert_eq!(got[2], ("silent".to_string(), vec![], vec![]));
    assert_eq!(
        read_spike_counts(&path).unwrap(),
        vec![
            ("exc".into(), te.len() as u64),
            ("inh".into(), ti.len() as u64),
            ("silent".into(), 0)
        ]
    );
    check_meta(&path, Some((true, 250.0, 1.5)));
    let a = read_root_attrs(&path).unwrap();
    assert_eq!(a["hebb_file"], "spikes");
    cleanup(&dir);
}

#[test]
fn spikes_finish_not_completed_and_no_pops() {
    let dir = tmpdir("spikes-nc");
    let path = dir.join("s.h5");
    let w = SpikeWriter::create(&path, &[], &meta()).unwrap();
    w.finish(false, 12.5, 0.25).unwrap();
    assert!(read_spikes(&path).unwrap().is_empty());
    check_meta(&path, Some((false, 12.5, 0.25)));
    cleanup(&dir);
}

fn value(r: usize, k: usize, j: usize) -> f32 {
    (r * 1000 + k) as f32 * 0.5 - j as f32 * 0.25
}

fn specs() -> Vec<ReportSpec> {
    vec![
        ReportSpec {
            population: "exc".into(),
            variable: "v".into(),
            units: "mV".into(),
            node_ids: vec![0, 5, 9],
            start_ms: 0.0,
            dt_ms: 0.1,
        },
        ReportSpec {
            population: "exc".into(),
            variable: "i_syn".into(),
            units: "pA".into(),
            node_ids: vec![7],
            start_ms: 0.0,
            dt_ms: 1.0,
        },
        ReportSpec {
            population: "inh".into(),
            variable: "v".into(),
            units: "mV".into(),
            node_ids: (0..40_000).rev().collect(),
            start_ms: 2.5,
            dt_ms: 0.5,
        },
        ReportSpec {
            population: "inh".into(),
            variable: "g_exc".into(),
            units: "nS".into(),
            node_ids: vec![1, 2],
            start_ms: 0.0,
            dt_ms: 0.1,
        },
    ]
}

#[test]
fn state_round_trip() {
    let dir = tmpdir("state");
    let path = dir.join("state.h5");
    let specs = specs();
    let frames = [2_000usize, 200, 3, 0];
    let mut w = StateWriter::create(&path, &specs, &meta()).unwrap();
    for k in 0..2_000 {
        for (r, s) in specs.iter().enumerate() {
            if k < frames[r] {
                let v: Vec<f32> = (0..s.node_ids.len()).map(|j| value(r, k, j)).collect();
                w.append_frame(r, &v).unwrap();
            }
        }
    }
    assert_eq!(w.frames(0), 2000);
    w.finish(true, 200.0, 3.0).unwrap();
    for (r, s) in specs.iter().enumerate() {
        let (ids, time, data) = read_report(&path, &s.population, &s.variable).unwrap();
        assert_eq!(ids, s.node_ids);
        assert_eq!(time, [s.start_ms, s.start_ms + frames[r] as f64 * s.dt_ms, s.dt_ms]);
        let n = s.node_ids.len();
        let want: Vec<f32> = (0..frames[r]).flat_map(|k| (0..n).map(move |j| value(r, k, j))).collect();
        assert!(data == want, "report {r} differs");
    }
    check_meta(&path, Some((true, 200.0, 3.0)));
    // Converted and compacted: no flat stream left, and the file is not much larger than the data.
    let size = std::fs::metadata(&path).unwrap().len();
    let payload = 4 * (2000 * 3 + 200 + 3 * 40_000) as u64;
    assert!(size < payload + 2_000_000, "file {size} bytes for {payload} bytes of data");
    cleanup(&dir);
}

#[test]
fn weights_round_trip() {
    let dir = tmpdir("weights");
    let path = dir.join("weights.h5");
    let n = 70_001usize;
    let src: Vec<u64> = (0..n as u64).map(|e| e % 800).collect();
    let tgt: Vec<u64> = (0..n as u64).map(|e| (e * 7) % 200).collect();
    let w0: Vec<f32> = (0..n).map(|e| e as f32 * 1e-3).collect();
    let d: Vec<f64> = (0..n).map(|e| 1.0 + (e % 10) as f64 * 0.1).collect();
    let mut w = WeightWriter::create(&path, &meta()).unwrap();
    w.write_edges("exc_to_inh", "exc", "inh", &src, &tgt, &w0, &d, "nS").unwrap();
    w.write_edges(
        "small",
        "inh",
        "exc",
        &[1, 2, 3],
        &[3, 2, 1],
        &[0.5, 0.25, 0.125],
        &[1.0, 2.0, 3.0],
        "nS",
    )
    .unwrap();
    w.write_edges("empty", "inh", "inh", &[], &[], &[], &[], "nS").unwrap();
    let mut times = Vec::new();
    let mut all = Vec::new();
    let mut all_small = Vec::new();
    for k in 0..13 {
        let snap: Vec<f32> = w0.iter().map(|x| x + k as f32).collect();
        w.append_snapshot("exc_to_inh", k as f64 * 10.0, &snap).unwrap();
        let small = [k as f32, 1.0, 2.0];
        w.append_snapshot("small", k as f64 * 10.0, &small).unwrap();
        w.append_snapshot("empty", k as f64 * 10.0, &[]).unwrap();
        if k == 5 {
            // A projection described after snapshots of others have started.
            w.write_edges("late", "exc", "exc", &[4], &[5], &[0.75], &[1.5], "nS").unwrap();
        }
        times.push(k as f64 * 10.0);
        all.extend(snap);
        all_small.extend(small);
    }
    w.finish(true, 130.0, 0.5).unwrap();
    assert!(read_edges(&path, "exc_to_inh").unwrap() == (src, tgt, w0, d), "edges differ");
    assert_eq!(
        read_edges(&path, "small").unwrap(),
        (vec![1, 2, 3], vec![3, 2, 1], vec![0.5, 0.25, 0.125], vec![1.0, 2.0, 3.0])
    );
    assert_eq!(read_edges(&path, "empty").unwrap(), (vec![], vec![], vec![], vec![]));
    assert!(
        read_snapshots(&path, "exc_to_inh").unwrap() == (times.clone(), all),
        "snapshots differ"
    );
    assert_eq!(read_snapshots(&path, "small").unwrap(), (times.clone(), all_small));
    assert_eq!(read_snapshots(&path, "empty").unwrap(), (times, vec![]));
    check_meta(&path, Some((true, 130.0, 0.5)));
    cleanup(&dir);
}

#[test]
fn dropped_writers_leave_consistent_prefix() {
    let dir = tmpdir("dropped");
    // Spikes: dropped mid-run: every accepted spike is flushed by Drop.
    let sp = dir.join("spikes.h5");
    let (t, i) = spikes(50_000, 100, 3);
    {
        let mut w = SpikeWriter::create(&sp, &[("a".into(), 100)], &meta()).unwrap();
        for (tc, ic) in t.chunks(777).zip(i.chunks(777)) {
            w.append(0, tc, ic).unwrap();
        }
    }
    assert!(read_spikes(&sp).unwrap() == vec![("a".to_string(), t, i)], "dropped spikes differ");
    check_meta(&sp, None);

    // State: stays as data_flat; the reader derives the frame count and stop.
    let st = dir.join("state.h5");
    let specs = specs();
    {
        let mut w = StateWriter::create(&st, &specs, &meta()).unwrap();
        for k in 0..101 {
            for (r, s) in specs.iter().enumerate().take(2) {
                let v: Vec<f32> = (0..s.node_ids.len()).map(|j| value(r, k, j)).collect();
                w.append_frame(r, &v).unwrap();
            }
        }
    }
    for (r, s) in specs.iter().enumerate() {
        let (ids, time, data) = read_report(&st, &s.population, &s.variable).unwrap();
        let frames = if r < 2 { 101 } else { 0 };
        assert_eq!(ids, s.node_ids);
        assert_eq!(time, [s.start_ms, s.start_ms + frames as f64 * s.dt_ms, s.dt_ms]);
        let n = s.node_ids.len();
        let want: Vec<f32> = (0..frames).flat_map(|k| (0..n).map(move |j| value(r, k, j))).collect();
        assert!(data == want, "dropped report {r} differs");
    }
    check_meta(&st, None);

    // Weights.
    let wp = dir.join("weights.h5");
    {
        let mut w = WeightWriter::create(&wp, &meta()).unwrap();
        w.write_edges("p", "a", "b", &[0, 1], &[1, 0], &[1.0, 2.0], &[0.5, 0.5], "nS")
            .unwrap();
        w.append_snapshot("p", 1.0, &[1.5, 2.5]).unwrap();
        w.append_snapshot("p", 2.0, &[1.25, 2.75]).unwrap();
    }
    assert_eq!(read_snapshots(&wp, "p").unwrap(), (vec![1.0, 2.0], vec![1.5, 2.5, 1.25, 2.75]));
    check_meta(&wp, None);
    cleanup(&dir);
}

#[test]
fn panic_unwinding_flushes() {
    let dir = tmpdir("panic");
    let sp = dir.join("spikes.h5");
    let sp2 = sp.clone();
    let r = std::panic::catch_unwind(move || {
        let mut w = SpikeWriter::create(&sp2, &[("a".into(), 10)], &meta()).unwrap();
        w.append(0, &[1.0, 2.0], &[3, 4]).unwrap();
        panic!("simulated crash");
    });
    assert!(r.is_err());
    assert_eq!(read_spikes(&sp).unwrap(), vec![("a".to_string(), vec![1.0, 2.0], vec![3, 4])]);
    check_meta(&sp, None);
    cleanup(&dir);
}

#[test]
fn argument_errors_name_the_file() {
    let dir = tmpdir("args");
    let p = dir.join("s.h5");
    let mut w = SpikeWriter::create(&p, &[("a".into(), 10)], &meta()).unwrap();
    let e = w.append(1, &[1.0], &[0]).unwrap_err().to_string();
    assert!(e.contains(&p.display().to_string()) && e.contains("out of range"), "{e}");
    let e = w.append(0, &[1.0, 2.0], &[0]).unwrap_err().to_string();
    assert!(e.contains("2 spike times but 1 node ids"), "{e}");
    w.finish(true, 1.0, 1.0).unwrap();

    let e = SpikeWriter::create(&p, &[("a/b".into(), 10)], &meta()).err().unwrap().to_string();
    assert!(e.contains("must be non-empty and contain no '/'"), "{e}");
    let e = SpikeWriter::create(&p, &[("a".into(), 1), ("a".into(), 2)], &meta())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("given twice"), "{e}");

    let sp = dir.join("st.h5");
    let mut w = StateWriter::create(&sp, &specs(), &meta()).unwrap();
    let e = w.append_frame(0, &[1.0]).unwrap_err().to_string();
    assert!(e.contains("frame has 1 values, expected 3"), "{e}");
    drop(w);

    let wp = dir.join("w.h5");
    let mut w = WeightWriter::create(&wp, &meta()).unwrap();
    let e = w
        .write_edges("p", "a", "b", &[0], &[1, 2], &[1.0], &[1.0], "nS")
        .unwrap_err()
        .to_string();
    assert!(e.contains("must be equal"), "{e}");
    let e = w.append_snapshot("nope", 0.0, &[]).unwrap_err().to_string();
    assert!(e.contains("which write_edges did not write"), "{e}");
    w.write_edges("p", "a", "b", &[0], &[1], &[1.0], &[1.0], "nS").unwrap();
    let e = w.append_snapshot("p", 0.0, &[1.0, 2.0]).unwrap_err().to_string();
    assert!(e.contains("has 2 weights, expected 1"), "{e}");
    w.finish(true, 0.0, 0.0).unwrap();
    cleanup(&dir);
}

#[test]
fn io_errors_name_the_file() {
    let missing = Path::new("/nonexistent-dir-h5io/spikes.h5");
    let e = SpikeWriter::create(missing, &[], &meta()).err().unwrap().to_string();
    assert_eq!(e, "cannot create /nonexistent-dir-h5io/spikes.h5: no such file or directory");

    // /dev/full accepts the open and fails every write with ENOSPC.
    if Path::new("/dev/full").exists() {
        let e = WeightWriter::create(Path::new("/dev/full"), &meta()).err().unwrap().to_string();
        assert_eq!(e, "disk full while writing /dev/full");
    }

    let e = read_spikes(Path::new("/nonexistent-dir-h5io/x.h5")).unwrap_err().to_string();
    assert!(e.starts_with("cannot open /nonexistent-dir-h5io/x.h5: "), "{e}");

    let dir = tmpdir("ioerr");
    let p = dir.join("not_hdf5.h5");
    std::fs::write(&p, b"hello").unwrap();
    let e = read_root_attrs(&p).unwrap_err().to_string();
    assert!(e.starts_with(&format!("cannot open {}: ", p.display())), "{e}");

    let sp = dir.join("s.h5");
    SpikeWriter::create(&sp, &[], &meta()).unwrap().finish(true, 0.0, 0.0).unwrap();
    let e = read_report(&sp, "exc", "v").unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("cannot read /report/exc/v/mapping/node_ids from {}", sp.display())),
        "{e}"
    );
    cleanup(&dir);
}

/// Remove a test directory, unless H5IO_KEEP is set (then the files stay for h5py checks).
fn cleanup(dir: &Path) {
    if std::env::var_os("H5IO_KEEP").is_none() {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn state_conversion_limit_keeps_flat() {
    let dir = tmpdir("state-flat");
    let path = dir.join("state.h5");
    let specs = specs();
    let mut w = StateWriter::create(&path, &specs[..2], &meta()).unwrap();
    w.set_conversion_limit(10);
    for k in 0..7 {
        for (r, s) in specs.iter().enumerate().take(2) {
            let v: Vec<f32> = (0..s.node_ids.len()).map(|j| value(r, k, j)).collect();
            w.append_frame(r, &v).unwrap();
        }
    }
    w.finish(true, 0.7, 0.1).unwrap();
    // exc/v has 7 x 3 = 21 values > 10: stays flat; exc/i_syn has 7 values: converted.
    for (r, s) in specs.iter().enumerate().take(2) {
        let (ids, time, data) = read_report(&path, &s.population, &s.variable).unwrap();
        assert_eq!(ids, s.node_ids);
        assert_eq!(time, [s.start_ms, s.start_ms + 7.0 * s.dt_ms, s.dt_ms]);
        let n = s.node_ids.len();
        let want: Vec<f32> = (0..7).flat_map(|k| (0..n).map(move |j| value(r, k, j))).collect();
        assert_eq!(data, want);
    }
    check_meta(&path, Some((true, 0.7, 0.1)));
    cleanup(&dir);
}

#[test]
fn readers_work_while_a_writer_is_open() {
    // hdf5-pure's readers take no OS lock, so `hebb info` can look at a running file; it sees
    // the whole chunks written so far (h5py needs HDF5_USE_FILE_LOCKING=FALSE for this).
    let dir = tmpdir("live");
    let p = dir.join("spikes.h5");
    let mut w = SpikeWriter::create(&p, &[("a".into(), 10)], &meta()).unwrap();
    let t: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
    let id: Vec<u64> = (0..100_000).map(|i| i % 10).collect();
    w.append(0, &t, &id).unwrap();
    assert_eq!(read_spike_counts(&p).unwrap(), vec![("a".to_string(), 3 * 32_768)]);
    assert_eq!(read_root_attrs(&p).unwrap()["completed"], "0");
    w.finish(true, 1.0, 1.0).unwrap();
    assert_eq!(read_spike_counts(&p).unwrap(), vec![("a".to_string(), 100_000)]);
    cleanup(&dir);
}

#[test]
fn writers_are_send() {
    fn is_send<T: Send>() {}
    is_send::<SpikeWriter>();
    is_send::<StateWriter>();
    is_send::<WeightWriter>();
    is_send::<H5Error>();
}
