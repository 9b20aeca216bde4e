//! The catalog: every published file rendered from the store, cached until its
//! content may have changed (see the module docs of [`crate::serve`]).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};

use crate::classify::Topic;
use sha2::{Digest, Sha256};

use super::threads;
use crate::item::{hex, ItemHtml};
use crate::publish::{
    self, AlsoReported, Entry, FeedId, Format, Health, Lang, Outlet, Page, PageKind, SearchResults,
    Site, SitePath,
};
use crate::store::clusters::{self, Story};
use crate::store::published::{self, Rendering};
use crate::store::{Changes, Store, StoreError};

/// One rendered file, with what HTTP caching needs.
///
/// Everything a response needs is computed once per rendering, never per request:
/// the ETags of each content coding, the `Last-Modified` date as a header, and each
/// compressed variant the first time a client asks for it (so `export`, which writes
/// only the plain bytes, never compresses: the same bytes, by the same code).
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The bytes `export` writes and the server sends without content coding.
    pub body: Arc<Vec<u8>>,
    /// The gzip and brotli variants, compressed on first use and shared by clones.
    compressed: Arc<Compressed>,
    pub content_type: &'static str,
    /// Strong: a hash of the bytes, quoted. Compressed variants append `-gzip`/`-br`
    /// inside the quotes, since a strong validator names one representation.
    pub etag: String,
    /// `etag` and its two tagged forms, as headers: identity, gzip, brotli.
    etag_headers: Arc<[HeaderValue; 3]>,
    /// When the server first rendered these bytes (see [`Catalog`]'s history).
    pub last_modified: DateTime<Utc>,
    /// `last_modified` as an HTTP date.
    last_modified_header: HeaderValue,
}

