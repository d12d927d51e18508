//! Supervised fine-tuning of a LoRA adapter: (prompt, completion) examples, mean
//! cross-entropy over the completion tokens only, AdamW.

use bora_models::ModelTokenizer;
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use crate::forward::Adapted;
use crate::lora::{LoraAdapter, LoraConfig};
use crate::weights::BaseModel;
use crate::{Error, Result};

/// The first line of a tuned model's prompt: the language stage's cached prefix when an
/// adapter is loaded (no few-shot examples: the adapter learned the format).
pub const PROMPT_HEADER: &str = "Robot commands and their JSON plans.\n";

/// The part of the prompt that carries the command, `Input: {command}\nOutput: `: the
/// language stage encodes it as one text with special-token parsing off, as here.
pub fn command_prompt(command: &str) -> String {
    format!("Input: {command}\nOutput: ")
}

/// The whole prompt a tuned model sees: [`PROMPT_HEADER`] then [`command_prompt`].
pub fn prompt_for(command: &str) -> String {
    format!("{PROMPT_HEADER}{}", command_prompt(command))
}

/// One training example: the model should continue `prompt` with `completion`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Text the model is given (its tokens are not scored).
    pub prompt: String,
    /// Text the model should produce (every one of its tokens is scored).
    pub completion: String,
}

impl Example {
    /// The example for a spoken `command` and its plan JSON: prompt [`prompt_for`] and
    /// completion `{plan_json}\n`.
    pub fn from_command(command: &str, plan_json: &str) -> Self {
        Self {
            prompt: prompt_for(command),
            completion: format!("{plan_json}\n"),
        }
    }
}

/// An example as token ids: `ids[..prompt_len]` is the prompt (with BOS when the model
/// wants one), the rest the completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedExample {
    /// Prompt then completion token ids.
    pub ids: Vec<u32>,
    /// Number of leading ids that belong to the prompt (at least 1).
    pub prompt_len: usize,
}

impl TokenizedExample {
    /// Tokenize `ex` (example number `index`, for errors) with no special-token parsing of
    /// either text. Prompt and completion are encoded separately, as at inference, where
    /// the prompt is encoded alone and the model continues it.
    pub fn new(tok: &ModelTokenizer, ex: &Example, index: usize) -> Result<Self> {
        let mut ids = Vec::new();
        if tok.add_bos() {
            ids.extend(tok.bos_id());
        }
        ids.extend(tok.encode(&ex.prompt, false)?);
        let prompt_len = ids.len();
        let completion = tok.encode(&ex.completion, false)?;
        if prompt_len == 0 || completion.is_empty() {
            return Err(Error::InvalidExample {
                index,
                reason: "prompt and completion must each encode to at least one token".into(),
            });
        }
        ids.extend(completion);
        Ok(Self { ids, prompt_len })
    }

    /// Number of scored (completion) tokens.
    pub fn scored(&self) -> usize {
        self.ids.len() - self.prompt_len
    }
}

/// Optimiser settings of a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// The adapter's shape and seed.
    pub lora: LoraConfig,
    /// AdamW learning rate (per step).
    pub lr: f64,
    /// AdamW decoupled weight decay (per step, times lr).
    pub weight_decay: f64,
    /// Passes over the training examples.
    pub epochs: usize,
    /// Scale each step's gradients down so their global L2 norm is at most this
    /// (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
}

impl Default for TrainConfig {
    /// LoRA defaults, lr 1e-3, no weight decay, 3 epochs.
    fn default() -> Self {
        Self {
            lora: LoraConfig::default(),
            lr: 1e-3,
            weight_decay: 0.0,
            epochs: 3,
            max_grad_norm: None,
        }
    }
}

