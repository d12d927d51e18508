//! The bodies of bora's fuzz targets, one function per target, shared by the cargo-fuzz
//! wrappers in fuzz_targets/ (libFuzzer drives them, instrumented, under nightly) and by
//! the stable replay test nodes/tests/fuzz_seeds_replay.rs, which includes this file with
//! `#[path]` and runs every committed seed plus deterministic mutations of it through the
//! same functions in `cargo test --workspace --release` (CI).
//!
//! Each function takes arbitrary bytes and panics only when it finds a bug: a typed error
//! is a pass.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use bora_agent::intent::FieldValue;
use bora_agent::{parse_command, Limits, ValidPlan};
use bora_models::gguf::GgufFile;
use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions, ModelTokenizer};
use bora_nodes::params::{AgentParams, ParamValue};
use bora_nodes::sim_params::SimSettings;
use bora_sim::{DriveConfig, LidarConfig, Sim, World};
use serde_yaml::Value;

/// A private directory per fuzzing process, so a `tokenizer.json` elsewhere in the temp
/// directory is never picked up as an override and parallel jobs do not collide.
fn scratch_file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("bora-fuzz-gguf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz scratch directory");
        dir.join("input.gguf")
    })
}

/// Bytes as a GGUF file: open and validate the header, build the tokenizer from its
/// metadata, load the model from whatever validates, and run one token through it.
/// Every outcome must be a typed error or a working model: never a panic, an abort, a
/// hang, or an allocation out of proportion to the file (libFuzzer's -rss_limit_mb and
/// -malloc_limit_mb catch those).
pub fn gguf(data: &[u8]) {
    let path = scratch_file();
    std::fs::write(path, data).expect("write the fuzz scratch file");
    let Ok(file) = GgufFile::open(path) else {
        return;
    };
    if let Ok(tok) = ModelTokenizer::from_gguf(path, file.content()) {
        let _ = tok.encode("go forward 1 m <|im_start|>", true);
        let _ = tok.decode(&[0, 1, 2]);
    }
    // A small context keeps the KV cache small; the tensors are what is under test.
    let options = ModelOptions {
        context: 16,
        ..Default::default()
    };
    if let Ok(model) = Model::from_gguf(&file, &options) {
        if let Ok(mut state) = model.new_state() {
            let _ = model.forward(&mut state, &[0]);
        }
    }
}

/// The real tokenizer (SmolLM2 unless `BORA_FUZZ_MODEL` names another), built once.
fn shared_tokenizer() -> &'static ModelTokenizer {
    static TOK: OnceLock<ModelTokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        let name =
            std::env::var("BORA_FUZZ_MODEL").unwrap_or_else(|_| "smollm2-135m-instruct".into());
        let path = resolve_model(&name)
            .unwrap_or_else(|e| panic!("{e}; run scripts/setup.sh to download the models"));
        ModelTokenizer::from_gguf_file(&path).expect("the real tokenizer builds")
    })
}

/// Arbitrary text through the real SmolLM2 tokenizer (built once from the GGUF in the
/// model cache): encoding never panics, plain-text encoding round-trips exactly (to
/// `representable(text)`: a character with a byte the vocabulary has no token for comes
/// back as one U+FFFD, and nothing else changes), the streaming decoder yields the same text as a whole decode, and arbitrary ids decode
/// or fail with a typed error.
pub fn tokenizer(data: &[u8]) {
    let tok = shared_tokenizer();
    if let Ok(text) = std::str::from_utf8(data) {
        // User text: special tokens are plain text, so the round trip is exact.
        let expected = tok.representable(text);
        assert_eq!(
            expected.chars().count(),
            text.chars().count(),
            "representable() changed the number of characters"
        );
        let ids = tok
            .encode(text, false)
            .expect("encoding valid UTF-8 never fails");
        let back = tok.decode(&ids).expect("ids from encode decode");
        assert_eq!(
            back, expected,
            "plain-text round trip changed the text: ids {ids:?}"
        );
        let mut stream = tok.stream_decoder();
        let mut streamed = String::new();
        for &id in &ids {
            if let Some(piece) = stream.push(id).expect("stream push") {
                streamed.push_str(&piece);
            }
        }
        if let Some(piece) = stream.finish().expect("stream finish") {
            streamed.push_str(&piece);
        }
        assert_eq!(streamed, expected, "streamed decode differs from the text");
        // Prompt text: control tokens are parsed; must not panic.
        let _ = tok
            .encode(text, true)
            .expect("encoding with specials never fails");
    }
    // The same bytes as token ids (generated tokens can be any id below the vocabulary).
    let ids: Vec<u32> = data
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
        .collect();
    match tok.decode(&ids) {
        Ok(_) => assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size())),
        Err(_) => assert!(ids.iter().any(|&id| (id as usize) >= tok.vocab_size())),
    }
    let mut stream = tok.stream_decoder();
    for &id in &ids {
        let _ = stream.push(id);
    }
    let _ = stream.finish();
}

