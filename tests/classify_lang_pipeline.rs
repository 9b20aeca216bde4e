//! Each item's own language through the real binary: a French article in a feed whose
//! source says `lang = "en"` is stored, listed and published as French.

use std::path::Path;
use std::process::Command;

const FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>
<description>x</description>
<item><title>France and Kazakhstan sign a uranium supply agreement</title>
<link>https://wire.example/en/1</link><guid>en-1</guid>
<description>The agreement was signed in Astana by the two ministers of energy.</description>
<pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate></item>
<item><title>La France et le Kazakhstan signent un accord sur l'uranium</title>
<link>https://wire.example/fr/1</link><guid>fr-1</guid>
<description>L'accord a été signé à Astana par les deux ministres de l'énergie.</description>
<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate></item>
</channel></rss>"#;

fn entente(config: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_entente"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("entente runs");
    assert!(
        output.status.success(),
        "entente {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn a_french_item_in_an_english_feed_is_french() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wire.xml"), FEED).unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules.toml");
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "rules = {:?}\n[daemon]\ndatabase = \"entente.db\"\npublic_url = \"http://127.0.0.1:1/\"\n\n\
             [[source]]\nid = \"wire\"\nname = \"Wire\"\nurl = \"file:wire.xml\"\nlang = \"en\"\n",
            rules.display().to_string()
        ),
    )
    .unwrap();
    entente(&config, &["fetch"]);

    let items: serde_json::Value =
        serde_json::from_str(&entente(&config, &["items", "--all", "--json"])).unwrap();
    let lang_of = |guid_path: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["link"].as_str().is_some_and(|l| l.ends_with(guid_path)))
            .map(|i| i["lang"].clone())
            .unwrap_or_else(|| panic!("{guid_path} listed: {items}"))
    };
    assert_eq!(lang_of("/en/1"), "en");
    assert_eq!(lang_of("/fr/1"), "fr");

    let out = dir.path().join("site");
    entente(&config, &["export", "--out", out.to_str().unwrap()]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("feeds/all.json")).unwrap())
            .unwrap();
    let french = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["url"].as_str().is_some_and(|u| u.ends_with("/fr/1")))
        .expect("the French item is published");
    assert_eq!(french["language"], "fr");
    let atom = std::fs::read_to_string(out.join("feeds/all.atom")).unwrap();
    assert!(atom.contains(r#"xml:lang="fr""#), "{atom}");
}
