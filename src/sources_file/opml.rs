//! OPML as feed readers exchange subscription lists: reading one (every outline with a
//! feed address, in folders nested as deep as the reader made them) and writing
//! entente's own source list the same way.
//!
//! Readers disagree on details: Feedly and Inoreader write `title` and `text`,
//! NetNewsWire `text` only, some write `xmlurl` in lower case or leave out `type`. So an
//! outline is a feed when it has an `xmlUrl` (any case), its name is `title`, else
//! `text`, and outlines without one are folders.

use std::fmt::Write as _;

use html_escape::encode_double_quoted_attribute as attr;
use html_escape::encode_text as text;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// A feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub url: String,
    pub title: Option<String>,
    pub site: Option<String>,
    /// The folders it sits in, outermost first.
    pub folders: Vec<String>,
    /// The outline's `language`, as entente writes it (readers rarely do).
    pub lang: Option<String>,
    /// False when entente exported it disabled (`ententeEnabled="false"`).
    pub enabled: bool,
}

/// Why an OPML file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("not well-formed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("no <opml> element: this is not an OPML file")]
    NotOpml,
}

/// Every subscription in the file, in document order.
pub fn read(xml: &str) -> Result<Vec<Subscription>, OpmlError> {
    let mut reader = Reader::from_str(xml);
    let mut folders: Vec<Option<String>> = Vec::new();
    let mut subscriptions = Vec::new();
    let mut saw_opml = false;
    loop {
        let event = reader.read_event().map_err(|e| OpmlError::Xml {
            position: reader.error_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "opml" => {
                saw_opml = true;
            }
            Event::Start(e) if e.local_name().as_ref() == "outline" => {
                let outline = Outline::of(&e);
                // A feed outline with children is rare but exists (Thunderbird).
                if let Some(subscription) = outline.subscription(&folders) {
                    subscriptions.push(subscription);
                    folders.push(None);
                } else {
                    folders.push(outline.name());
                }
            }
            Event::Empty(e) if e.local_name().as_ref() == "outline" => {
                if let Some(subscription) = Outline::of(&e).subscription(&folders) {
                    subscriptions.push(subscription);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "outline" => {
                folders.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_opml {
        return Err(OpmlError::NotOpml);
    }
    Ok(subscriptions)
}

/// One `<outline>`'s attributes that matter here.
#[derive(Default)]
struct Outline {
    xml_url: Option<String>,
    html_url: Option<String>,
    title: Option<String>,
    text: Option<String>,
    language: Option<String>,
    disabled: bool,
}

impl Outline {
    fn of(element: &BytesStart<'_>) -> Outline {
        let mut outline = Outline::default();
        for attribute in element.attributes().flatten() {
            let Ok(value) = attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
                continue;
            };
            let value = value.trim().to_string();
            if value.is_empty() {
                continue;
            }
            let key = attribute.key.local_name().as_ref().to_lowercase();
            match key.as_str() {
                "xmlurl" => outline.xml_url = Some(value),
                "htmlurl" => outline.html_url = Some(value),
                "title" => outline.title = Some(value),
                "text" => outline.text = Some(value),
                "language" => outline.language = Some(value.to_ascii_lowercase()),
                "ententeenabled" => outline.disabled = value == "false",
                _ => {}
            }
        }
        outline
    }

    fn name(&self) -> Option<String> {
        self.title.clone().or_else(|| self.text.clone())
    }

    fn subscription(&self, folders: &[Option<String>]) -> Option<Subscription> {
        Some(Subscription {
            url: self.xml_url.clone()?,
            title: self.name(),
            site: self.html_url.clone(),
            folders: folders.iter().flatten().cloned().collect(),
            lang: self.language.clone(),
            enabled: !self.disabled,
        })
    }
}

/// A source in entente's list, as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedSource {
    pub id: String,
    pub name: String,
    pub url: String,
    pub lang: Option<String>,
    pub enabled: bool,
}

/// The source list as OPML 2.0: one `type="rss"` outline per source (every reader
/// accepts that type for Atom and JSON feeds too), disabled ones included and marked
/// so with entente's own attribute, which readers ignore.
pub fn write(title: &str, sources: &[ExportedSource]) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<opml version=\"2.0\">\n  <head>\n");
    let _ = writeln!(out, "    <title>{}</title>", text(title));
    out.push_str("  </head>\n  <body>\n");
    for source in sources {
        let _ = write!(
            out,
            "    <outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{url}\"",
            name = attr(&source.name),
            url = attr(&source.url),
        );
        if let Some(lang) = &source.lang {
            let _ = write!(out, " language=\"{}\"", attr(lang));
        }
        if !source.enabled {
            out.push_str(" ententeEnabled=\"false\"");
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_folders_are_read_and_feeds_without_folders_too() {
        let xml = r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>x</title></head><body>
  <outline text="News"><outline text="Kazakhstan">
    <outline type="rss" text="Astana &amp; Co" xmlUrl="https://a.example/feed?x=1&amp;y=2"/>
  </outline></outline>
  <outline text="Loose" xmlurl="https://b.example/rss"/>
</body></opml>"#;
        let subs = read(xml).unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0].url, "https://a.example/feed?x=1&y=2");
        assert_eq!(subs[0].title.as_deref(), Some("Astana & Co"));
        assert_eq!(subs[0].folders, ["News", "Kazakhstan"]);
        assert_eq!(subs[1].url, "https://b.example/rss");
        assert!(subs[1].folders.is_empty());
        assert!(subs[1].enabled && subs[1].lang.is_none());
    }

    #[test]
    fn what_is_not_opml_says_so() {
        assert!(matches!(read("<rss/>"), Err(OpmlError::NotOpml)));
        assert!(matches!(read("<opml><body>"), Ok(v) if v.is_empty()));
        assert!(matches!(
            read("<opml><outline></opml>"),
            Err(OpmlError::Xml { .. })
        ));
    }

    #[test]
    fn written_lists_read_back() {
        let sources = vec![ExportedSource {
            id: "a".into(),
            name: "A \"quoted\" <name>".into(),
            url: "https://a.example/f?x=1&y=2".into(),
            lang: Some("fr".into()),
            enabled: false,
        }];
        let subs = read(&write("mine", &sources)).unwrap();
        assert_eq!(subs[0].url, sources[0].url);
        assert_eq!(subs[0].lang.as_deref(), Some("fr"));
        assert!(!subs[0].enabled);
        assert_eq!(subs[0].title.as_deref(), Some("A \"quoted\" <name>"));
    }
}
