//! De-duplication helpers: the canonical form of a link, and a signature of a title
//! that finds the same story under slightly different headlines.
//!
//! Pure functions, no IO. Ingestion uses [`canonical_url`] to key items, so the same
//! article reached through `http://www.` and `https://`, or with a tracking suffix,
//! is stored once; publishing uses [`TitleSignature`] to fold other outlets' copies of
//! a story into an "Also reported by" list.
//!
//! # Why the title signature looks the way it does
//! Wire stories are republished with small edits: "and" becomes a comma, a word is
//! inserted or dropped, the outlet name is appended ("… - Reuters"), an "UPDATE:"
//! prefix or quotes are added, clauses are reordered ("In Astana, X and Y sign…"),
//! a name is spelled the Kazakh, Russian or Latin way (Тоқаев, Токаев, Tokayev).
//! A different story about the same actors differs by a *substituted* word: "supply
//! deal" vs "mining deal", "arrives" vs "leaves", Paris vs Tashkent.
//!
//! So titles are normalised (case, accents, punctuation, prefixes and outlet suffixes,
//! function words, number words as digits, Cyrillic transliterated to Latin letters
//! with the Kazakh letters read as their Russian neighbours) into a set of words, and
//! two sets are aligned word by word, allowing an inflection or a one-letter spelling
//! difference (`makron`/`makronom`, `tokaev`/`tokayev`, `localise`/`localize`). Order
//! never matters. What is left unaligned on *both* sides is a substitution, which
//! costs [`SUBSTITUTION_COST`] aligned words; what is left on one side only is an
//! insertion, which costs [`INSERTION_COST`]:
//!
//! `similarity = aligned / (aligned + INSERTION_COST × inserted + SUBSTITUTION_COST × substituted)`
//!
//! so 1.0 is the same words, one extra word in a seven-word headline gives 0.96, and
//! one substituted word gives 0.6 (seven words) to 0.75 (thirteen words).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use url::form_urlencoded;
use url::Url;

pub mod blocking;

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

/// The default similarity at or above which two titles are the same story: measured
/// on `corpus/dedup_pairs.tsv` (same-story pairs score 0.8–1.0 but for a few, and
/// different stories with the same actors 0.2–0.6). "France and Kazakhstan sign
/// uranium deal" vs "France, Kazakhstan sign uranium deal - Reuters" is 1.0, vs
/// "France and Kazakhstan sign rail deal" 0.5.
pub const DEFAULT_TITLE_THRESHOLD: f64 = 0.7;

/// What a word left over on one side only costs, in aligned words: a dropped first
/// name or an added "long-term" barely changes the story.
pub const INSERTION_COST: f64 = 0.25;

/// What a word left over on both sides costs, in aligned words: "supply" where the
/// other says "mining" usually is another story.
pub const SUBSTITUTION_COST: f64 = 4.0;

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

/// How many words a signature keeps: a headline has fewer, and a long title's first
/// words say what it is about.
const SKETCH_SIZE: usize = 32;

/// The format tag written before a signature, so that a stored signature from a
/// different normalisation is recognised instead of silently compared. `t1:` was a
/// sketch of word and word-pair hashes; a `t1:` signature reads as unreadable, so
/// items stored with one are compared with nothing until their keys are refilled.
const SIGNATURE_VERSION: &str = "t2:";

/// A compact, storable summary of a title for near-duplicate detection: its
/// comparable words (see the module docs), at most 32.
///
/// Stored as text with `to_string()` and read back with `parse()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TitleSignature {
    /// Sorted, unique, each non-empty and without spaces.
    words: Vec<String>,
}

impl TitleSignature {
    /// The signature of a title.
    pub fn of(title: &str) -> TitleSignature {
        let mut words: Vec<String> = title_words(title)
            .iter()
            .map(|w| comparable_word(w))
            .filter(|w| !w.is_empty())
            .take(SKETCH_SIZE)
            .collect();
        words.sort_unstable();
        words.dedup();
        TitleSignature { words }
    }

