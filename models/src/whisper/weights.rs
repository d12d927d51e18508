//! CTranslate2 Whisper variables -> candle-transformers' `whisper::model::Whisper` names,
//! and the model `Config` read off the tensor shapes (CTranslate2 ships no HF config).
//!
//! The mapping: `gamma`/`beta` -> `weight`/`bias`; self-attention `linear_0` is q, k, v
//! fused by rows, `linear_1` the output; cross-attention `linear_0` is q, `linear_1` k and
//! v fused, `linear_2` the output; `ffn/linear_0`/`1` -> `fc1`/`fc2`; the decoder's
//! `embeddings` -> `embed_tokens` (also the output projection). candle's key projections
//! have no bias: CTranslate2 stores one (zeros from the converter), and a key bias adds
//! the same `q . b` to every score of a query, which softmax cancels, so it is dropped.
//! The encoder's sinusoids are computed by candle, so the stored ones are not used.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use candle_transformers::models::whisper::Config;

use super::ct2::Ct2Model;
use crate::{Error, Result};

/// CTranslate2 variables that hold settings or data candle computes itself.
const SETTINGS: &[&str] = &[
    "decoder/activation",
    "decoder/alibi",
    "decoder/alignment_heads",
    "decoder/alignment_layer",
    "decoder/num_heads",
    "decoder/pre_norm",
    "decoder/scale_embeddings",
    "decoder/start_from_zero_embedding",
    "encoder/activation",
    "encoder/num_heads",
    "encoder/pre_norm",
    "encoder/position_encodings/encodings",
];

/// Where one CTranslate2 variable goes: whole, or split by rows into parts (a `None`
/// part is dropped: the key bias).
enum Target {
    Whole(String),
    Split(Vec<Option<String>>),
    Setting,
}

