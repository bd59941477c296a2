//! Pair STDP with exponential windows, four pairing schemes and three weight dependences.
//!
//! # Equations
//!
//! Window for one pre/post pair, `s = t_post - t_pre`:
//!
//! ```text
//! dW(s) = +A+ g+(w) exp(-s/tau+)    s > 0  (pre before post: LTP, applied at the post spike)
//! dW(s) = -A- g-(w) exp(+s/tau-)    s < 0  (post before pre: LTD, applied at the pre spike)
//! ```
//!
//! Event form, readings at t⁻ (the engine's per-neuron traces, see the module `plasticity`):
//!
//! ```text
//! at a pre spike:   w <- clamp( w - A- g-(w) K-  + a_pre )
//! at a post spike:  w <- clamp( w + A+ g+(w) K+  + a_post - beta w o )
//! ```
//!
//! (after the lazy drift, see `non_hebbian.rs`). `K+`, `K-` per pairing scheme (plasticity.md
//! §1.4, NEST `stdp_synapse` and `stdp_nn_*_synapse` after Morrison, Diesmann & Gerstner 2008):
//!
//! | `pairing` | pre traces | post traces | `K-` at a pre spike | `K+` at a post spike |
//! |---|---|---|---|---|
//! | `all_to_all` | Acc(tau+) | Acc(tau-) | post trace | pre trace |
//! | `nearest_symmetric` | Near(tau+) | Near(tau-) | post trace (nearest preceding post) | pre trace (nearest preceding pre) |
//! | `presynaptic_centred` | Acc(tau+) | Near(tau-) | post trace (nearest preceding post) | `x+(t⁻) - S`, the pre spikes since the previous post (each pre pairs with the first following post only) |
//! | `nearest_restricted` | Near(tau+) | Near(tau-) | post trace if the last post is later than the previous pre, else 0 | pre trace if the last pre is later than the previous post, else 0 |
//!
//! *Presynaptic-centred* needs per-synapse memory (the pre trace "reset to 0 at each post
//! spike" of NEST depends on both neurons). The state `S` is the presynaptic Accumulate trace
//! read at the previous post spike, decayed lazily with `exp(-elapsed_ms/tau+)` at every event of
//! the synapse and set to `x+(t⁻)` at each post spike, so `x+(t⁻) - S` is the decayed count of
//! pre spikes since the previous post. Unlike a counter that is incremented at pre spikes and
//! zeroed at post spikes, this form does not depend on whether the engine calls `on_pre` or
//! `on_post` first when both neurons spike in one step (a same-step pre pairs with the *next*
//! post, as in NEST). `S` is stored as `f32` rounded up, so with no pre spike since the previous
//! post `K+` is 0 (up to f64 rounding, ~1e-16 x+) and otherwise at most ~6e-8 x+ too small.
//! The engine initialises the state to `0.0`.
//!
//! *Restricted* needs, besides the values of the nearest traces, whether the partner's last spike
//! is later than the neuron's own previous spike. It is recovered from the two `Nearest`
//! readings themselves, `s = -tau ln x` (time since the last spike; `x = 0`: never), so no extra
//! reading and no per-synapse state are needed; spikes of the same step count as neither later
//! nor earlier, so neither side pairs. Requirement on the engine: see the module doc.
//!
//! Weight dependence (`w` after the drift, clamped; `W = w_max`):
//!
//! | `weight_dependence` | `g+(w)` | `g-(w)` | reference |
//! |---|---|---|---|
//! | `additive` | 1 | 1 | Song, Miller & Abbott 2000 |
//! | `multiplicative` | 1 | `w/W` | van Rossum, Bi & Turrigiano 2000 (`A-` = LTD at `w = W`) |
//! | `{ power_law = { mu } }` | `(1 - w/W)^mu` | `(w/W)^mu` | Gütig et al. 2003, as NEST `stdp_synapse` with `mu+ = mu- = mu` |
//!
//! All end with the hard clamp to `[w_min, w_max]`.
//!
//! # Rate limit (independent Poisson trains, plasticity.md §4.1-4.2; taus in s)
//!
//! ```text
//! d<w>/dt = A+ g+(w) nu_pre nu_post tau+ / D+  -  A- g-(w) nu_pre nu_post tau- / D-  + non-Hebbian
//!   all_to_all:           D+ = 1                          D- = 1
//!   nearest_symmetric:    D+ = 1 + nu_pre tau+            D- = 1 + nu_post tau-
//!   presynaptic_centred:  D+ = 1 + nu_post tau+           D- = 1 + nu_post tau-
//!   nearest_restricted:   D+ = 1 + (nu_pre+nu_post) tau+  D- = 1 + (nu_pre+nu_post) tau-
//! ```
//!
//! (e.g. symmetric: `E[exp(-U/tau+)] = nu_pre tau+/(1 + nu_pre tau+)` for the backward recurrence
//! time `U ~ Exp(nu_pre)`; restricted: the same expectation restricted to `U < S`, `S ~ Exp(nu_post)`.)
//!
//! # Parameters (`rule = "pair_stdp"`)
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `a_plus` | weight | required | LTP amplitude `A+` at `s -> 0+` (>= 0) |
//! | `tau_plus` | ms | required | LTP window time constant (> 0); 16.8 for Bi & Poo fits |
//! | `a_minus` | weight | required | LTD amplitude `A-` at `s -> 0-` (>= 0) |
//! | `tau_minus` | ms | required | LTD window time constant (> 0); 33.7 for Bi & Poo fits |
//! | `pairing` | — | `all_to_all` | `all_to_all`, `nearest_symmetric`, `presynaptic_centred`, `nearest_restricted` |
//! | `weight_dependence` | — | `additive` | `additive`, `multiplicative`, `{ power_law = { mu } }`, `mu` in [0, 1] |
//! | `w_min` | weight | 0 | lower hard bound (>= 0) |
//! | `w_max` | weight | required | upper hard bound (> `w_min`) |
//! | `non_hebbian` | table | none | `a_pre`, `a_post`, `drift`, `beta`, `tau_o` (see `non_hebbian.rs`) |
//!
//! # References
//! - Bi & Poo 1998, J Neurosci 18:10464 (the window).
//! - Song, Miller & Abbott 2000, Nat Neurosci 3:919 (additive STDP).
//! - van Rossum, Bi & Turrigiano 2000, J Neurosci 20:8812 (multiplicative depression).
//! - Gütig, Aharonov, Rotter & Sompolinsky 2003, J Neurosci 23:3697 (power-law family).
//! - Izhikevich & Desai 2003, Neural Comput 15:1511 (presynaptic-centred scheme, BCM limit).
//! - Morrison, Diesmann & Gerstner 2008, Biol Cybern 98:459 (pairing schemes, Fig. 7).
//! - Kempter, Gerstner & van Hemmen 1999, Phys Rev E 59:4498 (rate limit).
//! - NEST `stdp_synapse`, `stdp_nn_symm_synapse`, `stdp_nn_pre_centered_synapse`, `stdp_nn_restr_synapse`.

