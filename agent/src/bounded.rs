//! Fixed-capacity storage for plans: a plan's steps and a `say` step's text live inline
//! (heapless), so once a plan exists it is cloned, queued between stages and executed
//! without touching the allocator. The capacities are the schema's hard ceilings;
//! [`crate::Limits`] may configure lower ones, never higher.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::error::{AgentError, Result};

/// The most steps any plan may have; [`crate::Limits::max_steps`] may lower it.
pub const MAX_PLAN_STEPS: usize = 8;

/// The longest `say` text, in Unicode characters; [`crate::Limits::max_say_chars`] may
/// lower it.
pub const MAX_SAY_CHARS: usize = 200;

/// Bytes a `say` text may take: [`MAX_SAY_CHARS`] characters of up to 4 UTF-8 bytes.
pub const MAX_SAY_BYTES: usize = 4 * MAX_SAY_CHARS;

/// The text of a `say` step, stored inline (at most [`MAX_SAY_CHARS`] characters).
pub type SayText = heapless::String<MAX_SAY_BYTES>;

/// `text` as a [`SayText`]; an error when it has more than [`MAX_SAY_CHARS`] characters.
pub fn say_text(text: &str) -> Result<SayText> {
    let chars = text.chars().count();
    let mut out = SayText::new();
    if chars > MAX_SAY_CHARS || out.push_str(text).is_err() {
        return Err(AgentError::SayTooLong {
            chars,
            max: MAX_SAY_CHARS,
        });
    }
    Ok(out)
}

/// serde `deserialize_with` for a [`SayText`]: too long a text is an error that says how
/// long it is and what fits (the string is read without an owned copy where the input
/// allows).
pub(crate) fn de_say<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<SayText, D::Error> {
    struct SayVisitor;
    impl Visitor<'_> for SayVisitor {
        type Value = SayText;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a string of at most {MAX_SAY_CHARS} characters")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<SayText, E> {
            say_text(v).map_err(E::custom)
        }
    }
    d.deserialize_str(SayVisitor)
}

/// serde `deserialize_with` for a plan's steps: reads the whole array and, when it has
/// more than `N` entries, fails with the count (not serde's bare "invalid length").
pub(crate) fn de_steps<'de, D, T, const N: usize>(
    d: D,
) -> std::result::Result<heapless::Vec<T, N>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct StepsVisitor<T, const N: usize>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for StepsVisitor<T, N> {
        type Value = heapless::Vec<T, N>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an array of at most {N} steps")
        }
        fn visit_seq<A: SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut steps = heapless::Vec::new();
            let mut count = 0usize;
            while let Some(step) = seq.next_element::<T>()? {
                count += 1;
                // Past the capacity, the rest is still read (and checked), only counted.
                let _ = steps.push(step);
            }
            if count > N {
                return Err(de::Error::custom(AgentError::StepCount { count, max: N }));
            }
            Ok(steps)
        }
    }
    d.deserialize_seq(StepsVisitor::<T, N>(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn say_text_takes_up_to_the_ceiling_in_characters_not_bytes() {
        let widest = "😀".repeat(MAX_SAY_CHARS);
        assert_eq!(say_text(&widest).unwrap().chars().count(), MAX_SAY_CHARS);
        let over = "a".repeat(MAX_SAY_CHARS + 1);
        assert_eq!(
            say_text(&over).unwrap_err(),
            AgentError::SayTooLong {
                chars: MAX_SAY_CHARS + 1,
                max: MAX_SAY_CHARS
            }
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Three(#[serde(deserialize_with = "de_steps")] heapless::Vec<u8, 3>);

    #[test]
    fn too_many_entries_fail_with_the_count() {
        let ok: Three = serde_json::from_str("[1,2,3]").unwrap();
        assert_eq!(ok.0.as_slice(), [1, 2, 3]);
        let err = serde_json::from_str::<Three>("[1,2,3,4,5]").unwrap_err();
        assert!(err.to_string().contains("plan has 5 steps"), "{err}");
        // A bad entry past the capacity is still an error of its own.
        assert!(serde_json::from_str::<Three>("[1,2,3,4,\"x\"]").is_err());
    }
}
