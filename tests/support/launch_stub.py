"""Evaluate bora's ROS 2 launch files without `ros2 launch` (not in the PyPI wheels).

A small stand-in for the parts of the `launch` / `launch_ros` API that bora's launch
files use: the launch file is imported and its `generate_launch_description()` is run
against these classes, then the description is evaluated the way `ros2 launch` would
(launch arguments with their defaults, conditions, substitutions, included files), and
the processes it would start are printed as JSON. Package shares are found with the
real `ament_index_python`, so the result also proves the ament prefix layout.

An unknown class, keyword argument or substitution fails loudly: a launch file that
uses more of the API than this stub knows is a test failure, not a silent pass.

Usage:
    launch_stub.py py  FILE.launch.py  [name:=value ...]
    launch_stub.py xml FILE.launch.xml [name:=value ...]
Output (stdout): {"arguments": [declared names], "processes": [{"namespace", "package",
"executable", "name", "arguments": [str], "ros_arguments": [str], "parameters":
[{"file": path} | {name: value}]}]}
"""

import importlib.util
import json
import math
import os
import re
import sys
import types
import xml.etree.ElementTree as ET

import yaml
from ament_index_python.packages import get_package_share_directory


# --- substitutions -----------------------------------------------------------------
class Substitution:
    def perform(self, ctx):
        raise NotImplementedError


def text(value, ctx):
    """A substitution, a string or a list of them, evaluated to one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, Substitution):
        return value.perform(ctx)
    if isinstance(value, (list, tuple)):
        return "".join(text(v, ctx) for v in value)
    raise TypeError(f"not a string or substitution: {value!r}")


class LaunchConfiguration(Substitution):
    def __init__(self, variable_name, *, default=None):
        self.name, self.default = variable_name, default

    def perform(self, ctx):
        if self.name in ctx.args:
            return ctx.args[self.name]
        if self.default is not None:
            return text(self.default, ctx)
        raise KeyError(f"launch configuration {self.name!r} is used but was never declared or given")


class PathJoinSubstitution(Substitution):
    def __init__(self, substitutions):
        self.parts = list(substitutions)

    def perform(self, ctx):
        return os.path.join(*[text(p, ctx) for p in self.parts])


class PythonExpression(Substitution):
    def __init__(self, expression):
        self.expression = expression

    def perform(self, ctx):
        return str(eval(text(self.expression, ctx), {}, {}))


def _launch_bool(s):
    return s.lower() in ("true", "false", "1", "0")


def _is_float(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def equals(left, right):
    """launch's EqualsSubstitution: booleans and numbers by value, else the text."""
    if _launch_bool(left) and _launch_bool(right):
        return (left.lower() in ("true", "1")) == (right.lower() in ("true", "1"))
    if _is_float(left) and _is_float(right):
        return math.isclose(float(left), float(right))
    return left == right


class EqualsSubstitution(Substitution):
    def __init__(self, left, right):
        self.left, self.right = left, right

    def perform(self, ctx):
        return str(equals(text(self.left, ctx), text(self.right, ctx))).lower()


class NotEqualsSubstitution(EqualsSubstitution):
    def perform(self, ctx):
        return str(not equals(text(self.left, ctx), text(self.right, ctx))).lower()


class FindPackageShare(Substitution):
    def __init__(self, package):
        self.package = package

    def perform(self, ctx):
        return get_package_share_directory(text(self.package, ctx))


# --- conditions --------------------------------------------------------------------
def truth(s):
    s = s.strip().lower()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    raise ValueError(f"condition is neither true nor false: {s!r}")


class IfCondition:
    def __init__(self, predicate_expression):
        self.expression = predicate_expression

    def evaluate(self, ctx):
        return truth(text(self.expression, ctx))


class UnlessCondition(IfCondition):
    def evaluate(self, ctx):
        return not super().evaluate(ctx)


# --- actions and descriptions ------------------------------------------------------
class LaunchDescription:
    def __init__(self, initial_entities=None):
        self.entities = list(initial_entities or [])


