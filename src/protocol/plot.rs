//! Figures of protocol reports (PNG and SVG, plotters with an embedded DejaVu Sans):
//! `pairing.*` (weight over the trial with its phases; membrane around a test pulse before and
//! after induction), `window.*` (relative change against lag), `frequency.*` (relative change
//! against pairing frequency, one curve per lag, published data with SEM bars on the same axes).

use super::{Purpose, Report, TrialResult};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

use crate::plot::{register_fonts, FONT, PALETTE};

const GREY: RGBColor = RGBColor(110, 110, 110);

type R = std::result::Result<(), String>;

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

/// Draw the report's figure as PNG and SVG into `dir`.
pub(super) fn draw(r: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    register_fonts()?;
    let stem = match r.purpose {
        Purpose::Pairing => "pairing",
        Purpose::Window => "window",
        Purpose::Frequency => "frequency",
    };
    let size = match r.purpose {
        Purpose::Pairing => (1000, 800),
        _ => (1000, 680),
    };
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        figure(&root, r)
            .and_then(|_| root.present().map_err(e))
            .map_err(|m| Error::io(&png, format!("cannot draw: {m}")))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        figure(&root, r)
            .and_then(|_| root.present().map_err(e))
            .map_err(|m| Error::io(&svg, format!("cannot draw: {m}")))?;
    }
    Ok(vec![png, svg])
}

