"""Read a hebb model file (TOML) for the peer scripts, so that NEST and Brian2 build exactly the
network that hebb builds from the same file (same parameters, defaults, `--set` overrides).

Only what the benchmark networks use is supported; anything else is refused with a message naming
the field (a peer script must never silently build a different network):
  neurons      lif_cuba, lif_coba, lif_delta (defaults as in src/neuron/*.rs)
  initial      constants, {uniform = {low, high}}, {normal = {mean, std}} (clipped at 0 for
               conductances, as hebb does)
  connectivity all_to_all, one_to_one, fixed_probability, fixed_indegree, fixed_outdegree
  weight       constant or {uniform = {low, high}}; delay: constant
  plasticity   pair_stdp (all_to_all pairing, additive, w_min = 0: NEST stdp_synapse) and
               vogels2011 (not anti-Hebbian, w_min = 0: NEST vogels_sprekeler_synapse)
  input        poisson (all neurons), current (constant, all neurons, whole run)
"""
import tomllib

# Defaults of the neuron models, as in src/neuron/*.rs (parameter tables in their headers).
DEFAULTS = {
    "lif_cuba": dict(tau_m=20.0, e_l=-70.0, v_th=-55.0, v_reset=-70.0, t_ref=2.0, tau_exc=5.0, tau_inh=10.0, v_bias=0.0),
    "lif_coba": dict(c_m=200.0, g_leak=10.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0, e_exc=0.0, e_inh=-80.0,
                     tau_exc=5.0, tau_inh=10.0, i_bias=0.0),
    "lif_delta": dict(tau_m=20.0, e_l=0.0, v_th=20.0, v_reset=10.0, t_ref=2.0, v_bias=0.0),
}
# State variables that are conductances (normal distributions are clipped at 0 for them).
CONDUCTANCES = {"g_exc", "g_inh"}


class ModelError(Exception):
    pass


