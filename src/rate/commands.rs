//! The rate-model commands `hebb hopfield`, `hebb pca` and `hebb memory`: compute, write one HDF5
//! file and a figure (PNG and SVG) into an output directory, print a short table.
//!
//! | command | computes | file | datasets (all 1-D) |
//! |---|---|---|---|
//! | `hopfield --kind classic` | capacity curve: per load `α = P/N`, `networks` random networks, asynchronous relaxation from every stored pattern and from cues with `flip` of the bits flipped | `hopfield.h5` | `/curve/{alpha, patterns, overlap_stored, success_stored, unstable_fraction, overlap_cue, theory_overlap, theory_unstable}` |
//! | `hopfield --kind dense` | the same for the dense memory `F(x) = x^degree` (loads may exceed 0.138) | `hopfield.h5` | `/curve/{alpha, patterns, overlap_stored, success_stored, overlap_cue}` |
//! | `hopfield --kind modern` | modern Hopfield network, one update from each cue at inverse temperature `beta` | `hopfield.h5` | `/curve/{alpha, patterns, overlap_cue, success_cue}` |
//! | `pca` | similarity-matching network on spiked-covariance data: projection error against samples | `pca.h5` | `/error/{samples, projection_error}` |
//! | `memory` | normative E/I memory trained with the exact and the printed gradient: objective against steps | `memory.h5` | `/train/{step, objective_exact, objective_printed}`, `/weights/{exact, printed}` (row-major `N × N`) |
//!
//! Overlaps are `m = (1/N) Σ_i s_i ξ_i`; "success" is `m > 0.9` (plasticity.md §5.3); the
//! theory of the classic network is the AGS overlap (0 above `α_c`) and `½ erfc(1/√(2α))`.
//! Root attributes: `hebb_file`, `hebb_version`, `command_line`, `seed` and every parameter.

use std::path::{Path, PathBuf};

use hdf5_pure::{AttrValue, FileBuilder, MaxExtent};
use ndarray::{Array1, Array2};
use plotters::prelude::*;
use rand::{RngExt, SeedableRng};

use super::dense::{DenseMemory, Interaction, ModernHopfield};
use super::hopfield::{ags_overlap, one_step_error_theory, one_step_unstable, retrieval_overlaps, Hopfield, RETRIEVAL_THRESHOLD};
use super::normative::{GradientForm, NormativeMemory};
use super::pca::{projection_error, SimilarityMatching, SpikedCovariance, SpikedParams};
use super::{corrupt, overlap, random_patterns};
use crate::error::{Error, Result};
use crate::plot::{register_fonts, FONT, PALETTE};

type Xoshiro = rand_xoshiro::Xoshiro256PlusPlus;

/// Which Hopfield-family network `hebb hopfield` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HopfieldKind {
    /// Binary neurons, `W = (1/N) Σ ξξᵀ` (Hopfield 1982).
    Classic,
    /// Dense associative memory, `F(x) = x^degree` (Krotov & Hopfield 2016).
    Dense,
    /// Modern continuous Hopfield network, softmax update (Ramsauer et al. 2021).
    Modern,
}

/// Options of `hebb hopfield`.
#[derive(Clone, Debug)]
pub struct HopfieldOptions {
    /// Network kind.
    pub kind: HopfieldKind,
    /// Neurons `N`.
    pub n: usize,
    /// Loads `α = P/N` (P rounded, at least 1).
    pub loads: Vec<f64>,
    /// Networks per load.
    pub networks: usize,
    /// Fraction of bits flipped in the cues.
    pub flip: f64,
    /// Exponent of the dense memory.
    pub degree: u32,
    /// Inverse temperature of the modern network.
    pub beta: f64,
    /// Maximum asynchronous sweeps per relaxation.
    pub max_sweeps: usize,
    /// Seed.
    pub seed: u64,
}

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

fn check_range(name: &str, v: f64, lo: f64, hi: f64, lo_open: bool) -> Result<()> {
    let ok = v.is_finite() && (if lo_open { v > lo } else { v >= lo }) && v <= hi;
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "--{name}: value {v} is not allowed; must be in {}{lo}, {hi}]",
            if lo_open { "(" } else { "[" }
        )))
    }
}

