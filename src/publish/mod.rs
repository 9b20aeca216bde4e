//! Renders the published files: per-topic feeds (RSS 2.0, Atom 1.0, JSON Feed 1.1),
//! the OPML list and the HTML front page.
//!
//! Pure functions from the items chosen for publication to bytes: no IO. The server and
//! `export` both call them, so the files written are the bytes served.
//!
//! Every renderer is deterministic: the same [`Site`] and entries give the same bytes.
//! Dates in the output come from the entries (never from the clock), so a feed's
//! `lastBuildDate`/`updated` only moves when its content does, and ETags stay stable.
//!
//! # Layout
//! - this file: the shared types, the published paths and URLs, and the helpers every
//!   format needs (entry body HTML, feed dates, XML-safe text);
//! - `rss.rs`, `atom.rs`, `json.rs`: one feed format each;
//! - `opml.rs`: the list of feeds for importing into a reader;
//! - `html.rs`: the pages (front page per language, topic pages, search, 404);
//! - `i18n.rs`: the interface languages and their words;
//! - `paths.rs`: every published file named once ([`SitePath`]);
//! - `stylesheet.rs`: the XSLT that shows RSS and Atom as a page in a browser, and
//!   the favicon.

mod atom;
mod html;
pub mod i18n;
mod json;
mod opml;
mod paths;
mod rss;
mod stylesheet;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use url::Url;

use crate::classify::Topic;

pub use html::{Health, Outlet, Page, PageKind, SearchResults};
pub use i18n::Lang;
pub use paths::{FeedId, SitePath, ALL_SLUG, OPML_PATH, STYLESHEET_FILE};
pub use stylesheet::{favicon, STYLESHEET};

/// What an entry without a title is called on the page and in feeds.
const UNTITLED: &str = "(untitled)";

/// What the generator elements of the feeds name.
const GENERATOR_NAME: &str = "entente";
const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every published file says about the site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Public base URL, ending in `/`; every link in the output is absolute from it.
    pub base_url: Url,
    pub title: String,
    pub description: String,
    pub topics: Vec<Topic>,
    /// How long readers may cache a feed, from the shortest schedule.
    pub ttl_minutes: u32,
    /// The WebSub hub every feed advertises, when one is configured.
    pub websub_hub: Option<Url>,
}

/// Another outlet's copy of a published story.
#[derive(Debug, Clone, PartialEq)]
pub struct AlsoReported {
    pub title: String,
    pub link: String,
    pub source_name: String,
}

/// One item as published.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Our stable item key: the guid/id of the published item.
    pub key: String,
    pub title: String,
    pub link: Option<String>,
    /// Plain text.
    pub summary: String,
    /// Sanitized HTML, when the source carried content.
    pub content_html: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub topics: Vec<String>,
    pub lang: Option<String>,
    pub source_id: String,
    pub source_name: String,
    /// The source feed's URL, for RSS `<source url="…">`.
    pub source_url: String,
    pub also_reported: Vec<AlsoReported>,
}

/// A feed format and its file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }

    /// The media type alone, as autodiscovery links and `type` attributes want it.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// The feed for one topic, or for every topic (`topic` = `None`, published as `all`).
/// `entries` are newest first, already cut to the configured count; they are rendered
/// in the order given.
pub fn render_feed(
    site: &Site,
    topic: Option<&Topic>,
    entries: &[Entry],
    format: Format,
) -> String {
    render_feed_in(site, topic, None, entries, format)
}

/// The feed of a topic (or every topic) for the items in one language (`lang` given)
/// or in all. `entries` are already only those items.
pub fn render_feed_in(
    site: &Site,
    topic: Option<&Topic>,
    lang: Option<Lang>,
    entries: &[Entry],
    format: Format,
) -> String {
    let feed = FeedContext::new(site, topic, lang, format);
    match format {
        Format::Rss => stylesheet::declare(rss::render(&feed, entries)),
        Format::Atom => stylesheet::declare(atom::render(&feed, entries)),
        Format::Json => json::render(&feed, entries),
    }
}

/// The OPML list of every published feed.
pub fn render_opml(site: &Site) -> String {
    opml::render(site)
}

/// A page: the front page, a topic's, search results.
pub fn render_page(site: &Site, page: &Page<'_>) -> String {
    html::render(site, page)
}

/// The page for a path we do not publish, with links home.
pub fn render_not_found(site: &Site, lang: Lang) -> String {
    html::not_found(site, lang)
}

