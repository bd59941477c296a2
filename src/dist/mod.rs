//! Distribution of a network over processes (MPI ranks): who owns which neurons, and the few
//! collective operations the engine needs.
//!
//! # Layout (NEST's)
//! Every population is cut into whole random-stream blocks ([`crate::rng::BLOCK`] neurons) and
//! rank `r` of `R` owns blocks `r·B/R .. (r+1)·B/R` of each population. A rank integrates only the
//! neurons it owns and stores only the synapses whose postsynaptic neuron it owns, so every write
//! (ring buffers, plastic weights) is local. Spike sources (Poisson and spike-time populations)
//! are cheap and are generated in full on every rank from the same block streams, so they are
//! never exchanged.
//!
//! # Exchange
//! Spikes of integrated populations are exchanged once per *slice* of `m` steps with one
//! all-gather of fixed-size headers (a status word and the per-step, per-population counts) and
//! one variable-size all-gather of the spike ids. Concatenating the ranks' lists in rank order
//! gives the ids in ascending order, exactly the list a single process builds. The engine
//! delivers the spikes of step `σ` at step `σ + m` (see [`crate::engine`]); because no delay is
//! shorter than `m` steps, a spike still reaches its synapse at step `σ + d` exactly. With
//! plasticity `m = 1`: the rules read presynaptic traces at every step.
//!
//! Ranks must call the collectives in the same order: the engine exchanges at the same steps on
//! every rank, and a rank that fails keeps stepping until the next exchange, where its status
//! word stops everyone (no hang).
//!
//! The default build has only [`Local`] (one process); the cargo feature `mpi` adds
//! `mpi::MpiComm` over the `mpi` crate (Open MPI).

use crate::rng::BLOCK;

/// Status bit: this rank was asked to stop (Ctrl-C).
pub const STATUS_STOP: u32 = 1;
/// Status bit: this rank failed (e.g. could not write its output).
pub const STATUS_ERROR: u32 = 2;

/// The collective operations the engine and the command line use. Implemented by [`Local`] (one
/// process, every operation trivial) and, with the `mpi` feature, by `MpiComm`.
pub trait Comm {
    /// This process's rank, `0..size()`.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// Gather `send` from every rank into `out` (rank order); `counts[r]` is rank r's length.
    /// `header` (same length on every rank) is gathered likewise into `headers`, `size()` times
    /// its length.
    fn all_gather(&self, header: &[u32], headers: &mut Vec<u32>, send: &[u32], counts: &mut Vec<usize>, out: &mut Vec<u32>) {
        self.all_gather_start(header, send);
        self.all_gather_finish(header, send, headers, counts, out);
    }
    /// Start the all-gather of `header` and `send` without waiting for it; the caller computes
    /// meanwhile (the transfer hides behind the work) and then calls [`Comm::all_gather_finish`]
    /// with the same, unchanged slices. At most one all-gather is in flight, and no other
    /// collective runs until it is finished.
    fn all_gather_start(&self, header: &[u32], send: &[u32]);
    /// Complete the all-gather that [`Comm::all_gather_start`] began (see [`Comm::all_gather`]).
    fn all_gather_finish(&self, header: &[u32], send: &[u32], headers: &mut Vec<u32>, counts: &mut Vec<usize>, out: &mut Vec<u32>);
    /// Element-wise sum over ranks, in place.
    fn sum_f64(&self, v: &mut [f64]);
    /// Element-wise sum over ranks, in place.
    fn sum_u64(&self, v: &mut [u64]);
    /// Gather one byte string per rank on rank 0 (`None` on the others).
    fn gather_bytes(&self, send: &[u8]) -> Option<Vec<Vec<u8>>>;
    /// Wait for every rank.
    fn barrier(&self);
    /// Whether the ranks are threads of this one process ([`threads`]).
    fn in_process(&self) -> bool {
        false
    }
    /// What one of the ranks is called in messages: "rank" (MPI) or "thread" (the parts of
    /// [`threads`]).
    fn unit_name(&self) -> &'static str {
        if self.in_process() {
            "thread"
        } else {
            "rank"
        }
    }
    /// This rank's index among the ranks that share its machine's CPUs (threads pinned with
    /// `--bind-threads` start at CPU `local_rank × threads`); `None` for a rank alone.
    fn local_rank(&self) -> Option<usize> {
        if self.size() > 1 {
            launcher_local_rank()
        } else {
            None
        }
    }
}

/// One process: every collective is the identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct Local;