impl HopfieldOptions {
    fn validate(&self) -> Result<()> {
        if self.n < 2 || self.n > 100_000 {
            return Err(usage(format!("--n: value {} is not allowed; must be in 2..=100000", self.n)));
        }
        if self.loads.is_empty() {
            return Err(usage("--loads: give at least one load".into()));
        }
        for &a in &self.loads {
            check_range("loads", a, 0.0, 100.0, true)?;
        }
        if self.networks == 0 {
            return Err(usage("--networks: value 0 is not allowed; must be >= 1".into()));
        }
        check_range("flip", self.flip, 0.0, 0.5, false)?;
        if self.kind == HopfieldKind::Dense && !(1..=64).contains(&self.degree) {
            return Err(usage(format!("--degree: value {} is not allowed; must be in 1..=64", self.degree)));
        }
        check_range("beta", self.beta, 0.0, 1e6, true)?;
        Ok(())
    }
}

/// Parses a list of loads: `0.05,0.1,0.14` or a range `START:STOP:STEP` (inclusive of STOP
/// within half a step).
pub fn parse_loads(text: &str) -> Result<Vec<f64>> {
    let bad = |why: &str| {
        usage(format!(
            "--loads: '{text}' is not allowed ({why}); give a list like 0.05,0.1,0.14 or a range like 0.02:0.2:0.02"
        ))
    };
    let num = |s: &str| s.trim().parse::<f64>().map_err(|_| bad(&format!("'{s}' is not a number")));
    if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("a range needs START:STOP:STEP"));
        }
        let (a, b, s) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
        if !(s > 0.0 && b >= a && (b - a) / s <= 10_000.0) {
            return Err(bad("need STEP > 0, STOP >= START and at most 10000 points"));
        }
        let n = ((b - a) / s + 0.5).floor() as usize;
        Ok((0..=n).map(|i| a + i as f64 * s).collect())
    } else {
        text.split(',').map(num).collect()
    }
}

/// One row of the capacity curve.
#[derive(Clone, Debug, Default)]
pub struct CurvePoint {
    /// Load `P/N`.
    pub alpha: f64,
    /// Patterns `P`.
    pub patterns: usize,
    /// Mean overlap after relaxation from the stored patterns (NaN for modern).
    pub overlap_stored: f64,
    /// Fraction of those with overlap > 0.9.
    pub success_stored: f64,
    /// One-step unstable bit fraction (classic only, else NaN).
    pub unstable_fraction: f64,
    /// Mean overlap after relaxation (one update for modern) from corrupted cues.
    pub overlap_cue: f64,
    /// Fraction of cues retrieved (overlap > 0.9).
    pub success_cue: f64,
}

