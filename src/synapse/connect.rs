//! Connectivity rules: they turn a projection's declared rule into CSR rows sorted by target.
//!
//! Every rule draws from streams bound to blocks of rows ([`crate::rng::BLOCK`] presynaptic
//! neurons for row-wise rules, postsynaptic neurons for `fixed_indegree`), so a network is the same
//! for any number of threads, and blocks are built in parallel.
//!
//! | rule | meaning | parameters |
//! |---|---|---|
//! | `all_to_all` | every pre to every post | `autapses` |
//! | `one_to_one` | pre i to post i (equal sizes) | |
//! | `fixed_probability` | each pair independently with probability p (geometric skipping, O(synapses)) | `p`, `autapses` |
//! | `fixed_indegree` | each post neuron draws k distinct pre neurons | `k`, `autapses`, `multapses` |
//! | `fixed_outdegree` | each pre neuron draws k distinct post neurons | `k`, `autapses`, `multapses` |
//! | `explicit` | the listed (pre, post[, weight, delay]) | `pre`, `post`, `weight`, `delay` |
//!
//! `autapses` (default false) only matters when pre and post are the same population.

use crate::rng::{self, uniform, uniform_open0, Purpose, Rng};
use crate::spec::Connectivity;
use rayon::prelude::*;

/// Synapses in CSR form before weights and delays are attached. `order` maps CSR positions to the
/// position in an explicit list (for explicit weights/delays), empty for the random rules.
pub struct Csr {
    /// Row starts.
    pub row_ptr: Vec<u64>,
    /// Targets, sorted within each row.
    pub targets: Vec<u32>,
    /// For `explicit`: index into the user's list of each CSR synapse.
    pub order: Vec<u32>,
}

fn rows_to_csr(rows: Vec<Vec<u32>>) -> Csr {
    let mut row_ptr = Vec::with_capacity(rows.len() + 1);
    row_ptr.push(0u64);
    let total: usize = rows.iter().map(|r| r.len()).sum();
    let mut targets = Vec::with_capacity(total);
    for r in rows {
        targets.extend_from_slice(&r);
        row_ptr.push(targets.len() as u64);
    }
    Csr {
        row_ptr,
        targets,
        order: Vec::new(),
    }
}

/// Draw `k` distinct values from `0..n` excluding `skip`, sorted (Floyd's algorithm for sparse
/// draws, a partial shuffle when k is a large fraction of n).
fn distinct(rng: &mut Rng, n: u32, k: u32, skip: Option<u32>, out: &mut Vec<u32>) {
    out.clear();
    let pool = n - skip.is_some() as u32;
    let map = |x: u32| match skip {
        Some(s) if x >= s => x + 1,
        _ => x,
    };
    if (k as u64) * 4 < pool as u64 {
        let mut set = std::collections::HashSet::with_capacity(k as usize * 2);
        for j in pool - k..pool {
            let t = (uniform(rng) * (j + 1) as f64) as u32;
            let t = t.min(j);
            if !set.insert(t) {
                set.insert(j);
            }
        }
        out.extend(set.into_iter().map(map));
    } else {
        let mut all: Vec<u32> = (0..pool).collect();
        for i in 0..k as usize {
            let j = i + ((uniform(rng) * (pool as usize - i) as f64) as usize).min(pool as usize - i - 1);
            all.swap(i, j);
        }
        out.extend(all[..k as usize].iter().map(|&x| map(x)));
    }
    out.sort_unstable();
}

/// One list per row (or column) `0..n`, drawn block by block from the block's own stream, in
/// parallel over blocks.
fn per_block(n: usize, seed: u64, proj: u64, draw: impl Fn(&mut Rng, usize) -> Vec<u32> + Sync) -> Vec<Vec<u32>> {
    (0..n.div_ceil(rng::BLOCK))
        .into_par_iter()
        .flat_map_iter(|b| {
            let mut r = rng::stream(seed, Purpose::Connect, proj, b as u64);
            let lo = b * rng::BLOCK;
            let hi = (lo + rng::BLOCK).min(n);
            (lo..hi).map(|x| draw(&mut r, x)).collect::<Vec<_>>().into_iter()
        })
        .collect()
}

