//! Choosing the next token from logits: greedy, or temperature + top-p with a seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Error, Result};

/// How the next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// The highest logit (the lowest id among ties), as llama.cpp's greedy sampler.
    Greedy,
    /// Nucleus sampling: softmax(logits / temperature), keep the most likely tokens
    /// whose probabilities sum to `top_p`, draw with an RNG seeded by `seed`.
    TopP {
        /// Softmax temperature (> 0; lower is more deterministic).
        temperature: f32,
        /// Probability mass kept, in (0, 1].
        top_p: f32,
        /// RNG seed: the same seed, prompt and model give the same tokens.
        seed: u64,
    },
}

/// A sampler with its RNG state.
#[derive(Debug)]
pub struct Sampler {
    mode: Sampling,
    rng: StdRng,
    /// Scratch (index, probability) pairs, reused across tokens.
    scratch: Vec<(u32, f32)>,
}

impl Sampler {
    /// Check the parameters and seed the RNG.
    pub fn new(mode: Sampling) -> Result<Self> {
        let seed = match mode {
            Sampling::Greedy => 0,
            Sampling::TopP {
                temperature,
                top_p,
                seed,
            } => {
                if !(temperature.is_finite() && temperature > 0.0) {
                    return Err(Error::InvalidArgument {
                        name: "temperature",
                        value: temperature.to_string(),
                        reason: "must be a finite number > 0 (use greedy for 0)".into(),
                    });
                }
                if !(top_p > 0.0 && top_p <= 1.0) {
                    return Err(Error::InvalidArgument {
                        name: "top_p",
                        value: top_p.to_string(),
                        reason: "must be in (0, 1]".into(),
                    });
                }
                seed
            }
        };
        Ok(Self {
            mode,
            rng: StdRng::seed_from_u64(seed),
            scratch: Vec::new(),
        })
    }

    /// The configured mode.
    pub fn mode(&self) -> Sampling {
        self.mode
    }

    /// Choose a token id from `logits` (one per vocabulary entry; -inf = forbidden).
    pub fn sample(&mut self, logits: &[f32]) -> Result<u32> {
        let best = argmax(logits).ok_or_else(no_token)?;
        let (temperature, top_p) = match self.mode {
            Sampling::Greedy => return Ok(best),
            Sampling::TopP {
                temperature, top_p, ..
            } => (temperature, top_p),
        };
        let max = logits[best as usize];
        self.scratch.clear();
        let mut total = 0f32;
        for (i, &l) in logits.iter().enumerate() {
            if l.is_finite() {
                let p = ((l - max) / temperature).exp();
                if p > 0.0 {
                    total += p;
                    self.scratch.push((i as u32, p));
                }
            }
        }
        self.scratch
            .sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let keep_mass = top_p * total;
        let mut cum = 0f32;
        let mut n = 0;
        for &(_, p) in &self.scratch {
            cum += p;
            n += 1;
            if cum >= keep_mass {
                break;
            }
        }
        let r: f32 = self.rng.random::<f32>() * cum;
        let mut acc = 0f32;
        for &(id, p) in &self.scratch[..n] {
            acc += p;
            if r < acc {
                return Ok(id);
            }
        }
        Ok(self.scratch[n.saturating_sub(1)].0)
    }
}

fn no_token() -> Error {
    Error::InvalidArgument {
        name: "logits",
        value: "all -inf or NaN".into(),
        reason: "no token is allowed; the constraint or the model produced no usable logit".into(),
    }
}

/// Index of the largest finite logit (first among ties), `None` if there is none.
pub fn argmax(logits: &[f32]) -> Option<u32> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &l) in logits.iter().enumerate() {
        if l.is_nan() || l == f32::NEG_INFINITY {
            continue;
        }
        if best.is_none_or(|(_, b)| l > b) {
            best = Some((i, l));
        }
    }
    best.map(|(i, _)| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_picks_first_maximum_and_skips_forbidden() -> Result<()> {
        let mut s = Sampler::new(Sampling::Greedy)?;
        assert_eq!(s.sample(&[0.0, 3.0, 3.0, 1.0])?, 1);
        assert_eq!(s.sample(&[f32::NEG_INFINITY, -5.0])?, 1);
        assert!(s.sample(&[f32::NEG_INFINITY; 3]).is_err());
        Ok(())
    }

    #[test]
    fn top_p_is_reproducible_with_a_seed_and_stays_in_the_nucleus() -> Result<()> {
        let logits = [5.0, 4.9, -10.0, 0.0];
        let mode = Sampling::TopP {
            temperature: 1.0,
            top_p: 0.9,
            seed: 7,
        };
        let draw = |m| -> Result<Vec<u32>> {
            let mut s = Sampler::new(m)?;
            (0..50).map(|_| s.sample(&logits)).collect()
        };
        let a = draw(mode)?;
        assert_eq!(a, draw(mode)?);
        assert!(a.iter().all(|&t| t == 0 || t == 1), "{a:?}");
        assert!(a.contains(&0) && a.contains(&1));
        Ok(())
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let bad_t = Sampling::TopP {
            temperature: 0.0,
            top_p: 0.9,
            seed: 0,
        };
        assert!(matches!(
            Sampler::new(bad_t),
            Err(Error::InvalidArgument {
                name: "temperature",
                ..
            })
        ));
        let bad_p = Sampling::TopP {
            temperature: 1.0,
            top_p: 1.5,
            seed: 0,
        };
        assert!(matches!(
            Sampler::new(bad_p),
            Err(Error::InvalidArgument { name: "top_p", .. })
        ));
    }
}
