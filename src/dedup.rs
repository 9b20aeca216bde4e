//! De-duplication helpers: the canonical form of a link, and a signature of a title
//! that finds the same story under slightly different headlines.
//!
//! Pure functions, no IO. Ingestion uses [`canonical_url`] to key items, so the same
//! article reached through `http://www.` and `https://`, or with a tracking suffix,
//! is stored once; publishing uses [`TitleSignature`] to fold other outlets' copies of
//! a story into an "Also reported by" list.
//!
//! # Why the title signature looks the way it does
//! Wire stories are republished with small edits: "and" becomes a comma, the outlet
//! name is appended ("… - Reuters"), accents or apostrophes change. A different story
//! often differs by a single word ("uranium deal" vs "rail deal"). So titles are
//! normalised (case, accents, punctuation, a few function words, a trailing outlet
//! name), then compared as sets of words *and* of unordered adjacent word pairs: one
//! changed word breaks two pairs as well, which separates "uranium deal" from "rail
//! deal", while swapping "France and Kazakhstan" for "Kazakhstan and France" keeps the
//! pairs. The set is kept as a bottom-k sketch of hashes, exact for headline-sized
//! titles and bounded for long ones.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use url::form_urlencoded;
use url::Url;

/// The canonical form of a link, for comparing links, not for fetching them: http and
/// https unified (written `https`), host lowercase without `www.`, no user info, no
/// fragment, no tracking parameters, remaining parameters sorted, no trailing slash.
/// Non-web URLs lose only their fragment; text that is not a URL is returned trimmed.
pub fn canonical_url(link: &str) -> String {
    let trimmed = link.trim();
    let Ok(mut url) = Url::parse(trimmed) else {
        return trimmed.to_string();
    };
    if !matches!(url.scheme(), "http" | "https") {
        url.set_fragment(None);
        return url.to_string();
    }
    let host = url.host_str().unwrap_or_default().trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    // `Url` already leaves out the scheme's default port; 80 and 443 are the default
    // of one scheme or the other, and both schemes are one here.
    let port = match url.port() {
        Some(port) if port != 80 && port != 443 => format!(":{port}"),
        _ => String::new(),
    };
    let path = url.path().trim_end_matches('/');
    let query = canonical_query(&url);
    format!("https://{host}{port}{path}{query}")
}

/// The parameters that are not tracking markers, sorted, as `?a=1&b=2`, or empty.
fn canonical_query(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !is_tracking_parameter(key))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if pairs.is_empty() {
        return String::new();
    }
    pairs.sort();
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("?{encoded}")
}

/// Parameters that say how a reader arrived, not what they read.
#[rustfmt::skip]
const TRACKING_PARAMETERS: &[&str] = &[
    // Ad and social click ids, newsletter campaigns, analytics.
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
    "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ocid", "cmpid", "smid",
    // AT Internet, used by Le Monde, Le Figaro, Libération and others in RSS links.
    "xtor", "xtref",
    // `ref=rss` and the like: in news links a referral marker, not content.
    "ref", "ref_src",
];

/// Prefixes of whole families of tracking parameters: Google Analytics campaigns and
/// AT Internet's (France 24, RFI: `at_medium=RSS_feeds`).
const TRACKING_PREFIXES: &[&str] = &["utm_", "at_"];

fn is_tracking_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    TRACKING_PARAMETERS.contains(&key.as_str())
        || TRACKING_PREFIXES
            .iter()
            .any(|prefix| key.starts_with(prefix))
}

/// The default similarity at or above which two titles are the same story. Chosen
/// between "France and Kazakhstan sign uranium deal" vs "France, Kazakhstan sign
/// uranium deal - Reuters" (1.0, or 0.82 with an outlet suffix that is not stripped)
/// and vs "France and Kazakhstan sign rail deal" (0.5).
pub const DEFAULT_TITLE_THRESHOLD: f64 = 0.7;

/// Wire copies and rewrites of a story appear within a day or two of each other.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(72 * 3600);

