//! Ranks as threads: the parts of a network run in threads of one process, each a
//! [`crate::engine::Simulation`] of its own share (the layout of [`crate::dist`]), and exchange
//! their spikes through shared memory with the collectives of [`Comm`] (NEST's virtual
//! processes). This is how `hebb run -j N` and `hebb bench -j N` use N threads.
//!
//! # Why parts rather than chunks of one network
//! A part is a rank in everything but the transport: its thread builds and first-touches its own
//! neurons, synapses and buffers; its rows hold only its own targets; it gathers its own spikes;
//! and it waits for the other parts only when it delivers their spikes, after integrating its
//! own neurons (the exchange of the previous step is in flight meanwhile, see
//! `Simulation::run`). The chunks of one shared network (`Simulation::new(net, threads)`, the
//! engine's team) synchronise twice per step around serial work on the main thread, and every
//! chunk walks every spike's row. On the 2-vCPU host (CUBA K=80, 1 s, 7 alternating runs,
//! medians), 2 parts against 2 chunk threads: 40k neurons 0.124 s against 0.179 s (1 thread:
//! 0.226 s), 100k 0.299 s against 0.333 s (1 thread: 0.550 s).
//!
//! Results are those of one process bit for bit, as for MPI ranks (see [`crate::dist`]).
//!
//! # Protocol
//! Every collective is one round: each part posts its contribution in its own slot and waits
//! until every part has posted that round, then reads them all. Slots alternate between two
//! buffers by the parity of the round: a part can post round r + 2 (overwriting round r's
//! buffer) only after every part has posted round r + 1, which each does only after it has
//! read round r. A part that ends (returns or panics) while another waits for it makes the
//! waiter unwind too, so a failure never leaves threads waiting forever.

use super::Comm;
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a waiting part spins before it yields its CPU (to parts that share it).
const SPIN: Duration = Duration::from_micros(50);
/// How long a waiting part yields before it sleeps between looks (a long wait, e.g. while part 0
/// merges the output files, then costs no CPU).
const NAP_AFTER: Duration = Duration::from_millis(2);
/// Stack of a part's thread: the main thread's usual 8 MiB, which part 0 has.
const STACK: usize = 8 << 20;

/// What a part contributes to one collective.
#[derive(Default)]
struct Payload {
    header: Vec<u32>,
    ids: Vec<u32>,
    bytes: Vec<u8>,
    numbers: Vec<u64>,
}

/// One part's slot, on cache lines of its own: the others spin on `round` (on a line of its own,
/// which the owner writes once per round) and read the payload once per round.
#[repr(C, align(128))]
struct Slot {
    /// The last round this part posted.
    round: AtomicU64,
    /// Set when the part's thread ends (it posts nothing more).
    ended: AtomicBool,
    _pad: [u8; 128 - 16],
    payload: [UnsafeCell<Payload>; 2],
}

/// The shared state of the parts of one run.
struct World {
    slots: Vec<Slot>,
}

// SAFETY: a payload is written only by its own part, for a round no part reads yet, and read
// only for rounds every part has posted (see the module documentation).
unsafe impl Sync for World {}

/// Unwinds a part whose partner ended without posting; [`run_parts`] reports the partner's
/// own outcome instead.
struct PartnerEnded;

/// One part's end of the shared-memory collectives.
pub struct ThreadComm {
    rank: usize,
    world: Arc<World>,
    round: Cell<u64>,
    /// The round of the all-gather started and not yet finished.
    pending: Cell<Option<u64>>,
}

impl ThreadComm {
    /// Post this part's contribution to the next round; returns the round.
    fn post(&self, fill: impl FnOnce(&mut Payload)) -> u64 {
        // A round posted while an all-gather is open would let a part overwrite that
        // all-gather's buffer before this part read it (the parity argument needs every round
        // read before the next is posted).
        assert!(
            self.pending.get().is_none(),
            "no collective may run while an all-gather is in flight"
        );
        let r = self.round.get() + 1;
        self.round.set(r);
        let slot = &self.world.slots[self.rank];
        // SAFETY: no part reads this buffer now: it belongs to round r - 2, which every part
        // finished reading before posting round r - 1, and this part has seen them all post it.
        fill(unsafe { &mut *slot.payload[(r % 2) as usize].get() });
        slot.round.store(r, Ordering::Release);
        r
    }

