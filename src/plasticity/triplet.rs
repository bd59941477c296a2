//! Triplet STDP (Pfister & Gerstner 2006), all-to-all and nearest-spike, with the four
//! visual-cortex parameter sets as presets.
//!
//! # Equations (plasticity.md §2.1)
//!
//! Presynaptic traces `r1` (tau+), `r2` (tau_x); postsynaptic `o1` (tau-), `o2` (tau_y).
//! All-to-all: each `+1` at its own spike (Accumulate); nearest-spike: each set to 1 (Nearest).
//! Readings at t⁻ (a same-step partner spike is not counted, see the module `plasticity`):
//!
//! ```text
//! at a pre spike:   w <- clamp( w - o1 [A2- + A3- r2(t⁻)] + a_pre )
//! at a post spike:  w <- clamp( w + r1 [A2+ + A3+ o2(t⁻)] + a_post - beta w o )
//! ```
//!
//! The triplet factor uses the slow trace just before the current spike (NEST
//! `stdp_triplet_synapse`). With `A3+ = A3- = 0` the rule is exactly the all-to-all pair rule
//! (bit for bit, tested). Amplitudes are additive, bounds hard; non-Hebbian terms as in
//! `non_hebbian.rs` (lazy drift first).
//!
//! # Rate limit (independent Poisson trains; taus in s)
//!
//! With `f(nu, tau) = nu tau` (all-to-all) or `nu tau / (1 + nu tau)` (nearest-spike), the mean
//! of a trace read at a Poisson time of an independent train (`E[x] = nu tau` resp.
//! `E[exp(-U/tau)]`, `U ~ Exp(nu)`), and independence of the pre and post factors:
//!
//! ```text
//! d<w>/dt = nu_post f(nu_pre, tau+) [A2+ + A3+ f(nu_post, tau_y)]
//!         - nu_pre  f(nu_post, tau-) [A2- + A3- f(nu_pre, tau_x)]  + non-Hebbian
//! ```
//!
//! For all-to-all this is plasticity.md §2.5,
//! `nu_pre nu_post (A2+ tau+ - A2- tau-) + A3+ tau+ tau_y nu_pre nu_post^2 - A3- tau- tau_x nu_pre^2 nu_post`;
//! the minimal model is a BCM rule with threshold `theta = A2- tau- / (A3+ tau+ tau_y)`
//! (19.2 Hz for `pfister2006_vc_all_to_all_minimal`).
//!
//! # Presets (Pfister & Gerstner 2006, Table 3, visual cortex, fit to Sjöström et al. 2001)
//!
//! Amplitudes are relative weight changes (fitted with `w0 = 1`); the rule uses
//! `w_scale * A` in weight units (`w_scale` = the weight that counts as 100 %, default 1).
//! tau+ = 16.8 ms and tau- = 33.7 ms in every row.
//!
//! | `preset` | pairing | A2+ | A3+ | A2- | A3- | tau_x (ms) | tau_y (ms) |
//! |---|---|---|---|---|---|---|---|
//! | `pfister2006_vc_all_to_all_minimal` | all-to-all | 0 | 6.5e-3 | 7.1e-3 | 0 | unused | 114 |
//! | `pfister2006_vc_all_to_all_full` | all-to-all | 5e-10 | 6.2e-3 | 7e-3 | 2.3e-4 | 101 | 125 |
//! | `pfister2006_vc_nearest_minimal` | nearest | 0 | 5e-2 | 8e-3 | 0 | unused | 40 |
//! | `pfister2006_vc_nearest_full` | nearest | 8.8e-11 | 5.3e-2 | 6.6e-3 | 3.1e-3 | 714 | 40 |
//!
//! Rows are fitted together with their pairing scheme; a preset therefore cannot be combined
//! with individual parameters (write all of them without `preset` instead). With `f32`
//! weights near 1 the tiny A2+ of the full rows (< 6e-8) is below the weight resolution and has
//! no effect, as in a float simulator.
//!
//! # Parameters (`rule = "triplet_stdp"`)
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `preset` | — | none | one of the presets above; excludes the next nine fields |
//! | `w_scale` | weight | 1 | weight of a relative change of 1 (with `preset` only; > 0) |
//! | `pairing` | — | `all_to_all` | `all_to_all` or `nearest_spike` |
//! | `a2_plus` | weight | required* | pair LTP amplitude (>= 0) |
//! | `a3_plus` | weight | required* | triplet LTP amplitude (>= 0) |
//! | `a2_minus` | weight | required* | pair LTD amplitude (>= 0) |
//! | `a3_minus` | weight | required* | triplet LTD amplitude (>= 0) |
//! | `tau_plus` | ms | required* | `r1` time constant (> 0) |
//! | `tau_minus` | ms | required* | `o1` time constant (> 0) |
//! | `tau_x` | ms | required* if `a3_minus > 0` | `r2` time constant (> 0) |
//! | `tau_y` | ms | required* if `a3_plus > 0` | `o2` time constant (> 0) |
//! | `w_min` | weight | 0 | lower hard bound (>= 0) |
//! | `w_max` | weight | required | upper hard bound (> `w_min`) |
//! | `non_hebbian` | table | none | `a_pre`, `a_post`, `drift`, `beta`, `tau_o` (see `non_hebbian.rs`) |
//!
//! (*) without `preset`.
//!
//! # References
//! - Pfister & Gerstner 2006, J Neurosci 26:9673 (rule, Table 3).
//! - Sjöström, Turrigiano & Nelson 2001, Neuron 32:1149 (the fitted data).
//! - NEST `stdp_triplet_synapse`; Auryn `TripletConnection` (Zenke).

