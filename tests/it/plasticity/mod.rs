//! Tests of the plasticity rules (`src/plasticity/`), by topic.
//!
//! `harness` is a small reference event loop (per-neuron lazy traces read at t⁻, one synapse,
//! discretised trains); the other modules use it to check the rules against their definitions,
//! their rate limits and published numbers.

mod bounds;
mod drift;
mod exact;
mod harness;
mod science;
mod spec;