/// The same as [`render_not_found`] without markup, for clients that are not browsers.
pub fn not_found_text(site: &Site, lang: Lang) -> String {
    let words = lang.words();
    format!(
        "{}: {}\n{}: {}\n",
        words.not_found, words.not_found_text, words.home, site.base_url
    )
}

/// The path of a published feed relative to the base URL: `feeds/{slug}.{ext}`, where
/// `slug` is a topic id or [`ALL_SLUG`]. `export` writes the file at this path and the
/// server answers it.
pub fn feed_path(slug: &str, format: Format) -> String {
    format!("feeds/{slug}.{}", format.extension())
}

/// The slug of a topic's feed: its id, or [`ALL_SLUG`] for every topic.
pub fn feed_slug(topic: Option<&Topic>) -> &str {
    topic.map_or(ALL_SLUG, |t| t.id.as_str())
}

impl Site {
    /// The absolute URL of a feed: `{base}feeds/{slug}.{ext}`.
    pub fn feed_url(&self, topic: Option<&Topic>, format: Format) -> String {
        self.feed_url_in(topic, None, format)
    }

    /// The absolute URL of a feed, of one language's items when `lang` is given.
    pub fn feed_url_in(&self, topic: Option<&Topic>, lang: Option<Lang>, format: Format) -> String {
        self.page_url(&SitePath::Feed(FeedId {
            topic: topic.map(|t| t.id.clone()),
            lang,
            format,
        }))
    }

    /// The absolute URL of any published file.
    pub fn page_url(&self, path: &SitePath) -> String {
        self.absolute(&path.url_path())
    }

    /// The absolute URL of the OPML list.
    pub fn opml_url(&self) -> String {
        self.absolute(OPML_PATH)
    }

    /// The page a feed stands for: the front page, or the topic's page, in the
    /// feed's language when it has one.
    pub fn home_url(&self, topic: Option<&Topic>) -> String {
        self.home_url_in(topic, None)
    }

    pub fn home_url_in(&self, topic: Option<&Topic>, lang: Option<Lang>) -> String {
        let lang = lang.unwrap_or(Lang::En);
        self.page_url(&match topic {
            Some(t) => SitePath::Topic {
                topic: t.id.clone(),
                lang,
            },
            None => SitePath::Index(lang),
        })
    }

    /// The title of a feed: the site's, followed by the topic's for a topic feed.
    pub fn feed_title(&self, topic: Option<&Topic>) -> String {
        match topic {
            Some(t) => format!("{} — {}", self.title, t.title),
            None => self.title.clone(),
        }
    }

    /// The title of a feed of one language's items: the language named after it.
    pub fn feed_title_in(&self, topic: Option<&Topic>, lang: Option<Lang>) -> String {
        match lang {
            Some(lang) => format!("{} ({})", self.feed_title(topic), lang.native_name()),
            None => self.feed_title(topic),
        }
    }

    /// The description of a feed, never empty (RSS requires one).
    pub fn feed_description(&self, topic: Option<&Topic>) -> String {
        let described = topic.map_or(self.description.as_str(), |t| t.description.as_str());
        if !described.trim().is_empty() {
            described.to_string()
        } else if !self.description.trim().is_empty() {
            self.description.clone()
        } else {
            self.feed_title(topic)
        }
    }

    /// A topic's human title, or its id when the site no longer lists it (entries
    /// stored before a rule change may carry such ids).
    pub fn topic_label<'a>(&'a self, id: &'a str) -> &'a str {
        self.topics
            .iter()
            .find(|t| t.id == id)
            .map_or(id, |t| t.title.as_str())
    }

    /// Every published feed, the `all` feed first and then the topics in site order.
    pub fn feed_topics(&self) -> impl Iterator<Item = Option<&Topic>> {
        std::iter::once(None).chain(self.topics.iter().map(Some))
    }

    fn absolute(&self, path: &str) -> String {
        // `base_url` ends in `/`, so joining a relative path appends it.
        format!("{}{path}", self.base_url)
    }
}

/// The newest `updated`/`published` among the entries (`None` for an empty feed): the
/// feed's own date. Not the server's `Last-Modified`, which must also move when an
/// older-dated entry arrives late, a copy adds an "Also reported by" link or an entry
/// is removed; see `serve::Catalog`.
pub fn last_modified(entries: &[Entry]) -> Option<DateTime<Utc>> {
    entries.iter().map(Entry::last_changed).max()
}