use serde::{Deserialize, Serialize};

use super::{check_bounds, check_nonneg, check_positive, err, to_weight, NonHebbian, NonHebbianSpec, SpecError, TraceKind, TraceSpec, MS};

/// Trace interaction of the triplet rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TripletPairing {
    /// Traces `+1` at each own spike.
    #[default]
    AllToAll,
    /// Traces set to 1 at each own spike.
    NearestSpike,
}

/// Published parameter sets (module doc table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TripletPreset {
    /// Visual cortex, all-to-all, minimal model.
    #[serde(rename = "pfister2006_vc_all_to_all_minimal")]
    Pfister2006VcAllToAllMinimal,
    /// Visual cortex, all-to-all, full model.
    #[serde(rename = "pfister2006_vc_all_to_all_full")]
    Pfister2006VcAllToAllFull,
    /// Visual cortex, nearest-spike, minimal model.
    #[serde(rename = "pfister2006_vc_nearest_minimal")]
    Pfister2006VcNearestMinimal,
    /// Visual cortex, nearest-spike, full model.
    #[serde(rename = "pfister2006_vc_nearest_full")]
    Pfister2006VcNearestFull,
}

/// Parameters of one preset row, amplitudes relative (`w0 = 1`), times in ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TripletParams {
    /// Pairing scheme the row was fitted with.
    pub pairing: TripletPairing,
    /// Pair LTP amplitude.
    pub a2_plus: f64,
    /// Triplet LTP amplitude.
    pub a3_plus: f64,
    /// Pair LTD amplitude.
    pub a2_minus: f64,
    /// Triplet LTD amplitude.
    pub a3_minus: f64,
    /// `r1` time constant (ms).
    pub tau_plus: f64,
    /// `o1` time constant (ms).
    pub tau_minus: f64,
    /// `r2` time constant (ms); `None` where unused (`a3_minus = 0`).
    pub tau_x: Option<f64>,
    /// `o2` time constant (ms).
    pub tau_y: f64,
}

