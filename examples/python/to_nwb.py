#!/usr/bin/env python3
"""Convert a hebb run to Neurodata Without Borders (NWB 2) with pynwb, then read it back.

Requirements (tested with Python 3.11; see requirements.txt beside this file):

    pip install h5py==3.16.0 numpy==2.4.6 pynwb==4.2.0 hdmf==6.2.0

Usage:

    python to_nwb.py RUN_DIR [OUT.nwb] [--no-state]

OUT.nwb defaults to RUN_DIR/run.nwb. The file holds

* a Units table with one unit per recorded neuron of every population (silent neurons
  included), spike times in SECONDS (hebb writes ms), columns `population` (name) and `node_id`
  (0-based index in the population), and `obs_intervals` = [0, t_stop];
* every recorded state variable of state.h5 as a TimeSeries in /acquisition, named
  `<population>_<variable>`, data (frames x neurons) in hebb's units with the NWB `conversion`
  factor to SI (mV -> volts 1e-3, nS -> siemens 1e-9, pA -> amperes 1e-12), starting_time and
  rate in seconds/Hz, the recorded node ids in the description (skip with --no-state);
* the run metadata: session_description (model, seed, dt, duration), experiment_description
  (everything else: hebb version, seed, dt, durations, completed, command line), notes (the
  resolved model TOML), and session_start_time = modification time of spikes.h5.

After writing, the script opens the file again with NWBHDF5IO and checks the unit count, every
spike time (vectorised against the source), the metadata and the traces; it exits 1 on any
mismatch. NWB has no standard place for synaptic weights: they are not converted. Uses the
loaders of read_run.py.
"""
import argparse
import datetime
import hashlib
import os
import sys
import uuid

import numpy as np
from pynwb import NWBHDF5IO, NWBFile, TimeSeries

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_run import load_info, load_spikes, load_state, recorded_neurons  # noqa: E402

# hebb unit -> (NWB unit, conversion to it)
SI = {
    "mV": ("volts", 1e-3),
    "V": ("volts", 1.0),
    "nS": ("siemens", 1e-9),
    "uS": ("siemens", 1e-6),
    "pA": ("amperes", 1e-12),
    "nA": ("amperes", 1e-9),
}


def unit_table(run_dir, info):
    """(populations, node ids, spike-time lists in s, t_stop in s) of every recorded neuron."""
    spikes = load_spikes(run_dir)
    t_stop_ms = info.get("reached_duration_ms")
    if not t_stop_ms:  # killed run: up to the last spike
        last = max((s["times_ms"][-1] for s in spikes.values() if len(s["times_ms"])), default=0.0)
        t_stop_ms = float(last) + info.get("dt_ms", 0.1)
    pops, ids, trains = [], [], []
    for pop, s in spikes.items():
        n = recorded_neurons(info, s["n_nodes"])
        order = np.argsort(s["node_ids"], kind="stable")  # time order kept within a neuron
        sorted_ids = s["node_ids"][order]
        times_s = s["times_ms"][order] / 1000.0
        bounds = np.searchsorted(sorted_ids, np.arange(n + 1))
        for i in range(n):
            pops.append(pop)
            ids.append(i)
            trains.append(times_s[bounds[i]:bounds[i + 1]])
    return pops, ids, trains, t_stop_ms / 1000.0