impl Entry {
    /// When this entry last changed: `updated` if later than `published`.
    pub fn last_changed(&self) -> DateTime<Utc> {
        self.updated
            .map_or(self.published, |u| u.max(self.published))
    }

    /// The outlet's name for display, its source id when the feed gave no name.
    pub fn outlet(&self) -> &str {
        if self.source_name.trim().is_empty() {
            &self.source_id
        } else {
            &self.source_name
        }
    }

    /// The title for display; feeds may omit it, and an empty link text helps no one.
    pub fn display_title(&self) -> &str {
        if self.title.trim().is_empty() {
            UNTITLED
        } else {
            &self.title
        }
    }

    /// The entry's link when it is safe to follow: http or https only, so that a
    /// `javascript:` link from a hostile source never reaches a page or a reader.
    pub fn safe_link(&self) -> Option<&str> {
        self.link.as_deref().filter(|l| is_web_url(l))
    }

    /// The entry as HTML for a feed body: the sanitized content if the source had
    /// some, else the summary as a paragraph, then the "Also reported by" list.
    pub fn body_html(&self) -> String {
        let mut body = match &self.content_html {
            Some(html) if !html.trim().is_empty() => html.clone(),
            _ if self.summary.trim().is_empty() => String::new(),
            _ => format!("<p>{}</p>", html_escape::encode_text(&self.summary)),
        };
        body.push_str(&also_reported_html(&self.also_reported));
        body
    }
}