impl TripletPreset {
    /// The row of Pfister & Gerstner 2006 Table 3 (plasticity.md §2.2).
    pub fn params(self) -> TripletParams {
        use TripletPairing::*;
        let row = |pairing, a2_plus, a3_plus, a2_minus, a3_minus, tau_x, tau_y| TripletParams {
            pairing,
            a2_plus,
            a3_plus,
            a2_minus,
            a3_minus,
            tau_plus: 16.8,
            tau_minus: 33.7,
            tau_x,
            tau_y,
        };
        match self {
            Self::Pfister2006VcAllToAllMinimal => row(AllToAll, 0.0, 6.5e-3, 7.1e-3, 0.0, None, 114.0),
            Self::Pfister2006VcAllToAllFull => row(AllToAll, 5e-10, 6.2e-3, 7e-3, 2.3e-4, Some(101.0), 125.0),
            Self::Pfister2006VcNearestMinimal => row(NearestSpike, 0.0, 5e-2, 8e-3, 0.0, None, 40.0),
            Self::Pfister2006VcNearestFull => row(NearestSpike, 8.8e-11, 5.3e-2, 6.6e-3, 3.1e-3, Some(714.0), 40.0),
        }
    }
}

/// Spec of triplet STDP (`rule = "triplet_stdp"`); parameter table in the module doc.
/// Either `preset` (plus optional `w_scale`) or the individual parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripletStdpSpec {
    /// Published parameter set; excludes `pairing`, amplitudes and time constants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<TripletPreset>,
    /// Weight of a relative change of 1 (weight units, > 0; with `preset` only). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_scale: Option<f64>,
    /// Pairing scheme (without `preset`). Default `all_to_all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing: Option<TripletPairing>,
    /// Pair LTP amplitude A2+ (weight units, >= 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2_plus: Option<f64>,
    /// Triplet LTP amplitude A3+ (weight units, >= 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a3_plus: Option<f64>,
    /// Pair LTD amplitude A2- (weight units, >= 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2_minus: Option<f64>,
    /// Triplet LTD amplitude A3- (weight units, >= 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a3_minus: Option<f64>,
    /// Time constant of `r1` (ms, > 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_plus: Option<f64>,
    /// Time constant of `o1` (ms, > 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_minus: Option<f64>,
    /// Time constant of `r2` (ms, > 0); required if `a3_minus > 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_x: Option<f64>,
    /// Time constant of `o2` (ms, > 0); required if `a3_plus > 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_y: Option<f64>,
    /// Lower weight bound (weight units, >= 0). Default 0.
    #[serde(default)]
    pub w_min: f64,
    /// Upper weight bound (weight units, > `w_min`).
    pub w_max: f64,
    /// Non-Hebbian terms. Default: none.
    #[serde(default)]
    pub non_hebbian: NonHebbianSpec,
}

