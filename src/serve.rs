//! The HTTP server over the published files, and the catalog that renders them.
//!
//! The [`Catalog`] renders a path's bytes from the store through [`crate::publish`] and
//! keeps them until the content may have changed (an ingest or retag bumps the
//! generation; another process's commit changes SQLite's `data_version`), so that a poll
//! costs a lookup, not a query. `export` writes the same bytes the server sends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

use crate::item::short_hash;
use crate::publish::{self, Entry, Format, Section, Site};
use crate::store::queries::{self as q, ItemFilter, StoredItem};
use crate::store::{Store, StoreError};

/// One rendered file, with what HTTP caching needs.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Arc<Vec<u8>>,
    pub content_type: &'static str,
    /// Strong: a hash of the bytes, quoted.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

impl Rendered {
    fn new(body: String, content_type: &'static str, last_modified: DateTime<Utc>) -> Rendered {
        let etag = format!("\"{}\"", short_hash(&body));
        Rendered {
            body: Arc::new(body.into_bytes()),
            content_type,
            etag,
            last_modified,
        }
    }
}

/// The (generation, SQLite data_version) a cache was filled at, and the files in it.
type RenderCache = (Option<(u64, i64)>, HashMap<String, Rendered>);

/// Every published file, rendered on demand and cached until the content changes.
pub struct Catalog {
    store: Store,
    site: Site,
    feed_items: usize,
    /// Bumped by ingestion in this process when published content may have changed.
    generation: Arc<AtomicU64>,
    /// (generation, SQLite data_version) the cache was filled at, and the files.
    cache: Mutex<RenderCache>,
}

