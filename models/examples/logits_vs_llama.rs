//! bora's logits against llama.cpp's along the reference continuations (teacher
//! forcing), and llama.cpp against itself with another KV cache type: the numbers behind
//! the greedy test's near-tie tolerance. Run through `bench/logits-vs-llama.sh`, which
//! makes the dumps this reads.
//!
//! usage: logits_vs_llama MODEL KEY DUMPS_DIR REFERENCE_DIR
//!   MODEL: a cache name or GGUF path; KEY: the model's key in greedy.jsonl;
//!   DUMPS_DIR: holds f16kv/KEY-N.bin and f32kv/KEY-N.bin from bench/llama_logits.cpp.

use std::path::Path;

use bora_models::generate::encode_prompt;
use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions, ModelTokenizer};

/// One llama.cpp dump: prompt length, continuation ids, one logit row per id.
struct Dump {
    prompt_tokens: usize,
    ids: Vec<u32>,
    rows: Vec<Vec<f32>>,
}

fn read_dump(path: &Path) -> Result<Dump, String> {
    let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let word = |i: usize| -> Result<i32, String> {
        b.get(i * 4..i * 4 + 4)
            .map(|w| i32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .ok_or_else(|| format!("{}: truncated", path.display()))
    };
    let (np, n, nv) = (word(0)? as usize, word(1)? as usize, word(2)? as usize);
    let ids = (0..n)
        .map(|i| word(3 + i).map(|v| v as u32))
        .collect::<Result<_, _>>()?;
    let base = 3 + n;
    let rows = (0..n)
        .map(|r| {
            (0..nv)
                .map(|j| word(base + r * nv + j).map(|v| f32::from_bits(v as u32)))
                .collect()
        })
        .collect::<Result<_, _>>()?;
    Ok(Dump {
        prompt_tokens: np,
        ids,
        rows,
    })
}

fn argmax(x: &[f32]) -> usize {
    (0..x.len())
        .max_by(|&a, &b| x[a].total_cmp(&x[b]))
        .unwrap_or(0)
}

fn top2_gap(x: &[f32]) -> f32 {
    let (mut a, mut b) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &v in x {
        if v > a {
            (a, b) = (v, a);
        } else if v > b {
            b = v;
        }
    }
    a - b
}

/// (RMS difference, max |difference|, whether the argmaxes agree).
fn compare(a: &[f32], b: &[f32]) -> (f64, f32, bool) {
    let sq: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    (
        (sq / a.len().max(1) as f64).sqrt(),
        max,
        argmax(a) == argmax(b),
    )
}

#[derive(Default)]
struct Tally {
    rms: f64,
    max: f32,
    agree: usize,
    n: usize,
}

impl Tally {
    fn add(&mut self, (rms, max, agree): (f64, f32, bool)) {
        self.rms += rms;
        self.max = self.max.max(max);
        self.agree += usize::from(agree);
        self.n += 1;
    }
    fn line(&self, what: &str) -> String {
        format!(
            "{what:<34} mean RMS {:.3}  max |d| {:.2}  argmax agrees {}/{}",
            self.rms / self.n.max(1) as f64,
            self.max,
            self.agree,
            self.n
        )
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, name, key, dumps, reference] = args.as_slice() else {
        return Err("usage: logits_vs_llama MODEL KEY DUMPS_DIR REFERENCE_DIR".into());
    };
    let path = resolve_model(name)?;
    let model = Model::load(
        &path,
        &ModelOptions {
            threads: 0,
            context: 2048,
            ..Default::default()
        },
    )?;
    let tok = ModelTokenizer::from_gguf_file(&path)?;
    let greedy = std::fs::read_to_string(Path::new(reference).join("greedy.jsonl"))?;
    let (mut bora_f16, mut bora_f32, mut self_kv) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut near_ties = 0;
    let mut case = 0;
    for line in greedy.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if v["model"] != key.as_str() {
            continue;
        }
        let f16 = read_dump(&Path::new(dumps).join(format!("f16kv/{key}-{case}.bin")))?;
        let f32 = read_dump(&Path::new(dumps).join(format!("f32kv/{key}-{case}.bin")))?;
        case += 1;
        let prompt = encode_prompt(&tok, v["prompt"].as_str().unwrap_or_default())?;
        if prompt.len() != f16.prompt_tokens {
            return Err(format!(
                "{key}: prompt is {} tokens here, {} in llama.cpp",
                prompt.len(),
                f16.prompt_tokens
            )
            .into());
        }
        let mut state = model.new_state()?;
        let mut logits = model.forward(&mut state, &prompt)?.to_vec();
        for (i, &id) in f16.ids.iter().enumerate() {
            bora_f16.add(compare(&logits, &f16.rows[i]));
            bora_f32.add(compare(&logits, &f32.rows[i]));
            self_kv.add(compare(&f32.rows[i], &f16.rows[i]));
            near_ties += usize::from(top2_gap(&f16.rows[i]) < 0.05);
            logits = model.forward(&mut state, &[id])?.to_vec();
        }
    }
    println!("{key}: {case} prompts, {} positions", bora_f16.n);
    println!("  {}", bora_f16.line("bora vs llama.cpp (f16 KV, default)"));
    println!("  {}", bora_f32.line("bora vs llama.cpp (f32 KV)"));
    println!("  {}", self_kv.line("llama.cpp f32 KV vs f16 KV"));
    println!("  positions where llama.cpp's top two are within 0.05: {near_ties}");
    Ok(())
}
