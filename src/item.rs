//! The domain types that flow between stages: an [`Item`] as normalised from a feed,
//! and its HTML, which is the feed's own until it is sanitized ([`ItemHtml`]).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use url::Url;

use crate::sanitize::sanitize_html;

/// One feed entry, normalised: plain-text title and summary, its HTML content (the
/// feed's, sanitized before anyone may read it), absolute link, and a stable key of
/// our own.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable within a source: from the entry's id, else its link, else its title and
    /// date. Never from feed-rs' generated ids, which are random for such entries.
    pub key: String,
    pub source_id: String,
    /// The entry's own id, when the feed gave one.
    pub guid: Option<String>,
    pub link: Option<String>,
    pub title: String,
    pub summary: String,
    pub content_html: Option<ItemHtml>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub lang: Option<String>,
}

impl Item {
    /// The key of an entry in a source: its id, else its link, else title and date.
    pub fn key_for(
        source_id: &str,
        guid: Option<&str>,
        link: Option<&str>,
        title: &str,
        published: Option<DateTime<Utc>>,
    ) -> String {
        // The hash of "SOURCE\nid\nGUID" (or "link\nLINK", or "text\nTITLE\nDATE"),
        // fed in parts rather than formatted first: the bytes, so the key, are the same.
        let mut hasher = Sha256::new();
        hasher.update(source_id.as_bytes());
        match (guid, link) {
            (Some(guid), _) => {
                hasher.update(b"\nid\n");
                hasher.update(guid.as_bytes());
            }
            (None, Some(link)) => {
                hasher.update(b"\nlink\n");
                hasher.update(link.as_bytes());
            }
            (None, None) => {
                let date = published.map(|d| d.to_rfc3339()).unwrap_or_default();
                hasher.update(b"\ntext\n");
                hasher.update(title.as_bytes());
                hasher.update(b"\n");
                hasher.update(date.as_bytes());
            }
        }
        hex(&hasher.finalize()[..16])
    }

    /// The date the item sorts by: its own (published, else updated), unless that is
    /// more than [`FUTURE_DATE_MARGIN_DAYS`] after `now` (the time it is stored), when
    /// `None` says "sort it as first seen". The item keeps its own date for display; a
    /// date such as 9999-12-31 must not pin it to the top of every feed.
    pub fn sane_sort_date(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.published
            .or(self.updated)
            .filter(|date| *date <= now + chrono::TimeDelta::days(FUTURE_DATE_MARGIN_DAYS))
    }

    /// A hash of what the feed said, to notice when a stored item changed: title,
    /// summary, link, date and the HTML as the feed sent it (a digest of it, kept
    /// when it is sanitized, so that an item hashes the same relevant or not).
    /// Written `2:` and 32 hex digits; [`Item::matches_legacy_hash`] reads the older
    /// form.
    pub fn content_hash(&self) -> String {
        let html_digest = self
            .content_html
            .as_ref()
            .map(ItemHtml::source_digest)
            .unwrap_or_default();
        let mut hasher = Sha256::new();
        for part in [
            self.title.as_bytes(),
            self.summary.as_bytes(),
            &html_digest,
            self.link.as_deref().unwrap_or_default().as_bytes(),
        ] {
            hasher.update(part);
            hasher.update([0]);
        }
        hasher.update(self.published_seconds().to_le_bytes());
        format!("{CONTENT_HASH_PREFIX}{}", hex(&hasher.finalize()[..16]))
    }

    /// Whether `stored` is this item's hash in the form written before the HTML was
    /// sanitized only for relevant items (32 hex digits over the sanitized HTML). An
    /// upgraded database compares its items once this way, at a sanitizer's parse
    /// each, instead of seeing every unchanged item as edited; the store then keeps
    /// the new form.
    pub fn matches_legacy_hash(&self, stored: &str) -> bool {
        if stored.starts_with(CONTENT_HASH_PREFIX) {
            return false;
        }
        let html = self
            .content_html
            .as_ref()
            .and_then(|html| html.to_safe_html());
        let mut hasher = Sha256::new();
        for part in [
            self.title.as_str(),
            self.summary.as_str(),
            html.as_deref().unwrap_or_default(),
            self.link.as_deref().unwrap_or_default(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(self.published_seconds().to_le_bytes());
        hex(&hasher.finalize()[..16]) == stored
    }

    fn published_seconds(&self) -> i64 {
        self.published.map(|d| d.timestamp()).unwrap_or_default()
    }

    /// Sanitizes the HTML now (for an item that will be published): the pipeline does
    /// it on its parser thread for the relevant items, so that the store's writer
    /// never waits for html5ever. HTML with nothing left once sanitized is dropped.
    pub fn sanitize_content(&mut self) {
        if let Some(html) = self.content_html.take() {
            self.content_html = html.into_sanitized();
        }
    }
}

/// The new form of [`Item::content_hash`].
const CONTENT_HASH_PREFIX: &str = "2:";

/// An item's HTML content: as the feed sent it, or sanitized. Parsing leaves it as the
/// feed's own, with the base its relative URLs resolve against, since nineteen items
/// in twenty are never published and html5ever's tree was most of a parse; the
/// pipeline sanitizes the relevant ones, the store every one it keeps as relevant,
/// and the only ways to read it as text are [`ItemHtml::to_safe_html`] and
/// [`ItemHtml::into_safe_html`], which sanitize what is not: no caller can publish
/// the feed's markup by mistake. The store alone sees the stored form
/// ([`ItemHtml::stored_form`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemHtml {
    html: String,
    form: HtmlForm,
}

/// Whether an [`ItemHtml`] is sanitized, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum HtmlForm {
    /// The feed's markup, unsafe to show; relative URLs resolve against `base`.
    Raw { base: Option<String> },
    /// Passed through [`sanitize_html`]. `source_digest` is the digest of the raw
    /// HTML it came from, when known, for [`Item::content_hash`].
    Sanitized { source_digest: Option<[u8; 16]> },
}

