//! The command line: clap arguments turned into validated work. Thin by design: every command is
//! a function over the library that returns a [`crate::Result`]; `main` maps errors to exit code 2.

use crate::build;
use crate::engine::{stop_flag, RunEnd, Simulation};
use crate::error::{Error, Result};
use crate::io::hdf5::{self, RunMetadata};
use crate::io::{H5Recorder, NullRecorder, RecordPlan};
use crate::spec::{self, Connectivity, ModelSpec};
use crate::summary::RunSummary;
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// hebb: an event-driven spiking-network simulator for synaptic plasticity.
#[derive(Parser, Debug)]
#[command(name = "hebb", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a model and write its outputs to a directory.
    Run(RunArgs),
    /// Validate a model and print its size and estimated memory, without running it.
    Check(ModelArgs),
    /// Benchmark a model: construction and simulation time, events per second, bytes per synapse.
    Bench(BenchArgs),
    /// Describe a run directory: populations, neurons, spikes, rates, duration reached, completed.
    Info(InfoArgs),
    /// Analyse a run: rates, ISI CV, Fano factor, synchrony, correlations, oscillations (analysis.json).
    Analyze(AnalyzeArgs),
    /// Plot a run (raster, population rate, state traces, weights) next to its data.
    Plot(PlotArgs),
    /// Plasticity experiments: EPSP before and after pairing, the STDP window, its frequency dependence.
    #[command(subcommand)]
    Protocol(ProtocolCommand),
    /// Hopfield-family capacity curve (classic, dense, modern) over a range of loads: HDF5 + figure.
    Hopfield(HopfieldArgs),
    /// Similarity-matching PCA on spiked-covariance data: projection error against samples.
    Pca(PcaArgs),
    /// Normative E/I memory: training with the exact and the printed gradient.
    Memory(MemoryArgs),
}

/// `hebb hopfield` (see `hebb::rate::commands`).
#[derive(Args, Debug)]
pub struct HopfieldArgs {
    /// Output directory (refused if it exists, unless --force).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
    /// Network kind.
    #[arg(long, value_enum, default_value = "classic")]
    pub kind: crate::rate::commands::HopfieldKind,
    /// Neurons N.
    #[arg(long, default_value_t = 500)]
    pub n: usize,
    /// Loads alpha = P/N: a list (0.05,0.1) or a range START:STOP:STEP.
    #[arg(long, default_value = "0.02:0.2:0.02")]
    pub loads: String,
    /// Random networks per load.
    #[arg(long, default_value_t = 4)]
    pub networks: usize,
    /// Fraction of bits flipped in the cues.
    #[arg(long, default_value_t = 0.1)]
    pub flip: f64,
    /// Exponent n of the dense memory F(x) = x^n.
    #[arg(long, default_value_t = 3)]
    pub degree: u32,
    /// Inverse temperature of the modern network (patterns have unit norm).
    #[arg(long, default_value_t = 8.0)]
    pub beta: f64,
    /// Maximum asynchronous sweeps per relaxation.
    #[arg(long, default_value_t = 100)]
    pub max_sweeps: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `hebb pca`.
#[derive(Args, Debug)]
pub struct PcaArgs {
    /// Output directory (refused if it exists, unless --force).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
    /// Input dimension d.
    #[arg(long, default_value_t = 50)]
    pub d: usize,
    /// Output dimension k (spiked directions).
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Noise variance rho.
    #[arg(long, default_value_t = 0.1)]
    pub rho: f64,
    /// Smallest spike variance.
    #[arg(long, default_value_t = 0.4)]
    pub gap: f64,
    /// Spike variance step.
    #[arg(long, default_value_t = 0.1)]
    pub slope: f64,
    /// Samples.
    #[arg(long, default_value_t = 10_000)]
    pub samples: usize,
    /// Record the error every this many samples.
    #[arg(long, default_value_t = 100)]
    pub record_every: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `hebb memory`.
#[derive(Args, Debug)]
pub struct MemoryArgs {
    /// Output directory (refused if it exists, unless --force).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
    /// Neurons N.
    #[arg(long, default_value_t = 40)]
    pub n: usize,
    /// Fraction of excitatory neurons.
    #[arg(long, default_value_t = 0.8)]
    pub exc_fraction: f64,
    /// Stored patterns P (<= N).
    #[arg(long, default_value_t = 5)]
    pub patterns: usize,
    /// Learning steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,
    /// Learning rate in units of 1/||F||^2 (a rate below which both forms descend monotonically).
    #[arg(long, default_value_t = 1.0)]
    pub eta: f64,
    /// Keep Dale's signs (clip W at 0).
    #[arg(long)]
    pub dale: bool,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A protocol command of [`crate::protocol`].
type ProtocolFn = fn(&Path, &Path, &crate::protocol::Options) -> Result<crate::protocol::Report>;

/// `hebb protocol ...` (protocol files: `models/protocols/`, format in `hebb::protocol`).
#[derive(Subcommand, Debug)]
pub enum ProtocolCommand {
    /// Baseline test pulses, pairing, follow-up: EPSP_after / EPSP_before and the weight change.
    Pairing(ProtocolArgs),
    /// Sweep the pairing lag: the STDP window.
    Window(ProtocolArgs),
    /// Sweep the pairing frequency for each lag (Sjöström et al. 2001).
    Frequency(ProtocolArgs),
}

/// Arguments of a protocol command.
#[derive(Args, Debug)]
pub struct ProtocolArgs {
    /// Protocol file (TOML).
    pub file: PathBuf,
    /// Output directory (refused if it exists, unless --force).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
    /// Threads (trials run in parallel; results do not depend on it).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
}

/// `hebb plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Run directory written by `hebb run`.
    pub dir: PathBuf,
    /// What to plot (repeatable; default: everything the run has data for).
    #[arg(long = "what", value_enum)]
    pub what: Vec<crate::plot::PlotKind>,
    /// Image format.
    #[arg(long, value_enum, default_value = "png")]
    pub format: crate::plot::PlotFormat,
}

/// `hebb analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Run directory written by `hebb run`.
    pub dir: PathBuf,
    /// Number of equal time windows to analyse separately (besides the whole run).
    #[arg(long, default_value_t = 1)]
    pub windows: usize,
    /// Skip this initial transient, ms.
    #[arg(long, default_value_t = 0.0)]
    pub skip: f64,
}

/// `hebb info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Run directory written by `hebb run`.
    pub dir: PathBuf,
}

