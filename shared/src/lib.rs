//! What promstack's three Lambdas share: the Prometheus remote-write client, atomic files and
//! locks on the EFS volume, the Prometheus lifecycle client, Prometheus's rules for metric and
//! label names, the file_sd target-group format, the AWS SDK and tracing setup, and the way
//! settings are read from environment variables.
//!
//! Each module does one job; the contracts between the parts are in docs/development.md.

pub mod aws;
pub mod file_sd;
pub mod files;
pub mod names;
pub mod prometheus;
pub mod remote_write;
pub mod settings;
pub mod telemetry;
