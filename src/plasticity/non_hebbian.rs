//! Non-Hebbian terms that can be added to the pair and triplet STDP rules.
//!
//! # Equations
//!
//! ```text
//! every event (pre or post):  w <- clamp(w + drift * elapsed_ms)          (lazy constant drift)
//! at a presynaptic spike:     w <- w + a_pre
//! at a postsynaptic spike:    w <- w + a_post - beta * w * o(t⁻)
//!                             o: postsynaptic Accumulate trace, time constant tau_o
//! ```
//!
//! `w` in the `beta` term is the weight after the drift and before this event's other increments.
//! Mean drift for independent Poisson trains (plasticity.md §4.1, §4.5, §4.6), taus in seconds:
//!
//! ```text
//! d<w>/dt += a_pre nu_pre + a_post nu_post + 1000 drift - beta tau_o w nu_post^2
//! ```
//!
//! (`E[o(t⁻)] = nu_post tau_o` at a Poisson post spike.) With `a_pre = a_post = -c nu_bar`,
//! `1000 drift = c nu_bar^2` and a pair window of integral `c` the total is the covariance
//! (Hopfield) rule `c (nu_pre - nu_bar)(nu_post - nu_bar)`; with `beta > 0` the Oja decay
//! `-beta tau_o w nu_post^2`.
//!
//! # Parameters (`non_hebbian` table of a pair or triplet rule)
//!
//! | name | unit | default | meaning |
//! |---|---|---|---|
//! | `a_pre` | weight | 0 | step at each presynaptic spike (any sign) |
//! | `a_post` | weight | 0 | step at each postsynaptic spike (any sign) |
//! | `drift` | weight / ms | 0 | constant drift, applied lazily at the synapse's next event (any sign) |
//! | `beta` | 1 | 0 | post-triggered weight-proportional decay per unit of `o` (>= 0) |
//! | `tau_o` | ms | — | time constant of `o`; required when `beta > 0` |
//!
//! # References
//! - Kempter, Gerstner & van Hemmen 1999, Phys Rev E 59:4498 (rate limit with `a_pre`, `a_post`).
//! - Oja 1982, J Math Biol 15:267 (the `y^2 w` decay the `beta` term reproduces).

use serde::{Deserialize, Serialize};

use super::{check_finite, check_nonneg, check_positive, clamp, err, to_weight, SpecError, TraceSpec, MS};

/// Spec of the non-Hebbian terms (all default to zero: no term).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NonHebbianSpec {
    /// Step added at each presynaptic spike (weight units, any sign). Default 0.
    pub a_pre: f64,
    /// Step added at each postsynaptic spike (weight units, any sign). Default 0.
    pub a_post: f64,
    /// Constant drift (weight units per ms, any sign), applied lazily as `drift * elapsed_ms`. Default 0.
    pub drift: f64,
    /// Post-triggered decay `w -= beta * w * o(t⁻)` (dimensionless, >= 0). Default 0.
    pub beta: f64,
    /// Time constant of the postsynaptic Accumulate trace `o` (ms, > 0); required when `beta > 0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau_o: Option<f64>,
}

impl NonHebbianSpec {
    pub(crate) fn validate_into(&self, errs: &mut Vec<SpecError>) {
        check_finite(errs, "non_hebbian.a_pre", self.a_pre);
        check_finite(errs, "non_hebbian.a_post", self.a_post);
        check_finite(errs, "non_hebbian.drift", self.drift);
        check_nonneg(errs, "non_hebbian.beta", self.beta);
        match self.tau_o {
            Some(t) => check_positive(errs, "non_hebbian.tau_o", t),
            None if self.beta > 0.0 => err(errs, "non_hebbian.tau_o", "missing", "required when beta > 0"),
            None => {}
        }
    }

    /// Runtime terms; `o_index` is where the rule put the `o` trace in its post readings.
    pub(crate) fn build(&self, o_index: usize) -> NonHebbian {
        NonHebbian {
            a_pre: self.a_pre,
            a_post: self.a_post,
            drift: self.drift,
            beta: self.beta,
            tau_o: if self.beta > 0.0 { self.tau_o.unwrap_or(0.0) } else { 0.0 },
            o_index,
        }
    }

    /// The `o` trace, if the `beta` term is active.
    pub(crate) fn o_trace(&self) -> Option<TraceSpec> {
        match self.tau_o {
            Some(t) if self.beta > 0.0 => Some(TraceSpec::accumulate(t)),
            _ => None,
        }
    }
}

/// Runtime non-Hebbian terms (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonHebbian {
    /// Step per presynaptic spike (weight units).
    pub a_pre: f64,
    /// Step per postsynaptic spike (weight units).
    pub a_post: f64,
    /// Drift (weight units per ms).
    pub drift: f64,
    /// Post-triggered decay coefficient.
    pub beta: f64,
    /// Time constant of `o` (ms); 0 when `beta == 0`.
    pub tau_o: f64,
    o_index: usize,
}

impl NonHebbian {
    /// Weight after the lazily applied drift, clamped to the bounds.
    #[inline]
    pub(crate) fn drifted(&self, w: f32, elapsed_ms: f64, lo: f64, hi: f64) -> f64 {
        clamp(f64::from(w) + self.drift * elapsed_ms, lo, hi)
    }

    /// The weight `elapsed_ms` after its last event, without a new one: [`Self::drifted`] stored
    /// as at an event (`w` itself without drift).
    pub(crate) fn drifted_weight(&self, w: f32, elapsed_ms: f64, lo: f64, hi: f64) -> f32 {
        if self.drift == 0.0 {
            return w;
        }
        to_weight(self.drifted(w, elapsed_ms, lo, hi), lo, hi)
    }

    /// Non-Hebbian increment at a postsynaptic spike, `w` = weight after drift.
    #[inline]
    pub(crate) fn post_increment(&self, w: f64, post: &[f64]) -> f64 {
        if self.beta > 0.0 {
            self.a_post - self.beta * w * post[self.o_index]
        } else {
            self.a_post
        }
    }

    /// Contribution to `d<w>/dt` (weight units per second).
    #[inline]
    pub(crate) fn rate(&self, nu_pre: f64, nu_post: f64, w: f64) -> f64 {
        self.a_pre * nu_pre + self.a_post * nu_post + self.drift / MS - self.beta * (self.tau_o * MS) * w * nu_post * nu_post
    }
}
