//! The normative E/I memory of the source article (§7-8; plasticity.md §4.7): gradient descent on
//! ½‖W D F - F‖² with the exact gradient `F Fᵀ D - W D F Fᵀ D` stores the patterns as fixed
//! points of `τ dy/dt = W D y - y`; the printed form `F Fᵀ D - W F Fᵀ` does not when D ≠ I.
//! The same computation as `hebb memory`, from the library.
//!
//! ```text
//! cargo run --release --example normative_memory
//! ```
use hebb::rate::{GradientForm, NormativeMemory};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (n, p) = (20, 3);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
    let f = Array2::from_shape_simple_fn((n, p), || rng.sample::<f64, _>(rand_distr::StandardNormal));
    let signs: Vec<i8> = (0..n).map(|i| if i < 16 { 1 } else { -1 }).collect();
    let eta = NormativeMemory::safe_learning_rate(f.view())?;
    for form in [GradientForm::Exact, GradientForm::Printed] {
        let mut net = NormativeMemory::new(&signs, false)?;
        let r = net.train(f.view(), form, eta, 5000, 1e-14)?;
        // A stored pattern is a fixed point when W D f = f.
        let res = net.residual(f.view())?;
        let worst = res.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
        println!(
            "{form:?}: objective {:.3e} after {} steps; max |W D F - F| = {worst:.3e}",
            r.objective, r.steps
        );
    }
    Ok(())
}
