//! Classifier metrics on labelled items (the `shared/corpus` JSONL schema), for
//! `entente eval FILE.jsonl [--json] [--errors]`.
//!
//! Summaries go through [`crate::text::html_to_text`] first, exactly as ingestion does,
//! so the figures measure what the daemon does.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::{classify, Decision, Rules, Text};

/// One labelled item, one JSON object a line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledItem {
    pub id: String,
    pub lang: String,
    #[serde(default)]
    pub source: String,
    pub title: String,
    /// May hold HTML, as feeds carry it.
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub published: Option<String>,
    pub relevant: bool,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// A line of the JSONL file that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses JSONL text: one item a line, blank lines skipped.
pub fn parse_jsonl(text: &str) -> Result<Vec<LabelledItem>, ParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| ParseError {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Precision, recall and F1, with the counts behind them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub tp: usize,
    #[serde(rename = "fp")]
    pub false_pos: usize,
    #[serde(rename = "fn")]
    pub false_neg: usize,
}

/// Counts of one binary decision, turned into [`Prf`].
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    tp: usize,
    false_pos: usize,
    false_neg: usize,
}

impl Counts {
    fn add(&mut self, gold: bool, predicted: bool) {
        match (gold, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.false_pos += 1,
            (true, false) => self.false_neg += 1,
            (false, false) => {}
        }
    }

    /// An empty denominator scores 1 when there was nothing to get wrong either way.
    fn prf(self) -> Prf {
        let ratio = |num: usize, den: usize, other_errors: usize| {
            if den > 0 {
                num as f64 / den as f64
            } else if other_errors == 0 {
                1.0
            } else {
                0.0
            }
        };
        let precision = ratio(self.tp, self.tp + self.false_pos, self.false_neg);
        let recall = ratio(self.tp, self.tp + self.false_neg, self.false_pos);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision: round(precision),
            recall: round(recall),
            f1: round(f1),
            tp: self.tp,
            false_pos: self.false_pos,
            false_neg: self.false_neg,
        }
    }
}

/// Topic metrics over the items labelled relevant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicsReport {
    pub micro_f1: f64,
    pub per_topic: BTreeMap<String, Prf>,
    /// Micro-averaged precision and recall, beside `micro_f1`.
    pub micro: Prf,
}

/// The `eval --json` object (see DESIGN.md), with extra counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub items: usize,
    pub relevance: Prf,
    pub topics: TopicsReport,
    pub per_lang: BTreeMap<String, Prf>,
}

/// The classifier's decision on a labelled item, reading it as ingestion would.
pub fn decide(rules: &Rules, item: &LabelledItem) -> Decision {
    let summary = crate::text::html_to_text(&item.summary);
    let title = crate::text::fold_whitespace(&item.title);
    // The label's language is only the prior, as a source's hint is at ingestion.
    let lang = crate::lang::item_language(&title, &summary, Some(&item.lang));
    classify(
        rules,
        &Text {
            title: &title,
            summary: &summary,
            lang: lang.as_deref(),
        },
    )
}

/// Measures the rules on labelled items.
pub fn evaluate(rules: &Rules, items: &[LabelledItem]) -> EvalReport {
    let mut relevance = Counts::default();
    let mut per_lang: BTreeMap<String, Counts> = BTreeMap::new();
    let mut per_topic: BTreeMap<String, Counts> = rules
        .topics()
        .iter()
        .map(|t| (t.id.clone(), Counts::default()))
        .collect();
    let mut micro = Counts::default();
    for item in items {
        let decision = decide(rules, item);
        relevance.add(item.relevant, decision.relevant);
        per_lang
            .entry(item.lang.clone())
            .or_default()
            .add(item.relevant, decision.relevant);
        if !item.relevant {
            continue;
        }
        for topic in topic_union(&item.topics, &decision.topics) {
            let gold = item.topics.contains(&topic);
            let predicted = decision.topics.contains(&topic);
            per_topic.entry(topic).or_default().add(gold, predicted);
            micro.add(gold, predicted);
        }
    }
    let micro = micro.prf();
    EvalReport {
        items: items.len(),
        relevance: relevance.prf(),
        topics: TopicsReport {
            micro_f1: micro.f1,
            per_topic: per_topic.into_iter().map(|(k, c)| (k, c.prf())).collect(),
            micro,
        },
        per_lang: per_lang.into_iter().map(|(k, c)| (k, c.prf())).collect(),
    }
}

fn topic_union(gold: &[String], predicted: &[String]) -> Vec<String> {
    let mut all: Vec<String> = gold.to_vec();
    all.extend(predicted.iter().filter(|t| !gold.contains(t)).cloned());
    all
}

