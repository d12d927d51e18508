//! A live microphone through ALSA: signed 16-bit samples, one channel (a device with more
//! is mixed down), at the rate asked for or the nearest one the device has. Whisper's
//! 16 kHz is asked for; a device at another rate is kept at its own rate, and the
//! utterances are resampled once found (bora_models::whisper::resample), not the stream.

use std::ffi::CString;

use alsa::pcm::{Access, Format, HwParams, PCM};
use alsa::{Direction, ValueOr};

/// Why the microphone could not be opened or read. Each names the device and what to do.
#[derive(Debug, thiserror::Error)]
pub enum MicError {
    /// The device name cannot be an ALSA name (it holds a NUL byte or is empty).
    #[error("{device:?} is not an ALSA device name: give one of `arecord -L` (e.g. default, hw:1,0, plughw:1,0)")]
    BadName {
        /// The name given.
        device: String,
    },
    /// ALSA has no such capture device, or it is busy or forbidden.
    #[error("no ALSA capture device '{device}' ({alsa}): list devices with `arecord -L`; a busy device is freed by closing the program that holds it, a forbidden one needs the `audio` group")]
    Open {
        /// The name given.
        device: String,
        /// ALSA's error.
        alsa: alsa::Error,
    },
    /// The device cannot capture signed 16-bit mono (or any channel count) near the rate.
    #[error("ALSA device '{device}' cannot capture {what} ({alsa}): try plughw:CARD,DEV or `default`, which convert formats and rates")]
    Format {
        /// The name given.
        device: String,
        /// What was asked for, in words.
        what: String,
        /// ALSA's error.
        alsa: alsa::Error,
    },
    /// Reading failed and could not be recovered (device unplugged, ...).
    #[error("reading ALSA device '{device}' failed ({alsa}): is it still connected? check with `arecord -D {device} -f S16_LE -d 2 /tmp/t.wav`")]
    Read {
        /// The name given.
        device: String,
        /// ALSA's error.
        alsa: alsa::Error,
    },
}

/// An open ALSA capture device: mono samples in [-1, 1] at [`Mic::rate_hz`].
pub struct Mic {
    pcm: PCM,
    device: String,
    rate_hz: u32,
    channels: usize,
    /// Interleaved S16 frames read by ALSA, reused.
    raw: Vec<i16>,
    /// Overruns recovered from (audio lost because the reader was late).
    overruns: u64,
}

impl std::fmt::Debug for Mic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mic")
            .field("device", &self.device)
            .field("rate_hz", &self.rate_hz)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

/// Frames one [`Mic::read`] returns at most: 100 ms at 16 kHz.
pub const READ_FRAMES_16K: usize = 1600;

impl Mic {
    /// Opens `device` (an ALSA PCM name, e.g. `default`, `hw:1,0`, `plughw:1,0`) for
    /// capture, S16, asking for mono at `rate_hz` Hz (the device may give another rate:
    /// see [`Mic::rate_hz`]).
    pub fn open(device: &str, rate_hz: u32) -> Result<Self, MicError> {
        let name = CString::new(device)
            .ok()
            .filter(|n| !n.as_bytes().is_empty())
            .ok_or_else(|| MicError::BadName {
                device: device.to_owned(),
            })?;
        let pcm = PCM::open(&name, Direction::Capture, false).map_err(|alsa| MicError::Open {
            device: device.to_owned(),
            alsa,
        })?;
        let format = |what: String| {
            let device = device.to_owned();
            move |alsa| MicError::Format { device, what, alsa }
        };
        let (rate, channels) = {
            let hw = HwParams::any(&pcm).map_err(format("any format".into()))?;
            hw.set_access(Access::RWInterleaved)
                .map_err(format("interleaved frames".into()))?;
            hw.set_format(Format::s16())
                .map_err(format("signed 16-bit samples (S16)".into()))?;
            let channels = hw
                .set_channels_near(1)
                .map_err(format("one channel (mono)".into()))?;
            let rate = hw
                .set_rate_near(rate_hz, ValueOr::Nearest)
                .map_err(format(format!("near {rate_hz} Hz")))?;
            // About 100 ms a period, 500 ms of buffer: a late reader loses nothing.
            let _ = hw.set_period_time_near(100_000, ValueOr::Nearest);
            let _ = hw.set_buffer_time_near(500_000, ValueOr::Nearest);
            pcm.hw_params(&hw).map_err(format(format!(
                "S16 with {channels} channel(s) at {rate} Hz"
            )))?;
            (rate, channels)
        };
        let channels = usize::try_from(channels.max(1)).unwrap_or(1);
        let frames = (READ_FRAMES_16K as u64 * u64::from(rate) / 16_000).max(1) as usize;
        Ok(Self {
            pcm,
            device: device.to_owned(),
            rate_hz: rate,
            channels,
            raw: vec![0; frames * channels],
            overruns: 0,
        })
    }

    /// The device's name, as given.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The rate the device captures at, Hz (the one asked for when the device has it).
    pub fn rate_hz(&self) -> u32 {
        self.rate_hz
    }

    /// Channels the device captures (mixed down to one by [`Mic::read`]).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Overruns recovered from so far (each lost some audio: the reader was late).
    pub fn overruns(&self) -> u64 {
        self.overruns
    }

    /// Blocks for the next samples (about 100 ms), mono, values in [-1, 1], appended to
    /// `out`; returns how many. An overrun is recovered from (counted, see
    /// [`Mic::overruns`]) and reading goes on.
    pub fn read(&mut self, out: &mut Vec<f32>) -> Result<usize, MicError> {
        loop {
            let io = self.pcm.io_i16().map_err(|alsa| self.read_error(alsa))?;
            match io.readi(&mut self.raw) {
                Ok(frames) => {
                    let ch = self.channels;
                    let scale = 1.0 / (32_768.0 * ch as f32);
                    out.extend(
                        self.raw[..frames * ch]
                            .chunks_exact(ch)
                            .map(|f| f.iter().map(|&s| f32::from(s)).sum::<f32>() * scale),
                    );
                    if frames > 0 {
                        return Ok(frames);
                    }
                }
                Err(e) => {
                    self.pcm
                        .try_recover(e, true)
                        .map_err(|alsa| self.read_error(alsa))?;
                    self.overruns += 1;
                    tracing::warn!(
                        device = self.device.as_str(),
                        overruns = self.overruns,
                        "ALSA capture overrun: audio lost, recovered"
                    );
                }
            }
        }
    }

    fn read_error(&self, alsa: alsa::Error) -> MicError {
        MicError::Read {
            device: self.device.clone(),
            alsa,
        }
    }
}
