//! The shipped rules measured on the labelled dev set: every target asserted, so that a
//! rules or code change that lowers a figure below its target cannot land.
//!
//! Run with `cargo test --test eval_dev -- --nocapture` to see the report. The set is
//! read from `shared/` beside the checkout (see `support/shared.rs`).
// Reports for people running tests and benches; the closed-stdout rule is for commands.
#![allow(clippy::disallowed_macros)]

use entente::classify::eval::{evaluate, misclassified, parse_jsonl, render_errors};
use entente::classify::Rules;

#[path = "support/shared.rs"]
mod shared;

const RULES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml"));

#[test]
fn dev_set_meets_every_target() {
    let Some(dev) = shared::shared_file("corpus/dev.jsonl") else {
        return;
    };
    let dev = std::fs::read_to_string(dev).expect("dev set readable");
    let rules = Rules::from_toml(RULES).expect("shipped rules compile");
    let items = parse_jsonl(&dev).expect("dev set parses");
    let report = evaluate(&rules, &items);
    let json = serde_json::to_string_pretty(&report).unwrap();
    println!("{}\n{json}", report.render_text());
    if std::env::var_os("EVAL_ERRORS").is_some() {
        println!("{}", render_errors(&misclassified(&rules, &items)));
    }

    let mut failures = Vec::new();
    let mut expect = |what: String, value: f64, target: f64| {
        if value < target {
            failures.push(format!("{what} = {value:.3}, target ≥ {target}"));
        }
    };
    expect(
        "relevance precision".into(),
        report.relevance.precision,
        0.97,
    );
    expect("relevance recall".into(), report.relevance.recall, 0.97);
    expect("topics micro-F1".into(), report.topics.micro_f1, 0.92);
    for (topic, prf) in &report.topics.per_topic {
        expect(format!("topic {topic} F1"), prf.f1, 0.88);
    }
    for (lang, prf) in &report.per_lang {
        expect(format!("language {lang} relevance F1"), prf.f1, 0.95);
    }
    assert_eq!(report.items, 220);
    assert_eq!(report.topics.per_topic.len(), 6);
    assert_eq!(report.per_lang.len(), 4);
    assert!(
        failures.is_empty(),
        "targets missed:\n  {}\n{}\n{}",
        failures.join("\n  "),
        report.render_text(),
        render_errors(&misclassified(&rules, &items))
    );
}
