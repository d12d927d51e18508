//! Tokens of a command: words, numbers (digits or words, merged into one number token)
//! and clause-ending punctuation, each with its byte span in the command; and the units.

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Word,
    Num(f64),
    /// Punctuation that ends a clause: `,` `;` `:` `.` `!` `?`.
    Sep(char),
    /// A double-quoted text ("..." or “...”), quotes included in the span; no
    /// punctuation inside it splits a clause.
    Quoted,
}

/// A token: its kind and its byte span in the command (the same in the original and the
/// ASCII-lowercased copy).
#[derive(Debug, Clone, Copy)]
pub(super) struct Tok {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '“' => Some('”'),
        _ => None,
    }
}

pub(super) fn lex(lower: &str) -> Vec<Tok> {
    let chars: Vec<(usize, char)> = lower.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let byte = |k: usize| chars.get(k).map_or(lower.len(), |&(i, _)| i);
    let digit = |k: usize| at(k).is_some_and(|c| c.is_ascii_digit());
    let mut toks = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k].1;
        let prev_alnum = k > 0 && chars[k - 1].1.is_alphanumeric();
        let signed = (c == '-' || c == '+')
            && !prev_alnum
            && (digit(k + 1) || (at(k + 1) == Some('.') && digit(k + 2)));
        if c.is_ascii_digit() || (c == '.' && digit(k + 1)) || signed {
            let start = k;
            let mut j = if signed { k + 1 } else { k };
            while digit(j) {
                j += 1;
            }
            if at(j) == Some('.') && digit(j + 1) {
                j += 1;
                while digit(j) {
                    j += 1;
                }
            }
            let text = &lower[byte(start)..byte(j)];
            if let Ok(value) = text.parse::<f64>() {
                toks.push(Tok {
                    kind: Kind::Num(value),
                    start: byte(start),
                    end: byte(j),
                });
            }
            k = j;
        } else if c.is_alphabetic() {
            let start = k;
            let mut j = k + 1;
            while at(j).is_some_and(|c| c.is_alphabetic())
                || (at(j) == Some('\'') && at(j + 1).is_some_and(|c| c.is_alphabetic()))
            {
                j += 1;
            }
            toks.push(Tok {
                kind: Kind::Word,
                start: byte(start),
                end: byte(j),
            });
            k = j;
        } else if let Some(close) =
            closing_quote(c).and_then(|q| (k + 1..chars.len()).find(|&j| chars[j].1 == q))
        {
            toks.push(Tok {
                kind: Kind::Quoted,
                start: byte(k),
                end: byte(close + 1),
            });
            k = close + 1;
        } else {
            if c == '°' {
                toks.push(Tok {
                    kind: Kind::Word,
                    start: byte(k),
                    end: byte(k + 1),
                });
            } else if matches!(c, ',' | ';' | ':' | '.' | '!' | '?') {
                toks.push(Tok {
                    kind: Kind::Sep(c),
                    start: byte(k),
                    end: byte(k + 1),
                });
            }
            k += 1;
        }
    }
    toks
}

/// The quantity a unit measures, and its factor to the schema's unit (m, deg, s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Unit {
    Length(f64),
    Angle(f64),
    Time(f64),
}

pub(super) fn unit(word: &str) -> Option<Unit> {
    Some(match word {
        "m" | "meter" | "meters" | "metre" | "metres" => Unit::Length(1.0),
        "cm" | "centimeter" | "centimeters" | "centimetre" | "centimetres" => Unit::Length(0.01),
        "mm" | "millimeter" | "millimeters" | "millimetre" | "millimetres" => Unit::Length(0.001),
        "ft" | "foot" | "feet" => Unit::Length(0.3048),
        "inch" | "inches" => Unit::Length(0.0254),
        "yd" | "yds" | "yard" | "yards" => Unit::Length(0.9144),
        "deg" | "degs" | "degree" | "degrees" | "°" => Unit::Angle(1.0),
        "rad" | "rads" | "radian" | "radians" => Unit::Angle(180.0 / std::f64::consts::PI),
        "turn" | "turns" | "revolution" | "revolutions" | "rotation" | "rotations" | "circle" => {
            Unit::Angle(360.0)
        }
        "s" | "sec" | "secs" | "second" | "seconds" => Unit::Time(1.0),
        "ms" | "millisecond" | "milliseconds" => Unit::Time(0.001),
        "min" | "mins" | "minute" | "minutes" => Unit::Time(60.0),
        _ => return None,
    })
}

/// Units that "a"/"an" may count ("a meter", "a second"); not revolutions, so that "make
/// a turn" stays a verb.
fn counts_with_article(word: &str) -> bool {
    matches!(unit(word), Some(Unit::Length(_) | Unit::Time(_)))
        || matches!(word, "deg" | "degree" | "radian")
}

fn small_number(word: &str) -> Option<f64> {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    SMALL.iter().position(|&w| w == word).map(|n| n as f64)
}

fn tens(word: &str) -> Option<f64> {
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    TENS.iter()
        .position(|&w| w == word)
        .map(|n| (n as f64 + 2.0) * 10.0)
}

fn fraction(word: &str) -> Option<f64> {
    match word {
        "half" => Some(0.5),
        "quarter" => Some(0.25),
        _ => None,
    }
}

fn is_article(word: &str) -> bool {
    matches!(word, "a" | "an")
}

struct NumberReader<'a> {
    lower: &'a str,
    toks: &'a [Tok],
}

