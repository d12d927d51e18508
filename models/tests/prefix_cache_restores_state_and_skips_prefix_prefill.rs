//! A request that starts with a cached prefix gives the same next-token logits as a
//! cold prefill of the whole prompt, while prefilling only its own tokens, and the same
//! state can serve request after request.

use bora_models::generate::encode_prompt;
use bora_models::prefix_cache::PrefixCache;
use bora_models::registry::resolve_model;
use bora_models::sampling::argmax;
use bora_models::{Model, ModelOptions, ModelTokenizer};

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn cached_prefix_matches_cold_prefill() {
    let path = resolve_model("smollm2-135m-instruct")
        .unwrap_or_else(|e| panic!("model not available ({e}); run scripts/setup.sh"));
    let model = Model::load(
        &path,
        &ModelOptions {
            threads: 0,
            context: 256,
            ..Default::default()
        },
    )
    .expect("model loads");
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer");
    let system = "<|im_start|>system\nYou are a robot. Reply with one JSON action.<|im_end|>\n";
    let prefix = encode_prompt(&tok, system).expect("prefix");
    let mut state = model.new_state().expect("state");
    let cache = PrefixCache::build(&model, &mut state, prefix.clone(), 16).expect("prefix cache");
    assert_eq!(state.pos(), prefix.len());
    assert!(cache.bytes() > 0);

    for user in ["Move forward two meters.", "Turn left.", "Stop!"] {
        let mut prompt = prefix.clone();
        prompt.extend(
            tok.encode(
                &format!("<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"),
                true,
            )
            .expect("user"),
        );

        let mut cold = model.new_state().expect("cold state");
        let cold_logits = model.forward(&mut cold, &prompt).expect("cold").to_vec();
        // The same computation without the cache: the prefix in the cache's chunks of
        // 16, then the request's tokens. Restoring the snapshot must give exactly this.
        let mut chunked = model.new_state().expect("chunked state");
        for c in prefix.chunks(16) {
            model.forward(&mut chunked, c).expect("chunked prefix");
        }
        let chunked_logits = model
            .forward(&mut chunked, &prompt[prefix.len()..])
            .expect("chunked rest")
            .to_vec();

        let rest = cache.prepare(&mut state, &prompt).expect("prepare");
        assert_eq!(
            rest.len(),
            prompt.len() - prefix.len(),
            "only the request's own tokens are left"
        );
        assert_eq!(state.pos(), prefix.len());
        let warm_logits = model.forward(&mut state, &rest).expect("warm").to_vec();

        let d = max_abs_diff(&chunked_logits, &warm_logits);
        assert!(
            d < 1e-4,
            "{user}: cached-prefix logits differ by {d} from the same chunks uncached"
        );
        // A one-pass prefill rounds differently (8-bit activation codes amplify the
        // order of attention's sums: candle's own path drifts 0.5 between chunk sizes);
        // the next token must still agree.
        assert_eq!(argmax(&cold_logits), argmax(&warm_logits), "{user}");
        let d = max_abs_diff(&cold_logits, &warm_logits);
        assert!(
            d < 1.0,
            "{user}: logits differ by {d} from a one-pass prefill"
        );
    }

    // A prompt without the prefix resets the state and prefills everything.
    let other = tok.encode("Hello", false).expect("other");
    assert_eq!(cache.prepare(&mut state, &other).expect("prepare"), other);
    assert_eq!(state.pos(), 0);
}
