//! Spike-train analysis for studying E/I balance and network states (`hebb analyze`).
//!
//! # Measures (per population, over a time window [t0, t1))
//! | measure | definition |
//! |---|---|
//! | mean rate | spikes / (neurons × duration), Hz |
//! | ISI CV | per neuron with >= 3 spikes: sd(ISI) / mean(ISI); reported as mean, median and histogram |
//! | Fano factor | per neuron: var / mean of spike counts in bins of `fano_bin_ms`, averaged over neurons with spikes |
//! | synchrony χ (Golomb 2007) | χ² = Var_t(mean_i s_i(t)) / mean_i Var_t(s_i(t)), s_i the spike counts of neuron i in bins of b; ≈ 1/√N for independent neurons, 1 for identical trains; the maximum over b in `sync_bins_ms` (fast and slow oscillations need bins below their period) |
//! | pairwise correlation | mean Pearson correlation of spike counts in bins of `corr_bin_ms` over up to `max_pairs` disjoint pairs of active neurons |
//! | population-rate spectrum peak | frequency of the largest peak (above 5 Hz) of the power spectrum of the population rate (bins of 0.5 ms): the oscillation of synchronous states |
//!
//!
//! # E/I input currents of recorded neurons ([`currents`], per window)
//! | measure | definition |
//! |---|---|
//! | `exc_mean`, `inh_mean` | time and neuron average of the excitatory input `I_E` (>= 0) and the inhibitory input `I_I` (<= 0); COBA: `I_E = g_exc (e_exc - V)`, `I_I = g_inh (e_inh - V)` in pA ([`coba_currents`]); CUBA: the recorded `i_exc`, `i_inh` in mV |
//! | `ei_ratio` | `-inh_mean / exc_mean`: 1 when inhibition cancels excitation on average |
//! | `net_mean` | `exc_mean + inh_mean` |
//! | `ei_corr` | per neuron the Pearson correlation over time of `I_E(t)` and `-I_I(t)`, averaged over neurons: 1 when inhibition tracks excitation exactly (tight, detailed balance), 0 when unrelated |
//!
//! [`compare`] puts a first and a last window side by side (before/after plasticity).
//!
//! [`classify_brunel`] labels the four states of Brunel (2000, Fig. 8) from these measures, and
//! [`siegert_rate_brunel`] gives the stationary rate of Brunel's model A from the Siegert
//! (diffusion) mean-field equations (Brunel 2000, eqs. 21-22; Amit & Brunel 1997).
//!
//! # References
//! - Golomb D (2007) Neuronal synchrony measures. Scholarpedia 2(1):1347.
//! - Brunel N (2000) J Comput Neurosci 8:183-208.
//! - Vogels TP et al. (2011) Science 334:1569-1573 (E/I balance and co-tuning of input currents).
//! - Okun M, Lampl I (2008) Nat Neurosci 11:535-537 (correlated E and I inputs in vivo).

use serde::Serialize;

/// Parameters of [`analyze`].
#[derive(Clone, Debug)]
pub struct AnalysisParams {
    /// Bin of the Fano factor, ms.
    pub fano_bin_ms: f64,
    /// Bins of the synchrony measure, ms (χ is the largest over them).
    pub sync_bins_ms: Vec<f64>,
    /// Bin of the pairwise correlations, ms.
    pub corr_bin_ms: f64,
    /// Largest number of pairs for correlations.
    pub max_pairs: usize,
    /// Largest number of neurons used for χ and the Fano factor (the first ones).
    pub max_neurons: usize,
}

impl Default for AnalysisParams {
    fn default() -> Self {
        AnalysisParams {
            fano_bin_ms: 100.0,
            sync_bins_ms: vec![1.0, 2.0, 5.0, 10.0],
            corr_bin_ms: 50.0,
            max_pairs: 500,
            max_neurons: 2000,
        }
    }
}

