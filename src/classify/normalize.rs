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
//!
//! Evidence quotes the source, so the normalised text keeps a map back to it. Most
//! chars fold to one char of the same length (ASCII, Cyrillic letters), so the map is
//! a list of segments, not an entry per byte: a new segment starts only where the
//! lengths part (an accent dropped, spaces merged, a ligature split), and an ASCII
//! char is folded by a table lookup. The classifier normalises into buffers it keeps
//! ([`normalize_into`]), so an item costs no allocation here.

use std::ops::Range;

use unicode_normalization::char::{compose, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

/// Normalised text and, for each of its chars, where it came from in the source.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    pub text: String,
    /// Sorted by `out`; the first starts at 0 whenever `text` is not empty.
    segments: Vec<Segment>,
}

/// Normalised bytes from `out` to the next segment's start came from the source at
/// `src`: byte for byte when `aligned` (each char folded to one char of its own
/// length), else all from the one source char at `src`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    out: usize,
    src: usize,
    aligned: bool,
}

impl Normalized {
    /// The source text behind the normalised byte range `start..end` (char
    /// boundaries of [`Normalized::text`]).
    pub fn source_slice<'s>(&self, source: &'s str, start: usize, end: usize) -> &'s str {
        &source[self.source_range(source, start, end)]
    }

    /// Where [`Normalized::source_slice`] is in `source` (empty at 0 where the range
    /// falls inside a char).
    pub fn source_range(&self, source: &str, start: usize, end: usize) -> Range<usize> {
        let from = if start >= self.text.len() {
            source.len()
        } else {
            self.origin(start)
        };
        let to = if end >= self.text.len() {
            source.len()
        } else {
            self.origin(end)
        };
        let to = to.max(from);
        if source.get(from..to).is_some() {
            from..to
        } else {
            0..0
        }
    }

    /// The source offset of the char that produced the normalised char at `at`.
    fn origin(&self, at: usize) -> usize {
        let index = self.segments.partition_point(|s| s.out <= at);
        let Some(segment) = index.checked_sub(1).map(|i| self.segments[i]) else {
            return 0;
        };
        if segment.aligned {
            segment.src + (at - segment.out)
        } else {
            segment.src
        }
    }

    /// Records that the chars of `self.text[before..]` came from the source char at
    /// `src`, `width` bytes long.
    fn note(&mut self, before: usize, src: usize, width: usize) {
        let after = self.text.len();
        if after <= before {
            if after < before {
                // Never happens with today's folding (a mark replaces a letter by one
                // of its own length), but the map must not point past the text.
                self.segments.retain(|s| s.out < after);
            }
            return;
        }
        let one_char_of_its_width =
            after - before == width && utf8_width(self.text.as_bytes()[before]) == width;
        if one_char_of_its_width {
            self.note_aligned(before, src);
        } else {
            self.segments.push(Segment {
                out: before,
                src,
                aligned: false,
            });
        }
    }

    /// Records one char folded to one char of its own width at `before`.
    #[inline]
    fn note_aligned(&mut self, before: usize, src: usize) {
        let continues = self
            .segments
            .last()
            .is_some_and(|s| s.aligned && s.src + (before - s.out) == src);
        if !continues {
            self.segments.push(Segment {
                out: before,
                src,
                aligned: true,
            });
        }
    }
}

/// The length of the UTF-8 sequence that `lead` starts.
fn utf8_width(lead: u8) -> usize {
    match lead {
        0..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Normalises item text for matching.
pub fn normalize(source: &str) -> Normalized {
    let mut normalized = Normalized::default();
    normalize_into(source, &mut normalized);
    normalized
}

/// Normalises `source` into `into`, reusing its buffers.
pub fn normalize_into(source: &str, into: &mut Normalized) {
    into.text.clear();
    into.segments.clear();
    into.text.reserve(source.len() + 8);
    let bytes = source.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // Most of a text: chars that fold to themselves (or, ASCII capitals, to their
        // lower case, in place), copied as one run with one segment.
        let run = plain_run(bytes, at, into.text.ends_with(' '));
        if run > at {
            let before = into.text.len();
            into.text.push_str(&source[at..run]);
            into.text[before..].make_ascii_lowercase();
            into.note_aligned(before, at);
            at = run;
            continue;
        }
        let byte = bytes[at];
        if byte.is_ascii() {
            let before = into.text.len();
            match ASCII_FOLDED[usize::from(byte)] {
                b' ' if into.text.ends_with(' ') => {}
                folded => {
                    into.text.push(char::from(folded));
                    into.note_aligned(before, at);
                }
            }
            at += 1;
            continue;
        }
        let Some(c) = source[at..].chars().next() else {
            break;
        };
        let before = into.text.len();
        push_folded(c, &mut into.text);
        into.note(before, at, c.len_utf8());
        at += c.len_utf8();
    }
}

/// Where the run of chars from `from` that fold to themselves ends, but for ASCII
/// capitals (lower-cased in place): ASCII letters, digits and punctuation but `` ` ``,
/// single spaces (`after_space`: the text so far ends with one), and the lowercase
/// Cyrillic letters а–я (U+0430–U+044F, `й` included: each is its own folding).
#[inline]
fn plain_run(bytes: &[u8], from: usize, mut after_space: bool) -> usize {
    let mut at = from;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte == b' ' {
            if after_space {
                break;
            }
            after_space = true;
            at += 1;
        } else if byte.is_ascii() {
            if !PLAIN_ASCII[usize::from(byte)] {
                break;
            }
            after_space = false;
            at += 1;
        } else {
            let next = bytes.get(at + 1).copied().unwrap_or(0);
            let lowercase_cyrillic = match byte {
                0xD0 => (0xB0..=0xBF).contains(&next),
                0xD1 => (0x80..=0x8F).contains(&next),
                _ => false,
            };
            if !lowercase_cyrillic {
                break;
            }
            after_space = false;
            at += 2;
        }
    }
    at
}

