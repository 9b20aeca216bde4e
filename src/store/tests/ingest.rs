use chrono::{TimeZone, Utc};

use crate::classify::Decision;
use crate::item::Item;
use crate::store::queries::*;
use crate::store::*;

fn item(source: &str, guid: &str, title: &str) -> Item {
    Item {
        key: Item::key_for(source, Some(guid), None, title, None),
        source_id: source.to_string(),
        guid: Some(guid.to_string()),
        link: Some(format!("https://ex.org/{guid}")),
        title: title.to_string(),
        summary: "summary".to_string(),
        content_html: None,
        published: Some(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()),
        updated: None,
        authors: vec![],
        categories: vec![],
        lang: Some("en".to_string()),
    }
}

fn decision(relevant: bool, topics: &[&str]) -> Decision {
    Decision {
        relevant,
        score: if relevant { 2.0 } else { 0.0 },
        threshold: 1.0,
        topics: topics.iter().map(|t| t.to_string()).collect(),
        evidence: vec![],
        parts: Default::default(),
    }
}

fn ok_record() -> FetchRecord {
    FetchRecord {
        status: "ok",
        error_kind: None,
        error: None,
        attempted_at: Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
        validators: Some(crate::fetch::Validators {
            etag: Some("\"e1\"".into()),
            ..Default::default()
        }),
        consecutive_failures: 0,
        next_attempt: None,
        suggested_url: None,
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db/entente.db")).unwrap();
    store
        .call_blocking(|c| {
            sync_sources(c, &[("s".into(), "https://ex.org/feed".into(), "S".into())])
        })
        .unwrap();
    (dir, store)
}

#[test]
fn opening_twice_keeps_the_schema_and_uses_wal() {
    let (dir, store) = open();
    drop(store);
    let again = Store::open(&dir.path().join("db/entente.db")).unwrap();
    let mode: String = again
        .call_blocking(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_failure_mid_ingest_leaves_nothing_of_that_feed() {
    let (_dir, store) = open();
    // A failure on the third item stands in for a crash in the middle of the feed.
    store
        .call_blocking(|c| {
            c.execute_batch(
                "CREATE TRIGGER boom BEFORE INSERT ON items WHEN NEW.title = 'boom'
                 BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
            )?;
            Ok(())
        })
        .unwrap();
    let items = vec![
        (item("s", "1", "one"), decision(true, &["diplomacy"])),
        (item("s", "2", "two"), decision(false, &[])),
        (item("s", "3", "boom"), decision(false, &[])),
    ];
    let result = store.call_blocking(|c| ingest(c, "s", &items, &ok_record()));
    assert!(result.is_err());
    let stored = store
        .call_blocking(|c| {
            list_items(
                c,
                &ItemFilter {
                    include_irrelevant: true,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert!(stored.is_empty(), "half a feed was stored");
    let state = store.call_blocking(|c| source_state(c, "s")).unwrap();
    assert_eq!(
        state.validators.etag, None,
        "validators must not run ahead of the items"
    );
}

#[test]
fn ingesting_the_same_feed_twice_adds_nothing_and_updates_changes() {
    let (_dir, store) = open();
    let items = vec![(item("s", "1", "one"), decision(true, &["diplomacy"]))];
    let first = store
        .call_blocking(|c| ingest(c, "s", &items, &ok_record()))
        .unwrap();
    assert_eq!((first.new, first.new_relevant), (1, 1));
    let again = store
        .call_blocking(|c| ingest(c, "s", &items, &ok_record()))
        .unwrap();
    assert_eq!((again.new, again.unchanged), (0, 1));
    let changed = vec![(
        item("s", "1", "one, corrected"),
        decision(true, &["diplomacy"]),
    )];
    let update = store
        .call_blocking(|c| ingest(c, "s", &changed, &ok_record()))
        .unwrap();
    assert_eq!(update.updated, 1);
    let stored = store
        .call_blocking(|c| list_items(c, &ItemFilter::default()))
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].item.title, "one, corrected");
    assert_eq!(stored[0].source_name, "S");
}

#[test]
fn topics_filter_the_listing_and_retag_rewrites_decisions() {
    let (_dir, store) = open();
    let items = vec![
        (item("s", "1", "one"), decision(true, &["diplomacy"])),
        (item("s", "2", "two"), decision(true, &["energy-resources"])),
        (item("s", "3", "three"), decision(false, &[])),
    ];
    store
        .call_blocking(|c| ingest(c, "s", &items, &ok_record()))
        .unwrap();
    let diplomacy = ItemFilter {
        topic: Some("diplomacy".into()),
        ..Default::default()
    };
    let listed = store.call_blocking(|c| list_items(c, &diplomacy)).unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|s| s.item.title.as_str())
            .collect::<Vec<_>>(),
        vec!["one"]
    );

    let mut batches = Vec::new();
    let summary = store
        .call_blocking(|c| {
            retag(
                c,
                2,
                &crate::dedup::Policy::default(),
                |item| match item.title.as_str() {
                    "three" => decision(true, &["diplomacy"]),
                    "two" => decision(true, &["energy-resources", "diplomacy"]),
                    _ => decision(true, &["diplomacy"]),
                },
                |done, total| batches.push((done, total)),
            )
        })
        .unwrap();
    assert_eq!(batches, vec![(2, 3), (3, 3)]);
    assert_eq!(
        summary,
        RetagSummary {
            items: 3,
            relevance_changed: 1,
            topics_changed: 1
        }
    );
    let listed = store.call_blocking(|c| list_items(c, &diplomacy)).unwrap();
    assert_eq!(listed.len(), 3);
}

#[test]
fn find_item_takes_a_number_a_key_or_a_link() {
    let (_dir, store) = open();
    let one = item("s", "1", "one");
    let key = one.key.clone();
    store
        .call_blocking(|c| ingest(c, "s", &[(one, decision(false, &[]))], &ok_record()))
        .unwrap();
    for query in ["1", key.as_str(), "https://ex.org/1"] {
        let found = store.call_blocking(|c| find_item(c, query)).unwrap();
        assert_eq!(found.item.title, "one", "{query}");
    }
    let missing = store.call_blocking(|c| find_item(c, "nope")).unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)));
}

