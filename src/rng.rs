//! Random streams. Every random draw belongs to a named stream bound to *what* it is for (a
//! projection's rows, a block of neurons), never to a thread, so results do not depend on the
//! number of threads (or later MPI ranks). Streams are xoshiro256++ generators whose 256-bit state
//! is expanded with SplitMix64 from a hash of (seed, purpose, index, block).

use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator used everywhere (named, never `StdRng`, so results are stable across rand versions).
pub type Rng = Xoshiro256PlusPlus;

/// Number of neurons that share one random stream. Chunks handed to threads are made of whole
/// blocks, so a block's draws happen in the same order whatever the thread count.
pub const BLOCK: usize = 1024;

/// What a stream is used for; part of the stream key.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Purpose {
    /// Initial state values of a population.
    Init = 1,
    /// Connectivity of a projection.
    Connect = 2,
    /// Weights and delays of a projection.
    Values = 3,
    /// Poisson drive and Poisson sources during the run.
    Drive = 4,
    /// Rate signals of modulated sources (per signal stream and group).
    Signal = 5,
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for (seed, purpose, index, block).
pub fn stream(seed: u64, purpose: Purpose, index: u64, block: u64) -> Rng {
    let mut x = seed;
    let mut h = splitmix(&mut x);
    for v in [purpose as u64, index, block] {
        let mut y = h ^ v.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        h = splitmix(&mut y);
    }
    let mut bytes = [0u8; 32];
    for k in 0..4 {
        bytes[8 * k..8 * k + 8].copy_from_slice(&splitmix(&mut h).to_le_bytes());
    }
    Rng::from_seed(bytes)
}

/// Uniform f64 in [0, 1) from the top 53 bits.
#[inline]
pub fn uniform(rng: &mut Rng) -> f64 {
    use rand_xoshiro::rand_core::Rng as _;
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform f64 in (0, 1], safe for `ln`.
#[inline]
pub fn uniform_open0(rng: &mut Rng) -> f64 {
    1.0 - uniform(rng)
}