/// Measures the capacity curve.
pub fn hopfield_curve(o: &HopfieldOptions) -> Result<Vec<CurvePoint>> {
    o.validate()?;
    let mut rng = Xoshiro::seed_from_u64(o.seed);
    let mut out = Vec::new();
    for &alpha in &o.loads {
        let p = ((alpha * o.n as f64).round() as usize).max(1);
        let mut pt = CurvePoint {
            alpha: p as f64 / o.n as f64,
            patterns: p,
            unstable_fraction: f64::NAN,
            overlap_stored: f64::NAN,
            success_stored: f64::NAN,
            ..Default::default()
        };
        let (mut ms, mut ss, mut mc, mut sc, mut un, mut count) = (0.0, 0.0, 0.0, 0.0, 0usize, 0usize);
        for _ in 0..o.networks {
            let patterns = random_patterns(p, o.n, &mut rng);
            match o.kind {
                HopfieldKind::Classic => {
                    let net = Hopfield::from_patterns(patterns.view())?;
                    un += one_step_unstable(&net, patterns.view())?;
                    let (ov, _) = retrieval_overlaps(&net, patterns.view(), o.max_sweeps, &mut rng)?;
                    for (mu, m) in ov.iter().enumerate() {
                        ms += m;
                        ss += f64::from(u8::from(*m > RETRIEVAL_THRESHOLD));
                        let mut s = corrupt(patterns.row(mu), o.flip, &mut rng)?;
                        net.update_async(&mut s, o.max_sweeps, &mut rng)?;
                        let mc1 = overlap(s.view(), patterns.row(mu));
                        mc += mc1;
                        sc += f64::from(u8::from(mc1 > RETRIEVAL_THRESHOLD));
                        count += 1;
                    }
                }
                HopfieldKind::Dense => {
                    let net = DenseMemory::new(patterns.clone(), Interaction::Polynomial { n: o.degree })?;
                    for mu in 0..p {
                        let mut s = patterns.row(mu).to_owned();
                        net.update_async(&mut s, o.max_sweeps, &mut rng)?;
                        let m = overlap(s.view(), patterns.row(mu));
                        ms += m;
                        ss += f64::from(u8::from(m > RETRIEVAL_THRESHOLD));
                        let mut s = corrupt(patterns.row(mu), o.flip, &mut rng)?;
                        net.update_async(&mut s, o.max_sweeps, &mut rng)?;
                        let mc1 = overlap(s.view(), patterns.row(mu));
                        mc += mc1;
                        sc += f64::from(u8::from(mc1 > RETRIEVAL_THRESHOLD));
                        count += 1;
                    }
                }
                HopfieldKind::Modern => {
                    // Columns are the patterns (d = N, one per column), entries ±1/√N (unit norm).
                    let scale = 1.0 / (o.n as f64).sqrt();
                    let x = Array2::from_shape_fn((o.n, p), |(i, mu)| f64::from(patterns[[mu, i]]) * scale);
                    let net = ModernHopfield::new(x, o.beta)?;
                    for mu in 0..p {
                        let cue = corrupt(patterns.row(mu), o.flip, &mut rng)?;
                        let q: Array1<f64> = cue.mapv(|v| f64::from(v) * scale);
                        let next = net.update(q.view())?;
                        let s: Array1<i8> = next.mapv(|v| if v >= 0.0 { 1 } else { -1 });
                        let mc1 = overlap(s.view(), patterns.row(mu));
                        mc += mc1;
                        sc += f64::from(u8::from(mc1 > RETRIEVAL_THRESHOLD));
                        count += 1;
                    }
                }
            }
        }
        let c = count as f64;
        if o.kind != HopfieldKind::Modern {
            pt.overlap_stored = ms / c;
            pt.success_stored = ss / c;
        }
        if o.kind == HopfieldKind::Classic {
            pt.unstable_fraction = un as f64 / (c * o.n as f64);
        }
        pt.overlap_cue = mc / c;
        pt.success_cue = sc / c;
        out.push(pt);
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// HDF5 and figures

const MAX_CHUNK: usize = 32_768;

fn put(b: &mut hdf5_pure::GroupBuilder, name: &str, x: &[f64], units: &str) {
    let d = b.create_dataset(name);
    d.with_f64_data(x)
        .with_shape(&[x.len() as u64])
        .with_maxshape(&[MaxExtent::Unlimited])
        .with_chunks(&[x.len().clamp(1, MAX_CHUNK) as u64]);
    d.set_attr("units", AttrValue::String(units.into()));
}

fn header(b: &mut FileBuilder, kind: &str, command_line: &str, params: &[(&str, AttrValue)]) {
    b.set_attr("hebb_file", AttrValue::String(kind.into()));
    b.set_attr("hebb_version", AttrValue::String(env!("CARGO_PKG_VERSION").into()));
    b.set_attr("command_line", AttrValue::String(command_line.into()));
    for (k, v) in params {
        b.set_attr(k, v.clone());
    }
}

fn write(b: FileBuilder, path: &Path) -> Result<()> {
    b.write(path).map_err(|e| Error::io(path, format!("cannot write: {e}")))
}

/// One curve of a line plot.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    dashed: bool,
}

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

/// Axis numbers: plain for moderate magnitudes, `1e-6` style otherwise.
fn tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let ex = a.log10().floor();
        let m = v / 10f64.powf(ex);
        if (m.abs() - 1.0).abs() < 1e-6 {
            format!("{}1e{}", if v < 0.0 { "-" } else { "" }, ex as i32)
        } else {
            format!("{m:.1}e{}", ex as i32)
        }
    } else {
        let t = format!("{v:.3}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    xl: &str,
    yl: &str,
    series: &[Series],
    log_y: bool,
) -> std::result::Result<(), String> {
    root.fill(&WHITE).map_err(e)?;
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.1, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let mut b = ChartBuilder::on(root);
    b.caption(title, (FONT, 22)).margin(16).x_label_area_size(44).y_label_area_size(64);
    let colour = |i: usize| PALETTE[i % PALETTE.len()];
    macro_rules! body {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(xl)
                .y_desc(yl)
                .label_style((FONT, 14))
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .draw()
                .map_err(e)?;
            for (i, s) in series.iter().enumerate() {
                let c = colour(i);
                let data: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0))
                    .collect();
                let style = ShapeStyle::from(&c).stroke_width(2);
                if s.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(data, 6, 4, style))
                        .map_err(e)?
                        .label(s.name.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], ShapeStyle::from(&c).stroke_width(2)));
                } else {
                    chart
                        .draw_series(LineSeries::new(data.clone(), style).point_size(3))
                        .map_err(e)?
                        .label(s.name.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], ShapeStyle::from(&c).stroke_width(2)));
                }
            }
            chart
                .configure_series_labels()
                .position(if log_y {
                    SeriesLabelPosition::UpperRight
                } else {
                    SeriesLabelPosition::LowerLeft
                })
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font((FONT, 14))
                .draw()
                .map_err(e)?;
        }};
    }
    if log_y {
        body!(b.build_cartesian_2d(x0..x1, (y0 * 0.8..y1 * 1.25).log_scale()).map_err(e)?);
    } else {
        let pad = 0.05 * (y1 - y0).max(1e-9);
        body!(b.build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad)).map_err(e)?);
    }
    Ok(())
}