impl TripletStdpSpec {
    fn explicit(&self) -> [(&'static str, Option<f64>); 8] {
        [
            ("a2_plus", self.a2_plus),
            ("a3_plus", self.a3_plus),
            ("a2_minus", self.a2_minus),
            ("a3_minus", self.a3_minus),
            ("tau_plus", self.tau_plus),
            ("tau_minus", self.tau_minus),
            ("tau_x", self.tau_x),
            ("tau_y", self.tau_y),
        ]
    }

    pub(crate) fn validate_into(&self, errs: &mut Vec<SpecError>) {
        if self.preset.is_some() {
            const WHY: &str = "not allowed with preset (rows are fitted as a whole; give all parameters without preset instead)";
            if let Some(p) = self.pairing {
                err(errs, "pairing", format!("{p:?}"), WHY);
            }
            for (name, v) in self.explicit() {
                if let Some(v) = v {
                    err(errs, name, v, WHY);
                }
            }
            if let Some(s) = self.w_scale {
                check_positive(errs, "w_scale", s);
            }
        } else {
            if let Some(s) = self.w_scale {
                err(
                    errs,
                    "w_scale",
                    s,
                    "only allowed with preset (give amplitudes in weight units instead)",
                );
            }
            let [a2p, a3p, a2m, a3m, tp, tm, tx, ty] = self.explicit();
            for (name, v) in [a2p, a3p, a2m, a3m] {
                match v {
                    Some(v) => check_nonneg(errs, name, v),
                    None => err(errs, name, "missing", "required without preset (>= 0)"),
                }
            }
            for (name, v) in [tp, tm] {
                match v {
                    Some(v) => check_positive(errs, name, v),
                    None => err(errs, name, "missing", "required without preset (ms, > 0)"),
                }
            }
            for ((name, v), (amp, a)) in [(tx, a3m), (ty, a3p)] {
                match v {
                    Some(v) => check_positive(errs, name, v),
                    None if a.unwrap_or(0.0) > 0.0 => err(errs, name, "missing", &format!("required when {amp} > 0 (ms, > 0)")),
                    None => {}
                }
            }
        }
        check_bounds(errs, self.w_min, self.w_max);
        self.non_hebbian.validate_into(errs);
    }

    /// The parameters in effect, amplitudes in weight units (after `w_scale`).
    fn params(&self) -> TripletParams {
        match self.preset {
            Some(p) => {
                let s = self.w_scale.unwrap_or(1.0);
                let mut q = p.params();
                q.a2_plus *= s;
                q.a3_plus *= s;
                q.a2_minus *= s;
                q.a3_minus *= s;
                q
            }
            None => TripletParams {
                pairing: self.pairing.unwrap_or_default(),
                a2_plus: self.a2_plus.unwrap_or(0.0),
                a3_plus: self.a3_plus.unwrap_or(0.0),
                a2_minus: self.a2_minus.unwrap_or(0.0),
                a3_minus: self.a3_minus.unwrap_or(0.0),
                tau_plus: self.tau_plus.unwrap_or(1.0),
                tau_minus: self.tau_minus.unwrap_or(1.0),
                tau_x: self.tau_x,
                tau_y: self.tau_y.unwrap_or(0.0),
            },
        }
    }

    pub(crate) fn build_unchecked(&self) -> TripletStdp {
        let p = self.params();
        let kind = match p.pairing {
            TripletPairing::AllToAll => TraceKind::Accumulate,
            TripletPairing::NearestSpike => TraceKind::Nearest,
        };
        let tr = |tau_ms| TraceSpec { tau_ms, kind };
        // index of `t` in `v`, appending it if absent (equal specs share one reading)
        fn slot(v: &mut Vec<TraceSpec>, t: TraceSpec) -> usize {
            v.iter().position(|u| *u == t).unwrap_or_else(|| {
                v.push(t);
                v.len() - 1
            })
        }
        let mut pre = vec![tr(p.tau_plus)];
        let mut post = vec![tr(p.tau_minus)];
        let tau_x = if p.a3_minus > 0.0 { p.tau_x.unwrap_or(0.0) } else { 0.0 };
        let tau_y = if p.a3_plus > 0.0 { p.tau_y } else { 0.0 };
        let i_r2 = (p.a3_minus > 0.0).then(|| slot(&mut pre, tr(tau_x)));
        let i_o2 = (p.a3_plus > 0.0).then(|| slot(&mut post, tr(tau_y)));
        let o_index = self.non_hebbian.o_trace().map_or(0, |o| slot(&mut post, o));
        TripletStdp {
            pairing: p.pairing,
            a2_plus: p.a2_plus,
            a3_plus: p.a3_plus,
            a2_minus: p.a2_minus,
            a3_minus: p.a3_minus,
            tau_plus: p.tau_plus,
            tau_minus: p.tau_minus,
            tau_x,
            tau_y,
            non_hebbian: self.non_hebbian.build(o_index),
            w_min: self.w_min,
            w_max: self.w_max,
            pre,
            post,
            i_r2,
            i_o2,
        }
    }
}

/// Runtime triplet STDP rule (built by [`super::RuleSpec::build`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TripletStdp {
    pairing: TripletPairing,
    a2_plus: f64,
    a3_plus: f64,
    a2_minus: f64,
    a3_minus: f64,
    tau_plus: f64,
    tau_minus: f64,
    /// 0 when unused (`a3_minus == 0`).
    tau_x: f64,
    /// 0 when unused (`a3_plus == 0`).
    tau_y: f64,
    non_hebbian: NonHebbian,
    w_min: f64,
    w_max: f64,
    pre: Vec<TraceSpec>,
    post: Vec<TraceSpec>,
    i_r2: Option<usize>,
    i_o2: Option<usize>,
}

