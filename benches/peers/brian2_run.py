#!/usr/bin/env python3
"""Run a hebb model file in Brian2 2.9 (C++ standalone device) and print one JSON line.
The network is read from the same TOML file hebb reads (benches/peers/model.py): same parameters,
connectivity rule, delays, weights, initial-state distributions and inputs (another realisation).

Translation (hebb -> Brian2; one NeuronGroup per run of consecutive populations with the same
neuron parameters, populations are subgroups, as in Brian2's CUBA example):
  lif_cuba  dv/dt = (ge + gi - (v - e_l) + v_bias)/tau_m (unless refractory), ge, gi in volt
            decaying with tau_exc, tau_inh; method 'exact' (as hebb and NEST iaf_psc_exp)
  lif_coba  c_m dv/dt = g_leak (e_l - v) + ge (e_exc - v) + gi (e_inh - v) + i_bias, method
            'exponential_euler' (Brian2's usual method for conductance models; hebb: RK4)
  lif_delta dv/dt = -(v - e_l)/tau_m + v_bias/tau_m; jumps (synapses and Poisson input) one step
            earlier and exp(dt/tau_m) larger, masked while hebb's neuron is clamped: the same
            trajectory as hebb and NEST iaf_psc_delta, whose jumps are tested against the
            threshold in the step they arrive (see delta_gain)
  threshold v >= v_th, reset v = v_reset, refractory t_ref + dt (hebb's and NEST's convention,
  see below); inhibitory weights subtract (cuba,
  delta) or add to gi (coba); constant weights are constants of the code (no per-synapse
  variable), as in Brian2's CUBA example
  fixed_probability -> connect(p=...) (geometric skipping), without autapses
            j='k for k in sample(N_post, p=p) if k != i'; fixed_indegree/outdegree: (i, j) arrays
            drawn with numpy in Python (Brian2 has no such rule; their sampling is therefore in
            the code-generation time, not in build_s)
  pair_stdp (all-to-all, additive) -> event-driven traces apre += a_plus, apost += a_minus,
            on_pre w = clip(w - apost, 0, w_max), then transmit w; on_post w = clip(w + apre, ...)
  vogels2011 -> traces +1, on_pre w = clip(w + eta (Apost - alpha), 0, w_max), then transmit;
            on_post w = clip(w + eta Apre, 0, w_max)
  poisson input -> PoissonInput(N = count, rate); current input -> added to v_bias / i_bias
Delays: Brian2's on_pre with delay= is axonal, hebb and NEST count the delay as dendritic for
plasticity (same mean weights at one-step delays, ../shared/reference/peers.md). In Brian2 a pre and
a post spike in the same step pair; in hebb and NEST they do not.

Times: codegen_compile_s (Python objects, code generation and g++, one-off, reported apart;
last_build_codegen_compile_s: the same for the first, full build of DIR, as make only recompiles
what changed),
binary_s (wall time of the compiled binary), sim_s (Brian2's own measurement of the run loop:
std::clock() serially, wall time with OpenMP), build_s = binary_s - sim_s (start-up, synapse
creation, initialisation, writing results). The binary in DIR can be run again (`./main` in DIR,
results/last_run_info.txt holds the loop time): with the fixed seed it gives the same spikes.

Usage: brian2_run.py MODEL --dir DIR [--set F=V ...] [--duration MS] [--seed S] [--threads N]
Requirements: benches/peers/requirements.txt (brian2==2.9.0, numpy<2.4).
"""
import argparse, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as hm  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--dir", required=True)
ap.add_argument("--set", action="append", default=[])
ap.add_argument("--duration", type=float)
ap.add_argument("--seed", type=int)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--windows", type=float, default=None, metavar="MS",
                help="also report each population's rate in consecutive windows of MS ms (records spike times)")
ap.add_argument("--coba-method", default="exponential_euler", help="Brian2 method for lif_coba (e.g. rk4)")
a = ap.parse_args()
try:
    m = hm.load(a.model, a.set, a.duration, a.seed)
except (hm.ModelError, KeyError) as e:
    print(f"brian2_run.py: {e}", file=sys.stderr)
    sys.exit(2)

import numpy as np  # noqa: E402
import brian2 as b2  # noqa: E402
from brian2 import ms, mV, nS, pA, pF, Hz, second  # noqa: E402

