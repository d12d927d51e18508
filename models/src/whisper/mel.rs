//! Whisper's log-mel front end, computed as faster-whisper's `FeatureExtractor` does
//! (the reference the transcripts are checked against): 160 zero samples appended, a
//! centred STFT (reflect padding, periodic Hann window of 400 samples, hop 160), the
//! power spectrum through Slaney-style mel filters, `log10` clamped at 1e-10, values
//! below the maximum minus 8 raised to it, then `(x + 4) / 4`.
//!
//! The DFT is one matrix product (frames x 400 by 400 x 402 cos/sin columns) on candle,
//! so it runs on the same fast GEMM as the model.

use candle_core::{Device, Tensor};

use crate::Result;

/// Sample rate the model expects, in Hz.
pub const SAMPLE_RATE: usize = 16_000;
/// STFT window and FFT length, in samples (25 ms).
pub const N_FFT: usize = 400;
/// STFT hop, in samples (10 ms): one mel frame per hop.
pub const HOP: usize = 160;
/// Frames in Whisper's 30-second window.
pub const WINDOW_FRAMES: usize = 3000;
/// Frequency bins of the one-sided spectrum.
const N_BINS: usize = N_FFT / 2 + 1;

/// Slaney-style mel filter bank (`librosa.filters.mel(norm="slaney", htk=False)`), as
/// faster-whisper computes it: `n_mels` rows of `N_BINS` (201) weights, row-major.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let sr = SAMPLE_RATE as f64;
    let fft_freqs: Vec<f64> = (0..N_BINS).map(|i| i as f64 * sr / N_FFT as f64).collect();
    // 45.245640471924965 is the Slaney mel of 8 kHz (the Nyquist frequency).
    let max_mel = 45.245_640_471_924_965;
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    let freqs: Vec<f64> = (0..n_mels + 2)
        .map(|i| {
            let mel = max_mel * i as f64 / (n_mels + 1) as f64;
            if mel >= min_log_mel {
                min_log_hz * (logstep * (mel - min_log_mel)).exp()
            } else {
                f_sp * mel
            }
        })
        .collect();
    let mut w = vec![0f32; n_mels * N_BINS];
    for m in 0..n_mels {
        let enorm = 2.0 / (freqs[m + 2] - freqs[m]);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - freqs[m]) / (freqs[m + 1] - freqs[m]);
            let upper = (freqs[m + 2] - f) / (freqs[m + 2] - freqs[m + 1]);
            w[m * N_BINS + k] = (lower.min(upper).max(0.0) * enorm) as f32;
        }
    }
    w
}

/// The precomputed parts of the front end: window, DFT basis and mel filters.
#[derive(Debug, Clone)]
pub struct MelFrontEnd {
    n_mels: usize,
    window: Vec<f32>,
    /// `[N_FFT, 2 * N_BINS]`: cos columns then -sin columns.
    basis: Tensor,
    /// `[N_BINS, n_mels]`: the filters transposed for a right product.
    filters_t: Tensor,
}