fn figure<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> R {
    root.fill(&WHITE).map_err(e)?;
    let title = r
        .spec
        .description
        .as_deref()
        .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(str::to_string)
        .unwrap_or_else(|| r.file.file_stem().map_or("protocol".into(), |s| s.to_string_lossy().into_owned()));
    let h = root.dim_in_pixel().1;
    let (main, foot) = root.split_vertically(h.saturating_sub(62));
    let mut notes = vec![format!(
        "lag = t_post + delay − t_pre at the synapse (delay {} ms); change = after/before − 1",
        r.spec.delay()
    )];
    if let Some(d) = r.data {
        notes.push(d.note().to_string());
    }
    if let Some((c, n)) = r.chi2() {
        notes[0].push_str(&format!(";  χ²/n = {c:.3} (n = {n}, weight change vs data)"));
    }
    for w in r.warnings() {
        notes.push(format!("warning: {w}"));
    }
    for (k, n) in notes.iter().take(3).enumerate() {
        foot.draw(&Text::new(n.clone(), (12, 4 + 19 * k as i32), (FONT, 14).into_font().color(&GREY)))
            .map_err(e)?;
    }
    // The title, wrapped at word boundaries.
    let mut lines: Vec<String> = vec![String::new()];
    for word in title.split_whitespace() {
        let cur = lines.last_mut().expect("non-empty");
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > 84 {
            lines.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    let (head, main) = main.split_vertically(12 + 26 * lines.len() as u32);
    for (k, l) in lines.iter().enumerate() {
        head.draw(&Text::new(
            l.clone(),
            (16, 10 + 26 * k as i32),
            (FONT, 21).into_font().color(&BLACK),
        ))
        .map_err(e)?;
    }
    match r.purpose {
        Purpose::Pairing => pairing(&main, r),
        Purpose::Window => window(&main, r),
        Purpose::Frequency => frequency(&main, r),
    }
}

fn range(values: impl Iterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-3 * hi.abs().max(1.0));
    (lo - pad, hi + pad)
}

/// Whether the EPSP change differs visibly from the weight change (conductance synapses).
fn epsp_differs(t: &[TrialResult]) -> bool {
    t.iter()
        .any(|t| t.psp_ratio().is_finite() && (t.psp_ratio() - t.w_ratio()).abs() > 1e-3 * t.w_ratio().abs())
}

fn window<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report) -> R {
    let t = &r.trials;
    let show_epsp = epsp_differs(t);
    let pts: Vec<(f64, f64)> = t.iter().map(|t| (t.lag_ms, 100.0 * t.dw_rel())).collect();
    let eps: Vec<(f64, f64)> = t.iter().map(|t| (t.lag_ms, 100.0 * (t.psp_ratio() - 1.0))).collect();
    let (x0, x1) = range(pts.iter().map(|p| p.0), true);
    let ys = pts.iter().map(|p| p.1).chain(eps.iter().filter(|_| show_epsp).map(|p| p.1));
    let (y0, y1) = range(ys, true);
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    let pairings = t.first().map_or(0, |t| t.pairings);
    let freq = t.first().map_or(f64::NAN, |t| t.frequency_hz);
    chart
        .configure_mesh()
        .x_desc("lag (ms): post − pre")
        .y_desc(format!("change after {pairings} pairings at {freq} Hz (%)"))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .light_line_style(RGBColor(244, 244, 244))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(e)?;
    zero_lines(&mut chart, (x0, x1), (y0, y1), true)?;
    let c = PALETTE[0];
    chart
        .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
        .map_err(e)?
        .label("weight w_after/w_before − 1 (model)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2)));
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(e)?;
    if show_epsp {
        let c2 = PALETTE[1];
        chart
            .draw_series(eps.iter().map(|&p| TriangleMarker::new(p, 6, c2.stroke_width(2))))
            .map_err(e)?
            .label(format!("{0}_after/{0}_before − 1 (measured)", r.psp_word()))
            .legend(move |(x, y)| TriangleMarker::new((x + 11, y), 6, c2.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

fn frequency<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report) -> R {
    let t = &r.trials;
    let show_epsp = epsp_differs(t);
    let mut lags: Vec<f64> = Vec::new();
    for x in t {
        if !lags.contains(&x.lag_ms) {
            lags.push(x.lag_ms);
        }
    }
    let data = r.data.map_or(&[][..], |d| d.points());
    let (x0, x1) = range(t.iter().map(|t| t.frequency_hz).chain(data.iter().map(|d| d.frequency_hz)), true);
    let ys = t
        .iter()
        .map(|t| 100.0 * t.dw_rel())
        .chain(t.iter().filter(|_| show_epsp).map(|t| 100.0 * (t.psp_ratio() - 1.0)))
        .chain(data.iter().flat_map(|d| [100.0 * (d.mean - d.sem), 100.0 * (d.mean + d.sem)]));
    let (y0, y1) = range(ys, true);
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0.min(0.0)..x1, y0..y1)
        .map_err(e)?;
    let pairings = t.first().map_or(0, |t| t.pairings);
    chart
        .configure_mesh()
        .x_desc("pairing frequency (Hz)")
        .y_desc(format!("change after {pairings} pairings (%)"))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .light_line_style(RGBColor(244, 244, 244))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(e)?;
    zero_lines(&mut chart, (x0.min(0.0), x1), (y0, y1), false)?;
    for (i, &lag) in lags.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = t
            .iter()
            .filter(|x| x.lag_ms == lag)
            .map(|x| (x.frequency_hz, 100.0 * x.dw_rel()))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(e)?
            .label(format!("model, lag {lag:+} ms (weight)"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled()))).map_err(e)?;
        if show_epsp {
            let eps: Vec<(f64, f64)> = t
                .iter()
                .filter(|x| x.lag_ms == lag)
                .map(|x| (x.frequency_hz, 100.0 * (x.psp_ratio() - 1.0)))
                .collect();
            chart
                .draw_series(eps.iter().map(|&p| TriangleMarker::new(p, 6, c.stroke_width(2))))
                .map_err(e)?
                .label(format!("model, lag {lag:+} ms ({}, measured)", r.psp_word()))
                .legend(move |(x, y)| TriangleMarker::new((x + 11, y), 6, c.stroke_width(2)));
        }
        let d: Vec<_> = data.iter().filter(|d| d.lag_ms == lag).collect();
        if !d.is_empty() {
            let st = c.stroke_width(2);
            chart
                .draw_series(d.iter().map(|d| {
                    let (x, m, s) = (d.frequency_hz, 100.0 * d.mean, 100.0 * d.sem);
                    EmptyElement::at((x, m - s)) + PathElement::new(vec![(-5, 0), (5, 0)], st)
                }))
                .map_err(e)?;
            chart
                .draw_series(d.iter().map(|d| {
                    let (x, m, s) = (d.frequency_hz, 100.0 * d.mean, 100.0 * d.sem);
                    PathElement::new(vec![(x, m - s), (x, m + s)], st)
                }))
                .map_err(e)?;
            chart
                .draw_series(d.iter().map(|d| {
                    let (x, m, s) = (d.frequency_hz, 100.0 * d.mean, 100.0 * d.sem);
                    EmptyElement::at((x, m + s)) + PathElement::new(vec![(-5, 0), (5, 0)], st)
                }))
                .map_err(e)?;
            chart
                .draw_series(d.iter().map(|d| {
                    EmptyElement::at((d.frequency_hz, 100.0 * d.mean))
                        + Rectangle::new([(-5, -5), (5, 5)], WHITE.filled())
                        + Rectangle::new([(-5, -5), (5, 5)], c.stroke_width(2))
                }))
                .map_err(e)?
                .label(format!("data, lag {lag:+} ms (mean ± SEM)"))
                .legend(move |(x, y)| Rectangle::new([(x + 6, y - 5), (x + 16, y + 5)], c.stroke_width(2)));
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

fn zero_lines<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, (x0, x1): (f64, f64), (y0, y1): (f64, f64), vertical: bool) -> R {
    let st = GREY.mix(0.7).stroke_width(1);
    chart
        .draw_series(std::iter::once(PathElement::new(vec![(x0, 0.0), (x1, 0.0)], st)))
        .map_err(e)?;
    if vertical && x0 < 0.0 && x1 > 0.0 {
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(0.0, y0), (0.0, y1)], st)))
            .map_err(e)?;
    }
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>, pos: SeriesLabelPosition) -> R {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .label_font((FONT, 15))
        .draw()
        .map_err(e)
}

/// A labelled, coloured membrane trace.
type Trace = (String, RGBColor, Vec<(f64, f64)>);

