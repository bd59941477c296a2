//! Plasticity experiments in silico: the slice protocols of STDP studies (measure the EPSP,
//! pair pre- and postsynaptic spikes, measure the EPSP again) run on one pre neuron, one post
//! neuron and one plastic synapse, declared in a TOML protocol file.
//!
//! | command | function | what it does |
//! |---|---|---|
//! | `hebb protocol pairing FILE --out DIR` | [`pairing`] | the phases once; EPSP and weight before and after |
//! | `hebb protocol window FILE --out DIR` | [`window`] | the same for every lag of `[window] lags`: the STDP window (Bi & Poo 1998) |
//! | `hebb protocol frequency FILE --out DIR` | [`frequency`] | every frequency x lag of `[frequency]` (Sjöström et al. 2001) |
//!
//! Each writes `DIR/protocol.h5` (the table, and every trial's spikes, membrane samples,
//! weight trajectory and test-pulse PSPs), `DIR/table.csv`, and a figure `DIR/<command>.png`
//! and `.svg`; the returned [`Report`] prints the table (`Display`). Shipped protocols are in
//! `models/protocols/`; each opens with the paper it reproduces.
//!
//! ```no_run
//! use hebb::protocol::{frequency, Options};
//! let report = frequency("models/protocols/sjostrom2001_all_to_all_minimal.toml".as_ref(), "runs/sj".as_ref(), &Options::default())?;
//! println!("{report}");
//! # Ok::<(), hebb::Error>(())
//! ```
//!
//! # What a trial is
//!
//! Population `pre` is a `spike_source` (its type, excitatory or inhibitory, is the synapse's
//! sign) and `post` is any neuron with a membrane (`lif_cuba`, `lif_coba`, `lif_delta`), joined
//! by one synapse with any plasticity rule. The phases run in order on one simulation; at the
//! start of each, [`crate::engine::Simulation::set_plasticity`] switches the synapse on or off
//! (frozen weights stay bit-identical; traces keep running, so leave a few of the rule's longest
//! time constants of `rest` between phases, e.g. 5 s for `tau_x` = 714 ms).
//!
//! * **Test pulses** are isolated presynaptic spikes. The PSP of each is the peak of
//!   `s (V - V0)` within `measure.psp_window` after the spike, `V0` = V at the step of the spike
//!   (the neuron is at rest then) and `s` = +1 for an excitatory, -1 for an inhibitory synapse:
//!   the peak depolarisation (hyperpolarisation) from rest. It is measured, never inferred from
//!   the weight: with conductance synapses it is not proportional to `w` (driving force and
//!   shunting). Test pulses in a phase with `plasticity = false` leave the weight bit-identical
//!   (also for rules with presynaptic-only terms such as the Vogels `-eta alpha`).
//! * **Pairings**: pairing i has its first spike at `onset + i / frequency` (bursts: `onset +
//!   b * burst_interval + i / frequency`), rounded to the step grid; the other spike follows at
//!   the lag. The postsynaptic spike is imposed by an input spike (`method = "input_spike"`,
//!   `weight` big enough to fire the neuron) or evoked by a current pulse (`method =
//!   "current_pulse"`, `amplitude`, `duration`). Its latency (steps from the input to the spike)
//!   is measured on the post neuron alone from rest before the trial (exactly one spike is
//!   required, or the file is rejected naming the field), and the input is scheduled that much
//!   earlier. After the trial, the post spikes are compared with their intended steps: the
//!   report says how many were on target and how many other post spikes occurred (an input too
//!   weak to override a PSP, or a PSP that fires the cell). A 1-step input that moves V by far
//!   more than the distance to threshold (e.g. 100 mV into `lif_delta`, 5000 mV for one step
//!   of `lif_cuba` current, 30000 pA for one step of `lif_coba` current) is exact. Input spikes
//!   suit `lif_delta`; into `lif_cuba`/`lif_coba` their exponential current or conductance
//!   outlasts the refractory period and fires the cell again (rejected by the calibration), so
//!   use a current pulse there. Where post spikes miss their step, the report gives the
//!   realised lags (the post spike nearest to each intended one).
//! * **Lag convention.** `lag` is the interval at which the rule sees the pair:
//!   `lag = t_post + delay - t_pre`, where a postsynaptic spike reaches the synapse one
//!   (dendritic) delay after it is emitted (hebb's convention, as NEST; README "Plasticity").
//!   So a pair rule changes the weight by exactly `W(lag)`, and the somatic spikes are
//!   `t_post - t_pre = lag - delay` apart (with the minimal delay of one step, 0.1 ms). As in
//!   the STDP literature, positive = pre before post. At `lag = 0` the two events share a
//!   synapse time and do not pair (the engine's rule; NEST drops such pairs too).
//! * **Results**: `w_before` = weight at the start of the first induction phase, `w_after` = at
//!   the end of the trial; `EPSP_before` / `EPSP_after` = mean PSP of the test pulses before the
//!   first / after the last induction phase. Tables report `w_after / w_before - 1` (for the
//!   additive phenomenological rules fitted with `w0 = 1`, this is what is compared with the
//!   relative EPSP changes of slice data, plasticity.md §8) and `EPSP_after / EPSP_before - 1`.
//!
//! # Protocol file (TOML; unknown fields are errors; units ms, mV, nS, pA, Hz)
//!
//! | field | unit | default | meaning |
//! |---|---|---|---|
//! | `description` | — | none | free text |
//! | `simulation.dt` | ms | 0.1 | time step |
//! | `pre.type` | — | required | `excitatory` or `inhibitory` |
//! | `post.neuron` | — | required | `{ model = "lif_cuba" \| "lif_coba" \| "lif_delta", <parameters> }` as in model files |
//! | `synapse.weight` | mV (cuba, delta) / nS (coba) | required | initial weight, within the rule's bounds |
//! | `synapse.delay` | ms | dt | whole number of steps |
//! | `synapse.plasticity` | — | required | any rule of model files (`pair_stdp`, `triplet_stdp`, `vogels2011`) |
//! | `measure.psp_window` | ms | 50 | window of the PSP peak after each test spike |
//! | `record.membrane` | — | `stimuli` | `stimuli`: every step from 10 ms before to `psp_window` after each test pulse and pairing; `all`: the whole trial every `record.interval`; `none` |
//! | `record.interval` | ms | dt | sampling interval with `membrane = "all"` |
//! | `[[phase]]` `name` | — | required | unique (letters, digits, `_`, `-`) |
//! | `phase.plasticity` | — | required | `true`: the synapse learns during the phase |
//! | `phase.onset` | ms | 100 | from the start of the phase to its first stimulus (at least one step) |
//! | `phase.rest` | ms | 1000 | quiet time after the last stimulus; inductions need >= delay + 2 dt, test pulses >= `psp_window` |
//! | `phase.duration` | ms | — | instead of `rest`: the length of the phase (required for `type = "none"`) |
//! | `phase.stimulus` | — | required | a table with `type`, below |
//!
//! | `type` | fields | meaning |
//! |---|---|---|
//! | `none` | | nothing (a pause) |
//! | `test_pulses` | `count`, `interval` (ms, >= `psp_window`; leave several membrane time constants so that each pulse starts from rest) | isolated presynaptic spikes; the PSP of each is measured |
//! | `pairing` | `count`, `frequency` (Hz), `lag` (ms), `post_spike` | `count` pairings at `frequency` |
//! | `bursts` | `pairings`, `bursts`, `frequency` (Hz, within a burst), `burst_interval` (ms, onset to onset), `lag` (ms), `post_spike` | `bursts` x `pairings` pairings (Sjöström's experimental 15 x 5) |
//!
//! `post_spike` is `{ method = "input_spike", weight }` (mV or nS: an excitatory input spike) or
//! `{ method = "current_pulse", amplitude, duration }` (mV as R·I for cuba/delta, pA for coba;
//! ms).
//!
//! | sweep table | fields | meaning |
//! |---|---|---|
//! | `[window]` | `lags` (ms), `phase` (default: the only induction phase), `data` | `bi_poo1998`: says that hebb holds no verified Bi & Poo points; none are drawn |
//! | `[frequency]` | `frequencies` (Hz), `lags` (ms), `phase`, `data` | `sjostrom2001`: the plasticity.md §2.3 points are drawn with SEM bars and the table gives `chi2/n = sum(((model - data)/SEM)^2)/n` of the weight change |
//!
//! Every problem of a file comes back as [`crate::Error::Parse`] (syntax, unknown field, wrong
//! type; the TOML parser names line, column and field) or [`crate::Error::Invalid`] (every bad
//! value at once, each with its field, value and what is allowed).
//!
//! # `protocol.h5`
//!
//! | path | type | meaning |
//! |---|---|---|
//! | `/` attributes | | `hebb_file` = "protocol", `hebb_version`, `protocol` (pairing/window/frequency), `protocol_file`, `protocol_text`, `command_line`, `dt_ms`, `delay_ms`, `lag_definition`, `weight_units`, `n_trials`, `data_set` and `chi2_per_point` where data are compared |
//! | `/table/<column>` | f64 / u64, (n_trials,) | `trial`, `frequency_hz`, `lag_ms`, `pairings`, `w_before`, `w_after`, `dw_rel`, `psp_before_mV`, `psp_after_mV`, `psp_ratio`, `post_expected`, `post_on_target`, `post_other`, `data_mean`, `data_sem` (NaN where none); attr `units` |
//! | `/trials/trial_NNN` | group | attrs `lag_ms`, `frequency_hz`, `duration_ms`, `latency_steps`, `phase_names` |
//! | `.../spikes/pre/timestamps`, `.../spikes/post/timestamps` | f64 | spike times, ms |
//! | `.../membrane/time`, `.../membrane/v` | f64 ms, f32 mV | the membrane samples (`record.membrane`) |
//! | `.../weight/time`, `.../weight/value` | f64 ms, f32 | the weight at the start, at every change and at the end |
//! | `.../test_pulses/time`, `/phase`, `/psp` | f64 ms, u64, f64 mV | every test pulse and its PSP |
//! | `.../pairings/pre_ms`, `post_target_ms`, `post_ms`, `lag_ms` | f64 ms | every pairing: pre spike, intended post spike, the post spike nearest to it and the realised lag (NaN if none) |
//! | `.../phases/start_ms`, `end_ms`, `w_start`, `w_end`, `plasticity`, `mean_psp_mV` | per phase | in the order of `phase_names` |
//! | `/data/frequency_hz`, `lag_ms`, `mean`, `sem` | f64 | the published points drawn (attr `citation`) |
//!
//! All datasets are 1-D, chunked (<= 32768 elements per chunk) and uncompressed.

