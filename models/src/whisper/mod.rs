//! Whisper speech-to-text on candle, from CTranslate2 model files (`model.bin`,
//! `config.json`, `tokenizer.json` in one directory; `scripts/setup.sh` fetches tiny.en).
//!
//! The pipeline, each part in its own file: the [`ct2`] reader, the name mapping onto
//! candle-transformers' Whisper and its config ([`weights`]), the log-mel front end
//! ([`mel`]), greedy decoding ([`decode`]); plus what feeds it: a [`wav`] reader and a
//! band-limited [`resample`]r to 16 kHz mono. Output matches faster-whisper (greedy,
//! timestamps off) on the same files: `tests/whisper_tiny_en_matches_ctranslate2_references.rs`.
//!
//! The encoder normally sees a 30-second window (audio padded with zero features); with
//! [`EncoderWindow::Fit`] it sees only the utterance, as whisper.cpp's `audio_ctx`
//! does: much less encoder work for a short command, but other transcripts (measured on
//! the 12 reference clips: 1 equal to ctranslate2's with 1 s of padding, two looping to
//! the token limit; 7 with 10-20 s), so the full window is the default.
//!
//! The forward pass is bora's own ([`model`], [`ops`]). On one CPU thread, 30 s window,
//! a 1-3 s clip took 3.9 s with candle-transformers' model and 0.4-0.7 s with this one
//! (machine load decides where), level with or faster than ctranslate2
//! (`bench/asr-compare.sh`).

pub mod ct2;
pub mod decode;
pub mod mel;
pub mod model;
pub mod ops;
pub mod resample;
pub mod wav;
pub mod weights;

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::Tokenizer;

use crate::{Error, Result};
use ct2::Ct2Model;
use decode::{DecodeRules, Decoded};
use mel::{MelFrontEnd, SAMPLE_RATE, WINDOW_FRAMES};
use model::WhisperModel;

/// Longest audio one call transcribes, in seconds (Whisper's window).
pub const MAX_SECONDS: f64 = 30.0;

/// How much of the 30-second window the encoder runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncoderWindow {
    /// Always 3000 frames (30 s), the audio padded with zero features: what the model was
    /// trained on and what faster-whisper does.
    #[default]
    Full,
    /// The utterance's frames plus `margin_frames` (10 ms each) of zero features, rounded
    /// up to an even count; at most the full window.
    Fit {
        /// Padding frames after the audio.
        margin_frames: usize,
    },
}

/// Options of one transcription.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscribeOptions {
    /// The encoder's window.
    pub window: EncoderWindow,
    /// At most this many tokens are generated.
    pub max_new_tokens: usize,
    /// With `logprob_threshold`: a result whose no-speech probability is above this and
    /// whose average log-probability is below that is silence (faster-whisper's rule).
    pub no_speech_threshold: Option<f32>,
    /// See `no_speech_threshold`.
    pub logprob_threshold: f32,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            window: EncoderWindow::Full,
            max_new_tokens: 224,
            no_speech_threshold: Some(0.6),
            logprob_threshold: -1.0,
        }
    }
}

/// Where the time of one transcription went, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct TranscribeTiming {
    /// Log-mel front end.
    pub mel_us: u64,
    /// Encoder forward pass.
    pub encode_us: u64,
    /// Greedy decoding (all steps).
    pub decode_us: u64,
    /// All of it.
    pub total_us: u64,
}

/// One transcription.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Transcript {
    /// The text as faster-whisper reports it (usually with a leading space); empty when
    /// the audio was judged silence.
    pub text: String,
    /// The generated text tokens (no prompt, no end-of-text).
    pub tokens: Vec<u32>,
    /// Probability of the no-speech token.
    pub no_speech_prob: f32,
    /// Average log-probability per generated token (end-of-text counted).
    pub avg_logprob: f32,
    /// Whether the result was judged silence (then `text` is empty).
    pub no_speech: bool,
    /// Duration of the audio, in seconds.
    pub audio_s: f64,
    /// Mel frames the encoder ran on (3000 for the full window).
    pub encoder_frames: usize,
    /// Where the time went.
    pub timing: TranscribeTiming,
}

