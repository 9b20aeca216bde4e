//! Turns matched terms into a decision: side strengths, cues, dampers, topics.
//!
//! The score is `min(France, Kazakhstan) × (1 + cues) × dampers`:
//! - each side's strength is the sum of its distinct matched terms' weights, a title
//!   match counting `title_factor` times, capped at `side_cap`; the weaker side
//!   bounds the score, because an item about one party only is not about relations;
//! - bilateral cues (visit, agreement, joint venture…) add up to `cue_cap` of it;
//! - dampers lower it: a list of many third parties, or a context such as a sports
//!   result, unless cues reach `damper_lift`; and a title about a third party that
//!   misses one side (the other side is a bystander in the summary), whatever the cues.

use std::cell::RefCell;
use std::ops::Range;

use super::matcher::{self, Hit};
use super::normalize::{normalize_into, Normalized};
use super::reference;
use super::rules::{Rules, Side, Target, TopicEvidence};
use super::{Decision, Evidence, MatchedText, Place, RuleText, ScoreParts, Text, TopicScore};
use crate::lang::Lang;

/// A hit that survived trap masking and pruning, with its place and where its source
/// text is.
#[derive(Debug, Clone)]
struct Found {
    hit: Hit,
    place: Place,
    /// The first hit of its term in its place: the one evidence records.
    first: bool,
    /// The byte range of the source text in its field (title or summary), for the
    /// first hits only (empty for the others): copied only into the evidence. A range
    /// rather than a borrowed `&str`, so that the list outlives the item it was made
    /// for and each thread keeps one ([`Scratch::kept`]).
    matched: Range<usize>,
}

/// Per term, whether (and where) it was seen in the item so far; emptied in constant
/// time by moving to a new generation, so that finding a term's earlier hit costs one
/// lookup rather than a scan of the hits before it.
#[derive(Default)]
struct TermMarks {
    /// Per term: the generation that marked it and the index it was given.
    marks: Vec<(u32, u32)>,
    generation: u32,
}

impl TermMarks {
    /// Forgets every mark, for rules of `terms` terms.
    fn clear(&mut self, terms: usize) {
        if self.marks.len() != terms {
            self.marks = vec![(0, 0); terms];
            self.generation = 0;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.fill((0, 0));
            self.generation = 1;
        }
    }

    /// The index `term` was given, else gives it `next` and returns `None`.
    fn get_or_mark(&mut self, term: usize, next: usize) -> Option<usize> {
        let (generation, index) = &mut self.marks[term];
        if *generation == self.generation {
            return Some(*index as usize);
        }
        *generation = self.generation;
        // Fewer hits than u32::MAX: texts are capped far below 4 GiB.
        *index = next as u32;
        None
    }
}

/// The buffers one item is read with, kept by each thread between items so that
/// classifying allocates only what the decision holds.
#[derive(Default)]
struct Scratch {
    normalized: Normalized,
    hits: Vec<Hit>,
    found: matcher::Scratch,
    marks: TermMarks,
    /// The hits kept, of both fields: a few KiB an item, above what glibc's
    /// per-thread cache holds, so a new one each item was a trip to the (one) arena
    /// and its lock, twice.
    kept: Vec<Found>,
}

impl Scratch {
    /// Buffers grown by a huge item are given back rather than kept for the thread's
    /// life.
    fn trim(&mut self) {
        const KEEP: usize = 256 * 1024;
        if self.normalized.text.capacity() > KEEP
            || self.hits.capacity() > KEEP / 32
            || self.kept.capacity() > KEEP / std::mem::size_of::<Found>()
        {
            *self = Scratch::default();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Classifies one item.
pub fn decide(rules: &Rules, text: &Text<'_>) -> Decision {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            let decision = decide_with(rules, text, &mut scratch);
            scratch.trim();
            decision
        }
        // Only if a decision were made inside another on this thread.
        Err(_) => decide_with(rules, text, &mut Scratch::default()),
    })
}

fn decide_with(rules: &Rules, text: &Text<'_>, scratch: &mut Scratch) -> Decision {
    let lang = text.lang.and_then(Lang::from_code);
    let Scratch {
        normalized,
        hits,
        found: trie_scratch,
        marks,
        kept,
    } = scratch;
    kept.clear();
    // Room for a long item's hits at once rather than grown by doubling.
    kept.reserve(64);
    for (source, place) in [(text.title, Place::Title), (text.summary, Place::Summary)] {
        if source.is_empty() {
            continue;
        }
        normalize_into(source, normalized);
        hits.clear();
        rules
            .matcher
            .find_with(&normalized.text, hits, trie_scratch);
        keep(rules, place, lang, hits, kept, marks, |start, end| {
            normalized.source_range(source, start, end)
        });
    }
    conclude(rules, text, kept, marks)
}

