//! OPML 2.0 (<http://opml.org/spec2.opml>): the list of feeds, to import into a reader.
//!
//! One outline per topic (and one for `all`), each pointing at the RSS feed. A reader
//! that imports an OPML file subscribes to every outline in it, so listing the Atom and
//! JSON copies too would subscribe people to each story three times; the other formats
//! are one extension away and linked from the front page.
//!
//! The per-language feeds follow, one folder outline per language, for people who
//! read only one of them; a reader importing the whole file subscribes to those too,
//! so the pages link each language's folder and say so.

use std::fmt::Write as _;

use html_escape::encode_double_quoted_attribute as attr;
use html_escape::encode_text as text;

use super::{xml_text, Format, Lang, Site};

/// Renders the list. No `dateCreated`: the file changes only when the topics do.
pub(super) fn render(site: &Site) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<opml version=\"2.0\">\n  <head>\n");
    let _ = writeln!(out, "    <title>{}</title>", text(&xml_text(&site.title)));
    out.push_str("    <docs>http://opml.org/spec2.opml</docs>\n");
    out.push_str("  </head>\n  <body>\n");
    for topic in site.feed_topics() {
        outline(&mut out, site, topic, None, "    ");
    }
    for lang in Lang::ALL {
        let _ = writeln!(
            out,
            "    <outline text=\"{name}\" title=\"{name}\">",
            name = attr(lang.native_name())
        );
        for topic in site.feed_topics() {
            outline(&mut out, site, topic, Some(lang), "      ");
        }
        out.push_str("    </outline>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

fn outline(
    out: &mut String,
    site: &Site,
    topic: Option<&crate::classify::Topic>,
    lang: Option<Lang>,
    indent: &str,
) {
    let title = xml_text(&site.feed_title_in(topic, lang)).into_owned();
    let description = xml_text(&site.feed_description(topic)).into_owned();
    let language = lang.map_or(String::new(), |l| format!(" language=\"{}\"", l.code()));
    let _ = writeln!(
        out,
        "{indent}<outline type=\"rss\" version=\"RSS2\" text=\"{title}\" title=\"{title}\" \
         description=\"{description}\" xmlUrl=\"{xml_url}\" htmlUrl=\"{html_url}\"{language}/>",
        title = attr(&title),
        description = attr(&description),
        xml_url = attr(&site.feed_url_in(topic, lang, Format::Rss)),
        html_url = attr(&site.home_url_in(topic, lang)),
    );
}
