mod analysis;
mod balance;
pub mod common;
mod engine;
mod errors;
mod hdf5_module;
mod models;
#[cfg(feature = "mpi")]
mod mpi;
mod neurons;
mod output;
pub mod parts;
mod plasticity;
mod plot;
mod protocol;
mod rate;
mod rate_cli;
mod rate_spiking;
mod stdp_engine;
