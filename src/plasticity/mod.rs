//! Spike-timing plasticity rules: model-file specs, their runtime form, and their rate limits.
//!
//! Data flow: a model file holds a [`RuleSpec`] per plastic projection; [`RuleSpec::validate`]
//! names every bad field, [`RuleSpec::build`] turns a valid spec into a [`Rule`], which the
//! engine calls at spike events, and [`Rule::rate_limit`] gives the mean-field drift of the same
//! rule for independent Poisson trains (one definition, two uses).
//!
//! | file | rule |
//! |---|---|
//! | `pair.rs` | pair STDP, exponential windows, four pairing schemes, three weight dependences |
//! | `triplet.rs` | triplet STDP (Pfister & Gerstner 2006), all-to-all and nearest-spike, four presets |
//! | `vogels.rs` | inhibitory STDP (Vogels et al. 2011), Hebbian or anti-Hebbian |
//! | `non_hebbian.rs` | terms added to the pair and triplet rules: `a_pre`, `a_post`, `drift`, `beta` |
//!
//! # Engine contract
//!
//! **Traces are per neuron.** A rule lists the traces it reads on the presynaptic neuron
//! ([`Rule::pre_traces`]) and on the postsynaptic neuron ([`Rule::post_traces`]), each a
//! [`TraceSpec`]. The engine keeps one trace per (neuron, spec); it may share a trace between
//! projections whose specs are equal. A trace starts at 0 (the neuron has never spiked), decays
//! as `x(t) = x(t_s) exp(-(t - t_s)/tau)` after the neuron's last spike `t_s`, and at the
//! neuron's own spike becomes `x + 1` ([`TraceKind::Accumulate`]) or `1` ([`TraceKind::Nearest`]).
//!
//! **Readings are taken at t⁻.** The `pre`/`post` slices passed to [`Rule::on_pre`] and
//! [`Rule::on_post`] hold the traces decayed to the current time, *before* any spike of the
//! current step is counted, in the order of `pre_traces()`/`post_traces()`. Consequently a pre
//! and a post spike in the same step never pair with each other (Auryn's step order; NEST drops
//! exactly coincident pairs in the same way).
//!
//! **Call order within a step does not matter.** When both neurons of a synapse spike in the
//! same step the engine calls `on_pre` and `on_post` in either order (the second call gets
//! `elapsed_ms = 0`); every rule gives the same pairing either way (tested). Only the order of
//! applying the two weight increments differs, which matters only through clamping and the
//! weight dependence.
//!
//! **Nearest readings encode spike times.** The restricted nearest-neighbour pair scheme recovers
//! "time since the neuron's last spike" from its `Nearest` readings as `s = -tau ln x` and
//! compares the pre and post values. The engine must therefore compute a `Nearest` reading as
//! `exp(-(t - t_last)/tau)` from the stored spike time (not by repeatedly multiplying
//! per-step decay factors, which would drift by many ulps) so that two neurons that spiked in
//! the same step give equal `s` to ~1e-12 relative; spikes in different steps are then told
//! apart whenever `dt > 1e-9 (s + tau_plus + tau_minus)`, i.e. always in practice.
//!
//! **Per-synapse state.** Only where [`Rule::needs_synapse_state`] is true (pair STDP with the
//! presynaptic-centred scheme) the engine keeps one `f32` per synapse, initialised to `0.0`,
//! and passes it mutably to every `on_pre`/`on_post` of that synapse. Other rules ignore it (pass
//! any dummy).
//!
//! **`elapsed_ms`** is the time since the previous `on_pre`/`on_post` call *of this synapse*
//! (for the first call: since the synapse was created, or 0). The constant `drift` term is applied
//! lazily as `drift * elapsed_ms`, and the per-synapse state decays by `exp(-elapsed_ms/tau)`.
//! Every pre and every post spike of a synapse must reach the rule (no skipped events), or the
//! lazily decayed state and drift go wrong.
//!
//! **Weights** are `f32`; the rule computes in `f64` and rounds once, so a single increment
//! smaller than half an ulp of the weight (6e-8 relative) is lost. Every update ends with a clamp
//! to `[w_min, w_max]`; the returned `f32` lies inside the bounds and is never NaN (a NaN input
//! weight is mapped to `w_min`).
//!
//! # Units
//! Time constants in ms, rates in Hz, amplitudes in weight units of the projection (whatever the
//! projection's weights mean: nS, pA, or relative units); [`Rule::rate_limit`] returns weight
//! units per second.

