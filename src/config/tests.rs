//! The config checker: each bad file with the exact message an operator will read.

use super::*;

const RULES: &str = r#"
[[topic]]
id = "diplomacy"
title = "Diplomacy"
"#;

fn problems(text: &str) -> Vec<String> {
    match Config::parse(text, Path::new("feeds.toml"), |_| Ok(RULES.to_string())) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid(problems)) => problems.iter().map(ToString::to_string).collect(),
        Err(other) => vec![other.to_string()],
    }
}

#[test]
fn a_valid_file_loads_with_defaults() {
    let config = Config::parse(
        "[[source]]\nid = \"a\"\nurl = \"https://ex.org/feed\"\n",
        Path::new("conf/feeds.toml"),
        |_| Ok(RULES.to_string()),
    )
    .unwrap();
    assert_eq!(config.daemon.database, Path::new("conf/data/entente.db"));
    assert_eq!(config.daemon.limits, Limits::default());
    assert_eq!(config.sources[0].schedule.expression(), "*/30 * * * *");
    assert_eq!(config.sources[0].name, "a");
    assert_eq!(config.rules.topics()[0].id, "diplomacy");
}

#[test]
fn file_sources_resolve_against_the_config_folder() {
    let config = Config::parse(
        "[[source]]\nid = \"a\"\nurl = \"file:mirror/a.xml\"\n",
        Path::new("conf/feeds.toml"),
        |_| Ok(RULES.to_string()),
    )
    .unwrap();
    assert_eq!(
        config.sources[0].location,
        Location::File(PathBuf::from("conf/mirror/a.xml"))
    );
}

