//! Fetch one source politely: conditional GET, a User-Agent that names us, timeouts, a
//! body cap enforced while streaming, redirects followed by hand (so that loops are
//! caught and permanent moves recorded), per-host and global concurrency limits.
//! Every body leaves as UTF-8 ([`decode`]).

pub mod decode;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::{Limits, Location};
use sha2::{Digest, Sha256};

use crate::item::hex;

pub use crate::item::Validators;

/// A body worth parsing.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// UTF-8, whatever the source sent.
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    /// The HTTP status it came with; `None` for files.
    pub status: Option<u16>,
    /// Where the body came from after redirects; `None` for files.
    pub final_url: Option<Url>,
    pub validators: Validators,
}

/// What a fetch brought.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 304: nothing to parse.
    NotModified,
    /// 200 with the same body as last time.
    Unchanged {
        validators: Validators,
    },
    Fetched(Fetched),
}

/// A fetch and what the redirects on the way taught us.
#[derive(Debug)]
pub struct Report {
    pub result: Result<Outcome, FetchError>,
    /// Where a permanent redirect (every hop 301 or 308) leads: the URL to put in
    /// feeds.toml.
    pub moved_to: Option<Url>,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("HTTP {status}{}", retry_after_text(.retry_after))]
    Status {
        status: u16,
        retry_after: Option<DateTime<Utc>>,
    },
    #[error("body larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("redirect loop: {0} was already visited")]
    RedirectLoop(String),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("redirect with a missing, invalid or over-long Location")]
    BadRedirect,
    #[error("cannot read {path}: {message}")]
    File { path: String, message: String },
    #[error("request failed: {0}")]
    Request(String),
}

fn retry_after_text(retry_after: &Option<DateTime<Utc>>) -> String {
    retry_after
        .map(|t| {
            let at = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            format!(", retry after {at}")
        })
        .unwrap_or_default()
}

impl FetchError {
    /// A short name for the kind of failure, for status listings.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Timeout(_) => "timeout",
            FetchError::Connect(_) => "connect",
            FetchError::Status { .. } => "http_status",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::RedirectLoop(_) => "redirect_loop",
            FetchError::TooManyRedirects(_) => "too_many_redirects",
            FetchError::BadRedirect => "bad_redirect",
            FetchError::File { .. } => "file",
            FetchError::Request(_) => "request",
        }
    }

    /// When the server asked us to come back (429 and 503 with Retry-After).
    pub fn retry_after(&self) -> Option<DateTime<Utc>> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Fetches sources: one HTTP client, the global and per-host slots.
