//! Second chances for documents that a forgiving reader (python feedparser) reads and
//! feed-rs does not: Atom 0.3, Atom with RSS-style `<item>`s, `<rss>` without a
//! `<channel>`, an empty `type` on a text construct, a document cut off inside a tag
//! or a CDATA section, and bare `&` in text.
//!
//! [`rewrite`] streams the document through quick-xml once and writes it back as the
//! Atom 1.0 or RSS 2.0 that feed-rs reads; where the input stops being XML it keeps
//! what came before and closes the elements still open. It is linear in the input:
//! one pass, one stack of open element names.

use base64::Engine;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::Reader;
use quick_xml::Writer;

const ATOM_03_NS: &str = "http://purl.org/atom/ns#";
const ATOM_10_NS: &str = "http://www.w3.org/2005/Atom";

/// Whether the root element is Atom 0.3 (its namespace or `version="0.3"`), which
/// feed-rs reads as an unknown vocabulary and finds no entries in.
pub(super) fn is_atom_03(body: &[u8]) -> bool {
    // Read from the bytes: only the root element matters, and a lossy copy of the
    // whole body cost more than the rest of this check.
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                return e.local_name().into_inner() == "feed"
                    && e.attributes().flatten().any(|a| {
                        (a.key.into_inner() == "version" && a.value == "0.3")
                            || (a.key.into_inner().starts_with("xmlns") && a.value == ATOM_03_NS)
                    });
            }
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// What vocabulary the root element speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Atom,
    Rss,
    Rdf,
    Other,
}

/// A text construct whose content is base64 (Atom 0.3 `mode="base64"`): its text is
/// gathered and written decoded when the element ends.
struct Base64Text {
    depth: usize,
    encoded: String,
}

/// Rewrites a document into the Atom 1.0 or RSS 2.0 feed-rs reads (see the module
/// docs). Never fails: at the first error it stops and closes what is open.
pub(super) fn rewrite(body: &[u8]) -> Vec<u8> {
    let body = String::from_utf8_lossy(body);
    let mut reader = Reader::from_str(&body);
    let mut writer = Writer::new(Vec::with_capacity(body.len() + 64));
    // The names written for the open elements, outermost first.
    let mut open: Vec<String> = Vec::new();
    let mut root = Root::Other;
    let mut channel_added = false;
    let mut base64: Option<Base64Text> = None;
    let mut started = false;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        let written_any = std::mem::replace(&mut started, true);
        match event {
            Event::Start(start) | Event::Empty(start) if open.is_empty() && root == Root::Other => {
                root = match start.local_name().into_inner() {
                    "feed" => Root::Atom,
                    "rss" => Root::Rss,
                    "RDF" => Root::Rdf,
                    _ => Root::Other,
                };
                let start = rewrite_start(&start, root, 0, &mut None);
                open.push(start.name().into_inner().to_string());
                let _ = writer.write_event(Event::Start(start));
            }
            Event::Start(start) => {
                add_rss_channel(&mut writer, &start, root, open.len(), &mut channel_added);
                let start = rewrite_start(&start, root, open.len(), &mut base64);
                let about = rdf_item_about(&start, root, open.len());
                open.push(start.name().into_inner().to_string());
                let _ = writer.write_event(Event::Start(start));
                if let Some(about) = about {
                    // feed-rs drops RSS 1.0 items without a <link>; rdf:about names one.
                    let _ = writer.write_event(Event::Start(BytesStart::new("link")));
                    let _ = writer.write_event(Event::Text(BytesText::from_escaped(about)));
                    let _ = writer.write_event(Event::End(BytesEnd::new("link")));
                }
            }
            Event::Empty(start) => {
                add_rss_channel(&mut writer, &start, root, open.len(), &mut channel_added);
                let start = rewrite_start(&start, root, open.len(), &mut None);
                let _ = writer.write_event(Event::Empty(start));
            }
            Event::End(_) => {
                if base64.as_ref().is_some_and(|b| b.depth == open.len() - 1) {
                    write_decoded(&mut writer, base64.take().map(|b| b.encoded));
                }
                close(&mut writer, &mut open, channel_added);
            }
            Event::Text(text) if base64.is_some() => {
                if let Some(b) = base64.as_mut() {
                    b.encoded.push_str(&text);
                }
            }
            // A declaration is only allowed first; a later one made quick-xml (inside
            // feed-rs) panic on changing the encoding mid-document (fuzzing found it).
            Event::Decl(_) if written_any => {}
            other => {
                let _ = writer.write_event(other);
            }
        }
        if open.is_empty() && root != Root::Other {
            break;
        }
    }
    if let Some(pending) = base64.take() {
        write_decoded(&mut writer, Some(pending.encoded));
    }
    while !open.is_empty() {
        close(&mut writer, &mut open, channel_added);
    }
    writer.into_inner()
}

