//! What must hold for any input, whatever a stranger sends: shared by the proptests
//! (`tests/hostile_props.rs`) and the fuzz targets (`fuzz/fuzz_targets/`), so that
//! both check the same things. Each function panics when an invariant breaks.

#![allow(dead_code)]

use std::path::Path;

use entente::classify::{classify, Rules, Text};
use entente::config::Config;
use entente::dedup::TitleSignature;
use entente::item::FieldCaps;
use entente::parse::{parse_feed, Origin};

/// Feed bytes → decode → parse → normalise: no panic, and every item is safe to
/// publish: bounded fields, no forbidden characters, web links only, no script.
pub fn feed_bytes(bytes: &[u8], content_type: Option<&str>) {
    let body = entente::fetch::decode::to_utf8(bytes, content_type);
    assert!(std::str::from_utf8(&body).is_ok(), "decode yields UTF-8");
    let base = url::Url::parse("https://feeds.example/a/feed.xml").unwrap();
    let caps = FieldCaps {
        max_items: 50,
        max_title_chars: 200,
        max_summary_chars: 1000,
        max_content_bytes: 4096,
        ..FieldCaps::default()
    };
    let origin = Origin {
        source_id: "fuzz",
        lang_hint: None,
        url: Some(&base),
        caps,
    };
    let Ok(feed) = parse_feed(&body, origin) else {
        return;
    };
    assert!(feed.items.len() <= caps.max_items);
    for item in &feed.items {
        assert!(!item.title.is_empty(), "every item has a title");
        assert!(
            item.title.chars().count() <= caps.max_title_chars,
            "title capped"
        );
        assert!(
            item.summary.chars().count() <= caps.max_summary_chars,
            "summary capped"
        );
        for text in [&item.title, &item.summary]
            .into_iter()
            .chain(&item.authors)
            .chain(&item.categories)
        {
            assert!(
                !text.chars().any(is_forbidden_in_text),
                "unsafe character in {text:?}"
            );
        }
        if let Some(link) = &item.link {
            let url = url::Url::parse(link).expect("links are absolute URLs");
            assert!(matches!(url.scheme(), "http" | "https"), "{link}");
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "{link}"
            );
        }
        // Parsing keeps the feed's HTML as it came; what can reach a reader is its
        // safe form, and that is what must hold no live markup.
        if let Some(html) = item.content_html.as_ref().and_then(|h| h.to_safe_html()) {
            let html = html.as_ref();
            // Sanitized HTML escapes `<` in text, so every raw `<` opens a real tag:
            // only tags are checked (the words "javascript:" in text are harmless).
            for tag in tags_of(html) {
                let lower = tag.to_ascii_lowercase();
                for needle in [
                    "<script",
                    "<iframe",
                    "<style",
                    "<svg",
                    "<math",
                    "<base",
                    "javascript:",
                    "vbscript:",
                    "data:",
                    " on",
                ] {
                    let live = if needle == " on" {
                        lower
                            .split_whitespace()
                            .skip(1)
                            .any(|attr| attr.starts_with("on"))
                    } else {
                        lower.contains(needle)
                    };
                    assert!(!live, "{needle} in a sanitized tag: {tag}");
                }
            }
        }
    }
}

/// The tags (`<` to the next `>`) of an HTML fragment.
fn tags_of(html: &str) -> impl Iterator<Item = &str> {
    html.match_indices('<').map(move |(at, _)| {
        let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
        &html[at..end]
    })
}

fn is_forbidden_in_text(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}'
        | '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Item text → classify: no panic, a finite score, topics the rules define.
pub fn classify_text(rules: &Rules, title: &str, summary: &str) {
    let decision = classify(
        rules,
        &Text {
            title,
            summary,
            lang: None,
        },
    );
    assert!(decision.score.is_finite(), "score {}", decision.score);
    assert_eq!(decision.relevant, decision.score >= decision.threshold);
    for topic in &decision.topics {
        assert!(
            rules.topics().iter().any(|t| &t.id == topic),
            "unknown topic {topic}"
        );
    }
}

/// feeds.toml and rules.toml text → config: no panic; a rejection names the file.
pub fn config_text(feeds: &str, rules: &str) {
    let path = Path::new("/nonexistent/feeds.toml");
    let rules = rules.to_string();
    let feeds = format!("rules = \"rules.toml\"\n{feeds}");
    if let Err(error) = Config::parse(&feeds, path, move |_| Ok(rules)) {
        let message = error.to_string();
        assert!(
            message.starts_with("/nonexistent/feeds.toml")
                || message.starts_with("/nonexistent/rules.toml"),
            "a rejection names its file: {message}"
        );
    }
}

/// A title pair → de-duplication signature: similarity in [0, 1], symmetric, and a
/// title with words is its own duplicate.
pub fn title_pair(a: &str, b: &str) {
    let (sa, sb) = (TitleSignature::of(a), TitleSignature::of(b));
    let ab = sa.similarity(&sb);
    assert!((0.0..=1.0).contains(&ab), "similarity {ab}");
    assert!((ab - sb.similarity(&sa)).abs() < 1e-9, "symmetric");
    if !sa.is_empty() {
        assert!(
            (sa.similarity(&sa) - 1.0).abs() < 1e-9,
            "a title is its own duplicate"
        );
    }
}
