//! The protocol file: serde structs (unknown fields rejected) and their validation. The field
//! reference with units is in the documentation of [`crate::protocol`].

use crate::error::{Error, Result, SpecIssue};
use crate::neuron::{is_multiple, NeuronSpec};
use crate::plasticity::RuleSpec;
use crate::spec::Kind;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// A whole protocol file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    /// Free text: the experiment and the paper it reproduces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `[simulation]`: the time step.
    #[serde(default)]
    pub simulation: SimulationTable,
    /// `[pre]`: the presynaptic neuron (a spike source driven by the protocol).
    pub pre: PreTable,
    /// `[post]`: the postsynaptic neuron.
    pub post: PostTable,
    /// `[synapse]`: the plastic synapse from pre to post.
    pub synapse: SynapseTable,
    /// `[measure]`: how postsynaptic potentials are measured.
    #[serde(default)]
    pub measure: MeasureTable,
    /// `[record]`: what membrane trace is kept.
    #[serde(default)]
    pub record: RecordTable,
    /// `[[phase]]`: the phases, in order.
    #[serde(rename = "phase")]
    pub phases: Vec<PhaseSpec>,
    /// `[window]`: the lag sweep of `hebb protocol window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSweep>,
    /// `[frequency]`: the frequency sweep of `hebb protocol frequency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<FrequencySweep>,
}

/// `[simulation]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimulationTable {
    /// Time step, ms (default 0.1).
    #[serde(default = "default_dt")]
    pub dt: f64,
}

impl Default for SimulationTable {
    fn default() -> Self {
        SimulationTable { dt: default_dt() }
    }
}

fn default_dt() -> f64 {
    0.1
}

/// `[pre]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PreTable {
    /// `excitatory` or `inhibitory`: the sign of the synapse and the receptor it reaches.
    #[serde(rename = "type")]
    pub kind: Kind,
}

/// `[post]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostTable {
    /// Neuron model and parameters, as in a model file (`lif_cuba`, `lif_coba`, `lif_delta`).
    pub neuron: NeuronSpec,
}

/// `[synapse]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SynapseTable {
    /// Initial weight (magnitude; mV for lif_cuba/lif_delta, nS for lif_coba).
    pub weight: f64,
    /// Delay, ms (a whole number of steps, >= dt; default dt). Dendritic for plasticity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<f64>,
    /// The plasticity rule, as in a model file.
    pub plasticity: RuleSpec,
}

/// `[measure]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MeasureTable {
    /// Window after each test spike in which the PSP peak is taken, ms (default 50).
    #[serde(default = "default_psp_window")]
    pub psp_window: f64,
}

impl Default for MeasureTable {
    fn default() -> Self {
        MeasureTable {
            psp_window: default_psp_window(),
        }
    }
}

fn default_psp_window() -> f64 {
    50.0
}

/// Which membrane samples are kept in the output.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MembraneRecord {
    /// Every step from 10 ms before to `psp_window` after each test pulse and each pairing.
    #[default]
    Stimuli,
    /// The whole trial, every `interval`.
    All,
    /// Nothing.
    None,
}

/// `[record]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecordTable {
    /// `stimuli` (default), `all` or `none`.
    #[serde(default)]
    pub membrane: MembraneRecord,
    /// Sampling interval with `membrane = "all"`, ms (a multiple of dt; default dt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
}

/// `[[phase]]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    /// Unique name (letters, digits, `_`, `-`).
    pub name: String,
    /// Whether the synapse learns during the phase.
    pub plasticity: bool,
    /// Time from the start of the phase to its first stimulus, ms (>= dt; default 100).
    #[serde(default = "default_onset")]
    pub onset: f64,
    /// Quiet time after the last stimulus, ms (default 1000); exclusive with `duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<f64>,
    /// Total length of the phase, ms; exclusive with `rest` (required for `type = "none"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// What the phase does.
    pub stimulus: Stimulus,
}

fn default_onset() -> f64 {
    100.0
}

/// Default quiet time after a phase's last stimulus, ms.
pub const DEFAULT_REST_MS: f64 = 1000.0;

