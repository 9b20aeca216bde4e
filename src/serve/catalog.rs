//! The catalog: every published file rendered from the store, cached until its
//! content may have changed (see the module docs of [`crate::serve`]).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::item::short_hash;
use crate::publish::{self, AlsoReported, Entry, Format, Section, Site};
use crate::store::clusters::{self, Story};
use crate::store::queries as q;
use crate::store::{Store, StoreError};

/// One rendered file, with what HTTP caching needs.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The bytes `export` writes and the server sends without content coding.
    pub body: Arc<Vec<u8>>,
    /// The same bytes gzip- and brotli-compressed once, at rendering.
    gzip: Arc<Vec<u8>>,
    brotli: Arc<Vec<u8>>,
    pub content_type: &'static str,
    /// Strong: a hash of the bytes, quoted. Compressed variants append `-gzip`/`-br`
    /// inside the quotes, since a strong validator names one representation.
    pub etag: String,
    /// When the server first rendered these bytes (see [`Catalog`]'s history).
    pub last_modified: DateTime<Utc>,
}

impl Rendered {
    fn new(body: String, content_type: &'static str) -> Rendered {
        let etag = format!("\"{}\"", short_hash(&body));
        let body = body.into_bytes();
        Rendered {
            gzip: Arc::new(gzip(&body)),
            brotli: Arc::new(brotli(&body)),
            body: Arc::new(body),
            content_type,
            etag,
            last_modified: DateTime::default(),
        }
    }

    /// The bytes and ETag of the file in a content coding.
    pub(super) fn variant(&self, coding: Coding) -> (&Arc<Vec<u8>>, String) {
        let tagged = |suffix: &str| format!("{}-{suffix}\"", self.etag.trim_end_matches('"'));
        match coding {
            Coding::Identity => (&self.body, self.etag.clone()),
            Coding::Gzip => (&self.gzip, tagged("gzip")),
            Coding::Brotli => (&self.brotli, tagged("br")),
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .expect("compressing into memory cannot fail")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .expect("compressing into memory cannot fail");
    out
}

/// Which published files changed through this process's ingests, so that only those
/// are rendered again. Shared by the pipeline (which records) and the catalog.
#[derive(Debug, Default)]
pub struct Changes {
    /// Bumped by every change: the `all` feeds and the front page show every topic.
    any: AtomicU64,
    /// Bumped per topic whose feeds changed.
    topics: Mutex<HashMap<String, u64>>,
    /// Bumped when every topic may have changed; part of each topic's version.
    all_topics: AtomicU64,
}

impl Changes {
    /// Records that these topics' feeds (and so `all` and the front page) changed.
    pub fn record<'a>(&self, topics: impl IntoIterator<Item = &'a String>) {
        let mut versions = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        for topic in topics {
            *versions.entry(topic.clone()).or_default() += 1;
        }
        self.any.fetch_add(1, Ordering::SeqCst);
    }

    /// Records that any published file may have changed (a prune, a retag, a purge
    /// in this process), so that each is rendered again at its next request.
    pub fn record_all(&self) {
        self.all_topics.fetch_add(1, Ordering::SeqCst);
        self.any.fetch_add(1, Ordering::SeqCst);
    }

    /// The version of what a file shows: it changes when the file may have.
    fn version(&self, scope: &Scope) -> u64 {
        match scope {
            Scope::Fixed => 0,
            Scope::Everything => self.any.load(Ordering::SeqCst),
            Scope::Topic(id) => {
                let versions = self.topics.lock().unwrap_or_else(|p| p.into_inner());
                let topic = versions.get(id).copied().unwrap_or_default();
                // Both only grow, so their sum changes when either does.
                topic.wrapping_add(self.all_topics.load(Ordering::SeqCst))
            }
        }
    }
}

/// What a published file's bytes depend on.
enum Scope {
    /// Only the configuration: the OPML list.
    Fixed,
    /// Every topic: the `all` feeds and the front page.
    Everything,
    Topic(String),
}

/// A rendered file and the versions it was rendered at.
struct Cached {
    data_version: i64,
    changes: u64,
    rendered: Rendered,
}

/// Every published file, rendered on demand and cached until the content changes.
///
/// `Last-Modified` is the time this catalog first rendered the current bytes of a file,
/// strictly increasing per file. Not the newest entry's date: a feed also changes when
/// an older-dated item arrives late, when another outlet's copy adds an "Also reported
/// by" link, or when `retag` removes an item, and a client asking `If-Modified-Since`
/// must not be told 304 then.
pub struct Catalog {
    pub(super) store: Store,
    site: Site,
    feed_items: usize,
    changes: Arc<Changes>,
    cache: Mutex<HashMap<String, Cached>>,
    /// Per path: the ETag last rendered and when those bytes were first rendered.
    history: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

/// How many of each topic's latest stories the front page shows.
const FRONT_PAGE_ITEMS: usize = 5;

impl Catalog {
    pub fn new(store: Store, site: Site, feed_items: usize, changes: Arc<Changes>) -> Catalog {
        Catalog {
            store,
            site,
            feed_items,
            changes,
            cache: Mutex::new(HashMap::new()),
            history: Mutex::new(HashMap::new()),
        }
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Every path the catalog serves, relative to the site root.
    pub fn paths(&self) -> Vec<String> {
        let mut paths = vec!["index.html".to_string(), publish::OPML_PATH.to_string()];
        for topic in self.site.feed_topics() {
            for format in Format::ALL {
                paths.push(publish::feed_path(publish::feed_slug(topic), format));
            }
        }
        paths
    }

    /// The file at `path` (as in [`Catalog::paths`]), or `None` when there is no such file.
    pub async fn get(&self, path: &str) -> Result<Option<Rendered>, StoreError> {
        let path = if path.is_empty() { "index.html" } else { path };
        let Some(scope) = self.scope(path) else {
            return Ok(None);
        };
        let changes = self.changes.version(&scope);
        let data_version = self.store.call(|c| q::data_version(c)).await?;
        if let Some(hit) = self.cached(path, data_version, changes) {
            return Ok(Some(hit));
        }
        let Some(mut rendered) = self.render(path).await? else {
            return Ok(None);
        };
        rendered.last_modified = self.first_rendered(path, &rendered.etag);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let entry = Cached {
            data_version,
            changes,
            rendered: rendered.clone(),
        };
        cache.insert(path.to_string(), entry);
        Ok(Some(rendered))
    }

    /// What the file at `path` depends on; `None` when there is no such file.
    fn scope(&self, path: &str) -> Option<Scope> {
        match path {
            "index.html" => return Some(Scope::Everything),
            publish::OPML_PATH => return Some(Scope::Fixed),
            _ => {}
        }
        let (slug, extension) = path.strip_prefix("feeds/")?.rsplit_once('.')?;
        Format::from_extension(extension)?;
        if slug == publish::ALL_SLUG {
            return Some(Scope::Everything);
        }
        let topic = self.site.topics.iter().find(|t| t.id == slug)?;
        Some(Scope::Topic(topic.id.clone()))
    }

    fn cached(&self, path: &str, data_version: i64, changes: u64) -> Option<Rendered> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(path)
            .filter(|c| c.data_version == data_version && c.changes == changes)
            .map(|c| c.rendered.clone())
    }