/// When two items are copies of one story (feeds.toml `dedup_threshold` and
/// `dedup_window_hours`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Title similarity, in (0, 1], at or above which two titles are the same story.
    pub title_threshold: f64,
    /// Items further apart than this (by their dates) are different stories: a
    /// headline that recurs next month is news again, and a link that several items
    /// share over months (a section page) names no single story.
    pub window: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            title_threshold: DEFAULT_TITLE_THRESHOLD,
            window: DEFAULT_WINDOW,
        }
    }
}

/// How many hashes a signature keeps: enough for every word and word pair of a
/// headline of about sixteen words, so those compare exactly.
const SKETCH_SIZE: usize = 32;

/// The format tag written before a signature, so that a stored signature from a
/// different normalisation is recognised instead of silently compared.
const SIGNATURE_VERSION: &str = "t1:";

/// A compact, storable summary of a title for near-duplicate detection: the smallest
/// 32 hashes of its normalised words and unordered word pairs.
///
/// Stored as text with `to_string()` and read back with `parse()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TitleSignature {
    /// Sorted, unique.
    hashes: Vec<u32>,
}

impl TitleSignature {
    /// The signature of a title.
    pub fn of(title: &str) -> TitleSignature {
        let words = title_words(title);
        let mut hashes: Vec<u32> = words.iter().map(|w| fnv1a(w.as_bytes())).collect();
        hashes.extend(words.windows(2).map(|pair| pair_hash(&pair[0], &pair[1])));
        hashes.sort_unstable();
        hashes.dedup();
        hashes.truncate(SKETCH_SIZE);
        TitleSignature { hashes }
    }

    /// The sketch's hashes, sorted: the store indexes them to find candidates.
    pub fn hashes(&self) -> &[u32] {
        &self.hashes
    }

    /// Whether the sketch may have dropped hashes (the title had more words and pairs
    /// than it keeps), so that [`TitleSignature::similarity`] is an estimate.
    pub fn is_truncated(&self) -> bool {
        self.hashes.len() >= SKETCH_SIZE
    }

    /// Whether the title had no words to compare (empty, or only punctuation and
    /// function words). An empty signature is similar to nothing, itself included.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The Jaccard similarity of the two titles' word and pair sets, from 0 to 1:
    /// exact when both sketches hold their whole set, a bottom-k estimate otherwise.
    pub fn similarity(&self, other: &TitleSignature) -> f64 {
        if self.is_empty() || other.is_empty() {
            return 0.0;
        }
        let complete = self.hashes.len() < SKETCH_SIZE && other.hashes.len() < SKETCH_SIZE;
        // A truncated sketch only knows its set below its largest hash, so compare the
        // union's smallest hashes up to the shorter sketch's length.
        let limit = if complete {
            usize::MAX
        } else {
            self.hashes.len().min(other.hashes.len())
        };
        let (shared, union) = merge_count(&self.hashes, &other.hashes, limit);
        shared as f64 / union as f64
    }

    /// Whether the two titles are the same story at this threshold.
    pub fn is_near_duplicate(&self, other: &TitleSignature, threshold: f64) -> bool {
        self.similarity(other) >= threshold
    }
}

/// Walks two sorted hash lists in order over at most `limit` elements of their union;
/// returns (elements in both, elements seen).
fn merge_count(a: &[u32], b: &[u32], limit: usize) -> (usize, usize) {
    let (mut i, mut j, mut shared, mut seen) = (0, 0, 0, 0);
    while seen < limit && (i < a.len() || j < b.len()) {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                shared += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), None) => i += 1,
            _ => j += 1,
        }
        seen += 1;
    }
    (shared, seen)
}

/// The similarity of two titles; see [`TitleSignature::similarity`].
pub fn title_similarity(a: &str, b: &str) -> f64 {
    TitleSignature::of(a).similarity(&TitleSignature::of(b))
}

