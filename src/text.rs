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
///
/// This is the one definition of an item's text (ingest, `retag` reads what it
/// stored, `eval`): a linear scan that tokenizes as an HTML tokenizer does (quoted
/// attribute values, comments, bogus comments, raw-text and RCDATA elements, a tag
/// cut off by the end of the input), without building a tree. It gives the words of
/// [`reference::html_to_text`] (html5ever's tree, through ammonia), which
/// `tests/text_fast.rs` checks on every fixture and on hostile documents; where a
/// tree builder moves text (a table's stray text goes before the table) the order of
/// words may differ.
pub fn html_to_text(html: &str) -> String {
    without_encoded_markup(scan_text(html))
}

/// The slower definitions that [`html_to_text`] replaced, kept to check it against.
pub mod reference {
    use super::{
        fold_whitespace, limit_nesting, looks_like_markup, space_block_tags, strip_boilerplate,
        strip_unsafe_chars, MAX_DEPTH,
    };

    /// Plain text through html5ever's tree (ammonia with an empty allow-list), as
    /// entente extracted it before the scan; each pass of encoded markup too.
    pub fn html_to_text(html: &str) -> String {
        let mut text = strip_tags(html);
        for _ in 0..2 {
            if !looks_like_markup(&text) {
                break;
            }
            text = strip_tags(&text);
        }
        strip_boilerplate(&text).to_string()
    }

    fn strip_tags(html: &str) -> String {
        let spaced = space_block_tags(&limit_nesting(html, MAX_DEPTH));
        let stripped = ammonia::Builder::empty().clean(&spaced).to_string();
        let decoded = html_escape::decode_html_entities(&stripped);
        fold_whitespace(&strip_unsafe_chars(&decoded))
    }
}

/// Text whose decoding revealed markup loses those tags too, then the boilerplate.
fn without_encoded_markup(mut text: String) -> String {
    for _ in 0..2 {
        if !looks_like_markup(&text) {
            break;
        }
        text = scan_text(&text);
    }
    // What is left is a prefix: cut in place rather than copied.
    let kept = strip_boilerplate(&text).len();
    text.truncate(kept);
    text
}

/// One pass: the text nodes of `html`, entities decoded, blocks separated, white
/// space folded, unsafe characters out.
fn scan_text(html: &str) -> String {
    let mut text = TextOut::with_capacity(html.len());
    let bytes = html.as_bytes();
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'<', &bytes[at..]) {
        let lt = at + found;
        text.push_text(&html[at..lt]);
        at = match markup_at(html, lt) {
            Markup::Text => {
                text.push_char('<');
                lt + 1
            }
            Markup::Skipped { end } => end,
            Markup::Tag { name, end, closing } => {
                if is_block_tag(name) {
                    text.space();
                }
                match (closing, content_kind(name)) {
                    (true, _) | (false, Content::Markup) => end,
                    (false, kind) => {
                        let close = closing_tag(html, end, name);
                        match kind {
                            Content::Dropped => {}
                            Content::Literal => text.push_literal(&html[end..close]),
                            Content::Text => text.push_text(&html[end..close]),
                            Content::Markup => unreachable!("handled above"),
                        }
                        // The end tag itself separates words like any other.
                        text.space_if(is_block_tag(name));
                        skip_end_tag(html, close)
                    }
                }
            }
        };
    }
    text.push_text(&html[at..]);
    text.finish()
}

/// What a `<` begins, as an HTML tokenizer reads it in data.
enum Markup<'a> {
    /// A `<` of the text (not followed by a letter, `/`, `!` or `?`).
    Text,
    /// A comment, a doctype, a bogus comment, an end tag with no name, or a tag the
    /// input ends in (the tokenizer drops it): nothing of it is text.
    Skipped { end: usize },
    /// A start or end tag; `end` is just after its `>`.
    Tag {
        name: &'a str,
        end: usize,
        closing: bool,
    },
}