fn figure(dir: &Path, stem: &str, title: &str, xl: &str, yl: &str, series: &[Series], log_y: bool) -> Result<Vec<PathBuf>> {
    register_fonts()?;
    let (png, svg) = (dir.join(format!("{stem}.png")), dir.join(format!("{stem}.svg")));
    {
        let root = BitMapBackend::new(&png, (900, 620)).into_drawing_area();
        draw_lines(&root, title, xl, yl, series, log_y)
            .and_then(|_| root.present().map_err(e))
            .map_err(|m| Error::io(&png, format!("cannot draw: {m}")))?;
    }
    {
        let root = SVGBackend::new(&svg, (900, 620)).into_drawing_area();
        draw_lines(&root, title, xl, yl, series, log_y)
            .and_then(|_| root.present().map_err(e))
            .map_err(|m| Error::io(&svg, format!("cannot draw: {m}")))?;
    }
    Ok(vec![png, svg])
}

/// `hebb hopfield`: capacity curve to `DIR/hopfield.h5` and `DIR/hopfield.{png,svg}`; returns the
/// table printed by the command.
pub fn hopfield_command(o: &HopfieldOptions, dir: &Path, force: bool, command_line: &str) -> Result<String> {
    o.validate()?;
    crate::io::prepare_out_dir(dir, force)?;
    let curve = hopfield_curve(o)?;
    let col = |f: &dyn Fn(&CurvePoint) -> f64| curve.iter().map(f).collect::<Vec<f64>>();
    let theory_m = col(&|p| ags_overlap(p.alpha).map_or(0.0, |s| s.overlap));
    let theory_u = col(&|p| one_step_error_theory(p.alpha));
    let kind = match o.kind {
        HopfieldKind::Classic => "classic",
        HopfieldKind::Dense => "dense",
        HopfieldKind::Modern => "modern",
    };
    let mut b = FileBuilder::new();
    header(
        &mut b,
        "hopfield",
        command_line,
        &[
            ("kind", AttrValue::String(kind.into())),
            ("n", AttrValue::U64(o.n as u64)),
            ("networks", AttrValue::U64(o.networks as u64)),
            ("flip", AttrValue::F64(o.flip)),
            ("degree", AttrValue::U64(u64::from(o.degree))),
            ("beta", AttrValue::F64(o.beta)),
            ("max_sweeps", AttrValue::U64(o.max_sweeps as u64)),
            ("seed", AttrValue::U64(o.seed)),
            ("retrieval_threshold", AttrValue::F64(RETRIEVAL_THRESHOLD)),
        ],
    );
    let mut g = b.create_group("curve");
    put(&mut g, "alpha", &col(&|p| p.alpha), "1");
    put(&mut g, "patterns", &col(&|p| p.patterns as f64), "1");
    put(&mut g, "overlap_stored", &col(&|p| p.overlap_stored), "1");
    put(&mut g, "success_stored", &col(&|p| p.success_stored), "1");
    put(&mut g, "unstable_fraction", &col(&|p| p.unstable_fraction), "1");
    put(&mut g, "overlap_cue", &col(&|p| p.overlap_cue), "1");
    put(&mut g, "success_cue", &col(&|p| p.success_cue), "1");
    if o.kind == HopfieldKind::Classic {
        put(&mut g, "theory_overlap", &theory_m, "1");
        put(&mut g, "theory_unstable", &theory_u, "1");
    }
    b.add_group(g.finish());
    write(b, &dir.join("hopfield.h5"))?;
    let xy = |ys: &[f64]| curve.iter().zip(ys).map(|(p, &y)| (p.alpha, y)).collect::<Vec<_>>();
    let mut series = Vec::new();
    if o.kind != HopfieldKind::Modern {
        series.push(Series {
            name: "overlap from stored pattern".into(),
            points: xy(&col(&|p| p.overlap_stored)),
            dashed: false,
        });
    }
    series.push(Series {
        name: format!("overlap from cue ({:.0} % flipped)", 100.0 * o.flip),
        points: xy(&col(&|p| p.overlap_cue)),
        dashed: false,
    });
    series.push(Series {
        name: "fraction retrieved from cue (m > 0.9)".into(),
        points: xy(&col(&|p| p.success_cue)),
        dashed: false,
    });
    if o.kind == HopfieldKind::Classic {
        series.push(Series {
            name: "AGS overlap (N → ∞)".into(),
            points: xy(&theory_m),
            dashed: true,
        });
    }
    let title = match o.kind {
        HopfieldKind::Classic => format!("Classic Hopfield network, N = {}, {} networks per load", o.n, o.networks),
        HopfieldKind::Dense => format!("Dense associative memory F(x) = x^{}, N = {}", o.degree, o.n),
        HopfieldKind::Modern => format!("Modern Hopfield network, β = {}, N = {}, one update", o.beta, o.n),
    };
    figure(dir, "hopfield", &title, "load α = P/N", "overlap / fraction", &series, false)?;
    let mut t = format!(
        "{:>8} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
        "alpha", "P", "m_stored", "ok_stored", "unstable", "m_cue", "ok_cue"
    );
    for p in &curve {
        t.push_str(&format!(
            "{:8.4} {:6} {:10.4} {:10.4} {:10.5} {:10.4} {:10.4}\n",
            p.alpha, p.patterns, p.overlap_stored, p.success_stored, p.unstable_fraction, p.overlap_cue, p.success_cue
        ));
    }
    t.push_str(&format!("wrote {}\n", dir.join("hopfield.h5").display()));
    Ok(t)
}

