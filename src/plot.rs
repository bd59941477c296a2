//! Figures of a run directory written by `hebb run`: spike raster, population rates, recorded
//! state traces and weight distributions, written as PNG or SVG next to the data
//! (`DIR/raster.png`, `DIR/rate.png`, `DIR/voltage.png`, `DIR/weights.png`).
//!
//! ```no_run
//! use hebb::plot::{plot, PlotFormat, PlotKind};
//! let files = plot("runs/cuba".as_ref(), &PlotKind::ALL, PlotFormat::Png)?;
//! # Ok::<(), hebb::Error>(())
//! ```
//!
//! * Drawn with `plotters` without system fonts: DejaVu Sans is compiled in
//!   (`assets/fonts/DejaVuSans.ttf`, licence in `assets/fonts/DejaVuSans-LICENSE.txt`). SVG
//!   files name the font family `sans-serif` and leave the glyphs to the viewer.
//! * Memory stays bounded for large runs: data are read in blocks. The raster shows at most
//!   [`RASTER_MAX_NEURONS`] neurons per population (every k-th neuron) and about
//!   [`RASTER_MAX_POINTS`] spikes in all ([`RASTER_MAX_POINTS_SVG`] in SVG); its title says
//!   when it subsamples. Rates are counted from every spike. Traces longer than [`TRACE_MAX_POINTS`] are reduced to their min/max
//!   envelope (spike peaks and resets survive), and at most [`TRACE_MAX_NEURONS`] neurons are
//!   drawn per variable. Weight histograms take two streaming passes; weight trajectories use
//!   at most [`MAX_SNAPSHOTS`] snapshots (evenly spaced, the last one always included).
//! * Interrupted runs (`completed` = 0) are plotted up to the last data in the files and say
//!   so in the subtitle.
//! * Every problem (missing file, run without recorded state, unreadable dataset, unwritable
//!   directory) is an [`Error::Io`] naming the file; nothing panics on bad input.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hdf5_pure::{AttrValue, Dataset, File};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

mod balance;

/// Largest number of neurons per population drawn in the raster.
pub const RASTER_MAX_NEURONS: u64 = 2000;
/// Approximate largest number of spikes drawn in a PNG raster (all populations).
pub const RASTER_MAX_POINTS: u64 = 200_000;
/// Approximate largest number of spikes drawn in an SVG raster (each is a `<circle>` of about
/// 80 bytes: 50,000 make a 4 MB file).
pub const RASTER_MAX_POINTS_SVG: u64 = 50_000;
/// Largest number of points per trace (longer traces become a min/max envelope).
pub const TRACE_MAX_POINTS: u64 = 3_000;
/// Largest number of neurons drawn per recorded variable.
pub const TRACE_MAX_NEURONS: usize = 8;
/// Largest number of weight snapshots summarised per projection.
pub const MAX_SNAPSHOTS: usize = 200;
/// Largest sample of weights from which a snapshot's percentiles are taken.
const PERCENTILE_SAMPLE: u64 = 1 << 22;
/// Bins of the weight histograms.
const HIST_BINS: usize = 51;
/// Rows read from a dataset at once.
const BLOCK: u64 = 1 << 18;

/// Which figure to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum PlotKind {
    /// Spike raster of every recorded population (`raster.*`, from `spikes.h5`).
    Raster,
    /// Population firing rate over time, one line per population (`rate.*`, from `spikes.h5`).
    Rate,
    /// Recorded state variables (membrane potential, currents, conductances) over time
    /// (`voltage.*`, from `state.h5`).
    Voltage,
    /// Weight histogram of each projection and, for plastic projections with snapshots, the
    /// mean and 10/90 percentiles of the weights over time (`weights.*`, from `weights.h5`).
    Weights,
    /// ISI CV histogram of each population (`cv.*`, from `spikes.h5`).
    Cv,
    /// E vs I input currents of a recorded neuron at the start and the end of the run, with the
    /// E/I ratio and correlation of all recorded neurons (`currents.*`, from `state.h5`; needs
    /// `v`, `g_exc`, `g_inh` of `lif_coba` or `i_exc`, `i_inh` of `lif_cuba`).
    Currents,
    /// Mean excitatory and inhibitory weight per input group (signal of `modulated_poisson`
    /// sources), initial and final (`cotuning.*`, from `weights.h5`).
    Cotuning,
}

impl PlotKind {
    /// All kinds, in the order `plot` draws them.
    pub const ALL: [PlotKind; 7] = [
        PlotKind::Raster,
        PlotKind::Rate,
        PlotKind::Voltage,
        PlotKind::Weights,
        PlotKind::Cv,
        PlotKind::Currents,
        PlotKind::Cotuning,
    ];

    /// Stem of the figure's file name (`raster`, `rate`, `voltage`, `weights`).
    pub fn name(self) -> &'static str {
        match self {
            PlotKind::Raster => "raster",
            PlotKind::Rate => "rate",
            PlotKind::Voltage => "voltage",
            PlotKind::Weights => "weights",
            PlotKind::Cv => "cv",
            PlotKind::Currents => "currents",
            PlotKind::Cotuning => "cotuning",
        }
    }

    /// The data file of the run directory the figure is drawn from.
    pub fn source_file(self) -> &'static str {
        match self {
            PlotKind::Raster | PlotKind::Rate | PlotKind::Cv => "spikes.h5",
            PlotKind::Voltage | PlotKind::Currents => "state.h5",
            PlotKind::Weights | PlotKind::Cotuning => "weights.h5",
        }
    }
}

/// Output format of the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum PlotFormat {
    /// PNG bitmap.
    #[default]
    Png,
    /// SVG vector graphics.
    Svg,
}

impl PlotFormat {
    /// File extension (`png`, `svg`).
    pub fn extension(self) -> &'static str {
        match self {
            PlotFormat::Png => "png",
            PlotFormat::Svg => "svg",
        }
    }
}