/// `[phase.stimulus]`, tagged by `type`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stimulus {
    /// Nothing (a pause; the phase needs `duration`).
    None,
    /// Isolated presynaptic spikes; the PSP of each is measured.
    TestPulses {
        /// Number of pulses (>= 1).
        count: u32,
        /// Interval between pulses, ms (>= `measure.psp_window`).
        interval: f64,
    },
    /// `count` pre/post pairings at `frequency`, post spike at `lag` from the pre spike.
    Pairing {
        /// Number of pairings (>= 1).
        count: u32,
        /// Pairing frequency, Hz (> 0).
        frequency: f64,
        /// Pairing interval at the synapse, `t_post + delay - t_pre`, ms (a multiple of dt).
        lag: f64,
        /// How the postsynaptic spike is made.
        post_spike: PostSpike,
    },
    /// `bursts` bursts of `pairings` pairings at `frequency`, burst onsets `burst_interval` apart.
    Bursts {
        /// Pairings per burst (>= 1).
        pairings: u32,
        /// Number of bursts (>= 1).
        bursts: u32,
        /// Pairing frequency within a burst, Hz (> 0).
        frequency: f64,
        /// Interval between burst onsets, ms (longer than a burst).
        burst_interval: f64,
        /// Pairing interval at the synapse, `t_post + delay - t_pre`, ms (a multiple of dt).
        lag: f64,
        /// How the postsynaptic spike is made.
        post_spike: PostSpike,
    },
}

impl Stimulus {
    /// `none`, `test_pulses`, `pairing` or `bursts`.
    pub fn name(&self) -> &'static str {
        match self {
            Stimulus::None => "none",
            Stimulus::TestPulses { .. } => "test_pulses",
            Stimulus::Pairing { .. } => "pairing",
            Stimulus::Bursts { .. } => "bursts",
        }
    }

    /// Whether the stimulus pairs pre and post spikes (an induction).
    pub fn is_induction(&self) -> bool {
        matches!(self, Stimulus::Pairing { .. } | Stimulus::Bursts { .. })
    }

    /// Lag, ms (inductions only).
    pub fn lag(&self) -> Option<f64> {
        match self {
            Stimulus::Pairing { lag, .. } | Stimulus::Bursts { lag, .. } => Some(*lag),
            _ => None,
        }
    }

    /// Pairing frequency, Hz (inductions only).
    pub fn frequency(&self) -> Option<f64> {
        match self {
            Stimulus::Pairing { frequency, .. } | Stimulus::Bursts { frequency, .. } => Some(*frequency),
            _ => None,
        }
    }

    /// Total number of pairings (inductions only).
    pub fn pairings(&self) -> Option<u32> {
        match self {
            Stimulus::Pairing { count, .. } => Some(*count),
            Stimulus::Bursts { pairings, bursts, .. } => Some(pairings * bursts),
            _ => None,
        }
    }

    pub(crate) fn set_lag(&mut self, v: f64) {
        if let Stimulus::Pairing { lag, .. } | Stimulus::Bursts { lag, .. } = self {
            *lag = v;
        }
    }

    pub(crate) fn set_frequency(&mut self, v: f64) {
        if let Stimulus::Pairing { frequency, .. } | Stimulus::Bursts { frequency, .. } = self {
            *frequency = v;
        }
    }

    /// One line for tables.
    pub fn describe(&self) -> String {
        match self {
            Stimulus::None => "none".into(),
            Stimulus::TestPulses { count, interval } => format!("{count} test pulses every {interval} ms"),
            Stimulus::Pairing { count, frequency, lag, .. } => format!("{count} pairings at {frequency} Hz, lag {lag:+} ms"),
            Stimulus::Bursts {
                pairings,
                bursts,
                frequency,
                burst_interval,
                lag,
                ..
            } => format!("{bursts} x {pairings} pairings at {frequency} Hz every {burst_interval} ms, lag {lag:+} ms"),
        }
    }
}

/// How the postsynaptic spike of a pairing is made, tagged by `method`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum PostSpike {
    /// An excitatory input spike onto the post neuron, big enough to fire it (mV for
    /// lif_cuba/lif_delta, nS for lif_coba).
    InputSpike {
        /// Weight of the input spike.
        weight: f64,
    },
    /// A current pulse (mV as R·I for lif_cuba/lif_delta, pA for lif_coba).
    CurrentPulse {
        /// Amplitude.
        amplitude: f64,
        /// Duration, ms (a whole number of steps, >= dt).
        duration: f64,
    },
}

