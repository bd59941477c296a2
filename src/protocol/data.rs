//! Published data that protocol plots draw and that the frequency sweep compares with.

use super::spec::DataSet;

/// One published point: mean relative change (EPSP after / before - 1) and its SEM.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataPoint {
    /// Pairing frequency, Hz.
    pub frequency_hz: f64,
    /// Lag (post minus pre), ms.
    pub lag_ms: f64,
    /// Mean relative change.
    pub mean: f64,
    /// Standard error of the mean.
    pub sem: f64,
}

const fn pt(frequency_hz: f64, lag_ms: f64, mean: f64, sem: f64) -> DataPoint {
    DataPoint {
        frequency_hz,
        lag_ms,
        mean,
        sem,
    }
}

/// Sjöström, Turrigiano & Nelson 2001 (Neuron 32:1149), frequency dependence of plasticity at
/// +10 and -10 ms, as tabulated for the Pfister & Gerstner 2006 fit (plasticity.md §2.3,
/// [V2: VH-Lab `sjostrom_freq_stdp.m`; reproduced by the four fitted rows]).
pub const SJOSTROM2001: [DataPoint; 10] = [
    pt(0.1, 10.0, -0.04, 0.05),
    pt(0.1, -10.0, -0.29, 0.08),
    pt(10.0, 10.0, 0.14, 0.10),
    pt(10.0, -10.0, -0.41, 0.11),
    pt(20.0, 10.0, 0.29, 0.14),
    pt(20.0, -10.0, -0.34, 0.10),
    pt(40.0, 10.0, 0.53, 0.11),
    pt(40.0, -10.0, 0.56, 0.32),
    pt(50.0, 10.0, 0.56, 0.26),
    pt(50.0, -10.0, 0.75, 0.19),
];

impl DataSet {
    /// The data points (empty where none are verified).
    pub fn points(self) -> &'static [DataPoint] {
        match self {
            DataSet::Sjostrom2001 => &SJOSTROM2001,
            DataSet::BiPoo1998 => &[],
        }
    }

    /// Short citation for legends and file attributes.
    pub fn citation(self) -> &'static str {
        match self {
            DataSet::Sjostrom2001 => "Sjöström, Turrigiano & Nelson 2001 (mean ± SEM)",
            DataSet::BiPoo1998 => "Bi & Poo 1998",
        }
    }

    /// What the plot says about the data.
    pub fn note(self) -> &'static str {
        match self {
            DataSet::Sjostrom2001 => "data: Sjöström et al. 2001, as tabulated for Pfister & Gerstner 2006 (mean ± SEM)",
            DataSet::BiPoo1998 => "Bi & Poo 1998: no verified data points (only the fitted time constants); none drawn",
        }
    }

    /// The point at (frequency, lag), if any.
    pub fn point(self, frequency_hz: f64, lag_ms: f64) -> Option<DataPoint> {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        self.points()
            .iter()
            .copied()
            .find(|p| close(p.frequency_hz, frequency_hz) && close(p.lag_ms, lag_ms))
    }
}

/// `sum(((model - mean) / sem)^2) / n` over the points that have data, and n.
pub fn chi2_per_point(pairs: &[(f64, DataPoint)]) -> Option<(f64, usize)> {
    if pairs.is_empty() {
        return None;
    }
    let s: f64 = pairs.iter().map(|(m, d)| ((m - d.mean) / d.sem).powi(2)).sum();
    Some((s / pairs.len() as f64, pairs.len()))
}