/// Arguments every command that reads a model takes.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model file (TOML).
    pub model: PathBuf,
    /// Override a field, e.g. `--set population.exc.size=8000` (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Override the seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the duration, ms.
    #[arg(long)]
    pub duration: Option<f64>,
}

impl ModelArgs {
    fn load(&self) -> Result<(ModelSpec, String)> {
        let mut sets = self.set.clone();
        if let Some(s) = self.seed {
            sets.push(format!("simulation.seed={s}"));
        }
        if let Some(d) = self.duration {
            sets.push(format!("simulation.duration={d:?}"));
        }
        spec::load(&self.model, &sets)
    }
}

/// `hebb run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output directory (refused if it exists, unless --force).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
    /// Threads (0 = automatic: 1 below 20000 neurons, above all cores, at most 16 and one per 4096
    /// neurons). Each thread runs one part of the network, as an MPI rank would; results do not
    /// depend on the number.
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
    /// Pin each thread to its own CPU (the first of those this process may use, after those of
    /// lower local MPI ranks; as `OMP_PROC_BIND=close`); faster on a machine to yourself, slower
    /// when other programs need those CPUs.
    #[arg(long)]
    pub bind_threads: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Per-stage timers (deliver, integrate, plasticity, record).
    #[arg(long)]
    pub timings: bool,
}

/// `hebb bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Repetitions (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Threads.
    #[arg(long, short = 'j', default_value_t = 1)]
    pub threads: usize,
    /// Pin each thread to its own CPU (see `hebb run --bind-threads`).
    #[arg(long)]
    pub bind_threads: bool,
    /// Also time runs that stream all spikes to HDF5 (in a temporary directory), interleaved with
    /// runs that record nothing, and report the overhead.
    #[arg(long)]
    pub record: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Pin the simulation's threads when `on` (`--bind-threads`); with `warn`, a warning (not an
/// error) when there are fewer CPUs to pin to than threads.
fn bind_threads(sim: &mut Simulation, warn: bool, on: bool) -> Result<()> {
    if !on {
        return Ok(());
    }
    match sim.bind_threads() {
        Ok(true) => Ok(()),
        Ok(false) if !warn => Ok(()),
        Ok(false) => {
            eprintln!(
                "warning: --bind-threads: fewer CPUs available to this process than its {} thread(s) (or no thread \
                 pinning on this platform); threads left unpinned",
                sim.threads()
            );
            Ok(())
        }
        Err(e) => Err(Error::Usage(format!("--bind-threads: cannot pin the threads to CPUs: {e}"))),
    }
}

/// Execute a parsed command line.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(a) => run(a),
        Command::Check(a) => check(a),
        Command::Bench(a) => bench(a),
        Command::Info(a) => info(a),
        Command::Analyze(a) => analyze(a),
        Command::Protocol(p) => {
            let (cmd, a): (ProtocolFn, ProtocolArgs) = match p {
                ProtocolCommand::Pairing(a) => (crate::protocol::pairing, a),
                ProtocolCommand::Window(a) => (crate::protocol::window, a),
                ProtocolCommand::Frequency(a) => (crate::protocol::frequency, a),
            };
            install_ctrlc();
            let opts = crate::protocol::Options {
                threads: a.threads,
                force: a.force,
                command_line: std::env::args().collect::<Vec<_>>().join(" "),
            };
            print!("{}", cmd(&a.file, &a.out, &opts)?);
            Ok(())
        }
        Command::Hopfield(a) => {
            use crate::rate::commands as rc;
            let o = rc::HopfieldOptions {
                kind: a.kind,
                n: a.n,
                loads: rc::parse_loads(&a.loads)?,
                networks: a.networks,
                flip: a.flip,
                degree: a.degree,
                beta: a.beta,
                max_sweeps: a.max_sweeps,
                seed: a.seed,
            };
            print!("{}", rc::hopfield_command(&o, &a.out, a.force, &command_line())?);
            Ok(())
        }
        Command::Pca(a) => {
            use crate::rate::commands as rc;
            let o = rc::PcaOptions {
                data: crate::rate::SpikedParams {
                    d: a.d,
                    k: a.k,
                    rho: a.rho,
                    gap: a.gap,
                    slope: a.slope,
                },
                samples: a.samples,
                record_every: a.record_every,
                seed: a.seed,
            };
            print!("{}", rc::pca_command(&o, &a.out, a.force, &command_line())?);
            Ok(())
        }
        Command::Memory(a) => {
            use crate::rate::commands as rc;
            let o = rc::MemoryOptions {
                n: a.n,
                exc_fraction: a.exc_fraction,
                patterns: a.patterns,
                steps: a.steps,
                eta_scale: a.eta,
                dale: a.dale,
                seed: a.seed,
            };
            print!("{}", rc::memory_command(&o, &a.out, a.force, &command_line())?);
            Ok(())
        }
        Command::Plot(a) => {
            let kinds = if a.what.is_empty() {
                crate::plot::available(&a.dir)
            } else {
                a.what
            };
            if kinds.is_empty() {
                return Err(Error::io(&a.dir, "nothing to plot: no spikes.h5, state.h5 or weights.h5 with data"));
            }
            for f in crate::plot::plot(&a.dir, &kinds, a.format)? {
                println!("{}", f.display());
            }
            Ok(())
        }
    }
}

fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::io(path, e))?;
    // Write then rename, so a reader never sees a half-written file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(|e| Error::io(&tmp, format!("cannot write: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, format!("cannot write: {e}")))
}

