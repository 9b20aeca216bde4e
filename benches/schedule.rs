//! The cost of computing a schedule's next firing, for the kinds of expressions
//! operators write, in UTC and in a zone with daylight saving.
//!
//! Run: `cargo bench --bench schedule` (release build). Prints nanoseconds per call.
// Reports for people running tests and benches; the closed-stdout rule is for commands.
#![allow(clippy::disallowed_macros)]

use std::hint::black_box;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use entente::config::Schedule;

const CALLS: u32 = 200_000;

fn main() {
    let cases = [
        ("* * * * *", chrono_tz::UTC),
        ("*/30 * * * *", chrono_tz::Europe::Paris),
        ("30 2 * * *", chrono_tz::Europe::Paris),
        ("0 8 * * 1-5", chrono_tz::Asia::Almaty),
        ("0 8 1 * MON", chrono_tz::America::New_York),
        ("0 0 29 2 *", chrono_tz::UTC),
        ("0 */30 * * * *", chrono_tz::UTC),
    ];
    let start = Utc.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap();
    for (expression, tz) in cases {
        let schedule = Schedule::parse(expression, tz).expect("valid expression");
        let began = Instant::now();
        for i in 0..CALLS {
            // Walk across a year (and its two daylight-saving changes).
            let now = start + Duration::minutes(i64::from(i) * 3);
            black_box(schedule.next_after(black_box(now)));
        }
        let per_call = began.elapsed().as_nanos() / u128::from(CALLS);
        println!(
            "{expression:>16} in {:<16} {per_call:>8} ns per next firing",
            tz.name()
        );
    }
}
