//! Parse and normalise: feed bytes (already UTF-8, see [`crate::fetch::decode`]) to
//! [`Item`]s with stable keys, plain-text titles and summaries, sanitized HTML content,
//! absolute links and dates.
//!
//! feed-rs does the parsing. Around it: documents it rejects or misreads (`<rss>` with
//! no version or a default namespace, RSS 0.9x) get a second chance with the `rss`
//! crate, a panic inside the parser becomes an error, and pages that are not feeds at
//! all are named as such.

use std::panic::{catch_unwind, AssertUnwindSafe};

use feed_rs::model::{Feed, Link, Text};
use url::Url;

use crate::item::{cap_chars, truncate_bytes, FieldCaps, Item, ItemHtml};
use crate::text::{clean_line, html_to_text, strip_unsafe_chars};

/// What a feed held, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub link: Option<String>,
    pub lang: Option<String>,
    pub items: Vec<Item>,
}

/// Why a body could not be read as a feed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("empty body")]
    Empty,
    #[error("not a feed: {what}; it begins {first_bytes:?}")]
    NotAFeed { what: String, first_bytes: String },
    #[error("invalid feed: {0}")]
    Invalid(String),
    #[error("the feed parser crashed on this document")]
    ParserPanicked,
}

/// What ingestion knows about the source of a body.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub source_id: &'a str,
    /// The language the operator says the source writes in.
    pub lang_hint: Option<&'a str>,
    /// The URL the body came from (after redirects), to resolve relative links.
    pub url: Option<&'a Url>,
    /// How much of the feed is kept.
    pub caps: FieldCaps,
}

/// Which reader parsed a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The streaming reader for plain RSS 2.0 and Atom 1.0 (`parse::fast`).
    Streaming,
    /// feed-rs, with its rescues (the `rss` crate, `recover`), or the JSON path.
    FeedRs,
}

/// Whether [`parse_feed_using`] may hand a document to the streaming reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderChoice {
    /// The streaming reader where it accepts the document, else feed-rs: what
    /// [`parse_feed`] does.
    Any,
    /// feed-rs alone: the reference the streaming reader is proven against.
    FeedRsOnly,
}

/// Parses a feed body into normalised items.
pub fn parse_feed(body: &[u8], origin: Origin<'_>) -> Result<ParsedFeed, ParseError> {
    parse_feed_using(body, origin, ReaderChoice::Any).0
}

/// [`parse_feed`], saying which reader read the document; `FeedRsOnly` keeps the
/// streaming reader out (the two must give the same result, byte for byte).
pub fn parse_feed_using(
    body: &[u8],
    origin: Origin<'_>,
    choice: ReaderChoice,
) -> (Result<ParsedFeed, ParseError>, Reader) {
    let mut reader = Reader::FeedRs;
    let parsed = parse_body(body, origin, choice, &mut reader);
    (parsed, reader)
}

fn parse_body(
    body: &[u8],
    origin: Origin<'_>,
    choice: ReaderChoice,
    reader: &mut Reader,
) -> Result<ParsedFeed, ParseError> {
    let body = trim_start(body);
    if body.is_empty() {
        return Err(ParseError::Empty);
    }
    if let Some(what) = not_a_feed(body) {
        return Err(ParseError::NotAFeed {
            what,
            first_bytes: first_bytes(body),
        });
    }
    if is_json(body) {
        return parse_json_feed(body, origin);
    }
    let body = keep_first_entries(body, origin.caps.max_items);
    let rss_repaired = repair_rss_root(&body);
    let mut repaired = repair_empty_media_text(&rss_repaired);
    if guarded(|| recover::is_atom_03(&repaired)).unwrap_or(false) {
        repaired = std::borrow::Cow::Owned(
            guarded(|| recover::rewrite(&repaired)).ok_or(ParseError::ParserPanicked)?,
        );
    }
    let doc_base = root_xml_base(&repaired).and_then(|b| resolve(&b, origin.url));
    // The streaming reader takes the plain RSS 2.0 and Atom 1.0 it reads exactly as
    // feed-rs does (see `fast`); everything else, untouched, goes on to feed-rs.
    if choice == ReaderChoice::Any {
        if let Some(feed) = guarded(|| fast::read(&repaired, origin.url)).flatten() {
            *reader = Reader::Streaming;
            return Ok(normalize_feed(feed, origin, doc_base));
        }
    }
    let feed = match parse_with_feed_rs(&repaired, origin.url) {
        Ok(feed) if !feed.entries.is_empty() || !looks_like_it_has_items(&body) => feed,
        first_attempt => {
            match parse_with_rss_crate(&repaired).or_else(|| recovered(&repaired, origin.url)) {
                Some(feed) => feed,
                None => first_attempt.map_err(|e| explain_xml_failure(e, &repaired))?,
            }
        }
    };
    Ok(normalize_feed(
        RawFeed::from_feed_rs(feed),
        origin,
        doc_base,
    ))
}