mod data;
mod output;
mod plot;
mod spec;
mod trial;

pub use data::{chi2_per_point, DataPoint, SJOSTROM2001};
pub use spec::{
    load, parse, DataSet, FrequencySweep, MeasureTable, MembraneRecord, PhaseSpec, PostSpike, PostTable, PreTable, ProtocolSpec, Purpose,
    RecordTable, SimulationTable, Stimulus, SynapseTable, WindowSweep,
};
pub use trial::{calibrate, schedule, PhasePlan, PhaseResult, Schedule, TrialResult};

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Options of the three commands.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Trials run at once (0: all cores). Each trial is one single-threaded simulation; results do
    /// not depend on this.
    pub threads: usize,
    /// Replace an existing output directory.
    pub force: bool,
    /// Stored in `protocol.h5` (e.g. `std::env::args()` joined).
    pub command_line: String,
}

/// `hebb protocol pairing FILE --out DIR`.
pub fn pairing(file: &Path, out: &Path, opts: &Options) -> Result<Report> {
    execute(Purpose::Pairing, file, out, opts)
}

/// `hebb protocol window FILE --out DIR`.
pub fn window(file: &Path, out: &Path, opts: &Options) -> Result<Report> {
    execute(Purpose::Window, file, out, opts)
}

/// `hebb protocol frequency FILE --out DIR`.
pub fn frequency(file: &Path, out: &Path, opts: &Options) -> Result<Report> {
    execute(Purpose::Frequency, file, out, opts)
}

