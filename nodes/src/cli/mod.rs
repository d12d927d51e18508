//! The `bora` subcommands, one module each.

pub mod sim;
pub mod tracing_setup;
