//! feeds.toml and rules.toml text → config. The input is feeds.toml, a NUL, then
//! rules.toml.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (feeds, rules) = text.split_once('\0').unwrap_or((&text, ""));
    invariants::config_text(feeds, rules);
});
