//! Plain text from feed HTML: the one conversion that ingestion and `eval` share, so the
//! classifier reads the same text in both.

use std::borrow::Cow;

/// Block-level tags whose boundaries separate words.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "blockquote",
    "section",
    "article",
    "figure",
    "figcaption",
    "hr",
    "img",
];

/// Converts an HTML fragment to plain text: tags dropped (script and style with their
/// content), entities decoded, blocks separated, white space folded, and feed
/// boilerplate ("The post … appeared first on …") left out.
///
/// Markup that was entity-encoded (`&lt;script&gt;`) would read as markup once decoded
/// in a reader that takes the text for HTML, so tags that appear after decoding are
/// dropped too (twice at most: each pass removes one level of encoding).
pub fn html_to_text(html: &str) -> String {
    without_encoded_markup(strip_tags(html))
}

/// [`html_to_text`] of HTML that html5ever serialized (what the sanitizer returns),
/// without parsing it again: in that form every `<` starts a tag or closes one (a
/// `<` of the text is written `&lt;`), attribute values are quoted, and comments,
/// `script` and `style` are gone, so cutting the tags out by a scan leaves exactly
/// the text nodes. Blocks are separated as [`html_to_text`] separates them.
pub fn serialized_html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        let len = serialized_tag_len(&rest[at..]);
        let name = rest[at + 1..at + len]
            .trim_start_matches('/')
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default();
        if BLOCK_TAGS
            .iter()
            .any(|block| block.eq_ignore_ascii_case(name))
        {
            text.push(' ');
        }
        rest = &rest[at + len..];
    }
    text.push_str(rest);
    let decoded = html_escape::decode_html_entities(&text);
    without_encoded_markup(fold_whitespace(&strip_unsafe_chars(&decoded)))
}

/// The length of the tag at the start of `html`, to its `>` outside quotes (html5ever
/// quotes attribute values but leaves `<` and `>` in them as they are).
pub fn serialized_tag_len(html: &str) -> usize {
    let mut quote = None;
    for (i, c) in html.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    html.len()
}

/// Text whose decoding revealed markup loses those tags too, then the boilerplate.
fn without_encoded_markup(mut text: String) -> String {
    for _ in 0..2 {
        if !looks_like_markup(&text) {
            break;
        }
        text = strip_tags(&text);
    }
    strip_boilerplate(&text).to_string()
}

/// One pass: tags dropped, entities decoded, white space folded, unsafe characters out.
fn strip_tags(html: &str) -> String {
    let spaced = space_block_tags(&limit_nesting(html, MAX_DEPTH));
    let stripped = ammonia::Builder::empty().clean(&spaced).to_string();
    let decoded = html_escape::decode_html_entities(&stripped);
    fold_whitespace(&strip_unsafe_chars(&decoded))
}

/// `<` followed by what starts a tag, a closing tag or a comment.
fn looks_like_markup(text: &str) -> bool {
    text.match_indices('<').any(|(at, _)| {
        text[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
    })
}

/// How deep elements may nest before [`limit_nesting`] flattens them: far deeper than
/// any article, shallow enough that html5ever's per-tag scope checks stay cheap.
pub const MAX_DEPTH: usize = 256;

/// Drops the tags (not the text) of elements nested deeper than `max_depth`.
/// html5ever checks the stack of open elements at each tag, so its cost grows with
/// the square of the depth (100,000 nested `<div>`s took 79 s); this pass is linear.
/// Depth is counted from start and end tags alone, which is enough for a bound.
pub fn limit_nesting(html: &str, max_depth: usize) -> Cow<'_, str> {
    if html.matches('<').count() <= max_depth {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut depth = 0usize;
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tag = &rest[at..];
        let len = tag.find('>').map_or(tag.len(), |end| end + 1);
        let (tag, after) = tag.split_at(len);
        let closing = tag.starts_with("</");
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        let opens = !closing
            && !name.is_empty()
            && !tag.ends_with("/>")
            && !VOID_TAGS.contains(&name.as_str());
        let keep = if closing {
            let kept = depth <= max_depth;
            depth = depth.saturating_sub(1);
            kept
        } else if opens {
            depth += 1;
            depth <= max_depth
        } else {
            true
        };
        if keep {
            out.push_str(tag);
        } else if BLOCK_TAGS.contains(&name.as_str()) {
            out.push(' ');
        }
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Elements that never have an end tag, so never nest.
const VOID_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Removes what must never reach a reader in text: control characters other than
/// tab and line ends (XML forbids them), C1 controls, byte order marks in the middle,
/// the non-characters U+FFFE/U+FFFF, and bidirectional embeddings, overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069), which can make a title read backwards.
pub fn strip_unsafe_chars(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| !is_unsafe_char(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|c| !is_unsafe_char(*c)).collect())
}

fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
        | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Folds every run of white space into one space and trims the ends.
pub fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Puts a space before each block-level tag so that `<p>a</p><p>b</p>` reads `a b`.
fn space_block_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 16);
    let mut rest = html;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        let tag = &rest[pos + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if BLOCK_TAGS.contains(&name.as_str()) {
            out.push(' ');
        }
        out.push('<');
        rest = tag;
    }
    out.push_str(rest);
    out
}