/// An XML document with more than `max` entries, cut where entry `max + 1` begins:
/// feed-rs builds every entry before we could drop the extra ones (500,000 tiny
/// items in a 13 MB body took 460 MB), and the cut document is read by
/// [`recover::rewrite`], which closes what the cut left open. One linear scan.
fn keep_first_entries(body: &[u8], max: usize) -> std::borrow::Cow<'_, [u8]> {
    if is_json(body) {
        return std::borrow::Cow::Borrowed(body);
    }
    let starts_entry = |at: usize| {
        [&b"<item"[..], b"<entry"].iter().any(|tag| {
            body[at..].starts_with(tag)
                && body
                    .get(at + tag.len())
                    .is_some_and(|b| *b == b'>' || b.is_ascii_whitespace())
        })
    };
    let mut seen = 0;
    for at in memchr::memchr_iter(b'<', body) {
        if starts_entry(at) {
            seen += 1;
            if seen > max {
                return std::borrow::Cow::Owned(body[..at].to_vec());
            }
        }
    }
    std::borrow::Cow::Borrowed(body)
}

fn is_json(body: &[u8]) -> bool {
    matches!(body.first(), Some(b'{' | b'['))
}

/// A JSON body: a JSON Feed (repaired where common producers stray from the spec), or
/// some other JSON, such as an API's error, named as not a feed.
fn parse_json_feed(body: &[u8], origin: Origin<'_>) -> Result<ParsedFeed, ParseError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .or_else(|first| {
            // One lone surrogate must not lose the feed: it becomes U+FFFD.
            serde_json::from_slice(&recover::repair_json_surrogates(body)).map_err(|_| first)
        })
        .map_err(|e| ParseError::Invalid(format!("invalid JSON: {e}")))?;
    if value.get("items").is_none() {
        return Err(ParseError::NotAFeed {
            what: "a JSON document that is not a JSON Feed".to_string(),
            first_bytes: first_bytes(body),
        });
    }
    let repaired = serde_json::to_vec(&repair_json_feed(value))
        .map_err(|e| ParseError::Invalid(format!("invalid JSON: {e}")))?;
    let feed = parse_with_feed_rs(&repaired, origin.url)?;
    Ok(normalize_feed(RawFeed::from_feed_rs(feed), origin, None))
}

/// feed-rs insists on `https://` in the version URL, which JSON Feed 1.0 producers often
/// wrote as `http://`, and on `tags` being a list, which some send as one string.
fn repair_json_feed(mut feed: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    if let Some(Value::String(version)) = feed.get_mut("version") {
        if let Some(rest) = version.strip_prefix("http://") {
            *version = format!("https://{rest}");
        }
    }
    if let Some(Value::Array(items)) = feed.get_mut("items") {
        for item in items {
            if let Some(tags) = item.get_mut("tags").filter(|t| t.is_string()) {
                *tags = Value::Array(vec![tags.take()]);
            }
        }
    }
    feed
}

