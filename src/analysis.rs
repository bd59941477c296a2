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
//! [`classify_brunel`] labels the four states of Brunel (2000, Fig. 8) from these measures, and
//! [`siegert_rate_brunel`] gives the stationary rate of Brunel's model A from the Siegert
//! (diffusion) mean-field equations (Brunel 2000, eqs. 21-22; Amit & Brunel 1997).
//!
//! # References
//! - Golomb D (2007) Neuronal synchrony measures. Scholarpedia 2(1):1347.
//! - Brunel N (2000) J Comput Neurosci 8:183-208.

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
