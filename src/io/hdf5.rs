//! HDF5 output of hebb runs: SONATA spike files, SONATA frame reports (state traces) and
//! SONATA edge files with streamed weight snapshots, written with the pure-Rust `hdf5-pure`
//! crate (pinned `=0.47.0`), plus the readers used by `hebb info` and the round-trip tests.
//!
//! # Deviations from the planned API (read this first)
//!
//! * **Streaming goes through `Dataset::append` on whole chunks, with the module's own
//!   one-chunk buffer per dataset**, not through `Dataset::buffered_appender()`. A
//!   `BufferedAppender<'a>` mutably borrows its `Dataset`, so it cannot be stored next to the
//!   `File`/`Dataset` in a writer struct without `unsafe`; it is itself only a one-chunk buffer
//!   in front of the same in-place append engine (`append_prebuilt` -> `append_batches`). Only
//!   whole chunks are appended while a run streams, the file is opened with
//!   `File::open_rw_with_options(.., SyncPolicy::OnClose, MemoryStrategy::Bounded)`, so the
//!   I/O pattern and the memory bound are the ones `formats.md` measured.
//! * **`completed` is a `u8` root attribute** (0 while the run streams and after a crash, 1
//!   after `finish(true, ..)`). `reached_duration_ms` and `wall_time_s` (f64) are **absent
//!   until `finish`** (an interrupted file has neither). Setting root attributes after
//!   creation works (staged `Group::set_attr` + `File::close`).
//! * **Frame reports are streamed rank-1 and converted to the SONATA 2-D `data` at `finish`.**
//!   hdf5-pure appends only to rank-1 datasets (and has no hyperslab writes, no virtual
//!   datasets and no public lazy chunk producer), while libsonata's `ElementReportReader`
//!   reads `data` with 2-D selections. So frames stream into `data_flat` (f32, rank 1,
//!   time-major, length = frames x neurons); `StateWriter::finish` then builds `data`
//!   (f32, `[frames, neurons]`), deletes `data_flat`, fixes `mapping/time[1]` (stop) and
//!   repacks the file to drop the dead bytes (bounded memory, chunk by chunk). The conversion
//!   holds one report in memory, and hdf5-pure needs about 3 x (4 bytes x frames x neurons)
//!   resident while it builds the dataset; a report larger than [`REPORT_2D_MAX_ELEMENTS`]
//!   (default 2^26 values, ~0.8 GB peak; see [`StateWriter::set_conversion_limit`]) is left
//!   as `data_flat` (readable by h5py and [`read_report`], not by libsonata). A file whose
//!   writer never reached `finish` (crash, kill, panic) holds `data_flat` only and
//!   `mapping/time[1] == mapping/time[0]`; its frame count is `len(data_flat) / len(node_ids)`
//!   (rounded down), which is what [`read_report`] returns.
//! * **One file holds several variables per population**: the report "population" of libsonata
//!   is the two-level name `<population>/<variable>`:
//!   `libsonata.ElementReportReader(f)["exc/v"]` works (HDF5 resolves the nested path), but
//!   `ElementReportReader(f).get_population_names()` lists only `exc`. Tools that enumerate
//!   populations generically (e.g. bmtk) expect one variable per file.
//! * Edge datasets are written chunked (unlimited, <= 32768 elements per chunk) by streaming
//!   the caller's slices, so `write_edges` needs no copy of the projection.
//! * Extras beyond the brief: [`read_spike_counts`] (cheap, from the shapes), root attribute
//!   `hebb_file`, population attribute `n_nodes`, `mapping/node_ids` attribute `sorted`.
//!
//! # File layout
//!
//! All integers are little-endian; "chunked" datasets are unlimited along axis 0 with chunks of
//! at most 32768 elements (larger chunks make files HDF5 >= 2.0 refuses), and nothing is
//! compressed (libsonata cannot read filtered datasets).
//!
//! ## Root attributes (every file)
//!
//! | attribute | type | meaning |
//! |---|---|---|
//! | `magic` | u32 | SONATA magic `0x0A7A` |
//! | `version` | u32 array of 2 | SONATA version `{0, 1}` |
//! | `hebb_file` | string | `spikes`, `state` or `weights` |
//! | `hebb_version` | string | version of hebb that wrote the file |
//! | `seed` | u64 | master random seed |
//! | `dt_ms` | f64 | integration time step (ms) |
//! | `requested_duration_ms` | f64 | duration asked for (ms) |
//! | `model_text` | string | resolved model (TOML) |
//! | `command_line` | string | command line of the run |
//! | `completed` | u8 | 1 = run finished normally; 0 = streaming, interrupted or stopped early |
//! | `reached_duration_ms` | f64 | simulated time reached (ms); written by `finish` only |
//! | `wall_time_s` | f64 | wall-clock time of the run (s); written by `finish` only |
//!
//! Strings are fixed-width UTF-8 (h5py returns them as `bytes`; decode with `.decode()`).
//!
//! ## `spikes.h5` ([`SpikeWriter`])
//!
//! | path | type | shape | units | meaning |
//! |---|---|---|---|---|
//! | `/spikes/<pop>` | group | | | one per population; attr `n_nodes` (u64) = population size |
//! | `/spikes/<pop>/timestamps` | f64 | (n_spikes,) chunked | attr `units`="ms" | spike times, in time order (no `sorting` attribute: it must be an HDF5 enum) |
//! | `/spikes/<pop>/node_ids` | u64 | (n_spikes,) chunked | | 0-based index of the neuron within `<pop>` |
//!
//! `timestamps` and `node_ids` are appended in lockstep; after a crash they may differ by up to
//! one chunk, and readers use the shorter length ([`read_spikes`] does).
//!
//! ## `state.h5` ([`StateWriter`], one group per recorded population x variable)
//!
//! | path | type | shape | units | meaning |
//! |---|---|---|---|---|
//! | `/report/<pop>/<var>/data` | f32 | (n_frames, n_recorded) | attr `units` (e.g. "mV", "nS", "pA") | SONATA frame report, row t = values at `start + t*dt`; written by `finish` |
//! | `/report/<pop>/<var>/data_flat` | f32 | (n_frames*n_recorded,) chunked | attr `units`; attr `n_elements` (u64) = n_recorded | the stream while running / after a crash (or if too large to convert); time-major |
//! | `/report/<pop>/<var>/mapping/node_ids` | u64 | (n_recorded,) | | recorded neurons (0-based within `<pop>`); attr `sorted` (u8) |
//! | `/report/<pop>/<var>/mapping/index_pointers` | u64 | (n_recorded+1,) | | `0..=n_recorded` (one element per neuron) |
//! | `/report/<pop>/<var>/mapping/element_ids` | u32 | (n_recorded,) | | all 0 (point neurons) |
//! | `/report/<pop>/<var>/mapping/time` | f64 | (3,) | attr `units`="ms" | `start, stop, dt`; stop = start + n_frames*dt (exclusive); equals start until `finish` |
//!
//! ## `weights.h5` ([`WeightWriter`], one group per projection)
//!
//! | path | type | shape | units | meaning |
//! |---|---|---|---|---|
//! | `/edges/<proj>/source_node_id` | u64 | (n_edges,) chunked | | presynaptic neuron (0-based); attr `node_population` = source population |
//! | `/edges/<proj>/target_node_id` | u64 | (n_edges,) chunked | | postsynaptic neuron (0-based); attr `node_population` = target population |
//! | `/edges/<proj>/edge_type_id` | i64 | (n_edges,) chunked | | all 0 (no edge-type table) |
//! | `/edges/<proj>/edge_group_id` | u32 | (n_edges,) chunked | | all 0 (single group `0`) |
//! | `/edges/<proj>/edge_group_index` | u64 | (n_edges,) chunked | | `0..n_edges` |
//! | `/edges/<proj>/0/syn_weight` | f32 | (n_edges,) chunked | attr `units` (as given) | initial weight |
//! | `/edges/<proj>/0/delay` | f64 | (n_edges,) chunked | attr `units`="ms" | axonal + synaptic delay |
//! | `/edges/<proj>/snapshots/times` | f64 | (n_snapshots,) chunked | attr `units`="ms" | plastic projections only: snapshot times |
//! | `/edges/<proj>/snapshots/weights` | f32 | (n_snapshots*n_edges,) chunked | attr `units`; attr `n_edges` (u64) | all weights of each snapshot in edge order, snapshot-major |
//!
//! Snapshot times are written only once the weights of the same snapshots are on disk, so after
//! a crash `len(times) <= len(weights) / n_edges`; readers use the smaller count.
//! No SONATA `indices` (source/target index) groups are written.
//!
//! # Crashes, memory, readers
//!
//! * Files are created complete (all groups, attributes, empty datasets, `completed` = 0)
//!   before the first append, then edited in place. Each append is crash-atomic against a
//!   process crash (`kill -9`: tested, the file opens in h5py with a correct prefix). What is
//!   lost is what was still buffered: less than one chunk per dataset. Dropping a writer
//!   without `finish` (early return, panic unwinding) appends the buffers and closes the file,
//!   leaving `completed` = 0. After a failed write (e.g. disk full) a writer refuses further
//!   appends and `finish` still tries to record `completed` = 0.
//! * Writer memory is independent of the amount written: at most one chunk per dataset
//!   (spikes: 2 x 32768 x 8 bytes per population for up to 64 populations, chunks shrink
//!   beyond so that all spike buffers stay under 32 MiB). 1e8 spikes: 6 MB peak RSS.
//!   The exception is the frame-report conversion in `StateWriter::finish` (see above).
//! * The readers load whole datasets (they are meant for `hebb info` and tests); libsonata
//!   also loads whole spike populations. For huge files read with h5py in slices.
//! * A writer holds an exclusive OS lock on its file until `finish`/drop. The readers of this
//!   module take no lock, so they work on a running file (they see the whole chunks written so
//!   far); h5py needs `HDF5_USE_FILE_LOCKING=FALSE` for that.
//! * libsonata derives the frame count of a report by adding `dt` to `start` until `stop`;
//!   beyond ~5e6 frames the rounding can yield one frame too many (then pass `tstop`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use hdf5_pure::{
    AttrValue, Dataset, File, FileAccessProperties, FileBuilder, H5Element, MaxExtent, MemoryStrategy, RepackOptions, SyncPolicy,
};