#[test]
fn long_summaries_and_html_are_stored_packed_and_read_back_whole() {
    let (_dir, store) = open();
    let mut long = item("s", "long", "A long one");
    long.summary = "Astana и Париж, ça va. ".repeat(120);
    long.content_html = Some(crate::item::ItemHtml::raw(
        format!("<p>{}</p>", long.summary),
        None,
    ));
    // Irrelevant: relevant items keep their text in the columns, for search.
    let items = vec![(long.clone(), decision(false, &[]))];
    store
        .call_blocking(|c| ingest(c, "s", &items, &ok_record()))
        .unwrap();
    let (stored_type, stored_bytes): (String, i64) = store
        .call_blocking(|c| {
            Ok(c.query_row(
                "SELECT typeof(body), length(body) FROM items WHERE summary = ''",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!(stored_type, "blob");
    assert!(
        (stored_bytes as usize) < long.summary.len() / 4,
        "{stored_bytes} bytes for the summary's {} and the HTML",
        long.summary.len()
    );
    for _ in 0..2 {
        // Twice: the second read reuses the thread's decompressor.
        let listed = store
            .call_blocking(|c| {
                list_items(
                    c,
                    &ItemFilter {
                        include_irrelevant: true,
                        ..Default::default()
                    },
                )
            })
            .unwrap();
        assert_eq!(listed[0].item.summary, long.summary);
        assert_eq!(listed[0].item.content_html, long.content_html);
    }
}

#[test]
fn opening_with_an_unchanged_config_writes_no_source() {
    let (_dir, store) = open();
    store
        .call_blocking(|c| record_fetch(c, "s", &ok_record()))
        .unwrap();
    let version = store.changes().of_all();
    let same = [(
        "s".to_string(),
        "https://ex.org/feed".to_string(),
        "S".to_string(),
    )];
    let writes = store
        .call_blocking(move |c| {
            let before = c.total_changes();
            sync_sources(c, &same)?;
            Ok(c.total_changes() - before)
        })
        .unwrap();
    assert_eq!(writes, 0, "an unchanged source is not rewritten");
    assert_eq!(
        store.changes().of_all(),
        version,
        "the published files stay cached"
    );

    // A renamed source and a new one are written; the renamed one keeps its state.
    let changed = [
        (
            "s".to_string(),
            "https://ex.org/feed".to_string(),
            "S2".to_string(),
        ),
        (
            "t".to_string(),
            "https://ex.org/t".to_string(),
            "T".to_string(),
        ),
    ];
    let writes = store
        .call_blocking(move |c| {
            let before = c.total_changes();
            sync_sources(c, &changed)?;
            Ok(c.total_changes() - before)
        })
        .unwrap();
    assert_eq!(writes, 2);
    let state = store.call_blocking(|c| source_state(c, "s")).unwrap();
    assert_eq!(state.validators.etag.as_deref(), Some("\"e1\""));
    let names: Vec<String> = store
        .call_blocking(|c| Ok(list_sources(c)?.into_iter().map(|s| s.name).collect()))
        .unwrap();
    assert_eq!(names, ["S2", "T"]);
}

/// The content hash as written before issue 8's raw HTML: 32 hex digits over the title,
/// summary, sanitized HTML and link, then the date.
fn legacy_hash(item: &Item) -> String {
    use sha2::{Digest, Sha256};
    let html = item
        .content_html
        .as_ref()
        .and_then(|h| h.to_safe_html())
        .map(|h| h.into_owned())
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    for part in [
        item.title.as_str(),
        item.summary.as_str(),
        html.as_str(),
        item.link.as_deref().unwrap_or_default(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.update(
        item.published
            .map(|d| d.timestamp())
            .unwrap_or_default()
            .to_le_bytes(),
    );
    crate::item::hex(&hasher.finalize()[..16])
}

/// Issue 8: an upgraded database holds hashes of the older form. An unchanged item is
/// recognised by it once (not counted as edited), and its hash is rewritten in the new
/// form; an edited one is still an update.
#[test]
fn a_hash_of_the_older_form_is_recognised_once_then_replaced() {
    let (_dir, store) = open();
    let mut kept = item("s", "1", "one");
    kept.content_html = Some(crate::item::ItemHtml::raw(
        r#"<p onclick="x()">Astana <a href="/a">talks</a></p>"#,
        url::Url::parse("https://ex.org/").ok().as_ref(),
    ));
    let mut edited = item("s", "2", "two");
    edited.content_html = kept.content_html.clone();
    let items = vec![
        (kept.clone(), decision(false, &[])),
        (edited.clone(), decision(false, &[])),
    ];
    store
        .call_blocking(|c| ingest(c, "s", &items, &ok_record()))
        .unwrap();
    let (kept_old, edited_old) = (legacy_hash(&kept), legacy_hash(&edited));
    assert_eq!(kept_old.len(), 32);
    store
        .call_blocking(move |c| {
            c.execute(
                "UPDATE items SET content_hash = ?1 WHERE guid = '1'",
                [&kept_old],
            )?;
            c.execute(
                "UPDATE items SET content_hash = ?1 WHERE guid = '2'",
                [&edited_old],
            )?;
            Ok(())
        })
        .unwrap();
    edited.title = "two, edited".into();
    let again = vec![
        (kept.clone(), decision(false, &[])),
        (edited, decision(false, &[])),
    ];
    let summary = store
        .call_blocking(|c| ingest(c, "s", &again, &ok_record()))
        .unwrap();
    assert_eq!((summary.unchanged, summary.updated), (1, 1));
    let hashes: Vec<String> = store
        .call_blocking(|c| {
            let mut stmt = c.prepare("SELECT content_hash FROM items ORDER BY guid")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .unwrap();
    assert_eq!(hashes[0], kept.content_hash());
    assert!(hashes.iter().all(|h| h.starts_with("2:")), "{hashes:?}");
    let third = store
        .call_blocking(|c| ingest(c, "s", &again, &ok_record()))
        .unwrap();
    assert_eq!((third.unchanged, third.updated), (2, 0));
}

/// The writer's batch: feeds stored together in one transaction; when one fails, the
/// others are still stored whole, and nothing of the failing one, fetch state included.
#[test]
fn a_failing_feed_in_a_batch_is_rolled_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    drop(Store::open(&path).unwrap());
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    let sources: Vec<(String, String, String)> = ["a", "bad", "c"]
        .iter()
        .map(|s| {
            (
                s.to_string(),
                format!("https://{s}.example/feed"),
                s.to_string(),
            )
        })
        .collect();
    sync_sources(&mut conn, &sources).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER boom BEFORE INSERT ON items WHEN NEW.title = 'boom'
         BEGIN SELECT RAISE(FAIL, 'simulated failure'); END;",
    )
    .unwrap();
    let job = |source: &str, titles: &[&str]| {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let items = titles
            .iter()
            .enumerate()
            .map(|(n, title)| {
                let topics: &[&str] = if n == 0 { &["energy"] } else { &[] };
                (
                    item(source, &n.to_string(), title),
                    decision(n == 0, topics),
                )
            })
            .collect();
        let job = crate::store::IngestJob {
            source_id: source.to_string(),
            items,
            record: ok_record(),
            policy: crate::dedup::Policy::default(),
            reply,
        };
        (job, answer)
    };
    let (a, _a) = job("a", &["a one", "a two"]);
    // Its second item fails after its first was written.
    let (bad, _bad) = job("bad", &["bad one", "boom", "bad three"]);
    let (c, _c) = job("c", &["c one"]);
    let changes = Changes::default();

    let answers = crate::store::ingest_batch(
        &mut conn,
        &mut Default::default(),
        vec![a, bad, c],
        &changes,
    );
    let results: Vec<bool> = answers.iter().map(|(_, r)| r.is_ok()).collect();
    assert_eq!(results, vec![true, false, true]);
    let titles: Vec<String> = list_items(
        &conn,
        &ItemFilter {
            include_irrelevant: true,
            ..Default::default()
        },
    )
    .unwrap()
    .into_iter()
    .map(|s| s.item.title)
    .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["a one", "a two", "c one"], "{titles:?}");
    assert_eq!(
        source_state(&conn, "a").unwrap().validators.etag.as_deref(),
        Some("\"e1\"")
    );
    assert_eq!(
        source_state(&conn, "c").unwrap().validators.etag.as_deref(),
        Some("\"e1\"")
    );
    assert_eq!(
        source_state(&conn, "bad").unwrap().validators.etag,
        None,
        "the failing feed's fetch state must not run ahead of its items"
    );

    // Without a failure the batch is stored in one go, every feed whole.
    let (a2, _a2) = job("a", &["a one", "a two", "a three"]);
    let (c2, _c2) = job("c", &["c one", "c two"]);
    let answers =
        crate::store::ingest_batch(&mut conn, &mut Default::default(), vec![a2, c2], &changes);
    let summaries: Vec<usize> = answers.into_iter().map(|(_, r)| r.unwrap().new).collect();
    assert_eq!(summaries, vec![1, 1]);
}

#[test]
fn items_of_the_same_date_are_listed_by_key_with_or_without_irrelevant_ones() {
    let (_dir, store) = open();
    // Same published date for all: only the key orders them.
    let items: Vec<(Item, Decision)> = (0..12)
        .map(|n| {
            let relevant = n % 3 == 0;
            (
                item("s", &format!("g{n}"), &format!("Title {n}")),
                decision(relevant, &[]),
            )
        })
        .collect();
    store
        .ingest_blocking("s", items, ok_record(), Default::default())
        .unwrap();
    for include_irrelevant in [false, true] {
        let listed = store
            .read_blocking(|c| {
                list_items(
                    c,
                    &ItemFilter {
                        include_irrelevant,
                        ..Default::default()
                    },
                )
            })
            .unwrap();
        let keys: Vec<&str> = listed.iter().map(|s| s.item.key.as_str()).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys.len(), if include_irrelevant { 12 } else { 4 });
        assert_eq!(keys, sorted, "ties are in key order");
    }
}

/// Marked relevant without topics, an item the classifier finds irrelevant gets the
/// topics whose terms it matched, in the order they matched, when it is fetched again:
/// what the writer keeps of the evidence (`prepare` frees the rest) still says which.
#[test]
fn a_refetched_item_marked_relevant_without_topics_gets_the_topics_its_terms_matched() {
    use crate::classify::{Evidence, Place};
    let (_dir, store) = open();
    let policy = crate::dedup::Policy::default();
    let first = item("s", "1", "Wind farm visit");
    store
        .ingest_blocking(
            "s",
            vec![(first.clone(), decision(false, &[]))],
            ok_record(),
            policy,
        )
        .unwrap();
    let id: i64 = store
        .read_blocking(|c| Ok(c.query_row("SELECT id FROM items", [], |r| r.get(0))?))
        .unwrap();
    let marked = corrections::Correction {
        relevant: true,
        topics: Vec::new(),
        marked_at: Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap(),
    };
    store
        .call_blocking(|c| {
            corrections::mark(c, id, &first.key, &marked, &decision(false, &[]), &policy)
        })
        .unwrap();

    let evidence = |role: &str, term: &str| Evidence {
        term: term.into(),
        matched: term.into(),
        role: role.into(),
        weight: 1.0,
        place: Place::Summary,
    };
    let mut classifier = decision(false, &[]);
    classifier.evidence = vec![
        evidence("france", "paris"),
        evidence("topic:energy", "wind"),
        evidence("cue", "visit"),
        evidence("topic:culture-education", "museum"),
        evidence("topic:energy", "turbine"),
    ];
    let mut edited = first.clone();
    edited.summary = "An edited summary".into();
    let summary = store
        .ingest_blocking("s", vec![(edited, classifier)], ok_record(), policy)
        .unwrap();
    assert_eq!(summary.updated, 1);
    let (relevant, stored): (bool, String) = store
        .read_blocking(|c| {
            Ok(
                c.query_row("SELECT relevant, decision FROM items", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?,
            )
        })
        .unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert!(relevant);
    assert_eq!(
        stored["topics"],
        serde_json::json!(["energy", "culture-education"])
    );
}

/// The writer keeps the clusters' topics from one batch to the next; a write that is not
/// an ingest (here: a topic given to a stored story, as `retag` does) must make it read
/// them again, or the next copy's batch would not report that topic's feed as changed.
#[test]
fn a_copy_in_a_later_batch_reports_the_topics_another_write_gave_its_story() {
    let (_dir, store) = open();
    store
        .call_blocking(|c| {
            sync_sources(
                c,
                &[
                    ("s".into(), "https://ex.org/feed".into(), "S".into()),
                    ("t".into(), "https://ex.org/t".into(), "T".into()),
                ],
            )
        })
        .unwrap();
    let title = "Tokayev and Macron sign a uranium supply agreement in Paris";
    let first = store
        .ingest_blocking(
            "s",
            vec![(item("s", "a", title), decision(true, &["diplomacy"]))],
            ok_record(),
            Default::default(),
        )
        .unwrap();
    assert_eq!(
        first.changed_topics.iter().collect::<Vec<_>>(),
        ["diplomacy"]
    );
    store
        .call_blocking(|c| {
            c.execute(
                "INSERT INTO item_topics (item_id, topic) SELECT id, 'energy' FROM items",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let copy = store
        .ingest_blocking(
            "t",
            vec![(item("t", "b", title), decision(true, &["trade"]))],
            ok_record(),
            Default::default(),
        )
        .unwrap();
    assert_eq!(copy.duplicates, 1, "the copy joins the story");
    assert_eq!(
        copy.changed_topics.iter().collect::<Vec<_>>(),
        ["diplomacy", "energy", "trade"]
    );
}
