//! Classifier throughput on one thread: every dev.jsonl item, many times over.
//!
//! Run: `cargo bench --bench classify` (release build). Prints items per second.
//! `ENTENTE_BENCH_ROUNDS=20 valgrind --tool=callgrind target/release/deps/classify-…`
//! counts instructions instead (docs/classifier.md, Speed).
//! Reads `shared/corpus/dev.jsonl` beside the checkout (or under `ENTENTE_SHARED`).
//! Texts are prepared (HTML stripped) beforehand, as ingestion does before it
//! classifies; the figure measures language detection (with the label's language as
//! the source's hint, as ingestion has one), normalisation, matching and scoring.
//! Detection alone is measured too, with and without a hint.
// Reports for people running tests and benches; the closed-stdout rule is for commands.
#![allow(clippy::disallowed_macros)]

use std::hint::black_box;
use std::time::Instant;

use entente::classify::eval::parse_jsonl;
use entente::classify::{classify, Rules, Text};

const RULES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml"));
/// Rounds over the corpus; `ENTENTE_BENCH_ROUNDS` sets fewer for a run under
/// `valgrind --tool=callgrind`, whose instruction counts are the figure that a loaded
/// machine does not blur.
const DEFAULT_ROUNDS: usize = 500;

fn main() {
    let rounds = std::env::var("ENTENTE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let compile_start = Instant::now();
    let rules = Rules::from_toml(RULES).expect("shipped rules compile");
    let compile_time = compile_start.elapsed();
    // Read at run time: a clone without `shared/` beside it still builds every target.
    let dev_path = std::env::var_os("ENTENTE_SHARED")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
            std::path::PathBuf::from,
        )
        .join("corpus/dev.jsonl");
    let Ok(dev) = std::fs::read_to_string(&dev_path) else {
        eprintln!(
            "{} is missing: set ENTENTE_SHARED to the shared folder",
            dev_path.display()
        );
        std::process::exit(2);
    };
    let items = parse_jsonl(&dev).expect("dev set parses");
    let texts: Vec<(String, String, String)> = items
        .iter()
        .map(|i| {
            let summary = entente::text::html_to_text(&i.summary);
            (i.title.clone(), summary, i.lang.clone())
        })
        .collect();

    // Warm-up, then the measured rounds.
    let mut relevant = 0usize;
    for (title, summary, _) in &texts {
        relevant += usize::from(
            classify(
                &rules,
                &Text {
                    title,
                    summary,
                    lang: None,
                },
            )
            .relevant,
        );
    }
    let start = Instant::now();
    for _ in 0..rounds {
        for (title, summary, hint) in &texts {
            let lang = entente::lang::item_language(title, summary, Some(hint));
            let d = classify(
                &rules,
                black_box(&Text {
                    title,
                    summary,
                    lang: lang.as_deref(),
                }),
            );
            black_box(&d);
        }
    }
    let elapsed = start.elapsed();
    let detect = |hinted: bool| {
        let start = Instant::now();
        for _ in 0..rounds {
            for (title, summary, hint) in &texts {
                let hint = hinted.then_some(hint.as_str());
                black_box(entente::lang::detect(black_box(title), summary, hint));
            }
        }
        start.elapsed().as_secs_f64() * 1e6 / (rounds * texts.len()) as f64
    };
    let (with_hint, without_hint) = (detect(true), detect(false));
    // The classifier alone, on the languages detected beforehand: with the figures
    // above, what each part costs on a machine whose load varies between runs.
    let detected: Vec<Option<String>> = texts
        .iter()
        .map(|(title, summary, hint)| entente::lang::item_language(title, summary, Some(hint)))
        .collect();
    let start_alone = Instant::now();
    for _ in 0..rounds {
        for ((title, summary, _), lang) in texts.iter().zip(&detected) {
            black_box(classify(
                &rules,
                black_box(&Text {
                    title,
                    summary,
                    lang: lang.as_deref(),
                }),
            ));
        }
    }
    let alone = start_alone.elapsed().as_secs_f64() * 1e6 / (rounds * texts.len()) as f64;
    let classified = rounds * texts.len();
    let per_second = classified as f64 / elapsed.as_secs_f64();
    println!(
        "rules: {} terms compiled in {:.1} ms",
        rules.term_count(),
        compile_time.as_secs_f64() * 1e3
    );
    println!("dev.jsonl: {} items, {relevant} relevant", texts.len());
    println!(
        "classify (language detection included): {classified} items in {:.3} s on one thread = {:.0} items/s ({:.2} µs/item)",
        elapsed.as_secs_f64(),
        per_second,
        1e6 / per_second
    );
    println!(
        "language detection alone: {with_hint:.2} µs/item with the source's hint, {without_hint:.2} µs/item without"
    );
    println!("classification alone: {alone:.2} µs/item");
}