fn markup_at(html: &str, lt: usize) -> Markup<'_> {
    let bytes = html.as_bytes();
    let after = lt + 1;
    match bytes.get(after) {
        Some(b) if b.is_ascii_alphabetic() => tag_at(html, after, false),
        Some(b'/') => match bytes.get(after + 1) {
            Some(b) if b.is_ascii_alphabetic() => tag_at(html, after + 1, true),
            Some(b'>') => Markup::Skipped { end: after + 2 },
            // `</` then something else: a bogus comment to the next `>`.
            Some(_) => Markup::Skipped {
                end: past_byte(bytes, after + 1, b'>'),
            },
            None => Markup::Text,
        },
        Some(b'!') if bytes[after + 1..].starts_with(b"--") => Markup::Skipped {
            end: comment_end(bytes, after + 3),
        },
        Some(b'!' | b'?') => Markup::Skipped {
            end: past_byte(bytes, after + 1, b'>'),
        },
        _ => Markup::Text,
    }
}

/// Just after the first `needle` at or after `from`, else the end.
fn past_byte(bytes: &[u8], from: usize, needle: u8) -> usize {
    memchr::memchr(needle, &bytes[from.min(bytes.len())..]).map_or(bytes.len(), |i| from + i + 1)
}

/// The end of a comment whose text starts at `from` (after `<!--`): `-->`, `--!>`,
/// or at once for `<!-->` and `<!--->`; an unclosed comment runs to the end.
fn comment_end(bytes: &[u8], from: usize) -> usize {
    let rest = &bytes[from.min(bytes.len())..];
    if rest.starts_with(b">") {
        return from + 1;
    }
    if rest.starts_with(b"->") {
        return from + 2;
    }
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'>', &rest[at..]) {
        let gt = at + i;
        let before = &rest[..gt];
        if before.ends_with(b"--") || before.ends_with(b"--!") {
            return from + gt + 1;
        }
        at = gt + 1;
    }
    bytes.len()
}

/// A tag whose name starts at `name_at`: its name and where it ends, following the
/// tokenizer's attribute states (a `>` inside a quoted value does not end it; a quote
/// that does not follow `=` is part of a name). A tag the input ends in is dropped.
fn tag_at(html: &str, name_at: usize, closing: bool) -> Markup<'_> {
    /// The tokenizer's states between a tag's name and its `>`.
    #[derive(Clone, Copy)]
    enum State {
        /// Before an attribute's name (also after a value, or a `/`).
        BeforeName,
        InName,
        AfterName,
        /// After `=`: a quote here opens a quoted value.
        BeforeValue,
    }
    let bytes = html.as_bytes();
    let name_end = bytes[name_at..]
        .iter()
        .position(|b| is_tag_space(*b) || *b == b'>')
        .map_or(bytes.len(), |i| name_at + i);
    let mut state = State::BeforeName;
    let mut at = name_end;
    while let Some(&b) = bytes.get(at) {
        if b == b'>' {
            return Markup::Tag {
                name: &html[name_at..name_end],
                end: at + 1,
                closing,
            };
        }
        state = match (state, b) {
            (State::BeforeValue, b'"' | b'\'') => {
                match memchr::memchr(b, &bytes[at + 1..]) {
                    Some(len) => at += len + 1,
                    None => break,
                }
                State::BeforeName
            }
            (State::BeforeValue, b) if is_tag_space(b) && b != b'/' => State::BeforeValue,
            (State::BeforeValue, _) => {
                // An unquoted value, to white space or `>`.
                while bytes
                    .get(at + 1)
                    .is_some_and(|b| !(is_tag_space(*b) && *b != b'/') && *b != b'>')
                {
                    at += 1;
                }
                State::BeforeName
            }
            (State::InName | State::AfterName, b'=') => State::BeforeValue,
            (State::InName | State::AfterName, b'/') => State::BeforeName,
            (State::InName | State::AfterName, b) if is_tag_space(b) => State::AfterName,
            (State::BeforeName, b) if is_tag_space(b) => State::BeforeName,
            // Anything else, `=` and quotes included, is (part of) a name.
            _ => State::InName,
        };
        at += 1;
    }
    Markup::Skipped { end: bytes.len() }
}