/// Load, run, and write `protocol.h5`, `table.csv` and the figure into `out` (which must not
/// exist unless `opts.force`). The returned report prints the table. Files are written once all
/// trials have run: a run stopped by [`crate::engine::stop_flag`] (Ctrl-C) returns
/// [`Error::Interrupted`] and writes nothing.
pub fn execute(purpose: Purpose, file: &Path, out: &Path, opts: &Options) -> Result<Report> {
    let (spec, text) = load(file, purpose)?;
    crate::io::prepare_out_dir(out, opts.force)?;
    let mut report = match run(&spec, purpose, file, opts.threads) {
        Ok(r) => r,
        Err(e) => {
            // Nothing was written: do not leave an empty output directory behind.
            let _ = std::fs::remove_dir(out);
            return Err(e);
        }
    };
    report.text = text;
    report.files = report.write(out, &opts.command_line)?;
    Ok(report)
}

/// The results of a protocol command.
#[derive(Clone, Debug)]
pub struct Report {
    /// Which command.
    pub purpose: Purpose,
    /// The protocol file.
    pub file: PathBuf,
    /// Its text (stored in the output; empty when run from a spec).
    pub text: String,
    /// The validated protocol.
    pub spec: ProtocolSpec,
    /// Index of the swept (pairing: first) induction phase.
    pub phase: usize,
    /// One result per trial: pairing 1; window one per lag; frequency frequency-major, lags inner.
    pub trials: Vec<TrialResult>,
    /// Published data compared and drawn.
    pub data: Option<DataSet>,
    /// Files written by [`Report::write`].
    pub files: Vec<PathBuf>,
    /// Wall-clock time of the trials, s.
    pub wall_time_s: f64,
}

