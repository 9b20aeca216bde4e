//! A streaming reader for plain RSS 2.0 and Atom 1.0: quick-xml's events straight
//! into the [`RawFeed`] the normaliser reads, without feed-rs' element tree, its
//! event strings and its three copies of every body.
//!
//! The rule is that a document this reader accepts gives exactly what feed-rs gives
//! (`tests/it/fast_reader.rs` and the fuzz target check it field by field): it reads
//! what feed-rs reads the way feed-rs reads it (the same quick-xml configuration,
//! text coalesced the same way, the last of a repeated element winning, links
//! resolved against the response URL), and it says [`None`] — feed-rs' turn — for
//! whatever it is not sure of: RSS 0.9x/1.0, a lone Atom entry, `xml:base`,
//! markup nested in a text field, XHTML or out-of-line Atom content, the iTunes,
//! Media RSS and Podcast namespaces (feed-rs maps them to fields), an encoding
//! other than UTF-8 declared, a malformed attribute where one is read, any XML
//! error, and a document with no entries (feed-rs' rescues decide those). Dates
//! and RSS authors of unusual forms are read by feed-rs itself, one field at a time.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use url::Url;

use super::{RawEntry, RawFeed, RawLink, RawText};

/// The document read, or `None` when feed-rs must read it.
pub(super) fn read(body: &[u8], base: Option<&Url>) -> Option<RawFeed> {
    read_with(body, base, true)
}

/// [`read`], with or without [`Cursor::escaped_text`].
fn read_with(body: &[u8], base: Option<&Url>, read_escaped_text: bool) -> Option<RawFeed> {
    // feed-rs applies xml:base while reading; those documents stay with it.
    if memchr::memmem::find(body, b"xml:base").is_some() {
        return None;
    }
    // quick-xml checks the UTF-8 of every event it returns; invalid bytes are an
    // error, so feed-rs' turn.
    let mut cursor = Cursor::new(body);
    cursor.read_escaped_text = read_escaped_text;
    let root = cursor.root()?;
    let feed = match root.local() {
        "rss" => {
            let version = root.attr("version")?;
            if version
                .as_deref()
                .is_some_and(|v| v != "2.0" && !v.is_empty())
            {
                return None;
            }
            // feed-rs also reads `<rss>` without a version as RSS 0.9x; parse_feed
            // adds `version="2.0"` before either reader sees it.
            version.as_ref()?;
            cursor.default_ns = Ns::Rss;
            read_rss(&mut cursor, base)?
        }
        "feed" => {
            cursor.default_ns = Ns::Atom;
            read_atom(&mut cursor, &root, base)?
        }
        _ => return None,
    };
    (!feed.entries.is_empty()).then_some(feed)
}

/// The namespaces feed-rs tells apart (its `xml::NS`); every other one is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ns {
    Atom,
    Rss,
    Unknown,
    Content,
    DublinCore,
    MediaRss,
    Itunes,
    Podcast,
    WellFormedWeb,
}

impl Ns {
    fn of(uri: &str) -> Ns {
        match uri {
            "http://purl.org/rss/1.0/" => Ns::Rss,
            "http://www.w3.org/2005/Atom" => Ns::Atom,
            "http://purl.org/rss/1.0/modules/content/" => Ns::Content,
            "http://purl.org/dc/elements/1.1/" => Ns::DublinCore,
            "http://search.yahoo.com/mrss/" => Ns::MediaRss,
            "http://www.itunes.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
            "https://podcastindex.org/namespace/1.0" => Ns::Podcast,
            "http://wellformedweb.org/CommentAPI/" => Ns::WellFormedWeb,
            _ => Ns::Unknown,
        }
    }

    /// Namespaces whose elements feed-rs turns into entry fields of its own.
    fn is_mapped_extension(self) -> bool {
        matches!(self, Ns::MediaRss | Ns::Itunes | Ns::Podcast)
    }
}

/// A start tag: its namespace (`None`: the document's default, as feed-rs applies
/// it), its local name and the tag, for its attributes.
struct Element<'a> {
    ns: Option<Ns>,
    tag: BytesStart<'a>,
}

