#!/usr/bin/env python3
"""Read a hebb run directory with h5py and print a summary.

Requirements (tested with Python 3.11; see requirements.txt beside this file):

    pip install h5py==3.16.0 numpy==2.4.6

Usage:

    python read_run.py RUN_DIR

where RUN_DIR was written by `hebb run MODEL --out RUN_DIR`. Other scripts import the loaders:

    from read_run import load_info, load_spikes, load_state, load_weights

The layouts are documented at the top of src/io/hdf5.rs. In short:

* spikes.h5   /spikes/<pop>/timestamps (f64, ms, time order) and node_ids (u64, 0-based in pop)
* state.h5    /report/<pop>/<var>/data (f32, frames x neurons) or data_flat (f32, rank 1,
              time-major; runs that were interrupted or too large to convert), mapping/node_ids,
              mapping/time = [start, stop, dt] in ms
* weights.h5  /edges/<proj>/{source,target}_node_id, 0/syn_weight (initial), 0/delay (ms),
              and for plastic projections snapshots/times (ms) + snapshots/weights (flattened,
              snapshot-major, attribute n_edges)

Every file carries the run's metadata as root attributes (seed, dt_ms, model_text, completed,
reached_duration_ms, ...). Strings are fixed-width bytes in h5py: they are decoded here.
After a crash the paired datasets can differ in length; every loader keeps the consistent prefix
(as hebb's own readers do).

The loaders read whole datasets into memory. For very large spike files read
`f["spikes/exc/timestamps"][start:stop]` in slices instead.
"""
import json
import os
import sys
import tomllib

import h5py
import numpy as np

__all__ = ["load_info", "load_spikes", "load_state", "load_weights", "recorded_neurons", "summary"]


