//! Choosing a token from a hidden row (lean CPU backend): the guide's mask first, then
//! the logits of the allowed tokens only. Where a grammar allows a handful of tokens
//! (JSON punctuation, a key, a digit) the 49,152-row output head costs a handful of dot
//! products instead of a whole product; the chosen token is the same, since each logit
//! has the bits the whole head gives it and every other one would be masked to -inf.

use std::time::{Duration, Instant};

use super::Guide;
use crate::model::Model;
use crate::sampling::Sampler;
use crate::Result;

/// A mask allowing more than 1/`DENSE_ABOVE` of the vocabulary takes the whole head
/// instead (one pass over every row is cheaper per row than separate dot products).
const DENSE_ABOVE: usize = 16;

/// Buffers a generation reuses to choose from hidden rows.
#[derive(Default)]
pub(super) struct HeadBuffers {
    /// Final-normed hidden rows of the last forward pass (tokens x hidden size).
    pub(super) hidden: Vec<f32>,
    /// One row's logits (vocabulary size; -inf where not computed).
    logits: Vec<f32>,
    /// Allowed ids and their logits.
    ids: Vec<u32>,
    picked: Vec<f32>,
}

/// Row `row` of `hidden` (rows of the model's hidden size).
fn hidden_row<'h>(hidden: &'h [f32], model: &Model, row: usize) -> &'h [f32] {
    let h = model.config().hidden;
    &hidden[row * h..(row + 1) * h]
}

impl HeadBuffers {
    /// Masks (when there is a guide) and samples the token after hidden row `row`, as
    /// [`super::choose`] does from full logits; also returns the mask's time.
    pub(super) fn choose(
        &mut self,
        model: &Model,
        guide: Option<&mut (dyn Guide + '_)>,
        sampler: &mut Sampler,
        row: usize,
    ) -> Result<(u32, Option<Duration>)> {
        let vocab = model.config().vocab;
        let mut logits = std::mem::take(&mut self.logits);
        logits.resize(vocab, 0.0);
        let mask_took = match guide {
            None => {
                model.logits_of(hidden_row(&self.hidden, model, row), &mut logits)?;
                None
            }
            Some(g) => Some(self.masked(model, g, row, &mut logits)?),
        };
        let chosen = sampler.sample(&logits);
        self.logits = logits;
        Ok((chosen?, mask_took))
    }

    /// Fills `logits` for row `row` under the guide's mask; returns the mask's time.
    fn masked(
        &mut self,
        model: &Model,
        g: &mut (dyn Guide + '_),
        at: usize,
        logits: &mut [f32],
    ) -> Result<Duration> {
        let hidden = hidden_row(&self.hidden, model, at);
        let t = Instant::now();
        let mask = g.allowed()?;
        let took = t.elapsed();
        let vocab = logits.len();
        match mask {
            Some(m) if m.count() <= vocab / DENSE_ABOVE => {
                self.ids.clear();
                self.ids
                    .extend(m.allowed().into_iter().filter(|&id| (id as usize) < vocab));
                self.picked.resize(self.ids.len(), 0.0);
                model.logits_for(hidden, &self.ids, &mut self.picked)?;
                logits.fill(f32::NEG_INFINITY);
                for (&id, &v) in self.ids.iter().zip(&self.picked) {
                    logits[id as usize] = v;
                }
                Ok(took)
            }
            Some(m) => {
                model.logits_of(hidden, logits)?;
                m.apply(logits);
                Ok(took)
            }
            None => {
                model.logits_of(hidden, logits)?;
                let t = Instant::now();
                g.mask_logits(logits)?;
                Ok(t.elapsed())
            }
        }
    }
}