impl Element<'_> {
    /// The name after the last `:`, as feed-rs reads element names.
    fn local(&self) -> &str {
        let name: &str = self.tag.name().into_inner();
        name.rsplit(':').next().unwrap_or_default()
    }

    fn ns(&self, default: Ns) -> Ns {
        self.ns.unwrap_or(default)
    }

    /// The first attribute named `name`, unescaped as feed-rs does (the raw value
    /// when it does not unescape); `None` when an attribute is malformed, since
    /// feed-rs would then see a different list.
    fn attr(&self, name: &str) -> Option<Option<String>> {
        let mut found = None;
        for attribute in self.tag.attributes() {
            let attribute = attribute.ok()?;
            if found.is_none() && attribute.key.as_ref() == name {
                let value = quick_xml::escape::unescape(&attribute.value)
                    .map(Cow::into_owned)
                    .unwrap_or_else(|_| attribute.value.to_string());
                found = Some(value);
            }
        }
        Some(found)
    }
}

/// What comes next at the current level.
enum Next<'a> {
    Start(Element<'a>),
    End,
    /// Text, CDATA and references coalesced up to the next tag, as feed-rs does.
    Text(Cow<'a, str>),
}

struct Cursor<'a> {
    reader: NsReader<&'a [u8]>,
    /// The document the reader reads, to see where a start tag ended.
    body: &'a [u8],
    /// A tag read while coalescing the text before it.
    pending: Option<Next<'a>>,
    default_ns: Ns,
    /// Whether [`Cursor::text`] may read a text-only element's text itself
    /// ([`Cursor::escaped_text`]); off only in the test that compares both ways.
    read_escaped_text: bool,
}

impl<'a> Cursor<'a> {
    fn new(body: &'a [u8]) -> Self {
        let mut reader = NsReader::from_reader(body);
        // feed-rs' configuration: the same events, the same errors.
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.trim_markup_names_in_closing_tags = true;
        config.trim_text(false);
        Cursor {
            reader,
            body,
            pending: None,
            default_ns: Ns::Unknown,
            read_escaped_text: true,
        }
    }