impl fmt::Display for TitleSignature {
    /// `t1:` followed by eight hex digits a hash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SIGNATURE_VERSION)?;
        self.hashes.iter().try_for_each(|h| write!(f, "{h:08x}"))
    }
}

/// A stored signature that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a title signature (expected `{SIGNATURE_VERSION}` and hex digits): {0:?}")]
pub struct ParseSignatureError(String);

impl FromStr for TitleSignature {
    type Err = ParseSignatureError;

    fn from_str(text: &str) -> Result<TitleSignature, ParseSignatureError> {
        let invalid = || ParseSignatureError(text.chars().take(40).collect());
        let digits = text.strip_prefix(SIGNATURE_VERSION).ok_or_else(invalid)?;
        if digits.len() % 8 != 0 || !digits.is_ascii() || digits.len() / 8 > SKETCH_SIZE {
            return Err(invalid());
        }
        let hashes = (0..digits.len())
            .step_by(8)
            .map(|start| u32::from_str_radix(&digits[start..start + 8], 16))
            .collect::<Result<Vec<u32>, _>>()
            .map_err(|_| invalid())?;
        if !hashes.windows(2).all(|w| w[0] < w[1]) {
            return Err(invalid());
        }
        Ok(TitleSignature { hashes })
    }
}

/// The separators outlets put before their name at the end of a title.
const OUTLET_SEPARATORS: &[&str] = &[" - ", " | ", " – ", " — ", " :: ", " · "];

/// The longest tail taken for an outlet name ("The Astana Times" is three words).
const MAX_OUTLET_WORDS: usize = 4;

/// A trailing outlet name is only dropped from a title at least this long, so that
/// "Macron in Astana - day 2" keeps its "day 2".
const MIN_HEAD_WORDS: usize = 4;

/// A title without a trailing " - Outlet Name".
pub fn strip_outlet_suffix(title: &str) -> &str {
    let cut = OUTLET_SEPARATORS
        .iter()
        .filter_map(|sep| title.rfind(sep).map(|at| (at, at + sep.len())))
        .max_by_key(|&(at, _)| at);
    match cut {
        Some((head_end, tail_start))
            if title[tail_start..].split_whitespace().count() <= MAX_OUTLET_WORDS
                && title[..head_end].split_whitespace().count() >= MIN_HEAD_WORDS =>
        {
            &title[..head_end]
        }
        _ => title,
    }
}

/// Words that carry no story: English, French, Russian and Kazakh conjunctions,
/// articles and prepositions (accents already folded, so `à` is `a`).
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "at", "by", "from", "as",
    "is", "are", "le", "la", "les", "de", "des", "du", "et", "en", "un", "une", "au", "aux",
    "pour", "sur", "avec", "dans", "par", "и", "в", "во", "на", "с", "со", "по", "к", "о", "об",
    "для", "из", "от", "за", "және", "мен", "бен", "пен", "да", "де", "та", "те",
];

