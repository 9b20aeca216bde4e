//! Finds every rule term in normalised text in one pass.
//!
//! A term only counts where a word starts (the char before it is not a word char), so
//! the spellings are read from each such place along a trie of all spellings, byte by
//! byte, until the text leaves the trie: a word that starts no spelling costs one
//! step. Every spelling that starts there is found, so that both `french` and
//! `french fries` are seen and the trap can mask the side term; word ends are then
//! checked per spelling (a whole word, or any end for `stem*`).
//!
//! Why a trie and not an Aho-Corasick automaton: an automaton finds every occurrence
//! anywhere (`astana` inside `kazastana`) and the word-start test then throws most of
//! them away, it reads every byte of the text, and its DFA for the shipped rules takes
//! about 9 MB (the contiguous NFA is small but follows failure links). The trie (a
//! double array, see [`Trie`]) reads only from word starts. It reports the hits in the order the
//! automaton did (by end, then start), which `score` depends on to the last bit;
//! [`Matcher::find_reference`] keeps the automaton (built on first use, for tests) and
//! tests check both find the same (`tests/classify_reference.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::normalize::is_word_char;
use super::rules::Variant;
use super::RuleText;

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

/// One use of a distinct spelling: several terms may share one.
#[derive(Debug, Clone)]
struct Use {
    term: usize,
    variant: usize,
    prefix: bool,
}

/// A spelling found at a word start, before its word end is checked.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    end: u32,
    start: u32,
    pattern: u32,
}

/// Scratch space for [`Matcher::find_with`], kept between calls.
pub type Scratch = Vec<Found>;

/// The compiled spellings and what each stands for.
#[derive(Debug)]
pub struct Matcher {
    trie: Trie,
    uses: Vec<Vec<Use>>,
    written: Vec<RuleText>,
    /// The distinct spellings, for the reference automaton.
    patterns: Vec<String>,
    reference: OnceLock<AhoCorasick>,
}

impl Clone for Matcher {
    fn clone(&self) -> Matcher {
        Matcher {
            trie: self.trie.clone(),
            uses: self.uses.clone(),
            written: self.written.clone(),
            patterns: self.patterns.clone(),
            reference: OnceLock::new(),
        }
    }
}

impl Matcher {
    /// Builds the trie over every spelling.
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
            written.push(RuleText::from(v.written));
        }
        if patterns.iter().any(String::is_empty) {
            return Err("cannot compile the terms: an empty spelling".to_string());
        }
        let trie = Trie::build(&patterns)?;
        Ok(Matcher {
            trie,
            uses,
            written,
            patterns,
            reference: OnceLock::new(),
        })
    }

    /// The spelling of a variant as written in the rules.
    pub fn written(&self, variant: usize) -> &RuleText {
        &self.written[variant]
    }

    /// Every term occurrence in `text` (normalised) that sits on word boundaries.
    pub fn find(&self, text: &str, hits: &mut Vec<Hit>) {
        self.find_with(text, hits, &mut Vec::new());
    }

    /// [`Matcher::find`] with scratch space kept by the caller.
    pub fn find_with(&self, text: &str, hits: &mut Vec<Hit>, found: &mut Scratch) {
        found.clear();
        let bytes = text.as_bytes();
        let mut at = 0;
        let mut after_word_char = false;
        while at < bytes.len() {
            let (word_char, width) = crate::letters::alphanumeric_at(text, at);
            if !after_word_char {
                self.trie.walk(bytes, at, found);
            }
            at += width;
            after_word_char = word_char;
            if word_char {
                // The rest of the word starts nothing.
                at = crate::letters::end_of_alphanumeric_run(text, at);
            }
        }
        // The automaton's order: by end, then by start (the longer spelling first).
        // Each (start, end) is one spelling, so the order is total.
        found.sort_unstable_by_key(|f| (f.end, f.start));
        for f in found.iter() {
            self.push_hits(
                text,
                f.pattern as usize,
                f.start as usize,
                f.end as usize,
                hits,
            );
        }
    }

    /// What [`Matcher::find`] finds, by the Aho-Corasick DFA the classifier used before
    /// the trie (every occurrence, then the word-start test), built on first use.
    pub fn find_reference(&self, text: &str, hits: &mut Vec<Hit>) {
        let automaton = self.reference.get_or_init(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&self.patterns)
                .expect("the spellings compiled into the trie compile into an automaton")
        });
        for m in automaton.find_overlapping_iter(text) {
            if !starts_word(text, m.start()) {
                continue;
            }
            self.push_hits(text, m.pattern().as_usize(), m.start(), m.end(), hits);
        }
    }

    /// The hits of the spelling `pattern` found at `start..end`, per use, where its
    /// word end holds.
    fn push_hits(&self, text: &str, pattern: usize, start: usize, end: usize, hits: &mut Vec<Hit>) {
        let whole_word = ends_word(text, end);
        let mut word_end = None;
        for u in &self.uses[pattern] {
            let end = if u.prefix {
                *word_end.get_or_insert_with(|| end_of_word(text, end))
            } else if whole_word {
                end
            } else {
                continue;
            };
            hits.push(Hit {
                term: u.term,
                variant: u.variant,
                start,
                end,
            });
        }
    }

    /// Bytes held by the trie (the bench and ARCHITECTURE.md quote it).
    pub fn memory_usage(&self) -> usize {
        self.trie.memory_usage()
    }
}

