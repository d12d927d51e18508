//! The parameter files named in `--ros-args`, checked before ROS reads them.
//!
//! rcl reads every `--params-file` when r2r creates its context, and r2r 0.9.7 panics
//! there on a file that is missing or not valid (`Couldn't parse params file`, exit code
//! 101). So the nodes check each file first (it exists, is readable and parses) and
//! refuse with the path and the reason. After the node exists, its name is known, and
//! each file's node keys and parameter names are compared with it: r2r 0.9.7 applies a
//! key only when it is `/**`, `**`, the node's fully qualified name or its bare name
//! (`/**/bora_agent:` is silently ignored), so any other key, and any parameter under a
//! matching key that the node does not declare, is reported.
//!
//! This module is ROS-free (unit-tested without a ROS installation); the parsing itself
//! is rcl's own parser, in [`crate::ros::params_file`], so "parses" means what rcl means.

use std::path::{Path, PathBuf};

/// A problem with a parameter file or with the ROS arguments, found before ROS reads them
/// or after the node exists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsFileError {
    /// `--params-file` names a path that does not exist.
    #[error("params file {} does not exist: check the path given to --params-file", path.display())]
    Missing {
        /// The path as given.
        path: PathBuf,
    },
    /// The path exists but is a directory or another non-file.
    #[error("params file {} is not a file: --params-file takes a YAML file", path.display())]
    NotAFile {
        /// The path as given.
        path: PathBuf,
    },
    /// The file cannot be opened or read.
    #[error("params file {} cannot be read ({source}): check its permissions", path.display())]
    Unreadable {
        /// The path as given.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// rcl's parser rejects the file.
    #[error(
        "params file {} is not a valid ROS 2 parameter file ({reason}); the layout is \
         `bora_agent:` / `ros__parameters:` / `name: value`",
        path.display()
    )]
    Malformed {
        /// The path as given.
        path: PathBuf,
        /// rcl's message.
        reason: String,
    },
    /// `--params-file` is the last argument.
    #[error("--params-file is the last ROS argument: give it a YAML file")]
    MissingPath,
    /// rcl rejects the ROS arguments (e.g. a `-p name:=value` it cannot parse).
    #[error("invalid ROS arguments ({reason}): see `--ros-args --help` of any ROS 2 node")]
    BadRosArguments {
        /// rcl's message.
        reason: String,
    },
    /// A command-line argument is not UTF-8 (r2r cannot pass it to rcl).
    #[error("command-line argument {position} is not valid UTF-8 ({lossy:?}): ROS 2 arguments must be UTF-8")]
    NotUtf8 {
        /// Its position in the command line (0 = the program).
        position: usize,
        /// The argument with the bad bytes replaced by U+FFFD.
        lossy: String,
    },
    /// A top-level key that names no node this node is: its parameters are ignored.
    #[error(
        "params file {}: key `{key}` matches no name of this node ({fqn}), so its parameters \
         are ignored; r2r applies only `/**`, `**`, `{name}` or `{fqn}`",
        path.display()
    )]
    UnknownNodeKey {
        /// The file.
        path: PathBuf,
        /// The key as rcl read it.
        key: String,
        /// The node's bare name.
        name: String,
        /// The node's fully qualified name.
        fqn: String,
    },
    /// A parameter under a key that applies to this node, which the node does not declare.
    #[error(
        "params file {}: parameter `{parameter}` under `{key}` is not a parameter of {node} \
         (see `bora {node_cmd} --list-params`)",
        path.display()
    )]
    UndeclaredParameter {
        /// The file.
        path: PathBuf,
        /// The node key it sits under.
        key: String,
        /// The parameter's dotted name.
        parameter: String,
        /// The node's fully qualified name.
        node: String,
        /// The subcommand that lists the declared parameters (`agent`, `sim`).
        node_cmd: &'static str,
    },
}

/// One node section of a parameter file: its key and its parameters' dotted names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSection {
    /// The key as rcl read it (`bora_agent`, `/**`, `/robot1/bora_agent`, ...).
    pub key: String,
    /// The dotted names of the parameters under it.
    pub parameters: Vec<String>,
}

/// A parameter file that exists and parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsFile {
    /// The path as given.
    pub path: PathBuf,
    /// Its node sections, in file order.
    pub sections: Vec<NodeSection>,
}

/// The paths given to `--params-file` in the ROS sections of `args` (after each
/// `--ros-args`, up to a `--` that ends it), in order.
pub fn params_file_args(args: &[String]) -> Result<Vec<PathBuf>, ParamsFileError> {
    let mut files = Vec::new();
    let mut in_ros = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--ros-args" => in_ros = true,
            "--" if in_ros => in_ros = false,
            "--params-file" if in_ros => match it.next() {
                Some(p) => files.push(PathBuf::from(p)),
                None => return Err(ParamsFileError::MissingPath),
            },
            _ => {}
        }
    }
    Ok(files)
}

/// The process's arguments as UTF-8 (r2r reads them with `std::env::args`, which panics
/// on anything else).
pub fn utf8_args() -> Result<Vec<String>, ParamsFileError> {
    std::env::args_os()
        .enumerate()
        .map(|(position, a)| {
            a.into_string().map_err(|a| ParamsFileError::NotUtf8 {
                position,
                lossy: a.to_string_lossy().into_owned(),
            })
        })
        .collect()
}