t_start = time.perf_counter()
proj = os.path.abspath(a.dir)
b2.set_device("cpp_standalone", directory=proj, build_on_run=False)
# Brian2 runs `make` without a job limit: dozens of compilers on 2 cores.
b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
b2.prefs.devices.cpp_standalone.openmp_threads = a.threads if a.threads > 1 else 0
b2.defaultclock.dt = m["dt"] * ms
b2.seed(m["seed"])
rng = np.random.default_rng(m["seed"])

EQS = {
    "lif_cuba": """dv/dt = (ge + gi - (v - e_l) + v_bias)/tau_m : volt (unless refractory)
                   dge/dt = -ge/tau_exc : volt
                   dgi/dt = -gi/tau_inh : volt""",
    "lif_coba": """dv/dt = (g_leak*(e_l - v) + ge*(e_exc - v) + gi*(e_inh - v) + i_bias)/c_m : volt (unless refractory)
                   dge/dt = -ge/tau_exc : siemens
                   dgi/dt = -gi/tau_inh : siemens""",
    "lif_delta": """dv/dt = -(v - e_l)/tau_m + v_bias/tau_m : volt (unless refractory)""",
}
METHOD = {"lif_cuba": "exact", "lif_coba": a.coba_method, "lif_delta": "exact"}
UNITS = {"tau_m": ms, "e_l": mV, "v_th": mV, "v_reset": mV, "t_ref": ms, "tau_exc": ms, "tau_inh": ms, "v_bias": mV,
         "c_m": pF, "g_leak": nS, "e_exc": mV, "e_inh": mV, "i_bias": pA}
WUNIT = {"lif_cuba": mV, "lif_coba": nS, "lif_delta": mV}  # weight unit of the postsynaptic model
VARS = {"v": ("v", "mV"), "i_exc": ("ge", "mV"), "i_inh": ("gi", "mV"), "g_exc": ("ge", "nS"), "g_inh": ("gi", "nS")}


def params_with_current(p):
    q = dict(p["params"])
    for inp in m["inputs"]:
        if inp["type"] == "current" and inp["target"] == p["name"]:
            q["v_bias" if p["model"] != "lif_coba" else "i_bias"] += inp["amplitude"]
    return q


# Group consecutive populations with identical neuron parameters into one NeuronGroup.
runs = []
for p in m["populations"]:
    q = params_with_current(p)
    if runs and runs[-1]["model"] == p["model"] and runs[-1]["params"] == q:
        runs[-1]["pops"].append(p)
    else:
        runs.append({"model": p["model"], "params": q, "pops": [p]})
sub, model_of, group_of = {}, {}, {}
monitors, groups = [], []
for r in runs:
    q = r["params"]
    ns = {k: v * UNITS[k] for k, v in q.items()}
    n = sum(p["size"] for p in r["pops"])
    # hebb and NEST clamp V for t_ref/dt steps after the spike step and integrate again on the next
    # one (a neuron driven hard fires every t_ref/dt + 1 steps: 197 spikes/s at t_ref = 5 ms in
    # NEST 3.10 and hebb); Brian2 integrates again at exactly t_ref after the spike, one step
    # earlier (200 spikes/s). t_ref + dt gives hebb's convention.
    G = b2.NeuronGroup(n, EQS[r["model"]], threshold="v >= v_th", reset="v = v_reset",
                       refractory=(q["t_ref"] + m["dt"]) * ms,
                       method=METHOD[r["model"]], namespace=ns)
    G.v = q["e_l"] * mV  # hebb's default initial state: rest
    groups.append(G)
    mon = b2.SpikeMonitor(G, record=a.windows is not None)
    off = 0
    for p in r["pops"]:
        s = G[off:off + p["size"]]
        sub[p["name"]], model_of[p["name"]], group_of[p["name"]] = s, r["model"], (mon, off, p["size"], G)
        for var, dist in p["initial"].items():
            if var not in VARS:
                sys.exit(f"brian2_run.py: population.{p['name']}.initial.{var}: not supported")
            name, u = VARS[var]
            if dist[0] == "const":
                expr = f"{dist[1]!r}*{u}"
            elif dist[0] == "uniform":
                expr = f"({dist[1]!r} + rand()*({dist[2] - dist[1]!r}))*{u}"
            else:
                expr = f"({dist[1]!r} + {dist[2]!r}*randn())*{u}"
                if var in hm.CONDUCTANCES:
                    expr = f"clip({expr}, 0*{u}, inf*{u})"
            setattr(s, name, expr)
        off += p["size"]
    monitors.append(mon)

