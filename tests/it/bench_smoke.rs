//! The benchmark harness (`bench/run.py`) in a tiny run: a few feeds through every
//! figure, so that it cannot rot. The figures themselves are measured by hand on the
//! real sizes (BENCHMARKS.md); here only that each is produced.

use std::path::Path;
use std::process::{Command, Stdio};

fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// Every figure the table must carry, by the start of its name.
const FIGURES: &[&str] = &[
    "first pass, 4 feeds: wall",
    "first pass: items/s",
    "first pass: peak RSS",
    "all-304 pass, 4 feeds: wall",
    "all-304 pass: CPU share",
    "database size per stored item",
    "file: sources, 3 feeds: items/s",
    "history: 2 new feeds",
    "retag of",
    "export of the",
    "serve /feeds/all.rss",
    "daemon RSS after cycle 2",
];

#[test]
fn the_bench_harness_prints_every_figure_on_a_tiny_farm() {
    let python_ready = Command::new("python3")
        .args(["-c", "import feedparser, requests"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !python_ready {
        assert!(
            !required("ENTENTE_REQUIRE_BENCH"),
            "ENTENTE_REQUIRE_BENCH=1 but python3 cannot import feedparser and requests"
        );
        println!("SKIPPED: python3 with feedparser and requests is not installed");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/run.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(["--smoke", "--bin", env!("CARGO_BIN_EXE_entente"), "--work"])
        .arg(work.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bench/run.py --smoke failed:\n{table}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for figure in FIGURES {
        let row = table
            .lines()
            .find(|line| line.trim_start_matches("| ").starts_with(figure));
        let row = row.unwrap_or_else(|| panic!("no row `{figure}` in:\n{table}"));
        let value = row.split('|').nth(2).unwrap().trim();
        assert!(
            !value.is_empty() && value.chars().next().unwrap().is_ascii_digit(),
            "`{figure}` has no number: {row}"
        );
    }
}