/// [`decide`] by the reference reading of the text (`super::reference`): a byte map
/// per normalised text and the Aho-Corasick automaton.
pub fn decide_reference(rules: &Rules, text: &Text<'_>) -> Decision {
    let lang = text.lang.and_then(Lang::from_code);
    let mut found = Vec::new();
    let mut hits = Vec::new();
    let mut marks = TermMarks::default();
    for (source, place) in [(text.title, Place::Title), (text.summary, Place::Summary)] {
        if source.is_empty() {
            continue;
        }
        let (normalized, origin) = reference::normalize(source);
        hits.clear();
        rules.matcher.find_reference(&normalized, &mut hits);
        keep(
            rules,
            place,
            lang,
            &mut hits,
            &mut found,
            &mut marks,
            |start, end| reference::source_range(&origin, source, start, end),
        );
    }
    conclude(rules, text, &found, &mut marks)
}

/// The decision on the hits that survived, in text order, title first.
fn conclude(rules: &Rules, text: &Text<'_>, found: &[Found], marks: &mut TermMarks) -> Decision {
    let tally = Tally::of(rules, found, marks);
    let (score, mut notes) = score(rules, &tally);
    if tally.place_pair {
        notes.push(format!(
            "a French place and a Kazakh place: bilateral cue {:.2}",
            rules.scoring.place_pair_cue
        ));
    }
    // Decided on the score as shown (rounded), so that `explain` never shows a score
    // at the threshold beside "not relevant".
    let score = round(score);
    let relevant = score >= rules.scoring.threshold;
    let topic_scores = topic_scores(rules, &tally);
    let topics = if relevant {
        choose_topics(rules, &topic_scores)
    } else {
        Vec::new()
    };
    Decision {
        relevant,
        score,
        threshold: rules.scoring.threshold,
        topics,
        evidence: evidence(rules, text, found),
        parts: ScoreParts {
            france: round(tally.france),
            kazakhstan: round(tally.kazakhstan),
            cues: round(tally.cues),
            others: tally.others,
            notes,
            topics: (topic_scores.into_iter().zip(&rules.topic_ids))
                .filter(|(t, _)| t.has_evidence())
                .map(|(t, topic)| t.named(topic))
                .collect(),
        },
    }
}

/// Masks and prunes the hits of one field (found in its normalised text) into `out`;
/// `source_of` gives the source text behind a normalised range.
fn keep(
    rules: &Rules,
    place: Place,
    lang: Option<Lang>,
    hits: &mut Vec<Hit>,
    out: &mut Vec<Found>,
    marks: &mut TermMarks,
    source_of: impl Fn(usize, usize) -> Range<usize>,
) {
    marks.clear(rules.terms.len());
    // Terms of another language's sense are not there at all (they mask nothing).
    hits.retain(|h| rules.groups[rules.terms[h.term].group].applies_to(lang));
    hits.sort_unstable_by_key(|h| (h.start, h.end));
    let longest = hits.iter().map(|h| h.end - h.start).max().unwrap_or(0);
    // A hit that no other hit contains survives whatever the roles: in (start, end)
    // order, one that ends after every hit before it and that the next hit does not
    // start with. Only the others are compared with their neighbours.
    let mut furthest_end = None;
    for i in 0..hits.len() {
        let hit = hits[i];
        let contained = furthest_end.is_some_and(|end| end >= hit.end)
            || hits.get(i + 1).is_some_and(|next| next.start == hit.start);
        furthest_end = furthest_end.max(Some(hit.end));
        if !contained || survives(rules, i, hits, longest) {
            let first = marks.get_or_mark(hit.term, 0).is_none();
            out.push(Found {
                hit,
                place,
                first,
                matched: if first {
                    source_of(hit.start, hit.end)
                } else {
                    0..0
                },
            });
        }
    }
}

