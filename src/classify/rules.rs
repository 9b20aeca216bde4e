//! The rules file: its raw shape (as deserialised from TOML, with spans) and its
//! compilation into checked, matchable rules.
//!
//! Term notation (see `docs/classifier.md`):
//! - `word` matches the whole word `word` (case, accents and dash styles ignored);
//! - `stem*` matches any word that starts with `stem` (`казахстан*` covers
//!   `Казахстана`, `казахстанских`; `қазақстан*` covers `Қазақстанның`);
//! - `a | b | c` are spellings of one term, counted once however many match;
//! - several words match those words in sequence (`quai d'orsay`).

use std::collections::HashSet;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::matcher::Matcher;
use super::normalize::normalize_term;
use super::{RuleError, RuleText, Topic};

/// The classifier's rules as written in the rules file (its top level).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    /// Scoring parameters; every field has a default.
    #[serde(default)]
    pub scoring: RawScoring,
    /// The published topics, in the order feeds list them.
    #[serde(default)]
    pub topic: Vec<RawTopic>,
    /// Groups of terms sharing a target and a weight.
    #[serde(default)]
    pub terms: Vec<RawTermGroup>,
}

/// A topic as declared in the rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub id: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Whether the topic is a sector (the default) or says what was done whatever the
    /// sector (`sector = false`: diplomacy, trade). A company's hint yields to the
    /// own words of another sector only.
    pub sector: Option<bool>,
}

/// One group of terms: what they count for, how much, and the terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTermGroup {
    /// `france`, `kazakhstan` or `both`: the terms name that party.
    pub side: Option<Spanned<String>>,
    /// `cue`, `trap`, `other` or `damper`.
    pub kind: Option<Spanned<String>>,
    /// A topic id: the terms are evidence for that topic.
    pub topic: Option<Spanned<String>>,
    /// How much one matched term counts (before the title factor).
    pub weight: Option<Spanned<f64>>,
    /// For side groups: the terms also count as a bilateral cue of this weight.
    pub cue: Option<Spanned<f64>>,
    /// For dampers: the factor applied to the score when one of the terms is present.
    pub factor: Option<Spanned<f64>>,
    /// For topic groups, what kind of evidence the terms are: `own` (the default: the
    /// item's own words for the topic), `support` (weak common words that count only
    /// beside an `own` term of the same topic), `act` (common words of an act, such as
    /// "agree" or "supply": count beside an `own` term or beside an actor, a `hint`
    /// term of any topic), `hint` (actors whose usual business
    /// suggests the topic; they count only when the item's own words give no topic).
    pub evidence: Option<Spanned<String>>,
    /// For side groups: the terms are places (cities, regions, ports). A place of each
    /// side in one item is a bilateral cue of `scoring.place_pair_cue`.
    pub place: Option<Spanned<bool>>,
    /// The item languages (`en`, `fr`, `ru`, `kk`) in which the terms count; all when
    /// absent. For words whose sense depends on the language ("train", "plan").
    pub lang: Option<Vec<Spanned<String>>>,
    /// A note for operators; `explain` shows it for dampers.
    #[serde(default)]
    pub about: String,
    #[serde(rename = "match")]
    pub terms: Vec<Spanned<String>>,
}

/// Scoring parameters as written; see [`Scoring`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoring {
    pub threshold: Option<Spanned<f64>>,
    pub title_factor: Option<Spanned<f64>>,
    pub side_cap: Option<Spanned<f64>>,
    pub cue_cap: Option<Spanned<f64>>,
    pub damper_lift: Option<Spanned<f64>>,
    pub list_min_others: Option<Spanned<u32>>,
    pub crowd_min_others: Option<Spanned<u32>>,
    pub list_factor: Option<Spanned<f64>>,
    pub focus_factor: Option<Spanned<f64>>,
    pub topic_threshold: Option<Spanned<f64>>,
    pub default_topic: Option<Spanned<String>>,
    pub place_pair_cue: Option<Spanned<f64>>,
}