impl TripletStdp {
    /// `[r1, r2]` (`r2` only if `A3- > 0`; shared with `r1` if equal).
    #[inline]
    pub fn pre_traces(&self) -> &[TraceSpec] {
        &self.pre
    }

    /// `[o1, o2, o]` (`o2` only if `A3+ > 0`, `o` only if `beta > 0`; equal specs shared).
    #[inline]
    pub fn post_traces(&self) -> &[TraceSpec] {
        &self.post
    }

    /// Always false.
    #[inline]
    pub fn needs_synapse_state(&self) -> bool {
        false
    }

    /// See [`super::Rule::on_pre`].
    #[inline]
    pub fn on_pre(&self, w: f32, pre: &[f64], post: &[f64], elapsed_ms: f64, _state: &mut f32) -> f32 {
        let w1 = self.non_hebbian.drifted(w, elapsed_ms, self.w_min, self.w_max);
        let r2 = self.i_r2.map_or(0.0, |i| pre[i]);
        let dw = -(post[0] * (self.a2_minus + self.a3_minus * r2)) + self.non_hebbian.a_pre;
        to_weight(w1 + dw, self.w_min, self.w_max)
    }

    /// See [`super::Rule::on_post`].
    #[inline]
    pub fn on_post(&self, w: f32, pre: &[f64], post: &[f64], elapsed_ms: f64, _state: &mut f32) -> f32 {
        let w1 = self.non_hebbian.drifted(w, elapsed_ms, self.w_min, self.w_max);
        let o2 = self.i_o2.map_or(0.0, |i| post[i]);
        let dw = pre[0] * (self.a2_plus + self.a3_plus * o2) + self.non_hebbian.post_increment(w1, post);
        to_weight(w1 + dw, self.w_min, self.w_max)
    }

    /// See [`super::PairStdp::drifted`].
    pub fn drifted(&self, w: f32, elapsed_ms: f64) -> f32 {
        self.non_hebbian.drifted_weight(w, elapsed_ms, self.w_min, self.w_max)
    }

    /// Whether the rule has a constant drift (weights change between events).
    #[inline]
    pub fn has_drift(&self) -> bool {
        self.non_hebbian.drift != 0.0
    }

    /// Whether an update depends on `elapsed_ms` (a drift).
    #[inline]
    pub fn uses_elapsed(&self) -> bool {
        self.non_hebbian.drift != 0.0
    }

    /// See [`super::Rule::rate_limit`]; formula in the module doc.
    #[inline]
    pub fn rate_limit(&self, nu_pre_hz: f64, nu_post_hz: f64, w: f64) -> f64 {
        let f = |nu: f64, tau_ms: f64| {
            let m = nu * tau_ms * MS;
            match self.pairing {
                TripletPairing::AllToAll => m,
                TripletPairing::NearestSpike => m / (1.0 + m),
            }
        };
        let w = super::clamp(w, self.w_min, self.w_max);
        nu_post_hz * f(nu_pre_hz, self.tau_plus) * (self.a2_plus + self.a3_plus * f(nu_post_hz, self.tau_y))
            - nu_pre_hz * f(nu_post_hz, self.tau_minus) * (self.a2_minus + self.a3_minus * f(nu_pre_hz, self.tau_x))
            + self.non_hebbian.rate(nu_pre_hz, nu_post_hz, w)
    }

    /// Lower weight bound.
    #[inline]
    pub fn w_min(&self) -> f64 {
        self.w_min
    }

    /// Upper weight bound.
    #[inline]
    pub fn w_max(&self) -> f64 {
        self.w_max
    }
}
