//! The axum router over the catalog: each request path parsed once into a
//! [`SitePath`], conditional requests, content coding, language, 404s, search, health;
//! and, before it, the 304s of files the catalog holds rendered.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use futures_util::future::Either;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

use super::catalog::{Catalog, Coding, Rendered};
use super::connections::{BusyBody, Connections};
use super::health::Health;
use crate::metrics::{self, Metrics};
use crate::publish::{self, Lang, SitePath};
use crate::store::queries as q;

/// What the handlers share. The published site can be replaced while the server runs
/// (a reload changed topics or titles); the metrics and health are the daemon's.
#[derive(Clone)]
pub struct ServerState {
    published: Arc<RwLock<Published>>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

/// The catalog in force and how long clients may cache what it renders.
#[derive(Clone)]
struct Published {
    catalog: Arc<Catalog>,
    /// `Cache-Control: public, max-age=…`, from the shortest schedule; formatted once.
    cache_control: HeaderValue,
}

impl Published {
    fn new(catalog: Arc<Catalog>, max_age: Duration) -> Published {
        let cache_control =
            HeaderValue::from_str(&format!("public, max-age={}", max_age.as_secs()))
                .expect("digits are a valid header");
        Published {
            catalog,
            cache_control,
        }
    }
}

impl ServerState {
    /// A server over `catalog`, with metrics and health of its own.
    pub fn new(catalog: Arc<Catalog>, max_age: Duration) -> ServerState {
        ServerState::with(
            catalog,
            max_age,
            Arc::new(Metrics::default()),
            Arc::new(Health::default()),
        )
    }

    pub fn with(
        catalog: Arc<Catalog>,
        max_age: Duration,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
    ) -> ServerState {
        ServerState {
            published: Arc::new(RwLock::new(Published::new(catalog, max_age))),
            metrics,
            health,
        }
    }

    /// The catalog requests are answered from now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.published().catalog
    }

    /// From the next request on, answer from `catalog`.
    pub fn replace_catalog(&self, catalog: Arc<Catalog>, max_age: Duration) {
        *self.published.write().unwrap_or_else(|p| p.into_inner()) =
            Published::new(catalog, max_age);
    }

