//! The command line: clap arguments turned into validated work. Thin by design: every command is
//! a function over the library that returns a [`crate::Result`]; `main` maps errors to exit code 2.

use crate::build;
use crate::engine::{stop_flag, RunEnd, Simulation};
use crate::error::{Error, Result};
use crate::io::{MemoryRecorder, NullRecorder, RecordPlan, Recorder};
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
    /// Threads (default: all cores). Results do not depend on it.
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
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
    /// Record all spikes in memory during the benchmark (default: record nothing).
    #[arg(long)]
    pub record: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Execute a parsed command line.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(a) => run(a),
        Command::Check(a) => check(a),
        Command::Bench(a) => bench(a),
    }
}

fn prepare_out(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        if !force {
            return Err(Error::io(
                dir,
                "output directory exists; choose another --out or pass --force to replace it",
            ));
        }
        if dir.is_dir() {
            std::fs::remove_dir_all(dir).map_err(|e| {
                Error::io(
                    dir,
                    format!("cannot remove the existing output directory: {e}"),
                )
            })?;
        } else {
            return Err(Error::io(dir, "exists and is not a directory"));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, format!("cannot create output directory: {e}")))
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::io(path, e))?;
    // Write then rename, so a reader never sees a half-written file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(|e| Error::io(&tmp, format!("cannot write: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, format!("cannot write: {e}")))
}

fn run(a: RunArgs) -> Result<()> {
    let (model, _resolved) = a.model.load()?;
    prepare_out(&a.out, a.force)?;
    let model_name = a.model.model.display().to_string();
    let t0 = Instant::now();
    let net = build::build(&model)?;
    let construction_s = t0.elapsed().as_secs_f64();
    let mut sim = Simulation::new(net, a.threads)?;
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
    let bar = if show {
        indicatif::ProgressBar::new(steps)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {msg} [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid template"),
    );
    let dt = model.simulation.dt;
    let mut recorder: Box<dyn Recorder> =
        Box::new(MemoryRecorder::new(RecordPlan::from_spec(&model)));
    let t1 = Instant::now();
    let end = sim.run(steps, recorder.as_mut(), stop_flag(), |s| {
        let el = t1.elapsed().as_secs_f64().max(1e-9);
        bar.set_position(s);
        bar.set_message(format!(
            "{:.0}/{:.0} ms, {:.2}x real time",
            s as f64 * dt,
            steps as f64 * dt,
            s as f64 * dt * 1e-3 / el
        ));
    })?;
    let simulation_s = t1.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let completed = end == RunEnd::Completed;
    let summary = RunSummary::collect(
        &sim,
        &model_name,
        requested,
        construction_s,
        simulation_s,
        completed,
    );
    write_json(&run_json, &summary)?;
    println!("{summary}");
    println!("output              {}", a.out.display());
    if !completed {
        eprintln!(
            "interrupted at {:.1} ms; outputs are marked incomplete",
            sim.net().time_ms()
        );
    }
    Ok(())
}

fn install_ctrlc() {
    use std::sync::atomic::Ordering;
    // First Ctrl-C: stop at the end of the current step and write everything; second: exit now.
    let _ = ctrlc::set_handler(|| {
        if stop_flag().swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond interrupt: exiting immediately");
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupt: stopping at the end of the current step (Ctrl-C again to exit now)"
        );
    });
}

/// Expected number of synapses of a projection, without building it.
pub fn expected_synapses(c: &Connectivity, n_pre: usize, n_post: usize, same: bool) -> f64 {
    let (a, b) = (n_pre as f64, n_post as f64);
    match c {
        Connectivity::AllToAll { autapses } => a * b - if same && !autapses { a } else { 0.0 },
        Connectivity::OneToOne => a,
        Connectivity::FixedProbability { p, autapses } => {
            p * (a * b - if same && !autapses { a } else { 0.0 })
        }
        Connectivity::FixedIndegree { k, .. } => *k as f64 * b,
        Connectivity::FixedOutdegree { k, .. } => *k as f64 * a,
        Connectivity::Explicit { pre, .. } => pre.len() as f64,
    }
}