def _parse_value(text):
    try:
        return tomllib.loads("v = " + text)["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_set(doc, assignment):
    """`--set FIELD=VALUE` as hebb does it: arrays of tables addressed by `name`, by
    `<pre>_to_<post>` for unnamed projections, or by index."""
    if "=" not in assignment:
        raise ModelError(f"--set {assignment!r}: expected FIELD=VALUE")
    path, value = assignment.split("=", 1)
    keys = path.strip().split(".")
    node = doc
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            found = None
            for j, item in enumerate(node):
                ident = item.get("name") or (f"{item['pre']}_to_{item['post']}" if "pre" in item else None)
                if ident == key or str(j) == key:
                    found = item
            if found is None:
                raise ModelError(f"--set {path}: no element {key!r}")
            if last:
                raise ModelError(f"--set {path}: cannot replace a whole element")
            node = found
            continue
        if last:
            node[key] = _parse_value(value.strip())
        else:
            if key not in node:
                node[key] = {}
            node = node[key]


def load(path, sets=(), duration=None, seed=None):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    for s in sets:
        apply_set(doc, s)
    sim = doc.get("simulation", {})
    if duration is not None:
        sim["duration"] = duration
    if seed is not None:
        sim["seed"] = seed
    m = {"dt": float(sim.get("dt", 0.1)), "duration": float(sim["duration"]), "seed": int(sim.get("seed", 0)),
         "populations": [], "projections": [], "inputs": []}
    pops = {}
    for p in doc.get("population", []):
        neuron = dict(p["neuron"])
        model = neuron.pop("model")
        if model not in DEFAULTS:
            raise ModelError(f"{path}: population.{p['name']}.neuron.model = {model!r}: peers support {sorted(DEFAULTS)}")
        params = dict(DEFAULTS[model])
        for k, v in neuron.items():
            if k not in params:
                raise ModelError(f"{path}: population.{p['name']}.neuron.{k}: unknown parameter of {model}")
            params[k] = float(v)
        initial = {}
        for var, dist in p.get("initial", {}).items():
            initial[var] = _dist(path, f"population.{p['name']}.initial.{var}", dist, ("uniform", "normal"))
        pop = {"name": p["name"], "type": p["type"], "size": int(p["size"]), "model": model, "params": params,
               "initial": initial}
        pops[pop["name"]] = pop
        m["populations"].append(pop)
    for pr in doc.get("projection", []):
        name = pr.get("name", f"{pr['pre']}_to_{pr['post']}")
        where = f"{path}: projection.{name}"
        c = dict(pr["connectivity"])
        rule = c.pop("rule")
        if rule not in ("all_to_all", "one_to_one", "fixed_probability", "fixed_indegree", "fixed_outdegree"):
            raise ModelError(f"{where}.connectivity.rule = {rule!r}: not supported by the peer scripts")
        c.setdefault("autapses", False)
        c.setdefault("multapses", False)
        delay = pr.get("delay", m["dt"])
        if not isinstance(delay, (int, float)):
            raise ModelError(f"{where}.delay: the peer scripts support constant delays only")
        # hebb rounds delays to whole steps (at least one).
        delay = max(1, round(float(delay) / m["dt"])) * m["dt"]
        weight = _dist(path, f"projection.{name}.weight", pr.get("weight", 1.0), ("uniform",))
        plast = pr.get("plasticity")
        if plast is not None:
            plast = dict(plast)
            r = plast.get("rule")
            if r == "pair_stdp":
                if plast.get("pairing", "all_to_all") != "all_to_all" or plast.get("weight_dependence", "additive") != "additive" \
                        or plast.get("w_min", 0.0) != 0.0 or "non_hebbian" in plast:
                    raise ModelError(f"{where}.plasticity: peers support pair_stdp with all_to_all pairing, additive, w_min = 0 only")
            elif r == "vogels2011":
                if plast.get("anti_hebbian", False) or plast.get("w_min", 0.0) != 0.0:
                    raise ModelError(f"{where}.plasticity: peers support vogels2011 with anti_hebbian = false, w_min = 0 only")
                if "rho0" in plast:
                    # alpha = 2 rho0 tau (rho0 in Hz, tau in ms).
                    plast["alpha"] = 2.0 * float(plast["rho0"]) * float(plast["tau"]) / 1000.0
            else:
                raise ModelError(f"{where}.plasticity.rule = {r!r}: not supported by the peer scripts")
        if pops[pr["post"]]["model"] == "lif_delta" and plast is not None:
            raise ModelError(f"{where}: plasticity onto lif_delta is not supported by the peer scripts")
        m["projections"].append({"name": name, "pre": pr["pre"], "post": pr["post"], "rule": rule, "conn": c,
                                 "weight": weight, "delay": delay, "plasticity": plast,
                                 "inhibitory": pops[pr["pre"]]["type"] == "inhibitory"})
    for k, inp in enumerate(doc.get("input", [])):
        where = f"{path}: input.{k}"
        t = inp["type"]
        if "neurons" in inp:
            raise ModelError(f"{where}.neurons: peers support inputs to whole populations only")
        if t == "poisson":
            m["inputs"].append({"type": "poisson", "target": inp["target"], "rate": float(inp["rate"]),
                                "count": int(inp.get("count", 1)), "weight": float(inp.get("weight", 1.0)),
                                "receptor": inp.get("receptor", "excitatory")})
        elif t == "current":
            if inp.get("start", 0.0) != 0.0 or "stop" in inp:
                raise ModelError(f"{where}: peers support constant currents over the whole run only")
            m["inputs"].append({"type": "current", "target": inp["target"], "amplitude": float(inp["amplitude"])})
        else:
            raise ModelError(f"{where}.type = {t!r}: not supported by the peer scripts")
    return m


def _dist(path, field, d, allowed):
    if isinstance(d, (int, float)):
        return ("const", float(d))
    if isinstance(d, dict) and len(d) == 1:
        (kind, args), = d.items()
        if kind in allowed:
            if kind == "uniform":
                return ("uniform", float(args["low"]), float(args["high"]))
            if kind == "normal":
                return ("normal", float(args["mean"]), float(args["std"]))
    raise ModelError(f"{path}: {field} = {d!r}: the peer scripts support constants and {allowed}")


def sample(dist, n, rng, clip0=False):
    """Draw n values of a distribution with numpy (NEST initial states)."""
    import numpy as np
    if dist[0] == "const":
        x = np.full(n, dist[1])
    elif dist[0] == "uniform":
        x = rng.uniform(dist[1], dist[2], n)
    else:
        x = rng.normal(dist[1], dist[2], n)
    return np.maximum(x, 0.0) if clip0 else x


def indegree_arrays(n_pre, n_post, k, autapses, multapses, same, rng):
    """Fixed in-degree: each post neuron draws k distinct pre neurons (hebb's rule), as arrays of
    (pre, post) indices; with `same` and no autapses the post neuron itself is excluded."""
    import numpy as np
    pre = np.empty(n_post * k, dtype=np.int32)
    exclude = same and not autapses
    for j in range(n_post):
        if multapses:
            c = rng.integers(0, n_pre - (1 if exclude else 0), k)
        else:
            c = rng.choice(n_pre - (1 if exclude else 0), k, replace=False)
        if exclude:
            c = c + (c >= j)
        pre[j * k:(j + 1) * k] = c
    post = np.repeat(np.arange(n_post, dtype=np.int32), k)
    return pre, post


def expected_synapses(m, pr):
    pops = {p["name"]: p for p in m["populations"]}
    a, b = pops[pr["pre"]]["size"], pops[pr["post"]]["size"]
    r, c = pr["rule"], pr["conn"]
    if r == "all_to_all":
        return a * b - (0 if c["autapses"] or pr["pre"] != pr["post"] else a)
    if r == "one_to_one":
        return a
    if r == "fixed_probability":
        return c["p"] * a * b
    if r == "fixed_indegree":
        return c["k"] * b
    return c["k"] * a


def rates(m, counts):
    """Population rates (Hz) from spike counts {population: count}."""
    T = m["duration"] / 1000.0
    return [{"name": p["name"], "neurons": p["size"], "spikes": int(counts[p["name"]]),
             "rate_hz": counts[p["name"]] / p["size"] / T} for p in m["populations"]]