/// Draw `kinds` (duplicates are drawn once) from the run directory `dir` into
/// `dir/<kind>.<ext>` and return the paths written, in the order of `kinds`.
/// Stops at the first figure that cannot be drawn (its data file is missing, holds nothing to
/// plot, or cannot be read) with an error naming the file.
pub fn plot(dir: &Path, kinds: &[PlotKind], format: PlotFormat) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(Error::io(dir, "not a run directory (it does not exist)"));
    }
    register_fonts()?;
    let mut todo: Vec<PlotKind> = Vec::new();
    for &k in kinds {
        if !todo.contains(&k) {
            todo.push(k);
        }
    }
    let meta = RunInfo::new(dir);
    // One pass over the spikes serves both the raster and the rates.
    let spikes = if todo.contains(&PlotKind::Raster) || todo.contains(&PlotKind::Rate) {
        let budget = match format {
            PlotFormat::Png => RASTER_MAX_POINTS,
            PlotFormat::Svg => RASTER_MAX_POINTS_SVG,
        };
        Some(scan_spikes(&meta, budget)?)
    } else {
        None
    };
    let mut out = Vec::new();
    for kind in todo {
        let path = dir.join(format!("{}.{}", kind.name(), format.extension()));
        match kind {
            PlotKind::Raster => {
                let s = spikes.as_ref().expect("scanned above");
                render(&RasterFig { s, meta: &meta }, &path, format)?;
            }
            PlotKind::Rate => {
                let s = spikes.as_ref().expect("scanned above");
                render(&RateFig { s, meta: &meta }, &path, format)?;
            }
            PlotKind::Voltage => {
                let v = read_state(&meta)?;
                render(&StateFig { v: &v, meta: &meta }, &path, format)?;
            }
            PlotKind::Weights => {
                let w = read_weights(&meta)?;
                render(&WeightFig { w: &w, meta: &meta }, &path, format)?;
            }
            PlotKind::Cv => {
                let h = balance::read_cvs(&meta)?;
                render(&balance::CvFig { h: &h, meta: &meta }, &path, format)?;
            }
            PlotKind::Currents => {
                let (pop, c) = balance::read_currents(&meta)?;
                render(
                    &balance::CurrentFig {
                        pop: &pop,
                        c: &c,
                        meta: &meta,
                    },
                    &path,
                    format,
                )?;
            }
            PlotKind::Cotuning => {
                let c = balance::read_cotuning(&meta)?;
                render(&balance::CotuningFig { c: &c, meta: &meta }, &path, format)?;
            }
        }
        out.push(path);
    }
    Ok(out)
}

/// The kinds the run directory has data for (spikes of at least one population, at least one
/// recorded state variable, at least one projection), in [`PlotKind::ALL`] order. Cheap: it
/// only lists groups. A command that plots "everything" by default can pass this to [`plot`].
pub fn available(dir: &Path) -> Vec<PlotKind> {
    let has = |file: &str, group: &str| -> bool {
        let path = dir.join(file);
        path.is_file()
            && File::open_streaming(&path)
                .ok()
                .and_then(|f| f.group(group).ok()?.groups().ok())
                .is_some_and(|g| !g.is_empty())
    };
    let mut out = Vec::new();
    if has("spikes.h5", "spikes") {
        out.extend([PlotKind::Raster, PlotKind::Rate]);
    }
    if has("state.h5", "report") {
        out.push(PlotKind::Voltage);
    }
    if has("weights.h5", "edges") {
        out.push(PlotKind::Weights);
    }
    if has("spikes.h5", "spikes") {
        out.push(PlotKind::Cv);
    }
    // Currents: a population whose report holds both inputs (and v for COBA).
    let vars = |pop: &str| -> Vec<String> {
        File::open_streaming(dir.join("state.h5"))
            .ok()
            .and_then(|f| f.group(&format!("report/{pop}")).ok()?.groups().ok())
            .unwrap_or_default()
    };
    let pops = File::open_streaming(dir.join("state.h5"))
        .ok()
        .and_then(|f| f.group("report").ok()?.groups().ok())
        .unwrap_or_default();
    if pops.iter().any(|p| {
        let v = vars(p);
        let has = |x: &str| v.iter().any(|y| y == x);
        (has("v") && has("g_exc") && has("g_inh")) || (has("i_exc") && has("i_inh"))
    }) {
        out.push(PlotKind::Currents);
    }
    // Co-tuning: projections from modulated sources.
    if has("weights.h5", "edges")
        && crate::analysis::run_model(&dir.join("weights.h5")).is_some_and(|m| {
            m.projections.iter().any(|p| {
                m.populations
                    .iter()
                    .any(|q| q.name == p.pre && matches!(q.neuron, crate::neuron::NeuronSpec::ModulatedPoisson(_)))
            })
        })
    {
        out.push(PlotKind::Cotuning);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Fonts, colours, number formats
// ---------------------------------------------------------------------------------------------

static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
/// The font family every figure of hebb uses (the embedded DejaVu Sans).
pub(crate) const FONT: &str = "sans-serif";

/// Register the embedded font under every family name plotters may ask for (once per process).
pub(crate) fn register_fonts() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        // Every family name plotters may ask for maps to the embedded font.
        ["sans-serif", "serif", "monospace"]
            .iter()
            .all(|name| plotters::style::register_font(name, FontStyle::Normal, DEJAVU_SANS).is_ok())
    });
    if ok {
        Ok(())
    } else {
        Err(Error::io("assets/fonts/DejaVuSans.ttf", "the embedded font cannot be parsed"))
    }
}

/// Okabe & Ito's colour-blind-safe palette (black last), shared by every figure.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];
const GREY: RGBColor = RGBColor(90, 90, 90);

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Tick label of a count axis: 1k, 2.5k, 1.2M.
fn fmt_count(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e3 {
        format!("{}k", trim(format!("{:.2}", v / 1e3)))
    } else {
        trim(format!("{v:.0}"))
    }
}

/// Tick label: at most 4 decimals, no trailing zeros.
fn fmt_tick(v: f64) -> String {
    let s = trim(format!("{v:.4}"));
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Short number for legends and titles (3 significant digits).
fn fmt_num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i32;
    let dec = (2 - mag).clamp(0, 6) as usize;
    trim(format!("{v:.dec$}"))
}

/// Two numbers with enough significant digits (3 to 6) to tell them apart.
fn fmt_pair(a: f64, b: f64) -> (String, String) {
    let f = |v: f64, sig: i32| -> String {
        if v == 0.0 || !v.is_finite() {
            return format!("{v}");
        }
        let dec = (sig - 1 - v.abs().log10().floor() as i32).clamp(0, 9) as usize;
        trim(format!("{v:.dec$}"))
    };
    for sig in 3..6 {
        let (x, y) = (f(a, sig), f(b, sig));
        if x != y {
            return (x, y);
        }
    }
    (f(a, 6), f(b, 6))
}

/// `1234567` -> `1,234,567`.
fn fmt_int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Smallest 1, 2 or 5 x 10^k that is >= x.
fn nice_up(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= x * (1.0 - 1e-9) {
            return m * p;
        }
    }
    10.0 * p
}

/// A non-empty, finite axis range containing `lo..hi`, with `pad` (fraction) of room.
fn axis_range(lo: f64, hi: f64, pad: f64) -> std::ops::Range<f64> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(hi.abs()).max(1e-300) {
        let h = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - h)..(hi + h);
    }
    (lo - pad * span)..(hi + pad * span)
}