impl Comm for Local {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather_start(&self, _: &[u32], _: &[u32]) {}
    fn all_gather_finish(&self, header: &[u32], send: &[u32], headers: &mut Vec<u32>, counts: &mut Vec<usize>, out: &mut Vec<u32>) {
        headers.clear();
        headers.extend_from_slice(header);
        counts.clear();
        counts.push(send.len());
        out.clear();
        out.extend_from_slice(send);
    }
    fn sum_f64(&self, _: &mut [f64]) {}
    fn sum_u64(&self, _: &mut [u64]) {}
    fn gather_bytes(&self, send: &[u8]) -> Option<Vec<Vec<u8>>> {
        Some(vec![send.to_vec()])
    }
    fn barrier(&self) {}
}

/// `(rank, size)` when an MPI launcher (`mpirun`, `mpiexec`, `srun`) started this process as one
/// of several, read from the variables launchers set; `None` otherwise.
pub fn launcher_ranks() -> Option<(usize, usize)> {
    let var = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
    [
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMI_RANK", "PMI_SIZE"),
        ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS"),
    ]
    .iter()
    .find_map(|(r, n)| Some((var(r)?, var(n)?)))
    .filter(|&(_, n)| n > 1)
}

/// This process's rank among those of its node, from the variables launchers set (Open MPI,
/// MPICH's hydra, Slurm); `None` when started otherwise.
pub fn launcher_local_rank() -> Option<usize> {
    ["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse().ok())
}

/// The neurons of `n` that rank `rank` of `ranks` owns: whole blocks, contiguous.
pub fn owned_range(n: usize, rank: usize, ranks: usize) -> (u32, u32) {
    let blocks = n.div_ceil(BLOCK);
    let b0 = rank * blocks / ranks;
    let b1 = (rank + 1) * blocks / ranks;
    ((b0 * BLOCK).min(n) as u32, (b1 * BLOCK).min(n) as u32)
}

pub mod threads;

#[cfg(feature = "mpi")]
pub mod mpi {
    //! [`Comm`] over MPI (the `mpi` crate, rsmpi).
    use super::Comm;
    use ::mpi::collective::SystemOperation;
    use ::mpi::datatype::PartitionMut;
    use ::mpi::ffi;
    use ::mpi::raw::AsRaw;
    use ::mpi::topology::SimpleCommunicator;
    use ::mpi::traits::*;
    use ::mpi::Count;
    use std::cell::Cell;

    /// True when an MPI launcher started this process (`mpirun`, `mpiexec` or `srun`): they set
    /// these variables. Without one, `hebb run` stays a single process and never touches MPI.
    pub fn launched_by_mpi() -> bool {
        [
            "OMPI_COMM_WORLD_SIZE",
            "PMI_SIZE",
            "PMIX_RANK",
            "MPI_LOCALNRANKS",
            "SLURM_STEP_NUM_TASKS",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    }

    /// MPI_COMM_WORLD and the MPI environment (finalised when dropped).
    pub struct MpiComm {
        world: SimpleCommunicator,
        /// Spike ids per rank that the fixed-size exchange carries (grows on overflow).
        capacity: Cell<usize>,
        send_buf: Cell<Vec<u32>>,
        recv_buf: Cell<Vec<u32>>,
        /// The all-gather in flight (its request and the capacity it was started with); its
        /// buffers are `send_buf` and `recv_buf`, left untouched until it is finished.
        pending: Cell<Option<(ffi::MPI_Request, usize)>>,
        _universe: ::mpi::environment::Universe,
    }

    impl MpiComm {
        /// Initialise MPI; `None` when it is already initialised.
        pub fn init() -> Option<Self> {
            let universe = ::mpi::initialize()?;
            let world = universe.world();
            Some(MpiComm {
                world,
                capacity: Cell::new(16),
                send_buf: Cell::new(Vec::new()),
                recv_buf: Cell::new(Vec::new()),
                pending: Cell::new(None),
                _universe: universe,
            })
        }

        /// Stop every rank (after a failure that the others cannot learn about otherwise).
        pub fn abort(&self, code: i32) -> ! {
            self.world.abort(code)
        }
    }

    fn displs(counts: &[Count]) -> Vec<Count> {
        counts
            .iter()
            .scan(0, |acc, &c| {
                let d = *acc;
                *acc += c;
                Some(d)
            })
            .collect()
    }

    impl Comm for MpiComm {
        fn rank(&self) -> usize {
            self.world.rank() as usize
        }
        fn size(&self) -> usize {
            self.world.size() as usize
        }
        fn all_gather_start(&self, header: &[u32], send: &[u32]) {
            // One fixed-size all-gather per slice: [length, header, ids padded to `capacity`].
            // Only when some rank has more ids than the capacity does a second, exact
            // all-gather follow in `all_gather_finish` (and the capacity grows), as in NEST's
            // spike buffers. Started non-blocking: the engine integrates meanwhile.
            assert!(self.pending.take().is_none(), "one all-gather in flight at a time");
            let r = self.size();
            let cap = self.capacity.get();
            let stride = 1 + header.len() + cap;
            let mut buf = self.send_buf.take();
            buf.clear();
            buf.push(send.len() as u32);
            buf.extend_from_slice(header);
            buf.extend_from_slice(&send[..send.len().min(cap)]);
            buf.resize(stride, 0);
            let mut all = self.recv_buf.take();
            all.clear();
            all.resize(stride * r, 0);
            let dt = u32::equivalent_datatype().as_raw();
            let mut request = std::mem::MaybeUninit::<ffi::MPI_Request>::uninit();
            // SAFETY: both buffers hold `stride` (send) and `stride * r` (receive) u32s; they go
            // back into `self` (moving a Vec does not move its heap storage) and nothing touches
            // them until `all_gather_finish` has waited for the request.
            let request = unsafe {
                ffi::MPI_Iallgather(
                    buf.as_ptr().cast(),
                    stride as Count,
                    dt,
                    all.as_mut_ptr().cast(),
                    stride as Count,
                    dt,
                    self.world.as_raw(),
                    request.as_mut_ptr(),
                );
                request.assume_init()
            };
            self.send_buf.set(buf);
            self.recv_buf.set(all);
            self.pending.set(Some((request, cap)));
        }
        fn all_gather_finish(&self, header: &[u32], send: &[u32], headers: &mut Vec<u32>, counts: &mut Vec<usize>, out: &mut Vec<u32>) {
            let (mut request, cap) = self.pending.take().expect("all_gather_start before all_gather_finish");
            // SAFETY: a request that all_gather_start began and nobody has completed.
            unsafe {
                ffi::MPI_Wait(&mut request, ffi::RSMPI_STATUS_IGNORE);
            }
            let stride = 1 + header.len() + cap;
            let all = self.recv_buf.take();
            headers.clear();
            counts.clear();
            for chunk in all.chunks(stride) {
                counts.push(chunk[0] as usize);
                headers.extend_from_slice(&chunk[1..1 + header.len()]);
            }
            let max = counts.iter().copied().max().unwrap_or(0);
            out.clear();
            if max <= cap {
                for (chunk, &c) in all.chunks(stride).zip(counts.iter()) {
                    out.extend_from_slice(&chunk[1 + header.len()..1 + header.len() + c]);
                }
            } else {
                self.capacity.set(max + max / 2);
                let c: Vec<Count> = counts.iter().map(|&c| c as Count).collect();
                let d = displs(&c);
                out.resize(counts.iter().sum(), 0);
                let mut part = PartitionMut::new(&mut out[..], c, d);
                self.world.all_gather_varcount_into(send, &mut part);
            }
            self.recv_buf.set(all);
        }
        fn sum_f64(&self, v: &mut [f64]) {
            let send = v.to_vec();
            self.world.all_reduce_into(&send[..], v, SystemOperation::sum());
        }
        fn sum_u64(&self, v: &mut [u64]) {
            let send = v.to_vec();
            self.world.all_reduce_into(&send[..], v, SystemOperation::sum());
        }
        fn gather_bytes(&self, send: &[u8]) -> Option<Vec<Vec<u8>>> {
            let root = self.world.process_at_rank(0);
            let n = send.len() as Count;
            if self.rank() == 0 {
                let mut lens = vec![0 as Count; self.size()];
                root.gather_into_root(&n, &mut lens[..]);
                let d = displs(&lens);
                let mut buf = vec![0u8; lens.iter().map(|&l| l as usize).sum()];
                {
                    let mut part = PartitionMut::new(&mut buf[..], lens.clone(), &d[..]);
                    root.gather_varcount_into_root(send, &mut part);
                }
                Some(
                    lens.iter()
                        .zip(&d)
                        .map(|(&l, &o)| buf[o as usize..(o + l) as usize].to_vec())
                        .collect(),
                )
            } else {
                root.gather_into(&n);
                root.gather_varcount_into(send);
                None
            }
        }
        fn barrier(&self) {
            self.world.barrier();
        }
    }
}
