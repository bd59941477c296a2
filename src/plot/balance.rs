//! E/I balance figures: co-tuning of E and I weights per input group, ISI CV histograms, and
//! E vs I input currents of a recorded neuron (issue 6).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis_range, colour, fmt_int, fmt_num, fmt_tick, headed, legend, text_style, DrawResult, Figure, RunInfo, FONT, GREY};
use crate::analysis::{self, CurrentTraces};
use crate::error::{Error, Result};
use crate::io::hdf5;
use crate::neuron::NeuronSpec;
use crate::spec::Kind;

/// One input group: (label, mean E weight, initial mean I weight, final mean I weight).
type Group = (String, Option<f64>, Option<f64>, Option<f64>);
/// One population's CVs: (name, histogram, mean CV, neurons counted).
pub(super) type CvHist = (String, Vec<u32>, Option<f64>, usize);
/// A line of the co-tuning figure: (legend, points, colour index).
type Line = (&'static str, Vec<(f64, f64)>, usize);

/// Mean weight per input group: (group label, mean E weight, initial mean I weight, final mean
/// I weight), plus the unit and the target population.
pub(super) struct Cotuning {
    groups: Vec<Group>,
    unit: String,
    target: String,
    r: Option<f64>,
}

/// Group the projections from `modulated_poisson` sources by signal: key (signal_stream, group
/// within the source); initial weights from the edges, final weights from the last snapshot.
pub(super) fn read_cotuning(meta: &RunInfo) -> Result<Cotuning> {
    let path = meta.dir.join("weights.h5");
    if !path.is_file() {
        return Err(Error::io(&path, "no weights.h5: the co-tuning figure needs the weights"));
    }
    let m = analysis::run_model(&path).ok_or_else(|| Error::io(&path, "no readable model_text attribute"))?;
    // key -> (sum E, n E, sum I0, sum I1, n I)
    let mut acc: std::collections::BTreeMap<(u64, usize), [f64; 5]> = Default::default();
    let mut target = None;
    let mut unit = String::from("nS");
    for p in &m.projections {
        let Some(pre) = m.populations.iter().find(|q| q.name == p.pre) else {
            continue;
        };
        let NeuronSpec::ModulatedPoisson(src) = &pre.neuron else { continue };
        let name = p.name.clone().unwrap_or_else(|| format!("{}_to_{}", p.pre, p.post));
        let (src_ids, _, w0, _) = hdf5::read_edges(&path, &name).map_err(|e| Error::io(&path, e))?;
        let (times, snaps) = hdf5::read_snapshots(&path, &name).unwrap_or_default();
        let ne = w0.len();
        let last = if !times.is_empty() && ne > 0 && snaps.len() >= ne {
            let k = (snaps.len() / ne).min(times.len());
            &snaps[(k - 1) * ne..k * ne]
        } else {
            &w0[..]
        };
        let size = pre.size;
        target.get_or_insert_with(|| p.post.clone());
        if let Some(post) = m.populations.iter().find(|q| q.name == p.post) {
            unit = post.neuron.weight_unit().to_string();
        }
        for e in 0..ne {
            let g = (src_ids[e] as usize * src.groups) / size.max(1);
            let a = acc.entry((src.signal_stream, g)).or_default();
            match pre.kind {
                Kind::Excitatory => {
                    a[0] += w0[e] as f64;
                    a[1] += 1.0;
                }
                Kind::Inhibitory => {
                    a[2] += w0[e] as f64;
                    a[3] += last[e] as f64;
                    a[4] += 1.0;
                }
            }
        }
    }
    if acc.is_empty() {
        return Err(Error::io(
            &path,
            "no projection from a modulated_poisson source: nothing to co-tune",
        ));
    }
    let multi_stream = acc.keys().map(|k| k.0).collect::<std::collections::BTreeSet<_>>().len() > 1;
    let groups: Vec<_> = acc
        .iter()
        .map(|(&(s, g), a)| {
            let label = if multi_stream { format!("{s}") } else { format!("{}", g + 1) };
            let e = (a[1] > 0.0).then(|| a[0] / a[1]);
            let (i0, i1) = if a[4] > 0.0 {
                (Some(a[2] / a[4]), Some(a[3] / a[4]))
            } else {
                (None, None)
            };
            (label, e, i0, i1)
        })
        .collect();
    let (es, is): (Vec<f64>, Vec<f64>) = groups.iter().filter_map(|g| Some((g.1?, g.3?))).unzip();
    Ok(Cotuning {
        r: analysis::correlation(&es, &is),
        groups,
        unit,
        target: target.unwrap_or_default(),
    })
}

pub(super) struct CotuningFig<'a> {
    pub c: &'a Cotuning,
    pub meta: &'a RunInfo,
}

