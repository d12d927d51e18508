"""Start the bora agent (`bora agent`) with a parameter profile.

    ros2 launch bora agent.launch.py
    ros2 launch bora agent.launch.py params_file:=/path/to/profile.yaml model:=gemma3-270m

Needs the `bora` package in an ament prefix (scripts/install-ros-package.sh makes one;
see launch/README.md). Launch arguments:
  params_file  parameter profile (default: <share/bora>/params/cpu.yaml)
  model        overrides the profile's model when not empty (a name in $BORA_MODELS,
               a GGUF path, or "none" for the deterministic parser only)
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration, NotEqualsSubstitution, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    params_file = LaunchConfiguration("params_file")
    model = LaunchConfiguration("model")
    # True when the `model` argument was given (not empty). A substitution, not a Python
    # expression built from the value, so any path works (quotes, spaces).
    model_given = NotEqualsSubstitution(model, "")

    def agent(condition, parameters):
        return Node(
            package="bora",
            executable="bora",
            name="bora_agent",
            arguments=["agent"],
            # The profile goes to bora as a ROS argument, not through `parameters=`:
            # launch_ros drops a `parameters=` file that does not exist with only a warning
            # (the node would run on defaults); bora refuses a missing or malformed
            # --params-file, naming it, and the launch shows the node exit.
            ros_arguments=["--params-file", params_file],
            parameters=parameters,
            output="screen",
            emulate_tty=True,
            condition=condition,
        )

    return LaunchDescription([
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare("bora"), "params", "cpu.yaml"]),
            description="bora agent parameter profile (YAML)",
        ),
        DeclareLaunchArgument(
            "model",
            default_value="",
            description="model overriding the profile's: a name in $BORA_MODELS, a GGUF path, or none; empty keeps the profile's",
        ),
        # One of the two starts: the profile alone, or the profile with `model` overridden.
        agent(UnlessCondition(model_given), []),
        agent(IfCondition(model_given), [{"model": ParameterValue(model, value_type=str)}]),
    ])
