//! Item text → classify, with the shipped rules. The input is the title, a NUL, then
//! the summary.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use std::sync::LazyLock;

use entente::classify::Rules;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    Rules::from_toml(include_str!("../../rules.toml")).expect("the shipped rules compile")
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (title, summary) = text.split_once('\0').unwrap_or((&text, ""));
    invariants::classify_text(&RULES, title, summary);
});