    /// Whether the title had no words to compare (empty, or only punctuation and
    /// function words). An empty signature is similar to nothing, itself included.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The comparable words, sorted and unique.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// How alike the two titles are, from 0 to 1 (see the module docs for the formula).
    pub fn similarity(&self, other: &TitleSignature) -> f64 {
        self.alignment(other).similarity()
    }

    /// The word alignment of two signatures, which [`Alignment::similarity`] scores
    /// and `explain` shows: `self`'s words first in each pair and in `left_a`. The
    /// score is the same whichever signature comes first, because the alignment is
    /// always worked out from the smaller one (a fuzzy match is greedy).
    pub fn alignment(&self, other: &TitleSignature) -> Alignment {
        let swapped = self > other;
        let (a, b) = if swapped {
            (other, self)
        } else {
            (self, other)
        };
        let mut used = vec![false; b.words.len()];
        let mut pairs = Vec::new();
        let mut left_a = Vec::new();
        // Exact matches first, so that a fuzzy match never takes another word's twin.
        let mut pending = Vec::new();
        for word in &a.words {
            match b.words.binary_search(word) {
                Ok(at) => {
                    used[at] = true;
                    pairs.push((word.clone(), word.clone()));
                }
                Err(_) => pending.push(word),
            }
        }
        for word in pending {
            let found = (0..b.words.len()).find(|&j| !used[j] && alike(word, &b.words[j]));
            match found {
                Some(j) => {
                    used[j] = true;
                    pairs.push((word.clone(), b.words[j].clone()));
                }
                None => left_a.push(word.clone()),
            }
        }
        let mut left_b: Vec<String> = b
            .words
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(w, _)| w.clone())
            .collect();
        if swapped {
            for pair in &mut pairs {
                std::mem::swap(&mut pair.0, &mut pair.1);
            }
            std::mem::swap(&mut left_a, &mut left_b);
        }
        Alignment {
            aligned: pairs.len(),
            pairs,
            left_a,
            left_b,
        }
    }

    /// Whether the two titles are the same story at this threshold.
    pub fn is_near_duplicate(&self, other: &TitleSignature, threshold: f64) -> bool {
        self.similarity(other) >= threshold
    }
}

/// How two titles' words line up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    /// Words found on both sides (exactly, or as an inflection or a spelling).
    pub aligned: usize,
    /// The aligned words, as (the first signature's word, the second's), equal when
    /// the words are.
    pub pairs: Vec<(String, String)>,
    /// The words of each side that found no partner: the first signature's, the
    /// second's.
    pub left_a: Vec<String>,
    pub left_b: Vec<String>,
}

impl Alignment {
    /// Substituted words (left over on both sides) and inserted ones (on one side).
    pub fn substituted_and_inserted(&self) -> (usize, usize) {
        let (a, b) = (self.left_a.len(), self.left_b.len());
        (a.min(b), a.max(b) - a.min(b))
    }

    pub fn similarity(&self) -> f64 {
        let (substituted, inserted) = self.substituted_and_inserted();
        similarity_of(self.aligned, substituted, inserted)
    }
}

/// The module docs' formula, written once: [`Alignment::similarity`] scores with it and
/// [`max_unaligned`] bounds with it, so the bound is exact, floating point included.
fn similarity_of(aligned: usize, substituted: usize, inserted: usize) -> f64 {
    if aligned == 0 {
        return 0.0;
    }
    let aligned = aligned as f64;
    aligned / (aligned + INSERTION_COST * inserted as f64 + SUBSTITUTION_COST * substituted as f64)
}

/// The most words that the smaller of two signatures, of `words` words, can leave
/// unaligned when the two are near duplicates at `threshold`: in such a pair the
/// smaller side's unaligned words are the substituted ones (the larger side's extra
/// words are insertions, which only lower the score), and the score falls as they
/// grow. `words - 1` at most (an alignment of nothing scores 0).
pub fn max_unaligned(words: usize, threshold: f64) -> usize {
    (0..words)
        .take_while(|&unaligned| similarity_of(words - unaligned, unaligned, 0) >= threshold)
        .last()
        .unwrap_or(0)
}