/// The "Also reported by" list appended to an entry's body, empty when no other
/// outlet carried the story.
fn also_reported_html(others: &[AlsoReported]) -> String {
    let items: Vec<String> = others
        .iter()
        .map(|other| {
            let title = html_escape::encode_text(&other.title);
            let outlet = html_escape::encode_text(&other.source_name);
            if is_web_url(&other.link) {
                let href = html_escape::encode_double_quoted_attribute(&other.link);
                format!("<li><a href=\"{href}\">{title}</a> ({outlet})</li>")
            } else {
                format!("<li>{title} ({outlet})</li>")
            }
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!("<p>Also reported by:</p><ul>{}</ul>", items.concat())
}

/// An author in RSS's e-mail form, `jane@example.org` or `jane@example.org (Jane Doe)`,
/// as (address, name). `None` for any other form: RSS's `author` may hold only this
/// one, and Atom splits it into `email` and `name`.
fn email_author(author: &str) -> Option<(&str, Option<&str>)> {
    let (address, name) = match author.split_once(' ') {
        Some((address, rest)) => {
            let name = rest.trim().strip_prefix('(')?.strip_suffix(')')?.trim();
            (address, (!name.is_empty()).then_some(name))
        }
        None => (author, None),
    };
    let (local, domain) = address.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.contains(['<', '>', '"', ',']);
    plausible.then_some((address, name))
}

/// Whether a link is an absolute http(s) URL.
fn is_web_url(link: &str) -> bool {
    Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// The language every entry shares, if they share one: a feed's `language` is only
/// stated when it is known for the whole feed.
fn common_language(entries: &[Entry]) -> Option<&str> {
    let first = entries.first()?.lang.as_deref()?;
    entries
        .iter()
        .all(|e| e.lang.as_deref() == Some(first))
        .then_some(first)
}

/// `text` without the characters XML 1.0 forbids (most C0 controls, surrogates are
/// impossible in `str`, U+FFFE/U+FFFF). Feeds in the wild carry them, and a single one
/// makes the whole document ill-formed.
fn xml_text(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_xml_char) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// What every format needs to know about the feed being rendered.
struct FeedContext<'a> {
    site: &'a Site,
    topic: Option<&'a Topic>,
    /// Set for a feed of one language's items.
    lang: Option<Lang>,
    /// The feed's own URL, for self links and ids.
    self_url: String,
}

impl<'a> FeedContext<'a> {
    fn new(site: &'a Site, topic: Option<&'a Topic>, lang: Option<Lang>, format: Format) -> Self {
        let self_url = site.feed_url_in(topic, lang, format);
        FeedContext {
            site,
            topic,
            lang,
            self_url,
        }
    }

    fn title(&self) -> String {
        self.site.feed_title_in(self.topic, self.lang)
    }

    /// The feed's language: its own for a one-language feed, else the one every
    /// entry shares, if any.
    fn language<'e>(&self, entries: &'e [Entry]) -> Option<&'e str>
    where
        'a: 'e,
    {
        match self.lang {
            Some(lang) => Some(lang.code()),
            None => common_language(entries),
        }
    }

    fn hub(&self) -> Option<String> {
        self.site.websub_hub.as_ref().map(Url::to_string)
    }

    fn description(&self) -> String {
        self.site.feed_description(self.topic)
    }

    fn home_url(&self) -> String {
        self.site.home_url_in(self.topic, self.lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_form_authors_are_split() {
        let cases = [
            ("jane@example.org", Some(("jane@example.org", None))),
            (
                "jane@example.org (Jane Doe)",
                Some(("jane@example.org", Some("Jane Doe"))),
            ),
            ("jane@example.org ()", Some(("jane@example.org", None))),
            ("Jane Doe", None),
            ("Jane Doe <jane@example.org>", None),
            ("<jane@example.org>", None),
            ("@handle", None),
            ("jane@localhost", None),
            ("jane@example.org Jane", None),
        ];
        for (author, expected) in cases {
            assert_eq!(email_author(author), expected, "{author}");
        }
    }

    #[test]
    fn xml_text_drops_forbidden_characters() {
        let cases = [
            ("plain", "plain"),
            ("tab\tnew\nline\r", "tab\tnew\nline\r"),
            ("nul\u{0}bell\u{7}", "nulbell"),
            ("\u{FFFE}Қазақ\u{FFFF}", "Қазақ"),
        ];
        for (input, expected) in cases {
            assert_eq!(xml_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn body_html_escapes_the_summary_and_lists_other_outlets() {
        let entry = Entry {
            summary: "A < B & C".into(),
            also_reported: vec![
                AlsoReported {
                    title: "<b>x</b>".into(),
                    link: "https://e.org/?a=1&b=2".into(),
                    source_name: "O & P".into(),
                },
                AlsoReported {
                    title: "y".into(),
                    link: "javascript:alert(1)".into(),
                    source_name: "Q".into(),
                },
            ],
            ..sample_entry()
        };
        assert_eq!(
            entry.body_html(),
            "<p>A &lt; B &amp; C</p><p>Also reported by:</p><ul>\
             <li><a href=\"https://e.org/?a=1&amp;b=2\">&lt;b&gt;x&lt;/b&gt;</a> (O &amp; P)</li>\
             <li>y (Q)</li></ul>"
        );
    }

    #[test]
    fn common_language_needs_every_entry_to_agree() {
        let with_lang = |lang: Option<&str>| Entry {
            lang: lang.map(String::from),
            ..sample_entry()
        };
        let cases: [(&[Option<&str>], Option<&str>); 4] = [
            (&[], None),
            (&[Some("fr"), Some("fr")], Some("fr")),
            (&[Some("fr"), Some("ru")], None),
            (&[Some("fr"), None], None),
        ];
        for (langs, expected) in cases {
            let entries: Vec<Entry> = langs.iter().map(|l| with_lang(*l)).collect();
            assert_eq!(common_language(&entries), expected, "{langs:?}");
        }
    }

    #[test]
    fn feed_urls_are_absolute_from_the_base() {
        let site = Site {
            base_url: Url::parse("https://ex.org/entente/").unwrap(),
            title: "T".into(),
            description: String::new(),
            topics: vec![Topic {
                id: "energy".into(),
                title: "E".into(),
                description: String::new(),
            }],
            ttl_minutes: 60,
            websub_hub: None,
        };
        let energy = site.topics.first();
        assert_eq!(
            site.feed_url(None, Format::Rss),
            "https://ex.org/entente/feeds/all.rss"
        );
        assert_eq!(
            site.feed_url(energy, Format::Json),
            "https://ex.org/entente/feeds/energy.json"
        );
        assert_eq!(site.opml_url(), "https://ex.org/entente/feeds.opml");
        assert_eq!(
            site.home_url(energy),
            "https://ex.org/entente/topics/energy"
        );
        assert_eq!(
            site.feed_url_in(energy, Some(Lang::Kk), Format::Atom),
            "https://ex.org/entente/feeds/energy.kk.atom"
        );
        // An empty description falls back so RSS always has one.
        assert_eq!(site.feed_description(energy), "T — E");
    }

    fn sample_entry() -> Entry {
        Entry {
            key: "k".into(),
            title: "t".into(),
            link: None,
            summary: String::new(),
            content_html: None,
            published: DateTime::UNIX_EPOCH,
            updated: None,
            authors: Vec::new(),
            topics: Vec::new(),
            lang: None,
            source_id: "s".into(),
            source_name: "S".into(),
            source_url: String::new(),
            also_reported: Vec::new(),
        }
    }
}
