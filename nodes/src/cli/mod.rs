//! The `bora` subcommands, one module each.

pub mod bench;
pub mod generate;
pub mod sim;
pub mod tracing_setup;
