//! Blocking keys: where a new title's near-duplicates can be among the stored titles,
//! so that the store compares a new relevant item with the copies of its story instead
//! of every relevant item of its window.
//!
//! # What the similarity guarantees
//! Take two signatures that are near duplicates at a threshold `t`, the smaller of
//! `n` words. Its unaligned words are the substituted ones, so there are at most
//! [`max_unaligned`]`(n, t)` =: `U` of them (`U` = 0 for up to ten words at the default
//! 0.7, 1 up to twenty): among *any* `U + 2` of its words, at least two are aligned,
//! each with a different word of the other title. Two aligned words are equal or
//! [`alike`](super::alike), and then:
//! - they share their *head*, the first four letters (the whole word when shorter),
//!   when they agree in those (an inflection, or an edit after the fourth letter); or
//! - both have five letters or more and differ by one edit in the first four
//!   (`kassym`/`kasym`): then one of them without one of its first four letters starts
//!   with the other's head, or both without the same letter start alike (their
//!   *deletion keys*, [`fuzzy_keys`]).
//!
//! The larger title's unaligned words are not bounded by `U`: its extra words are
//! insertions, which cost a sixteenth of a substitution: a title of eight words scores
//! 0.71 against three of them, and `U` of eight words is 0, so any two of its words
//! the larger title picked may be two the smaller lacks. Only the smaller title can
//! pick; the larger must be found by any pair of its words.
//!
//! # The keys
//! So a stored title is indexed ([`blocks`]) under
//! - every pair of its words' heads ([`Kind::Pair`]);
//! - the pairs among `U + 2` of its words ([`Kind::ChosenPair`]), or, for a title too
//!   short for that (one word), each head ([`Kind::Single`]);
//! - each word's head ([`Kind::Head`]);
//!
//! and its words' deletion keys go to the *spellings* ([`spellings`]): one row a key and
//! head of a word, whichever titles hold it, written once when a word is first seen.
//! A stored title is found through its word's head, so it needs no row of its own for
//! them (they were most of a title's rows, 4 a word of five letters or more).
//!
//! A new title asks ([`probe`]): the pairs among `U + 2` of its words in `Pair` (when
//! it is the smaller title), every pair of its heads in `ChosenPair` (when the stored
//! one is), every head in `Single`, and, for each word of five letters or more, the
//! titles holding a word whose spelling shares its head or a deletion key but whose
//! head is *not* its own ([`Lookup::OtherHead`]: those are the head pairs' business;
//! without them the lookup reads only the one-edit neighbours, never every title that
//! shares the word). A near duplicate shares at least one of these, whichever title is
//! the smaller and whichever `U + 2` words each side picked; the store picks the
//! rarest, which is what keeps a lookup to the copies of a story. A title of one word
//! cannot form a pair: it asks for every title holding its head ([`Lookup::AnyHead`]).
//!
//! Keys are 64-bit FNV-1a hashes: a collision only adds a candidate, which the
//! similarity then rejects, and so does a spelling's head that other words share.
//! `tests` proves the guarantee on `corpus/dedup_pairs.tsv` and on random pairs of
//! every kind of edit; `store::clusters` checks it against the full scan of a window.

use super::{max_unaligned, TitleSignature};

/// A blocking key or a head, as stored (SQLite integers are signed).
pub type Key = i64;

/// Which lookup a stored row answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Every pair of a title's heads.
    Pair = 0,
    /// The pairs among the words a title picked (`U + 2` of them).
    ChosenPair = 1,
    /// Each head of a title too short to pick a pair.
    Single = 2,
    /// Each word's head, as key and head (before migration 0016 this kind also held
    /// the words' deletion keys beside their heads, now the [`Spelling`]s).
    Head = 3,
}

impl Kind {
    pub fn code(self) -> i64 {
        self as i64
    }
}

/// One row of the index of a stored title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Block {
    pub kind: Kind,
    pub key: Key,
    /// The head itself for a `Head` row; 0 for the other kinds.
    pub head: Key,
}

/// A key that a word of some stored title answers to by one edit (its head or a
/// deletion key), beside the word's head: stored once whatever the titles that hold
/// the word, which are found by their [`Kind::Head`] rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spelling {
    pub key: Key,
    pub head: Key,
}

/// One question a new title asks of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lookup {
    /// The titles with a row of this kind and key.
    Exact { kind: Kind, key: Key },
    /// The titles with a word of a head that is not `head` and that a [`Spelling`] of
    /// this key names.
    OtherHead { key: Key, head: Key },
    /// The titles with a word of this head (their `Head` row).
    AnyHead { head: Key },
}

