# bora environment: `source scripts/env.sh` after scripts/setup.sh.
#
# Afterwards `python3 -c 'import rclpy'` works, `cargo build --workspace` builds r2r, and
# `bora` runs. Every ROS 2 workaround bora needs lives here, once.
# Works in bash and zsh; changes nothing outside this shell.

if [ -n "${BASH_SOURCE:-}" ]; then _bora_src="${BASH_SOURCE[0]}"; else _bora_src="${(%):-%x}"; fi
BORA_ROOT="$(cd "$(dirname "$_bora_src")/.." && pwd)"
export BORA_ROOT
unset _bora_src

# DDS traffic stays on this host unless the user chose a range: without this, Fast DDS
# multicasts discovery on the network interface (tests, CI and the demo must not).
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export BORA_MODELS="${BORA_MODELS:-$HOME/.cache/bora/models}"

if [ -n "${ROS_DISTRO:-}" ] && [ -n "${AMENT_PREFIX_PATH:-}" ] && [ -z "${BORA_VENV_ACTIVE:-}" ]; then
  : # A sourced ROS 2 (e.g. /opt/ros/jazzy/setup.bash): use it as it is.
else
  BORA_VENV="${BORA_VENV:-$BORA_ROOT/.venv}"
  export BORA_VENV BORA_VENV_ACTIVE=1
  if [ ! -x "$BORA_VENV/bin/python" ]; then
    echo "bora env: no venv at $BORA_VENV; run scripts/setup.sh first" >&2
  else
    _bora_site="$("$BORA_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    # r2r's build finds message packages and libraries through the ament/CMake prefixes.
    export AMENT_PREFIX_PATH="$BORA_VENV" CMAKE_PREFIX_PATH="$BORA_VENV"
    # The wheels are Kilted; r2r 0.9.7 rejects `kilted`, and its jazzy code path works.
    export ROS_DISTRO=jazzy ROS_VERSION=2 ROS_PYTHON_VERSION=3
    export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
    # The wheels keep shared libraries in $VENV/lib and in per-package ros_*.libs folders.
    _bora_ld="$BORA_VENV/lib"
    for _d in "$_bora_site"/ros_*.libs; do [ -d "$_d" ] && _bora_ld="$_bora_ld:$_d"; done
    # librcl from the wheels pulls in *_generator_py libraries, which need libpython.
    _bora_pylib="$("$BORA_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')"
    _bora_ld="$_bora_ld:$_bora_pylib"
    case ":${LD_LIBRARY_PATH:-}:" in *":$BORA_VENV/lib:"*) ;; *) export LD_LIBRARY_PATH="$_bora_ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
    export LIBRARY_PATH="$BORA_VENV/lib:$_bora_pylib${LIBRARY_PATH:+:$LIBRARY_PATH}"
    case ":$PATH:" in *":$BORA_VENV/bin:"*) ;; *) export PATH="$BORA_VENV/bin:$PATH" ;; esac
    unset _bora_site _bora_ld _bora_pylib _d
  fi
fi
# The bora binary, once built.
case ":$PATH:" in *":$BORA_ROOT/target/release:"*) ;; *) export PATH="$BORA_ROOT/target/release:$PATH" ;; esac