class DeclareLaunchArgument:
    def __init__(self, name, *, default_value=None, description="", choices=None, condition=None):
        self.name, self.default, self.description, self.condition = name, default_value, description, condition
        if not description:
            raise ValueError(f"launch argument {name!r} has no description")


class PythonLaunchDescriptionSource:
    def __init__(self, launch_file_path):
        self.path = launch_file_path


class IncludeLaunchDescription:
    def __init__(self, launch_description_source, *, launch_arguments=None, condition=None):
        self.source, self.condition = launch_description_source, condition
        self.launch_arguments = list(launch_arguments or [])


class ParameterValue:
    def __init__(self, value, *, value_type=None):
        self.value, self.value_type = value, value_type


NODE_KEYWORDS = {
    "executable", "package", "name", "namespace", "exec_name", "parameters", "remappings",
    "ros_arguments", "arguments", "output", "emulate_tty", "condition", "respawn",
    "respawn_delay", "additional_env", "sigterm_timeout", "sigkill_timeout", "prefix", "cwd",
}


class Node:
    def __init__(self, **kwargs):
        unknown = set(kwargs) - NODE_KEYWORDS
        if unknown:
            raise TypeError(f"Node() got unknown keyword arguments {sorted(unknown)}")
        if "executable" not in kwargs:
            raise TypeError("Node() needs executable=")
        self.kw = kwargs
        self.condition = kwargs.get("condition")


def parameter(entry, ctx):
    """One `parameters=` entry: a params file, or a dict of name -> value."""
    if isinstance(entry, dict):
        out = {}
        for name, value in entry.items():
            if isinstance(value, ParameterValue):
                s = text(value.value, ctx)
                out[text(name, ctx)] = value.value_type(s) if value.value_type else yaml.safe_load(s)
            elif isinstance(value, (Substitution, list)):
                out[text(name, ctx)] = yaml.safe_load(text(value, ctx))
            else:
                out[text(name, ctx)] = value
        return out
    return {"file": text(entry, ctx)}


# --- evaluation ---------------------------------------------------------------------
class GroupAction:
    def __init__(self, actions, *, scoped=True, forwarding=True, launch_configurations=None, condition=None):
        self.actions, self.condition = list(actions), condition


class PushRosNamespace:
    def __init__(self, namespace):
        self.namespace = namespace


class Context:
    def __init__(self, args, namespace=""):
        self.args = dict(args)
        self.declared = []
        self.processes = []
        # The pushed ROS namespace, "" at the root, else "/a/b".
        self.namespace = namespace


def push_namespace(ctx, ns):
    """launch_ros's PushRosNamespace: a relative namespace nests, an absolute one replaces."""
    ns = ns.strip()
    if not ns:
        return
    ctx.namespace = ns.rstrip("/") if ns.startswith("/") else f"{ctx.namespace}/{ns.strip('/')}"


def visit(entities, ctx):
    for e in entities:
        if getattr(e, "condition", None) is not None and not e.condition.evaluate(ctx):
            continue
        if isinstance(e, DeclareLaunchArgument):
            ctx.declared.append(e.name)
            if e.name not in ctx.args:
                if e.default is None:
                    raise ValueError(f"launch argument {e.name!r} has no default and was not given")
                ctx.args[e.name] = text(e.default, ctx)
        elif isinstance(e, Node):
            kw = e.kw
            ctx.processes.append({
                "namespace": ctx.namespace,
                "package": text(kw.get("package", ""), ctx),
                "executable": text(kw["executable"], ctx),
                "name": text(kw.get("name", ""), ctx),
                "arguments": [text(a, ctx) for a in kw.get("arguments") or []],
                "ros_arguments": [text(a, ctx) for a in kw.get("ros_arguments") or []],
                "parameters": [parameter(p, ctx) for p in kw.get("parameters") or []],
            })
        elif isinstance(e, PushRosNamespace):
            push_namespace(ctx, text(e.namespace, ctx))
        elif isinstance(e, GroupAction):
            # Scoped: arguments and the namespace pushed inside stay inside.
            child = Context(ctx.args, ctx.namespace)
            visit(e.actions, child)
            ctx.processes.extend(child.processes)
        elif isinstance(e, IncludeLaunchDescription):
            child = Context(ctx.args, ctx.namespace)
            for name, value in e.launch_arguments:
                child.args[text(name, ctx)] = text(value, ctx)
            run_python(text(e.source.path, ctx), child)
            ctx.processes.extend(child.processes)
        else:
            raise TypeError(f"the stub does not know launch entity {type(e).__name__}")