/// `k` partners among `0..n` except `skip`, sorted: distinct, or independent draws with multapses.
fn partners(rng: &mut Rng, n: u32, k: u32, skip: Option<u32>, multapses: bool) -> Vec<u32> {
    let mut out = Vec::with_capacity(k as usize);
    if multapses {
        let pool = n - skip.is_some() as u32;
        for _ in 0..k {
            let mut t = ((uniform(rng) * pool as f64) as u32).min(pool - 1);
            if skip.is_some_and(|s| t >= s) {
                t += 1;
            }
            out.push(t);
        }
        out.sort_unstable();
    } else {
        distinct(rng, n, k, skip, &mut out);
    }
    out
}

/// Build the CSR of a projection. `same` is true when pre and post are the same population.
pub fn build(rule: &Connectivity, n_pre: usize, n_post: usize, same: bool, seed: u64, proj: u64) -> Csr {
    match rule {
        Connectivity::AllToAll { autapses } => {
            let rows: Vec<Vec<u32>> = (0..n_pre)
                .into_par_iter()
                .map(|j| (0..n_post as u32).filter(|&i| *autapses || !same || i != j as u32).collect())
                .collect();
            rows_to_csr(rows)
        }
        Connectivity::OneToOne => rows_to_csr((0..n_pre).map(|j| vec![j as u32]).collect()),
        Connectivity::FixedProbability { p, autapses } => {
            let p = *p;
            let ln_q = (-p).ln_1p();
            let rows = per_block(n_pre, seed, proj, |rng, j| {
                let mut row = Vec::with_capacity((p * n_post as f64 * 1.2) as usize + 4);
                if p >= 1.0 {
                    row.extend(0..n_post as u32);
                } else if p > 0.0 {
                    // Geometric skipping: the gap to the next connected target is Geometric(p).
                    let mut i = -1.0f64;
                    loop {
                        i += 1.0 + (uniform_open0(rng).ln() / ln_q).floor();
                        if i >= n_post as f64 {
                            break;
                        }
                        row.push(i as u32);
                    }
                }
                if same && !*autapses {
                    row.retain(|&i| i != j as u32);
                }
                row
            });
            rows_to_csr(rows)
        }
        Connectivity::FixedOutdegree { k, autapses, multapses } => {
            let rows = per_block(n_pre, seed, proj, |rng, j| {
                partners(rng, n_post as u32, *k, (same && !*autapses).then_some(j as u32), *multapses)
            });
            rows_to_csr(rows)
        }
        Connectivity::FixedIndegree { k, autapses, multapses } => {
            // Draw per postsynaptic neuron (block streams over post), then transpose by counting.
            let cols = per_block(n_post, seed, proj, |rng, i| {
                partners(rng, n_pre as u32, *k, (same && !*autapses).then_some(i as u32), *multapses)
            });
            let mut counts = vec![0u64; n_pre + 1];
            for col in &cols {
                for &j in col {
                    counts[j as usize + 1] += 1;
                }
            }
            for j in 0..n_pre {
                counts[j + 1] += counts[j];
            }
            let row_ptr = counts.clone();
            let mut fill = counts;
            let mut targets = vec![0u32; row_ptr[n_pre] as usize];
            // Posts in ascending order, so every row comes out sorted by target.
            for (i, col) in cols.iter().enumerate() {
                for &j in col {
                    targets[fill[j as usize] as usize] = i as u32;
                    fill[j as usize] += 1;
                }
            }
            Csr {
                row_ptr,
                targets,
                order: Vec::new(),
            }
        }
        Connectivity::Explicit { pre, post, .. } => {
            let mut idx: Vec<u32> = (0..pre.len() as u32).collect();
            idx.sort_by_key(|&s| (pre[s as usize], post[s as usize], s));
            let mut row_ptr = vec![0u64; n_pre + 1];
            for &j in pre {
                row_ptr[j as usize + 1] += 1;
            }
            for j in 0..n_pre {
                row_ptr[j + 1] += row_ptr[j];
            }
            let targets = idx.iter().map(|&s| post[s as usize]).collect();
            Csr {
                row_ptr,
                targets,
                order: idx,
            }
        }
    }
}
