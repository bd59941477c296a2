//! Similarity-matching PCA (Pehlevan, Hu & Chklovskii 2015; plasticity.md §7) on the spiked
//! covariance data of the reference code: projection error against samples. The same
//! computation as `hebb pca`, from the library. `examples/pca_spiking.rs` runs the spiking
//! version.
//!
//! ```text
//! cargo run --release --example pca_rate
//! ```
use hebb::rate::{projection_error, SimilarityMatching, SpikedCovariance, SpikedParams};
use rand::SeedableRng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
    let gen = SpikedCovariance::new(SpikedParams::default(), &mut rng)?;
    let x1 = gen.sample(&mut rng);
    let mut net = SimilarityMatching::new(5, x1.view(), 2.0 * std::f64::consts::PI, &mut rng)?;
    for t in 1..=100_000usize {
        net.step(gen.sample(&mut rng).view())?;
        if [100, 1000, 10_000, 100_000].contains(&t) {
            let err = projection_error(gen.basis(), net.filter()?.t())?;
            println!("{t:>7} samples: projection error {err:.3e}");
        }
    }
    Ok(())
}
