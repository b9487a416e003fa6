//! One Firehose delivery, top to bottom: check the access key, read the body, decode every
//! record, place and label each datum, push the series, answer. Every answer carries the
//! request id Firehose sent, which is also logged.
//!
//! - A wrong or missing access key: 401, nothing read or written.
//! - A body that is not a delivery: 400 (Firehose retries, then backs the records up to S3).
//! - A malformed record (or one line of a JSON record): logged with its index and counted as
//!   dropped (`malformed_record`); the rest of the request lands and the answer is 200, since
//!   sending it again cannot make it readable.
//! - The config, a tagging lookup or the push failing: 500, or 503 when it may pass on a retry;
//!   Firehose sends the request again. A redelivery changes nothing in Prometheus: a copy of a
//!   series' newest sample is taken silently, older copies are refused as out of order, and
//!   refusals are counted as the polling path counts them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use aws_config::SdkConfig;
use lambda_http::http::header::CONTENT_ENCODING;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::aws::{AwsApi, CloudWatchApi};
use crate::export;
use crate::report;
use crate::settings::Settings;
use crate::{Deps, Error};

use super::access_key::AccessKey;
use super::associate::{Associations, Placement};
use super::firehose::{self, answer};
use super::series::{self, Batch};
use super::{decode_record, RecordError};

/// How many request ids that landed a warm container remembers: a redelivery of one of them is
/// answered at once (what it would push is already in Prometheus).
const REMEMBERED_REQUESTS: usize = 256;

/// What the stream handler needs, built once per container.
pub struct StreamDeps<A = AwsApi> {
    /// The polling path's deps: settings, AWS, S3, remote write.
    pub deps: Deps<A>,
    pub access_key: AccessKey,
    pub associations: Associations,
    landed: Mutex<VecDeque<String>>,
}

impl StreamDeps<AwsApi> {
    /// From the environment: the polling path's settings plus `FIREHOSE_ACCESS_KEY_SECRET_ARN`.
    pub async fn from_env() -> Result<Self, Error> {
        let env = promstack::settings::Env::from_process();
        let settings = Settings::read(&env).map_err(|e| Error::Settings(e.to_string()))?;
        let arn = crate::settings::firehose_access_key_secret_arn(&env).map_err(|e| Error::Settings(e.to_string()))?;
        let sdk = promstack::aws::sdk_config().await;
        let deps = Deps::new(settings, sdk.clone())?;
        Ok(Self::new(deps, &sdk, arn))
    }
}

impl<A: CloudWatchApi> StreamDeps<A> {
    pub fn new(deps: Deps<A>, sdk: &SdkConfig, access_key_secret_arn: String) -> Self {
        StreamDeps {
            deps,
            access_key: AccessKey::new(sdk, access_key_secret_arn),
            associations: Associations::default(),
            landed: Mutex::new(VecDeque::new()),
        }
    }

    fn already_landed(&self, request_id: &str) -> bool {
        self.landed.lock().expect("landed lock").iter().any(|id| id == request_id)
    }

    fn remember(&self, request_id: &str) {
        let mut landed = self.landed.lock().expect("landed lock");
        if landed.len() >= REMEMBERED_REQUESTS {
            landed.pop_front();
        }
        landed.push_back(request_id.to_string());
    }
}

/// What one delivery did; logged as one line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delivered {
    pub request_id: String,
    pub records: usize,
    pub datapoints: usize,
    pub malformed: Vec<String>,
    pub series: usize,
    pub samples_pushed: u64,
    pub samples_dropped: BTreeMap<String, u64>,
    pub remote_write_requests: u32,
    /// A redelivery of a request this container already landed: nothing was pushed again.
    pub redelivery: bool,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The Lambda handler, run by `lambda_http::run`: every request gets a Firehose answer.
pub async fn handle<A: CloudWatchApi>(request: Request, deps: &StreamDeps<A>) -> Result<Response<Body>, Error> {
    Ok(deliver(&request, deps).await.0)
}

