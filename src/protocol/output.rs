//! `protocol.h5` (layout in the documentation of [`crate::protocol`]) and `table.csv`.

use super::{Purpose, Report};
use crate::error::{Error, Result};
use hdf5_pure::{AttrValue, FileBuilder, MaxExtent};
use std::path::{Path, PathBuf};

/// Largest chunk (elements) that HDF5 >= 2.0 opens in files written by hdf5-pure 0.47.
const MAX_CHUNK: usize = 32_768;

/// Data of one 1-D dataset.
enum Col<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    U64(&'a [u64]),
}

/// Anything that holds datasets (the file or a group).
trait Sink {
    fn ds(&mut self, name: &str) -> &mut hdf5_pure::DatasetBuilder;
}

impl Sink for FileBuilder {
    fn ds(&mut self, name: &str) -> &mut hdf5_pure::DatasetBuilder {
        self.create_dataset(name)
    }
}

impl Sink for hdf5_pure::GroupBuilder {
    fn ds(&mut self, name: &str) -> &mut hdf5_pure::DatasetBuilder {
        self.create_dataset(name)
    }
}

/// A 1-D chunked (<= 32768), uncompressed dataset with optional `units`.
fn put(g: &mut impl Sink, name: &str, col: Col, units: Option<&str>) {
    let b = g.ds(name);
    let len = match col {
        Col::F64(x) => {
            b.with_f64_data(x);
            x.len()
        }
        Col::F32(x) => {
            b.with_f32_data(x);
            x.len()
        }
        Col::U64(x) => {
            b.with_u64_data(x);
            x.len()
        }
    };
    b.with_shape(&[len as u64])
        .with_maxshape(&[MaxExtent::Unlimited])
        .with_chunks(&[len.clamp(1, MAX_CHUNK) as u64]);
    if let Some(u) = units {
        b.set_attr("units", AttrValue::String(u.into()));
    }
}

fn s(x: &str) -> AttrValue {
    AttrValue::String(x.to_string())
}

/// The lag convention, stored with the data.
pub const LAG_DEFINITION: &str = "lag = t_post + delay - t_pre: the interval at which the rule sees the pair (the postsynaptic spike reaches the synapse one dendritic delay after it is emitted); somatic t_post - t_pre = lag - delay";

