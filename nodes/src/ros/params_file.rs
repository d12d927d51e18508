//! The pre-flight check of the ROS arguments, with rcl's own parsers, before r2r creates
//! its context (where r2r 0.9.7 panics on a bad params file or argument). See
//! [`crate::params_files`] for what is checked and reported.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use r2r_rcl as rcl;

use crate::params_files::{
    check_readable, params_file_args, utf8_args, NodeSection, ParamsFile, ParamsFileError,
};

/// rcutils' error message of this thread, and the error state cleared.
fn take_rcl_error() -> String {
    // SAFETY: rcutils keeps a thread-local error state; reading it returns a copy (a
    // fixed-size, NUL-terminated buffer) and resetting it has no preconditions.
    let e = unsafe { rcl::rcutils_get_error_string() };
    // SAFETY: as above.
    unsafe { rcl::rcutils_reset_error() };
    let bytes: Vec<u8> = e
        .str_
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

/// Reads `ptr` (a NUL-terminated C string owned by rcl) into a `String`.
///
/// # Safety
/// `ptr` must be null or point to a NUL-terminated string valid for this call.
unsafe fn c_string(ptr: *const std::os::raw::c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// Parses one params file with rcl's YAML parameter parser (the one `rcl_init` uses):
/// its node keys and parameter names, or why it is not a parameter file.
pub fn parse(path: &Path) -> Result<ParamsFile, ParamsFileError> {
    check_readable(path)?;
    let malformed = |reason: String| ParamsFileError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| malformed("the path contains a NUL byte".into()))?;
    // SAFETY: the default allocator is a plain value; init returns an owned structure
    // or null.
    let params = unsafe { rcl::rcl_yaml_node_struct_init(rcl::rcutils_get_default_allocator()) };
    if params.is_null() {
        return Err(malformed(
            "rcl could not allocate its parameter structure".into(),
        ));
    }
    // SAFETY: `c_path` is a valid C string and `params` an initialised structure; on
    // failure rcl leaves `params` owned by us (freed below).
    let ok = unsafe { rcl::rcl_parse_yaml_file(c_path.as_ptr(), params) };
    let result = if ok {
        let mut sections = Vec::new();
        // SAFETY: rcl filled `params`: `num_nodes` node names and node parameter tables,
        // each with `num_params` names; all valid until the fini below.
        unsafe {
            let p = &*params;
            for i in 0..p.num_nodes {
                let key = c_string(*p.node_names.add(i));
                let np = &*p.params.add(i);
                let parameters = (0..np.num_params)
                    .map(|j| c_string(*np.parameter_names.add(j)))
                    .collect();
                sections.push(NodeSection { key, parameters });
            }
        }
        Ok(ParamsFile {
            path: path.to_owned(),
            sections,
        })
    } else {
        Err(malformed(take_rcl_error()))
    };
    // SAFETY: `params` came from rcl_yaml_node_struct_init and is freed once.
    unsafe { rcl::rcl_yaml_node_struct_fini(params) };
    result
}

/// Checks the process's ROS arguments as `rcl_init` will: every argument UTF-8, every
/// `--params-file` a readable file that rcl parses, and the whole `--ros-args` section
/// accepted by rcl's argument parser. Returns the parsed files (for
/// [`crate::params_files::check_sections`] once the node's name is known).
pub fn preflight() -> Result<Vec<ParamsFile>, ParamsFileError> {
    let args = utf8_args()?;
    let files = params_file_args(&args)?
        .iter()
        .map(|p| parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let c_args = args
        .iter()
        .map(|a| CString::new(a.as_str()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ParamsFileError::BadRosArguments {
            reason: "an argument contains a NUL byte".into(),
        })?;
    let argv: Vec<*const std::os::raw::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    let argc = std::os::raw::c_int::try_from(argv.len()).map_err(|_| {
        ParamsFileError::BadRosArguments {
            reason: "too many arguments".into(),
        }
    })?;
    // SAFETY: a zero-initialised argument structure is what rcl_parse_arguments takes;
    // `argv` holds `argc` valid C strings that outlive the call; the structure is
    // finalised once below whether or not parsing succeeded.
    let reason = unsafe {
        let mut parsed = rcl::rcl_get_zero_initialized_arguments();
        let ret = rcl::rcl_parse_arguments(
            argc,
            argv.as_ptr(),
            rcl::rcutils_get_default_allocator(),
            &mut parsed,
        );
        let reason = (ret != rcl::RCL_RET_OK as rcl::rcl_ret_t).then(take_rcl_error);
        if !parsed.impl_.is_null() {
            rcl::rcl_arguments_fini(&mut parsed);
            rcl::rcutils_reset_error();
        }
        reason
    };
    match reason {
        Some(reason) => Err(ParamsFileError::BadRosArguments { reason }),
        None => Ok(files),
    }
}

/// How a node treats what [`report`] finds.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The node's bare names of the other bora nodes (their sections in a shared file are
    /// not mistakes).
    pub other_nodes: &'static [&'static str],
    /// The subcommand that lists the node's parameters (`agent`, `sim`).
    pub node_cmd: &'static str,
    /// A key that matches no name of the node is an error (else a warning).
    pub unknown_key_is_error: bool,
    /// An undeclared parameter under a matching key is an error (else a warning).
    pub undeclared_is_error: bool,
}

/// Compares the parsed `files` with the node's names and `declared` parameters: warns
/// (tracing) about each finding the policy lets pass and returns the first it does not.
/// Returns the undeclared parameter names it warned about.
pub fn report(
    node: &r2r::Node,
    files: &[ParamsFile],
    declared: &[&str],
    policy: Policy,
) -> Result<Vec<String>, ParamsFileError> {
    let name = node.name().unwrap_or_default();
    let fqn = node.fully_qualified_name().unwrap_or_default();
    let mut warned = Vec::new();
    for file in files {
        let found = crate::params_files::check_sections(
            file,
            &name,
            &fqn,
            declared,
            policy.other_nodes,
            policy.node_cmd,
        );
        for f in found {
            let is_error = match &f {
                ParamsFileError::UnknownNodeKey { .. } => policy.unknown_key_is_error,
                ParamsFileError::UndeclaredParameter { parameter, .. } => {
                    warned.push(parameter.clone());
                    policy.undeclared_is_error
                }
                _ => true,
            };
            if is_error {
                return Err(f);
            }
            tracing::warn!("{f}");
        }
    }
    Ok(warned)
}
