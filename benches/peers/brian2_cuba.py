#!/usr/bin/env python3
"""CUBA (Vogels & Abbott 2005 / Brette et al. 2007 benchmark 2) in Brian2 2.9, C++ standalone,
exactly the network of ../shared/reference/peers.md section 2 and models/cuba.toml (and, with
--stdp, models/cuba_stdp.toml). Prints one JSON line: sim_s (the simulation loop, Brian2's own
measurement), binary_s (the compiled binary's wall time), compile_s, rates, spikes.

Usage: brian2_cuba.py [--stdp] [--duration MS] [--seed S] [--dir DIR]
Requirements: benches/peers/requirements.txt (brian2==2.9.0, numpy<2.4).
"""
import argparse, json, os, time

p = argparse.ArgumentParser()
p.add_argument("--stdp", action="store_true")
p.add_argument("--duration", type=float, default=1000.0)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--dir", default="target/brian2-cuba")
a = p.parse_args()

from brian2 import (NeuronGroup, Synapses, SpikeMonitor, run, ms, mV, set_device, device, prefs, seed,
                    defaultclock)

proj = os.path.abspath(a.dir + ("-stdp" if a.stdp else ""))
set_device("cpp_standalone", directory=proj, build_on_run=False)
prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
prefs.devices.cpp_standalone.openmp_threads = 0
defaultclock.dt = 0.1 * ms
seed(a.seed)

taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
eqs = """
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
"""
P = NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
P.v = "Vr + rand() * (Vt - Vr)"
we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
Pe, Pi = P[:3200], P[3200:]
if a.stdp:
    wmax = 2 * we
    Aplus = 0.01 * wmax
    Aminus = 1.05 * Aplus
    Cee = Synapses(Pe, Pe, """w : volt
        dapre/dt = -apre/(20*ms) : volt (event-driven)
        dapost/dt = -apost/(20*ms) : volt (event-driven)""",
        on_pre="w = clip(w - apost, 0*mV, wmax)\nge_post += w\napre += Aplus",
        on_post="w = clip(w + apre, 0*mV, wmax)\napost += Aminus", delay=0.1 * ms)
    Cee.connect(p=0.02)
    Cee.w = we
    Cei = Synapses(Pe, Pi, on_pre="ge += we", delay=0.1 * ms)
    Cei.connect(p=0.02)
else:
    Ce = Synapses(Pe, P, on_pre="ge += we", delay=0.1 * ms)
    Ce.connect(p=0.02)
Ci = Synapses(Pi, P, on_pre="gi += wi", delay=0.1 * ms)
Ci.connect(p=0.02)
M = SpikeMonitor(P)
run(a.duration * ms)
t0 = time.time()
device.build(directory=proj, compile=True, run=False, debug=False)
compile_s = time.time() - t0
t0 = time.time()
device.run(proj, with_output=False, run_args=[])
binary_s = time.time() - t0
n = M.i[:]
ne = int((n < 3200).sum())
out = {"simulator": "brian2-2.9.0-standalone", "stdp": a.stdp, "duration_ms": a.duration, "sim_s": float(device._last_run_time),
       "binary_s": binary_s, "compile_s": compile_s, "spikes": int(len(n)), "rate_E_Hz": ne / 3200 / (a.duration / 1000),
       "rate_I_Hz": (len(n) - ne) / 800 / (a.duration / 1000)}
if a.stdp:
    out["w_ee_mean_rel"] = float((Cee.w[:] / wmax).mean())
print(json.dumps(out))
