//! The pages: the front page (one per interface language), a page per topic, search
//! results and the 404 page.
//!
//! Self-contained HTML5 documents: no JavaScript, no external assets, inline CSS that
//! reads on a 390 px phone and a wide screen, light and dark. Checks find the parts by
//! the markers of DESIGN.md: the topic navigation is the page's one `<nav>`, of links
//! to `topics/{id}`; the stories are inside `<main>`; each summary has class `summary`;
//! `<html lang>` is the interface language. Everything from a feed is escaped, and only
//! http(s) links become `href`s, so a hostile title or link shows as text.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use html_escape::encode_double_quoted_attribute as attr;
use html_escape::encode_text as text;

use super::i18n::{Lang, Words};
use super::{is_web_url, xml_text, Entry, Format, Site, SitePath};
use crate::classify::Topic;

/// What a page shows.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The interface language.
    pub lang: Lang,
    pub kind: PageKind<'a>,
    /// Newest first; the page puts those in its language first. Each story once.
    pub stories: Vec<Entry>,
    pub outlets: Vec<Outlet>,
    /// When the newest story shown was first seen.
    pub updated: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub enum PageKind<'a> {
    Front,
    Topic(&'a Topic),
    Search(SearchResults),
}

/// A search and where its results page is.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// As typed.
    pub query: String,
    /// From 1.
    pub page: usize,
    pub has_next: bool,
}

/// A source the site follows, as the pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlet {
    pub name: String,
    pub health: Health,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    Failing,
    Pending,
}

/// How long a summary on a page may be, in characters: a sentence or two.
const SUMMARY_CHARS: usize = 280;

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#555;--line:#ddd;--link:#0b57d0;\
--box:#eef3fd;--button:#0b57d0;--button-fg:#fff}\
@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#111;--muted:#b0b0b0;--line:#333;\
--link:#8ab4f8;--box:#1c2533;--button:#8ab4f8;--button-fg:#111}}\
*{box-sizing:border-box}\
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:var(--fg);background:var(--bg)}\
a{color:var(--link)}\
.wrap{max-width:72rem;margin:0 auto;padding:0 1rem}\
header{border-bottom:1px solid var(--line);padding:.75rem 0}\
.site{font-weight:700;font-size:1.1rem;margin:0}\
.langs{list-style:none;margin:.25rem 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}\
.langs [aria-current]{font-weight:700;text-decoration:none;color:var(--fg)}\
form{display:flex;gap:.5rem;margin:.5rem 0;flex-wrap:wrap}\
input[type=search]{flex:1 1 12rem;font:inherit;padding:.4rem .6rem;border:1px solid var(--muted);\
border-radius:.4rem;background:var(--bg);color:var(--fg)}\
button,.button{font:inherit;padding:.4rem .9rem;border-radius:.4rem;border:0;background:var(--button);\
color:var(--button-fg);text-decoration:none;display:inline-block;margin:.15rem .25rem .15rem 0}\
nav ul{list-style:none;margin:0;padding:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem .5rem}\
nav a{display:inline-block;padding:.3rem .7rem;border:1px solid var(--line);border-radius:1rem;\
text-decoration:none;white-space:nowrap}\
@media (max-width:40rem){nav ul{flex-wrap:nowrap;overflow-x:auto}}\
summary{cursor:pointer;color:var(--link);margin:.5rem 0}\
nav a[aria-current]{background:var(--box);font-weight:700}\
h1{font-size:1.6rem;margin:1rem 0 .25rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\
h3{font-size:1.05rem;margin:0}\
.stories{list-style:none;margin:0;padding:0}\
.story{padding:.75rem 0;border-top:1px solid var(--line)}\
.summary{margin:.25rem 0}\
.meta,.updated,.also{color:var(--muted);font-size:.875rem;margin:.25rem 0}\
.meta a,.also a{color:var(--link)}\
aside section{background:var(--box);border-radius:.5rem;padding:.5rem 1rem;margin:1rem 0}\
aside ul{padding-left:1.1rem}\
.feeds{margin:.5rem 0}.feeds strong{display:block}\
.pages{display:flex;gap:1rem;margin:1rem 0}\
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);\
white-space:nowrap}\
footer{border-top:1px solid var(--line);margin-top:2rem;padding:1rem 0;color:var(--muted);\
font-size:.875rem}\
@media (min-width:60rem){.columns{display:grid;grid-template-columns:minmax(0,1fr) 20rem;\
gap:2.5rem}}";

