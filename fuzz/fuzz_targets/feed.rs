//! Feed bytes → decode → parse → normalise. The first byte picks the Content-Type
//! the body is served with; the rest is the body.
#![no_main]

#[path = "../../tests/support/invariants.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/rss+xml"),
    Some("text/xml; charset=utf-16"),
    Some("application/xml; charset=windows-1251"),
    Some("text/html; charset=iso-8859-1"),
    Some("application/feed+json"),
];

fuzz_target!(
    init: {
        // libfuzzer-sys aborts on any panic, even one entente catches on purpose (feed-rs
        // runs under catch_unwind: a panic there is a rejected document). The default
        // hook only prints; a panic that escapes is still a crash.
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| {
        let Some((&pick, body)) = data.split_first() else {
            return;
        };
        let content_type = CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()];
        invariants::feed_bytes(body, content_type);
    }
);