/// Measures of one population over one window.
#[derive(Clone, Debug, Serialize)]
pub struct PopulationStats {
    /// Population.
    pub name: String,
    /// Neurons.
    pub neurons: usize,
    /// Window start, ms.
    pub t0_ms: f64,
    /// Window end, ms.
    pub t1_ms: f64,
    /// Spikes in the window.
    pub spikes: usize,
    /// Mean rate, Hz.
    pub rate_hz: f64,
    /// Mean ISI CV over neurons with >= 3 spikes (None if none).
    pub cv_mean: Option<f64>,
    /// Median ISI CV.
    pub cv_median: Option<f64>,
    /// Histogram of ISI CVs: counts in bins of 0.1 from 0 to 3 (last bin: >= 2.9).
    pub cv_histogram: Vec<u32>,
    /// Mean Fano factor.
    pub fano: Option<f64>,
    /// Golomb's synchrony χ.
    pub chi: Option<f64>,
    /// Mean pairwise spike-count correlation.
    pub pair_corr: Option<f64>,
    /// Frequency of the largest population-rate oscillation above 5 Hz, Hz.
    pub osc_freq_hz: Option<f64>,
    /// Relative power of that peak (peak / mean power above 5 Hz).
    pub osc_strength: Option<f64>,
}

/// Spike trains of a population: for each neuron, its spike times (ms, ascending).
pub type Trains = Vec<Vec<f64>>;