/// SONATA magic number (root attribute `magic`).
pub const SONATA_MAGIC: u32 = 0x0A7A;
/// SONATA version (root attribute `version`).
pub const SONATA_VERSION: [u32; 2] = [0, 1];
/// Largest chunk (elements) hdf5-pure 0.47 writes that HDF5 >= 2.0 still opens.
pub const MAX_CHUNK_ELEMENTS: usize = 32_768;
/// Default for the largest report (frames x recorded neurons) that `StateWriter::finish`
/// converts to the 2-D SONATA `data` dataset: 2^26 values = 256 MiB of f32. hdf5-pure builds
/// a dataset from memory, so the conversion peaks at about 3 x 4 bytes x elements of resident
/// memory (measured: 4e7 values -> 462 MB). Larger reports stay as `data_flat`. Change it
/// per writer with [`StateWriter::set_conversion_limit`].
pub const REPORT_2D_MAX_ELEMENTS: u64 = 1 << 26;
/// Upper bound on the spike elements buffered over all populations (16 bytes each).
const SPIKE_BUFFER_BUDGET: usize = 1 << 21;
/// Whole chunks handed to one `Dataset::append` call when a caller passes a large batch, so
/// that lockstep datasets never drift apart by more than this many chunks.
const APPEND_CHUNKS: usize = 4;
/// Chunk of the snapshot `times` dataset.
const SNAPSHOT_TIMES_CHUNK: usize = 64;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Errors of the HDF5 output module. Every message names the file and what failed.
#[derive(Debug, thiserror::Error)]
pub enum H5Error {
    /// The file could not be created (permission, missing directory, ...).
    #[error("cannot create {}: {reason}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// Why, e.g. "permission denied".
        reason: String,
    },
    /// The file could not be opened (missing, not HDF5, locked, ...).
    #[error("cannot open {}: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The filesystem ran out of space (or quota).
    #[error("disk full while writing {}", path.display())]
    DiskFull {
        /// The file.
        path: PathBuf,
    },
    /// Writing part of the file failed.
    #[error("cannot write {what} in {}: {reason}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The object being written, e.g. "/spikes/exc/timestamps".
        what: String,
        /// Why.
        reason: String,
    },
    /// Reading part of the file failed, or the file does not have the expected layout.
    #[error("cannot read {what} from {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The object being read, e.g. "/report/exc/v/mapping/time".
        what: String,
        /// Why.
        reason: String,
    },
    /// A caller passed arguments that do not fit the file (length mismatch, unknown name...).
    #[error("invalid request for {}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::PermissionDenied => "permission denied".into(),
        K::NotFound => "no such file or directory".into(),
        K::AlreadyExists => "already exists".into(),
        K::ReadOnlyFilesystem => "read-only file system".into(),
        K::IsADirectory => "is a directory".into(),
        K::NotADirectory => "a parent is not a directory".into(),
        _ => e.to_string(),
    }
}

fn io_is_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.kind() == std::io::ErrorKind::QuotaExceeded || e.raw_os_error() == Some(28)
}

fn h5_is_full(e: &hdf5_pure::Error) -> bool {
    if let hdf5_pure::Error::Io(io) = e {
        if io_is_full(io) {
            return true;
        }
    }
    let s = e.to_string();
    s.contains("No space left on device") || s.contains("os error 28")
}

fn h5_reason(e: &hdf5_pure::Error) -> String {
    match e {
        hdf5_pure::Error::Io(io) => io_reason(io),
        other => other.to_string(),
    }
}

fn write_err(path: &Path, what: impl Into<String>, e: hdf5_pure::Error) -> H5Error {
    if h5_is_full(&e) {
        H5Error::DiskFull { path: path.to_path_buf() }
    } else {
        H5Error::Write {
            path: path.to_path_buf(),
            what: what.into(),
            reason: h5_reason(&e),
        }
    }
}

fn read_err(path: &Path, what: impl Into<String>, e: hdf5_pure::Error) -> H5Error {
    H5Error::Read {
        path: path.to_path_buf(),
        what: what.into(),
        reason: h5_reason(&e),
    }
}

fn stopped(path: &Path, what: &str) -> H5Error {
    H5Error::Write {
        path: path.to_path_buf(),
        what: what.to_string(),
        reason: "an earlier write failed, so the writer stopped".into(),
    }
}

fn invalid(path: &Path, reason: impl Into<String>) -> H5Error {
    H5Error::Invalid {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// Run metadata written as root attributes of every file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMetadata {
    /// Version of hebb that wrote the file.
    pub hebb_version: String,
    /// Master random seed of the run.
    pub seed: u64,
    /// Integration time step (ms).
    pub dt_ms: f64,
    /// Simulated duration asked for (ms).
    pub requested_duration_ms: f64,
    /// Resolved model (TOML text).
    pub model_text: String,
    /// Command line of the run.
    pub command_line: String,
}

/// One frame report: one variable of some neurons of one population.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// Population name (a group name: non-empty, no '/').
    pub population: String,
    /// "v", "i_exc", "g_inh", ...
    pub variable: String,
    /// Units of the values ("mV", "pA", "nS", ...).
    pub units: String,
    /// Recorded neurons, 0-based within the population, in the column order of the frames.
    pub node_ids: Vec<u64>,
    /// Time of the first frame (ms).
    pub start_ms: f64,
    /// Time between frames (ms).
    pub dt_ms: f64,
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

fn check_name(path: &Path, kind: &str, name: &str) -> Result<(), H5Error> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(invalid(
            path,
            format!("{kind} name {name:?} must be non-empty and contain no '/' or NUL"),
        ));
    }
    Ok(())
}

