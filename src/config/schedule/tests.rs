//! The schedule's meaning, case by case. Each expected firing is derived by hand from
//! the POSIX crontab definition (and cronie's documented extensions: names, steps,
//! 7 for Sunday); the derivation is the comment above the case. Calendar facts used:
//! 2026-01-01 is a Thursday, 2026-02-01 a Sunday, 2026-07-01 a Wednesday.

use super::*;
use chrono_tz::Tz;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

/// The next `expected.len()` firings of `expression` in `tz` after `from`.
fn firings(expression: &str, tz: Tz, from: &str) -> Vec<String> {
    let schedule = Schedule::parse(expression, tz).unwrap_or_else(|e| panic!("{e}"));
    let mut at = utc(from);
    let mut out = Vec::new();
    for _ in 0..5 {
        match schedule.next_after(at) {
            Some(next) => {
                out.push(next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                at = next;
            }
            None => break,
        }
    }
    out
}

struct Case {
    expression: &'static str,
    tz: Tz,
    from: &'static str,
    /// The first firings after `from`, in UTC.
    expected: &'static [&'static str],
}

const UTC: Tz = chrono_tz::UTC;
const PARIS: Tz = chrono_tz::Europe::Paris;
const NEW_YORK: Tz = chrono_tz::America::New_York;
const ALMATY: Tz = chrono_tz::Asia::Almaty;

