//! Classifier throughput on one thread: every dev.jsonl item, many times over, and a
//! set of items shaped like the bench farm's (`bench/farm.py`).
//!
//! Run: `cargo bench --bench classify` (release build). Prints items per second.
//! `ENTENTE_BENCH_ROUNDS=20 valgrind --tool=callgrind target/release/deps/classify-…`
//! counts instructions instead (docs/classifier.md, Speed).
//! Reads `shared/corpus/dev.jsonl` beside the checkout (or under `ENTENTE_SHARED`).
//! Texts are prepared (HTML stripped) beforehand, as ingestion does before it
//! classifies; the figure measures language detection (with the label's language as
//! the source's hint, as ingestion has one), normalisation, matching and scoring.
//! Detection alone is measured too, with and without a hint. `ENTENTE_BENCH_SET=dev`
//! or `=farm` measures one of the two sets only.
//!
//! The corpus items are short (a title and a summary of about 130 characters); the
//! farm's are what issue 8 measures ingestion with: a title of 40–120 characters and
//! 300–2,000 characters of HTML description in English, French or Russian, 5 % of them
//! France–Kazakhstan items. They are generated here from the same vocabulary and
//! shapes as `bench/farm.py`, by a seeded generator, so the bench needs no python.
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
/// Farm items generated (about the size of the dev set, for the same rounds).
const FARM_ITEMS: usize = 200;

/// (title, plain-text summary, the source's language hint).
type Prepared = (String, String, String);

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
    let texts: Vec<Prepared> = items
        .iter()
        .map(|i| {
            let summary = entente::text::html_to_text(&i.summary);
            (i.title.clone(), summary, i.lang.clone())
        })
        .collect();
    let farm = farm::items(FARM_ITEMS);

    println!(
        "rules: {} terms compiled in {:.1} ms",
        rules.term_count(),
        compile_time.as_secs_f64() * 1e3
    );
    // `ENTENTE_BENCH_SET=dev` or `farm` measures one set only (one callgrind profile
    // per set).
    let only = std::env::var("ENTENTE_BENCH_SET").ok();
    for (set, name, texts) in [("dev", "dev.jsonl", &texts), ("farm", "farm items", &farm)] {
        if only.as_deref().is_none_or(|o| o == set) {
            measure(&rules, name, texts, rounds);
        }
    }
}

