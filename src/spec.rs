//! The model file: a declarative TOML description (serde, unknown fields rejected) that
//! [`crate::build`] turns into a runnable [`crate::Network`]. The README's "Model file reference"
//! documents every field; this module is its source of truth.
//!
//! ```toml
//! [simulation]
//! dt = 0.1          # ms
//! duration = 1000.0 # ms
//! seed = 1
//!
//! [[population]]
//! name = "exc"
//! type = "excitatory"          # or "inhibitory": the sign of every outgoing weight (Dale's law)
//! size = 3200
//! neuron = { model = "lif_cuba", tau_m = 20.0, e_l = -49.0 }
//! initial = { v = { uniform = { low = -60.0, high = -50.0 } } }
//!
//! [[projection]]
//! pre = "exc"
//! post = "inh"
//! connectivity = { rule = "fixed_probability", p = 0.02 }
//! weight = 1.62   # magnitude, unit of the postsynaptic model
//! delay = 0.1     # ms, >= dt
//! ```

use crate::error::{Error, Result, SpecIssue};
use crate::neuron::{is_multiple, NeuronSpec};
use crate::quantity::Quantity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Excitatory or inhibitory: the sign of a population's outgoing weights and the receptor they
/// reach (the diagonal matrix D of the source article).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Outgoing weights excite (D = +1).
    Excitatory,
    /// Outgoing weights inhibit (D = -1).
    Inhibitory,
}

impl Kind {
    /// +1 or -1.
    pub fn sign(self) -> f64 {
        match self {
            Kind::Excitatory => 1.0,
            Kind::Inhibitory => -1.0,
        }
    }
    /// Name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Excitatory => "excitatory",
            Kind::Inhibitory => "inhibitory",
        }
    }
}

/// A whole model.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Free text: what the model is and which paper it reproduces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Time step, duration, seed.
    pub simulation: SimulationSpec,
    /// Populations, in order (node ids and random streams follow this order).
    #[serde(rename = "population")]
    pub populations: Vec<PopulationSpec>,
    /// Projections.
    #[serde(rename = "projection", default)]
    pub projections: Vec<ProjectionSpec>,
    /// External drive.
    #[serde(rename = "input", default)]
    pub inputs: Vec<InputSpec>,
    /// What to record.
    #[serde(default)]
    pub record: RecordSpec,
}

/// `[simulation]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// Time step, ms (default 0.1).
    #[serde(default = "default_dt")]
    pub dt: f64,
    /// Simulated time, ms.
    pub duration: f64,
    /// Seed of every random stream (default 0).
    #[serde(default)]
    pub seed: u64,
}

fn default_dt() -> f64 {
    0.1
}

/// `[[population]]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// Unique name.
    pub name: String,
    /// `excitatory` or `inhibitory`.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Number of neurons (> 0).
    pub size: usize,
    /// Neuron model and its parameters.
    pub neuron: NeuronSpec,
    /// Initial values of state variables (constants or distributions); unspecified ones start at rest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub initial: BTreeMap<String, Quantity>,
}

/// `[[projection]]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    /// Unique name (default `<pre>_to_<post>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Presynaptic population.
    pub pre: String,
    /// Postsynaptic population.
    pub post: String,
    /// How pairs are chosen.
    pub connectivity: Connectivity,
    /// Weight magnitude (>= 0; unit of the postsynaptic model: mV for lif_cuba/lif_delta, nS for
    /// lif_coba). Distributions that can go negative are clipped at 0.
    #[serde(default = "default_weight")]
    pub weight: Quantity,
    /// Delay, ms (>= dt; rounded to whole steps). Default: one step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Quantity>,
    /// Synaptic plasticity (see [`crate::plasticity::RuleSpec`]); the projection is static without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plasticity: Option<crate::plasticity::RuleSpec>,
}

fn default_weight() -> Quantity {
    Quantity::Constant(1.0)
}

impl ProjectionSpec {
    /// The name, or `<pre>_to_<post>`.
    pub fn resolved_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("{}_to_{}", self.pre, self.post))
    }

    /// The one weight of every synapse, when the projection is static and its weight a constant
    /// (not drawn, not listed per synapse): it is then stored once (`synapse::Weights::Uniform`).
    pub fn uniform_weight(&self) -> Option<f64> {
        let listed = matches!(self.connectivity, Connectivity::Explicit { weight: Some(_), .. });
        self.weight.as_constant().filter(|_| self.plasticity.is_none() && !listed)
    }
}