impl EvalReport {
    /// The report as a short table for people.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} items", self.items);
        let _ = writeln!(
            out,
            "{:<22} {:>9} {:>7} {:>7}   tp  fp  fn",
            "", "precision", "recall", "f1"
        );
        row(&mut out, "relevance", &self.relevance);
        for (lang, prf) in &self.per_lang {
            row(&mut out, &format!("  lang {lang}"), prf);
        }
        row(&mut out, "topics (micro)", &self.topics.micro);
        for (topic, prf) in &self.topics.per_topic {
            row(&mut out, &format!("  {topic}"), prf);
        }
        out
    }
}

fn row(out: &mut String, name: &str, p: &Prf) {
    let _ = writeln!(
        out,
        "{name:<22} {:>9.3} {:>7.3} {:>7.3} {:>4} {:>3} {:>3}",
        p.precision, p.recall, p.f1, p.tp, p.false_pos, p.false_neg
    );
}

/// An item the classifier got wrong (relevance, or topics of a relevant item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Misclassified {
    pub id: String,
    pub lang: String,
    pub title: String,
    pub expected_relevant: bool,
    pub predicted_relevant: bool,
    /// Topics labelled but not predicted (items labelled relevant only).
    pub missing_topics: Vec<String>,
    /// Topics predicted but not labelled (items labelled relevant only).
    pub extra_topics: Vec<String>,
    /// The labeller's note.
    pub note: String,
    pub decision: Decision,
}

/// Every item whose relevance or topics differ from its label, in input order.
pub fn misclassified(rules: &Rules, items: &[LabelledItem]) -> Vec<Misclassified> {
    items
        .iter()
        .filter_map(|item| {
            let decision = decide(rules, item);
            let (missing, extra) = if item.relevant {
                (
                    difference(&item.topics, &decision.topics),
                    difference(&decision.topics, &item.topics),
                )
            } else {
                (Vec::new(), Vec::new())
            };
            let wrong =
                decision.relevant != item.relevant || !missing.is_empty() || !extra.is_empty();
            wrong.then(|| Misclassified {
                id: item.id.clone(),
                lang: item.lang.clone(),
                title: item.title.clone(),
                expected_relevant: item.relevant,
                predicted_relevant: decision.relevant,
                missing_topics: missing,
                extra_topics: extra,
                note: item.note.clone(),
                decision,
            })
        })
        .collect()
}

fn difference(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// The misclassified items for people: what was expected, what was decided, and why.
pub fn render_errors(errors: &[Misclassified]) -> String {
    let mut out = String::new();
    for e in errors {
        let _ = writeln!(out, "== {} [{}] {}", e.id, e.lang, e.title);
        if e.expected_relevant != e.predicted_relevant {
            let kind = if e.expected_relevant {
                "false negative"
            } else {
                "false positive"
            };
            let _ = writeln!(
                out,
                "   {kind}: labelled {}, decided {}",
                verdict(e.expected_relevant),
                verdict(e.predicted_relevant)
            );
        }
        if !e.missing_topics.is_empty() {
            let _ = writeln!(out, "   missing topics: {}", e.missing_topics.join(", "));
        }
        if !e.extra_topics.is_empty() {
            let _ = writeln!(out, "   extra topics: {}", e.extra_topics.join(", "));
        }
        if !e.note.is_empty() {
            let _ = writeln!(out, "   label note: {}", e.note);
        }
        for line in e.decision.explain().lines() {
            let _ = writeln!(out, "   | {line}");
        }
    }
    let _ = writeln!(out, "{} misclassified", errors.len());
    out
}

fn verdict(relevant: bool) -> &'static str {
    if relevant {
        "relevant"
    } else {
        "not relevant"
    }
}

fn round(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_reports_bad_ones() {
        let ok = r#"{"id":"a","lang":"en","source":"s","title":"t","summary":"<p>x</p>","published":"2024-01-01T00:00:00Z","relevant":false,"topics":[],"note":""}"#;
        assert_eq!(parse_jsonl(&format!("{ok}\n\n{ok}\n")).unwrap().len(), 2);
        let err = parse_jsonl(&format!("{ok}\nnot json\n")).unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn prf_handles_empty_denominators() {
        let none = Counts::default().prf();
        assert_eq!((none.precision, none.recall, none.f1), (1.0, 1.0, 1.0));
        let missed = Counts {
            tp: 0,
            false_pos: 0,
            false_neg: 2,
        }
        .prf();
        assert_eq!(
            (missed.precision, missed.recall, missed.f1),
            (0.0, 0.0, 0.0)
        );
        let half = Counts {
            tp: 1,
            false_pos: 1,
            false_neg: 0,
        }
        .prf();
        assert_eq!((half.precision, half.recall), (0.5, 1.0));
    }
}