impl TrainConfig {
    /// Check the optimiser settings.
    pub fn check(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr < 1.0) {
            return Err(Error::InvalidSetting {
                name: "lr",
                value: self.lr.to_string(),
                reason: "must be between 0 and 1 (LoRA commonly uses 1e-4 to 2e-3)".into(),
            });
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::InvalidSetting {
                name: "weight_decay",
                value: self.weight_decay.to_string(),
                reason: "must be 0 or positive".into(),
            });
        }
        if let Some(c) = self.max_grad_norm {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::InvalidSetting {
                    name: "max_grad_norm",
                    value: c.to_string(),
                    reason: "must be positive (1.0 is common)".into(),
                });
            }
        }
        if self.epochs == 0 {
            return Err(Error::InvalidSetting {
                name: "epochs",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// A training run: the frozen base, the adapter being trained and its optimiser state.
pub struct Trainer<'m> {
    base: &'m BaseModel,
    adapter: LoraAdapter,
    opt: AdamW,
    max_grad_norm: Option<f64>,
    steps: usize,
}

impl<'m> Trainer<'m> {
    /// Start training a fresh adapter (seeded `A`, zero `B`) on `base`.
    pub fn new(base: &'m BaseModel, config: &TrainConfig) -> Result<Self> {
        config.check()?;
        let adapter = LoraAdapter::new(base, &config.lora)?;
        let opt = AdamW::new(
            adapter.vars(),
            ParamsAdamW {
                lr: config.lr,
                weight_decay: config.weight_decay,
                ..Default::default()
            },
        )?;
        Ok(Self {
            base,
            adapter,
            opt,
            max_grad_norm: config.max_grad_norm,
            steps: 0,
        })
    }

    /// One optimiser step on `batch`; returns its loss before the update (mean
    /// cross-entropy per completion token, nats).
    pub fn step(&mut self, batch: &[TokenizedExample]) -> Result<f32> {
        let loss = completion_loss(self.base, &self.adapter, batch, true)?;
        let mut grads = loss.backward()?;
        if let Some(max) = self.max_grad_norm {
            clip_grad_norm(&mut grads, &self.adapter.vars(), max)?;
        }
        self.opt.step(&grads)?;
        self.steps += 1;
        Ok(loss.to_scalar::<f32>()?)
    }

    /// Set the learning rate of the next steps (a schedule's value for the step).
    pub fn set_lr(&mut self, lr: f64) {
        self.opt.set_learning_rate(lr);
    }

    /// Mean cross-entropy per completion token (nats) over `examples`, without updating.
    pub fn evaluate(&self, examples: &[TokenizedExample]) -> Result<f32> {
        evaluate(self.base, &self.adapter, examples)
    }

    /// Optimiser steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The adapter as trained so far.
    pub fn adapter(&self) -> &LoraAdapter {
        &self.adapter
    }

    /// End training and keep the adapter.
    pub fn into_adapter(self) -> LoraAdapter {
        self.adapter
    }
}

/// Scale the gradients of `vars` in `grads` so their global L2 norm is at most `max`;
/// returns the norm before scaling.
pub fn clip_grad_norm(grads: &mut GradStore, vars: &[Var], max: f64) -> Result<f64> {
    let mut sum = 0f64;
    for v in vars {
        if let Some(g) = grads.get(v.as_tensor()) {
            sum += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
        }
    }
    let norm = sum.sqrt();
    if norm > max {
        let scale = max / norm;
        for v in vars {
            if let Some(g) = grads.remove(v.as_tensor()) {
                grads.insert(v.as_tensor(), (g * scale)?);
            }
        }
    }
    Ok(norm)
}

/// Examples packed into one forward pass by [`evaluate`].
const EVAL_PACK: usize = 8;

/// Mean cross-entropy per completion token (nats) of `base` with `adapter` (if any) over
/// `examples`, computed without recording gradients.
pub fn evaluate(
    base: &BaseModel,
    adapter: &LoraAdapter,
    examples: &[TokenizedExample],
) -> Result<f32> {
    let (mut sum, mut count) = (0f64, 0usize);
    for chunk in examples.chunks(EVAL_PACK) {
        let scored: usize = chunk.iter().map(TokenizedExample::scored).sum();
        let loss = completion_loss(base, adapter, chunk, false)?;
        sum += f64::from(loss.to_scalar::<f32>()?) * scored as f64;
        count += scored;
    }
    if count == 0 {
        return Err(Error::InvalidSetting {
            name: "examples",
            value: "[]".into(),
            reason: "evaluation needs at least one example".into(),
        });
    }
    Ok((sum / count as f64) as f32)
}

/// The scalar loss tensor: mean cross-entropy over every completion token of `batch`,
/// from one packed forward pass. Logits are computed only at the positions that predict
/// a completion token.
fn completion_loss(
    base: &BaseModel,
    adapter: &LoraAdapter,
    batch: &[TokenizedExample],
    track: bool,
) -> Result<Tensor> {
    if batch.is_empty() {
        return Err(Error::InvalidSetting {
            name: "batch",
            value: "[]".into(),
            reason: "a step needs at least one example".into(),
        });
    }
    // One packed pass over the whole batch; each example's rows are exactly its own.
    let seqs: Vec<&[u32]> = batch.iter().map(|ex| ex.ids.as_slice()).collect();
    let all = base.hidden_states_packed(
        &seqs,
        Some(Adapted {
            lora: adapter,
            track,
        }),
    )?;
    let mut hidden = Vec::with_capacity(batch.len());
    let mut targets = Vec::new();
    let mut start = 0;
    for ex in batch {
        // Position p predicts token p + 1: rows prompt_len - 1 .. len - 1.
        hidden.push(all.narrow(0, start + ex.prompt_len - 1, ex.scored())?);
        targets.extend_from_slice(&ex.ids[ex.prompt_len..]);
        start += ex.ids.len();
    }
    let hidden = Tensor::cat(&hidden, 0)?;
    let logits = base.head(&hidden)?;
    let targets = Tensor::new(targets.as_slice(), base.device())?;
    Ok(candle_nn::loss::cross_entropy(&logits, &targets)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Gradients of sum(3x) + sum(4y) for 1-element x and y: (3, 4), norm 5.
    fn three_four() -> (GradStore, Vec<Var>) {
        let x = Var::new(&[1f32], &Device::Cpu).unwrap();
        let y = Var::new(&[1f32], &Device::Cpu).unwrap();
        let loss = ((x.as_tensor() * 3.0).unwrap() + (y.as_tensor() * 4.0).unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        (loss.backward().unwrap(), vec![x, y])
    }

    fn grad(g: &GradStore, v: &Var) -> f32 {
        g.get(v.as_tensor()).unwrap().to_vec1::<f32>().unwrap()[0]
    }

    #[test]
    fn clipping_scales_to_the_norm_and_keeps_direction() {
        let (mut g, vars) = three_four();
        let norm = clip_grad_norm(&mut g, &vars, 1.0).unwrap();
        assert!((norm - 5.0).abs() < 1e-6, "{norm}");
        assert!((grad(&g, &vars[0]) - 0.6).abs() < 1e-6);
        assert!((grad(&g, &vars[1]) - 0.8).abs() < 1e-6);
    }

    #[test]
    fn gradients_under_the_norm_are_untouched() {
        let (mut g, vars) = three_four();
        clip_grad_norm(&mut g, &vars, 10.0).unwrap();
        assert_eq!((grad(&g, &vars[0]), grad(&g, &vars[1])), (3.0, 4.0));
    }
}
