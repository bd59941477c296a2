//! Criterion benchmarks of the engine: one simulated second of `models/cuba.toml` on one thread
//! (target: under 25 ms; Brian2 2.9 standalone 58-81 ms, NEST 3.10 730 ms on the same kind of
//! machine), and its construction (target: under 50 ms). `hebb bench MODEL` reports the same
//! figures for any model, with events per second and bytes per synapse.

use criterion::{criterion_group, criterion_main, Criterion};
use hebb::engine::Simulation;
use hebb::io::NullRecorder;
use std::sync::atomic::AtomicBool;

/// The allocator of the `hebb` binary, so that these figures are those of `hebb bench`.
#[global_allocator]
static ALLOC: hebb::alloc::StaggeredAlloc = hebb::alloc::StaggeredAlloc::new();

fn model(name: &str) -> hebb::spec::ModelSpec {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(name);
    hebb::spec::load(&p, &[]).unwrap().0
}

fn cuba(c: &mut Criterion) {
    let m = model("cuba.toml");
    let mut g = c.benchmark_group("cuba_4k");
    g.sample_size(10);
    g.bench_function("build", |b| b.iter(|| hebb::build::build(&m).unwrap()));
    g.bench_function("simulate_1s_1thread", |b| {
        b.iter_batched(
            || Simulation::new(hebb::build::build(&m).unwrap(), 1).unwrap(),
            |mut sim| sim.run(m.steps(), &mut NullRecorder, &AtomicBool::new(false), |_| {}).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, cuba);
criterion_main!(benches);
