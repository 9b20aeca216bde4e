//! The classifier, item languages and de-duplication measured on entente's own
//! labelled data (`corpus/`, in the repository; see corpus/README.md): the fresh set
//! written before the rules of issue 11 were tuned, and the table of title pairs.
// Reports for people running tests and benches; the closed-stdout rule is for commands.
#![allow(clippy::disallowed_macros)]

use std::collections::BTreeMap;

use entente::classify::eval::{evaluate, misclassified, parse_jsonl, render_errors};
use entente::classify::Rules;
use entente::dedup::{title_similarity, DEFAULT_TITLE_THRESHOLD};
use entente::lang;

#[path = "support/shared.rs"]
mod shared;

const RULES: &str = include_str!("../rules.toml");
const FRESH: &str = include_str!("../corpus/fresh.jsonl");
const PAIRS: &str = include_str!("../corpus/dedup_pairs.tsv");

#[test]
fn dedup_pairs_precision_and_recall() {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut misses = Vec::new();
    for line in PAIRS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 5, "five tab-separated fields: {line}");
        let same = fields[0] == "1";
        let similarity = title_similarity(fields[2], fields[3]);
        let merged = similarity >= DEFAULT_TITLE_THRESHOLD;
        match (same, merged) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
        if same != merged {
            misses.push(format!("{similarity:.3} {line}"));
        }
    }
    let precision = f64::from(tp) / f64::from(tp + fp).max(1.0);
    let recall = f64::from(tp) / f64::from(tp + fn_).max(1.0);
    println!(
        "dedup pairs: precision {precision:.3} recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_})"
    );
    for miss in &misses {
        println!("  miss: {miss}");
    }
    assert!(tp + fn_ >= 40, "the table has its same-story pairs");
    assert!(precision >= 0.98, "dedup precision {precision:.3} < 0.98");
    assert!(recall >= 0.9, "dedup recall {recall:.3} < 0.9");
}

/// Each labelled item's language from its text alone, no hint: the worst case, a
/// source whose `lang` is missing.
#[test]
fn item_languages_from_text_alone() {
    let mut items = parse_jsonl(FRESH).expect("corpus/fresh.jsonl");
    if let Some(dev) = shared::shared_file("corpus/dev.jsonl") {
        let dev = std::fs::read_to_string(dev).expect("dev set readable");
        items.extend(parse_jsonl(&dev).expect("dev.jsonl"));
    }
    let mut wrong = Vec::new();
    for item in &items {
        let summary = entente::text::html_to_text(&item.summary);
        let found = lang::detect(&item.title, &summary, None).map(|l| l.code());
        if found != Some(item.lang.as_str()) {
            wrong.push(format!(
                "{} {:?} {}: {}",
                item.id, found, item.lang, item.title
            ));
        }
    }
    let right = 1.0 - wrong.len() as f64 / items.len() as f64;
    println!("item language right on {right:.3} of {} items", items.len());
    for w in &wrong {
        println!("  wrong: {w}");
    }
    assert!(right >= 0.97, "item language right on {right:.3} < 0.97");
}

#[test]
fn fresh_set_meets_the_targets() {
    let rules = Rules::from_toml(RULES).expect("rules.toml");
    let items = parse_jsonl(FRESH).expect("corpus/fresh.jsonl");
    assert!(items.len() >= 150);
    let report = evaluate(&rules, &items);
    println!("{}", report.render_text());
    if std::env::var_os("EVAL_ERRORS").is_some() {
        println!("{}", render_errors(&misclassified(&rules, &items)));
    }
    let mut failures = BTreeMap::new();
    let r = &report.relevance;
    if r.precision < 0.97 || r.recall < 0.97 {
        failures.insert("relevance".to_string(), (r.precision, r.recall));
    }
    if report.topics.micro_f1 < 0.92 {
        failures.insert("topics micro".to_string(), (report.topics.micro_f1, 0.92));
    }
    for (topic, prf) in &report.topics.per_topic {
        if prf.f1 < 0.88 {
            failures.insert(format!("topic {topic}"), (prf.f1, 0.88));
        }
    }
    for (lang, prf) in &report.per_lang {
        if prf.f1 < 0.95 {
            failures.insert(format!("lang {lang}"), (prf.f1, 0.95));
        }
    }
    assert!(
        failures.is_empty(),
        "below the targets on corpus/fresh.jsonl: {failures:?}"
    );
}
