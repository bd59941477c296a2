//! Similarity-matching PCA as the limit of spiking rules (plasticity.md §7, §4.6): `k` linear
//! Poisson outputs with plastic feedforward excitation and plastic lateral inhibition (pair LTP +
//! post-triggered decay on both) learn the principal subspace of their Poisson inputs; the rate
//! network obtained from the same rules' rate limits runs on the same rate samples.
//!
//! ```text
//! cargo run --release --example pca_spiking [-- A_PLUS [SAMPLES]]
//! ```
use hebb::rate::spiking::{run_pca, FactorDist, FactorInputs, PcaParams};
use ndarray::{Array1, Array2};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let a_plus: f64 = args.get(1).map_or(Ok(1e-4), |s| s.parse())?;
    let samples: usize = args.get(2).map_or(Ok(2000), |s| s.parse())?;
    let lat: f64 = args.get(3).map_or(Ok(1.0), |s| s.parse())?;
    let s_w: f64 = args.get(4).map_or(Ok(0.05), |s| s.parse())?;
    // Three groups of 20 inputs: two with their own on/off events (probability 0.2 per sample,
    // 2 Hz off, ~102 Hz on), one with private noise only.
    let n = 60;
    let g = |j: usize| j / 20;
    let mean = Array1::from_shape_fn(n, |j| [22.0, 22.0, 10.0][g(j)]);
    let loadings = Array2::from_shape_fn((n, 2), |(j, a)| if g(j) == a { 40.0 } else { 0.0 });
    let private = Array1::from_shape_fn(n, |j| [1.0, 1.0, 5.0][g(j)]);
    let inputs = FactorInputs::new(mean, loadings, private, FactorDist::Bernoulli(0.2))?;
    let p = PcaParams {
        inputs,
        k: 2,
        a_plus,
        a_plus_lateral: a_plus * lat,
        tau_plus_ms: 10.0,
        tau_o_ms: 10.0,
        tau_eps_ms: 5.0,
        s_w,
        lateral_delay_ms: args.get(5).map_or(Ok(15.0), |s| s.parse())?,
        sample_ms: 200.0,
        samples,
        record_every: samples / 20,
        dt_ms: 0.1,
        seed: 1,
    };
    let t = std::time::Instant::now();
    let run = run_pca(&p)?;
    println!("wall {:.1} s; out rates {:?} Hz", t.elapsed().as_secs_f64(), run.out_rates_hz);
    println!("{:>8} {:>12} {:>12}", "t (s)", "err spiking", "err rate");
    for (i, t) in run.times_s.iter().enumerate() {
        println!("{t:8.1} {:12.5} {:12.5}", run.spiking_error[i], run.rate_error[i]);
    }
    println!("error of the tail-averaged spiking filter: {:.5}", run.spiking_tail_error);
    println!("M = {:.4}", run.m);
    for (name, w) in [("spiking", &run.w), ("rate", &run.w_rate)] {
        for i in 0..2 {
            let gm: Vec<f64> = (0..3)
                .map(|gi| w.row(i).iter().skip(20 * gi).take(20).sum::<f64>() / 20.0)
                .collect();
            println!("{name} W row {i} group means {gm:.4?}");
        }
    }
    println!("rate M = {:.4}", run.m_rate);
    Ok(())
}