def _decode(value):
    """h5py attribute value -> plain Python (bytes -> str, numpy scalars -> int/float)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_decode(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _path(run_dir, name):
    path = os.path.join(run_dir, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file (is {run_dir} a directory written by `hebb run`?)")
    return path


def load_info(run_dir):
    """Run metadata: the root attributes of spikes.h5 (decoded) merged with run.json.

    Keys include seed, dt_ms, requested_duration_ms, reached_duration_ms (absent when the run
    was killed), completed (bool), model_text, command_line, hebb_version, and from run.json
    model, threads, populations (with hebb's own mean_rate_hz and mean_isi_cv).
    """
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"{run_dir}: not a run directory (it does not exist)")
    info = {}
    json_path = os.path.join(run_dir, "run.json")
    if os.path.isfile(json_path):
        with open(json_path) as f:
            info.update(json.load(f))
    for name in ("spikes.h5", "state.h5", "weights.h5"):
        path = os.path.join(run_dir, name)
        if os.path.isfile(path):
            with h5py.File(path, "r") as f:
                attrs = {k: _decode(v) for k, v in f.attrs.items()}
            # The HDF5 attributes are authoritative for what is in the files. A killed run has
            # no reached_duration_ms attribute, and its run.json is the one written at the
            # start (reached 0): drop that.
            if "reached_duration_ms" not in attrs:
                info.pop("reached_duration_ms", None)
            info.update(attrs)
            break
    if "completed" in info:
        info["completed"] = bool(info["completed"])
    return info


def recorded_neurons(info, n_nodes):
    """Neurons whose spikes are in spikes.h5: the population, or `record.spikes_max_neurons`."""
    try:
        limit = tomllib.loads(info.get("model_text", "")).get("record", {}).get("spikes_max_neurons")
    except tomllib.TOMLDecodeError:
        limit = None
    return int(min(n_nodes, limit)) if limit is not None else int(n_nodes)


def load_spikes(run_dir):
    """{population: {"times_ms": f64[n], "node_ids": u64[n], "n_nodes": int}}, sorted by name.

    Spikes are in time order. `n_nodes` is the population size (attribute of the group).
    """
    out = {}
    with h5py.File(_path(run_dir, "spikes.h5"), "r") as f:
        for pop in sorted(f["spikes"]):
            g = f["spikes"][pop]
            n = min(g["timestamps"].shape[0], g["node_ids"].shape[0])
            ids = g["node_ids"][:n]
            n_nodes = int(g.attrs["n_nodes"]) if "n_nodes" in g.attrs else (int(ids.max()) + 1 if n else 0)
            out[pop] = {"times_ms": g["timestamps"][:n], "node_ids": ids, "n_nodes": n_nodes}
    return out


def load_state(run_dir):
    """{(population, variable): report}, where report is a dict with

    "times_ms" (f64[frames]), "values" (f32[frames, neurons]), "node_ids" (u64[neurons]),
    "units" (str), "layout" ("2d" for `data`, "flat" for `data_flat`).
    Empty dict if the run recorded no state.
    """
    out = {}
    with h5py.File(_path(run_dir, "state.h5"), "r") as f:
        if "report" not in f:
            return out
        for pop in sorted(f["report"]):
            for var in sorted(f["report"][pop]):
                g = f["report"][pop][var]
                node_ids = g["mapping/node_ids"][:]
                start, _stop, dt = (float(x) for x in g["mapping/time"][:])
                n = len(node_ids)
                if "data" in g:
                    values = g["data"][:]
                    layout = "2d"
                    units = _decode(g["data"].attrs.get("units", b""))
                else:
                    # Interrupted run: whole frames of the time-major stream.
                    flat = g["data_flat"]
                    frames = flat.shape[0] // n if n else 0
                    values = flat[: frames * n].reshape(frames, n)
                    layout = "flat"
                    units = _decode(flat.attrs.get("units", b""))
                times = start + np.arange(values.shape[0]) * dt
                out[(pop, var)] = {
                    "times_ms": times,
                    "values": values,
                    "node_ids": node_ids,
                    "units": units,
                    "layout": layout,
                }
    return out


def load_weights(run_dir, snapshots=True):
    """{projection: dict} with "source", "target" (u64 node ids), "weight" (f32, initial),
    "delay_ms" (f64), "source_population", "target_population", "units", and for plastic
    projections "snapshot_times_ms" (f64[k]) and "snapshots" (f32[k, n_edges]); both None for
    static projections (or when snapshots=False).
    """
    out = {}
    with h5py.File(_path(run_dir, "weights.h5"), "r") as f:
        if "edges" not in f:
            return out
        for name in sorted(f["edges"]):
            g = f["edges"][name]
            cols = [g["source_node_id"], g["target_node_id"], g["0/syn_weight"], g["0/delay"]]
            n = min(c.shape[0] for c in cols)
            proj = {
                "source": cols[0][:n],
                "target": cols[1][:n],
                "weight": cols[2][:n],
                "delay_ms": cols[3][:n],
                "source_population": _decode(cols[0].attrs.get("node_population", b"")),
                "target_population": _decode(cols[1].attrs.get("node_population", b"")),
                "units": _decode(cols[2].attrs.get("units", b"")),
                "snapshot_times_ms": None,
                "snapshots": None,
            }
            if snapshots and "snapshots" in g:
                times = g["snapshots/times"][:]
                w = g["snapshots/weights"]
                per = int(w.attrs.get("n_edges", n))
                k = min(len(times), w.shape[0] // per) if per else 0
                proj["snapshot_times_ms"] = times[:k]
                proj["snapshots"] = w[: k * per].reshape(k, per)
            out[name] = proj
    return out


def _duration_s(info, spikes):
    """Simulated time in seconds: reached_duration_ms, or the last spike of a killed run."""
    if info.get("reached_duration_ms"):
        return info["reached_duration_ms"] / 1000.0, False
    last = max((s["times_ms"][-1] for s in spikes.values() if len(s["times_ms"])), default=0.0)
    return (last + info.get("dt_ms", 0.1)) / 1000.0, True


def summary(run_dir):
    """Print what the run directory holds."""
    info = load_info(run_dir)
    print(f"run            {run_dir}")
    print(f"model          {info.get('model', '?')}  (hebb {info.get('hebb_version', '?')})")
    print(f"seed           {info.get('seed')}")
    print(f"dt             {info.get('dt_ms')} ms")
    reached = info.get("reached_duration_ms")
    print(f"duration       {info.get('requested_duration_ms')} ms requested, "
          f"{'unknown (killed)' if reached is None else f'{reached} ms'} reached")
    print(f"completed      {'yes' if info.get('completed') else 'NO: the files hold a prefix'}")

    spikes = load_spikes(run_dir)
    dur_s, estimated = _duration_s(info, spikes)
    print(f"\nspikes ({'duration estimated from the last spike' if estimated else f'{dur_s:g} s'})")
    print(f"  {'population':<12} {'neurons':>8} {'recorded':>9} {'spikes':>10} {'rate (Hz)':>10} {'first (ms)':>11} {'last (ms)':>10}")
    for pop, s in spikes.items():
        rec = recorded_neurons(info, s["n_nodes"])
        t = s["times_ms"]
        rate = len(t) / rec / dur_s if rec and dur_s > 0 else float("nan")
        first = f"{t[0]:.1f}" if len(t) else "-"
        last = f"{t[-1]:.1f}" if len(t) else "-"
        print(f"  {pop:<12} {s['n_nodes']:>8} {rec:>9} {len(t):>10} {rate:>10.3f} {first:>11} {last:>10}")

    try:
        state = load_state(run_dir)
    except FileNotFoundError as e:
        state = None
        print(f"\nstate: {e}")
    if state == {}:
        print("\nstate: no recorded state variables")
    elif state:
        print("\nstate (frame reports)")
        print(f"  {'population/variable':<22} {'units':>6} {'frames':>8} {'neurons':>8} {'t0 (ms)':>8} {'dt (ms)':>8} {'min':>9} {'mean':>9} {'max':>9} layout")
        for (pop, var), r in state.items():
            v = r["values"]
            t = r["times_ms"]
            dt = t[1] - t[0] if len(t) > 1 else float("nan")
            stats = (np.nanmin(v), np.nanmean(v), np.nanmax(v)) if v.size else (np.nan,) * 3
            print(f"  {pop + '/' + var:<22} {r['units']:>6} {v.shape[0]:>8} {v.shape[1]:>8} "
                  f"{t[0] if len(t) else float('nan'):>8.2f} {dt:>8.3f} {stats[0]:>9.3f} {stats[1]:>9.3f} {stats[2]:>9.3f} {r['layout']}")

    try:
        weights = load_weights(run_dir)
    except FileNotFoundError as e:
        weights = None
        print(f"\nweights: {e}")
    if weights == {}:
        print("\nweights: no projections written")
    elif weights:
        print("\nweights (projections)")
        print(f"  {'projection':<14} {'pre->post':<12} {'edges':>9} {'units':>5} {'mean':>8} {'min':>8} {'max':>8} {'delay (ms)':>11} snapshots")
        for name, p in weights.items():
            w = p["weight"]
            d = p["delay_ms"]
            pp = f"{p['source_population']}->{p['target_population']}"
            stats = (w.mean(), w.min(), w.max()) if len(w) else (np.nan,) * 3
            delay = f"{d.min():g}-{d.max():g}" if len(d) else "-"
            if p["snapshots"] is not None and len(p["snapshots"]):
                ts = p["snapshot_times_ms"]
                snap = (f"{len(ts)} ({ts[0]:g}..{ts[-1]:g} ms), mean {p['snapshots'][0].mean():.4g} -> "
                        f"{p['snapshots'][-1].mean():.4g} {p['units']}")
            else:
                snap = "-"
            print(f"  {name:<14} {pp:<12} {len(w):>9} {p['units']:>5} {stats[0]:>8.4g} {stats[1]:>8.4g} {stats[2]:>8.4g} {delay:>11} {snap}")


def main(argv):
    if len(argv) != 2:
        print("usage: python read_run.py RUN_DIR", file=sys.stderr)
        return 2
    try:
        summary(argv[1])
    except BrokenPipeError:  # e.g. `| head`
        return 0
    except (OSError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