/// The title's words, normalised: outlet suffix dropped, compatibility forms,
/// ligatures and accents folded, lowercase, punctuation removed, function words and single letters
/// (elided `l'`, `d'`, possessive `'s`) left out.
pub fn title_words(title: &str) -> Vec<String> {
    let mut folded = String::with_capacity(title.len());
    let letters = strip_outlet_suffix(title)
        .nfkd()
        .filter(|c| !is_combining_mark(*c));
    for c in letters.flat_map(char::to_lowercase) {
        match c {
            // Ligatures that Unicode does not decompose but people type both ways.
            'œ' => folded.push_str("oe"),
            'æ' => folded.push_str("ae"),
            'ß' => folded.push_str("ss"),
            c if c.is_alphanumeric() => folded.push(c),
            _ => folded.push(' '),
        }
    }
    folded
        .split_whitespace()
        .filter(|w| !FUNCTION_WORDS.contains(w))
        .filter(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// A hash of two adjacent words that does not depend on their order.
fn pair_hash(a: &str, b: &str) -> u32 {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    // The space cannot occur inside a word, so a pair never hashes like a word.
    fnv1a(format!("{first} {second}").as_bytes())
}

/// 32-bit FNV-1a: tiny, and fixed forever, which stored signatures need (std's
/// `DefaultHasher` may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_urls() {
        let cases = [
            (
                "HTTP://WWW.Example.COM/Path/?utm_source=rss&b=2&a=1#frag",
                "https://example.com/Path?a=1&b=2",
            ),
            ("https://example.com/", "https://example.com"),
            ("http://example.com", "https://example.com"),
            ("  https://example.com/a  ", "https://example.com/a"),
            ("https://example.com/a?", "https://example.com/a"),
            ("https://example.com/a//", "https://example.com/a"),
            ("https://example.com./a", "https://example.com/a"),
            ("https://example.com:8080/a/", "https://example.com:8080/a"),
            ("http://example.com:443/a", "https://example.com/a"),
            ("https://user:secret@example.com/a", "https://example.com/a"),
            (
                "https://example.com/a?b=2&a=1",
                "https://example.com/a?a=1&b=2",
            ),
            (
                "https://example.com/a?id=5&id=3",
                "https://example.com/a?id=3&id=5",
            ),
            (
                "https://example.com/a?q=caf%C3%A9+noir",
                "https://example.com/a?q=caf%C3%A9+noir",
            ),
            (
                "https://www.lemonde.fr/international/article/2025/01/06/x_123.html?xtor=RSS-3208",
                "https://lemonde.fr/international/article/2025/01/06/x_123.html",
            ),
            (
                "https://www.france24.com/fr/x-20250106?at_medium=RSS&at_campaign=rss",
                "https://france24.com/fr/x-20250106",
            ),
            (
                "https://example.com/a?fbclid=1&gclid=2&yclid=3&mc_cid=4&mc_eid=5&ref=rss&p=1",
                "https://example.com/a?p=1",
            ),
            (
                "https://example.com/a?UTM_Medium=x",
                "https://example.com/a",
            ),
            ("https://wwwexample.com/a", "https://wwwexample.com/a"),
            (
                "https://tengrinews.kz/kazakhstan_news/x-123/",
                "https://tengrinews.kz/kazakhstan_news/x-123",
            ),
            ("urn:uuid:1234#x", "urn:uuid:1234"),
            ("not a url", "not a url"),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical_url(input), expected, "{input}");
        }
    }

    #[test]
    fn canonical_url_is_idempotent() {
        for input in [
            "HTTP://WWW.Example.COM/Path/?b=2&a=1#f",
            "https://example.com/a?q=a+b%26c",
        ] {
            let once = canonical_url(input);
            assert_eq!(canonical_url(&once), once, "{input}");
        }
    }

    const URANIUM: &str = "France and Kazakhstan sign uranium deal";

    #[test]
    fn near_duplicate_titles() {
        // (a, b, same story at the default threshold)
        let cases = [
            (URANIUM, URANIUM, true),
            (
                URANIUM,
                "France, Kazakhstan sign uranium deal - Reuters",
                true,
            ),
            (
                URANIUM,
                "France, Kazakhstan sign uranium deal - The Astana Times",
                true,
            ),
            (URANIUM, "Kazakhstan and France sign uranium deal", true),
            (URANIUM, "FRANCE AND KAZAKHSTAN SIGN URANIUM DEAL", true),
            (URANIUM, "France and Kazakhstan sign rail deal", false),
            (URANIUM, "France and Kazakhstan discuss uranium", false),
            (
                "Macron à Astana : l'énergie au cœur des échanges",
                "Macron a Astana – L’energie au coeur des echanges | Le Monde",
                true,
            ),
            (
                "Казахстан и Франция подписали соглашение",
                "Казахстан и Франция подписали соглашение - Tengrinews",
                true,
            ),
            (
                "Қазақстан мен Франция келісімге қол қойды",
                "Қазақстан мен Франция келісімге қол қойды | Kazinform",
                true,
            ),
            (
                "Tokayev meets Macron in Paris",
                "Tokayev meets Xi in Beijing",
                false,
            ),
            (
                "Macron visits Astana - day 1",
                "Macron visits Astana - day 2",
                false,
            ),
            ("", "", false),
            ("—", "—", false),
        ];
        for (a, b, same) in cases {
            let similarity = title_similarity(a, b);
            assert_eq!(
                similarity >= DEFAULT_TITLE_THRESHOLD,
                same,
                "{a:?} vs {b:?}: {similarity:.3}"
            );
            assert_eq!(
                similarity,
                title_similarity(b, a),
                "symmetric: {a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn documented_similarities() {
        let reuters = "France, Kazakhstan sign uranium deal - Reuters";
        assert_eq!(title_similarity(URANIUM, reuters), 1.0);
        assert_eq!(
            title_similarity(URANIUM, "France and Kazakhstan sign rail deal"),
            0.5
        );
        // The outlet suffix kept (a three-word title is too short to strip from).
        let short = title_similarity("Uranium deal signed", "Uranium deal signed - Reuters");
        assert!((short - 5.0 / 7.0).abs() < 1e-9, "{short}");
    }

    #[test]
    fn title_words_are_normalised() {
        let cases: [(&str, &[&str]); 6] = [
            (
                "France, Kazakhstan sign uranium deal - Reuters",
                &["france", "kazakhstan", "sign", "uranium", "deal"],
            ),
            (
                "L'Élysée et Astana : accord signé",
                &["elysee", "astana", "accord", "signe"],
            ),
            (
                "Kazakhstan's 2025 budget",
                &["kazakhstan", "2025", "budget"],
            ),
            ("Казахстан и Франция", &["казахстан", "франция"]),
            ("Œuvre au cœur", &["oeuvre", "coeur"]),
            ("Ｆｕｌｌｗｉｄｔｈ  ＴＥＸＴ", &["fullwidth", "text"]),
        ];
        for (title, expected) in cases {
            assert_eq!(title_words(title), expected, "{title}");
        }
    }

    #[test]
    fn outlet_suffixes() {
        let cases = [
            (
                "France and Kazakhstan sign deal - Reuters",
                "France and Kazakhstan sign deal",
            ),
            (
                "France and Kazakhstan sign deal | The Astana Times",
                "France and Kazakhstan sign deal",
            ),
            (
                "Macron visits Astana - day 2",
                "Macron visits Astana - day 2",
            ),
            (
                "France-Kazakhstan ties grow stronger today",
                "France-Kazakhstan ties grow stronger today",
            ),
            (
                "A B C D - one two three four five",
                "A B C D - one two three four five",
            ),
        ];
        for (title, expected) in cases {
            assert_eq!(strip_outlet_suffix(title), expected, "{title}");
        }
    }

    #[test]
    fn signatures_round_trip_through_text() {
        for title in [URANIUM, "", &"word ".repeat(40)] {
            let signature = TitleSignature::of(title);
            let text = signature.to_string();
            assert!(text.starts_with("t1:"));
            assert_eq!(text.parse::<TitleSignature>(), Ok(signature), "{text}");
        }
        for bad in [
            "",
            "t1:xyz",
            "t2:00000000",
            "t1:0000000",
            "t1:0000000200000001",
        ] {
            assert!(bad.parse::<TitleSignature>().is_err(), "{bad}");
        }
    }

    #[test]
    fn long_titles_are_sketched_and_still_compare() {
        let long: String = (0..40).map(|i| format!("word{i} ")).collect();
        let signature = TitleSignature::of(&long);
        assert_eq!(signature.to_string().len(), 3 + 8 * SKETCH_SIZE);
        assert_eq!(signature.similarity(&signature), 1.0);
        let edited = long.replace("word39", "other");
        assert!(title_similarity(&long, &edited) >= DEFAULT_TITLE_THRESHOLD);
        let unrelated: String = (0..40).map(|i| format!("term{i} ")).collect();
        assert!(title_similarity(&long, &unrelated) < 0.1);
    }
}
