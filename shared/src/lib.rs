//! What promstack's three Lambdas share: the Prometheus remote-write client, atomic files and
//! locks on the EFS volume, the Prometheus lifecycle client, the AWS SDK and tracing setup, and
//! the way settings are read from environment variables.
//!
//! Each module does one job; the contracts between the parts are in the project's DESIGN notes
//! and the README.

pub mod aws;
pub mod files;
pub mod prometheus;
pub mod remote_write;
pub mod settings;
pub mod telemetry;