fn root_attrs(builder: &mut FileBuilder, meta: &RunMetadata, kind: &str) {
    builder.set_attr("magic", AttrValue::U32(SONATA_MAGIC));
    builder.set_attr("version", AttrValue::U32Array(SONATA_VERSION.to_vec()));
    builder.set_attr("hebb_file", AttrValue::String(kind.to_string()));
    builder.set_attr("hebb_version", AttrValue::String(meta.hebb_version.clone()));
    builder.set_attr("seed", AttrValue::U64(meta.seed));
    builder.set_attr("dt_ms", AttrValue::F64(meta.dt_ms));
    builder.set_attr("requested_duration_ms", AttrValue::F64(meta.requested_duration_ms));
    builder.set_attr("model_text", AttrValue::String(meta.model_text.clone()));
    builder.set_attr("command_line", AttrValue::String(meta.command_line.clone()));
    builder.set_attr("completed", AttrValue::U8(0));
}

fn str_attr(s: &str) -> AttrValue {
    AttrValue::String(s.to_string())
}

/// Write the skeleton built in `builder` to `path` (created or truncated) and reopen it for
/// bounded, fsync-on-close in-place appends.
fn create_and_open(path: &Path, builder: FileBuilder) -> Result<File, H5Error> {
    let create_err = |reason: String| H5Error::Create {
        path: path.to_path_buf(),
        reason,
    };
    let f = std::fs::File::create(path).map_err(|e| {
        if io_is_full(&e) {
            H5Error::DiskFull { path: path.to_path_buf() }
        } else {
            create_err(io_reason(&e))
        }
    })?;
    let mut w = BufWriter::new(f);
    builder.finish_to(&mut w).map_err(|e| {
        if h5_is_full(&e) {
            H5Error::DiskFull { path: path.to_path_buf() }
        } else {
            create_err(h5_reason(&e))
        }
    })?;
    w.flush().map_err(|e| {
        if io_is_full(&e) {
            H5Error::DiskFull { path: path.to_path_buf() }
        } else {
            create_err(io_reason(&e))
        }
    })?;
    drop(w);
    open_rw(path)
}

fn open_rw(path: &Path) -> Result<File, H5Error> {
    let props = FileAccessProperties::new()
        .with_sync_policy(SyncPolicy::OnClose)
        .with_memory_strategy(MemoryStrategy::Bounded);
    File::open_rw_with_options(path, props).map_err(|e| H5Error::Open {
        path: path.to_path_buf(),
        reason: h5_reason(&e),
    })
}

fn chunk_for(len: usize) -> u64 {
    len.clamp(1, MAX_CHUNK_ELEMENTS) as u64
}

/// One appendable rank-1 dataset with a buffer of less than one chunk: only whole chunks are
/// appended while streaming; `flush` writes the partial tail.
struct Stream<T: H5Element + Copy> {
    ds: Dataset,
    buf: Vec<T>,
    chunk: usize,
    /// Elements appended to the file so far.
    written: u64,
}

impl<T: H5Element + Copy> Stream<T> {
    fn new(ds: Dataset, chunk: usize) -> Self {
        Stream {
            ds,
            buf: Vec::new(),
            chunk: chunk.max(1),
            written: 0,
        }
    }

    /// Buffer `data`, appending every chunk it completes.
    fn push(&mut self, mut data: &[T]) -> Result<(), hdf5_pure::Error> {
        let c = self.chunk;
        if !self.buf.is_empty() {
            let take = (c - self.buf.len()).min(data.len());
            if self.buf.capacity() < c {
                self.buf.reserve_exact(c - self.buf.len());
            }
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == c {
                self.ds.append(&self.buf)?;
                self.written += c as u64;
                self.buf.clear();
            }
        }
        let whole = data.len() / c * c;
        if whole > 0 {
            self.ds.append(&data[..whole])?;
            self.written += whole as u64;
        }
        if whole < data.len() {
            if self.buf.capacity() < c {
                self.buf.reserve_exact(c - self.buf.len());
            }
            self.buf.extend_from_slice(&data[whole..]);
        }
        Ok(())
    }