const POSIX_CASES: &[Case] = &[
    // Day of week 1 is Monday (POSIX: 0–6, Sunday 0). From Saturday 3 January, the next
    // Monday is the 5th, then every 7 days.
    Case {
        expression: "0 8 * * 1",
        tz: UTC,
        from: "2026-01-03T00:00:00Z",
        expected: &[
            "2026-01-05T08:00:00Z",
            "2026-01-12T08:00:00Z",
            "2026-01-19T08:00:00Z",
            "2026-01-26T08:00:00Z",
            "2026-02-02T08:00:00Z",
        ],
    },
    // 0 is Sunday: Sunday 4 January, then weekly.
    Case {
        expression: "0 8 * * 0",
        tz: UTC,
        from: "2026-01-03T00:00:00Z",
        expected: &[
            "2026-01-04T08:00:00Z",
            "2026-01-11T08:00:00Z",
            "2026-01-18T08:00:00Z",
            "2026-01-25T08:00:00Z",
            "2026-02-01T08:00:00Z",
        ],
    },
    // 7 is Sunday too (cronie): the same firings as 0.
    Case {
        expression: "0 8 * * 7",
        tz: UTC,
        from: "2026-01-03T00:00:00Z",
        expected: &[
            "2026-01-04T08:00:00Z",
            "2026-01-11T08:00:00Z",
            "2026-01-18T08:00:00Z",
            "2026-01-25T08:00:00Z",
            "2026-02-01T08:00:00Z",
        ],
    },
    // 1-5 is Monday to Friday. From Friday 2 January 09:00 (after that day's 08:00):
    // Saturday and Sunday are skipped, then Monday 5 to Thursday 8.
    Case {
        expression: "0 8 * * 1-5",
        tz: UTC,
        from: "2026-01-02T09:00:00Z",
        expected: &[
            "2026-01-05T08:00:00Z",
            "2026-01-06T08:00:00Z",
            "2026-01-07T08:00:00Z",
            "2026-01-08T08:00:00Z",
            "2026-01-09T08:00:00Z",
        ],
    },
    // Both day fields restricted: a day matching either fires (POSIX). The 1st of each
    // month or any Monday: Mondays 5, 12, 19, 26 January, Sunday 1 February (the 1st),
    // Monday 2 February.
    Case {
        expression: "0 8 1 * 1",
        tz: UTC,
        from: "2026-01-02T00:00:00Z",
        expected: &[
            "2026-01-05T08:00:00Z",
            "2026-01-12T08:00:00Z",
            "2026-01-19T08:00:00Z",
            "2026-01-26T08:00:00Z",
            "2026-02-01T08:00:00Z",
        ],
    },
    // The crontab(5) example: 04:30 on the 1st and 15th, plus every Friday. From
    // Thursday 1 January: the 1st, Friday 2, Friday 9, Thursday 15, Friday 16.
    Case {
        expression: "30 4 1,15 * 5",
        tz: UTC,
        from: "2026-01-01T00:00:00Z",
        expected: &[
            "2026-01-01T04:30:00Z",
            "2026-01-02T04:30:00Z",
            "2026-01-09T04:30:00Z",
            "2026-01-15T04:30:00Z",
            "2026-01-16T04:30:00Z",
        ],
    },
    // A day field starting with `*` is unrestricted (vixie cron, cronie), so the days
    // are ANDed: odd days (1, 3, … from `*/2`) that are Mondays: 5 and 19 January, 9
    // and 23 February, 9 March.
    Case {
        expression: "0 8 */2 * 1",
        tz: UTC,
        from: "2026-01-01T00:00:00Z",
        expected: &[
            "2026-01-05T08:00:00Z",
            "2026-01-19T08:00:00Z",
            "2026-02-09T08:00:00Z",
            "2026-02-23T08:00:00Z",
            "2026-03-09T08:00:00Z",
        ],
    },
    // Names in any case, in lists and ranges: weekdays of January and July at noon. From
    // 30 June: Wednesday 1 July to Friday 3, then Monday 6 and Tuesday 7.
    Case {
        expression: "0 12 * JAN,jul mon-FRI",
        tz: UTC,
        from: "2026-06-30T00:00:00Z",
        expected: &[
            "2026-07-01T12:00:00Z",
            "2026-07-02T12:00:00Z",
            "2026-07-03T12:00:00Z",
            "2026-07-06T12:00:00Z",
            "2026-07-07T12:00:00Z",
        ],
    },
    // A step over the whole range: minutes 0, 15, 30, 45; strictly after 10:07:30.
    Case {
        expression: "*/15 * * * *",
        tz: UTC,
        from: "2026-01-01T10:07:30Z",
        expected: &[
            "2026-01-01T10:15:00Z",
            "2026-01-01T10:30:00Z",
            "2026-01-01T10:45:00Z",
            "2026-01-01T11:00:00Z",
            "2026-01-01T11:15:00Z",
        ],
    },
    // A step over a range: 5, 10, 15, 20, then the next hour's 5. "Strictly after":
    // from exactly 10:05 the 10:05 firing is not repeated.
    Case {
        expression: "5-20/5 * * * *",
        tz: UTC,
        from: "2026-01-01T10:05:00Z",
        expected: &[
            "2026-01-01T10:10:00Z",
            "2026-01-01T10:15:00Z",
            "2026-01-01T10:20:00Z",
            "2026-01-01T11:05:00Z",
            "2026-01-01T11:10:00Z",
        ],
    },
    // `N/STEP` runs from N to the end of the field: 10, 30, 50.
    Case {
        expression: "10/20 3 * * *",
        tz: UTC,
        from: "2026-01-01T00:00:00Z",
        expected: &[
            "2026-01-01T03:10:00Z",
            "2026-01-01T03:30:00Z",
            "2026-01-01T03:50:00Z",
            "2026-01-02T03:10:00Z",
            "2026-01-02T03:30:00Z",
        ],
    },
    // The 31st exists in January, March, May, July, August: months without it are
    // skipped, not clamped.
    Case {
        expression: "0 0 31 * *",
        tz: UTC,
        from: "2026-01-31T01:00:00Z",
        expected: &[
            "2026-03-31T00:00:00Z",
            "2026-05-31T00:00:00Z",
            "2026-07-31T00:00:00Z",
            "2026-08-31T00:00:00Z",
            "2026-10-31T00:00:00Z",
        ],
    },
    // 29 February: the next leap years 2028 and 2032.
    Case {
        expression: "0 0 29 2 *",
        tz: UTC,
        from: "2026-03-01T00:00:00Z",
        expected: &[
            "2028-02-29T00:00:00Z",
            "2032-02-29T00:00:00Z",
            "2036-02-29T00:00:00Z",
            "2040-02-29T00:00:00Z",
            "2044-02-29T00:00:00Z",
        ],
    },
    // A range across the week's end: 5-7 is Friday, Saturday, Sunday (7). From Thursday
    // 1 January: Friday 2, Saturday 3, Sunday 4, then Friday 9, Saturday 10.
    Case {
        expression: "0 22 * * 5-7",
        tz: UTC,
        from: "2026-01-01T00:00:00Z",
        expected: &[
            "2026-01-02T22:00:00Z",
            "2026-01-03T22:00:00Z",
            "2026-01-04T22:00:00Z",
            "2026-01-09T22:00:00Z",
            "2026-01-10T22:00:00Z",
        ],
    },
    // @weekly is `0 0 * * 0`: Sundays at midnight.
    Case {
        expression: "@weekly",
        tz: UTC,
        from: "2026-01-01T00:00:00Z",
        expected: &[
            "2026-01-04T00:00:00Z",
            "2026-01-11T00:00:00Z",
            "2026-01-18T00:00:00Z",
            "2026-01-25T00:00:00Z",
            "2026-02-01T00:00:00Z",
        ],
    },
    // Wall-clock time in the schedule's zone: 08:00 in Almaty (UTC+5, no DST since
    // March 2024) is 03:00 UTC, Mondays.
    Case {
        expression: "0 8 * * MON",
        tz: ALMATY,
        from: "2026-01-03T00:00:00Z",
        expected: &[
            "2026-01-05T03:00:00Z",
            "2026-01-12T03:00:00Z",
            "2026-01-19T03:00:00Z",
            "2026-01-26T03:00:00Z",
            "2026-02-02T03:00:00Z",
        ],
    },
    // The cron crate's 6-field form keeps its meaning (seconds first), in the zone too.
    Case {
        expression: "30 0 8 * * *",
        tz: ALMATY,
        from: "2026-01-01T00:00:00Z",
        expected: &[
            "2026-01-01T03:00:30Z",
            "2026-01-02T03:00:30Z",
            "2026-01-03T03:00:30Z",
            "2026-01-04T03:00:30Z",
            "2026-01-05T03:00:30Z",
        ],
    },
];