/// Prints the throughput of detection + classification on `texts`, then of each alone.
fn measure(rules: &Rules, name: &str, texts: &[Prepared], rounds: usize) {
    // Warm-up, then the measured rounds.
    let mut relevant = 0usize;
    for (title, summary, _) in texts {
        relevant += usize::from(
            classify(
                rules,
                &Text {
                    title,
                    summary,
                    lang: None,
                },
            )
            .relevant,
        );
    }
    let chars: usize = texts
        .iter()
        .map(|(t, s, _)| t.chars().count() + s.chars().count())
        .sum();
    let start = Instant::now();
    for _ in 0..rounds {
        for (title, summary, hint) in texts {
            let lang = entente::lang::item_language(title, summary, Some(hint));
            let d = classify(
                rules,
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
            for (title, summary, hint) in texts {
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
                rules,
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
        "{name}: {} items of {} characters on average, {relevant} relevant",
        texts.len(),
        chars / texts.len().max(1)
    );
    println!(
        "  classify (language detection included): {classified} items in {:.3} s on one thread = {:.0} items/s ({:.2} µs/item)",
        elapsed.as_secs_f64(),
        per_second,
        1e6 / per_second
    );
    println!(
        "  language detection alone: {with_hint:.2} µs/item with the source's hint, {without_hint:.2} µs/item without"
    );
    println!("  classification alone: {alone:.2} µs/item");
}

/// Items shaped as `bench/farm.py` writes them: the same words, sentence lengths,
/// relevant titles and HTML, from a seeded generator of its own (not the same bytes
/// as python's `random`, the same distribution).
mod farm {
    use super::Prepared;

    const WORDS_EN: &str =
        "the government market council minister agreement report city region growth \
        energy company project school university festival railway airport export \
        import budget parliament election weather football museum bank investment \
        hospital farmers harvest water tourism court police road bridge digital";
    const WORDS_FR: &str =
        "le gouvernement marché conseil ministre accord rapport ville région croissance \
        énergie entreprise projet école université festival chemin de fer aéroport \
        exportation budget parlement élection météo football musée banque hôpital \
        agriculteurs récolte eau tourisme tribunal police route pont numérique";
    const WORDS_RU: &str =
        "правительство рынок совет министр соглашение доклад город регион рост энергия \
        компания проект школа университет фестиваль железная дорога аэропорт экспорт \
        бюджет парламент выборы погода футбол музей банк больница фермеры урожай вода \
        туризм суд полиция дорога мост цифровой";
    const RELEVANT_EN: [&str; 4] = [
        "France and Kazakhstan sign an agreement on uranium supplies",
        "Macron meets Tokayev in Astana to discuss trade and investment",
        "French company Total expands gas project in Kazakhstan",
        "Airbus and Kazakhstan agree on new aircraft deliveries to Astana",
    ];
    const RELEVANT_FR: [&str; 4] = [
        "La France et le Kazakhstan signent un accord sur l'uranium",
        "Emmanuel Macron reçoit Kassym-Jomart Tokaïev à l'Élysée",
        "Orano renforce sa coopération avec Kazatomprom au Kazakhstan",
        "Le Kazakhstan et la France lancent un vol direct Paris-Astana",
    ];
    const RELEVANT_RU: [&str; 4] = [
        "Казахстан и Франция подписали соглашение о поставках урана",
        "Токаев провёл переговоры с Макроном в Париже",
        "Французская компания Total расширяет проект в Казахстане",
        "Казахстан и Франция откроют прямой рейс Астана — Париж",
    ];

    /// splitmix64: small, seeded, good enough to draw words.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// Uniform in `lo..=hi`.
        fn between(&mut self, lo: usize, hi: usize) -> usize {
            lo + (self.next() % (hi - lo + 1) as u64) as usize
        }
        fn chance(&mut self, p: f64) -> bool {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.between(0, from.len() - 1)]
        }
    }

    /// Words joined until at least `lo` characters, cut at `hi`, capitalised.
    fn sentence(rng: &mut Rng, words: &[&str], lo: usize, hi: usize) -> String {
        let mut text = String::new();
        while text.chars().count() < lo {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(rng.pick(words));
        }
        let text: String = text.chars().take(hi).collect();
        let text = text.trim();
        let mut chars = text.chars();
        chars.next().map_or_else(
            || words[0].to_string(),
            |first| first.to_uppercase().chain(chars).collect(),
        )
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    pub fn items(count: usize) -> Vec<Prepared> {
        let mut rng = Rng(7);
        (0..count)
            .map(|n| {
                let (lang, words, relevant_titles) = match n % 3 {
                    0 => ("en", WORDS_EN, RELEVANT_EN),
                    1 => ("fr", WORDS_FR, RELEVANT_FR),
                    _ => ("ru", WORDS_RU, RELEVANT_RU),
                };
                let words: Vec<&str> = words.split_whitespace().collect();
                let relevant = rng.chance(0.05);
                let title = if relevant {
                    let base = rng.pick(&relevant_titles);
                    let room = 120usize.saturating_sub(base.chars().count() + 2);
                    if base.chars().count() < 100 && room >= 5 {
                        format!("{base}: {}", sentence(&mut rng, &words, 5, room))
                    } else {
                        base.to_string()
                    }
                } else {
                    let lo = rng.between(40, 110);
                    sentence(&mut rng, &words, lo, 120)
                };
                let title: String = title.chars().take(120).collect();
                let target = rng.between(300, 2000);
                let mut html = format!("<p><b>{}</b></p>", escape(&title));
                while html.len() < target {
                    let mut para = sentence(&mut rng, &words, 60, 240) + ".";
                    if rng.chance(0.3) {
                        let link = rng.between(1, 1_000_000);
                        let word = rng.pick(&words);
                        para = format!(
                            "{} <a href=\"https://example.org/{link}\">{}</a>",
                            escape(&para),
                            escape(word)
                        );
                    } else {
                        para = escape(&para);
                    }
                    let chunk = format!("<p>{para}</p>");
                    if html.len() + chunk.len() > 2000 {
                        break;
                    }
                    html.push_str(&chunk);
                }
                let summary = entente::text::html_to_text(&html);
                (title, summary, lang.to_string())
            })
            .collect()
    }
}