/// White space as the tokenizer knows it, and `/`: what ends a tag's name.
fn is_tag_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'/')
}

/// What the tokenizer does with an element's content, as the tree builder tells it.
#[derive(Clone, Copy)]
enum Content {
    /// Parsed as markup (every element but those below).
    Markup,
    /// Not text at all: `script` and `style` (raw text that the sanitizer removes), and
    /// `svg` and `math`, graphics and formulas: the sanitizer's namespace rules leave
    /// next to nothing of their text (a formula's TeX annotation least of all).
    Dropped,
    /// Raw text, entities not decoded: `xmp`, `iframe`, `noembed`, `noframes`,
    /// `noscript` (html5ever parses with scripting on).
    Literal,
    /// RCDATA, entities decoded: `title`, `textarea`.
    Text,
}

fn content_kind(name: &str) -> Content {
    let is = |tag: &str| name.eq_ignore_ascii_case(tag);
    if is("script") || is("style") || is("svg") || is("math") {
        Content::Dropped
    } else if is("xmp") || is("iframe") || is("noembed") || is("noframes") || is("noscript") {
        Content::Literal
    } else if is("title") || is("textarea") {
        Content::Text
    } else if is("plaintext") {
        // Everything after `<plaintext>` is text; `closing_tag` finds no end.
        Content::Literal
    } else {
        Content::Markup
    }
}

/// Where the content of a raw-text element that starts at `from` ends: at the next
/// `</name` followed by white space, `/` or `>` (any case), else at the end.
fn closing_tag(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    if name.eq_ignore_ascii_case("plaintext") {
        return bytes.len();
    }
    let mut at = from;
    while let Some(i) = memchr::memmem::find(&bytes[at..], b"</") {
        let start = at + i;
        let name_at = start + 2;
        let candidate = bytes.get(name_at..name_at + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes()))
            && bytes
                .get(name_at + name.len())
                .is_some_and(|b| is_tag_space(*b) || *b == b'>')
        {
            return start;
        }
        at = start + 2;
    }
    bytes.len()
}

/// Just after the end tag that starts at `at` (or the end of the input).
fn skip_end_tag(html: &str, at: usize) -> usize {
    if at >= html.len() {
        return html.len();
    }
    match markup_at(html, at) {
        Markup::Tag { end, .. } | Markup::Skipped { end } => end,
        Markup::Text => at + 1,
    }
}

fn is_block_tag(name: &str) -> bool {
    name.len() <= 10 && BLOCK_TAGS.iter().any(|tag| tag.eq_ignore_ascii_case(name))
}

/// The text being built: white space folded to single spaces, no space at either
/// end, unsafe characters left out, entities decoded where the text has them.
struct TextOut {
    text: String,
    /// White space was seen since the last character kept.
    space: bool,
}

impl TextOut {
    fn with_capacity(capacity: usize) -> Self {
        TextOut {
            text: String::with_capacity(capacity),
            space: false,
        }
    }

    fn space(&mut self) {
        self.space = true;
    }

    fn space_if(&mut self, yes: bool) {
        self.space |= yes;
    }

    /// Text of the document: character references decoded.
    fn push_text(&mut self, text: &str) {
        if text.contains('&') {
            self.push_literal(&html_escape::decode_html_entities(text));
        } else {
            self.push_literal(text);
        }
    }