// ---------------------------------------------------------------------------------------------
// Run metadata and file access
// ---------------------------------------------------------------------------------------------

/// What the headers say about the run (from run.json and the root attributes).
struct RunInfo {
    name: String,
    model: Option<String>,
    seed: Option<u64>,
    dt_ms: Option<f64>,
    /// Root attributes of each file read so far (file name -> attributes).
    roots: std::cell::RefCell<HashMap<String, HashMap<String, AttrValue>>>,
    dir: PathBuf,
}

impl RunInfo {
    fn new(dir: &Path) -> Self {
        let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let name = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        let json: Option<serde_json::Value> = std::fs::read_to_string(dir.join("run.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let model = json
            .as_ref()
            .and_then(|j| j["model"].as_str())
            .map(|m| Path::new(m).file_name().map_or(m.to_string(), |f| f.to_string_lossy().into_owned()));
        RunInfo {
            name,
            model,
            seed: json.as_ref().and_then(|j| j["seed"].as_u64()),
            dt_ms: json.as_ref().and_then(|j| j["dt_ms"].as_f64()),
            roots: Default::default(),
            dir: dir.to_path_buf(),
        }
    }

    fn remember(&self, file: &str, attrs: HashMap<String, AttrValue>) {
        self.roots.borrow_mut().insert(file.to_string(), attrs);
    }

    /// Title and subtitle of a figure drawn from `file`.
    fn header(&self, what: &str, file: &str, extra: &str) -> (String, String) {
        let roots = self.roots.borrow();
        let attrs = roots.get(file);
        let get = |k: &str| attrs.and_then(|a| a.get(k));
        let seed = get("seed").and_then(AttrValue::as_u64).or(self.seed);
        let dt = get("dt_ms").and_then(AttrValue::as_f64).or(self.dt_ms);
        let completed = get("completed").and_then(AttrValue::as_u64);
        let reached = get("reached_duration_ms").and_then(AttrValue::as_f64);
        let requested = get("requested_duration_ms").and_then(AttrValue::as_f64);
        let mut parts = Vec::new();
        if let Some(m) = &self.model {
            parts.push(format!("model {m}"));
        }
        if let Some(s) = seed {
            parts.push(format!("seed {s}"));
        }
        if let Some(d) = dt {
            parts.push(format!("dt {} ms", fmt_tick(d)));
        }
        match (completed, reached, requested) {
            (Some(0), reached, req) => parts.push(format!(
                "INTERRUPTED run{}{} (the files hold a prefix)",
                reached.map_or(String::new(), |r| format!(" at {} ms", fmt_tick(r))),
                req.map_or(String::new(), |r| format!(" of {} ms", fmt_tick(r)))
            )),
            (_, Some(r), _) => parts.push(format!("{} ms simulated", fmt_tick(r))),
            _ => {}
        }
        if !extra.is_empty() {
            parts.push(extra.to_string());
        }
        (format!("{what} \u{2014} {}", self.name), parts.join("  \u{00b7}  "))
    }
}

/// An open data file of the run directory, with error messages naming it.
struct H5 {
    path: PathBuf,
    file: File,
}

impl H5 {
    /// Open `dir/name`; `why` says which figure needs it (for the "missing" message).
    fn open(info: &RunInfo, name: &str, why: &str) -> Result<Self> {
        let path = info.dir.join(name);
        if !path.is_file() {
            return Err(Error::io(&path, format!("no such file: {why}")));
        }
        let file = File::open_streaming(&path).map_err(|e| Error::io(&path, format!("cannot open as HDF5: {e}")))?;
        let h = H5 { path, file };
        if let Ok(a) = h.file.root().attrs() {
            info.remember(name, a);
        }
        Ok(h)
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::io(&self.path, format!("cannot read {what}: {e}"))
    }

    fn groups(&self, group: &str) -> Result<Vec<String>> {
        let mut g = self
            .file
            .group(group)
            .and_then(|g| g.groups())
            .map_err(|e| self.err(&format!("/{group}"), e))?;
        g.sort();
        Ok(g)
    }

    fn has_dataset(&self, p: &str) -> bool {
        self.file.dataset(p).is_ok()
    }

    fn dataset(&self, p: &str) -> Result<Dataset> {
        self.file.dataset(p).map_err(|e| self.err(&format!("/{p}"), e))
    }

    /// Length of axis 0 of a dataset.
    fn len(&self, p: &str) -> Result<u64> {
        let s = self.dataset(p)?.shape().map_err(|e| self.err(&format!("/{p}"), e))?;
        Ok(s.first().copied().unwrap_or(0))
    }

    fn attrs(&self, p: &str) -> HashMap<String, AttrValue> {
        let a = if p.is_empty() {
            self.file.root().attrs()
        } else if let Ok(d) = self.file.dataset(p) {
            d.attrs()
        } else {
            self.file.group(p).and_then(|g| g.attrs())
        };
        a.unwrap_or_default()
    }

    fn attr_str(&self, p: &str, name: &str) -> Option<String> {
        self.attrs(p).get(name).and_then(|v| v.as_str().map(str::to_string))
    }

    fn read_f64(&self, p: &str, start: u64, n: u64) -> Result<Vec<f64>> {
        self.dataset(p)?.read_f64_rows(start, n).map_err(|e| self.err(&format!("/{p}"), e))
    }

    fn read_u64(&self, p: &str, start: u64, n: u64) -> Result<Vec<u64>> {
        self.dataset(p)?.read_u64_rows(start, n).map_err(|e| self.err(&format!("/{p}"), e))
    }

    fn read_f32(&self, p: &str, start: u64, n: u64) -> Result<Vec<f32>> {
        self.dataset(p)?.read_f32_rows(start, n).map_err(|e| self.err(&format!("/{p}"), e))
    }

    fn read_all_f64(&self, p: &str) -> Result<Vec<f64>> {
        self.dataset(p)?.read_f64().map_err(|e| self.err(&format!("/{p}"), e))
    }

    fn read_all_u64(&self, p: &str) -> Result<Vec<u64>> {
        self.dataset(p)?.read_u64().map_err(|e| self.err(&format!("/{p}"), e))
    }

    fn root_f64(&self, name: &str) -> Option<f64> {
        self.attrs("").get(name).and_then(AttrValue::as_f64)
    }
}

// ---------------------------------------------------------------------------------------------
// Spikes: one streaming pass for raster and rates
// ---------------------------------------------------------------------------------------------

struct PopSpikes {
    name: String,
    /// Neurons whose spikes are in the file (the population, or `spikes_max_neurons`).
    recorded: u64,
    spikes: u64,
    /// Every `stride`-th neuron is drawn in the raster.
    stride: u64,
    /// Raster row of neuron 0.
    offset: u64,
    /// Raster points (time ms, row).
    points: Vec<(f64, f64)>,
    /// Spike counts per rate bin.
    counts: Vec<u64>,
}

struct Spikes {
    pops: Vec<PopSpikes>,
    /// End of the plotted time axis (reached duration, or last spike of an interrupted run).
    t_end: f64,
    bin_ms: f64,
    /// Some neurons or spikes are left out of the raster.
    subsampled: bool,
    /// The point budget used.
    budget: u64,
}

fn scan_spikes(info: &RunInfo, budget: u64) -> Result<Spikes> {
    let h = H5::open(info, "spikes.h5", "the raster and rate plots read the spikes written by `hebb run`")?;
    let names = h.groups("spikes")?;
    if names.is_empty() {
        return Err(Error::io(
            &h.path,
            "no populations under /spikes (the model records no spikes: set `spikes` in [record])",
        ));
    }
    let limit = spike_limit(&h);
    let dt = h.root_f64("dt_ms").unwrap_or(0.1).max(1e-9);
    // Sizes and counts from the shapes.
    let mut pops = Vec::new();
    let mut last_t = 0f64;
    for name in names {
        let g = format!("spikes/{name}");
        let n = h.len(&format!("{g}/timestamps"))?.min(h.len(&format!("{g}/node_ids"))?);
        if n > 0 {
            // Spikes are in time order: the last one is the latest.
            if let Some(t) = h.read_f64(&format!("{g}/timestamps"), n - 1, 1)?.first() {
                last_t = last_t.max(*t);
            }
        }
        let size = match h.attrs(&g).get("n_nodes").and_then(AttrValue::as_u64) {
            Some(s) => s,
            None => {
                // Not written by hebb: the largest id tells.
                let mut m = 0;
                let mut start = 0;
                while start < n {
                    let len = BLOCK.min(n - start);
                    let ids = h.read_u64(&format!("{g}/node_ids"), start, len)?;
                    m = ids.iter().fold(m, |a, &b| a.max(b + 1));
                    start += len;
                }
                m
            }
        };
        let recorded = limit.map_or(size, |l| l.min(size)).max(1);
        pops.push(PopSpikes {
            name,
            recorded,
            spikes: n,
            stride: recorded.div_ceil(RASTER_MAX_NEURONS).max(1),
            offset: 0,
            points: Vec::new(),
            counts: Vec::new(),
        });
    }
    let t_end = h
        .root_f64("reached_duration_ms")
        .filter(|t| *t > 0.0)
        .unwrap_or(last_t + dt)
        .max(dt);
    let bin_ms = rate_bin(t_end, dt, pops.iter().map(|p| p.spikes));
    let n_bins = ((t_end / bin_ms).ceil() as usize).max(1);
    // Fewer neurons if the raster would hold too many points.
    let expected: u64 = pops.iter().map(|p| p.spikes / p.stride).sum();
    if expected > budget {
        let f = expected.div_ceil(budget);
        for p in &mut pops {
            p.stride = (p.stride * f).min(p.recorded.max(1));
        }
    }
    let mut offset = 0;
    let mut subsampled = false;
    for p in &mut pops {
        p.offset = offset;
        offset += p.recorded;
        subsampled |= p.stride > 1;
        p.counts = vec![0; n_bins];
    }
    for p in &mut pops {
        let g = format!("spikes/{}", p.name);
        let mut start = 0;
        while start < p.spikes {
            let len = BLOCK.min(p.spikes - start);
            let ts = h.read_f64(&format!("{g}/timestamps"), start, len)?;
            let ids = h.read_u64(&format!("{g}/node_ids"), start, len)?;
            for (&t, &id) in ts.iter().zip(&ids) {
                if t.is_nan() || t < 0.0 {
                    continue;
                }
                let b = ((t / bin_ms) as usize).min(n_bins - 1);
                p.counts[b] += 1;
                if id % p.stride == 0 {
                    p.points.push((t, (p.offset + id) as f64));
                }
            }
            start += len;
        }
    }
    Ok(Spikes {
        pops,
        t_end,
        bin_ms,
        subsampled,
        budget,
    })
}

/// Rate bin: a 1-2-5 value giving about 1000 bins over the run, widened (up to 1/50 of the run)
/// until the population with the fewest spikes has about 4 per bin, and a whole number of time
/// steps (otherwise bins would hold alternately more and fewer steps and the rate would
/// oscillate).
fn rate_bin(t_end: f64, dt: f64, spikes: impl Iterator<Item = u64>) -> f64 {
    let fine = nice_up(t_end / 1000.0).max(dt);
    let coarse = nice_up(t_end / 50.0).max(fine);
    let want = spikes.filter(|&n| n > 0).min().map_or(fine, |n| nice_up(4.0 * t_end / n as f64));
    let bin = want.clamp(fine, coarse);
    (bin / dt).round().max(1.0) * dt
}

/// `record.spikes_max_neurons` of the model the run was made with (root attribute `model_text`).
fn spike_limit(h: &H5) -> Option<u64> {
    let text = h.attr_str("", "model_text")?;
    let v: toml::Value = toml::from_str(&text).ok()?;
    let n = v.get("record")?.get("spikes_max_neurons")?.as_integer()?;
    u64::try_from(n).ok()
}

// ---------------------------------------------------------------------------------------------
// State reports
// ---------------------------------------------------------------------------------------------

struct Trace {
    node: u64,
    /// (time ms, value), possibly a min/max envelope.
    points: Vec<(f64, f64)>,
}

struct Report {
    pop: String,
    var: String,
    units: String,
    recorded: usize,
    frames: u64,
    t0: f64,
    t1: f64,
    traces: Vec<Trace>,
    enveloped: bool,
}

fn read_state(info: &RunInfo) -> Result<Vec<Report>> {
    let h = H5::open(
        info,
        "state.h5",
        "the voltage plot reads the state traces, which `hebb run` writes when the model's \
         [record] has a `state` entry",
    )?;
    let mut out = Vec::new();
    let pops = if h.file.group("report").is_ok() {
        h.groups("report")?
    } else {
        Vec::new()
    };
    for pop in &pops {
        let mut vars = h.groups(&format!("report/{pop}"))?;
        // The membrane potential first, then the other variables by name.
        vars.sort_by_key(|v| (v != "v", v.clone()));
        for var in vars {
            out.push(read_report(&h, pop, &var)?);
        }
    }
    if out.is_empty() {
        return Err(Error::io(
            &h.path,
            "no recorded state variables in this file (the model's [record] has no `state` entry); \
             nothing to draw for the voltage plot",
        ));
    }
    Ok(out)
}

fn read_report(h: &H5, pop: &str, var: &str) -> Result<Report> {
    let g = format!("report/{pop}/{var}");
    let nodes = h.read_all_u64(&format!("{g}/mapping/node_ids"))?;
    let time = h.read_all_f64(&format!("{g}/mapping/time"))?;
    if time.len() != 3 {
        return Err(h.err(
            &format!("/{g}/mapping/time"),
            format!("expected 3 values (start, stop, dt), found {}", time.len()),
        ));
    }
    let (t0, dt) = (time[0], time[2]);
    let n = nodes.len();
    // `data` (2-D, finished run) or `data_flat` (1-D, interrupted or too large to convert).
    let (data_p, flat) = if h.has_dataset(&format!("{g}/data")) {
        (format!("{g}/data"), false)
    } else {
        (format!("{g}/data_flat"), true)
    };
    let units = h.attr_str(&data_p, "units").unwrap_or_default();
    let len = h.len(&data_p)?;
    let frames = if flat { len.checked_div(n as u64).unwrap_or(0) } else { len };
    let shown = n.min(TRACE_MAX_NEURONS);
    // Buckets of `k` frames give a min and a max each.
    let k = if frames > TRACE_MAX_POINTS {
        (2 * frames).div_ceil(TRACE_MAX_POINTS)
    } else {
        1
    };
    let mut traces: Vec<Trace> = nodes[..shown]
        .iter()
        .map(|&node| Trace {
            node,
            points: Vec::with_capacity((frames.min(TRACE_MAX_POINTS) + 2) as usize),
        })
        .collect();
    let mut acc: Vec<(f64, f64, f64, f64)> = vec![(0.0, f64::INFINITY, 0.0, f64::NEG_INFINITY); shown];
    let rows_per_block = (BLOCK / n.max(1) as u64).max(1);
    let mut f = 0u64;
    while f < frames {
        let rows = rows_per_block.min(frames - f);
        let vals = if flat {
            h.read_f32(&data_p, f * n as u64, rows * n as u64)?
        } else {
            h.read_f32(&data_p, f, rows)?
        };
        if vals.len() < rows as usize * n {
            return Err(h.err(
                &format!("/{data_p}"),
                format!("expected {} values, read {}", rows as usize * n, vals.len()),
            ));
        }
        for r in 0..rows as usize {
            let frame = f + r as u64;
            let t = t0 + frame as f64 * dt;
            for (c, tr) in traces.iter_mut().enumerate() {
                let v = f64::from(vals[r * n + c]);
                if k == 1 {
                    tr.points.push((t, v));
                    continue;
                }
                let a = &mut acc[c];
                if frame.is_multiple_of(k) {
                    *a = (t, f64::INFINITY, t, f64::NEG_INFINITY);
                }
                if v < a.1 {
                    a.0 = t;
                    a.1 = v;
                }
                if v > a.3 {
                    a.2 = t;
                    a.3 = v;
                }
                if frame % k == k - 1 || frame == frames - 1 {
                    // Min and max in the order they occurred.
                    if a.0 <= a.2 {
                        tr.points.push((a.0, a.1));
                        tr.points.push((a.2, a.3));
                    } else {
                        tr.points.push((a.2, a.3));
                        tr.points.push((a.0, a.1));
                    }
                }
            }
        }
        f += rows;
    }
    Ok(Report {
        pop: pop.to_string(),
        var: var.to_string(),
        units,
        recorded: n,
        frames,
        t0,
        t1: t0 + frames.saturating_sub(1) as f64 * dt,
        traces,
        enveloped: k > 1,
    })
}

// ---------------------------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------------------------

struct Snapshots {
    times: Vec<f64>,
    mean: Vec<f64>,
    p10: Vec<f64>,
    p90: Vec<f64>,
    /// Histogram of the last snapshot (same bins as the initial one).
    last_counts: Vec<u64>,
    /// Snapshots in the file.
    total: usize,
    /// The first point is the initial weights (t = 0), not a snapshot.
    initial: bool,
}

struct ProjWeights {
    name: String,
    source: String,
    target: String,
    units: String,
    n_edges: u64,
    lo: f64,
    hi: f64,
    mean: f64,
    /// Every weight (initial and last snapshot) has the same value.
    all_equal: bool,
    /// Histogram of the initial weights over `HIST_BINS` bins spanning `lo..hi`.
    counts: Vec<u64>,
    snapshots: Option<Snapshots>,
}

fn read_weights(info: &RunInfo) -> Result<Vec<ProjWeights>> {
    let h = H5::open(info, "weights.h5", "the weights plot reads the connectivity written by `hebb run`")?;
    let names = if h.file.group("edges").is_ok() {
        h.groups("edges")?
    } else {
        Vec::new()
    };
    if names.is_empty() {
        return Err(Error::io(
            &h.path,
            "no projections under /edges (the model has none, or [record] weights = \"none\"); \
             nothing to draw for the weights plot",
        ));
    }
    names.iter().map(|n| read_projection(&h, n)).collect()
}

/// Min and max of a 1-D f32 dataset range, streamed.
fn min_max(h: &H5, p: &str, start: u64, n: u64) -> Result<(f64, f64, f64)> {
    let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
    let mut s = 0;
    while s < n {
        let len = BLOCK.min(n - s);
        for &w in &h.read_f32(p, start + s, len)? {
            let w = f64::from(w);
            if w.is_finite() {
                lo = lo.min(w);
                hi = hi.max(w);
                sum += w;
            }
        }
        s += len;
    }
    Ok((lo, hi, sum / n.max(1) as f64))
}

fn histogram(h: &H5, p: &str, start: u64, n: u64, lo: f64, hi: f64) -> Result<Vec<u64>> {
    let mut counts = vec![0u64; HIST_BINS];
    let width = (hi - lo) / HIST_BINS as f64;
    let mut s = 0;
    while s < n {
        let len = BLOCK.min(n - s);
        for &w in &h.read_f32(p, start + s, len)? {
            let w = f64::from(w);
            if w.is_finite() {
                let b = (((w - lo) / width) as isize).clamp(0, HIST_BINS as isize - 1);
                counts[b as usize] += 1;
            }
        }
        s += len;
    }
    Ok(counts)
}

/// Mean (of every finite weight) and 10th / 90th percentiles (of an evenly strided sample of at
/// most `PERCENTILE_SAMPLE` weights) of `n` weights from `start`; `None` if none is finite.
fn weight_stats(h: &H5, p: &str, start: u64, n: u64) -> Result<Option<(f64, f64, f64)>> {
    let stride = n.div_ceil(PERCENTILE_SAMPLE).max(1);
    let mut sample: Vec<f32> = Vec::with_capacity(n.div_ceil(stride) as usize);
    let (mut sum, mut count) = (0f64, 0u64);
    let mut s = 0;
    while s < n {
        let len = BLOCK.min(n - s);
        let block = h.read_f32(p, start + s, len)?;
        for (j, &w) in block.iter().enumerate() {
            if w.is_finite() {
                sum += f64::from(w);
                count += 1;
                if (s + j as u64).is_multiple_of(stride) {
                    sample.push(w);
                }
            }
        }
        s += len;
    }
    if count == 0 || sample.is_empty() {
        return Ok(None);
    }
    let mut q = |f: f64| -> f64 {
        let idx = ((sample.len() - 1) as f64 * f).round() as usize;
        let (_, v, _) = sample.select_nth_unstable_by(idx, f32::total_cmp);
        f64::from(*v)
    };
    let (p10, p90) = (q(0.1), q(0.9));
    Ok(Some((sum / count as f64, p10, p90)))
}

fn read_projection(h: &H5, name: &str) -> Result<ProjWeights> {
    let g = format!("edges/{name}");
    let wp = format!("{g}/0/syn_weight");
    let n_edges = h.len(&wp)?;
    let units = h.attr_str(&wp, "units").unwrap_or_default();
    let source = h
        .attr_str(&format!("{g}/source_node_id"), "node_population")
        .unwrap_or_else(|| "?".into());
    let target = h
        .attr_str(&format!("{g}/target_node_id"), "node_population")
        .unwrap_or_else(|| "?".into());
    let (mut lo, mut hi, mean) = min_max(h, &wp, 0, n_edges)?;
    // Snapshots (plastic projections).
    let sp_t = format!("{g}/snapshots/times");
    let sp_w = format!("{g}/snapshots/weights");
    let mut snap_sel: Vec<(usize, f64)> = Vec::new();
    let mut per = 0u64;
    let mut total = 0usize;
    if h.has_dataset(&sp_t) && h.has_dataset(&sp_w) {
        per = h.attrs(&sp_w).get("n_edges").and_then(AttrValue::as_u64).unwrap_or(n_edges);
        let times = h.read_all_f64(&sp_t)?;
        let k = h.len(&sp_w)?.checked_div(per).map_or(0, |n| times.len().min(n as usize));
        total = k;
        if k > 0 {
            let step = k.div_ceil(MAX_SNAPSHOTS).max(1);
            snap_sel = (0..k).step_by(step).map(|i| (i, times[i])).collect();
            if snap_sel.last().map(|s| s.0) != Some(k - 1) {
                snap_sel.push((k - 1, times[k - 1]));
            }
        }
    }
    let mut snapshots = None;
    if !snap_sel.is_empty() {
        let mut s = Snapshots {
            times: Vec::new(),
            mean: Vec::new(),
            p10: Vec::new(),
            p90: Vec::new(),
            last_counts: Vec::new(),
            total,
            initial: false,
        };
        // The initial weights are the state at t = 0, before the first snapshot.
        if snap_sel[0].1 > 0.0 && n_edges == per {
            if let Some((m, p10, p90)) = weight_stats(h, &wp, 0, n_edges)? {
                s.times.push(0.0);
                s.mean.push(m);
                s.p10.push(p10);
                s.p90.push(p90);
                s.initial = true;
            }
        }
        for &(i, t) in &snap_sel {
            if let Some((m, p10, p90)) = weight_stats(h, &sp_w, i as u64 * per, per)? {
                s.times.push(t);
                s.mean.push(m);
                s.p10.push(p10);
                s.p90.push(p90);
            }
        }
        let last = snap_sel.last().expect("not empty").0 as u64;
        let (l2, h2, _) = min_max(h, &sp_w, last * per, per)?;
        lo = lo.min(l2);
        hi = hi.max(h2);
        snapshots = Some((s, last));
    }
    let all_equal = lo == hi;
    let r = axis_range(lo, hi, 0.0);
    let (lo, hi) = (r.start, r.end);
    let counts = histogram(h, &wp, 0, n_edges, lo, hi)?;
    let snapshots = match snapshots {
        Some((mut s, last)) => {
            s.last_counts = histogram(h, &sp_w, last * per, per, lo, hi)?;
            Some(s)
        }
        None => None,
    };
    Ok(ProjWeights {
        name: name.to_string(),
        source,
        target,
        units,
        n_edges,
        lo,
        hi,
        mean,
        all_equal,
        counts,
        snapshots,
    })
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

type DrawResult<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

fn render<F: Figure>(fig: &F, path: &Path, format: PlotFormat) -> Result<()> {
    let size = fig.size();
    let fail = |e: String| Error::io(path, format!("cannot draw or write the figure: {e}"));
    match format {
        PlotFormat::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            fig.draw(&root).map_err(|e| fail(e.to_string()))?;
            root.present().map_err(|e| fail(e.to_string()))?;
        }
        PlotFormat::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            fig.draw(&root).map_err(|e| fail(e.to_string()))?;
            root.present().map_err(|e| fail(e.to_string()))?;
        }
    }
    // plotters reports some write failures only on drop: check the file is there.
    match std::fs::metadata(path) {
        Ok(m) if m.len() > 0 => Ok(()),
        Ok(_) => Err(Error::io(path, "the figure file is empty after writing")),
        Err(e) => Err(Error::io(path, format!("cannot write the figure: {e}"))),
    }
}

/// Title and subtitle on top of `root`; returns the area below them.
fn headed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let area = root.margin(10, 0, 0, 0);
    let area = area.titled(title, (FONT, 30).into_font().color(&BLACK))?;
    let area = area.titled(subtitle, (FONT, 17).into_font().color(&GREY))?;
    Ok(area.margin(4, 4, 8, 16))
}

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// The legend box of every figure: series labels at `pos` on a translucent white box.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
    font_size: u32,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(text_style(font_size))
        .draw()
}

