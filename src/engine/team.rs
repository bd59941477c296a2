//! A persistent team of threads for the per-step parallel region.
//!
//! A step of a 40k-neuron network takes ~50 µs; a rayon fork-join costs ~15 µs (job injection
//! and waking sleeping workers), which ate most of the gain of a second thread. The team keeps
//! its threads alive across steps, like an OpenMP team in NEST or Auryn: the main thread
//! publishes the step's job and bumps an epoch, workers spin briefly on it, run their chunk and
//! count down; the main thread runs chunk 0 and then waits for the count. A worker that finds no
//! work for a while parks (so an idle simulation costs no CPU) and is unparked at the next step.
//!
//! Which chunk a thread runs never changes the result: chunks are fixed by the partition
//! (see the engine's module documentation), so results stay bit-identical for any thread count.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// How long a waiting thread spins before it yields or parks.
const SPIN: Duration = Duration::from_micros(50);
/// How long a worker waits for the next step before it parks.
const PARK_AFTER: Duration = Duration::from_millis(2);

type Job = *const (dyn Fn(usize) + Sync);

struct Shared {
    epoch: AtomicU64,
    remaining: AtomicUsize,
    sleepers: AtomicUsize,
    quit: AtomicBool,
    panicked: AtomicBool,
    /// The current job; written by the main thread before it bumps `epoch` (Release), read by
    /// workers after they see the new epoch (Acquire).
    job: UnsafeCell<Option<Job>>,
}

// SAFETY: `job` is only written while no worker reads it (between the end of one step, when
// `remaining` reached 0, and the next epoch bump) and read only after that bump.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// Threads 1..n of a team (thread 0 is the caller's).
pub struct Team {
    shared: Arc<Shared>,
    workers: Vec<(JoinHandle<()>, Thread)>,
}

impl Team {
    /// A team of `n` threads: the caller plus `n - 1` workers.
    pub fn new(n: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            remaining: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            quit: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            job: UnsafeCell::new(None),
        });
        let mut workers = Vec::with_capacity(n.saturating_sub(1));
        for w in 1..n {
            let sh = shared.clone();
            let h = thread::Builder::new().name(format!("hebb-{w}")).spawn(move || worker(sh, w))?;
            let t = h.thread().clone();
            workers.push((h, t));
        }
        Ok(Team { shared, workers })
    }

    /// Pin thread w of the team (0: the caller) to CPU `first + w` of those the caller may run
    /// on; see [`Binding`].
    pub fn bind(&self, first: usize) -> std::io::Result<Option<Binding>> {
        let handles: Vec<_> = self.workers.iter().map(|(h, _)| h).collect();
        Binding::new(&handles, first)
    }

    /// Run `f(0)` on this thread and `f(w)` on worker `w` for every worker; return when all are done.
    pub fn run(&self, f: &(dyn Fn(usize) + Sync)) {
        let sh = &*self.shared;
        sh.remaining.store(self.workers.len(), Ordering::SeqCst);
        // SAFETY: no worker reads `job` now (the last step's count reached 0); the lifetime is
        // erased because `f` outlives every use: this function waits for all workers below.
        unsafe {
            let job: Job = std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(f);
            *sh.job.get() = Some(job);
        }
        sh.epoch.fetch_add(1, Ordering::SeqCst);
        if sh.sleepers.load(Ordering::SeqCst) > 0 {
            for (_, t) in &self.workers {
                t.unpark();
            }
        }
        f(0);
        let start = Instant::now();
        while sh.remaining.load(Ordering::Acquire) > 0 {
            if start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                thread::yield_now();
            }
        }
        if sh.panicked.load(Ordering::SeqCst) {
            panic!("a simulation thread panicked");
        }
    }
}