#[test]
fn every_problem_is_reported_with_its_position() {
    let cases: &[(&str, &[&str])] = &[
        ("x = [1,", &["feeds.toml:1:8: unclosed array, expected `]`"]),
        ("colour = 1", &["feeds.toml:1:1: unknown key `colour`, expected `rules`, `daemon` or `source`"]),
        (
            "[[source]]\nurl = \"https://ex.org/\"",
            &["feeds.toml:1:1: missing field `id`"],
        ),
        (
            "[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\nfoo = 1",
            &["feeds.toml:4:1: unknown key `foo` in source, expected one of `id`, `url`, `name`, `schedule`, `timezone`, `lang`, `enabled`"],
        ),
        (
            "[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\n[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"",
            &[
                "feeds.toml:5:6: duplicate source id `a` (first used at 2:6)",
                "feeds.toml:6:7: duplicate source URL `https://ex.org/` (first used at 3:7)",
            ],
        ),
        (
            // Columns count characters, not bytes, on any line of the file.
            "# Астана\nsource = [{name = \"Ünı\", id = \"a\", url = \"https://ex.org/\"}, {id = \"a\", url = \"https://ex.org/\"}]",
            &[
                "feeds.toml:2:68: duplicate source id `a` (first used at 2:31)",
                "feeds.toml:2:79: duplicate source URL `https://ex.org/` (first used at 2:42)",
            ],
        ),
        (
            "[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\nschedule = \"61 * * * *\"",
            &["feeds.toml:4:12: invalid cron expression `61 * * * *`: minute must be 0–59, not 61"],
        ),
        (
            "[daemon]\ntimezone = \"Mars/Olympus\"\n[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\ntimezone = \"CEST\"\nschedule = \"0 0 * * 9\"",
            &[
                "feeds.toml:2:12: unknown time zone `Mars/Olympus`: use an IANA name such as UTC, Asia/Almaty or Europe/Paris",
                "feeds.toml:6:12: unknown time zone `CEST`: use an IANA name such as UTC, Asia/Almaty or Europe/Paris",
                "feeds.toml:7:12: invalid cron expression `0 0 * * 9`: day of week must be 0–7 (0 and 7 are Sunday) or SUN–SAT, not 9",
            ],
        ),
        (
            "[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\nschedule = \"0 8 * * 8\"",
            &["feeds.toml:4:12: invalid cron expression `0 8 * * 8`: day of week must be 0–7 (0 and 7 are Sunday) or SUN–SAT, not 8"],
        ),
        (
            "[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\nschedule = \"* *\"",
            &["feeds.toml:4:12: invalid cron expression `* *`: expected 5 fields (minute hour day month weekday), or 6-7 with seconds first, found 2"],
        ),
        (
            "[[source]]\nid = \"Big\"\nurl = \"ftp://ex.org/\"",
            &[
                "feeds.toml:2:6: source id `Big` must be lowercase letters, digits and dashes",
                "feeds.toml:3:7: unsupported URL scheme `ftp`: use http, https or file",
            ],
        ),
        (
            "[[source]]\nid = \"a\"\nurl = \"not a url\"",
            &["feeds.toml:3:7: invalid URL `not a url`: relative URL without a base"],
        ),
        (
            "[daemon]\nlisten = \"everywhere\"\nfeed_items = 0\n[daemon.limits]\nper_host = -1\nspeed = 3",
            &[
                "feeds.toml:2:10: `listen` must be an address and port such as 127.0.0.1:8080",
                "feeds.toml:3:14: `feed_items` must be a positive number",
                "feeds.toml:5:12: `per_host` must be a positive number",
                "feeds.toml:6:1: unknown key `speed` in daemon.limits, expected one of `connect_timeout_secs`, `timeout_secs`, `max_body_bytes`, `per_host`, `concurrency`, `max_redirects`, `max_backoff_secs`, `failing_after`, `grace_secs`, `max_items_per_fetch`, `max_title_chars`, `max_summary_chars`, `max_content_bytes`",
            ],
        ),
        (
            "[daemon]\ndedup_threshold = 1.5\ndedup_window_hours = 0",
            &[
                "feeds.toml:2:19: `dedup_threshold` must be a number above 0 and at most 1, such as 0.7",
                "feeds.toml:3:22: `dedup_window_hours` must be a positive number",
            ],
        ),
        (
            "[daemon]\ndedup_threshold = \"high\"",
            &["feeds.toml:2:19: invalid type: string \"high\", expected f64"],
        ),
        (
            "[daemon]\npublic_url = \"ftp://x/\"",
            &["feeds.toml:2:14: `public_url` must be an http or https URL"],
        ),
        (
            "[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\nlang = \"French\"",
            &["feeds.toml:4:8: `lang` must be a language code such as en, fr, ru or kk, not `French`"],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(problems(text), *expected, "for:\n{text}");
    }
}

#[test]
fn schedules_are_read_in_the_daemon_zone_or_the_source_own() {
    let config = Config::parse(
        "[daemon]\ntimezone = \"Asia/Almaty\"\nschedule = \"0 8 * * *\"\n\
         [[source]]\nid = \"a\"\nurl = \"https://ex.org/a\"\n\
         [[source]]\nid = \"b\"\nurl = \"https://ex.org/b\"\ntimezone = \"Europe/Paris\"\n\
         [[source]]\nid = \"c\"\nurl = \"https://ex.org/c\"\nschedule = \"0 9 * * MON\"\n",
        Path::new("feeds.toml"),
        |_| Ok(RULES.to_string()),
    )
    .unwrap();
    let zones: Vec<_> = config
        .sources
        .iter()
        .map(|s| (s.schedule.expression(), s.schedule.timezone().name()))
        .collect();
    assert_eq!(
        zones,
        [
            ("0 8 * * *", "Asia/Almaty"),
            ("0 8 * * *", "Europe/Paris"),
            ("0 9 * * MON", "Asia/Almaty"),
        ]
    );
    assert_eq!(config.daemon.timezone, chrono_tz::Asia::Almaty);
    let default = Config::parse(
        "[[source]]\nid = \"a\"\nurl = \"https://ex.org/a\"\n",
        Path::new("feeds.toml"),
        |_| Ok(RULES.to_string()),
    )
    .unwrap();
    assert_eq!(default.sources[0].schedule.timezone(), chrono_tz::UTC);
}

#[test]
fn dedup_settings_have_defaults_and_can_be_set() {
    let parse = |daemon: &str| {
        let text =
            format!("[daemon]\n{daemon}\n[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\n");
        Config::parse(&text, Path::new("feeds.toml"), |_| Ok(RULES.to_string()))
            .unwrap()
            .daemon
            .dedup
    };
    assert_eq!(parse(""), crate::dedup::Policy::default());
    assert_eq!(
        parse("").title_threshold,
        crate::dedup::DEFAULT_TITLE_THRESHOLD
    );
    let set = parse("dedup_threshold = 0.85\ndedup_window_hours = 24");
    assert_eq!(set.title_threshold, 0.85);
    assert_eq!(set.window, Duration::from_secs(24 * 3600));
    assert_eq!(parse("dedup_threshold = 1.0").title_threshold, 1.0);
}

#[test]
fn a_missing_rules_file_is_reported_at_its_name() {
    let err = Config::parse("rules = \"missing.toml\"\n", Path::new("feeds.toml"), |p| {
        Err(ConfigError::Read {
            path: p.display().to_string(),
            cause: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"),
        })
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "feeds.toml:1:9: missing.toml: cannot read: No such file"
    );
}

fn rules_problems(rules: &str) -> Vec<String> {
    let text = "rules = \"rules.toml\"\n[[source]]\nid = \"a\"\nurl = \"https://ex.org/\"\n";
    match Config::parse(text, Path::new("feeds.toml"), |_| Ok(rules.to_string())) {
        Ok(_) => Vec::new(),
        Err(err) => err.to_string().lines().map(str::to_string).collect(),
    }
}

#[test]
fn rules_without_a_topic_are_refused() {
    assert_eq!(
        rules_problems(""),
        ["rules.toml:1:1: the rules file is empty: it needs the two sides' names and at least one [[topic]] (see docs/classifier.md)"]
    );
    assert_eq!(
        rules_problems("# nothing yet\n"),
        ["rules.toml:1:1: the rules declare no topic: add at least one [[topic]] (see docs/classifier.md)"]
    );
}

#[test]
fn a_default_topic_naming_no_topic_is_refused() {
    let rules = format!("{RULES}\n[scoring]\ndefault_topic = \"trade\"\n");
    assert_eq!(
        rules_problems(&rules),
        ["rules.toml:7:17: default_topic \"trade\" is not a declared topic"]
    );
}

#[test]
fn a_source_remembers_where_its_url_was_written() {
    let config = Config::parse(
        "[[source]]\nid = \"a\"\n  url = \"file:a.xml\"\n",
        Path::new("feeds.toml"),
        |_| Ok(RULES.to_string()),
    )
    .unwrap();
    assert_eq!(
        config.sources[0].url_position.problem("gone").to_string(),
        "feeds.toml:3:9: gone"
    );
}