struct RasterFig<'a> {
    s: &'a Spikes,
    meta: &'a RunInfo,
}

impl Figure for RasterFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 1000)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let s = self.s;
        let mut title = "Spike raster".to_string();
        let mut note = String::new();
        if s.subsampled {
            let per: Vec<String> = s
                .pops
                .iter()
                .filter(|p| p.stride > 1)
                .map(|p| format!("{}: every {} neuron", p.name, ordinal(p.stride)))
                .collect();
            let _ = write!(title, " (subsampled: {})", per.join(", "));
            note = format!(
                "at most {} neurons per population and ~{} spikes drawn",
                fmt_int(RASTER_MAX_NEURONS),
                fmt_int(s.budget)
            );
        }
        let (t, sub) = self.meta.header(&title, "spikes.h5", &note);
        let area = headed(root, &t, &sub)?;
        let rows: u64 = s.pops.iter().map(|p| p.recorded).sum::<u64>().max(1);
        let mut chart = ChartBuilder::on(&area)
            .margin(8)
            .margin_right(135)
            .x_label_area_size(56)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..s.t_end, 0f64..rows as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.08))
            .x_desc("time (ms)")
            .y_desc("neuron (populations stacked)")
            .axis_desc_style(text_style(22))
            .label_style(text_style(17))
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        let n_points: usize = s.pops.iter().map(|p| p.points.len()).sum();
        let radius = if n_points > 50_000 { 1 } else { 2 };
        for (i, p) in s.pops.iter().enumerate() {
            let c = colour(i);
            chart.draw_series(p.points.iter().map(|&(t, y)| Circle::new((t, y + 0.5), radius, c.filled())))?;
            if p.offset > 0 {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, p.offset as f64), (s.t_end, p.offset as f64)],
                    BLACK.mix(0.5).stroke_width(1),
                )))?;
            }
        }
        // Population names on the right margin, at the middle of their band.
        for (i, p) in s.pops.iter().enumerate() {
            let mid = p.offset as f64 + p.recorded as f64 / 2.0;
            let (x, y) = chart.backend_coord(&(s.t_end, mid));
            let label = p.name.clone();
            let count = format!("{} spikes", fmt_int(p.spikes));
            root.draw(&Text::new(label, (x + 12, y - 20), (FONT, 22).into_font().color(&colour(i))))?;
            root.draw(&Text::new(
                format!("{} neurons", fmt_int(p.recorded)),
                (x + 12, y + 4),
                (FONT, 15).into_font().color(&GREY),
            ))?;
            root.draw(&Text::new(count, (x + 12, y + 22), (FONT, 15).into_font().color(&GREY)))?;
        }
        Ok(())
    }
}