def build(run_dir, with_state=True):
    info = load_info(run_dir)
    name = os.path.basename(os.path.abspath(run_dir))
    spikes_path = os.path.join(run_dir, "spikes.h5")
    start = datetime.datetime.fromtimestamp(os.path.getmtime(spikes_path), tz=datetime.timezone.utc)
    model_text = info.get("model_text", "")
    key = f"{model_text}\n{info.get('seed')}\n{info.get('command_line')}\n{start.isoformat()}"
    pops, ids, trains, t_stop_s = unit_table(run_dir, info)
    reached = info.get("reached_duration_ms")
    meta = {
        "hebb_version": info.get("hebb_version"),
        "model": info.get("model"),
        "seed": info.get("seed"),
        "dt_ms": info.get("dt_ms"),
        "requested_duration_ms": info.get("requested_duration_ms"),
        "reached_duration_ms": reached,
        "completed": info.get("completed"),
        "command_line": info.get("command_line"),
        "model_sha1": hashlib.sha1(model_text.encode()).hexdigest(),
    }
    nwb = NWBFile(
        session_description=(
            f"hebb simulation '{name}': model {info.get('model', '?')}, seed {info.get('seed')}, "
            f"dt {info.get('dt_ms')} ms, {reached if reached else 'unknown (killed run)'} ms simulated"
        ),
        identifier=str(uuid.uuid5(uuid.NAMESPACE_URL, "hebb:" + key)),
        session_start_time=start,
        experiment_description="; ".join(f"{k}={v}" for k, v in meta.items()),
        notes=model_text,
        source_script="hebb " + (info.get("command_line") or ""),
        source_script_file_name="hebb",
        session_id=name,
    )
    nwb.add_unit_column(name="population", description="hebb population of the neuron")
    nwb.add_unit_column(name="node_id", description="0-based index of the neuron within its population")
    for pop, i, st in zip(pops, ids, trains):
        nwb.add_unit(spike_times=st, obs_intervals=[[0.0, t_stop_s]], population=pop, node_id=i)
    reports = {}
    if with_state and os.path.isfile(os.path.join(run_dir, "state.h5")):
        reports = load_state(run_dir)
        for (pop, var), r in reports.items():
            unit, conversion = SI.get(r["units"], (r["units"] or "unknown", 1.0))
            t = r["times_ms"]
            dt_ms = float(t[1] - t[0]) if len(t) > 1 else float(info.get("dt_ms", 0.1))
            nwb.add_acquisition(
                TimeSeries(
                    name=f"{pop}_{var}",
                    data=r["values"],
                    unit=unit,
                    conversion=conversion,
                    starting_time=float(t[0]) / 1000.0 if len(t) else 0.0,
                    rate=1000.0 / dt_ms,
                    description=(
                        f"hebb state variable '{var}' of population '{pop}' in {r['units']} "
                        f"(columns: node ids {r['node_ids'].tolist()})"
                    ),
                )
            )
    return nwb, (pops, ids, trains, t_stop_s), reports, model_text


def verify(path, expected, reports, model_text):
    """Read the file back with NWBHDF5IO and compare with the source."""
    pops, ids, trains, t_stop_s = expected
    problems = []
    with NWBHDF5IO(path, "r") as io:
        nwb = io.read()
        units = nwb.units
        if len(units) != len(trains):
            problems.append(f"{len(units)} units in the file, {len(trains)} expected")
        else:
            # The ragged column: a VectorIndex (end offsets) over the flat VectorData (seconds).
            index = units["spike_times"].data[:]
            flat = units["spike_times"].target.data[:]
            want = np.concatenate(trains) if trains else np.zeros(0)
            want_index = np.cumsum([len(t) for t in trains])
            if not np.array_equal(flat, want):
                problems.append("spike times differ")
            if not np.array_equal(index, want_index):
                problems.append("spike counts per unit differ")
            if list(units["population"].data[:]) != pops or list(units["node_id"].data[:]) != ids:
                problems.append("population / node_id columns differ")
            # Spot check through the high-level API: the busiest unit.
            if trains:
                k = int(np.argmax([len(t) for t in trains]))
                if not np.array_equal(units.get_unit_spike_times(k), trains[k]):
                    problems.append(f"unit {k}: spike times differ")
        if nwb.notes != model_text:
            problems.append("notes do not hold the model text")
        for (pop, var), r in reports.items():
            ts = nwb.acquisition.get(f"{pop}_{var}")
            if ts is None or not np.array_equal(ts.data[:], r["values"]):
                problems.append(f"trace {pop}_{var} differs")
        n_spikes = sum(len(t) for t in trains)
        print(f"read back {path} with NWBHDF5IO: {len(units)} units, {n_spikes} spikes "
              f"({units['spike_times'].target.data.dtype}, s), {len(nwb.acquisition)} traces, "
              f"t_stop {t_stop_s:g} s, identifier {nwb.identifier}")
        print(f"  session_description: {nwb.session_description}")
        print(f"  experiment_description: {nwb.experiment_description[:160]}...")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", help="directory written by `hebb run MODEL --out RUN_DIR`")
    ap.add_argument("out", nargs="?", help="NWB file to write (default RUN_DIR/run.nwb)")
    ap.add_argument("--no-state", action="store_true", help="leave out the state traces")
    a = ap.parse_args()
    out = a.out or os.path.join(a.run_dir, "run.nwb")
    try:
        nwb, expected, reports, model_text = build(a.run_dir, not a.no_state)
        with NWBHDF5IO(out, "w") as io:
            io.write(nwb)
        print(f"wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB)")
        problems = verify(out, expected, reports, model_text)
    except (OSError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for p in problems:
        print(f"MISMATCH: {p}", file=sys.stderr)
    if problems:
        return 1
    print("verified: units, spike times (s), metadata and traces match the run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
