//! The interface languages of the pages: English, French, Russian and Kazakh.
//!
//! Every word a page says itself (headings, buttons, the explanation of what a feed
//! is) lives in one [`Words`] table per language, so that a missing translation is a
//! compile error rather than an English word on a Kazakh page. Items keep their own
//! language; only the interface changes.

use chrono::{DateTime, Datelike, Utc};

/// An interface language, which is also a language a per-language feed selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    En,
    Fr,
    Ru,
    Kk,
}

impl Lang {
    /// Every language, English (the default at `/`) first.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::Ru, Lang::Kk];

    /// The ISO 639-1 code: `lang` attributes, paths (`/fr/`) and feed names.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// Whether a stored item language (`fr`, `fr-FR`, `FR`) is this language.
    pub fn matches(self, item_lang: &str) -> bool {
        let primary = item_lang.split(['-', '_']).next().unwrap_or_default();
        primary.eq_ignore_ascii_case(self.code())
    }

    /// The language named in its own language, for the switch between them.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::Ru => "Русский",
            Lang::Kk => "Қазақша",
        }
    }

    /// The interface language an `Accept-Language` header prefers, English when it
    /// names none of ours. Ties keep the header's order, as RFC 9110 reads it.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::En;
        };
        let mut best: Option<(f32, Lang)> = None;
        for range in header.split(',') {
            let mut fields = range.split(';').map(str::trim);
            let tag = fields.next().unwrap_or_default();
            let quality = fields
                .filter_map(|f| f.strip_prefix("q=").or_else(|| f.strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let Some(lang) = Lang::ALL.into_iter().find(|l| l.matches(tag)) else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The interface text in this language.
    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
            Lang::Ru => &RU,
            Lang::Kk => &KK,
        }
    }

    /// A date as a reader of this language writes it: `3 March 2025`, `3 mars 2025`,
    /// `3 марта 2025`, `2025 ж. 3 наурыз`.
    pub fn date(self, date: DateTime<Utc>) -> String {
        let month = self.words().months[date.month0() as usize];
        match self {
            Lang::Kk => format!("{} ж. {} {month}", date.year(), date.day()),
            _ => format!("{} {month} {}", date.day(), date.year()),
        }
    }
}