    /// What the reader has not read yet.
    fn rest(&self) -> &'a [u8] {
        self.reader.get_ref()
    }

    /// The next event; `None` at the end of the document or on any error.
    fn next(&mut self) -> Option<Next<'a>> {
        if let Some(next) = self.pending.take() {
            return Some(next);
        }
        let mut text: Option<Cow<'a, str>> = None;
        loop {
            let (resolved, event) = self.reader.read_resolved_event().ok()?;
            let ns = match resolved {
                ResolveResult::Bound(uri) => Some(Ns::of(uri.as_ref())),
                ResolveResult::Unbound | ResolveResult::Unknown(_) => None,
            };
            let tag = match event {
                Event::Decl(decl) => {
                    // The body is UTF-8 already; a declaration naming another
                    // encoding makes feed-rs decode it again, its business.
                    if let Some(label) = decl.encoding() {
                        let label = label.ok()?;
                        let encoding = encoding_rs::Encoding::for_label(label.as_bytes());
                        if encoding.is_some_and(|e| e != encoding_rs::UTF_8) {
                            return None;
                        }
                    }
                    continue;
                }
                Event::Start(start) => Next::Start(Element { ns, tag: start }),
                Event::End(_) => Next::End,
                Event::Text(piece) => {
                    append(&mut text, piece.into_inner(), || self.text_ahead());
                    continue;
                }
                Event::CData(piece) => {
                    append(&mut text, piece.into_inner(), || self.text_ahead());
                    continue;
                }
                Event::GeneralRef(reference) => {
                    let resolved = resolve(&reference)?;
                    // A reference makes text even where it resolves to nothing.
                    text.get_or_insert(Cow::Borrowed(""));
                    append(&mut text, resolved, || self.text_ahead());
                    continue;
                }
                Event::Eof => return text.map(Next::Text),
                _ => continue,
            };
            return match text {
                Some(text) => {
                    self.pending = Some(tag);
                    Some(Next::Text(text))
                }
                None => Some(tag),
            };
        }
    }

    /// How many bytes of the document are left before the next `<`: at most what
    /// the text being coalesced still gets from its pieces before the next tag (a
    /// reference resolves to fewer bytes than it is written with, or to as many where
    /// it stays as written), so the text is allocated once rather than grown by
    /// doubling through the dozens of pieces of an escaped HTML description. A CDATA
    /// section after it (it begins with `<`) grows it as before.
    fn text_ahead(&self) -> usize {
        let rest = self.rest();
        memchr::memchr(b'<', rest).unwrap_or(rest.len())
    }

    /// The text of the element whose start tag was just read, when it is escaped text
    /// up to the element's end tag (`&lt;p&gt;…&lt;/p&gt;`, an HTML description), read
    /// in one pass; the reader then goes on at the end tag. `None`, with nothing read,
    /// for anything else: the events then read it ([`Cursor::next`]).
    ///
    /// Why: quick-xml makes an event of every reference and of every piece of text
    /// between two, each checked as UTF-8 on its own and resolved through the
    /// namespace reader; an escaped description is about a hundred of them, and they
    /// were a fifth of the parse threads' instructions on the bench farm (BENCHMARKS.md,
    /// branch parse7). The text is the same: the pieces are cut at `&` and `;`, so the
    /// whole is UTF-8 exactly when each piece is, and each reference is resolved by
    /// [`resolve`], as the events' are. What the events would refuse (a `&` without
    /// its `;` before the next `&` or `<`, a bad character reference) is left to them,
    /// as is text followed by anything but an end tag (CDATA, a child element).
    fn escaped_text(&mut self) -> Option<String> {
        let rest = self.rest();
        let at = self.body.len().checked_sub(rest.len())?;
        // Just after a start tag's `>`, not an empty element's `/>`: after that the
        // reader's next event is the end it makes up, not text.
        if at < 2 || self.body[at - 1] != b'>' || self.body[at - 2] == b'/' {
            return None;
        }
        let lt = memchr::memchr(b'<', rest)?;
        if rest.get(lt + 1) != Some(&b'/') {
            return None;
        }
        let raw = &rest[..lt];
        // Text without a reference is one event already.
        memchr::memchr(b'&', raw)?;
        let raw = std::str::from_utf8(raw).ok()?;
        let mut text = String::with_capacity(raw.len());
        let mut from = 0;
        while let Some(amp) = memchr::memchr(b'&', &raw.as_bytes()[from..]) {
            let amp = from + amp;
            text.push_str(&raw[from..amp]);
            let name_from = amp + 1;
            // A reference's name is a few bytes: a loop, not memchr's set-up.
            let length = raw.as_bytes()[name_from..]
                .iter()
                .position(|&b| b == b';' || b == b'&')?;
            if raw.as_bytes()[name_from + length] != b';' {
                return None;
            }
            let reference = quick_xml::events::BytesRef::new(&raw[name_from..name_from + length]);
            text.push_str(&resolve(&reference)?);
            from = name_from + length + 1;
        }
        text.push_str(&raw[from..]);
        *self.reader.get_mut() = &rest[lt..];
        Some(text)
    }

    /// The document's first element.
    fn root(&mut self) -> Option<Element<'a>> {
        loop {
            match self.next()? {
                Next::Start(element) => return Some(element),
                Next::End => return None,
                Next::Text(_) => {}
            }
        }
    }

    /// Consumes the rest of the current element, whatever it holds.
    fn skip(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Next::Start(_) => depth += 1,
                Next::End if depth == 0 => return Some(()),
                Next::End => depth -= 1,
                Next::Text(_) => {}
            }
        }
    }

    /// The text of an element that holds only text (`Some(None)` when it holds
    /// none); `None` when it holds an element, where feed-rs keeps only the text
    /// before it.
    fn text(&mut self) -> Option<Option<String>> {
        if self.read_escaped_text && self.pending.is_none() {
            if let Some(text) = self.escaped_text() {
                return match self.next()? {
                    Next::End => Some(Some(text)),
                    _ => None,
                };
            }
        }
        match self.next()? {
            Next::End => Some(None),
            Next::Start(_) => None,
            Next::Text(text) => match self.next()? {
                Next::End => Some(Some(text.into_owned())),
                _ => None,
            },
        }
    }

    /// The next child of the current element, `Some(None)` at its end.
    fn child(&mut self) -> Option<Option<Element<'a>>> {
        loop {
            match self.next()? {
                Next::Start(element) => return Some(Some(element)),
                Next::End => return Some(None),
                Next::Text(_) => {}
            }
        }
    }
}