/// A file's compressed variants, each made at most once.
#[derive(Debug, Default)]
struct Compressed {
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

impl Compressed {
    fn cell(&self, coding: Coding) -> Option<&OnceLock<Bytes>> {
        match coding {
            Coding::Identity => None,
            Coding::Gzip => Some(&self.gzip),
            Coding::Brotli => Some(&self.brotli),
        }
    }
}

/// The plain bytes, shared with [`Rendered::body`] by a response without a copy.
struct SharedBody(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Rendered {
    fn new(body: String, content_type: &'static str) -> Rendered {
        Rendered::from_bytes(body.into_bytes(), content_type)
    }

    fn from_bytes(body: Vec<u8>, content_type: &'static str) -> Rendered {
        let hash = hex(&Sha256::digest(&body)[..16]);
        let header = |tag: String| HeaderValue::from_str(&tag).expect("hex is a valid header");
        Rendered {
            body: Arc::new(body),
            compressed: Arc::default(),
            content_type,
            etag: format!("\"{hash}\""),
            etag_headers: Arc::new([
                header(format!("\"{hash}\"")),
                header(format!("\"{hash}-gzip\"")),
                header(format!("\"{hash}-br\"")),
            ]),
            last_modified: DateTime::default(),
            last_modified_header: http_date_header(DateTime::default()),
        }
    }

    /// These bytes, first rendered at `time`.
    fn first_rendered_at(mut self, time: DateTime<Utc>) -> Rendered {
        self.last_modified = time;
        self.last_modified_header = http_date_header(time);
        self
    }

    /// The bytes and ETag of the file in `coding`, and that coding. A compressed
    /// variant is made by the first request that asks for it, on a publishing thread
    /// (see [`Rendered::compressed`]).
    pub(super) async fn variant(&self, coding: Coding) -> (Coding, Bytes, &HeaderValue) {
        let bytes = match self.compressed(coding).await {
            Some(bytes) => bytes,
            None => Bytes::from_owner(SharedBody(Arc::clone(&self.body))),
        };
        (coding, bytes, self.etag_header(coding))
    }

    /// The ETag of the file in `coding`, as a header.
    pub(super) fn etag_header(&self, coding: Coding) -> &HeaderValue {
        let index = match coding {
            Coding::Identity => 0,
            Coding::Gzip => 1,
            Coding::Brotli => 2,
        };
        &self.etag_headers[index]
    }

    /// The variant in a compressed `coding`, made now if no request made it before;
    /// `None` for identity.
    ///
    /// Brotli over a feed of large items takes seconds of CPU, so it runs on one of
    /// the two publishing threads ([`super::threads`]), never on the async runtime.
    /// The work belongs to that thread: a client that leaves does not stop it, and
    /// the next request finds the result. Requests for a variant being made wait for
    /// that one compression (the `OnceLock`), not for one of their own.
    async fn compressed(&self, coding: Coding) -> Option<Bytes> {
        let cell = self.compressed.cell(coding)?;
        if let Some(done) = cell.get() {
            return Some(done.clone());
        }
        let (compressed, body) = (Arc::clone(&self.compressed), Arc::clone(&self.body));
        threads::run(move || {
            let cell = compressed.cell(coding)?;
            let bytes = cell.get_or_init(|| {
                let token = coding.token().unwrap_or_default();
                tracing::debug!(
                    coding = token,
                    bytes = body.len(),
                    "Compressing a published file."
                );
                let started = std::time::Instant::now();
                let bytes = match coding {
                    Coding::Brotli => brotli(&body),
                    Coding::Gzip | Coding::Identity => gzip(&body),
                };
                tracing::debug!(
                    coding = token,
                    bytes = bytes.len(),
                    millis = started.elapsed().as_millis(),
                    "Compressed a published file."
                );
                Bytes::from(bytes)
            });
            Some(bytes.clone())
        })
        .await
    }

    /// `Last-Modified`, formatted once.
    pub(super) fn last_modified_header(&self) -> &HeaderValue {
        &self.last_modified_header
    }
}

fn http_date_header(time: DateTime<Utc>) -> HeaderValue {
    HeaderValue::from_str(&super::http::http_date(time)).expect("an HTTP date is a valid header")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .expect("compressing into memory cannot fail")
}

/// Brotli's smallest and default window, in bits of its size.
const BROTLI_WINDOW_BITS: std::ops::RangeInclusive<u32> = 10..=22;

/// Brotli at quality 9, with a window no larger than the file: the encoder's ring
/// buffer and hash tables grow with the window, and the default (4 MiB) is many times
/// what most feeds and pages need.
fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 4);
    let fitted = usize::BITS - bytes.len().saturating_sub(1).leading_zeros();
    let window = fitted.clamp(*BROTLI_WINDOW_BITS.start(), *BROTLI_WINDOW_BITS.end());
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: i32::try_from(window).unwrap_or(22),
        size_hint: bytes.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .expect("compressing into memory cannot fail");
    out
}

/// What a published file's bytes depend on.
enum Scope {
    /// Only the configuration: the OPML list.
    Fixed,
    /// Every topic: the `all` feeds and the front page.
    Everything,
    Topic(String),
}

/// A rendered file and the version of its scope it was rendered at.
struct Cached {
    changes: u64,
    rendered: Rendered,
}

/// Every published file, rendered on demand and cached until the content changes.
///
/// `Last-Modified` is when the current bytes of a file were first rendered, stored
/// with their ETag in the database (so a restart keeps it) and strictly increasing per
/// file. Not the newest entry's date: a feed also changes when an older-dated item
/// arrives late, when another outlet's copy adds an "Also reported by" link, or when
/// `retag` removes an item, and a client asking `If-Modified-Since` must not be told
/// 304 then.
pub struct Catalog {
    pub(super) store: Store,
    /// Shared with the publishing threads that render from it.
    site: Arc<Site>,
    feed_items: usize,
    cache: Mutex<HashMap<SitePath, Cached>>,
    /// Per file, the rendering whose time was given out last, behind a lock of its own:
    /// two renderings of one file (in a busy pass every batch changes the `all` feeds)
    /// take their times one after the other, so new bytes are always dated after the
    /// bytes before them, while other files, and unchanged bytes, wait for nobody.
    issued: Mutex<HashMap<SitePath, Arc<tokio::sync::Mutex<Option<Rendering>>>>>,
}

