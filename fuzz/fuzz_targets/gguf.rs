//! Bytes as a GGUF file: open and validate the header, build the tokenizer from its
//! metadata, load the model from whatever validates, and run one token through it.
//! Every outcome must be a typed error or a working model: never a panic, an abort, a
//! hang, or an allocation out of proportion to the file (libFuzzer's -rss_limit_mb and
//! -malloc_limit_mb catch those).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use bora_models::gguf::GgufFile;
use bora_models::{Model, ModelOptions, ModelTokenizer};
use libfuzzer_sys::fuzz_target;

/// A private directory per fuzzing process, so a `tokenizer.json` elsewhere in the temp
/// directory is never picked up as an override and parallel jobs do not collide.
fn scratch_file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("bora-fuzz-gguf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz scratch directory");
        dir.join("input.gguf")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch_file();
    std::fs::write(path, data).expect("write the fuzz scratch file");
    let Ok(file) = GgufFile::open(path) else {
        return;
    };
    if let Ok(tok) = ModelTokenizer::from_gguf(path, file.content()) {
        let _ = tok.encode("go forward 1 m <|im_start|>", true);
        let _ = tok.decode(&[0, 1, 2]);
    }
    // A small context keeps the KV cache small; the tensors are what is under test.
    let options = ModelOptions {
        context: 16,
        ..Default::default()
    };
    if let Ok(model) = Model::from_gguf(&file, &options) {
        if let Ok(mut state) = model.new_state() {
            let _ = model.forward(&mut state, &[0]);
        }
    }
});
