#!/usr/bin/env python3
"""Side-by-side benchmark of hebb, NEST 3.10 and Brian2 2.9 (C++ standalone) on the same model
files (issue 8). For every network and thread count it runs the simulators in turn, alternating
(the order rotates every repeat), each run a fresh process, so that all see the same machine load;
it prints one markdown table of medians and writes every run to a JSON file.

Measured per run: construction time (build_s), simulation time (sim_s; Brian2's code generation
and compilation are reported apart, once per network), CPU time of the simulation (sim_cpu_s:
hebb bench's simulation_cpu_s_all, NEST's process_time around Run, Brian2's serial std::clock
timer; the 1-thread ratios use it, as other jobs' time on a shared host inflates wall times
unequally), simulated-to-wall ratio (biological time / sim_s), synaptic events per second (spikes x out-degree / sim_s), peak memory (ru_maxrss of the
child process from wait4: hebb's process, Brian2's compiled binary, NEST's whole Python process up
to the end of the run, which includes ~85 MB of Python + NEST before any network exists), firing
rate of every population, and the machine's 1-min load average.

Validity: the same network must give the same rates within statistical error. hebb runs the
network with several seeds (the timed repeats use seeds seed, seed+1, ...; untimed hebb runs are
added up to --rate-seeds realisations); the spread of its population rates over seeds, sigma (at
least the Poisson floor sqrt(rate / (neurons x duration))), is the error of one realisation. A peer
run with n_p realisations (NEST: one per repeat, different seeds; Brian2: one, the compiled binary
has its seed built in) is compared by its mean: |r_peer - r_hebb| <= 4 sigma sqrt(1/n_h + 1/n_p).
sigma is estimated from n_h >= 8 runs, so the ratio follows a Student t with n_h - 1 >= 7 degrees of
freedom: a correct peer fails one population with probability ~0.5%. Any population outside marks
the row INVALID (the timing of an INVALID row compares different dynamics).

Usage (repository root, after `cargo build --release` and installing
benches/peers/requirements.txt into target/peers-venv, see README "Benchmarks"):
    target/peers-venv/bin/python benches/peers/compare.py [--networks cuba,coba,...]
        [--peers nest,brian2] [--repeat 5] [--threads 1,2] [--duration MS] [--rate-seeds 8]
        [--json target/peers/compare.json] [--model NETWORK=PATH] [--prepare-only]
Networks: cuba, cuba_stdp, coba, brunel_c, vogels (models/vogels2011_network.toml, skipped with a
note when absent), size4k, size10k, size40k, size100k (models/cuba_k80.toml scaled at a fixed
in-degree of 80; 1 and 2 threads by default, the others 1 thread).
"""
import argparse, datetime, json, math, os, platform, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import model as hm  # noqa: E402


def size_sets(n):
    return [f"population.exc.size={n * 4 // 5}", f"population.inh.size={n // 5}"]


# label, model file, --set overrides, default duration (ms; None = the model's), default threads
NETWORKS = {
    "cuba": ("CUBA 4k", "models/cuba.toml", [], None, [1]),
    "cuba_stdp": ("CUBA 4k + E->E STDP", "models/cuba_stdp.toml", [], None, [1]),
    "coba": ("COBA 4k", "models/coba.toml", [], None, [1]),
    "brunel_c": ("Brunel 2000 C (12.5k)", "models/brunel2000_c.toml", [], None, [1]),
    "vogels": ("Vogels 2011 + iSTDP (10k)", "models/vogels2011_network.toml", [], 1000.0, [1]),
    "size4k": ("CUBA K=80, 4k", "models/cuba_k80.toml", size_sets(4000), 1000.0, [1, 2]),
    "size10k": ("CUBA K=80, 10k", "models/cuba_k80.toml", size_sets(10000), 1000.0, [1, 2]),
    "size40k": ("CUBA K=80, 40k", "models/cuba_k80.toml", size_sets(40000), 200.0, [1, 2]),
    "size100k": ("CUBA K=80, 100k", "models/cuba_k80.toml", size_sets(100000), 100.0, [1, 2]),
}