struct RateFig<'a> {
    s: &'a Spikes,
    meta: &'a RunInfo,
}

impl Figure for RateFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let s = self.s;
        let bin_s = s.bin_ms * 1e-3;
        let rates: Vec<Vec<(f64, f64)>> = s
            .pops
            .iter()
            .map(|p| {
                p.counts
                    .iter()
                    .enumerate()
                    .map(|(b, &c)| {
                        let t = (b as f64 + 0.5) * s.bin_ms;
                        (t.min(s.t_end), c as f64 / p.recorded as f64 / bin_s)
                    })
                    .collect()
            })
            .collect();
        let ymax = rates.iter().flatten().map(|&(_, r)| r).fold(0f64, f64::max);
        let note = format!("bins of {} ms", fmt_tick(s.bin_ms));
        let (t, sub) = self.meta.header("Population rate", "spikes.h5", &note);
        let area = headed(root, &t, &sub)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(8)
            .margin_right(30)
            .x_label_area_size(56)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..s.t_end, 0f64..axis_range(0.0, ymax, 0.0).end * 1.08)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.08))
            .x_desc("time (ms)")
            .y_desc("population rate (Hz)")
            .axis_desc_style(text_style(22))
            .label_style(text_style(17))
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .draw()?;
        // Smaller (noisier) populations first, so that they lie underneath.
        let mut order: Vec<usize> = (0..s.pops.len()).collect();
        order.sort_by_key(|&i| s.pops[i].recorded);
        let width = if s.pops[0].counts.len() > 400 { 1 } else { 2 };
        for i in order {
            let (p, r) = (&s.pops[i], &rates[i]);
            let c = colour(i);
            let mean = p.spikes as f64 / p.recorded as f64 / (s.t_end * 1e-3);
            chart
                .draw_series(LineSeries::new(r.iter().copied(), c.stroke_width(width)))?
                .label(format!("{} ({} neurons, mean {} Hz)", p.name, fmt_int(p.recorded), fmt_num(mean)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, 18)?;
        Ok(())
    }
}