/// Run a validated protocol (no files are written); `file` is used in messages. `threads` trials
/// run at once (0: all cores).
pub fn run(spec: &ProtocolSpec, purpose: Purpose, file: &Path, threads: usize) -> Result<Report> {
    let issues = spec.validate(purpose);
    if !issues.is_empty() {
        return Err(Error::Invalid {
            file: file.to_path_buf(),
            issues,
        });
    }
    let (phase, data, variants): (usize, Option<DataSet>, Vec<ProtocolSpec>) = match purpose {
        Purpose::Pairing => {
            let k = spec.phases.iter().position(|p| p.stimulus.is_induction()).expect("validated");
            (k, None, vec![spec.clone()])
        }
        Purpose::Window => {
            let w = spec.window.as_ref().expect("validated");
            let k = spec.swept_phase(w.phase.as_deref()).expect("validated");
            let v = w
                .lags
                .iter()
                .map(|&lag| {
                    let mut s = spec.clone();
                    s.phases[k].stimulus.set_lag(lag);
                    s
                })
                .collect();
            (k, w.data, v)
        }
        Purpose::Frequency => {
            let f = spec.frequency.as_ref().expect("validated");
            let k = spec.swept_phase(f.phase.as_deref()).expect("validated");
            let mut v = Vec::new();
            for &freq in &f.frequencies {
                for &lag in &f.lags {
                    let mut s = spec.clone();
                    s.phases[k].stimulus.set_frequency(freq);
                    s.phases[k].stimulus.set_lag(lag);
                    v.push(s);
                }
            }
            (k, f.data, v)
        }
    };
    // A changed frequency or lag can make a burst longer than its interval.
    for s in &variants {
        let issues = s.validate(Purpose::Pairing);
        if !issues.is_empty() {
            return Err(Error::Invalid {
                file: file.to_path_buf(),
                issues,
            });
        }
    }
    let t0 = std::time::Instant::now();
    let threads = if threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        threads
    }
    .min(variants.len().max(1));
    let trials: Result<Vec<TrialResult>> = if threads <= 1 {
        variants.iter().map(|s| trial::run(s, Some(phase), file)).collect()
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))?;
        pool.install(|| variants.par_iter().map(|s| trial::run(s, Some(phase), file)).collect())
    };
    Ok(Report {
        purpose,
        file: file.to_path_buf(),
        text: String::new(),
        spec: spec.clone(),
        phase,
        trials: trials?,
        data,
        files: Vec::new(),
        wall_time_s: t0.elapsed().as_secs_f64(),
    })
}