impl Lookup {
    /// Whether the index of a stored title, its `rows` and the `spellings` known, answers
    /// this lookup: what the store's queries do, for the tests' in-memory index.
    pub fn finds(&self, rows: &[Block], spellings: &[Spelling]) -> bool {
        let has_head = |head: Key| {
            rows.iter()
                .any(|b| b.kind == Kind::Head && b.key == head && b.head == head)
        };
        match *self {
            Lookup::Exact { kind, key } => rows.iter().any(|b| b.kind == kind && b.key == key),
            Lookup::OtherHead { key, head } => spellings
                .iter()
                .any(|s| s.key == key && s.head != head && has_head(s.head)),
            Lookup::AnyHead { head } => has_head(head),
        }
    }
}

/// The first four letters of a word (the word when shorter), hashed.
pub fn head(word: &str) -> Key {
    hash_chars(word.chars().take(4))
}

/// The word's heads after deleting one of its first four letters, for words of five
/// letters or more (only those match by one edit); see the module docs.
pub fn fuzzy_keys(word: &str) -> Vec<Key> {
    let letters: Vec<char> = word.chars().collect();
    if letters.len() < 5 {
        return Vec::new();
    }
    (0..4)
        .map(|deleted| {
            hash_chars(
                letters
                    .iter()
                    .enumerate()
                    .filter(|&(at, _)| at != deleted)
                    .map(|(_, c)| *c)
                    .take(4),
            )
        })
        .collect()
}

/// The key of an unordered pair of heads.
pub fn pair_key(a: Key, b: Key) -> Key {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut hash = Fnv::new(b'p');
    hash.bytes(&low.to_le_bytes());
    hash.bytes(&high.to_le_bytes());
    hash.finish()
}

/// How many words a title picks for its chosen pairs at `threshold`, or `None` when it
/// is too short to hold two aligned words among them.
fn chosen_count(words: usize, threshold: f64) -> Option<usize> {
    let chosen = max_unaligned(words, threshold) + 2;
    (chosen <= words).then_some(chosen)
}