/// Options of `hebb pca`.
#[derive(Clone, Debug)]
pub struct PcaOptions {
    /// Spiked-covariance generator.
    pub data: SpikedParams,
    /// Samples.
    pub samples: usize,
    /// Record the error every this many samples.
    pub record_every: usize,
    /// Seed.
    pub seed: u64,
}

/// `hebb pca`: projection error of the similarity-matching network against samples.
pub fn pca_command(o: &PcaOptions, dir: &Path, force: bool, command_line: &str) -> Result<String> {
    if o.samples == 0 || o.record_every == 0 || o.samples > 100_000_000 {
        return Err(usage(format!(
            "--samples {} / --record-every {}: need 1 <= samples <= 1e8 and record-every >= 1",
            o.samples, o.record_every
        )));
    }
    let mut rng = Xoshiro::seed_from_u64(o.seed);
    let gen = SpikedCovariance::new(o.data, &mut rng).map_err(|e| usage(format!("--d/--k/--rho/--gap/--slope: {e}")))?;
    crate::io::prepare_out_dir(dir, force)?;
    let v = gen.basis().to_owned();
    let x1 = gen.sample(&mut rng);
    let mut net = SimilarityMatching::new(o.data.k, x1.view(), 2.0 * std::f64::consts::PI, &mut rng)?;
    let (mut ts, mut errs) = (Vec::new(), Vec::new());
    for t in 1..=o.samples {
        let x = gen.sample(&mut rng);
        net.step(x.view())?;
        if t % o.record_every == 0 || t == o.samples {
            ts.push(t as f64);
            errs.push(projection_error(v.view(), net.filter()?.t())?);
        }
    }
    let mut b = FileBuilder::new();
    let SpikedParams { d, k, rho, gap, slope } = o.data;
    header(
        &mut b,
        "pca",
        command_line,
        &[
            ("d", AttrValue::U64(d as u64)),
            ("k", AttrValue::U64(k as u64)),
            ("rho", AttrValue::F64(rho)),
            ("gap", AttrValue::F64(gap)),
            ("slope", AttrValue::F64(slope)),
            ("samples", AttrValue::U64(o.samples as u64)),
            ("seed", AttrValue::U64(o.seed)),
        ],
    );
    let mut g = b.create_group("error");
    put(&mut g, "samples", &ts, "1");
    put(&mut g, "projection_error", &errs, "1");
    b.add_group(g.finish());
    write(b, &dir.join("pca.h5"))?;
    figure(
        dir,
        "pca",
        &format!("Similarity-matching PCA, d = {d}, k = {k} (Pehlevan et al. 2015)"),
        "samples",
        "projection error",
        &[Series {
            name: "projection error".into(),
            points: ts.iter().copied().zip(errs.iter().copied()).collect(),
            dashed: false,
        }],
        true,
    )?;
    let mut t = format!("{:>12} {:>14}\n", "samples", "error");
    let step = (ts.len() / 10).max(1);
    for i in (0..ts.len()).step_by(step).chain(std::iter::once(ts.len() - 1)) {
        t.push_str(&format!("{:12} {:14.6e}\n", ts[i], errs[i]));
    }
    t.push_str(&format!("wrote {}\n", dir.join("pca.h5").display()));
    Ok(t)
}

