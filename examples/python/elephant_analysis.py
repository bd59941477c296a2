#!/usr/bin/env python3
"""Spike-train statistics of a hebb run with Neo and Elephant.

Requirements (tested with Python 3.11; see requirements.txt beside this file):

    pip install h5py==3.16.0 numpy==2.4.6 scipy==1.17.1 quantities==0.16.4 neo==0.14.6 elephant==1.2.1

Usage:

    python elephant_analysis.py RUN_DIR [--max-neurons 4000] [--cc-neurons 200] [--bin-ms 5] [--seed 0]

For each population of RUN_DIR/spikes.h5 this builds one `neo.SpikeTrain` per recorded neuron
(t_start = 0, t_stop = the root attribute `reached_duration_ms`; for a killed run, which has
none, the last spike time), then prints:

* mean firing rate: `elephant.statistics.mean_firing_rate` per neuron, averaged over the
  neurons (silent ones count as 0 Hz), next to hebb's own value from run.json;
* ISI CV: `elephant.statistics.cv(elephant.statistics.isi(train), ddof=1)` per neuron with at
  least 3 spikes, averaged (ddof=1, the sample standard deviation, is hebb's definition, so the
  two columns agree when every neuron is used);
* pairwise correlation: `elephant.spike_train_correlation.correlation_coefficient` of the
  binned trains (`elephant.conversion.BinnedSpikeTrain`, --bin-ms) of a random subsample of
  --cc-neurons neurons that fired at least twice; mean and standard deviation of the
  off-diagonal coefficients.

Populations larger than --max-neurons are subsampled (at random, --seed) for rates and CVs;
the table says how many neurons were used. Uses load_info/load_spikes from read_run.py.
"""
import argparse
import os
import sys
import warnings

import numpy as np
import quantities as pq
import neo
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient
from elephant.statistics import cv, isi, mean_firing_rate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_run import load_info, load_spikes, recorded_neurons  # noqa: E402


def spike_trains(times_ms, node_ids, neurons, t_stop_ms):
    """One neo.SpikeTrain per neuron in `neurons` (times in ms), in that order."""
    order = np.argsort(node_ids, kind="stable")  # spikes of each neuron stay in time order
    ids = node_ids[order]
    ts = times_ms[order]
    starts = np.searchsorted(ids, neurons, side="left")
    stops = np.searchsorted(ids, neurons, side="right")
    return [
        neo.SpikeTrain(
            ts[a:b],
            units=pq.ms,
            t_start=0.0 * pq.ms,
            t_stop=t_stop_ms * pq.ms,
            name=f"neuron {n}",
        )
        for n, a, b in zip(neurons, starts, stops)
    ]