def run_child(cmd, cwd=None, timeout=None):
    """Run a command; return (stdout, wall seconds, peak RSS in MB of that child, exit code); the
    child's CPU time (user + system, whole process) is left in run_child.cpu_s."""
    with tempfile.TemporaryFile(mode="w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True)
        out = p.stdout.read()
        # wait4 gives the rusage of this child alone (RUSAGE_CHILDREN would be the maximum over
        # all children so far).
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        e = err.read()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {p.returncode}:\n{e[-2000:]}")
    run_child.cpu_s = ru.ru_utime + ru.ru_stime
    return out, wall, ru.ru_maxrss / 1024.0, p.returncode


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in output:\n{text[-2000:]}")


def run_hebb(a, model, sets, dur, seed, threads):
    cmd = [a.hebb, "bench", model, "--repeat", "1", "-j", str(threads), "--json", "--seed", str(seed)]
    cmd += ["--bind-threads"] if a.hebb_bind_threads else []
    cmd += ["--duration", str(dur)] if dur else []
    for s in sets:
        cmd += ["--set", s]
    out, wall, rss, _ = run_child(cmd, cwd=ROOT)
    j = json.loads(out)
    s = j["summary"]
    cpu = j.get("simulation_cpu_s_all") or [None]
    return {"build_s": s["construction_s"], "sim_s": s["simulation_s"], "sim_cpu_s": cpu[0], "syn_events": s["synaptic_events"],
            "synapses": s["synapses"], "peak_rss_mb": rss, "wall_s": wall, "seed": seed,
            "proc_cpu_s": run_child.cpu_s, "bytes_per_synapse": s.get("bytes_per_synapse"), "duration_ms": s["requested_duration_ms"],
            "sizes": {p["name"]: p["neurons"] for p in s["populations"]},
            "rates": {p["name"]: p["mean_rate_hz"] for p in s["populations"]}}


def peer_args(model, sets, dur, seed, threads):
    cmd = [model, "--threads", str(threads), "--seed", str(seed)]
    cmd += ["--duration", str(dur)] if dur else []
    for s in sets:
        cmd += ["--set", s]
    return cmd


def run_nest(a, model, sets, dur, seed, threads):
    out, wall, rss, _ = run_child([sys.executable, os.path.join(HERE, "nest_run.py")] + peer_args(model, sets, dur, seed, threads), cwd=ROOT)
    j = last_json(out)
    return {"build_s": j["build_s"], "sim_s": j["sim_s"], "sim_cpu_s": j["sim_cpu_s"], "syn_events": j["syn_events"],
            "synapses": j["synapses"], "peak_rss_mb": j["peak_rss_run_mb"], "peak_rss_process_mb": rss,
            "proc_cpu_s": run_child.cpu_s,
            "wall_s": wall, "seed": seed, "rates": {p["name"]: p["rate_hz"] for p in j["populations"]}}


def prepare_brian2(a, net, model, sets, dur, seed, threads):
    d = os.path.join(ROOT, "target", "peers", f"brian2-{net}-t{threads}")
    out, wall, rss, _ = run_child([sys.executable, os.path.join(HERE, "brian2_run.py")] + peer_args(model, sets, dur, seed, threads) + ["--dir", d], cwd=ROOT)
    return d, last_json(out)


def run_brian2(a, d, prep):
    # The compiled binary alone: start-up, synapse creation, initialisation, the run loop (its own
    # timer in results/last_run_info.txt) and writing results. Same seed, same spikes as `prep`.
    out, wall, rss, _ = run_child(["./main"], cwd=d)
    with open(os.path.join(d, "results", "last_run_info.txt")) as f:
        sim_s = float(f.read().split()[0])
    # Serial standalone code times its loop with std::clock() (CPU time); with OpenMP, wall time.
    return {"build_s": wall - sim_s, "sim_s": sim_s, "sim_cpu_s": sim_s if prep["threads"] == 1 else None,
            "syn_events": prep["syn_events"], "synapses": prep["synapses"],
            "peak_rss_mb": rss, "wall_s": wall, "seed": prep["seed"], "proc_cpu_s": run_child.cpu_s,
            "rates": {p["name"]: p["rate_hz"] for p in prep["populations"]}}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(runs, dur_ms):
    sim = med([r["sim_s"] for r in runs])
    return {"n": len(runs), "build_s": med([r["build_s"] for r in runs]), "sim_s": sim,
            "sim_over_wall": dur_ms / 1000.0 / sim if sim else None,
            "events_per_s": med([r["syn_events"] / r["sim_s"] for r in runs if r["sim_s"] > 0]),
            "peak_rss_mb": med([r["peak_rss_mb"] for r in runs]), "synapses": med([r["synapses"] for r in runs]),
            "proc_cpu_s": med([r.get("proc_cpu_s") for r in runs]), "wall_s": med([r["wall_s"] for r in runs]),
            "sim_cpu_s": med([r.get("sim_cpu_s") for r in runs])}


def validity(ref_rates, peer_rates, sizes, dur_ms):
    """Per population: hebb mean and sigma over seeds, peer mean, tolerance; see the module doc."""
    out, ok = {}, True
    T = dur_ms / 1000.0
    n_p = len(peer_rates)
    for pop, n in sizes.items():
        h = [r[pop] for r in ref_rates]
        p = [r[pop] for r in peer_rates]
        mh, mp = statistics.mean(h), statistics.mean(p)
        sd = statistics.stdev(h) if len(h) > 1 else 0.0
        sigma = max(sd, math.sqrt(max(mh, 1e-9) / (n * T)))
        tol = 4.0 * sigma * math.sqrt(1.0 / len(h) + 1.0 / n_p)
        good = abs(mp - mh) <= tol
        ok &= good
        out[pop] = {"hebb_mean": mh, "hebb_sd": sd, "sigma": sigma, "n_hebb": len(h), "peer_mean": mp, "n_peer": n_p,
                    "tolerance": tol, "ok": good}
    return ok, out


def loadavg():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated, from: " + ", ".join(NETWORKS))
    ap.add_argument("--peers", default="nest,brian2", help="comma-separated: nest, brian2 (hebb always runs)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per simulator (medians reported)")
    ap.add_argument("--threads", default=None, help="comma-separated thread counts (default: per network)")
    ap.add_argument("--duration", type=float, default=None, help="biological time, ms (default: per network)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate-seeds", type=int, default=8, help="hebb realisations for the rate check (>= 2)")
    ap.add_argument("--model", action="append", default=[], metavar="NETWORK=PATH",
                    help="use another model file for a network (e.g. vogels=path/to/vogels2011_network.toml)")
    ap.add_argument("--prepare-only", action="store_true",
                    help="only generate and compile the Brian2 projects (their compile time is kept and reported later)")
    ap.add_argument("--json", default=os.path.join(ROOT, "target", "peers", "compare.json"))
    ap.add_argument("--hebb", default=os.path.join(ROOT, "target", "release", "hebb"))
    ap.add_argument("--hebb-bind-threads", action="store_true",
                    help="run hebb with --bind-threads (each thread pinned to its own CPU; the peers are not pinned)")
    a = ap.parse_args()
    peers = [p for p in a.peers.split(",") if p]
    for p in peers:
        if p not in ("nest", "brian2"):
            ap.error(f"--peers: unknown peer {p!r} (nest, brian2)")
    nets = [n for n in a.networks.split(",") if n]
    for n in nets:
        if n not in NETWORKS:
            ap.error(f"--networks: unknown network {n!r} ({', '.join(NETWORKS)})")
    for spec in a.model:
        net, _, path = spec.partition("=")
        if net not in NETWORKS or not path:
            ap.error(f"--model {spec!r}: expected NETWORK=PATH with NETWORK in {', '.join(NETWORKS)}")
        NETWORKS[net] = (NETWORKS[net][0], os.path.abspath(path)) + NETWORKS[net][2:]
    if not os.path.exists(a.hebb):
        sys.exit(f"compare.py: {a.hebb} not found: run `cargo build --release` first")
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)

    report = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform()},
              "args": vars(a), "results": [], "notes": []}
    rows = []

    def save():
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)

    for net in nets:
        label, model, sets, dur_default, thr_default = NETWORKS[net]
        if not os.path.exists(os.path.join(ROOT, model)):
            note = f"{net}: {model} not found, skipped (it is written on another branch)"
            print(note, file=sys.stderr)
            report["notes"].append(note)
            rows.append((label, "-", "all", None, None, "skipped: " + model + " not present", None))
            continue
        dur = a.duration if a.duration is not None else dur_default
        net_peers = list(peers)
        try:
            hm.load(os.path.join(ROOT, model), sets, dur)
        except (hm.ModelError, KeyError) as e:
            # A model the peer scripts cannot translate faithfully: hebb alone, and say why.
            note = f"{net}: peers skipped, the peer scripts cannot build {model}: {e}"
            print(note, file=sys.stderr)
            report["notes"].append(note)
            net_peers = []
        threads = [int(t) for t in a.threads.split(",")] if a.threads else thr_default
        for thr in threads:
            sims = ["hebb"] + net_peers
            runs = {s: [] for s in sims}
            extra = {}
            prep = None
            if "brian2" in sims:
                try:
                    d, prep = prepare_brian2(a, net, model, sets, dur, a.seed, thr)
                    extra["brian2"] = {"codegen_compile_s": prep["last_build_codegen_compile_s"], "codegen_this_run_s": prep["codegen_compile_s"]}
                except Exception as e:  # report and go on with the others
                    report["notes"].append(f"{net} t{thr} brian2: {e}")
                    print(f"{net} t{thr} brian2 failed: {e}", file=sys.stderr)
                    sims.remove("brian2")
            if a.prepare_only:
                continue
            for r in range(a.repeat):
                order = sims[r % len(sims):] + sims[:r % len(sims)]
                for s in order:
                    la = loadavg()
                    try:
                        if s == "hebb":
                            x = run_hebb(a, model, sets, dur, a.seed + r, thr)
                        elif s == "nest":
                            x = run_nest(a, model, sets, dur, a.seed + r, thr)
                        else:
                            x = run_brian2(a, d, prep)
                    except Exception as e:
                        report["notes"].append(f"{net} t{thr} {s} repeat {r}: {e}")
                        print(f"{net} t{thr} {s} failed: {e}", file=sys.stderr)
                        continue
                    x["loadavg_1min"] = la
                    runs[s].append(x)
                    print(f"  {net} t{thr} {s:6} r{r}: build {x['build_s']:.3f} s, sim {x['sim_s']:.3f} s, "
                          f"rates {', '.join(f'{k} {v:.2f}' for k, v in x['rates'].items())} Hz, load {la:.1f}", file=sys.stderr)
            # Untimed hebb runs with further seeds, for the rate check only.
            ref = [x["rates"] for x in runs["hebb"]]
            k = a.repeat
            while len(ref) < a.rate_seeds:
                ref.append(run_hebb(a, model, sets, dur, a.seed + k, thr)["rates"])
                k += 1
            if not runs["hebb"]:
                continue
            dur_ms, sizes = runs["hebb"][0]["duration_ms"], runs["hebb"][0]["sizes"]
            hs = summarise(runs["hebb"], dur_ms)
            for s in sims:
                if not runs[s]:
                    continue
                sm = summarise(runs[s], dur_ms)
                if s == "hebb":
                    ok, val = True, None
                else:
                    peer_rates = [x["rates"] for x in runs[s]]
                    if s == "brian2":
                        peer_rates = peer_rates[:1]  # one realisation, run repeatedly
                    ok, val = validity(ref, peer_rates, sizes, dur_ms)
                res = {"network": net, "label": label, "model": model, "sets": sets, "duration_ms": dur_ms, "threads": thr,
                       "simulator": s, "summary": sm, "valid": ok, "validity": val, "runs": runs[s], **extra.get(s, {})}
                res["rates_mean"] = {p: statistics.mean(x["rates"][p] for x in runs[s]) for p in sizes}
                if s == "hebb":
                    res["rate_reference"] = ref
                report["results"].append(res)
                # 1 thread: CPU time of the run loop (robust on a shared host: other jobs' time does
                # not count); more threads: wall time (what threads are for).
                if thr == 1 and sm["sim_cpu_s"] and hs["sim_cpu_s"]:
                    ratio = sm["sim_cpu_s"] / hs["sim_cpu_s"]
                else:
                    ratio = sm["sim_s"] / hs["sim_s"] if hs["sim_s"] else None
                rows.append((label, thr, s, sm, res["rates_mean"], ok, ratio, extra.get(s, {}).get("codegen_compile_s")))
            save()
    report["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    save()

    def f(x, fmt):
        return "-" if x is None else format(x, fmt)

    print(f"\n| network | thr | simulator | build s | sim s | sim CPU s | sim/wall | events/s | peak RSS MB | rates Hz | valid | time / hebb |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if len(row) == 7:
            print(f"| {row[0]} | - | - | - | - | - | - | - | - | - | {row[5]} | - |")
            continue
        label, thr, s, sm, rates, ok, ratio, comp = row
        name = {"hebb": "hebb", "nest": "NEST 3.10", "brian2": "Brian2 2.9"}[s]
        build = f(sm["build_s"], ".3f") + (f" (+{comp:.0f} compile)" if comp else "")
        print(f"| {label} | {thr} | {name} | {build} | {f(sm['sim_s'], '.3f')} | {f(sm['sim_cpu_s'], '.3f')} | {f(sm['sim_over_wall'], '.3g')} | "
              f"{f(sm['events_per_s'] / 1e6 if sm['events_per_s'] else None, '.1f')} M | {f(sm['peak_rss_mb'], '.0f')} | "
              f"{' / '.join(f'{v:.2f}' for v in rates.values())} | {'yes' if ok else 'INVALID'} | {f(ratio, '.1f')} |")
    print(f"\n(medians of {a.repeat} alternating runs per simulator, each a fresh process; Brian2's code generation and "
          f"compilation in parentheses, once; sim s: wall time, except Brian2 serial (its own std::clock timer, CPU time); "
          f"sim CPU s: CPU time of the run loop (hebb: all threads, from schedstat; NEST: process_time; Brian2 serial: std::clock); "
          f"time / hebb: sim CPU time ratio at 1 thread, sim wall time ratio otherwise; "
          f"rates: populations in model order, mean over runs; "
          f"{'hebb threads pinned (--bind-threads), peers not; ' if a.hebb_bind_threads else ''}"
          f"1-min load average {min((x['loadavg_1min'] for r in report['results'] for x in r['runs']), default=0):.1f}-"
          f"{max((x['loadavg_1min'] for r in report['results'] for x in r['runs']), default=0):.1f}; "
          f"JSON: {os.path.relpath(a.json, ROOT)})")
    for n in report["notes"]:
        print("note:", n)


if __name__ == "__main__":
    main()
