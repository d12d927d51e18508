//! `bora profile`: does a model on this board meet the robot's latency needs? Runs a
//! reproducible workload (model bench, then the whole pipeline in-process with the
//! simulated robot) and reports the machine, the model's speed and every latency of the
//! pipeline as a table, versioned JSON, an SVG and (with `--trace`) a Perfetto trace;
//! `compare` flags regressions between two reports.

pub mod compare;
pub mod machine;
pub mod plot;
pub mod progress;
pub mod report;
pub mod speech;
pub mod stress;
pub mod table;
pub mod threads;
pub mod workload;

pub use report::{ProfileReport, JSON_SCHEMA, SCHEMA};
pub use workload::{run, ProfileOptions, DEFAULT_COMMANDS};