/// Renders a page.
pub(super) fn render(site: &Site, page: &Page<'_>) -> String {
    let words = page.lang.words();
    let mut out = String::with_capacity(16 * 1024);
    let title = match &page.kind {
        PageKind::Front => site.title.clone(),
        PageKind::Topic(topic) => format!("{} — {}", topic.title, site.title),
        PageKind::Search(search) => {
            format!("{} “{}” — {}", words.results_for, search.query, site.title)
        }
    };
    head(&mut out, site, page, &title);
    out.push_str("<body>\n");
    header(&mut out, site, page);
    topic_nav(&mut out, site, page);
    out.push_str("<div class=\"wrap columns\">\n<main id=\"stories\">\n");
    let heading = match &page.kind {
        PageKind::Front => site.title.clone(),
        PageKind::Topic(topic) => topic.title.clone(),
        PageKind::Search(search) => format!("{} “{}”", words.results_for, search.query),
    };
    let _ = writeln!(out, "<h1>{}</h1>", text(&xml_text(&heading)));
    match &page.kind {
        PageKind::Front if !site.description.trim().is_empty() => {
            let _ = writeln!(out, "<p>{}</p>", text(&site.description));
        }
        PageKind::Topic(topic) if !topic.description.trim().is_empty() => {
            let _ = writeln!(out, "<p>{}</p>", text(&topic.description));
        }
        _ => {}
    }
    if let Some(updated) = page.updated {
        let _ = writeln!(
            out,
            "<p class=\"updated\">{} <time datetime=\"{}\">{}</time></p>",
            words.updated,
            updated.to_rfc3339(),
            page.lang.date(updated)
        );
    }
    stories(&mut out, site, page);
    if let PageKind::Search(search) = &page.kind {
        search_pages(&mut out, site, page.lang, search);
    }
    out.push_str("</main>\n<aside>\n");
    subscribe(&mut out, site, page);
    outlets(&mut out, words, &page.outlets);
    out.push_str("</aside>\n</div>\n");
    footer(&mut out, site, page.lang);
    out.push_str("</body>\n</html>\n");
    out
}

/// The 404 page: what happened and the way home, in the interface language.
pub(super) fn not_found(site: &Site, lang: Lang) -> String {
    let words = lang.words();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <main class=\"wrap\">\n<h1>{}</h1>\n<p>{}</p>\n<p><a class=\"button\" href=\"{}\">{}</a></p>\n\
         </main>\n</body>\n</html>",
        lang.code(),
        words.not_found,
        text(&site.title),
        words.not_found,
        words.not_found_text,
        attr(&site.page_url(&SitePath::Index(lang))),
        words.home,
    );
    out
}

/// `<head>`: metadata, autodiscovery links for the page's feeds, the icon and the style.
fn head(out: &mut String, site: &Site, page: &Page<'_>, title: &str) {
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>",
        page.lang.code()
    );
    out.push_str("<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", text(&xml_text(title)));
    if !site.description.trim().is_empty() {
        let _ = writeln!(
            out,
            "<meta name=\"description\" content=\"{}\">",
            attr(&site.description)
        );
    }
    let topics: Vec<Option<&Topic>> = match &page.kind {
        PageKind::Topic(topic) => vec![Some(*topic)],
        _ => site.feed_topics().collect(),
    };
    for topic in topics {
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
    for lang in Lang::ALL {
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" hreflang=\"{}\" href=\"{}\">",
            lang.code(),
            attr(&site.page_url(&page_in(page, lang)))
        );
    }
    let _ = writeln!(
        out,
        "<link rel=\"icon\" href=\"{}\">",
        attr(&site.page_url(&SitePath::Favicon))
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>");
}

/// The same page in another interface language (search falls back to the front page,
/// which has a search form).
fn page_in(page: &Page<'_>, lang: Lang) -> SitePath {
    match &page.kind {
        PageKind::Topic(topic) => SitePath::Topic {
            topic: topic.id.clone(),
            lang,
        },
        _ => SitePath::Index(lang),
    }
}