/// Connectivity rules (see [`crate::synapse::connect`]).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Connectivity {
    /// Every pre to every post.
    AllToAll {
        /// Allow i -> i within one population.
        #[serde(default)]
        autapses: bool,
    },
    /// Pre i to post i.
    OneToOne,
    /// Each pair independently with probability p.
    FixedProbability {
        /// Connection probability in [0, 1].
        p: f64,
        /// Allow i -> i.
        #[serde(default)]
        autapses: bool,
    },
    /// Each post neuron receives exactly k inputs.
    FixedIndegree {
        /// In-degree.
        k: u32,
        /// Allow i -> i.
        #[serde(default)]
        autapses: bool,
        /// Allow the same pair more than once.
        #[serde(default)]
        multapses: bool,
    },
    /// Each pre neuron makes exactly k outputs.
    FixedOutdegree {
        /// Out-degree.
        k: u32,
        /// Allow i -> i.
        #[serde(default)]
        autapses: bool,
        /// Allow the same pair more than once.
        #[serde(default)]
        multapses: bool,
    },
    /// An explicit list of synapses.
    Explicit {
        /// Presynaptic neuron of each synapse.
        pre: Vec<u32>,
        /// Postsynaptic neuron of each synapse.
        post: Vec<u32>,
        /// Optional weight of each synapse (overrides the projection's `weight`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weight: Option<Vec<f64>>,
        /// Optional delay of each synapse, ms (overrides the projection's `delay`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delay: Option<Vec<f64>>,
    },
}

/// `[[input]]`: external drive of a population.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputSpec {
    /// `count` independent Poisson trains of `rate` per target neuron, each spike adding `weight`
    /// to the `receptor` input of the neuron at the step it occurs.
    Poisson {
        /// Target population.
        target: String,
        /// Rate of each train, Hz.
        rate: f64,
        /// Trains per neuron (default 1).
        #[serde(default = "one")]
        count: u32,
        /// Weight magnitude (unit of the target model).
        weight: f64,
        /// `excitatory` (default) or `inhibitory`.
        #[serde(default = "exc")]
        receptor: Kind,
        /// Target neurons (default all).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        neurons: Option<Vec<u32>>,
    },
    /// Input spikes at given times into given neurons.
    SpikeTimes {
        /// Target population.
        target: String,
        /// Times, ms.
        times: Vec<f64>,
        /// Target neurons (default all).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        neurons: Option<Vec<u32>>,
        /// Weight magnitude.
        weight: f64,
        /// `excitatory` (default) or `inhibitory`.
        #[serde(default = "exc")]
        receptor: Kind,
    },
    /// A constant current from `start` to `stop` (unit: mV as R·I for lif_cuba/lif_delta, pA for lif_coba).
    Current {
        /// Target population.
        target: String,
        /// Amplitude.
        amplitude: f64,
        /// Start, ms (default 0).
        #[serde(default)]
        start: f64,
        /// Stop, ms (default: never).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stop: Option<f64>,
        /// Target neurons (default all).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        neurons: Option<Vec<u32>>,
    },
    /// A piecewise-constant current: `amplitudes[k]` from `times[k]` on.
    StepCurrent {
        /// Target population.
        target: String,
        /// Change times, ms (increasing).
        times: Vec<f64>,
        /// Amplitudes after each change.
        amplitudes: Vec<f64>,
        /// Target neurons (default all).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        neurons: Option<Vec<u32>>,
    },
}

fn one() -> u32 {
    1
}
fn exc() -> Kind {
    Kind::Excitatory
}

impl InputSpec {
    /// Target population.
    pub fn target(&self) -> &str {
        match self {
            InputSpec::Poisson { target, .. }
            | InputSpec::SpikeTimes { target, .. }
            | InputSpec::Current { target, .. }
            | InputSpec::StepCurrent { target, .. } => target,
        }
    }
    /// Target neurons, if a subset.
    pub fn neurons(&self) -> Option<&Vec<u32>> {
        match self {
            InputSpec::Poisson { neurons, .. }
            | InputSpec::SpikeTimes { neurons, .. }
            | InputSpec::Current { neurons, .. }
            | InputSpec::StepCurrent { neurons, .. } => neurons.as_ref(),
        }
    }
}