impl Figure for CotuningFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let c = self.c;
        let note = format!(
            "inputs onto {}; r(E, final I) = {}",
            c.target,
            c.r.map_or("-".into(), |r| format!("{r:.3}"))
        );
        let (t, sub) = self
            .meta
            .header("Co-tuning of E and I weights per input group", "weights.h5", &note);
        let area = headed(root, &t, &sub)?;
        let panels = area.split_evenly((1, 2));
        let n = c.groups.len() as f64;
        let x = |k: usize| k as f64 + 1.0;
        let series: [Line; 3] = [
            (
                "excitatory (mean per group)",
                c.groups.iter().enumerate().filter_map(|(k, g)| Some((x(k), g.1?))).collect(),
                0,
            ),
            (
                "inhibitory, initial",
                c.groups.iter().enumerate().filter_map(|(k, g)| Some((x(k), g.2?))).collect(),
                6,
            ),
            (
                "inhibitory, final",
                c.groups.iter().enumerate().filter_map(|(k, g)| Some((x(k), g.3?))).collect(),
                1,
            ),
        ];
        for (pi, (panel, which)) in panels.iter().zip([&[0usize][..], &[1, 2][..]]).enumerate() {
            let ymax = which.iter().flat_map(|&s| series[s].1.iter().map(|p| p.1)).fold(0f64, f64::max);
            let mut chart = ChartBuilder::on(panel)
                .margin(12)
                .x_label_area_size(56)
                .y_label_area_size(100)
                .build_cartesian_2d(0.5f64..n + 0.5, 0f64..axis_range(0.0, ymax, 0.0).end * 1.1)?;
            let labels: Vec<String> = c.groups.iter().map(|g| g.0.clone()).collect();
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(BLACK.mix(0.08))
                .x_labels(c.groups.len())
                .x_desc("input group (signal)")
                .y_desc(format!("{} weight ({})", if pi == 0 { "E" } else { "I" }, c.unit))
                .axis_desc_style(text_style(22))
                .label_style(text_style(17))
                .x_label_formatter(&|v| {
                    let k = v.round() as usize;
                    if (v - v.round()).abs() < 1e-6 && k >= 1 && k <= labels.len() {
                        labels[k - 1].clone()
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|v| fmt_tick(*v))
                .draw()?;
            for &s in which.iter() {
                let (label, pts, ci) = &series[s];
                let col = colour(*ci);
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), col.stroke_width(3)))?
                    .label(*label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], col.stroke_width(3)));
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, col.filled())))?;
            }
            legend(&mut chart, SeriesLabelPosition::UpperRight, 18)?;
        }
        Ok(())
    }
}

/// ISI CVs (over the whole run) of each population with spikes.
pub(super) fn read_cvs(meta: &RunInfo) -> Result<Vec<CvHist>> {
    let path = meta.dir.join("spikes.h5");
    let data = hdf5::read_spikes(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = Vec::new();
    for (name, times, ids) in &data {
        let n = ids.iter().max().map_or(0, |&m| m as usize + 1);
        let t_end = times.iter().copied().fold(0f64, f64::max) + 1.0;
        let tr = analysis::trains(n, times, ids);
        let p = analysis::AnalysisParams {
            sync_bins_ms: Vec::new(),
            max_pairs: 0,
            ..Default::default()
        };
        let s = analysis::analyze(name, &tr, 0.0, t_end, &p);
        let counted = s.cv_histogram.iter().sum::<u32>() as usize;
        out.push((name.clone(), s.cv_histogram, s.cv_mean, counted));
    }
    // Populations without any neuron of >= 3 spikes are listed with 0 neurons (an empty figure
    // says so rather than failing: `available` offers the figure whenever there are spikes).
    Ok(out)
}

pub(super) struct CvFig<'a> {
    pub h: &'a [CvHist],
    pub meta: &'a RunInfo,
}

impl Figure for CvFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (t, sub) = self.meta.header(
            "ISI CV per neuron",
            "spikes.h5",
            "whole run, neurons with >= 3 spikes, bins of 0.1 (last: >= 2.9)",
        );
        let area = headed(root, &t, &sub)?;
        // Fractions, so populations of different size compare.
        let frac: Vec<Vec<f64>> = self
            .h
            .iter()
            .map(|(_, h, _, n)| h.iter().map(|&c| c as f64 / (*n).max(1) as f64).collect())
            .collect();
        let ymax = frac.iter().flatten().copied().fold(0f64, f64::max);
        let ymax = if ymax > 0.0 { ymax } else { 1.0 };
        let mut chart = ChartBuilder::on(&area)
            .margin(8)
            .margin_right(30)
            .x_label_area_size(56)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..3.0, 0f64..axis_range(0.0, ymax, 0.0).end * 1.08)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.08))
            .x_desc("ISI coefficient of variation (1 = Poisson)")
            .y_desc("fraction of neurons")
            .axis_desc_style(text_style(22))
            .label_style(text_style(17))
            .x_label_formatter(&|v| fmt_tick(*v))
            .y_label_formatter(&|v| fmt_tick(*v))
            .draw()?;
        for (i, ((name, _, m, n), f)) in self.h.iter().zip(&frac).enumerate() {
            let c = colour(i);
            if *n == 0 {
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                    .label(format!("{name}: no neuron with >= 3 spikes"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
                continue;
            }
            // A step outline per population (bars of several populations would hide each other).
            let mut pts = Vec::with_capacity(2 * f.len() + 2);
            pts.push((0.0, 0.0));
            for (b, &y) in f.iter().enumerate() {
                pts.push((b as f64 * 0.1, y));
                pts.push(((b + 1) as f64 * 0.1, y));
            }
            pts.push((3.0, 0.0));
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(3)))?
                .label(format!(
                    "{name} ({} neurons, mean CV {})",
                    fmt_int(*n as u64),
                    m.map_or("-".into(), fmt_num)
                ))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(1.0, 0.0), (1.0, ymax * 1.05)],
            BLACK.mix(0.4).stroke_width(1),
        )))?;
        legend(&mut chart, SeriesLabelPosition::UpperRight, 18)?;
        Ok(())
    }
}

