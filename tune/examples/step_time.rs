//! Seconds per training step on one ~40-token example, and the process's peak memory:
//! `cargo run --release -p bora-tune --example step_time`.

use std::time::Instant;

use bora_models::registry::resolve_model;
use bora_models::ModelTokenizer;
use bora_tune::{BaseModel, Example, TokenizedExample, TrainConfig, Trainer};
use candle_core::Device;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = resolve_model("smollm2-135m-instruct")?;
    let t = Instant::now();
    let base = BaseModel::load(&path, &Device::Cpu)?;
    let tok = ModelTokenizer::from_gguf_file(&path)?;
    println!("load + dequantize: {:.2} s", t.elapsed().as_secs_f64());
    let ex = Example::from_command(
        "drive forward one and a half meters, then turn right",
        r#"{"steps":[{"move":1.5},{"turn":-90}]}"#,
    );
    let ex = TokenizedExample::new(&tok, &ex, 0)?;
    println!("{} tokens ({} scored)", ex.ids.len(), ex.scored());
    let mut trainer = Trainer::new(&base, &TrainConfig::default())?;
    trainer.step(std::slice::from_ref(&ex))?; // warm-up
    let n = 10;
    let t = Instant::now();
    for _ in 0..n {
        trainer.step(std::slice::from_ref(&ex))?;
    }
    println!("{:.3} s/step", t.elapsed().as_secs_f64() / n as f64);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM")) {
        println!("peak resident: {line}");
    }
    Ok(())
}
