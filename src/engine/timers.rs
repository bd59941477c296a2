//! Per-stage wall-clock timers (`--timings`). Off by default: reading the clock costs a few tens
//! of nanoseconds per call, several times per step.

use std::time::Instant;

/// Accumulated seconds per stage.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timers {
    /// Whether timing is on.
    #[serde(skip)]
    pub enabled: bool,
    /// Spike delivery (ring-buffer writes) and Poisson drive.
    pub deliver: f64,
    /// Neuron integration and threshold.
    pub integrate: f64,
    /// Plasticity updates.
    pub plasticity: f64,
    /// Gathering spikes, statistics, spike sources; with several ranks, the spike exchange (the
    /// wait for it, where it overlaps integration).
    pub gather: f64,
    /// Recording.
    pub record: f64,
    /// Step overhead (drive bookkeeping, thread scheduling).
    pub other: f64,
}

impl Timers {
    /// Start a measurement if enabled.
    #[inline]
    pub fn start(&self) -> Option<Instant> {
        self.enabled.then(Instant::now)
    }
    /// Add to `record`.
    #[inline]
    pub fn add_record(&mut self, t: Option<Instant>) {
        if let Some(t) = t {
            self.record += t.elapsed().as_secs_f64();
        }
    }
    /// Add to `gather`.
    #[inline]
    pub fn add_gather(&mut self, t: Option<Instant>) {
        if let Some(t) = t {
            self.gather += t.elapsed().as_secs_f64();
        }
    }
    /// Add the region's wall time minus what its stages reported (`accounted`) to `other`.
    #[inline]
    pub fn add_other(&mut self, t: Option<Instant>, accounted: f64) {
        if let Some(t) = t {
            self.other += (t.elapsed().as_secs_f64() - accounted).max(0.0);
        }
    }
    /// Total of the stages.
    pub fn total(&self) -> f64 {
        self.deliver + self.integrate + self.plasticity + self.gather + self.record + self.other
    }
}
