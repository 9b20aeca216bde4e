//! Decides whether an item is about France–Kazakhstan relations and which topics it
//! belongs to, and records why.
//!
//! A pure function of (item text, rules): no IO, no async. Ingestion, `retag`,
//! `explain` and `eval` all call [`classify`], so what `eval` measures is what the
//! daemon does.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// The classifier's rules as written in the rules file (feeds.toml or the file it names).
///
/// INTERFACE STUB: the real shape is defined by the classifier work.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawRules {
    #[serde(default)]
    pub topic: Vec<RawTopic>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawTopic {
    pub id: toml::Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

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

/// Compiled rules: every term compiled once.
#[derive(Debug, Clone)]
pub struct Rules {
    topics: Vec<Topic>,
}

impl Rules {
    /// Compiles the raw rules, reporting every problem found rather than the first.
    pub fn compile(raw: &RawRules) -> Result<Rules, Vec<RuleError>> {
        let topics = raw
            .topic
            .iter()
            .map(|t| Topic {
                id: t.id.get_ref().clone(),
                title: t.title.clone(),
                description: t.description.clone(),
            })
            .collect();
        Ok(Rules { topics })
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }
}

/// The text of one item, as the classifier reads it. `summary` is plain text.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub lang: Option<&'a str>,
}

/// Where a term matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    Title,
    Summary,
}

/// One matched term and what it counted for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The rule's term as written.
    pub term: String,
    /// The text that matched it.
    pub matched: String,
    /// What it counts for: `france`, `kazakhstan`, `cue`, `trap`, or `topic:ID`.
    pub role: String,
    pub weight: f64,
    pub place: Place,
}

/// The classifier's decision on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub relevant: bool,
    pub score: f64,
    pub threshold: f64,
    pub topics: Vec<String>,
    pub evidence: Vec<Evidence>,
}

impl Decision {
    /// The decision in plain words, for `entente explain`.
    pub fn explain(&self) -> String {
        format!(
            "{} (score {:.2}, threshold {:.2})",
            if self.relevant { "relevant" } else { "not relevant" },
            self.score,
            self.threshold
        )
    }
}

/// Classifies one item.
pub fn classify(rules: &Rules, text: &Text<'_>) -> Decision {
    let _ = (rules, text);
    Decision { relevant: false, score: 0.0, threshold: 1.0, topics: Vec::new(), evidence: Vec::new() }
}