fn run(a: RunArgs) -> Result<()> {
    #[cfg(feature = "mpi")]
    if crate::dist::mpi::launched_by_mpi() {
        if let Some(comm) = crate::dist::mpi::MpiComm::init() {
            if crate::dist::Comm::size(&comm) > 1 {
                let threads = a.threads;
                return run_ranks(&a, Box::new(comm), threads, None);
            }
        }
    }
    #[cfg(not(feature = "mpi"))]
    if let Some((rank, size)) = crate::dist::launcher_ranks() {
        // Without MPI every rank would run the whole model into the same directory.
        if rank == 0 {
            eprintln!(
                "error: started as one of {size} MPI ranks, but this hebb was built without MPI; \
                 rebuild with `cargo build --release --features mpi` (see README, \"Running on MPI\")"
            );
        }
        return Err(Error::Reported { code: 2 });
    }
    let threads = match a.threads {
        0 => {
            let (model, _) = a.model.load()?;
            let neurons: usize = model.populations.iter().map(|p| p.size).sum();
            if neurons < crate::engine::AUTO_THREADS_MIN_NEURONS {
                1
            } else {
                // Every thread's part keeps full-size neuron arrays (~80 bytes per neuron) and
                // owns whole 1024-neuron blocks: at most 16 threads and 4 blocks each.
                let blocks: usize = model.populations.iter().map(|p| p.size.div_ceil(crate::rng::BLOCK)).sum();
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                cpus.min(blocks / 4).clamp(1, AUTO_THREADS_MAX)
            }
        }
        n => n,
    };
    if threads > 1 {
        // Several threads: one part of the network each, as ranks (see `dist::threads`).
        let drawn = OnceDrawn::default();
        return in_parts(threads, |comm| run_ranks(&a, Box::new(comm), 1, Some(&drawn)));
    }
    let (model, resolved) = a.model.load()?;
    crate::io::prepare_out_dir(&a.out, a.force)?;
    let model_name = a.model.model.display().to_string();
    let t0 = Instant::now();
    let net = build::build(&model)?;
    let construction_s = t0.elapsed().as_secs_f64();
    let mut sim = Simulation::new(net, 1)?;
    bind_threads(&mut sim, a.bind_threads, a.bind_threads)?;
    sim.set_timings(a.timings);
    let steps = model.steps();
    let requested = model.simulation.duration;
    let run_json = a.out.join("run.json");
    // A run directory is never left without a summary: an incomplete one is written first.
    write_json(
        &run_json,
        &RunSummary::collect(&sim, &model_name, requested, construction_s, 0.0, false),
    )?;

    install_ctrlc();
    let show = !a.quiet && std::io::stderr().is_terminal();
    let bar = progress_bar(show, steps);
    let dt = model.simulation.dt;
    let meta = run_metadata(&model, resolved);
    let mut recorder = H5Recorder::create(&a.out, sim.net(), RecordPlan::from_spec(&model), &meta)?;
    recorder.snapshot_projections(plastic_projections(sim.net()));
    let t1 = Instant::now();
    let result = sim.run(steps, &mut recorder, stop_flag(), |s| {
        let el = t1.elapsed().as_secs_f64().max(1e-9);
        bar.set_position(s);
        bar.set_message(format!(
            "{:.0}/{:.0} ms, {:.2}x real time",
            s as f64 * dt,
            steps as f64 * dt,
            s as f64 * dt * 1e-3 / el
        ));
    });
    let simulation_s = t1.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let completed = matches!(result, Ok(RunEnd::Completed));
    // Whatever happened, close the files (a failed or interrupted run stays marked incomplete)
    // and write the summary of what was reached; then report the first error.
    let closed = recorder.finish(sim.net(), completed, simulation_s);
    let summary = RunSummary::collect(
        &sim,
        &model_name,
        requested,
        construction_s,
        simulation_s,
        completed && closed.is_ok(),
    );
    write_json(&run_json, &summary)?;
    result?;
    closed?;
    println!("{summary}");
    println!("output              {}", a.out.display());
    if !completed {
        return Err(Error::Interrupted {
            reached_ms: sim.net().time_ms(),
        });
    }
    Ok(())
}

