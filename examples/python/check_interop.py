#!/usr/bin/env python3
"""Check hebb's HDF5 output with h5py AND libsonata against expected values.

Usage: python check_interop.py RUN_DIR EXPECTED.json

EXPECTED.json (written by the producer, e.g. `cargo run --example demo RUN_DIR > EXPECTED.json`)
may hold any of the sections below; each one present is checked, each one absent is skipped.

{
  "interrupted": false,          # true: files may hold a prefix of the data, completed must be 0
  "root_attrs": {"hebb_version": s, "seed": n, "dt_ms": x, "requested_duration_ms": x,
                 "command_line": s, "model_text_len": n_bytes, "magic": 2682, "version": [0, 1]},
  "spikes":  {"file": "spikes.h5", "completed": 0|1,
              "populations": {POP: {"count": n, "n_nodes": n, "first": [t, id] | null,
                                    "last": [t, id] | null, "samples": [[index, t, id], ...]}}},
  "state":   {"file": "state.h5", "completed": 0|1,
              "reports": [{"population": p, "variable": v, "units": u, "node_ids": [...],
                           "n_frames": n, "time": [start, stop, dt],
                           "samples": [[frame, column, value], ...],
                           "layout": "flat"   # optional: report expected to stay data_flat}]},
  "weights": {"file": "weights.h5", "completed": 0|1,
              "projections": [{"name": s, "source_population": s, "target_population": s,
                               "n_edges": n, "weight_units": s,
                               "samples": [[edge, source, target, weight, delay], ...],
                               "snapshots": {"count": k, "samples": [[k, edge, time, weight]]}}]}
}

For an interrupted run, counts in EXPECTED.json are what the producer had accepted; the file
must hold a consistent prefix (spikes: shorter of timestamps/node_ids; state: whole frames of
data_flat; snapshots: min(times, weights / n_edges)), and every sample inside that prefix must
match. libsonata is skipped where it cannot apply (unequal spike arrays after a kill, a report
that was never converted to the 2-D `data`). Exits 1 on any mismatch.
"""
import json
import os
import sys

import h5py
import numpy as np

try:
    import libsonata
except ImportError:  # pragma: no cover - reported as a failure below
    libsonata = None

FAILURES = []
NOTES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg)


def ok(msg):
    print("ok:  ", msg)


def note(msg):
    NOTES.append(msg)
    print("note:", msg)


def check(cond, msg):
    if cond:
        ok(msg)
    else:
        fail(msg)
    return cond


def text(v):
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "SO":
        return text(v[()])
    return str(v)


def f32eq(a, b):
    return np.float32(a) == np.float32(b)


def check_root(f, name, exp, section):
    a = f.attrs
    check(int(a["magic"]) == 0x0A7A, f"{name}: magic == 0x0A7A")
    check(list(np.asarray(a["version"]).tolist()) == [0, 1], f"{name}: version == [0, 1]")
    check(int(a["completed"]) == section["completed"],
          f"{name}: completed == {section['completed']} (found {int(a['completed'])})")
    if section["completed"] == 1:
        check("reached_duration_ms" in a and "wall_time_s" in a,
              f"{name}: reached_duration_ms and wall_time_s present")
    ra = exp.get("root_attrs", {})
    for key in ("hebb_version", "command_line"):
        if key in ra:
            check(text(a[key]) == ra[key], f"{name}: {key} == {ra[key]!r}")
    for key in ("seed",):
        if key in ra:
            check(int(a[key]) == ra[key], f"{name}: {key} == {ra[key]}")
    for key in ("dt_ms", "requested_duration_ms"):
        if key in ra:
            check(float(a[key]) == ra[key], f"{name}: {key} == {ra[key]}")
    if "model_text_len" in ra:
        check(len(text(a["model_text"]).encode("utf-8")) == ra["model_text_len"],
              f"{name}: model_text has {ra['model_text_len']} bytes")