/// What a reference stands for, as feed-rs reads it: a character, a predefined entity,
/// else the reference as written; `None` for a bad character reference (an error).
fn resolve<'a>(reference: &quick_xml::events::BytesRef<'_>) -> Option<Cow<'a, str>> {
    Some(match reference.resolve_char_ref().ok()? {
        Some(ch) => Cow::Owned(ch.to_string()),
        None => match quick_xml::escape::resolve_predefined_entity(reference) {
            Some(entity) => Cow::Borrowed(entity),
            // Unknown entities stay as written, as in feed-rs.
            None => Cow::Owned(format!("&{};", &**reference)),
        },
    })
}

/// Adds `piece` to the text coalesced so far; when the text becomes a copy, room is
/// made at once for the `ahead()` bytes of the document left before the next tag
/// ([`Cursor::text_ahead`]: asked once a text, since it scans to that tag).
fn append<'a>(text: &mut Option<Cow<'a, str>>, piece: Cow<'a, str>, ahead: impl FnOnce() -> usize) {
    // feed-rs skips empty pieces (an empty reference still makes the text exist).
    if piece.is_empty() {
        return;
    }
    match text {
        None => *text = Some(piece),
        Some(existing) if existing.is_empty() => *existing = piece,
        Some(existing) => {
            if let Cow::Borrowed(first) = existing {
                let mut owned = String::with_capacity(first.len() + piece.len() + ahead());
                owned.push_str(first);
                *existing = Cow::Owned(owned);
            }
            existing.to_mut().push_str(&piece);
        }
    }
}