fn analyze(a: AnalyzeArgs) -> Result<()> {
    use crate::analysis::{self, AnalysisParams};
    let spikes_path = a.dir.join("spikes.h5");
    let attrs = hdf5::read_root_attrs(&spikes_path).map_err(|e| Error::io(&spikes_path, e))?;
    let reached: f64 = attrs.get("reached_duration_ms").and_then(|x| x.parse().ok()).ok_or_else(|| {
        Error::io(
            &spikes_path,
            "no reached_duration_ms: the run was interrupted before closing its files",
        )
    })?;
    // The model the run was made from (for the recorded-neuron limit, the neuron models and
    // whether plasticity ran); runs always store it, but analysis still works without it.
    let model = attrs
        .get("model_text")
        .and_then(|t| crate::spec::parse(t, "model_text".as_ref(), &[]).ok())
        .map(|m| m.0);
    let summary: serde_json::Value = std::fs::read_to_string(a.dir.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let sizes: std::collections::HashMap<String, usize> = summary["populations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|p| Some((p["name"].as_str()?.to_string(), p["neurons"].as_u64()? as usize)))
        .collect();
    let spike_limit = model.as_ref().and_then(|m| m.record.spikes_max_neurons);
    let plastic = model.as_ref().is_some_and(|m| m.projections.iter().any(|p| p.plasticity.is_some()));
    let data = hdf5::read_spikes(&spikes_path).map_err(|e| Error::io(&spikes_path, e))?;
    let params = AnalysisParams::default();
    let t0 = a.skip.clamp(0.0, reached);
    let nw = a.windows.max(1);
    let mut windows = vec![(t0, reached)];
    if nw > 1 {
        let w = (reached - t0) / nw as f64;
        windows.extend((0..nw).map(|k| (t0 + k as f64 * w, t0 + (k + 1) as f64 * w)));
    }
    // Before/after plasticity: the first and last of the windows, or tenths of the run when
    // only one window was asked for.
    let (first, last) = if nw > 1 {
        (windows[1], windows[nw])
    } else {
        let w = (reached - t0) / 10.0;
        ((t0, t0 + w), (reached - w, reached))
    };
    let mut out = Vec::new();
    let mut before_after = Vec::new();
    let currents = analysis::read_currents(&a.dir, model.as_ref());
    println!(
        "{:<10} {:>9} {:>9} {:>8} {:>8} {:>7} {:>7} {:>8} {:>9} {:>10}",
        "population", "window ms", "rate Hz", "CV", "Fano", "chi", "corr", "osc Hz", "osc power", "state"
    );
    let f = |x: Option<f64>, p: usize| x.map_or("-".to_string(), |v| format!("{v:.p$}"));
    for (name, times, ids) in &data {
        let size = sizes
            .get(name)
            .copied()
            .unwrap_or_else(|| ids.iter().max().map_or(0, |&m| m as usize + 1));
        // Only the first spikes_max_neurons neurons were recorded: rates are per recorded neuron.
        let n = spike_limit.map_or(size, |l| l.min(size));
        let tr = analysis::trains(n, times, ids);
        for &(w0, w1) in &windows {
            let st = analysis::analyze(name, &tr, w0, w1, &params);
            let state = analysis::classify_brunel(&st).map_or("-".into(), |s| {
                format!("{s:?}").chars().filter(|c| c.is_uppercase()).collect::<String>()
            });
            println!(
                "{:<10} {:>9} {:>9.3} {:>8} {:>8} {:>7} {:>7} {:>8} {:>9} {:>10}",
                name,
                format!("{w0:.0}-{w1:.0}"),
                st.rate_hz,
                f(st.cv_mean, 3),
                f(st.fano, 3),
                f(st.chi, 3),
                f(st.pair_corr, 3),
                f(st.osc_freq_hz, 0),
                f(st.osc_strength, 1),
                state
            );
            out.push(st);
        }
        if plastic {
            let b = analysis::analyze(name, &tr, first.0, first.1, &params);
            let l = analysis::analyze(name, &tr, last.0, last.1, &params);
            let cur = currents.iter().find(|(p, _)| p == name).and_then(|(_, c)| {
                Some((
                    analysis::currents(name, c, first.0, first.1)?,
                    analysis::currents(name, c, last.0, last.1)?,
                ))
            });
            before_after.extend(analysis::compare(&b, &l, cur.as_ref().map(|(x, y)| (x, y))));
        }
    }
    let mut cur_out = Vec::new();
    if !currents.is_empty() {
        println!(
            "\n{:<10} {:>9} {:>7} {:>11} {:>11} {:>11} {:>8} {:>8}",
            "currents", "window ms", "neurons", "E mean", "I mean", "net", "-I/E", "corr E,I"
        );
    }
    for (name, c) in &currents {
        for &(w0, w1) in &windows {
            if let Some(cs) = analysis::currents(name, c, w0, w1) {
                println!(
                    "{:<10} {:>9} {:>7} {:>8.2} {:<2} {:>8.2} {:<2} {:>8.2} {:<2} {:>8} {:>8}",
                    name,
                    format!("{w0:.0}-{w1:.0}"),
                    cs.neurons,
                    cs.exc_mean,
                    cs.unit,
                    cs.inh_mean,
                    cs.unit,
                    cs.net_mean,
                    cs.unit,
                    f(cs.ei_ratio, 3),
                    f(cs.ei_corr, 3)
                );
                cur_out.push(cs);
            }
        }
    }
    if !before_after.is_empty() {
        println!(
            "\nbefore/after plasticity: {:.0}-{:.0} ms vs {:.0}-{:.0} ms",
            first.0, first.1, last.0, last.1
        );
        for c in &before_after {
            println!("{:<10} {:<10} {:>10} -> {:>10}", c.name, c.measure, f(c.before, 3), f(c.after, 3));
        }
    }
    let json = serde_json::json!({
        "populations": out,
        "currents": cur_out,
        "before_after": before_after,
        "before_window_ms": [first.0, first.1],
        "after_window_ms": [last.0, last.1],
    });
    write_json(&a.dir.join("analysis.json"), &json)?;
    println!("written             {}", a.dir.join("analysis.json").display());
    Ok(())
}

fn info(a: InfoArgs) -> Result<()> {
    let dir = &a.dir;
    if !dir.is_dir() {
        return Err(Error::io(dir, "not a run directory (it does not exist)"));
    }
    let run_json = dir.join("run.json");
    let summary: Option<serde_json::Value> = std::fs::read_to_string(&run_json).ok().and_then(|t| serde_json::from_str(&t).ok());
    let spikes = dir.join("spikes.h5");
    let attrs = hdf5::read_root_attrs(&spikes).map_err(|e| Error::io(&spikes, e))?;
    let counts = hdf5::read_spike_counts(&spikes).map_err(|e| Error::io(&spikes, e))?;
    let get = |k: &str| attrs.get(k).cloned().unwrap_or_else(|| "-".into());
    let completed = get("completed") == "1";
    let reached: Option<f64> = attrs
        .get("reached_duration_ms")
        .and_then(|x| x.parse().ok())
        .or_else(|| summary.as_ref().and_then(|s| s["reached_duration_ms"].as_f64()));
    println!("run                 {}", dir.display());
    println!("hebb version        {}", get("hebb_version"));
    println!("seed                {}", get("seed"));
    println!("dt                  {} ms", get("dt_ms"));
    println!(
        "duration            {} ms requested, {} reached",
        get("requested_duration_ms"),
        reached.map_or("unknown (interrupted)".into(), |r| format!("{r} ms"))
    );
    println!(
        "completed           {}",
        if completed {
            "yes"
        } else {
            "NO (interrupted or failed: the files hold a prefix)"
        }
    );
    println!("{:<16} {:>10} {:>12} {:>10}", "population", "neurons", "spikes", "rate (Hz)");
    let sizes: std::collections::HashMap<String, u64> = summary
        .as_ref()
        .and_then(|s| s["populations"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| Some((p["name"].as_str()?.to_string(), p["neurons"].as_u64()?)))
        .collect();
    for (name, n) in &counts {
        let size = sizes.get(name).copied();
        let rate = match (size, reached) {
            (Some(sz), Some(t)) if t > 0.0 => format!("{:.3}", *n as f64 / sz as f64 / (t * 1e-3)),
            _ => "-".into(),
        };
        println!(
            "{:<16} {:>10} {:>12} {:>10}",
            name,
            size.map_or("-".into(), |s| s.to_string()),
            n,
            rate
        );
    }
    for f in ["state.h5", "weights.h5"] {
        let p = dir.join(f);
        if p.exists() {
            let c = hdf5::read_root_attrs(&p)
                .ok()
                .and_then(|a| a.get("completed").cloned())
                .unwrap_or_default();
            println!(
                "{:<19} {} (completed = {})",
                f,
                std::fs::metadata(&p)
                    .map(|m| format!("{:.1} MB", m.len() as f64 / 1e6))
                    .unwrap_or_default(),
                c
            );
        }
    }
    Ok(())
}

/// Make every rank agree on `r`: if any rank failed, rank 0 returns one error that quotes every
/// rank's message (once when they are all the same) and the others return [`Error::Reported`].
fn agree<T>(comm: &dyn crate::dist::Comm, r: Result<T>) -> Result<T> {
    let mut failed = [u64::from(r.is_err())];
    comm.sum_u64(&mut failed);
    if failed[0] == 0 {
        return r;
    }
    let code = match &r {
        Err(Error::Interrupted { .. }) => 130,
        _ => 2,
    };
    // A rank that only stopped because another failed says nothing: the other says why.
    let msg = match &r {
        Ok(_) | Err(Error::PeerFailed { .. }) => String::new(),
        Err(e) => e.to_string(),
    };
    // Rank 0 prints before anyone exits: a launcher ends the whole job when the first rank
    // exits with an error, which must not cut rank 0's message.
    let report = |text: Option<String>| {
        if let Some(text) = text {
            eprintln!("{text}");
        }
        comm.barrier();
        Err(Error::Reported { code })
    };
    match comm.gather_bytes(msg.as_bytes()) {
        None => report(None),
        Some(all) => {
            let msgs: Vec<(usize, String)> = all
                .into_iter()
                .enumerate()
                .filter(|(_, m)| !m.is_empty())
                .map(|(r, m)| (r, String::from_utf8_lossy(&m).into_owned()))
                .collect();
            let text = if msgs.is_empty() {
                format!("a {} failed", comm.unit_name())
            } else if (msgs.len() == comm.size() && msgs.iter().all(|(_, m)| *m == msgs[0].1)) || (msgs.len() == 1 && msgs[0].0 == 0) {
                msgs[0].1.clone()
            } else {
                let unit = comm.unit_name();
                msgs.iter().map(|(r, m)| format!("{unit} {r}: {m}")).collect::<Vec<_>>().join("\n")
            };
            report(Some(if code == 130 { text } else { format!("error: {text}") }))
        }
    }
}

/// `hebb run` on several ranks (MPI processes, or the threads of [`crate::dist::threads`]):
/// each rank simulates the neurons it owns with `threads` threads and streams its part to
/// `OUT/ranks/rank_R/`; rank 0 merges the parts into the files a single process writes. Every
/// step that can fail on one rank is followed by [`agree`], so a failure stops all ranks with
/// rank 0's message instead of leaving the others waiting.
///
/// The threads of one process (`drawn` given) draw the network once and each takes its share;
/// MPI ranks each draw every projection and keep their share.
fn run_ranks(a: &RunArgs, comm: Box<dyn crate::dist::Comm>, threads: usize, drawn: Option<&OnceDrawn>) -> Result<()> {
    use crate::io::merge;
    let (rank, ranks) = (comm.rank(), comm.size());
    let root = rank == 0;
    let loaded = agree(&*comm, a.model.load())?;
    let (model, resolved) = loaded;
    let prepared = if root {
        crate::io::prepare_out_dir(&a.out, a.force)
    } else {
        Ok(())
    };
    agree(&*comm, prepared)?;
    let part = merge::rank_dir(&a.out, rank);
    let made = std::fs::create_dir_all(&part)
        .map_err(|e| Error::io(&part, format!("cannot create this {}'s output directory: {e}", comm.unit_name())));
    agree(&*comm, made)?;
    let model_name = a.model.model.display().to_string();
    let t0 = Instant::now();
    let built = match drawn {
        Some(d) => d.share(&model, rank, ranks),
        None => build::build_share(&model, model.simulation.seed, rank, ranks),
    };
    let net = agree(&*comm, built)?;
    let in_threads = comm.in_process();
    let mut sim = Simulation::with_comm(net, threads, comm)?;
    // Every rank has its share now (`with_comm` sums the synapse counts over the ranks).
    let construction_s = t0.elapsed().as_secs_f64();
    let meta = run_metadata(&model, resolved);
    let full_plan = RecordPlan::from_spec(&model);
    // Threads of one process: part 0 writes the static synapses to the final weights.h5 from
    // the whole network, once, instead of every part writing its share for the merge to read
    // back and sort (at 100k neurons, 8 M synapses, that made `run -j 2` slower than `-j 1`).
    let static_edges = match drawn {
        Some(d) => {
            let written = if root {
                let out = a.out.join("weights.h5");
                let edges = d.with(|whole| -> Result<crate::io::hdf5::WeightWriter> {
                    let h5 = |e| Error::io(&out, e);
                    let mut w = crate::io::hdf5::WeightWriter::create(&out, &meta).map_err(h5)?;
                    for (k, pr) in whole.projections().iter().enumerate() {
                        if full_plan.weights[k] && model.projections[k].plasticity.is_none() {
                            crate::io::h5recorder::write_edges(&mut w, sim.net(), pr).map_err(h5)?;
                        }
                    }
                    Ok(w)
                });
                d.release();
                edges.map(Some)
            } else {
                Ok(None)
            };
            agree(sim.comm(), written)?
        }
        None => None,
    };
    if in_threads && root && a.bind_threads {
        warn_unbound(ranks);
    }
    bind_threads(&mut sim, root && !in_threads, a.bind_threads)?;
    sim.set_timings(a.timings);
    let steps = model.steps();
    let requested = model.simulation.duration;
    let run_json = a.out.join("run.json");
    let written = if root {
        write_json(
            &run_json,
            &RunSummary::collect(&sim, &model_name, requested, construction_s, 0.0, false),
        )
    } else {
        Ok(())
    };
    agree(sim.comm(), written)?;
    install_ctrlc();
    let show = root && !a.quiet && std::io::stderr().is_terminal();
    let bar = progress_bar(show, steps);
    let dt = model.simulation.dt;
    let unit = sim.comm().unit_name();
    // This rank records the neurons it owns; in threads, the plastic synapses only (part 0 has
    // written the static ones) and spikes as `part_recorder` says.
    let mut plan = full_plan.clone();
    if in_threads {
        for (k, w) in plan.weights.iter_mut().enumerate() {
            *w &= model.projections[k].plasticity.is_some();
        }
    }
    for probe in plan.state.iter_mut() {
        let (lo, hi) = sim.owned()[probe.pop];
        probe.neurons.retain(|&i| i >= lo && i < hi);
    }
    // A report with none of this rank's neurons is left out of its part (the merge knows).
    plan.state.retain(|probe| !probe.neurons.is_empty());
    let created = if in_threads {
        part_recorder(&part, &mut sim, plan, &meta)
    } else {
        H5Recorder::create(&part, sim.net(), plan, &meta)
    };
    let mut recorder = agree(sim.comm(), created)?;
    recorder.snapshot_projections(plastic_projections(sim.net()));
    let t1 = Instant::now();
    let result = sim.run(steps, &mut recorder, stop_flag(), |s| {
        let el = t1.elapsed().as_secs_f64().max(1e-9);
        bar.set_position(s);
        bar.set_message(format!(
            "{:.0}/{:.0} ms, {:.2}x real time, {ranks} {}s",
            s as f64 * dt,
            steps as f64 * dt,
            s as f64 * dt * 1e-3 / el,
            unit
        ));
    });
    let simulation_s = t1.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let completed = matches!(result, Ok(RunEnd::Completed));
    let closed = recorder.finish(sim.net(), completed, simulation_s);
    // A rank that stopped because another failed says nothing in `agree`: a file it could not
    // close is then its own news.
    let ended = match (result, closed) {
        (Err(Error::PeerFailed { .. }), Err(c)) => Err(c),
        (r, c) => r.and_then(|end| c.map(|_| end)),
    };
    let reached_ms = sim.net().time_ms();
    sim.reduce_stats();
    let end = agree(sim.comm(), ended);
    let end = match end {
        Ok(end) => end,
        Err(e) => {
            // The parts stay in OUT/ranks/, readable and marked incomplete.
            if root {
                let summary = RunSummary::collect(&sim, &model_name, requested, construction_s, simulation_s, false);
                let _ = write_json(&run_json, &summary);
            }
            return Err(e);
        }
    };
    let completed = end == RunEnd::Completed;
    let merged = if root {
        merge::merge_parts(
            &a.out,
            ranks,
            sim.net(),
            &full_plan,
            &meta,
            completed,
            reached_ms,
            simulation_s,
            static_edges,
            in_threads,
        )
        .and_then(|_| {
            let summary = RunSummary::collect(&sim, &model_name, requested, construction_s, simulation_s, completed);
            write_json(&run_json, &summary)?;
            println!("{summary}");
            println!("output              {}", a.out.display());
            Ok(())
        })
    } else {
        Ok(())
    };
    agree(sim.comm(), merged)?;
    if root {
        // The merged files hold everything; the parts are no longer needed.
        let _ = std::fs::remove_dir_all(a.out.join("ranks"));
    }
    if !completed {
        if root {
            eprintln!("{}", Error::Interrupted { reached_ms });
        }
        sim.comm().barrier();
        return Err(Error::Reported { code: 130 });
    }
    Ok(())
}

/// The network that the parts of a threaded run share out: drawn once, by the first part that
/// asks for it (the others wait; the drawing uses every core), and released by part 0 once every
/// part holds its share.
#[derive(Default)]
struct OnceDrawn {
    state: std::sync::Mutex<DrawState>,
}

#[derive(Default)]
enum DrawState {
    #[default]
    NotYet,
    Ready(std::sync::Arc<build::Drawn>),
    Released,
}

impl OnceDrawn {
    /// Rank `rank`'s share of `model`'s network for `ranks` ranks (see [`build::Drawn::share`]).
    fn share(&self, model: &ModelSpec, rank: usize, ranks: usize) -> Result<crate::network::Network> {
        let drawn = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            match &*state {
                DrawState::NotYet => {
                    let d = std::sync::Arc::new(build::Drawn::new(model, model.simulation.seed));
                    *state = DrawState::Ready(d.clone());
                    d
                }
                DrawState::Ready(d) => d.clone(),
                DrawState::Released => unreachable!("released before every part took its share"),
            }
        };
        drawn.share(model, model.simulation.seed, rank, ranks)
    }

    /// `f` of the whole network, while it is held.
    fn with<R>(&self, f: impl FnOnce(&build::Drawn) -> R) -> R {
        match &*self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            DrawState::Ready(d) => f(d),
            _ => unreachable!("the network is drawn before part 0 takes its share and kept until released"),
        }
    }

    /// Free the whole network (the shares stay).
    fn release(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = DrawState::Released;
    }
}

/// The recorder of one thread's part (`dist::threads`), writing to `dir`: part 0 writes every
/// part's spikes as they are exchanged (a single process's spikes.h5, streamed, nothing to
/// merge), the others none.
fn part_recorder(dir: &Path, sim: &mut Simulation, mut plan: RecordPlan, meta: &RunMetadata) -> Result<H5Recorder> {
    let root = sim.comm().rank() == 0;
    if !root {
        plan.spike_limit.fill(0);
    }
    let mut recorder = H5Recorder::create(dir, sim.net(), plan, meta)?;
    if root {
        recorder.spikes_of_all_ranks();
        sim.record_spikes_of_all_ranks(true);
    }
    Ok(recorder)
}

/// One repetition of `hebb bench`, as part 0 saw it.
#[derive(Default)]
struct BenchRun {
    construction_s: f64,
    simulation_s: f64,
    simulation_cpu_s: Option<f64>,
    recording_s: Option<f64>,
    open_close_s: Option<f64>,
    summary: Option<RunSummary>,
}

/// The most threads `hebb run` picks on its own (`--threads 0`): each thread's part of the network
/// duplicates the neuron arrays (see ARCHITECTURE.md, "Threads and determinism").
const AUTO_THREADS_MAX: usize = 16;

/// Run `f` as `parts` parts of one network in threads of this process (see `dist::threads`) and
/// return part 0's outcome; when a part ended before part 0 could learn of it (it returned an
/// error outside [`agree`]), that part's error.
fn in_parts<T: Send>(parts: usize, f: impl Fn(crate::dist::threads::ThreadComm) -> Result<T> + Sync) -> Result<T> {
    use crate::dist::threads::{run_parts, PartEnd};
    let mut first_error = None;
    let mut root = None;
    let ends = run_parts(parts, f).map_err(|e| Error::Usage(format!("cannot start {parts} threads: {e}")))?;
    for (p, end) in ends.into_iter().enumerate() {
        match end {
            PartEnd::Panicked(e) => std::panic::resume_unwind(e),
            PartEnd::Returned(r) if p == 0 => root = Some(r),
            PartEnd::Returned(Err(e)) if first_error.is_none() && !matches!(e, Error::Reported { .. }) => first_error = Some(e),
            _ => {}
        }
    }
    match (root, first_error) {
        (Some(r), _) => r,
        (None, Some(e)) => Err(e),
        // A part left the collectives early without an error: the parts disagree on the order
        // of their collectives, a bug.
        (None, None) => Err(Error::Usage(
            "internal error: a simulation thread ended early without an error".into(),
        )),
    }
}

/// Warn (once) when `--bind-threads` asks for more CPUs than this process may use: threads then
/// share CPUs.
fn warn_unbound(threads: usize) {
    if let Some(cpus) = allowed_cpus() {
        if cpus < threads {
            eprintln!(
                "warning: --bind-threads: fewer CPUs available to this process ({cpus}) than its {threads} threads; \
                 some threads share a CPU"
            );
        }
    }
}

/// How many CPUs this thread may run on (its affinity mask, which pinning uses); `None` where
/// it cannot be read.
fn allowed_cpus() -> Option<usize> {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_getaffinity on a zeroed cpu_set_t of the size passed.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            return Some(libc::CPU_COUNT(&set) as usize);
        }
    }
    std::thread::available_parallelism().ok().map(|n| n.get())
}