pub(super) fn write_h5(r: &Report, path: &Path, command_line: &str) -> Result<PathBuf> {
    let wu = r.weight_unit();
    let mut b = FileBuilder::new();
    let purpose = match r.purpose {
        Purpose::Pairing => "pairing",
        Purpose::Window => "window",
        Purpose::Frequency => "frequency",
    };
    b.set_attr("hebb_file", s("protocol"));
    b.set_attr("hebb_version", s(env!("CARGO_PKG_VERSION")));
    b.set_attr("protocol", s(purpose));
    b.set_attr("protocol_file", s(&r.file.display().to_string()));
    b.set_attr("protocol_text", s(&r.text));
    b.set_attr("command_line", s(command_line));
    b.set_attr("dt_ms", AttrValue::F64(r.spec.dt()));
    b.set_attr("delay_ms", AttrValue::F64(r.spec.delay()));
    b.set_attr("lag_definition", s(LAG_DEFINITION));
    b.set_attr("weight_units", s(wu));
    b.set_attr("n_trials", AttrValue::U64(r.trials.len() as u64));
    b.set_attr("wall_time_s", AttrValue::F64(r.wall_time_s));
    if let Some(d) = r.data {
        b.set_attr("data_set", s(d.name()));
        b.set_attr("data_note", s(d.note()));
    }
    if let Some((c, n)) = r.chi2() {
        b.set_attr("chi2_per_point", AttrValue::F64(c));
        b.set_attr("chi2_points", AttrValue::U64(n as u64));
    }

    // table
    let t = &r.trials;
    let f = |g: &dyn Fn(&super::TrialResult) -> f64| t.iter().map(g).collect::<Vec<f64>>();
    let u = |g: &dyn Fn(&super::TrialResult) -> u64| t.iter().map(g).collect::<Vec<u64>>();
    let data = r.data_points();
    let mut tg = b.create_group("table");
    put(&mut tg, "trial", Col::U64(&(0..t.len() as u64).collect::<Vec<_>>()), None);
    put(&mut tg, "frequency_hz", Col::F64(&f(&|x| x.frequency_hz)), Some("Hz"));
    put(&mut tg, "lag_ms", Col::F64(&f(&|x| x.lag_ms)), Some("ms"));
    put(&mut tg, "pairings", Col::U64(&u(&|x| x.pairings as u64)), None);
    put(&mut tg, "w_before", Col::F64(&f(&|x| f64::from(x.w_before))), Some(wu));
    put(&mut tg, "w_after", Col::F64(&f(&|x| f64::from(x.w_after))), Some(wu));
    put(&mut tg, "dw_rel", Col::F64(&f(&|x| x.dw_rel())), Some("1"));
    put(&mut tg, "psp_before_mV", Col::F64(&f(&|x| x.psp_before)), Some("mV"));
    put(&mut tg, "psp_after_mV", Col::F64(&f(&|x| x.psp_after)), Some("mV"));
    put(&mut tg, "psp_ratio", Col::F64(&f(&|x| x.psp_ratio())), Some("1"));
    put(&mut tg, "post_expected", Col::U64(&u(&|x| x.post_expected as u64)), None);
    put(&mut tg, "post_on_target", Col::U64(&u(&|x| x.post_on_target as u64)), None);
    put(&mut tg, "post_other", Col::U64(&u(&|x| x.post_other as u64)), None);
    let dm: Vec<f64> = data.iter().map(|d| d.map_or(f64::NAN, |d| d.mean)).collect();
    let ds: Vec<f64> = data.iter().map(|d| d.map_or(f64::NAN, |d| d.sem)).collect();
    put(&mut tg, "data_mean", Col::F64(&dm), Some("1"));
    put(&mut tg, "data_sem", Col::F64(&ds), Some("1"));
    b.add_group(tg.finish());

    // trials
    let mut trials = b.create_group("trials");
    for (k, tr) in t.iter().enumerate() {
        let mut g = trials.create_group(&format!("trial_{k:03}"));
        g.set_attr("lag_ms", AttrValue::F64(tr.lag_ms));
        g.set_attr("frequency_hz", AttrValue::F64(tr.frequency_hz));
        g.set_attr("duration_ms", AttrValue::F64(tr.duration_ms));
        g.set_attr("latency_steps", AttrValue::U64(tr.latency_steps));
        g.set_attr(
            "phase_names",
            AttrValue::StringArray(tr.phases.iter().map(|p| p.name.clone()).collect()),
        );
        let mut sp = g.create_group("spikes");
        for (name, times) in [("pre", &tr.pre_spikes), ("post", &tr.post_spikes)] {
            let mut pg = sp.create_group(name);
            put(&mut pg, "timestamps", Col::F64(times), Some("ms"));
            sp.add_group(pg.finish());
        }
        g.add_group(sp.finish());
        let mut m = g.create_group("membrane");
        put(&mut m, "time", Col::F64(&tr.v_time), Some("ms"));
        put(&mut m, "v", Col::F32(&tr.v), Some("mV"));
        g.add_group(m.finish());
        let mut w = g.create_group("weight");
        put(&mut w, "time", Col::F64(&tr.w_time), Some("ms"));
        put(&mut w, "value", Col::F32(&tr.w), Some(wu));
        g.add_group(w.finish());
        let mut tp = g.create_group("test_pulses");
        put(
            &mut tp,
            "time",
            Col::F64(&tr.test_pulses.iter().map(|x| x.0).collect::<Vec<_>>()),
            Some("ms"),
        );
        put(
            &mut tp,
            "phase",
            Col::U64(&tr.test_pulses.iter().map(|x| x.1 as u64).collect::<Vec<_>>()),
            None,
        );
        put(
            &mut tp,
            "psp",
            Col::F64(&tr.test_pulses.iter().map(|x| x.2).collect::<Vec<_>>()),
            Some("mV"),
        );
        g.add_group(tp.finish());
        let mut pa = g.create_group("pairings");
        let pd = &tr.pairings_detail;
        put(
            &mut pa,
            "pre_ms",
            Col::F64(&pd.iter().map(|x| x[0]).collect::<Vec<_>>()),
            Some("ms"),
        );
        put(
            &mut pa,
            "post_target_ms",
            Col::F64(&pd.iter().map(|x| x[1]).collect::<Vec<_>>()),
            Some("ms"),
        );
        put(
            &mut pa,
            "post_ms",
            Col::F64(&pd.iter().map(|x| x[2]).collect::<Vec<_>>()),
            Some("ms"),
        );
        put(
            &mut pa,
            "lag_ms",
            Col::F64(&pd.iter().map(|x| x[3]).collect::<Vec<_>>()),
            Some("ms"),
        );
        g.add_group(pa.finish());
        let mut ph = g.create_group("phases");
        let p = &tr.phases;
        put(
            &mut ph,
            "start_ms",
            Col::F64(&p.iter().map(|x| x.start_ms).collect::<Vec<_>>()),
            Some("ms"),
        );
        put(
            &mut ph,
            "end_ms",
            Col::F64(&p.iter().map(|x| x.end_ms).collect::<Vec<_>>()),
            Some("ms"),
        );
        put(
            &mut ph,
            "w_start",
            Col::F32(&p.iter().map(|x| x.w_start).collect::<Vec<_>>()),
            Some(wu),
        );
        put(&mut ph, "w_end", Col::F32(&p.iter().map(|x| x.w_end).collect::<Vec<_>>()), Some(wu));
        put(
            &mut ph,
            "plasticity",
            Col::U64(&p.iter().map(|x| x.plasticity as u64).collect::<Vec<_>>()),
            None,
        );
        put(
            &mut ph,
            "mean_psp_mV",
            Col::F64(&p.iter().map(|x| x.mean_psp()).collect::<Vec<_>>()),
            Some("mV"),
        );
        g.add_group(ph.finish());
        trials.add_group(g.finish());
    }
    b.add_group(trials.finish());

    if let Some(d) = r.data {
        let pts = d.points();
        let mut g = b.create_group("data");
        g.set_attr("citation", s(d.citation()));
        g.set_attr("note", s(d.note()));
        put(
            &mut g,
            "frequency_hz",
            Col::F64(&pts.iter().map(|p| p.frequency_hz).collect::<Vec<_>>()),
            Some("Hz"),
        );
        put(
            &mut g,
            "lag_ms",
            Col::F64(&pts.iter().map(|p| p.lag_ms).collect::<Vec<_>>()),
            Some("ms"),
        );
        put(&mut g, "mean", Col::F64(&pts.iter().map(|p| p.mean).collect::<Vec<_>>()), Some("1"));
        put(&mut g, "sem", Col::F64(&pts.iter().map(|p| p.sem).collect::<Vec<_>>()), Some("1"));
        b.add_group(g.finish());
    }
    b.write(path).map_err(|e| Error::io(path, format!("cannot write: {e}")))?;
    Ok(path.to_path_buf())
}

pub(super) fn write_csv(r: &Report, path: &Path) -> Result<PathBuf> {
    use std::fmt::Write as _;
    let mut s = String::from(
        "trial,frequency_hz,lag_ms,pairings,w_before,w_after,dw_rel,psp_before_mV,psp_after_mV,psp_ratio,post_expected,post_on_target,post_other,data_mean,data_sem\n",
    );
    for (k, (t, d)) in r.trials.iter().zip(r.data_points()).enumerate() {
        let _ = writeln!(
            s,
            "{k},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            t.frequency_hz,
            t.lag_ms,
            t.pairings,
            t.w_before,
            t.w_after,
            t.dw_rel(),
            t.psp_before,
            t.psp_after,
            t.psp_ratio(),
            t.post_expected,
            t.post_on_target,
            t.post_other,
            d.map_or(f64::NAN, |d| d.mean),
            d.map_or(f64::NAN, |d| d.sem)
        );
    }
    std::fs::write(path, s).map_err(|e| Error::io(path, format!("cannot write: {e}")))?;
    Ok(path.to_path_buf())
}