/// Published data sets the plots and the chi-square can use.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DataSet {
    /// Sjöström, Turrigiano & Nelson 2001, frequency dependence at +-10 ms (plasticity.md §2.3).
    Sjostrom2001,
    /// Bi & Poo 1998: the window; hebb holds no verified data points, so none are drawn.
    BiPoo1998,
}

impl DataSet {
    /// Name in protocol files.
    pub fn name(self) -> &'static str {
        match self {
            DataSet::Sjostrom2001 => "sjostrom2001",
            DataSet::BiPoo1998 => "bi_poo1998",
        }
    }
}

/// `[window]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowSweep {
    /// Lags, ms (each a multiple of dt).
    pub lags: Vec<f64>,
    /// The induction phase whose lag is swept (default: the only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Published data drawn with the curve (`bi_poo1998`: none verified, none drawn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSet>,
}

/// `[frequency]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrequencySweep {
    /// Pairing frequencies, Hz.
    pub frequencies: Vec<f64>,
    /// Lags, ms (each a multiple of dt), each swept over every frequency.
    pub lags: Vec<f64>,
    /// The induction phase that is swept (default: the only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Published data drawn with the curves and compared (`sjostrom2001`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSet>,
}

/// Which sweep a validation is for (only the needed section must be present).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `hebb protocol pairing`.
    Pairing,
    /// `hebb protocol window`.
    Window,
    /// `hebb protocol frequency`.
    Frequency,
}

/// Read and validate a protocol file for `purpose`.
pub fn load(path: &Path, purpose: Purpose) -> Result<(ProtocolSpec, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, format!("cannot read protocol file: {e}")))?;
    let spec = parse(&text, path, purpose)?;
    Ok((spec, text))
}

