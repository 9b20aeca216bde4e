//! Every published file, named once: [`SitePath`] is parsed from a request path (or an
//! export file name) and gives back both its file name under `export --out` and its
//! URL path, so that the server, the export and the links in pages cannot disagree.

use super::i18n::Lang;
use super::Format;

/// The name under which the feed of every topic is published: `/feeds/all.rss`.
pub const ALL_SLUG: &str = "all";

/// The path of the OPML list relative to the base URL.
pub const OPML_PATH: &str = "feeds.opml";

/// The XSLT stylesheet that RSS and Atom feeds name for browsers. Beside the feeds, so
/// that the relative reference in each feed finds it on any host.
pub const STYLESHEET_FILE: &str = "feed.xsl";

/// One feed: a topic (or every topic), optionally only the items in one language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedId {
    /// `None`: every topic (`all`).
    pub topic: Option<String>,
    /// `None`: items in every language.
    pub lang: Option<Lang>,
    pub format: Format,
}

impl FeedId {
    /// `feeds/{slug}.{ext}` or `feeds/{slug}.{lang}.{ext}`, relative to the base URL.
    pub fn path(&self) -> String {
        let slug = self.topic.as_deref().unwrap_or(ALL_SLUG);
        match self.lang {
            Some(lang) => format!("feeds/{slug}.{}.{}", lang.code(), self.format.extension()),
            None => format!("feeds/{slug}.{}", self.format.extension()),
        }
    }
}

/// A file the site publishes. Topic ids are not checked here (the catalog knows the
/// topics); only the shape of the path is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SitePath {
    /// The front page with its interface in a language.
    Index(Lang),
    /// One topic's page.
    Topic {
        topic: String,
        lang: Lang,
    },
    Feed(FeedId),
    Opml,
    Stylesheet,
    Favicon,
}

impl SitePath {
    /// Parses a request path (leading `/` optional) or an export file name.
    ///
    /// Accepted: `""`, `index.html`, `{lang}/`, `{lang}/index.html`,
    /// `[{lang}/]topics/{id}[/][index.html]`, `feeds/{slug}[.{lang}].{ext}`,
    /// `feeds/feed.xsl`, `feeds.opml`, `favicon.ico`.
    pub fn parse(path: &str) -> Option<SitePath> {
        let path = path.strip_prefix('/').unwrap_or(path);
        match path {
            "" | "index.html" => return Some(SitePath::Index(Lang::En)),
            OPML_PATH => return Some(SitePath::Opml),
            "favicon.ico" => return Some(SitePath::Favicon),
            _ => {}
        }
        if let Some(file) = path.strip_prefix("feeds/") {
            return parse_feed(file);
        }
        let (lang, rest) = match path.split_once('/') {
            Some((first, rest)) => match Lang::from_code(first) {
                Some(lang) => (lang, rest),
                None => (Lang::En, path),
            },
            None => (Lang::from_code(path)?, ""),
        };
        if matches!(rest, "" | "index.html") {
            return Some(SitePath::Index(lang));
        }
        let topic = rest.strip_prefix("topics/")?;
        let topic = topic
            .strip_suffix("/index.html")
            .or_else(|| topic.strip_suffix('/'))
            .unwrap_or(topic);
        is_slug(topic).then(|| SitePath::Topic {
            topic: topic.to_string(),
            lang,
        })
    }

    /// The file's name under the export folder.
    pub fn file(&self) -> String {
        match self {
            SitePath::Index(Lang::En) => "index.html".to_string(),
            SitePath::Index(lang) => format!("{}/index.html", lang.code()),
            SitePath::Topic { .. } => format!("{}/index.html", self.url_path()),
            _ => self.url_path(),
        }
    }

