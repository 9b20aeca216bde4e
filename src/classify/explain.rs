//! A decision in plain words, for `entente explain` and `eval --errors`.

use std::fmt::Write;

use super::{Decision, Evidence, Place};

/// Renders the verdict, the score against the threshold, the evidence by role, the
/// dampening applied and the topics with their terms.
pub fn explain(d: &Decision) -> String {
    let mut out = String::new();
    let verdict = if d.relevant {
        "RELEVANT"
    } else {
        "NOT RELEVANT"
    };
    let cmp = if d.relevant { "≥" } else { "<" };
    let _ = writeln!(
        out,
        "{verdict}: score {:.2} {cmp} threshold {:.2}",
        d.score, d.threshold
    );
    side_line(&mut out, "France", d.parts.france, d, &["france", "both"]);
    side_line(
        &mut out,
        "Kazakhstan",
        d.parts.kazakhstan,
        d,
        &["kazakhstan", "both"],
    );
    if d.parts.france <= 0.0 || d.parts.kazakhstan <= 0.0 {
        let _ = writeln!(
            out,
            "  one side is missing, so the item cannot be about relations between them"
        );
    }
    role_line(
        &mut out,
        &format!("Bilateral cues (strength {:.2})", d.parts.cues),
        d,
        "cue",
    );
    role_line(
        &mut out,
        "Trap phrases (their words count for nothing)",
        d,
        "trap",
    );
    role_line(
        &mut out,
        &format!("Third parties ({})", d.parts.others),
        d,
        "other",
    );
    role_line(&mut out, "Context dampers", d, "damper");
    for note in &d.parts.notes {
        let _ = writeln!(out, "Dampened: {note}");
    }
    topic_lines(&mut out, d);
    out
}

fn side_line(out: &mut String, name: &str, strength: f64, d: &Decision, roles: &[&str]) {
    let terms = describe(
        d.evidence
            .iter()
            .filter(|e| roles.contains(&e.role.as_str())),
    );
    let terms = if terms.is_empty() {
        "no terms".to_string()
    } else {
        terms
    };
    let _ = writeln!(out, "{name} (strength {strength:.2}): {terms}");
}

fn role_line(out: &mut String, heading: &str, d: &Decision, role: &str) {
    let terms = describe(d.evidence.iter().filter(|e| e.role == role));
    if !terms.is_empty() {
        let _ = writeln!(out, "{heading}: {terms}");
    }
}

fn topic_lines(out: &mut String, d: &Decision) {
    if d.relevant {
        for topic in &d.topics {
            let terms = topic_terms(d, topic);
            let terms = if terms.is_empty() {
                "no terms: the default topic".to_string()
            } else {
                terms
            };
            let _ = writeln!(out, "Topic {topic}{}: {terms}", weights(d, topic));
        }
    }
    let mut others: Vec<&str> = Vec::new();
    for topic in d
        .evidence
        .iter()
        .filter_map(|e| e.role.strip_prefix("topic:"))
    {
        if !d.topics.iter().any(|c| c == topic) && !others.contains(&topic) {
            others.push(topic);
        }
    }
    for topic in others {
        let why = if d.relevant {
            "below the topic threshold"
        } else {
            "not given: the item is not relevant"
        };
        let _ = writeln!(
            out,
            "Topic {topic} ({why}){}: {}",
            weights(d, topic),
            topic_terms(d, topic)
        );
    }
}

/// ` [counted 1.60 = own 1.00 + support 0.60; hints 1.00 not counted]`: every weight
/// that decided the topic, and those that did not count.
fn weights(d: &Decision, topic: &str) -> String {
    let Some(t) = d.parts.topics.iter().find(|t| t.topic == topic) else {
        return String::new();
    };
    let mut counted = Vec::new();
    let mut not_counted = Vec::new();
    if t.own > 0.0 {
        counted.push(format!("own {:.2}", t.own));
    }
    let support_counted = t.own > 0.0;
    for (name, value, used) in [
        ("support", t.support, support_counted),
        ("act words", t.act, t.acts_counted),
        ("hints", t.hint, t.hints_counted),
    ] {
        if value > 0.0 {
            let text = format!("{name} {value:.2}");
            if used {
                counted.push(text)
            } else {
                not_counted.push(text)
            }
        }
    }
    let mut out = format!(" [counted {:.2}", t.score);
    if !counted.is_empty() {
        let _ = write!(out, " = {}", counted.join(" + "));
    }
    if !not_counted.is_empty() {
        let _ = write!(out, "; {} not counted", not_counted.join(", "));
    }
    out.push(']');
    out
}

fn topic_terms(d: &Decision, topic: &str) -> String {
    describe(
        d.evidence
            .iter()
            .filter(|e| e.role.strip_prefix("topic:") == Some(topic)),
    )
}

/// `"Élysée" (elysee, 1.00, title), …`
fn describe<'a>(evidence: impl Iterator<Item = &'a Evidence>) -> String {
    evidence
        .map(|e| {
            let place = match e.place {
                Place::Title => "title",
                Place::Summary => "summary",
            };
            format!("\"{}\" ({}, {:.2}, {place})", e.matched, e.term, e.weight)
        })
        .collect::<Vec<_>>()
        .join(", ")
}
