//! Feed discovery: which feeds a web page names. Pure (the page's text in, candidate
//! URLs out); `entente add` fetches.
//!
//! A site names its feeds with `<link rel="alternate" type="application/rss+xml"
//! href="…">` in its head (the RSS autodiscovery convention, used for Atom and JSON
//! Feed too). Many sites do not, yet serve a feed at a well-known path, so those paths
//! are the second resort, tried in order.

use url::Url;

/// The paths tried, in order, when a page names no feed.
pub const USUAL_PATHS: &[&str] = &[
    "/feed",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.json",
];

/// What kind of feed a `<link>` announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Rss,
    Atom,
    Json,
}

impl FeedKind {
    fn of_type(media_type: &str) -> Option<FeedKind> {
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/rss+xml" | "application/rdf+xml" => Some(FeedKind::Rss),
            "application/atom+xml" => Some(FeedKind::Atom),
            "application/feed+json" | "application/json" => Some(FeedKind::Json),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Rss => "RSS",
            FeedKind::Atom => "Atom",
            FeedKind::Json => "JSON Feed",
        }
    }
}

/// A feed a page links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub url: Url,
    pub kind: FeedKind,
    pub title: Option<String>,
}

/// The feeds `html` announces, in document order, without repeats; relative `href`s
/// are resolved against `<base href>` if present, else `page`.
pub fn linked_feeds(html: &str, page: &Url) -> Vec<Candidate> {
    let tags = tags(html);
    let base = tags
        .iter()
        .find(|t| t.name == "base")
        .and_then(|t| t.attribute("href"))
        .and_then(|href| page.join(href).ok())
        .unwrap_or_else(|| page.clone());
    let mut found: Vec<Candidate> = Vec::new();
    for tag in tags.iter().filter(|t| t.name == "link") {
        let is_alternate = tag.attribute("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        let kind = tag.attribute("type").and_then(FeedKind::of_type);
        let (true, Some(kind), Some(href)) = (is_alternate, kind, tag.attribute("href")) else {
            continue;
        };
        let Ok(url) = base.join(href.trim()) else {
            continue;
        };
        if found.iter().any(|c| c.url == url) {
            continue;
        }
        found.push(Candidate {
            url,
            kind,
            title: tag
                .attribute("title")
                .map(|t| html_escape::decode_html_entities(t).trim().to_string())
                .filter(|t| !t.is_empty()),
        });
    }
    found
}

/// The usual feed addresses of the site `page` belongs to.
pub fn usual_urls(page: &Url) -> Vec<Url> {
    USUAL_PATHS
        .iter()
        .filter_map(|path| page.join(path).ok())
        .collect()
}

/// Whether a body looks like a web page rather than a feed: then it is searched for
/// links instead of being parsed.
pub fn looks_like_html(body: &[u8], content_type: Option<&str>) -> bool {
    if content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html")) {
        return true;
    }
    let start = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let start = start.trim_start_matches('\u{feff}').trim_start();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// One start tag: its lowercase name and attributes (names lowercase, values raw).
#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

impl Tag {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The `<link>` and `<base>` start tags of a page, read the way browsers tolerate:
/// any case, quoted or bare values, `/>` or `>`. Comments and scripts are skipped so
/// that a link inside them is not taken for a real one. Only the part before `<body`
/// matters for autodiscovery, but links in the body are read too: some sites put them
/// there and browsers accept them.
fn tags(html: &str) -> Vec<Tag> {
    let lower = html.to_ascii_lowercase();
    let mut tags = Vec::new();
    let mut at = 0;
    while let Some(offset) = lower[at..].find('<') {
        let start = at + offset;
        let rest = &lower[start..];
        if rest.starts_with("<!--") {
            at = rest.find("-->").map_or(html.len(), |end| start + end + 3);
            continue;
        }
        if rest.starts_with("<script") || rest.starts_with("<style") {
            let close = if rest.starts_with("<script") {
                "</script"
            } else {
                "</style"
            };
            at = rest.find(close).map_or(html.len(), |end| start + end + 1);
            continue;
        }
        let name_end = rest[1..]
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .map_or(rest.len(), |i| i + 1);
        let name = &rest[1..name_end];
        if name != "link" && name != "base" {
            at = start + 1;
            continue;
        }
        let (attributes, end) = attributes(&html[start + name_end..]);
        tags.push(Tag {
            name: name.to_string(),
            attributes,
        });
        at = start + name_end + end;
    }
    tags
}

/// Attributes up to the tag's `>`, and how many bytes that took.
fn attributes(text: &str) -> (Vec<(String, String)>, usize) {
    let bytes = text.as_bytes();
    let mut attributes = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return (attributes, (i + 1).min(bytes.len()));
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let name = text[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                let value_start = i + 1;
                let value_end = text[value_start..]
                    .find(quote as char)
                    .map_or(text.len(), |e| value_start + e);
                value = text[value_start..value_end].to_string();
                i = (value_end + 1).min(text.len());
            } else {
                let value_start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = text[value_start..i].to_string();
            }
        }
        if !name.is_empty() {
            attributes.push((name, html_escape::decode_html_entities(&value).into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://news.example.kz/politics/today.html").unwrap()
    }

    #[test]
    fn alternate_links_of_the_three_kinds_are_found_in_order() {
        let html = r#"<!DOCTYPE html><HTML><head>
            <link rel="stylesheet" href="/s.css" type="text/css">
            <LINK REL="alternate" TYPE="application/rss+xml" TITLE="All news &amp; more" HREF="/rss.xml">
            <link rel='alternate' type='application/atom+xml' href='https://cdn.example.kz/atom'/>
            <link rel=alternate type=application/feed+json href=feed.json>
            <link rel="alternate" hreflang="fr" href="/fr/" >
            <link rel="alternate" type="application/rss+xml" href="/rss.xml">
            </head><body></body></html>"#;
        let found = linked_feeds(html, &page());
        let urls: Vec<&str> = found.iter().map(|c| c.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://news.example.kz/rss.xml",
                "https://cdn.example.kz/atom",
                "https://news.example.kz/politics/feed.json",
            ]
        );
        assert_eq!(found[0].title.as_deref(), Some("All news & more"));
        assert_eq!(found[1].kind, FeedKind::Atom);
        assert_eq!(found[2].kind, FeedKind::Json);
    }

    #[test]
    fn links_in_comments_and_scripts_do_not_count_and_base_is_honoured() {
        let html = r#"<head><base href="https://other.example/x/">
            <!-- <link rel="alternate" type="application/rss+xml" href="/old.rss"> -->
            <script>var s = '<link rel="alternate" type="application/rss+xml" href="/js.rss">';</script>
            <link rel="alternate" type="application/rss+xml" href="feed">"#;
        let found = linked_feeds(html, &page());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].url.as_str(), "https://other.example/x/feed");
    }

    #[test]
    fn usual_paths_are_at_the_site_root() {
        let urls = usual_urls(&page());
        assert_eq!(urls[0].as_str(), "https://news.example.kz/feed");
        assert_eq!(urls.len(), USUAL_PATHS.len());
    }

    #[test]
    fn html_is_told_from_feeds() {
        assert!(looks_like_html(b"<?xml?><rss/>", Some("text/html")));
        assert!(looks_like_html(b"\n  <!DOCTYPE html><html>", None));
        assert!(!looks_like_html(b"<?xml version=\"1.0\"?><rss/>", None));
        assert!(!looks_like_html(
            b"{\"version\":1}",
            Some("application/json")
        ));
    }
}