struct StateFig<'a> {
    v: &'a [Report],
    meta: &'a RunInfo,
}

const PANEL_H: u32 = 300;

impl Figure for StateFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 110 + PANEL_H * self.v.len() as u32 + 30)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let env = self.v.iter().any(|r| r.enveloped);
        let note = if env {
            "long traces drawn as their min/max envelope".to_string()
        } else {
            String::new()
        };
        let (t, sub) = self.meta.header("Recorded state", "state.h5", &note);
        let area = headed(root, &t, &sub)?;
        let t0 = self.v.iter().map(|r| r.t0).fold(f64::INFINITY, f64::min);
        let t1 = self.v.iter().map(|r| r.t1).fold(f64::NEG_INFINITY, f64::max);
        // Start the axis at 0 when the first frame is at dt or so.
        let t0 = if t0 > 0.0 && t0 <= 0.02 * (t1 - t0) { 0.0 } else { t0 };
        let xr = axis_range(t0, t1, 0.0);
        let panels = area.split_evenly((self.v.len(), 1));
        let last = self.v.len() - 1;
        for (k, (r, panel)) in self.v.iter().zip(&panels).enumerate() {
            let (lo, hi) = r
                .traces
                .iter()
                .flat_map(|t| t.points.iter().map(|p| p.1))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            let yr = axis_range(lo, hi, 0.05);
            let shown = if r.traces.len() < r.recorded {
                format!(", {} of {} recorded neurons shown", r.traces.len(), r.recorded)
            } else {
                String::new()
            };
            let caption = format!("{} \u{00b7} {}{}", r.pop, r.var, shown);
            let mut chart = ChartBuilder::on(panel)
                .margin(6)
                .margin_right(30)
                .caption(caption, text_style(19))
                .x_label_area_size(if k == last { 56 } else { 28 })
                .y_label_area_size(90)
                .build_cartesian_2d(xr.clone(), yr)?;
            let ydesc = if r.units.is_empty() {
                r.var.clone()
            } else {
                format!("{} ({})", r.var, r.units)
            };
            let mut mesh = chart.configure_mesh();
            mesh.light_line_style(TRANSPARENT)
                .bold_line_style(BLACK.mix(0.08))
                .y_desc(ydesc)
                .axis_desc_style(text_style(20))
                .label_style(text_style(16))
                .x_label_formatter(&|v| fmt_tick(*v))
                .y_label_formatter(&|v| fmt_tick(*v))
                .y_labels(6);
            if k == last {
                mesh.x_desc("time (ms)");
            }
            mesh.draw()?;
            if r.frames == 0 {
                continue;
            }
            for (i, tr) in r.traces.iter().enumerate() {
                let c = colour(i);
                chart
                    .draw_series(LineSeries::new(tr.points.iter().copied(), c.stroke_width(1)))?
                    .label(format!("neuron {}", tr.node))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
            }
            legend(&mut chart, SeriesLabelPosition::UpperRight, 14)?;
        }
        Ok(())
    }
}