pub struct Fetcher {
    client: reqwest::Client,
    limits: Limits,
    global: Arc<Semaphore>,
    /// One semaphore per host, made on first use.
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Fetcher {
    pub fn new(user_agent: &str, limits: Limits) -> Result<Fetcher, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let global = Arc::new(Semaphore::new(limits.concurrency));
        Ok(Fetcher {
            client,
            limits,
            global,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Fetches one source, waiting for a slot on its host and a global one.
    pub async fn fetch(&self, location: &Location, validators: &Validators) -> Report {
        match location {
            Location::File(path) => Report {
                result: self.read_file(path, validators).await,
                moved_to: None,
            },
            Location::Http(url) => {
                let _slots = self.acquire(url).await;
                let mut moved_to = None;
                let result = tokio::time::timeout(
                    self.limits.timeout,
                    self.fetch_http(url, validators, &mut moved_to),
                )
                .await
                .unwrap_or(Err(FetchError::Timeout(self.limits.timeout)));
                Report { result, moved_to }
            }
        }
    }

    async fn acquire(&self, url: &Url) -> (OwnedSemaphorePermit, OwnedSemaphorePermit) {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host_slots = {
            let mut hosts = self
                .hosts
                .lock()
                .expect("host table lock is never poisoned");
            hosts
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(self.limits.per_host)))
                .clone()
        };
        // The host slot first, so that a slow host's queue holds no global slot.
        let host = host_slots
            .acquire_owned()
            .await
            .expect("semaphores are never closed");
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("semaphores are never closed");
        (host, global)
    }

    async fn read_file(
        &self,
        path: &std::path::Path,
        validators: &Validators,
    ) -> Result<Outcome, FetchError> {
        let file_error = |e: std::io::Error| FetchError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let size = tokio::fs::metadata(path).await.map_err(file_error)?.len();
        if size > self.limits.max_body_bytes {
            return Err(FetchError::TooLarge {
                limit: self.limits.max_body_bytes,
            });
        }
        let raw = tokio::fs::read(path).await.map_err(file_error)?;
        let origin = BodyOrigin::default();
        Ok(finish(raw, origin, Validators::default(), validators))
    }

    async fn fetch_http(
        &self,
        start: &Url,
        validators: &Validators,
        moved_to: &mut Option<Url>,
    ) -> Result<Outcome, FetchError> {
        let mut url = start.clone();
        let mut visited = HashSet::new();
        let mut all_permanent = true;
        for _ in 0..=self.limits.max_redirects {
            if !visited.insert(url.clone()) {
                return Err(FetchError::RedirectLoop(shortened(url.as_str(), 300)));
            }
            let response = self.send(&url, validators).await?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return self.read_response(response, url, validators).await;
            }
            let next = location_of(&response, &url)?;
            all_permanent &= matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
            );
            *moved_to = all_permanent.then(|| next.clone());
            url = next;
        }
        Err(FetchError::TooManyRedirects(self.limits.max_redirects))
    }

    async fn send(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<reqwest::Response, FetchError> {
        let mut request = self.client.get(url.clone()).header(
            header::ACCEPT,
            "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        );
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        request.send().await.map_err(|e| self.request_error(e))
    }

    fn request_error(&self, error: reqwest::Error) -> FetchError {
        if error.is_timeout() {
            FetchError::Timeout(self.limits.timeout)
        } else if error.is_connect() {
            FetchError::Connect(error_chain(&error))
        } else {
            FetchError::Request(error_chain(&error))
        }
    }

    async fn read_response(
        &self,
        mut response: reqwest::Response,
        url: Url,
        previous: &Validators,
    ) -> Result<Outcome, FetchError> {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Outcome::NotModified);
        }
        if !status.is_success() {
            let retry_after = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            )
            .then(|| retry_after(response.headers(), Utc::now()))
            .flatten();
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after,
            });
        }
        let limit = self.limits.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        let headers = response.headers().clone();
        // Sized once when the length is announced (it is within the limit here), so
        // that a body is not copied on every doubling.
        let announced = response.content_length().unwrap_or(0);
        let mut raw = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.request_error(e))? {
            if raw.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            raw.extend_from_slice(&chunk);
        }
        let fresh = Validators {
            etag: header_text(&headers, header::ETAG),
            last_modified: header_text(&headers, header::LAST_MODIFIED),
            body_hash: None,
        };
        let origin = BodyOrigin {
            content_type: header_text(&headers, header::CONTENT_TYPE),
            status: Some(status.as_u16()),
            final_url: Some(url),
        };
        Ok(finish(raw, origin, fresh, previous))
    }
}

/// What came with a body, besides its bytes.
#[derive(Debug, Default)]
struct BodyOrigin {
    content_type: Option<String>,
    status: Option<u16>,
    final_url: Option<Url>,
}

/// Decodes the body and compares it with the last one seen.
fn finish(
    raw: Vec<u8>,
    origin: BodyOrigin,
    mut validators: Validators,
    previous: &Validators,
) -> Outcome {
    // The raw bytes are hashed, not a lossy text: two windows-1251 bodies that differ
    // only in their Cyrillic letters would read alike as replacement characters.
    let body_hash = hex(&Sha256::digest(&raw)[..16]);
    validators.body_hash = Some(body_hash.clone());
    if previous.body_hash.as_deref() == Some(body_hash.as_str()) {
        return Outcome::Unchanged { validators };
    }
    let body = decode::into_utf8(raw, origin.content_type.as_deref());
    Outcome::Fetched(Fetched {
        body,
        content_type: origin.content_type,
        status: origin.status,
        final_url: origin.final_url,
        validators,
    })
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// At most `max` bytes of `text` for an error message, cut on a character.
fn shortened(text: &str, max: usize) -> String {
    let cut = crate::item::truncate_bytes(text, max);
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        text.to_string()
    }
}

/// The longest URL followed or recorded; browsers and servers stop near here too.
pub const MAX_URL_LEN: usize = 2048;

fn location_of(response: &reqwest::Response, base: &Url) -> Result<Url, FetchError> {
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok());
    // A hostile Location can be as long as the header limit allows (100 KB): it must
    // not end up in the database as the source's suggested URL or error.
    if location.is_some_and(|l| l.len() > MAX_URL_LEN) {
        return Err(FetchError::BadRedirect);
    }
    let next = location
        .and_then(|l| base.join(l).ok())
        .ok_or(FetchError::BadRedirect)?;
    if matches!(next.scheme(), "http" | "https") {
        Ok(next)
    } else {
        Err(FetchError::BadRedirect)
    }
}

/// Retry-After as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Some(now + chrono::Duration::seconds(i64::from(seconds)));
    }
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The error and its causes on one line: reqwest's top message alone says too little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    // Errors quote URLs, which a redirect chose: bounded before they are stored.
    shortened(&text, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(
            retry_after(&headers, now),
            Some(now + chrono::Duration::seconds(120))
        );
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Thu, 01 Jan 2026 01:00:00 GMT"),
        );
        assert_eq!(
            retry_after(&headers, now),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap())
        );
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
