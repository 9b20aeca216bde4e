//! `/metrics` in Prometheus text format.

use crate::store::queries as q;

pub(super) fn render_metrics(sources: &[q::SourceStatus]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, value: &dyn Fn(&q::SourceStatus) -> u64| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for s in sources {
            out.push_str(&format!("{name}{{source=\"{}\"}} {}\n", s.id, value(s)));
        }
    };
    family("entente_source_items", "Items stored per source.", &|s| {
        s.items
    });
    family(
        "entente_source_relevant_items",
        "Relevant items stored per source.",
        &|s| s.relevant,
    );
    family(
        "entente_source_consecutive_failures",
        "Consecutive failed fetches per source.",
        &|s| u64::from(s.consecutive_failures),
    );
    family(
        "entente_source_up",
        "1 when the last fetch of the source succeeded.",
        &|s| u64::from(s.status != "error"),
    );
    out
}