/// Writes the end tag of the innermost open element (and the `</channel>` added for a
/// bare `<rss>` before the root's own end).
fn close(writer: &mut Writer<Vec<u8>>, open: &mut Vec<String>, channel_added: bool) {
    let Some(name) = open.pop() else {
        return;
    };
    if open.is_empty() && channel_added {
        let _ = writer.write_event(Event::End(BytesEnd::new("channel")));
    }
    let _ = writer.write_event(Event::End(BytesEnd::new(name)));
}

/// The `rdf:about` of an RSS 1.0 `<item>` (still escaped, as written).
fn rdf_item_about(start: &BytesStart<'_>, root: Root, depth: usize) -> Option<String> {
    if root != Root::Rdf || depth != 1 || start.name().into_inner() != "item" {
        return None;
    }
    start
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.into_inner() == "rdf:about")
        .map(|a| a.value.into_owned())
}

/// `<rss>` whose items sit directly under the root gets the `<channel>` feed-rs needs.
fn add_rss_channel(
    writer: &mut Writer<Vec<u8>>,
    child: &BytesStart<'_>,
    root: Root,
    depth: usize,
    channel_added: &mut bool,
) {
    if root == Root::Rss && depth == 1 && !*channel_added && child.name().into_inner() != "channel"
    {
        let _ = writer.write_event(Event::Start(BytesStart::new("channel")));
        *channel_added = true;
    }
}

fn write_decoded(writer: &mut Writer<Vec<u8>>, encoded: Option<String>) {
    let Some(encoded) = encoded else {
        return;
    };
    let compact: Vec<u8> = encoded
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let _ = writer.write_event(Event::Text(BytesText::new(&decoded)));
}

/// The Atom 1.0 name of an Atom 0.3 element (and `<item>` under `<feed>`).
fn atom_name(name: &str, depth: usize) -> Option<&'static str> {
    Some(match name {
        "issued" | "created" => "published",
        "modified" => "updated",
        "tagline" => "subtitle",
        "copyright" => "rights",
        "item" if depth == 1 => "entry",
        _ => return None,
    })
}

fn is_text_construct(name: &str) -> bool {
    matches!(
        name,
        "title" | "subtitle" | "summary" | "content" | "rights"
    )
}

/// The Atom 1.0 `type` of an Atom 0.3 `type` (a MIME type) and `mode`.
fn atom_type(mime: Option<&str>, mode: Option<&str>) -> Option<String> {
    let kind = match mime {
        None | Some("") => return mode.filter(|m| *m == "escaped").map(|_| "html".to_string()),
        Some("text/plain" | "text") => "text",
        Some("text/html" | "html") => "html",
        Some("application/xhtml+xml" | "xhtml") => "xhtml",
        Some(other) => other,
    };
    // Escaped or base64 XHTML arrives as text: it reads as HTML.
    if kind == "xhtml" && mode.is_some_and(|m| m == "escaped" || m == "base64") {
        return Some("html".to_string());
    }
    Some(kind.to_string())
}

/// The start tag rewritten: Atom 0.3 namespace to 1.0, `version` dropped from the
/// root, Atom 0.3 names and text-construct types mapped.
fn rewrite_start(
    start: &BytesStart<'_>,
    root: Root,
    depth: usize,
    base64: &mut Option<Base64Text>,
) -> BytesStart<'static> {
    let original = start.name().into_inner();
    let name = (root == Root::Atom)
        .then(|| atom_name(original, depth))
        .flatten()
        .unwrap_or(original)
        .to_string();
    let text_construct = root == Root::Atom && is_text_construct(&name);
    let mut mime = None;
    let mut mode = None;
    let mut rewritten = BytesStart::new(name);
    for attr in start.attributes().with_checks(false).flatten() {
        let key = attr.key.into_inner();
        if root == Root::Atom && depth == 0 && key == "version" {
            continue;
        }
        if text_construct && key == "type" {
            mime = Some(attr.value.into_owned());
            continue;
        }
        if text_construct && key == "mode" {
            mode = Some(attr.value.into_owned());
            continue;
        }
        if key.starts_with("xmlns") && attr.value == ATOM_03_NS {
            rewritten.push_attribute((key, ATOM_10_NS));
            continue;
        }
        // The value as it was written (still escaped): pushed as is.
        rewritten.push_attribute(Attribute {
            key: QName(key),
            value: attr.value,
        });
    }
    if text_construct {
        if let Some(kind) = atom_type(mime.as_deref(), mode.as_deref()) {
            rewritten.push_attribute(("type", kind.as_str()));
        }
        if mode.as_deref() == Some("base64") {
            *base64 = Some(Base64Text {
                depth,
                encoded: String::new(),
            });
        }
    }
    rewritten.into_owned()
}

