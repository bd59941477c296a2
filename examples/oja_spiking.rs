//! Oja's rule as the limit of a spiking rule (plasticity.md §4.6): one linear Poisson neuron with
//! pair LTP and the post-triggered decay `β w o` learns the top eigenvector of the second moment
//! of its Poisson inputs; the rate rule obtained from the same rule's rate limit runs on the same
//! rate samples.
//!
//! ```text
//! cargo run --release --example oja_spiking [-- A_PLUS [SAMPLES]]
//! ```
use hebb::rate::spiking::{cosine, run_oja, FactorDist, FactorInputs, OjaParams};
use ndarray::{Array1, Array2};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let a_plus: f64 = args.get(1).map_or(Ok(1e-4), |s| s.parse())?;
    let samples: usize = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let (na, nb) = (30, 20);
    let n = na + nb;
    // Group A: mean 30 Hz with a shared fluctuation of 15 Hz; group B: 10 Hz, private noise only.
    let mean = Array1::from_shape_fn(n, |j| if j < na { 30.0 } else { 10.0 });
    let loadings = Array2::from_shape_fn((n, 1), |(j, _)| if j < na { 15.0 } else { 0.0 });
    let private = Array1::from_shape_fn(n, |j| if j < na { 2.0 } else { 5.0 });
    let inputs = FactorInputs::new(mean, loadings, private, FactorDist::Uniform)?;
    let w0 = Array1::from_elem(n, 0.3 / (n as f64).sqrt());
    let p = OjaParams {
        inputs,
        a_plus,
        tau_plus_ms: 10.0,
        tau_o_ms: 10.0,
        tau_eps_ms: 5.0,
        w_norm: 0.3,
        sample_ms: 200.0,
        samples,
        record_every: samples / 20,
        dt_ms: 0.1,
        w0,
        seed: 1,
    };
    let t = std::time::Instant::now();
    let run = run_oja(&p)?;
    println!(
        "wall {:.1} s; beta = {:.4}; lambda = {:.1} Hz^2; out rate {:.1} Hz",
        t.elapsed().as_secs_f64(),
        p.beta(),
        run.lambda,
        run.out_rate_hz
    );
    println!("cos(w0, pc) = {:.4}", cosine(p.w0.view(), run.pc.view()));
    println!(
        "{:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "t (s)", "cos spk", "cos rate", "|w| spk", "|w| rate", "|dw|/|w|"
    );
    for (i, t) in run.times_s.iter().enumerate() {
        let (ws, wr) = (&run.spiking[i], &run.rate[i]);
        let d = (ws - wr).mapv(|x| x * x).sum().sqrt() / wr.dot(wr).sqrt();
        println!(
            "{t:8.1} {:8.4} {:8.4} {:8.4} {:8.4} {:10.4}",
            cosine(ws.view(), run.pc.view()),
            cosine(wr.view(), run.pc.view()),
            ws.dot(ws).sqrt(),
            wr.dot(wr).sqrt(),
            d
        );
    }
    Ok(())
}