/// The progress bar of `hebb run` (hidden when not shown).
fn progress_bar(show: bool, steps: u64) -> indicatif::ProgressBar {
    let bar = if show {
        indicatif::ProgressBar::new(steps)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {msg} [{elapsed_precise} < {eta_precise}]").expect("valid template"));
    bar
}

/// Root attributes of the output files of a run of `model` (resolved text `resolved`).
fn run_metadata(model: &ModelSpec, resolved: String) -> RunMetadata {
    RunMetadata {
        hebb_version: env!("CARGO_PKG_VERSION").into(),
        seed: model.simulation.seed,
        dt_ms: model.simulation.dt,
        requested_duration_ms: model.simulation.duration,
        model_text: resolved,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    }
}

/// Projections whose weights change (their snapshots are recorded).
fn plastic_projections(net: &crate::network::Network) -> Vec<usize> {
    net.projections
        .iter()
        .enumerate()
        .filter(|(_, p)| p.plastic.is_some())
        .map(|(k, _)| k)
        .collect()
}

fn install_ctrlc() {
    use std::sync::atomic::Ordering;
    // Once per process: the parts of a threaded run all get here, and a second `set_handler`
    // would re-initialise the semaphore that the first one's thread is waiting on (ctrlc 3.5),
    // losing every later Ctrl-C.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // First Ctrl-C: stop at the end of the current step and write everything; second: exit now.
        let _ = ctrlc::set_handler(|| {
            if stop_flag().swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond interrupt: exiting immediately");
                std::process::exit(130);
            }
            eprintln!("\ninterrupt: stopping at the end of the current step (Ctrl-C again to exit now)");
        });
    });
}