/// Repairs the references that make a whole document fail for one character: a `&`
/// that begins no entity or character reference becomes `&amp;`, and a character
/// reference to what XML forbids (`&#0;`, a surrogate such as `&#xD800;`, `&#xFFFE;`)
/// is dropped, so the field keeps its other text and the feed its other items.
/// CDATA sections and comments, where `&` is literal, are left alone.
pub(super) fn repair_references(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut i = 0;
    while i < body.len() {
        if let Some(len) = literal_section_len(&body[i..]) {
            out.extend_from_slice(&body[i..i + len]);
            i += len;
            continue;
        }
        if body[i] != b'&' {
            out.push(body[i]);
            i += 1;
            continue;
        }
        match reference(&body[i + 1..]) {
            None => out.extend_from_slice(b"&amp;"),
            Some(Reference::Forbidden(len)) => i += len,
            Some(Reference::Fine) => out.push(b'&'),
        }
        i += 1;
    }
    out
}

/// The length of a CDATA section or comment starting here (to the end if unclosed).
fn literal_section_len(rest: &[u8]) -> Option<usize> {
    [(&b"<![CDATA["[..], &b"]]>"[..]), (b"<!--", b"-->")]
        .into_iter()
        .find(|(open, _)| rest.starts_with(open))
        .map(|(open, close)| {
            find(&rest[open.len()..], close).map_or(rest.len(), |at| open.len() + at + close.len())
        })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

enum Reference {
    /// A well-formed reference: kept.
    Fine,
    /// A character reference to a character XML forbids, this many bytes after the `&`.
    Forbidden(usize),
}

/// What the bytes after an `&` begin: `name;`, `#digits;` or `#xhex;`, or nothing.
fn reference(after: &[u8]) -> Option<Reference> {
    let head = &after[..after.len().min(40)];
    let semicolon = head.iter().position(|b| *b == b';')?;
    let (code, radix) = match &head[..semicolon] {
        [b'#', b'x' | b'X', hex @ ..]
            if !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit) =>
        {
            (hex, 16)
        }
        [b'#', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            (digits, 10)
        }
        [first, rest @ ..]
            if (first.is_ascii_alphabetic() || *first == b'_')
                && rest
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) =>
        {
            return Some(Reference::Fine);
        }
        _ => return None,
    };
    let allowed = std::str::from_utf8(code)
        .ok()
        .and_then(|code| u32::from_str_radix(code, radix).ok())
        .and_then(char::from_u32)
        .is_some_and(|c| {
            matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
                || c >= '\u{10000}'
        });
    Some(if allowed {
        Reference::Fine
    } else {
        Reference::Forbidden(semicolon + 1)
    })
}