def install_stub_modules():
    modules = {
        "launch": {"LaunchDescription": LaunchDescription},
        "launch.actions": {"DeclareLaunchArgument": DeclareLaunchArgument, "IncludeLaunchDescription": IncludeLaunchDescription,
                           "GroupAction": GroupAction},
        "launch.conditions": {"IfCondition": IfCondition, "UnlessCondition": UnlessCondition},
        "launch.substitutions": {"LaunchConfiguration": LaunchConfiguration, "PathJoinSubstitution": PathJoinSubstitution,
                                 "PythonExpression": PythonExpression, "EqualsSubstitution": EqualsSubstitution,
                                 "NotEqualsSubstitution": NotEqualsSubstitution},
        "launch.launch_description_sources": {"PythonLaunchDescriptionSource": PythonLaunchDescriptionSource},
        "launch_ros": {},
        "launch_ros.actions": {"Node": Node, "PushRosNamespace": PushRosNamespace},
        "launch_ros.parameter_descriptions": {"ParameterValue": ParameterValue},
        "launch_ros.substitutions": {"FindPackageShare": FindPackageShare},
    }
    for name, attrs in modules.items():
        m = types.ModuleType(name)
        m.__path__ = []  # a package, so submodules import
        m.__dict__.update(attrs)
        sys.modules[name] = m


_loaded = 0


