//! The launch files and parameter profiles under launch/ match the `bora` binary they
//! start: every profile key is a declared `bora agent` parameter of its declared type,
//! the agent accepts every profile (and rejects a bad value, naming it), the install
//! script builds a ROS 2 package layout that the ament index finds, and the launch files
//! (Python ones run against a stub of the launch API, the XML one parsed) start
//! `bora agent` / `bora sim` from that package with files that exist.
//!
//! Needs the built binary (`cargo build --release -p bora-nodes`) and the project venv
//! (`scripts/setup.sh`, for PyYAML and ament_index_python).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, ensure, Context};
use bora_tests::launch::{
    bora, check_params, evaluate_launch, install, json_matches_yaml, processes, profile_values,
    run, stdout_json,
};
use bora_tests::{isolate_ros, python, repo_root};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// The profiles the issue asks for; any other YAML in launch/params is checked too.
const PROFILES: &[&str] = &["cpu.yaml", "jetson_orin_nano.yaml", "jetson_agx_orin.yaml"];

/// `bora agent --list-params --json` as name -> kind ("bool", "int", "double", "string").
fn declared_params() -> anyhow::Result<BTreeMap<String, String>> {
    let out = run(Command::new(bora()?).args(["agent", "--list-params", "--json"]))?;
    let list = stdout_json(&out, "bora agent --list-params --json")?;
    let mut map = BTreeMap::new();
    for p in list
        .as_array()
        .context("--list-params --json is not an array")?
    {
        let name = p["name"].as_str().context("parameter without a name")?;
        let kind = p["kind"].as_str().context("parameter without a kind")?;
        map.insert(name.to_owned(), kind.to_owned());
    }
    ensure!(
        map.len() > 10,
        "bora agent declares only {} parameters",
        map.len()
    );
    Ok(map)
}

fn profile_paths() -> anyhow::Result<Vec<PathBuf>> {
    let dir = repo_root().join("launch/params");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    for want in PROFILES {
        ensure!(
            paths.iter().any(|p| p.ends_with(want)),
            "launch/params/{want} is missing"
        );
    }
    Ok(paths)
}

/// Whether a YAML scalar has the ROS type a parameter of `kind` needs (doubles must be
/// written with a decimal point: `50` is an integer to ROS).
fn has_kind(v: &Yaml, kind: &str) -> bool {
    match kind {
        "bool" => v.is_bool(),
        "int" => v.is_i64(),
        "double" => v.is_f64(),
        "string" => v.is_string(),
        _ => false,
    }
}

#[test]
fn every_profile_key_is_a_declared_parameter_of_its_type() -> anyhow::Result<()> {
    let declared = declared_params()?;
    for path in profile_paths()? {
        for (name, value) in profile_values(&path)? {
            let kind = declared.get(&name).with_context(|| {
                format!(
                    "{}: `{name}` is not a parameter of bora agent",
                    path.display()
                )
            })?;
            ensure!(
                has_kind(&value, kind),
                "{}: `{name}` = {value:?} is not of type {kind}",
                path.display()
            );
        }
    }
    Ok(())
}

#[test]
fn the_agent_accepts_every_profile_and_every_value_reaches_it() -> anyhow::Result<()> {
    isolate_ros();
    for path in profile_paths()? {
        let file = path.to_string_lossy();
        let out = check_params(&["--params-file", &file, "-p", "model:=none"])?;
        let got = stdout_json(&out, &format!("bora agent --check-params with {file}"))?;
        for (name, want) in profile_values(&path)? {
            if name == "model" {
                continue;
            }
            let v = &got[&name];
            // A YAML nested under the wrong node name would leave the defaults in force.
            ensure!(
                json_matches_yaml(v, &want),
                "{file}: `{name}` is {want:?} in the file but {v} in the node"
            );
        }
        ensure!(
            got["model"] == "none",
            "-p model:=none did not override the profile: {}",
            got["model"]
        );
    }
    Ok(())
}