impl Report {
    /// The published point of each trial (frequency sweeps with data).
    pub fn data_points(&self) -> Vec<Option<DataPoint>> {
        self.trials
            .iter()
            .map(|t| match (self.purpose, self.data) {
                (Purpose::Frequency, Some(d)) => d.point(t.frequency_hz, t.lag_ms),
                _ => None,
            })
            .collect()
    }

    /// `sum(((dw_rel - mean)/SEM)^2)/n` over the trials with a published point, and n.
    pub fn chi2(&self) -> Option<(f64, usize)> {
        let pairs: Vec<(f64, DataPoint)> = self
            .trials
            .iter()
            .zip(self.data_points())
            .filter_map(|(t, d)| d.map(|d| (t.dw_rel(), d)))
            .collect();
        chi2_per_point(&pairs)
    }

    /// The trial at (frequency, lag), if run.
    pub fn trial(&self, frequency_hz: f64, lag_ms: f64) -> Option<&TrialResult> {
        self.trials
            .iter()
            .find(|t| (t.frequency_hz - frequency_hz).abs() < 1e-9 && (t.lag_ms - lag_ms).abs() < 1e-9)
    }

    /// `EPSP` or `IPSP`, from the synapse's sign.
    pub fn psp_word(&self) -> &'static str {
        match self.spec.pre.kind {
            crate::spec::Kind::Excitatory => "EPSP",
            crate::spec::Kind::Inhibitory => "IPSP",
        }
    }

    /// Unit of the weights.
    pub fn weight_unit(&self) -> &'static str {
        self.spec.post.neuron.weight_unit()
    }

    /// Warnings: post spikes off target, missing test pulses.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let off: Vec<&TrialResult> = self.trials.iter().filter(|t| !t.timing_exact()).collect();
        if !off.is_empty() {
            w.push(format!(
                "{} of {} trials had post spikes off their intended step or extra post spikes (see the post spikes column); the lags of those pairings differ from the nominal ones",
                off.len(),
                self.trials.len()
            ));
        }
        if self.trials.iter().any(|t| t.psp_before.is_nan() || t.psp_after.is_nan()) {
            w.push("no test pulses before the first or after the last induction phase: the EPSP ratio is undefined (NaN)".into());
        }
        w
    }

    /// The printed table.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let wu = self.weight_unit();
        let title = match self.purpose {
            Purpose::Pairing => "pairing",
            Purpose::Window => "window",
            Purpose::Frequency => "frequency",
        };
        let _ = writeln!(s, "protocol {title}: {}", self.file.display());
        if let Some(d) = &self.spec.description {
            let _ = writeln!(s, "{}", d.trim());
        }
        let _ = writeln!(
            s,
            "lag = t_post + delay - t_pre at the synapse (delay = {} ms); changes are after/before - 1",
            self.spec.delay()
        );
        let pct = |x: f64| {
            if x.is_nan() {
                "-".to_string()
            } else {
                format!("{:+.2} %", 100.0 * x)
            }
        };
        let num = |x: f64, p: usize| if x.is_nan() { "-".to_string() } else { format!("{x:.p$}") };
        match self.purpose {
            Purpose::Pairing => {
                let t = &self.trials[0];
                let _ = writeln!(
                    s,
                    "{:<14} {:<52} {:>10} {:>12} {:>12} {:>16} {:>14}",
                    "phase",
                    "stimulus",
                    "plasticity",
                    "start (ms)",
                    "end (ms)",
                    format!("w at end ({wu})"),
                    "mean PSP (mV)"
                );
                for (ph, r) in self.spec.phases.iter().zip(&t.phases) {
                    let _ = writeln!(
                        s,
                        "{:<14} {:<52} {:>10} {:>12.1} {:>12.1} {:>16.6} {:>14}",
                        r.name,
                        ph.stimulus.describe(),
                        if r.plasticity { "on" } else { "off" },
                        r.start_ms,
                        r.end_ms,
                        r.w_end,
                        num(r.mean_psp(), 4)
                    );
                }
                let _ = writeln!(
                    s,
                    "weight: {:.6} -> {:.6} {wu}   after/before = {:.4} ({})",
                    t.w_before,
                    t.w_after,
                    t.w_ratio(),
                    pct(t.dw_rel())
                );
                let _ = writeln!(
                    s,
                    "{}:   {} -> {} mV   after/before = {} ({})",
                    self.psp_word(),
                    num(t.psp_before, 4),
                    num(t.psp_after, 4),
                    num(t.psp_ratio(), 4),
                    pct(t.psp_ratio() - 1.0)
                );
                let _ = writeln!(
                    s,
                    "post spikes: {} of {} at their intended step, {} other (post-spike latency {} steps)",
                    t.post_on_target, t.post_expected, t.post_other, t.latency_steps
                );
                if !t.timing_exact() {
                    let (m, lo, hi) = t.realised_lags();
                    let _ = writeln!(
                        s,
                        "realised lags (post spike nearest to each intended one): mean {m:+.2} ms, range {lo:+.1} to {hi:+.1} ms"
                    );
                }
            }
            Purpose::Window | Purpose::Frequency => {
                let freq = self.purpose == Purpose::Frequency;
                let data = self.data_points();
                let has_data = data.iter().any(|d| d.is_some());
                if freq {
                    let _ = write!(s, "{:>10} ", "freq (Hz)");
                }
                let _ = write!(
                    s,
                    "{:>9} {:>10} {:>11} {:>11} {:>13} {:>13} {:>11}",
                    "lag (ms)",
                    "dw/w",
                    format!("{} change", self.psp_word()),
                    "w before",
                    format!("w after ({wu})"),
                    format!("{} bef (mV)", self.psp_word()),
                    format!("{} aft", self.psp_word())
                );
                if has_data {
                    let _ = write!(s, " {:>16}", "data (mean+-SEM)");
                }
                let _ = writeln!(s, " {:>12}", "post spikes");
                for (t, d) in self.trials.iter().zip(&data) {
                    if freq {
                        let _ = write!(s, "{:>10} ", t.frequency_hz);
                    }
                    let _ = write!(
                        s,
                        "{:>+9.1} {:>10} {:>11} {:>11.6} {:>13.6} {:>13} {:>11}",
                        t.lag_ms,
                        pct(t.dw_rel()),
                        pct(t.psp_ratio() - 1.0),
                        t.w_before,
                        t.w_after,
                        num(t.psp_before, 4),
                        num(t.psp_after, 4)
                    );
                    if has_data {
                        let _ = write!(s, " {:>16}", d.map_or("-".into(), |d| format!("{:+.2} +- {:.2}", d.mean, d.sem)));
                    }
                    let _ = writeln!(s, " {:>12}", format!("{}/{}+{}", t.post_on_target, t.post_expected, t.post_other));
                }
                let _ = writeln!(s, "post spikes: on target / intended + other");
                if let Some((c, n)) = self.chi2() {
                    let _ = writeln!(s, "chi2/n = sum(((dw/w - data)/SEM)^2)/n = {c:.3} (n = {n})");
                }
                if let Some(d) = self.data {
                    let _ = writeln!(s, "{}", d.note());
                }
            }
        }
        for w in self.warnings() {
            let _ = writeln!(s, "warning: {w}");
        }
        if !self.files.is_empty() {
            let _ = writeln!(
                s,
                "wrote {}",
                self.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            );
        }
        s
    }

    /// Write `protocol.h5`, `table.csv` and the figure (`<command>.png`, `.svg`) into `dir`
    /// (which must exist); returns the paths.
    pub fn write(&self, dir: &Path, command_line: &str) -> Result<Vec<PathBuf>> {
        let mut files = vec![output::write_h5(self, &dir.join("protocol.h5"), command_line)?];
        files.push(output::write_csv(self, &dir.join("table.csv"))?);
        files.extend(plot::draw(self, dir)?);
        Ok(files)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.table())
    }
}