/// A hit survives unless a trap covers it or a more specific hit of the same role
/// covers it (`air astana` over `astana`, `kazakhstan*` over `kazakh*`).
///
/// `all` is sorted by start and no hit is longer than `longest` bytes, so only hits
/// starting up to `longest` bytes before this one can cover it: the check stays linear
/// in the text length, even for huge texts.
fn survives(rules: &Rules, index: usize, all: &[Hit], longest: usize) -> bool {
    let hit = &all[index];
    let target = target_of(rules, hit.term);
    let first = all.partition_point(|h| h.start + longest < hit.start);
    let last = all.partition_point(|h| h.start <= hit.start);
    (first..last).all(|i| {
        let other = &all[i];
        if i == index || !(other.start <= hit.start && hit.end <= other.end) {
            return true;
        }
        let other_target = target_of(rules, other.term);
        if other_target == Target::Trap {
            return target == Target::Trap;
        }
        let same_role_better = covers(other_target, target) && more_specific(rules, other, hit);
        let inside_topic_phrase = is_topic(other_target) && is_topic(target) && wider(other, hit);
        !(same_role_better || inside_topic_phrase)
    })
}

fn is_topic(target: Target) -> bool {
    matches!(target, Target::Topic(_))
}

/// A topic word inside a longer topic phrase belongs to the phrase, whatever its topic:
/// `farm` in `wind farm` is not agriculture, `industry` in `Kazakhstan Aviation
/// Industry` is not manufacturing. Same-span readings of different topics both count.
fn wider(a: &Hit, b: &Hit) -> bool {
    (a.start, a.end) != (b.start, b.end)
}

fn target_of(rules: &Rules, term: usize) -> Target {
    rules.groups[rules.terms[term].group].target
}

/// Whether a hit for `outer` makes a hit for `inner` inside it redundant.
fn covers(outer: Target, inner: Target) -> bool {
    match (outer, inner) {
        (Target::Side(Side::Both), Target::Side(_)) => true,
        (Target::Damper { .. }, Target::Damper { .. }) => true,
        _ => outer == inner,
    }
}

/// Whether `a` is the better reading of the text than `b` it contains: a wider span,
/// else a longer spelling, else the earlier term.
fn more_specific(rules: &Rules, a: &Hit, b: &Hit) -> bool {
    if (a.start, a.end) != (b.start, b.end) {
        return true;
    }
    let (la, lb) = (
        rules.matcher.written(a.variant).len(),
        rules.matcher.written(b.variant).len(),
    );
    la > lb || (la == lb && a.term < b.term)
}

/// What the matched terms add up to.
#[derive(Debug, Default)]
struct Tally<'r> {
    france: f64,
    kazakhstan: f64,
    cues: f64,
    /// Distinct third parties named.
    others: usize,
    /// The strongest context damper matched: (factor, about).
    damper: Option<(f64, &'r str)>,
    title_france: bool,
    title_kazakhstan: bool,
    title_other: bool,
    france_place: bool,
    kazakhstan_place: bool,
    /// A place of each side was named, and its cue added.
    place_pair: bool,
    /// Per topic, the weights of its own, support, hint and act terms.
    topics: Vec<[f64; 4]>,
}