/// Link::new in feed-rs: the href resolved against the base when it is relative,
/// else as written; then trimmed.
fn link(href: &str, base: Option<&Url>) -> String {
    let resolved = match Url::parse(href) {
        Ok(url) => Some(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => base.and_then(|b| b.join(href).ok()),
        Err(_) => None,
    };
    match resolved {
        Some(url) => url.as_str().trim().to_string(),
        None => href.trim().to_string(),
    }
}

/// Whom an RSS link is to: feed-rs drops a comments link to a page already linked.
#[derive(Clone, Copy, PartialEq)]
enum LinkTarget {
    Page,
    Comments,
    CommentsFeed,
}

fn read_rss(cursor: &mut Cursor<'_>, base: Option<&Url>) -> Option<RawFeed> {
    // The first child named channel, in any namespace; what follows it is not read.
    loop {
        let element = cursor.child()??;
        if element.local() == "channel" {
            break;
        }
        cursor.skip()?;
    }
    let mut feed = RawFeed::default();
    let default = cursor.default_ns;
    while let Some(element) = cursor.child()? {
        match (element.ns(default), element.local()) {
            (Ns::Rss, "title") => feed.title = cursor.text()?.map(plain),
            (Ns::Rss, "link") => {
                if let Some(href) = cursor.text()? {
                    feed.links.push(RawLink {
                        href: link(&href, base),
                        rel: None,
                    });
                }
            }
            (Ns::Atom, "link") => {
                feed.links.extend(atom_link(&element, base)?);
                cursor.skip()?;
            }
            (Ns::Rss, "language") => feed.language = cursor.text()?.map(|l| l.to_lowercase()),
            (Ns::Rss, "item") => feed.entries.push(read_rss_item(cursor, base)?),
            (ns, _) if ns.is_mapped_extension() => return None,
            _ => cursor.skip()?,
        }
    }
    Some(feed)
}

fn read_rss_item(cursor: &mut Cursor<'_>, base: Option<&Url>) -> Option<RawEntry> {
    let mut entry = RawEntry::default();
    let mut links: Vec<(RawLink, LinkTarget)> = Vec::new();
    let default = cursor.default_ns;
    while let Some(element) = cursor.child()? {
        let mut push_link = |cursor: &mut Cursor<'_>, target| -> Option<()> {
            if let Some(href) = cursor.text()? {
                let href = link(&href, base);
                links.push((RawLink { href, rel: None }, target));
            }
            Some(())
        };
        match (element.ns(default), element.local()) {
            (Ns::Rss, "title") => entry.title = cursor.text()?.map(plain),
            (Ns::Rss, "link") => push_link(cursor, LinkTarget::Page)?,
            (Ns::Rss, "description") => entry.summary = cursor.text()?.map(html),
            (Ns::Rss, "author") | (Ns::DublinCore, "creator") => {
                if let Some(text) = cursor.text()? {
                    if let Some(name) = person_name(&text)? {
                        entry.authors.push(name);
                    }
                }
            }
            (Ns::Rss, "category") => {
                if let Some(text) = cursor.text()? {
                    entry.categories.push(text.trim().to_string());
                }
            }
            (Ns::Rss, "guid") => {
                if let Some(text) = cursor.text()? {
                    entry.id = text.trim().to_string();
                }
            }
            (Ns::Rss, "pubDate") | (Ns::DublinCore, "date") => {
                entry.published = match cursor.text()? {
                    Some(text) => timestamp(&text)?,
                    None => None,
                }
            }
            (Ns::Rss, "updated") | (Ns::Atom, "updated") => {
                entry.updated = match cursor.text()? {
                    Some(text) => timestamp(&text)?,
                    None => None,
                }
            }
            (Ns::Content, "encoded") => {
                entry.content_body = cursor.text()?.filter(|body| !body.is_empty());
            }
            (Ns::WellFormedWeb, "commentRss" | "commentRSS") => {
                push_link(cursor, LinkTarget::CommentsFeed)?
            }
            (Ns::Rss, "comments") => push_link(cursor, LinkTarget::Comments)?,
            (ns, _) if ns.is_mapped_extension() => return None,
            _ => cursor.skip()?,
        }
    }
    if entry.updated.is_none() {
        entry.updated = entry.published;
    }
    // A comments link to a page the entry already links is dropped, as feed-rs does.
    let pages: Vec<String> = links
        .iter()
        .filter(|(_, target)| *target != LinkTarget::Comments)
        .map(|(link, _)| link.href.clone())
        .collect();
    entry.links = links
        .into_iter()
        .filter(|(link, target)| *target != LinkTarget::Comments || !pages.contains(&link.href))
        .map(|(link, _)| link)
        .collect();
    Some(entry)
}

fn read_atom(cursor: &mut Cursor<'_>, root: &Element<'_>, base: Option<&Url>) -> Option<RawFeed> {
    let mut feed = RawFeed {
        language: root.attr("xml:lang")?,
        ..RawFeed::default()
    };
    let default = cursor.default_ns;
    while let Some(element) = cursor.child()? {
        match (element.ns(default), element.local()) {
            (Ns::Atom, "title") => feed.title = Some(atom_text(cursor, &element)?),
            (Ns::Atom, "link") => {
                feed.links.extend(atom_link(&element, base)?);
                cursor.skip()?;
            }
            (Ns::Atom, "entry") => feed.entries.push(read_atom_entry(cursor, base)?),
            (Ns::Atom, "rights" | "subtitle") => {
                atom_text_type(&element)?;
                cursor.skip()?;
            }
            _ => cursor.skip()?,
        }
    }
    Some(feed)
}

