//! Prometheus Remote-Write 1.0 client: `prometheus.WriteRequest` protobuf, snappy block
//! compression, the spec's headers, batching, retries, and a split-on-400 that keeps every good
//! series when Prometheus rejects a request because of one bad sample. Every request goes to every
//! address behind the URL's host (HA replicas each hold every sample).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use promstack::remote_write::{Client, Config, Series};
//! let client = Client::new(Config::new("http://127.0.0.1:9090/api/v1/write"))?;
//! let mut series = Series::new("aws_ec2_cpuutilization_average", [("region", "eu-west-1")])?;
//! series.push(1_700_000_000_000, 42.0);
//! let report = client.push(&[series]).await?;
//! assert!(report.rejected.is_empty());
//! # Ok(()) }
//! ```

mod auth;
mod batch;
mod client;
mod encode;
pub mod proto;
mod replicas;
mod retry;
mod series;
mod split;

pub use auth::{Auth, SigV4};
pub use batch::{batches, Batch, Limits};
pub use client::{Client, Config, Error, PushReport, Pushed, Rejection, ReplicaReport};
pub use encode::{encode_request, headers, Encoder};
pub use replicas::{Resolve, ResolveFuture, SystemResolver};
pub use retry::{Disposition, RetryPolicy};
pub use series::{LabelError, Series};

/// For the encode bench only: the client's own request path (series cut into pieces once per
/// push, then each request encoded from them). Not part of the API.
#[doc(hidden)]
pub mod bench {
    use super::batch::Piece;
    use super::{Encoder, Series};

    /// A request's series as the client holds them.
    pub struct Request(Vec<Piece>);

    impl Request {
        pub fn new(series: &[Series]) -> Self {
            Self(series.iter().map(Series::piece).collect())
        }

        pub fn encode(&self, encoder: &mut Encoder) -> Vec<u8> {
            encoder.encode_pieces(&self.0)
        }
    }
}