/// Whether two different comparable words are one word: an inflection (a shared
/// start of five letters, or of four when the shorter word has at most five:
/// `port`/`porty`/`porttary`), or one letter inserted, dropped or changed in words of
/// five letters or more (`tokaev`/`tokayev`). Numbers must be equal.
pub(crate) fn alike(a: &str, b: &str) -> bool {
    if a.bytes().all(|c| c.is_ascii_digit()) || b.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let common = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if common >= 5 && common * 2 >= long.len() {
        return true;
    }
    if common >= 4 && short.len() <= 5 {
        return true;
    }
    short.len() >= 5 && within_one_edit(short, long)
}

/// One insertion, deletion or substitution at most (`short` is not longer).
fn within_one_edit(short: &[char], long: &[char]) -> bool {
    if long.len() - short.len() > 1 {
        return false;
    }
    let common = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    let tail_short = &short[(common + usize::from(short.len() == long.len())).min(short.len())..];
    let tail_long = &long[(common + 1).min(long.len())..];
    tail_short == tail_long
}

/// A normalised title word as it is compared: Cyrillic transliterated to Latin (the
/// Kazakh letters as their Russian neighbours, so Тоқаев = Токаев = tokaev), number
/// words as digits.
fn comparable_word(word: &str) -> String {
    if let Some(digits) = number_word(word) {
        return digits.to_string();
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match transliterate(c) {
            Some(latin) => out.push_str(latin),
            None => out.push(c),
        }
    }
    out
}

/// Number words of English and French up to twelve (Russian and Kazakh titles write
/// digits; "он" is "he" in Russian and "ten" in Kazakh).
fn number_word(word: &str) -> Option<&'static str> {
    Some(match word {
        "one" => "1",
        "two" | "deux" => "2",
        "three" | "trois" => "3",
        "four" | "quatre" => "4",
        "five" | "cinq" => "5",
        "six" => "6",
        "seven" | "sept" => "7",
        "eight" | "huit" => "8",
        "nine" | "neuf" => "9",
        "ten" | "dix" => "10",
        "eleven" | "onze" => "11",
        "twelve" | "douze" => "12",
        _ => return None,
    })
}

/// The Latin letters of a lowercase Cyrillic letter (accents were already removed, so
/// `й` arrives as `и` and `ё` as `е`); `None` for a letter that is not Cyrillic.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        'а' | 'ә' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ғ' => "g",
        'д' => "d",
        'е' | 'э' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'і' => "i",
        'к' | 'қ' => "k",
        'л' => "l",
        'м' => "m",
        'н' | 'ң' => "n",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ү' | 'ұ' => "u",
        'ф' => "f",
        'х' | 'һ' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ы' => "y",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

/// The similarity of two titles; see [`TitleSignature::similarity`].
pub fn title_similarity(a: &str, b: &str) -> f64 {
    TitleSignature::of(a).similarity(&TitleSignature::of(b))
}

impl fmt::Display for TitleSignature {
    /// `t2:` followed by the words, separated by spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SIGNATURE_VERSION)?;
        f.write_str(&self.words.join(" "))
    }
}

/// A stored signature that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a title signature (expected `{SIGNATURE_VERSION}` and sorted words): {0:?}")]
pub struct ParseSignatureError(String);

impl FromStr for TitleSignature {
    type Err = ParseSignatureError;

    fn from_str(text: &str) -> Result<TitleSignature, ParseSignatureError> {
        let invalid = || ParseSignatureError(text.chars().take(40).collect());
        let body = text.strip_prefix(SIGNATURE_VERSION).ok_or_else(invalid)?;
        if body.is_empty() {
            return Ok(TitleSignature::default());
        }
        let words: Vec<String> = body.split(' ').map(str::to_string).collect();
        let well_formed = words.len() <= SKETCH_SIZE
            && words
                .iter()
                .all(|w| !w.is_empty() && !w.contains(char::is_whitespace))
            && words.windows(2).all(|w| w[0] < w[1]);
        if !well_formed {
            return Err(invalid());
        }
        Ok(TitleSignature { words })
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
                && title[..head_end].split_whitespace().count() >= MIN_HEAD_WORDS
                && !is_route(
                    &title[..head_end],
                    &title[head_end..tail_start],
                    &title[tail_start..],
                ) =>
        {
            &title[..head_end]
        }
        _ => title,
    }
}

