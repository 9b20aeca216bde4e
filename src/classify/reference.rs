//! The classifier's reading of text as it was before its fast path: an origin entry
//! per normalised byte, and every term occurrence found by an Aho-Corasick DFA, then
//! kept when it starts a word. Kept, and built only when called, so that tests can
//! check that the fast path (`normalize::normalize_into`, `Matcher::find_with`)
//! decides the same on every item (`tests/classify_reference.rs`), and so that a
//! change to either can be checked against it.

use std::ops::Range;

use super::normalize::push_folded;

/// The normalised text and, for each of its bytes, the source byte offset of the char
/// that produced it (one extra entry at the end holds the source length).
pub fn normalize(source: &str) -> (String, Vec<u32>) {
    let mut out = String::with_capacity(source.len() + 8);
    let mut origin: Vec<u32> = Vec::with_capacity(source.len() + 9);
    for (pos, c) in source.char_indices() {
        let pos = u32::try_from(pos).unwrap_or(u32::MAX);
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
    (out, origin)
}

/// The source text behind the normalised byte range `start..end`, by the byte map
/// of [`normalize`].
#[cfg(test)]
pub fn source_slice<'s>(origin: &[u32], source: &'s str, start: usize, end: usize) -> &'s str {
    &source[source_range(origin, source, start, end)]
}

/// Where [`source_slice`] is in `source` (empty at 0 where the range falls inside a
/// char).
pub fn source_range(origin: &[u32], source: &str, start: usize, end: usize) -> Range<usize> {
    let text_len = origin.len() - 1;
    let from = origin[start] as usize;
    let to = if end >= text_len {
        source.len()
    } else {
        origin[end] as usize
    };
    let to = to.max(from);
    if source.get(from..to).is_some() {
        from..to
    } else {
        0..0
    }
}