mod non_hebbian;
mod pair;
mod triplet;
mod vogels;

pub use non_hebbian::{NonHebbian, NonHebbianSpec};
pub use pair::{PairStdp, PairStdpSpec, Pairing, WeightDependence};
pub use triplet::{TripletPairing, TripletParams, TripletPreset, TripletStdp, TripletStdpSpec};
pub use vogels::{VogelsRule, VogelsSpec};

use serde::{Deserialize, Serialize};

/// How a per-neuron trace reacts to its own neuron's spike.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TraceKind {
    /// `x -> x + 1` at each own spike (all-to-all interactions).
    Accumulate,
    /// `x -> 1` at each own spike (nearest-spike interactions).
    Nearest,
}

/// One per-neuron trace a rule reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceSpec {
    /// Decay time constant (ms), > 0.
    pub tau_ms: f64,
    /// Reaction to the neuron's own spike.
    pub kind: TraceKind,
}

impl TraceSpec {
    pub(crate) const fn accumulate(tau_ms: f64) -> Self {
        Self {
            tau_ms,
            kind: TraceKind::Accumulate,
        }
    }
    pub(crate) const fn nearest(tau_ms: f64) -> Self {
        Self {
            tau_ms,
            kind: TraceKind::Nearest,
        }
    }
}

/// Runtime form of a plasticity rule, built from a [`RuleSpec`].
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Pair STDP (`pair.rs`).
    PairStdp(PairStdp),
    /// Triplet STDP (`triplet.rs`).
    TripletStdp(TripletStdp),
    /// Inhibitory STDP of Vogels et al. 2011 (`vogels.rs`).
    Vogels(VogelsRule),
}

macro_rules! dispatch {
    ($self:ident, $r:ident => $e:expr) => {
        match $self {
            Rule::PairStdp($r) => $e,
            Rule::TripletStdp($r) => $e,
            Rule::Vogels($r) => $e,
        }
    };
}

impl Rule {
    /// Presynaptic-neuron traces the rule reads, in the order of the `pre` readings.
    #[inline]
    pub fn pre_traces(&self) -> &[TraceSpec] {
        dispatch!(self, r => r.pre_traces())
    }

    /// Postsynaptic-neuron traces the rule reads, in the order of the `post` readings.
    #[inline]
    pub fn post_traces(&self) -> &[TraceSpec] {
        dispatch!(self, r => r.post_traces())
    }

    /// True only where per-synapse memory is unavoidable (pair STDP, presynaptic-centred).
    #[inline]
    pub fn needs_synapse_state(&self) -> bool {
        dispatch!(self, r => r.needs_synapse_state())
    }

    /// New weight after a presynaptic spike reaches the synapse.
    ///
    /// `pre`/`post`: trace readings at t⁻ in the order of `pre_traces()`/`post_traces()`;
    /// `elapsed_ms`: time since this synapse's previous pre-or-post event;
    /// `state`: the per-synapse value (a dummy for rules that do not need it).
    #[inline]
    pub fn on_pre(&self, w: f32, pre: &[f64], post: &[f64], elapsed_ms: f64, state: &mut f32) -> f32 {
        dispatch!(self, r => r.on_pre(w, pre, post, elapsed_ms, state))
    }

    /// New weight after a postsynaptic spike reaches the synapse (arguments as in [`Rule::on_pre`]).
    #[inline]
    pub fn on_post(&self, w: f32, pre: &[f64], post: &[f64], elapsed_ms: f64, state: &mut f32) -> f32 {
        dispatch!(self, r => r.on_post(w, pre, post, elapsed_ms, state))
    }

    /// Mean-field drift `d<w>/dt` (weight units per second) for independent Poisson pre and post
    /// trains at `nu_pre_hz`, `nu_post_hz`, with the weight held at `w` (learning slow compared
    /// with spiking; `w` is clamped to the bounds first).
    #[inline]
    pub fn rate_limit(&self, nu_pre_hz: f64, nu_post_hz: f64, w: f64) -> f64 {
        dispatch!(self, r => r.rate_limit(nu_pre_hz, nu_post_hz, w))
    }

    /// Lower weight bound.
    #[inline]
    pub fn w_min(&self) -> f64 {
        dispatch!(self, r => r.w_min())
    }

