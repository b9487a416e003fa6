//! integration tests: in progress