pop_of = {p["name"]: p for p in m["populations"]}


def delta_gain(pop):
    """Jumps onto lif_delta. hebb (and NEST iaf_psc_delta) add a jump arriving at step k to V
    before the threshold test of step k; Brian2 applies synaptic and PoissonInput effects after
    the threshold test, so the same jump would reach the threshold one step later, decayed by
    exp(-dt/tau_m). Delivering it one step earlier (delay - dt) and exp(dt/tau_m) larger gives
    exactly hebb's membrane trajectory (V is linear between jumps). Input is discarded while
    hebb's neuron is clamped: the t_ref/dt steps after its spike step, which are Brian2's steps
    with t - lastspike < t_ref once the delivery is one step earlier (t_open)."""
    q = pop_of[pop]["params"]
    return float(np.exp(m["dt"] / q["tau_m"]))


def t_open(pop):
    """Input counts again from t_ref/dt steps after the spike step (see delta_gain); the
    comparison sits half a step below so that it is exact in floating point (Brian2's
    timestep() would do the same with a division per event, measurably slower on Brunel C)."""
    n_ref = int(round(pop_of[pop]["params"]["t_ref"] / m["dt"]))
    return (n_ref - 0.5) * m["dt"] * ms


synapses = []
for pr in m["projections"]:
    post_model = model_of[pr["post"]]
    wu = WUNIT[post_model]
    inh = pr["inhibitory"]
    if post_model == "lif_coba":
        target = "gi_post += {w}" if inh else "ge_post += {w}"
    elif post_model == "lif_cuba":
        target = "gi_post -= {w}" if inh else "ge_post += {w}"
    else:
        target = ("v_post -= " if inh else "v_post += ") + "{w}*delta_gain*int(t - lastspike_post > t_open)"
    pl, w = pr["plasticity"], pr["weight"]
    ns = {"wunit": wu}
    delay = pr["delay"]
    if post_model == "lif_delta":
        ns.update(delta_gain=delta_gain(pr["post"]), t_open=t_open(pr["post"]))
        delay -= m["dt"]  # see delta_gain
    if pl is None and w[0] == "const":
        ns["W"] = w[1] * wu
        model_eq, on_pre, on_post = "", target.format(w="W"), None
    elif pl is None:
        model_eq, on_pre, on_post = "w : 1", target.format(w="w*wunit"), None
    elif pl["rule"] == "pair_stdp":
        ns.update(wmax=pl["w_max"], Aplus=pl["a_plus"], Aminus=pl["a_minus"], taup=pl["tau_plus"] * ms,
                  taum=pl["tau_minus"] * ms)
        model_eq = """w : 1
                      dapre/dt = -apre/taup : 1 (event-driven)
                      dapost/dt = -apost/taum : 1 (event-driven)"""
        on_pre = "w = clip(w - apost, 0, wmax)\n" + target.format(w="w*wunit") + "\napre += Aplus"
        on_post = "w = clip(w + apre, 0, wmax)\napost += Aminus"
    else:
        ns.update(wmax=pl["w_max"], eta=pl["eta"], alpha=pl["alpha"], tau_stdp=pl["tau"] * ms)
        model_eq = """w : 1
                      dApre/dt = -Apre/tau_stdp : 1 (event-driven)
                      dApost/dt = -Apost/tau_stdp : 1 (event-driven)"""
        on_pre = "w = clip(w + (Apost - alpha)*eta, 0, wmax)\n" + target.format(w="w*wunit") + "\nApre += 1"
        on_post = "w = clip(w + Apre*eta, 0, wmax)\nApost += 1"
    S = b2.Synapses(sub[pr["pre"]], sub[pr["post"]], model=model_eq, on_pre=on_pre, on_post=on_post,
                    delay=delay * ms, namespace=ns, name="syn_" + pr["name"].replace("-", "_"))
    c, same = pr["conn"], pr["pre"] == pr["post"]
    n_pre, n_post = len(sub[pr["pre"]]), len(sub[pr["post"]])
    if pr["rule"] == "fixed_probability":
        if same and not c["autapses"]:
            S.connect(j="k for k in sample(N_post, p=p_conn) if k != i", namespace={"p_conn": c["p"]})
        else:
            S.connect(p=c["p"])
    elif pr["rule"] == "fixed_indegree":
        i, j = hm.indegree_arrays(n_pre, n_post, c["k"], c["autapses"], c["multapses"], same, rng)
        S.connect(i=i, j=j)
    elif pr["rule"] == "fixed_outdegree":
        j, i = hm.indegree_arrays(n_post, n_pre, c["k"], c["autapses"], c["multapses"], same, rng)
        S.connect(i=i, j=j)
    elif pr["rule"] == "all_to_all":
        S.connect(condition="i != j" if same and not c["autapses"] else None)
    else:
        S.connect(j="i")
    if model_eq:
        if w[0] == "const":
            S.w = w[1]
        else:
            S.w = f"{w[1]!r} + rand()*{w[2] - w[1]!r}"
    synapses.append((pr, S))