/// Expected number of synapses of a projection, without building it.
pub fn expected_synapses(c: &Connectivity, n_pre: usize, n_post: usize, same: bool) -> f64 {
    let (a, b) = (n_pre as f64, n_post as f64);
    match c {
        Connectivity::AllToAll { autapses } => a * b - if same && !autapses { a } else { 0.0 },
        Connectivity::OneToOne => a,
        Connectivity::FixedProbability { p, autapses } => p * (a * b - if same && !autapses { a } else { 0.0 }),
        Connectivity::FixedIndegree { k, .. } => *k as f64 * b,
        Connectivity::FixedOutdegree { k, .. } => *k as f64 * a,
        Connectivity::Explicit { pre, .. } => pre.len() as f64,
    }
}

fn check(a: ModelArgs) -> Result<()> {
    let (model, _) = a.load()?;
    println!("{}: valid", a.model.display());
    let neurons: usize = model.populations.iter().map(|p| p.size).sum();
    println!("{:<20} {:<11} {:<15} {:>10}", "population", "type", "model", "neurons");
    for p in &model.populations {
        println!("{:<20} {:<11} {:<15} {:>10}", p.name, p.kind.name(), p.neuron.name(), p.size);
    }
    let mut total = 0.0;
    let mut bytes = 0.0;
    println!("{:<20} {:<24} {:>14}", "projection", "rule", "synapses (exp.)");
    for pr in &model.projections {
        let pre = &model.populations[model.population_index(&pr.pre).expect("validated")];
        let post = &model.populations[model.population_index(&pr.post).expect("validated")];
        let n = expected_synapses(&pr.connectivity, pre.size, post.size, pr.pre == pr.post);
        let per_delay = if pr.delay.as_ref().is_some_and(|d| d.as_constant().is_none()) {
            2.0
        } else {
            0.0
        };
        // Plastic projections add the transposed index: 4 bytes per synapse, 8 per post neuron.
        let plastic = if pr.plasticity.is_some() {
            n * 4.0 + (post.size + 1) as f64 * 8.0
        } else {
            0.0
        };
        // Target 4 bytes; weight 4 more unless one constant weight serves the whole (static) projection.
        let per_weight = if pr.uniform_weight().is_some() { 0.0 } else { 4.0 };
        bytes += n * (4.0 + per_weight + per_delay) + (pre.size + 1) as f64 * 8.0 + plastic;
        total += n;
        let rule = serde_json::to_value(&pr.connectivity)
            .ok()
            .and_then(|v| v.get("rule").and_then(|r| r.as_str()).map(String::from))
            .unwrap_or_default();
        println!("{:<20} {:<24} {:>14.0}", pr.resolved_name(), rule, n);
    }
    let state: f64 = model
        .populations
        .iter()
        .map(|p| p.size as f64 * (p.neuron.state_variables().len() as f64 * 8.0 + 4.0 + 2.0 * 8.0 * 2.0))
        .sum();
    println!("neurons             {neurons}");
    println!("synapses            {total:.0} (expected)");
    println!(
        "estimated memory    {:.1} MB (synapses {:.1} MB, neuron state and buffers {:.1} MB)",
        (bytes + state) / 1e6,
        bytes / 1e6,
        state / 1e6
    );
    println!(
        "duration            {} ms in {} steps of {} ms",
        model.simulation.duration,
        model.steps(),
        model.simulation.dt
    );
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// CPU time of this process so far (s): the sum over its threads of the time on a CPU, from
/// `/proc/self/task/*/schedstat` (nanoseconds; Linux only, `None` elsewhere). Wall time on a shared
/// host counts other jobs' time too; peers' CPU-time measurements (Brian2's serial loop timer) need
/// this to compare fairly.
fn process_cpu_s() -> Option<f64> {
    let mut ns = 0u64;
    for t in std::fs::read_dir("/proc/self/task").ok()? {
        let s = std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok()?;
        ns += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 * 1e-9)
}

fn bench(a: BenchArgs) -> Result<()> {
    let (model, resolved) = a.model.load()?;
    let mut build_s = Vec::new();
    let mut sim_s = Vec::new();
    let mut sim_cpu_s = Vec::new();
    let mut rec_s = Vec::new();
    let mut open_close_s = Vec::new();
    let mut summary = None;
    let tmp = std::env::temp_dir().join(format!("hebb-bench-{}", std::process::id()));
    let model_name = a.model.model.display().to_string();
    let meta = RunMetadata {
        hebb_version: env!("CARGO_PKG_VERSION").into(),
        seed: model.simulation.seed,
        dt_ms: model.simulation.dt,
        requested_duration_ms: model.simulation.duration,
        model_text: resolved.clone(),
        command_line: "hebb bench --record".into(),
    };
    let mut plan = RecordPlan::none(model.populations.len());
    plan.spike_limit = model.populations.iter().map(|p| p.size as u32).collect();
    if a.threads == 0 {
        return Err(Error::Usage(
            "--threads: 0 is not allowed for hebb bench; give the number of threads (1 or more)".into(),
        ));
    }
    let parts = a.threads;
    if parts > 1 && a.bind_threads {
        warn_unbound(parts);
    }
    for _ in 0..a.repeat.max(1) {
        // Interleave: a run recording nothing, then (with --record) one streaming all spikes.
        for recording in [false, true] {
            if recording && !a.record {
                continue;
            }
            if recording {
                crate::io::prepare_out_dir(&tmp, true)?;
            }
            // One part per thread (`dist::threads`), each taking its share of the network drawn
            // once, and running it.
            let drawn = OnceDrawn::default();
            let once = |comm: Box<dyn crate::dist::Comm>| -> Result<Option<BenchRun>> {
                let (rank, ranks) = (comm.rank(), comm.size());
                let root = rank == 0;
                let t0 = Instant::now();
                let built = match ranks {
                    1 => build::build(&model),
                    _ => drawn.share(&model, rank, ranks),
                };
                let net = agree(&*comm, built)?;
                let mut sim = Simulation::with_comm(net, 1, comm)?;
                // The synapse totals were summed over the parts: all have been built.
                let construction_s = t0.elapsed().as_secs_f64();
                if root {
                    drawn.release();
                }
                bind_threads(&mut sim, parts == 1, a.bind_threads)?;
                let stop = std::sync::atomic::AtomicBool::new(false);
                let mut run = BenchRun {
                    construction_s,
                    ..BenchRun::default()
                };
                if recording {
                    let part = if ranks > 1 {
                        crate::io::merge::rank_dir(&tmp, rank)
                    } else {
                        tmp.clone()
                    };
                    let made = std::fs::create_dir_all(&part).map_err(|e| Error::io(&part, format!("cannot create: {e}")));
                    agree(sim.comm(), made)?;
                    let t0 = Instant::now();
                    let created = if ranks > 1 {
                        part_recorder(&part, &mut sim, plan.clone(), &meta)
                    } else {
                        H5Recorder::create(&part, sim.net(), plan.clone(), &meta)
                    };
                    let mut rec = agree(sim.comm(), created)?;
                    sim.comm().barrier();
                    let t1 = Instant::now();
                    let ran = sim.run(model.steps(), &mut rec, &stop, |_| {});
                    agree(sim.comm(), ran)?;
                    let t2 = Instant::now();
                    let closed = rec.finish(sim.net(), true, 0.0);
                    agree(sim.comm(), closed)?;
                    let merged = if root && ranks > 1 {
                        crate::io::merge::merge_parts(&tmp, ranks, sim.net(), &plan, &meta, true, sim.net().time_ms(), 0.0, None, true)
                    } else {
                        Ok(())
                    };
                    agree(sim.comm(), merged)?;
                    run.recording_s = Some((t2 - t1).as_secs_f64());
                    run.open_close_s = Some((t1 - t0).as_secs_f64() + t2.elapsed().as_secs_f64());
                } else {
                    sim.comm().barrier();
                    let (t1, c1) = (Instant::now(), process_cpu_s());
                    let ran = sim.run(model.steps(), &mut NullRecorder, &stop, |_| {});
                    agree(sim.comm(), ran)?;
                    run.simulation_s = t1.elapsed().as_secs_f64();
                    run.simulation_cpu_s = c1.zip(process_cpu_s()).map(|(c1, c2)| c2 - c1);
                    sim.reduce_stats();
                    run.summary =
                        root.then(|| RunSummary::collect(&sim, &model_name, model.simulation.duration, construction_s, 0.0, true));
                }
                Ok(root.then_some(run))
            };
            let run = if parts > 1 {
                in_parts(parts, |comm| once(Box::new(comm)))?
            } else {
                once(Box::new(crate::dist::Local))?
            }
            .expect("part 0 reports");
            if recording {
                rec_s.extend(run.recording_s);
                open_close_s.extend(run.open_close_s);
            } else {
                build_s.push(run.construction_s);
                sim_s.push(run.simulation_s);
                sim_cpu_s.extend(run.simulation_cpu_s);
                summary = run.summary;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let (b, s) = (median(&mut build_s.clone()), median(&mut sim_s.clone()));
    let r = (!rec_s.is_empty()).then(|| median(&mut rec_s.clone()));
    let summary = summary.expect("at least one repetition").with_times(b, s);
    let fmt = |v: &[f64]| v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(" ");
    if a.json {
        let v = serde_json::json!({ "summary": summary, "repeat": a.repeat, "construction_s_all": build_s, "simulation_s_all": sim_s, "simulation_cpu_s_all": sim_cpu_s, "simulation_recording_s_all": rec_s, "recording_open_close_s_all": open_close_s, "recording_overhead": r.map(|r| r / s - 1.0) });
        println!("{}", serde_json::to_string_pretty(&v).map_err(|e| Error::Usage(e.to_string()))?);
    } else {
        println!(
            "{} ({} repetitions, medians; {} thread(s))",
            a.model.model.display(),
            a.repeat,
            a.threads
        );
        println!("construction        {b:.4} s   (all: {})", fmt(&build_s));
        println!("simulation          {s:.4} s   (all: {})", fmt(&sim_s));
        if let Some(r) = r {
            println!(
                "simulation + HDF5   {r:.4} s   (all spikes streamed to spikes.h5; all: {})",
                fmt(&rec_s)
            );
            println!(
                "recording overhead  {:+.1} % while streaming; creating and closing the files (fsync){} costs {:.4} s once per run",
                (r / s - 1.0) * 100.0,
                if a.threads > 1 { " and merging the threads' parts" } else { "" },
                median(&mut open_close_s.clone())
            );
        }
        println!("simulated/wall      {:.2}x real time", summary.realtime_factor);
        println!("synaptic events/s   {:.3e}", summary.events_per_s);
        println!("bytes per synapse   {:.2}", summary.bytes_per_synapse);
        for p in &summary.populations {
            println!("rate {:<14} {:.3} Hz", p.name, p.mean_rate_hz);
        }
    }
    Ok(())
}
