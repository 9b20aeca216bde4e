//! INTERFACE STUB: replaced by the classifier work.
use serde::Serialize;

use super::Rules;

#[derive(Debug, Clone)]
pub struct LabelledItem;

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub items: usize,
}

impl EvalReport {
    pub fn render_text(&self) -> String {
        format!("items: {}\n", self.items)
    }
}

pub fn parse_jsonl(text: &str) -> Result<Vec<LabelledItem>, String> {
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|_| LabelledItem)
        .collect())
}

pub fn evaluate(_rules: &Rules, items: &[LabelledItem]) -> EvalReport {
    EvalReport { items: items.len() }
}

pub fn misclassified(_rules: &Rules, _items: &[LabelledItem]) -> Vec<String> {
    Vec::new()
}

pub fn render_misclassified(items: &[String]) -> String {
    items.join("\n")
}
