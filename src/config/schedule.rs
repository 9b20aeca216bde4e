//! Cron schedules as operators write them: the usual 5 fields (minute first), or the
//! `cron` crate's 6 or 7 fields (seconds first, optional year), or `@hourly` and friends.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// A compiled cron schedule that remembers how it was written.
#[derive(Clone)]
pub struct Schedule {
    expression: String,
    cron: cron::Schedule,
}

impl Schedule {
    /// Parses a 5-, 6- or 7-field cron expression.
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let trimmed = expression.trim();
        let fields = trimmed.split_whitespace().count();
        let full = match fields {
            _ if trimmed.starts_with('@') => trimmed.to_string(),
            5 => format!("0 {trimmed}"),
            6 | 7 => trimmed.to_string(),
            n => {
                return Err(format!(
                    "invalid cron expression `{expression}`: expected 5 fields (minute hour day month weekday), or 6-7 with seconds first, found {n}"
                ))
            }
        };
        let cron = cron::Schedule::from_str(&full).map_err(|e| {
            format!(
                "invalid cron expression `{expression}`: {}",
                last_line(&e.to_string())
            )
        })?;
        if cron.upcoming(Utc).next().is_none() {
            return Err(format!("cron expression `{expression}` never fires"));
        }
        Ok(Schedule {
            expression: trimmed.to_string(),
            cron,
        })
    }

    /// The next time after `now` that the schedule fires.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.after(&now).next()
    }

    /// The shortest gap between two firings over the next few, for cache lifetimes.
    pub fn shortest_interval(&self, now: DateTime<Utc>) -> chrono::Duration {
        let times: Vec<_> = self.cron.after(&now).take(8).collect();
        times
            .windows(2)
            .map(|w| w[1] - w[0])
            .min()
            .unwrap_or_else(|| chrono::Duration::hours(1))
    }

    pub fn expression(&self) -> &str {
        &self.expression
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

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.expression)
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.expression == other.expression
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn five_fields_mean_minute_first() {
        let schedule = Schedule::parse("*/15 * * * *").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 10, 7, 30).unwrap();
        assert_eq!(
            schedule.next_after(now),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 15, 0).unwrap())
        );
    }

    #[test]
    fn six_fields_mean_seconds_first() {
        let schedule = Schedule::parse("30 0 * * * *").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 10, 7, 0).unwrap();
        assert_eq!(
            schedule.next_after(now),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 11, 0, 30).unwrap())
        );
    }

    #[test]
    fn aliases_are_accepted() {
        assert!(Schedule::parse("@hourly").is_ok());
    }

    #[test]
    fn wrong_field_counts_are_explained() {
        let err = Schedule::parse("* * *").unwrap_err();
        assert!(err.contains("expected 5 fields"), "{err}");
        assert!(Schedule::parse("61 * * * *").is_err());
    }

    #[test]
    fn shortest_interval_follows_the_expression() {
        let schedule = Schedule::parse("*/20 * * * *").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 10, 7, 0).unwrap();
        assert_eq!(
            schedule.shortest_interval(now),
            chrono::Duration::minutes(20)
        );
    }
}
