//! The `bora` subcommands, one module each.

pub mod tracing_setup;
