//! The agent's audio topic: `std_msgs/Int16MultiArray` of signed 16-bit PCM.
//!
//! Why this message: bora's ROS 2 comes from PyPI wheels, which ship the core message
//! packages (std_msgs, sensor_msgs, ...) but not audio_common_msgs, so `AudioData` is not
//! there for bora or for an rclpy peer; every ROS 2 installation has std_msgs, and an
//! Int16MultiArray carries raw S16 samples without a container format to parse. The rate
//! is the `audio.sample_rate_hz` parameter (16000 for Whisper, any other is resampled).
//!
//! Layout: `data` holds the samples, `layout.data_offset` 0; `layout.dim` is empty or
//! `[samples]` (mono), or `[frames, channels]` with channels interleaved (averaged to
//! mono). Anything else is refused with a reason naming the topic.

use bora_pipeline::AudioInput;
use r2r::std_msgs::msg::Int16MultiArray;

/// Most channels an audio message may interleave.
const MAX_CHANNELS: u32 = 8;

/// The mono samples of an audio message (values in [-1, 1]), or why it is refused.
pub fn mono_samples(msg: &Int16MultiArray, topic: &str) -> Result<Vec<f32>, String> {
    let bad = |why: String| {
        Err(format!(
            "audio message on {topic} refused: {why}; send std_msgs/Int16MultiArray of mono S16 samples (layout.dim empty, or [frames, channels])"
        ))
    };
    if msg.layout.data_offset != 0 {
        return bad(format!(
            "layout.data_offset is {}, not 0",
            msg.layout.data_offset
        ));
    }
    let len = msg.data.len();
    let channels = match msg.layout.dim.as_slice() {
        [] => 1,
        [d] if d.size as usize == len => 1,
        [f, c] if (f.size as usize).checked_mul(c.size as usize) == Some(len) => c.size,
        dims => {
            let sizes: Vec<u32> = dims.iter().map(|d| d.size).collect();
            return bad(format!(
                "layout.dim sizes {sizes:?} do not describe {len} samples"
            ));
        }
    };
    if channels == 0 || channels > MAX_CHANNELS {
        return bad(format!("{channels} channels (1 to {MAX_CHANNELS})"));
    }
    let scale = 1.0 / (32768.0 * channels as f32);
    Ok(msg
        .data
        .chunks_exact(channels as usize)
        .map(|frame| frame.iter().map(|&s| f32::from(s)).sum::<f32>() * scale)
        .collect())
}

/// Hands one audio message to the hearing stage; a refused one is reported on
/// `agent/events` (by `audio`) and logged, never a panic.
pub fn feed(audio: &mut AudioInput, msg: &Int16MultiArray, topic: &str) {
    let result = match mono_samples(msg, topic) {
        Ok(samples) => audio.push(samples).map_err(|e| e.to_string()),
        Err(why) => {
            audio.reject(&why);
            Err(why)
        }
    };
    if let Err(why) = result {
        tracing::warn!(topic, reason = why.as_str(), "audio message refused");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use r2r::std_msgs::msg::{MultiArrayDimension, MultiArrayLayout};

    fn msg(data: Vec<i16>, dims: &[u32], offset: u32) -> Int16MultiArray {
        Int16MultiArray {
            layout: MultiArrayLayout {
                dim: dims
                    .iter()
                    .map(|&size| MultiArrayDimension {
                        label: String::new(),
                        size,
                        stride: size,
                    })
                    .collect(),
                data_offset: offset,
            },
            data,
        }
    }

    #[test]
    fn mono_and_interleaved_audio_become_mono_samples() {
        let m = msg(vec![0, 16384, -32768], &[], 0);
        assert_eq!(mono_samples(&m, "audio"), Ok(vec![0.0, 0.5, -1.0]));
        let m = msg(vec![0, 16384, -32768], &[3], 0);
        assert_eq!(mono_samples(&m, "audio"), Ok(vec![0.0, 0.5, -1.0]));
        let m = msg(vec![16384, 0, -16384, -16384], &[2, 2], 0);
        assert_eq!(mono_samples(&m, "audio"), Ok(vec![0.25, -0.5]));
    }

    #[test]
    fn a_layout_that_does_not_fit_is_refused_naming_the_topic() {
        for (m, what) in [
            (msg(vec![1, 2, 3], &[4], 0), "do not describe 3 samples"),
            (msg(vec![1, 2, 3], &[], 1), "data_offset is 1"),
            (msg(vec![1; 20], &[1, 20], 0), "20 channels"),
            (msg(vec![1, 2], &[1, 1, 2], 0), "do not describe"),
            (msg(vec![], &[0, 0], 0), "0 channels"),
        ] {
            let e = mono_samples(&m, "robot/audio").expect_err(what);
            assert!(e.contains(what) && e.contains("robot/audio"), "{e}");
        }
    }
}
