//! config-updater: a push to the Prometheus config repository (Bitbucket Cloud or Data Center)
//! becomes a validated release on the EFS volume and a confirmed reload of every Prometheus
//! replica, with the outcome posted back on the commit as a build status.
//!
//! The flow, one module each: [`webhook`] (signature, payload) → [`fetch`] (the commit, over git
//! smart HTTP) → [`validate`] (before anything is written) → [`deploy`] (atomic writes under a
//! lock, [`reload`], rollback) → [`status`] (Bitbucket build status). [`rollout`] ties them
//! together for a push, a sync and a pull request; [`handler`] is the HTTP side, for the two
//! invocations: a Function URL request and a direct-invoke action (`sync`, `restore-previous`).
//! [`own_series`] counts deploys and pushes the function's own series.

pub mod check;
pub mod deploy;
mod error;
pub mod fetch;
pub mod handler;
pub mod layout;
pub mod own_series;
pub mod reload;
pub mod render;
pub mod rollout;
pub mod secrets;
pub mod settings;
pub mod status;
pub mod validate;
pub mod webhook;

pub use error::Error;
pub use handler::handle;
pub use rollout::{Deps, Outcome};
pub use settings::Settings;
