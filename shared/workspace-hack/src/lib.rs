//! Empty on purpose: this crate exists for its `Cargo.toml` (one feature set for every build).
