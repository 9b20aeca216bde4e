//! Runs the behaviour table `tests/classify_cases.toml` against the shipped rules.

use entente::classify::{classify, Rules, Text};
use serde::Deserialize;

#[derive(Deserialize)]
struct Table {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    lang: String,
    title: String,
    #[serde(default)]
    summary: String,
    relevant: bool,
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    not_topics: Vec<String>,
}

const RULES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml"));
const CASES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/classify_cases.toml"
));

#[test]
fn every_case_behaves() {
    let rules = Rules::from_toml(RULES).expect("shipped rules compile");
    let table: Table = toml::from_str(CASES).expect("case table parses");
    let mut failures = Vec::new();
    for case in &table.case {
        let text = Text {
            title: &case.title,
            summary: &case.summary,
            lang: Some(&case.lang),
        };
        let decision = classify(&rules, &text);
        let mut wrong = Vec::new();
        if decision.relevant != case.relevant {
            wrong.push(format!(
                "relevant = {}, expected {}",
                decision.relevant, case.relevant
            ));
        }
        for topic in &case.topics {
            if !decision.topics.contains(topic) {
                wrong.push(format!("missing topic {topic}"));
            }
        }
        for topic in &case.not_topics {
            if decision.topics.contains(topic) {
                wrong.push(format!("unwanted topic {topic}"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n{}",
                case.name,
                wrong.join("; "),
                decision.explain()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        table.case.len(),
        failures.join("\n")
    );
}