/// Which populations (spikes) or projections (weights) to record: `"all"`, `"none"` or a list of names.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Selection {
    /// `"all"` or `"none"`.
    Keyword(String),
    /// Population names.
    List(Vec<String>),
}

impl Default for Selection {
    fn default() -> Self {
        Selection::Keyword("all".into())
    }
}

/// `[record]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    /// Spikes of which populations (default all).
    #[serde(default)]
    pub spikes: Selection,
    /// Record spikes of at most this many neurons per population (the first ones; default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spikes_max_neurons: Option<usize>,
    /// Sampled state variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state: Vec<StateRecordSpec>,
    /// Bin of the recorded population rate, ms (default: not recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_bin: Option<f64>,
    /// Projections written to `weights.h5`: `"all"` (default), `"none"` or a list of names.
    #[serde(default)]
    pub weights: Selection,
    /// Interval of weight snapshots of plastic projections, ms (default: only at the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_interval: Option<f64>,
}

/// `[[record.state]]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateRecordSpec {
    /// Population.
    pub population: String,
    /// Variables (`v`, `i_exc`, `i_inh`, `g_exc`, `g_inh`; default `["v"]`).
    #[serde(default = "default_vars")]
    pub variables: Vec<String>,
    /// Neurons (default the first 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neurons: Option<Vec<u32>>,
    /// Sampling interval, ms (a multiple of dt; default dt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
}

fn default_vars() -> Vec<String> {
    vec!["v".into()]
}

/// Read a model file, apply `--set` overrides, parse and validate it. Returns the spec and the
/// resolved model text (with the overrides applied), which run outputs store.
pub fn load(path: &Path, overrides: &[String]) -> Result<(ModelSpec, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, format!("cannot read model file: {e}")))?;
    parse(&text, path, overrides)
}

/// Parse model text (`file` is used in messages).
pub fn parse(text: &str, file: &Path, overrides: &[String]) -> Result<(ModelSpec, String)> {
    let perr = |m: String| Error::Parse {
        file: file.to_path_buf(),
        message: m,
    };
    let (spec, resolved) = if overrides.is_empty() {
        let spec: ModelSpec = toml::from_str(text).map_err(|e| perr(e.to_string()))?;
        (spec, text.to_string())
    } else {
        let mut value: toml::Table = toml::from_str(text).map_err(|e| perr(e.to_string()))?;
        for o in overrides {
            apply_override(&mut value, o)?;
        }
        let resolved = toml::to_string(&value).map_err(|e| perr(e.to_string()))?;
        let spec: ModelSpec = toml::from_str(&resolved).map_err(|e| perr(format!("after applying --set overrides: {e}")))?;
        (spec, resolved)
    };
    let issues = spec.validate();
    if !issues.is_empty() {
        return Err(Error::Invalid {
            file: file.to_path_buf(),
            issues,
        });
    }
    Ok((spec, resolved))
}

