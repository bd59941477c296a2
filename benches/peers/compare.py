#!/usr/bin/env python3
"""Side-by-side: hebb and Brian2 2.9 (C++ standalone) on CUBA and CUBA+STDP, alternating runs in
one invocation so that both see the same machine load; prints medians and the ratio.

Usage (from the repository root, after `cargo build --release` and installing
benches/peers/requirements.txt into a venv):
    VENV/bin/python benches/peers/compare.py [--repeat 9]
Brian2's loop time is its own measurement (last_run_info.txt); hebb's is `hebb bench`'s.
"""
import argparse, json, os, statistics, subprocess, sys

p = argparse.ArgumentParser()
p.add_argument("--repeat", type=int, default=9)
a = p.parse_args()
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
hebb = os.path.join(root, "target", "release", "hebb")
rows = []
for name, model, flag in [("CUBA 4k", "models/cuba.toml", []), ("CUBA 4k + STDP", "models/cuba_stdp.toml", ["--stdp"])]:
    proj = os.path.join(root, "target", "brian2-cuba" + ("-stdp" if flag else ""))
    # Build (code generation + compilation, reported apart) and check the rates once.
    b = json.loads(subprocess.run([sys.executable, os.path.join(root, "benches/peers/brian2_cuba.py"), "--dir", os.path.join(root, "target", "brian2-cuba")] + flag,
                                  capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    h_t, b_t = [], []
    for _ in range(a.repeat):
        h = json.loads(subprocess.run([hebb, "bench", model, "--repeat", "1", "-j", "1", "--json"], capture_output=True, text=True, check=True).stdout)
        h_t.append(h["simulation_s_all"][0])
        subprocess.run(["./main"], cwd=proj, capture_output=True, check=True)
        with open(os.path.join(proj, "results", "last_run_info.txt")) as f:
            b_t.append(float(f.read().split()[0]))
    hs = h["summary"]["populations"]
    rows.append((name, statistics.median(h_t), statistics.median(b_t), hs[0]["mean_rate_hz"], hs[1]["mean_rate_hz"], b["rate_E_Hz"], b["rate_I_Hz"], b["compile_s"]))
print(f"{'network':<16} {'hebb s':>8} {'Brian2 s':>9} {'Brian2/hebb':>11} {'rates hebb E/I':>15} {'rates Brian2 E/I':>17} {'Brian2 compile s':>16}")
for n, h, b, he, hi, be, bi, c in rows:
    print(f"{n:<16} {h:>8.4f} {b:>9.4f} {b / h:>11.2f} {he:>7.2f}/{hi:<7.2f} {be:>8.2f}/{bi:<8.2f} {c:>16.1f}")
print(f"(1 thread, 1 s of biological time, medians of {a.repeat} alternating runs)")
