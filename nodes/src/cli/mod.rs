//! The `bora` subcommands, one module each.

pub mod agent;
pub mod bench;
pub mod common;
pub mod eval;
pub mod generate;
pub mod intent;
pub mod listen;
mod listen_mic;
pub mod plan_line;
pub mod profile;
pub mod say;
#[cfg(feature = "ros")]
pub mod say_audio;
pub mod sim;
pub mod tokenize;
pub mod tracing_setup;
pub mod tune;
mod tune_data;