/// How many stories a page shows (the front page, a topic's).
const PAGE_ITEMS: usize = 30;

/// How many search results a page shows.
pub const SEARCH_PAGE_ITEMS: usize = 20;

/// The deepest search results page served: ranking more is work no reader needs.
const MAX_SEARCH_PAGE: usize = 50;

impl Catalog {
    /// The catalog over `store`, whose [`Changes`] say when a cached file is stale.
    pub fn new(store: Store, site: Site, feed_items: usize) -> Catalog {
        Catalog {
            store,
            site: Arc::new(site),
            feed_items,
            cache: Mutex::new(HashMap::new()),
            issued: Mutex::new(HashMap::new()),
        }
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    /// What the store's commits changed.
    pub fn changes(&self) -> &Arc<Changes> {
        self.store.changes()
    }

    /// Every file the catalog publishes.
    pub fn site_paths(&self) -> Vec<SitePath> {
        let mut paths: Vec<SitePath> = Lang::ALL.into_iter().map(SitePath::Index).collect();
        for lang in Lang::ALL {
            for topic in &self.site.topics {
                paths.push(SitePath::Topic {
                    topic: topic.id.clone(),
                    lang,
                });
            }
        }
        paths.push(SitePath::Opml);
        paths.extend(self.feeds().into_iter().map(SitePath::Feed));
        paths.push(SitePath::Stylesheet);
        paths.push(SitePath::Favicon);
        paths
    }

    /// Every feed: each topic and `all`, in every format, of every language and of each.
    pub fn feeds(&self) -> Vec<FeedId> {
        let mut feeds = Vec::new();
        for topic in self.site.feed_topics() {
            for lang in std::iter::once(None).chain(Lang::ALL.map(Some)) {
                for format in Format::ALL {
                    feeds.push(FeedId {
                        topic: topic.map(|t| t.id.clone()),
                        lang,
                        format,
                    });
                }
            }
        }
        feeds
    }

    /// Every file the catalog publishes, by its name under the export folder.
    pub fn paths(&self) -> Vec<String> {
        self.site_paths().iter().map(SitePath::file).collect()
    }

    /// The file at `path` (a request path or a name from [`Catalog::paths`]), or
    /// `None` when there is no such file.
    pub async fn get(&self, path: &str) -> Result<Option<Rendered>, StoreError> {
        match SitePath::parse(path) {
            Some(path) => self.get_path(&path).await,
            None => Ok(None),
        }
    }

    /// The file at `path` (a name from [`Catalog::paths`]) rendered now, by the same
    /// code as [`Catalog::get`], without the server's cache or its `Last-Modified`
    /// bookkeeping: for `export`, which writes the bytes only. A write between two
    /// renderings would also empty every reader's page cache (SQLite drops it when the
    /// database changed), so that each file would read its rows from disk again.
    pub async fn render_file(&self, path: &str) -> Result<Option<Rendered>, StoreError> {
        let Some(path) = SitePath::parse(path) else {
            return Ok(None);
        };
        if self.scope(&path).is_none() {
            return Ok(None);
        }
        Ok(Some(self.render(&path).await?))
    }

    /// The file at `path` as rendered since the last change of what it shows, if it
    /// was: no rendering, no database read, no await (the server answers a conditional
    /// request for it before routing). `None` also when that cannot be told without
    /// the database (another process's commit to look for failed): [`Catalog::get_path`]
    /// then reports it.
    pub fn get_cached(&self, path: &SitePath) -> Option<Rendered> {
        let scope = self.scope(path)?;
        self.store.notice_other_commits().ok()?;
        self.cached(path, self.version(&scope))
    }

    /// The file at `path`, or `None` when it names a topic the site does not have.
    pub async fn get_path(&self, path: &SitePath) -> Result<Option<Rendered>, StoreError> {
        let Some(scope) = self.scope(path) else {
            return Ok(None);
        };
        // What the store's commits changed: versions in memory, no query (see
        // `Store::notice_other_commits` for other processes' commits).
        self.store.notice_other_commits()?;
        let changes = self.version(&scope);
        if let Some(hit) = self.cached(path, changes) {
            return Ok(Some(hit));
        }
        let rendered = self.render(path).await?;
        let first = self.first_rendered(path, &rendered.etag).await?;
        let rendered = rendered.first_rendered_at(first);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        // A slower rendering of older content must not replace a newer one.
        if cache.get(path).is_none_or(|c| c.changes <= changes) {
            let entry = Cached {
                changes,
                rendered: rendered.clone(),
            };
            cache.insert(path.clone(), entry);
        }
        Ok(Some(rendered))
    }

    /// When the bytes with `etag` at `path` were first rendered. Bytes that did not
    /// change (a commit elsewhere invalidated the file, not its content) keep the time
    /// of the rendering before, remembered or, after a restart, read from the record
    /// on a read connection: neither waits for the writer, which holds its connection
    /// for a whole batch (a 6,000-item feed took seconds under load, and every request
    /// for the file waited: the `no_stall` test). Only new bytes are recorded through
    /// it, with the file's lock held (see `issued`).
    async fn first_rendered(
        &self,
        path: &SitePath,
        etag: &str,
    ) -> Result<DateTime<Utc>, StoreError> {
        // A read-only database (`export` from one) cannot keep when these bytes were
        // first rendered; an export writes no Last-Modified, so now stands in.
        if self.store.is_read_only() {
            return Ok(Utc::now());
        }
        let slot = {
            let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(issued.entry(path.clone()).or_default())
        };
        let mut last = slot.lock().await;
        let file = path.file();
        let before = match last.clone() {
            Some(before) => Some(before),
            None => {
                let file = file.clone();
                self.store
                    .read(move |c| published::recorded(c, &file))
                    .await?
            }
        };
        let now = Rendering::after(before.as_ref(), etag, Utc::now());
        if before.as_ref() != Some(&now) {
            let record = now.clone();
            self.store
                .call_unpublished(move |c| published::record(c, &file, &record))
                .await?;
        }
        let since = now.since;
        *last = Some(now);
        Ok(since)
    }

    /// What the file at `path` depends on; `None` when there is no such file.
    fn scope(&self, path: &SitePath) -> Option<Scope> {
        let topic = match path {
            SitePath::Index(_) => return Some(Scope::Everything),
            SitePath::Opml | SitePath::Stylesheet | SitePath::Favicon => return Some(Scope::Fixed),
            SitePath::Topic { topic, .. } => Some(topic),
            SitePath::Feed(feed) => feed.topic.as_ref(),
        };
        match topic {
            None => Some(Scope::Everything),
            Some(id) => {
                let topic = self.topic(id)?;
                // A page also shows the outlets' health, which any ingest may change.
                if matches!(path, SitePath::Topic { .. }) {
                    return Some(Scope::Everything);
                }
                Some(Scope::Topic(topic.id.clone()))
            }
        }
    }

    fn topic(&self, id: &str) -> Option<&Topic> {
        self.site.topics.iter().find(|t| t.id == id)
    }

    /// The version of what a file shows: it changes when the file may have.
    fn version(&self, scope: &Scope) -> u64 {
        let changes = self.store.changes();
        match scope {
            Scope::Fixed => 0,
            Scope::Everything => changes.of_all(),
            Scope::Topic(id) => changes.of_topic(id),
        }
    }

    fn cached(&self, path: &SitePath, changes: u64) -> Option<Rendered> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(path)
            .filter(|c| c.changes == changes)
            .map(|c| c.rendered.clone())
    }