    /// Whether `on_pre`/`on_post` depend on `elapsed_ms` (a constant drift or per-synapse state
    /// that decays); when false the engine may pass 0 and skip the bookkeeping.
    #[inline]
    pub fn uses_elapsed(&self) -> bool {
        match self {
            Rule::PairStdp(r) => r.uses_elapsed(),
            Rule::TripletStdp(r) => r.uses_elapsed(),
            Rule::Vogels(_) => false,
        }
    }

    /// Whether weights change between events (a constant non-Hebbian drift, applied lazily at the
    /// synapse's next event): then the stored weights lag, see [`Rule::drifted`].
    pub fn has_drift(&self) -> bool {
        match self {
            Rule::PairStdp(r) => r.has_drift(),
            Rule::TripletStdp(r) => r.has_drift(),
            Rule::Vogels(_) => false,
        }
    }

    /// The weight `elapsed_ms` after the synapse's last event, without a new one: the stored
    /// weight plus the drift that the next event would apply first (`w` for rules without drift).
    pub fn drifted(&self, w: f32, elapsed_ms: f64) -> f32 {
        match self {
            Rule::PairStdp(r) => r.drifted(w, elapsed_ms),
            Rule::TripletStdp(r) => r.drifted(w, elapsed_ms),
            Rule::Vogels(_) => w,
        }
    }

    /// Upper weight bound.
    #[inline]
    pub fn w_max(&self) -> f64 {
        dispatch!(self, r => r.w_max())
    }
}

/// Model-file description of a plasticity rule (the `plasticity` table of a projection),
/// tagged by `rule`.
///
/// ```toml
/// rule = "pair_stdp"
/// a_plus = 0.005      # weight units
/// tau_plus = 16.8     # ms
/// a_minus = 0.00525
/// tau_minus = 33.7
/// pairing = "nearest_symmetric"
/// weight_dependence = { power_law = { mu = 0.4 } }
/// w_max = 1.0
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleSpec {
    /// `rule = "pair_stdp"`: see [`PairStdpSpec`].
    PairStdp(PairStdpSpec),
    /// `rule = "triplet_stdp"`: see [`TripletStdpSpec`].
    TripletStdp(TripletStdpSpec),
    /// `rule = "vogels2011"`: see [`VogelsSpec`].
    #[serde(rename = "vogels2011")]
    Vogels2011(VogelsSpec),
}