    fn published(&self) -> Published {
        self.published
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The router: the published files (every path [`SitePath`] parses), search,
/// `/healthz` and `/metrics`. `HEAD` is answered wherever `GET` is, other methods get
/// 405; unknown paths are a 404 that does not repeat the path; every response says
/// `X-Content-Type-Options: nosniff`.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/search", get(search))
        .fallback(site_file)
        .layer(axum::middleware::map_response(no_sniff))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

async fn no_sniff(response: Response<Body>) -> Response<Body> {
    no_sniff_header(response)
}

fn no_sniff_header(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// How long a client may take to send a request's headers (from the connection's
/// start, or the end of the previous response): slowloris and idle keep-alive
/// connections are closed after it.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes of request line and headers read (larger: 431).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// File descriptors kept back from connections, for the database, the fetcher's
/// sockets and exported files.
const RESERVED_FDS: usize = 256;

/// The soft open-file limit the server raises itself to, when the hard limit allows:
/// enough for tens of thousands of idle connections at once, each of which the header
/// timeout closes within seconds.
const WANTED_OPEN_FILES: u64 = 65_536;

/// Connections served at once under a soft open-file limit of `open_files` (`None`:
/// unlimited): the limit less [`RESERVED_FDS`], so idle sockets cannot exhaust the
/// file descriptors. Past it a new connection takes the place of the one idle
/// longest, or is closed at once when every connection has a request in flight.
pub fn connection_limit(open_files: Option<u64>) -> usize {
    let open_files = open_files.unwrap_or(WANTED_OPEN_FILES);
    usize::try_from(open_files)
        .unwrap_or(usize::MAX)
        .saturating_sub(RESERVED_FDS)
        .max(64)
}

/// Raises the soft limit on open files to [`WANTED_OPEN_FILES`], or to the hard
/// limit when that is lower; returns the soft limit in force (`None`: unlimited).
/// 1024 is where a login shell or a systemd unit starts, and 768 idle sockets would
/// fill it; Go's runtime and most servers raise it the same way.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    let wanted = WANTED_OPEN_FILES.min(hard);
    match limit.current {
        Some(soft) if soft < wanted => {
            let raised = Rlimit {
                current: Some(wanted),
                maximum: limit.maximum,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => Some(wanted),
                Err(error) => {
                    tracing::warn!(%error, soft, wanted, "Cannot raise the open-file limit.");
                    Some(soft)
                }
            }
        }
        current => current,
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}

/// How long requests in flight may take to finish after `shutdown`.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves, then lets requests in flight finish (for at
/// most [`SHUTDOWN_GRACE`]). Each connection is HTTP/1.1 with
/// [`HEADER_READ_TIMEOUT`] and [`MAX_HEADER_BYTES`], at most [`connection_limit`] at
/// once; when none is free, the connection idle longest is closed to make room
/// ([`Connections`]); a failed `accept` (out of file descriptors) waits a moment and
/// goes on.
pub async fn serve(
    listener: TcpListener,
    state: ServerState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let open_files = raise_open_file_limit();
    let connections = Connections::new(connection_limit(open_files));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "Cannot accept a connection.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // No room even after closing the connection idle longest: every one is busy.
        let Some(connection) = connections.admit().await else {
            drop(stream);
            continue;
        };
        let router = hyper_util::service::TowerToHyperService::new(app.clone());
        let tracked = Arc::clone(&connection);
        let state = state.clone();
        let service = hyper::service::service_fn(move |request| {
            let busy = tracked.busy();
            let answer = match not_modified_from_cache(&state, &request) {
                Some(response) => Either::Left(std::future::ready(Ok(response))),
                None => Either::Right(hyper::service::Service::call(&router, request)),
            };
            async move {
                let response = answer.await?;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| Body::new(BusyBody::new(body, busy))),
                )
            }
        });
        let served = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let served = graceful.watch(served);
        tokio::spawn(async move {
            // Closed for a new client: dropping the connection closes its socket.
            tokio::select! {
                _ = served => {}
                () = connection.shed() => {}
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("Connections still open after the grace period; closing them.");
        }
    }
    Ok(())
}

/// Any path but the routes: a published file, else 404.
async fn site_file(
    State(state): State<ServerState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed();
    }
    let Some((path, negotiated)) = site_path(&uri, &headers) else {
        return not_found(&state, &headers, uri.path());
    };
    respond(&state, &path, &headers, negotiated, uri.path()).await
}

/// The published file a request names, and whether its language was negotiated: the
/// bare `/` speaks the reader's language; `/index.html` and `/fr/` are fixed.
fn site_path(uri: &Uri, headers: &HeaderMap) -> Option<(SitePath, bool)> {
    let path = SitePath::parse(uri.path())?;
    let negotiated = uri.path() == "/";
    let path = match path {
        SitePath::Index(_) if negotiated => SitePath::Index(Lang::negotiate(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )),
        path => path,
    };
    Some((path, negotiated))
}

/// The 304 for a conditional `GET` of a file the catalog holds rendered and the client
/// holds already, answered before the router (whose extractors, layers and boxed
/// futures were two thirds of a 304's instructions: BENCHMARKS.md, "serving 304s");
/// `None` for every other request, which the router answers as before.
pub(super) fn not_modified_from_cache<B>(
    state: &ServerState,
    request: &hyper::Request<B>,
) -> Option<Response<Body>> {
    let headers = request.headers();
    if request.method() != Method::GET
        || !(headers.contains_key(header::IF_NONE_MATCH)
            || headers.contains_key(header::IF_MODIFIED_SINCE))
    {
        return None;
    }
    let (path, negotiated) = site_path(request.uri(), headers)?;
    let published = state.published();
    let rendered = published.catalog.get_cached(&path)?;
    if !is_not_modified(headers, &rendered) {
        return None;
    }
    let response = not_modified(state, &published, &path, negotiated, &rendered, headers);
    // The router's layer adds it to everything else.
    Some(no_sniff_header(response))
}

/// The query of `/search`: `q`, the interface language, the results page.
#[derive(Debug, serde::Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    lang: Option<String>,
    page: Option<String>,
}

/// The longest query read, in characters; the rest is ignored.
const MAX_QUERY_CHARS: usize = 200;

