//! Plain text from feed HTML: the one conversion that ingestion and `eval` share, so the
//! classifier reads the same text in both.

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
pub fn html_to_text(html: &str) -> String {
    let spaced = space_block_tags(html);
    let stripped = ammonia::Builder::empty().clean(&spaced).to_string();
    let decoded = html_escape::decode_html_entities(&stripped);
    let folded = fold_whitespace(&decoded);
    strip_boilerplate(&folded).to_string()
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
    fn boilerplate_is_left_out() {
        let html =
            "<p>Talks in Astana.</p><p>The post Talks appeared first on The Astana Times.</p>";
        assert_eq!(html_to_text(html), "Talks in Astana.");
        let fr = "<p>Visite.</p><p>L&#039;article Visite est apparu en premier sur Novastan.</p>";
        assert_eq!(html_to_text(fr), "Visite.");
    }
}