fn read_atom_entry(cursor: &mut Cursor<'_>, base: Option<&Url>) -> Option<RawEntry> {
    let mut entry = RawEntry::default();
    let default = cursor.default_ns;
    while let Some(element) = cursor.child()? {
        match (element.ns(default), element.local()) {
            (Ns::Atom, "id") => {
                if let Some(id) = cursor.text()? {
                    entry.id = id;
                }
            }
            (Ns::Atom, "title") => entry.title = Some(atom_text(cursor, &element)?),
            (Ns::Atom, "summary") => entry.summary = Some(atom_text(cursor, &element)?),
            (Ns::Atom, "updated") => {
                if let Some(text) = cursor.text()? {
                    entry.updated = timestamp(&text)?;
                }
            }
            (Ns::Atom, "published" | "pubDate") => {
                if let Some(text) = cursor.text()? {
                    entry.published = timestamp(&text)?;
                }
            }
            (Ns::Atom, "author") => entry.authors.extend(atom_person_name(cursor)?),
            (Ns::Atom, "content") => {
                entry.language = element.attr("xml:lang")?;
                // Out-of-line content (`src`) and types other than text and HTML
                // are feed-rs' to judge.
                if element.attr("src")?.is_some() {
                    return None;
                }
                match element.attr("type")?.as_deref() {
                    None | Some("text" | "html" | "text/html") => {}
                    Some(_) => return None,
                }
                entry.content_body = Some(atom_text(cursor, &element)?.content);
            }
            (Ns::Atom, "link") => {
                entry.links.extend(atom_link(&element, base)?);
                cursor.skip()?;
            }
            (Ns::Atom, "category") => {
                let term = element.attr("term")?;
                let label = element.attr("label")?;
                if let Some(term) = term {
                    entry
                        .categories
                        .push(label.unwrap_or_else(|| term.trim().to_string()));
                }
                cursor.skip()?;
            }
            (Ns::Atom, "rights") => {
                atom_text_type(&element)?;
                cursor.skip()?;
            }
            (Ns::WellFormedWeb, "commentRss" | "commentRSS") => {
                if let Some(href) = cursor.text()? {
                    entry.links.push(RawLink {
                        href: link(&href, base),
                        rel: None,
                    });
                }
            }
            (Ns::MediaRss, _) => return None,
            _ => cursor.skip()?,
        }
    }
    Some(entry)
}

/// An Atom text construct's declared type: `Some(true)` for HTML, `Some(false)` for
/// text, `None` for XHTML (feed-rs serialises its markup) or a type feed-rs rejects.
fn atom_text_type(element: &Element<'_>) -> Option<bool> {
    match element.attr("type")?.as_deref() {
        None | Some("text") => Some(false),
        Some("html" | "text/html") => Some(true),
        Some(_) => None,
    }
}

/// An Atom text construct: its text, or the empty text when it holds none.
fn atom_text(cursor: &mut Cursor<'_>, element: &Element<'_>) -> Option<RawText> {
    let html = atom_text_type(element)?;
    let content = trimmed(cursor.text()?.unwrap_or_default());
    Some(RawText { content, html })
}

/// An Atom person's name: the text of its last `name` child that has one.
fn atom_person_name(cursor: &mut Cursor<'_>) -> Option<Option<String>> {
    let mut name = None;
    while let Some(child) = cursor.child()? {
        if child.local() == "name" {
            if let Some(text) = cursor.text()? {
                name = Some(text);
            }
        } else {
            cursor.skip()?;
        }
    }
    Some(name)
}

/// An Atom `<link>`: feed-rs keeps it only with an href, and calls it alternate
/// when it says nothing.
fn atom_link(element: &Element<'_>, base: Option<&Url>) -> Option<Option<RawLink>> {
    let href = element.attr("href")?;
    let rel = element.attr("rel")?;
    Some(href.map(|href| RawLink {
        href: link(&href, base),
        rel: Some(rel.unwrap_or_else(|| "alternate".to_string())),
    }))
}

/// A text field, trimmed as feed-rs trims its text fields (not its content).
fn plain(content: String) -> RawText {
    RawText {
        content: trimmed(content),
        html: false,
    }
}