struct WeightFig<'a> {
    w: &'a [ProjWeights],
    meta: &'a RunInfo,
}

impl WeightFig<'_> {
    fn plastic(&self) -> bool {
        self.w.iter().any(|p| p.snapshots.is_some())
    }

    /// One row per plastic projection (histogram | trajectory), then the static ones two by
    /// two.
    fn rows(&self) -> usize {
        let plastic = self.w.iter().filter(|p| p.snapshots.is_some()).count();
        plastic + (self.w.len() - plastic).div_ceil(2)
    }
}

impl Figure for WeightFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 110 + 340 * self.rows() as u32 + 20)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let plastic = self.plastic();
        let note = if plastic {
            "plastic projections: initial vs last snapshot, and mean with 10-90 % band over time"
        } else {
            "initial weights"
        };
        let (t, sub) = self.meta.header("Synaptic weights", "weights.h5", note);
        let area = headed(root, &t, &sub)?;
        // Plastic projections first, one row each (histogram | trajectory); then the static
        // ones, two histograms per row. Colours follow the projection order of the file.
        let cells = area.split_evenly((self.rows(), 2));
        let mut next = 0;
        for (i, p) in self.w.iter().enumerate() {
            if let Some(s) = &p.snapshots {
                draw_histogram(&cells[next], p, i)?;
                draw_trajectory(&cells[next + 1], p, s, i)?;
                next += 2;
            }
        }
        for (i, p) in self.w.iter().enumerate() {
            if p.snapshots.is_none() {
                draw_histogram(&cells[next], p, i)?;
                next += 1;
            }
        }
        Ok(())
    }
}

