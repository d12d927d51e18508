"""Start the simulated robot (`bora sim`) and the agent together: the demo without hardware.

    ros2 launch bora sim_demo.launch.py
    ros2 launch bora sim_demo.launch.py world:=/path/to/world.yaml params_file:=... model:=none

Then speak to it: `bora say "move forward one meter" --wait`.
Launch arguments:
  world        the simulator's world file (default: <share/bora>/worlds/box_ahead.yaml)
  params_file  the agent's parameter profile (default: <share/bora>/params/cpu.yaml)
  model        overrides the profile's model when not empty
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    share = FindPackageShare("bora")
    world = LaunchConfiguration("world")
    return LaunchDescription([
        DeclareLaunchArgument(
            "world",
            default_value=PathJoinSubstitution([share, "worlds", "box_ahead.yaml"]),
            description="bora sim world file (walls, boxes, start pose)",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([share, "params", "cpu.yaml"]),
            description="bora agent parameter profile (YAML)",
        ),
        DeclareLaunchArgument(
            "model",
            default_value="",
            description="model overriding the profile's; empty keeps the profile's",
        ),
        Node(
            package="bora",
            executable="bora",
            name="bora_sim",
            arguments=["sim", "--world", world],
            output="screen",
            emulate_tty=True,
        ),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(PathJoinSubstitution([share, "launch", "agent.launch.py"])),
            launch_arguments={
                "params_file": LaunchConfiguration("params_file"),
                "model": LaunchConfiguration("model"),
            }.items(),
        ),
    ])
