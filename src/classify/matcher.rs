//! Finds every rule term in normalised text in one pass.
//!
//! All spellings of all terms go into one Aho-Corasick automaton. Matches are found
//! overlapping, so that both `french` and `french fries` are seen and the trap can mask
//! the side term; word boundaries are then checked per spelling (a whole word, or a
//! word start for `stem*`).

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::normalize::is_word_char;
use super::rules::Variant;

/// One place where a term matched in normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub term: usize,
    /// Index of the spelling that matched (see [`Matcher::written`]).
    pub variant: usize,
    /// Byte range in the normalised text; for `stem*` it covers the whole word.
    pub start: usize,
    pub end: usize,
}

/// One use of an automaton pattern: several terms may share a spelling.
#[derive(Debug, Clone)]
struct Use {
    term: usize,
    variant: usize,
    prefix: bool,
}

/// The compiled automaton and what each of its patterns stands for.
#[derive(Debug, Clone)]
pub struct Matcher {
    automaton: AhoCorasick,
    uses: Vec<Vec<Use>>,
    written: Vec<String>,
}

impl Matcher {
    /// Builds the automaton over every spelling.
    pub fn build(variants: Vec<Variant>) -> Result<Matcher, String> {
        let mut pattern_of: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut uses: Vec<Vec<Use>> = Vec::new();
        let mut written = Vec::with_capacity(variants.len());
        for (index, v) in variants.into_iter().enumerate() {
            let id = *pattern_of.entry(v.needle.clone()).or_insert_with(|| {
                patterns.push(v.needle.clone());
                uses.push(Vec::new());
                patterns.len() - 1
            });
            uses[id].push(Use {
                term: v.term,
                variant: index,
                prefix: v.prefix,
            });
            written.push(v.written);
        }
        // A DFA, not the contiguous NFA the builder picks for this many patterns: it
        // follows no failure links at search time, and the search was a third of the
        // classifier's instructions. About 9 MB more resident for the shipped rules
        // (the bench's peak, 7.5 → 16.8 MB), built once per rules load.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| format!("cannot compile the terms: {e}"))?;
        Ok(Matcher {
            automaton,
            uses,
            written,
        })
    }

    /// The spelling of a variant as written in the rules.
    pub fn written(&self, variant: usize) -> &str {
        &self.written[variant]
    }

    /// Every term occurrence in `text` (normalised) that sits on word boundaries.
    pub fn find(&self, text: &str, hits: &mut Vec<Hit>) {
        for m in self.automaton.find_overlapping_iter(text) {
            if !starts_word(text, m.start()) {
                continue;
            }
            let whole_word = ends_word(text, m.end());
            let mut word_end = None;
            for u in &self.uses[m.pattern().as_usize()] {
                let end = if u.prefix {
                    *word_end.get_or_insert_with(|| end_of_word(text, m.end()))
                } else if whole_word {
                    m.end()
                } else {
                    continue;
                };
                hits.push(Hit {
                    term: u.term,
                    variant: u.variant,
                    start: m.start(),
                    end,
                });
            }
        }
    }
}

fn starts_word(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !is_word_char(c))
}

fn ends_word(text: &str, end: usize) -> bool {
    text[end..].chars().next().is_none_or(|c| !is_word_char(c))
}

/// Where the word continuing at `from` ends (the stem's inflection included).
fn end_of_word(text: &str, from: usize) -> usize {
    text[from..]
        .char_indices()
        .find(|(_, c)| !is_word_char(*c))
        .map_or(text.len(), |(i, _)| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(needle: &str, prefix: bool, term: usize) -> Variant {
        Variant {
            needle: needle.to_string(),
            prefix,
            term,
            written: needle.to_string(),
        }
    }

    fn spans(m: &Matcher, text: &str) -> Vec<(usize, &'static str)> {
        let mut hits = Vec::new();
        m.find(text, &mut hits);
        hits.iter()
            .map(|h| {
                (
                    h.term,
                    Box::leak(text[h.start..h.end].to_string().into_boxed_str()) as &str,
                )
            })
            .collect()
    }

    #[test]
    fn whole_words_and_stems() {
        let m = Matcher::build(vec![
            variant("france", false, 0),
            variant("казахстан", true, 1),
        ])
        .unwrap();
        assert_eq!(spans(&m, "francesca"), vec![]);
        assert_eq!(spans(&m, "la france."), vec![(0, "france")]);
        assert_eq!(
            spans(&m, "в казахстане и казахстанских"),
            vec![(1, "казахстане"), (1, "казахстанских")]
        );
        assert_eq!(spans(&m, "миниказахстан"), vec![]);
    }

    #[test]
    fn overlapping_terms_are_all_seen() {
        let m = Matcher::build(vec![
            variant("french", false, 0),
            variant("french fries", false, 1),
        ])
        .unwrap();
        assert_eq!(
            spans(&m, "french fries"),
            vec![(0, "french"), (1, "french fries")]
        );
    }

    #[test]
    fn compounds_match_whole_and_split() {
        let m = Matcher::build(vec![
            variant("франко-казах", true, 0),
            variant("казах", true, 1),
            variant("франко", false, 2),
        ])
        .unwrap();
        let found = spans(&m, "франко-казахский");
        assert!(found.contains(&(0, "франко-казахский")));
        assert!(found.contains(&(1, "казахский")));
        assert!(found.contains(&(2, "франко")));
    }
}