    /// Wait until part `p` has posted round `r` and return its contribution.
    fn read(&self, p: usize, r: u64) -> &Payload {
        let slot = &self.world.slots[p];
        let start = Instant::now();
        while slot.round.load(Ordering::Acquire) < r {
            if slot.ended.load(Ordering::Acquire) && slot.round.load(Ordering::Acquire) < r {
                // Not a panic: the hook would print a message and a trace for a failure that
                // the ended part reports itself.
                std::panic::resume_unwind(Box::new(PartnerEnded));
            }
            let waited = start.elapsed();
            if waited < SPIN {
                std::hint::spin_loop();
            } else if waited < NAP_AFTER {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
        }
        // SAFETY: part p posted round r (Acquire above) and cannot overwrite it before this part
        // posts round r + 1.
        unsafe { &*slot.payload[(r % 2) as usize].get() }
    }

    /// Post `fill`'s contribution and call `each` with every part's, in part order.
    fn round(&self, fill: impl FnOnce(&mut Payload), mut each: impl FnMut(usize, &Payload)) {
        let r = self.post(fill);
        for p in 0..self.world.slots.len() {
            each(p, self.read(p, r));
        }
    }

    /// Element-wise sum of every part's numbers, in part order (the same on every part).
    fn sum_bits(&self, v: &mut [u64], add: impl Fn(u64, u64) -> u64) {
        let mut acc: Vec<u64> = Vec::new();
        self.round(
            |pl| {
                pl.numbers.clear();
                pl.numbers.extend_from_slice(v);
            },
            |p, pl| {
                if p == 0 {
                    acc = pl.numbers.clone();
                } else {
                    acc.iter_mut().zip(&pl.numbers).for_each(|(a, &b)| *a = add(*a, b));
                }
            },
        );
        v.copy_from_slice(&acc);
    }
}

impl Comm for ThreadComm {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.world.slots.len()
    }

    fn all_gather_start(&self, header: &[u32], send: &[u32]) {
        let r = self.post(|pl| {
            pl.header.clear();
            pl.header.extend_from_slice(header);
            pl.ids.clear();
            pl.ids.extend_from_slice(send);
        });
        self.pending.set(Some(r));
    }

    fn all_gather_finish(&self, _: &[u32], _: &[u32], headers: &mut Vec<u32>, counts: &mut Vec<usize>, out: &mut Vec<u32>) {
        let r = self.pending.take().expect("all_gather_finish without all_gather_start");
        headers.clear();
        counts.clear();
        out.clear();
        for p in 0..self.world.slots.len() {
            let pl = self.read(p, r);
            headers.extend_from_slice(&pl.header);
            counts.push(pl.ids.len());
            out.extend_from_slice(&pl.ids);
        }
    }

    fn sum_f64(&self, v: &mut [f64]) {
        let mut bits: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
        self.sum_bits(&mut bits, |a, b| (f64::from_bits(a) + f64::from_bits(b)).to_bits());
        v.iter_mut().zip(bits).for_each(|(x, b)| *x = f64::from_bits(b));
    }

    fn sum_u64(&self, v: &mut [u64]) {
        self.sum_bits(v, |a, b| a + b);
    }

    fn gather_bytes(&self, send: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut all = Vec::new();
        self.round(
            |pl| {
                pl.bytes.clear();
                pl.bytes.extend_from_slice(send);
            },
            |_, pl| all.push(pl.bytes.clone()),
        );
        (self.rank == 0).then_some(all)
    }

    fn barrier(&self) {
        self.round(|_| {}, |_, _| {});
    }

    fn local_rank(&self) -> Option<usize> {
        Some(self.rank)
    }

    fn in_process(&self) -> bool {
        true
    }
}

/// How a part ended.
pub enum PartEnd<T> {
    /// It returned.
    Returned(T),
    /// It stopped because another part ended before a collective (that part's outcome says why).
    PartnerEnded,
    /// It panicked (a bug); the payload for `resume_unwind`.
    Panicked(Box<dyn std::any::Any + Send>),
}

