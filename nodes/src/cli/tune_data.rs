//! `bora tune`'s data: intent lines to training examples (the plan form checked), token
//! ids with the file and line named on error, the seeded per-epoch order, and the refusal
//! to touch the held-out test split.

use std::path::Path;

use anyhow::Context;
use bora_agent::{expand_short, short_from_plan, short_written, Plan, PlanForm};
use bora_models::ModelTokenizer;
use bora_nodes::eval::dataset::IntentCase;
use bora_nodes::eval::score;
use bora_tune::{Example, TokenizedExample};

/// The file name of the held-out test split, which is never trained on or used for choices.
const HELDOUT_FILE_NAME: &str = "heldout.jsonl";

/// An error for a path whose file name is the held-out test split's.
pub(super) fn refuse_heldout(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path.file_name().is_some_and(|n| n == HELDOUT_FILE_NAME) {
        anyhow::bail!(
            "{flag} {}: {HELDOUT_FILE_NAME} is the held-out test split; it must never be \
             trained on or used for choices (epochs, checkpoints, prompts). Train on \
             models/data/intents/train.jsonl and measure --heldout on \
             models/data/intents/dev.jsonl",
            path.display()
        );
    }
    Ok(())
}

/// The training example of each case: its text, and its first plan as the model is to
/// write it in `form`. A line's short form must expand to its first plan.
pub(super) fn examples(
    path: &Path,
    cases: &[IntentCase],
    form: PlanForm,
) -> anyhow::Result<Vec<Example>> {
    cases
        .iter()
        .map(|c| {
            let at = || format!("{}:{}", path.display(), c.line);
            let steps = c.plans.first().cloned().unwrap_or_default();
            let plan = Plan::new(steps).with_context(|| format!("{}: first plan", at()))?;
            let target = match (form, &c.short) {
                (PlanForm::Full, _) => plan
                    .to_json()
                    .with_context(|| format!("{}: first plan", at()))?,
                (PlanForm::Short, None) => short_from_plan(&plan),
                (PlanForm::Short, Some(short)) => {
                    check_short(short, &plan).with_context(|| format!("{}: \"short\"", at()))?;
                    short_written(short)?
                }
            };
            Ok(Example::from_command(&c.text, &target))
        })
        .collect()
}

/// `short` expands to `plan`, numbers within the benchmark's tolerance.
fn check_short(short: &str, plan: &Plan) -> anyhow::Result<()> {
    let expanded = expand_short(short)?;
    let same = expanded.steps.len() == plan.steps.len()
        && expanded
            .steps
            .iter()
            .zip(&plan.steps)
            .all(|(a, e)| score::step_matches(a, e));
    if !same {
        anyhow::bail!(
            "{short} expands to {}, not to the first plan",
            expanded.to_json()?
        );
    }
    Ok(())
}

/// Token ids of every example; an error names the file and line.
pub(super) fn tokenize(
    tok: &ModelTokenizer,
    path: &Path,
    cases: &[IntentCase],
    examples: &[Example],
) -> anyhow::Result<Vec<TokenizedExample>> {
    cases
        .iter()
        .zip(examples)
        .enumerate()
        .map(|(i, (c, e))| {
            TokenizedExample::new(tok, e, i)
                .with_context(|| format!("{}:{}: cannot tokenize", path.display(), c.line))
        })
        .collect()
}

/// Shuffles `order` for `epoch` (Fisher-Yates, SplitMix64 seeded by `seed` and `epoch`):
/// the same order for the same seed on every machine.
pub(super) fn shuffle(order: &mut [usize], seed: u64, epoch: u64) {
    let mut state = seed ^ epoch.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..order.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_seeded_and_a_permutation() {
        let mut a: Vec<usize> = (0..50).collect();
        let mut b = a.clone();
        shuffle(&mut a, 15, 1);
        shuffle(&mut b, 15, 1);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        let mut c: Vec<usize> = (0..50).collect();
        shuffle(&mut c, 15, 2);
        assert_ne!(a, c);
    }

    #[test]
    fn heldout_file_name_is_refused() {
        let e = refuse_heldout("--data", Path::new("models/data/intents/heldout.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("held-out"), "{e}");
        assert!(refuse_heldout("--data", Path::new("dev.jsonl")).is_ok());
    }
}