/// feed-rs fails a whole feed on an empty `<media:description>` or `<media:title>`, as
/// YouTube sends them; they carry nothing, so they go. A body without them is not
/// copied (a search of the bytes; the body is UTF-8 already).
fn repair_empty_media_text(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const EMPTY: [&str; 4] = [
        "<media:description></media:description>",
        "<media:description/>",
        "<media:title></media:title>",
        "<media:title/>",
    ];
    // Each begins `<media:`, which most bodies lack: one search says so.
    if memchr::memmem::find(body, b"<media:").is_none()
        || !EMPTY
            .iter()
            .any(|empty| memchr::memmem::find(body, empty.as_bytes()).is_some())
    {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut text = String::from_utf8_lossy(body).into_owned();
    for empty in EMPTY {
        if text.contains(empty) {
            text = text.replace(empty, "");
        }
    }
    std::borrow::Cow::Owned(text.into_bytes())
}

/// feed-rs says "no root element" when it finds no feed at the top: say what is there
/// instead, and whether that is a feed without a channel or no feed at all.
fn explain_xml_failure(error: ParseError, body: &[u8]) -> ParseError {
    let ParseError::Invalid(message) = &error else {
        return error;
    };
    if !message.contains("no root element") {
        return error;
    }
    let tag = root_start_tag(body).unwrap_or_default();
    let Some(root) = tag.split_whitespace().next() else {
        return ParseError::NotAFeed {
            what: "an XML document with no element at all".to_string(),
            first_bytes: first_bytes(body),
        };
    };
    let local = root.rsplit(':').next().unwrap_or(root).to_ascii_lowercase();
    if matches!(local.as_str(), "rss" | "rdf" | "feed" | "channel") {
        ParseError::Invalid(format!(
            "the root element <{root}> holds no channel or entries that can be read"
        ))
    } else {
        ParseError::NotAFeed {
            what: format!("an XML document whose root element is <{root}>"),
            first_bytes: first_bytes(body),
        }
    }
}

/// The inside of the root element's start tag (`rss version="2.0"`), after the
/// declaration, comments, doctype and processing instructions.
fn root_start_tag(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(8192)]);
    let mut rest = text.as_ref();
    loop {
        let start = rest.find('<')?;
        rest = &rest[start..];
        if rest.starts_with("<!--") {
            rest = &rest[rest.find("-->")? + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
        } else {
            let tag = &rest[1..rest.find('>')?];
            return Some(tag.trim_end_matches('/').to_string());
        }
    }
}

/// The `xml:base` of the root element. feed-rs applies it to links but not to the HTML
/// inside entries, whose relative URLs need it too.
fn root_xml_base(body: &[u8]) -> Option<String> {
    let tag = root_start_tag(body)?;
    let at = tag.find("xml:base")?;
    let value = tag[at + "xml:base".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &value[1..];
    let end = value.find(quote)?;
    Some(
        html_escape::decode_html_entities(&value[..end])
            .trim()
            .to_string(),
    )
}

fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    &body[start..]
}

/// The first 80 characters, for an error message (cut on a character boundary).
fn first_bytes(body: &[u8]) -> String {
    let head = &body[..body.len().min(320)];
    String::from_utf8_lossy(head).chars().take(80).collect()
}

/// Recognises the usual things served in place of a feed.
fn not_a_feed(body: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Some("an HTML page".to_string());
    }
    if !head.starts_with('<') && !head.starts_with('{') && !head.starts_with('[') {
        return Some("neither XML nor JSON".to_string());
    }
    None
}

fn looks_like_it_has_items(body: &[u8]) -> bool {
    [&b"<item"[..], b"<entry", b":item"]
        .iter()
        .any(|tag| memchr::memmem::find(body, tag).is_some())
}

/// feed-rs rejects `<rss>` without a version and finds no entries under a default
/// namespace on `<rss>`; both are common in the wild and harmless to repair. Only the
/// start tag is read as text; a body that needs no repair is not copied.
fn repair_rss_root(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let unchanged = std::borrow::Cow::Borrowed(body);
    let Some(start) = memchr::memmem::find(body, b"<rss") else {
        return unchanged;
    };
    let Some(end) = memchr::memchr(b'>', &body[start..]).map(|i| start + i) else {
        return unchanged;
    };
    let tag = String::from_utf8_lossy(&body[start..end]);
    let mut repaired_tag = remove_default_namespace(&tag);
    if !repaired_tag.contains("version") {
        repaired_tag.push_str(" version=\"2.0\"");
    }
    if repaired_tag == tag {
        return unchanged;
    }
    let mut repaired = Vec::with_capacity(body.len() + 16);
    repaired.extend_from_slice(&body[..start]);
    repaired.extend_from_slice(repaired_tag.as_bytes());
    repaired.extend_from_slice(&body[end..]);
    std::borrow::Cow::Owned(repaired)
}