/// A JSON text whose `\uD800`-style escapes name lone surrogates (serde_json rejects
/// the whole document for one) with each such escape replaced by `\uFFFD`.
pub(super) fn repair_json_surrogates(body: &[u8]) -> Vec<u8> {
    let hex_at = |i: usize| -> Option<u32> {
        let digits = body.get(i..i + 4)?;
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let escape_at = |i: usize| -> Option<u32> {
        (body.get(i) == Some(&b'\\') && body.get(i + 1) == Some(&b'u'))
            .then(|| hex_at(i + 2))
            .flatten()
    };
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            out.push(body[i]);
            i += 1;
            continue;
        }
        match escape_at(i) {
            Some(0xD800..=0xDBFF) => {
                if escape_at(i + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) {
                    out.extend_from_slice(&body[i..i + 12]);
                    i += 12;
                } else {
                    out.extend_from_slice(b"\\ufffd");
                    i += 6;
                }
            }
            Some(0xDC00..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                i += 6;
            }
            // Any other escape: copied whole, so an escaped backslash is not misread.
            _ => {
                let len = if body.get(i + 1) == Some(&b'u') { 6 } else { 2 };
                let end = (i + len).min(body.len());
                out.extend_from_slice(&body[i..end]);
                i = end;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(doc: &str) -> String {
        String::from_utf8(rewrite(doc.as_bytes())).unwrap()
    }

    #[test]
    fn atom_03_becomes_atom_10() {
        let doc = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><issued>2004-01-01T00:00:00Z</issued><modified>2004-01-02T00:00:00Z</modified><title type="text/html" mode="escaped">&lt;b&gt;x&lt;/b&gt;</title></entry></feed>"#;
        assert_eq!(
            rewritten(doc),
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><published>2004-01-01T00:00:00Z</published><updated>2004-01-02T00:00:00Z</updated><title type="html">&lt;b&gt;x&lt;/b&gt;</title></entry></feed>"#
        );
    }

    #[test]
    fn base64_content_is_decoded() {
        let doc = "<feed><entry><content mode=\"base64\">\n RXhhbXBsZSA8Yj5BdG9tPC9iPg==\n</content></entry></feed>";
        assert_eq!(
            rewritten(doc),
            "<feed><entry><content>Example &lt;b&gt;Atom&lt;/b&gt;</content></entry></feed>"
        );
    }

    #[test]
    fn an_empty_type_is_dropped() {
        assert_eq!(
            rewritten(r#"<feed><entry><title type="">evil</title></entry></feed>"#),
            "<feed><entry><title>evil</title></entry></feed>"
        );
    }

    #[test]
    fn a_declaration_after_the_start_is_dropped() {
        assert_eq!(
            rewritten("<?xml version=\"1.0\"?><rss><?xml version='1.0' encoding='iso-8859-1'?><channel/></rss>"),
            "<?xml version=\"1.0\"?><rss><channel/></rss>"
        );
    }

    #[test]
    fn a_bare_rss_gets_a_channel() {
        assert_eq!(
            rewritten("<rss><item><title>a</title></item></rss>"),
            "<rss><channel><item><title>a</title></item></channel></rss>"
        );
    }

    #[test]
    fn a_cut_off_document_keeps_what_came_before() {
        assert_eq!(
            rewritten("<rss version=\"2.0\"><channel><item><title>a</title></item><item><title><![CD"),
            "<rss version=\"2.0\"><channel><item><title>a</title></item><item><title></title></item></channel></rss>"
        );
        assert_eq!(
            rewritten("<rdf:RDF><item><title>a</title></item></rdf:RDF"),
            "<rdf:RDF><item><title>a</title></item></rdf:RDF>"
        );
    }

    #[test]
    fn rss_1_items_without_a_link_take_their_rdf_about() {
        assert_eq!(
            rewritten(
                r#"<rdf:RDF><item rdf:about="http://a/1?x=1&amp;y"><title>t</title></item></rdf:RDF>"#
            ),
            r#"<rdf:RDF><item rdf:about="http://a/1?x=1&amp;y"><link>http://a/1?x=1&amp;y</link><title>t</title></item></rdf:RDF>"#
        );
    }

    #[test]
    fn bare_ampersands_are_escaped_and_references_kept() {
        let doc = b"<a>x?a=1&b=2 &amp; &#38; &#x26; &eacute;<![CDATA[a&b]]><!-- c&d --></a>";
        assert_eq!(
            String::from_utf8(repair_references(doc)).unwrap(),
            "<a>x?a=1&amp;b=2 &amp; &#38; &#x26; &eacute;<![CDATA[a&b]]><!-- c&d --></a>"
        );
    }

    #[test]
    fn references_to_forbidden_characters_are_dropped() {
        let doc = b"<a>n&#0;ul &#xD800;sur&#xdfff; &#65534;ok&#x1F600;</a>";
        assert_eq!(
            String::from_utf8(repair_references(doc)).unwrap(),
            "<a>nul sur ok&#x1F600;</a>"
        );
    }

    #[test]
    fn lone_surrogates_in_json_become_replacement_characters() {
        let doc = br#"{"a":"x\ud800y","b":"\udc00","c":"\ud83d\ude00","d":"\\ud800"}"#;
        assert_eq!(
            String::from_utf8(repair_json_surrogates(doc)).unwrap(),
            r#"{"a":"x\ufffdy","b":"\ufffd","c":"\ud83d\ude00","d":"\\ud800"}"#
        );
    }
}
