//! The `bora` subcommands, one module each.

pub mod bench;
pub mod generate;
pub mod sim;
pub mod tokenize;
pub mod tracing_setup;
