//! `entente explain`: why an item is (not) relevant, its topics, who decided, and the
//! story cluster it is in. The item may be named by number, key, or link (tracking
//! parameters or not).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;

use super::{decide, open_store};
use crate::classify::{Decision, Place, Scoring};
use crate::config::Config;
use crate::dedup::{canonical_url, Policy, TitleSignature, INSERTION_COST, SUBSTITUTION_COST};
use crate::store::corrections;
use crate::store::lookup::{self, Member};
use crate::store::StoredItem;

pub(super) async fn explain(config: Config, query: String) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let (stored, cluster, correction) = store
        .read(move |c| {
            let stored = lookup::find(c, &query)?;
            let cluster = lookup::cluster(c, &stored)?;
            let correction = corrections::get(c, &stored.item.key)?;
            Ok((stored, cluster, correction))
        })
        .await?;
    let classifier = decide(&config.rules, &stored.item);
    outln!(
        "Item {} ({}) from {}",
        stored.id,
        stored.item.key,
        stored.source_name
    )?;
    outln!("Title: {}", stored.item.title)?;
    if let Some(link) = &stored.item.link {
        outln!("Link: {link}")?;
    }
    if let Some(shown) = &cluster.duplicate_of {
        outln!(
            "Duplicate of #{} from {}: {} (published there, with this one as \"Also reported by\")",
            shown.number,
            shown.source_name,
            shown.title
        )?;
        out!("{}", why_one_story(&stored, shown, &config.daemon.dedup))?;
    }
    for other in &cluster.also_reported_by {
        outln!(
            "Also reported by #{} from {}: {}",
            other.number,
            other.source_name,
            other.title
        )?;
    }
    outln!()?;
    let in_force = match &correction {
        Some(correction) => {
            let verdict = if correction.relevant {
                "RELEVANT"
            } else {
                "NOT RELEVANT"
            };
            let decision = correction.apply(&classifier);
            let topics = if decision.topics.is_empty() {
                String::new()
            } else {
                format!(", topics {}", decision.topics.join(", "))
            };
            outln!(
                "{verdict}{topics}: set by the operator on {} (entente mark … --clear to undo)",
                correction.marked_at.format("%Y-%m-%d %H:%M UTC")
            )?;
            outln!()?;
            outln!("The classifier's own decision:")?;
            decision
        }
        None => classifier.clone(),
    };
    out!("{}", classifier.explain())?;
    out!("{}", arithmetic(&classifier, &config.rules.scoring))?;
    if !crate::store::queries::same_verdict(&in_force, &stored.decision) {
        outln!()?;
        outln!("The stored decision differs (rules changed since): run `entente retag`.")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Why the item was put in the story of `shown`, the cluster's published copy, in the
/// terms `store/clusters.rs` decides by: the same canonical link, else a title
/// similarity at or above `dedup_threshold`, shown as its word alignment.
fn why_one_story(item: &StoredItem, shown: &Member, policy: &Policy) -> String {
    let mut out = String::new();
    let link = item.item.link.as_deref().map(canonical_url);
    if link.is_some() && link == shown.link.as_deref().map(canonical_url) {
        let _ = writeln!(
            out,
            "  Why one story: the same canonical link, {}",
            link.unwrap_or_default()
        );
        return out;
    }
    let (mine, theirs) = (
        TitleSignature::of(&item.item.title),
        TitleSignature::of(&shown.title),
    );
    let alignment = mine.alignment(&theirs);
    let similarity = alignment.similarity();
    let threshold = policy.title_threshold;
    if similarity >= threshold {
        let _ = writeln!(
            out,
            "  Why one story: title similarity {similarity:.2}, at or above dedup_threshold {threshold:.2}"
        );
    } else {
        // Clusters are matched against every copy, so an item may join through a
        // copy other than the one shown.
        let _ = writeln!(
            out,
            "  Why one story: not by #{} directly (title similarity {similarity:.2}, below \
             dedup_threshold {threshold:.2}, and another link): it matched another copy of the story",
            shown.number
        );
    }
    let words = |words: &[String]| {
        if words.is_empty() {
            "none".to_string()
        } else {
            words.join(", ")
        }
    };
    let pairs: Vec<String> = alignment
        .pairs
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.clone()
            } else {
                format!("{a} ~ {b}")
            }
        })
        .collect();
    let (substituted, inserted) = alignment.substituted_and_inserted();
    let _ = writeln!(
        out,
        "    words aligned ({}): {}",
        alignment.aligned,
        words(&pairs)
    );
    let _ = writeln!(out, "    only in this title: {}", words(&alignment.left_a));
    let _ = writeln!(
        out,
        "    only in #{}: {}",
        shown.number,
        words(&alignment.left_b)
    );
    let _ = writeln!(
        out,
        "    similarity = {aligned} / ({aligned} + {INSERTION_COST} × {inserted} inserted + \
         {SUBSTITUTION_COST} × {substituted} substituted) = {similarity:.2}",
        aligned = alignment.aligned
    );
    out
}

