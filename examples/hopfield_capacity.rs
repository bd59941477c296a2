//! Capacity of the classic Hopfield network against the AGS theory, and the dense associative
//! memory storing far beyond 0.138 N (plasticity.md §5.2-5.4). The same computation as
//! `hebb hopfield`, from the library.
//!
//! ```text
//! cargo run --release --example hopfield_capacity
//! ```
use hebb::rate::commands::{hopfield_curve, HopfieldKind, HopfieldOptions};
use hebb::rate::{ags_critical, ags_overlap};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let c = ags_critical();
    println!("AGS: alpha_c = {:.5}, overlap there {:.4}", c.alpha, c.overlap);
    let mut o = HopfieldOptions {
        kind: HopfieldKind::Classic,
        n: 1000,
        loads: vec![0.05, 0.1, 0.12, 0.14, 0.16, 0.18],
        networks: 2,
        flip: 0.1,
        degree: 3,
        beta: 8.0,
        max_sweeps: 100,
        seed: 1,
    };
    println!("classic, N = {}:", o.n);
    println!("{:>6} {:>10} {:>10} {:>10}", "alpha", "m(stored)", "m(cue)", "AGS m");
    for p in hopfield_curve(&o)? {
        let m = ags_overlap(p.alpha).map_or(0.0, |s| s.overlap);
        println!("{:6.3} {:10.4} {:10.4} {:10.4}", p.alpha, p.overlap_stored, p.overlap_cue, m);
    }
    o.kind = HopfieldKind::Dense;
    o.n = 100;
    o.loads = vec![1.0, 3.0];
    for degree in [2, 3] {
        o.degree = degree;
        println!("dense F(x) = x^{degree}, N = {}:", o.n);
        for p in hopfield_curve(&o)? {
            println!(
                "  K = {:4} patterns: mean overlap {:.4} from the stored patterns",
                p.patterns, p.overlap_stored
            );
        }
    }
    Ok(())
}