fn weight_desc(p: &ProjWeights) -> String {
    if p.units.is_empty() {
        "weight".into()
    } else {
        format!("weight ({})", p.units)
    }
}

fn draw_histogram<DB: DrawingBackend>(cell: &DrawingArea<DB, Shift>, p: &ProjWeights, i: usize) -> DrawResult<DB> {
    let c = colour(i);
    let width = (p.hi - p.lo) / HIST_BINS as f64;
    let ymax = p
        .counts
        .iter()
        .chain(p.snapshots.iter().flat_map(|s| s.last_counts.iter()))
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mean = match &p.snapshots {
        Some(sn) if !p.all_equal => {
            let (a, b) = fmt_pair(p.mean, sn.mean.last().copied().unwrap_or(p.mean));
            format!("mean {a} \u{2192} {b} {}", p.units)
        }
        _ => format!("{} {} {}", if p.all_equal { "all" } else { "mean" }, fmt_num(p.mean), p.units),
    };
    let caption = format!(
        "{} ({} \u{2192} {}): {} synapses, {}",
        p.name,
        p.source,
        p.target,
        fmt_int(p.n_edges),
        mean
    );
    let mut chart = ChartBuilder::on(cell)
        .margin(8)
        .margin_right(24)
        .caption(caption, text_style(18))
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(p.lo..p.hi, 0f64..ymax * 1.08)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.08))
        .x_desc(weight_desc(p))
        .y_desc("synapses")
        .axis_desc_style(text_style(19))
        .label_style(text_style(15))
        .x_labels(7)
        .x_label_formatter(&|v| fmt_tick(*v))
        .y_label_formatter(&|v| fmt_count(*v))
        .draw()?;
    let bars = |counts: &[u64]| -> Vec<((f64, f64), (f64, f64))> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(b, &n)| {
                let x0 = p.lo + b as f64 * width;
                ((x0, 0.0), (x0 + width, n as f64))
            })
            .collect()
    };
    let (first_style, first_label) = if p.snapshots.is_some() {
        (GREY.mix(0.35).filled(), "initial".to_string())
    } else {
        (c.mix(0.75).filled(), String::new())
    };
    let s = chart.draw_series(bars(&p.counts).into_iter().map(|(a, b)| Rectangle::new([a, b], first_style)))?;
    if !first_label.is_empty() {
        s.label(first_label)
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], GREY.mix(0.35).filled()));
    }
    if let Some(sn) = &p.snapshots {
        let t_last = sn.times.last().copied().unwrap_or(0.0);
        chart
            .draw_series(
                bars(&sn.last_counts)
                    .into_iter()
                    .map(|(a, b)| Rectangle::new([a, b], c.mix(0.6).filled())),
            )?
            .label(format!("t = {} ms", fmt_tick(t_last)))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], c.mix(0.6).filled()));
        legend(&mut chart, SeriesLabelPosition::UpperRight, 15)?;
    }
    Ok(())
}

fn draw_trajectory<DB: DrawingBackend>(cell: &DrawingArea<DB, Shift>, p: &ProjWeights, s: &Snapshots, i: usize) -> DrawResult<DB> {
    let c = colour(i);
    let t0 = s.times.first().copied().unwrap_or(0.0);
    let t1 = s.times.last().copied().unwrap_or(1.0);
    let lo = s.p10.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = s.p90.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = lo.min(s.mean.iter().copied().fold(f64::INFINITY, f64::min));
    let hi = hi.max(s.mean.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let used = s.times.len() - usize::from(s.initial);
    let shown = if used < s.total {
        format!(" ({} of {} snapshots)", used, s.total)
    } else {
        format!(" ({} snapshots)", s.total)
    };
    let mut chart = ChartBuilder::on(cell)
        .margin(8)
        .margin_right(24)
        .caption(format!("{}: weights over time{}", p.name, shown), text_style(18))
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(axis_range(t0, t1, 0.0), axis_range(lo, hi, 0.08))?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.08))
        .x_desc("time (ms)")
        .y_desc(weight_desc(p))
        .axis_desc_style(text_style(19))
        .label_style(text_style(15))
        .x_label_formatter(&|v| fmt_tick(*v))
        .y_label_formatter(&|v| fmt_tick(*v))
        .draw()?;
    // 10-90 % band as a polygon (upper edge forward, lower edge back).
    let band: Vec<(f64, f64)> = s
        .times
        .iter()
        .zip(&s.p90)
        .map(|(&t, &v)| (t, v))
        .chain(s.times.iter().zip(&s.p10).rev().map(|(&t, &v)| (t, v)))
        .collect();
    if s.times.len() > 1 {
        chart
            .draw_series(std::iter::once(Polygon::new(band, c.mix(0.2).filled())))?
            .label("10-90 % of synapses")
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], c.mix(0.2).filled()));
    }
    chart
        .draw_series(LineSeries::new(
            s.times.iter().copied().zip(s.mean.iter().copied()),
            c.stroke_width(2),
        ))?
        .label("mean")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    if s.times.len() <= 30 {
        chart.draw_series(s.times.iter().zip(&s.mean).map(|(&t, &m)| Circle::new((t, m), 3, c.filled())))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft, 15)?;
    Ok(())
}
