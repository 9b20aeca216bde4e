//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>), serialized from serde structs.
//!
//! Fields the spec leaves optional are left out when empty rather than written as
//! `null`. What JSON Feed has no field for (the outlet, the topic ids, the other
//! outlets' copies) goes in the `_entente` extension object, as the spec provides.

use serde::Serialize;

use super::{is_web_url, Entry, FeedContext};

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: &'a str,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    authors: Vec<Author>,
    /// WebSub hubs, as JSON Feed 1.1 names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    title: &'a str,
    /// JSON Feed requires `content_html` or `content_text`; we always have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(rename = "_entente")]
    extension: Extension<'a>,
}

#[derive(Serialize)]
struct Author {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// Our extension: where the item comes from and which topics it is in.
#[derive(Serialize)]
struct Extension<'a> {
    source: SourceRef<'a>,
    /// The story this item stands for: every outlet's copy is one cluster.
    cluster: Cluster<'a>,
    topics: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also_reported: Vec<OtherCopy<'a>>,
}

#[derive(Serialize)]
struct Cluster<'a> {
    /// The published item's id, which names the story.
    id: &'a str,
    /// How many outlets carried it, this one included.
    outlets: usize,
}

#[derive(Serialize)]
struct SourceRef<'a> {
    id: &'a str,
    name: &'a str,
    /// Left out for a source that is not on the web (a `file:` mirror).
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<&'a str>,
}

#[derive(Serialize)]
struct OtherCopy<'a> {
    title: &'a str,
    url: &'a str,
    source_name: &'a str,
}

/// Renders the feed as pretty-printed JSON.
pub(super) fn render(feed: &FeedContext<'_>, entries: &[Entry]) -> String {
    let document = JsonFeed {
        version: VERSION,
        title: feed.title(),
        home_page_url: feed.home_url(),
        feed_url: &feed.self_url,
        description: feed.description(),
        language: feed.language(entries),
        authors: vec![Author {
            name: feed.site.title.clone(),
            url: Some(feed.site.base_url.to_string()),
        }],
        hubs: feed
            .hub()
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .into_iter()
            .collect(),
        items: entries.iter().map(|e| item(feed, e)).collect(),
    };
    // Serializing plain structs of strings cannot fail.
    let mut out = serde_json::to_string_pretty(&document).expect("JSON Feed serializes");
    out.push('\n');
    out
}

fn item<'a>(feed: &FeedContext<'a>, entry: &'a Entry) -> Item<'a> {
    let body = entry.body_html();
    let content_text = (body.is_empty()).then_some(entry.summary.as_str());
    Item {
        id: &entry.key,
        url: entry.safe_link(),
        title: entry.display_title(),
        content_html: (!body.is_empty()).then_some(body),
        content_text,
        summary: &entry.summary,
        date_published: entry.published.to_rfc3339(),
        date_modified: entry.updated.map(|u| u.to_rfc3339()),
        authors: authors(entry),
        tags: entry
            .topics
            .iter()
            .map(|id| feed.site.topic_label(id))
            .collect(),
        language: entry.lang.as_deref(),
        extension: Extension {
            source: SourceRef {
                id: &entry.source_id,
                name: &entry.source_name,
                feed_url: is_web_url(&entry.source_url).then_some(entry.source_url.as_str()),
            },
            cluster: Cluster {
                id: &entry.key,
                outlets: 1 + entry.also_reported.len(),
            },
            topics: &entry.topics,
            also_reported: entry
                .also_reported
                .iter()
                .map(|o| OtherCopy {
                    title: &o.title,
                    url: &o.link,
                    source_name: &o.source_name,
                })
                .collect(),
        },
    }
}

/// The entry's authors, else the outlet, so readers always show who wrote it.
fn authors(entry: &Entry) -> Vec<Author> {
    let named: Vec<Author> = entry
        .authors
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(|a| Author {
            name: a.to_string(),
            url: None,
        })
        .collect();
    if !named.is_empty() {
        return named;
    }
    vec![Author {
        name: entry.outlet().to_string(),
        url: None,
    }]
}