use serde::{Deserialize, Serialize};

use super::{
    check_bounds, check_nonneg, check_positive, err, f32_at_least, to_weight, NonHebbian, NonHebbianSpec, SpecError, TraceSpec, MS,
};

/// Which pre/post spike pairs interact (plasticity.md §1.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// Every pre spike with every post spike.
    #[default]
    AllToAll,
    /// Each spike with the nearest preceding partner spike (NEST `stdp_nn_symm`).
    NearestSymmetric,
    /// LTD with the nearest preceding post; each pre with the first following post only
    /// (Izhikevich & Desai 2003; NEST `stdp_nn_pre_centered`). Needs per-synapse state.
    PresynapticCentred,
    /// Nearest preceding partner only if it is later than the own previous spike
    /// (NEST `stdp_nn_restr`): each spike in at most one LTP and one LTD pair.
    NearestRestricted,
}

/// How the pair amplitudes depend on the current weight (`W = w_max`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WeightDependence {
    /// `g+ = g- = 1`, hard bounds only.
    #[default]
    Additive,
    /// `g+ = 1`, `g- = w/W` (van Rossum et al. 2000).
    Multiplicative,
    /// `g+ = (1 - w/W)^mu`, `g- = (w/W)^mu` (Gütig et al. 2003).
    PowerLaw {
        /// Exponent, dimensionless, in [0, 1] (0: additive, 1: fully soft bounds).
        mu: f64,
    },
}

impl WeightDependence {
    #[inline]
    fn ltp(self, w: f64, w_max: f64) -> f64 {
        match self {
            Self::Additive | Self::Multiplicative => 1.0,
            Self::PowerLaw { mu } => (1.0 - w / w_max).max(0.0).powf(mu),
        }
    }