/// Daylight saving, as cronie and vixie cron handle it. Europe/Paris in 2026: on
/// Sunday 29 March at 01:00 UTC, 02:00 CET becomes 03:00 CEST (02:00–02:59 never
/// happen); on Sunday 25 October at 01:00 UTC, 03:00 CEST becomes 02:00 CET (02:00–02:59
/// happen twice). New York: 8 March at 07:00 UTC, 02:00 EST becomes 03:00 EDT.
const DST_CASES: &[Case] = &[
    // A fixed time in the skipped hour fires once, when the gap ends (03:00 CEST =
    // 01:00 UTC); the next day 02:30 CEST is 00:30 UTC.
    Case {
        expression: "30 2 * * *",
        tz: PARIS,
        from: "2026-03-28T12:00:00Z",
        expected: &[
            "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z",
            "2026-03-31T00:30:00Z",
            "2026-04-01T00:30:00Z",
            "2026-04-02T00:30:00Z",
        ],
    },
    // A schedule by the clock skips what the clock skips: 01:30 CET (00:30 UTC), then
    // 03:00 CEST (01:00 UTC): still every 30 minutes of real time.
    Case {
        expression: "*/30 * * * *",
        tz: PARIS,
        from: "2026-03-29T00:00:00Z",
        expected: &[
            "2026-03-29T00:30:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:30:00Z",
            "2026-03-29T02:00:00Z",
            "2026-03-29T02:30:00Z",
        ],
    },
    // A fixed time in the repeated hour fires once, at its first pass (02:30 CEST =
    // 00:30 UTC); the next day 02:30 CET is 01:30 UTC.
    Case {
        expression: "30 2 * * *",
        tz: PARIS,
        from: "2026-10-24T12:00:00Z",
        expected: &[
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z",
            "2026-10-27T01:30:00Z",
            "2026-10-28T01:30:00Z",
            "2026-10-29T01:30:00Z",
        ],
    },
    // By the clock, the repeated hour runs twice: 02:30 CEST, 02:00 CET, 02:30 CET,
    // 03:00 CET: every 30 minutes of real time.
    Case {
        expression: "*/30 * * * *",
        tz: PARIS,
        from: "2026-10-25T00:00:00Z",
        expected: &[
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:00:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T02:00:00Z",
            "2026-10-25T02:30:00Z",
        ],
    },
    // From inside the first pass (02:55 CEST), an hour-2 schedule by the clock comes
    // back at 02:00 CET (01:00 UTC) and runs that hour again.
    Case {
        expression: "*/20 2 * * *",
        tz: PARIS,
        from: "2026-10-25T00:55:00Z",
        expected: &[
            "2026-10-25T01:00:00Z",
            "2026-10-25T01:20:00Z",
            "2026-10-25T01:40:00Z",
            "2026-10-26T01:00:00Z",
            "2026-10-26T01:20:00Z",
        ],
    },
    // New York's gap: 02:30 fires at 03:00 EDT (07:00 UTC), then 02:30 EDT (06:30 UTC).
    Case {
        expression: "30 2 * * *",
        tz: NEW_YORK,
        from: "2026-03-07T12:00:00Z",
        expected: &[
            "2026-03-08T07:00:00Z",
            "2026-03-09T06:30:00Z",
            "2026-03-10T06:30:00Z",
            "2026-03-11T06:30:00Z",
            "2026-03-12T06:30:00Z",
        ],
    },
];