/// Checked scoring parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoring {
    /// Score at or above which an item is relevant.
    pub threshold: f64,
    /// Multiplier for a term matched in the title rather than the summary.
    pub title_factor: f64,
    /// The most one side's strength can reach, so many weak names cannot outweigh
    /// a missing party.
    pub side_cap: f64,
    /// The most bilateral cues can raise the score, as a fraction of it.
    pub cue_cap: f64,
    /// Cue strength at which list and context dampers stop applying.
    pub damper_lift: f64,
    /// Number of distinct third parties that makes a list.
    pub list_min_others: u32,
    /// Number of distinct third parties at which the list damper applies whatever
    /// the cues: with that many countries present, "ambassadors" and "agreement"
    /// belong to the collective event (a credentials ceremony, a summit).
    pub crowd_min_others: u32,
    /// Factor applied to a list without bilateral cues.
    pub list_factor: f64,
    /// Factor applied when the title is about a third party and misses one side.
    pub focus_factor: f64,
    /// Topic score at or above which a relevant item gets the topic.
    pub topic_threshold: f64,
    /// Topic of a relevant item that matched no topic term (index into topics).
    pub default_topic: Option<usize>,
    /// Bilateral cue strength of an item naming a French place and a Kazakh place
    /// (decentralised cooperation: "Lyon and Almaty", "the ports of Marseille and
    /// Aktau").
    pub place_pair_cue: f64,
}

/// The party a side term names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    France,
    Kazakhstan,
    /// Names both at once: joint ventures, `franco-kazakh`, `казахстанско-французский`.
    Both,
}

/// What a group of terms counts for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Side(Side),
    /// A bilateral cue: raises the score of an item where both sides are present.
    Cue,
    /// A phrase whose span never counts for anything (`French fries`, `Paris Hilton`).
    Trap,
    /// A third party (another country, a foreign company): counted for list dampening.
    Other,
    /// A context that lowers the score unless cues lift it (sport results, multilateral).
    Damper {
        factor: f64,
    },
    /// Evidence for the topic with this index.
    Topic(usize),
}

/// What kind of evidence a topic term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TopicEvidence {
    /// The item's own words for the topic.
    #[default]
    Own,
    /// A weak common word: counts only beside an `Own` term of the same topic.
    Support,
    /// A common word of a (commercial) act, "agree", "supply", "project": counts beside
    /// an `Own` term of the same topic, or beside an actor (a `Hint` term of any topic),
    /// since a company that agrees or supplies is doing business.
    Act,
    /// An actor's usual business: counts only when own words give no topic.
    Hint,
}

/// A checked group.
#[derive(Debug, Clone)]
pub struct Group {
    pub target: Target,
    pub weight: f64,
    pub cue: f64,
    pub about: String,
    pub evidence: TopicEvidence,
    /// A side group of places (the gazetteer).
    pub place: bool,
    /// The item languages the terms count in; empty for all.
    pub langs: Vec<crate::lang::Lang>,
}

impl Group {
    /// Whether the group's terms count in an item of this language (an item of
    /// unknown language counts every group).
    pub fn applies_to(&self, lang: Option<crate::lang::Lang>) -> bool {
        self.langs.is_empty() || lang.is_none_or(|l| self.langs.contains(&l))
    }
}

/// A checked term: one entry of a group's `match` list.
#[derive(Debug, Clone)]
pub struct Term {
    /// The term as written.
    pub written: String,
    pub group: usize,
}

/// One spelling of a term, ready for the matcher.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Normalised text to look for.
    pub needle: String,
    /// `stem*`: any word continuing the needle matches.
    pub prefix: bool,
    pub term: usize,
    /// The spelling as written, for evidence.
    pub written: String,
}

/// Compiled rules: every term checked and compiled once.
#[derive(Debug, Clone)]
pub struct Rules {
    pub(crate) topics: Vec<Topic>,
    pub(crate) scoring: Scoring,
    pub(crate) groups: Vec<Group>,
    pub(crate) terms: Vec<Term>,
    pub(crate) matcher: Matcher,
    /// Per topic, whether it is a sector (see [`RawTopic::sector`]).
    pub(crate) topic_is_sector: Vec<bool>,
    /// Per group, its role as evidence names it (`france`, `topic:ID`…), formatted
    /// once rather than for every matched term.
    pub(crate) group_roles: Vec<RuleText>,
    /// The role of a group's cue weight in evidence.
    pub(crate) cue_role: RuleText,
    /// Per topic, its id as a decision's topic scores name it.
    pub(crate) topic_ids: Vec<RuleText>,
}