/// What a page says, in one language.
#[derive(Debug)]
pub struct Words {
    pub topics: &'static str,
    pub latest: &'static str,
    /// Heading over the stories in the page's language, shown first.
    pub in_this_language: &'static str,
    pub other_languages: &'static str,
    pub no_items: &'static str,
    pub updated: &'static str,
    pub also_reported_by: &'static str,
    pub subscribe: &'static str,
    /// What a feed is and how to use one, for people who have never subscribed.
    pub what_is_a_feed: &'static str,
    pub every_topic: &'static str,
    pub only_this_language: &'static str,
    /// The folded list of the other languages' and the topics' feeds.
    pub more_feeds: &'static str,
    pub opml: &'static str,
    pub opml_hint: &'static str,
    pub outlets: &'static str,
    pub outlet_ok: &'static str,
    pub outlet_failing: &'static str,
    pub outlet_pending: &'static str,
    pub language: &'static str,
    pub search: &'static str,
    pub search_label: &'static str,
    pub results_for: &'static str,
    pub no_results: &'static str,
    pub search_hint: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub home: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    pub months: [&'static str; 12],
}

const EN: Words = Words {
    topics: "Topics",
    latest: "Latest stories",
    in_this_language: "In English",
    other_languages: "In other languages",
    no_items: "No stories yet.",
    updated: "Updated",
    also_reported_by: "Also reported by",
    subscribe: "Subscribe",
    what_is_a_feed: "A feed brings new stories to your feed reader (such as NetNewsWire, \
                     Feedly, Thunderbird or Inoreader) as soon as they are published: copy a \
                     link below and add it in your reader. RSS and Atom work everywhere; \
                     JSON Feed in newer readers.",
    every_topic: "Every topic",
    only_this_language: "Only stories in English",
    more_feeds: "More feeds: other languages, each topic",
    opml: "All feeds as OPML",
    opml_hint: "import this file into a reader to follow every topic at once",
    outlets: "Outlets followed",
    outlet_ok: "up to date",
    outlet_failing: "failing",
    outlet_pending: "not fetched yet",
    language: "Language",
    search: "Search",
    search_label: "Search the stories",
    results_for: "Results for",
    no_results: "No story matches.",
    search_hint: "Type one or more words; every word must appear.",
    previous: "Previous",
    next: "Next",
    home: "Front page",
    not_found: "Page not found",
    not_found_text: "There is no page at this address.",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

const FR: Words = Words {
    topics: "Thèmes",
    latest: "Dernières nouvelles",
    in_this_language: "En français",
    other_languages: "Dans d’autres langues",
    no_items: "Aucun article pour l’instant.",
    updated: "Mis à jour le",
    also_reported_by: "Également rapporté par",
    subscribe: "S’abonner",
    what_is_a_feed: "Un flux apporte les nouveaux articles dans votre lecteur de flux \
                     (NetNewsWire, Feedly, Thunderbird, Inoreader…) dès leur publication : \
                     copiez un lien ci-dessous et ajoutez-le dans votre lecteur. RSS et Atom \
                     fonctionnent partout, JSON Feed dans les lecteurs récents.",
    every_topic: "Tous les thèmes",
    only_this_language: "Seulement les articles en français",
    more_feeds: "Plus de flux : autres langues, chaque thème",
    opml: "Tous les flux en OPML",
    opml_hint: "importez ce fichier dans un lecteur pour suivre tous les thèmes d’un coup",
    outlets: "Médias suivis",
    outlet_ok: "à jour",
    outlet_failing: "en échec",
    outlet_pending: "pas encore lu",
    language: "Langue",
    search: "Rechercher",
    search_label: "Rechercher dans les articles",
    results_for: "Résultats pour",
    no_results: "Aucun article ne correspond.",
    search_hint: "Tapez un ou plusieurs mots ; chaque mot doit apparaître.",
    previous: "Précédents",
    next: "Suivants",
    home: "Accueil",
    not_found: "Page introuvable",
    not_found_text: "Il n’y a pas de page à cette adresse.",
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
};

const RU: Words = Words {
    topics: "Темы",
    latest: "Последние новости",
    in_this_language: "На русском",
    other_languages: "На других языках",
    no_items: "Новостей пока нет.",
    updated: "Обновлено",
    also_reported_by: "Также сообщают",
    subscribe: "Подписаться",
    what_is_a_feed: "Лента доставляет новые материалы в вашу программу для чтения лент \
                     (NetNewsWire, Feedly, Thunderbird, Inoreader и другие) сразу после \
                     публикации: скопируйте ссылку ниже и добавьте её в программу. RSS и \
                     Atom работают везде, JSON Feed — в новых программах.",
    every_topic: "Все темы",
    only_this_language: "Только материалы на русском",
    more_feeds: "Другие ленты: другие языки, каждая тема",
    opml: "Все ленты в формате OPML",
    opml_hint: "импортируйте этот файл в программу, чтобы подписаться на все темы сразу",
    outlets: "Источники",
    outlet_ok: "в порядке",
    outlet_failing: "ошибка",
    outlet_pending: "ещё не загружен",
    language: "Язык",
    search: "Поиск",
    search_label: "Поиск по материалам",
    results_for: "Результаты по запросу",
    no_results: "Ничего не найдено.",
    search_hint: "Введите одно или несколько слов; должно встретиться каждое.",
    previous: "Назад",
    next: "Дальше",
    home: "Главная",
    not_found: "Страница не найдена",
    not_found_text: "По этому адресу страницы нет.",
    months: [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
};

const KK: Words = Words {
    topics: "Тақырыптар",
    latest: "Соңғы жаңалықтар",
    in_this_language: "Қазақ тілінде",
    other_languages: "Басқа тілдерде",
    no_items: "Әзірге жаңалық жоқ.",
    updated: "Жаңартылды",
    also_reported_by: "Сондай-ақ хабарлағандар",
    subscribe: "Жазылу",
    what_is_a_feed: "Арна жаңа материалдарды жарияланған сәтте арна оқу бағдарламасына \
                     (NetNewsWire, Feedly, Thunderbird, Inoreader т.б.) жеткізеді: төмендегі \
                     сілтемені көшіріп, бағдарламаңызға қосыңыз. RSS пен Atom барлық жерде \
                     жұмыс істейді, JSON Feed — жаңа бағдарламаларда.",
    every_topic: "Барлық тақырып",
    only_this_language: "Тек қазақ тіліндегі материалдар",
    more_feeds: "Басқа арналар: басқа тілдер, әр тақырып",
    opml: "Барлық арна OPML түрінде",
    opml_hint: "барлық тақырыпқа бірден жазылу үшін бұл файлды бағдарламаға импорттаңыз",
    outlets: "Бақыланатын басылымдар",
    outlet_ok: "жаңартылған",
    outlet_failing: "қате",
    outlet_pending: "әлі жүктелмеген",
    language: "Тіл",
    search: "Іздеу",
    search_label: "Материалдардан іздеу",
    results_for: "Іздеу нәтижесі",
    no_results: "Ештеңе табылмады.",
    search_hint: "Бір немесе бірнеше сөз жазыңыз; әр сөз кездесуі керек.",
    previous: "Алдыңғы",
    next: "Келесі",
    home: "Басты бет",
    not_found: "Бет табылмады",
    not_found_text: "Бұл мекенжайда бет жоқ.",
    months: [
        "қаңтар",
        "ақпан",
        "наурыз",
        "сәуір",
        "мамыр",
        "маусым",
        "шілде",
        "тамыз",
        "қыркүйек",
        "қазан",
        "қараша",
        "желтоқсан",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn accept_language_picks_the_preferred_interface() {
        let cases = [
            (None, Lang::En),
            (Some(""), Lang::En),
            (Some("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr),
            (Some("de, ru;q=0.5, en;q=0.4"), Lang::Ru),
            (Some("kk-KZ"), Lang::Kk),
            (Some("en;q=0.2, kk;q=0.7"), Lang::Kk),
            (Some("fr;q=0, de"), Lang::En),
            (Some("*"), Lang::En),
        ];
        for (header, expected) in cases {
            assert_eq!(Lang::negotiate(header), expected, "{header:?}");
        }
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let date = Utc.with_ymd_and_hms(2025, 3, 4, 8, 0, 0).unwrap();
        assert_eq!(Lang::En.date(date), "4 March 2025");
        assert_eq!(Lang::Fr.date(date), "4 mars 2025");
        assert_eq!(Lang::Ru.date(date), "4 марта 2025");
        assert_eq!(Lang::Kk.date(date), "2025 ж. 4 наурыз");
    }
}