/// One delivery: the answer Firehose reads, and what it did.
pub async fn deliver<A: CloudWatchApi>(request: &Request, deps: &StreamDeps<A>) -> (Response<Body>, Delivered) {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let request_id = header(firehose::REQUEST_ID_HEADER).unwrap_or_default().to_string();
    let mut delivered = Delivered { request_id: request_id.clone(), ..Default::default() };
    let fail = |status: StatusCode, message: String, delivered: Delivered| {
        tracing::warn!(request_id = %delivered.request_id, status = status.as_u16(), error = %message, "delivery refused");
        (answer(status, &delivered.request_id, now_ms(), Some(&message)), delivered)
    };
    if request.method() != Method::POST {
        return fail(StatusCode::METHOD_NOT_ALLOWED, format!("{} is not POST", request.method()), delivered);
    }
    let expected = match deps.access_key.get().await {
        Ok(key) => key,
        Err(e) => {
            // The caller is not authenticated yet: the secret's ARN and the SDK's error go to the log only.
            tracing::error!(request_id = %request_id, error = %e, "the access key is unavailable");
            let status = StatusCode::SERVICE_UNAVAILABLE;
            return (answer(status, &request_id, now_ms(), Some("the access key is unavailable")), delivered);
        }
    };
    if !firehose::access_key_matches(header(firehose::ACCESS_KEY_HEADER), &expected) {
        let message = "the X-Amz-Firehose-Access-Key header is missing or wrong".to_string();
        return fail(StatusCode::UNAUTHORIZED, message, delivered);
    }
    if let Some(version) = header(firehose::PROTOCOL_VERSION_HEADER).filter(|v| *v != firehose::PROTOCOL_VERSION) {
        tracing::warn!(request_id = %request_id, version, "an unknown Firehose protocol version; reading it as 1.0");
    }
    let delivery = match firehose::parse(request.body(), header(CONTENT_ENCODING.as_str())) {
        Ok(d) => d,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e, delivered),
    };
    // The header is what Firehose documents; the body's copy answers when the header is missing.
    let request_id = if request_id.is_empty() { delivery.request_id.clone() } else { request_id };
    delivered.request_id = request_id.clone();
    delivered.records = delivery.records.len();
    let answer_ok = |delivered: Delivered| {
        tracing::info!(summary = %serde_json::to_string(&delivered).unwrap_or_default(), "delivery");
        (answer(StatusCode::OK, &delivered.request_id, now_ms(), None), delivered)
    };
    if !request_id.is_empty() && deps.already_landed(&request_id) {
        delivered.redelivery = true;
        return answer_ok(delivered);
    }

    let config = match deps.deps.load_config().await {
        Ok(c) => c,
        Err(e) => return fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), delivered),
    };
    let mut data = Vec::new();
    let mut malformed: Vec<RecordError> = Vec::new();
    for (i, record) in delivery.records.iter().enumerate() {
        match record.bytes() {
            Ok(bytes) => {
                let (d, errors) = decode_record(i, &bytes);
                data.extend(d);
                malformed.extend(errors);
            }
            Err(message) => malformed.push(RecordError { record: i, message }),
        }
    }
    for e in &malformed {
        tracing::warn!(request_id = %request_id, record = e.record, error = %e.message, "malformed record skipped");
    }
    delivered.datapoints = data.len();
    if !malformed.is_empty() {
        delivered.samples_dropped.insert("malformed_record".into(), malformed.len() as u64);
    }
    delivered.malformed = malformed.iter().map(ToString::to_string).collect();

    let now = now_ms();
    let snake = deps.deps.settings.labels_snake_case;
    let mut batch = Batch::default();
    for d in &data {
        let placement = match deps.associations.place(&deps.deps, &config, d, now).await {
            Ok(p) => p,
            Err(e) => {
                let message = format!("placing {} {}: {e}", d.namespace, d.metric_name);
                return fail(StatusCode::SERVICE_UNAVAILABLE, message, delivered);
            }
        };
        match series::labels(d, &placement, snake) {
            Some(labels) => batch.add(d, &labels),
            None => {
                debug_assert!(matches!(placement, Placement::NotSelected));
                *delivered.samples_dropped.entry("resource_not_selected".into()).or_default() +=
                    series::statistics(d).len() as u64;
            }
        }
    }
    for (reason, n) in std::mem::take(&mut batch.dropped) {
        *delivered.samples_dropped.entry(reason).or_default() += n;
    }
    let mut all = batch.into_series();
    export::add_labels(&mut all, &deps.deps.settings.extra_labels);
    delivered.series = all.len();
    if !all.is_empty() {
        let pushed = match deps.deps.remote_write.push(&all).await {
            Ok(p) => p,
            Err(e) => {
                let status =
                    if e.is_retryable() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
                return fail(status, format!("remote write: {e}"), delivered);
            }
        };
        for r in &pushed.rejected {
            *delivered.samples_dropped.entry(report::rejection_reason(&r.reason).to_string()).or_default() +=
                r.samples as u64;
        }
        delivered.samples_pushed = pushed.samples_sent;
        delivered.remote_write_requests = pushed.requests;
        let missed = pushed.failed().next().map(|r| (r.address, r.failure.clone().unwrap_or_default()));
        if let Some((address, error)) = missed {
            // Another replica took it: sending it again fills the one that missed it and changes
            // nothing in the others.
            let message = format!("remote-write replica {address} missed it: {error}");
            return fail(StatusCode::SERVICE_UNAVAILABLE, message, delivered);
        }
    }
    if !request_id.is_empty() {
        deps.remember(&request_id);
    }
    answer_ok(delivered)
}