#[test]
fn five_fields_fire_as_posix_cron_does() {
    for case in POSIX_CASES {
        assert_eq!(
            firings(case.expression, case.tz, case.from),
            case.expected,
            "`{}` in {} from {}",
            case.expression,
            case.tz,
            case.from
        );
    }
}

#[test]
fn daylight_saving_changes_are_handled_as_cronie_does() {
    for case in DST_CASES {
        assert_eq!(
            firings(case.expression, case.tz, case.from),
            case.expected,
            "`{}` in {} from {}",
            case.expression,
            case.tz,
            case.from
        );
    }
}

#[test]
fn errors_name_the_field_and_its_range() {
    let cases = [
        ("61 * * * *", "minute must be 0–59, not 61"),
        ("0 24 * * *", "hour must be 0–23, not 24"),
        ("0 0 0 * *", "day of month must be 1–31, not 0"),
        ("0 0 * 13 *", "month must be 1–12 or JAN–DEC, not 13"),
        (
            "0 0 * * 8",
            "day of week must be 0–7 (0 and 7 are Sunday) or SUN–SAT, not 8",
        ),
        (
            "0 0 * * FUN",
            "day of week: `FUN` is neither a number nor a name such as MON",
        ),
        ("5-1 * * * *", "minute: the range `5-1` runs backwards"),
        (
            "*/0 * * * *",
            "minute: the step in `*/0` must be a number from 1 up",
        ),
        ("0 0 1,,2 * *", "day of month is empty"),
        ("0 0 30 2 *", "it never fires"),
        (
            "* * *",
            "expected 5 fields (minute hour day month weekday), or 6-7 with seconds first, found 3",
        ),
        // The 6-7 field form's errors are the cron crate's, with the range reworded.
        ("61 * * * * *", "seconds must be 0–59, not 61"),
        ("0 0 24 * * *", "hour must be 0–23, not 24"),
        (
            "0 0 8 * * 0",
            "day of week must be 1–7 (1 is Sunday in this form) or SUN–SAT, not 0",
        ),
        (
            "@reboot",
            "unknown `@reboot`: use @yearly, @monthly, @weekly, @daily or @hourly",
        ),
    ];
    for (expression, problem) in cases {
        let err = Schedule::parse(expression, UTC).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid cron expression `{expression}`: {problem}")
        );
    }
    // The top of each range is accepted.
    assert!(Schedule::parse("59 23 31 12 7", UTC).is_ok());
}

#[test]
fn shortest_interval_follows_the_expression() {
    let schedule = Schedule::parse("*/20 * * * *", UTC).unwrap();
    assert_eq!(
        schedule.shortest_interval(utc("2026-01-01T10:07:00Z")),
        chrono::Duration::minutes(20)
    );
}

#[test]
fn a_schedule_moved_to_another_zone_keeps_its_expression() {
    let schedule = Schedule::parse("0 8 * * *", UTC).unwrap();
    let almaty = schedule.in_timezone(ALMATY);
    assert_eq!(almaty.expression(), "0 8 * * *");
    assert_eq!(almaty.timezone(), ALMATY);
    assert_eq!(
        almaty.next_after(utc("2026-01-01T00:00:00Z")),
        Some(utc("2026-01-01T03:00:00Z"))
    );
}

/// The crontab(5) rule for one field, read straight from the text: does `value` match?
/// Written without the matcher's bit sets, as an independent reference.
fn reference_field(text: &str, value: u32, first: u32, last: u32, names: &[&str]) -> bool {
    let number = |s: &str| -> u32 {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .map_or_else(|| s.parse().unwrap(), |i| i as u32 + first.min(1))
    };
    text.split(',').any(|item| {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().unwrap()),
            None => (item, 1),
        };
        let (low, high) = match range.split_once('-') {
            _ if range == "*" => (first, last),
            Some((a, b)) => (number(a), number(b)),
            None if item.contains('/') => (number(range), last),
            None => (number(range), number(range)),
        };
        value >= low && value <= high && (value - low).is_multiple_of(step)
    })
}