/// Options of `hebb memory`.
#[derive(Clone, Debug)]
pub struct MemoryOptions {
    /// Neurons.
    pub n: usize,
    /// Excitatory fraction (the first `round(f n)` neurons have sign +1).
    pub exc_fraction: f64,
    /// Stored patterns (columns of `F`, entries standard normal).
    pub patterns: usize,
    /// Learning steps.
    pub steps: usize,
    /// Learning rate in units of the safe rate `1/‖F‖²`.
    pub eta_scale: f64,
    /// Keep Dale's signs (clip `W` at 0).
    pub dale: bool,
    /// Seed.
    pub seed: u64,
}

/// `hebb memory`: the normative E/I memory trained with the exact and the printed gradient.
pub fn memory_command(o: &MemoryOptions, dir: &Path, force: bool, command_line: &str) -> Result<String> {
    if o.n < 2 || o.n > 5000 {
        return Err(usage(format!("--n: value {} is not allowed; must be in 2..=5000", o.n)));
    }
    if o.patterns == 0 || o.patterns > o.n {
        return Err(usage(format!(
            "--patterns: value {} is not allowed; must be in 1..={}",
            o.patterns, o.n
        )));
    }
    check_range("exc-fraction", o.exc_fraction, 0.0, 1.0, false)?;
    check_range("eta", o.eta_scale, 0.0, 2.0, true)?;
    if o.steps == 0 || o.steps > 10_000_000 {
        return Err(usage(format!("--steps: value {} is not allowed; must be in 1..=10000000", o.steps)));
    }
    crate::io::prepare_out_dir(dir, force)?;
    let mut rng = Xoshiro::seed_from_u64(o.seed);
    let n_exc = (o.exc_fraction * o.n as f64).round() as usize;
    let signs: Vec<i8> = (0..o.n).map(|i| if i < n_exc { 1 } else { -1 }).collect();
    let f = Array2::from_shape_simple_fn((o.n, o.patterns), || rng.sample::<f64, _>(rand_distr::StandardNormal));
    let eta = o.eta_scale * NormativeMemory::safe_learning_rate(f.view())?;
    let mut nets = [NormativeMemory::new(&signs, o.dale)?, NormativeMemory::new(&signs, o.dale)?];
    let forms = [GradientForm::Exact, GradientForm::Printed];
    let (mut steps, mut obj) = (Vec::new(), [Vec::new(), Vec::new()]);
    let every = (o.steps / 200).max(1);
    for s in 0..=o.steps {
        if s % every == 0 || s == o.steps {
            steps.push(s as f64);
            for k in 0..2 {
                obj[k].push(nets[k].objective(f.view())?);
            }
        }
        if s < o.steps {
            for k in 0..2 {
                nets[k].step(f.view(), forms[k], eta)?;
            }
        }
    }
    let mut b = FileBuilder::new();
    header(
        &mut b,
        "memory",
        command_line,
        &[
            ("n", AttrValue::U64(o.n as u64)),
            ("n_exc", AttrValue::U64(n_exc as u64)),
            ("patterns", AttrValue::U64(o.patterns as u64)),
            ("steps", AttrValue::U64(o.steps as u64)),
            ("eta", AttrValue::F64(eta)),
            ("dale", AttrValue::U64(u64::from(o.dale))),
            ("seed", AttrValue::U64(o.seed)),
            (
                "objective",
                AttrValue::String("1/2 ||W D F - F||^2; exact gradient F F^T D - W D F F^T D, printed F F^T D - W F F^T".into()),
            ),
        ],
    );
    let mut g = b.create_group("train");
    put(&mut g, "step", &steps, "1");
    put(&mut g, "objective_exact", &obj[0], "1");
    put(&mut g, "objective_printed", &obj[1], "1");
    b.add_group(g.finish());
    let mut g = b.create_group("weights");
    put(
        &mut g,
        "exact",
        nets[0].weights().as_standard_layout().as_slice().expect("contiguous"),
        "1",
    );
    put(
        &mut g,
        "printed",
        nets[1].weights().as_standard_layout().as_slice().expect("contiguous"),
        "1",
    );
    b.add_group(g.finish());
    write(b, &dir.join("memory.h5"))?;
    let pts = |k: usize| steps.iter().copied().zip(obj[k].iter().copied()).collect::<Vec<_>>();
    figure(
        dir,
        "memory",
        &format!(
            "Normative E/I memory, N = {} ({} E), P = {}{}",
            o.n,
            n_exc,
            o.patterns,
            if o.dale { ", Dale" } else { "" }
        ),
        "learning step",
        "objective ½‖WDF − F‖²",
        &[
            Series {
                name: "exact gradient".into(),
                points: pts(0),
                dashed: false,
            },
            Series {
                name: "printed form (exact only if D = I)".into(),
                points: pts(1),
                dashed: true,
            },
        ],
        true,
    )?;
    Ok(format!(
        "objective after {} steps: exact gradient {:.6e}, printed form {:.6e} (start {:.6e})\nwrote {}\n",
        o.steps,
        obj[0].last().copied().unwrap_or(f64::NAN),
        obj[1].last().copied().unwrap_or(f64::NAN),
        obj[0][0],
        dir.join("memory.h5").display()
    ))
}