#[test]
fn the_agent_rejects_a_bad_value_naming_the_parameter() -> anyhow::Result<()> {
    isolate_ros();
    let cpu = repo_root().join("launch/params/cpu.yaml");
    let cpu = cpu.to_string_lossy();
    let dir = tempfile::tempdir()?;
    let bad_file = dir.path().join("bad.yaml");
    std::fs::write(
        &bad_file,
        "bora_agent:\n  ros__parameters:\n    budget:\n      miss_policy: panic\n",
    )?;
    let bad_file = bad_file.to_string_lossy();
    for (args, name) in [
        (
            vec![
                "--params-file",
                &cpu,
                "-p",
                "planner.max_linear_speed_mps:=-1.0",
            ],
            "planner.max_linear_speed_mps",
        ),
        (
            vec!["--params-file", &cpu, "-p", "threads:=four"],
            "threads",
        ),
        (vec!["--params-file", &bad_file], "budget.miss_policy"),
    ] {
        let out = check_params(&args)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(
            !out.status.success(),
            "bora agent --check-params accepted {args:?}"
        );
        ensure!(
            stderr.contains(&format!("`{name}`")),
            "the error for {args:?} does not name `{name}`:\n{stderr}"
        );
    }
    Ok(())
}

/// Every file under `dir` (links as their target) with its contents, for comparing trees.
fn snapshot(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let meta = std::fs::symlink_metadata(&p)?;
        if meta.is_dir() {
            snapshot(&p, out)?;
        } else if meta.file_type().is_symlink() {
            out.insert(
                p.clone(),
                std::fs::read_link(&p)?
                    .into_os_string()
                    .into_encoded_bytes(),
            );
        } else {
            out.insert(p.clone(), std::fs::read(&p)?);
        }
    }
    Ok(())
}

/// A Python snippet run with AMENT_PREFIX_PATH set to `prefix` only.
fn python_in(prefix: &Path, code: &str, args: &[&str]) -> anyhow::Result<Output> {
    run(Command::new(python()?)
        .arg("-c")
        .arg(code)
        .args(args)
        .env("AMENT_PREFIX_PATH", prefix))
}

#[test]
fn install_script_makes_a_ros_package_that_ament_finds() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("prefix");
    install(&prefix)?;
    let mut first = BTreeMap::new();
    snapshot(&prefix, &mut first)?;
    install(&prefix)?;
    let mut second = BTreeMap::new();
    snapshot(&prefix, &mut second)?;
    ensure!(first == second, "a second install changed the prefix");

    let share = prefix.join("share/bora");
    for f in [
        "launch/agent.launch.py",
        "launch/agent.launch.xml",
        "launch/sim_demo.launch.py",
        "params/cpu.yaml",
        "worlds/box_ahead.yaml",
        "package.xml",
    ] {
        ensure!(
            share.join(f).is_file(),
            "share/bora/{f} missing after install"
        );
    }
    for profile in PROFILES {
        let (a, b) = (
            std::fs::read(share.join("params").join(profile))?,
            std::fs::read(repo_root().join("launch/params").join(profile))?,
        );
        ensure!(
            a == b,
            "share/bora/params/{profile} differs from launch/params/{profile}"
        );
    }
    let package_xml = std::fs::read_to_string(share.join("package.xml"))?;
    ensure!(
        package_xml.contains("<name>bora</name>"),
        "package.xml does not name the package bora:\n{package_xml}"
    );

    // What `ros2 run bora bora` and FindPackageShare("bora") do: ask the ament index.
    let code = "import json, sys; from ament_index_python.packages import get_package_prefix, get_package_share_directory as s; \
                print(json.dumps([get_package_prefix(sys.argv[1]), s(sys.argv[1])]))";
    let got = stdout_json(
        &python_in(&prefix, code, &["bora"])?,
        "ament_index_python lookup of bora",
    )?;
    ensure!(
        got == serde_json::json!([prefix, share]),
        "ament index found {got}, not {}",
        prefix.display()
    );
    let exe = prefix.join("lib/bora/bora");
    let version = run(Command::new(&exe).arg("--version"))?;
    ensure!(
        version.status.success(),
        "{} --version failed: {}",
        exe.display(),
        String::from_utf8_lossy(&version.stderr)
    );
    ensure!(
        String::from_utf8_lossy(&version.stdout).starts_with("bora "),
        "lib/bora/bora is not bora"
    );

    // Sourcing the setup script (twice) puts the prefix on AMENT_PREFIX_PATH once.
    let setup = prefix.join("setup.bash");
    let shell = format!(
        ". '{0}'; . '{0}'; printf %s \"$AMENT_PREFIX_PATH\"",
        setup.display()
    );
    let out = run(Command::new("bash")
        .arg("-c")
        .arg(&shell)
        .env("AMENT_PREFIX_PATH", "/opt/ros/other"))?;
    let path = String::from_utf8_lossy(&out.stdout);
    ensure!(
        path == format!("{}:/opt/ros/other", prefix.display()),
        "after sourcing setup.bash twice AMENT_PREFIX_PATH = {path:?}"
    );
    Ok(())
}

