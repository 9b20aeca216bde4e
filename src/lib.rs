//! entente: a feed curator for France–Kazakhstan relations.
#![forbid(unsafe_code)]

pub mod classify;
pub mod dedup;
pub mod publish;
pub mod text;