impl Catalog {
    pub fn new(store: Store, site: Site, feed_items: usize, generation: Arc<AtomicU64>) -> Catalog {
        Catalog {
            store,
            site,
            feed_items,
            generation,
            cache: Mutex::new((None, HashMap::new())),
        }
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Every path the catalog serves, relative to the site root.
    pub fn paths(&self) -> Vec<String> {
        let mut paths = vec!["index.html".to_string(), "feeds.opml".to_string()];
        let slugs = std::iter::once("all").chain(self.site.topics.iter().map(|t| t.id.as_str()));
        for slug in slugs {
            for format in Format::ALL {
                paths.push(format!("feeds/{slug}.{}", format.extension()));
            }
        }
        paths
    }

    /// The file at `path` (as in [`Catalog::paths`]), or `None` when there is no such file.
    pub async fn get(&self, path: &str) -> Result<Option<Rendered>, StoreError> {
        let version = self.version().await?;
        if let Some(hit) = self.cached(version, path) {
            return Ok(Some(hit));
        }
        let Some(rendered) = self.render(path).await? else {
            return Ok(None);
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != Some(version) {
            *cache = (Some(version), HashMap::new());
        }
        cache.1.insert(path.to_string(), rendered.clone());
        Ok(Some(rendered))
    }

    async fn version(&self) -> Result<(u64, i64), StoreError> {
        let generation = self.generation.load(Ordering::SeqCst);
        let data_version = self.store.call(|c| q::data_version(c)).await?;
        Ok((generation, data_version))
    }

    fn cached(&self, version: (u64, i64), path: &str) -> Option<Rendered> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        (cache.0 == Some(version))
            .then(|| cache.1.get(path).cloned())
            .flatten()
    }

    async fn render(&self, path: &str) -> Result<Option<Rendered>, StoreError> {
        match path {
            "index.html" | "" => self.render_index().await.map(Some),
            "feeds.opml" => {
                let newest = self.entries(None, 1).await?.first().map(|e| e.published);
                let body = publish::render_opml(&self.site);
                Ok(Some(Rendered::new(
                    body,
                    "text/x-opml; charset=utf-8",
                    newest.unwrap_or_default(),
                )))
            }
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
            "all" => None,
            id => match self.site.topics.iter().find(|t| t.id == id) {
                Some(topic) => Some(topic.clone()),
                None => return Ok(None),
            },
        };
        let entries = self
            .entries(topic.as_ref().map(|t| t.id.clone()), self.feed_items)
            .await?;
        let newest = entries.first().map(|e| e.published).unwrap_or_default();
        let body = publish::render_feed(&self.site, topic.as_ref(), &entries, format);
        Ok(Some(Rendered::new(body, format.content_type(), newest)))
    }

    async fn render_index(&self) -> Result<Rendered, StoreError> {
        let mut sections = Vec::new();
        for topic in &self.site.topics {
            let entries = self.entries(Some(topic.id.clone()), 5).await?;
            sections.push(Section {
                topic: topic.clone(),
                entries,
            });
        }
        let newest = sections
            .iter()
            .flat_map(|s| s.entries.first())
            .map(|e| e.published)
            .max();
        let body = publish::render_index(&self.site, &sections);
        Ok(Rendered::new(
            body,
            "text/html; charset=utf-8",
            newest.unwrap_or_default(),
        ))
    }

    async fn entries(&self, topic: Option<String>, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let filter = ItemFilter {
            topic,
            include_irrelevant: false,
            limit: Some(limit),
        };
        let items = self.store.call(move |c| q::list_items(c, &filter)).await?;
        Ok(items.into_iter().map(entry_of).collect())
    }
}

/// A stored item as published.
pub fn entry_of(stored: StoredItem) -> Entry {
    let item = stored.item;
    Entry {
        key: item.key,
        title: item.title,
        link: item.link,
        summary: item.summary,
        content_html: item.content_html,
        published: stored.date,
        updated: item.updated,
        authors: item.authors,
        topics: stored.decision.topics,
        lang: item.lang,
        source_id: item.source_id,
        source_name: stored.source_name,
        source_url: stored.source_url,
        also_reported: Vec::new(),
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct ServerState {
    pub catalog: Arc<Catalog>,
    /// `Cache-Control: max-age`, from the shortest schedule.
    pub max_age: Duration,
}

/// The router: the published files, `/healthz` and `/metrics`.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/feeds.opml", get(opml))
        .route("/feeds/{file}", get(feed))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: ServerState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn index(State(state): State<ServerState>, headers: HeaderMap) -> Response<Body> {
    respond(&state, "index.html", &headers).await
}

async fn opml(State(state): State<ServerState>, headers: HeaderMap) -> Response<Body> {
    respond(&state, "feeds.opml", &headers).await
}

async fn feed(
    State(state): State<ServerState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    respond(&state, &format!("feeds/{file}"), &headers).await
}

async fn healthz(State(state): State<ServerState>) -> Response<Body> {
    match state.catalog.store.call(|c| q::data_version(c)).await {
        Ok(_) => plain(StatusCode::OK, "ok\n".to_string()),
        Err(err) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {err}\n"),
        ),
    }
}

async fn metrics(State(state): State<ServerState>) -> Response<Body> {
    match state.catalog.store.call(|c| q::list_sources(c)).await {
        Ok(sources) => plain(StatusCode::OK, render_metrics(&sources)),
        Err(err) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("database error: {err}\n"),
        ),
    }
}

fn render_metrics(sources: &[q::SourceStatus]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, value: &dyn Fn(&q::SourceStatus) -> u64| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for s in sources {
            out.push_str(&format!("{name}{{source=\"{}\"}} {}\n", s.id, value(s)));
        }
    };
    family("entente_source_items", "Items stored per source.", &|s| {
        s.items
    });
    family(
        "entente_source_relevant_items",
        "Relevant items stored per source.",
        &|s| s.relevant,
    );
    family(
        "entente_source_consecutive_failures",
        "Consecutive failed fetches per source.",
        &|s| u64::from(s.consecutive_failures),
    );
    family(
        "entente_source_up",
        "1 when the last fetch of the source succeeded.",
        &|s| u64::from(s.status != "error"),
    );
    out
}

fn plain(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(body))
        .expect("static headers are valid")
}

async fn respond(state: &ServerState, path: &str, headers: &HeaderMap) -> Response<Body> {
    let rendered = match state.catalog.get(path).await {
        Ok(Some(rendered)) => rendered,
        Ok(None) => return plain(StatusCode::NOT_FOUND, format!("no such file: /{path}\n")),
        Err(err) => {
            tracing::error!(error = %err, path, "Rendering failed.");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error\n".to_string(),
            );
        }
    };
    let not_modified = is_not_modified(headers, &rendered);
    let builder = Response::builder()
        .header(header::ETAG, &rendered.etag)
        .header(header::LAST_MODIFIED, http_date(rendered.last_modified))
        .header(
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.max_age.as_secs()),
        )
        .header(header::VARY, "Accept-Encoding");
    let response = if not_modified {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static(rendered.content_type),
            )
            .body(Body::from(rendered.body.as_ref().clone()))
    };
    response.expect("rendered headers are valid")
}

/// RFC 9110: If-None-Match decides when present; else If-Modified-Since.
fn is_not_modified(headers: &HeaderMap, rendered: &Rendered) -> bool {
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == rendered.etag);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .is_some_and(|since| rendered.last_modified.timestamp() <= since.timestamp())
}

/// An HTTP date (IMF-fixdate).
pub fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}