/// Apply one `path.to.field=value` override. Arrays of tables (`population`, `projection`,
/// `input`) are addressed by an element's `name` (or its index): `population.exc.size=8000`.
/// Plural aliases (`populations.exc.size`) are accepted.
pub fn apply_override(root: &mut toml::Table, o: &str) -> Result<()> {
    let bad = |m: &str| Error::Usage(format!("--set {o}: {m}"));
    let (path, raw) = o
        .split_once('=')
        .ok_or_else(|| bad("expected FIELD=VALUE, e.g. population.exc.size=8000"))?;
    let value: toml::Value = match toml::from_str::<toml::Table>(&format!("x = {raw}")) {
        Ok(mut t) => t.remove("x").unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let parts: Vec<&str> = path.trim().split('.').collect();
    let mut cur: &mut toml::Table = root;
    let mut i = 0;
    while i + 1 < parts.len() {
        let key = match parts[i] {
            "populations" => "population",
            "projections" => "projection",
            "inputs" => "input",
            k => k,
        };
        let entry = cur.entry(key.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            toml::Value::Array(arr) => {
                i += 1;
                let sel = parts[i];
                let idx = arr
                    .iter()
                    .position(|v| v.get("name").and_then(|n| n.as_str()) == Some(sel))
                    .or_else(|| sel.parse::<usize>().ok().filter(|&k| k < arr.len()))
                    .or_else(|| {
                        // projections without a name: `<pre>_to_<post>`
                        arr.iter().position(
                            |v| match (v.get("pre").and_then(|x| x.as_str()), v.get("post").and_then(|x| x.as_str())) {
                                (Some(a), Some(b)) => format!("{a}_to_{b}") == sel && v.get("name").is_none(),
                                _ => false,
                            },
                        )
                    })
                    .ok_or_else(|| bad(&format!("no {key} named '{sel}'")))?;
                match &mut arr[idx] {
                    toml::Value::Table(t) => t,
                    _ => return Err(bad(&format!("{key}.{sel} is not a table"))),
                }
            }
            _ => return Err(bad(&format!("'{}' is not a table", parts[..=i].join(".")))),
        };
        i += 1;
    }
    let last = parts.last().copied().unwrap_or("");
    if last.is_empty() {
        return Err(bad("empty field name"));
    }
    cur.insert(last.to_string(), value);
    Ok(())
}

impl ModelSpec {
    /// Number of steps of the simulation.
    pub fn steps(&self) -> u64 {
        (self.simulation.duration / self.simulation.dt).round() as u64
    }

    /// Index of a population by name.
    pub fn population_index(&self, name: &str) -> Option<usize> {
        self.populations.iter().position(|p| p.name == name)
    }

    /// Every problem with the values (empty when the model is valid).
    pub fn validate(&self) -> Vec<SpecIssue> {
        let mut issues = Vec::new();
        let dt = self.simulation.dt;
        if !(dt.is_finite() && dt > 0.0) {
            issues.push(SpecIssue::new(
                "simulation.dt",
                format!("value {dt} ms is not allowed; the time step must be > 0"),
            ));
            return issues; // everything below depends on dt
        }
        let dur = self.simulation.duration;
        if !(dur.is_finite() && dur >= 0.0) {
            issues.push(SpecIssue::new(
                "simulation.duration",
                format!("value {dur} ms is not allowed; must be >= 0"),
            ));
        }
        if self.populations.is_empty() {
            issues.push(SpecIssue::new(
                "population",
                "the model has no population; declare at least one [[population]]",
            ));
        }
        let mut names = HashSet::new();
        for p in &self.populations {
            let f = format!("population.{}", p.name);
            if p.name.is_empty() || !p.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                issues.push(SpecIssue::new(
                    format!("{f}.name"),
                    format!("value '{}' is not allowed; use letters, digits, '_' and '-'", p.name),
                ));
            }
            if !names.insert(p.name.as_str()) {
                issues.push(SpecIssue::new(
                    format!("{f}.name"),
                    format!("population '{}' is declared twice; names must be unique", p.name),
                ));
            }
            if p.size == 0 {
                issues.push(SpecIssue::new(
                    format!("{f}.size"),
                    "value 0 is not allowed; a population needs at least one neuron",
                ));
            }
            if p.size > u32::MAX as usize {
                issues.push(SpecIssue::new(
                    format!("{f}.size"),
                    format!("value {} is too large; at most {} neurons per population", p.size, u32::MAX),
                ));
            }
            p.neuron.validate(&format!("{f}.neuron"), dt, p.size, &mut issues);
            let vars = p.neuron.state_variables();
            for (k, q) in &p.initial {
                if !vars.iter().any(|(n, _)| n == k) {
                    let allowed: Vec<_> = vars.iter().map(|(n, _)| *n).collect();
                    issues.push(SpecIssue::new(
                        format!("{f}.initial.{k}"),
                        format!(
                            "'{k}' is not a state variable of {}; allowed: {}",
                            p.neuron.name(),
                            if allowed.is_empty() {
                                "none".to_string()
                            } else {
                                allowed.join(", ")
                            }
                        ),
                    ));
                }
                let nonneg = k.starts_with("g_");
                q.validate(&format!("{f}.initial.{k}"), nonneg, "conductances are non-negative", &mut issues);
            }
        }
        let pop = |name: &str| self.populations.iter().find(|p| p.name == name);
        let mut proj_names = HashSet::new();
        for (k, pr) in self.projections.iter().enumerate() {
            let name = pr.resolved_name();
            let f = format!("projection.{name}");
            if !proj_names.insert(name.clone()) {
                issues.push(SpecIssue::new(
                    format!("projection[{k}].name"),
                    format!("projection '{name}' is declared twice; give each a unique name"),
                ));
            }
            let (Some(pre), Some(post)) = (pop(&pr.pre), pop(&pr.post)) else {
                for (side, n) in [("pre", &pr.pre), ("post", &pr.post)] {
                    if pop(n).is_none() {
                        issues.push(SpecIssue::new(
                            format!("{f}.{side}"),
                            format!(
                                "no population named '{n}'; declared: {}",
                                self.populations.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
                continue;
            };
            if post.neuron.is_source() {
                issues.push(SpecIssue::new(
                    format!("{f}.post"),
                    format!("population '{}' is a {} and cannot receive synapses", post.name, post.neuron.name()),
                ));
            }
            let dale = format!(
                "weights are magnitudes (>= 0); the sign comes from the presynaptic population '{}' ({}), Dale's law",
                pre.name,
                pre.kind.name()
            );
            pr.weight.validate(&format!("{f}.weight"), true, &dale, &mut issues);
            if let Some(d) = &pr.delay {
                d.validate(&format!("{f}.delay"), true, "delays are >= dt", &mut issues);
                if let Some(c) = d.as_constant() {
                    if c.is_finite() && c < dt * (1.0 - 1e-9) {
                        issues.push(SpecIssue::new(
                            format!("{f}.delay"),
                            format!("value {c} ms is shorter than dt = {dt} ms; delays must be at least one step"),
                        ));
                    } else if c.is_finite() && c > dt * u16::MAX as f64 {
                        issues.push(SpecIssue::new(
                            format!("{f}.delay"),
                            format!("value {c} ms is longer than {} steps", u16::MAX),
                        ));
                    }
                }
            }
            if let Some(rule) = &pr.plasticity {
                match rule.try_build() {
                    Err(errs) => {
                        for e in errs {
                            issues.push(SpecIssue::new(
                                format!("{f}.{}", e.field),
                                format!("value {} is not allowed; {}", e.value, e.allowed),
                            ));
                        }
                    }
                    Ok(r) => {
                        if pr.delay.as_ref().is_some_and(|d| d.as_constant().is_none())
                            || matches!(&pr.connectivity, Connectivity::Explicit { delay: Some(_), .. })
                        {
                            issues.push(SpecIssue::new(
                                format!("{f}.delay"),
                                "a plastic projection needs one constant delay (the postsynaptic traces are kept per delay)",
                            ));
                        }
                        let (lo, hi) = (r.w_min(), r.w_max());
                        let mut check_w = |w: f64, field: String| {
                            if w < lo || w > hi {
                                issues.push(SpecIssue::new(field, format!("value {w} lies outside the plasticity bounds [{lo}, {hi}]; initial weights must lie within [w_min, w_max]")));
                            }
                        };
                        match (&pr.weight, &pr.connectivity) {
                            (_, Connectivity::Explicit { weight: Some(ws), .. }) => {
                                if let Some(w) = ws.iter().find(|w| **w < lo || **w > hi) {
                                    check_w(*w, format!("{f}.connectivity.weight"));
                                }
                            }
                            (Quantity::Constant(w), _) => check_w(*w, format!("{f}.weight")),
                            _ => {}
                        }
                    }
                }
            }
            let (n_pre, n_post) = (pre.size, post.size);
            let same = pr.pre == pr.post;
            match &pr.connectivity {
                Connectivity::FixedProbability { p, .. } => {
                    if !(p.is_finite() && (0.0..=1.0).contains(p)) {
                        issues.push(SpecIssue::new(
                            format!("{f}.connectivity.p"),
                            format!("value {p} is not a probability; must lie in [0, 1]"),
                        ));
                    }
                }
                Connectivity::OneToOne => {
                    if n_pre != n_post {
                        issues.push(SpecIssue::new(
                            format!("{f}.connectivity"),
                            format!(
                                "one_to_one needs equal sizes; '{}' has {n_pre} and '{}' has {n_post} neurons",
                                pre.name, post.name
                            ),
                        ));
                    }
                }
                Connectivity::FixedIndegree {
                    k: deg,
                    autapses,
                    multapses,
                }
                | Connectivity::FixedOutdegree {
                    k: deg,
                    autapses,
                    multapses,
                } => {
                    let pool = if matches!(pr.connectivity, Connectivity::FixedIndegree { .. }) {
                        n_pre
                    } else {
                        n_post
                    };
                    let pool = pool - (same && !autapses) as usize;
                    if (*deg as usize > pool && !multapses) || (pool == 0 && *deg > 0) {
                        issues.push(SpecIssue::new(
                            format!("{f}.connectivity.k"),
                            format!("value {deg} exceeds the {pool} available partners; use k <= {pool} or multapses = true"),
                        ));
                    }
                }
                Connectivity::Explicit {
                    pre: a,
                    post: b,
                    weight,
                    delay,
                } => {
                    if a.len() != b.len() {
                        issues.push(SpecIssue::new(
                            format!("{f}.connectivity.post"),
                            format!("has {} entries but pre has {}; the lists must have equal length", b.len(), a.len()),
                        ));
                    }
                    if let Some(j) = a.iter().find(|&&j| j as usize >= n_pre) {
                        issues.push(SpecIssue::new(
                            format!("{f}.connectivity.pre"),
                            format!("neuron {j} does not exist; '{}' has neurons 0..{}", pre.name, n_pre),
                        ));
                    }
                    if let Some(i) = b.iter().find(|&&i| i as usize >= n_post) {
                        issues.push(SpecIssue::new(
                            format!("{f}.connectivity.post"),
                            format!("neuron {i} does not exist; '{}' has neurons 0..{}", post.name, n_post),
                        ));
                    }
                    if let Some(w) = weight {
                        if w.len() != a.len() {
                            issues.push(SpecIssue::new(
                                format!("{f}.connectivity.weight"),
                                format!("has {} entries for {} synapses", w.len(), a.len()),
                            ));
                        }
                        if let Some(x) = w.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                            issues.push(SpecIssue::new(
                                format!("{f}.connectivity.weight"),
                                format!("value {x} is not allowed; {dale}"),
                            ));
                        }
                    }
                    if let Some(d) = delay {
                        if d.len() != a.len() {
                            issues.push(SpecIssue::new(
                                format!("{f}.connectivity.delay"),
                                format!("has {} entries for {} synapses", d.len(), a.len()),
                            ));
                        }
                        if let Some(x) = d.iter().find(|x| !(x.is_finite() && **x >= dt * (1.0 - 1e-9))) {
                            issues.push(SpecIssue::new(
                                format!("{f}.connectivity.delay"),
                                format!("value {x} ms is shorter than dt = {dt} ms; delays must be at least one step"),
                            ));
                        }
                    }
                }
                Connectivity::AllToAll { .. } => {}
            }
        }
        for (k, inp) in self.inputs.iter().enumerate() {
            let f = format!("input[{k}]");
            let Some(t) = pop(inp.target()) else {
                issues.push(SpecIssue::new(
                    format!("{f}.target"),
                    format!("no population named '{}'", inp.target()),
                ));
                continue;
            };
            if t.neuron.is_source() {
                issues.push(SpecIssue::new(
                    format!("{f}.target"),
                    format!("population '{}' is a {} and takes no input", t.name, t.neuron.name()),
                ));
            }
            if let Some(ns) = inp.neurons() {
                if let Some(i) = ns.iter().find(|&&i| i as usize >= t.size) {
                    issues.push(SpecIssue::new(
                        format!("{f}.neurons"),
                        format!("neuron {i} does not exist; '{}' has neurons 0..{}", t.name, t.size),
                    ));
                }
            }
            match inp {
                InputSpec::Poisson { rate, weight, .. } => {
                    if !(rate.is_finite() && *rate >= 0.0) {
                        issues.push(SpecIssue::new(
                            format!("{f}.rate"),
                            format!("value {rate} Hz is not allowed; rates must be >= 0"),
                        ));
                    }
                    if !(weight.is_finite() && *weight >= 0.0) {
                        issues.push(SpecIssue::new(
                            format!("{f}.weight"),
                            format!("value {weight} is not allowed; weights are magnitudes (>= 0), the sign comes from `receptor`"),
                        ));
                    }
                }
                InputSpec::SpikeTimes { times, weight, .. } => {
                    if let Some(x) = times.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                        issues.push(SpecIssue::new(
                            format!("{f}.times"),
                            format!("value {x} ms is not allowed; times must be >= 0"),
                        ));
                    }
                    if !(weight.is_finite() && *weight >= 0.0) {
                        issues.push(SpecIssue::new(
                            format!("{f}.weight"),
                            format!("value {weight} is not allowed; weights are magnitudes (>= 0), the sign comes from `receptor`"),
                        ));
                    }
                }
                InputSpec::Current {
                    amplitude, start, stop, ..
                } => {
                    if !amplitude.is_finite() {
                        issues.push(SpecIssue::new(
                            format!("{f}.amplitude"),
                            format!("value {amplitude} is not a finite number"),
                        ));
                    }
                    if !(start.is_finite() && *start >= 0.0) {
                        issues.push(SpecIssue::new(
                            format!("{f}.start"),
                            format!("value {start} ms is not allowed; must be >= 0"),
                        ));
                    }
                    if let Some(s) = stop {
                        if s.is_nan() || s < start {
                            issues.push(SpecIssue::new(
                                format!("{f}.stop"),
                                format!("value {s} ms is before start = {start} ms"),
                            ));
                        }
                    }
                }
                InputSpec::StepCurrent { times, amplitudes, .. } => {
                    if times.len() != amplitudes.len() {
                        issues.push(SpecIssue::new(
                            format!("{f}.amplitudes"),
                            format!(
                                "has {} entries for {} times; give one amplitude per time",
                                amplitudes.len(),
                                times.len()
                            ),
                        ));
                    }
                    if times.windows(2).any(|w| w[1] < w[0]) || times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
                        issues.push(SpecIssue::new(format!("{f}.times"), "times must be >= 0 and increasing"));
                    }
                }
            }
        }
        let r = &self.record;
        match &r.spikes {
            Selection::Keyword(k) if k != "all" && k != "none" => {
                issues.push(SpecIssue::new(
                    "record.spikes",
                    format!("value '{k}' is not allowed; use \"all\", \"none\" or a list of population names"),
                ));
            }
            Selection::List(l) => {
                for n in l {
                    if pop(n).is_none() {
                        issues.push(SpecIssue::new("record.spikes", format!("no population named '{n}'")));
                    }
                }
            }
            _ => {}
        }
        match &r.weights {
            Selection::Keyword(k) if k != "all" && k != "none" => {
                issues.push(SpecIssue::new(
                    "record.weights",
                    format!("value '{k}' is not allowed; use \"all\", \"none\" or a list of projection names"),
                ));
            }
            Selection::List(l) => {
                for n in l {
                    if !self.projections.iter().any(|p| &p.resolved_name() == n) {
                        issues.push(SpecIssue::new("record.weights", format!("no projection named '{n}'")));
                    }
                }
            }
            _ => {}
        }
        if let Some(b) = r.weight_interval {
            if !(b.is_finite() && b > 0.0 && is_multiple(b, dt)) {
                issues.push(SpecIssue::new(
                    "record.weight_interval",
                    format!("value {b} ms is not allowed; must be a positive multiple of dt = {dt} ms"),
                ));
            }
        }
        if let Some(b) = r.rate_bin {
            if !(b.is_finite() && b > 0.0 && is_multiple(b, dt)) {
                issues.push(SpecIssue::new(
                    "record.rate_bin",
                    format!("value {b} ms is not allowed; must be a positive multiple of dt = {dt} ms"),
                ));
            }
        }
        for (k, s) in r.state.iter().enumerate() {
            let f = format!("record.state[{k}]");
            let Some(p) = pop(&s.population) else {
                issues.push(SpecIssue::new(
                    format!("{f}.population"),
                    format!("no population named '{}'", s.population),
                ));
                continue;
            };
            let vars = p.neuron.state_variables();
            for v in &s.variables {
                if !vars.iter().any(|(n, _)| n == v) {
                    let allowed: Vec<_> = vars.iter().map(|(n, _)| *n).collect();
                    issues.push(SpecIssue::new(
                        format!("{f}.variables"),
                        format!(
                            "'{v}' is not a state variable of {}; allowed: {}",
                            p.neuron.name(),
                            if allowed.is_empty() { "none".into() } else { allowed.join(", ") }
                        ),
                    ));
                }
            }
            if let Some(ns) = &s.neurons {
                if let Some(i) = ns.iter().find(|&&i| i as usize >= p.size) {
                    issues.push(SpecIssue::new(
                        format!("{f}.neurons"),
                        format!("neuron {i} does not exist; '{}' has neurons 0..{}", p.name, p.size),
                    ));
                }
            }
            if let Some(iv) = s.interval {
                if !(iv.is_finite() && iv > 0.0 && is_multiple(iv, dt)) {
                    issues.push(SpecIssue::new(
                        format!("{f}.interval"),
                        format!("value {iv} ms is not allowed; must be a positive multiple of dt = {dt} ms"),
                    ));
                }
            }
        }
        issues
    }
}
