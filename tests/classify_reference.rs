//! The classifier's fast path (normalisation into kept buffers with a segment map, the
//! trie read from word starts) decides exactly as the reference reading of the text
//! (a byte map, the Aho-Corasick automaton; `classify::classify_reference`): the same
//! `Decision`, field for field, and the same `explain` text, on every labelled item
//! (the shared dev set, the repository's fresh set, the behaviour table) and on every
//! item of the real-world fixtures, each in its own language, with no language, and
//! in each of the four.
// Reports for people running tests and benches; the closed-stdout rule is for commands.
#![allow(clippy::disallowed_macros)]

use entente::classify::eval::parse_jsonl;
use entente::classify::{classify, classify_reference, Rules, Text};

#[path = "support/shared.rs"]
mod shared;

const RULES: &str = include_str!("../rules.toml");
const FRESH: &str = include_str!("../corpus/fresh.jsonl");
const CASES: &str = include_str!("classify_cases.toml");

/// (where it comes from, title, plain-text summary, its language if known).
type Item = (String, String, String, Option<String>);

fn labelled_items() -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut add_jsonl = |name: &str, text: &str| {
        for i in parse_jsonl(text).expect("labelled set parses") {
            let summary = entente::text::html_to_text(&i.summary);
            items.push((format!("{name} {}", i.id), i.title, summary, Some(i.lang)));
        }
    };
    add_jsonl("fresh", FRESH);
    if let Some(dev) = shared::shared_file("corpus/dev.jsonl") {
        add_jsonl(
            "dev",
            &std::fs::read_to_string(dev).expect("dev set readable"),
        );
    }
    let table: toml::Value = toml::from_str(CASES).expect("case table parses");
    for case in table["case"].as_array().expect("cases") {
        let field = |name: &str| case.get(name).and_then(|v| v.as_str()).unwrap_or("");
        items.push((
            format!("case {}", field("name")),
            field("title").to_string(),
            field("summary").to_string(),
            Some(field("lang").to_string()),
        ));
    }
    items
}

fn fixture_items() -> Vec<Item> {
    let Some(dir) = shared::shared_file("fixtures/feeds") else {
        return Vec::new();
    };
    let mut files = Vec::new();
    let mut pending = vec![dir];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures readable") {
            let path = entry.expect("fixture entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut items = Vec::new();
    for path in files {
        let body = std::fs::read(&path).expect("fixture readable");
        let origin = entente::parse::Origin {
            source_id: "fixture",
            lang_hint: None,
            url: None,
            caps: Default::default(),
        };
        let Ok(feed) = entente::parse::parse_feed(&body, origin) else {
            continue;
        };
        for item in feed.items {
            let lang = item.lang.or_else(|| feed.lang.clone());
            items.push((path.display().to_string(), item.title, item.summary, lang));
        }
    }
    items
}

fn assert_same_decisions(rules: &Rules, items: &[Item]) -> usize {
    let mut compared = 0;
    for (from, title, summary, lang) in items {
        let detected = entente::lang::item_language(title, summary, lang.as_deref());
        let langs = [lang.as_deref(), detected.as_deref(), None]
            .into_iter()
            .chain(["en", "fr", "ru", "kk"].map(Some));
        for lang in langs {
            let text = Text {
                title,
                summary,
                lang,
            };
            let fast = classify(rules, &text);
            let reference = classify_reference(rules, &text);
            assert_eq!(fast, reference, "{from} in {lang:?}: {title}");
            assert_eq!(fast.explain(), reference.explain(), "{from}: {title}");
            compared += 1;
        }
    }
    compared
}

#[test]
fn the_fast_path_decides_as_the_reference_on_every_labelled_item() {
    let rules = Rules::from_toml(RULES).expect("shipped rules compile");
    let items = labelled_items();
    assert!(
        items.len() >= 163 + 40,
        "the fresh set and the behaviour table"
    );
    assert_same_decisions(&rules, &items);
}

#[test]
fn the_fast_path_decides_as_the_reference_on_every_fixture_item() {
    let rules = Rules::from_toml(RULES).expect("shipped rules compile");
    let items = fixture_items();
    if items.is_empty() {
        return;
    }
    assert!(items.len() > 1000, "the fixtures hold their items");
    assert_same_decisions(&rules, &items);
}
