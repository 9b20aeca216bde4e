//! Cron schedules as operators write them, in a time zone.
//!
//! Three forms:
//! - **5 fields** (minute hour day-of-month month day-of-week) with the meaning POSIX
//!   crontab and cronie give them: 0 and 7 are Sunday, names (`MON`, `JAN`) in any case,
//!   ranges, steps, lists; when both day fields are restricted a day matching *either*
//!   fires. A field counts as unrestricted when it starts with `*` (so `*/2` too), as in
//!   vixie cron and cronie. Matched by our own small matcher ([`Fields`]).
//! - `@yearly`, `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`: their 5-field
//!   equivalents.
//! - **6 or 7 fields** (seconds first, optional year): the `cron` crate's syntax and
//!   meaning, kept as before for existing configurations (weekdays 1–7 from Sunday, both
//!   day fields must match).
//!
//! Times are wall-clock times in the schedule's time zone. Across a daylight-saving
//! change the 5-field form does what cronie and vixie cron do: a schedule whose minute or
//! hour field starts with `*` runs by the clock (in a repeated hour it fires in both
//! passes, in a skipped hour not at all); a schedule at fixed times fires once (at the
//! first pass of a repeated time, and at the end of the gap for a skipped one: `30 2 * *
//! *` in Europe/Paris fires at 03:00 on the spring-forward day).

use std::fmt;
use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

/// Why a cron expression was refused; the message names the field and its real range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression `{expression}`: {problem}")]
pub struct ScheduleError {
    pub expression: String,
    pub problem: Problem,
}

/// What is wrong with an expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(
        "expected 5 fields (minute hour day month weekday), or 6-7 with seconds first, found {0}"
    )]
    FieldCount(usize),
    #[error("{field} must be {range}, not {value}")]
    OutOfRange {
        field: Field,
        range: &'static str,
        value: String,
    },
    #[error("{field}: `{text}` is neither a number nor a name{}", names_hint(*.field))]
    NotANumber { field: Field, text: String },
    #[error("{field}: the range `{text}` runs backwards")]
    Backwards { field: Field, text: String },
    #[error("{field}: the step in `{text}` must be a number from 1 up")]
    BadStep { field: Field, text: String },
    #[error("{field} is empty")]
    Empty { field: Field },
    #[error("unknown `{0}`: use @yearly, @monthly, @weekly, @daily or @hourly")]
    UnknownAlias(String),
    #[error("it never fires")]
    NeverFires,
    /// The `cron` crate's own message, for the 6–7 field form.
    #[error("{0}")]
    SecondsForm(String),
}

fn names_hint(field: Field) -> &'static str {
    match field {
        Field::Month => " such as JAN",
        Field::Weekday => " such as MON",
        _ => "",
    }
}

/// The five fields of a crontab line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Minute,
    Hour,
    Day,
    Month,
    Weekday,
}

impl Field {
    /// The values the field accepts (for the weekday, 7 is another Sunday).
    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::Day => (1, 31),
            Field::Month => (1, 12),
            Field::Weekday => (0, 7),
        }
    }

    fn range_text(self) -> &'static str {
        match self {
            Field::Minute => "0–59",
            Field::Hour => "0–23",
            Field::Day => "1–31",
            Field::Month => "1–12 or JAN–DEC",
            Field::Weekday => "0–7 (0 and 7 are Sunday) or SUN–SAT",
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &[
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ],
            Field::Weekday => &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
            _ => &[],
        }
    }

    /// The number a name stands for: months from 1, weekdays from 0 (Sunday).
    fn name_value(self, text: &str) -> Option<u32> {
        let first = if self == Field::Month { 1 } else { 0 };
        self.names()
            .iter()
            .position(|name| name.eq_ignore_ascii_case(text))
            .map(|i| i as u32 + first)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::Day => "day of month",
            Field::Month => "month",
            Field::Weekday => "day of week",
        })
    }
}

/// A compiled cron schedule in its time zone; remembers how it was written.
#[derive(Clone)]
pub struct Schedule {
    expression: String,
    timezone: Tz,
    rule: Rule,
}

#[derive(Clone)]
enum Rule {
    Fields(Fields),
    SecondsFirst(Box<cron::Schedule>),
}

impl Schedule {
    /// Parses a 5-, 6- or 7-field cron expression (or an `@` alias) for `timezone`.
    pub fn parse(expression: &str, timezone: Tz) -> Result<Schedule, ScheduleError> {
        let trimmed = expression.trim();
        let invalid = |problem| ScheduleError {
            expression: expression.to_string(),
            problem,
        };
        let count = trimmed.split_whitespace().count();
        let rule = if let Some(alias) = trimmed.strip_prefix('@') {
            let fields = match alias.to_ascii_lowercase().as_str() {
                "yearly" | "annually" => "0 0 1 1 *",
                "monthly" => "0 0 1 * *",
                "weekly" => "0 0 * * 0",
                "daily" | "midnight" => "0 0 * * *",
                "hourly" => "0 * * * *",
                _ => return Err(invalid(Problem::UnknownAlias(trimmed.to_string()))),
            };
            Rule::Fields(Fields::parse(fields).expect("the aliases are valid"))
        } else {
            match count {
                5 => Rule::Fields(Fields::parse(trimmed).map_err(invalid)?),
                6 | 7 => {
                    let cron = cron::Schedule::from_str(trimmed).map_err(|e| {
                        invalid(Problem::SecondsForm(seconds_form_message(last_line(
                            &e.to_string(),
                        ))))
                    })?;
                    Rule::SecondsFirst(Box::new(cron))
                }
                n => return Err(invalid(Problem::FieldCount(n))),
            }
        };
        let schedule = Schedule {
            expression: trimmed.to_string(),
            timezone,
            rule,
        };
        if schedule.next_after(Utc::now()).is_none() {
            return Err(invalid(Problem::NeverFires));
        }
        Ok(schedule)
    }

