//! `bora tokenize`: print the token ids of a text, as llama.cpp's `llama-tokenize --no-bos`.

use std::io::{Read, Write};

use anyhow::Context;
use bora_models::registry::resolve_model;

use super::common::ModelArg;
use bora_models::ModelTokenizer;

/// Arguments of `bora tokenize`.
#[derive(clap::Args, Debug)]
pub struct TokenizeArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Print a JSON array of ids (`[1,2,3]`) instead of one `id -> 'piece'` line per token.
    #[arg(long, conflicts_with = "ids")]
    pub json: bool,
    /// Print the ids as `llama-tokenize --ids` does (`[1, 2, 3]`).
    #[arg(long)]
    pub ids: bool,
    /// Treat special tokens written in the text (`<|im_start|>`) as plain text, as bora
    /// does for user input. By default they are parsed, as llama-tokenize does.
    #[arg(long)]
    pub no_special: bool,
    /// Read the text from standard input (all of it, byte for byte) instead of TEXT.
    #[arg(long, conflicts_with = "text")]
    pub stdin: bool,
    /// The text to tokenize. No BOS is added.
    #[arg(required_unless_present = "stdin")]
    pub text: Option<String>,
}

/// Run `bora tokenize`.
pub fn run(args: TokenizeArgs) -> anyhow::Result<()> {
    let text = match (&args.text, args.stdin) {
        (Some(text), false) => text.clone(),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the text from standard input (it must be UTF-8)")?;
            text
        }
    };
    let path = resolve_model(&args.model.model)?;
    let tokenizer = ModelTokenizer::from_gguf_file(&path)?;
    let ids = tokenizer.encode(&text, !args.no_special)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&ids)?)?;
    } else if args.ids {
        let list: Vec<String> = ids.iter().map(u32::to_string).collect();
        writeln!(out, "[{}]", list.join(", "))?;
    } else {
        for &id in &ids {
            writeln!(out, "{id:>6} -> '{}'", tokenizer.decode(&[id])?)?;
        }
    }
    out.flush()?;
    Ok(())
}
