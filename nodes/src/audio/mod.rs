//! Where the agent's audio comes from: the ROS topic (`audio.source` = `topic`) or a local
//! microphone through ALSA (`alsa:DEVICE`), read on a thread of its own into the same
//! hearing stage ([`bora_pipeline::AudioInput`]). `bora listen --mic` reads [`Mic`] too.

pub mod mic;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use bora_pipeline::AudioInput;
pub use mic::{Mic, MicError};

/// Where the agent node hears audio from (parameter `audio.source`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AudioSource {
    /// The `audio.topic` topic (std_msgs/Int16MultiArray).
    #[default]
    Topic,
    /// A local ALSA capture device, by its ALSA name (`default`, `hw:1,0`, ...).
    Alsa(String),
}

impl std::str::FromStr for AudioSource {
    type Err = String;

    /// `topic`, or `alsa:DEVICE` (`alsa` alone: the `default` device).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "topic" {
            return Ok(Self::Topic);
        }
        if s == "alsa" {
            return Ok(Self::Alsa("default".to_owned()));
        }
        match s.strip_prefix("alsa:").map(str::trim) {
            Some(dev) if !dev.is_empty() && !dev.contains('\0') => Ok(Self::Alsa(dev.to_owned())),
            _ => Err(format!(
                "audio source {s:?}: expected \"topic\" or \"alsa:DEVICE\" (a device of `arecord -L`, e.g. alsa:default, alsa:plughw:1,0)"
            )),
        }
    }
}

impl std::fmt::Display for AudioSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Topic => f.write_str("topic"),
            Self::Alsa(d) => write!(f, "alsa:{d}"),
        }
    }
}

/// A microphone read on a thread of its own into a hearing stage. Dropping it stops the
/// thread (within one read, about 100 ms).
pub struct MicFeed {
    stop: Arc<AtomicBool>,
    listening: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), MicError>>>,
}

impl MicFeed {
    /// Starts reading `mic` into `input`, listening. A read error ends the thread; it is
    /// logged, reported on `agent/events` as rejected audio, and returned by
    /// [`MicFeed::stop`].
    pub fn start(mut mic: Mic, mut input: AudioInput) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let listening = Arc::new(AtomicBool::new(true));
        let (stop2, listening2) = (Arc::clone(&stop), Arc::clone(&listening));
        let thread = std::thread::Builder::new()
            .name("bora-mic".into())
            .spawn(move || {
                let mut buf = Vec::new();
                while !stop2.load(Ordering::Relaxed) {
                    buf.clear();
                    if let Err(e) = mic.read(&mut buf) {
                        tracing::error!(error = %e, "microphone stopped");
                        input.reject(&e.to_string());
                        return Err(e);
                    }
                    if listening2.load(Ordering::Relaxed) {
                        // A refused chunk is already reported on agent/events.
                        let _ = input.push(std::mem::take(&mut buf));
                    }
                }
                Ok(())
            })?;
        Ok(Self {
            stop,
            listening,
            thread: Some(thread),
        })
    }

    /// Whether captured audio goes to the hearing stage (false: read and dropped, e.g.
    /// while a managed node is not active).
    pub fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Relaxed);
    }

    /// Stops the thread and returns how it ended.
    pub fn stop(mut self) -> Result<(), MicError> {
        self.halt()
    }

    fn halt(&mut self) -> Result<(), MicError> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => {
                tracing::error!("microphone thread panicked");
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Drop for MicFeed {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_print_back() {
        for (text, want) in [
            ("topic", AudioSource::Topic),
            ("alsa", AudioSource::Alsa("default".into())),
            ("alsa:hw:1,0", AudioSource::Alsa("hw:1,0".into())),
            (" alsa:plughw:1,0 ", AudioSource::Alsa("plughw:1,0".into())),
        ] {
            let got: AudioSource = text.parse().unwrap();
            assert_eq!(got, want);
            assert_eq!(got.to_string().parse::<AudioSource>().unwrap(), want);
        }
        for bad in ["", "mic", "alsa:", "alsa: ", "alsa:a\0b", "pulse:x"] {
            let e = bad.parse::<AudioSource>().unwrap_err();
            assert!(e.contains("alsa:DEVICE"), "{e}");
        }
    }

    #[test]
    fn a_missing_device_is_named_with_what_to_do() {
        let e = Mic::open("bora_no_such_device_xyz", 16_000).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, MicError::Open { .. }), "{msg}");
        assert!(
            msg.contains("'bora_no_such_device_xyz'") && msg.contains("arecord -L"),
            "{msg}"
        );
        let e = Mic::open("a\0b", 16_000).unwrap_err();
        assert!(matches!(e, MicError::BadName { .. }), "{e}");
        assert!(matches!(
            Mic::open("", 16_000),
            Err(MicError::BadName { .. })
        ));
    }
}
