//! Each item's own language, from its text, with the source's `lang` hint as a prior.
//!
//! A pure function, no IO. Ingestion stores the result in `items.lang`; the
//! classifier's language-bound terms, de-duplication (copies are compared within one
//! language) and every published format's `xml:lang`/`language` read it from there.
//!
//! # Why a script and function-word vote before the crate
//! Measured on the 383 titles and summaries of the dev and fresh corpora
//! (docs/classifier.md has the table): lingua restricted to the four languages is
//! right on all of them but costs ≈ 230 µs an item, twenty times the classifier's
//! whole budget; whatlang costs ≈ 25 µs and has no Kazakh at all. The four languages
//! are two pairs that are cheap to tell apart: Cyrillic text is Kazakh when it has
//! the letters Russian lacks (ә ғ қ ң ө ұ ү һ і), and Latin text is French or English
//! by its function words and accents. whatlang (restricted to English and French) only
//! decides the Latin texts that vote a tie and carry no hint.

use serde::{Deserialize, Serialize};

/// A language entente reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Fr,
    Ru,
    Kk,
}

impl Lang {
    /// The ISO 639-1 code, as stored and published.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
        }
    }

    /// The language of a code such as `fr`, `fr-FR` or `en_US`, if it is one of ours.
    pub fn from_code(code: &str) -> Option<Lang> {
        // Compared without a lowercased copy: every item asks, twice.
        const CODES: [(&str, Lang); 9] = [
            ("en", Lang::En),
            ("eng", Lang::En),
            ("fr", Lang::Fr),
            ("fra", Lang::Fr),
            ("fre", Lang::Fr),
            ("ru", Lang::Ru),
            ("rus", Lang::Ru),
            ("kk", Lang::Kk),
            ("kaz", Lang::Kk),
        ];
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default();
        CODES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(primary))
            .map(|&(_, lang)| lang)
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// How much of the summary is read: a feed summary's first sentences vote clearly
/// enough, and the classifier's time budget is a few microseconds an item.
const MAX_SUMMARY_CHARS: usize = 240;

/// What the source's hint adds to its language's vote: it tips a close vote, never a
/// clear one ("a French article in an English feed" is French).
const HINT_PRIOR: f64 = 1.0;

/// The item's language: `title` and `summary` (plain text) decide, `hint` (the
/// source's or entry's language code) breaks ties. `None` when the text is in none of
/// the four languages' scripts (empty, digits only, Chinese…) and the hint names none
/// of them either.
pub fn detect(title: &str, summary: &str, hint: Option<&str>) -> Option<Lang> {
    let hint = hint.and_then(Lang::from_code);
    let summary_head = match summary.char_indices().nth(MAX_SUMMARY_CHARS) {
        Some((cut, _)) => &summary[..cut],
        None => summary,
    };
    let mut votes = Votes::default();
    votes.count_letters(title);
    votes.count_letters(summary_head);
    if votes.cyrillic == 0 && votes.latin == 0 {
        return hint;
    }
    if votes.cyrillic > votes.latin {
        return Some(votes.cyrillic_language(hint));
    }
    Some(votes.latin_language(hint).unwrap_or_else(|| {
        // A tie without a hint: the n-gram model of whatlang, limited to the two.
        let text = format!("{title} {summary_head}");
        match WHATLANG.detect_lang(&text) {
            Some(whatlang::Lang::Fra) => Lang::Fr,
            _ => Lang::En,
        }
    }))
}

/// The language code to store for an item: the detected one, else the hint as given
/// (a German feed's `de` is kept, not lost).
pub fn item_language(title: &str, summary: &str, hint: Option<&str>) -> Option<String> {
    detect(title, summary, hint)
        .map(|lang| lang.code().to_string())
        .or_else(|| hint.map(str::to_string))
}

static WHATLANG: std::sync::LazyLock<whatlang::Detector> = std::sync::LazyLock::new(|| {
    whatlang::Detector::with_allowlist(vec![whatlang::Lang::Eng, whatlang::Lang::Fra])
});