    #[inline]
    fn ltd(self, w: f64, w_max: f64) -> f64 {
        match self {
            Self::Additive => 1.0,
            Self::Multiplicative => (w / w_max).max(0.0),
            Self::PowerLaw { mu } => (w / w_max).max(0.0).powf(mu),
        }
    }
}

/// Spec of pair STDP (`rule = "pair_stdp"`); parameter table in the module doc.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairStdpSpec {
    /// LTP amplitude `A+` (weight units, >= 0).
    pub a_plus: f64,
    /// LTP time constant `tau+` (ms, > 0).
    pub tau_plus: f64,
    /// LTD amplitude `A-` (weight units, >= 0).
    pub a_minus: f64,
    /// LTD time constant `tau-` (ms, > 0).
    pub tau_minus: f64,
    /// Pairing scheme. Default `all_to_all`.
    #[serde(default)]
    pub pairing: Pairing,
    /// Weight dependence. Default `additive`.
    #[serde(default)]
    pub weight_dependence: WeightDependence,
    /// Lower weight bound (weight units, >= 0). Default 0.
    #[serde(default)]
    pub w_min: f64,
    /// Upper weight bound (weight units, > `w_min`).
    pub w_max: f64,
    /// Non-Hebbian terms. Default: none.
    #[serde(default)]
    pub non_hebbian: NonHebbianSpec,
}

impl PairStdpSpec {
    pub(crate) fn validate_into(&self, errs: &mut Vec<SpecError>) {
        check_nonneg(errs, "a_plus", self.a_plus);
        check_positive(errs, "tau_plus", self.tau_plus);
        check_nonneg(errs, "a_minus", self.a_minus);
        check_positive(errs, "tau_minus", self.tau_minus);
        if let WeightDependence::PowerLaw { mu } = self.weight_dependence {
            if !(0.0..=1.0).contains(&mu) {
                err(errs, "weight_dependence.power_law.mu", mu, "must be in [0, 1]");
            }
        }
        check_bounds(errs, self.w_min, self.w_max);
        self.non_hebbian.validate_into(errs);
    }

    pub(crate) fn build_unchecked(&self) -> PairStdp {
        let (pre_k, post_k) = match self.pairing {
            Pairing::AllToAll => (TraceSpec::accumulate(self.tau_plus), TraceSpec::accumulate(self.tau_minus)),
            Pairing::NearestSymmetric | Pairing::NearestRestricted => {
                (TraceSpec::nearest(self.tau_plus), TraceSpec::nearest(self.tau_minus))
            }
            Pairing::PresynapticCentred => (TraceSpec::accumulate(self.tau_plus), TraceSpec::nearest(self.tau_minus)),
        };
        let mut post = vec![post_k];
        let mut o_index = 0;
        if let Some(o) = self.non_hebbian.o_trace() {
            match post.iter().position(|t| *t == o) {
                Some(i) => o_index = i,
                None => {
                    o_index = post.len();
                    post.push(o);
                }
            }
        }
        PairStdp {
            a_plus: self.a_plus,
            tau_plus: self.tau_plus,
            a_minus: self.a_minus,
            tau_minus: self.tau_minus,
            pairing: self.pairing,
            weight_dependence: self.weight_dependence,
            non_hebbian: self.non_hebbian.build(o_index),
            w_min: self.w_min,
            w_max: self.w_max,
            pre: vec![pre_k],
            post,
        }
    }
}

/// Runtime pair STDP rule (built by [`super::RuleSpec::build`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PairStdp {
    a_plus: f64,
    tau_plus: f64,
    a_minus: f64,
    tau_minus: f64,
    pairing: Pairing,
    weight_dependence: WeightDependence,
    non_hebbian: NonHebbian,
    w_min: f64,
    w_max: f64,
    pre: Vec<TraceSpec>,
    post: Vec<TraceSpec>,
}

/// True if the spike encoded by Nearest reading `x_a` (time constant `tau_a`) is strictly later
/// than the one encoded by `x_b`; same-step spikes (equal times up to rounding) are not.
#[inline]
fn strictly_later(x_a: f64, tau_a: f64, x_b: f64, tau_b: f64) -> bool {
    if x_a.is_nan() || x_a <= 0.0 {
        return false; // a never spiked (or underflowed: infinitely long ago)
    }
    if x_b.is_nan() || x_b <= 0.0 {
        return true;
    }
    let s_a = -tau_a * x_a.ln();
    let s_b = -tau_b * x_b.ln();
    s_a < s_b - 1e-9 * (s_b + tau_a + tau_b)
}

