//! A small WAV reader: RIFF/WAVE with 16-bit integer PCM or 32-bit float samples (plain
//! or `WAVE_FORMAT_EXTENSIBLE`), any rate, any channel count mixed down to mono.
//!
//! Sizes come from the file, so every one is checked against the bytes actually there
//! before anything is allocated; a data chunk that claims more than the file holds (a
//! stream whose header was never finalised) is read up to the end of the file.

use std::fmt;
use std::path::Path;

use crate::{Error, Result};

/// What is wrong with a WAV file ([`Error::Wav`] carries it with the path).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WavProblem {
    /// The file does not start with `RIFF....WAVE`.
    NotRiffWave,
    /// A chunk header or the `fmt ` chunk is cut short.
    Truncated,
    /// No `fmt ` chunk before the `data` chunk, or no `data` chunk.
    MissingChunk(&'static str),
    /// A sample format other than 16-bit PCM or 32-bit float.
    UnsupportedFormat {
        /// The WAVE format tag (1 PCM, 3 IEEE float, ...; the sub-format's for extensible).
        format_tag: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// Zero channels or a zero sample rate.
    BadHeader {
        /// Channels in the header.
        channels: u16,
        /// Sample rate in the header, in Hz.
        sample_rate: u32,
    },
    /// No samples.
    Empty,
    /// Longer than the caller's limit.
    TooLong {
        /// Duration of the file, in seconds.
        seconds: f64,
        /// The limit, in seconds.
        limit_s: f64,
    },
}

impl fmt::Display for WavProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRiffWave => write!(f, "not a WAV file (no RIFF/WAVE header)"),
            Self::Truncated => write!(f, "WAV file is truncated inside a chunk header"),
            Self::MissingChunk(c) => write!(f, "WAV file has no `{c}` chunk"),
            Self::UnsupportedFormat { format_tag, bits } => write!(
                f,
                "WAV sample format {format_tag} with {bits} bits is not supported; use 16-bit PCM or 32-bit float (e.g. `sox in.wav -b 16 out.wav`)"
            ),
            Self::BadHeader {
                channels,
                sample_rate,
            } => write!(
                f,
                "WAV header has {channels} channels at {sample_rate} Hz; both must be above 0"
            ),
            Self::Empty => write!(f, "WAV file holds no samples"),
            Self::TooLong { seconds, limit_s } => write!(
                f,
                "audio is {seconds:.1} s long, over the {limit_s:.0} s limit; cut it into utterances"
            ),
        }
    }
}

/// Mono audio at its file's rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// Samples in [-1, 1] (channels averaged).
    pub samples: Vec<f32>,
    /// Sample rate, in Hz.
    pub sample_rate: u32,
}

impl MonoAudio {
    /// Duration, in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Reads the WAV file at `path`, refusing audio longer than `max_seconds`.
pub fn read_wav(path: &Path, max_seconds: f64) -> Result<MonoAudio> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_wav(path, &bytes, max_seconds)
}

/// Parses the bytes of a WAV file; `path` is only used in errors.
pub fn parse_wav(path: &Path, bytes: &[u8], max_seconds: f64) -> Result<MonoAudio> {
    let err = |reason| Error::Wav {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(err(WavProblem::NotRiffWave));
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut pos = 12;
    // (format tag, channels, rate, bits)
    let mut format: Option<(u16, u16, u32, u16)> = None;
    loop {
        if pos == bytes.len() {
            return Err(err(WavProblem::MissingChunk("data")));
        }
        if pos + 8 > bytes.len() {
            return Err(err(WavProblem::Truncated));
        }
        let id = &bytes[pos..pos + 4];
        let size = u32_at(bytes, pos + 4) as usize;
        let body = pos + 8;
        let available = bytes.len() - body;
        if id == b"fmt " {
            if size < 16 || size > available {
                return Err(err(WavProblem::Truncated));
            }
            let b = &bytes[body..body + size];
            let mut tag = u16_at(b, 0);
            if tag == 0xFFFE && size >= 40 {
                // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real tag.
                tag = u16_at(b, 24);
            }
            format = Some((tag, u16_at(b, 2), u32_at(b, 4), u16_at(b, 14)));
        } else if id == b"data" {
            let Some((tag, channels, sample_rate, bits)) = format else {
                return Err(err(WavProblem::MissingChunk("fmt ")));
            };
            if channels == 0 || sample_rate == 0 {
                return Err(err(WavProblem::BadHeader {
                    channels,
                    sample_rate,
                }));
            }
            let width = match (tag, bits) {
                (1, 16) => 2,
                (3, 32) => 4,
                _ => {
                    return Err(err(WavProblem::UnsupportedFormat {
                        format_tag: tag,
                        bits,
                    }))
                }
            };
            let frame = width * usize::from(channels);
            let frames = size.min(available) / frame;
            if frames == 0 {
                return Err(err(WavProblem::Empty));
            }
            let seconds = frames as f64 / f64::from(sample_rate);
            if seconds > max_seconds {
                return Err(err(WavProblem::TooLong {
                    seconds,
                    limit_s: max_seconds,
                }));
            }
            let data = &bytes[body..body + frames * frame];
            let scale = 1.0 / f32::from(channels);
            let samples = data
                .chunks_exact(frame)
                .map(|f| {
                    let sum: f32 = f
                        .chunks_exact(width)
                        .map(|s| match width {
                            2 => f32::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0,
                            _ => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
                        })
                        .sum();
                    sum * scale
                })
                .collect();
            return Ok(MonoAudio {
                samples,
                sample_rate,
            });
        }
        // Chunks are padded to an even size.
        let next = body.saturating_add(size).saturating_add(size & 1);
        if next > bytes.len() {
            return Err(err(WavProblem::MissingChunk("data")));
        }
        pos = next;
    }
}

/// Encodes 16-bit PCM `samples` (interleaved over `channels`) as a WAV file.
pub fn wav_bytes_i16(samples: &[i16], channels: u16, sample_rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(bytes: &[u8], max: f64) -> WavProblem {
        match parse_wav(Path::new("x.wav"), bytes, max) {
            Err(Error::Wav { reason, .. }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stereo_pcm16_mixes_to_mono() {
        let wav = wav_bytes_i16(&[16384, 0, -32768, -32768], 2, 8000);
        let a = parse_wav(Path::new("x.wav"), &wav, 30.0).unwrap();
        assert_eq!(a.samples, [0.25, -1.0]);
        assert_eq!(a.sample_rate, 8000);
    }

    #[test]
    fn bad_files_give_typed_problems() {
        assert_eq!(problem(b"not a wav at all", 30.0), WavProblem::NotRiffWave);
        assert_eq!(
            problem(&wav_bytes_i16(&[], 1, 16000), 30.0),
            WavProblem::Empty
        );
        let mut u8pcm = wav_bytes_i16(&[0; 4], 1, 16000);
        u8pcm[34] = 8; // bits per sample
        assert_eq!(
            problem(&u8pcm, 30.0),
            WavProblem::UnsupportedFormat {
                format_tag: 1,
                bits: 8
            }
        );
        let long = wav_bytes_i16(&[0; 32000], 1, 16000);
        assert!(matches!(problem(&long, 1.5), WavProblem::TooLong { .. }));
        let wav = wav_bytes_i16(&[1; 8], 1, 16000);
        for n in 12..44 {
            let p = problem(&wav[..n], 30.0);
            assert!(
                matches!(p, WavProblem::Truncated | WavProblem::MissingChunk(_)),
                "{n}: {p:?}"
            );
        }
    }
}