impl RuleSpec {
    /// Checks every field; returns all problems at once. Fields are named `plasticity.<field>`.
    pub fn validate(&self) -> Result<(), Vec<SpecError>> {
        let mut errs = Vec::new();
        match self {
            RuleSpec::PairStdp(s) => s.validate_into(&mut errs),
            RuleSpec::TripletStdp(s) => s.validate_into(&mut errs),
            RuleSpec::Vogels2011(s) => s.validate_into(&mut errs),
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// Validates, then builds the runtime rule.
    pub fn try_build(&self) -> Result<Rule, Vec<SpecError>> {
        self.validate()?;
        Ok(match self {
            RuleSpec::PairStdp(s) => Rule::PairStdp(s.build_unchecked()),
            RuleSpec::TripletStdp(s) => Rule::TripletStdp(s.build_unchecked()),
            RuleSpec::Vogels2011(s) => Rule::Vogels(s.build_unchecked()),
        })
    }

    /// Builds the runtime rule from a spec that [`RuleSpec::validate`] accepted.
    ///
    /// # Panics
    /// If the spec is invalid (a programming error: validate model files first, or use
    /// [`RuleSpec::try_build`]).
    pub fn build(&self) -> Rule {
        match self.try_build() {
            Ok(r) => r,
            Err(e) => panic!("RuleSpec::build on an invalid spec: {e:?}"),
        }
    }
}

/// One invalid field of a [`RuleSpec`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} = {value}: {allowed}")]
pub struct SpecError {
    /// Dotted field path, e.g. `plasticity.tau_plus`.
    pub field: String,
    /// The offending value as written (or `missing`).
    pub value: String,
    /// What is allowed.
    pub allowed: String,
}

// ---------------------------------------------------------------------------------------------
// Shared helpers (validation, clamping, rounding)

pub(crate) fn err(errs: &mut Vec<SpecError>, field: &str, value: impl std::fmt::Display, allowed: &str) {
    errs.push(SpecError {
        field: format!("plasticity.{field}"),
        value: value.to_string(),
        allowed: allowed.to_string(),
    });
}

/// `v` finite and > 0 (time constants, scales).
pub(crate) fn check_positive(errs: &mut Vec<SpecError>, field: &str, v: f64) {
    if !(v.is_finite() && v > 0.0) {
        err(errs, field, v, "must be finite and > 0");
    }
}

/// `v` finite and >= 0 (amplitudes, learning rates).
pub(crate) fn check_nonneg(errs: &mut Vec<SpecError>, field: &str, v: f64) {
    if !(v.is_finite() && v >= 0.0) {
        err(errs, field, v, "must be finite and >= 0");
    }
}

/// `v` finite (signed constants).
pub(crate) fn check_finite(errs: &mut Vec<SpecError>, field: &str, v: f64) {
    if !v.is_finite() {
        err(errs, field, v, "must be finite");
    }
}

/// `0 <= w_min < w_max`, both representable as finite `f32` with an `f32` value in between.
pub(crate) fn check_bounds(errs: &mut Vec<SpecError>, w_min: f64, w_max: f64) {
    let fin = |v: f64| v.is_finite() && (v as f32).is_finite();
    if !(fin(w_min) && w_min >= 0.0) {
        err(errs, "w_min", w_min, "must be finite (f32) and >= 0");
    }
    if !fin(w_max) {
        err(errs, "w_max", w_max, "must be finite (f32) and > w_min");
    } else if fin(w_min) && !(w_min < w_max && f64::from(f32_at_least(w_min)) <= w_max) {
        err(
            errs,
            "w_max",
            w_max,
            "must be > w_min with at least one f32 value in [w_min, w_max]",
        );
    }
}

/// Clamp to `[lo, hi]`; NaN goes to `lo`.
#[inline]
pub(crate) fn clamp(w: f64, lo: f64, hi: f64) -> f64 {
    let c = w.max(lo).min(hi);
    if c.is_nan() {
        lo
    } else {
        c
    }
}

/// Clamp to `[lo, hi]` and round to an `f32` that lies inside `[lo, hi]`.
#[inline]
pub(crate) fn to_weight(w: f64, lo: f64, hi: f64) -> f32 {
    let c = clamp(w, lo, hi);
    let y = c as f32;
    let yd = f64::from(y);
    if yd > hi {
        next_down(y)
    } else if yd < lo {
        next_up(y)
    } else {
        y
    }
}

/// Next `f32` toward +inf (`f32::next_up` needs Rust 1.86; the crate supports 1.85).
#[inline]
pub(crate) fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        x
    } else if x == 0.0 {
        f32::from_bits(1)
    } else if x > 0.0 {
        f32::from_bits(x.to_bits() + 1)
    } else {
        f32::from_bits(x.to_bits() - 1)
    }
}

/// Next `f32` toward -inf.
#[inline]
pub(crate) fn next_down(x: f32) -> f32 {
    -next_up(-x)
}

/// Smallest `f32` >= `x` (saturating at `f32::MAX`), for `x >= 0`.
#[inline]
pub(crate) fn f32_at_least(x: f64) -> f32 {
    let y = x.min(f64::from(f32::MAX)) as f32;
    if f64::from(y) < x && y < f32::MAX {
        next_up(y)
    } else {
        y
    }
}

/// Milliseconds to seconds.
pub(crate) const MS: f64 = 1e-3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_weight_stays_inside_unrepresentable_bounds() {
        let (lo, hi) = (0.1, 0.3);
        for w in [-1.0, 0.0, 0.1, 0.2, 0.3, 0.31, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let y = f64::from(to_weight(w, lo, hi));
            assert!((lo..=hi).contains(&y), "{w} -> {y}");
        }
    }

    #[test]
    fn next_up_down_step_one_ulp() {
        for x in [0.0f32, -0.0, 1.0, -1.0, 0.1, 3.4e38, -1e-45, 1e-45] {
            let u = next_up(x);
            let d = next_down(x);
            assert!(u > x && d < x, "{x}: {d} {u}");
            assert_eq!(next_down(u), if x == 0.0 { 0.0 } else { x });
        }
        assert_eq!(next_up(f32::MAX), f32::INFINITY);
    }

    #[test]
    fn f32_at_least_rounds_up() {
        for x in [0.0, 0.1, 1.0 / 3.0, 1e-30, 7.3e12, 1e40] {
            let y = f32_at_least(x);
            assert!(f64::from(y) >= x.min(f64::from(f32::MAX)));
            assert!(y.is_finite());
        }
    }
}