/// Run `f` as `parts` parts: part 0 on the calling thread, the others on threads of their own,
/// each with its [`ThreadComm`]; returns how each ended, in part order, or the error of a thread
/// that could not be started (the parts already started then end at their first collective).
pub fn run_parts<T: Send>(parts: usize, f: impl Fn(ThreadComm) -> T + Sync) -> std::io::Result<Vec<PartEnd<T>>> {
    let world = Arc::new(World {
        slots: (0..parts.max(1))
            .map(|_| Slot {
                round: AtomicU64::new(0),
                ended: AtomicBool::new(false),
                _pad: [0; 128 - 16],
                payload: [UnsafeCell::new(Payload::default()), UnsafeCell::new(Payload::default())],
            })
            .collect(),
    });
    let world = &world;
    let f = &f;
    let part = move |rank: usize| {
        let comm = ThreadComm {
            rank,
            world: world.clone(),
            round: Cell::new(0),
            pending: Cell::new(None),
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(comm)));
        world.slots[rank].ended.store(true, Ordering::Release);
        match r {
            Ok(v) => PartEnd::Returned(v),
            Err(e) if e.is::<PartnerEnded>() => PartEnd::PartnerEnded,
            Err(e) => PartEnd::Panicked(e),
        }
    };
    std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(parts.saturating_sub(1));
        for rank in 1..parts {
            let spawned = std::thread::Builder::new()
                .name(format!("hebb-part-{rank}"))
                .stack_size(STACK)
                .spawn_scoped(s, move || part(rank));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    // The parts started wait for part 0 and for this one: let them end.
                    world
                        .slots
                        .iter()
                        .enumerate()
                        .filter(|&(r, _)| r == 0 || r >= rank)
                        .for_each(|(_, slot)| slot.ended.store(true, Ordering::Release));
                    return Err(e);
                }
            }
        }
        let mut ends = vec![part(0)];
        ends.extend(handles.into_iter().map(|h| h.join().unwrap_or_else(PartEnd::Panicked)));
        Ok(ends)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collectives_agree_across_parts() {
        let ends = run_parts(3, |c| {
            let r = c.rank() as u32;
            let (mut headers, mut counts, mut out) = (Vec::new(), Vec::new(), Vec::new());
            let mut seen = Vec::new();
            for round in 0..200u32 {
                // Part r sends r + 1 ids; rounds alternate buffers, so reuse is exercised.
                let send: Vec<u32> = (0..=r).map(|i| round * 100 + r * 10 + i).collect();
                c.all_gather(&[r, round], &mut headers, &send, &mut counts, &mut out);
                seen.push((headers.clone(), counts.clone(), out.clone()));
                let mut s = [u64::from(r), 1];
                c.sum_u64(&mut s);
                assert_eq!(s, [3, 3]);
            }
            let mut x = [0.5 * f64::from(r)];
            c.sum_f64(&mut x);
            let bytes = c.gather_bytes(&[r as u8; 2]);
            c.barrier();
            (seen, x[0], bytes)
        })
        .unwrap();
        for (r, end) in ends.into_iter().enumerate() {
            let PartEnd::Returned((seen, x, bytes)) = end else {
                panic!("part {r} did not return")
            };
            for (round, (headers, counts, out)) in seen.into_iter().enumerate() {
                let round = round as u32;
                assert_eq!(headers, [0, round, 1, round, 2, round]);
                assert_eq!(counts, [1, 2, 3]);
                let expected: Vec<u32> = (0..3u32).flat_map(|p| (0..=p).map(move |i| round * 100 + p * 10 + i)).collect();
                assert_eq!(out, expected);
            }
            assert_eq!(x, 1.5);
            assert_eq!(bytes, (r == 0).then(|| vec![vec![0, 0], vec![1, 1], vec![2, 2]]));
        }
    }

    /// The engine's split all-gather: start, work of uneven length, finish; buffers alternate
    /// between rounds while parts run up to a round apart.
    #[test]
    fn split_all_gathers_with_uneven_parts_read_the_right_round() {
        let ends = run_parts(3, |c| {
            let r = c.rank() as u32;
            let (mut headers, mut counts, mut out) = (Vec::new(), Vec::new(), Vec::new());
            let mut seed = 12345u64 + u64::from(r);
            for round in 0..300u32 {
                let send = vec![round * 10 + r; (round % 4) as usize + r as usize];
                c.all_gather_start(&[round], &send);
                // Work of random length (0-40 µs) before finishing.
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let t = std::time::Instant::now();
                while t.elapsed() < Duration::from_micros(seed >> 58) {
                    std::hint::spin_loop();
                }
                c.all_gather_finish(&[round], &send, &mut headers, &mut counts, &mut out);
                assert_eq!(headers, [round; 3]);
                let expected: Vec<u32> = (0..3u32)
                    .flat_map(|p| vec![round * 10 + p; (round % 4) as usize + p as usize])
                    .collect();
                assert_eq!(out, expected, "part {r}, round {round}");
            }
        })
        .unwrap();
        assert!(ends.iter().all(|e| matches!(e, PartEnd::Returned(()))));
    }

    #[test]
    fn a_panicking_part_releases_the_others() {
        let ends = run_parts(3, |c| {
            if c.rank() == 2 {
                std::panic::panic_any("part 2 is broken");
            }
            c.barrier();
        })
        .unwrap();
        assert!(matches!(ends[0], PartEnd::PartnerEnded));
        assert!(matches!(ends[1], PartEnd::PartnerEnded));
        assert!(matches!(&ends[2], PartEnd::Panicked(e) if e.downcast_ref::<&str>() == Some(&"part 2 is broken")));
    }

    #[test]
    fn a_part_that_ends_early_releases_the_others() {
        let ends = run_parts(3, |c| {
            if c.rank() == 1 {
                return Err("part 1 failed");
            }
            c.barrier();
            Ok(())
        })
        .unwrap();
        assert!(matches!(ends[0], PartEnd::PartnerEnded));
        assert!(matches!(ends[1], PartEnd::Returned(Err("part 1 failed"))));
        assert!(matches!(ends[2], PartEnd::PartnerEnded));
    }
}