fn worker(sh: Arc<Shared>, w: usize) {
    let mut seen = 0u64;
    loop {
        // Wait for the next epoch: spin, then yield, then park.
        let start = Instant::now();
        loop {
            let e = sh.epoch.load(Ordering::Acquire);
            if e != seen {
                seen = e;
                break;
            }
            let waited = start.elapsed();
            if waited < SPIN {
                std::hint::spin_loop();
            } else if waited < PARK_AFTER {
                thread::yield_now();
            } else {
                sh.sleepers.fetch_add(1, Ordering::SeqCst);
                if sh.epoch.load(Ordering::SeqCst) == seen && !sh.quit.load(Ordering::SeqCst) {
                    thread::park();
                }
                sh.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if sh.quit.load(Ordering::SeqCst) {
            return;
        }
        // SAFETY: the main thread wrote `job` before the epoch bump we just observed and keeps
        // `f` alive until `remaining` reaches 0.
        let job = unsafe { (*sh.job.get()).expect("job published before the epoch") };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*job)(w) }));
        if r.is_err() {
            sh.panicked.store(true, Ordering::SeqCst);
        }
        sh.remaining.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::SeqCst);
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        for (h, t) in self.workers.drain(..) {
            t.unpark();
            let _ = h.join();
        }
    }
}

/// Threads pinned to CPUs, like `OMP_PROC_BIND=close` or `mpirun --bind-to core`: each thread
/// keeps its chunk's state in its own core's caches instead of following the scheduler's moves
/// (2-vCPU host, CUBA K=80, 2 threads, medians of 7: 40k 0.195 -> 0.149 s, 100k 0.319 -> 0.313 s).
/// Off by default: two processes that both pinned to the first CPUs would share them. Threads
/// the caller starts while pinned inherit its one CPU. Dropping the binding gives the calling
/// thread back the CPUs it had (the workers end with their team); it must be dropped on that
/// thread, hence not `Send`.
pub struct Binding {
    #[cfg(target_os = "linux")]
    restore: Option<(libc::pthread_t, libc::cpu_set_t)>,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Binding {
    /// Pin the calling thread and `workers[w - 1]` to the CPUs `first`, `first + 1`, ... (modulo
    /// their number) of those the calling thread may run on; `None`, changing nothing, when there
    /// are fewer of them than threads or they cannot be read (or no support on this platform).
    /// If pinning a worker fails, the threads pinned before stay pinned and the error is returned.
    #[cfg(target_os = "linux")]
    pub(crate) fn new(workers: &[&JoinHandle<()>], first: usize) -> std::io::Result<Option<Binding>> {
        use std::os::unix::thread::JoinHandleExt;
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: plain libc calls on valid, initialised cpu_set_t values of `size` bytes, for
        // this thread and for live threads of the team (their handles are borrowed).
        unsafe {
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            // Fails only on machines with more CPUs than a cpu_set_t holds (1024): leave it.
            if libc::sched_getaffinity(0, size, &mut allowed) != 0 {
                return Ok(None);
            }
            let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &allowed)).collect();
            if cpus.len() < workers.len() + 1 {
                return Ok(None);
            }
            let cpu = |w: usize| cpus[(first + w) % cpus.len()];
            let pin = |thread: libc::pthread_t, cpu: usize| {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu, &mut set);
                match libc::pthread_setaffinity_np(thread, size, &set) {
                    0 => Ok(()),
                    e => Err(std::io::Error::from_raw_os_error(e)),
                }
            };
            let me = libc::pthread_self();
            pin(me, cpu(0))?;
            let binding = Binding {
                restore: Some((me, allowed)),
                _not_send: std::marker::PhantomData,
            };
            for (w, h) in workers.iter().enumerate() {
                pin(h.as_pthread_t(), cpu(w + 1))?;
            }
            Ok(Some(binding))
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn new(_: &[&JoinHandle<()>], _: usize) -> std::io::Result<Option<Binding>> {
        Ok(None)
    }
}

impl Drop for Binding {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some((thread, allowed)) = self.restore.take() {
            // SAFETY: restores the caller's own mask, and only on the thread that was bound.
            unsafe {
                if libc::pthread_equal(thread, libc::pthread_self()) != 0 {
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &allowed);
                }
            }
        }
    }
}