/// Checks the agent node of a launch: `bora agent` with the profile as a ROS argument
/// (`--params-file FILE`, so that bora, not launch_ros, judges the file), the parameters
/// exactly the optional model override, and that the params file exists.
fn check_agent(node: Option<&Json>, file: &Path, model: Option<&str>) -> anyhow::Result<()> {
    let node = node.context("no bora_agent node starts")?;
    ensure!(
        node["arguments"] == serde_json::json!(["agent"]),
        "bora_agent runs `bora {}`",
        node["arguments"]
    );
    ensure!(
        file.is_file(),
        "params file {} does not exist",
        file.display()
    );
    ensure!(
        node["ros_arguments"] == serde_json::json!(["--params-file", file]),
        "bora_agent gets ROS arguments {}, expected --params-file {}",
        node["ros_arguments"],
        file.display()
    );
    let mut want = vec![];
    if let Some(m) = model {
        want.push(serde_json::json!({ "model": m }));
    }
    ensure!(
        node["parameters"] == Json::Array(want.clone()),
        "bora_agent gets parameters {}, expected {}",
        node["parameters"],
        Json::Array(want)
    );
    Ok(())
}

#[test]
fn agent_launch_files_start_bora_agent_with_a_profile_and_model_override() -> anyhow::Result<()> {
    let declared = declared_params()?;
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("prefix");
    install(&prefix)?;
    let params = prefix.join("share/bora/params");
    let nano = params.join("jetson_orin_nano.yaml");
    let nano_arg = format!("params_file:={}", nano.display());
    for file in ["agent.launch.py", "agent.launch.xml"] {
        let default = evaluate_launch(&prefix, file, &[])?;
        ensure!(
            default["arguments"] == serde_json::json!(["params_file", "model"]),
            "{file} declares {}",
            default["arguments"]
        );
        let nodes = processes(&prefix, &default)?;
        ensure!(
            nodes.len() == 1,
            "{file} starts {} nodes, expected bora_agent alone",
            nodes.len()
        );
        check_agent(nodes.get("bora_agent"), &params.join("cpu.yaml"), None)
            .with_context(|| format!("{file}, default arguments"))?;

        let chosen = evaluate_launch(&prefix, file, &[&nano_arg, "model:=gemma3-270m"])?;
        check_agent(
            processes(&prefix, &chosen)?.get("bora_agent"),
            &nano,
            Some("gemma3-270m"),
        )
        .with_context(|| format!("{file} {nano_arg} model:=gemma3-270m"))?;
        // Any model path reaches the node as it is: quotes and spaces too (the launch
        // files compare with substitutions, never by building Python source from it).
        let odd = r#"/models/robot's "best" model/m.gguf"#;
        let odd_arg = format!("model:={odd}");
        let launched = evaluate_launch(&prefix, file, &[&odd_arg])?;
        check_agent(
            processes(&prefix, &launched)?.get("bora_agent"),
            &params.join("cpu.yaml"),
            Some(odd),
        )
        .with_context(|| format!("{file} {odd_arg}"))?;
        // Every parameter set inline in the launch file is one bora agent declares.
        for p in chosen["processes"][0]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for name in p
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| *k != "file")
            {
                ensure!(
                    declared.contains_key(name),
                    "{file} sets `{name}`, which bora agent does not declare"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn agent_launch_files_refuse_a_profile_that_does_not_exist() -> anyhow::Result<()> {
    isolate_ros();
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("prefix");
    install(&prefix)?;
    // A mistyped profile path, with a space in it: launch_ros would drop a `parameters=`
    // file that does not exist (the node would run on defaults); as a ROS argument it
    // reaches bora whole, which refuses it by name.
    let missing = dir.path().join("my profiles/no_such.yaml");
    let arg = format!("params_file:={}", missing.display());
    for file in ["agent.launch.py", "agent.launch.xml"] {
        let launched = evaluate_launch(&prefix, file, &[&arg])?;
        let nodes = processes(&prefix, &launched)?;
        let node = nodes
            .get("bora_agent")
            .context("no bora_agent node starts")?;
        let strings = |v: &Json| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect()
        };
        let out = run(Command::new(bora()?)
            .args(strings(&node["arguments"]))
            .arg("--ros-args")
            .args(strings(&node["ros_arguments"]))
            .env("RUST_BACKTRACE", "0"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(
            out.status.code() == Some(1),
            "{file}: bora agent with a missing profile exited {} (want 1, a refusal):\n{stderr}",
            out.status
        );
        ensure!(
            stderr.contains(&format!("{} does not exist", missing.display())),
            "{file}: the refusal does not name the missing profile:\n{stderr}"
        );
    }
    Ok(())
}

#[test]
fn sim_demo_launch_starts_the_sim_in_a_world_and_the_agent() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let prefix = dir.path().join("prefix");
    install(&prefix)?;
    let share = prefix.join("share/bora");
    for (args, world) in [
        (vec![], share.join("worlds/box_ahead.yaml")),
        (
            vec!["world:=/elsewhere/room.yaml", "model:=none"],
            PathBuf::from("/elsewhere/room.yaml"),
        ),
    ] {
        let launched = evaluate_launch(&prefix, "sim_demo.launch.py", &args)?;
        let nodes = processes(&prefix, &launched)?;
        ensure!(
            nodes.len() == 2,
            "sim_demo starts {} nodes, expected bora_sim and bora_agent: {launched}",
            nodes.len()
        );
        let sim = nodes
            .get("bora_sim")
            .context("sim_demo starts no bora_sim")?;
        ensure!(
            sim["arguments"] == serde_json::json!(["sim", "--world", world]),
            "bora_sim runs `bora {}` for {args:?}",
            sim["arguments"]
        );
        let model = args.iter().find_map(|a| a.strip_prefix("model:="));
        check_agent(
            nodes.get("bora_agent"),
            &share.join("params/cpu.yaml"),
            model,
        )
        .with_context(|| format!("sim_demo {args:?}"))?;
    }
    ensure!(
        share.join("worlds/box_ahead.yaml").is_file(),
        "the default world is not installed"
    );
    Ok(())
}

#[test]
fn python_launch_files_compile() -> anyhow::Result<()> {
    let dir = repo_root().join("launch");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir)? {
        let p = e?.path();
        if p.to_string_lossy().ends_with(".launch.py") {
            files.push(p);
        }
    }
    ensure!(
        files.len() >= 2,
        "expected agent.launch.py and sim_demo.launch.py in {}",
        dir.display()
    );
    let cache = tempfile::tempdir()?;
    for f in files {
        let code = "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)";
        let out = run(Command::new(python()?)
            .arg("-c")
            .arg(code)
            .arg(&f)
            .arg(cache.path().join("x.pyc")))?;
        if !out.status.success() {
            bail!(
                "{} does not compile:\n{}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(())
}
