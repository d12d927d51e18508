//! The profiles apply to `bora agent` started under a pushed ROS namespace, from both
//! launch formats, as launch/README.md says: a launch file of the user's pushes
//! `robot1` (`PushRosNamespace` in a `GroupAction`, `<push-ros-namespace>` in a
//! `<group>`) and includes bora's agent launch file; the node it would start is run the
//! way launch_ros runs it (`--ros-args -r __ns:=/robot1 ...`) with `--check-params`, and
//! every value of the profile must reach it. A profile keyed `/**/bora_agent:`, which
//! r2r would silently ignore, is refused, naming the key.

use std::path::Path;

use anyhow::{ensure, Context};
use bora_tests::isolate_ros;
use bora_tests::launch::{
    check_params, evaluate_launch, install, json_matches_yaml, processes, profile_values,
    stdout_json,
};
use serde_json::Value as Json;

const PY: &str = r#"from launch import LaunchDescription
from launch.actions import GroupAction, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import PathJoinSubstitution
from launch_ros.actions import PushRosNamespace
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    agent = PathJoinSubstitution([FindPackageShare("bora"), "launch", "agent.launch.py"])
    return LaunchDescription([
        GroupAction([
            PushRosNamespace("robot1"),
            IncludeLaunchDescription(PythonLaunchDescriptionSource(agent)),
        ]),
    ])
"#;

const XML: &str = r#"<launch>
  <group>
    <push-ros-namespace namespace="robot1"/>
    <include file="$(find-pkg-share bora)/launch/agent.launch.xml"/>
  </group>
</launch>
"#;

/// The ROS arguments launch_ros gives the node: the namespace remap, then the node's own.
fn ros_args(node: &Json) -> anyhow::Result<Vec<String>> {
    let ns = node["namespace"].as_str().context("no namespace")?;
    let mut args = vec!["-r".to_owned(), format!("__ns:={ns}")];
    for a in node["ros_arguments"]
        .as_array()
        .context("no ros_arguments")?
    {
        args.push(
            a.as_str()
                .context("a ROS argument is not a string")?
                .to_owned(),
        );
    }
    Ok(args)
}

/// Evaluates the user's launch file `name` in `prefix` and checks the agent it starts.
fn check_launch(prefix: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let user = prefix.join("share/bora/launch").join(name);
    std::fs::write(&user, text)?;
    let launched = evaluate_launch(prefix, name, &[])?;
    let nodes = processes(prefix, &launched)?;
    let agent = nodes.get("bora_agent").context("no bora_agent starts")?;
    ensure!(
        agent["namespace"] == "/robot1",
        "{name}: namespace {}",
        agent["namespace"]
    );
    let args = ros_args(agent)?;
    let profile = args
        .iter()
        .skip_while(|a| *a != "--params-file")
        .nth(1)
        .context("no --params-file")?
        .clone();
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["-p", "model:=none"]);
    let out = check_params(&all)?;
    let got = stdout_json(&out, &format!("{name}: bora agent --check-params {all:?}"))?;
    for (param, want) in profile_values(Path::new(&profile))? {
        if param == "model" {
            continue;
        }
        ensure!(
            json_matches_yaml(&got[&param], &want),
            "{name}: under /robot1 `{param}` is {} in the node but {want:?} in {profile}",
            got[&param]
        );
    }
    Ok(())
}

#[test]
fn profiles_apply_under_a_pushed_namespace_from_both_launch_formats() -> anyhow::Result<()> {
    isolate_ros();
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("prefix");
    install(&prefix)?;
    check_launch(&prefix, "robot1_agent.launch.py", PY)?;
    check_launch(&prefix, "robot1_agent.launch.xml", XML)?;

    // The key the old advice gave: refused under the namespace, naming the key.
    let bad = dir.path().join("wildcard.yaml");
    std::fs::write(
        &bad,
        "/**/bora_agent:\n  ros__parameters:\n    planner:\n      max_linear_speed_mps: 0.2\n",
    )?;
    let bad = bad.to_string_lossy();
    let out = check_params(&["-r", "__ns:=/robot1", "--params-file", &bad])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success(), "a /**/bora_agent key was accepted");
    ensure!(
        stderr.contains("/**/bora_agent"),
        "the error does not name the key:\n{stderr}"
    );
    Ok(())
}