/// Parse and validate protocol text (`file` is used in messages).
pub fn parse(text: &str, file: &Path, purpose: Purpose) -> Result<ProtocolSpec> {
    let spec: ProtocolSpec = toml::from_str(text).map_err(|e| Error::Parse {
        file: file.to_path_buf(),
        message: e.to_string(),
    })?;
    let issues = spec.validate(purpose);
    if issues.is_empty() {
        Ok(spec)
    } else {
        Err(Error::Invalid {
            file: file.to_path_buf(),
            issues,
        })
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl ProtocolSpec {
    /// Time step, ms.
    pub fn dt(&self) -> f64 {
        self.simulation.dt
    }

    /// Synaptic delay, ms.
    pub fn delay(&self) -> f64 {
        self.synapse.delay.unwrap_or(self.simulation.dt)
    }

    /// Field prefix of phase `k` (`phase.<name>` or `phase[k]`).
    pub fn phase_field(&self, k: usize) -> String {
        let n = &self.phases[k].name;
        if valid_name(n) {
            format!("phase.{n}")
        } else {
            format!("phase[{k}]")
        }
    }

    /// Index of the induction phase a sweep acts on: the named one, or the only one.
    pub fn swept_phase(&self, name: Option<&str>) -> std::result::Result<usize, String> {
        match name {
            Some(n) => match self.phases.iter().position(|p| p.name == n) {
                Some(k) if self.phases[k].stimulus.is_induction() => Ok(k),
                Some(_) => Err(format!(
                    "phase '{n}' has no pairing or bursts stimulus; a sweep needs an induction phase"
                )),
                None => Err(format!(
                    "no phase named '{n}'; phases: {}",
                    self.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                )),
            },
            None => {
                let ind: Vec<usize> = (0..self.phases.len()).filter(|&k| self.phases[k].stimulus.is_induction()).collect();
                match ind.len() {
                    1 => Ok(ind[0]),
                    0 => Err("no phase has a pairing or bursts stimulus; add an induction phase".into()),
                    _ => Err(format!(
                        "{} phases pair pre and post ({}); name the swept one with `phase`",
                        ind.len(),
                        ind.iter().map(|&k| self.phases[k].name.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                }
            }
        }
    }

    /// Every problem, with the dotted field, the value and what is allowed.
    pub fn validate(&self, purpose: Purpose) -> Vec<SpecIssue> {
        let mut is = Vec::new();
        let mut bad = |f: String, m: String| is.push(SpecIssue::new(f, m));
        let dt = self.simulation.dt;
        let dt_ok = dt.is_finite() && dt > 0.0;
        if !dt_ok {
            bad("simulation.dt".into(), format!("value {dt} ms is not allowed; must be > 0"));
        }
        let multiple = |x: f64| dt_ok && is_multiple(x, dt);
        // post neuron
        let neuron = &self.post.neuron;
        // The protocols measure EPSPs on a membrane; sources and the linear Poisson neuron have none.
        if neuron.is_source() || matches!(neuron, crate::neuron::NeuronSpec::PoissonLinear(_)) {
            bad(
                "post.neuron.model".into(),
                format!(
                    "value '{}' is not allowed; the post neuron needs a membrane: lif_cuba, lif_coba or lif_delta",
                    neuron.name()
                ),
            );
        } else if dt_ok {
            let mut ni = Vec::new();
            neuron.validate("post.neuron", dt, 1, &mut ni);
            for i in ni {
                bad(i.field, i.message);
            }
        }
        let wu = neuron.weight_unit();
        // synapse
        let w = self.synapse.weight;
        if !(w.is_finite() && w >= 0.0) {
            bad(
                "synapse.weight".into(),
                format!("value {w} {wu} is not allowed; weights are magnitudes (>= 0), the sign comes from pre.type"),
            );
        }
        let d = self.delay();
        if !(d.is_finite() && d >= dt * (1.0 - 1e-9) && multiple(d)) {
            bad(
                "synapse.delay".into(),
                format!("value {d} ms is not allowed; must be a whole number of steps, at least dt = {dt} ms"),
            );
        }
        match self.synapse.plasticity.try_build() {
            Err(errs) => {
                for e in errs {
                    bad(
                        format!("synapse.{}", e.field),
                        format!("value {} is not allowed; {}", e.value, e.allowed),
                    );
                }
            }
            Ok(r) => {
                if w.is_finite() && w >= 0.0 && (w < r.w_min() || w > r.w_max()) {
                    bad(
                        "synapse.weight".into(),
                        format!(
                            "value {w} {wu} lies outside the plasticity bounds [{}, {}]; the initial weight must lie within [w_min, w_max]",
                            r.w_min(),
                            r.w_max()
                        ),
                    );
                }
            }
        }
        // measure, record
        let pw = self.measure.psp_window;
        if !(pw.is_finite() && pw >= dt && multiple(pw)) {
            bad(
                "measure.psp_window".into(),
                format!("value {pw} ms is not allowed; must be a whole number of steps (dt = {dt} ms), > 0"),
            );
        }
        if let Some(iv) = self.record.interval {
            if !(iv.is_finite() && iv > 0.0 && multiple(iv)) {
                bad(
                    "record.interval".into(),
                    format!("value {iv} ms is not allowed; must be a positive multiple of dt = {dt} ms"),
                );
            } else if self.record.membrane != MembraneRecord::All {
                bad(
                    "record.interval".into(),
                    "is only used with membrane = \"all\"; remove it or set membrane = \"all\"".into(),
                );
            }
        }
        // phases
        if self.phases.is_empty() {
            bad("phase".into(), "no phases; give at least one [[phase]]".into());
        }
        let mut names = HashSet::new();
        for (k, ph) in self.phases.iter().enumerate() {
            let f = self.phase_field(k);
            if !valid_name(&ph.name) {
                bad(
                    format!("{f}.name"),
                    format!("value '{}' is not allowed; use letters, digits, '_' and '-'", ph.name),
                );
            } else if !names.insert(ph.name.as_str()) {
                bad(
                    format!("{f}.name"),
                    format!("'{}' is used by two phases; names must be unique", ph.name),
                );
            }
            let non_neg_ms = |x: f64| x.is_finite() && x >= 0.0 && multiple(x);
            if !(non_neg_ms(ph.onset) && ph.onset > 0.0) {
                bad(
                    format!("{f}.onset"),
                    format!(
                        "value {} ms is not allowed; must be a whole number of steps (dt = {dt} ms), at least one step",
                        ph.onset
                    ),
                );
            }
            match (ph.rest, ph.duration) {
                (Some(_), Some(_)) => bad(
                    format!("{f}.rest"),
                    "give either rest (quiet time after the last stimulus) or duration (length of the phase), not both".into(),
                ),
                (None, None) if matches!(ph.stimulus, Stimulus::None) => bad(
                    format!("{f}.duration"),
                    "missing; a phase without stimulus needs its duration (ms)".into(),
                ),
                (Some(r), None) if !non_neg_ms(r) => bad(
                    format!("{f}.rest"),
                    format!("value {r} ms is not allowed; must be a whole number of steps (dt = {dt} ms), >= 0"),
                ),
                (None, Some(x)) if !(non_neg_ms(x) && x > 0.0) => bad(
                    format!("{f}.duration"),
                    format!("value {x} ms is not allowed; must be a whole number of steps (dt = {dt} ms), > 0"),
                ),
                _ => {}
            }
            let sf = format!("{f}.stimulus");
            match &ph.stimulus {
                Stimulus::None => {}
                Stimulus::TestPulses { count, interval } => {
                    if *count == 0 {
                        bad(format!("{sf}.count"), "value 0 is not allowed; must be >= 1".into());
                    }
                    if !(interval.is_finite() && *interval >= pw && multiple(*interval)) {
                        bad(
                            format!("{sf}.interval"),
                            format!(
                                "value {interval} ms is not allowed; test pulses must be isolated: a whole number of steps >= measure.psp_window = {pw} ms"
                            ),
                        );
                    }
                }
                Stimulus::Pairing {
                    count,
                    frequency,
                    lag,
                    post_spike,
                } => {
                    if *count == 0 {
                        bad(format!("{sf}.count"), "value 0 is not allowed; must be >= 1".into());
                    }
                    check_freq(&mut bad, &sf, *frequency, dt);
                    check_lag(&mut bad, &format!("{sf}.lag"), *lag, dt, dt_ok);
                    check_post_spike(&mut bad, &sf, post_spike, neuron, dt, dt_ok);
                }
                Stimulus::Bursts {
                    pairings,
                    bursts,
                    frequency,
                    burst_interval,
                    lag,
                    post_spike,
                } => {
                    if *pairings == 0 {
                        bad(format!("{sf}.pairings"), "value 0 is not allowed; must be >= 1".into());
                    }
                    if *bursts == 0 {
                        bad(format!("{sf}.bursts"), "value 0 is not allowed; must be >= 1".into());
                    }
                    check_freq(&mut bad, &sf, *frequency, dt);
                    check_lag(&mut bad, &format!("{sf}.lag"), *lag, dt, dt_ok);
                    check_post_spike(&mut bad, &sf, post_spike, neuron, dt, dt_ok);
                    let span = (*pairings as f64 - 1.0).max(0.0) * 1000.0 / frequency + lag.abs();
                    if !(burst_interval.is_finite() && *burst_interval > span) {
                        bad(
                            format!("{sf}.burst_interval"),
                            format!(
                                "value {burst_interval} ms is not allowed; must exceed the length of a burst, {} ms",
                                round6(span)
                            ),
                        );
                    }
                }
            }
            // Long enough for the last event to reach the synapse and its PSP to be measured.
            if let (Some(r), Stimulus::TestPulses { .. }) = (ph.rest, &ph.stimulus) {
                if r < pw && r.is_finite() {
                    bad(
                        format!("{f}.rest"),
                        format!("value {r} ms is too short; the last test pulse needs measure.psp_window = {pw} ms"),
                    );
                }
            }
            if let (Some(r), true) = (ph.rest, ph.stimulus.is_induction()) {
                if r.is_finite() && r < d + 2.0 * dt {
                    bad(
                        format!("{f}.rest"),
                        format!(
                            "value {r} ms is too short; the last postsynaptic spike reaches the synapse one delay later: rest must be >= delay + 2 dt = {} ms",
                            round6(d + 2.0 * dt)
                        ),
                    );
                }
            }
        }
        // sweeps
        let lag_list = |bad: &mut dyn FnMut(String, String), field: &str, lags: &[f64]| {
            if lags.is_empty() {
                bad(field.into(), "is empty; give at least one lag (ms)".into());
            }
            for &l in lags {
                check_lag(bad, field, l, dt, dt_ok);
            }
        };
        match purpose {
            Purpose::Pairing => {
                if self.phases.iter().all(|p| !p.stimulus.is_induction()) {
                    bad(
                        "phase".into(),
                        "no phase has a pairing or bursts stimulus; a pairing protocol needs an induction phase".into(),
                    );
                }
            }
            Purpose::Window => match &self.window {
                None => bad(
                    "window".into(),
                    "missing; `hebb protocol window` needs a [window] table with `lags` (ms)".into(),
                ),
                Some(wd) => {
                    if let Err(m) = self.swept_phase(wd.phase.as_deref()) {
                        bad("window.phase".into(), m);
                    }
                    lag_list(&mut bad, "window.lags", &wd.lags);
                    if wd.data == Some(DataSet::Sjostrom2001) {
                        bad(
                            "window.data".into(),
                            "value 'sjostrom2001' is not allowed here; it is a frequency data set (use it in [frequency]); allowed: bi_poo1998".into(),
                        );
                    }
                }
            },
            Purpose::Frequency => match &self.frequency {
                None => bad(
                    "frequency".into(),
                    "missing; `hebb protocol frequency` needs a [frequency] table with `frequencies` (Hz) and `lags` (ms)".into(),
                ),
                Some(fr) => {
                    if let Err(m) = self.swept_phase(fr.phase.as_deref()) {
                        bad("frequency.phase".into(), m);
                    }
                    lag_list(&mut bad, "frequency.lags", &fr.lags);
                    if fr.frequencies.is_empty() {
                        bad("frequency.frequencies".into(), "is empty; give at least one frequency (Hz)".into());
                    }
                    for &x in &fr.frequencies {
                        check_freq(&mut bad, "frequency", x, dt);
                    }
                    if fr.data == Some(DataSet::BiPoo1998) {
                        bad(
                            "frequency.data".into(),
                            "value 'bi_poo1998' is not allowed here; it is a window data set; allowed: sjostrom2001".into(),
                        );
                    }
                }
            },
        }
        is
    }
}

/// `x` rounded to 6 decimals, for messages.
pub(crate) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn check_freq(bad: &mut dyn FnMut(String, String), sf: &str, f: f64, dt: f64) {
    let max = 1000.0 / dt.max(1e-12);
    if !(f.is_finite() && f > 0.0 && f < max) {
        let field = if sf == "frequency" {
            "frequency.frequencies".to_string()
        } else {
            format!("{sf}.frequency")
        };
        bad(
            field,
            format!("value {f} Hz is not allowed; must be > 0 and below 1/dt = {} Hz", round6(max)),
        );
    }
}

fn check_lag(bad: &mut dyn FnMut(String, String), field: &str, lag: f64, dt: f64, dt_ok: bool) {
    if !(lag.is_finite() && dt_ok && is_multiple(lag, dt)) {
        bad(
            field.into(),
            format!("value {lag} ms is not allowed; a lag must be a whole number of steps (dt = {dt} ms), of either sign"),
        );
    }
}

fn check_post_spike(bad: &mut dyn FnMut(String, String), sf: &str, ps: &PostSpike, neuron: &NeuronSpec, dt: f64, dt_ok: bool) {
    match ps {
        PostSpike::InputSpike { weight } => {
            if !(weight.is_finite() && *weight > 0.0) {
                bad(
                    format!("{sf}.post_spike.weight"),
                    format!("value {weight} {} is not allowed; must be > 0", neuron.weight_unit()),
                );
            }
        }
        PostSpike::CurrentPulse { amplitude, duration } => {
            if !(amplitude.is_finite() && *amplitude > 0.0) {
                bad(
                    format!("{sf}.post_spike.amplitude"),
                    format!("value {amplitude} {} is not allowed; must be > 0", neuron.current_unit()),
                );
            }
            if !(duration.is_finite() && *duration >= dt * (1.0 - 1e-9) && dt_ok && is_multiple(*duration, dt)) {
                bad(
                    format!("{sf}.post_spike.duration"),
                    format!("value {duration} ms is not allowed; must be a whole number of steps, at least dt = {dt} ms"),
                );
            }
        }
    }
}