    /// Characters as they are. Runs of kept characters are copied whole: the text
    /// is nearly all of them. A byte can only start a character to leave out (white
    /// space or unsafe) if it is ASCII below `!`, DEL, or the lead byte of U+0080–U+00BF
    /// (`C2`), U+1680 (`E1`), U+2000–U+206F (`E2`), U+3000 (`E3`) or U+FEFF–U+FFFF
    /// (`EF`); every other byte is kept without decoding.
    fn push_literal(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut run = 0;
        let mut at = 0;
        while let Some(&b) = bytes.get(at) {
            if !MAY_START_LEFT_OUT[usize::from(b)] {
                at += 1;
                continue;
            }
            // The usual separator, every few bytes of prose: no need to decode it. One
            // space between two kept characters is kept as it is, so the run goes on
            // through it rather than being pushed word by word.
            if b == b' ' {
                if run < at
                    && bytes
                        .get(at + 1)
                        .is_some_and(|&next| !MAY_START_LEFT_OUT[usize::from(next)])
                {
                    at += 1;
                    continue;
                }
                self.push_run(&text[run..at]);
                self.space = true;
                at += 1;
                run = at;
                continue;
            }
            // ASCII or a lead byte: a character starts here.
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            let len = c.len_utf8();
            if is_unsafe_char(c) || c.is_whitespace() {
                self.push_run(&text[run..at]);
                // What is not unsafe here is white space.
                self.space |= !is_unsafe_char(c);
                run = at + len;
            }
            at += len;
        }
        self.push_run(&text[run..]);
    }

    /// Characters that are neither white space nor unsafe.
    fn push_run(&mut self, run: &str) {
        if run.is_empty() {
            return;
        }
        if self.space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.space = false;
        self.text.push_str(run);
    }

    fn push_char(&mut self, c: char) {
        if is_unsafe_char(c) {
        } else if c.is_whitespace() {
            self.space = true;
        } else {
            self.push_kept(c);
        }
    }

    fn push_kept(&mut self, c: char) {
        if self.space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.space = false;
        self.text.push(c);
    }

    fn finish(self) -> String {
        self.text
    }
}

/// The bytes that can start a character [`TextOut::push_literal`] leaves out (see
/// there), as a table: one load per byte instead of a chain of comparisons.
const MAY_START_LEFT_OUT: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b <= b' ' as usize {
        table[b] = true;
        b += 1;
    }
    table[0x7F] = true;
    table[0xC2] = true;
    table[0xE1] = true;
    table[0xE2] = true;
    table[0xE3] = true;
    table[0xEF] = true;
    table
};

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

/// `fold_whitespace(&strip_unsafe_chars(text))` in one pass and one allocation: the
/// plain text of a field that holds no markup.
pub fn clean_line(text: &str) -> String {
    let mut out = TextOut::with_capacity(text.len());
    out.push_literal(text);
    out.finish()
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
    // Built once: a searcher's tables cost more than searching a summary. The forward
    // searcher has a vectorised prefilter and the reverse one has not, so the forward
    // one says whether the middle is there at all (it seldom is) and the reverse one,
    // only then, finds the last.
    type Searchers = (
        memchr::memmem::Finder<'static>,
        memchr::memmem::FinderRev<'static>,
    );
    static MIDDLES: std::sync::LazyLock<Vec<Searchers>> = std::sync::LazyLock::new(|| {
        BOILERPLATE
            .iter()
            .map(|(_, middle)| {
                (
                    memchr::memmem::Finder::new(middle.as_bytes()),
                    memchr::memmem::FinderRev::new(middle.as_bytes()),
                )
            })
            .collect()
    });
    for ((opening, _), (present, last)) in BOILERPLATE.iter().zip(MIDDLES.iter()) {
        if present.find(text.as_bytes()).is_none() {
            continue;
        }
        if let Some(mid) = last.rfind(text.as_bytes()) {
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
    fn a_clean_line_is_the_unsafe_characters_out_then_the_space_folded() {
        let pieces = [
            "a", "é", "Қ", " ", "\t", "\n", "\u{0}", "\u{7F}", "\u{85}", "\u{9F}", "\u{A0}",
            "\u{1680}", "\u{2003}", "\u{2028}", "\u{202A}", "\u{202F}", "\u{205F}", "\u{2066}",
            "\u{3000}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}", "中", "😀", "x y",
        ];
        let mut seed = 5u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..6 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            assert_eq!(
                clean_line(&text),
                fold_whitespace(&strip_unsafe_chars(&text)),
                "{text:?}"
            );
        }
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
