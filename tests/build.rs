// The test binaries link r2r, so they need the same libpython link as the `bora` binary.
include!("../nodes/build.rs");