    /// The path to link to, relative to the base URL (pages without `index.html`, so
    /// that a static server's folder index serves them too).
    pub fn url_path(&self) -> String {
        match self {
            SitePath::Index(Lang::En) => String::new(),
            SitePath::Index(lang) => format!("{}/", lang.code()),
            SitePath::Topic {
                topic,
                lang: Lang::En,
            } => format!("topics/{topic}"),
            SitePath::Topic { topic, lang } => format!("{}/topics/{topic}", lang.code()),
            SitePath::Feed(feed) => feed.path(),
            SitePath::Opml => OPML_PATH.to_string(),
            SitePath::Stylesheet => format!("feeds/{STYLESHEET_FILE}"),
            SitePath::Favicon => "favicon.ico".to_string(),
        }
    }
}

fn parse_feed(file: &str) -> Option<SitePath> {
    if file == STYLESHEET_FILE {
        return Some(SitePath::Stylesheet);
    }
    let (stem, extension) = file.rsplit_once('.')?;
    let format = Format::from_extension(extension)?;
    let (slug, lang) = match stem.rsplit_once('.') {
        Some((slug, code)) => (slug, Some(Lang::from_code(code)?)),
        None => (stem, None),
    };
    if !is_slug(slug) {
        return None;
    }
    let topic = (slug != ALL_SLUG).then(|| slug.to_string());
    Some(SitePath::Feed(FeedId {
        topic,
        lang,
        format,
    }))
}

/// Topic ids as rules.toml allows them: lowercase letters, digits, dashes, underscores.
fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_parse_once_and_name_their_file() {
        let feed = |topic: Option<&str>, lang, format| {
            SitePath::Feed(FeedId {
                topic: topic.map(String::from),
                lang,
                format,
            })
        };
        let topic = |id: &str, lang| SitePath::Topic {
            topic: id.into(),
            lang,
        };
        let cases = [
            ("/", Some(SitePath::Index(Lang::En)), "index.html"),
            ("/index.html", Some(SitePath::Index(Lang::En)), "index.html"),
            ("/fr/", Some(SitePath::Index(Lang::Fr)), "fr/index.html"),
            ("/kk", Some(SitePath::Index(Lang::Kk)), "kk/index.html"),
            (
                "ru/index.html",
                Some(SitePath::Index(Lang::Ru)),
                "ru/index.html",
            ),
            (
                "/topics/energy",
                Some(topic("energy", Lang::En)),
                "topics/energy/index.html",
            ),
            (
                "/topics/energy/",
                Some(topic("energy", Lang::En)),
                "topics/energy/index.html",
            ),
            (
                "/fr/topics/energy",
                Some(topic("energy", Lang::Fr)),
                "fr/topics/energy/index.html",
            ),
            (
                "/feeds/all.rss",
                Some(feed(None, None, Format::Rss)),
                "feeds/all.rss",
            ),
            (
                "/feeds/energy.fr.atom",
                Some(feed(Some("energy"), Some(Lang::Fr), Format::Atom)),
                "feeds/energy.fr.atom",
            ),
            (
                "/feeds/feed.xsl",
                Some(SitePath::Stylesheet),
                "feeds/feed.xsl",
            ),
            ("/feeds.opml", Some(SitePath::Opml), "feeds.opml"),
            ("/favicon.ico", Some(SitePath::Favicon), "favicon.ico"),
            ("/feeds/energy.de.rss", None, ""),
            ("/feeds/energy.xml", None, ""),
            ("/feeds/../x.rss", None, ""),
            ("/de/", None, ""),
            ("/topics/", None, ""),
            ("/topics/a/b", None, ""),
            ("/nope", None, ""),
        ];
        for (path, expected, file) in cases {
            let parsed = SitePath::parse(path);
            assert_eq!(parsed, expected, "{path}");
            if let Some(parsed) = parsed {
                assert_eq!(parsed.file(), file, "{path}");
                assert_eq!(
                    SitePath::parse(&parsed.file()),
                    Some(parsed.clone()),
                    "{file}"
                );
                assert_eq!(SitePath::parse(&parsed.url_path()), Some(parsed), "{file}");
            }
        }
    }
}