/// Letters of the Kazakh Cyrillic alphabet that Russian does not use.
fn is_kazakh_letter(c: char) -> bool {
    matches!(
        c,
        'ә' | 'ғ'
            | 'қ'
            | 'ң'
            | 'ө'
            | 'ұ'
            | 'ү'
            | 'һ'
            | 'і'
            | 'Ә'
            | 'Ғ'
            | 'Қ'
            | 'Ң'
            | 'Ө'
            | 'Ұ'
            | 'Ү'
            | 'Һ'
            | 'І'
    )
}

/// Letters with the accents French writes and English does not.
fn is_french_accent(c: char) -> bool {
    matches!(
        c,
        'é' | 'è'
            | 'ê'
            | 'à'
            | 'ù'
            | 'ç'
            | 'ô'
            | 'î'
            | 'â'
            | 'û'
            | 'ë'
            | 'ï'
            | 'œ'
            | 'É'
            | 'È'
            | 'À'
            | 'Ç'
    )
}

/// Which language a frequent short word votes for, if either: words the other language
/// rarely writes. `word` is ASCII-lowercased already; the French words with accents
/// ("à", "été", "après") are counted by their accents instead.
#[rustfmt::skip]
fn function_word(word: &[u8]) -> Option<Lang> {
    match word {
        b"the" | b"and" | b"of" | b"to" | b"in" | b"for" | b"with" | b"on" | b"is" | b"at"
        | b"by" | b"from" | b"its" | b"after" | b"will" | b"has" | b"have" | b"says"
        | b"said" | b"was" | b"were" | b"this" | b"that" | b"new" | b"first" | b"two"
        | b"over" | b"into" | b"an" | b"as" | b"be" | b"are" | b"their" | b"his" | b"her" => {
            Some(Lang::En)
        }
        b"le" | b"la" | b"les" | b"des" | b"du" | b"de" | b"et" | b"un" | b"une" | b"en"
        | b"pour" | b"dans" | b"sur" | b"au" | b"aux" | b"avec" | b"par" | b"est" | b"son"
        | b"sa" | b"ses" | b"qui" | b"que" | b"ou" | b"d" | b"l" | b"va" | b"ont" | b"sont"
        | b"leur" | b"leurs" | b"nouveau" | b"nouvelle" | b"deux" | b"entre" | b"selon" => {
            Some(Lang::Fr)
        }
        _ => None,
    }
}

/// What the text says about its language.
#[derive(Debug, Default, PartialEq)]
struct Votes {
    cyrillic: usize,
    kazakh: usize,
    /// Lowercase words with a Kazakh letter.
    kazakh_common_words: usize,
    latin: usize,
    /// English function words.
    english: usize,
    /// French accents, 0.3 each (added in text order, as the vote always has).
    french: f64,
    /// French function words.
    french_words: usize,
}

