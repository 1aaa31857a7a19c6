//! kubeharden engine: sources → inventory → analysis → rules → findings. No async, no network.

pub mod analysis;
pub mod yaml;