    /// The same expression in another time zone.
    pub fn in_timezone(&self, timezone: Tz) -> Schedule {
        Schedule {
            timezone,
            ..self.clone()
        }
    }

    /// The next time strictly after `now` that the schedule fires.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.rule {
            Rule::Fields(fields) => fields.next_after(now, self.timezone),
            Rule::SecondsFirst(cron) => cron
                .after(&now.with_timezone(&self.timezone))
                .next()
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    /// The shortest gap between two firings over the next few, for cache lifetimes.
    pub fn shortest_interval(&self, now: DateTime<Utc>) -> chrono::Duration {
        let mut times = Vec::with_capacity(8);
        let mut at = now;
        while times.len() < 8 {
            match self.next_after(at) {
                Some(next) => {
                    times.push(next);
                    at = next;
                }
                None => break,
            }
        }
        times
            .windows(2)
            .map(|w| w[1] - w[0])
            .min()
            .unwrap_or_else(|| chrono::Duration::hours(1))
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }
}

/// The cron crate's errors repeat the expression with a caret under it; its last line
/// says what is wrong.
fn last_line(message: &str) -> &str {
    message
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or(message)
}

/// The cron crate says "Minutes must be less than 59" of a field that accepts 59: its
/// out-of-range messages are reworded to name the field's real range.
fn seconds_form_message(message: &str) -> String {
    let ranges = [
        ("Seconds", "seconds", "0–59"),
        ("Minutes", "minute", "0–59"),
        ("Hours", "hour", "0–23"),
        ("Days of Month", "day of month", "1–31"),
        ("Months", "month", "1–12 or JAN–DEC"),
        (
            "Days of Week",
            "day of week",
            "1–7 (1 is Sunday in this form) or SUN–SAT",
        ),
        ("Years", "year", "1970–2100"),
    ];
    let out_of_range = [" must be less than ", " must be greater than or equal to "]
        .iter()
        .find_map(|phrase| message.split_once(phrase));
    let value = message
        .split_once("('")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(value, _)| value);
    match (out_of_range, value) {
        (Some((name, _)), Some(value)) => ranges
            .iter()
            .find(|(crate_name, _, _)| *crate_name == name)
            .map_or_else(
                || message.to_string(),
                |(_, field, range)| format!("{field} must be {range}, not {value}"),
            ),
        _ => message.to_string(),
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?} in {})", self.expression, self.timezone)
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression && self.timezone == other.timezone
    }
}

/// A 5-field crontab expression as bit sets, one bit per allowed value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fields {
    minutes: u64,
    hours: u32,
    /// Bits 1–31.
    days: u32,
    /// Bits 1–12.
    months: u16,
    /// Bits 0–6, Sunday first (a 7 is folded onto 0).
    weekdays: u8,
    /// Day of month and day of week fields not starting with `*`: both restricted means
    /// either may match.
    days_restricted: bool,
    weekdays_restricted: bool,
    /// The minute or hour field starts with `*`: the schedule runs by the clock across
    /// daylight-saving changes (cron's "wildcard" jobs).
    by_the_clock: bool,
}

/// Searches stop this many years ahead (`0 0 29 2 *` waits at most 8 years).
const SEARCH_YEARS: i32 = 10;

