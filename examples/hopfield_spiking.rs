//! A spiking E/I network learns rate patterns with the covariance configuration of pair STDP
//! (plasticity.md §4.5) and completes them from cues with 20 % of the bits flipped, next to the
//! classic Hopfield network learned with the same rule's rate limit (`hebb::rate::spiking`).
//!
//! ```text
//! cargo run --release --example hopfield_spiking [-- P [N [SEED]]]
//! ```
//! Defaults P = 6, N = 200 (α = 0.03; about 3 s). At α = 0.05 (P = 10) most cues are still
//! completed; the inhibitory population (N neurons) sets the noise of the recall.
use hebb::rate::spiking::{balanced_patterns, run_hopfield, HopfieldParams};
use rand::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let p: usize = args.get(1).map_or(Ok(6), |s| s.parse())?;
    let n: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let seed: u64 = args.get(3).map_or(Ok(1), |s| s.parse())?;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let patterns = balanced_patterns(p, n, &mut rng)?;
    let params = HopfieldParams::validated(patterns, seed);
    let t = std::time::Instant::now();
    let run = run_hopfield(&params)?;
    println!(
        "wall {:.1} s; N = {n}, P = {p}, alpha = {:.3}",
        t.elapsed().as_secs_f64(),
        p as f64 / n as f64
    );
    println!(
        "learned E->E weights: baseline w0 = {:.4}, smallest {:.4}, Pearson r with sum xi xi^T = {:.4}, amplitude / rate limit = {:.4}",
        run.w0, run.w_min, run.r_hebb, run.slope
    );
    println!("mean rate during recall {:.1} Hz", run.recall_rate_hz);
    println!("{:>8} {:>8} {:>9} {:>9}", "pattern", "cue m", "spiking m", "rate m");
    for i in 0..p {
        println!(
            "{i:8} {:8.3} {:9.3} {:9.3}",
            run.cue_overlaps[i], run.spiking_overlaps[i], run.rate_overlaps[i]
        );
    }
    Ok(())
}
