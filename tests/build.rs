//! The test binaries link r2r too, so they need the same libpython link as the
//! `bora` binary.

include!("../nodes/build_libpython.rs");

fn main() {
    link_libpython();
}
