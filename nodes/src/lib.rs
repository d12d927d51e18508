//! bora-nodes: the ROS 2 boundary of bora (r2r, behind the `ros` feature) and the
//! library half of the `bora` binary: parameters, model loading, the nodes.

pub mod audio;
pub mod eval;
pub mod hearing;
pub mod model_loader;
pub mod param_table;
pub mod params;
pub mod params_files;
pub mod profile;
pub mod signals;
pub mod sim_params;

#[cfg(feature = "ros")]
pub mod agent_node;
#[cfg(feature = "ros")]
pub mod ros;
#[cfg(feature = "ros")]
pub mod sim_node;
