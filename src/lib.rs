//! # hebb
//!
//! An event-driven simulator of spiking neural networks made for studying synaptic plasticity:
//! leaky integrate-and-fire neurons in excitatory and inhibitory populations (Dale's law: weights
//! are magnitudes, the sign comes from the presynaptic population), delivered through CSR
//! synapses and ring buffers, advanced in integer time steps, bit-identical for any number of
//! threads.
//!
//! Data flows one way: model file → [`spec`] → [`build`] → [`Network`] → [`engine`] → [`io`].
//!
//! ```
//! use hebb::{spec, build, engine::Simulation, io::{MemoryRecorder, RecordPlan}};
//! let text = r#"
//! [simulation]
//! dt = 0.1
//! duration = 200.0
//! [[population]]
//! name = "exc"
//! type = "excitatory"
//! size = 10
//! neuron = { model = "lif_cuba", e_l = -49.0, v_th = -50.0, v_reset = -60.0 }
//! "#;
//! let (model, _) = spec::parse(text, "inline.toml".as_ref(), &[]).unwrap();
//! let net = build::build(&model).unwrap();
//! let mut sim = Simulation::new(net, 1).unwrap();
//! let mut rec = MemoryRecorder::new(RecordPlan::from_spec(&model));
//! let stop = std::sync::atomic::AtomicBool::new(false);
//! sim.run(model.steps(), &mut rec, &stop, |_| {}).unwrap();
//! // e_l above threshold: every neuron fires regularly.
//! assert!(rec.data.spikes[0].len() > 10);
//! ```
#![deny(missing_docs)]

pub mod alloc;
pub mod analysis;
pub mod build;
pub mod cli;
pub mod dist;
pub mod engine;
pub mod error;
pub mod input;
pub mod io;
pub mod network;
pub mod neuron;
pub mod plasticity;
pub mod plot;
pub mod protocol;
pub mod quantity;
pub mod rate;
pub mod rng;
pub mod spec;
pub mod summary;
pub mod synapse;

pub use error::{Error, Result};
pub use network::Network;
