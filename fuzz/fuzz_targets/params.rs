//! A ROS 2 params file (YAML) through the agent's and the simulator's parameter checks.
//! The file is flattened the way ROS hands parameters to a node (`node: ros__parameters:`
//! then nested keys joined with `.`), then given to `AgentParams::from_values` and
//! `SimSettings::fill_from_params` + `resolve`: each ends in a checked configuration or a
//! typed error naming the parameter, never a panic.
#![no_main]

use bora_nodes::params::{AgentParams, ParamValue};
use bora_nodes::sim_params::SimSettings;
use bora_runtime::sim::Sim;
use libfuzzer_sys::fuzz_target;
use serde_yaml::Value;

/// ROS's view of one YAML value.
fn param(v: &Value) -> ParamValue {
    match v {
        Value::Bool(b) => ParamValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ParamValue::Int(i),
            None => ParamValue::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => ParamValue::Str(s.clone()),
        other => ParamValue::Other(format!("{other:?}")),
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, ParamValue)>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                let name = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, v, out);
            }
        }
        other => out.push((prefix.to_owned(), param(other))),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = serde_yaml::from_str::<Value>(text) else {
        return;
    };
    let mut pairs = Vec::new();
    match doc.as_mapping() {
        // `node_name: {ros__parameters: {...}}`, as in launch/params/*.yaml.
        Some(nodes) => {
            for (_, node) in nodes {
                match node.get("ros__parameters") {
                    Some(params) => flatten("", params, &mut pairs),
                    None => flatten("", node, &mut pairs),
                }
            }
        }
        None => flatten("", &doc, &mut pairs),
    }
    if let Ok(p) = AgentParams::from_values(pairs.iter().map(|(n, v)| (n.as_str(), v))) {
        assert!(
            p.agent.limits.clone().check().is_ok(),
            "accepted limits fail their own check: {:?}",
            p.agent.limits
        );
        // The pipeline's planner period (runtime/src/pipeline/agent.rs) must exist.
        assert!(
            std::time::Duration::try_from_secs_f64(1.0 / p.agent.planner.rate_hz).is_ok(),
            "accepted planner.rate_hz {} has no tick period",
            p.agent.planner.rate_hz
        );
    }
    let mut sim = SimSettings::default();
    if sim
        .fill_from_params(pairs.iter().map(|(n, v)| (n.as_str(), v)))
        .is_ok()
    {
        if let Ok(plan) = sim.resolve() {
            // What resolve accepted is what the simulator is built with.
            let _ = Sim::new(
                bora_runtime::sim::World::default_room(),
                plan.drive,
                plan.lidar,
            );
        }
    }
});