# ------------------------------------------------------------------------------------ spikes
def check_spikes(run_dir, exp):
    sec = exp["spikes"]
    path = os.path.join(run_dir, sec["file"])
    interrupted = exp.get("interrupted", False)
    lengths = {}
    with h5py.File(path, "r") as f:
        check_root(f, sec["file"], exp, sec)
        pops = set(f["spikes"].keys())
        check(pops == set(sec["populations"]), f"spikes: populations {sorted(pops)}")
        for pop, e in sec["populations"].items():
            g = f["spikes"][pop]
            ts, ids = g["timestamps"], g["node_ids"]
            check(text(ts.attrs["units"]) == "ms", f"spikes/{pop}: timestamps units == ms")
            check(ts.dtype == np.float64 and ids.dtype == np.uint64, f"spikes/{pop}: dtypes f64/u64")
            check(ts.compression is None and ids.compression is None, f"spikes/{pop}: uncompressed")
            if "n_nodes" in e and "n_nodes" in g.attrs:
                check(int(g.attrs["n_nodes"]) == e["n_nodes"], f"spikes/{pop}: n_nodes == {e['n_nodes']}")
            n = min(ts.shape[0], ids.shape[0])
            lengths[pop] = (ts.shape[0], ids.shape[0])
            if interrupted:
                check(n <= e["count"], f"spikes/{pop}: prefix of {n} <= {e['count']} accepted spikes")
            else:
                check(ts.shape[0] == ids.shape[0] == e["count"],
                      f"spikes/{pop}: {ts.shape[0]}/{ids.shape[0]} spikes == {e['count']}")
            t = ts[:n]
            i = ids[:n]
            for idx, tv, iv in e.get("samples", []):
                if idx < n:
                    check(t[idx] == tv and i[idx] == iv, f"spikes/{pop}[{idx}] == ({tv}, {iv}) (h5py)")
            if n > 0 and e.get("first") is not None:
                check(t[0] == e["first"][0] and i[0] == e["first"][1], f"spikes/{pop}: first spike (h5py)")
            if not interrupted and n > 0 and e.get("last") is not None:
                check(t[-1] == e["last"][0] and i[-1] == e["last"][1], f"spikes/{pop}: last spike (h5py)")
            if n > 1:
                check(bool(np.all(np.diff(t) >= 0)), f"spikes/{pop}: timestamps in time order")
    if libsonata is None:
        fail("libsonata not importable")
        return
    r = libsonata.SpikeReader(path)
    check(set(r.get_population_names()) == set(sec["populations"]), "spikes: libsonata population names")
    for pop, e in sec["populations"].items():
        if lengths[pop][0] != lengths[pop][1]:
            note(f"spikes/{pop}: timestamps/node_ids lengths {lengths[pop]} differ (interrupted run): "
                 "libsonata refuses such a population, skipped")
            continue
        p = r[pop]
        check(p.time_units == "ms", f"spikes/{pop}: libsonata time_units == ms")
        if hasattr(p, "get_dict"):
            d = p.get_dict()
            node_ids, times = np.asarray(d["node_ids"]), np.asarray(d["timestamps"])
        else:
            sp = p.get()
            node_ids = np.array([s[0] for s in sp], dtype=np.uint64)
            times = np.array([s[1] for s in sp])
        n = len(times)
        if interrupted:
            check(n <= e["count"], f"spikes/{pop}: libsonata prefix {n} <= {e['count']}")
        else:
            check(n == e["count"], f"spikes/{pop}: libsonata count {n} == {e['count']}")
        if n > 0 and e.get("first") is not None:
            check(times[0] == e["first"][0] and node_ids[0] == e["first"][1], f"spikes/{pop}: first spike (libsonata)")
        if not interrupted and n > 0 and e.get("last") is not None:
            check(times[-1] == e["last"][0] and node_ids[-1] == e["last"][1], f"spikes/{pop}: last spike (libsonata)")
        for idx, tv, iv in e.get("samples", []):
            if idx < n:
                check(times[idx] == tv and node_ids[idx] == iv, f"spikes/{pop}[{idx}] (libsonata)")


