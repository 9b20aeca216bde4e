//! What storing an item costs in CPU, done before the item reaches the writer.
//!
//! The store has one writer thread, and it was most of a pass's CPU (BENCHMARKS.md,
//! branch store4): every cycle it spends on an item is a cycle no other core can take
//! from it. Compressing the text (zstd), hashing the content (SHA-256), the canonical
//! link and its hash, the title signature and the JSON of the authors and categories
//! depend on the item and its relevance alone, so they are computed here, on the
//! thread that parsed the feed ([`prepare`]), and the writer only writes.
//!
//! An operator's correction, applied by the writer (it reads the `corrections` table
//! in the feed's transaction), may change an item's relevance, and with it what is
//! stored: [`PreparedItem::refresh`] redoes the work then, for that item alone.

use std::borrow::Cow;

use super::clusters;
use super::rows::{pack, text_hash};
use crate::classify::{Decision, Evidence, RuleText};
use crate::item::{Item, ItemHtml};

/// A fetched feed's items, prepared for the writer (see the module).
#[derive(Debug, Default)]
pub struct PreparedFeed {
    pub(super) items: Vec<PreparedItem>,
}

/// Prepares a feed's items for the store: call it where the feed is parsed, off the
/// writer's thread. [`super::Store::ingest`] takes its result (or the items as they
/// are, which it prepares on the caller's thread).
pub fn prepare(items: Vec<(Item, Decision)>) -> PreparedFeed {
    PreparedFeed {
        items: items
            .into_iter()
            .map(|(item, decision)| PreparedItem::new(item, decision))
            .collect(),
    }
}

impl From<Vec<(Item, Decision)>> for PreparedFeed {
    fn from(items: Vec<(Item, Decision)>) -> Self {
        prepare(items)
    }
}

impl FromIterator<(Item, Decision)> for PreparedFeed {
    fn from_iter<I: IntoIterator<Item = (Item, Decision)>>(items: I) -> Self {
        prepare(items.into_iter().collect())
    }
}

impl PreparedFeed {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Each item, its decision, and the bytes of its packed row (body, keys, lists),
    /// for a caller that bounds what waits for the writer by its memory.
    pub fn entries(&self) -> impl Iterator<Item = (&Item, &Decision, usize)> {
        self.items.iter().map(|prepared| {
            let stored = &prepared.stored;
            let packed = stored.body.as_ref().map_or(0, Vec::len)
                + stored.content_html.as_ref().map_or(0, String::len)
                + stored.canonical_url.as_ref().map_or(0, String::len)
                + stored.title_signature.as_ref().map_or(0, String::len)
                + stored.authors.len()
                + stored.categories.len()
                + prepared.content_hash.len();
            (&prepared.item, &prepared.decision, packed)
        })
    }
}

/// One item, its decision, and what its row needs.
#[derive(Debug)]
pub(super) struct PreparedItem {
    pub item: Item,
    pub decision: Decision,
    /// [`Item::content_hash`].
    pub content_hash: String,
    /// What is stored, for the relevance it was worked out for (see
    /// [`PreparedItem::refresh`]).
    pub stored: Stored,
}

/// The columns an item's row gets that depend on its relevance.
#[derive(Debug)]
pub(super) struct Stored {
    relevant: bool,
    /// `summary`: empty when the text is packed into `body`.
    pub summary_packed: bool,
    /// `content_html` as stored (see `ItemHtml::stored_form`), when not packed.
    pub content_html: Option<String>,
    /// `raw_html_base`, packed or not: NULL for sanitized HTML, else the base of the
    /// raw HTML's relative URLs.
    pub raw_html_base: Option<String>,
    pub body: Option<Vec<u8>>,
    pub canonical_url: Option<String>,
    pub url_hash: Option<i64>,
    pub title_signature: Option<String>,
    pub authors: String,
    pub categories: String,
}

impl PreparedItem {
    pub(super) fn new(item: Item, mut decision: Decision) -> PreparedItem {
        // The writer stores the verdict, score, threshold and topics, never the
        // evidence; of it only which topics' terms matched, in order, can matter there
        // (an operator's correction that marks the item relevant without topics takes
        // those: `Correction::apply`), so the first evidence of each topic is kept. The
        // rest is freed here, on the parser's thread, rather than by the writer, and
        // waits for it in no queue.
        keep_first_of_each_topic(&mut decision.evidence);
        let content_hash = item.content_hash();
        let stored = Stored::of(&item, decision.relevant);
        PreparedItem {
            item,
            decision,
            content_hash,
            stored,
        }
    }

    /// Works the stored columns out again when a correction changed the item's
    /// relevance since [`prepare`]; the writer calls it before it writes the row.
    pub(super) fn refresh(&mut self) {
        if self.stored.relevant != self.decision.relevant {
            self.stored = Stored::of(&self.item, self.decision.relevant);
        }
    }
}

impl Stored {
    fn of(item: &Item, relevant: bool) -> Stored {
        let (canonical_url, title_signature) = clusters::keys_if(relevant, item);
        let url_hash = canonical_url.as_deref().map(text_hash);
        let html = html_to_store(item, relevant);
        let (html, raw_html_base) = html.as_deref().map(ItemHtml::stored_form).unzip();
        let packed = pack(&item.summary, html, relevant);
        Stored {
            relevant,
            summary_packed: packed.summary.is_empty() && packed.body.is_some(),
            content_html: packed.content_html.map(str::to_string),
            raw_html_base: raw_html_base.flatten().map(str::to_string),
            body: packed.body,
            canonical_url,
            url_hash,
            title_signature,
            authors: serde_json::to_string(&item.authors).unwrap_or_else(|_| "[]".into()),
            categories: serde_json::to_string(&item.categories).unwrap_or_else(|_| "[]".into()),
        }
    }
}

/// Keeps of `evidence` only the first record of each topic (`topic:ID`), in order.
fn keep_first_of_each_topic(evidence: &mut Vec<Evidence>) {
    let mut seen: Vec<RuleText> = Vec::new();
    evidence.retain(|e| {
        let first = e.role.starts_with("topic:") && !seen.contains(&e.role);
        if first {
            // The rules' shared text: a count, not a copy.
            seen.push(e.role.clone());
        }
        first
    });
}

/// The HTML an item is stored with: sanitized when the item is relevant (published),
/// else as the feed sent it. The pipeline sanitizes relevant items on its workers; this
/// catches the others (an operator's correction applied at ingest, a caller of the
/// store's own).
fn html_to_store(item: &Item, relevant: bool) -> Option<Cow<'_, ItemHtml>> {
    let html = item.content_html.as_ref()?;
    if relevant && !html.is_sanitized() {
        html.clone().into_sanitized().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(html))
    }
}
