//! The source list as operators keep it: careful edits of feeds.toml, and OPML in and
//! out ([`opml`]).
//!
//! feeds.toml is a file people write by hand, with comments and their own layout, so an
//! edit changes only what it must: a new source is appended as text after the last
//! byte; removing a source or switching `enabled` goes through `toml_edit`, which keeps
//! every other table, comment and blank line as it was. Every edited text is validated
//! by the caller (the whole config, rules included) before it replaces the file, and the
//! file is replaced atomically, so a daemon reloading it never reads half an edit.

pub mod opml;

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::dedup::canonical_url;

/// Why feeds.toml could not be read, edited or written.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: `source` is not a list of [[source]] tables, so entente cannot edit it")]
    NotTables { path: String },
    #[error("no source with id `{id}` in {path}")]
    UnknownId { id: String, path: String },
}

/// One `[[source]]` as written (not validated: the config does that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    pub url: String,
    pub name: Option<String>,
    pub enabled: bool,
}

/// A source to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    pub id: String,
    pub url: String,
    pub name: Option<String>,
    pub schedule: Option<String>,
    pub lang: Option<String>,
    /// Written as `enabled = false` when false.
    pub enabled: bool,
}

impl NewSource {
    /// An enabled source with only an id and a URL.
    pub fn new(id: &str, url: &str) -> NewSource {
        NewSource {
            id: id.to_string(),
            url: url.to_string(),
            name: None,
            schedule: None,
            lang: None,
            enabled: true,
        }
    }
}

/// feeds.toml in memory: its text and the document parsed from it, always in step.
#[derive(Debug, Clone)]
pub struct SourcesFile {
    path: PathBuf,
    text: String,
    doc: DocumentMut,
}

impl SourcesFile {
    pub fn read(path: &Path) -> Result<SourcesFile, EditError> {
        let text = std::fs::read_to_string(path).map_err(|source| EditError::Read {
            path: path.display().to_string(),
            source,
        })?;
        SourcesFile::from_text(path, text)
    }

