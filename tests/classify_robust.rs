//! The classifier never panics, whatever the text: empty, huge, mixed scripts, control
//! characters, lone combining marks, text cut inside a multi-byte character's family.

use entente::classify::{classify, Rules, Text};

const RULES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml"));

fn odd_texts() -> Vec<String> {
    let mut texts = vec![
        String::new(),
        " ".to_string(),
        "\u{0000}\u{0007}\u{001b}[31m\u{7f}".to_string(),
        "\u{0301}\u{0306}\u{0308} leading combining marks".to_string(),
        "й\u{0306}\u{0306}ё\u{0308}".to_string(),
        "Франция🇫🇷Қазақстан🇰🇿 中文 العربية עברית".to_string(),
        "‐‑‒–—―−-".repeat(50),
        "’'ʼ`´".repeat(50),
        "\u{FEFF}\u{200B}\u{200D}\u{2028}\u{2029}".to_string(),
        "ﬁﬂ ＦＲＡＮＣＥ ＫＡＺＡＫＨＳＴＡＮ ǅ ẞ İstanbul".to_string(),
        "*|*|* | \\ {} [] \"".to_string(),
        "a".repeat(100_000),
        "France Kazakhstan visit ".repeat(20_000),
        "Ма\u{0301}крон ТОҚАЕВ-ПЕН".to_string(),
    ];
    texts.push(
        (0..5000)
            .map(|i| char::from_u32(0x300 + (i * 7919) % 0xFFFF).unwrap_or('x'))
            .collect(),
    );
    texts
}

#[test]
fn odd_text_never_panics() {
    let rules = Rules::from_toml(RULES).unwrap();
    for title in odd_texts() {
        for summary in [String::new(), title.clone()] {
            let d = classify(
                &rules,
                &Text {
                    title: &title,
                    summary: &summary,
                    lang: None,
                },
            );
            assert!(d.score.is_finite());
            let _ = d.explain();
            let json = serde_json::to_string(&d).unwrap();
            let back: entente::classify::Decision = serde_json::from_str(&json).unwrap();
            assert_eq!(back.relevant, d.relevant);
        }
    }
}

#[test]
fn evidence_quotes_the_original_text() {
    let rules = Rules::from_toml(RULES).unwrap();
    let d = classify(
        &rules,
        &Text {
            title: "Visite à l’Élysée de Kassym-Jomart Tokaïev",
            summary: "",
            lang: Some("fr"),
        },
    );
    assert!(d.relevant, "{}", d.explain());
    assert!(
        d.evidence
            .iter()
            .any(|e| e.matched == "Élysée" && e.role == "france"),
        "{:?}",
        d.evidence
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.matched == "Tokaïev" && e.role == "kazakhstan"),
        "{:?}",
        d.evidence
    );
}

/// The decision says relevant exactly when the score it shows reaches the threshold it
/// shows: `explain` must never print "score 0.5, threshold 0.5, not relevant". Found by
/// the `classify` fuzz target: a score a hair under the threshold that rounds up to it.
#[test]
fn relevance_agrees_with_the_score_shown() {
    let rules = Rules::from_toml(RULES).unwrap();
    let input = b"it Astanon\x1dOrano Rosatom project, EDF pa??gMy\x00Thalesa mh Tortkuduk sehe Turkestan\xff\x01od'Almaty\x83\xbd\xbd\xd4\x86";
    let text = String::from_utf8_lossy(input);
    let (title, summary) = text.split_once('\0').unwrap();
    let d = classify(
        &rules,
        &Text {
            title,
            summary,
            lang: None,
        },
    );
    assert_eq!(
        d.relevant,
        d.score >= d.threshold,
        "score {} threshold {}",
        d.score,
        d.threshold
    );
}