/// Whether a dash joins two names rather than setting off an outlet: "Almaty — Paris"
/// (a route, a match) is one capitalised word on each side of a dash.
fn is_route(head: &str, separator: &str, tail: &str) -> bool {
    let capitalised = |word: Option<&str>| {
        word.and_then(|w| w.chars().next())
            .is_some_and(char::is_uppercase)
    };
    separator.trim() != "|"
        && separator.trim() != "::"
        && separator.trim() != "·"
        && tail.split_whitespace().count() == 1
        && capitalised(tail.split_whitespace().next())
        && capitalised(head.split_whitespace().next_back())
}

/// Words that carry no story: English, French, Russian and Kazakh conjunctions,
/// articles and prepositions (accents already folded, so `à` is `a`).
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "at", "by", "from", "as",
    "is", "are", "le", "la", "les", "de", "des", "du", "et", "en", "un", "une", "au", "aux",
    "pour", "sur", "avec", "dans", "par", "и", "в", "во", "на", "с", "со", "по", "к", "о", "об",
    "для", "из", "от", "за", "және", "мен", "бен", "пен", "да", "де", "та", "те", "his", "her",
    "its", "their", "leur", "leurs", "son", "sa", "ses",
];

/// Words an outlet puts before a headline to say what kind of copy it is
/// ("UPDATE:", "VIDÉO.", "ОБНОВЛЕНО:"), folded as title words are; dropped at the
/// start of a title only.
const PREFIX_MARKERS: &[&str] = &[
    "update",
    "updated",
    "breaking",
    "exclusive",
    "live",
    "video",
    "photo",
    "photos",
    "watch",
    "urgent",
    "direct",
    "exclusif",
    "обновлено",
    "срочно",
    "видео",
    "фото",
    "эксклюзив",
    "шұғыл",
    "бейне",
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
            // "1GW" and "A321LR" are "1 gw" and "a 321 lr": digits are their own word.
            c if c.is_alphanumeric() => {
                let boundary = folded
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_alphanumeric() && p.is_numeric() != c.is_numeric());
                if boundary {
                    folded.push(' ');
                }
                folded.push(c);
            }
            _ => folded.push(' '),
        }
    }
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    // Only a marker that the outlet set apart ("UPDATE:", "VIDÉO.") and that leaves a
    // headline: "Live music returns to Almaty" keeps its first word.
    let marked = title
        .trim_start()
        .split_once([':', '.', '|', '-', '–', '—'])
        .is_some_and(|(head, _)| head.split_whitespace().count() == 1);
    if marked && words.len() > 2 && PREFIX_MARKERS.contains(&words[0]) {
        words.remove(0);
    }
    words
        .into_iter()
        .filter(|w| !FUNCTION_WORDS.contains(w))
        .filter(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
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
        // The outlet suffix kept (a three-word title is too short to strip from): one
        // inserted word against three aligned.
        let short = title_similarity("Uranium deal signed", "Uranium deal signed - Reuters");
        assert!((short - 3.0 / 3.25).abs() < 1e-9, "{short}");
    }

    #[test]
    fn what_survives_and_what_separates() {
        let same = [
            (
                "UPDATE: Orano, Kazatomprom sign deal",
                "Orano and Kazatomprom sign deal",
            ),
            ("Тоқаев Макронмен сөйлесті", "Токаев Макронмен сөйлесті"),
            (
                "Tokayev meets Macron in Astana",
                "Tokaev meets Macron in Astana",
            ),
            (
                "TotalEnergies to build 1GW wind farm",
                "TotalEnergies to build 1 GW wind farm",
            ),
            (
                "Lyon and Almaty mark ten years of ties",
                "Lyon, Almaty mark 10 years of ties",
            ),
            (
                "Казатомпром и Orano подписали соглашение",
                "Казатомпром и Орано подписали соглашение",
            ),
        ];
        for (a, b) in same {
            let s = title_similarity(a, b);
            assert!(s >= DEFAULT_TITLE_THRESHOLD, "{a:?} vs {b:?}: {s:.3}");
        }
        let different = [
            (
                "Alstom to supply 50 locomotives to KTZ",
                "Alstom to supply 30 locomotives to KTZ",
            ),
            (
                "Airbus delivers first A321LR to Air Astana",
                "Airbus delivers first A320neo to Air Astana",
            ),
            (
                "Orano signs uranium mining deal",
                "Orano signs uranium supply deal",
            ),
        ];
        for (a, b) in different {
            let s = title_similarity(a, b);
            assert!(s < DEFAULT_TITLE_THRESHOLD, "{a:?} vs {b:?}: {s:.3}");
        }
    }

    #[test]
    fn prefix_markers_only_when_set_apart() {
        assert_eq!(
            title_words("UPDATE: Orano signs deal"),
            ["orano", "signs", "deal"]
        );
        assert_eq!(
            title_words("VIDÉO. Sanofi à Karaganda"),
            ["sanofi", "karaganda"]
        );
        assert_eq!(
            title_words("Live music returns to Almaty"),
            ["live", "music", "returns", "almaty"]
        );
    }

    #[test]
    fn alignment_keeps_the_callers_order_and_its_score_either_way() {
        let a = TitleSignature::of("Tokayev and Macron sign uranium deal");
        let b = TitleSignature::of("Tokaev, Macron sign uranium supply deal - Reuters");
        let (ab, ba) = (a.alignment(&b), b.alignment(&a));
        assert_eq!(ab.similarity(), ba.similarity());
        assert!(ab
            .pairs
            .contains(&("tokayev".to_string(), "tokaev".to_string())));
        assert!(ba
            .pairs
            .contains(&("tokaev".to_string(), "tokayev".to_string())));
        assert_eq!(
            (ab.left_a.len(), ab.left_b.clone()),
            (0, vec!["supply".to_string()])
        );
        assert_eq!(ba.left_a, ab.left_b);
        assert_eq!(ab.aligned, ab.pairs.len());
    }

    #[test]
    fn alike_words() {
        for (a, b, same) in [
            ("makron", "makronom", true),
            ("port", "porttary", true),
            ("tokaev", "tokayev", true),
            ("localise", "localize", true),
            ("mining", "minister", false),
            ("rise", "rose", false),
            ("321", "320", false),
        ] {
            assert_eq!(alike(a, b), same, "{a} {b}");
            assert_eq!(alike(b, a), same, "{b} {a}");
        }
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
            (
                "Air Astana opens direct flights Almaty — Paris",
                "Air Astana opens direct flights Almaty — Paris",
            ),
            (
                "Air Astana opens direct flights Almaty — Paris | Kazinform",
                "Air Astana opens direct flights Almaty — Paris",
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
            assert!(text.starts_with("t2:"));
            assert_eq!(text.parse::<TitleSignature>(), Ok(signature), "{text}");
        }
        for bad in [
            "",
            "t1:xyz",
            // The hash sketch of before: unreadable, so never compared by mistake.
            "t1:0000000200000001",
            "t3:deal",
            "t2:uranium deal",
            "t2:deal deal",
            "t2:deal  uranium",
        ] {
            assert!(bad.parse::<TitleSignature>().is_err(), "{bad}");
        }
    }

    #[test]
    fn long_titles_are_sketched_and_still_compare() {
        // Forty distinct letter-only words ("waa", "wab", …): digits are words of
        // their own, so "word1" would be "word" and "1".
        let words = |first: char| -> String {
            (0u8..40)
                .map(|i| {
                    format!(
                        "{first}{}{} ",
                        (b'a' + i / 26) as char,
                        (b'a' + i % 26) as char
                    )
                })
                .collect()
        };
        let long = words('w');
        let signature = TitleSignature::of(&long);
        assert_eq!(signature.words.len(), SKETCH_SIZE);
        assert_eq!(signature.similarity(&signature), 1.0);
        let edited = long.replace("wbn", "other");
        assert!(title_similarity(&long, &edited) >= DEFAULT_TITLE_THRESHOLD);
        let unrelated = words('t');
        assert!(title_similarity(&long, &unrelated) < 0.1);
    }
}
