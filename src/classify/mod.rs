//! Decides whether an item is about France–Kazakhstan relations and which topics it
//! belongs to, and records why.
//!
//! A pure function of (item text, rules): no IO, no async. Ingestion, `retag`,
//! `explain` and `eval` all call [`classify`], so what `eval` measures is what the
//! daemon does.
//!
//! - [`normalize`]: the folding shared by rule terms and item text;
//! - [`rules`]: the rules file's shape and its compilation, with spanned errors;
//! - [`matcher`]: every term found from each word start along a trie of spellings;
//! - [`score`]: sides, cues, dampers and topics into a [`Decision`];
//! - [`explain`]: a decision in plain words;
//! - [`eval`]: metrics on labelled items;
//! - `reference`: the reading of text the fast path replaced, kept to test that both
//!   decide the same ([`classify_reference`]).
//!
//! `docs/classifier.md` describes the rules format and the scoring for operators.

pub mod eval;
mod explain;
pub mod matcher;
pub mod normalize;
mod reference;
pub mod rules;
mod score;

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use rules::{RawRules, RawScoring, RawTermGroup, RawTopic, Rules, Scoring};

/// A published topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub id: String,
    pub title: String,
    pub description: String,
}

/// A problem found while compiling rules, with its byte span in the rules text.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl RuleError {
    /// 1-based line and column of the span's start in `text`, if it has a span.
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        let start = self.span.as_ref()?.start.min(text.len());
        let before = text.get(..start)?;
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, column))
    }
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The text of one item, as the classifier reads it. `summary` is plain text.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    /// The item's own language code (`crate::lang::detect`, the feed's hint as its
    /// prior). Terms of all four languages are matched whatever it is, since items
    /// quote names in other scripts; only groups with a `lang` list depend on it.
    pub lang: Option<&'a str>,
}

/// Where a term matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    Title,
    Summary,
}

/// Text of the rules that evidence quotes (a spelling, a role), held once by the
/// compiled rules and shared by every decision that quotes it: an item's twenty-odd
/// records cost a reference count each, not an allocation and a copy each (most items
/// are irrelevant and still carry their evidence). Read as a `str`; serialised as
/// one, so the stored decision JSON is what it was with `String`s.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleText(Arc<str>);

impl RuleText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The empty text (no shared allocation of the rules: a decision built by hand).
impl Default for RuleText {
    fn default() -> RuleText {
        RuleText::from("")
    }
}

impl std::ops::Deref for RuleText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RuleText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RuleText {
    fn from(text: &str) -> RuleText {
        RuleText(text.into())
    }
}

impl From<String> for RuleText {
    fn from(text: String) -> RuleText {
        RuleText(text.into())
    }
}

impl PartialEq<str> for RuleText {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for RuleText {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<RuleText> for str {
    fn eq(&self, other: &RuleText) -> bool {
        *self == *other.0
    }
}

impl PartialEq<RuleText> for &str {
    fn eq(&self, other: &RuleText) -> bool {
        **self == *other.0
    }
}

impl Serialize for RuleText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RuleText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RuleText, D::Error> {
        String::deserialize(deserializer).map(RuleText::from)
    }
}

/// The item text a term matched, as evidence quotes it: a word or two (9.5 bytes on
/// average over the farm's items, about 22 records an item), held inline up to
/// [`MatchedText::INLINE`] bytes, else on the heap. The records travel from a parser
/// thread to the writer, which frees them: as `String`s each was a malloc on one
/// thread and a free on the other, both through the one arena's lock once glibc's
/// per-thread cache ran dry or full. Read as a `str`; serialised as one, so the
/// stored decision JSON is what it was with a `String`.
#[derive(Clone)]
pub struct MatchedText(MatchedRepr);

#[derive(Clone)]
enum MatchedRepr {
    Inline {
        len: u8,
        bytes: [u8; MatchedText::INLINE],
    },
    Heap(Box<str>),
}

impl MatchedText {
    /// The longest text held inline (the struct is then as large as a `String`).
    pub const INLINE: usize = 22;

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always a whole `str` (see `From<&str>`), so never the default.
            MatchedRepr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            MatchedRepr::Heap(text) => text,
        }
    }
}

impl From<&str> for MatchedText {
    fn from(text: &str) -> MatchedText {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= MatchedText::INLINE => {
                let mut bytes = [0; MatchedText::INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                MatchedText(MatchedRepr::Inline { len, bytes })
            }
            _ => MatchedText(MatchedRepr::Heap(text.into())),
        }
    }
}

impl From<String> for MatchedText {
    fn from(text: String) -> MatchedText {
        if text.len() <= MatchedText::INLINE {
            MatchedText::from(text.as_str())
        } else {
            MatchedText(MatchedRepr::Heap(text.into_boxed_str()))
        }
    }
}

