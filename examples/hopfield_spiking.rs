//! A spiking E/I network learns rate patterns with the covariance configuration of pair STDP
//! (plasticity.md §4.5) and completes them from corrupted cues, next to the classic Hopfield
//! network learned with the same rule's rate limit.
//!
//! ```text
//! cargo run --release --example hopfield_spiking [-- P [N]]
//! ```
use hebb::rate::spiking::{balanced_patterns, run_hopfield, HopfieldParams};
use rand::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let p: usize = args.get(1).map_or(Ok(10), |s| s.parse())?;
    let n: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let gain: f64 = args.get(3).map_or(Ok(3.0), |s| s.parse())?;
    let tau_inh: f64 = args.get(4).map_or(Ok(1.0), |s| s.parse())?;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(std::env::var("SEED").map_or(3, |v| v.parse().unwrap()));
    let patterns = balanced_patterns(p, n, &mut rng)?;
    let params = HopfieldParams {
        n,
        n_inh: std::env::var("NI").map_or(n / 4, |v| v.parse().unwrap()),
        patterns,
        nu_bar_hz: std::env::var("NU").map_or(100.0, |v| v.parse().unwrap()),
        tau_eps_ms: std::env::var("TE").map_or(50.0, |v| v.parse().unwrap()),
        tau_inh_ms: tau_inh,
        tau_plus_ms: 20.0,
        gain,
        baseline_in_k: 3.5 * (p as f64).sqrt(),
        present_s: 2.0,
        drive_hz: 500.0,
        cue_ms: 100.0,
        free_ms: std::env::var("FREE").map_or(400.0, |v| v.parse().unwrap()),
        flip: 0.2,
        dt_ms: 0.1,
        seed: std::env::var("SEED").map_or(1, |v| v.parse().unwrap()),
    };
    let t = std::time::Instant::now();
    let run = run_hopfield(&params)?;
    println!("wall {:.1} s; alpha = {:.3}", t.elapsed().as_secs_f64(), p as f64 / n as f64);
    println!(
        "w0 = {:.4}, min w = {:.4}, r(W, sum xi xi^T) = {:.4}, slope vs rate = {:.4}",
        run.w0, run.w_min, run.r_hebb, run.slope
    );
    println!("recall rate {:.1} Hz", run.recall_rate_hz);
    println!("{:>8} {:>10} {:>10} {:>10}", "pattern", "cue", "spiking", "rate");
    for i in 0..p {
        let others: Vec<f64> = (0..p)
            .map(|j| hebb::rate::overlap(run.states[i].view(), params.patterns.row(j)))
            .collect();
        println!(
            "{i:8} {:10.3} {:10.3} {:10.3}   {others:.2?}",
            run.cue_overlaps[i], run.spiking_overlaps[i], run.rate_overlaps[i]
        );
    }
    Ok(())
}