impl PairStdp {
    /// Presynaptic traces (see the table in the module doc).
    #[inline]
    pub fn pre_traces(&self) -> &[TraceSpec] {
        &self.pre
    }

    /// Postsynaptic traces: the pairing trace, then `o` if `beta > 0` (shared if equal).
    #[inline]
    pub fn post_traces(&self) -> &[TraceSpec] {
        &self.post
    }

    /// True for the presynaptic-centred scheme only.
    #[inline]
    pub fn needs_synapse_state(&self) -> bool {
        self.pairing == Pairing::PresynapticCentred
    }

    /// Pairing scheme.
    pub fn pairing(&self) -> Pairing {
        self.pairing
    }

    /// See [`super::Rule::on_pre`].
    #[inline]
    pub fn on_pre(&self, w: f32, pre: &[f64], post: &[f64], elapsed_ms: f64, state: &mut f32) -> f32 {
        let w1 = self.non_hebbian.drifted(w, elapsed_ms, self.w_min, self.w_max);
        let k = match self.pairing {
            Pairing::AllToAll | Pairing::NearestSymmetric => post[0],
            Pairing::PresynapticCentred => {
                *state = f32_at_least(f64::from(*state) * (-elapsed_ms / self.tau_plus).exp());
                post[0]
            }
            Pairing::NearestRestricted => {
                if strictly_later(post[0], self.tau_minus, pre[0], self.tau_plus) {
                    post[0]
                } else {
                    0.0
                }
            }
        };
        let dw = -(k * (self.a_minus * self.weight_dependence.ltd(w1, self.w_max))) + self.non_hebbian.a_pre;
        to_weight(w1 + dw, self.w_min, self.w_max)
    }

    /// See [`super::Rule::on_post`].
    #[inline]
    pub fn on_post(&self, w: f32, pre: &[f64], post: &[f64], elapsed_ms: f64, state: &mut f32) -> f32 {
        let w1 = self.non_hebbian.drifted(w, elapsed_ms, self.w_min, self.w_max);
        let k = match self.pairing {
            Pairing::AllToAll | Pairing::NearestSymmetric => pre[0],
            Pairing::PresynapticCentred => {
                let old = f64::from(*state) * (-elapsed_ms / self.tau_plus).exp();
                *state = f32_at_least(pre[0]);
                (pre[0] - old).max(0.0)
            }
            Pairing::NearestRestricted => {
                if strictly_later(pre[0], self.tau_plus, post[0], self.tau_minus) {
                    pre[0]
                } else {
                    0.0
                }
            }
        };
        let dw = k * (self.a_plus * self.weight_dependence.ltp(w1, self.w_max)) + self.non_hebbian.post_increment(w1, post);
        to_weight(w1 + dw, self.w_min, self.w_max)
    }

    /// The constants `(a_plus, a_minus, lo, hi)` of the plain rule — additive, all-to-all, no
    /// non-Hebbian term — whose updates reduce to `w - a_minus x_post` at a pre spike and
    /// `w + a_plus x_pre` at a post spike, rounded to f32 and clamped to `[lo, hi]`, the f32 values
    /// nearest inside `[w_min, w_max]`. The engine's inner loop uses them (the commonest rule, one
    /// multiply-add per synaptic event); the result is bit-identical to [`Self::on_pre`] and
    /// [`Self::on_post`] for finite weights inside the bounds (tested). `None` for any other variant.
    #[inline]
    pub fn additive_all_to_all(&self) -> Option<(f64, f64, f32, f32)> {
        let nh = &self.non_hebbian;
        let plain = self.pairing == Pairing::AllToAll
            && self.weight_dependence == WeightDependence::Additive
            && nh.a_pre == 0.0
            && nh.a_post == 0.0
            && nh.drift == 0.0
            && nh.beta == 0.0;
        plain.then(|| {
            let lo = super::to_weight(self.w_min, self.w_min, self.w_max);
            let hi = super::to_weight(self.w_max, self.w_min, self.w_max);
            (self.a_plus, self.a_minus, lo, hi)
        })
    }

    /// The weight `elapsed_ms` after its last event, without a new event: `w` plus the lazily
    /// applied drift, clamped and stored as at an event (`w` itself when there is no drift).
    pub fn drifted(&self, w: f32, elapsed_ms: f64) -> f32 {
        self.non_hebbian.drifted_weight(w, elapsed_ms, self.w_min, self.w_max)
    }