impl MelFrontEnd {
    /// A front end producing `n_mels` mel bins (80 for Whisper up to large-v2).
    pub fn new(n_mels: usize) -> Result<Self> {
        let window: Vec<f32> = (0..N_FFT)
            .map(|i| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()) as f32
            })
            .collect();
        let mut basis = vec![0f32; N_FFT * 2 * N_BINS];
        for n in 0..N_FFT {
            for k in 0..N_BINS {
                // Reduce n*k modulo N_FFT first so the angle stays exact in f64.
                let a = 2.0 * std::f64::consts::PI * ((n * k) % N_FFT) as f64 / N_FFT as f64;
                basis[n * 2 * N_BINS + k] = a.cos() as f32;
                basis[n * 2 * N_BINS + N_BINS + k] = -a.sin() as f32;
            }
        }
        let basis = Tensor::from_vec(basis, (N_FFT, 2 * N_BINS), &Device::Cpu)?;
        let filters = Tensor::from_vec(mel_filters(n_mels), (n_mels, N_BINS), &Device::Cpu)?;
        Ok(Self {
            n_mels,
            window,
            basis,
            filters_t: filters.t()?.contiguous()?,
        })
    }

    /// Number of mel bins per frame.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// The normalised log-mel spectrogram of 16 kHz mono `pcm` (values in [-1, 1]):
    /// `n_mels` rows of `content_frames = pcm.len() / HOP` frames, row-major, as
    /// faster-whisper hands a segment to the encoder before padding it to 3000 frames.
    /// Returns `(values, content_frames)`; an empty input gives no frames.
    pub fn log_mel(&self, pcm: &[f32]) -> Result<(Vec<f32>, usize)> {
        if pcm.is_empty() {
            return Ok((Vec::new(), 0));
        }
        // faster-whisper appends HOP zeros, then the STFT pads N_FFT/2 on each side by
        // reflection and drops its last frame.
        let mut x = Vec::with_capacity(pcm.len() + HOP);
        x.extend_from_slice(pcm);
        x.extend(std::iter::repeat_n(0.0, HOP));
        let n_frames = x.len() / HOP;
        let pad = N_FFT / 2;
        let reflect = |i: isize| -> f32 {
            let n = x.len() as isize;
            if n == 1 {
                return x[0];
            }
            let period = 2 * (n - 1);
            let mut j = i.rem_euclid(period);
            if j >= n {
                j = period - j;
            }
            x[j as usize]
        };
        let mut frames = vec![0f32; n_frames * N_FFT];
        for (f, row) in frames.chunks_exact_mut(N_FFT).enumerate() {
            let start = (f * HOP) as isize - pad as isize;
            for (j, v) in row.iter_mut().enumerate() {
                *v = reflect(start + j as isize) * self.window[j];
            }
        }
        let frames = Tensor::from_vec(frames, (n_frames, N_FFT), &Device::Cpu)?;
        let spec = frames.matmul(&self.basis)?;
        let re = spec.narrow(1, 0, N_BINS)?;
        let im = spec.narrow(1, N_BINS, N_BINS)?;
        let power = (re.sqr()? + im.sqr()?)?;
        // [n_frames, n_mels] -> [n_mels, n_frames]
        let mel = power.matmul(&self.filters_t)?.t()?.contiguous()?;
        let mut mel: Vec<f32> = mel.flatten_all()?.to_vec1()?;
        for v in mel.iter_mut() {
            *v = v.max(1e-10).log10();
        }
        let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in mel.iter_mut() {
            *v = (v.max(max - 8.0) + 4.0) / 4.0;
        }
        // The last frame counts for the maximum but is not content.
        let content = n_frames - 1;
        let mut out = Vec::with_capacity(self.n_mels * content);
        for row in mel.chunks_exact(n_frames) {
            out.extend_from_slice(&row[..content]);
        }
        Ok((out, content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_triangles_with_slaney_area() {
        let w = mel_filters(80);
        assert_eq!(w.len(), 80 * N_BINS);
        // Every filter has weight somewhere and none is negative.
        for row in w.chunks_exact(N_BINS) {
            assert!(row.iter().all(|&v| v >= 0.0));
            assert!(row.iter().any(|&v| v > 0.0));
        }
        // librosa's filters for sr 16000, n_fft 400, 80 mels: first row peaks at bin 1.
        assert!((w[1] - 0.024_87).abs() < 1e-4, "{}", w[1]);
    }

    #[test]
    fn frame_count_and_range_follow_faster_whisper() {
        let fe = MelFrontEnd::new(80).unwrap();
        let pcm: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin() * 0.5)
            .collect();
        let (mel, frames) = fe.log_mel(&pcm).unwrap();
        assert_eq!(frames, 100);
        assert_eq!(mel.len(), 80 * 100);
        let max = mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min = mel.iter().copied().fold(f32::INFINITY, f32::min);
        assert!(max <= (max.ceil() + 1.0) && min >= max - 2.0 - 1e-6);
        // A 440 Hz tone is loudest in the mel bin around 440 Hz.
        let bin_energy = |m: usize| mel[m * 100 + 50];
        let loudest = (0..80)
            .max_by(|&a, &b| bin_energy(a).total_cmp(&bin_energy(b)))
            .unwrap();
        assert!((5..15).contains(&loudest), "{loudest}");
        assert_eq!(fe.log_mel(&[]).unwrap().1, 0);
    }
}