impl<'r> Tally<'r> {
    fn of(rules: &'r Rules, found: &[Found], marks: &mut TermMarks) -> Tally<'r> {
        let mut tally = Tally {
            topics: vec![[0.0; 4]; rules.topics.len()],
            ..Tally::default()
        };
        for (term, factor, in_title) in distinct_terms(rules, found, marks) {
            tally.add(rules, term, factor, in_title);
        }
        // Places of both sides with a word of interaction: "Lyon and Almaty sign a
        // partnership", not a Kazakh film screened in Cannes.
        let interaction = tally.cues > 0.0;
        if tally.france_place
            && tally.kazakhstan_place
            && interaction
            && rules.scoring.place_pair_cue > 0.0
        {
            tally.cues += rules.scoring.place_pair_cue;
            tally.place_pair = true;
        }
        for f in found.iter().filter(|f| f.place == Place::Title) {
            tally.mark_title(rules, f.hit.term);
        }
        let cap = rules.scoring.side_cap;
        tally.france = tally.france.min(cap);
        tally.kazakhstan = tally.kazakhstan.min(cap);
        tally
    }

    fn add(&mut self, rules: &'r Rules, term: usize, factor: f64, in_title: bool) {
        let group = &rules.groups[rules.terms[term].group];
        let weight = group.weight * factor;
        self.cues += group.cue * factor;
        if group.place {
            match group.target {
                Target::Side(Side::France) => self.france_place = true,
                Target::Side(Side::Kazakhstan) => self.kazakhstan_place = true,
                _ => {}
            }
        }
        match group.target {
            Target::Side(Side::France) => self.france += weight,
            Target::Side(Side::Kazakhstan) => self.kazakhstan += weight,
            Target::Side(Side::Both) => {
                self.france += weight;
                self.kazakhstan += weight;
            }
            Target::Cue => self.cues += weight,
            Target::Other => self.others += 1,
            Target::Damper { factor } => {
                if self.damper.as_ref().is_none_or(|(f, _)| factor < *f) {
                    self.damper = Some((factor, group.about.as_str()));
                }
            }
            Target::Topic(index) => {
                let kind = match group.evidence {
                    TopicEvidence::Own => 0,
                    // What the title names is what the item is about: "Macron and
                    // Tokayev discuss transit" is the leaders' act, not a mention.
                    TopicEvidence::Support if in_title => 0,
                    TopicEvidence::Support => 1,
                    TopicEvidence::Hint => 2,
                    TopicEvidence::Act => 3,
                };
                self.topics[index][kind] += weight;
            }
            Target::Trap => {}
        }
    }

    fn mark_title(&mut self, rules: &Rules, term: usize) {
        match target_of(rules, term) {
            Target::Side(Side::France) => self.title_france = true,
            Target::Side(Side::Kazakhstan) => self.title_kazakhstan = true,
            Target::Side(Side::Both) => {
                self.title_france = true;
                self.title_kazakhstan = true;
            }
            Target::Other => self.title_other = true,
            _ => {}
        }
    }
}

/// Each matched term once, with the factor of its best place and whether the title
/// holds it.
fn distinct_terms(
    rules: &Rules,
    found: &[Found],
    marks: &mut TermMarks,
) -> Vec<(usize, f64, bool)> {
    let mut terms: Vec<(usize, f64, bool)> = Vec::with_capacity(found.len());
    marks.clear(rules.terms.len());
    for f in found {
        let factor = place_factor(rules, f.place);
        let in_title = f.place == Place::Title;
        match marks.get_or_mark(f.hit.term, terms.len()) {
            Some(index) => {
                let (_, best, title) = &mut terms[index];
                *best = best.max(factor);
                *title |= in_title;
            }
            None => terms.push((f.hit.term, factor, in_title)),
        }
    }
    terms
}

fn place_factor(rules: &Rules, place: Place) -> f64 {
    match place {
        Place::Title => rules.scoring.title_factor,
        Place::Summary => 1.0,
    }
}

/// The relevance score and, in words, each dampening applied.
fn score(rules: &Rules, tally: &Tally) -> (f64, Vec<String>) {
    let s = &rules.scoring;
    let presence = tally.france.min(tally.kazakhstan);
    let mut notes = Vec::new();
    if presence <= 0.0 {
        return (0.0, notes);
    }
    let mut score = presence * (1.0 + tally.cues.min(s.cue_cap));
    let lifted = tally.cues >= s.damper_lift;
    let crowd = tally.others >= s.crowd_min_others as usize;
    if crowd {
        score *= s.list_factor;
        notes.push(format!(
            "crowd: {} other parties named (at least {}), whatever the cues, ×{:.2}",
            tally.others, s.crowd_min_others, s.list_factor
        ));
    } else if tally.others >= s.list_min_others as usize && !lifted {
        score *= s.list_factor;
        notes.push(format!(
            "list: {} other parties named and bilateral cues below {:.2}, ×{:.2}",
            tally.others, s.damper_lift, s.list_factor
        ));
    }
    if let (Some((factor, about)), false) = (&tally.damper, lifted) {
        score *= factor;
        notes.push(format!(
            "context ({about}) and bilateral cues below {:.2}, ×{factor:.2}",
            s.damper_lift
        ));
    }
    if tally.title_other && !(tally.title_france && tally.title_kazakhstan) {
        score *= s.focus_factor;
        notes.push(format!(
            "focus: the title names a third party and misses one side, ×{:.2}",
            s.focus_factor
        ));
    }
    (score, notes)
}

/// A topic's [`TopicScore`] before it is named: the caller names those with evidence
/// only (with the rules' shared id, not a copy of it).
#[derive(Debug, Clone, Copy)]
struct Weights {
    own: f64,
    support: f64,
    act: f64,
    acts_counted: bool,
    hint: f64,
    hints_counted: bool,
    score: f64,
}

impl Weights {
    fn has_evidence(&self) -> bool {
        self.own > 0.0 || self.support > 0.0 || self.hint > 0.0 || self.act > 0.0
    }