async fn search(
    State(state): State<ServerState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response<Body> {
    let Ok(Query(query)) = query else {
        return plain(
            StatusCode::BAD_REQUEST,
            "malformed query string\n".to_string(),
        );
    };
    let lang = query
        .lang
        .as_deref()
        .and_then(Lang::from_code)
        .unwrap_or_else(|| {
            Lang::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        });
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1);
    let text: String = query.q.chars().take(MAX_QUERY_CHARS).collect();
    match state.catalog().search(text.trim(), lang, page).await {
        Ok(body) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CONTENT_LANGUAGE, lang.code())
            .header(header::CACHE_CONTROL, "no-cache")
            .body(Body::from(body))
            .expect("static headers are valid"),
        Err(err) => {
            tracing::error!(error = %err, "Search failed.");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error\n".to_string(),
            )
        }
    }
}

/// Whether the client is a browser navigating: it asks for HTML.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html") || v.contains("application/xhtml+xml"))
}

/// An RSS or Atom feed, which names the XSLT stylesheet.
fn is_xml_feed(path: &SitePath) -> bool {
    matches!(path, SitePath::Feed(feed) if feed.format != crate::publish::Format::Json)
}

fn method_not_allowed() -> Response<Body> {
    Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .header(header::ALLOW, "GET, HEAD")
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from("only GET and HEAD are served\n"))
        .expect("static headers are valid")
}

/// 404: a page with links home for browsers (they ask for `text/html`), the same
/// words as plain text for everyone else; in the language of the path or the reader.
fn not_found(state: &ServerState, headers: &HeaderMap, path: &str) -> Response<Body> {
    let catalog = state.catalog();
    let site = catalog.site();
    let lang = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .and_then(Lang::from_code)
        .unwrap_or_else(|| {
            Lang::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        });
    let (body, content_type) = if wants_html(headers) {
        (
            publish::render_not_found(site, lang),
            "text/html; charset=utf-8",
        )
    } else {
        (
            publish::not_found_text(site, lang),
            "text/plain; charset=utf-8",
        )
    };
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LANGUAGE, lang.code())
        .header(header::VARY, "Accept, Accept-Language")
        .body(Body::from(body))
        .expect("static headers are valid")
}

/// Liveness and readiness as JSON: `status` is `ok` while the database answers (else
/// 503, `unavailable`); the configuration's state says whether the last reload failed,
/// which does not make the daemon unhealthy (it runs on the previous configuration).
async fn healthz(State(state): State<ServerState>) -> Response<Body> {
    let store = state.catalog().store.clone();
    // On a read connection of the pool, which does not wait behind the writer: a long
    // ingest is not an outage. A locked or broken database must not hang the probe.
    let probe = tokio::time::timeout(Duration::from_secs(5), store.read(q::data_version)).await;
    let database = match probe {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("no answer within 5 s".to_string()),
    };
    let status = if database.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if database.is_ok() { "ok" } else { "unavailable" },
        "database": { "ok": database.is_ok(), "error": database.err() },
        "config": state.health.config(),
    });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!("{body}\n")))
        .expect("static headers are valid")
}

async fn metrics(State(state): State<ServerState>) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
        .body(Body::from(state.metrics.encode()))
        .expect("static headers are valid")
}

fn plain(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(body))
        .expect("static headers are valid")
}

async fn respond(
    state: &ServerState,
    path: &SitePath,
    headers: &HeaderMap,
    negotiated: bool,
    requested: &str,
) -> Response<Body> {
    let published = state.published();
    let rendered = match published.catalog.get_path(path).await {
        Ok(Some(rendered)) => rendered,
        Ok(None) => return not_found(state, headers, requested),
        Err(err) => {
            tracing::error!(error = %err, path = requested, "Rendering failed.");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error\n".to_string(),
            );
        }
    };
    if is_not_modified(headers, &rendered) {
        return not_modified(state, &published, path, negotiated, &rendered, headers);
    }
    let (coding, bytes, _) = rendered.variant(negotiate(headers)).await;
    // Browsers show `application/rss+xml` as text or offer a download; as
    // `application/xml` they apply the feed's stylesheet. Readers never ask for HTML,
    // and any reader parses either.
    let content_type = if is_xml_feed(path) && wants_html(headers) {
        "application/xml; charset=utf-8"
    } else {
        rendered.content_type
    };
    state.metrics.feed_request(metrics::Response::Served);
    let builder = file_headers(&published, path, negotiated, &rendered, coding);
    let builder = match coding.token() {
        Some(token) => builder.header(header::CONTENT_ENCODING, token),
        None => builder,
    };
    builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, HeaderValue::from_static(content_type))
        .body(Body::from(bytes))
        .expect("rendered headers are valid")
}