/// The site's name, the language switch and the search form.
fn header(out: &mut String, site: &Site, page: &Page<'_>) {
    let words = page.lang.words();
    out.push_str("<header>\n<div class=\"wrap\">\n");
    let _ = writeln!(
        out,
        "<p class=\"site\"><a href=\"{}\">{}</a></p>",
        attr(&site.page_url(&SitePath::Index(page.lang))),
        text(&site.title)
    );
    let _ = writeln!(
        out,
        "<ul class=\"langs\" aria-label=\"{}\">",
        words.language
    );
    for lang in Lang::ALL {
        let current = if lang == page.lang {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<li><a href=\"{}\" hreflang=\"{code}\" lang=\"{code}\"{current}>{}</a></li>",
            attr(&site.page_url(&page_in(page, lang))),
            lang.native_name(),
            code = lang.code(),
        );
    }
    out.push_str("</ul>\n");
    let query = match &page.kind {
        PageKind::Search(search) => search.query.as_str(),
        _ => "",
    };
    let _ = writeln!(
        out,
        "<form role=\"search\" action=\"{}search\" method=\"get\">\n\
         <label for=\"q\" class=\"visually-hidden\">{}</label>\n\
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\" placeholder=\"{}\">\n\
         <input type=\"hidden\" name=\"lang\" value=\"{}\">\n\
         <button type=\"submit\">{}</button>\n</form>",
        attr(site.base_url.as_str()),
        words.search_label,
        attr(&xml_text(query)),
        words.search_label,
        page.lang.code(),
        words.search,
    );
    out.push_str("</div>\n</header>\n");
}

/// The topics as the page's one `<nav>`, at the top so a phone shows it first.
fn topic_nav(out: &mut String, site: &Site, page: &Page<'_>) {
    let words = page.lang.words();
    let _ = writeln!(
        out,
        "<nav aria-label=\"{}\" class=\"wrap\">\n<ul>",
        words.topics
    );
    for topic in &site.topics {
        let current = match &page.kind {
            PageKind::Topic(shown) if shown.id == topic.id => " aria-current=\"page\"",
            _ => "",
        };
        let _ = writeln!(
            out,
            "<li><a href=\"{}\"{current}>{}</a></li>",
            attr(&site.page_url(&SitePath::Topic {
                topic: topic.id.clone(),
                lang: page.lang,
            })),
            text(&topic.title)
        );
    }
    out.push_str("</ul>\n</nav>\n");
}

/// The stories, those in the page's language first under their own heading.
fn stories(out: &mut String, site: &Site, page: &Page<'_>) {
    let words = page.lang.words();
    if page.stories.is_empty() {
        let message = match page.kind {
            PageKind::Search(_) => words.no_results,
            _ => words.no_items,
        };
        let _ = writeln!(out, "<p>{message}</p>");
        return;
    }
    if matches!(page.kind, PageKind::Search(_)) {
        // Ranked: the order is the search's, not the language's.
        story_list(out, site, page.lang, page.stories.iter());
        return;
    }
    let in_lang = |e: &&Entry| e.lang.as_deref().is_some_and(|l| page.lang.matches(l));
    let own: Vec<&Entry> = page.stories.iter().filter(in_lang).collect();
    let others: Vec<&Entry> = page.stories.iter().filter(|e| !in_lang(e)).collect();
    if own.is_empty() || others.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", words.latest);
        story_list(out, site, page.lang, page.stories.iter());
        return;
    }
    let _ = writeln!(out, "<h2>{}</h2>", words.in_this_language);
    story_list(out, site, page.lang, own.into_iter());
    let _ = writeln!(out, "<h2>{}</h2>", words.other_languages);
    story_list(out, site, page.lang, others.into_iter());
}

fn story_list<'e>(
    out: &mut String,
    site: &Site,
    lang: Lang,
    entries: impl Iterator<Item = &'e Entry>,
) {
    out.push_str("<ol class=\"stories\">\n");
    for entry in entries {
        story(out, site, lang, entry);
    }
    out.push_str("</ol>\n");
}