inputs = []
for inp in m["inputs"]:
    if inp["type"] != "poisson":
        continue
    mod = model_of[inp["target"]]
    wu = WUNIT[mod]
    exc = inp["receptor"] == "excitatory"
    if mod == "lif_delta":
        j = (inp["weight"] if exc else -inp["weight"]) * delta_gain(inp["target"])
        var, weight = "v", f"{j!r}*mV*int(t - lastspike > {t_open(inp['target']) / ms!r}*ms)"
    elif mod == "lif_cuba":
        var, weight = ("ge", inp["weight"] * wu) if exc else ("gi", -inp["weight"] * wu)
    else:
        var, weight = ("ge" if exc else "gi"), inp["weight"] * wu
    inputs.append(b2.PoissonInput(sub[inp["target"]], var, N=inp["count"], rate=inp["rate"] * Hz, weight=weight))

# An explicit Network: Brian2's "magic" run() only collects objects bound to names in this frame,
# not those held in lists.
net = b2.Network([r for r in groups] + monitors + [S for _, S in synapses] + inputs)
net.run(m["duration"] * ms)
binary = os.path.join(proj, "main")
before = os.path.getmtime(binary) if os.path.exists(binary) else None
b2.device.build(directory=proj, compile=True, run=False, debug=False)
codegen_compile_s = time.perf_counter() - t_start
# make rebuilds only what changed: remember the time of the first (full) build of this directory,
# so that a cached or partial build still reports what compiling costs.
compile_file = os.path.join(proj, "hebb_compile.json")
if before is None or not os.path.exists(compile_file):
    with open(compile_file, "w") as f:
        json.dump({"codegen_compile_s": codegen_compile_s, "fresh": before is None}, f)
with open(compile_file) as f:
    last_build = json.load(f)
t0 = time.perf_counter()
b2.device.run(proj, with_output=False, run_args=[])
binary_s = time.perf_counter() - t0
sim_s = float(b2.device._last_run_time)

counts, per_neuron = {}, {}
for p in m["populations"]:
    mon, off, size, G = group_of[p["name"]]
    cnt = np.asarray(mon.count[:])[off:off + size]
    per_neuron[p["name"]] = cnt
    counts[p["name"]] = int(cnt.sum())
n_syn, events = 0, 0.0
for pr, S in synapses:
    i = np.asarray(S.i[:])
    n_syn += len(i)
    events += float((np.bincount(i, minlength=len(sub[pr["pre"]])) * per_neuron[pr["pre"]]).sum())
out = {"simulator": f"brian2-{b2.__version__}-standalone", "threads": a.threads, "duration_ms": m["duration"],
       "seed": m["seed"], "codegen_compile_s": codegen_compile_s,
       "last_build_codegen_compile_s": last_build["codegen_compile_s"], "binary_s": binary_s, "sim_s": sim_s,
       "build_s": binary_s - sim_s, "populations": hm.rates(m, counts), "synapses": n_syn, "syn_events": events,
       "events_per_s": events / sim_s if sim_s > 0 else None}
if a.windows:
    # Rate per population in consecutive windows (for slow processes such as iSTDP settling).
    nw = int(np.ceil(m["duration"] / a.windows))
    out["windows_ms"] = a.windows
    out["window_rates_hz"] = {}
    for p in m["populations"]:
        mon, off, size, G = group_of[p["name"]]
        i, t = np.asarray(mon.i[:]), np.asarray(mon.t[:] / ms)
        sel = (i >= off) & (i < off + size)
        hist = np.bincount(np.minimum((t[sel] / a.windows).astype(int), nw - 1), minlength=nw)
        out["window_rates_hz"][p["name"]] = [float(c) / size / (a.windows / 1000.0) for c in hist]
with open(os.path.join(proj, "hebb_peer.json"), "w") as f:
    json.dump(out, f)
print(json.dumps(out))