fn pairing<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report) -> R {
    let t = &r.trials[0];
    let wu = r.weight_unit();
    let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2);
    // Weight over the trial, phases shaded.
    let end_s = t.duration_ms / 1000.0;
    let (w0, w1) = range(t.w.iter().map(|&w| f64::from(w)), false);
    let mut chart = ChartBuilder::on(&top)
        .margin(16)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..end_s.max(1e-3), w0..w1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(format!("weight ({wu})"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(244, 244, 244))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(e)?;
    for (k, ph) in t.phases.iter().enumerate() {
        let (a, b) = (ph.start_ms / 1000.0, ph.end_ms / 1000.0);
        let fill = if ph.plasticity {
            PALETTE[4].mix(0.15)
        } else {
            RGBColor(200, 200, 200).mix(if k % 2 == 0 { 0.25 } else { 0.12 })
        };
        chart
            .draw_series(std::iter::once(Rectangle::new([(a, w0), (b, w1)], fill.filled())))
            .map_err(e)?;
    }
    // Phase names, centred on their phase, on three staggered rows so that short phases do not
    // overlap; kept inside the plot at both ends.
    for (k, ph) in t.phases.iter().enumerate() {
        let (a, b) = (ph.start_ms / 1000.0, ph.end_ms / 1000.0);
        let mid = 0.5 * (a + b);
        let (x, h) = if mid < 0.08 * end_s {
            (a.max(0.0) + 0.005 * end_s, HPos::Left)
        } else if mid > 0.92 * end_s {
            (b.min(end_s) - 0.005 * end_s, HPos::Right)
        } else {
            (mid, HPos::Center)
        };
        let y = w1 - (0.03 + 0.07 * (k % 3) as f64) * (w1 - w0);
        let style = (FONT, 13).into_font().color(&GREY).pos(Pos::new(h, VPos::Top));
        let label = format!("{} ({})", ph.name, if ph.plasticity { "plastic" } else { "frozen" });
        chart.draw_series(std::iter::once(Text::new(label, (x, y), style))).map_err(e)?;
    }
    let mut steps = Vec::with_capacity(2 * t.w.len());
    for i in 0..t.w.len() {
        let w = f64::from(t.w[i]);
        steps.push((t.w_time[i] / 1000.0, w));
        let next = t.w_time.get(i + 1).copied().unwrap_or(t.duration_ms) / 1000.0;
        steps.push((next, w));
    }
    chart.draw_series(LineSeries::new(steps, PALETTE[0].stroke_width(2))).map_err(e)?;

    // Membrane around the first test pulse before and the last after the induction.
    let first_ind = r.spec.phases.iter().position(|p| p.stimulus.is_induction()).unwrap_or(0);
    let last_ind = r.spec.phases.iter().rposition(|p| p.stimulus.is_induction()).unwrap_or(0);
    let before = t.test_pulses.iter().rev().find(|x| x.1 < first_ind).map(|x| x.0);
    let after = t.test_pulses.iter().rev().find(|x| x.1 > last_ind).map(|x| x.0);
    let win = r.spec.measure.psp_window;
    let trace = |t0: f64| -> Vec<(f64, f64)> {
        t.v_time
            .iter()
            .zip(&t.v)
            .filter(|(x, _)| **x >= t0 - 5.0 && **x <= t0 + win)
            .map(|(x, v)| (x - t0, f64::from(*v)))
            .collect()
    };
    let traces: Vec<Trace> = [(before, "before induction", GREY), (after, "after induction", PALETTE[1])]
        .into_iter()
        .filter_map(|(t0, name, c)| t0.map(|t0| (format!("test pulse at {:.1} s, {name}", t0 / 1000.0), c, trace(t0))))
        .filter(|x| !x.2.is_empty())
        .collect();
    if traces.is_empty() {
        bottom
            .draw(&Text::new(
                "no membrane samples around test pulses (record.membrane, or no test pulses before/after the induction)",
                (40, 40),
                (FONT, 15).into_font().color(&GREY),
            ))
            .map_err(e)?;
        return Ok(());
    }
    let (v0, v1) = range(traces.iter().flat_map(|x| x.2.iter().map(|p| p.1)), false);
    let mut chart = ChartBuilder::on(&bottom)
        .margin(16)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d(-5.0..win, v0..v1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("time from the test spike (ms)")
        .y_desc("membrane potential (mV)")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(RGBColor(244, 244, 244))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(e)?;
    for (name, c, pts) in traces {
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(2)))
            .map_err(e)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2)));
    }
    let label = format!(
        "{} {} → {} mV ({:+.2} %);  weight {:.4} → {:.4} {wu} ({:+.2} %)",
        r.psp_word(),
        fmt(t.psp_before),
        fmt(t.psp_after),
        100.0 * (t.psp_ratio() - 1.0),
        t.w_before,
        t.w_after,
        100.0 * t.dw_rel()
    );
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .label_font((FONT, 14))
        .draw()
        .map_err(e)?;
    bottom
        .draw(&Text::new(label, (110, 22), (FONT, 14).into_font().color(&BLACK)))
        .map_err(e)
}

/// Tick labels without useless decimals.
fn tick(v: f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-9 * v.abs().max(1.0) {
        format!("{r:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn fmt(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "-".into()
    }
}
