//! The domain types that flow between stages: an [`Item`] as normalised from a feed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One feed entry, normalised: plain-text title and summary, sanitized HTML content,
/// absolute link, and a stable key of our own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub content_html: Option<String>,
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
        let basis = match (guid, link) {
            (Some(guid), _) => format!("id\n{guid}"),
            (None, Some(link)) => format!("link\n{link}"),
            (None, None) => {
                let date = published.map(|d| d.to_rfc3339()).unwrap_or_default();
                format!("text\n{title}\n{date}")
            }
        };
        short_hash(&format!("{source_id}\n{basis}"))
    }

    /// A hash of what a reader sees, to notice when a stored item changed.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.title.as_str(),
            self.summary.as_str(),
            self.content_html.as_deref().unwrap_or_default(),
            self.link.as_deref().unwrap_or_default(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(
            self.published
                .map(|d| d.timestamp())
                .unwrap_or_default()
                .to_le_bytes(),
        );
        hex(&hasher.finalize()[..16])
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

/// 128 bits of SHA-256 in hex: short enough to read, long enough never to collide here.
pub fn short_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes())[..16])
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    fn keys_differ_between_sources() {
        assert_ne!(
            Item::key_for("a", Some("g"), None, "", None),
            Item::key_for("b", Some("g"), None, "", None)
        );
    }
}