fn remove_default_namespace(tag: &str) -> String {
    let Some(at) = tag.find(" xmlns=") else {
        return tag.to_string();
    };
    let value = &tag[at + " xmlns=".len()..];
    // Only a quoted value is removed. Anything else (nothing, or a character of
    // several bytes, which the `feed` fuzz target found slicing here panicked on) is
    // left for the parser to judge.
    let Some(quote) = value.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
        return tag.to_string();
    };
    match value[1..].find(quote) {
        Some(len) => format!("{}{}", &tag[..at], &value[1 + len + 1..]),
        None => tag.to_string(),
    }
}

fn parse_with_feed_rs(body: &[u8], base: Option<&Url>) -> Result<Feed, ParseError> {
    // An empty id marks an entry that had none, so that we key it ourselves.
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base.map(Url::as_str))
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build();
    catch_unwind(AssertUnwindSafe(|| parser.parse(body)))
        .map_err(|_| ParseError::ParserPanicked)?
        .map_err(|err| ParseError::Invalid(err.to_string()))
}

/// `work`, or `None` if it panicked: quick-xml panics on some documents (an XML
/// declaration naming an encoding in mid-document, found by the `feed` fuzz target),
/// and a stranger's document must not take the process down.
fn guarded<T>(work: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(work)).ok()
}

/// The last resort: the document with its broken references repaired (never valid
/// XML, so nothing well-formed changes) and rewritten by [`recover::rewrite`]; taken only if
/// it yields entries.
fn recovered(body: &[u8], base: Option<&Url>) -> Option<Feed> {
    let rewritten = guarded(|| recover::rewrite(&recover::repair_references(body)))?;
    parse_with_feed_rs(&rewritten, base)
        .ok()
        .filter(|feed| !feed.entries.is_empty())
}

/// The `rss` crate reads RSS 0.9x and namespaced `<rss>` that feed-rs misses; its
/// channel is re-serialised as RSS 2.0 and read by feed-rs, so one normaliser serves.
fn parse_with_rss_crate(body: &[u8]) -> Option<Feed> {
    let channel = rss::Channel::read_from(body).ok()?;
    if channel.items().is_empty() {
        return None;
    }
    parse_with_feed_rs(channel.to_string().as_bytes(), None).ok()
}

/// What the normaliser reads of a parsed document, whichever reader parsed it:
/// feed-rs' model carries far more (media, iTunes, rights…) that entente never
/// stores, and the streaming reader ([`fast`]) fills only this.
#[derive(Debug, Clone, PartialEq, Default)]
struct RawFeed {
    title: Option<RawText>,
    links: Vec<RawLink>,
    language: Option<String>,
    entries: Vec<RawEntry>,
}