/// The 304 for a file the client holds: no body, so nothing is compressed for it; its
/// ETag is the one a 200 in the client's coding would carry.
fn not_modified(
    state: &ServerState,
    published: &Published,
    path: &SitePath,
    negotiated: bool,
    rendered: &Rendered,
    headers: &HeaderMap,
) -> Response<Body> {
    state.metrics.feed_request(metrics::Response::NotModified);
    file_headers(published, path, negotiated, rendered, negotiate(headers))
        .status(StatusCode::NOT_MODIFIED)
        .body(Body::empty())
        .expect("rendered headers are valid")
}

/// The headers a published file's 200 and 304 share: its validators in `coding`,
/// caching, what it varies by, its language and WebSub links.
fn file_headers(
    published: &Published,
    path: &SitePath,
    negotiated: bool,
    rendered: &Rendered,
    coding: Coding,
) -> axum::http::response::Builder {
    let vary = if negotiated {
        "Accept-Encoding, Accept-Language"
    } else if is_xml_feed(path) {
        "Accept-Encoding, Accept"
    } else {
        "Accept-Encoding"
    };
    let mut builder = Response::builder()
        .header(header::ETAG, rendered.etag_header(coding).clone())
        .header(
            header::LAST_MODIFIED,
            rendered.last_modified_header().clone(),
        )
        .header(header::CACHE_CONTROL, published.cache_control.clone())
        .header(header::VARY, HeaderValue::from_static(vary));
    if let SitePath::Index(lang) | SitePath::Topic { lang, .. } = path {
        builder = builder.header(header::CONTENT_LANGUAGE, lang.code());
    }
    if let (SitePath::Feed(_), Some(hub)) = (path, &published.catalog.site().websub_hub) {
        // WebSub discovery (W3C WebSub §4): the hub and the feed's own URL.
        let link = format!(
            "<{hub}>; rel=\"hub\", <{}>; rel=\"self\"",
            published.catalog.site().page_url(path)
        );
        if let Ok(value) = HeaderValue::from_str(&link) {
            builder = builder.header(header::LINK, value);
        }
    }
    builder
}

/// The smallest coding the client accepts: brotli, else gzip, else none. A coding is
/// accepted when listed (or `*`) with a non-zero q-value.
fn negotiate(headers: &HeaderMap) -> Coding {
    let accepted: Vec<(String, bool)> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|part| {
            let mut fields = part.split(';').map(str::trim);
            let name = fields.next().unwrap_or_default().to_ascii_lowercase();
            let refused = fields
                .filter_map(|f| f.strip_prefix("q=").or_else(|| f.strip_prefix("Q=")))
                .any(|q| q.trim().parse::<f64>().is_ok_and(|q| q <= 0.0));
            (name, !refused)
        })
        .collect();
    let accepts = |token: &str| {
        let verdict = |name: &str| accepted.iter().find(|(n, _)| n == name).map(|(_, ok)| *ok);
        verdict(token).or_else(|| verdict("*")).unwrap_or(false)
    };
    if accepts("br") {
        Coding::Brotli
    } else if accepts("gzip") || accepts("x-gzip") {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// RFC 9110: If-None-Match decides when present (weak comparison, any coding's
/// variant of these bytes matches); else If-Modified-Since.
fn is_not_modified(headers: &HeaderMap, rendered: &Rendered) -> bool {
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let ours = rendered.etag.trim_matches('"');
        return tags.split(',').map(str::trim).any(|tag| {
            let opaque = tag.trim_start_matches("W/").trim_matches('"');
            tag == "*"
                || opaque == ours
                || opaque
                    .strip_prefix(ours)
                    .is_some_and(|suffix| matches!(suffix, "-gzip" | "-br"))
        });
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