    /// Append the buffered partial chunk.
    fn flush(&mut self) -> Result<(), hdf5_pure::Error> {
        if !self.buf.is_empty() {
            self.ds.append(&self.buf)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    fn total(&self) -> u64 {
        self.written + self.buf.len() as u64
    }
}

fn set_final_attrs(file: &File, path: &Path, completed: bool, reached_duration_ms: f64, wall_time_s: f64) -> Result<(), H5Error> {
    let root = file.root();
    root.set_attr("completed", AttrValue::U8(u8::from(completed)))
        .map_err(|e| write_err(path, "root attribute completed", e))?;
    root.set_attr("reached_duration_ms", AttrValue::F64(reached_duration_ms))
        .map_err(|e| write_err(path, "root attribute reached_duration_ms", e))?;
    root.set_attr("wall_time_s", AttrValue::F64(wall_time_s))
        .map_err(|e| write_err(path, "root attribute wall_time_s", e))?;
    Ok(())
}

fn close_file(file: File, path: &Path) -> Result<(), H5Error> {
    file.close().map_err(|e| write_err(path, "file (commit and close)", e))
}

fn empty_chunked(b: &mut hdf5_pure::DatasetBuilder, kind: ElemKind, chunk: u64) -> &mut hdf5_pure::DatasetBuilder {
    match kind {
        ElemKind::F64 => b.with_f64_data(&[]),
        ElemKind::F32 => b.with_f32_data(&[]),
        ElemKind::U64 => b.with_u64_data(&[]),
        ElemKind::I64 => b.with_i64_data(&[]),
        ElemKind::U32 => b.with_u32_data(&[]),
    }
    .with_shape(&[0])
    .with_maxshape(&[MaxExtent::Unlimited])
    .with_chunks(&[chunk])
}

#[derive(Clone, Copy)]
enum ElemKind {
    F64,
    F32,
    U64,
    I64,
    U32,
}

// ---------------------------------------------------------------------------------------------
// Spikes
// ---------------------------------------------------------------------------------------------

struct SpikePop {
    name: String,
    ts: Stream<f64>,
    ids: Stream<u64>,
}

struct SpikeInner {
    file: File,
    pops: Vec<SpikePop>,
}

/// Streaming SONATA spike file (see the module documentation for the layout).
///
/// Memory: at most one chunk per dataset is buffered (chunk = 32768 spikes for up to 64
/// populations, smaller beyond so that all buffers stay under 32 MiB), independent of the
/// number of spikes. Dropping the writer without `finish` (early return, panic) appends what
/// is buffered and closes the file with `completed` = 0.
pub struct SpikeWriter {
    path: PathBuf,
    inner: Option<SpikeInner>,
    failed: bool,
}

impl SpikeWriter {
    /// Create (or truncate) `path` with one group per population (`name`, size).
    pub fn create(path: &Path, populations: &[(String, u64)], meta: &RunMetadata) -> Result<Self, H5Error> {
        let mut seen = std::collections::HashSet::new();
        for (name, _) in populations {
            check_name(path, "population", name)?;
            if !seen.insert(name.as_str()) {
                return Err(invalid(path, format!("population {name:?} given twice")));
            }
        }
        let per_pop = SPIKE_BUFFER_BUDGET / populations.len().max(1);
        let chunk = per_pop.clamp(1024, MAX_CHUNK_ELEMENTS);
        let chunk = if chunk.is_power_of_two() {
            chunk
        } else {
            chunk.next_power_of_two() / 2
        };

        let mut builder = FileBuilder::new();
        root_attrs(&mut builder, meta, "spikes");
        let mut spikes = builder.create_group("spikes");
        for (name, size) in populations {
            let mut g = spikes.create_group(name);
            g.set_attr("n_nodes", AttrValue::U64(*size));
            empty_chunked(g.create_dataset("timestamps"), ElemKind::F64, chunk as u64).set_attr("units", str_attr("ms"));
            empty_chunked(g.create_dataset("node_ids"), ElemKind::U64, chunk as u64);
            spikes.add_group(g.finish());
        }
        builder.add_group(spikes.finish());
        let file = create_and_open(path, builder)?;

        let mut pops = Vec::with_capacity(populations.len());
        for (name, _) in populations {
            let open = |d: &str| {
                file.dataset(&format!("spikes/{name}/{d}")).map_err(|e| H5Error::Open {
                    path: path.to_path_buf(),
                    reason: format!("/spikes/{name}/{d}: {}", h5_reason(&e)),
                })
            };
            pops.push(SpikePop {
                name: name.clone(),
                ts: Stream::new(open("timestamps")?, chunk),
                ids: Stream::new(open("node_ids")?, chunk),
            });
        }
        Ok(SpikeWriter {
            path: path.to_path_buf(),
            inner: Some(SpikeInner { file, pops }),
            failed: false,
        })
    }

    /// Append spikes of population `pop` (index into the `populations` given to `create`):
    /// times in ms, ids 0-based within the population. Call as often as needed.
    pub fn append(&mut self, pop: usize, times_ms: &[f64], node_ids: &[u64]) -> Result<(), H5Error> {
        if self.failed {
            return Err(stopped(&self.path, "spikes"));
        }
        let path = &self.path;
        let inner = self.inner.as_mut().expect("SpikeWriter used after finish");
        let npops = inner.pops.len();
        let p = inner
            .pops
            .get_mut(pop)
            .ok_or_else(|| invalid(path, format!("population index {pop} out of range (file has {npops})")))?;
        if times_ms.len() != node_ids.len() {
            return Err(invalid(
                path,
                format!(
                    "population {}: {} spike times but {} node ids",
                    p.name,
                    times_ms.len(),
                    node_ids.len()
                ),
            ));
        }
        let step = p.ts.chunk * APPEND_CHUNKS;
        let mut result = Ok(());
        for (t, i) in times_ms.chunks(step).zip(node_ids.chunks(step)) {
            result =
                p.ts.push(t)
                    .map_err(|e| write_err(path, format!("/spikes/{}/timestamps", p.name), e))
                    .and_then(|()| {
                        p.ids
                            .push(i)
                            .map_err(|e| write_err(path, format!("/spikes/{}/node_ids", p.name), e))
                    });
            if result.is_err() {
                break;
            }
        }
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// Number of spikes accepted so far for population `pop` (written or buffered).
    pub fn count(&self, pop: usize) -> u64 {
        self.inner.as_ref().and_then(|i| i.pops.get(pop)).map_or(0, |p| p.ts.total())
    }

    /// Flush, write `completed`, `reached_duration_ms`, `wall_time_s` and close.
    pub fn finish(mut self, completed: bool, reached_duration_ms: f64, wall_time_s: f64) -> Result<(), H5Error> {
        let mut inner = self.inner.take().expect("SpikeWriter finished twice");
        let path = self.path.clone();
        let mut first_err = None;
        if !self.failed {
            for p in &mut inner.pops {
                if let Err(e) = p.ts.flush() {
                    first_err.get_or_insert(write_err(&path, format!("/spikes/{}/timestamps", p.name), e));
                    break;
                }
                if let Err(e) = p.ids.flush() {
                    first_err.get_or_insert(write_err(&path, format!("/spikes/{}/node_ids", p.name), e));
                    break;
                }
            }
        }
        let completed = completed && first_err.is_none() && !self.failed;
        let SpikeInner { file, pops } = inner;
        drop(pops);
        let attrs = set_final_attrs(&file, &path, completed, reached_duration_ms, wall_time_s);
        let closed = close_file(file, &path);
        match (first_err, attrs, closed) {
            (Some(e), _, _) => Err(e),
            (None, Err(e), _) => Err(e),
            (None, Ok(()), r) => r,
        }
    }
}

impl Drop for SpikeWriter {
    fn drop(&mut self) {
        if let Some(mut inner) = self.inner.take() {
            if !self.failed {
                for p in &mut inner.pops {
                    if p.ts.flush().is_err() || p.ids.flush().is_err() {
                        break;
                    }
                }
            }
            let SpikeInner { file, pops } = inner;
            drop(pops);
            let _ = file.close();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State (frame reports)
// ---------------------------------------------------------------------------------------------

struct Report {
    spec: ReportSpec,
    group: String,
    stream: Stream<f32>,
    frames: u64,
}

struct StateInner {
    file: File,
    reports: Vec<Report>,
}

/// Streaming SONATA frame reports, one file for all recorded populations and variables (see
/// the module documentation for the layout and for the conversion done by `finish`).
pub struct StateWriter {
    path: PathBuf,
    inner: Option<StateInner>,
    failed: bool,
    conversion_limit: u64,
}

impl StateWriter {
    /// Create (or truncate) `path` with one report group per spec.
    pub fn create(path: &Path, reports: &[ReportSpec], meta: &RunMetadata) -> Result<Self, H5Error> {
        let mut seen = std::collections::HashSet::new();
        for r in reports {
            check_name(path, "population", &r.population)?;
            check_name(path, "variable", &r.variable)?;
            if !seen.insert((r.population.as_str(), r.variable.as_str())) {
                return Err(invalid(path, format!("report {}/{} given twice", r.population, r.variable)));
            }
            if r.node_ids.is_empty() {
                return Err(invalid(path, format!("report {}/{} records no neurons", r.population, r.variable)));
            }
            if !(r.dt_ms > 0.0 && r.dt_ms.is_finite()) {
                return Err(invalid(path, format!("report {}/{}: dt_ms must be > 0", r.population, r.variable)));
            }
        }
        let mut builder = FileBuilder::new();
        root_attrs(&mut builder, meta, "state");
        let mut report_g = builder.create_group("report");
        // Group the specs by population, keeping first-seen order.
        let mut pops: Vec<&str> = Vec::new();
        for r in reports {
            if !pops.contains(&r.population.as_str()) {
                pops.push(&r.population);
            }
        }
        for pop in &pops {
            let mut pop_g = report_g.create_group(pop);
            for r in reports.iter().filter(|r| r.population == *pop) {
                let n = r.node_ids.len();
                let mut var_g = pop_g.create_group(&r.variable);
                empty_chunked(var_g.create_dataset("data_flat"), ElemKind::F32, flat_chunk(n) as u64)
                    .set_attr("units", str_attr(&r.units))
                    .set_attr("n_elements", AttrValue::U64(n as u64));
                let mut m = var_g.create_group("mapping");
                let sorted = r.node_ids.windows(2).all(|w| w[0] < w[1]);
                m.create_dataset("node_ids")
                    .with_u64_data(&r.node_ids)
                    .set_attr("sorted", AttrValue::U8(u8::from(sorted)));
                let ptrs: Vec<u64> = (0..=n as u64).collect();
                m.create_dataset("index_pointers").with_u64_data(&ptrs);
                m.create_dataset("element_ids").with_u32_data(&vec![0u32; n]);
                m.create_dataset("time")
                    .with_f64_data(&[r.start_ms, r.start_ms, r.dt_ms])
                    .set_attr("units", str_attr("ms"));
                var_g.add_group(m.finish());
                pop_g.add_group(var_g.finish());
            }
            report_g.add_group(pop_g.finish());
        }
        builder.add_group(report_g.finish());
        let file = create_and_open(path, builder)?;

        let mut out = Vec::with_capacity(reports.len());
        for r in reports {
            let group = format!("report/{}/{}", r.population, r.variable);
            let ds = file.dataset(&format!("{group}/data_flat")).map_err(|e| H5Error::Open {
                path: path.to_path_buf(),
                reason: format!("/{group}/data_flat: {}", h5_reason(&e)),
            })?;
            out.push(Report {
                spec: r.clone(),
                group,
                stream: Stream::new(ds, flat_chunk(r.node_ids.len())),
                frames: 0,
            });
        }
        Ok(StateWriter {
            path: path.to_path_buf(),
            inner: Some(StateInner { file, reports: out }),
            failed: false,
            conversion_limit: REPORT_2D_MAX_ELEMENTS,
        })
    }

    /// Largest report (frames x recorded neurons) that `finish` converts to the 2-D SONATA
    /// `data` (default [`REPORT_2D_MAX_ELEMENTS`]); 0 keeps every report as `data_flat`.
    pub fn set_conversion_limit(&mut self, max_elements: u64) {
        self.conversion_limit = max_elements;
    }

    /// Append one frame (the values of all recorded neurons, in `node_ids` order) to report
    /// `report` (index into the specs given to `create`).
    pub fn append_frame(&mut self, report: usize, values: &[f32]) -> Result<(), H5Error> {
        if self.failed {
            return Err(stopped(&self.path, "reports"));
        }
        let path = &self.path;
        let inner = self.inner.as_mut().expect("StateWriter used after finish");
        let n_reports = inner.reports.len();
        let r = inner
            .reports
            .get_mut(report)
            .ok_or_else(|| invalid(path, format!("report index {report} out of range (file has {n_reports})")))?;
        if values.len() != r.spec.node_ids.len() {
            return Err(invalid(
                path,
                format!(
                    "report /{}: frame has {} values, expected {}",
                    r.group,
                    values.len(),
                    r.spec.node_ids.len()
                ),
            ));
        }
        if let Err(e) = r.stream.push(values) {
            self.failed = true;
            return Err(write_err(path, format!("/{}/data_flat", r.group), e));
        }
        r.frames += 1;
        Ok(())
    }

    /// Frames accepted so far for report `report`.
    pub fn frames(&self, report: usize) -> u64 {
        self.inner.as_ref().and_then(|i| i.reports.get(report)).map_or(0, |r| r.frames)
    }

    /// Flush every report, convert each to the 2-D SONATA `data` dataset (see the module
    /// docs), write `completed`, `reached_duration_ms`, `wall_time_s`, close, and compact the
    /// file. A failed compaction (e.g. no room for the temporary copy) is not an error: the
    /// file is complete and valid, it only keeps the dead bytes of the flat streams.
    pub fn finish(mut self, completed: bool, reached_duration_ms: f64, wall_time_s: f64) -> Result<(), H5Error> {
        let inner = self.inner.take().expect("StateWriter finished twice");
        let path = self.path.clone();
        let StateInner { file, mut reports } = inner;
        let mut first_err: Option<H5Error> = None;
        let mut converted = false;
        if !self.failed {
            // All data on disk first, then the (slower) conversions.
            for r in &mut reports {
                if let Err(e) = r.stream.flush() {
                    first_err = Some(write_err(&path, format!("/{}/data_flat", r.group), e));
                    break;
                }
            }
            if first_err.is_none() {
                for r in reports.drain(..) {
                    let Report {
                        spec,
                        group,
                        stream,
                        frames,
                    } = r;
                    drop(stream);
                    let limit = self.conversion_limit;
                    match convert_report(&file, &path, &spec, &group, frames, limit) {
                        Ok(c) => converted |= c,
                        Err(e) => {
                            first_err = Some(e);
                            break;
                        }
                    }
                }
            }
        }
        drop(reports);
        let completed = completed && first_err.is_none() && !self.failed;
        let attrs = set_final_attrs(&file, &path, completed, reached_duration_ms, wall_time_s);
        let closed = close_file(file, &path);
        if let Some(e) = first_err {
            return Err(e);
        }
        attrs?;
        closed?;
        if converted {
            // Best effort: on failure the uncompacted file stays in place.
            let _ = repack_in_place(&path);
        }
        Ok(())
    }
}

impl Drop for StateWriter {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let StateInner { file, mut reports } = inner;
            if !self.failed {
                for r in &mut reports {
                    if r.stream.flush().is_err() {
                        break;
                    }
                }
            }
            drop(reports);
            let _ = file.close();
        }
    }
}

/// Chunk of a report's flat stream: a whole number of frames when a frame fits in a chunk.
fn flat_chunk(n: usize) -> usize {
    if n == 0 {
        1
    } else if n <= MAX_CHUNK_ELEMENTS {
        (MAX_CHUNK_ELEMENTS / n) * n
    } else {
        MAX_CHUNK_ELEMENTS
    }
}

/// Replace `data_flat` by the 2-D `data` and set the stop time. Returns whether it converted.
fn convert_report(file: &File, path: &Path, spec: &ReportSpec, group: &str, frames: u64, limit: u64) -> Result<bool, H5Error> {
    let n = spec.node_ids.len() as u64;
    let stop = spec.start_ms + frames as f64 * spec.dt_ms;
    let mut time = file
        .dataset(&format!("{group}/mapping/time"))
        .map_err(|e| read_err(path, format!("/{group}/mapping/time"), e))?;
    time.write_staged(|b| {
        b.with_f64_data(&[spec.start_ms, stop, spec.dt_ms]);
    })
    .map_err(|e| write_err(path, format!("/{group}/mapping/time"), e))?;
    let total = frames * n;
    let convert = total <= limit;
    if convert {
        // Read the stream as raw little-endian bytes in windows straight into the buffer that
        // is then moved into the dataset builder (no second copy of the report).
        let flat_p = format!("{group}/data_flat");
        let flat_ds = file.dataset(&flat_p).map_err(|e| read_err(path, format!("/{flat_p}"), e))?;
        let mut bytes: Vec<u8> = Vec::with_capacity(total as usize * 4);
        const WINDOW: u64 = 1 << 21;
        let mut start = 0u64;
        while start < total {
            let len = WINDOW.min(total - start);
            let w = flat_ds
                .read_raw_rows(start, len)
                .map_err(|e| read_err(path, format!("/{flat_p}"), e))?;
            if w.len() as u64 != len * 4 {
                return Err(H5Error::Read {
                    path: path.to_path_buf(),
                    what: format!("/{flat_p}"),
                    reason: format!("holds fewer than the {total} values written"),
                });
            }
            bytes.extend_from_slice(&w);
            start += len;
        }
        drop(flat_ds);
        // Chunk: whole rows of up to 32768 elements.
        let col_chunk = n.min(MAX_CHUNK_ELEMENTS as u64);
        let row_chunk = (MAX_CHUNK_ELEMENTS as u64 / col_chunk).clamp(1, frames.max(1));
        let units = spec.units.clone();
        let root = file.root();
        root.create_dataset(&format!("{group}/data"), move |b| {
            b.with_raw_data(hdf5_pure::make_f32_type(), bytes, total)
                .with_shape(&[frames, n])
                .with_maxshape(&[MaxExtent::Unlimited, MaxExtent::Fixed(n)])
                .with_chunks(&[row_chunk, col_chunk])
                .set_attr("units", AttrValue::String(units));
        })
        .map_err(|e| write_err(path, format!("/{group}/data"), e))?;
        root.delete(&format!("{group}/data_flat"))
            .map_err(|e| write_err(path, format!("/{group}/data_flat (delete)"), e))?;
    }
    file.commit()
        .map_err(|e| write_err(path, format!("/{group} (frame report conversion)"), e))?;
    Ok(convert)
}

/// Rewrite `path` compactly (dropping the bytes of deleted datasets) through a temporary file
/// in the same directory, then rename it over `path`.
fn repack_in_place(path: &Path) -> Result<(), H5Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".repack.tmp");
    let tmp = PathBuf::from(tmp);
    if let Err(e) = hdf5_pure::repack(path, &tmp, &RepackOptions::new()) {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(path, "compacted copy (repack)", e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        H5Error::Write {
            path: path.to_path_buf(),
            what: "compacted copy (rename)".into(),
            reason: io_reason(&e),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Weights (edges + snapshots)
// ---------------------------------------------------------------------------------------------

struct Snapshots {
    times_ds: Dataset,
    /// Snapshot times accepted but not yet on disk (written once their weights are).
    times_pending: Vec<f64>,
    times_written: u64,
    weights: Stream<f32>,
    /// Snapshots accepted in total.
    count: u64,
}

struct Projection {
    n_edges: u64,
    weight_units: String,
    snapshots: Option<Snapshots>,
}

struct WeightInner {
    file: File,
    projections: HashMap<String, Projection>,
    /// Creation order, so that flushing is deterministic.
    order: Vec<String>,
}

/// SONATA edge file with optional streamed weight snapshots (see the module documentation).
pub struct WeightWriter {
    path: PathBuf,
    inner: Option<WeightInner>,
    failed: bool,
}

impl WeightWriter {
    /// Create (or truncate) `path` with an empty `/edges` group.
    pub fn create(path: &Path, meta: &RunMetadata) -> Result<Self, H5Error> {
        let mut builder = FileBuilder::new();
        root_attrs(&mut builder, meta, "weights");
        let edges = builder.create_group("edges");
        builder.add_group(edges.finish());
        let file = create_and_open(path, builder)?;
        Ok(WeightWriter {
            path: path.to_path_buf(),
            inner: Some(WeightInner {
                file,
                projections: HashMap::new(),
                order: Vec::new(),
            }),
            failed: false,
        })
    }

    /// Write the static description of projection `name` (its SONATA edge population).
    /// `weight` is the initial weight of each edge; `weight_units` goes into the `units`
    /// attribute of `0/syn_weight` (and of the snapshots).
    #[allow(clippy::too_many_arguments)]
    pub fn write_edges(
        &mut self,
        name: &str,
        source_pop: &str,
        target_pop: &str,
        source: &[u64],
        target: &[u64],
        weight: &[f32],
        delay_ms: &[f64],
        weight_units: &str,
    ) -> Result<(), H5Error> {
        let path = self.path.clone();
        if self.failed {
            return Err(stopped(&path, "edges"));
        }
        check_name(&path, "projection", name)?;
        let n = source.len();
        if target.len() != n || weight.len() != n || delay_ms.len() != n {
            return Err(invalid(
                &path,
                format!(
                    "projection {name}: {} sources, {} targets, {} weights, {} delays (must be equal)",
                    n,
                    target.len(),
                    weight.len(),
                    delay_ms.len()
                ),
            ));
        }
        let inner = self.inner.as_mut().expect("WeightWriter used after finish");
        if inner.projections.contains_key(name) {
            return Err(invalid(&path, format!("projection {name} written twice")));
        }
        let r = write_edges_impl(
            &inner.file,
            &path,
            name,
            source_pop,
            target_pop,
            source,
            target,
            weight,
            delay_ms,
            weight_units,
        );
        if r.is_err() {
            self.failed = true;
            return r;
        }
        inner.projections.insert(
            name.to_string(),
            Projection {
                n_edges: n as u64,
                weight_units: weight_units.to_string(),
                snapshots: None,
            },
        );
        inner.order.push(name.to_string());
        Ok(())
    }

    /// Append one snapshot of all weights of plastic projection `name` (edge order of
    /// `write_edges`) at simulated time `time_ms`. The snapshot datasets are created on the
    /// first call.
    pub fn append_snapshot(&mut self, name: &str, time_ms: f64, weights: &[f32]) -> Result<(), H5Error> {
        let path = self.path.clone();
        if self.failed {
            return Err(stopped(&path, "edges"));
        }
        let inner = self.inner.as_mut().expect("WeightWriter used after finish");
        let file = &inner.file;
        let proj = inner
            .projections
            .get_mut(name)
            .ok_or_else(|| invalid(&path, format!("snapshot for projection {name}, which write_edges did not write")))?;
        if weights.len() as u64 != proj.n_edges {
            return Err(invalid(
                &path,
                format!(
                    "snapshot of projection {name} has {} weights, expected {}",
                    weights.len(),
                    proj.n_edges
                ),
            ));
        }
        if proj.snapshots.is_none() {
            match create_snapshots(file, &path, name, proj.n_edges, &proj.weight_units) {
                Ok(s) => proj.snapshots = Some(s),
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
        }
        let s = proj.snapshots.as_mut().expect("just created");
        let n = proj.n_edges;
        let r = (|| {
            s.weights
                .push(weights)
                .map_err(|e| write_err(&path, format!("/edges/{name}/snapshots/weights"), e))?;
            s.times_pending.push(time_ms);
            s.count += 1;
            // Publish the times of the snapshots whose weights are now all on disk.
            let durable = s.weights.written.checked_div(n).unwrap_or(s.count);
            sync_times(s, durable).map_err(|e| write_err(&path, format!("/edges/{name}/snapshots/times"), e))
        })();
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Flush all snapshots, write `completed`, `reached_duration_ms`, `wall_time_s` and close.
    pub fn finish(mut self, completed: bool, reached_duration_ms: f64, wall_time_s: f64) -> Result<(), H5Error> {
        let inner = self.inner.take().expect("WeightWriter finished twice");
        let path = self.path.clone();
        let WeightInner {
            file,
            mut projections,
            order,
        } = inner;
        let mut first_err = None;
        if !self.failed {
            first_err = flush_snapshots(&path, &mut projections, &order).err();
        }
        drop(projections);
        let completed = completed && first_err.is_none() && !self.failed;
        let attrs = set_final_attrs(&file, &path, completed, reached_duration_ms, wall_time_s);
        let closed = close_file(file, &path);
        if let Some(e) = first_err {
            return Err(e);
        }
        attrs?;
        closed
    }
}

impl Drop for WeightWriter {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let WeightInner {
                file,
                mut projections,
                order,
            } = inner;
            if !self.failed {
                let _ = flush_snapshots(&self.path, &mut projections, &order);
            }
            drop(projections);
            let _ = file.close();
        }
    }
}

fn flush_snapshots(path: &Path, projections: &mut HashMap<String, Projection>, order: &[String]) -> Result<(), H5Error> {
    for name in order {
        let Some(p) = projections.get_mut(name) else {
            continue;
        };
        if let Some(s) = p.snapshots.as_mut() {
            s.weights
                .flush()
                .map_err(|e| write_err(path, format!("/edges/{name}/snapshots/weights"), e))?;
            let count = s.count;
            sync_times(s, count).map_err(|e| write_err(path, format!("/edges/{name}/snapshots/times"), e))?;
        }
    }
    Ok(())
}

/// Append pending snapshot times until `durable` times are in the file.
fn sync_times(s: &mut Snapshots, durable: u64) -> Result<(), hdf5_pure::Error> {
    if durable > s.times_written {
        let k = ((durable - s.times_written) as usize).min(s.times_pending.len());
        if k > 0 {
            s.times_ds.append(&s.times_pending[..k])?;
            s.times_pending.drain(..k);
            s.times_written += k as u64;
        }
    }
    Ok(())
}

fn create_snapshots(file: &File, path: &Path, name: &str, n_edges: u64, units: &str) -> Result<Snapshots, H5Error> {
    let g = format!("edges/{name}/snapshots");
    let w_chunk = flat_chunk(n_edges as usize);
    let root = file.root();
    let stage = || -> Result<(), hdf5_pure::Error> {
        root.create_group(&g)?;
        let u = units.to_string();
        root.create_dataset(&format!("{g}/times"), |b| {
            empty_chunked(b, ElemKind::F64, SNAPSHOT_TIMES_CHUNK as u64).set_attr("units", str_attr("ms"));
        })?;
        root.create_dataset(&format!("{g}/weights"), |b| {
            empty_chunked(b, ElemKind::F32, w_chunk as u64)
                .set_attr("units", AttrValue::String(u))
                .set_attr("n_edges", AttrValue::U64(n_edges));
        })?;
        file.commit()
    };
    stage().map_err(|e| write_err(path, format!("/{g}"), e))?;
    let times_ds = file
        .dataset(&format!("{g}/times"))
        .map_err(|e| write_err(path, format!("/{g}/times"), e))?;
    let weights_ds = file
        .dataset(&format!("{g}/weights"))
        .map_err(|e| write_err(path, format!("/{g}/weights"), e))?;
    Ok(Snapshots {
        times_ds,
        times_pending: Vec::new(),
        times_written: 0,
        weights: Stream::new(weights_ds, w_chunk),
        count: 0,
    })
}

#[allow(clippy::too_many_arguments)]
fn write_edges_impl(
    file: &File,
    path: &Path,
    name: &str,
    source_pop: &str,
    target_pop: &str,
    source: &[u64],
    target: &[u64],
    weight: &[f32],
    delay_ms: &[f64],
    weight_units: &str,
) -> Result<(), H5Error> {
    let g = format!("edges/{name}");
    let n = source.len();
    let chunk = chunk_for(n);
    let root = file.root();
    let stage = || -> Result<(), hdf5_pure::Error> {
        root.create_group(&g)?;
        root.create_group(&format!("{g}/0"))?;
        let (sp, tp, wu) = (source_pop.to_string(), target_pop.to_string(), weight_units.to_string());
        root.create_dataset(&format!("{g}/source_node_id"), |b| {
            empty_chunked(b, ElemKind::U64, chunk).set_attr("node_population", AttrValue::String(sp));
        })?;
        root.create_dataset(&format!("{g}/target_node_id"), |b| {
            empty_chunked(b, ElemKind::U64, chunk).set_attr("node_population", AttrValue::String(tp));
        })?;
        root.create_dataset(&format!("{g}/edge_type_id"), |b| {
            empty_chunked(b, ElemKind::I64, chunk);
        })?;
        root.create_dataset(&format!("{g}/edge_group_id"), |b| {
            empty_chunked(b, ElemKind::U32, chunk);
        })?;
        root.create_dataset(&format!("{g}/edge_group_index"), |b| {
            empty_chunked(b, ElemKind::U64, chunk);
        })?;
        root.create_dataset(&format!("{g}/0/syn_weight"), |b| {
            empty_chunked(b, ElemKind::F32, chunk).set_attr("units", AttrValue::String(wu));
        })?;
        root.create_dataset(&format!("{g}/0/delay"), |b| {
            empty_chunked(b, ElemKind::F64, chunk).set_attr("units", str_attr("ms"));
        })?;
        file.commit()
    };
    stage().map_err(|e| write_err(path, format!("/{g}"), e))?;

    fn fill<T: H5Element + Copy>(file: &File, path: &Path, ds_path: &str, data: &[T]) -> Result<(), H5Error> {
        let mut ds = file.dataset(ds_path).map_err(|e| write_err(path, format!("/{ds_path}"), e))?;
        if !data.is_empty() {
            ds.append(data).map_err(|e| write_err(path, format!("/{ds_path}"), e))?;
        }
        Ok(())
    }
    fill(file, path, &format!("{g}/source_node_id"), source)?;
    fill(file, path, &format!("{g}/target_node_id"), target)?;
    fill(file, path, &format!("{g}/0/syn_weight"), weight)?;
    fill(file, path, &format!("{g}/0/delay"), delay_ms)?;
    // Generated columns, in blocks so that memory stays bounded.
    const BLOCK: usize = 1 << 18;
    let mut type_ds = file
        .dataset(&format!("{g}/edge_type_id"))
        .map_err(|e| write_err(path, format!("/{g}/edge_type_id"), e))?;
    let mut gid_ds = file
        .dataset(&format!("{g}/edge_group_id"))
        .map_err(|e| write_err(path, format!("/{g}/edge_group_id"), e))?;
    let mut gidx_ds = file
        .dataset(&format!("{g}/edge_group_index"))
        .map_err(|e| write_err(path, format!("/{g}/edge_group_index"), e))?;
    let zeros_i64 = vec![0i64; BLOCK.min(n)];
    let zeros_u32 = vec![0u32; BLOCK.min(n)];
    let mut start = 0usize;
    while start < n {
        let len = BLOCK.min(n - start);
        type_ds
            .append(&zeros_i64[..len])
            .map_err(|e| write_err(path, format!("/{g}/edge_type_id"), e))?;
        gid_ds
            .append(&zeros_u32[..len])
            .map_err(|e| write_err(path, format!("/{g}/edge_group_id"), e))?;
        let idx: Vec<u64> = (start as u64..(start + len) as u64).collect();
        gidx_ds
            .append(&idx)
            .map_err(|e| write_err(path, format!("/{g}/edge_group_index"), e))?;
        start += len;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------------------------

/// (population, spike times in ms, node ids 0-based within the population).
pub type PopulationSpikes = (String, Vec<f64>, Vec<u64>);
/// (recorded node ids, `[start, stop, dt]` in ms, values flattened time-major).
pub type ReportData = (Vec<u64>, [f64; 3], Vec<f32>);
/// (source node ids, target node ids, weights, delays in ms).
pub type EdgeColumns = (Vec<u64>, Vec<u64>, Vec<f32>, Vec<f64>);

fn open_read(path: &Path) -> Result<File, H5Error> {
    File::open_streaming(path).map_err(|e| H5Error::Open {
        path: path.to_path_buf(),
        reason: h5_reason(&e),
    })
}

fn ds(file: &File, path: &Path, p: &str) -> Result<Dataset, H5Error> {
    file.dataset(p).map_err(|e| read_err(path, format!("/{p}"), e))
}

fn sorted_groups(file: &File, path: &Path, p: &str) -> Result<Vec<String>, H5Error> {
    let g = file.group(p).map_err(|e| read_err(path, format!("/{p}"), e))?;
    let mut names = g.groups().map_err(|e| read_err(path, format!("/{p}"), e))?;
    names.sort();
    Ok(names)
}

/// All spike populations of a spike file, sorted by name: (population, times in ms, node ids).
/// Uses the shorter of the two dataset lengths (they can differ after a crash).
pub fn read_spikes(path: &Path) -> Result<Vec<PopulationSpikes>, H5Error> {
    let file = open_read(path)?;
    let mut out = Vec::new();
    for pop in sorted_groups(&file, path, "spikes")? {
        let ts_p = format!("spikes/{pop}/timestamps");
        let id_p = format!("spikes/{pop}/node_ids");
        let mut ts = ds(&file, path, &ts_p)?
            .read_f64()
            .map_err(|e| read_err(path, format!("/{ts_p}"), e))?;
        let mut ids = ds(&file, path, &id_p)?
            .read_u64()
            .map_err(|e| read_err(path, format!("/{id_p}"), e))?;
        let n = ts.len().min(ids.len());
        ts.truncate(n);
        ids.truncate(n);
        out.push((pop, ts, ids));
    }
    Ok(out)
}

/// Spike counts per population (sorted by name), from the dataset shapes only.
pub fn read_spike_counts(path: &Path) -> Result<Vec<(String, u64)>, H5Error> {
    let file = open_read(path)?;
    let mut out = Vec::new();
    for pop in sorted_groups(&file, path, "spikes")? {
        let mut n = u64::MAX;
        for d in ["timestamps", "node_ids"] {
            let p = format!("spikes/{pop}/{d}");
            let shape = ds(&file, path, &p)?.shape().map_err(|e| read_err(path, format!("/{p}"), e))?;
            n = n.min(shape.first().copied().unwrap_or(0));
        }
        out.push((pop, n));
    }
    Ok(out)
}

/// Text form of an attribute value: numbers as Rust prints them, arrays as `[a, b]`,
/// strings verbatim.
fn attr_to_string(v: &AttrValue) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    if let Some(ss) = v.as_strings() {
        return format!("[{}]", ss.join(", "));
    }
    match v {
        AttrValue::F32(x) => return x.to_string(),
        AttrValue::F64(x) => return x.to_string(),
        AttrValue::F32Array(x) => return fmt_list(x),
        AttrValue::F64Array(x) => return fmt_list(x),
        AttrValue::I8Array(x) => return fmt_list(x),
        AttrValue::I16Array(x) => return fmt_list(x),
        AttrValue::I32Array(x) => return fmt_list(x),
        AttrValue::I64Array(x) => return fmt_list(x),
        AttrValue::U8Array(x) => return fmt_list(x),
        AttrValue::U16Array(x) => return fmt_list(x),
        AttrValue::U32Array(x) => return fmt_list(x),
        AttrValue::U64Array(x) => return fmt_list(x),
        _ => {}
    }
    if let Some(u) = v.as_u64() {
        return u.to_string();
    }
    if let Some(i) = v.as_i64() {
        return i.to_string();
    }
    format!("{v:?}")
}

fn fmt_list<T: ToString>(x: &[T]) -> String {
    format!("[{}]", x.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
}

/// Root attributes of any hebb HDF5 file, stringified: strings verbatim, numbers as Rust
/// prints them, arrays as `[a, b]` (`version` reads `[0, 1]`, `completed` reads `0`/`1`).
pub fn read_root_attrs(path: &Path) -> Result<BTreeMap<String, String>, H5Error> {
    let file = open_read(path)?;
    let attrs = file.root().attrs().map_err(|e| read_err(path, "root attributes", e))?;
    Ok(attrs.iter().map(|(k, v)| (k.clone(), attr_to_string(v))).collect())
}

/// One frame report: (recorded node ids, [start, stop, dt] in ms, values flattened
/// time-major: value of node `j` at frame `t` is at `t * n + j`). For a file whose writer did
/// not finish, the frames are those in `data_flat` (whole frames only) and stop is derived
/// from their count.
pub fn read_report(path: &Path, population: &str, variable: &str) -> Result<ReportData, H5Error> {
    let file = open_read(path)?;
    let g = format!("report/{population}/{variable}");
    let ids_p = format!("{g}/mapping/node_ids");
    let node_ids = ds(&file, path, &ids_p)?
        .read_u64()
        .map_err(|e| read_err(path, format!("/{ids_p}"), e))?;
    let time_p = format!("{g}/mapping/time");
    let t = ds(&file, path, &time_p)?
        .read_f64()
        .map_err(|e| read_err(path, format!("/{time_p}"), e))?;
    if t.len() != 3 {
        return Err(H5Error::Read {
            path: path.to_path_buf(),
            what: format!("/{time_p}"),
            reason: format!("expected 3 values, found {}", t.len()),
        });
    }
    let mut time = [t[0], t[1], t[2]];
    let n = node_ids.len();
    let data_p = format!("{g}/data");
    let values = match file.dataset(&data_p) {
        Ok(d) => {
            let shape = d.shape().map_err(|e| read_err(path, format!("/{data_p}"), e))?;
            if shape.len() != 2 || shape[1] as usize != n {
                return Err(H5Error::Read {
                    path: path.to_path_buf(),
                    what: format!("/{data_p}"),
                    reason: format!("shape {shape:?} does not match {n} recorded neurons"),
                });
            }
            d.read_f32().map_err(|e| read_err(path, format!("/{data_p}"), e))?
        }
        Err(_) => {
            let flat_p = format!("{g}/data_flat");
            let mut v = ds(&file, path, &flat_p)?
                .read_f32()
                .map_err(|e| read_err(path, format!("/{flat_p}"), e))?;
            let frames = v.len().checked_div(n).unwrap_or(0);
            v.truncate(frames * n);
            time[1] = time[0] + frames as f64 * time[2];
            v
        }
    };
    Ok((node_ids, time, values))
}

/// Static description of projection `name`: (source ids, target ids, initial weights,
/// delays in ms), truncated to the shortest column (a writer interrupted inside
/// `write_edges` can leave them unequal).
pub fn read_edges(path: &Path, name: &str) -> Result<EdgeColumns, H5Error> {
    let file = open_read(path)?;
    let g = format!("edges/{name}");
    let p = |d: &str| format!("{g}/{d}");
    let mut s = ds(&file, path, &p("source_node_id"))?
        .read_u64()
        .map_err(|e| read_err(path, format!("/{}", p("source_node_id")), e))?;
    let mut t = ds(&file, path, &p("target_node_id"))?
        .read_u64()
        .map_err(|e| read_err(path, format!("/{}", p("target_node_id")), e))?;
    let mut w = ds(&file, path, &p("0/syn_weight"))?
        .read_f32()
        .map_err(|e| read_err(path, format!("/{}", p("0/syn_weight")), e))?;
    let mut d = ds(&file, path, &p("0/delay"))?
        .read_f64()
        .map_err(|e| read_err(path, format!("/{}", p("0/delay")), e))?;
    let n = s.len().min(t.len()).min(w.len()).min(d.len());
    s.truncate(n);
    t.truncate(n);
    w.truncate(n);
    d.truncate(n);
    Ok((s, t, w, d))
}

/// Weight snapshots of projection `name`: (times in ms, weights flattened snapshot-major:
/// weight of edge `e` in snapshot `k` is at `k * n_edges + e`). Only snapshots whose time and
/// weights are both in the file are returned. A projection without snapshots is an error.
pub fn read_snapshots(path: &Path, name: &str) -> Result<(Vec<f64>, Vec<f32>), H5Error> {
    let file = open_read(path)?;
    let g = format!("edges/{name}/snapshots");
    let times_p = format!("{g}/times");
    let w_p = format!("{g}/weights");
    let mut times = ds(&file, path, &times_p)?
        .read_f64()
        .map_err(|e| read_err(path, format!("/{times_p}"), e))?;
    let w_ds = ds(&file, path, &w_p)?;
    let n_edges = w_ds
        .attrs()
        .map_err(|e| read_err(path, format!("/{w_p} attributes"), e))?
        .get("n_edges")
        .and_then(AttrValue::as_u64)
        .ok_or_else(|| H5Error::Read {
            path: path.to_path_buf(),
            what: format!("/{w_p}"),
            reason: "attribute n_edges missing".into(),
        })?;
    let mut w = w_ds.read_f32().map_err(|e| read_err(path, format!("/{w_p}"), e))?;
    let k = if n_edges == 0 {
        times.len()
    } else {
        times.len().min(w.len() / n_edges as usize)
    };
    times.truncate(k);
    w.truncate(k * n_edges as usize);
    Ok((times, w))
}