/// Checks that `path` is a readable file (the parse is rcl's, done after this).
pub fn check_readable(path: &Path) -> Result<(), ParamsFileError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ParamsFileError::Missing {
            path: path.to_owned(),
        },
        _ => ParamsFileError::Unreadable {
            path: path.to_owned(),
            source: e,
        },
    })?;
    if !meta.is_file() {
        return Err(ParamsFileError::NotAFile {
            path: path.to_owned(),
        });
    }
    std::fs::File::open(path).map_err(|source| ParamsFileError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    Ok(())
}

/// Whether r2r 0.9.7 applies a params-file key to the node named `name` (bare) with
/// fully qualified name `fqn` (its `Node::load_params`, copied from rclcpp).
pub fn key_applies(key: &str, name: &str, fqn: &str) -> bool {
    key == "/**" || key == "**" || key == fqn || key == name
}

/// Whether `key` plainly names one of `others` (bare or fully qualified, no wildcard):
/// a section for another node of a shared file, not a mistake.
fn names_other_node(key: &str, others: &[&str]) -> bool {
    !key.contains('*')
        && key
            .rsplit('/')
            .next()
            .is_some_and(|last| others.contains(&last))
}

/// What the node should hear about a parsed file: node keys that do not apply to it
/// (keys plainly naming one of `other_nodes` are left alone: a shared file), and
/// parameters under applying keys that are not in `declared` (`use_sim_time` is ROS's).
pub fn check_sections(
    file: &ParamsFile,
    name: &str,
    fqn: &str,
    declared: &[&str],
    other_nodes: &[&str],
    node_cmd: &'static str,
) -> Vec<ParamsFileError> {
    let mut found = Vec::new();
    for s in &file.sections {
        if !key_applies(&s.key, name, fqn) {
            if !names_other_node(&s.key, other_nodes) {
                found.push(ParamsFileError::UnknownNodeKey {
                    path: file.path.clone(),
                    key: s.key.clone(),
                    name: name.to_owned(),
                    fqn: fqn.to_owned(),
                });
            }
            continue;
        }
        for p in &s.parameters {
            if p != "use_sim_time" && !declared.contains(&p.as_str()) {
                found.push(ParamsFileError::UndeclaredParameter {
                    path: file.path.clone(),
                    key: s.key.clone(),
                    parameter: p.clone(),
                    node: fqn.to_owned(),
                    node_cmd,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn params_files_are_found_only_in_ros_sections() {
        let a = args("bora agent --params-file no.yaml --ros-args -p a:=1 --params-file one.yaml -- --params-file not.yaml --ros-args --params-file two.yaml");
        assert_eq!(
            params_file_args(&a).expect("well formed"),
            vec![PathBuf::from("one.yaml"), PathBuf::from("two.yaml")]
        );
        assert!(matches!(
            params_file_args(&args("bora agent --ros-args --params-file")),
            Err(ParamsFileError::MissingPath)
        ));
    }

    #[test]
    fn only_the_keys_r2r_applies_count_as_matching() {
        for key in ["/**", "**", "bora_agent", "/robot1/bora_agent"] {
            assert!(
                key_applies(key, "bora_agent", "/robot1/bora_agent"),
                "{key}"
            );
        }
        for key in [
            "/**/bora_agent",
            "/bora_agent",
            "robot1/bora_agent",
            "bora_sim",
        ] {
            assert!(
                !key_applies(key, "bora_agent", "/robot1/bora_agent"),
                "{key}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_undeclared_parameters_are_reported_by_file_and_key() {
        let file = ParamsFile {
            path: PathBuf::from("p.yaml"),
            sections: vec![
                NodeSection {
                    key: "/**/bora_agent".into(),
                    parameters: vec!["threads".into()],
                },
                NodeSection {
                    key: "bora_sim".into(),
                    parameters: vec!["rate".into()],
                },
                NodeSection {
                    key: "/**".into(),
                    parameters: vec!["use_sim_time".into(), "thread".into()],
                },
                NodeSection {
                    key: "bora_agent".into(),
                    parameters: vec!["threads".into()],
                },
            ],
        };
        let found = check_sections(
            &file,
            "bora_agent",
            "/bora_agent",
            &["threads"],
            &["bora_sim"],
            "agent",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            matches!(&found[0], ParamsFileError::UnknownNodeKey { key, path, .. }
                if key == "/**/bora_agent" && path == Path::new("p.yaml")),
            "{found:?}"
        );
        assert!(
            matches!(&found[1], ParamsFileError::UndeclaredParameter { key, parameter, .. }
                if key == "/**" && parameter == "thread"),
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_file_and_a_directory_are_told_apart() {
        let dir = std::env::temp_dir();
        assert!(matches!(
            check_readable(&dir.join("bora-no-such-params-file.yaml")),
            Err(ParamsFileError::Missing { .. })
        ));
        assert!(matches!(
            check_readable(&dir),
            Err(ParamsFileError::NotAFile { .. })
        ));
    }
}
