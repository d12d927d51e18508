//! A constrained decoder over single-byte tokens (token id = byte), so a test can feed a
//! string byte by byte and ask whether the grammar lets it be written.

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::ApproximateTokEnv;
use llguidance::{Matcher, ParserFactory};

/// A fresh matcher for the JSON Schema `schema`; panics when it does not compile.
pub fn matcher(schema: serde_json::Value) -> Matcher {
    let env = ApproximateTokEnv::single_byte_env();
    let factory = ParserFactory::new_simple(&env).unwrap();
    let grammar = TopLevelGrammar::from_json_schema(schema);
    let m = Matcher::new(factory.create_parser(grammar));
    assert!(
        !m.is_error(),
        "schema does not compile: {:?}",
        m.get_error()
    );
    m
}

/// True when `matcher` (at its start) could produce exactly `text` as a complete output.
pub fn writes(matcher: &Matcher, text: &str) -> bool {
    let mut m = matcher.deep_clone();
    let tokens: Vec<u32> = text.bytes().map(u32::from).collect();
    match m.try_consume_tokens(&tokens) {
        Ok(n) if n == tokens.len() => m.is_accepting().unwrap_or(false),
        _ => false,
    }
}