# ------------------------------------------------------------------------------------- state
def check_state(run_dir, exp):
    sec = exp["state"]
    path = os.path.join(run_dir, sec["file"])
    interrupted = exp.get("interrupted", False)
    converted = {}
    with h5py.File(path, "r") as f:
        check_root(f, sec["file"], exp, sec)
        for e in sec["reports"]:
            key = f"{e['population']}/{e['variable']}"
            g = f["report"][e["population"]][e["variable"]]
            m = g["mapping"]
            nodes = m["node_ids"][:]
            n = len(e["node_ids"])
            check(nodes.tolist() == e["node_ids"], f"report {key}: mapping/node_ids")
            check(m["index_pointers"][:].tolist() == list(range(n + 1)), f"report {key}: index_pointers")
            check(m["element_ids"].shape == (n,), f"report {key}: element_ids shape")
            check(text(m["time"].attrs["units"]) == "ms", f"report {key}: time units == ms")
            time = m["time"][:]
            if "data" in g:
                d = g["data"]
                converted[key] = True
                check(d.dtype == np.float32 and d.ndim == 2 and d.shape[1] == n,
                      f"report {key}: data is f32 (frames, {n}), found {d.dtype} {d.shape}")
                check(text(d.attrs["units"]) == e["units"], f"report {key}: data units == {e['units']}")
                frames = d.shape[0]
                values = d[:]
                if not interrupted:
                    check(time.tolist() == e["time"], f"report {key}: time == {e['time']} (found {time.tolist()})")
            else:
                converted[key] = False
                check(interrupted or e.get("layout") == "flat",
                      f"report {key}: has data_flat only (allowed for interrupted runs or \"layout\": \"flat\")")
                d = g["data_flat"]
                check(text(d.attrs["units"]) == e["units"], f"report {key}: data_flat units == {e['units']}")
                frames = d.shape[0] // n
                values = d[: frames * n].reshape(frames, n)
            if interrupted:
                check(frames <= e["n_frames"], f"report {key}: {frames} frames <= {e['n_frames']} accepted")
            else:
                check(frames == e["n_frames"], f"report {key}: {frames} frames == {e['n_frames']}")
            for k, j, v in e["samples"]:
                if k < frames:
                    check(f32eq(values[k, j], v), f"report {key}[{k},{j}] == {v} (h5py)")
    if libsonata is None:
        fail("libsonata not importable")
        return
    r = libsonata.ElementReportReader(path)
    for e in sec["reports"]:
        key = f"{e['population']}/{e['variable']}"
        if not converted[key]:
            note(f"report {key}: not converted to 2-D data (interrupted run or too large), libsonata skipped")
            continue
        p = r[key]
        check(list(p.times) == [float(x) for x in e["time"]] or interrupted,
              f"report {key}: libsonata times == {e['time']} (found {list(p.times)})")
        check(p.time_units == "ms" and p.data_units == e["units"], f"report {key}: libsonata units")
        frame = p.get()
        data = np.asarray(frame.data)
        ids = [int(x[0]) if np.ndim(x) else int(x) for x in frame.ids]
        check(sorted(ids) == sorted(e["node_ids"]), f"report {key}: libsonata node ids")
        check(data.shape[0] == e["n_frames"] or interrupted,
              f"report {key}: libsonata {data.shape[0]} frames == {e['n_frames']}")
        times = np.asarray(frame.times)
        check(len(times) == data.shape[0] and (len(times) == 0 or abs(times[0] - e["time"][0]) < 1e-9),
              f"report {key}: libsonata frame times start at {e['time'][0]}")
        col = {nid: c for c, nid in enumerate(ids)}
        for k, j, v in e["samples"]:
            if k < data.shape[0]:
                c = col[e["node_ids"][j]]
                check(f32eq(data[k, c], v), f"report {key}[{k}, node {e['node_ids'][j]}] == {v} (libsonata)")


