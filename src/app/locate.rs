//! From an address an operator typed to a parsed feed, for `add` and `try`: the
//! address itself when it serves a feed; else, when it is a web page, the feeds it
//! links (`<link rel="alternate">`), else the usual paths of its site. Nothing is
//! stored.

use std::fmt::Write as _;

use anyhow::{bail, Context, Result};
use url::Url;

use crate::config::{Config, Location};
use crate::discover::{self, Candidate};
use crate::fetch::{Fetcher, Outcome, Validators};
use crate::item::FieldCaps;
use crate::parse::{parse_feed, Origin, ParsedFeed};

/// A feed found, read and parsed.
pub(super) struct Located {
    /// The feed's address (after a permanent redirect, the new one).
    pub url: String,
    pub feed: ParsedFeed,
    /// The feeds the page linked, when the address was a page.
    pub candidates: Vec<Candidate>,
}

/// One body fetched.
enum Body {
    Feed(ParsedFeed),
    Page(String),
}

pub(super) fn fetcher(config: &Config) -> Result<Fetcher> {
    Fetcher::new(&config.daemon.user_agent, config.daemon.limits.clone())
        .context("cannot build the HTTP client")
}

/// Finds and parses the feed at or behind `address`; `pick` (from 1) chooses among
/// the feeds a page links. `lang` is the language hint given to the parser.
pub(super) async fn locate(
    fetcher: &Fetcher,
    address: &str,
    pick: Option<usize>,
    lang: Option<&str>,
) -> Result<Located> {
    let url = Url::parse(address.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .with_context(|| format!("`{address}` is not an http or https address"))?;
    let (final_url, body) = read(fetcher, &url, lang).await?;
    let page = match body {
        Body::Feed(feed) => {
            return Ok(Located {
                url: final_url.to_string(),
                feed,
                candidates: Vec::new(),
            })
        }
        Body::Page(page) => page,
    };
    let candidates = discover::linked_feeds(&page, &final_url);
    if !candidates.is_empty() {
        let index = pick.unwrap_or(1);
        let Some(chosen) = index.checked_sub(1).and_then(|i| candidates.get(i)) else {
            bail!(
                "--pick {index}: {url} links {} feeds:\n{}",
                candidates.len(),
                list(&candidates)
            );
        };
        let (feed_url, body) = read(fetcher, &chosen.url, lang).await.with_context(|| {
            format!("{url} links the feed {}, but it cannot be read", chosen.url)
        })?;
        let Body::Feed(feed) = body else {
            bail!(
                "{url} links {} as a feed, but it serves a web page",
                chosen.url
            );
        };
        return Ok(Located {
            url: feed_url.to_string(),
            feed,
            candidates,
        });
    }
    // No link: the usual places, in order; the first that serves a feed wins.
    let mut tried = Vec::new();
    for candidate in discover::usual_urls(&final_url) {
        match read(fetcher, &candidate, lang).await {
            Ok((feed_url, Body::Feed(feed))) => {
                return Ok(Located {
                    url: feed_url.to_string(),
                    feed,
                    candidates: Vec::new(),
                })
            }
            Ok((_, Body::Page(_))) => tried.push(format!("  {candidate}: a web page")),
            Err(error) => tried.push(format!("  {candidate}: {error:#}")),
        }
    }
    bail!(
        "no feed found for {url}: the page links none (<link rel=\"alternate\"> with an RSS, \
         Atom or JSON Feed type), and none of the usual addresses serves one:\n{}",
        tried.join("\n")
    )
}

/// Reads a configured source's feed (any location, `file:` too).
pub(super) async fn read_source(
    fetcher: &Fetcher,
    location: &Location,
    source_id: &str,
    lang: Option<&str>,
) -> Result<ParsedFeed> {
    let report = fetcher.fetch(location, &Validators::default()).await;
    let fetched = match report
        .result
        .with_context(|| format!("cannot fetch {location}"))?
    {
        Outcome::Fetched(fetched) => fetched,
        Outcome::NotModified | Outcome::Unchanged { .. } => {
            bail!("{location} answered \"not modified\" to a request without validators")
        }
    };
    let url = fetched.final_url.clone().or_else(|| match location {
        Location::Http(url) => Some(url.clone()),
        Location::File(_) => None,
    });
    let origin = Origin {
        source_id,
        lang_hint: lang,
        url: url.as_ref(),
        // A preview: the default caps (those of a feeds.toml that sets none).
        caps: FieldCaps::default(),
    };
    parse_feed(&fetched.body, origin).with_context(|| format!("{location} is not a readable feed"))
}

/// Fetches `url` and reads it as a feed, or as a page when it is HTML. Returns the
/// address it was read from: the new one after a permanent redirect, else `url`.
async fn read(fetcher: &Fetcher, url: &Url, lang: Option<&str>) -> Result<(Url, Body)> {
    let report = fetcher
        .fetch(&Location::Http(url.clone()), &Validators::default())
        .await;
    let fetched = match report.result? {
        Outcome::Fetched(fetched) => fetched,
        Outcome::NotModified | Outcome::Unchanged { .. } => {
            bail!("answered \"not modified\" to a request without validators")
        }
    };
    let address = report.moved_to.unwrap_or_else(|| url.clone());
    if discover::looks_like_html(&fetched.body, fetched.content_type.as_deref()) {
        return Ok((
            address,
            Body::Page(String::from_utf8_lossy(&fetched.body).into_owned()),
        ));
    }
    let base = fetched.final_url.clone().unwrap_or_else(|| url.clone());
    let origin = Origin {
        source_id: "new",
        lang_hint: lang,
        url: Some(&base),
        caps: FieldCaps::default(),
    };
    let feed = parse_feed(&fetched.body, origin).with_context(|| {
        let kind = fetched.content_type.as_deref().unwrap_or("no Content-Type");
        format!("not a readable feed ({kind})")
    })?;
    Ok((address, Body::Feed(feed)))
}

/// `  1. https://… (RSS, "All news")`, one line each.
pub(super) fn list(candidates: &[Candidate]) -> String {
    let mut out = String::new();
    for (n, c) in candidates.iter().enumerate() {
        let title = c
            .title
            .as_ref()
            .map(|t| format!(", \"{t}\""))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}. {} ({}{title})", n + 1, c.url, c.kind.name());
    }
    out.trim_end().to_string()
}
