//! How values are written to and read from rows: timestamps, the stored item, and the
//! classifier's decision in its compact stored form. Every table module uses these;
//! they use none (the packed text's compression is [`codec`]'s).

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::ValueRef;
use rusqlite::Row;

use super::codec;
use crate::classify::Decision;
use crate::item::{Item, ItemHtml};

/// Timestamps are stored as fixed-width RFC 3339 in UTC, so text order is time order.
pub fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A 64-bit hash of a text for an index key (`items.url_hash`): the first 8 bytes of
/// its SHA-256, so that it never changes with the program or the platform. An index of
/// it is a fifth of one of the text; a lookup compares the text after the hash.
pub(crate) fn text_hash(text: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut first = [0_u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

pub(super) fn parse_time(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Texts shorter than this (summary and HTML together) are stored as they are:
/// compressing them saves nothing.
const PACK_FROM_BYTES: usize = 256;

/// An item's summary and HTML as stored: in the `body` column, together in one
/// compressed stream ([`codec`]: zstd; raw deflate in rows from before), when long and
/// the item irrelevant; else in `summary` and `content_html` as text, with `body`
/// NULL. Relevant items keep their text in the columns: the search index
/// (`item_search`) is kept from them by triggers. They were nine tenths of a row; the
/// summary is mostly the HTML's text, so one stream stores it almost for free, and
/// text compresses to a quarter (the farm's word lists) or about a half (real news).
/// Rows stored before migration 0003 have no `body` and read as before.
pub(super) struct Packed<'a> {
    pub summary: &'a str,
    pub content_html: Option<&'a str>,
    pub body: Option<Vec<u8>>,
}

pub(super) fn pack<'a>(
    summary: &'a str,
    content_html: Option<&'a str>,
    relevant: bool,
) -> Packed<'a> {
    let html = content_html.unwrap_or_default();
    if relevant || summary.len() + html.len() < PACK_FROM_BYTES {
        return Packed {
            summary,
            content_html,
            body: None,
        };
    }
    // [1 if there is HTML][summary length, u32 LE][summary][HTML]
    let mut plain = Vec::with_capacity(5 + summary.len() + html.len());
    plain.push(u8::from(content_html.is_some()));
    plain.extend_from_slice(
        &u32::try_from(summary.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    plain.extend_from_slice(summary.as_bytes());
    plain.extend_from_slice(html.as_bytes());
    Packed {
        summary: "",
        content_html: None,
        body: Some(codec::compress(&plain)),
    }
}

pub(super) fn unpack(body: &[u8]) -> Result<(String, Option<String>), String> {
    let plain = codec::decompress(body)?;
    let (&has_html, rest) = plain.split_first().ok_or("an empty packed body")?;
    let (length, rest) = rest
        .split_at_checked(4)
        .ok_or("a packed body without its length")?;
    let length = u32::from_le_bytes(length.try_into().map_err(|_| "a bad length")?) as usize;
    let (summary, html) = rest
        .split_at_checked(length)
        .ok_or("a packed body shorter than its summary")?;
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string());
    Ok((
        text(summary)?,
        (has_html == 1).then(|| text(html)).transpose()?,
    ))
}

/// What is kept of a decision: the verdict, the score against its threshold, and the
/// topics. The evidence is not stored: the classifier is a pure function of the
/// stored text and the rules, so `explain` recomputes it (and says when the rules
/// have changed since the stored verdict), and it was four fifths of a row.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDecision {
    #[serde(default)]
    threshold: f64,
    #[serde(default)]
    topics: Vec<String>,
}

/// The `decision` column's text for a decision.
pub(super) fn decision_json(decision: &Decision) -> Result<String, serde_json::Error> {
    serde_json::to_string(&StoredDecision {
        threshold: decision.threshold,
        topics: decision.topics.clone(),
    })
}

/// Whether two decisions agree on everything that is stored: the verdict, the score,
/// the threshold and the topics (the evidence follows from the text and the rules).
pub fn same_verdict(a: &Decision, b: &Decision) -> bool {
    a.relevant == b.relevant
        && a.score == b.score
        && a.threshold == b.threshold
        && a.topics == b.topics
}

/// An item as stored, with its source's name and the classifier's decision (without
/// its evidence: see [`same_verdict`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    pub item: Item,
    pub source_name: String,
    pub source_url: String,
    pub first_seen: DateTime<Utc>,
    /// Published, else first seen.
    pub date: DateTime<Utc>,
    pub decision: Decision,
}

/// The columns [`stored_item`] reads, in order, from `items i LEFT JOIN sources s`.
pub const ITEM_COLUMNS: &str = "i.id, i.key, i.source_id, i.guid, i.link, i.title, i.summary,
    i.content_html, i.published, i.updated, i.first_seen, i.sort_date, i.authors,
    i.categories, i.lang, i.decision, COALESCE(s.name, i.source_id), COALESCE(s.url, ''),
    i.relevant, i.score, i.body, i.raw_html_base";

/// How many columns [`ITEM_COLUMNS`] names: a query may select more after them.
pub const ITEM_COLUMN_COUNT: usize = 22;

pub fn stored_item(row: &Row<'_>) -> rusqlite::Result<StoredItem> {
    let json = |i: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = row.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    let first_seen = parse_time(row.get(10)?).unwrap_or_default();
    let (summary, content_html) = match row.get_ref(20)? {
        ValueRef::Blob(body) => unpack(body).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(20, rusqlite::types::Type::Blob, e.into())
        })?,
        _ => (row.get(6)?, row.get(7)?),
    };
    Ok(StoredItem {
        id: row.get(0)?,
        item: Item {
            key: row.get(1)?,
            source_id: row.get(2)?,
            guid: row.get(3)?,
            link: row.get(4)?,
            title: row.get(5)?,
            summary,
            content_html: match content_html {
                Some(html) => Some(ItemHtml::from_stored(html, row.get(21)?)),
                None => None,
            },
            published: parse_time(row.get(8)?),
            updated: parse_time(row.get(9)?),
            authors: json(12)?,
            categories: json(13)?,
            lang: row.get(14)?,
        },
        source_name: row.get(16)?,
        source_url: row.get(17)?,
        first_seen,
        date: parse_time(row.get(11)?).unwrap_or(first_seen),
        decision: decision_of(row, 15, 18, 19)?,
    })
}

/// The decision from its columns. Rows written before migration 0003 hold the whole
/// decision as JSON; its evidence is dropped on reading, as it is no longer stored.
fn decision_of(
    row: &Row<'_>,
    json: usize,
    relevant: usize,
    score: usize,
) -> rusqlite::Result<Decision> {
    let text = match row.get_ref(json)? {
        ValueRef::Text(text) => text,
        _ => b"{}",
    };
    let stored: StoredDecision = serde_json::from_slice(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(json, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Decision {
        relevant: row.get(relevant)?,
        score: row.get(score)?,
        threshold: stored.threshold,
        topics: stored.topics,
        evidence: Vec::new(),
        parts: Default::default(),
    })
}
