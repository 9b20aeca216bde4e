//! Renders the published files: per-topic feeds (RSS 2.0, Atom 1.0, JSON Feed 1.1),
//! the OPML list and the HTML front page.
//!
//! Pure functions from the items chosen for publication to bytes: no IO. The server and
//! `export` both call them, so the files written are the bytes served.

use chrono::{DateTime, Utc};
use url::Url;

use crate::classify::Topic;

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

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// The feed for one topic, or for every topic (`topic` = `None`, published as `all`).
/// `entries` are newest first, already cut to the configured count.
pub fn render_feed(
    site: &Site,
    topic: Option<&Topic>,
    entries: &[Entry],
    format: Format,
) -> String {
    let _ = (site, topic, entries, format);
    String::new()
}

/// The OPML list of every published feed.
pub fn render_opml(site: &Site) -> String {
    let _ = site;
    String::new()
}

/// One topic's block on the front page.
#[derive(Debug, Clone)]
pub struct Section {
    pub topic: Topic,
    pub entries: Vec<Entry>,
}

/// The HTML front page.
pub fn render_index(site: &Site, sections: &[Section]) -> String {
    let _ = (site, sections);
    String::new()
}