/// The candle name(s) of a CTranslate2 Whisper variable, or `None` if it is not one.
fn target(name: &str) -> Option<Target> {
    if SETTINGS.contains(&name) {
        return Some(Target::Setting);
    }
    let (stack, rest) = name.split_once('/')?;
    if stack != "encoder" && stack != "decoder" {
        return None;
    }
    let root = format!("model.{stack}");
    let param = |p: &str| -> Option<&'static str> {
        match p {
            "weight" => Some("weight"),
            "bias" => Some("bias"),
            "gamma" => Some("weight"),
            "beta" => Some("bias"),
            _ => None,
        }
    };
    let whole = |path: String| Some(Target::Whole(path));
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["conv1" | "conv2", p] if stack == "encoder" && (*p == "weight" || *p == "bias") => {
            whole(format!("{root}.{}.{p}", rest.split('/').next()?))
        }
        ["layer_norm", p] => whole(format!("{root}.layer_norm.{}", param(p)?)),
        ["embeddings", "weight"] if stack == "decoder" => {
            whole(format!("{root}.embed_tokens.weight"))
        }
        ["position_encodings", "encodings"] if stack == "decoder" => {
            whole(format!("{root}.embed_positions.weight"))
        }
        [layer, block, module, p] => {
            let i: usize = layer.strip_prefix("layer_")?.parse().ok()?;
            let l = format!("{root}.layers.{i}");
            let p = param(p)?;
            match (*block, *module) {
                ("self_attention", "layer_norm") => whole(format!("{l}.self_attn_layer_norm.{p}")),
                ("self_attention", "linear_0") => Some(Target::Split(
                    ["q_proj", "k_proj", "v_proj"]
                        .iter()
                        .map(|q| {
                            (p == "weight" || *q != "k_proj")
                                .then(|| format!("{l}.self_attn.{q}.{p}"))
                        })
                        .collect(),
                )),
                ("self_attention", "linear_1") => whole(format!("{l}.self_attn.out_proj.{p}")),
                ("attention", "layer_norm") if stack == "decoder" => {
                    whole(format!("{l}.encoder_attn_layer_norm.{p}"))
                }
                ("attention", "linear_0") if stack == "decoder" => {
                    whole(format!("{l}.encoder_attn.q_proj.{p}"))
                }
                ("attention", "linear_1") if stack == "decoder" => Some(Target::Split(vec![
                    (p == "weight").then(|| format!("{l}.encoder_attn.k_proj.{p}")),
                    Some(format!("{l}.encoder_attn.v_proj.{p}")),
                ])),
                ("attention", "linear_2") if stack == "decoder" => {
                    whole(format!("{l}.encoder_attn.out_proj.{p}"))
                }
                ("ffn", "layer_norm") => whole(format!("{l}.final_layer_norm.{p}")),
                ("ffn", "linear_0") => whole(format!("{l}.fc1.{p}")),
                ("ffn", "linear_1") => whole(format!("{l}.fc2.{p}")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// All weights of `model` under candle's names, as `f32` tensors on `device`. Every
/// variable in the file must be known: an unknown one means a layout bora does not run.
pub fn candle_tensors(model: &Ct2Model, device: &Device) -> Result<HashMap<String, Tensor>> {
    if model.spec != "WhisperSpec" {
        return Err(Error::UnsupportedArchitecture {
            path: model.path.clone(),
            architecture: model.spec.clone(),
            supported: "WhisperSpec".to_owned(),
        });
    }
    let mut out = HashMap::new();
    for name in model.names() {
        let unknown = || Error::Ct2UnknownVariable {
            path: model.path.clone(),
            spec: model.spec.clone(),
            variable: name.to_owned(),
        };
        match target(name).ok_or_else(unknown)? {
            Target::Setting => {}
            Target::Whole(to) => {
                out.insert(to, model.tensor(name, device)?);
            }
            Target::Split(parts) => {
                let t = model.tensor(name, device)?;
                let rows = t.dim(0)?;
                if rows % parts.len() != 0 {
                    let v = model.variable(name)?;
                    return Err(Error::Ct2VariableSize {
                        path: model.path.clone(),
                        variable: name.to_owned(),
                        dims: v.dims.iter().map(|&d| d as u64).collect(),
                        bytes: v.data.len() as u64,
                        reason: format!("a fused projection of {} parts", parts.len()),
                    });
                }
                let n = rows / parts.len();
                for (i, to) in parts.into_iter().enumerate() {
                    if let Some(to) = to {
                        out.insert(to, t.narrow(0, i * n, n)?.contiguous()?);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// candle's Whisper `Config` from the shapes and settings in `model`.
pub fn config(model: &Ct2Model, suppress_tokens: Vec<u32>) -> Result<Config> {
    let dims = |name: &str| -> Result<Vec<usize>> { Ok(model.variable(name)?.dims.clone()) };
    let conv1 = dims("encoder/conv1/weight")?;
    let embeddings = dims("decoder/embeddings/weight")?;
    let positions = dims("decoder/position_encodings/encodings")?;
    let bad = |name: &str, found: Vec<usize>, expected: Vec<usize>| Error::TensorShape {
        path: model.path.clone(),
        tensor: name.to_owned(),
        expected,
        found,
    };
    let [d_model, n_mels, 3] = conv1[..] else {
        return Err(bad("encoder/conv1/weight", conv1, vec![384, 80, 3]));
    };
    let [vocab_size, d] = embeddings[..] else {
        return Err(bad(
            "decoder/embeddings/weight",
            embeddings,
            vec![51864, d_model],
        ));
    };
    if d != d_model {
        return Err(bad(
            "decoder/embeddings/weight",
            embeddings,
            vec![vocab_size, d_model],
        ));
    }
    let [max_target_positions, _] = positions[..] else {
        return Err(bad(
            "decoder/position_encodings/encodings",
            positions,
            vec![448, d_model],
        ));
    };
    let max_source_positions = match model.variable("encoder/position_encodings/encodings") {
        Ok(v) => v.dims.first().copied().unwrap_or(1500),
        Err(_) => 1500,
    };
    let layers = |stack: &str| {
        model
            .names()
            .filter_map(|n| n.strip_prefix(stack)?.strip_prefix("/layer_"))
            .filter_map(|rest| rest.split('/').next()?.parse::<usize>().ok())
            .max()
            .map_or(0, |m| m + 1)
    };
    let heads = |name: &str| -> Result<usize> {
        let h = model.scalar_int(name)?;
        if h <= 0 || d_model % h as usize != 0 {
            return Err(Error::InvalidArgument {
                name: "num_heads",
                value: h.to_string(),
                reason: format!(
                    "{}: `{name}` must divide the width {d_model}",
                    model.path.display()
                ),
            });
        }
        Ok(h as usize)
    };
    Ok(Config {
        num_mel_bins: n_mels,
        max_source_positions,
        d_model,
        encoder_attention_heads: heads("encoder/num_heads")?,
        encoder_layers: layers("encoder"),
        vocab_size,
        max_target_positions,
        decoder_attention_heads: heads("decoder/num_heads")?,
        decoder_layers: layers("decoder"),
        suppress_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(name: &str) -> Option<String> {
        match target(name)? {
            Target::Whole(s) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn names_map_onto_candle_whisper() {
        assert_eq!(
            whole("encoder/layer_3/self_attention/layer_norm/gamma").as_deref(),
            Some("model.encoder.layers.3.self_attn_layer_norm.weight")
        );
        assert_eq!(
            whole("decoder/layer_0/attention/linear_2/bias").as_deref(),
            Some("model.decoder.layers.0.encoder_attn.out_proj.bias")
        );
        assert_eq!(
            whole("decoder/embeddings/weight").as_deref(),
            Some("model.decoder.embed_tokens.weight")
        );
        assert_eq!(
            whole("encoder/conv2/bias").as_deref(),
            Some("model.encoder.conv2.bias")
        );
        let Some(Target::Split(parts)) = target("encoder/layer_1/self_attention/linear_0/bias")
        else {
            panic!("fused qkv bias is split");
        };
        assert_eq!(
            parts,
            [
                Some("model.encoder.layers.1.self_attn.q_proj.bias".to_owned()),
                None,
                Some("model.encoder.layers.1.self_attn.v_proj.bias".to_owned())
            ]
        );
        assert!(target("encoder/layer_0/attention/linear_0/weight").is_none());
        assert!(target("decoder/layer_0/ffn/linear_0/weight_scale").is_none());
        assert!(target("decoder/something").is_none());
    }
}