impl ItemHtml {
    /// The feed's HTML, not sanitized; `base` is what its relative URLs resolve against.
    pub fn raw(html: impl Into<String>, base: Option<&Url>) -> Self {
        ItemHtml {
            html: html.into(),
            form: HtmlForm::Raw {
                base: base.map(|b| b.as_str().to_string()),
            },
        }
    }

    /// HTML sanitized now.
    pub fn sanitized(html: &str, base: Option<&Url>) -> Option<Self> {
        ItemHtml::raw(html, base).into_sanitized()
    }

    /// The HTML in the form the store keeps it, read back: `base` is `Some` for the
    /// feed's raw markup (an empty base: none), `None` for sanitized HTML.
    pub fn from_stored(html: String, raw_base: Option<String>) -> Self {
        let form = match raw_base {
            Some(base) => HtmlForm::Raw {
                base: Some(base).filter(|b| !b.is_empty()),
            },
            None => HtmlForm::Sanitized {
                source_digest: None,
            },
        };
        ItemHtml { html, form }
    }

    /// What the store writes: the text, and the base when it is the feed's raw
    /// markup (see [`ItemHtml::from_stored`]). Not for showing to anyone.
    pub fn stored_form(&self) -> (&str, Option<&str>) {
        match &self.form {
            HtmlForm::Raw { base } => (&self.html, Some(base.as_deref().unwrap_or_default())),
            HtmlForm::Sanitized { .. } => (&self.html, None),
        }
    }

    pub fn is_sanitized(&self) -> bool {
        matches!(self.form, HtmlForm::Sanitized { .. })
    }

    /// HTML that is safe to publish, sanitized now if it was not; `None` when nothing
    /// is left.
    pub fn to_safe_html(&self) -> Option<Cow<'_, str>> {
        match &self.form {
            HtmlForm::Sanitized { .. } => Some(Cow::Borrowed(self.html.as_str())),
            HtmlForm::Raw { base } => {
                let base = base.as_deref().and_then(|b| Url::parse(b).ok());
                Some(sanitize_html(&self.html, base.as_ref()))
                    .filter(|html| !html.trim().is_empty())
                    .map(Cow::Owned)
            }
        }
    }

    /// [`ItemHtml::to_safe_html`], owned.
    pub fn into_safe_html(self) -> Option<String> {
        match self.form {
            HtmlForm::Sanitized { .. } => Some(self.html),
            HtmlForm::Raw { .. } => self.to_safe_html().map(Cow::into_owned),
        }
    }

    /// This HTML sanitized, remembering the digest of the raw form.
    pub fn into_sanitized(self) -> Option<Self> {
        if self.is_sanitized() {
            return Some(self);
        }
        let source_digest = Some(self.source_digest());
        let html = self.into_safe_html()?;
        Some(ItemHtml {
            html,
            form: HtmlForm::Sanitized { source_digest },
        })
    }

    /// A digest of the HTML as the feed sent it (of the sanitized text when that is
    /// all that is known).
    fn source_digest(&self) -> [u8; 16] {
        match self.form {
            HtmlForm::Sanitized {
                source_digest: Some(digest),
            } => digest,
            _ => {
                let digest = Sha256::digest(self.html.as_bytes());
                let mut first = [0; 16];
                first.copy_from_slice(&digest[..16]);
                first
            }
        }
    }
}

/// The validators stored from the last successful fetch of a source: what the fetcher
/// sends back and the store keeps, so it lives below both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// For servers that send neither: an unchanged body is not parsed again.
    pub body_hash: Option<String>,
}

