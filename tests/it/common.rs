use hebb::engine::Simulation;
use hebb::io::{MemoryRecorder, RecordPlan};
use hebb::spec::{self, ModelSpec};
use std::sync::atomic::AtomicBool;

/// Parse a model from text (panics on invalid test input).
pub fn model(text: &str) -> ModelSpec {
    spec::parse(text, "test.toml".as_ref(), &[]).unwrap_or_else(|e| panic!("{e}")).0
}

/// Build and run a model with `threads`, recording per its `[record]` table.
pub fn run(model: &ModelSpec, threads: usize) -> (Simulation, MemoryRecorder) {
    let net = hebb::build::build(model).unwrap();
    let mut sim = Simulation::new(net, threads).unwrap();
    let mut rec = MemoryRecorder::new(RecordPlan::from_spec(model));
    sim.run(model.steps(), &mut rec, &AtomicBool::new(false), |_| {}).unwrap();
    (sim, rec)
}

/// Path of a shipped model file.
pub fn model_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(name)
}
