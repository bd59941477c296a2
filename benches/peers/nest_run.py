#!/usr/bin/env python3
"""Run a hebb model file in NEST 3.10 and print one JSON line (build_s, sim_s, rates, synapses,
synaptic events). The network is read from the same TOML file hebb reads (benches/peers/model.py),
so both simulators build the same network: same parameters, connectivity rule, delays, weights,
initial-state distributions and inputs (another realisation of the random parts).

Translation (hebb -> NEST):
  lif_cuba  -> iaf_psc_exp with C_m = tau_m (pF numerically equal to ms): hebb writes currents in
               voltage units (R I, mV), and with R = tau_m / C_m = 1 GOhm a current of x pA is
               x mV, so weights (mV) and v_bias (mV) carry over as pA unchanged.
  lif_coba  -> iaf_cond_exp (weights nS, currents pA; NEST integrates V with adaptive RKF45,
               hebb with RK4 over exact conductances)
  lif_delta -> iaf_psc_delta (weights = jumps in mV; input during refractoriness discarded in
               both, refractory_input = False)
  inhibitory projections -> negative weights (hebb: magnitudes, sign from the presynaptic type)
  fixed_probability -> pairwise_bernoulli, fixed_indegree/outdegree -> fixed_indegree/outdegree
  pair_stdp (all-to-all, additive) -> stdp_synapse with lambda = a_plus / w_max,
               alpha = a_minus / a_plus, mu_plus = mu_minus = 0, tau_minus on the post neurons
  vogels2011 -> vogels_sprekeler_synapse (tau, eta, alpha, Wmax = -w_max; tau_minus = tau on
               the post neurons, otherwise the rule is asymmetric)
  poisson input (count trains of rate) -> one poisson_generator of count * rate per population
               (independent trains per target), delay dt
  current input -> I_e
Delays: NEST treats the synaptic delay as dendritic for STDP, as hebb does.

build_s = Create + Connect + Prepare; sim_s = Run (wall), sim_cpu_s = process CPU time of Run.

Usage: nest_run.py MODEL [--set F=V ...] [--duration MS] [--seed S] [--threads N]
Requirements: benches/peers/requirements.txt (nest-simulator==3.10.0).
"""
import argparse, json, os, resource, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as hm  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--set", action="append", default=[])
ap.add_argument("--duration", type=float)
ap.add_argument("--seed", type=int)
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()
try:
    m = hm.load(a.model, a.set, a.duration, a.seed)
except (hm.ModelError, KeyError) as e:
    print(f"nest_run.py: {e}", file=sys.stderr)
    sys.exit(2)

import numpy as np  # noqa: E402
import nest  # noqa: E402

nest.verbosity = nest.VerbosityLevel.ERROR
rss_baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
nest.ResetKernel()
nest.set(resolution=m["dt"], rng_seed=m["seed"] + 1, local_num_threads=a.threads, print_time=False)
rng = np.random.default_rng(m["seed"])

# tau_minus is a parameter of the postsynaptic neuron in NEST.
tau_minus = {}
for pr in m["projections"]:
    pl = pr["plasticity"]
    if pl is not None:
        t = pl["tau_minus"] if pl["rule"] == "pair_stdp" else pl["tau"]
        if tau_minus.setdefault(pr["post"], t) != t:
            sys.exit(f"nest_run.py: projections onto {pr['post']} need different tau_minus")

scale = {}  # weight (hebb units) -> NEST units, per postsynaptic population
nodes = {}
for p in m["populations"]:
    q, mod = p["params"], p["model"]
    if mod == "lif_cuba":
        nm = "iaf_psc_exp"
        par = dict(C_m=q["tau_m"], tau_m=q["tau_m"], E_L=q["e_l"], V_th=q["v_th"], V_reset=q["v_reset"],
                   t_ref=q["t_ref"], tau_syn_ex=q["tau_exc"], tau_syn_in=q["tau_inh"], I_e=q["v_bias"])
        scale[p["name"]] = 1.0
        varmap = {"v": "V_m"}
    elif mod == "lif_coba":
        nm = "iaf_cond_exp"
        par = dict(C_m=q["c_m"], g_L=q["g_leak"], E_L=q["e_l"], V_th=q["v_th"], V_reset=q["v_reset"], t_ref=q["t_ref"],
                   E_ex=q["e_exc"], E_in=q["e_inh"], tau_syn_ex=q["tau_exc"], tau_syn_in=q["tau_inh"], I_e=q["i_bias"])
        scale[p["name"]] = 1.0
        varmap = {"v": "V_m", "g_exc": "g_ex", "g_inh": "g_in"}
    else:
        nm = "iaf_psc_delta"
        par = dict(C_m=q["tau_m"], tau_m=q["tau_m"], E_L=q["e_l"], V_th=q["v_th"], V_reset=q["v_reset"],
                   t_ref=q["t_ref"], I_e=q["v_bias"], refractory_input=False)
        scale[p["name"]] = 1.0
        varmap = {"v": "V_m"}
    for inp in m["inputs"]:
        if inp["type"] == "current" and inp["target"] == p["name"]:
            par["I_e"] += inp["amplitude"]  # mV as pA with C_m = tau_m; pA for iaf_cond_exp
    if p["name"] in tau_minus:
        par["tau_minus"] = tau_minus[p["name"]]
    n = nest.Create(nm, p["size"], params=par)
    for var, dist in p["initial"].items():
        if var not in varmap:
            sys.exit(f"nest_run.py: population.{p['name']}.initial.{var}: not supported")
        n.set({varmap[var]: hm.sample(dist, p["size"], rng, clip0=var in hm.CONDUCTANCES).tolist()})
    nodes[p["name"]] = n