/// No node, no spelling.
const NONE: u32 = u32::MAX;

/// Every spelling, byte by byte, as a double array: the node reached from node `s` by
/// byte `b` is the slot `base(s) + b`, if that slot's `parent` is `s`. A step is an
/// addition, a load and a comparison, the same for a node with one child (most: 15,000
/// of the shipped rules' 19,000) as for the root's hundreds; the tree of child lists or
/// 256-entry tables it replaced took a branch on the node's kind, a scan of a few
/// children, or a table of 1 KB per branching node. The bases are chosen at build time
/// so that no two nodes' children share a slot.
#[derive(Debug, Clone)]
struct Trie {
    slots: Vec<Slot>,
}

/// One node of the double array (or a free slot, whose `parent` is `NONE`).
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Where this node's children start: the child by byte `b` is at `base + b`.
    base: u32,
    /// The node this one is a child of (`NONE`: free, or the root).
    parent: u32,
    /// The spelling that ends here, or `NONE`.
    pattern: u32,
}

const FREE: Slot = Slot {
    base: 0,
    parent: NONE,
    pattern: NONE,
};

/// The root's slot.
const ROOT: usize = 0;

impl Trie {
    fn build(patterns: &[String]) -> Result<Trie, String> {
        let too_many = || "cannot compile the terms: too many spellings".to_string();
        // A plain trie first, then laid out in the double array.
        let mut children: Vec<BTreeMap<u8, usize>> = vec![BTreeMap::new()];
        let mut ends: Vec<u32> = vec![NONE];
        for (id, pattern) in patterns.iter().enumerate() {
            let mut node = 0;
            for &byte in pattern.as_bytes() {
                node = match children[node].get(&byte) {
                    Some(&next) => next,
                    None => {
                        children.push(BTreeMap::new());
                        ends.push(NONE);
                        let next = children.len() - 1;
                        children[node].insert(byte, next);
                        next
                    }
                };
            }
            ends[node] = u32::try_from(id).map_err(|_| too_many())?;
        }
        let mut slots = vec![FREE; 1];
        // The slot of each plain node, placed breadth first from the root's.
        let mut slot_of = vec![NONE; children.len()];
        slot_of[0] = ROOT as u32;
        // Every slot from `frontier` on is free; the free ones before it are the
        // holes. A node's base is sought among the holes first (few: the array packs
        // densely), so placing the 19,000 nodes costs a few million instructions.
        let mut frontier = ROOT + 1;
        let mut holes = std::collections::BTreeSet::new();
        let mut queue = std::collections::VecDeque::from([0usize]);
        while let Some(node) = queue.pop_front() {
            let slot = slot_of[node] as usize;
            slots[slot].pattern = ends[node];
            let edges = &children[node];
            let Some((&lowest, _)) = edges.iter().next() else {
                continue;
            };
            let lowest = usize::from(lowest);
            let is_free = |at: usize| at >= frontier || holes.contains(&at);
            // The lowest base from which every child's slot is free.
            let base = holes
                .range(lowest..)
                .copied()
                .chain(frontier.max(lowest)..)
                .map(|first| first - lowest)
                .find(|&base| edges.keys().all(|&b| is_free(base + usize::from(b))))
                .unwrap_or(frontier);
            slots[slot].base = u32::try_from(base).map_err(|_| too_many())?;
            for (&byte, &child) in edges {
                let child_slot = base + usize::from(byte);
                if child_slot >= frontier {
                    holes.extend(frontier..child_slot);
                    frontier = child_slot + 1;
                    slots.resize(frontier, FREE);
                } else {
                    holes.remove(&child_slot);
                }
                slots[child_slot].parent = u32::try_from(slot).map_err(|_| too_many())?;
                slot_of[child] = u32::try_from(child_slot).map_err(|_| too_many())?;
                queue.push_back(child);
            }
        }
        // A step past the last slot is no node: `walk` reads with `get`.
        slots.shrink_to_fit();
        Ok(Trie { slots })
    }