impl Votes {
    /// Counts the letters of each script, and the common (lowercase) words written with
    /// Kazakh letters: a name such as "Қазақстан" may be quoted in Russian, but
    /// "облысындағы" is Kazakh prose. A word is a run of letters; one pass over the
    /// text, each char tested once, which also counts the function words of English
    /// and French (runs of ASCII letters). ASCII bytes are read as bytes; the other
    /// chars are decoded and tested as before (`tests::the_fast_count_counts_as_the_char_count`).
    fn count_letters(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut kazakh_letters = 0;
        let mut lowercase_start = false;
        let mut in_word = false;
        let mut ascii_word_start = None;
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            if byte.is_ascii() {
                if byte.is_ascii_alphabetic() {
                    ascii_word_start.get_or_insert(at);
                    if !in_word {
                        in_word = true;
                        kazakh_letters = 0;
                        lowercase_start = byte.is_ascii_lowercase();
                    }
                    self.latin += 1;
                } else {
                    if let Some(start) = ascii_word_start.take() {
                        self.count_word(&text[start..at]);
                    }
                    if in_word {
                        self.end_word(kazakh_letters, lowercase_start);
                        in_word = false;
                    }
                }
                at += 1;
                continue;
            }
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            at += c.len_utf8();
            if let Some(start) = ascii_word_start.take() {
                self.count_word(&text[start..at - c.len_utf8()]);
            }
            if !crate::letters::is_alphabetic(c) {
                if in_word {
                    self.end_word(kazakh_letters, lowercase_start);
                }
                in_word = false;
                continue;
            }
            if !in_word {
                in_word = true;
                kazakh_letters = 0;
                lowercase_start = match c {
                    'а'..='я' => true,
                    'А'..='Я' => false,
                    _ => c.is_lowercase(),
                };
            }
            if ('\u{0400}'..='\u{04FF}').contains(&c) {
                self.cyrillic += 1;
                kazakh_letters += usize::from(is_kazakh_letter(c));
            } else if ('\u{00C0}'..='\u{024F}').contains(&c) {
                self.latin += 1;
                if is_french_accent(c) {
                    // Accents in a name ("Élysée", "Tokaïev") are weaker than words.
                    self.french += 0.3;
                }
            }
        }
        if in_word {
            self.end_word(kazakh_letters, lowercase_start);
        }
        if let Some(start) = ascii_word_start {
            self.count_word(&text[start..]);
        }
    }

    fn end_word(&mut self, kazakh_letters: usize, lowercase_start: bool) {
        self.kazakh += kazakh_letters;
        if kazakh_letters > 0 && lowercase_start {
            self.kazakh_common_words += 1;
        }
    }

    /// Counts a run of ASCII letters if it is a function word of English or French.
    fn count_word(&mut self, word: &str) {
        const LONGEST: usize = 8;
        if word.len() > LONGEST {
            return;
        }
        let mut buffer = [0u8; LONGEST];
        let lower = &mut buffer[..word.len()];
        lower.copy_from_slice(word.as_bytes());
        lower.make_ascii_lowercase();
        match function_word(lower) {
            Some(Lang::En) => self.english += 1,
            Some(_) => self.french_words += 1,
            None => {}
        }
    }

    /// Kazakh when the Kazakh letters are more than a quoted name would bring.
    fn cyrillic_language(&self, hint: Option<Lang>) -> Lang {
        let needed = if hint == Some(Lang::Kk) {
            1
        } else {
            // One Kazakh name ("Қазақстан") in a Russian text is 2–3 such letters;
            // Kazakh prose has one in ten or more.
            (self.cyrillic / 30).max(3)
        };
        if self.kazakh_common_words > 0
            || self.kazakh >= needed
            || (self.kazakh > 0 && self.cyrillic < 40)
        {
            Lang::Kk
        } else {
            Lang::Ru
        }
    }

    /// English or French by the vote and the prior; `None` on a tie.
    fn latin_language(&self, hint: Option<Lang>) -> Option<Lang> {
        let prior = |lang| if hint == Some(lang) { HINT_PRIOR } else { 0.0 };
        // Word by word after the accents, as the vote was first added up, so that a
        // close vote falls the same way to the last bit.
        let english = (0..self.english).fold(0.0, |sum, _| sum + 1.0) + prior(Lang::En);
        let french = (0..self.french_words).fold(self.french, |sum, _| sum + 1.0) + prior(Lang::Fr);
        if english > french {
            Some(Lang::En)
        } else if french > english {
            Some(Lang::Fr)
        } else {
            None
        }
    }
}

