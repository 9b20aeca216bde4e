//! What the integration tests share: a real HTTP server on 127.0.0.1 serving the feeds
//! a test writes, a config in a temporary folder, and the `entente` binary.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use tempfile::TempDir;

/// What the server answers on one path.
#[derive(Debug, Clone)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Answer 304 when the request carries this If-None-Match.
    pub etag: Option<String>,
    /// Answer 304 when the request carries this If-Modified-Since.
    pub last_modified: Option<String>,
    /// Instead of `body`: this chunk sent `count` times, `every` apart, generated on
    /// the fly so that a huge or endless body is never held in memory.
    pub stream: Option<Drip>,
}

/// A body streamed chunk by chunk, with no Content-Length.
#[derive(Debug, Clone)]
pub struct Drip {
    pub chunk: Bytes,
    pub count: usize,
    pub every: Duration,
}

impl Route {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
            etag: None,
            last_modified: None,
            stream: None,
        }
    }

    /// A 200 whose body is `chunk` repeated `count` times, `every` apart.
    pub fn streamed(content_type: &str, chunk: &[u8], count: usize, every: Duration) -> Route {
        Route {
            stream: Some(Drip {
                chunk: Bytes::copy_from_slice(chunk),
                count,
                every,
            }),
            ..Route::ok(content_type, Vec::new())
        }
    }

    /// A redirect with this status to `location`.
    pub fn redirect(status: u16, location: &str) -> Route {
        Route::status(status).header("location", location)
    }

    /// The body compressed with `encoding` (`gzip`, `deflate` or `br`), labelled so.
    pub fn compressed(mut self, encoding: &str) -> Route {
        self.body = compress(encoding, &self.body);
        self.header("content-encoding", encoding)
    }

    pub fn rss(body: impl Into<Vec<u8>>) -> Route {
        Route::ok("application/rss+xml; charset=utf-8", body)
    }

    pub fn status(status: u16) -> Route {
        Route {
            status,
            ..Route::ok("text/plain", format!("status {status}"))
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.to_string());
        self.header("etag", etag)
    }

    pub fn with_last_modified(mut self, date: &str) -> Route {
        self.last_modified = Some(date.to_string());
        self.header("last-modified", date)
    }

    pub fn delayed(mut self, delay: Duration) -> Route {
        self.delay = delay;
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub path: String,
    pub headers: HashMap<String, String>,
}

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Route>>,
    seen: Mutex<Vec<SeenRequest>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts a request as in flight until dropped (also when the client hangs up).
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> InFlight {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A feed server bound to 127.0.0.1 on a free port, running on its own thread.
pub struct FeedServer {
    pub addr: std::net::SocketAddr,
    shared: Arc<Shared>,
}

impl FeedServer {
    pub fn start() -> FeedServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(answer).with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        FeedServer { addr, shared }
    }

    pub fn route(&self, path: &str, route: Route) {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(path.to_string(), route);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The most requests this server was answering at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn requests_to(&self, path: &str) -> Vec<SeenRequest> {
        self.shared
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request<Body>) -> Response<Body> {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/".to_string(), |p| p.to_string());
    let headers = lowercase_headers(request.headers());
    shared.seen.lock().unwrap().push(SeenRequest {
        path: path.clone(),
        headers: headers.clone(),
    });
    let _in_flight = InFlight::enter(&shared);
    let route = shared.routes.lock().unwrap().get(&path).cloned();
    let Some(route) = route else {
        return Response::builder()
            .status(404)
            .body(Body::from("no such route"))
            .unwrap();
    };
    tokio::time::sleep(route.delay).await;
    let etag_matches = route.etag.is_some() && headers.get("if-none-match") == route.etag.as_ref();
    let date_matches = route.last_modified.is_some()
        && headers.get("if-modified-since") == route.last_modified.as_ref();
    let status = if route.status == 200 && (etag_matches || date_matches) {
        304
    } else {
        route.status
    };
    let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (name, value) in &route.headers {
        response = response.header(name, value);
    }
    let body = match (status, route.stream) {
        (304, _) => Body::empty(),
        (_, Some(drip)) => drip_body(drip),
        (_, None) => Body::from(route.body),
    };
    response.body(body).unwrap()
}

fn drip_body(drip: Drip) -> Body {
    let chunks = futures_util::stream::unfold(0, move |sent| {
        let drip = drip.clone();
        async move {
            if sent == drip.count {
                return None;
            }
            if sent > 0 {
                tokio::time::sleep(drip.every).await;
            }
            Some((Ok::<_, std::io::Error>(drip.chunk), sent + 1))
        }
    });
    Body::from_stream(chunks)
}

/// `bytes` compressed as an HTTP `Content-Encoding` (`gzip`, `deflate` or `br`).
pub fn compress(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    use flate2::write::{GzEncoder, ZlibEncoder};
    let level = flate2::Compression::default();
    match encoding {
        "gzip" => {
            let mut out = GzEncoder::new(Vec::new(), level);
            out.write_all(bytes).unwrap();
            out.finish().unwrap()
        }
        // HTTP's "deflate" is the zlib format (RFC 9110 section 8.4.1.2).
        "deflate" => {
            let mut out = ZlibEncoder::new(Vec::new(), level);
            out.write_all(bytes).unwrap();
            out.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            writer.write_all(bytes).unwrap();
            drop(writer);
            out
        }
        other => panic!("unknown content encoding {other}"),
    }
}

fn lowercase_headers(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// A config file and its folder, deleted when dropped.
pub struct TestConfig {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl TestConfig {
    /// A config with the shipped rules and these `(id, url)` sources; `daemon` is extra
    /// TOML for the `[daemon]` table.
    pub fn new(sources: &[(&str, String)], daemon: &str) -> TestConfig {
        let dir = tempfile::tempdir().unwrap();
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules.toml");
        let mut text = format!(
            "rules = {:?}\n[daemon]\n{daemon}\n",
            rules.display().to_string()
        );
        for (id, url) in sources {
            text.push_str(&format!("[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n"));
        }
        let path = dir.path().join("feeds.toml");
        std::fs::write(&path, text).unwrap();
        TestConfig { dir, path }
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("data/entente.db")
    }

    /// Runs `entente --config THIS ARGS…` to completion.
    pub fn entente(&self, args: &[&str]) -> Output {
        entente_command(&self.path, args)
            .output()
            .expect("run entente")
    }

    /// How many items `items --all --json` lists.
    pub fn stored_items(&self) -> usize {
        self.json(&["items", "--all", "--json"])
            .as_array()
            .map_or(0, Vec::len)
    }

    /// Runs a command that prints JSON and parses it.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let output = self.entente(args);
        assert!(
            output.status.success(),
            "entente {args:?} failed: {}",
            text(&output.stderr)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stdout)))
    }
}

pub fn entente_command(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_entente"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn");
    command
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A plain HTTP/1.1 GET over loopback: (status, lowercase headers, body).
pub fn http_get(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, HashMap<String, String>, Vec<u8>)> {
    http_get_within(addr, path, headers, Duration::from_secs(10))
}

/// [`http_get`] waiting up to `patience` for each read, for answers that take long to make.
pub fn http_get_within(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    patience: Duration,
) -> std::io::Result<(u16, HashMap<String, String>, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(patience))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<HashMap<_, _>>();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        body = unchunk(&body);
    }
    Ok((status, headers, body))
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// An RSS 2.0 document with these (guid, title, description, RFC 822 date) items.
pub fn rss(items: &[(&str, &str, &str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Test feed</title><link>https://news.example.org/</link><description>t</description>\n",
    );
    for (guid, title, description, date) in items {
        xml.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><link>https://news.example.org/{guid}</link><description>{description}</description><pubDate>{date}</pubDate></item>\n"
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

/// An Atom 1.0 document with these (id, title, summary, RFC 3339 date) entries.
pub fn atom(entries: &[(&str, &str, &str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Atom test</title><id>urn:test:atom</id><updated>2026-01-01T00:00:00Z</updated><link href=\"https://atom.example.fr/\"/>\n",
    );
    for (id, title, summary, date) in entries {
        xml.push_str(&format!(
            "<entry><id>urn:test:{id}</id><title>{title}</title><link href=\"https://atom.example.fr/{id}\"/><summary>{summary}</summary><updated>{date}</updated><published>{date}</published></entry>\n"
        ));
    }
    xml.push_str("</feed>\n");
    xml
}

/// A port nothing listens on now, for a daemon the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills a child process (a daemon, a lock holder) if a test fails before it ends.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `probe` every 100 ms until it answers or `limit` has passed.
pub fn wait_for<T>(limit: std::time::Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(value) = probe() {
            return Some(value);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    None
}