fn html(content: String) -> RawText {
    RawText {
        content: trimmed(content),
        html: true,
    }
}

fn trimmed(text: String) -> String {
    if text.trim().len() == text.len() {
        text
    } else {
        text.trim().to_string()
    }
}

/// An RSS author's name as feed-rs reads it: without an e-mail address in it, the
/// trimmed text; with one, feed-rs' own reading of that one field.
fn person_name(text: &str) -> Option<Option<String>> {
    if !text.contains('@') {
        return Some(Some(text.trim().to_string()));
    }
    let feed = one_item_through_feed_rs("author", text)?;
    let entry = feed.entries.into_iter().next()?;
    Some(entry.authors.into_iter().next().and_then(|p| p.name))
}

/// A date as feed-rs reads it: the two forms feeds send, RFC 2822 and RFC 3339,
/// read here where feed-rs' repairs cannot change them; any other text is read by
/// feed-rs itself. `None` only when feed-rs could not be asked.
fn timestamp(text: &str) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    let trimmed = text.trim();
    if let Some(date) = plain_rfc3339(trimmed).or_else(|| plain_rfc2822(trimmed)) {
        return Some(Some(date));
    }
    let feed = one_item_through_feed_rs("pubDate", text)?;
    Some(feed.entries.into_iter().next()?.published)
}

/// `2026-03-01T08:30:00Z`, `…T08:30:00.5+05:00`: digits where digits go, nothing
/// else, so feed-rs' repairs (an offset without its colon, a date without a time)
/// leave it as it is and chrono reads it the same.
fn plain_rfc3339(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let fraction = rest[1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if fraction == 0 {
            return None;
        }
        rest = &rest[1 + fraction..];
    }
    let zone = rest == b"Z"
        || (rest.len() == 6
            && matches!(rest[0], b'+' | b'-')
            && rest[1..3].iter().all(u8::is_ascii_digit)
            && rest[3] == b':'
            && rest[4..6].iter().all(u8::is_ascii_digit));
    if !zone {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.to_utc())
}

