//! Shared helpers for bora's workspace-level tests: locating the venv, the `bora`
//! binary and the rclpy peers, and giving each test run its own ROS_DOMAIN_ID.