/// The rows that index a stored title. `order` lists the signature's word positions,
/// the ones to pick first first (any order keeps the guarantee; the rarest keeps the
/// lookups short); `threshold` is the lowest at which near duplicates must be found.
pub fn blocks(signature: &TitleSignature, order: &[usize], threshold: f64) -> Vec<Block> {
    let words = signature.words();
    let heads: Vec<Key> = words.iter().map(|w| head(w)).collect();
    let mut rows = Vec::new();
    for (i, a) in heads.iter().enumerate() {
        for b in &heads[i + 1..] {
            rows.push(Block {
                kind: Kind::Pair,
                key: pair_key(*a, *b),
                head: 0,
            });
        }
    }
    match chosen_count(words.len(), threshold) {
        Some(chosen) => {
            let picked = &order[..chosen];
            for (i, &a) in picked.iter().enumerate() {
                for &b in &picked[i + 1..] {
                    rows.push(Block {
                        kind: Kind::ChosenPair,
                        key: pair_key(heads[a], heads[b]),
                        head: 0,
                    });
                }
            }
        }
        None => rows.extend(heads.iter().map(|&key| Block {
            kind: Kind::Single,
            key,
            head: 0,
        })),
    }
    rows.extend(heads.iter().map(|&own| Block {
        kind: Kind::Head,
        key: own,
        head: own,
    }));
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// The spellings of a title's words that a one-edit neighbour can ask for: for each
/// word of five letters or more (only those match by an edit in their first four) that
/// is not a number (numbers match only when equal), its head and deletion keys, each
/// beside its head.
pub fn spellings(signature: &TitleSignature) -> Vec<Spelling> {
    let mut spellings = Vec::new();
    for word in signature.words() {
        if word.bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let keys = fuzzy_keys(word);
        if keys.is_empty() {
            continue;
        }
        let own = head(word);
        spellings.push(Spelling {
            key: own,
            head: own,
        });
        spellings.extend(keys.into_iter().map(|key| Spelling { key, head: own }));
    }
    spellings.sort_unstable();
    spellings.dedup();
    spellings
}

/// What a new title asks of the index to find every stored near duplicate at
/// `threshold`; `order` as for [`blocks`]. An empty signature asks nothing (it is
/// similar to nothing).
pub fn probe(signature: &TitleSignature, order: &[usize], threshold: f64) -> Vec<Lookup> {
    let words = signature.words();
    let heads: Vec<Key> = words.iter().map(|w| head(w)).collect();
    let mut lookups = Vec::new();
    match chosen_count(words.len(), threshold) {
        // The new title is the smaller one: two of its picked words are in the other.
        Some(chosen) => {
            let picked = &order[..chosen];
            for (i, &a) in picked.iter().enumerate() {
                for &b in &picked[i + 1..] {
                    lookups.push(Lookup::Exact {
                        kind: Kind::Pair,
                        key: pair_key(heads[a], heads[b]),
                    });
                }
            }
        }
        None => lookups.extend(heads.iter().map(|&head| Lookup::AnyHead { head })),
    }
    // The stored title is the smaller one: two of its picked words are in this one.
    for (i, a) in heads.iter().enumerate() {
        lookups.push(Lookup::Exact {
            kind: Kind::Single,
            key: *a,
        });
        for b in &heads[i + 1..] {
            lookups.push(Lookup::Exact {
                kind: Kind::ChosenPair,
                key: pair_key(*a, *b),
            });
        }
    }
    // A word aligned by an edit in its first four letters, on either side (never a
    // number: numbers are alike only when equal).
    for (word, &own) in words.iter().zip(&heads) {
        let keys = fuzzy_keys(word);
        if keys.is_empty() || word.bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        lookups.push(Lookup::OtherHead {
            key: own,
            head: own,
        });
        lookups.extend(
            keys.into_iter()
                .map(|key| Lookup::OtherHead { key, head: own }),
        );
    }
    lookups.sort_unstable();
    lookups.dedup();
    lookups
}

fn hash_chars(chars: impl Iterator<Item = char>) -> Key {
    let mut hash = Fnv::new(b'h');
    let mut buffer = [0; 4];
    for c in chars {
        hash.bytes(c.encode_utf8(&mut buffer).as_bytes());
    }
    hash.finish()
}

/// 64-bit FNV-1a, with a leading tag byte per kind of key: stable across versions and
/// platforms (the keys are stored), and enough for keys that only need to be equal
/// when their texts are.
struct Fnv(u64);

impl Fnv {
    fn new(tag: u8) -> Fnv {
        let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
        hash.bytes(&[tag]);
        hash
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> Key {
        self.0 as Key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{alike, DEFAULT_TITLE_THRESHOLD};

    /// A small deterministic generator (xorshift64*), so that the random pairs are the
    /// same on every run.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn order(&mut self, n: usize) -> Vec<usize> {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                order.swap(i, self.below(i + 1));
            }
            order
        }
    }

    /// Whether the blocked search for `new` finds `stored`: `stored` indexed at
    /// `keyed`, `new` asking at `threshold`, each with its own order of words.
    fn found(
        stored: &TitleSignature,
        stored_order: &[usize],
        new: &TitleSignature,
        new_order: &[usize],
        keyed: f64,
        threshold: f64,
    ) -> bool {
        // The spellings of the stored title's words alone: the least the store knows.
        let (rows, spellings) = (blocks(stored, stored_order, keyed), spellings(stored));
        probe(new, new_order, threshold)
            .iter()
            .any(|lookup| lookup.finds(&rows, &spellings))
    }

    /// Every near-duplicate pair at `threshold` is found both ways, under several
    /// random orders; returns how many pairs were near duplicates.
    fn check_pairs(pairs: &[(TitleSignature, TitleSignature)], random: &mut Random) -> usize {
        let mut duplicates = 0;
        for threshold in [0.3, 0.5, DEFAULT_TITLE_THRESHOLD, 0.85, 1.0] {
            for (a, b) in pairs {
                if a.similarity(b) < threshold {
                    continue;
                }
                duplicates += 1;
                for (stored, new) in [(a, b), (b, a)] {
                    for _ in 0..4 {
                        let stored_order = random.order(stored.words().len());
                        let new_order = random.order(new.words().len());
                        // Keyed at the threshold or below it (a stricter policy since).
                        for keyed in [threshold, threshold * 0.8] {
                            assert!(
                                found(stored, &stored_order, new, &new_order, keyed, threshold),
                                "not found at {threshold} (keyed at {keyed}): stored {stored} \
                                 ({stored_order:?}), new {new} ({new_order:?}), similarity {}",
                                a.similarity(b)
                            );
                        }
                    }
                }
            }
        }
        duplicates
    }

    #[test]
    fn alike_words_share_a_head_or_a_deletion_key() {
        let mut random = Random(0x5eed);
        let letters: Vec<char> = "abcdefghijklmnopqrstuvwxyzé".chars().collect();
        let mut pairs = 0;
        for _ in 0..200_000 {
            let len = 3 + random.below(8);
            let a: String = (0..len).map(|_| letters[random.below(4)]).collect();
            let mut b: Vec<char> = a.chars().collect();
            match random.below(4) {
                0 => b[random.below(len)] = letters[random.below(letters.len())],
                1 => b.insert(random.below(len + 1), letters[random.below(letters.len())]),
                2 => {
                    b.remove(random.below(len));
                }
                _ => b.truncate(4 + random.below(len.saturating_sub(3).max(1))),
            }
            let b: String = b.into_iter().collect();
            if a == b || !alike(&a, &b) {
                continue;
            }
            pairs += 1;
            let keys = |w: &str| {
                let mut k = fuzzy_keys(w);
                k.push(head(w));
                k
            };
            let (ka, kb) = (keys(&a), keys(&b));
            assert!(
                head(&a) == head(&b)
                    || fuzzy_keys(&a).iter().any(|k| kb.contains(k))
                    || fuzzy_keys(&b).iter().any(|k| ka.contains(k)),
                "{a} {b}"
            );
        }
        assert!(pairs > 10_000, "{pairs} alike pairs tried");
    }

    #[test]
    fn the_corpus_pairs_are_found() {
        let corpus = include_str!("../../corpus/dedup_pairs.tsv");
        let pairs: Vec<(TitleSignature, TitleSignature)> = corpus
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                (TitleSignature::of(fields[2]), TitleSignature::of(fields[3]))
            })
            .collect();
        assert!(pairs.len() > 50);
        let duplicates = check_pairs(&pairs, &mut Random(7));
        assert!(duplicates > 100, "{duplicates}");
    }

    /// Random titles and their copies: inflected, respelled (in the first letters too),
    /// with words inserted, dropped or substituted, and unrelated titles from the same
    /// small vocabulary (the bench farm's worst case).
    #[test]
    fn random_pairs_are_found() {
        let vocabulary: Vec<String> = [
            "france",
            "kazakhstan",
            "uranium",
            "agreement",
            "tokayev",
            "kassym",
            "macron",
            "astana",
            "almaty",
            "orano",
            "kazatomprom",
            "supply",
            "deal",
            "signs",
            "talks",
            "railway",
            "energy",
            "wind",
            "farm",
            "airbus",
            "2025",
            "50",
            "ties",
            "visit",
            "kasym",
            "makron",
            "localise",
            "port",
            "porttary",
            "élysée",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        let mut random = Random(42);
        let mut pairs = Vec::new();
        for _ in 0..3_000 {
            let len = 1 + random.below(14);
            let a: Vec<String> = (0..len)
                .map(|_| vocabulary[random.below(vocabulary.len())].clone())
                .collect();
            let mut b = a.clone();
            for _ in 0..random.below(4) {
                let at = random.below(b.len().max(1));
                match random.below(6) {
                    0 if !b.is_empty() => {
                        // An edit in the word, anywhere (its first letters too).
                        let mut w: Vec<char> = b[at].chars().collect();
                        let p = random.below(w.len());
                        w[p] = 'x';
                        b[at] = w.into_iter().collect();
                    }
                    1 if !b.is_empty() => {
                        let mut w: Vec<char> = b[at].chars().collect();
                        w.insert(random.below(w.len().min(4) + 1), 'y');
                        b[at] = w.into_iter().collect();
                    }
                    2 if !b.is_empty() => b[at].push_str("ov"),
                    3 => b.insert(at, vocabulary[random.below(vocabulary.len())].clone()),
                    4 if b.len() > 1 => {
                        b.remove(at);
                    }
                    _ if !b.is_empty() => {
                        b[at] = vocabulary[random.below(vocabulary.len())].clone()
                    }
                    _ => {}
                }
            }
            pairs.push((
                TitleSignature::of(&a.join(" ")),
                TitleSignature::of(&b.join(" ")),
            ));
        }
        let duplicates = check_pairs(&pairs, &mut random);
        assert!(duplicates > 3_000, "{duplicates}");
    }

    /// The positions of the signature's words, those named first (the rarest).
    fn rare_first(signature: &TitleSignature, rare: &[&str]) -> Vec<usize> {
        let words = signature.words();
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by_key(|&at| !rare.contains(&words[at].as_str()));
        order
    }

    #[test]
    fn another_story_with_the_same_words_is_not_asked_for() {
        // The farm's relevant titles: one of a few headlines and a word of its own.
        let title = |last: &str| {
            TitleSignature::of(&format!("France and Kazakhstan sign uranium deal: {last}"))
        };
        let (stored, copy, other) = (title("energy"), title("railway"), title("railway"));
        let threshold = DEFAULT_TITLE_THRESHOLD;
        assert!(stored.similarity(&other) < threshold, "another story");
        let rows = blocks(&stored, &rare_first(&stored, &["energy"]), threshold);
        // Every word's spellings are known: the store's are all it has seen.
        let mut known = spellings(&stored);
        known.extend(spellings(&other));
        let lookups = probe(&other, &rare_first(&other, &["railway"]), threshold);
        let hits: Vec<&Lookup> = lookups.iter().filter(|l| l.finds(&rows, &known)).collect();
        assert!(hits.is_empty(), "{hits:?}");
        // Its copy is found.
        let rows = blocks(&copy, &rare_first(&copy, &["railway"]), threshold);
        assert!(lookups.iter().any(|l| l.finds(&rows, &known)));
    }

    /// The reason a stored title keeps every pair of its heads: when it is the larger
    /// one, its picked words can all be words the smaller title lacks.
    #[test]
    fn the_larger_title_cannot_pick_its_words() {
        let stored =
            TitleSignature::of("Tokayev Macron Astana uranium railway airbus tourism energy");
        let new = TitleSignature::of("Tokayev Macron Astana");
        let threshold = DEFAULT_TITLE_THRESHOLD;
        assert_eq!(stored.words().len(), 8);
        assert!(
            new.similarity(&stored) >= threshold,
            "{}",
            new.similarity(&stored)
        );
        assert_eq!(
            max_unaligned(8, threshold),
            0,
            "the larger title would pick two"
        );
        let words = stored.words();
        let rare = ["railway", "energy"];
        let order = rare_first(&stored, &rare);
        let chosen: Vec<&str> = order[..2].iter().map(|&at| words[at].as_str()).collect();
        assert!(chosen.iter().all(|w| !new.words().iter().any(|n| n == w)));
        // Its chosen pair alone would not be asked for; its head pairs are.
        let rows = blocks(&stored, &order, threshold);
        let lookups = probe(&new, &(0..3).collect::<Vec<_>>(), threshold);
        let chosen_only: Vec<Block> = rows
            .iter()
            .copied()
            .filter(|b| b.kind == Kind::ChosenPair)
            .collect();
        assert!(!lookups.iter().any(|l| l.finds(&chosen_only, &[])));
        assert!(found(
            &stored,
            &order,
            &new,
            &[0, 1, 2],
            threshold,
            threshold
        ));
    }

    /// Two titles whose only aligned words differ in their first four letters share no
    /// head pair: the spellings of the stored one's words find it, and without them
    /// it is missed.
    #[test]
    fn a_respelled_word_is_found_through_its_spellings() {
        let stored = TitleSignature::of("Kassym Tokayev");
        let new = TitleSignature::of("Kasym Tokaev");
        let threshold = DEFAULT_TITLE_THRESHOLD;
        assert!(new.similarity(&stored) >= threshold);
        let (rows, known) = (blocks(&stored, &[0, 1], threshold), spellings(&stored));
        let lookups = probe(&new, &[0, 1], threshold);
        assert!(lookups.iter().any(|l| l.finds(&rows, &known)));
        assert!(!lookups.iter().any(|l| l.finds(&rows, &[])));
        // The stored title has one row a word for them, not one a deletion key.
        let heads = rows.iter().filter(|b| b.kind == Kind::Head).count();
        assert_eq!(heads, 2);
        assert_eq!(rows.len(), 1 + 1 + 2, "pair, chosen pair, heads: {rows:?}");
        // A number is never respelled: it has no spellings.
        assert!(spellings(&TitleSignature::of("12345")).is_empty());
    }

    #[test]
    fn keys_are_stable() {
        // Stored in databases: a change of hash would need a migration.
        assert_eq!(head("kazakhstan"), head("kaza"));
        assert_ne!(head("kaza"), head("kazb"));
        assert_eq!(head("ab"), hash_chars("ab".chars()));
        assert_eq!(head("kaza"), -3_874_283_590_984_452_278);
    }
}