for pr in m["projections"]:
    c = pr["conn"]
    pre, post = nodes[pr["pre"]], nodes[pr["post"]]
    sign = -1.0 if pr["inhibitory"] else 1.0
    s = scale[pr["post"]] * sign
    if pr["rule"] == "fixed_probability":
        conn = {"rule": "pairwise_bernoulli", "p": c["p"], "allow_autapses": c["autapses"]}
    elif pr["rule"] == "fixed_indegree":
        conn = {"rule": "fixed_indegree", "indegree": c["k"], "allow_autapses": c["autapses"], "allow_multapses": c["multapses"]}
    elif pr["rule"] == "fixed_outdegree":
        conn = {"rule": "fixed_outdegree", "outdegree": c["k"], "allow_autapses": c["autapses"], "allow_multapses": c["multapses"]}
    elif pr["rule"] == "all_to_all":
        conn = {"rule": "all_to_all", "allow_autapses": c["autapses"]}
    else:
        conn = {"rule": "one_to_one"}
    w = pr["weight"]
    if w[0] == "const":
        weight = s * w[1]
    else:
        lo, hi = sorted((s * w[1], s * w[2]))
        weight = nest.random.uniform(lo, hi)
    syn = {"weight": weight, "delay": pr["delay"]}
    pl = pr["plasticity"]
    if pl is not None and pl["rule"] == "pair_stdp":
        if pr["inhibitory"]:
            sys.exit("nest_run.py: pair_stdp from an inhibitory population is not supported")
        name = "stdp_" + pr["name"]
        wmax = pl["w_max"] * scale[pr["post"]]
        nest.CopyModel("stdp_synapse", name, {"tau_plus": pl["tau_plus"], "lambda": pl["a_plus"] / pl["w_max"],
                                              "alpha": pl["a_minus"] / pl["a_plus"], "mu_plus": 0.0, "mu_minus": 0.0,
                                              "Wmax": wmax})
        syn["synapse_model"] = name
    elif pl is not None:
        name = "vogels_" + pr["name"]
        # The defaults must already satisfy NEST's check that weight and Wmax have the same sign.
        nest.CopyModel("vogels_sprekeler_synapse", name, {"tau": pl["tau"], "eta": pl["eta"] * scale[pr["post"]],
                                                          "alpha": pl["alpha"], "weight": 0.0,
                                                          "Wmax": sign * pl["w_max"] * scale[pr["post"]]})
        syn["synapse_model"] = name
    nest.Connect(pre, post, conn, syn)

for inp in m["inputs"]:
    if inp["type"] != "poisson":
        continue
    g = nest.Create("poisson_generator", params={"rate": inp["rate"] * inp["count"]})
    s = scale[inp["target"]] * (1.0 if inp["receptor"] == "excitatory" else -1.0)
    nest.Connect(g, nodes[inp["target"]], "all_to_all", {"weight": s * inp["weight"], "delay": m["dt"]})

recs = {}
for p in m["populations"]:
    recs[p["name"]] = nest.Create("spike_recorder")
    nest.Connect(nodes[p["name"]], recs[p["name"]])
nest.Prepare()
build_s = time.perf_counter() - t0
c0, t1 = time.process_time(), time.perf_counter()
nest.Run(m["duration"])
sim_s = time.perf_counter() - t1
sim_cpu_s = time.process_time() - c0
nest.Cleanup()
# High-water mark of the process up to the end of the run (before reading connections back).
peak_rss_run_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

# Spike counts, synapses and synaptic events (spikes x out-degree), outside the timing.
counts = {p["name"]: recs[p["name"]].get("n_events") for p in m["populations"]}
m_sizes = {p["name"]: p["size"] for p in m["populations"]}
synapses, events = 0, 0.0
for pr in m["projections"]:
    # Reading every connection back from NEST (GetConnections(...).get("source")) takes ~1.5 kB
    # of Python objects per synapse; the synapse count is cheaper, and events are counted with the
    # projection's mean out-degree (exact where the rule fixes the out-degree; otherwise the
    # per-neuron out-degree fluctuations average out over the spiking neurons to well below 1%).
    if pr["rule"] == "fixed_probability":
        n_syn = len(nest.GetConnections(source=nodes[pr["pre"]], target=nodes[pr["post"]]))
    else:
        n_syn = int(hm.expected_synapses(m, pr))  # fixed by the rule (and GetConnections is slow)
    synapses += n_syn
    events += counts[pr["pre"]] * n_syn / m_sizes[pr["pre"]]
out = {"simulator": f"nest-{nest.__version__}", "threads": a.threads, "duration_ms": m["duration"], "seed": m["seed"],
       "build_s": build_s, "sim_s": sim_s, "sim_cpu_s": sim_cpu_s, "populations": hm.rates(m, counts),
       "synapses": int(synapses), "syn_events": events,
       "events_per_s": events / sim_s if sim_s > 0 else None,
       "rss_baseline_mb": rss_baseline_mb, "peak_rss_run_mb": peak_rss_run_mb,
       "peak_rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(out))
