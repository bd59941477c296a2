//! One trial: the protocol turned into a schedule of spikes and inputs on the step grid, a
//! two-neuron network (a `spike_source` pre neuron, the post neuron, one plastic synapse), the
//! phases run in order with plasticity switched per phase, and the measurements taken while it
//! runs (PSP of every test pulse, weight after every phase, spikes, membrane samples).

use super::spec::{MembraneRecord, PostSpike, ProtocolSpec, Stimulus, DEFAULT_REST_MS};
use crate::engine::{stop_flag, Simulation};
use crate::error::{Error, Result, SpecIssue};
use crate::neuron::{NeuronSpec, SpikeSourceParams};
use crate::quantity::Quantity;
use crate::spec::{Connectivity, InputSpec, Kind, ModelSpec, PopulationSpec, ProjectionSpec, RecordSpec, Selection, SimulationSpec};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Samples kept before the first spike of a recorded stimulus (`membrane = "stimuli"`), ms.
pub const TRACE_LEAD_MS: f64 = 10.0;
/// How long the post neuron is watched when its spike latency is calibrated, steps of the trial.
const CALIBRATION_MS: f64 = 200.0;

fn steps(ms: f64, dt: f64) -> u64 {
    (ms / dt).round().max(0.0) as u64
}

/// One phase on the step grid. The phase covers steps `start + 1 ..= end`.
#[derive(Clone, Debug)]
pub struct PhasePlan {
    /// Name.
    pub name: String,
    /// Plasticity on during the phase.
    pub plasticity: bool,
    /// Step at which the phase starts (the state at `start * dt`).
    pub start: u64,
    /// Last step of the phase.
    pub end: u64,
    /// Steps of the test pulses (presynaptic spikes).
    pub test_pulses: Vec<u64>,
    /// (pre step, post step) of every pairing.
    pub pairings: Vec<(u64, u64)>,
}

/// Everything a trial does, on the step grid.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Time step, ms.
    pub dt: f64,
    /// Delay of the synapse, steps.
    pub delay: u64,
    /// Phases in order.
    pub phases: Vec<PhasePlan>,
    /// Steps between the input that makes a post spike and the spike (measured from rest).
    pub latency: u64,
}

impl Schedule {
    /// Total steps.
    pub fn total_steps(&self) -> u64 {
        self.phases.last().map_or(0, |p| p.end)
    }

