//! What must hold for any input, whatever a stranger sends: shared by the proptests
//! (`tests/hostile_props.rs`) and the fuzz targets (`fuzz/fuzz_targets/`), so that
//! both check the same things. Each function panics when an invariant breaks.

#![allow(dead_code)]

use std::path::Path;

use entente::classify::{classify, Rules, Text};
use entente::config::Config;
use entente::dedup::TitleSignature;
use entente::item::FieldCaps;
use entente::parse::{parse_feed_using, Origin, ParseError, Reader, ReaderChoice};

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
    // A document the streaming reader takes must read exactly as feed-rs reads it.
    let (parsed, reader) = parse_feed_using(&body, origin, ReaderChoice::Any);
    if reader == Reader::Streaming {
        let (reference, _) = parse_feed_using(&body, origin, ReaderChoice::FeedRsOnly);
        // Where feed-rs panics (its author split slices inside a character:
        // RELIABILITY.md) the streaming reader may read the document; everywhere else
        // the two must agree.
        if matches!(reference, Err(ParseError::ParserPanicked)) {
            return;
        }
        assert_eq!(
            parsed,
            reference,
            "the streaming reader and feed-rs disagree on {:?}",
            String::from_utf8_lossy(&body)
        );
    }
    let Ok(feed) = parsed else {
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
            // its name and attributes are checked, not the words of the text or of an
            // `alt` ("on-premise", "metadata:" are harmless).
            for tag in tags_of(html) {
                let (name, attributes) = parse_tag(tag);
                assert!(
                    !matches!(
                        name.as_str(),
                        "script"
                            | "iframe"
                            | "style"
                            | "svg"
                            | "math"
                            | "base"
                            | "object"
                            | "embed"
                            | "form"
                            | "meta"
                            | "link"
                    ),
                    "a <{name}> survived sanitizing: {tag}"
                );
                for (attribute, value) in attributes {
                    assert!(
                        !attribute.starts_with("on") && attribute != "style",
                        "{attribute}= survived sanitizing: {tag}"
                    );
                    if URL_ATTRIBUTES.contains(&attribute.as_str()) {
                        // `srcset` is a list of "URL width" candidates.
                        let urls: Vec<&str> = if attribute == "srcset" {
                            value.split(',').collect()
                        } else {
                            vec![value.as_str()]
                        };
                        for url in urls {
                            // Browsers ignore whitespace and controls inside a scheme.
                            let url: String = url
                                .chars()
                                .filter(|c| !c.is_whitespace() && !c.is_control())
                                .collect::<String>()
                                .to_ascii_lowercase();
                            for scheme in ["javascript:", "vbscript:", "data:"] {
                                assert!(
                                    !url.starts_with(scheme),
                                    "{attribute}=\"{scheme}…\" survived sanitizing: {tag}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Attributes a browser reads as a URL (`srcset`: a list of them).
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "cite",
    "action",
    "formaction",
    "poster",
    "srcset",
    "xlink:href",
    "background",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "usemap",
    "codebase",
    "data",
    "ping",
    "manifest",
    "icon",
    "profile",
    "classid",
    "archive",
];

/// The tags (`<` to the next `>`) of an HTML fragment.
fn tags_of(html: &str) -> impl Iterator<Item = &str> {
    html.match_indices('<').map(move |(at, _)| {
        let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
        &html[at..end]
    })
}

/// A tag's lowercase name and its attributes (lowercase names, values with the
/// serializer's `&amp;` `&quot;` `&lt;` `&gt;` `&nbsp;` decoded), as a browser
/// tokenizes `<name a="v" b='w' c=x d>`.
fn parse_tag(tag: &str) -> (String, Vec<(String, String)>) {
    let inner = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_start_matches('/');
    let mut chars = inner.chars().peekable();
    let name: String = chars
        .by_ref()
        .take_while(|c| !c.is_whitespace() && *c != '/')
        .collect::<String>()
        .to_ascii_lowercase();
    let mut attributes = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == '/').is_some() {}
        let mut attribute = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=' && *c != '/') {
            attribute.push(c.to_ascii_lowercase());
        }
        if attribute.is_empty() {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            match chars.next_if(|c| *c == '"' || *c == '\'') {
                Some(quote) => value.extend(chars.by_ref().take_while(|c| *c != quote)),
                None => {
                    while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                        value.push(c);
                    }
                }
            }
        }
        let value = value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&");
        attributes.push((attribute, value));
    }
    (name, attributes)
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