    /// When these bytes of `path` were first rendered: kept while the ETag stays, else
    /// now, and always later than the previous bytes' time (HTTP dates have whole
    /// seconds, and two changes within one second must still be told apart).
    fn first_rendered(&self, path: &str, etag: &str) -> DateTime<Utc> {
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let now = Utc::now()
            .duration_trunc(TimeDelta::seconds(1))
            .unwrap_or_else(|_| Utc::now());
        let since = match history.get(path) {
            Some((previous, since)) if previous == etag => *since,
            Some((_, since)) => now.max(*since + TimeDelta::seconds(1)),
            None => now,
        };
        history.insert(path.to_string(), (etag.to_string(), since));
        since
    }

    async fn render(&self, path: &str) -> Result<Option<Rendered>, StoreError> {
        match path {
            "index.html" => self.render_index().await.map(Some),
            publish::OPML_PATH => Ok(Some(Rendered::new(
                publish::render_opml(&self.site),
                "text/x-opml; charset=utf-8",
            ))),
            _ => self.render_feed(path).await,
        }
    }

    async fn render_feed(&self, path: &str) -> Result<Option<Rendered>, StoreError> {
        let Some((slug, extension)) = path.strip_prefix("feeds/").and_then(|f| f.rsplit_once('.'))
        else {
            return Ok(None);
        };
        let Some(format) = Format::from_extension(extension) else {
            return Ok(None);
        };
        let topic = match slug {
            publish::ALL_SLUG => None,
            id => match self.site.topics.iter().find(|t| t.id == id) {
                Some(topic) => Some(topic.clone()),
                None => return Ok(None),
            },
        };
        let entries = self
            .entries(topic.as_ref().map(|t| t.id.clone()), self.feed_items)
            .await?;
        let body = publish::render_feed(&self.site, topic.as_ref(), &entries, format);
        Ok(Some(Rendered::new(body, format.content_type())))
    }

    async fn render_index(&self) -> Result<Rendered, StoreError> {
        let mut sections = Vec::new();
        for topic in &self.site.topics {
            let entries = self
                .entries(Some(topic.id.clone()), FRONT_PAGE_ITEMS)
                .await?;
            sections.push(Section {
                topic: topic.clone(),
                entries,
            });
        }
        let body = publish::render_index(&self.site, &sections);
        Ok(Rendered::new(body, "text/html; charset=utf-8"))
    }

    /// The latest published stories, one entry each.
    async fn entries(&self, topic: Option<String>, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let stories = self
            .store
            .call(move |c| clusters::list_stories(c, topic.as_deref(), limit))
            .await?;
        Ok(stories.into_iter().map(entry_of).collect())
    }
}

/// A story as published: its shown item, with the other outlets' copies.
pub fn entry_of(story: Story) -> Entry {
    let item = story.shown.item;
    Entry {
        key: item.key,
        title: item.title,
        link: item.link,
        summary: item.summary,
        content_html: item.content_html,
        published: story.shown.date,
        updated: item.updated,
        authors: item.authors,
        topics: story.topics,
        lang: item.lang,
        source_id: item.source_id,
        source_name: story.shown.source_name,
        source_url: story.shown.source_url,
        also_reported: story
            .duplicates
            .into_iter()
            .map(|copy| AlsoReported {
                title: copy.title,
                link: copy.link.unwrap_or_default(),
                source_name: copy.source_name,
            })
            .collect(),
    }
}

/// A content coding the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    pub(super) fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }
}