impl Rules {
    /// Compiles the raw rules, reporting every problem found rather than the first.
    pub fn compile(raw: &RawRules) -> Result<Rules, Vec<RuleError>> {
        let mut errors = Vec::new();
        let topics = compile_topics(&raw.topic, &mut errors);
        let scoring = compile_scoring(&raw.scoring, &topics, &mut errors);
        let mut groups = Vec::new();
        let mut terms = Vec::new();
        let mut variants = Vec::new();
        for raw_group in &raw.terms {
            if let Some(group) = compile_group(raw_group, &topics, &mut errors) {
                let index = groups.len();
                groups.push(group);
                compile_terms(raw_group, index, &mut terms, &mut variants, &mut errors);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let matcher = Matcher::build(variants).map_err(|message| {
            vec![RuleError {
                span: None,
                message,
            }]
        })?;
        let topic_is_sector = raw.topic.iter().map(|t| t.sector.unwrap_or(true)).collect();
        let mut rules = Rules {
            topics,
            scoring,
            groups,
            terms,
            matcher,
            topic_is_sector,
            group_roles: Vec::new(),
            cue_role: RuleText::from("cue"),
            topic_ids: Vec::new(),
        };
        rules.topic_ids = (rules.topics.iter())
            .map(|t| RuleText::from(t.id.as_str()))
            .collect();
        rules.group_roles = (rules.groups.iter())
            .map(|g| RuleText::from(super::score::role_name(&rules, g.target)))
            .collect();
        Ok(rules)
    }

    /// Parses and compiles a rules file's text, with spans pointing into it.
    pub fn from_toml(text: &str) -> Result<Rules, Vec<RuleError>> {
        let raw: RawRules = toml::from_str(text).map_err(|e| {
            vec![RuleError {
                span: e.span(),
                message: e.message().to_string(),
            }]
        })?;
        Rules::compile(&raw)
    }

    /// The published topics, in file order.
    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// The checked scoring parameters.
    pub fn scoring(&self) -> &Scoring {
        &self.scoring
    }

    /// How many terms the rules hold.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }
}

fn error(span: Range<usize>, message: impl Into<String>) -> RuleError {
    RuleError {
        span: Some(span),
        message: message.into(),
    }
}

fn compile_topics(raw: &[RawTopic], errors: &mut Vec<RuleError>) -> Vec<Topic> {
    let mut seen = HashSet::new();
    let mut topics = Vec::new();
    for topic in raw {
        let id = topic.id.get_ref();
        if !is_valid_topic_id(id) {
            errors.push(error(
                topic.id.span(),
                format!("topic id {id:?} must be lower-case letters, digits and '-'"),
            ));
        } else if !seen.insert(id.clone()) {
            errors.push(error(topic.id.span(), format!("duplicate topic id {id:?}")));
        }
        topics.push(Topic {
            id: id.clone(),
            title: topic.title.clone(),
            description: topic.description.clone(),
        });
    }
    topics
}

/// Topic ids appear in URLs (`/feeds/{topic}.rss`), so they are kept URL-safe.
fn is_valid_topic_id(id: &str) -> bool {
    !id.is_empty()
        && id != "all"
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn compile_scoring(raw: &RawScoring, topics: &[Topic], errors: &mut Vec<RuleError>) -> Scoring {
    let mut number =
        |value: &Option<Spanned<f64>>, default: f64, range: Range<f64>, name: &str| match value {
            None => default,
            Some(v) => {
                let x = *v.get_ref();
                if x.is_finite() && x >= range.start && x <= range.end {
                    x
                } else {
                    errors.push(error(
                        v.span(),
                        format!(
                            "{name} must be a number from {} to {}",
                            range.start, range.end
                        ),
                    ));
                    default
                }
            }
        };
    let threshold = number(&raw.threshold, 1.0, 0.01..100.0, "threshold");
    let title_factor = number(&raw.title_factor, 1.5, 1.0..10.0, "title_factor");
    let side_cap = number(&raw.side_cap, 2.0, 0.1..100.0, "side_cap");
    let cue_cap = number(&raw.cue_cap, 0.5, 0.0..10.0, "cue_cap");
    let damper_lift = number(&raw.damper_lift, 0.6, 0.0..100.0, "damper_lift");
    let list_factor = number(&raw.list_factor, 0.5, 0.0..1.0, "list_factor");
    let focus_factor = number(&raw.focus_factor, 0.5, 0.0..1.0, "focus_factor");
    let topic_threshold = number(&raw.topic_threshold, 1.0, 0.01..100.0, "topic_threshold");
    let place_pair_cue = number(&raw.place_pair_cue, 0.0, 0.0..10.0, "place_pair_cue");
    let list_min_others = raw
        .list_min_others
        .as_ref()
        .map_or(3, |v| *v.get_ref())
        .max(1);
    let crowd_min_others = raw
        .crowd_min_others
        .as_ref()
        .map_or(u32::MAX, |v| *v.get_ref())
        .max(1);
    let default_topic = raw.default_topic.as_ref().and_then(|name| {
        let found = topics.iter().position(|t| &t.id == name.get_ref());
        if found.is_none() {
            errors.push(error(
                name.span(),
                format!("default_topic {:?} is not a declared topic", name.get_ref()),
            ));
        }
        found
    });
    Scoring {
        threshold,
        title_factor,
        side_cap,
        cue_cap,
        damper_lift,
        list_min_others,
        crowd_min_others,
        list_factor,
        focus_factor,
        topic_threshold,
        default_topic,
        place_pair_cue,
    }
}

/// Checks a group's target and numbers; `None` when its target cannot be determined.
fn compile_group(
    raw: &RawTermGroup,
    topics: &[Topic],
    errors: &mut Vec<RuleError>,
) -> Option<Group> {
    let target = group_target(raw, topics, errors)?;
    let weight = match &raw.weight {
        Some(w) => checked_weight(w, "weight", errors),
        None if matches!(target, Target::Trap | Target::Other | Target::Damper { .. }) => 1.0,
        None => {
            let span = raw.terms.first().map(|t| t.span());
            errors.push(RuleError {
                span,
                message: "this group needs a weight".to_string(),
            });
            1.0
        }
    };
    let cue = match &raw.cue {
        Some(c) if matches!(target, Target::Side(_)) => checked_weight(c, "cue", errors),
        Some(c) => {
            errors.push(error(c.span(), "cue = … is only for side groups"));
            0.0
        }
        None => 0.0,
    };
    let evidence = match &raw.evidence {
        None => TopicEvidence::Own,
        Some(e) if !matches!(target, Target::Topic(_)) => {
            errors.push(error(e.span(), "evidence = … is only for topic groups"));
            TopicEvidence::Own
        }
        Some(e) => match e.get_ref().as_str() {
            "own" => TopicEvidence::Own,
            "support" => TopicEvidence::Support,
            "hint" => TopicEvidence::Hint,
            "act" => TopicEvidence::Act,
            other => {
                errors.push(error(
                    e.span(),
                    format!(
                        "unknown evidence {other:?}: expected \"own\", \"support\", \"act\" or \"hint\""
                    ),
                ));
                TopicEvidence::Own
            }
        },
    };
    let place = match &raw.place {
        Some(p) if !matches!(target, Target::Side(Side::France | Side::Kazakhstan)) => {
            errors.push(error(
                p.span(),
                "place = … is only for side = \"france\" or \"kazakhstan\" groups",
            ));
            false
        }
        Some(p) => *p.get_ref(),
        None => false,
    };
    let mut langs = Vec::new();
    for code in raw.lang.iter().flatten() {
        match crate::lang::Lang::from_code(code.get_ref()) {
            Some(lang) if code.get_ref().len() == 2 => langs.push(lang),
            _ => errors.push(error(
                code.span(),
                format!(
                    "unknown language {:?}: expected \"en\", \"fr\", \"ru\" or \"kk\"",
                    code.get_ref()
                ),
            )),
        }
    }
    Some(Group {
        target,
        weight,
        cue,
        about: raw.about.clone(),
        evidence,
        place,
        langs,
    })
}

fn checked_weight(value: &Spanned<f64>, name: &str, errors: &mut Vec<RuleError>) -> f64 {
    let x = *value.get_ref();
    if x.is_finite() && x > 0.0 && x <= 10.0 {
        x
    } else {
        errors.push(error(
            value.span(),
            format!("{name} must be a number above 0 and at most 10, not {x}"),
        ));
        1.0
    }
}

fn group_target(
    raw: &RawTermGroup,
    topics: &[Topic],
    errors: &mut Vec<RuleError>,
) -> Option<Target> {
    let named = [&raw.side, &raw.kind, &raw.topic]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if named != 1 {
        let span = [&raw.side, &raw.kind, &raw.topic]
            .iter()
            .find_map(|x| x.as_ref().map(|s| s.span()))
            .or_else(|| raw.terms.first().map(|t| t.span()));
        errors.push(RuleError {
            span,
            message: "a term group needs exactly one of side = …, kind = … or topic = …"
                .to_string(),
        });
        return None;
    }
    if let Some(side) = &raw.side {
        return side_target(side, errors);
    }
    if let Some(kind) = &raw.kind {
        return kind_target(kind, raw.factor.as_ref(), errors);
    }
    let topic = raw.topic.as_ref()?;
    match topics.iter().position(|t| &t.id == topic.get_ref()) {
        Some(index) => Some(Target::Topic(index)),
        None => {
            errors.push(error(
                topic.span(),
                format!(
                    "unknown topic {:?}: declare it with [[topic]]",
                    topic.get_ref()
                ),
            ));
            None
        }
    }
}

fn side_target(side: &Spanned<String>, errors: &mut Vec<RuleError>) -> Option<Target> {
    let parsed = match side.get_ref().as_str() {
        "france" => Side::France,
        "kazakhstan" => Side::Kazakhstan,
        "both" => Side::Both,
        other => {
            errors.push(error(
                side.span(),
                format!("unknown side {other:?}: expected \"france\", \"kazakhstan\" or \"both\""),
            ));
            return None;
        }
    };
    Some(Target::Side(parsed))
}

fn kind_target(
    kind: &Spanned<String>,
    factor: Option<&Spanned<f64>>,
    errors: &mut Vec<RuleError>,
) -> Option<Target> {
    let target = match kind.get_ref().as_str() {
        "cue" => Target::Cue,
        "trap" => Target::Trap,
        "other" => Target::Other,
        "damper" => {
            let Some(factor) = factor else {
                errors.push(error(
                    kind.span(),
                    "a damper group needs factor = … (between 0 and 1)",
                ));
                return None;
            };
            let x = *factor.get_ref();
            if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
                errors.push(error(
                    factor.span(),
                    format!("factor must be between 0 and 1, not {x}"),
                ));
                return None;
            }
            Target::Damper { factor: x }
        }
        other => {
            errors.push(error(
                kind.span(),
                format!(
                    "unknown kind {other:?}: expected \"cue\", \"trap\", \"other\" or \"damper\""
                ),
            ));
            return None;
        }
    };
    if let (Some(f), false) = (factor, matches!(target, Target::Damper { .. })) {
        errors.push(error(f.span(), "factor = … is only for damper groups"));
    }
    Some(target)
}

/// Checks each term of a group and splits it into variants for the matcher.
fn compile_terms(
    raw: &RawTermGroup,
    group: usize,
    terms: &mut Vec<Term>,
    variants: &mut Vec<Variant>,
    errors: &mut Vec<RuleError>,
) {
    if raw.terms.is_empty() {
        let span = raw
            .side
            .as_ref()
            .or(raw.kind.as_ref())
            .or(raw.topic.as_ref())
            .map(|s| s.span());
        errors.push(RuleError {
            span,
            message: "this group has no terms in match = [...]".to_string(),
        });
    }
    for written in &raw.terms {
        let term = terms.len();
        let mut ok = true;
        for spelling in written.get_ref().split('|') {
            match parse_variant(spelling, term) {
                Ok(v) => variants.push(v),
                Err(message) => {
                    errors.push(error(written.span(), message));
                    ok = false;
                }
            }
        }
        if ok {
            terms.push(Term {
                written: written.get_ref().clone(),
                group,
            });
        } else {
            // Keep indices aligned with the variants already pushed for this term.
            variants.retain(|v| v.term != term);
        }
    }
}

fn parse_variant(spelling: &str, term: usize) -> Result<Variant, String> {
    let trimmed = spelling.trim();
    let (stem, prefix) = match trimmed.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (trimmed, false),
    };
    if stem.contains('*') {
        return Err(format!("{trimmed:?}: '*' may only end a term"));
    }
    let needle = normalize_term(stem);
    if !needle.chars().any(super::normalize::is_word_char) {
        return Err(if trimmed.is_empty() {
            "empty term".to_string()
        } else {
            format!("{trimmed:?} has no letters or digits to match")
        });
    }
    if prefix
        && needle
            .chars()
            .filter(|c| super::normalize::is_word_char(*c))
            .count()
            < 3
    {
        return Err(format!(
            "{trimmed:?}: a stem needs at least 3 letters before '*'"
        ));
    }
    Ok(Variant {
        needle,
        prefix,
        term,
        written: trimmed.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[topic]]
id = "diplomacy"
title = "Diplomacy"

[[terms]]
side = "france"
weight = 1.0
match = ["france | франци*"]

[[terms]]
side = "kazakhstan"
weight = 1.0
match = ["kazakhstan*"]
"#;

    /// The text a spanned error points at.
    fn pointed<'a>(text: &'a str, e: &RuleError) -> &'a str {
        &text[e.span.clone().expect("error has a span")]
    }