/// The settings in CTranslate2's `config.json` that decoding uses.
#[derive(Debug, serde::Deserialize)]
struct Ct2Config {
    #[serde(default)]
    suppress_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids_begin: Vec<u32>,
}

/// A loaded Whisper model: weights on a device, tokenizer, front end and decoding rules.
pub struct Whisper {
    model: WhisperModel,
    tokenizer: Tokenizer,
    mel: MelFrontEnd,
    rules: DecodeRules,
    device: Device,
    dir: PathBuf,
    english_only: bool,
}

impl std::fmt::Debug for Whisper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whisper")
            .field("dir", &self.dir)
            .field("config", &self.model.config)
            .finish_non_exhaustive()
    }
}

impl Whisper {
    /// Loads the model in directory `dir` onto `device`, transcribing English.
    #[tracing::instrument(skip_all, err, fields(dir = %dir.display()))]
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let missing = |file: &str| {
            Error::WhisperModel {
            path: dir.join(file),
            reason: "missing; run scripts/setup.sh (it fetches whisper-tiny.en), or pass the directory of a CTranslate2 Whisper conversion".to_owned(),
        }
        };
        for file in ["model.bin", "config.json", "tokenizer.json"] {
            if !dir.join(file).is_file() {
                return Err(missing(file));
            }
        }
        let ct2 = Ct2Model::read(&dir.join("model.bin"))?;
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|source| Error::Io {
            path: config_path.clone(),
            source,
        })?;
        let ct2_config: Ct2Config =
            serde_json::from_str(&text).map_err(|e| Error::WhisperModel {
                path: config_path.clone(),
                reason: format!("not a CTranslate2 Whisper config.json: {e}"),
            })?;
        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| Error::Tokenizer {
            path: tokenizer_path.clone(),
            reason: e.to_string(),
        })?;
        let special = |name: &str| -> Result<u32> {
            tokenizer.token_to_id(name).ok_or_else(|| Error::Tokenizer {
                path: tokenizer_path.clone(),
                reason: format!("no special token {name}: not a Whisper tokenizer"),
            })
        };
        let sot = special("<|startoftranscript|>")?;
        let eot = special("<|endoftext|>")?;
        let no_timestamps = special("<|notimestamps|>")?;
        let no_speech = tokenizer
            .token_to_id("<|nospeech|>")
            .or_else(|| tokenizer.token_to_id("<|nocaptions|>"));
        let mut suppress = ct2_config.suppress_ids.clone();
        // faster-whisper adds the task and prompt tokens to the model's list.
        for name in [
            "<|transcribe|>",
            "<|translate|>",
            "<|startoftranscript|>",
            "<|startofprev|>",
            "<|startoflm|>",
        ] {
            suppress.extend(tokenizer.token_to_id(name));
        }
        suppress.extend(no_speech);
        suppress.sort_unstable();
        suppress.dedup();

        let config = weights::config(&ct2, ct2_config.suppress_ids.clone())?;
        // Multilingual vocabularies have 51865 tokens or more (as openai-whisper decides).
        let english_only = config.vocab_size < 51_865;
        let mut prompt = vec![sot];
        if !english_only {
            prompt.push(special("<|en|>")?);
            prompt.push(special("<|transcribe|>")?);
        }
        prompt.push(no_timestamps);
        let tensors = weights::candle_tensors(&ct2, device)?;
        drop(ct2);
        let vb = VarBuilder::from_tensors(tensors, candle_core::DType::F32, device);
        let mel = MelFrontEnd::new(config.num_mel_bins)?;
        let model = WhisperModel::load(&vb, config).map_err(|e| Error::WhisperModel {
            path: dir.join("model.bin"),
            reason: format!("the weights do not fit candle's Whisper: {e}"),
        })?;
        Ok(Self {
            model,
            tokenizer,
            mel,
            rules: DecodeRules {
                prompt,
                sot_index: 0,
                eot,
                no_speech,
                suppress,
                suppress_begin: ct2_config.suppress_ids_begin,
                max_new_tokens: 224,
            },
            device: device.clone(),
            dir: dir.to_owned(),
            english_only,
        })
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the model is English-only (a `.en` model).
    pub fn english_only(&self) -> bool {
        self.english_only
    }

    /// The loaded model's config, in candle-transformers' type (widths, layers, vocabulary).
    pub fn config(&self) -> &candle_transformers::models::whisper::Config {
        &self.model.config
    }

    /// Transcribes 16 kHz mono `pcm` (values in [-1, 1], at most [`MAX_SECONDS`]).
    #[tracing::instrument(skip_all, err, fields(samples = pcm.len()))]
    pub fn transcribe(&mut self, pcm: &[f32], opts: &TranscribeOptions) -> Result<Transcript> {
        let audio_s = pcm.len() as f64 / SAMPLE_RATE as f64;
        if audio_s > MAX_SECONDS {
            return Err(Error::InvalidArgument {
                name: "audio",
                value: format!("{audio_s:.1} s"),
                reason: format!("at most {MAX_SECONDS} s per call: cut it into utterances"),
            });
        }
        let t0 = Instant::now();
        let (mel, content) = self.mel.log_mel(pcm)?;
        let content = content.min(WINDOW_FRAMES);
        let frames = match opts.window {
            EncoderWindow::Full => WINDOW_FRAMES,
            EncoderWindow::Fit { margin_frames } => (content + margin_frames)
                .next_multiple_of(2)
                .clamp(2, WINDOW_FRAMES),
        };
        let n_mels = self.mel.n_mels();
        let mut input = vec![0f32; n_mels * frames];
        if content > 0 {
            let row_len = mel.len() / n_mels;
            for (m, row) in input.chunks_exact_mut(frames).enumerate() {
                let src = &mel[m * row_len..m * row_len + content.min(frames)];
                row[..src.len()].copy_from_slice(src);
            }
        }
        let input = Tensor::from_vec(input, (1, n_mels, frames), &self.device)?;
        let t1 = Instant::now();
        let features = self.model.encoder.forward(&input)?;
        let t2 = Instant::now();
        let rules = DecodeRules {
            max_new_tokens: opts.max_new_tokens,
            ..self.rules.clone()
        };
        let Decoded {
            tokens,
            sum_logprob,
            no_speech_prob,
        } = decode::greedy(&self.model, &features, &rules)?;
        let t3 = Instant::now();
        let avg_logprob = sum_logprob / (tokens.len() + 1) as f32;
        let no_speech = opts
            .no_speech_threshold
            .is_some_and(|th| no_speech_prob > th && avg_logprob < opts.logprob_threshold);
        let text = if no_speech {
            String::new()
        } else {
            let text_tokens: Vec<u32> = tokens.iter().copied().filter(|&t| t < rules.eot).collect();
            self.tokenizer
                .decode(&text_tokens, true)
                .map_err(|e| Error::Tokenizer {
                    path: self.dir.join("tokenizer.json"),
                    reason: e.to_string(),
                })?
        };
        let us = |a: Instant, b: Instant| (b - a).as_micros() as u64;
        Ok(Transcript {
            text,
            tokens,
            no_speech_prob,
            avg_logprob,
            no_speech,
            audio_s,
            encoder_frames: frames,
            timing: TranscribeTiming {
                mel_us: us(t0, t1),
                encode_us: us(t1, t2),
                decode_us: us(t2, t3),
                total_us: us(t0, t3),
            },
        })
    }
}

/// Reads a WAV file and returns 16 kHz mono samples for [`Whisper::transcribe`]: any
/// rate, 16-bit PCM or 32-bit float, channels averaged, at most [`MAX_SECONDS`].
pub fn read_wav_16k(path: &Path) -> Result<Vec<f32>> {
    let audio = wav::read_wav(path, MAX_SECONDS)?;
    Ok(resample::resample(
        &audio.samples,
        audio.sample_rate,
        SAMPLE_RATE as u32,
    ))
}

/// Where `scripts/setup.sh` puts Whisper tiny.en: `$BORA_MODELS/whisper-tiny.en`, or
/// `~/.cache/bora/models/whisper-tiny.en`.
pub fn default_model_dir() -> PathBuf {
    crate::registry::models_dir().join("whisper-tiny.en")
}