impl std::ops::Deref for MatchedText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for MatchedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for MatchedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for MatchedText {
    fn eq(&self, other: &MatchedText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for MatchedText {}

impl PartialEq<str> for MatchedText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MatchedText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for MatchedText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MatchedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MatchedText, D::Error> {
        String::deserialize(deserializer).map(MatchedText::from)
    }
}

/// One matched term and what it counted for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The rule's term as written (the spelling that matched).
    pub term: RuleText,
    /// The text that matched it.
    pub matched: MatchedText,
    /// What it counts for: `france`, `kazakhstan`, `both`, `cue`, `trap`, `other`
    /// (a third party), `damper`, or `topic:ID`.
    pub role: RuleText,
    /// The rule's weight, before the title factor.
    pub weight: f64,
    pub place: Place,
}

/// The parts the score was made of.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreParts {
    /// France's strength: its distinct terms' weights, title matches multiplied, capped.
    pub france: f64,
    pub kazakhstan: f64,
    /// Bilateral cue strength, before the cap.
    pub cues: f64,
    /// Distinct third parties named.
    pub others: usize,
    /// Each dampening applied, in words.
    pub notes: Vec<String>,
    /// Each topic with evidence: its terms' weights by kind and what counted.
    #[serde(default)]
    pub topics: Vec<TopicScore>,
}

/// A topic's evidence on one item, by kind (see `evidence` in docs/classifier.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicScore {
    /// The topic's id, shared with the compiled rules (read and serialised as a `str`).
    pub topic: RuleText,
    /// The item's own words for the topic (title matches multiplied).
    pub own: f64,
    /// Weak common words: counted only beside own words.
    pub support: f64,
    /// Common words of an act: counted beside own words or an actor (a hint term).
    #[serde(default)]
    pub act: f64,
    /// Whether the act words counted.
    #[serde(default)]
    pub acts_counted: bool,
    /// Actors' usual business: counted only when own words gave no topic.
    pub hint: f64,
    /// Whether the hints counted (own words gave no topic).
    #[serde(default)]
    pub hints_counted: bool,
    /// What counted, compared with the topic threshold.
    pub score: f64,
}

/// The classifier's decision on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub relevant: bool,
    pub score: f64,
    pub threshold: f64,
    pub topics: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// Absent from decisions stored before it existed.
    #[serde(default)]
    pub parts: ScoreParts,
}

impl Decision {
    /// The decision in plain words, for `entente explain`: the verdict, the score
    /// against the threshold, each side's terms, cues, traps, dampening, and topics.
    pub fn explain(&self) -> String {
        explain::explain(self)
    }
}

/// Classifies one item.
pub fn classify(rules: &Rules, text: &Text<'_>) -> Decision {
    score::decide(rules, text)
}

/// [`classify`] by the reference reading of the text: an origin entry per normalised
/// byte and an Aho-Corasick automaton over every spelling (built on the first call,
/// about 9 MB for the shipped rules). Slower, and the same decision: it is what
/// `tests/classify_reference.rs` compares the fast path with.
pub fn classify_reference(rules: &Rules, text: &Text<'_>) -> Decision {
    score::decide_reference(rules, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evidence reads, compares and serialises its matched text as the `String` it
    /// was, short (inline) or long (on the heap), and reads back what it wrote.
    #[test]
    fn matched_text_is_a_str_inline_or_not() {
        let texts = [
            "",
            "Élysée",
            "Казахстан",
            "exactly twenty-two by.",
            "twenty-three bytes long",
            "Қазақстан Республикасы мен Франция",
        ];
        assert_eq!(texts[3].len(), MatchedText::INLINE);
        assert_eq!(texts[4].len(), MatchedText::INLINE + 1);
        for text in texts {
            for matched in [MatchedText::from(text), MatchedText::from(text.to_string())] {
                assert_eq!(matched.as_str(), text);
                assert_eq!(&*matched, text);
                assert!(matched == text);
                assert_eq!(matched.len(), text.len());
                assert_eq!(matched.to_string(), text);
                assert_eq!(format!("{matched:?}"), format!("{text:?}"));
                let json = serde_json::to_string(&matched).unwrap();
                assert_eq!(json, serde_json::to_string(text).unwrap());
                let back: MatchedText = serde_json::from_str(&json).unwrap();
                assert_eq!(back, matched);
            }
        }
        assert_ne!(MatchedText::from("Astana"), MatchedText::from("Almaty"));
        assert_eq!(
            std::mem::size_of::<MatchedText>(),
            std::mem::size_of::<String>()
        );
    }
}