fn check(a: ModelArgs) -> Result<()> {
    let (model, _) = a.load()?;
    println!("{}: valid", a.model.display());
    let neurons: usize = model.populations.iter().map(|p| p.size).sum();
    println!(
        "{:<20} {:<11} {:<15} {:>10}",
        "population", "type", "model", "neurons"
    );
    for p in &model.populations {
        println!(
            "{:<20} {:<11} {:<15} {:>10}",
            p.name,
            p.kind.name(),
            p.neuron.name(),
            p.size
        );
    }
    let mut total = 0.0;
    let mut bytes = 0.0;
    println!(
        "{:<20} {:<24} {:>14}",
        "projection", "rule", "synapses (exp.)"
    );
    for pr in &model.projections {
        let pre = &model.populations[model.population_index(&pr.pre).expect("validated")];
        let post = &model.populations[model.population_index(&pr.post).expect("validated")];
        let n = expected_synapses(&pr.connectivity, pre.size, post.size, pr.pre == pr.post);
        let per_delay = if pr.delay.as_ref().is_some_and(|d| d.as_constant().is_none()) {
            2.0
        } else {
            0.0
        };
        bytes += n * (8.0 + per_delay) + (pre.size + 1) as f64 * 8.0;
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
        .map(|p| {
            p.size as f64 * (p.neuron.state_variables().len() as f64 * 8.0 + 4.0 + 2.0 * 8.0 * 2.0)
        })
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

fn bench(a: BenchArgs) -> Result<()> {
    let (model, _) = a.model.load()?;
    let mut build_s = Vec::new();
    let mut sim_s = Vec::new();
    let mut last = None;
    for _ in 0..a.repeat.max(1) {
        let t0 = Instant::now();
        let net = build::build(&model)?;
        build_s.push(t0.elapsed().as_secs_f64());
        let mut sim = Simulation::new(net, a.threads)?;
        let mut rec: Box<dyn Recorder> = if a.record {
            Box::new(MemoryRecorder::new(RecordPlan::from_spec(&model)))
        } else {
            Box::new(NullRecorder)
        };
        let stop = std::sync::atomic::AtomicBool::new(false);
        let t1 = Instant::now();
        sim.run(model.steps(), rec.as_mut(), &stop, |_| {})?;
        sim_s.push(t1.elapsed().as_secs_f64());
        last = Some(sim);
    }
    let sim = last.expect("at least one repetition");
    let (b, s) = (median(&mut build_s), median(&mut sim_s));
    let summary = RunSummary::collect(
        &sim,
        &a.model.model.display().to_string(),
        model.simulation.duration,
        b,
        s,
        true,
    );
    if a.json {
        let v = serde_json::json!({ "summary": summary, "repeat": a.repeat, "construction_s_all": build_s, "simulation_s_all": sim_s });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| Error::Usage(e.to_string()))?
        );
    } else {
        println!(
            "{} ({} repetitions, medians; {} thread(s))",
            a.model.model.display(),
            a.repeat,
            a.threads
        );
        println!(
            "construction        {:.4} s   (all: {:?})",
            b,
            build_s
                .iter()
                .map(|x| format!("{x:.4}"))
                .collect::<Vec<_>>()
        );
        println!(
            "simulation          {:.4} s   (all: {:?})",
            s,
            sim_s.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>()
        );
        println!(
            "simulated/wall      {:.2}x real time",
            summary.realtime_factor
        );
        println!("synaptic events/s   {:.3e}", summary.events_per_s);
        println!("bytes per synapse   {:.2}", summary.bytes_per_synapse);
        for p in &summary.populations {
            println!("rate {:<14} {:.3} Hz", p.name, p.mean_rate_hz);
        }
    }
    Ok(())
}