/// Every step of `plan` obeys `limits` (what the planner relies on).
fn assert_within(plan: &ValidPlan, limits: &Limits, input: &str) {
    let steps = plan.steps();
    assert!(
        !steps.is_empty() && steps.len() <= limits.max_steps,
        "{} steps from {input:?}",
        steps.len()
    );
    for step in steps {
        for &field in step.action().fields() {
            let (min, max) = field.range(limits);
            match step.value(field) {
                Some(FieldValue::Number(v)) => assert!(
                    v.is_finite() && v >= min && v <= max,
                    "{field:?} = {v} outside [{min}, {max}] from {input:?}"
                ),
                Some(FieldValue::Text(t)) => {
                    let n = t.chars().count();
                    assert!(
                        n >= 1 && n <= limits.max_say_chars,
                        "say of {n} chars from {input:?}"
                    );
                }
                None => panic!("{field:?} missing from a validated {step:?}"),
            }
        }
    }
    // A validated plan serialises and parses back to itself.
    let json = plan.plan().to_json().expect("a valid plan serialises");
    let again = limits.parse(&json).expect("a valid plan's JSON validates");
    assert_eq!(
        again.plan(),
        plan.plan(),
        "JSON round trip changed the plan"
    );
}

/// Text through the fallback command parser and the intent-plan JSON parser: either a
/// typed error, or a plan that is within the limits it was validated against.
pub fn intent(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The shipped defaults, and tight limits so range checks are hit more often.
    let tight = Limits {
        max_distance_m: 1.0,
        max_angle_deg: 45.0,
        max_wait_s: 2.0,
        max_say_chars: 5,
        max_steps: 2,
    };
    for limits in [Limits::default(), tight] {
        if let Ok(plan) = parse_command(text, &limits) {
            assert_within(&plan, &limits, text);
        }
        if let Ok(plan) = limits.parse(text) {
            assert_within(&plan, &limits, text);
        }
    }
}

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

/// A ROS 2 params file (YAML) through the agent's and the simulator's parameter checks.
/// The file is flattened the way ROS hands parameters to a node (`node: ros__parameters:`
/// then nested keys joined with `.`), then given to `AgentParams::from_values` and
/// `SimSettings::fill_from_params` + `resolve`: each ends in a checked configuration or a
/// typed error naming the parameter, never a panic.
pub fn params(data: &[u8]) {
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
        // The pipeline's planner period (pipeline/src/agent.rs) must exist.
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
            let _ = Sim::new(bora_sim::World::default_room(), plan.drive, plan.lidar);
        }
    }
}

/// A world YAML file through the simulator's world parser: a typed error naming the key,
/// or a world the simulator can be built in, stepped and scanned without panicking.
pub fn world(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(world) = World::from_yaml_str(text, Path::new("fuzz.yaml")) else {
        return;
    };
    let Ok(mut sim) = Sim::new(world, DriveConfig::default(), LidarConfig::default()) else {
        return;
    };
    let mut ranges = Vec::new();
    sim.scan_into(&mut ranges);
    sim.step();
    sim.scan_into(&mut ranges);
}