    /// Every spelling that `text[start..]` begins with.
    #[inline]
    fn walk(&self, text: &[u8], start: usize, found: &mut Vec<Found>) {
        let mut node = ROOT;
        for (at, &byte) in text.iter().enumerate().skip(start) {
            let next = self.slots[node].base as usize + usize::from(byte);
            match self.slots.get(next) {
                Some(slot) if slot.parent as usize == node => {
                    node = next;
                    if slot.pattern != NONE {
                        found.push(Found {
                            // Texts over 4 GiB are not classified whole: they never
                            // reach here (summaries are capped far below).
                            end: (at + 1) as u32,
                            start: start as u32,
                            pattern: slot.pattern,
                        });
                    }
                }
                _ => return,
            }
        }
    }

    fn memory_usage(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Slot>()
    }
}

fn starts_word(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !is_word_char(c))
}

/// Whether no word char follows `end` (the letters are read from the bytes, as the
/// word starts are: the same answer as [`is_word_char`], `crate::letters` tests it).
fn ends_word(text: &str, end: usize) -> bool {
    end >= text.len() || !crate::letters::alphanumeric_at(text, end).0
}

/// Where the word continuing at `from` ends (the stem's inflection included).
fn end_of_word(text: &str, from: usize) -> usize {
    crate::letters::end_of_alphanumeric_run(text, from)
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
        let mut reference = Vec::new();
        m.find_reference(text, &mut reference);
        assert_eq!(hits, reference, "the trie finds what the automaton found");
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

    #[test]
    fn spellings_that_start_or_end_with_punctuation() {
        let m = Matcher::build(vec![
            variant("«астана»", false, 0),
            variant("астана", false, 1),
            variant("en train d'", false, 2),
            variant("train", false, 3),
        ])
        .unwrap();
        assert_eq!(
            spans(&m, "клуб «астана» и астана"),
            vec![(1, "астана"), (0, "«астана»"), (1, "астана")]
        );
        assert_eq!(
            spans(&m, "il est en train d' aller"),
            vec![(3, "train"), (2, "en train d'")]
        );
        assert_eq!(spans(&m, "en train d"), vec![(3, "train")]);
    }

    /// Texts made of spellings, their pieces and separators, against the automaton.
    #[test]
    fn the_trie_finds_what_the_automaton_found_on_made_up_texts() {
        let needles = [
            "france",
            "franc",
            "fran",
            "french",
            "french fries",
            "казахстан",
            "казах",
            "франко-казах",
            "air astana",
            "astana",
            "«астана»",
            "en train d'",
            "l'elysee",
            "elysee",
            "a",
            "ab",
            "abc",
            "b",
            "bc",
            "1 gw",
        ];
        let variants: Vec<Variant> = needles
            .iter()
            .enumerate()
            .flat_map(|(i, n)| [variant(n, false, i), variant(n, true, i + 100)])
            .filter(|v| !v.prefix || v.needle.chars().filter(|c| is_word_char(*c)).count() >= 3)
            .collect();
        let m = Matcher::build(variants).unwrap();
        let pieces = [
            "france",
            "fra",
            "nce",
            "french",
            " ",
            "fries",
            "казахстан",
            "е",
            "ских",
            "-",
            "'",
            "air",
            "astana",
            "«",
            "»",
            "en",
            "train",
            "d'",
            "l",
            "elysee",
            "a",
            "b",
            "c",
            "1",
            "gw",
            ".",
            "qa",
        ];
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..5000 {
            let text: String = (0..next() % 16)
                .map(|_| pieces[next() % pieces.len()])
                .collect();
            let (mut hits, mut reference) = (Vec::new(), Vec::new());
            m.find(&text, &mut hits);
            m.find_reference(&text, &mut reference);
            assert_eq!(hits, reference, "{text:?}");
        }
    }
}