    /// Every presynaptic spike step, ascending.
    pub fn pre_steps(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .phases
            .iter()
            .flat_map(|p| p.test_pulses.iter().copied().chain(p.pairings.iter().map(|x| x.0)))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every intended postsynaptic spike step, ascending.
    pub fn post_targets(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.phases.iter().flat_map(|p| p.pairings.iter().map(|x| x.1)).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The latency (steps) from the input that makes a post spike to the spike, measured on the post
/// neuron alone, from rest. Errors name the field when the input fires it zero or several times.
pub fn calibrate(neuron: &NeuronSpec, dt: f64, method: &PostSpike, field: &str, file: &Path) -> Result<u64> {
    let kick = steps(1.0, dt).max(1);
    let watch = steps(CALIBRATION_MS, dt);
    let mut spec = bare_model(dt, (kick + watch) as f64 * dt);
    spec.populations.push(PopulationSpec {
        name: "post".into(),
        kind: Kind::Excitatory,
        size: 1,
        neuron: neuron.clone(),
        initial: BTreeMap::new(),
    });
    spec.inputs = kick_inputs(method, &[kick], dt);
    let net = build(&spec, file)?;
    let mut sim = Simulation::new(net, 1)?;
    let mut spikes = Vec::new();
    for _ in 0..kick + watch {
        sim.step();
        if !sim.last_spikes()[0].is_empty() {
            spikes.push(sim.net().step);
        }
    }
    let (what, value, unit) = match method {
        PostSpike::InputSpike { weight } => ("weight", *weight, neuron.weight_unit()),
        PostSpike::CurrentPulse { amplitude, .. } => ("amplitude", *amplitude, neuron.current_unit()),
    };
    let issue = |m: String| Error::Invalid {
        file: file.to_path_buf(),
        issues: vec![SpecIssue::new(format!("{field}.post_spike.{what}"), m)],
    };
    match spikes.len() {
        1 => Ok(spikes[0] - kick),
        0 => Err(issue(format!(
            "value {value} {unit} does not make the post neuron ({}) fire within {CALIBRATION_MS} ms from rest; it must be large enough to fire it",
            neuron.name()
        ))),
        n => Err(issue(format!(
            "value {value} {unit} makes the post neuron ({}) fire {n} times from rest; each pairing needs exactly one post spike (lower it{})",
            neuron.name(),
            if matches!(method, PostSpike::CurrentPulse { .. }) {
                " or shorten the pulse"
            } else {
                ""
            }
        ))),
    }
}

/// Lay the phases out on the step grid. `latency` is the calibrated post-spike latency (steps).
pub fn schedule(p: &ProtocolSpec, latency: u64, file: &Path) -> Result<Schedule> {
    let dt = p.dt();
    let delay = steps(p.delay(), dt);
    let win = steps(p.measure.psp_window, dt);
    let mut phases = Vec::with_capacity(p.phases.len());
    let mut issues = Vec::new();
    let mut start = 0u64;
    for (k, ph) in p.phases.iter().enumerate() {
        let f = p.phase_field(k);
        let onset = ph.onset;
        let at = |ms: f64| start + steps(ms, dt);
        let mut test_pulses = Vec::new();
        let mut pairings = Vec::new();
        let mut anchors: Vec<f64> = Vec::new();
        let mut last = at(0.0);
        match &ph.stimulus {
            Stimulus::None => {}
            Stimulus::TestPulses { count, interval } => {
                test_pulses = (0..*count).map(|i| at(onset + i as f64 * interval)).collect();
                last = *test_pulses.last().unwrap_or(&last) + win;
            }
            Stimulus::Pairing { count, frequency, .. } => {
                anchors = (0..*count).map(|i| onset + i as f64 * 1000.0 / frequency).collect();
            }
            Stimulus::Bursts {
                pairings: n,
                bursts,
                frequency,
                burst_interval,
                ..
            } => {
                for b in 0..*bursts {
                    for i in 0..*n {
                        anchors.push(onset + b as f64 * burst_interval + i as f64 * 1000.0 / frequency);
                    }
                }
            }
        }
        if let Some(lag) = ph.stimulus.lag() {
            // lag = t_post + delay - t_pre at the synapse; at the soma post - pre = lag - delay.
            let soma = steps(lag.abs(), dt) as i64 * lag.signum() as i64 - delay as i64;
            for a in &anchors {
                let a = at(*a);
                let (pre, post) = if soma >= 0 { (a, a + soma as u64) } else { (a + (-soma) as u64, a) };
                if post < latency + 1 {
                    issues.push(SpecIssue::new(
                        format!("{f}.onset"),
                        format!(
                            "value {onset} ms is too short: the input that makes the first post spike would start before the trial ({} steps of latency); increase it",
                            latency
                        ),
                    ));
                    break;
                }
                pairings.push((pre, post));
            }
            last = pairings.iter().map(|x| x.0.max(x.1)).max().unwrap_or(last) + delay + 2;
        }
        let end = match (ph.duration, ph.rest) {
            (Some(d), _) => {
                let end = at(d);
                if end < last {
                    issues.push(SpecIssue::new(
                        format!("{f}.duration"),
                        format!(
                            "value {d} ms is too short; the stimulus needs {} ms (onset, stimuli, then {})",
                            super::spec::round6((last - start) as f64 * dt),
                            if ph.stimulus.is_induction() {
                                "one delay + 2 dt for the last post spike to reach the synapse"
                            } else {
                                "measure.psp_window after the last test pulse"
                            }
                        ),
                    ));
                }
                end
            }
            (None, rest) => {
                let stim_end = match &ph.stimulus {
                    Stimulus::TestPulses { .. } => test_pulses.last().copied().unwrap_or(start),
                    _ => pairings.iter().map(|x| x.0.max(x.1)).max().unwrap_or(start),
                };
                (stim_end + steps(rest.unwrap_or(DEFAULT_REST_MS), dt)).max(last)
            }
        };
        phases.push(PhasePlan {
            name: ph.name.clone(),
            plasticity: ph.plasticity,
            start,
            end,
            test_pulses,
            pairings,
        });
        start = end;
    }
    if !issues.is_empty() {
        return Err(Error::Invalid {
            file: file.to_path_buf(),
            issues,
        });
    }
    Ok(Schedule {
        dt,
        delay,
        phases,
        latency,
    })
}

fn bare_model(dt: f64, duration: f64) -> ModelSpec {
    ModelSpec {
        description: None,
        simulation: SimulationSpec {
            dt,
            duration: duration.max(dt),
            seed: 0,
        },
        populations: Vec::new(),
        projections: Vec::new(),
        inputs: Vec::new(),
        record: RecordSpec {
            spikes: Selection::Keyword("none".into()),
            weights: Selection::Keyword("none".into()),
            ..RecordSpec::default()
        },
    }
}

fn kick_inputs(method: &PostSpike, at: &[u64], dt: f64) -> Vec<InputSpec> {
    if at.is_empty() {
        return Vec::new();
    }
    match method {
        PostSpike::InputSpike { weight } => vec![InputSpec::SpikeTimes {
            target: "post".into(),
            times: at.iter().map(|&k| k as f64 * dt).collect(),
            neurons: None,
            weight: *weight,
            receptor: Kind::Excitatory,
        }],
        PostSpike::CurrentPulse { amplitude, duration } => {
            let len = steps(*duration, dt);
            let mut times = Vec::new();
            let mut amplitudes = Vec::new();
            for &k in at {
                // Pulses closer than their length merge into one.
                if let Some(t) = times.last_mut() {
                    if (k as f64 * dt) <= *t + 1e-9 * dt {
                        *t = (k + len) as f64 * dt;
                        continue;
                    }
                }
                times.push(k as f64 * dt);
                amplitudes.push(*amplitude);
                times.push((k + len) as f64 * dt);
                amplitudes.push(0.0);
            }
            vec![InputSpec::StepCurrent {
                target: "post".into(),
                times,
                amplitudes,
                neurons: None,
            }]
        }
    }
}

fn build(spec: &ModelSpec, file: &Path) -> Result<crate::Network> {
    let issues = spec.validate();
    if !issues.is_empty() {
        return Err(Error::Invalid {
            file: file.to_path_buf(),
            issues: issues
                .into_iter()
                .map(|i| SpecIssue::new(format!("(generated model) {}", i.field), i.message))
                .collect(),
        });
    }
    crate::build::build(spec)
}

/// The two-neuron model of a trial: population 0 = pre (spike source), 1 = post, projection 0.
pub fn model(p: &ProtocolSpec, s: &Schedule) -> ModelSpec {
    let dt = s.dt;
    let mut m = bare_model(dt, s.total_steps() as f64 * dt);
    m.description = p.description.clone();
    m.populations.push(PopulationSpec {
        name: "pre".into(),
        kind: p.pre.kind,
        size: 1,
        neuron: NeuronSpec::SpikeSource(SpikeSourceParams {
            times: vec![s.pre_steps().iter().map(|&k| k as f64 * dt).collect()],
        }),
        initial: BTreeMap::new(),
    });
    m.populations.push(PopulationSpec {
        name: "post".into(),
        kind: Kind::Excitatory,
        size: 1,
        neuron: p.post.neuron.clone(),
        initial: BTreeMap::new(),
    });
    m.projections.push(ProjectionSpec {
        name: Some("synapse".into()),
        pre: "pre".into(),
        post: "post".into(),
        connectivity: Connectivity::OneToOne,
        weight: Quantity::Constant(p.synapse.weight),
        delay: Some(Quantity::Constant(s.delay as f64 * dt)),
        plasticity: Some(p.synapse.plasticity.clone()),
    });
    // Inputs that make the post spikes, one set per post-spike method (phases may differ).
    let mut groups: Vec<(PostSpike, Vec<u64>)> = Vec::new();
    for (ph, plan) in p.phases.iter().zip(&s.phases) {
        let method = match &ph.stimulus {
            Stimulus::Pairing { post_spike, .. } | Stimulus::Bursts { post_spike, .. } => post_spike,
            _ => continue,
        };
        let kicks = plan.pairings.iter().map(|x| x.1 - s.latency);
        match groups.iter_mut().find(|g| &g.0 == method) {
            Some(g) => g.1.extend(kicks),
            None => groups.push((method.clone(), kicks.collect())),
        }
    }
    for (method, mut at) in groups {
        at.sort_unstable();
        at.dedup();
        m.inputs.extend(kick_inputs(&method, &at, dt));
    }
    m
}

/// What one phase measured.
#[derive(Clone, Debug)]
pub struct PhaseResult {
    /// Name.
    pub name: String,
    /// Stimulus type (`none`, `test_pulses`, `pairing`, `bursts`).
    pub stimulus: String,
    /// Plasticity on.
    pub plasticity: bool,
    /// Start, ms.
    pub start_ms: f64,
    /// End, ms.
    pub end_ms: f64,
    /// Weight at the start of the phase.
    pub w_start: f32,
    /// Weight at the end of the phase.
    pub w_end: f32,
    /// PSP amplitude of every test pulse of the phase, mV (peak |V - V0| in the direction of the
    /// synapse's sign, V0 = V at the step of the test spike).
    pub psps: Vec<f64>,
}

impl PhaseResult {
    /// Mean PSP of the phase's test pulses, mV (NaN if none).
    pub fn mean_psp(&self) -> f64 {
        mean(&self.psps)
    }
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Everything one trial measured.
#[derive(Clone, Debug)]
pub struct TrialResult {
    /// Lag of the swept (or first) induction phase, ms.
    pub lag_ms: f64,
    /// Pairing frequency of the swept (or first) induction phase, Hz.
    pub frequency_hz: f64,
    /// Pairings of the swept (or first) induction phase.
    pub pairings: u32,
    /// Initial weight.
    pub w_initial: f32,
    /// Weight at the start of the first induction phase.
    pub w_before: f32,
    /// Weight at the end of the trial.
    pub w_after: f32,
    /// Mean PSP of the test pulses before the first induction phase, mV (NaN if none).
    pub psp_before: f64,
    /// Mean PSP of the test pulses after the last induction phase, mV (NaN if none).
    pub psp_after: f64,
    /// Per phase.
    pub phases: Vec<PhaseResult>,
    /// Presynaptic spike times, ms.
    pub pre_spikes: Vec<f64>,
    /// Postsynaptic spike times, ms.
    pub post_spikes: Vec<f64>,
    /// Intended post spikes (one per pairing).
    pub post_expected: usize,
    /// Intended post spikes that occurred at their step.
    pub post_on_target: usize,
    /// Post spikes that were not intended (evoked by the synapse, or displaced).
    pub post_other: usize,
    /// Membrane samples: times, ms.
    pub v_time: Vec<f64>,
    /// Membrane samples: V, mV.
    pub v: Vec<f32>,
    /// Weight trajectory: times (start, every change, end), ms.
    pub w_time: Vec<f64>,
    /// Weight trajectory: values.
    pub w: Vec<f32>,
    /// Test pulses: spike time (ms), phase index and PSP (mV).
    pub test_pulses: Vec<(f64, usize, f64)>,
    /// Every pairing: pre spike (ms), intended post spike (ms), the post spike nearest to it
    /// (ms; NaN if none), and the realised lag `t_post + delay - t_pre` (ms; NaN if none).
    pub pairings_detail: Vec<[f64; 4]>,
    /// Post-spike latency used (steps from the input to the spike).
    pub latency_steps: u64,
    /// Simulated time, ms.
    pub duration_ms: f64,
}

impl TrialResult {
    /// `w_after / w_before`.
    pub fn w_ratio(&self) -> f64 {
        f64::from(self.w_after) / f64::from(self.w_before)
    }
    /// Relative weight change `w_after / w_before - 1`.
    pub fn dw_rel(&self) -> f64 {
        (f64::from(self.w_after) - f64::from(self.w_before)) / f64::from(self.w_before)
    }
    /// `EPSP_after / EPSP_before` (NaN without test pulses on both sides).
    pub fn psp_ratio(&self) -> f64 {
        self.psp_after / self.psp_before
    }
    /// Whether every intended post spike happened at its step and no other post spike occurred.
    pub fn timing_exact(&self) -> bool {
        self.post_on_target == self.post_expected && self.post_other == 0
    }
    /// Mean, minimum and maximum of the realised lags (ms; NaN if no pairing has a post spike).
    pub fn realised_lags(&self) -> (f64, f64, f64) {
        let l: Vec<f64> = self.pairings_detail.iter().map(|p| p[3]).filter(|x| x.is_finite()).collect();
        if l.is_empty() {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let m = l.iter().sum::<f64>() / l.len() as f64;
        (
            m,
            l.iter().copied().fold(f64::INFINITY, f64::min),
            l.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    }
}

/// Run one trial of a validated protocol. `swept` is the induction phase whose lag and frequency
/// label the trial (default: the first induction phase).
pub fn run(p: &ProtocolSpec, swept: Option<usize>, file: &Path) -> Result<TrialResult> {
    let dt = p.dt();
    // Latency of each distinct post-spike method (they must agree).
    let mut latency = None;
    for (k, ph) in p.phases.iter().enumerate() {
        if let Stimulus::Pairing { post_spike, .. } | Stimulus::Bursts { post_spike, .. } = &ph.stimulus {
            let l = calibrate(&p.post.neuron, dt, post_spike, &format!("{}.stimulus", p.phase_field(k)), file)?;
            match latency {
                None => latency = Some(l),
                Some(l0) if l0 != l => {
                    return Err(Error::Invalid {
                        file: file.to_path_buf(),
                        issues: vec![SpecIssue::new(
                            format!("{}.stimulus.post_spike", p.phase_field(k)),
                            format!("fires the post neuron {l} steps after its onset where an earlier phase's method takes {l0}; use one post-spike method"),
                        )],
                    })
                }
                _ => {}
            }
        }
    }
    let latency = latency.unwrap_or(0);
    let s = schedule(p, latency, file)?;
    let spec = model(p, &s);
    let net = build(&spec, file)?;
    let mut sim = Simulation::new(net, 1)?;
    let sign = p.pre.kind.sign();
    let win = steps(p.measure.psp_window, dt);

    // Membrane windows (start, end) inclusive, ascending.
    let mut windows: Vec<(u64, u64)> = Vec::new();
    let lead = steps(TRACE_LEAD_MS, dt);
    let every = match p.record.membrane {
        MembraneRecord::All => steps(p.record.interval.unwrap_or(dt), dt).max(1),
        _ => 1,
    };
    match p.record.membrane {
        MembraneRecord::None => {}
        MembraneRecord::All => windows.push((0, s.total_steps())),
        MembraneRecord::Stimuli => {
            for ph in &s.phases {
                for &t in &ph.test_pulses {
                    windows.push((t.saturating_sub(lead), t + win));
                }
                for &(a, b) in &ph.pairings {
                    windows.push((a.min(b).saturating_sub(lead), a.max(b) + win));
                }
            }
            windows.sort_unstable();
            let mut merged: Vec<(u64, u64)> = Vec::new();
            for w in windows {
                match merged.last_mut() {
                    Some(m) if w.0 <= m.1 + 1 => m.1 = m.1.max(w.1),
                    _ => merged.push(w),
                }
            }
            windows = merged;
        }
    }
    let mut wi = 0usize;
    let (mut v_time, mut v_rec) = (Vec::new(), Vec::new());

    if windows.first().is_some_and(|w| w.0 == 0) {
        // The initial state (step 0).
        v_time.push(0.0);
        v_rec.push(sim.net().populations[1].dynamics.var("v").map_or(f64::NAN, |x| x[0]) as f32);
    }
    let w_initial = sim.net().projections[0].weight(0);
    let mut w_last = w_initial;
    let mut w_time = vec![0.0];
    let mut w_trace = vec![w_initial];
    let (mut pre_spikes, mut post_steps) = (Vec::new(), Vec::new());
    let mut phases = Vec::with_capacity(s.phases.len());
    let mut test_pulses = Vec::new();
    let stop = stop_flag();
    for (k, (ph, plan)) in p.phases.iter().zip(&s.phases).enumerate() {
        sim.set_plasticity(0, plan.plasticity);
        let w_start = sim.net().projections[0].weight(0);
        let mut psps = Vec::with_capacity(plan.test_pulses.len());
        let mut tp = 0usize;
        let (mut v0, mut peak) = (0.0f64, f64::NEG_INFINITY);
        while sim.net().step < plan.end {
            sim.step();
            let net = sim.net();
            let step = net.step;
            if step % 4096 == 0 && stop.load(Ordering::Relaxed) {
                return Err(Error::Interrupted {
                    reached_ms: step as f64 * dt,
                });
            }
            let spikes = sim.last_spikes();
            if !spikes[0].is_empty() {
                pre_spikes.push(step as f64 * dt);
            }
            if !spikes[1].is_empty() {
                post_steps.push(step);
            }
            let v = net.populations[1].dynamics.var("v").map_or(f64::NAN, |x| x[0]);
            let w = net.projections[0].weight(0);
            if w.to_bits() != w_last.to_bits() {
                w_time.push(step as f64 * dt);
                w_trace.push(w);
                w_last = w;
            }
            while wi < windows.len() && windows[wi].1 < step {
                wi += 1;
            }
            if wi < windows.len() && windows[wi].0 <= step && (step - windows[wi].0).is_multiple_of(every) {
                v_time.push(step as f64 * dt);
                v_rec.push(v as f32);
            }
            if let Some(&t) = plan.test_pulses.get(tp) {
                if step == t {
                    v0 = v;
                    peak = f64::NEG_INFINITY;
                } else if step > t {
                    peak = peak.max(sign * (v - v0));
                    if step == t + win {
                        psps.push(peak);
                        test_pulses.push((t as f64 * dt, k, peak));
                        tp += 1;
                    }
                }
            }
        }
        phases.push(PhaseResult {
            name: ph.name.clone(),
            stimulus: ph.stimulus.name().into(),
            plasticity: plan.plasticity,
            start_ms: plan.start as f64 * dt,
            end_ms: plan.end as f64 * dt,
            w_start,
            w_end: sim.net().projections[0].weight(0),
            psps,
        });
    }
    let end = s.total_steps();
    if w_time.last() != Some(&(end as f64 * dt)) {
        w_time.push(end as f64 * dt);
        w_trace.push(w_last);
    }
    let targets = s.post_targets();
    let pairings_detail = s
        .phases
        .iter()
        .flat_map(|ph| ph.pairings.iter())
        .map(|&(pre, target)| {
            let i = post_steps.partition_point(|&x| x < target);
            let near = [i.checked_sub(1), Some(i)]
                .into_iter()
                .flatten()
                .filter_map(|k| post_steps.get(k).copied())
                .min_by_key(|&x| x.abs_diff(target));
            let post = near.map_or(f64::NAN, |x| x as f64 * dt);
            let lag = near.map_or(f64::NAN, |x| (x + s.delay) as f64 * dt - pre as f64 * dt);
            [pre as f64 * dt, target as f64 * dt, post, lag]
        })
        .collect();
    let on_target = targets.iter().filter(|t| post_steps.binary_search(t).is_ok()).count();
    let first_ind = p.phases.iter().position(|ph| ph.stimulus.is_induction());
    let last_ind = p.phases.iter().rposition(|ph| ph.stimulus.is_induction());
    let (w_before, psp_before, psp_after) = match (first_ind, last_ind) {
        (Some(a), Some(b)) => {
            let before: Vec<f64> = phases[..a].iter().flat_map(|r| r.psps.iter().copied()).collect();
            let after: Vec<f64> = phases[b + 1..].iter().flat_map(|r| r.psps.iter().copied()).collect();
            (phases[a].w_start, mean(&before), mean(&after))
        }
        _ => (w_initial, f64::NAN, f64::NAN),
    };
    let swept = swept.or(first_ind).map(|k| &p.phases[k].stimulus);
    Ok(TrialResult {
        lag_ms: swept.and_then(|x| x.lag()).unwrap_or(f64::NAN),
        frequency_hz: swept.and_then(|x| x.frequency()).unwrap_or(f64::NAN),
        pairings: swept.and_then(|x| x.pairings()).unwrap_or(0),
        w_initial,
        w_before,
        w_after: sim.net().projections[0].weight(0),
        psp_before,
        psp_after,
        phases,
        pre_spikes,
        post_spikes: post_steps.iter().map(|&k| k as f64 * dt).collect(),
        post_expected: targets.len(),
        post_on_target: on_target,
        post_other: post_steps.len() - on_target,
        v_time,
        v: v_rec,
        w_time,
        w: w_trace,
        test_pulses,
        pairings_detail,
        latency_steps: latency,
        duration_ms: end as f64 * dt,
    })
}
