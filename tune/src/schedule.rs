//! The learning rate over a run: linear warm-up, then constant or cosine decay, and the
//! loss-spike watch that tells a user a run is diverging before it ends.

use std::f64::consts::PI;
use std::str::FromStr;

use crate::Error;

/// How the learning rate moves after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decay {
    /// The peak rate until the last step.
    Constant,
    /// Half a cosine from the peak down to zero at the last step.
    Cosine,
}

impl Decay {
    /// The name `--lr-decay` takes.
    pub fn name(self) -> &'static str {
        match self {
            Decay::Constant => "constant",
            Decay::Cosine => "cosine",
        }
    }
}

impl FromStr for Decay {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "constant" => Ok(Decay::Constant),
            "cosine" => Ok(Decay::Cosine),
            other => Err(Error::InvalidSetting {
                name: "lr decay",
                value: other.to_owned(),
                reason: "must be `constant` or `cosine`".into(),
            }),
        }
    }
}

/// A run's learning-rate schedule: `peak` reached after `warmup` steps, then `decay`
/// over the remaining steps of `total`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// The highest learning rate (per step).
    pub peak: f64,
    /// Steps of linear warm-up from peak / warmup to peak.
    pub warmup: usize,
    /// What happens after warm-up.
    pub decay: Decay,
    /// Optimiser steps in the whole run.
    pub total: usize,
}

impl Schedule {
    /// The learning rate of step `step` (1-based; step 1 is the first update).
    pub fn lr_at(&self, step: usize) -> f64 {
        let step = step.max(1);
        if step <= self.warmup {
            return self.peak * step as f64 / self.warmup as f64;
        }
        match self.decay {
            Decay::Constant => self.peak,
            Decay::Cosine => {
                let span = self.total.saturating_sub(self.warmup).max(1) as f64;
                // Step warmup + 1 is at the peak; the step after the last would be zero.
                let done = ((step - self.warmup - 1) as f64 / span).min(1.0);
                self.peak * 0.5 * (1.0 + (PI * done).cos())
            }
        }
    }
}

/// Watches the training loss for a spike: the mean of the last `window` steps rising to
/// `factor` times the lowest such mean seen, and above `floor` nats.
#[derive(Debug, Clone)]
pub struct SpikeWatch {
    window: usize,
    factor: f32,
    floor: f32,
    best: f32,
    reported: bool,
}

/// A loss spike: the windowed mean loss at `step` against the lowest before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// The step (1-based) whose window first crossed the threshold.
    pub step: usize,
    /// The lowest windowed mean loss before it (nats per completion token).
    pub best: f32,
    /// The windowed mean loss now (nats per completion token).
    pub now: f32,
}

impl Default for SpikeWatch {
    /// Window 20 steps, factor 4, floor 0.5 nats: a run that fell to 0.1 and climbs back
    /// past 0.5 is reported; noise around a loss of 0.05 is not.
    fn default() -> Self {
        Self {
            window: 20,
            factor: 4.0,
            floor: 0.5,
            best: f32::INFINITY,
            reported: false,
        }
    }
}

impl SpikeWatch {
    /// Feed the losses so far (one per step); returns the first spike, once.
    pub fn observe(&mut self, losses: &[f32]) -> Option<Spike> {
        if losses.len() < self.window || self.reported {
            return None;
        }
        let recent = &losses[losses.len() - self.window..];
        let now = recent.iter().sum::<f32>() / self.window as f32;
        if now > self.floor && now > self.best * self.factor {
            self.reported = true;
            return Some(Spike {
                step: losses.len(),
                best: self.best,
                now,
            });
        }
        self.best = self.best.min(now);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn warmup_rises_linearly_to_the_peak() {
        let s = Schedule {
            peak: 1e-3,
            warmup: 4,
            decay: Decay::Constant,
            total: 100,
        };
        assert!(close(s.lr_at(1), 0.25e-3));
        assert!(close(s.lr_at(4), 1e-3));
        assert!(close(s.lr_at(50), 1e-3));
        assert!(close(s.lr_at(100), 1e-3));
    }

    #[test]
    fn cosine_starts_at_the_peak_and_ends_near_zero() {
        let s = Schedule {
            peak: 2e-3,
            warmup: 0,
            decay: Decay::Cosine,
            total: 100,
        };
        assert!(close(s.lr_at(1), 2e-3));
        assert!(close(s.lr_at(51), 1e-3), "halfway: half the peak");
        assert!(s.lr_at(100) < 2e-3 * 0.001);
        assert!(s.lr_at(100) > 0.0, "the last step still updates");
        let lrs: Vec<f64> = (1..=100).map(|k| s.lr_at(k)).collect();
        assert!(lrs.windows(2).all(|w| w[1] <= w[0]), "never rises");
    }

    #[test]
    fn cosine_after_warmup_and_past_the_end() {
        let s = Schedule {
            peak: 1e-3,
            warmup: 10,
            decay: Decay::Cosine,
            total: 20,
        };
        assert!(close(s.lr_at(10), 1e-3));
        assert!(close(s.lr_at(11), 1e-3));
        assert!(s.lr_at(20) < 1e-3 && s.lr_at(21) >= 0.0);
    }

    #[test]
    fn decay_names_round_trip_and_unknown_is_named() {
        for d in [Decay::Constant, Decay::Cosine] {
            assert_eq!(d.name().parse::<Decay>().unwrap(), d);
        }
        let e = "linear".parse::<Decay>().unwrap_err().to_string();
        assert!(e.contains("linear") && e.contains("cosine"), "{e}");
    }

    #[test]
    fn spike_watch_reports_a_climb_once_and_ignores_noise() {
        let mut w = SpikeWatch::default();
        let mut losses: Vec<f32> = (0..40).map(|k| 3.0 / (1.0 + k as f32)).collect();
        losses.extend(std::iter::repeat_n(0.08, 40));
        for n in 1..=losses.len() {
            assert_eq!(w.observe(&losses[..n]), None, "falling loss at {n}");
        }
        losses.extend([0.06, 0.1, 0.07, 0.09].repeat(10));
        for n in 80..=losses.len() {
            assert_eq!(w.observe(&losses[..n]), None, "noise at {n}");
        }
        let before = losses.len();
        losses.extend(std::iter::repeat_n(3.4, 20));
        let first = (before + 1..=losses.len())
            .find_map(|n| w.observe(&losses[..n]))
            .expect("a climb from 0.08 to 3.4 is a spike");
        assert!(first.now > 0.5 && first.best < 0.1, "{first:?}");
        assert_eq!(w.observe(&losses), None, "reported once");
    }
}