/// Input currents of the first population that has them.
pub(super) fn read_currents(meta: &RunInfo) -> Result<(String, CurrentTraces)> {
    let path = meta.dir.join("state.h5");
    let m = analysis::run_model(&path);
    analysis::read_currents(&meta.dir, m.as_ref()).into_iter().next().ok_or_else(|| {
        Error::io(
            &path,
            "no input currents: record v, g_exc, g_inh (lif_coba) or i_exc, i_inh (lif_cuba) of the same neurons",
        )
    })
}

pub(super) struct CurrentFig<'a> {
    pub pop: &'a str,
    pub c: &'a CurrentTraces,
    pub meta: &'a RunInfo,
}

/// Length of each of the two windows shown (start and end of the run), ms.
const WINDOW_MS: f64 = 500.0;

impl Figure for CurrentFig<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let c = self.c;
        let t = &c.times_ms;
        let (t_first, t_last) = (t.first().copied().unwrap_or(0.0), t.last().copied().unwrap_or(0.0));
        let early = (t_first, (t_first + WINDOW_MS).min(t_last + 1e-9));
        let late = ((t_last - WINDOW_MS).max(early.1), t_last + 1e-9);
        let stat = |w: (f64, f64)| analysis::currents(self.pop, c, w.0, w.1);
        let note = format!("neuron 0 of {}; E and -I (inhibitory input drawn as its magnitude)", self.pop);
        let (title, sub) = self.meta.header("Excitatory vs inhibitory input", "state.h5", &note);
        let area = headed(root, &title, &sub)?;
        let windows: Vec<(f64, f64)> = if late.0 > early.1 {
            vec![early, late]
        } else {
            vec![(t_first, t_last + 1e-9)]
        };
        let panels = area.split_evenly((1, windows.len()));
        let all_max = c.exc[0]
            .iter()
            .chain(c.inh[0].iter().map(|x| x.abs()).collect::<Vec<_>>().iter())
            .copied()
            .fold(0f64, f64::max);
        for (panel, &(w0, w1)) in panels.iter().zip(&windows) {
            let idx: Vec<usize> = (0..t.len()).filter(|&k| t[k] >= w0 && t[k] < w1).collect();
            let s = stat((w0, w1));
            let caption = format!(
                "{}-{} ms: all recorded neurons -I/E {}, corr(E, -I) {}",
                fmt_tick(w0),
                fmt_tick(w1.floor()),
                s.as_ref().and_then(|s| s.ei_ratio).map_or("-".into(), |v| format!("{v:.2}")),
                s.as_ref().and_then(|s| s.ei_corr).map_or("-".into(), |v| format!("{v:.2}"))
            );
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, (FONT, 18).into_font().color(&GREY))
                .margin(12)
                .x_label_area_size(56)
                .y_label_area_size(100)
                .build_cartesian_2d(w0..w1, 0f64..axis_range(0.0, all_max, 0.0).end * 1.05)?;
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(BLACK.mix(0.08))
                .x_desc("time (ms)")
                .y_desc(format!("input ({})", c.unit))
                .axis_desc_style(text_style(22))
                .label_style(text_style(17))
                .x_label_formatter(&|v| fmt_tick(*v))
                .y_label_formatter(&|v| fmt_tick(*v))
                .draw()?;
            for (label, ci, sign, data) in [("excitatory E", 0usize, 1.0, &c.exc[0]), ("inhibitory -I", 1, -1.0, &c.inh[0])] {
                let col = colour(ci);
                chart
                    .draw_series(LineSeries::new(idx.iter().map(|&k| (t[k], sign * data[k])), col.stroke_width(2)))?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], col.stroke_width(3)));
            }
            legend(&mut chart, SeriesLabelPosition::UpperRight, 18)?;
        }
        Ok(())
    }
}