/// Whether crontab(5) fires on this date at all, straight from the definition.
fn reference_day(f: &[&str], date: NaiveDate) -> bool {
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let weekday = date.weekday().num_days_from_sunday();
    let day = reference_field(f[2], date.day(), 1, 31, &[]);
    // Sunday is 0 or 7.
    let dow = reference_field(f[4], weekday, 0, 7, &days)
        || (weekday == 0 && reference_field(f[4], 7, 0, 7, &days));
    let day_ok = if !f[2].starts_with('*') && !f[4].starts_with('*') {
        day || dow
    } else {
        day && dow
    };
    reference_field(f[3], date.month(), 1, 12, &months) && day_ok
}

/// The first minute after `from` (within `window` minutes) at which crontab(5) fires,
/// minute by minute over the days that fire at all.
fn reference_next(expression: &str, from: DateTime<Utc>, window: i64) -> Option<DateTime<Utc>> {
    let f: Vec<&str> = expression.split_whitespace().collect();
    let mut t = from.naive_utc().with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
    let end = t + Duration::minutes(window);
    while t < end {
        if !reference_day(&f, t.date()) {
            t = t.date().succ_opt()?.and_hms_opt(0, 0, 0)?;
            continue;
        }
        if reference_field(f[0], t.minute(), 0, 59, &[])
            && reference_field(f[1], t.hour(), 0, 23, &[])
        {
            return Some(t.and_utc());
        }
        t += Duration::minutes(1);
    }
    None
}

/// One field: `*`, `*/s`, `a` (sometimes as a name), `a-b`, `a-b/s`, `a/s`, or a list
/// of two of them.
fn random_field(rng: &mut rand::rngs::StdRng, first: u32, last: u32, names: &[&str]) -> String {
    use rand::Rng;
    let one = |rng: &mut rand::rngs::StdRng| {
        let a = rng.random_range(first..=last);
        let b = rng.random_range(a..=last);
        let s = rng.random_range(1..=(last - first).clamp(1, 12));
        let as_name = rng.random_bool(0.3);
        let name = match names.get((a - first.min(1)) as usize) {
            Some(n) if as_name => n.to_uppercase(),
            _ => a.to_string(),
        };
        match rng.random_range(0..6) {
            0 => "*".to_string(),
            1 => format!("*/{s}"),
            2 => name,
            3 => format!("{a}-{b}"),
            4 => format!("{a}-{b}/{s}"),
            _ => format!("{a}/{s}"),
        }
    };
    if rng.random_bool(0.2) {
        format!("{},{}", one(rng), one(rng))
    } else {
        one(rng)
    }
}

#[test]
fn the_matcher_agrees_with_the_definition_on_random_expressions() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let window_minutes = 400 * 24 * 60;
    let mut compared = 0;
    for _ in 0..300 {
        let expression = format!(
            "{} {} {} {} {}",
            random_field(&mut rng, 0, 59, &[]),
            random_field(&mut rng, 0, 23, &[]),
            random_field(&mut rng, 1, 31, &[]),
            if rng.random_bool(0.7) {
                "*".to_string()
            } else {
                random_field(&mut rng, 1, 12, &months)
            },
            random_field(&mut rng, 0, 7, &days),
        );
        let Ok(schedule) = Schedule::parse(&expression, UTC) else {
            continue; // e.g. `0 0 31 2 *`, which never fires
        };
        let from = utc("2026-01-01T00:00:00Z")
            + Duration::minutes(rng.random_range(0..365 * 24 * 60))
            + Duration::seconds(rng.random_range(0..60));
        // Three firings in a row, each from the one before.
        let mut from = from;
        for _ in 0..3 {
            let reference = reference_next(&expression, from, window_minutes);
            let ours = schedule.next_after(from).unwrap();
            match reference {
                Some(expected) => assert_eq!(ours, expected, "`{expression}` after {from}"),
                None => assert!(
                    ours > from + Duration::minutes(window_minutes),
                    "`{expression}` after {from}: {ours}, the definition finds nothing before"
                ),
            }
            from = ours;
        }
        compared += 1;
    }
    assert!(compared > 200, "only {compared} expressions compared");
}