    /// `path` names the file in messages and is where [`SourcesFile::save`] writes.
    pub fn from_text(path: &Path, text: String) -> Result<SourcesFile, EditError> {
        let doc = text.parse::<DocumentMut>().map_err(|e| EditError::Syntax {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(SourcesFile {
            path: path.to_path_buf(),
            text,
            doc,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every `[[source]]` in file order.
    pub fn sources(&self) -> Vec<Listed> {
        let Some(tables) = self.doc.get("source").and_then(Item::as_array_of_tables) else {
            return Vec::new();
        };
        tables.iter().map(listed).collect()
    }

    /// The listed source whose URL is `url` once both are canonical (`www.`, `http`
    /// or `https`, a trailing slash and tracking parameters make no difference).
    pub fn same_url(&self, url: &str) -> Option<Listed> {
        let wanted = canonical_url(url);
        self.sources()
            .into_iter()
            .find(|s| canonical_url(&s.url) == wanted)
    }

    pub fn has_id(&self, id: &str) -> bool {
        self.sources().iter().any(|s| s.id == id)
    }

    /// `base`, or `base-2`, `base-3`… : the first id not yet listed.
    pub fn free_id(&self, base: &str) -> String {
        let base = if base.is_empty() { "source" } else { base };
        if !self.has_id(base) {
            return base.to_string();
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|id| !self.has_id(id))
            .expect("some numbered id is free")
    }

    /// Appends a `[[source]]` table after the last byte of the file.
    pub fn append(&mut self, source: &NewSource) -> Result<(), EditError> {
        let mut text = self.text.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&render_table(source));
        *self = SourcesFile::from_text(&self.path, text)?;
        Ok(())
    }

    /// Removes the source's table (with the comment lines just above it).
    pub fn remove(&mut self, id: &str) -> Result<Listed, EditError> {
        let index = self.index_of(id)?;
        let tables = self.tables_mut()?;
        let removed = listed(&tables.remove(index));
        self.text = self.doc.to_string();
        Ok(removed)
    }

    /// Sets whether the source is fetched; false when it already was so. Enabling
    /// removes the `enabled` key (true is the default), disabling writes
    /// `enabled = false`, keeping a comment written after an existing value.
    pub fn set_enabled(&mut self, id: &str, enabled: bool) -> Result<bool, EditError> {
        let index = self.index_of(id)?;
        let tables = self.tables_mut()?;
        let table = tables.get_mut(index).expect("index_of found it");
        if listed(table).enabled == enabled {
            return Ok(false);
        }
        if enabled {
            table.remove("enabled");
        } else if let Some(value) = table.get_mut("enabled").and_then(Item::as_value_mut) {
            let decor = value.decor().clone();
            *value = Value::from(false);
            *value.decor_mut() = decor;
        } else {
            table.insert("enabled", toml_edit::value(false));
        }
        self.text = self.doc.to_string();
        Ok(true)
    }

    /// Replaces the file with the edited text, atomically (a temporary file beside it,
    /// then a rename), so that a reader sees the old file or the new one.
    pub fn save(&self) -> Result<(), EditError> {
        let write_error = |source| EditError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = self
            .path
            .file_name()
            .map_or("feeds.toml".into(), |n| n.to_string_lossy().into_owned());
        let temporary = dir.join(format!(".{file_name}.entente-edit"));
        std::fs::write(&temporary, &self.text).map_err(write_error)?;
        if let Ok(metadata) = std::fs::metadata(&self.path) {
            // Keep the operator's permissions on the file.
            let _ = std::fs::set_permissions(&temporary, metadata.permissions());
        }
        std::fs::rename(&temporary, &self.path).map_err(write_error)
    }

    fn index_of(&self, id: &str) -> Result<usize, EditError> {
        self.sources()
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| EditError::UnknownId {
                id: id.to_string(),
                path: self.path.display().to_string(),
            })
    }

    fn tables_mut(&mut self) -> Result<&mut toml_edit::ArrayOfTables, EditError> {
        let path = self.path.display().to_string();
        self.doc
            .get_mut("source")
            .and_then(Item::as_array_of_tables_mut)
            .ok_or(EditError::NotTables { path })
    }
}

fn listed(table: &Table) -> Listed {
    let text = |key: &str| table.get(key).and_then(Item::as_str).map(str::to_string);
    Listed {
        id: text("id").unwrap_or_default(),
        url: text("url").unwrap_or_default(),
        name: text("name"),
        enabled: table.get("enabled").and_then(Item::as_bool).unwrap_or(true),
    }
}

/// The table as an operator would write it, strings quoted and escaped by toml_edit.
fn render_table(source: &NewSource) -> String {
    let quoted = |text: &str| Value::from(text).to_string().trim().to_string();
    let mut out = String::from("[[source]]\n");
    out.push_str(&format!("id = {}\n", quoted(&source.id)));
    if let Some(name) = &source.name {
        out.push_str(&format!("name = {}\n", quoted(name)));
    }
    out.push_str(&format!("url = {}\n", quoted(&source.url)));
    if let Some(schedule) = &source.schedule {
        out.push_str(&format!("schedule = {}\n", quoted(schedule)));
    }
    if let Some(lang) = &source.lang {
        out.push_str(&format!("lang = {}\n", quoted(lang)));
    }
    if !source.enabled {
        out.push_str("enabled = false\n");
    }
    out
}

/// A source id from a site's name, else from its address: lowercase ASCII letters and
/// digits joined by dashes ("Le Monde — International" → `le-monde-international`).
/// A name with no Latin letters (Cyrillic, say) yields nothing here, and the host is
/// used instead (`tengrinews.kz` → `tengrinews-kz`).
pub fn derive_id(name: Option<&str>, url: &str) -> String {
    let from_name = name.map(slug).unwrap_or_default();
    if !from_name.is_empty() {
        return from_name;
    }
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    slug(host)
}

fn slug(text: &str) -> String {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut id = String::new();
    for word in words {
        // Long feed titles ("… : toute l'actualité en continu") make unwieldy ids.
        if id.len() + word.len() > 40 && !id.is_empty() {
            break;
        }
        if !id.is_empty() {
            id.push('-');
        }
        id.push_str(word);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMENTED: &str = "# my sources\nrules = \"rules.toml\"\n\n[daemon]\nlisten = \"127.0.0.1:1\"  # local\n\n# the first one\n[[source]]\nid = \"a\"\nurl = \"https://a.example/feed\"   # keep me\n\n# the second one\n[[source]]\nid = \"b\"\nurl = \"https://b.example/rss\"\nenabled = false # paused in May\n\n# trailing comment\n";

    fn file() -> SourcesFile {
        SourcesFile::from_text(Path::new("feeds.toml"), COMMENTED.to_string()).unwrap()
    }

    #[test]
    fn append_keeps_every_byte_before_it() {
        let mut f = file();
        f.append(&NewSource {
            name: Some("C \\ news".into()),
            ..NewSource::new("c", "https://c.example/\"x\"")
        })
        .unwrap();
        assert!(f.text().starts_with(COMMENTED), "{}", f.text());
        let added = &f.text()[COMMENTED.len()..];
        // toml_edit picks the quoting that needs no escapes: literal strings here.
        assert_eq!(
            added,
            "\n[[source]]\nid = \"c\"\nname = 'C \\ news'\nurl = 'https://c.example/\"x\"'\n"
        );
        assert_eq!(f.sources()[2].name.as_deref(), Some("C \\ news"));
        assert_eq!(f.sources()[2].url, "https://c.example/\"x\"");
    }

    #[test]
    fn remove_takes_out_only_the_table_and_its_comment() {
        let mut f = file();
        let removed = f.remove("a").unwrap();
        assert_eq!(removed.url, "https://a.example/feed");
        let expected = COMMENTED.replace(
            "\n# the first one\n[[source]]\nid = \"a\"\nurl = \"https://a.example/feed\"   # keep me\n",
            "",
        );
        assert_eq!(f.text(), expected);
        assert!(matches!(f.remove("zzz"), Err(EditError::UnknownId { .. })));
    }

    #[test]
    fn enable_and_disable_touch_one_line() {
        let mut f = file();
        assert!(f.set_enabled("b", true).unwrap());
        assert_eq!(
            f.text(),
            COMMENTED.replace("enabled = false # paused in May\n", "")
        );
        assert!(!f.set_enabled("b", true).unwrap());
        let mut f = file();
        assert!(f.set_enabled("a", false).unwrap());
        assert_eq!(
            f.text(),
            COMMENTED.replace("   # keep me\n", "   # keep me\nenabled = false\n")
        );
    }

    #[test]
    fn the_same_url_is_found_through_www_scheme_and_trailing_slash() {
        let f = file();
        assert_eq!(f.same_url("http://www.a.example/feed/").unwrap().id, "a");
        assert!(f.same_url("https://a.example/other").is_none());
    }

    #[test]
    fn ids_come_from_the_name_else_the_host() {
        assert_eq!(
            derive_id(Some("Le Monde — Actualité"), "https://x"),
            "le-monde-actualite"
        );
        assert_eq!(
            derive_id(Some("Тенгриньюс"), "https://www.tengrinews.kz/rss"),
            "tengrinews-kz"
        );
        assert_eq!(file().free_id("a"), "a-2");
        assert_eq!(file().free_id("new"), "new");
    }
}