    #[test]
    fn good_rules_compile() {
        let rules = Rules::from_toml(GOOD).unwrap();
        assert_eq!(rules.topics()[0].id, "diplomacy");
        assert_eq!(rules.term_count(), 2);
    }

    #[test]
    fn every_problem_is_reported_with_its_span() {
        let text = r#"
[scoring]
threshold = -1.0

[[topic]]
id = "diplomacy"
title = "A"

[[topic]]
id = "diplomacy"
title = "B"

[[terms]]
side = "germany"
weight = 1.0
match = ["berlin"]

[[terms]]
topic = "sport"
weight = 1.0
match = ["football"]

[[terms]]
side = "france"
weight = 0.0
match = ["paris", "", "fr*", "a*b"]
"#;
        let errors = Rules::from_toml(text).unwrap_err();
        let messages: Vec<String> = errors
            .iter()
            .map(|e| format!("{} @ {}", e.message, pointed(text, e)))
            .collect();
        let joined = messages.join("\n");
        assert!(
            joined.contains("threshold must be") && joined.contains("@ -1.0"),
            "{joined}"
        );
        assert!(
            joined.contains("duplicate topic id") && joined.contains("@ \"diplomacy\""),
            "{joined}"
        );
        assert!(
            joined.contains("unknown side \"germany\"") && joined.contains("@ \"germany\""),
            "{joined}"
        );
        assert!(
            joined.contains("unknown topic \"sport\"") && joined.contains("@ \"sport\""),
            "{joined}"
        );
        assert!(
            joined.contains("weight must be") && joined.contains("@ 0.0"),
            "{joined}"
        );
        assert!(joined.contains("empty term @ \"\""), "{joined}");
        assert!(
            joined.contains("at least 3 letters") && joined.contains("@ \"fr*\""),
            "{joined}"
        );
        assert!(joined.contains("may only end a term @ \"a*b\""), "{joined}");
        assert_eq!(errors.len(), 8, "{joined}");
    }

