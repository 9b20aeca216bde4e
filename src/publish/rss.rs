//! RSS 2.0, written with the `rss` crate.
//!
//! Choices the RSS Advisory Board's profile and the W3C validator expect: one
//! `atom:link rel="self"`, RFC 822 dates, a `guid` that is our stable key and says
//! `isPermaLink="false"` unless the key is the link itself, `author` only in its
//! e-mail form (other names go to `dc:creator`), and `<source>` only with a web URL.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Item, Source};

use super::{email_author, is_web_url, GENERATOR_NAME, GENERATOR_VERSION};
use super::{last_modified, xml_text, Entry, FeedContext};

/// The RSS specification the `docs` element points to.
const RSS_DOCS: &str = "https://www.rssboard.org/rss-specification";

/// Renders the channel.
pub(super) fn render(feed: &FeedContext<'_>, entries: &[Entry]) -> String {
    // Indented, so that people reading the source (and diffs of golden files) can.
    let bytes = channel(feed, entries)
        .pretty_write_to(Vec::new(), b' ', 2)
        .expect("writing to a Vec cannot fail");
    let mut out = String::from_utf8(bytes).expect("the rss crate writes UTF-8");
    out.push('\n');
    out
}

fn channel(feed: &FeedContext<'_>, entries: &[Entry]) -> Channel {
    Channel {
        title: xml_text(&feed.title()).into_owned(),
        link: feed.home_url(),
        description: xml_text(&feed.description()).into_owned(),
        language: feed.language(entries).map(str::to_string),
        last_build_date: last_modified(entries).map(|d| d.to_rfc2822()),
        generator: Some(format!("{GENERATOR_NAME} {GENERATOR_VERSION}")),
        docs: Some(RSS_DOCS.to_string()),
        ttl: Some(feed.site.ttl_minutes.to_string()),
        atom_ext: Some(atom_links(feed)),
        items: entries.iter().map(|e| item(feed, e)).collect(),
        namespaces: BTreeMap::new(),
        ..Channel::default()
    }
}

/// The `atom:link rel="self"` that tells readers and validators where the feed lives,
/// and `rel="hub"` naming the WebSub hub when one is configured.
fn atom_links(feed: &FeedContext<'_>) -> AtomExtension {
    let mut links = vec![Link {
        href: feed.self_url.clone(),
        rel: "self".to_string(),
        mime_type: Some("application/rss+xml".to_string()),
        ..Link::default()
    }];
    if let Some(hub) = feed.hub() {
        links.push(Link {
            href: hub,
            rel: "hub".to_string(),
            ..Link::default()
        });
    }
    AtomExtension { links }
}

fn item(feed: &FeedContext<'_>, entry: &Entry) -> Item {
    let body = entry.body_html();
    let (email_author, creators) = split_authors(&entry.authors);
    Item {
        title: Some(xml_text(entry.display_title()).into_owned()),
        link: entry.safe_link().map(str::to_string),
        description: (!body.is_empty()).then(|| xml_text(&body).into_owned()),
        author: email_author,
        categories: entry
            .topics
            .iter()
            .map(|id| Category {
                name: xml_text(feed.site.topic_label(id)).into_owned(),
                domain: None,
            })
            .collect(),
        guid: Some(guid(entry)),
        pub_date: Some(entry.published.to_rfc2822()),
        source: source(entry),
        // RSS has no per-item language; Dublin Core's says each item's own.
        dublin_core_ext: (!creators.is_empty() || entry.lang.is_some()).then(|| {
            DublinCoreExtension {
                creators,
                languages: entry.lang.iter().cloned().collect(),
                ..DublinCoreExtension::default()
            }
        }),
        ..Item::default()
    }
}

/// Our stable key; a permalink only when the key is the entry's own link.
fn guid(entry: &Entry) -> Guid {
    Guid {
        permalink: entry.safe_link() == Some(entry.key.as_str()),
        value: xml_text(&entry.key).into_owned(),
    }
}

/// The outlet the entry comes from. Omitted when the source is not on the web (a
/// `file:` mirror), since `url` is required and must not leak a local path.
fn source(entry: &Entry) -> Option<Source> {
    is_web_url(&entry.source_url).then(|| Source {
        url: entry.source_url.clone(),
        title: Some(xml_text(entry.outlet()).into_owned()),
    })
}

/// Splits authors into the one RSS `author` may hold (the first in e-mail form,
/// `jane@example.org (Jane Doe)`) and the rest, for `dc:creator`.
fn split_authors(authors: &[String]) -> (Option<String>, Vec<String>) {
    let mut email = None;
    let mut creators = Vec::new();
    for author in authors.iter().map(|a| xml_text(a.trim()).into_owned()) {
        if author.is_empty() {
            continue;
        }
        if email.is_none() && email_author(&author).is_some() {
            email = Some(author);
        } else {
            creators.push(author);
        }
    }
    (email, creators)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_email_author_goes_to_author() {
        let authors = ["Jane Doe", "a@b.org", "c@d.org", " "].map(String::from);
        let (email, creators) = split_authors(&authors);
        assert_eq!(email.as_deref(), Some("a@b.org"));
        assert_eq!(creators, ["Jane Doe", "c@d.org"]);
    }
}
