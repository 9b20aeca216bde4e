//! What may reach a reader from a stranger's HTML: ammonia's allow-list (no script,
//! style, iframe, event attributes, `<base>`, forms), and on top of it, because
//! ammonia checks only `href`/`src`-like attributes:
//! - every attribute that holds a URL (`cite` on `blockquote`, `q`, `del`, `ins`
//!   included) is http(s) or mailto, absolute, without `user:pass@`;
//! - 1×1 (or 0×0) images, tracking pixels, are dropped;
//! - nesting deeper than [`MAX_DEPTH`] is flattened first, since html5ever's tree
//!   building is quadratic in the depth.

use std::borrow::Cow;
use std::collections::HashSet;

use url::Url;

use crate::text::{limit_nesting, strip_unsafe_chars, MAX_DEPTH};

/// Sanitized HTML: see the module docs. Relative URLs are made absolute against `base`.
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    drop_tracking_pixels(&clean(html, base))
}

/// ammonia's pass with our allow-list, before tracking pixels are dropped.
fn clean(html: &str, base: Option<&Url>) -> String {
    let chars_safe = strip_unsafe_chars(html);
    let html = limit_nesting(&chars_safe, MAX_DEPTH);
    let mut builder = ammonia::Builder::default();
    builder.url_schemes(HashSet::from(["http", "https", "mailto"]));
    let filter_base = base.cloned();
    builder.attribute_filter(move |element, attribute, value| {
        safe_attribute(element, attribute, value, filter_base.as_ref())
    });
    if let Some(base) = base {
        builder.url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()));
    }
    builder.clean(&html).to_string()
}

/// Attributes that hold a URL and that ammonia does not check itself.
fn is_unchecked_url_attribute(attribute: &str) -> bool {
    matches!(
        attribute,
        "cite" | "longdesc" | "background" | "poster" | "action"
    )
}

fn safe_attribute<'u>(
    _element: &str,
    attribute: &str,
    value: &'u str,
    base: Option<&Url>,
) -> Option<Cow<'u, str>> {
    let holds_url = matches!(attribute, "href" | "src") || is_unchecked_url_attribute(attribute);
    if !holds_url {
        return Some(Cow::Borrowed(value));
    }
    let trimmed = value.trim();
    let url = match Url::parse(trimmed) {
        Ok(url) => url,
        // Relative: ammonia rewrites href and src against the base; the others we do.
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let resolved = base?.join(trimmed).ok()?;
            if is_unchecked_url_attribute(attribute) {
                return is_safe_url(&resolved).then(|| Cow::Owned(resolved.to_string()));
            }
            return is_safe_url(&resolved).then_some(Cow::Borrowed(value));
        }
        Err(_) => return None,
    };
    is_safe_url(&url).then(|| Cow::Owned(url.to_string()))
}

/// http(s) or mailto, with no credentials in it.
pub fn is_safe_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https" | "mailto")
        && url.username().is_empty()
        && url.password().is_none()
}

/// Removes `<img>` whose `width` and `height` are both at most 1: tracking pixels.
/// Works on ammonia's output, whose tags are well formed and attributes quoted.
fn drop_tracking_pixels(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<img") {
        out.push_str(&rest[..at]);
        let tag_len = serialized_tag_len(&rest[at..]);
        let tag = &rest[at..at + tag_len];
        if !is_tracking_pixel(tag) {
            out.push_str(tag);
        }
        rest = &rest[at + tag_len..];
    }
    out.push_str(rest);
    out
}

/// The length of the tag at the start of `html`, to its `>` outside quotes (html5ever
/// quotes attribute values but leaves `<` and `>` in them as they are).
fn serialized_tag_len(html: &str) -> usize {
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

fn is_tracking_pixel(tag: &str) -> bool {
    let dimension = |name: &str| -> Option<u32> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let digits: String = tag[at..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    matches!((dimension("width"), dimension("height")), (Some(w), Some(h)) if w <= 1 && h <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize_html(html, Url::parse("https://ex.org/a/").ok().as_ref())
    }

    #[test]
    fn cite_must_be_a_web_url() {
        assert_eq!(
            clean(r#"<blockquote cite="javascript:alert(1)">q</blockquote>"#),
            "<blockquote>q</blockquote>"
        );
        assert_eq!(clean(r#"<q cite=" JaVaScRiPt:x">q</q>"#), "<q>q</q>");
        assert_eq!(
            clean(r#"<del cite="data:text/html,x">d</del>"#),
            "<del>d</del>"
        );
        assert_eq!(
            clean(r#"<blockquote cite="/src">q</blockquote>"#),
            r#"<blockquote cite="https://ex.org/src">q</blockquote>"#
        );
    }

    #[test]
    fn credentials_in_links_and_other_schemes_are_dropped() {
        assert_eq!(
            clean(r#"<a href="https://user:pass@ex.org/">x</a>"#),
            r#"<a rel="noopener noreferrer">x</a>"#
        );
        assert_eq!(
            clean(r#"<a href="vbscript:msgbox">x</a><img src="data:image/png;base64,AA">"#),
            r#"<a rel="noopener noreferrer">x</a><img>"#
        );
    }

    #[test]
    fn tracking_pixels_are_dropped() {
        assert_eq!(
            clean(r#"<p>a<img src="https://t.ex/p.gif" width="1" height="1">b</p>"#),
            "<p>ab</p>"
        );
        assert_eq!(
            clean(r#"<img src="https://ex.org/photo.jpg" width="640" height="1">"#),
            r#"<img src="https://ex.org/photo.jpg" width="640" height="1">"#
        );
    }

    #[test]
    fn deep_nesting_is_flattened() {
        let deep = format!("{}x{}", "<div>".repeat(100_000), "</div>".repeat(100_000));
        let cleaned = clean(&deep);
        assert!(cleaned.contains('x'));
        // The depth bound is what keeps html5ever linear (the benchmark measures it).
        assert!(cleaned.matches("<div>").count() <= MAX_DEPTH);
    }
}