/// Group (time, id) spikes into per-neuron trains.
pub fn trains(n: usize, times_ms: &[f64], ids: &[u64]) -> Trains {
    let mut t: Trains = vec![Vec::new(); n];
    for (x, &i) in times_ms.iter().zip(ids) {
        if (i as usize) < n {
            t[i as usize].push(*x);
        }
    }
    t.iter_mut().for_each(|v| v.sort_by(|a, b| a.total_cmp(b)));
    t
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn var(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
}

fn binned(train: &[f64], t0: f64, bin: f64, nb: usize) -> Vec<f64> {
    let mut c = vec![0.0; nb];
    for &t in train {
        if t >= t0 {
            let b = ((t - t0) / bin) as usize;
            if b < nb {
                c[b] += 1.0;
            }
        }
    }
    c
}

/// Golomb's χ of binned signals (rows: neurons).
pub fn chi(signals: &[Vec<f64>]) -> Option<f64> {
    if signals.len() < 2 || signals[0].len() < 2 {
        return None;
    }
    let nb = signals[0].len();
    let pop: Vec<f64> = (0..nb)
        .map(|b| signals.iter().map(|s| s[b]).sum::<f64>() / signals.len() as f64)
        .collect();
    let denom = signals.iter().map(|s| var(s)).sum::<f64>() / signals.len() as f64;
    (denom > 0.0).then(|| (var(&pop) / denom).sqrt())
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Dominant oscillation of the population rate: (frequency Hz, peak power / mean power), above 5 Hz.
fn oscillation(trains: &Trains, t0: f64, t1: f64) -> Option<(f64, f64)> {
    let bin = 0.5;
    let nb = ((t1 - t0) / bin) as usize;
    if nb < 64 {
        return None;
    }
    let mut r = vec![0.0; nb];
    for tr in trains {
        for &t in tr {
            if t >= t0 {
                let b = ((t - t0) / bin) as usize;
                if b < nb {
                    r[b] += 1.0;
                }
            }
        }
    }
    let m = mean(&r);
    r.iter_mut().for_each(|x| *x -= m);
    // Direct DFT on a frequency grid of 1 Hz from 5 to 500 Hz (the grid is small; no FFT needed).
    let dur_s = nb as f64 * bin * 1e-3;
    let mut best = (0.0, 0.0);
    let mut total = 0.0;
    let mut count = 0.0;
    let mut f = 5.0;
    while f <= 500.0 {
        let w = std::f64::consts::TAU * f * bin * 1e-3;
        let (mut re, mut im) = (0.0, 0.0);
        for (b, x) in r.iter().enumerate() {
            let ph = w * b as f64;
            re += x * ph.cos();
            im += x * ph.sin();
        }
        let p = (re * re + im * im) / dur_s;
        total += p;
        count += 1.0;
        if p > best.1 {
            best = (f, p);
        }
        f += 1.0;
    }
    (total > 0.0).then(|| (best.0, best.1 / (total / count)))
}

/// All measures of one population over [t0, t1) ms.
pub fn analyze(name: &str, trains: &Trains, t0: f64, t1: f64, p: &AnalysisParams) -> PopulationStats {
    let n = trains.len();
    let dur = t1 - t0;
    let win: Vec<Vec<f64>> = trains
        .iter()
        .map(|tr| tr.iter().copied().filter(|&t| t >= t0 && t < t1).collect())
        .collect();
    let spikes: usize = win.iter().map(|t| t.len()).sum();
    let mut cvs: Vec<f64> = win
        .iter()
        .filter(|t| t.len() >= 3)
        .filter_map(|t| {
            let isi: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
            let m = mean(&isi);
            (m > 0.0).then(|| (var(&isi) * isi.len() as f64 / (isi.len() - 1) as f64).sqrt() / m)
        })
        .collect();
    cvs.sort_by(|a, b| a.total_cmp(b));
    let mut hist = vec![0u32; 30];
    for &c in &cvs {
        hist[((c / 0.1) as usize).min(29)] += 1;
    }
    let sub = &win[..n.min(p.max_neurons)];
    let fano_nb = (dur / p.fano_bin_ms) as usize;
    let fanos: Vec<f64> = if fano_nb >= 2 {
        sub.iter()
            .filter_map(|t| {
                let c = binned(t, t0, p.fano_bin_ms, fano_nb);
                let m = mean(&c);
                (m > 0.0).then(|| var(&c) / m)
            })
            .collect()
    } else {
        Vec::new()
    };
    let chi_max = p
        .sync_bins_ms
        .iter()
        .filter_map(|&b| {
            let nb = (dur / b) as usize;
            chi(&sub.iter().map(|t| binned(t, t0, b, nb)).collect::<Vec<_>>())
        })
        .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
    let active: Vec<usize> = (0..sub.len()).filter(|&i| sub[i].len() >= 2).collect();
    let corr_nb = (dur / p.corr_bin_ms) as usize;
    let corrs: Vec<f64> = if corr_nb >= 4 {
        active
            .chunks_exact(2)
            .take(p.max_pairs)
            .filter_map(|c| {
                pearson(
                    &binned(&sub[c[0]], t0, p.corr_bin_ms, corr_nb),
                    &binned(&sub[c[1]], t0, p.corr_bin_ms, corr_nb),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let osc = oscillation(&win, t0, t1);
    PopulationStats {
        name: name.into(),
        neurons: n,
        t0_ms: t0,
        t1_ms: t1,
        spikes,
        rate_hz: spikes as f64 / n as f64 / (dur * 1e-3),
        cv_mean: (!cvs.is_empty()).then(|| mean(&cvs)),
        cv_median: (!cvs.is_empty()).then(|| cvs[cvs.len() / 2]),
        cv_histogram: hist,
        fano: (!fanos.is_empty()).then(|| mean(&fanos)),
        chi: chi_max,
        pair_corr: (!corrs.is_empty()).then(|| mean(&corrs)),
        osc_freq_hz: osc.map(|o| o.0),
        osc_strength: osc.map(|o| o.1),
    }
}

/// The four states of Brunel (2000, Fig. 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BrunelState {
    /// Synchronous regular: regular firing locked to a fast global oscillation.
    SynchronousRegular,
    /// Synchronous irregular with a fast population oscillation (inhibition-dominated, high drive).
    SynchronousIrregularFast,
    /// Asynchronous irregular.
    AsynchronousIrregular,
    /// Synchronous irregular with a slow population oscillation (inhibition-dominated, low drive).
    SynchronousIrregularSlow,
}

/// Label a Brunel network's state from its excitatory population's measures:
/// regular firing (CV < 0.3) -> SR (the only regular state of Fig. 8); asynchronous (χ < 0.2) ->
/// AI; otherwise synchronous irregular, fast when the population oscillation is above 60 Hz, slow
/// below. The thresholds sit between the values of the four states (SR: CV ~ 0; AI: χ ~ 0.1; SI:
/// χ of several tenths, oscillations near 180 Hz (fast) or 20 Hz (slow)). Measured over 500 ms
/// windows at seeds 1-3: AI χ = 0.135-0.147, SI slow χ = 0.26-0.39, so χ = 0.2 separates them;
/// windows much shorter than 500 ms blur that margin.
pub fn classify_brunel(s: &PopulationStats) -> Option<BrunelState> {
    let (chi, cv) = (s.chi?, s.cv_mean?);
    Some(if cv < 0.3 {
        BrunelState::SynchronousRegular
    } else if chi < 0.2 {
        BrunelState::AsynchronousIrregular
    } else if s.osc_freq_hz? > 60.0 {
        BrunelState::SynchronousIrregularFast
    } else {
        BrunelState::SynchronousIrregularSlow
    })
}

/// ∫_a^b e^{u²} (1 + erf u) du by composite Gauss-Legendre on 200 panels, written with the scaled
/// complementary error function so that it stays finite for very negative u.
fn siegert_integral(a: f64, b: f64) -> f64 {
    // e^{u²}(1 + erf u) = erfcx(-u)
    let nodes = [
        (-0.861136311594053, 0.347854845137454),
        (-0.339981043584856, 0.652145154862546),
        (0.339981043584856, 0.652145154862546),
        (0.861136311594053, 0.347854845137454),
    ];
    let panels = 400;
    let h = (b - a) / panels as f64;
    let mut s = 0.0;
    for p in 0..panels {
        let mid = a + (p as f64 + 0.5) * h;
        for (x, w) in nodes {
            s += w * 0.5 * h * erfcx(-(mid + 0.5 * h * x));
        }
    }
    s
}

/// Scaled complementary error function e^{x²} erfc(x), accurate to ~1e-12 (continued fraction for
/// large x, series via erf for small |x|).
pub fn erfcx(x: f64) -> f64 {
    if x < 0.0 {
        // erfcx(-y) = 2 e^{y²} - erfcx(y)
        let y = -x;
        return 2.0 * (y * y).exp() - erfcx(y);
    }
    if x < 2.0 {
        (x * x).exp() * (1.0 - erf_series(x))
    } else {
        // Continued fraction (Lentz), converges fast for x >= 2.
        let mut f = x;
        let (mut c, mut d) = (x, 0.0);
        for k in 1..200 {
            let a = k as f64 * 0.5;
            d = x + a * d;
            d = if d == 0.0 { 1e-300 } else { 1.0 / d };
            c = x + a / c;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        1.0 / (f * std::f64::consts::PI.sqrt())
    }
}

fn erf_series(x: f64) -> f64 {
    // erf x = 2/√π Σ (-1)^n x^{2n+1} / (n! (2n+1)), fine for |x| < 2 in f64 (terms < 1e-17 by n = 60).
    let mut sum = 0.0;
    let mut term = x;
    for n in 0..80 {
        sum += term / (2 * n + 1) as f64;
        term *= -x * x / (n + 1) as f64;
    }
    2.0 / std::f64::consts::PI.sqrt() * sum
}

/// Stationary rate (Hz) of Brunel's model A from the Siegert mean-field equations:
/// μ = C_E J τ (ν_ext + ν (1 − g γ)), σ² = C_E J² τ (ν_ext + ν (1 + g² γ)), γ = C_I / C_E, and
/// 1/ν = τ_rp + τ √π ∫_{(V_r − μ)/σ}^{(θ − μ)/σ} e^{u²} (1 + erf u) du, solved by bisection.
#[allow(clippy::too_many_arguments)]
pub fn siegert_rate_brunel(c_e: f64, gamma: f64, j: f64, g: f64, nu_ext_hz: f64, tau_ms: f64, theta: f64, v_r: f64, t_ref_ms: f64) -> f64 {
    let phi = |nu_hz: f64| -> f64 {
        let (nu, ne) = (nu_hz * 1e-3, nu_ext_hz * 1e-3); // 1/ms
        let mu = c_e * j * tau_ms * (ne + nu * (1.0 - g * gamma));
        let sigma = (c_e * j * j * tau_ms * (ne + nu * (1.0 + g * g * gamma))).sqrt();
        let t = t_ref_ms + tau_ms * std::f64::consts::PI.sqrt() * siegert_integral((v_r - mu) / sigma, (theta - mu) / sigma);
        1e3 / t
    };
    // f(ν) = φ(ν) − ν is decreasing through the inhibition-dominated fixed point.
    let (mut lo, mut hi) = (1e-6, 1e3 / t_ref_ms);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if phi(mid) > mid {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Excitatory and inhibitory input currents of recorded neurons over one window (see the module
/// table).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CurrentStats {
    /// Population.
    pub name: String,
    /// Recorded neurons used.
    pub neurons: usize,
    /// Window start, ms.
    pub t0_ms: f64,
    /// Window end, ms.
    pub t1_ms: f64,
    /// Unit of the currents ("pA" for COBA, "mV" for CUBA, where currents are R·I).
    pub unit: String,
    /// Mean excitatory input (>= 0).
    pub exc_mean: f64,
    /// Mean inhibitory input (<= 0).
    pub inh_mean: f64,
    /// Mean net synaptic input.
    pub net_mean: f64,
    /// `-inh_mean / exc_mean` (None when there is no excitatory input).
    pub ei_ratio: Option<f64>,
    /// Mean over neurons of the correlation over time of `I_E` and `-I_I` (None if no neuron has
    /// both currents varying).
    pub ei_corr: Option<f64>,
}

/// Recorded input currents of one population: frame times and, per neuron, the time series of
/// the excitatory and inhibitory inputs.
#[derive(Clone, Debug, Default)]
pub struct CurrentTraces {
    /// Time of each frame, ms.
    pub times_ms: Vec<f64>,
    /// Per neuron: excitatory input per frame (>= 0).
    pub exc: Vec<Vec<f64>>,
    /// Per neuron: inhibitory input per frame (<= 0).
    pub inh: Vec<Vec<f64>>,
    /// Unit of the currents.
    pub unit: String,
}

/// COBA currents from recorded state, all slices time-major with `n` neurons per frame:
/// `I_E = g_exc (e_exc - V)`, `I_I = g_inh (e_inh - V)` (nS · mV = pA).
pub fn coba_currents(times_ms: Vec<f64>, n: usize, v: &[f64], g_exc: &[f64], g_inh: &[f64], e_exc: f64, e_inh: f64) -> CurrentTraces {
    let frames = times_ms
        .len()
        .min(v.len() / n.max(1))
        .min(g_exc.len() / n.max(1))
        .min(g_inh.len() / n.max(1));
    let per = |f: &dyn Fn(usize) -> f64| -> Vec<Vec<f64>> { (0..n).map(|i| (0..frames).map(|t| f(t * n + i)).collect()).collect() };
    CurrentTraces {
        exc: per(&|k| g_exc[k] * (e_exc - v[k])),
        inh: per(&|k| g_inh[k] * (e_inh - v[k])),
        times_ms: times_ms[..frames].to_vec(),
        unit: "pA".into(),
    }
}

/// CUBA currents: the recorded `i_exc` and `i_inh` (time-major, `n` per frame), in mV.
pub fn cuba_currents(times_ms: Vec<f64>, n: usize, i_exc: &[f64], i_inh: &[f64]) -> CurrentTraces {
    let frames = times_ms.len().min(i_exc.len() / n.max(1)).min(i_inh.len() / n.max(1));
    let per = |x: &[f64]| -> Vec<Vec<f64>> { (0..n).map(|i| (0..frames).map(|t| x[t * n + i]).collect()).collect() };
    CurrentTraces {
        exc: per(i_exc),
        inh: per(i_inh),
        times_ms: times_ms[..frames].to_vec(),
        unit: "mV".into(),
    }
}

/// E/I current measures of the frames in [t0, t1) ms; None if no frame falls in the window.
pub fn currents(name: &str, c: &CurrentTraces, t0: f64, t1: f64) -> Option<CurrentStats> {
    let idx: Vec<usize> = (0..c.times_ms.len())
        .filter(|&k| c.times_ms[k] >= t0 && c.times_ms[k] < t1)
        .collect();
    if idx.is_empty() || c.exc.is_empty() {
        return None;
    }
    let n = c.exc.len().min(c.inh.len());
    let (mut se, mut si) = (0.0, 0.0);
    let mut corrs = Vec::new();
    for i in 0..n {
        let e: Vec<f64> = idx.iter().map(|&k| c.exc[i][k]).collect();
        let h: Vec<f64> = idx.iter().map(|&k| -c.inh[i][k]).collect();
        se += e.iter().sum::<f64>();
        si -= h.iter().sum::<f64>();
        if let Some(r) = pearson(&e, &h) {
            corrs.push(r);
        }
    }
    let m = (n * idx.len()) as f64;
    let (exc_mean, inh_mean) = (se / m, si / m);
    Some(CurrentStats {
        name: name.into(),
        neurons: n,
        t0_ms: t0,
        t1_ms: t1,
        unit: c.unit.clone(),
        exc_mean,
        inh_mean,
        net_mean: exc_mean + inh_mean,
        ei_ratio: (exc_mean > 0.0).then(|| -inh_mean / exc_mean),
        ei_corr: (!corrs.is_empty()).then(|| mean(&corrs)),
    })
}

/// One measure before and after (first and last window), e.g. around a period of plasticity.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Change {
    /// Population.
    pub name: String,
    /// Measure (`rate_hz`, `cv_mean`, `chi`, `pair_corr`, `ei_ratio`, `ei_corr`).
    pub measure: String,
    /// Value in the first window.
    pub before: Option<f64>,
    /// Value in the last window.
    pub after: Option<f64>,
}

/// Side by side: the spike measures and current measures of a first and a last window of the
/// same population.
pub fn compare(first: &PopulationStats, last: &PopulationStats, cur: Option<(&CurrentStats, &CurrentStats)>) -> Vec<Change> {
    let ch = |m: &str, b: Option<f64>, a: Option<f64>| Change {
        name: first.name.clone(),
        measure: m.into(),
        before: b,
        after: a,
    };
    let mut v = vec![
        ch("rate_hz", Some(first.rate_hz), Some(last.rate_hz)),
        ch("cv_mean", first.cv_mean, last.cv_mean),
        ch("chi", first.chi, last.chi),
        ch("pair_corr", first.pair_corr, last.pair_corr),
    ];
    if let Some((b, a)) = cur {
        v.push(ch("exc_mean", Some(b.exc_mean), Some(a.exc_mean)));
        v.push(ch("inh_mean", Some(b.inh_mean), Some(a.inh_mean)));
        v.push(ch("ei_ratio", b.ei_ratio, a.ei_ratio));
        v.push(ch("ei_corr", b.ei_corr, a.ei_corr));
    }
    v
}

/// Pearson correlation of two equally long series (None if either is constant).
pub fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(a, b)
}

/// Input currents of every population whose `DIR/state.h5` holds what they are computed from (COBA:
/// `v`, `g_exc`, `g_inh`; CUBA: `i_exc`, `i_inh`), with the neuron parameters of the model.
pub fn read_currents(dir: &std::path::Path, model: Option<&crate::spec::ModelSpec>) -> Vec<(String, CurrentTraces)> {
    use crate::neuron::NeuronSpec;
    let path = dir.join("state.h5");
    let (Some(m), true) = (model, path.exists()) else {
        return Vec::new();
    };
    let read = |pop: &str, var: &str| crate::io::hdf5::read_report(&path, pop, var).ok();
    let frame_times = |t: [f64; 3], frames: usize| (0..frames).map(|k| t[0] + k as f64 * t[2]).collect::<Vec<f64>>();
    let f64s = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let mut out = Vec::new();
    for p in &m.populations {
        match &p.neuron {
            NeuronSpec::LifCoba(c) => {
                let (Some(v), Some(ge), Some(gi)) = (read(&p.name, "v"), read(&p.name, "g_exc"), read(&p.name, "g_inh")) else {
                    continue;
                };
                // The three reports must cover the same neurons (they do when recorded together).
                if v.0 != ge.0 || v.0 != gi.0 || v.0.is_empty() {
                    continue;
                }
                let n = v.0.len();
                let times = frame_times(v.1, v.2.len() / n);
                out.push((
                    p.name.clone(),
                    coba_currents(times, n, &f64s(&v.2), &f64s(&ge.2), &f64s(&gi.2), c.e_exc, c.e_inh),
                ));
            }
            NeuronSpec::LifCuba(_) => {
                let (Some(ie), Some(ii)) = (read(&p.name, "i_exc"), read(&p.name, "i_inh")) else {
                    continue;
                };
                if ie.0 != ii.0 || ie.0.is_empty() {
                    continue;
                }
                let n = ie.0.len();
                let times = frame_times(ie.1, ie.2.len() / n);
                out.push((p.name.clone(), cuba_currents(times, n, &f64s(&ie.2), &f64s(&ii.2))));
            }
            _ => {}
        }
    }
    out
}

/// The model a run was made from, parsed from the `model_text` root attribute of one of its
/// files (`spikes.h5`, `state.h5`, `weights.h5`); None when absent or unreadable.
pub fn run_model(file: &std::path::Path) -> Option<crate::spec::ModelSpec> {
    let attrs = crate::io::hdf5::read_root_attrs(file).ok()?;
    crate::spec::parse(attrs.get("model_text")?, "model_text".as_ref(), &[])
        .ok()
        .map(|m| m.0)
}
