pub mod common;
mod engine;
mod errors;
mod hdf5_module;
mod models;
mod neurons;
mod output;
mod plasticity;
mod stdp_engine;
