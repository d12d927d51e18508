// Shared by nodes/build.rs and tests/build.rs (included, so no inner docs here).

use std::process::Command;

/// Links libpython into binaries that link ROS 2 from the PyPI wheels.
fn link_libpython() {
    println!("cargo:rerun-if-env-changed=BORA_VENV");
    println!("cargo:rerun-if-env-changed=BORA_VENV_ACTIVE");
    // Only for the wheels (scripts/env.sh sets BORA_VENV_ACTIVE); a sourced distro needs nothing.
    let (Some(_), Some(venv)) = (
        std::env::var_os("BORA_VENV_ACTIVE"),
        std::env::var_os("BORA_VENV"),
    ) else {
        return;
    };
    // The wheels' librcl pulls in *_generator_py libraries, which need libpython's symbols.
    let python = std::path::Path::new(&venv).join("bin/python");
    let script = "import sysconfig as s; print(s.get_config_var('LIBDIR')); print(s.get_config_var('LDLIBRARY'))";
    let Ok(out) = Command::new(&python).args(["-c", script]).output() else {
        println!("cargo:warning=cannot run {} to find libpython; run scripts/setup.sh", python.display());
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    if let (Some(libdir), Some(ldlib)) = (lines.next(), lines.next()) {
        let name = ldlib.trim_start_matches("lib").split(".so").next().unwrap_or("python3");
        // --no-as-needed: no bora symbol uses libpython, so a default link would drop it;
        // link args (unlike link-lib) reach only this package's own binaries and tests.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libdir}");
        println!("cargo:rustc-link-arg=-Wl,--push-state,--no-as-needed,-L{libdir},-l{name},--pop-state");
    }
}