/// The sentences WordPress and similar engines append to every summary, by language:
/// (opening, the words that follow the title).
const BOILERPLATE: &[(&str, &str)] = &[
    ("The post ", " appeared first on "),
    ("L’article ", " est apparu en premier sur "),
    ("L'article ", " est apparu en premier sur "),
    ("Сообщение ", " появились сначала на "),
    ("Запись ", " впервые появилась "),
];

/// Cuts a trailing "The post TITLE appeared first on SITE." sentence.
fn strip_boilerplate(text: &str) -> &str {
    for (opening, middle) in BOILERPLATE {
        if let Some(mid) = text.rfind(middle) {
            if let Some(start) = text[..mid].rfind(opening) {
                return text[..start].trim_end();
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_dropped_and_blocks_separated() {
        assert_eq!(html_to_text("<p>Astana</p><p>Paris</p>"), "Astana Paris");
        assert_eq!(html_to_text("a <b>bold</b> move"), "a bold move");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html_to_text("L&#039;Élysée &amp; l&rsquo;Akorda"),
            "L'Élysée & l’Akorda"
        );
    }

    #[test]
    fn script_and_style_vanish_with_their_content() {
        assert_eq!(
            html_to_text("<script>alert('France')</script>Kazakhstan"),
            "Kazakhstan"
        );
        assert_eq!(html_to_text("<style>p{}</style>ok"), "ok");
    }

    #[test]
    fn encoded_markup_does_not_come_back_as_markup() {
        assert_eq!(
            html_to_text("&lt;script&gt;alert(1)&lt;/script&gt;Astana"),
            "Astana"
        );
        assert_eq!(html_to_text("a &lt; b &amp; c"), "a < b & c");
    }

    #[test]
    fn unsafe_characters_are_removed() {
        assert_eq!(
            strip_unsafe_chars("a\u{0}b\u{1B}c\u{202E}d\u{2066}e\u{FEFF}f\tg\n"),
            "abcdef\tg\n"
        );
        assert_eq!(html_to_text("Tokayev\u{202E}vayekoT"), "TokayevvayekoT");
    }

    #[test]
    fn nesting_beyond_the_bound_keeps_its_text() {
        let deep = format!("{}core{}", "<div>".repeat(500), "</div>".repeat(500));
        let limited = limit_nesting(&deep, 4);
        assert_eq!(limited.matches("<div>").count(), 4);
        assert_eq!(limited.matches("</div>").count(), 4);
        assert!(limited.contains("core"));
        assert_eq!(html_to_text(&deep), "core");
    }

    #[test]
    fn boilerplate_is_left_out() {
        let html =
            "<p>Talks in Astana.</p><p>The post Talks appeared first on The Astana Times.</p>";
        assert_eq!(html_to_text(html), "Talks in Astana.");
        let fr = "<p>Visite.</p><p>L&#039;article Visite est apparu en premier sur Novastan.</p>";
        assert_eq!(html_to_text(fr), "Visite.");
    }
}