def analyse(run_dir, max_neurons=4000, cc_neurons=200, bin_ms=5.0, seed=0):
    info = load_info(run_dir)
    spikes = load_spikes(run_dir)
    rng = np.random.default_rng(seed)
    t_stop = info.get("reached_duration_ms")
    # hebb's own statistics (run.json) are stale after a kill (written at the start).
    hebb = {p["name"]: p for p in info.get("populations", [])} if t_stop else {}
    if not t_stop:
        last = max((s["times_ms"][-1] for s in spikes.values() if len(s["times_ms"])), default=0.0)
        t_stop = float(last) + info.get("dt_ms", 0.1)
        print(f"note: the run was killed (no reached_duration_ms); t_stop = last spike = {t_stop:g} ms")
    print(f"run {run_dir}: model {info.get('model', '?')}, seed {info.get('seed')}, "
          f"t_stop {t_stop:g} ms, completed {'yes' if info.get('completed') else 'NO'}")
    print(f"correlations: bins of {bin_ms:g} ms, up to {cc_neurons} neurons per population\n")
    header = (f"{'population':<11} {'neurons':>13} {'spikes':>9} {'rate (Hz)':>10} {'hebb':>7} "
              f"{'ISI CV':>7} {'hebb':>6} {'(n)':>6} {'CC mean':>9} {'CC sd':>7} {'pairs':>7}")
    print(header)
    print("-" * len(header))
    rows = {}
    marked = False
    for pop, s in spikes.items():
        n_rec = recorded_neurons(info, s["n_nodes"])
        neurons = np.arange(n_rec)
        if max_neurons and n_rec > max_neurons:
            neurons = np.sort(rng.choice(n_rec, size=max_neurons, replace=False))
        trains = spike_trains(s["times_ms"], s["node_ids"], neurons, t_stop)
        rates = np.array([mean_firing_rate(st).rescale(pq.Hz).magnitude for st in trains], dtype=float)
        cvs = np.array([cv(isi(st), ddof=1) for st in trains if len(st) >= 3], dtype=float)
        # Pairwise correlations of a subsample of neurons that fired at least twice.
        active = [st for st in trains if len(st) >= 2]
        if len(active) > cc_neurons:
            pick = rng.choice(len(active), size=cc_neurons, replace=False)
            active = [active[i] for i in sorted(pick)]
        cc_mean = cc_sd = float("nan")
        pairs = 0
        if len(active) >= 2:
            with warnings.catch_warnings():
                # A spike at exactly t_stop (hebb's last step) falls outside the last bin and
                # Elephant warns that it drops it; trains empty after binning give NaN rows,
                # left out below.
                warnings.simplefilter("ignore")
                binned = BinnedSpikeTrain(active, bin_size=bin_ms * pq.ms, t_start=0.0 * pq.ms, t_stop=t_stop * pq.ms)
                cc = correlation_coefficient(binned)
            off = cc[np.triu_indices(len(active), k=1)]
            off = off[np.isfinite(off)]
            pairs = len(off)
            if pairs:
                cc_mean, cc_sd = float(off.mean()), float(off.std())
        h = hebb.get(pop, {})
        # hebb's statistics cover the whole population; mark them when fewer were recorded.
        mark = "*" if n_rec < s["n_nodes"] and h else ""
        marked |= bool(mark)
        h_rate = "-" if h.get("mean_rate_hz") is None else f"{h['mean_rate_hz']:.3f}{mark}"
        h_cv = "-" if h.get("mean_isi_cv") is None else f"{h['mean_isi_cv']:.3f}{mark}"
        used = f"{len(neurons)}/{n_rec}" if len(neurons) < n_rec else f"{n_rec}"
        print(f"{pop:<11} {used:>13} {len(s['times_ms']):>9} {rates.mean():>10.3f} {h_rate:>7} "
              f"{cvs.mean() if len(cvs) else float('nan'):>7.3f} {h_cv:>6} {len(cvs):>6} "
              f"{cc_mean:>9.4f} {cc_sd:>7.4f} {pairs:>7}")
        rows[pop] = {
            "neurons": len(neurons),
            "rate_hz": float(rates.mean()),
            "isi_cv": float(cvs.mean()) if len(cvs) else float("nan"),
            "cc_mean": cc_mean,
            "cc_sd": cc_sd,
            "pairs": pairs,
        }
    print("\nrate: elephant mean_firing_rate averaged over neurons; hebb: run.json mean_rate_hz.")
    print("ISI CV: elephant cv(isi, ddof=1) averaged over neurons with >= 3 spikes (n); hebb: run.json mean_isi_cv.")
    if marked:
        print("* hebb's value is over the whole population; spikes were recorded for the first neurons only.")
    if not hebb:
        print("hebb's own statistics are not shown: run.json of a killed run is the one written at its start.")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", help="directory written by `hebb run MODEL --out RUN_DIR`")
    ap.add_argument("--max-neurons", type=int, default=4000, help="neurons per population for rates and CVs (0: all)")
    ap.add_argument("--cc-neurons", type=int, default=200, help="neurons per population for the correlation matrix")
    ap.add_argument("--bin-ms", type=float, default=5.0, help="bin width for the correlation coefficients, ms")
    ap.add_argument("--seed", type=int, default=0, help="seed of the subsampling")
    a = ap.parse_args()
    try:
        analyse(a.run_dir, a.max_neurons, a.cc_neurons, a.bin_ms, a.seed)
    except (OSError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
