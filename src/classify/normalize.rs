//! Text normalisation shared by rule terms and item text, so that both sides of a match
//! are folded the same way.
//!
//! What it does, char by char:
//! - Unicode NFKC-compatible folding (ligatures, full-width forms) and lower case;
//! - accents dropped from Latin letters (`Élysée` → `elysee`, `œ` → `oe`), while Cyrillic
//!   letters keep their identity (`й` stays `й`, whether written precomposed or as
//!   `и` + breve), except `ё`, folded to `е` as Russian writers commonly do;
//! - Kazakh Cyrillic letters (ә ғ қ ң ө ұ ү һ і) are kept as they are;
//! - every dash (`‐ ‑ – — −`…) becomes `-`, every apostrophe (`’ ʼ ‘ ´`…) becomes `'`;
//! - runs of white space and control characters become one space.
//!
//! Word boundaries are decided on the normalised text by [`is_word_char`]: hyphens and
//! apostrophes are not word characters, so `казахстанско-французский` holds the words
//! `казахстанско` and `французский` as well as the compound itself, and `l'elysee`
//! holds `elysee`.

use unicode_normalization::char::{compose, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

/// Normalised text and, for each of its bytes, where it came from in the source.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub text: String,
    /// `origin[i]` is the source byte offset of the char that produced byte `i`;
    /// one extra entry at the end holds the source length.
    origin: Vec<u32>,
}

impl Normalized {
    /// The source text behind the normalised byte range `start..end`.
    pub fn source_slice<'s>(&self, source: &'s str, start: usize, end: usize) -> &'s str {
        let from = self.origin[start] as usize;
        let to = if end >= self.text.len() {
            source.len()
        } else {
            self.origin[end] as usize
        };
        let to = to.max(from);
        source.get(from..to).unwrap_or("")
    }
}

/// Normalises item text for matching.
pub fn normalize(source: &str) -> Normalized {
    let mut out = String::with_capacity(source.len() + 8);
    let mut origin: Vec<u32> = Vec::with_capacity(source.len() + 9);
    for (pos, c) in source.char_indices() {
        let pos = u32::try_from(pos).unwrap_or(u32::MAX);
        // Most chars of most items: one byte in, the same byte out.
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            origin.push(pos);
            continue;
        }
        push_folded(c, &mut out);
        // A mark may have replaced the letter before it, a space may have merged.
        if out.len() < origin.len() {
            origin.truncate(out.len());
        } else {
            origin.resize(out.len(), pos);
        }
    }
    origin.push(u32::try_from(source.len()).unwrap_or(u32::MAX));
    Normalized { text: out, origin }
}

/// Normalises a rule term: the same folding as item text, trimmed.
pub fn normalize_term(term: &str) -> String {
    normalize(term).text.trim().to_string()
}

/// Whether `c` (a char of normalised text) belongs to a word.
pub fn is_word_char(c: char) -> bool {
    crate::letters::is_alphanumeric(c)
}

/// Appends the folded form of `c` to `out`.
fn push_folded(c: char, out: &mut String) {
    match c {
        'a'..='z' | '0'..='9' => out.push(c),
        'A'..='Z' => out.push(c.to_ascii_lowercase()),
        // Common Cyrillic letters with no decomposition: the hot path for ru/kk text.
        'а'..='и' | 'к'..='я' => out.push(c),
        'А'..='И' | 'К'..='Я' => out.extend(c.to_lowercase()),
        ' ' => push_space(out),
        _ if c.is_whitespace() || c.is_control() => push_space(out),
        _ if is_dash(c) => out.push('-'),
        _ if is_apostrophe(c) => out.push('\''),
        _ => match FOLDED.get(c as usize) {
            Some(Some(folded)) => out.push_str(folded),
            _ => push_general(c, out),
        },
    }
}

/// One past the last char whose folded form [`FOLDED`] holds: ASCII punctuation,
/// Latin-1, Latin Extended, Greek, Cyrillic and its supplement, where the accented
/// and Kazakh letters live.
const FOLDED_TO: usize = 0x530;

/// The folded form of every char below `FOLDED_TO` whose folding does not depend on
/// the text before it, worked out once by [`push_general`] itself: decomposing
/// accented and Kazakh letters and punctuation was most of the cost of normalising
/// French, Russian and Kazakh text, and it gives the same every time. Combining marks
/// (they attach to the letter before) and anything that folds to a space (runs of
/// spaces collapse) are left to `push_general`.
static FOLDED: std::sync::LazyLock<Vec<Option<Box<str>>>> = std::sync::LazyLock::new(|| {
    (0..FOLDED_TO)
        .map(|code| {
            let c = char::from_u32(u32::try_from(code).ok()?)?;
            if is_combining_mark(c) || c.is_whitespace() || c.is_control() {
                return None;
            }
            let mut folded = String::new();
            push_general(c, &mut folded);
            (!folded.contains(' ')).then(|| folded.into_boxed_str())
        })
        .collect()
});

