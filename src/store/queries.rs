//! Every question and change of the store, by the table it is about: [`super::sources`]
//! and [`super::items`] (with [`super::clusters`] for the stories), over the row
//! helpers of [`super::rows`]. One name for callers that want them all.

pub use super::items::*;
pub use super::rows::{same_verdict, stored_item, timestamp, StoredItem, ITEM_COLUMNS};
pub use super::sources::*;