/// A text field as the feed wrote it, and whether it was declared HTML.
#[derive(Debug, Clone, PartialEq)]
struct RawText {
    content: String,
    html: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct RawLink {
    href: String,
    rel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct RawEntry {
    base: Option<String>,
    /// Empty when the entry had none.
    id: String,
    links: Vec<RawLink>,
    summary: Option<RawText>,
    content_body: Option<String>,
    title: Option<RawText>,
    published: Option<chrono::DateTime<chrono::Utc>>,
    updated: Option<chrono::DateTime<chrono::Utc>>,
    /// The authors' names, in order (authors without a name are not kept).
    authors: Vec<String>,
    /// Each category's label, else its term.
    categories: Vec<String>,
    language: Option<String>,
}

impl RawFeed {
    /// What the normaliser reads of feed-rs' model; the strings are moved, not copied.
    fn from_feed_rs(feed: Feed) -> RawFeed {
        RawFeed {
            title: feed.title.map(RawText::from_feed_rs),
            links: feed.links.into_iter().map(RawLink::from_feed_rs).collect(),
            language: feed.language,
            entries: feed
                .entries
                .into_iter()
                .map(|entry| RawEntry {
                    base: entry.base,
                    id: entry.id,
                    links: entry.links.into_iter().map(RawLink::from_feed_rs).collect(),
                    summary: entry.summary.map(RawText::from_feed_rs),
                    content_body: entry.content.and_then(|c| c.body),
                    title: entry.title.map(RawText::from_feed_rs),
                    published: entry.published,
                    updated: entry.updated,
                    authors: entry.authors.into_iter().filter_map(|p| p.name).collect(),
                    categories: entry
                        .categories
                        .into_iter()
                        .map(|c| c.label.unwrap_or(c.term))
                        .collect(),
                    language: entry.language,
                })
                .collect(),
        }
    }
}

impl RawText {
    fn from_feed_rs(text: Text) -> RawText {
        RawText {
            html: is_html(&text),
            content: text.content,
        }
    }
}

impl RawLink {
    fn from_feed_rs(link: Link) -> RawLink {
        RawLink {
            href: link.href,
            rel: link.rel,
        }
    }
}

/// `doc_base` is the root element's `xml:base`, made absolute. Relative URLs resolve
/// against it, else against the feed's own link, else against the response URL.
fn normalize_feed(feed: RawFeed, origin: Origin<'_>, doc_base: Option<String>) -> ParsedFeed {
    let feed_link = alternate_link(&feed.links);
    let base = doc_base
        .or_else(|| feed_link.as_deref().and_then(|l| resolve(l, origin.url)))
        .and_then(|l| Url::parse(&l).ok())
        .or_else(|| origin.url.cloned());
    let feed_lang = feed.language.as_deref().map(normalize_lang);
    let lang = origin.lang_hint.map(str::to_string).or(feed_lang);
    let caps = origin.caps;
    if feed.entries.len() > caps.max_items {
        tracing::warn!(
            source = origin.source_id,
            entries = feed.entries.len(),
            kept = caps.max_items,
            "feed holds more entries than max_items_per_fetch; the rest are ignored"
        );
    }
    let items = feed
        .entries
        .into_iter()
        .take(caps.max_items)
        .map(|entry| {
            normalize_entry(
                entry,
                origin.source_id,
                lang.as_deref(),
                base.as_ref(),
                &caps,
            )
        })
        .collect();
    ParsedFeed {
        title: feed
            .title
            .map(|t| cap_chars(text_of(&t), caps.max_title_chars)),
        link: feed_link.and_then(|l| resolve(&l, base.as_ref())),
        lang,
        items,
    }
}

fn normalize_entry(
    mut entry: RawEntry,
    source_id: &str,
    lang: Option<&str>,
    base: Option<&Url>,
    caps: &FieldCaps,
) -> Item {
    let entry_base = entry
        .base
        .as_deref()
        .and_then(|b| resolve(b, base))
        .and_then(|b| Url::parse(&b).ok());
    let base = entry_base.as_ref().or(base);
    // The id keys the item: only trimmed and cleaned, never decoded, so keys stay stable.
    let guid = Some(entry.id.trim())
        .filter(|id| !id.is_empty())
        .map(|id| strip_unsafe_chars(truncate_bytes(id, caps.max_short_chars * 4)).into_owned());
    let link = alternate_link(&entry.links).and_then(|l| resolve(&l, base));
    // Text extraction is linear, but a field is cut to a bounded size before it.
    let text_budget = |chars: usize| chars.saturating_mul(8).max(4096);
    let summary_budget = text_budget(caps.max_summary_chars);
    // The feed's HTML: the content, else a summary declared HTML; cut to its cap.
    let html_summary = entry.summary.as_ref().is_some_and(|s| s.html);
    let content_source = match entry.content_body.as_deref() {
        Some(body) => Some(body),
        None if html_summary => entry.summary.as_ref().map(|s| s.content.as_str()),
        None => None,
    }
    .map(|html| truncate_bytes(html, caps.max_content_bytes))
    .filter(|html| !html.trim().is_empty());
    let summary = entry
        .summary
        .as_ref()
        .map(|s| text_of_capped(s, summary_budget))
        .filter(|text| !text.is_empty())
        .or_else(|| {
            Some(html_to_text(truncate_bytes(
                content_source?,
                summary_budget,
            )))
        })
        .unwrap_or_default();
    let summary = cap_chars(summary, caps.max_summary_chars);
    // The HTML, kept as the feed sent it: only an item that will be published is worth
    // html5ever's tree (the pipeline sanitizes those, see `ItemHtml`). The entry is
    // ours, so its text is moved rather than copied.
    let content_html = content_source.is_some().then(|| {
        let mut html = match entry.content_body.take() {
            Some(body) => body,
            None => entry
                .summary
                .as_mut()
                .map(|s| std::mem::take(&mut s.content))
                .unwrap_or_default(),
        };
        html.truncate(truncate_bytes(&html, caps.max_content_bytes).len());
        // A cut text must not keep the whole of a huge one's allocation alive.
        html.shrink_to_fit();
        ItemHtml::raw(html, base)
    });
    let title = entry
        .title
        .as_ref()
        .map(|t| text_of_capped(t, text_budget(caps.max_title_chars)))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| {
            let words: Vec<&str> = summary.split_whitespace().take(12).collect();
            if words.is_empty() {
                "(untitled)".to_string()
            } else {
                format!("{}…", words.join(" "))
            }
        });
    // Capped last: a title made of the summary's first words is capped too.
    let title = cap_chars(title, caps.max_title_chars);
    let published = entry.published.or(entry.updated);
    let key = Item::key_for(
        source_id,
        guid.as_deref(),
        link.as_deref(),
        &title,
        published,
    );
    Item {
        key,
        source_id: source_id.to_string(),
        guid,
        link,
        title,
        summary,
        content_html,
        published,
        updated: entry.updated,
        authors: entry
            .authors
            .iter()
            .map(|name| short_text(name, caps))
            .filter(|n| !n.is_empty())
            .take(caps.max_list_len)
            .collect(),
        categories: entry
            .categories
            .iter()
            .map(|c| short_text(c, caps))
            .filter(|c| !c.is_empty())
            .take(caps.max_list_len)
            .collect(),
        lang: entry
            .language
            .as_deref()
            .map(normalize_lang)
            .or_else(|| lang.map(str::to_string)),
    }
}

fn is_html(text: &Text) -> bool {
    // The type as the feed wrote it (what `Display` prints), read without a copy.
    let mime: &str = text.content_type.as_ref();
    mime.contains("html")
}

/// Plain text of a title or summary, whatever its declared type: many feeds send
/// markup in "text" fields, so tags are always dropped.
fn text_of(text: &RawText) -> String {
    text_of_capped(text, usize::MAX)
}

/// [`text_of`] the first `max_bytes` of the text.
fn text_of_capped(text: &RawText, max_bytes: usize) -> String {
    let content = truncate_bytes(&text.content, max_bytes);
    if text.html || content.contains('<') || content.contains('&') {
        html_to_text(content)
    } else {
        clean_line(content)
    }
}

/// An author, a category or an id: one line of plain text (markup dropped, as in
/// titles, since readers may render these as HTML), capped.
fn short_text(text: &str, caps: &FieldCaps) -> String {
    let text = truncate_bytes(text, caps.max_short_chars.saturating_mul(4));
    let text = if text.contains(['<', '&']) {
        html_to_text(text)
    } else {
        clean_line(text)
    };
    cap_chars(text, caps.max_short_chars)
}

fn alternate_link(links: &[RawLink]) -> Option<String> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|href| !href.is_empty())
}

/// An absolute http(s) URL for `href`, resolved against `base` when relative.
fn resolve(href: &str, base: Option<&Url>) -> Option<String> {
    let url = match Url::parse(href) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href).ok()?,
        Err(_) => return None,
    };
    (matches!(url.scheme(), "http" | "https") && is_safe_url(&url)).then(|| url.to_string())
}

fn normalize_lang(lang: &str) -> String {
    lang.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

mod fast;
mod recover;

pub use crate::sanitize::{is_safe_url, sanitize_html};

#[cfg(test)]
mod tests;