/// How far ahead of its first sighting an item's date may be and still order it:
/// announcements of the coming days are dated ahead; a year 9999 or 2062 is a mistake.
pub const FUTURE_DATE_MARGIN_DAYS: i64 = 14;

/// How much of one feed is kept: a stranger's feed must not fill the database or make
/// every published file huge (one 9.8 MB title made each feed 59 MB). Set in
/// feeds.toml `[daemon.limits]`; the defaults are far above what real feeds send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldCaps {
    /// Entries kept from one fetched document (the first ones: feeds list newest first).
    pub max_items: usize,
    /// Characters of a title; a longer one is cut and ends in "…".
    pub max_title_chars: usize,
    /// Characters of the plain-text summary.
    pub max_summary_chars: usize,
    /// Bytes of an entry's HTML before sanitizing (the sanitizer closes what the cut
    /// leaves open).
    pub max_content_bytes: usize,
    /// Authors, and categories, kept per entry; each at most `max_short_chars`.
    pub max_list_len: usize,
    /// Characters of an author, a category or an entry's own id.
    pub max_short_chars: usize,
}

impl Default for FieldCaps {
    fn default() -> Self {
        FieldCaps {
            max_items: 2_000,
            max_title_chars: 1_000,
            max_summary_chars: 20_000,
            max_content_bytes: 512 * 1024,
            max_list_len: 50,
            max_short_chars: 500,
        }
    }
}

/// `text` cut to at most `max` characters, ending in "…" when it was cut.
pub fn truncate_chars(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    // No more bytes than `max` is no more characters: most texts are not walked.
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = text
                .char_indices()
                .nth(keep)
                .map_or(text.len(), |(at, _)| at);
            std::borrow::Cow::Owned(format!("{}…", text[..end].trim_end()))
        }
    }
}

/// [`truncate_chars`] of an owned text: a text within the cap is returned as it is,
/// not copied, but without the room it does not use (a text built from HTML was
/// given the HTML's length), since items wait in memory for the writer.
pub fn cap_chars(mut text: String, max: usize) -> String {
    match truncate_chars(&text, max) {
        std::borrow::Cow::Borrowed(_) => {
            text.shrink_to_fit();
            text
        }
        std::borrow::Cow::Owned(cut) => cut,
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character.
pub fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_prefer_the_guid_then_the_link() {
        let by_guid = Item::key_for("s", Some("g1"), Some("http://a/1"), "T", None);
        assert_eq!(
            by_guid,
            Item::key_for("s", Some("g1"), Some("http://a/other"), "X", None)
        );
        let by_link = Item::key_for("s", None, Some("http://a/1"), "T", None);
        assert_eq!(
            by_link,
            Item::key_for("s", None, Some("http://a/1"), "Retitled", None)
        );
        assert_ne!(by_guid, by_link);
    }

    #[test]
    fn a_far_future_date_does_not_sort_the_item() {
        let now = DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let at = |text: &str| Some(DateTime::parse_from_rfc3339(text).unwrap().to_utc());
        let mut item = Item {
            key: String::new(),
            source_id: "s".into(),
            guid: None,
            link: None,
            title: "t".into(),
            summary: String::new(),
            content_html: None,
            published: at("9999-12-31T23:59:59Z"),
            updated: None,
            authors: vec![],
            categories: vec![],
            lang: None,
        };
        assert_eq!(item.sane_sort_date(now), None);
        item.published = at("2026-06-10T12:00:00Z");
        assert_eq!(item.sane_sort_date(now), item.published);
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("Қазақстан", 4), "Қаз…");
        assert_eq!(truncate_chars("Paris", 5), "Paris");
        assert_eq!(truncate_bytes("éé", 3), "é");
        assert_eq!(truncate_bytes("ab", 5), "ab");
    }

    #[test]
    fn keys_keep_their_form() {
        // Stored keys must not change: 128 bits of SHA-256 over the formatted basis.
        let of = |basis: &str| hex(&Sha256::digest(basis.as_bytes())[..16]);
        let date = DateTime::parse_from_rfc3339("2026-06-01T08:30:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            Item::key_for("s", Some("g1"), Some("http://a/1"), "T", None),
            of("s\nid\ng1")
        );
        assert_eq!(
            Item::key_for("s", None, Some("http://a/1"), "T", None),
            of("s\nlink\nhttp://a/1")
        );
        assert_eq!(
            Item::key_for("s", None, None, "T", Some(date)),
            of("s\ntext\nT\n2026-06-01T08:30:00+00:00")
        );
        assert_eq!(
            Item::key_for("s", None, None, "T", None),
            of("s\ntext\nT\n")
        );
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn keys_differ_between_sources() {
        assert_ne!(
            Item::key_for("a", Some("g"), None, "", None),
            Item::key_for("b", Some("g"), None, "", None)
        );
    }
}