#[cfg(test)]
impl Votes {
    /// [`Votes::count_letters`] as it was written first, char by char: what the
    /// byte-reading version must count.
    fn count_letters_by_char(&mut self, text: &str) {
        let mut kazakh_letters = 0;
        let mut lowercase_start = false;
        let mut in_word = false;
        let mut ascii_word_start = None;
        for (at, c) in text.char_indices() {
            if c.is_ascii_alphabetic() {
                ascii_word_start.get_or_insert(at);
            } else if let Some(start) = ascii_word_start.take() {
                self.count_word(&text[start..at]);
            }
            if !crate::letters::is_alphabetic(c) {
                if in_word {
                    self.end_word(kazakh_letters, lowercase_start);
                }
                in_word = false;
                continue;
            }
            if !in_word {
                in_word = true;
                kazakh_letters = 0;
                lowercase_start = match c {
                    'a'..='z' | 'а'..='я' => true,
                    'A'..='Z' | 'А'..='Я' => false,
                    _ => c.is_lowercase(),
                };
            }
            if ('\u{0400}'..='\u{04FF}').contains(&c) {
                self.cyrillic += 1;
                kazakh_letters += usize::from(is_kazakh_letter(c));
            } else if c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c) {
                self.latin += 1;
                if is_french_accent(c) {
                    // Accents in a name ("Élysée", "Tokaïev") are weaker than words.
                    self.french += 0.3;
                }
            }
        }
        if in_word {
            self.end_word(kazakh_letters, lowercase_start);
        }
        if let Some(start) = ascii_word_start {
            self.count_word(&text[start..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for (code, lang) in [
            ("en", Some(Lang::En)),
            ("fr-FR", Some(Lang::Fr)),
            ("en_US", Some(Lang::En)),
            ("RU", Some(Lang::Ru)),
            ("kk", Some(Lang::Kk)),
            ("kaz", Some(Lang::Kk)),
            ("de", None),
            ("", None),
        ] {
            assert_eq!(Lang::from_code(code), lang, "{code}");
        }
        assert_eq!(Lang::Kk.code(), "kk");
    }

    #[test]
    fn the_text_decides_over_the_hint() {
        let cases = [
            (
                "Le Kazakhstan et la France signent un accord",
                "",
                Some("en"),
                Lang::Fr,
            ),
            (
                "France and Kazakhstan sign a deal",
                "",
                Some("fr"),
                Lang::En,
            ),
            (
                "Казахстан и Франция подписали соглашение",
                "",
                Some("kk"),
                Lang::Ru,
            ),
            (
                "Қазақстан мен Франция келісімге қол қойды",
                "",
                Some("ru"),
                Lang::Kk,
            ),
            (
                "Токаев встретился с послом",
                "Встреча прошла в Акорде; обсуждались вопросы сотрудничества Қазақстан.",
                None,
                Lang::Ru,
            ),
            ("Alstom ҚТЖ-ға 50 электровоз жеткізеді", "", None, Lang::Kk),
            ("Alstom поставит КТЖ 50 электровозов", "", None, Lang::Ru),
        ];
        for (title, summary, hint, expected) in cases {
            assert_eq!(detect(title, summary, hint), Some(expected), "{title}");
        }
    }

    #[test]
    fn the_hint_breaks_ties_and_fills_gaps() {
        // "Air Astana" alone votes for neither Latin language.
        assert_eq!(detect("Air Astana", "", Some("fr")), Some(Lang::Fr));
        assert_eq!(detect("Air Astana", "", Some("en")), Some(Lang::En));
        assert_eq!(detect("2026", "", Some("ru")), Some(Lang::Ru));
        assert_eq!(detect("2026", "", None), None);
        assert_eq!(detect("北京", "", Some("de")), None);
        assert_eq!(item_language("北京", "", Some("de")).as_deref(), Some("de"));
        assert_eq!(
            item_language("Le port", "", Some("de")).as_deref(),
            Some("fr")
        );
    }

    #[test]
    fn the_fast_count_counts_as_the_char_count() {
        let pieces = [
            "The",
            "the",
            " ",
            "and",
            "Élysée",
            "é",
            "É",
            "à",
            "ç",
            "œ",
            "Қазақстан",
            "қ",
            "і",
            "облысындағы",
            "Казахстан",
            "Ё",
            "ё",
            "ў",
            "l'",
            "d’",
            "-",
            "2026",
            "«",
            "»",
            "中",
            "😀",
            "\u{0301}",
            "\u{0482}",
            "ǅ",
            "ß",
            "LA",
            "de",
            "x",
            "Ω",
            "ω",
            ",",
            "\n",
            "nouvelle",
            "ЖӘНЕ",
            "ñ",
            "Ī",
            "ſ",
        ];
        let mut seed = 3u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut texts: Vec<String> = include_str!("../corpus/fresh.jsonl")
            .lines()
            .map(str::to_string)
            .collect();
        for _ in 0..5000 {
            texts.push(
                (0..next() % 20)
                    .map(|_| pieces[next() % pieces.len()])
                    .collect(),
            );
        }
        for text in &texts {
            let (mut fast, mut by_char) = (Votes::default(), Votes::default());
            fast.count_letters(text);
            by_char.count_letters_by_char(text);
            assert_eq!(fast, by_char, "{text:?}");
        }
    }

    #[test]
    fn huge_summaries_are_read_in_part() {
        let summary = "the ".repeat(100_000);
        assert_eq!(detect("x", &summary, None), Some(Lang::En));
    }
}
