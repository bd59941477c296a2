pub mod common;
mod engine;
mod errors;
mod models;
mod neurons;