    fn named(self, topic: &RuleText) -> TopicScore {
        let Weights {
            own,
            support,
            act,
            acts_counted,
            hint,
            hints_counted,
            score,
        } = self;
        TopicScore {
            topic: topic.clone(),
            own,
            support,
            act,
            acts_counted,
            hint,
            hints_counted,
            score,
        }
    }
}

/// Each topic's evidence and what counted, in the rules' topic order (unnamed: the
/// caller names those it keeps): own terms always, support terms beside an own term,
/// hints only when own words (with their support) give no topic at all.
fn topic_scores(rules: &Rules, tally: &Tally) -> Vec<Weights> {
    let threshold = rules.scoring.topic_threshold;
    let actor = tally.topics.iter().any(|t| t[2] > 0.0);
    let mut scores: Vec<Weights> = (tally.topics.iter())
        .map(|&[own, support, hint, act]| {
            let mut counted = own;
            if own > 0.0 {
                counted += support;
            }
            let acts_counted = act > 0.0 && (own > 0.0 || actor);
            if acts_counted {
                counted += act;
            }
            Weights {
                own: round(own),
                support: round(support),
                act: round(act),
                acts_counted,
                hint: round(hint),
                hints_counted: false,
                score: round(counted),
            }
        })
        .collect();
    // A hint yields to the item's own words for another sector: TotalEnergies funding
    // scholarships is education, not energy. Topics that are not sectors (diplomacy,
    // trade: what was done, not where) take nothing from it, so an Orano contract
    // stays energy as well as trade.
    let sector_given = |except: usize| {
        scores
            .iter()
            .enumerate()
            .any(|(i, t)| i != except && rules.topic_is_sector[i] && t.score >= threshold)
    };
    let yields: Vec<bool> = (0..scores.len()).map(sector_given).collect();
    for (t, yields) in scores.iter_mut().zip(yields) {
        if t.hint > 0.0 && !yields {
            t.score = round(t.score + t.hint);
            t.hints_counted = true;
        }
    }
    scores
}

/// Topics at or above the threshold, in file order; else the best one; else the default.
fn choose_topics(rules: &Rules, scores: &[Weights]) -> Vec<String> {
    let threshold = rules.scoring.topic_threshold;
    let mut chosen: Vec<String> = (scores.iter().zip(&rules.topics))
        .filter(|(t, _)| t.score >= threshold)
        .map(|(_, topic)| topic.id.clone())
        .collect();
    if chosen.is_empty() {
        let best = scores
            .iter()
            .enumerate()
            .filter(|(_, t)| t.score > 0.0)
            .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
            .map(|(i, _)| i)
            .or(rules.scoring.default_topic);
        chosen.extend(best.map(|i| rules.topics[i].id.clone()));
    }
    chosen
}

/// One evidence record per matched term and place, in text order.
fn evidence(rules: &Rules, text: &Text<'_>, found: &[Found]) -> Vec<Evidence> {
    // The first hit of each term and place (marked by `keep`), then the records,
    // allocated once.
    let firsts = || found.iter().filter(|f| f.first);
    let records = firsts()
        .map(|f| 1 + usize::from(rules.groups[rules.terms[f.hit.term].group].cue > 0.0))
        .sum();
    let mut out: Vec<Evidence> = Vec::with_capacity(records);
    for f in firsts() {
        let group_index = rules.terms[f.hit.term].group;
        let group = &rules.groups[group_index];
        let source = match f.place {
            Place::Title => text.title,
            Place::Summary => text.summary,
        };
        let matched = MatchedText::from(source.get(f.matched.clone()).unwrap_or_default());
        let record = |role: &RuleText, weight: f64| Evidence {
            term: rules.matcher.written(f.hit.variant).clone(),
            matched: matched.clone(),
            role: role.clone(),
            weight,
            place: f.place,
        };
        out.push(record(&rules.group_roles[group_index], group.weight));
        if group.cue > 0.0 {
            out.push(record(&rules.cue_role, group.cue));
        }
    }
    out
}

/// The role of a target as it appears in evidence.
pub fn role_name(rules: &Rules, target: Target) -> String {
    match target {
        Target::Side(Side::France) => "france".to_string(),
        Target::Side(Side::Kazakhstan) => "kazakhstan".to_string(),
        Target::Side(Side::Both) => "both".to_string(),
        Target::Cue => "cue".to_string(),
        Target::Trap => "trap".to_string(),
        Target::Other => "other".to_string(),
        Target::Damper { .. } => "damper".to_string(),
        Target::Topic(i) => format!("topic:{}", rules.topics[i].id),
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
