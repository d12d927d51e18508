//! Fifteen AdamW steps on four (command, plan) examples lower the completion loss
//! clearly (the time per step is printed, not asserted: machines differ); the held-out
//! evaluation does not change the adapter.

mod common;

use std::time::Instant;

use bora_tune::{TrainConfig, Trainer};

#[test]
fn training_loss_falls_on_four_examples() {
    let (base, tok) = common::load();
    let data = common::tokenized(&tok, &common::examples());
    let config = TrainConfig {
        lr: 2e-3,
        ..Default::default()
    };
    let mut trainer = Trainer::new(&base, &config).expect("trainer starts");
    let before = trainer.evaluate(&data).expect("evaluate");
    assert_eq!(
        trainer.evaluate(&data).expect("evaluate again"),
        before,
        "evaluate changed the adapter"
    );
    let start = Instant::now();
    let mut losses = Vec::new();
    for step in 0..15 {
        let ex = &data[step % data.len()];
        losses.push(trainer.step(std::slice::from_ref(ex)).expect("step"));
    }
    let secs = start.elapsed().as_secs_f64();
    let after = trainer.evaluate(&data).expect("evaluate");
    let tokens: usize = data.iter().map(|e| e.ids.len()).sum();
    println!(
        "loss before {before:.3} after {after:.3}; per-step {losses:.2?}; {:.3} s/step ({} tokens/example avg)",
        secs / 15.0,
        tokens / data.len()
    );
    assert!(losses.iter().all(|l| l.is_finite()));
    // First pass over the four examples against the last: a clear fall.
    let first: f32 = losses[..4].iter().sum::<f32>() / 4.0;
    let last: f32 = losses[losses.len() - 4..].iter().sum::<f32>() / 4.0;
    assert!(
        last < 0.5 * first,
        "training loss fell only from {first} to {last} (mean of 4 steps)"
    );
    assert!(
        after < 0.5 * before,
        "loss on the examples {before} -> {after}"
    );
}
