//! Data that lives outside the repository, in the `shared/` folder beside a checkout
//! (the labelled corpus, the real-world feed fixtures). A user's clone has nothing
//! beside it, so tests read it at run time and skip, saying what is missing; CI sets
//! `ENTENTE_REQUIRE_SHARED=1`, which turns a missing folder into a failure.

use std::path::PathBuf;

/// Where `shared/` is: `ENTENTE_SHARED` if set, else the folder beside the package.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("ENTENTE_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// The path of `relative` inside `shared/`, or `None` (after saying why) when it is
/// absent and not required.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = shared_dir().join(relative);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("ENTENTE_REQUIRE_SHARED").map_or(true, |v| v != "1"),
        "ENTENTE_REQUIRE_SHARED=1 but {} is missing (set ENTENTE_SHARED to the shared folder)",
        path.display()
    );
    println!(
        "SKIPPED: {} is missing (set ENTENTE_SHARED to the folder that holds it)",
        path.display()
    );
    None
}