# ----------------------------------------------------------------------------------- weights
def check_weights(run_dir, exp):
    sec = exp["weights"]
    path = os.path.join(run_dir, sec["file"])
    interrupted = exp.get("interrupted", False)
    with h5py.File(path, "r") as f:
        check_root(f, sec["file"], exp, sec)
        for e in sec["projections"]:
            name = e["name"]
            g = f["edges"][name]
            ne = e["n_edges"]
            s, t = g["source_node_id"], g["target_node_id"]
            check(text(s.attrs["node_population"]) == e["source_population"], f"edges/{name}: source node_population")
            check(text(t.attrs["node_population"]) == e["target_population"], f"edges/{name}: target node_population")
            for ds in ("source_node_id", "target_node_id", "edge_type_id", "edge_group_id", "edge_group_index",
                       "0/syn_weight", "0/delay"):
                check(g[ds].shape == (ne,), f"edges/{name}/{ds}: {g[ds].shape} == ({ne},)")
            check(g["edge_group_index"][:].tolist() == list(range(ne)), f"edges/{name}: edge_group_index == 0..n")
            w, d = g["0/syn_weight"], g["0/delay"]
            check(text(w.attrs["units"]) == e.get("weight_units", text(w.attrs["units"])), f"edges/{name}: weight units")
            check(text(d.attrs["units"]) == "ms", f"edges/{name}: delay units == ms")
            for idx, sv, tv, wv, dv in e["samples"]:
                check(s[idx] == sv and t[idx] == tv and f32eq(w[idx], wv) and d[idx] == dv,
                      f"edges/{name}[{idx}] == ({sv}, {tv}, {wv}, {dv}) (h5py)")
            if "snapshots" in e:
                sn = g["snapshots"]
                times, ws = sn["times"], sn["weights"]
                check(int(ws.attrs["n_edges"]) == ne, f"edges/{name}/snapshots: n_edges == {ne}")
                check(text(times.attrs["units"]) == "ms", f"edges/{name}/snapshots: times units == ms")
                k = min(times.shape[0], ws.shape[0] // ne if ne else times.shape[0])
                if interrupted:
                    check(k <= e["snapshots"]["count"], f"edges/{name}: {k} snapshots <= {e['snapshots']['count']}")
                    check(times.shape[0] <= ws.shape[0] // max(ne, 1) or ne == 0,
                          f"edges/{name}: snapshot times never ahead of weights")
                else:
                    check(times.shape[0] == e["snapshots"]["count"] and ws.shape[0] == e["snapshots"]["count"] * ne,
                          f"edges/{name}: {times.shape[0]} snapshots == {e['snapshots']['count']}")
                for kk, idx, tv, wv in e["snapshots"]["samples"]:
                    if kk < k:
                        check(times[kk] == tv and f32eq(ws[kk * ne + idx], wv),
                              f"edges/{name}/snapshots[{kk}][{idx}] == ({tv}, {wv}) (h5py)")
    if libsonata is None:
        fail("libsonata not importable")
        return
    st = libsonata.EdgeStorage(path)
    check(set(st.population_names) == {e["name"] for e in sec["projections"]}, "edges: libsonata population names")
    for e in sec["projections"]:
        name = e["name"]
        p = st.open_population(name)
        check(p.size == e["n_edges"], f"edges/{name}: libsonata size {p.size} == {e['n_edges']}")
        check(p.source == e["source_population"] and p.target == e["target_population"],
              f"edges/{name}: libsonata source/target populations")
        check({"syn_weight", "delay"} <= set(p.attribute_names), f"edges/{name}: libsonata attributes {sorted(p.attribute_names)}")
        for idx, sv, tv, wv, dv in e["samples"]:
            sel = libsonata.Selection([idx])
            src = p.source_nodes(sel)
            tgt = p.target_nodes(sel)
            wv_ = p.get_attribute("syn_weight", sel)
            dv_ = p.get_attribute("delay", sel)
            check(int(src[0]) == sv and int(tgt[0]) == tv and f32eq(wv_[0], wv) and float(dv_[0]) == dv,
                  f"edges/{name}[{idx}] == ({sv}, {tv}, {wv}, {dv}) (libsonata)")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    run_dir, exp_path = sys.argv[1], sys.argv[2]
    with open(exp_path) as fh:
        exp = json.load(fh)
    for section, fn in (("spikes", check_spikes), ("state", check_state), ("weights", check_weights)):
        if section in exp:
            try:
                fn(run_dir, exp)
            except Exception as err:  # any crash of a reader is a failure to report
                fail(f"{section}: {type(err).__name__}: {err}")
    print(f"\n{len(FAILURES)} failure(s), {len(NOTES)} note(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