/// ASCII chars that fold to themselves or, capitals, to their lower case: all but
/// white space, control characters and `` ` ``.
static PLAIN_ASCII: [bool; 128] = {
    let mut table = [false; 128];
    let mut byte = 0x21;
    while byte < 0x7F {
        table[byte] = byte != b'`' as usize;
        byte += 1;
    }
    table
};

/// Normalises a rule term: the same folding as item text, trimmed.
pub fn normalize_term(term: &str) -> String {
    normalize(term).text.trim().to_string()
}

/// Whether `c` (a char of normalised text) belongs to a word.
pub fn is_word_char(c: char) -> bool {
    crate::letters::is_alphanumeric(c)
}

/// The folded form of each ASCII char, as [`push_folded`] gives it: letters lower
/// case, `` ` `` an apostrophe, white space and control characters a space (which
/// merges with a space before it); every other char itself.
static ASCII_FOLDED: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut byte = 0;
    while byte < 128 {
        table[byte] = match byte as u8 {
            b'A'..=b'Z' => byte as u8 + (b'a' - b'A'),
            b'`' => b'\'',
            0..=0x20 | 0x7F => b' ',
            other => other,
        };
        byte += 1;
    }
    table
};

/// Appends the folded form of `c` to `out`.
pub(super) fn push_folded(c: char, out: &mut String) {
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
    fn the_ascii_table_folds_as_the_general_path() {
        for byte in 0..128u8 {
            let c = char::from(byte);
            for before in ["", "a", " "] {
                let mut general = before.to_string();
                push_folded(c, &mut general);
                let mut fast = before.to_string();
                match ASCII_FOLDED[usize::from(byte)] {
                    b' ' if fast.ends_with(' ') => {}
                    folded => fast.push(char::from(folded)),
                }
                assert_eq!(fast, general, "U+{byte:04X} after {before:?}");
            }
        }
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
    fn plain_ascii_chars_fold_to_themselves_or_their_lower_case() {
        for byte in 0..128u8 {
            if PLAIN_ASCII[usize::from(byte)] {
                assert_eq!(
                    ASCII_FOLDED[usize::from(byte)],
                    byte.to_ascii_lowercase(),
                    "{byte:#x}"
                );
                assert_ne!(byte, b' ');
            }
        }
        for c in '\u{0430}'..='\u{044F}' {
            let mut folded = String::new();
            push_folded(c, &mut folded);
            assert_eq!(folded, c.to_string());
        }
    }

    /// The segment map gives, at every char boundary of the normalised text, what the
    /// byte-per-byte map it replaced gave (`super::super::reference`).
    #[test]
    fn the_segment_map_maps_as_the_byte_map() {
        let pieces = [
            "Élysée",
            "l’",
            "ÉTÉ",
            "œuvre",
            "ﬁ",
            "½",
            "  ",
            "\t\n",
            "и\u{0306}",
            "й",
            "ё",
            "Қазақстан",
            "ДОМ",
            "x\u{0301}",
            "\u{0301}",
            "—",
            "«",
            "»",
            "ß",
            "ǅ",
            "ﷺ",
            "a",
            "b",
            "-",
            "'",
            "`",
            "\u{00A0}",
            "1",
            "中",
            "😀",
            "İ",
            "ﬀ",
            "Ⅻ",
            "ﾊﾟ",
            "Paris",
            "ABC",
            "a b",
            "дом",
            "ДОМ",
            "й",
            "Й",
            "ъ",
            "я",
            "ѐ",
            "ѝ",
            "ӄ",
            "\u{0482}",
            "ё",
            "Ё",
            "\u{0306}",
            " x",
            "x ",
            "\r\n",
            "Élysée–Astana",
        ];
        let mut seed = 1u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut texts: Vec<String> = pieces.iter().map(|p| (*p).to_string()).collect();
        for _ in 0..3000 {
            let count = next() % 12;
            texts.push((0..count).map(|_| pieces[next() % pieces.len()]).collect());
        }
        let mut reused = Normalized::default();
        for text in &texts {
            let (expected_text, origin) = super::super::reference::normalize(text);
            normalize_into(text, &mut reused);
            assert_eq!(reused.text, expected_text, "{text:?}");
            let boundaries: Vec<usize> = (0..=reused.text.len())
                .filter(|&i| reused.text.is_char_boundary(i))
                .collect();
            for &start in &boundaries {
                for &end in boundaries.iter().filter(|&&e| e >= start) {
                    assert_eq!(
                        reused.source_slice(text, start, end),
                        super::super::reference::source_slice(&origin, text, start, end),
                        "{text:?} {start}..{end}"
                    );
                }
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
