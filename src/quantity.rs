//! A model-file value that is either a constant or drawn from a distribution:
//!
//! ```toml
//! weight = 1.62                                  # constant
//! weight = { normal = { mean = 1.0, std = 0.2 } } # normal, clipped at 0 where the quantity is non-negative
//! weight = { uniform = { low = 0.5, high = 1.5 } }
//! weight = { lognormal = { mu = 0.0, sigma = 0.5 } } # mu, sigma of the underlying normal (as NEST)
//! ```

use crate::error::SpecIssue;
use crate::rng::{uniform, uniform_open0, Rng};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A constant or a distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Quantity {
    /// The same value everywhere.
    Constant(f64),
    /// Drawn independently for every element.
    Dist(Distribution),
}

/// Distributions a quantity can be drawn from.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// Normal with mean and standard deviation (same unit as the quantity).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (>= 0).
        std: f64,
    },
    /// Uniform on [low, high).
    Uniform {
        /// Lower end.
        low: f64,
        /// Upper end (>= low).
        high: f64,
    },
    /// exp(N(mu, sigma)).
    Lognormal {
        /// Mean of the underlying normal.
        mu: f64,
        /// Standard deviation of the underlying normal (>= 0).
        sigma: f64,
    },
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a distribution table such as { normal = { mean = 1.0, std = 0.1 } }, { uniform = { low = 0.0, high = 1.0 } } or { lognormal = { mu = 0.0, sigma = 0.5 } }")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity::Constant(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::Constant(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::Constant(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Quantity, A::Error> {
                Distribution::deserialize(de::value::MapAccessDeserializer::new(map)).map(Quantity::Dist)
            }
        }
        d.deserialize_any(V)
    }
}

impl From<f64> for Quantity {
    fn from(v: f64) -> Self {
        Quantity::Constant(v)
    }
}

impl Quantity {
    /// The constant, if it is one.
    pub fn as_constant(&self) -> Option<f64> {
        match self {
            Quantity::Constant(v) => Some(*v),
            Quantity::Dist(_) => None,
        }
    }

    /// Mean of the quantity (before clipping).
    pub fn mean(&self) -> f64 {
        match self {
            Quantity::Constant(v) => *v,
            Quantity::Dist(Distribution::Normal { mean, .. }) => *mean,
            Quantity::Dist(Distribution::Uniform { low, high }) => 0.5 * (low + high),
            Quantity::Dist(Distribution::Lognormal { mu, sigma }) => (mu + 0.5 * sigma * sigma).exp(),
        }
    }

    /// Checks the parameters; with `non_negative`, a constant must be >= 0 (distributions that can
    /// go negative are clipped at 0 when drawn).
    pub fn validate(&self, field: &str, non_negative: bool, what: &str, issues: &mut Vec<SpecIssue>) {
        let finite = |v: f64, name: &str, issues: &mut Vec<SpecIssue>| {
            if !v.is_finite() {
                issues.push(SpecIssue::new(
                    format!("{field}.{name}"),
                    format!("value {v} is not a finite number"),
                ));
            }
        };
        match self {
            Quantity::Constant(v) => {
                finite(*v, "value", issues);
                if non_negative && *v < 0.0 {
                    issues.push(SpecIssue::new(field, format!("value {v} is negative; {what}")));
                }
            }
            Quantity::Dist(Distribution::Normal { mean, std }) => {
                finite(*mean, "normal.mean", issues);
                if !(std.is_finite() && *std >= 0.0) {
                    issues.push(SpecIssue::new(
                        format!("{field}.normal.std"),
                        format!("value {std} is not allowed; a standard deviation must be >= 0"),
                    ));
                }
            }
            Quantity::Dist(Distribution::Uniform { low, high }) => {
                finite(*low, "uniform.low", issues);
                finite(*high, "uniform.high", issues);
                if high < low {
                    issues.push(SpecIssue::new(
                        format!("{field}.uniform"),
                        format!("high = {high} is below low = {low}; need low <= high"),
                    ));
                }
                if non_negative && *low < 0.0 {
                    issues.push(SpecIssue::new(
                        format!("{field}.uniform.low"),
                        format!("value {low} is negative; {what}"),
                    ));
                }
            }
            Quantity::Dist(Distribution::Lognormal { mu, sigma }) => {
                finite(*mu, "lognormal.mu", issues);
                if !(sigma.is_finite() && *sigma >= 0.0) {
                    issues.push(SpecIssue::new(
                        format!("{field}.lognormal.sigma"),
                        format!("value {sigma} is not allowed; sigma must be >= 0"),
                    ));
                }
            }
        }
    }

    /// One draw. `clip0` clips at zero (normal weights and delays).
    #[inline]
    pub fn sample(&self, rng: &mut Rng, clip0: bool) -> f64 {
        let v = match self {
            Quantity::Constant(v) => *v,
            Quantity::Dist(Distribution::Normal { mean, std }) => mean + std * standard_normal(rng),
            Quantity::Dist(Distribution::Uniform { low, high }) => low + (high - low) * uniform(rng),
            Quantity::Dist(Distribution::Lognormal { mu, sigma }) => (mu + sigma * standard_normal(rng)).exp(),
        };
        if clip0 {
            v.max(0.0)
        } else {
            v
        }
    }
}

/// Standard normal by the Box-Muller transform (one of the pair is used; simple and exact).
#[inline]
pub fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = uniform_open0(rng);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