    /// Renders a path that [`Catalog::scope`] accepted: the rows read and the bytes
    /// made on a publishing thread ([`super::threads`]), never on the async runtime
    /// (a feed of large items takes seconds to render).
    async fn render(&self, path: &SitePath) -> Result<Rendered, StoreError> {
        let site = Arc::clone(&self.site);
        Ok(match path {
            SitePath::Index(lang) => self.render_page(*lang, None).await?,
            SitePath::Topic { topic, lang } => {
                let topic = self.topic(topic).cloned();
                self.render_page(*lang, topic).await?
            }
            SitePath::Feed(feed) => self.render_feed(feed).await?,
            SitePath::Opml => {
                threads::run(move || {
                    Rendered::new(publish::render_opml(&site), "text/x-opml; charset=utf-8")
                })
                .await
            }
            SitePath::Stylesheet => {
                Rendered::new(publish::STYLESHEET.to_string(), "text/xsl; charset=utf-8")
            }
            SitePath::Favicon => Rendered::from_bytes(publish::favicon(), "image/x-icon"),
        })
    }

    async fn render_feed(&self, feed: &FeedId) -> Result<Rendered, StoreError> {
        let mut rendered = self.render_feed_formats(feed, &[feed.format]).await?;
        Ok(rendered.pop().expect("one format asked, one rendered"))
    }