/// `Sun, 01 Mar 2026 08:30:00 +0000` (or `GMT`): a weekday of three letters, a day
/// of two digits, a short month, an hour of two digits below 24. feed-rs drops the
/// weekday before chrono reads the rest; so does this.
fn plain_rfc2822(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = text.as_bytes();
    if b.len() != 29 && b.len() != 31 {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let shape = DAYS.iter().any(|d| b[..3] == *d.as_bytes())
        && &b[3..5] == b", "
        && digits(5..7)
        && b[7] == b' '
        && MONTHS.iter().any(|m| b[8..11] == *m.as_bytes())
        && b[11] == b' '
        && digits(12..16)
        && b[16] == b' '
        && digits(17..19)
        && &b[17..19] < b"24".as_slice()
        && b[19] == b':'
        && digits(20..22)
        && b[22] == b':'
        && digits(23..25)
        && b[25] == b' ';
    let zone = &b[26..];
    let zone_ok = zone == b"GMT"
        || (zone.len() == 5 && zone[0] == b'+' && zone[1..].iter().all(u8::is_ascii_digit));
    if !shape || !zone_ok {
        return None;
    }
    chrono::DateTime::parse_from_rfc2822(&text[5..])
        .ok()
        .map(|d| d.to_utc())
}

/// feed-rs' reading of one item holding one element: for the fields whose repairs
/// feed-rs does with patterns (odd dates, authors with an address), asked only
/// when the common forms above do not apply.
fn one_item_through_feed_rs(element: &str, text: &str) -> Option<feed_rs::model::Feed> {
    let escaped = quick_xml::escape::escape(text);
    let document = format!(
        "<rss version=\"2.0\"><channel><item><{element}>{escaped}</{element}></item></channel></rss>"
    );
    super::parse_with_feed_rs(document.as_bytes(), None).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_encoding_other_than_utf8_is_left_to_feed_rs() {
        let body = "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\
            <rss version=\"2.0\"><channel><item><title>x</title></item></channel></rss>";
        assert_eq!(read(body.as_bytes(), None), None);
        let utf8 = body.replace("windows-1251", "UTF-8");
        assert_eq!(
            read(utf8.as_bytes(), None).map(|f| f.entries.len()),
            Some(1)
        );
    }

    #[test]
    fn escaped_text_read_in_one_pass_is_what_the_events_give() {
        let texts = [
            "&lt;p&gt;Hospital &amp; road &lt;a href=&quot;https://e.org/1&quot;&gt;x&lt;/a&gt;&lt;/p&gt;",
            "caf&#233; &#x41;&#X42; &apos;q&apos; &#1078;",
            "&nbsp;unknown&unknown; entities &amp;amp; stay",
            "é&amp;ж—&lt;b&gt;",
            "a lone & ampersand",
            "unclosed &amp",
            "&;",
            "&#0; nul",
            "&#x110000; beyond",
            "&#-1; signed",
            "&#x; empty",
            "&#xD800; surrogate",
            "text &amp; <![CDATA[<b>cdata</b>]]> after",
            "text &amp; <b>a child</b>",
            "&amp;<!-- a comment --> after",
            "",
            "plain text",
        ];
        for text in texts {
            for tag in ["description", "title", "guid", "category"] {
                let body = format!(
                    "<rss version=\"2.0\"><channel><title>t &amp; u</title><item>\
                     <{tag}>{text}</{tag}><link>https://e.org/a</link></item>\
                     <item><{tag}/><description>x &lt; y</description></item>\
                     <item><title>s</title><{tag}/>stray &amp; {text}</item></channel></rss>"
                );
                let events = read_with(body.as_bytes(), None, false);
                let one_pass = read_with(body.as_bytes(), None, true);
                assert_eq!(one_pass, events, "{tag}: {text}");
            }
        }
        // The one-pass reading is taken where it can be, and only there.
        let mut cursor = Cursor::new(b"<d><e>a &amp; b</e><e>c</e><e/><e>&amp;<f/></e></d>");
        cursor.child().unwrap().unwrap();
        let mut read = Vec::new();
        while let Some(Some(_)) = cursor.child() {
            read.push(cursor.escaped_text());
            cursor.skip().unwrap();
        }
        assert_eq!(read, [Some("a & b".to_string()), None, None, None]);
    }

    #[test]
    fn invalid_utf8_is_left_to_feed_rs() {
        let mut body = b"<rss version=\"2.0\"><channel><item><title>a".to_vec();
        body.extend_from_slice(b"\xFF</title></item></channel></rss>");
        assert_eq!(read(&body, None), None);
    }

    #[test]
    fn the_common_date_forms_read_as_feed_rs_reads_them() {
        for text in [
            "Tue, 10 Feb 2026 09:00:00 GMT",
            "Tue, 10 Feb 2026 09:00:00 +0300",
            "Wed, 10 Feb 2026 23:59:59 -0000",
            "Sat, 29 Feb 2025 09:00:00 +0000",
            "Fri, 10 Feb 2026 09:00:00 +0300",
            "2026-02-10T09:00:00Z",
            "2026-02-10T09:00:00.123456789+05:45",
            "2026-13-10T09:00:00Z",
            "  2026-02-10T09:00:00-03:00 ",
        ] {
            let trimmed = text.trim();
            let ours = plain_rfc3339(trimmed).or_else(|| plain_rfc2822(trimmed));
            let feed = one_item_through_feed_rs("pubDate", text).unwrap();
            let theirs = feed.entries[0].published;
            if ours.is_some() {
                assert_eq!(ours, theirs, "{text}");
            }
            assert_eq!(timestamp(text), Some(theirs), "{text}");
        }
        // The forms feed-rs repairs are not read here at all.
        for odd in [
            "10 Feb 2026 09:00:00 UTC",
            "2026-02-10",
            "Tue, 10 Feb 2026 24:00:00 GMT",
        ] {
            assert_eq!(
                plain_rfc3339(odd).or_else(|| plain_rfc2822(odd)),
                None,
                "{odd}"
            );
        }
    }
}
