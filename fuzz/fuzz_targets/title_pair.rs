//! A title pair → de-duplication signatures and their similarity. The input is the
//! two titles separated by a NUL.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\0').unwrap_or((&text, ""));
    invariants::title_pair(a, b);
});