impl NumberReader<'_> {
    fn word(&self, i: usize) -> &str {
        match self.toks.get(i) {
            Some(t) if t.kind == Kind::Word => &self.lower[t.start..t.end],
            _ => "",
        }
    }

    /// "and a half" / "and a quarter" at `i`: its value and the index after it.
    fn and_fraction(&self, i: usize) -> Option<(f64, usize)> {
        if self.word(i) == "and" && is_article(self.word(i + 1)) {
            fraction(self.word(i + 2)).map(|f| (f, i + 3))
        } else {
            None
        }
    }

    /// 0 to 99 in words at `i`.
    fn below_hundred(&self, i: usize) -> Option<(f64, usize)> {
        if let Some(n) = small_number(self.word(i)) {
            return Some((n, i + 1));
        }
        let t = tens(self.word(i))?;
        match small_number(self.word(i + 1)) {
            Some(u) if (1.0..=9.0).contains(&u) => Some((t + u, i + 2)),
            _ => Some((t, i + 1)),
        }
    }

    /// "point five two" at `i`: the decimal fraction and the index after it.
    fn decimals(&self, i: usize) -> Option<(f64, usize)> {
        if self.word(i) != "point" {
            return None;
        }
        let mut j = i + 1;
        let mut value = 0.0;
        let mut scale = 0.1;
        while let Some(d) = small_number(self.word(j)).filter(|d| *d <= 9.0) {
            value += d * scale;
            scale /= 10.0;
            j += 1;
        }
        (j > i + 1).then_some((value, j))
    }

    /// A number starting at token `i`: its value and the index of the token after it.
    fn read(&self, i: usize) -> Option<(f64, usize)> {
        let tok = self.toks.get(i)?;
        if let Kind::Num(v) = tok.kind {
            return Some(match self.and_fraction(i + 1) {
                Some((f, j)) => (v + f, j),
                None => (v, i + 1),
            });
        }
        if tok.kind != Kind::Word {
            return None;
        }
        let w = self.word(i);
        if is_article(w) {
            let next = self.word(i + 1);
            if let Some(f) = fraction(next) {
                return Some((f, i + 2));
            }
            if next == "hundred" {
                return Some(self.after_hundred(100.0, i + 2));
            }
            return counts_with_article(next).then_some((1.0, i + 1));
        }
        if let Some(f) = fraction(w) {
            // "half a meter", "a quarter of a turn"
            let mut j = i + 1;
            if self.word(j) == "of" {
                j += 1;
            }
            if is_article(self.word(j)) {
                j += 1;
            }
            return Some((f, j));
        }
        if w == "point" {
            return self.decimals(i);
        }
        let (mut value, mut j) = self.below_hundred(i)?;
        if self.word(j) == "hundred" && (1.0..=9.0).contains(&value) {
            (value, j) = self.after_hundred(value * 100.0, j + 1);
        }
        if let Some((d, k)) = self.decimals(j) {
            value += d;
            j = k;
        }
        if let Some((f, k)) = self.and_fraction(j) {
            value += f;
            j = k;
        }
        Some((value, j))
    }

    /// The rest of "... hundred [and] eighty" after "hundred" (at `i`).
    fn after_hundred(&self, hundreds: f64, i: usize) -> (f64, usize) {
        let skip_and = usize::from(self.word(i) == "and");
        match self.below_hundred(i + skip_and) {
            Some((n, j)) => (hundreds + n, j),
            None => (hundreds, i),
        }
    }
}

/// Replaces number words (and "N unit and a half") with number tokens.
pub(super) fn merge_number_words(lower: &str, toks: Vec<Tok>) -> Vec<Tok> {
    let reader = NumberReader { lower, toks: &toks };
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let Some((mut value, next)) = reader.read(i) else {
            out.push(toks[i]);
            i += 1;
            continue;
        };
        let mut merged = Tok {
            kind: Kind::Num(value),
            start: toks[i].start,
            end: toks[next - 1].end,
        };
        // "a meter and a half": the fraction belongs to the number before the unit.
        if unit(reader.word(next)).is_some() {
            if let Some((f, after)) = reader.and_fraction(next + 1) {
                value += f;
                merged.kind = Kind::Num(value);
                out.push(merged);
                out.push(toks[next]);
                i = after;
                continue;
            }
        }
        out.push(merged);
        i = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Vec<f64> {
        let lower = text.to_ascii_lowercase();
        merge_number_words(&lower, lex(&lower))
            .into_iter()
            .filter_map(|t| match t.kind {
                Kind::Num(v) => Some(v),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn number_words() {
        assert_eq!(num("one"), [1.0]);
        assert_eq!(num("twenty"), [20.0]);
        assert_eq!(num("forty five"), [45.0]);
        assert_eq!(num("forty-five"), [45.0]);
        assert_eq!(num("a hundred and eighty degrees"), [180.0]);
        assert_eq!(num("one hundred eighty"), [180.0]);
        assert_eq!(num("two point five"), [2.5]);
        assert_eq!(num("point five"), [0.5]);
        assert_eq!(num("one and a half"), [1.5]);
        assert_eq!(num("a meter and a half"), [1.5]);
        assert_eq!(num("half a meter"), [0.5]);
        assert_eq!(num("a second"), [1.0]);
        assert_eq!(num("make a turn"), Vec::<f64>::new());
        assert_eq!(num("a quarter turn"), [0.25]);
        assert_eq!(num("-0.5m"), [-0.5]);
        assert_eq!(num("x-2"), [2.0]);
        assert_eq!(num("1.5m and 2cm"), [1.5, 2.0]);
    }
}