    /// The feed of `feed`'s topic and language in each of `formats`, from one reading
    /// of its stories, as [`Catalog::render_file`] renders each: `export` writes the
    /// three formats of each feed, which read the same stories (a third of the
    /// listings' reads of an export before). Read and rendered on a publishing thread.
    pub async fn render_feed_formats(
        &self,
        feed: &FeedId,
        formats: &[Format],
    ) -> Result<Vec<Rendered>, StoreError> {
        let topic = feed.topic.as_deref().and_then(|id| self.topic(id)).cloned();
        let (store, site) = (self.store.clone(), Arc::clone(&self.site));
        let (lang, limit, formats) = (feed.lang, self.feed_items, formats.to_vec());
        let feed = feed.clone();
        threads::run(move || {
            let id = topic.as_ref().map(|t| t.id.as_str());
            let stories = read_stories(&store, id, lang, limit)?;
            let entries: Vec<Entry> = stories.into_iter().map(entry_of).collect();
            Ok(formats
                .iter()
                .map(|&format| {
                    let file = SitePath::Feed(FeedId {
                        format,
                        ..feed.clone()
                    })
                    .file();
                    let body = logged(&file, || {
                        publish::render_feed_in(&site, topic.as_ref(), lang, &entries, format)
                    });
                    Rendered::new(body, format.content_type())
                })
                .collect())
        })
        .await
    }

    /// A front or topic page: the latest stories, those in the page's language first.
    async fn render_page(&self, lang: Lang, topic: Option<Topic>) -> Result<Rendered, StoreError> {
        let file = match &topic {
            Some(topic) => SitePath::Topic {
                topic: topic.id.clone(),
                lang,
            }
            .file(),
            None => SitePath::Index(lang).file(),
        };
        let html = self
            .render_html(lang, file, move |store| {
                let id = topic.as_ref().map(|t| t.id.as_str());
                let mut stories = read_stories(store, id, Some(lang), PAGE_ITEMS)?;
                let others = read_stories(store, id, None, PAGE_ITEMS)?;
                let others: Vec<Story> = others
                    .into_iter()
                    .filter(|o| !stories.iter().any(|s| s.shown.item.key == o.shown.item.key))
                    .collect();
                stories.extend(others);
                let kind = match topic {
                    Some(topic) => Kind::Topic(topic),
                    None => Kind::Front,
                };
                Ok((kind, stories))
            })
            .await?;
        Ok(Rendered::new(html, "text/html; charset=utf-8"))
    }