/// One story: title (linked when the link is safe), summary, outlet, date, topics and
/// the other outlets that reported it.
fn story(out: &mut String, site: &Site, lang: Lang, entry: &Entry) {
    let words = lang.words();
    // Control characters from a feed are parse errors in HTML too.
    let title = text(&xml_text(entry.display_title())).into_owned();
    let item_lang = entry
        .lang
        .as_deref()
        .map(|l| format!(" lang=\"{}\"", attr(l)))
        .unwrap_or_default();
    let heading = match entry.safe_link() {
        Some(link) => format!("<a href=\"{}\"{item_lang}>{title}</a>", attr(link)),
        None => format!("<span{item_lang}>{title}</span>"),
    };
    let _ = writeln!(
        out,
        "<li class=\"story\" data-key=\"{}\">\n<h3>{heading}</h3>",
        attr(&entry.key)
    );
    // Feeds that carry only content still get a summary: its text, shortened.
    let summary = match &entry.content_html {
        Some(html) if entry.summary.trim().is_empty() => {
            short_summary(&crate::text::html_to_text(html))
        }
        _ => short_summary(&entry.summary),
    };
    if !summary.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"summary\"{item_lang}>{}</p>",
            text(&xml_text(&summary))
        );
    }
    let topics: Vec<String> = entry
        .topics
        .iter()
        .filter(|id| site.topics.iter().any(|t| &t.id == *id))
        .map(|id| {
            format!(
                "<a href=\"{}\">{}</a>",
                attr(&site.page_url(&SitePath::Topic {
                    topic: id.clone(),
                    lang,
                })),
                text(site.topic_label(id))
            )
        })
        .collect();
    let mut meta = format!(
        "{} · <time datetime=\"{}\">{}</time>",
        text(&xml_text(entry.outlet())),
        entry.published.to_rfc3339(),
        lang.date(entry.published)
    );
    if !topics.is_empty() {
        let _ = write!(meta, " · {}", topics.join(", "));
    }
    let _ = writeln!(out, "<p class=\"meta\">{meta}</p>");
    if !entry.also_reported.is_empty() {
        let others: Vec<String> = entry
            .also_reported
            .iter()
            .map(|other| {
                let outlet = text(&xml_text(&other.source_name)).into_owned();
                if is_web_url(&other.link) {
                    format!(
                        "<a href=\"{}\" title=\"{}\">{outlet}</a>",
                        attr(&other.link),
                        attr(&xml_text(&other.title))
                    )
                } else {
                    outlet
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"also\">{}: {}</p>",
            words.also_reported_by,
            others.join(", ")
        );
    }
    out.push_str("</li>\n");
}

/// The first sentence or two of a summary, at most [`SUMMARY_CHARS`] characters, cut
/// at a word with an ellipsis when a sentence runs longer.
fn short_summary(summary: &str) -> String {
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut end = 0;
    let mut sentences = 0;
    for (at, c) in summary.char_indices() {
        if summary[..at].chars().count() >= SUMMARY_CHARS {
            break;
        }
        if matches!(c, '.' | '!' | '?' | '…' | '。')
            && summary[at + c.len_utf8()..].starts_with(' ')
        {
            end = at + c.len_utf8();
            sentences += 1;
            if sentences == 2 {
                break;
            }
        }
    }
    if summary.chars().count() <= SUMMARY_CHARS && (sentences < 2 || end == summary.len()) {
        return summary;
    }
    if end > 0 {
        return summary[..end].to_string();
    }
    let cut: String = summary.chars().take(SUMMARY_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// Subscribe: what a feed is, this page's feeds in every format and language, OPML.
fn subscribe(out: &mut String, site: &Site, page: &Page<'_>) {
    let words = page.lang.words();
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"subscribe\">\n<h2 id=\"subscribe\">{}</h2>\n<p>{}</p>",
        words.subscribe, words.what_is_a_feed
    );
    let shown = match &page.kind {
        PageKind::Topic(topic) => Some(*topic),
        _ => None,
    };
    let label = shown.map_or(words.every_topic, |t| t.title.as_str());
    feed_buttons(out, site, shown, None, label);
    feed_buttons(out, site, shown, Some(page.lang), words.only_this_language);
    // The rest folded, so that the box stays short; no script needed to open it.
    let _ = writeln!(out, "<details>\n<summary>{}</summary>", words.more_feeds);
    for lang in Lang::ALL.into_iter().filter(|l| *l != page.lang) {
        feed_buttons(out, site, shown, Some(lang), lang.native_name());
    }
    if shown.is_none() {
        for topic in &site.topics {
            feed_buttons(out, site, Some(topic), None, &topic.title);
        }
    }
    out.push_str("</details>\n");
    let _ = writeln!(
        out,
        "<p><a href=\"{}\">{}</a> — {}</p>\n</section>",
        attr(&site.page_url(&SitePath::Opml)),
        words.opml,
        words.opml_hint
    );
}

/// One feed's links, one per format.
fn feed_buttons(
    out: &mut String,
    site: &Site,
    topic: Option<&Topic>,
    lang: Option<Lang>,
    label: &str,
) {
    let links: Vec<String> = Format::ALL
        .into_iter()
        .map(|format| {
            format!(
                "<a class=\"button\" href=\"{}\" type=\"{}\">{}</a>",
                attr(&site.feed_url_in(topic, lang, format)),
                format.media_type(),
                format_name(format)
            )
        })
        .collect();
    let slug = topic.map_or(super::ALL_SLUG, |t| t.id.as_str());
    let feed = match lang {
        Some(lang) => format!("{slug}.{}", lang.code()),
        None => slug.to_string(),
    };
    let _ = writeln!(
        out,
        "<p class=\"feeds\" data-feed=\"{}\"><strong>{}</strong>{}</p>",
        attr(&feed),
        text(label),
        links.concat()
    );
}

/// The outlets followed and whether each is being read.
fn outlets(out: &mut String, words: &Words, outlets: &[Outlet]) {
    if outlets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section aria-labelledby=\"outlets\">\n<h2 id=\"outlets\">{}</h2>\n<ul>",
        words.outlets
    );
    for outlet in outlets {
        let health = match outlet.health {
            Health::Ok => words.outlet_ok,
            Health::Failing => words.outlet_failing,
            Health::Pending => words.outlet_pending,
        };
        let _ = writeln!(
            out,
            "<li>{} <span class=\"meta\">({health})</span></li>",
            text(&xml_text(&outlet.name))
        );
    }
    out.push_str("</ul>\n</section>\n");
}

/// Previous and next links of search results.
fn search_pages(out: &mut String, site: &Site, lang: Lang, search: &SearchResults) {
    let words = lang.words();
    let link = |page: usize, label: &str| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &search.query)
            .append_pair("lang", lang.code())
            .append_pair("page", &page.to_string())
            .finish();
        format!(
            "<a href=\"{}search?{}\">{label}</a>",
            attr(site.base_url.as_str()),
            attr(&query)
        )
    };
    let mut links = Vec::new();
    if search.page > 1 {
        links.push(link(search.page - 1, words.previous));
    }
    if search.has_next {
        links.push(link(search.page + 1, words.next));
    }
    if !links.is_empty() {
        let _ = writeln!(out, "<p class=\"pages\">{}</p>", links.join(""));
    }
    let _ = writeln!(out, "<p class=\"meta\">{}</p>", words.search_hint);
}

fn footer(out: &mut String, site: &Site, lang: Lang) {
    let _ = writeln!(
        out,
        "<footer><div class=\"wrap\"><a href=\"{}\">{}</a> · <a href=\"{}\">OPML</a></div></footer>",
        attr(&site.page_url(&SitePath::Index(lang))),
        text(&site.title),
        attr(&site.page_url(&SitePath::Opml)),
    );
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Rss => "RSS",
        Format::Atom => "Atom",
        Format::Json => "JSON Feed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_a_sentence_or_two() {
        let cases = [
            ("", ""),
            ("One.", "One."),
            ("One. Two.", "One. Two."),
            ("One. Two. Three.", "One. Two."),
            ("  spaced\n  out  ", "spaced out"),
            ("v1.2 is out. Yes.", "v1.2 is out. Yes."),
        ];
        for (summary, expected) in cases {
            assert_eq!(short_summary(summary), expected, "{summary:?}");
        }
        let long = "word ".repeat(100);
        let short = short_summary(&long);
        assert!(short.ends_with('…') && short.chars().count() <= SUMMARY_CHARS + 1);
    }
}
