//! `char::is_alphabetic` and `is_alphanumeric`, answered without the Unicode tables
//! for the scripts entente reads.
//!
//! The standard library answers ASCII at once but looks every other char up in its
//! tables, and that lookup was a fifth of the classifier's instructions
//! (docs/classifier.md, Speed): French accents and every Cyrillic letter pay it.
//! Latin-1's letters and the Cyrillic blocks are ranges, so they are answered by a
//! comparison; anything else falls back to the standard library. The tests check
//! every char of those blocks against it.

/// The same answer as [`char::is_alphabetic`].
#[inline]
pub fn is_alphabetic(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' => true,
        '\0'..='\u{7F}' => false,
        // Latin-1 letters; × and ÷ are the two symbols among them.
        '\u{C0}'..='\u{FF}' => c != '\u{D7}' && c != '\u{F7}',
        // Cyrillic and Cyrillic Supplement, but for the thousands sign and the
        // combining marks U+0482–U+0489.
        '\u{400}'..='\u{481}' | '\u{48A}'..='\u{52F}' => true,
        _ => c.is_alphabetic(),
    }
}

/// The same answer as [`char::is_alphanumeric`].
#[inline]
pub fn is_alphanumeric(c: char) -> bool {
    c.is_ascii_digit() || is_alphabetic(c) || (!c.is_ascii() && c.is_numeric())
}

/// Whether the char at byte `at` of `text` (a char boundary) is alphanumeric, and its
/// width in bytes: ASCII and the Cyrillic block answered from the bytes, without
/// decoding.
#[inline]
pub fn alphanumeric_at(text: &str, at: usize) -> (bool, usize) {
    let bytes = text.as_bytes();
    let lead = bytes[at];
    if lead.is_ascii() {
        return (lead.is_ascii_alphanumeric(), 1);
    }
    // U+0400–U+04FF: two bytes led by D0–D3, all letters but U+0482–U+0489 (D2 82–89).
    if (0xD0..=0xD3).contains(&lead) {
        let next = bytes.get(at + 1).copied().unwrap_or(0);
        return (!(lead == 0xD2 && (0x82..=0x89).contains(&next)), 2);
    }
    let c = text[at..].chars().next().unwrap_or(' ');
    (is_alphanumeric(c), c.len_utf8())
}

/// Where the run of alphanumeric chars from byte `from` of `text` (a char boundary)
/// ends: ASCII letters and digits and Cyrillic letters are skipped from the bytes.
#[inline]
pub fn end_of_alphanumeric_run(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = from;
    while at < bytes.len() {
        let lead = bytes[at];
        if lead.is_ascii_alphanumeric() {
            at += 1;
        } else if lead == 0xD0 || lead == 0xD1 {
            // U+0400–U+047F: letters, two bytes each.
            at += 2;
        } else if lead.is_ascii() {
            return at;
        } else {
            let (alphanumeric, width) = alphanumeric_at(text, at);
            if !alphanumeric {
                return at;
            }
            at += width;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_runs_end_where_the_standard_library_says() {
        let pieces = [
            "a", "Z", "7", " ", "-", "д", "Ж", "ё", "ѿ", "\u{0482}", "\u{0483}", "ә", "ԯ", "é",
            "中", "😀", "½", "٣", "'", "\u{0301}",
        ];
        let mut seed = 11u64;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..8 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            for (from, _) in text.char_indices() {
                let expected = text[from..]
                    .char_indices()
                    .find(|(_, c)| !c.is_alphanumeric())
                    .map_or(text.len(), |(i, _)| from + i);
                assert_eq!(
                    end_of_alphanumeric_run(&text, from),
                    expected,
                    "{text:?} {from}"
                );
            }
        }
    }

    #[test]
    fn answers_as_the_standard_library() {
        for code in (0..0x3000).chain(0xFF00..0x10000).chain(0x1F600..0x1F700) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "U+{code:04X}");
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "U+{code:04X}");
            let text = format!("{c}x");
            assert_eq!(
                alphanumeric_at(&text, 0),
                (c.is_alphanumeric(), c.len_utf8()),
                "U+{code:04X}"
            );
        }
    }
}
