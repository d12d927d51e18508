//! Plain text of any kind survives encode then decode (whole and streamed) for both
//! models' tokenizers: unassigned code points in every plane, NULs, lone combining marks,
//! each UTF-8 length. Where SmolLM2's byte-level vocabulary has no token for a byte, the
//! character becomes one U+FFFD instead of losing bytes, which is what the fuzzer found
//! (issue #9; seed fuzz/seeds/tokenizer/).
//!
//! The expectations are worked out by hand, not with the code under test: Gemma 3 gives
//! every text back unchanged; SmolLM2 replaces exactly the characters whose UTF-8 bytes
//! include one of the eight it cannot spell (DESIGN.md, "Models"), and nothing else.

use bora_models::registry::resolve_model;
use bora_models::ModelTokenizer;

/// The fuzzer's crash input: U+5F680 (F1 9F 9A 80) came back as three U+FFFD.
const FUZZ_CRASH: &str = "emoji 🤖\u{5F680} ro\0\0t";

/// The bytes SmolLM2's byte-level vocabulary has no token for (DESIGN.md): four control
/// characters, and F1/F2, the lead bytes of U+40000..=U+BFFFF.
const SMOLLM2_UNSPELLABLE: [u8; 8] = [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xF1, 0xF2];

/// What SmolLM2 gives back for `text`, from the list above alone: a character whose UTF-8
/// encoding holds one of those bytes becomes one U+FFFD, every other character stays.
fn smollm2_expected(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            if bytes.iter().any(|b| SMOLLM2_UNSPELLABLE.contains(b)) {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// Gemma 3 (SentencePiece with byte fallback) spells every byte: text comes back as is.
fn gemma3_expected(text: &str) -> String {
    text.to_owned()
}

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

/// Round-trips every awkward text through `name`'s tokenizer, whole and streamed, and
/// compares with `expected(text)`.
fn check(name: &str, expected: fn(&str) -> String) -> ModelTokenizer {
    let tok = tokenizer(name);
    for text in awkward_texts() {
        let expected = expected(&text);
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
        // What the tokenizer says it can spell agrees with the hand-worked expectation.
        assert_eq!(tok.representable(&text), expected, "{name}: {text:?}");
    }
    tok
}

/// SmolLM2 gives back every awkward text with exactly the characters it cannot spell
/// replaced by one U+FFFD each; hand-written cases pin the rule (the fuzz crash, the
/// eight bytes, F1/F2 lead bytes against their F0/F3 neighbours).
#[test]
fn smollm2_round_trips_awkward_text() {
    let tok = check("smollm2-135m-instruct", smollm2_expected);
    let r = "\u{FFFD}";
    let cases = [
        // The fuzz crash: U+5F680 (F1 9F 9A 80) is one U+FFFD, every other byte survives.
        (FUZZ_CRASH, "emoji 🤖\u{FFFD} ro\0\0t".to_owned()),
        ("\u{4}\u{6}\u{13}\u{14}\u{16}\u{1D}", r.repeat(6)),
        ("go\u{4} forward\u{1D} 1 m", format!("go{r} forward{r} 1 m")),
        // F1 and F2 lead U+40000..=U+BFFFF; F0 (U+3FFFD) and F3 (U+C0000) are spelled.
        ("\u{3FFFD}\u{40000}\u{7FFFF}", format!("\u{3FFFD}{r}{r}")),
        ("\u{80000}\u{BFFFF}\u{C0000}", format!("{r}{r}\u{C0000}")),
        // Neighbours of the eight bytes, and every UTF-8 length, are untouched.
        (
            "\u{3}\u{5}\u{7}\u{12}\u{15}\u{17}\u{1C}\u{1E}",
            "\u{3}\u{5}\u{7}\u{12}\u{15}\u{17}\u{1C}\u{1E}".to_owned(),
        ),
        (
            "\0\u{1}\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}",
            "\0\u{1}\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}".to_owned(),
        ),
        ("\u{301}", "\u{301}".to_owned()),
    ];
    for (text, expected) in cases {
        assert_eq!(
            smollm2_expected(text),
            expected,
            "the rule itself, {text:?}"
        );
        let back = tok.decode(&tok.encode(text, false).unwrap()).unwrap();
        assert_eq!(back, expected, "{text:?}");
    }
}

/// Gemma 3 gives back every awkward text exactly, whole and streamed.
#[test]
fn gemma3_round_trips_awkward_text_exactly() {
    check("gemma3-270m", gemma3_expected);
}