impl Fields {
    fn parse(text: &str) -> Result<Fields, Problem> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = parts[..] else {
            return Err(Problem::FieldCount(parts.len()));
        };
        let weekdays_with_seven = parse_field(weekday, Field::Weekday)?;
        // 7 is Sunday too.
        let weekdays = ((weekdays_with_seven | (weekdays_with_seven >> 7)) & 0x7f) as u8;
        Ok(Fields {
            minutes: parse_field(minute, Field::Minute)?,
            hours: parse_field(hour, Field::Hour)? as u32,
            days: parse_field(day, Field::Day)? as u32,
            months: parse_field(month, Field::Month)? as u16,
            weekdays,
            days_restricted: !day.starts_with('*'),
            weekdays_restricted: !weekday.starts_with('*'),
            by_the_clock: minute.starts_with('*') || hour.starts_with('*'),
        })
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let day = self.days & (1 << date.day()) != 0;
        let weekday = self.weekdays & (1 << date.weekday().num_days_from_sunday()) != 0;
        if self.days_restricted && self.weekdays_restricted {
            day || weekday
        } else {
            day && weekday
        }
    }

    /// The first wall-clock minute strictly after `after` that the fields match.
    fn next_local(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let start = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let last_year = start.year() + SEARCH_YEARS;
        let mut date = start.date();
        let (mut hour, mut minute) = (start.hour(), start.minute());
        loop {
            if date.year() > last_year {
                return None;
            }
            if self.months & (1 << date.month()) == 0 {
                date = first_of_next_month(date)?;
                (hour, minute) = (0, 0);
                continue;
            }
            if !self.day_matches(date) {
                date = date.succ_opt()?;
                (hour, minute) = (0, 0);
                continue;
            }
            let Some(h) = next_bit(u64::from(self.hours), hour) else {
                date = date.succ_opt()?;
                (hour, minute) = (0, 0);
                continue;
            };
            if h != hour {
                (hour, minute) = (h, 0);
            }
            let Some(m) = next_bit(self.minutes, minute) else {
                (hour, minute) = (hour + 1, 0);
                if hour == 24 {
                    date = date.succ_opt()?;
                    hour = 0;
                }
                continue;
            };
            return date.and_hms_opt(hour, m, 0);
        }
    }

    /// The next firing after `now` in `tz`, with cron's daylight-saving behaviour.
    ///
    /// Wall-clock matches are visited in order; mapped to instants, the first pass of
    /// each (or the gap's end for a fixed-time schedule) rises with them, and so does the
    /// second pass of a repeated time. The answer is the earliest instant after `now` of
    /// the first sequence, or of the second for a schedule that runs by the clock.
    fn next_after(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let offset_at = |t: DateTime<Utc>| {
            i64::from(
                tz.offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        };
        // A fall-back within the next hours repeats wall times earlier than now's:
        // start from the smaller offset so their second pass is seen.
        let offset = offset_at(now).min(offset_at(now + Duration::hours(3)));
        let mut cursor = now.naive_utc() + Duration::seconds(offset);
        let mut second_pass: Option<DateTime<Utc>> = None;
        let earliest =
            |t: DateTime<Utc>, second: Option<DateTime<Utc>>| Some(second.map_or(t, |s| s.min(t)));
        loop {
            let Some(local) = self.next_local(cursor) else {
                return second_pass;
            };
            cursor = local;
            match tz.from_local_datetime(&local) {
                LocalResult::Single(t) if t > now => {
                    return earliest(t.with_timezone(&Utc), second_pass)
                }
                LocalResult::Single(_) => {}
                LocalResult::Ambiguous(first, second) => {
                    if first > now {
                        return earliest(first.with_timezone(&Utc), second_pass);
                    }
                    if self.by_the_clock && second > now && second_pass.is_none() {
                        second_pass = Some(second.with_timezone(&Utc));
                    }
                }
                LocalResult::None if self.by_the_clock => {}
                LocalResult::None => {
                    if let Some(end) = end_of_gap(tz, local).filter(|end| *end > now) {
                        return earliest(end, second_pass);
                    }
                }
            }
        }
    }
}

/// The first instant after a skipped wall-clock time (the clocks went forward): the
/// first whole minute that exists again, since zones change on whole minutes.
fn end_of_gap(tz: Tz, skipped: NaiveDateTime) -> Option<DateTime<Utc>> {
    (1..=24 * 60).find_map(|minutes| {
        tz.from_local_datetime(&(skipped + Duration::minutes(minutes)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The smallest set bit at or above `from`.
fn next_bit(bits: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = bits >> from;
    (rest != 0).then(|| from + rest.trailing_zeros())
}

/// One field: a comma list of `*`, `N`, `A-B`, each with an optional `/STEP` (`N/STEP`
/// runs from N to the field's end).
fn parse_field(text: &str, field: Field) -> Result<u64, Problem> {
    if text.is_empty() {
        return Err(Problem::Empty { field });
    }
    let (min, max) = field.bounds();
    let mut bits = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step = step
                    .parse::<u32>()
                    .ok()
                    .filter(|s| *s >= 1)
                    .ok_or_else(|| Problem::BadStep {
                        field,
                        text: item.to_string(),
                    })?;
                (range, Some(step))
            }
            None => (item, None),
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a, field)?, value(b, field)?);
            if a > b {
                return Err(Problem::Backwards {
                    field,
                    text: range.to_string(),
                });
            }
            (a, b)
        } else {
            let a = value(range, field)?;
            (a, if step.is_some() { max } else { a })
        };
        let step = step.unwrap_or(1);
        bits |= (low..=high)
            .step_by(step as usize)
            .fold(0, |b, v| b | 1 << v);
    }
    Ok(bits)
}

fn value(text: &str, field: Field) -> Result<u32, Problem> {
    let (min, max) = field.bounds();
    if text.is_empty() {
        return Err(Problem::Empty { field });
    }
    if let Some(v) = field.name_value(text) {
        return Ok(v);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::NotANumber {
            field,
            text: text.to_string(),
        });
    }
    match text.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(Problem::OutOfRange {
            field,
            range: field.range_text(),
            value: text.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests;