def run_python(path, ctx):
    global _loaded
    _loaded += 1
    spec = importlib.util.spec_from_file_location(f"bora_launch_file_{_loaded}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    if not isinstance(description, LaunchDescription):
        raise TypeError(f"{path}: generate_launch_description() returned {type(description).__name__}")
    visit(description.entities, ctx)


# --- XML frontend -------------------------------------------------------------------
# launch's frontend syntax (launch/frontend/grammar.lark): `$(name arg ...)`, arguments
# split at single spaces, quoted arguments ('...' or "...", possibly empty), nested
# substitutions. A substitution's value is never parsed again, so a value holding quotes,
# spaces or `$(` stays what it is, as in launch.
class _Src:
    def __init__(self, s):
        self.s, self.i = s, 0

    def peek(self, n=1):
        return self.s[self.i:self.i + n]

    def take(self, n=1):
        out = self.s[self.i:self.i + n]
        self.i += n
        return out


def _apply(name, args, ctx):
    if name == "var":
        (arg,) = args
        if arg not in ctx.args:
            raise KeyError(f"$(var {arg}) is used but was never declared or given")
        return ctx.args[arg]
    if name == "find-pkg-share":
        (arg,) = args
        return get_package_share_directory(arg)
    if name in ("equals", "not-equals"):
        left, right = args
        return str(equals(left, right) == (name == "equals")).lower()
    if name == "eval":
        (arg,) = args
        return str(eval(arg, {}, {}))
    raise ValueError(f"the stub does not know the substitution $({name} ...)")


def _substitution(src, ctx):
    assert src.take(2) == "$("
    name = ""
    while src.peek() and src.peek() not in " )":
        name += src.take()
    args = []
    while src.peek() == " ":
        src.take()
        args.append(_argument(src, ctx))
    if src.take() != ")":
        raise ValueError(f"unterminated $({name} in {src.s!r}")
    return _apply(name, args, ctx)


def _argument(src, ctx):
    quote = src.peek()
    if quote in ("'", '"'):
        src.take()
        out = ""
        while src.peek() and src.peek() != quote:
            out += _substitution(src, ctx) if src.peek(2) == "$(" else src.take()
        if src.take() != quote:
            raise ValueError(f"unterminated {quote} in {src.s!r}")
        return out
    out = ""
    while src.peek() and src.peek() not in " )":
        out += _substitution(src, ctx) if src.peek(2) == "$(" else src.take()
    return out


def xml_text(s, ctx):
    src, out = _Src(s), ""
    while src.peek():
        out += _substitution(src, ctx) if src.peek(2) == "$(" else src.take()
    return out


def xml_cmdline(s, ctx):
    """A command-line attribute (`ros_args`) as launch splits it: at the whitespace of the
    text as written, so a substitution stays one argument whatever its value holds
    (a path with spaces); `$( )` with its inner spaces is one piece of a token."""
    return [xml_text(token, ctx) for token in re.findall(r"(?:\$\([^)]*\)|[^\s$]|\$(?!\())+", s)]


def xml_enabled(el, ctx):
    if "if" in el.attrib and not truth(xml_text(el.attrib["if"], ctx)):
        return False
    if "unless" in el.attrib and truth(xml_text(el.attrib["unless"], ctx)):
        return False
    return True


def run_xml(path, ctx):
    root = ET.parse(path).getroot()
    if root.tag != "launch":
        raise ValueError(f"{path}: root element is <{root.tag}>, not <launch>")
    xml_elements(root, ctx)


def xml_elements(parent, ctx):
    for el in parent:
        if not xml_enabled(el, ctx):
            continue
        if el.tag == "arg":
            name = el.attrib["name"]
            ctx.declared.append(name)
            if name not in ctx.args:
                if "default" not in el.attrib:
                    raise ValueError(f"launch argument {name!r} has no default and was not given")
                ctx.args[name] = xml_text(el.attrib["default"], ctx)
        elif el.tag == "node":
            ctx.processes.append(xml_node(el, ctx))
        elif el.tag == "push-ros-namespace":
            push_namespace(ctx, xml_text(el.attrib["namespace"], ctx))
        elif el.tag == "group":
            child = Context(ctx.args, ctx.namespace)
            xml_elements(el, child)
            ctx.processes.extend(child.processes)
        elif el.tag == "include":
            child = Context(ctx.args, ctx.namespace)
            for a in el:
                if a.tag != "arg":
                    raise ValueError(f"the stub does not know <{a.tag}> in <include>")
                child.args[a.attrib["name"]] = xml_text(a.attrib["value"], ctx)
            file = xml_text(el.attrib["file"], ctx)
            if file.endswith(".py"):
                install_stub_modules()
                run_python(file, child)
            else:
                run_xml(file, child)
            ctx.processes.extend(child.processes)
        else:
            raise ValueError(f"the stub does not know <{el.tag}> in <launch>")


def xml_node(el, ctx):
    params = []
    for p in el:
        if p.tag != "param":
            raise ValueError(f"the stub does not know <{p.tag}> in <node>")
        if "from" in p.attrib:
            params.append({"file": xml_text(p.attrib["from"], ctx)})
        else:
            params.append({p.attrib["name"]: yaml.safe_load(xml_text(p.attrib["value"], ctx))})
    return {
        "namespace": ctx.namespace,
        "package": xml_text(el.attrib.get("pkg", ""), ctx),
        "executable": xml_text(el.attrib["exec"], ctx),
        "name": xml_text(el.attrib.get("name", ""), ctx),
        "arguments": xml_text(el.attrib.get("args", ""), ctx).split(),
        "ros_arguments": xml_cmdline(el.attrib.get("ros_args", ""), ctx),
        "parameters": params,
    }


def main(argv):
    if len(argv) < 3 or argv[1] not in ("py", "xml"):
        sys.exit(__doc__)
    args = {}
    for a in argv[3:]:
        name, sep, value = a.partition(":=")
        if not sep:
            sys.exit(f"launch argument {a!r} is not name:=value")
        args[name] = value
    ctx = Context(args)
    if argv[1] == "py":
        install_stub_modules()
        run_python(argv[2], ctx)
    else:
        run_xml(argv[2], ctx)
    undeclared = sorted(set(args) - set(ctx.declared))
    if undeclared:
        sys.exit(f"launch arguments {undeclared} are not declared by {argv[2]}")
    print(json.dumps({"arguments": ctx.declared, "processes": ctx.processes}))


if __name__ == "__main__":
    main(sys.argv)