    /// The search results page for `query`; `page` counts from 1. Not cached: every
    /// query is its own page.
    pub async fn search(&self, query: &str, lang: Lang, page: usize) -> Result<String, StoreError> {
        let page = page.clamp(1, MAX_SEARCH_PAGE);
        let offset = (page - 1) * SEARCH_PAGE_ITEMS;
        let query = query.to_string();
        self.render_html(lang, "search".to_string(), move |store| {
            let mut stories = store
                .read_blocking(|c| published::search(c, &query, SEARCH_PAGE_ITEMS + 1, offset))?;
            let has_next = stories.len() > SEARCH_PAGE_ITEMS && page < MAX_SEARCH_PAGE;
            stories.truncate(SEARCH_PAGE_ITEMS);
            let kind = Kind::Search(SearchResults {
                query,
                page,
                has_next,
            });
            Ok((kind, stories))
        })
        .await
    }

    /// A page of the stories `read` finds, with the outlets' health: read and
    /// rendered on a publishing thread, so that the rows, the texts unpacked from them
    /// and the markup are all allocated by the two threads that publish (see
    /// [`super::threads`] for why that bounds the memory), never by tokio's threads.
    async fn render_html(
        &self,
        lang: Lang,
        file: String,
        read: impl FnOnce(&Store) -> Result<(Kind, Vec<Story>), StoreError> + Send + 'static,
    ) -> Result<String, StoreError> {
        let (store, site) = (self.store.clone(), Arc::clone(&self.site));
        threads::run(move || {
            let (kind, stories) = read(&store)?;
            let sources = store.read_blocking(published::outlets)?;
            Ok(logged(&file, move || {
                let outlets = sources
                    .into_iter()
                    .map(|s| Outlet {
                        health: match s.status.as_str() {
                            "pending" => Health::Pending,
                            _ if s.consecutive_failures > 0 => Health::Failing,
                            _ => Health::Ok,
                        },
                        name: if s.name.trim().is_empty() {
                            s.id
                        } else {
                            s.name
                        },
                    })
                    .collect();
                let stories: Vec<Entry> = stories.into_iter().map(entry_of).collect();
                let updated = stories.iter().map(|e| e.published).max();
                let kind = match &kind {
                    Kind::Front => PageKind::Front,
                    Kind::Topic(topic) => PageKind::Topic(topic),
                    Kind::Search(search) => PageKind::Search(search.clone()),
                };
                let page = Page {
                    lang,
                    kind,
                    stories,
                    outlets,
                    updated,
                };
                publish::render_page(&site, &page)
            }))
        })
        .await
    }
}

/// The latest published stories, one each, of one language's items if given; on this
/// thread (a publishing one), from a reader connection of the pool.
fn read_stories(
    store: &Store,
    topic: Option<&str>,
    lang: Option<Lang>,
    limit: usize,
) -> Result<Vec<Story>, StoreError> {
    store.read_blocking(|c| match lang {
        Some(lang) => published::list_stories_in(c, topic, lang.code(), limit),
        None => clusters::list_stories(c, topic, limit),
    })
}

/// `render()`, between a line before and one after in the debug log: how long a
/// file takes to render, and a mark that tests use to know a rendering is under way.
fn logged(file: &str, render: impl FnOnce() -> String) -> String {
    tracing::debug!(file, "Rendering a published file.");
    let started = std::time::Instant::now();
    let text = render();
    tracing::debug!(
        file,
        bytes = text.len(),
        millis = started.elapsed().as_millis(),
        "Rendered a published file."
    );
    text
}

/// What a page is, owned, to be sent to a publishing thread ([`PageKind`] borrows).
enum Kind {
    Front,
    Topic(Topic),
    Search(SearchResults),
}

/// A story as published: its shown item, with the other outlets' copies.
pub fn entry_of(story: Story) -> Entry {
    let item = story.shown.item;
    Entry {
        key: item.key,
        title: item.title,
        link: item.link,
        summary: item.summary,
        content_html: item.content_html.and_then(ItemHtml::into_safe_html),
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
