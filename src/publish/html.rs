//! The HTML front page: each topic, its latest entries and its subscribe links.
//!
//! One self-contained HTML5 document: no JavaScript, no external assets, a little
//! inline CSS that reads on a phone. Everything that comes from a feed is escaped with
//! `html_escape`, and only http(s) links become `href`s, so a hostile title or link
//! shows as text instead of running.

use std::fmt::Write as _;

use html_escape::encode_double_quoted_attribute as attr;
use html_escape::encode_text as text;

use super::{section_anchor, xml_text, Entry, Format, Section, Site, ALL_SLUG};

/// The language of the page's own words ("Subscribe", "No items yet"); entries carry
/// their own `lang`.
const PAGE_LANG: &str = "en";

const STYLE: &str = "\
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;\
color:#1d1d1f;background:#fff}\
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin:2rem 0 .25rem}\
a{color:#0b57d0}ol{padding-left:1.25rem}li{margin:.5rem 0}\
.meta{color:#555;font-size:.875rem}.subscribe{font-size:.875rem}\
section{border-top:1px solid #ddd}\
@media (prefers-color-scheme:dark){body{color:#eee;background:#111}a{color:#8ab4f8}\
.meta{color:#aaa}section{border-color:#333}}";

/// Renders the page.
pub(super) fn render(site: &Site, sections: &[Section]) -> String {
    let mut out = String::with_capacity(8 * 1024);
    head(&mut out, site);
    out.push_str("<body>\n<header>\n");
    let _ = writeln!(out, "<h1>{}</h1>", text(&site.title));
    if !site.description.trim().is_empty() {
        let _ = writeln!(out, "<p>{}</p>", text(&site.description));
    }
    subscribe_links(&mut out, site, None, "Every topic");
    let _ = writeln!(
        out,
        "<p class=\"subscribe\"><a href=\"{}\">OPML list of all feeds</a></p>",
        attr(&site.opml_url())
    );
    out.push_str("</header>\n<main>\n");
    for section in sections {
        topic_section(&mut out, site, section);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// `<head>`: metadata, autodiscovery links for every feed, and the style sheet.
fn head(out: &mut String, site: &Site) {
    let _ = writeln!(out, "<!DOCTYPE html>\n<html lang=\"{PAGE_LANG}\">\n<head>");
    out.push_str("<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", text(&site.title));
    if !site.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "<meta name=\"description\" content=\"{}\">",
            attr(&site.description)
        );
    }
    for topic in site.feed_topics() {
        for format in Format::ALL {
            let _ = writeln!(
                out,
                "<link rel=\"alternate\" type=\"{}\" title=\"{}\" href=\"{}\">",
                format.media_type(),
                attr(&format!(
                    "{} ({})",
                    site.feed_title(topic),
                    format_name(format)
                )),
                attr(&site.feed_url(topic, format)),
            );
        }
    }
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>");
}

/// One topic: heading, description, subscribe links and its latest entries.
fn topic_section(out: &mut String, site: &Site, section: &Section) {
    let topic = &section.topic;
    let _ = writeln!(out, "<section id=\"{}\">", attr(&section_anchor(&topic.id)));
    let _ = writeln!(out, "<h2>{}</h2>", text(&topic.title));
    if !topic.description.trim().is_empty() {
        let _ = writeln!(out, "<p>{}</p>", text(&topic.description));
    }
    subscribe_links(out, site, Some(topic), "Subscribe");
    if section.entries.is_empty() {
        out.push_str("<p class=\"meta\">No items yet.</p>\n");
    } else {
        out.push_str("<ol>\n");
        for entry in &section.entries {
            entry_item(out, site, entry);
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

/// The line of RSS / Atom / JSON Feed links for one feed.
fn subscribe_links(
    out: &mut String,
    site: &Site,
    topic: Option<&crate::classify::Topic>,
    label: &str,
) {
    let links: Vec<String> = Format::ALL
        .into_iter()
        .map(|format| {
            format!(
                "<a href=\"{}\" type=\"{}\">{}</a>",
                attr(&site.feed_url(topic, format)),
                format.media_type(),
                format_name(format)
            )
        })
        .collect();
    let slug = topic.map_or(ALL_SLUG, |t| t.id.as_str());
    let _ = writeln!(
        out,
        "<p class=\"subscribe\" data-feed=\"{}\">{}: {}</p>",
        attr(slug),
        text(label),
        links.join(" · ")
    );
}

/// One entry: its title (linked when the link is safe), outlet, date and topics.
fn entry_item(out: &mut String, site: &Site, entry: &Entry) {
    // Control characters from a feed are parse errors in HTML too.
    let title = text(&xml_text(entry.display_title())).into_owned();
    let lang = entry
        .lang
        .as_deref()
        .map(|l| format!(" lang=\"{}\"", attr(l)))
        .unwrap_or_default();
    let heading = match entry.safe_link() {
        Some(link) => format!("<a href=\"{}\"{lang}>{title}</a>", attr(link)),
        None => format!("<span{lang}>{title}</span>"),
    };
    let topics: Vec<String> = entry
        .topics
        .iter()
        .map(|id| {
            format!(
                "<a href=\"#{}\">{}</a>",
                attr(&section_anchor(id)),
                text(site.topic_label(id))
            )
        })
        .collect();
    let mut meta = format!(
        "{} · <time datetime=\"{}\">{}</time>",
        text(&xml_text(entry.outlet())),
        entry.published.to_rfc3339(),
        entry.published.format("%-d %b %Y")
    );
    if !topics.is_empty() {
        let _ = write!(meta, " · {}", topics.join(", "));
    }
    if !entry.also_reported.is_empty() {
        let _ = write!(
            meta,
            " · also in {} other outlet{}",
            entry.also_reported.len(),
            if entry.also_reported.len() == 1 {
                ""
            } else {
                "s"
            }
        );
    }
    let _ = writeln!(
        out,
        "<li>{heading}<br><span class=\"meta\">{meta}</span></li>"
    );
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Rss => "RSS",
        Format::Atom => "Atom",
        Format::Json => "JSON Feed",
    }
}
