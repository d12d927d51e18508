//! The simulator's error type: what was wrong with which world file key or setting,
//! and what would be valid.

/// Everything that can go wrong building or loading a simulation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A simulator world file could not be read.
    #[error("cannot read world file {} (give an existing YAML file, or no file for the built-in room)", path.display())]
    WorldRead {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A simulator world file is not valid YAML.
    #[error("world file {} is not valid YAML: {reason}", path.display())]
    WorldSyntax {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// 1-based column of the error (0 when unknown).
        column: usize,
        /// What the YAML parser said.
        reason: String,
    },
    /// A key in a simulator world file is missing, unknown or has a wrong value.
    #[error("world file {}: `{key}` {reason}", path.display())]
    WorldKey {
        /// The file.
        path: std::path::PathBuf,
        /// The key's path in the document, e.g. `boxes[1].size`.
        key: String,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A simulator setting (robot, scanner or a shape built in code) is invalid.
    #[error("simulator setting `{param}` = {value} is invalid: {reason}")]
    SimParam {
        /// The setting's name, e.g. `range_max`.
        param: String,
        /// The value it was given.
        value: String,
        /// Why it is invalid and what would be valid.
        reason: String,
    },
}

/// Result with the simulator's error type.
pub type Result<T> = std::result::Result<T, Error>;
