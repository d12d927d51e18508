//! Build script of bora-nodes: the link-time workaround for ROS 2 from PyPI wheels
//! (see scripts/env.sh).

include!("build_libpython.rs");

fn main() {
    link_libpython();
}
