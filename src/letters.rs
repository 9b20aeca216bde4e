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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_the_standard_library() {
        for code in (0..0x3000).chain(0xFF00..0x10000).chain(0x1F600..0x1F700) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "U+{code:04X}");
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "U+{code:04X}");
        }
    }
}