/// The score worked out from the evidence, each term once at its best place (a title
/// match counts `title_factor` times), so that the figures add up to the score.
fn arithmetic(d: &Decision, s: &Scoring) -> String {
    let mut out = String::from("\nHow the score adds up:\n");
    let factor = |place: Place| match place {
        Place::Title => s.title_factor,
        Place::Summary => 1.0,
    };
    // Each term counts once, at its best place.
    let mut terms: Vec<(&str, &str, f64, Place)> = Vec::new();
    for e in &d.evidence {
        match terms
            .iter_mut()
            .find(|(term, role, _, _)| *term == e.term && *role == e.role)
        {
            Some(entry) if factor(e.place) > factor(entry.3) => entry.3 = e.place,
            Some(_) => {}
            None => terms.push((&e.term, &e.role, e.weight, e.place)),
        }
    }
    let side = |roles: &[&str]| -> (String, f64) {
        let parts: Vec<(String, f64)> = terms
            .iter()
            .filter(|(_, role, _, _)| roles.contains(role))
            .map(|(term, _, weight, place)| {
                let f = factor(*place);
                let text = if *place == Place::Title && f != 1.0 {
                    format!("{weight:.2} × {f:.2} (title) \"{term}\"")
                } else {
                    format!("{weight:.2} \"{term}\"")
                };
                (text, weight * f)
            })
            .collect();
        let sum: f64 = parts.iter().map(|(_, v)| v).sum();
        let text = if parts.is_empty() {
            "0".to_string()
        } else {
            parts
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(" + ")
        };
        (text, sum)
    };
    let mut line = |name: &str, (text, sum): (String, f64), cap: Option<f64>| -> f64 {
        let capped = cap.map_or(sum, |c| sum.min(c));
        let note = match cap {
            Some(c) if sum > c => format!(" = {sum:.2}, capped at {c:.2}"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  {name}: {text}{note} → {capped:.2}");
        capped
    };
    let france = line("France", side(&["france", "both"]), Some(s.side_cap));
    let kazakhstan = line(
        "Kazakhstan",
        side(&["kazakhstan", "both"]),
        Some(s.side_cap),
    );
    let cues = line("Bilateral cues", side(&["cue"]), None);
    let presence = france.min(kazakhstan);
    let boost = 1.0 + cues.min(s.cue_cap);
    let before_dampers = presence * boost;
    let dampers = if before_dampers > 0.0 {
        d.score / before_dampers
    } else {
        1.0
    };
    let cue_note = if cues > s.cue_cap {
        format!(", cues capped at {:.2}", s.cue_cap)
    } else {
        String::new()
    };
    let damper_note = if d.parts.notes.is_empty() || presence <= 0.0 {
        String::new()
    } else {
        format!(" × {dampers:.2} (dampened, see above)")
    };
    let computed = if presence <= 0.0 {
        0.0
    } else if d.parts.notes.is_empty() {
        before_dampers
    } else {
        d.score
    };
    let _ = writeln!(
        out,
        "  score = min({france:.2}, {kazakhstan:.2}) × (1 + {:.2}{cue_note}){damper_note} = {computed:.2} \
         (threshold {:.2}, title factor {:.2})",
        cues.min(s.cue_cap),
        d.threshold,
        s.title_factor
    );
    if (computed - d.score).abs() > 0.01 {
        let _ = writeln!(
            out,
            "  (the classifier's score is {:.2}: some terms of one rule matched in several \
             spellings and counted once)",
            d.score
        );
    }
    out
}