/// The slow path: compatibility decomposition, lower case, accent folding.
fn push_general(c: char, out: &mut String) {
    for d in std::iter::once(c).nfkd() {
        if is_combining_mark(d) {
            attach_mark(d, out);
            continue;
        }
        for lower in d.to_lowercase() {
            match lower {
                'œ' => out.push_str("oe"),
                'æ' => out.push_str("ae"),
                'ß' => out.push_str("ss"),
                'ø' => out.push('o'),
                'ł' => out.push('l'),
                'ı' => out.push('i'),
                _ if is_dash(lower) => out.push('-'),
                _ if is_apostrophe(lower) => out.push('\''),
                _ if lower.is_whitespace() || lower.is_control() => push_space(out),
                _ => out.push(lower),
            }
        }
    }
}

/// A combining mark after a letter: Latin accents are dropped; on Cyrillic letters the
/// breve is kept (`и` + breve is `й`, a letter of its own) and other marks dropped
/// (`ё` → `е`, `ї` → `і`).
fn attach_mark(mark: char, out: &mut String) {
    const BREVE: char = '\u{0306}';
    let Some(last) = out.chars().next_back() else {
        return;
    };
    if mark == BREVE && is_cyrillic(last) {
        if let Some(composed) = compose(last, mark) {
            out.pop();
            out.push(composed);
        }
    }
}

fn push_space(out: &mut String) {
    if !out.ends_with(' ') {
        out.push(' ');
    }
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c) || ('\u{0500}'..='\u{052F}').contains(&c)
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' | '\u{00AD}'
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2018}'
            | '\u{2019}'
            | '\u{201B}'
            | '\u{02BC}'
            | '\u{02BB}'
            | '\u{00B4}'
            | '`'
            | '\u{FF07}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).text
    }

    #[test]
    fn latin_accents_and_case_fold() {
        assert_eq!(n("Élysée"), "elysee");
        assert_eq!(n("KAZAKHSTANAISE Françaises"), "kazakhstanaise francaises");
        assert_eq!(n("Œuvre"), "oeuvre");
        // Decomposed input folds the same as precomposed.
        assert_eq!(n("E\u{0301}lyse\u{0301}e"), "elysee");
    }

    #[test]
    fn cyrillic_short_i_kept_and_yo_folded() {
        assert_eq!(n("Французский"), "французский");
        assert_eq!(n("Франдии\u{0306}"), "франдий");
        assert_eq!(n("Всё ЁЛКА"), "все елка");
    }

    #[test]
    fn kazakh_letters_survive() {
        assert_eq!(
            n("ҚАЗАҚСТАННЫҢ Әуе Ғарыш Өнер Ұлт Үй Һ І"),
            "қазақстанның әуе ғарыш өнер ұлт үй һ і"
        );
    }

    #[test]
    fn dashes_apostrophes_spaces() {
        assert_eq!(n("France–Kazakhstan"), "france-kazakhstan");
        assert_eq!(n("l’Élysée"), "l'elysee");
        assert_eq!(n("a \t\n  b\u{0007}c"), "a b c");
        assert_eq!(n("ﬁn ＡＢＣ"), "fin abc");
    }

    #[test]
    fn source_slices_map_back() {
        let src = "Visite à l’Élysée";
        let norm = normalize(src);
        let start = norm.text.find("elysee").unwrap();
        assert_eq!(norm.source_slice(src, start, start + 6), "Élysée");
    }

    #[test]
    fn the_folding_table_folds_as_the_general_path_in_any_context() {
        for code in 0..FOLDED_TO {
            let Some(c) = char::from_u32(code as u32) else {
                continue;
            };
            for before in ["", "a", "и", "e ", "x\u{0301}"] {
                let mut general = before.to_string();
                if c.is_whitespace() || c.is_control() || is_dash(c) || is_apostrophe(c) {
                    continue;
                }
                push_general(c, &mut general);
                let mut fast = before.to_string();
                push_folded(c, &mut fast);
                assert_eq!(fast, general, "U+{code:04X} after {before:?}");
            }
        }
    }

    #[test]
    fn word_chars() {
        assert!(is_word_char('қ'));
        assert!(is_word_char('7'));
        assert!(!is_word_char('-'));
        assert!(!is_word_char('\''));
    }
}
