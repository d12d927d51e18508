//! Arbitrary text through the real SmolLM2 tokenizer (built once from the GGUF in the
//! model cache): encoding never panics, plain-text encoding round-trips exactly, the
//! streaming decoder yields the same text as a whole decode, and arbitrary ids decode
//! or fail with a typed error.
#![no_main]

use std::sync::OnceLock;

use bora_models::registry::resolve_model;
use bora_models::ModelTokenizer;
use libfuzzer_sys::fuzz_target;

fn tokenizer() -> &'static ModelTokenizer {
    static TOK: OnceLock<ModelTokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        let name =
            std::env::var("BORA_FUZZ_MODEL").unwrap_or_else(|_| "smollm2-135m-instruct".into());
        let path = resolve_model(&name)
            .unwrap_or_else(|e| panic!("{e}; run scripts/setup.sh to download the models"));
        ModelTokenizer::from_gguf_file(&path).expect("the real tokenizer builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let tok = tokenizer();
    if let Ok(text) = std::str::from_utf8(data) {
        // User text: special tokens are plain text, so the round trip is exact.
        let ids = tok
            .encode(text, false)
            .expect("encoding valid UTF-8 never fails");
        let back = tok.decode(&ids).expect("ids from encode decode");
        assert_eq!(
            back, text,
            "plain-text round trip changed the text: ids {ids:?}"
        );
        let mut stream = tok.stream_decoder();
        let mut streamed = String::new();
        for &id in &ids {
            if let Some(piece) = stream.push(id).expect("stream push") {
                streamed.push_str(&piece);
            }
        }
        if let Some(piece) = stream.finish().expect("stream finish") {
            streamed.push_str(&piece);
        }
        assert_eq!(streamed, text, "streamed decode differs from the text");
        // Prompt text: control tokens are parsed; must not panic.
        let _ = tok
            .encode(text, true)
            .expect("encoding with specials never fails");
    }
    // The same bytes as token ids (generated tokens can be any id below the vocabulary).
    let ids: Vec<u32> = data
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
        .collect();
    match tok.decode(&ids) {
        Ok(_) => assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size())),
        Err(_) => assert!(ids.iter().any(|&id| (id as usize) >= tok.vocab_size())),
    }
    let mut stream = tok.stream_decoder();
    for &id in &ids {
        let _ = stream.push(id);
    }
    let _ = stream.finish();
});