    #[test]
    fn line_and_column_of_an_error() {
        let text = "[[terms]]\nside = \"france\"\nweight = 1.0\nmatch = [\"ok\", \"\"]\n";
        let errors = Rules::from_toml(text).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line_col(text), Some((4, 16)));
    }

    #[test]
    fn evidence_place_and_lang_are_checked() {
        let text = r#"
[[topic]]
id = "t"
title = "T"

[[terms]]
topic = "t"
weight = 1.0
evidence = "rumour"
match = ["x1"]

[[terms]]
kind = "cue"
weight = 1.0
evidence = "support"
match = ["x2"]

[[terms]]
kind = "cue"
weight = 1.0
place = true
match = ["x3"]

[[terms]]
topic = "t"
weight = 1.0
lang = ["en", "de"]
match = ["x4"]
"#;
        let errors = Rules::from_toml(text).unwrap_err();
        let joined: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors.len(), 4, "{joined:?}");
        assert!(joined[0].contains("unknown evidence"), "{joined:?}");
        assert_eq!(pointed(text, &errors[0]), "\"rumour\"");
        assert!(joined[1].contains("only for topic groups"), "{joined:?}");
        assert!(
            joined[2].contains("place = … is only for side"),
            "{joined:?}"
        );
        assert!(joined[3].contains("unknown language"), "{joined:?}");
        assert_eq!(pointed(text, &errors[3]), "\"de\"");
    }

    #[test]
    fn group_needs_one_target_and_dampers_a_factor() {
        let text = r#"
[[terms]]
side = "france"
kind = "cue"
weight = 1.0
match = ["x1"]

[[terms]]
kind = "damper"
match = ["match"]

[[terms]]
kind = "sideways"
match = ["y1"]
"#;
        let errors = Rules::from_toml(text).unwrap_err();
        let joined: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(joined[0].contains("exactly one of"), "{joined:?}");
        assert!(joined[1].contains("needs factor"), "{joined:?}");
        assert!(joined[2].contains("unknown kind"), "{joined:?}");
        assert_eq!(pointed(text, &errors[2]), "\"sideways\"");
    }

    #[test]
    fn toml_syntax_errors_carry_a_span() {
        let errors = Rules::from_toml("[[terms]\nside = ").unwrap_err();
        assert!(errors[0].span.is_some());
    }
}
