//! `hebb hopfield`, `hebb pca`, `hebb memory`: they write their HDF5 file and figure, and bad
//! arguments give one clear message and exit code 2.

use assert_cmd::Command;
use hebb::io::hdf5::read_root_attrs;

fn hebb() -> Command {
    Command::cargo_bin("hebb").unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = hebb().args(args).output().unwrap();
    assert!(out.status.success(), "hebb {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn fails(args: &[&str], needle: &str) {
    let out = hebb().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "hebb {args:?}: {err}");
    assert!(err.contains(needle), "message lacks '{needle}': {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn rate_commands_write_hdf5_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let d = |s: &str| dir.path().join(s).display().to_string();
    for (kind, loads) in [("classic", "0.05,0.2"), ("dense", "0.5,2"), ("modern", "0.5,2")] {
        let out = d(kind);
        let table = ok(&[
            "hopfield",
            "--out",
            &out,
            "--kind",
            kind,
            "--n",
            "100",
            "--loads",
            loads,
            "--networks",
            "1",
        ]);
        assert!(table.contains("hopfield.h5"), "{table}");
        let attrs = read_root_attrs(&dir.path().join(kind).join("hopfield.h5")).unwrap();
        assert!(attrs.get("kind").is_some_and(|k| k.contains(kind)), "{attrs:?}");
        for f in ["hopfield.png", "hopfield.svg"] {
            assert!(dir.path().join(kind).join(f).is_file(), "{kind}: {f}");
        }
    }
    ok(&["pca", "--out", &d("pca"), "--samples", "500", "--record-every", "50"]);
    assert!(dir.path().join("pca/pca.h5").is_file() && dir.path().join("pca/pca.png").is_file());
    let table = ok(&["memory", "--out", &d("memory"), "--steps", "200"]);
    assert!(table.contains("exact gradient"), "{table}");
    assert!(dir.path().join("memory/memory.h5").is_file() && dir.path().join("memory/memory.svg").is_file());
    // An existing output directory is refused without --force.
    fails(&["memory", "--out", &d("memory")], "--force");
}

#[test]
fn rate_commands_reject_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x").display().to_string();
    fails(&["hopfield", "--out", &out, "--loads", "0.1:0.2"], "--loads");
    fails(&["hopfield", "--out", &out, "--loads", "abc"], "--loads");
    fails(&["hopfield", "--out", &out, "--loads=-0.1"], "--loads");
    fails(&["hopfield", "--out", &out, "--flip", "0.7"], "--flip");
    fails(&["hopfield", "--out", &out, "--kind", "dense", "--degree", "0"], "--degree");
    fails(&["hopfield", "--out", &out, "--kind", "fancy"], "--kind");
    fails(&["pca", "--out", &out, "--k", "60"], "k = 60");
    fails(&["memory", "--out", &out, "--patterns", "0"], "--patterns");
    fails(&["memory", "--out", &out, "--eta", "3"], "--eta");
    assert!(
        !dir.path().join("x").exists(),
        "a refused command must not create its output directory"
    );
}