    /// Whether the rule has a constant drift (weights change between events).
    #[inline]
    pub fn has_drift(&self) -> bool {
        self.non_hebbian.drift != 0.0
    }

    /// Whether an update depends on `elapsed_ms` (a drift, or the presynaptic-centred state).
    #[inline]
    pub fn uses_elapsed(&self) -> bool {
        self.non_hebbian.drift != 0.0 || self.pairing == Pairing::PresynapticCentred
    }

    /// See [`super::Rule::rate_limit`]; formulas in the module doc.
    #[inline]
    pub fn rate_limit(&self, nu_pre_hz: f64, nu_post_hz: f64, w: f64) -> f64 {
        let w = super::clamp(w, self.w_min, self.w_max);
        let (tp, tm) = (self.tau_plus * MS, self.tau_minus * MS);
        let (d_plus, d_minus) = match self.pairing {
            Pairing::AllToAll => (1.0, 1.0),
            Pairing::NearestSymmetric => (1.0 + nu_pre_hz * tp, 1.0 + nu_post_hz * tm),
            Pairing::PresynapticCentred => (1.0 + nu_post_hz * tp, 1.0 + nu_post_hz * tm),
            Pairing::NearestRestricted => {
                let nu = nu_pre_hz + nu_post_hz;
                (1.0 + nu * tp, 1.0 + nu * tm)
            }
        };
        let pairs = nu_pre_hz * nu_post_hz;
        self.a_plus * self.weight_dependence.ltp(w, self.w_max) * pairs * tp / d_plus
            - self.a_minus * self.weight_dependence.ltd(w, self.w_max) * pairs * tm / d_minus
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additive_all_to_all_constants_reproduce_the_general_update_bit_for_bit() {
        use rand::{RngExt, SeedableRng};
        let spec: PairStdpSpec =
            toml::from_str("a_plus = 0.0324\ntau_plus = 20.0\na_minus = 0.03402\ntau_minus = 20.0\nw_max = 3.24").unwrap();
        let rule = spec.build_unchecked();
        let (ap, am, lo, hi) = rule.additive_all_to_all().unwrap();
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
        let mut s = 0.0f32;
        for _ in 0..100_000 {
            let w = (rng.random::<f64>() * 3.24) as f32;
            let x: f64 = rng.random::<f64>() * 200.0; // includes updates far past both bounds
            let fast_pre = ((w as f64 - am * x) as f32).max(lo).min(hi);
            let fast_post = ((w as f64 + ap * x) as f32).max(lo).min(hi);
            assert_eq!(fast_pre.to_bits(), rule.on_pre(w, &[0.0], &[x], 0.0, &mut s).to_bits());
            assert_eq!(fast_post.to_bits(), rule.on_post(w, &[x], &[0.0], 0.0, &mut s).to_bits());
        }
        let nn: PairStdpSpec = toml::from_str(
            "a_plus = 0.01\ntau_plus = 20.0\na_minus = 0.01\ntau_minus = 20.0\nw_max = 1.0\npairing = \"nearest_symmetric\"",
        )
        .unwrap();
        assert!(nn.build_unchecked().additive_all_to_all().is_none());
    }

    #[test]
    fn strictly_later_decodes_times() {
        let near = |s: f64, tau: f64| (-s / tau).exp();
        // a 3 ms ago, b 5 ms ago: a is later, whatever the taus
        assert!(strictly_later(near(3.0, 16.8), 16.8, near(5.0, 33.7), 33.7));
        assert!(!strictly_later(near(5.0, 16.8), 16.8, near(3.0, 33.7), 33.7));
        // same step: neither is later
        for s in [0.1, 7.3, 250.0, 4000.0] {
            assert!(!strictly_later(near(s, 16.8), 16.8, near(s, 33.7), 33.7));
            assert!(!strictly_later(near(s, 33.7), 33.7, near(s, 16.8), 16.8));
        }
        // one step apart at long lags is still resolved
        assert!(strictly_later(near(999.9, 16.8), 16.8, near(1000.0, 33.7), 33.7));
        // never spiked
        assert!(strictly_later(0.5, 20.0, 0.0, 20.0));
        assert!(!strictly_later(0.0, 20.0, 0.5, 20.0));
        assert!(!strictly_later(0.0, 20.0, 0.0, 20.0));
    }
}
