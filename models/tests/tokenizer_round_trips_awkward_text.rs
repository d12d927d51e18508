//! Plain text of any kind survives encode then decode (whole and streamed) for both
//! models' tokenizers: unassigned code points in every plane, NULs, lone combining marks,
//! each UTF-8 length. Where SmolLM2's byte-level vocabulary has no token for a byte, the
//! character becomes one U+FFFD (`ModelTokenizer::representable`) instead of losing
//! bytes, which is what the fuzzer found (issue #9; seed fuzz/seeds/tokenizer/).

use bora_models::registry::resolve_model;
use bora_models::ModelTokenizer;

/// The fuzzer's crash input: U+5F680 (F1 9F 9A 80) came back as three U+FFFD.
const FUZZ_CRASH: &str = "emoji 🤖\u{5F680} ro\0\0t";

fn tokenizer(name: &str) -> ModelTokenizer {
    let path = resolve_model(name)
        .unwrap_or_else(|e| panic!("{e}; run scripts/setup.sh to download the models"));
    ModelTokenizer::from_gguf_file(&path).expect("the real tokenizer builds")
}

fn awkward_texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        FUZZ_CRASH,
        "\0",
        "\0\0\0 a\0b",
        // One to four UTF-8 bytes, at both ends of each length.
        "\u{1}\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}",
        "\u{D7FF}\u{E000}\u{FEFF}\u{FFFD}\u{FFFE}",
        // Unassigned code points in planes 0-3, 4-11 (F1/F2 lead bytes), 14, private 15-16.
        "\u{378}\u{1FAFF}\u{2FFFF}\u{3FFFD}",
        "\u{40000}\u{5F680}\u{7FFFF}\u{80000}\u{9ABCD}\u{BFFFF}",
        "x\u{C0000}y\u{E0080}z\u{F0000}\u{10FFFD}",
        // Lone and stacked combining marks.
        "\u{301}",
        " \u{301}\u{302}\u{303}",
        "a\u{301}\u{20DD}\u{1D167}",
        // Control bytes SmolLM2 has no token for.
        "\u{4}\u{6}\u{13}\u{14}\u{16}\u{1D}",
        "go\u{4} forward\u{1D} 1 m",
        "  \t\n\r\u{B}\u{C}\u{85}\u{2028}\u{3000} ",
        "<|im_start|>user\n<start_of_turn>",
    ]
    .map(String::from)
    .to_vec();
    // A sweep of the code space: every 89th scalar value, 64 to a string.
    let sweep: Vec<char> = (0..=0x10FFFFu32)
        .step_by(89)
        .filter_map(char::from_u32)
        .collect();
    texts.extend(sweep.chunks(64).map(|c| c.iter().collect::<String>()));
    texts
}

fn check(name: &str) -> ModelTokenizer {
    let tok = tokenizer(name);
    for text in awkward_texts() {
        let expected = tok.representable(&text);
        let ids = tok.encode(&text, false).expect("encode");
        let back = tok.decode(&ids).expect("decode");
        assert_eq!(
            back, expected,
            "{name}: round trip of {text:?} gave ids {ids:?}"
        );
        let mut stream = tok.stream_decoder();
        let mut streamed = String::new();
        for &id in &ids {
            streamed.push_str(&stream.push(id).expect("push").unwrap_or_default());
        }
        streamed.push_str(&stream.finish().expect("finish").unwrap_or_default());
        assert_eq!(streamed, expected, "{name}: streamed decode of {text:?}");
        // Only whole characters are replaced, one U+FFFD each.
        assert_eq!(
            expected.chars().count(),
            text.chars().count(),
            "{name}: {text:?}"
        );
        for (e, t) in expected.chars().zip(text.chars()) {
            assert!(
                e == t || e == char::REPLACEMENT_CHARACTER,
                "{name}: {t:?} -> {e:?}"
            );
        }
    }
    tok
}

#[test]
fn smollm2_round_trips_awkward_text() {
    let tok = check("smollm2-135m-instruct");
    // The fuzz crash: U+5F680 is one U+FFFD now, every other byte survives.
    let back = tok.decode(&tok.encode(FUZZ_CRASH, false).unwrap()).unwrap();
    assert_eq!(back, "emoji 🤖\u{FFFD} ro\0\0t");
    // Text the vocabulary can spell is untouched.
    for text in [
        "\0\u{1}\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}",
        "\u{301}",
    ] {
        assert_eq!(tok.representable(text), text);
    }
}

#[test]
fn gemma3_round_trips_awkward_text_exactly() {
    let tok = check("gemma3-270m");
    // SentencePiece with byte fallback spells every byte: nothing is replaced.
    for text in awkward_texts() {
        assert_eq!(tok.representable(&text), text);
    }
}
