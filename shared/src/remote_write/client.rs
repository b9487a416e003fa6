//! The send loop: batches go out in order; each is retried on 5xx/429/408 and transport errors,
//! split on 400, and given up on any other 4xx.

use std::time::Duration;

use super::auth::Auth;
use super::batch::{batches, Batch, Limits};
use super::encode::{headers, Encoder};
use super::proto::TimeSeries;
use super::retry::{Disposition, RetryPolicy};
use super::series::Series;

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct Config {
    /// The receiver, e.g. `http://prometheus:9090/api/v1/write`.
    pub url: String,
    pub auth: Auth,
    pub limits: Limits,
    pub retry: RetryPolicy,
    /// Per request, connection included.
    pub timeout: Duration,
}

impl Config {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth: Auth::None,
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A series (or some of its samples) that the receiver refused, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// `name{label="value", …}`.
    pub series: String,
    /// How many of its samples were refused.
    pub samples: usize,
    /// The status and the receiver's message, e.g. `400: out of order sample`.
    pub reason: String,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushReport {
    /// HTTP requests made, retries and split halves included.
    pub requests: u32,
    /// Requests sent again after a retryable answer or a transport error.
    pub retries: u32,
    pub samples_sent: u64,
    pub samples_rejected: u64,
    /// Refused series, one entry per series.
    pub rejected: Vec<Rejection>,
}

/// Why a push stopped. Samples of earlier requests may have landed (`samples_sent`); nothing of
/// the failed request did, since Prometheus applies a request whole or not at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("remote-write client: {0}")]
    Setup(String),
    #[error("remote write to {url} failed after {attempts} attempts ({samples_sent} samples landed before): {last}")]
    Unavailable { url: String, attempts: u32, last: String, samples_sent: u64 },
    #[error("remote write to {url} refused with HTTP {status} ({samples_sent} samples landed before): {body}")]
    Refused { url: String, status: u16, body: String, samples_sent: u64 },
    #[error("remote-write auth: {0}")]
    Auth(String),
}

impl Error {
    /// Whether running the same push later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }
}

/// A Remote-Write 1.0 client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Config,
}

enum Sent {
    Landed,
    BadRequest(String),
}

impl Client {
    pub fn new(config: Config) -> Result<Self, Error> {
        url::Url::parse(&config.url).map_err(|e| Error::Setup(format!("invalid URL {:?}: {e}", config.url)))?;
        let http = reqwest::Client::builder()
            .user_agent(headers::USER_AGENT)
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        Ok(Self { http, config })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends `series`. Returns once every sample has landed or been refused by the receiver
    /// (refusals are in the report); an error means the receiver could not be reached or
    /// refused the requests themselves.
    pub async fn push(&self, series: &[Series]) -> Result<PushReport, Error> {
        self.push_proto(series.iter().map(Series::to_proto).collect()).await
    }

    /// As [`Client::push`], for series already in wire form (labels sorted and valid, samples
    /// in timestamp order).
    pub async fn push_proto(&self, series: Vec<TimeSeries>) -> Result<PushReport, Error> {
        let mut report = PushReport::default();
        let mut encoder = Encoder::new();
        for batch in batches(series, self.config.limits) {
            self.send_splitting(batch, &mut encoder, &mut report).await?;
        }
        if !report.rejected.is_empty() {
            tracing::warn!(
                rejected_series = report.rejected.len(),
                rejected_samples = report.samples_rejected,
                first = %report.rejected[0].series,
                reason = %report.rejected[0].reason,
                "remote write refused some series"
            );
        }
        Ok(report)
    }

    /// Sends a batch; on 400 sends its halves instead, down to the samples at fault.
    async fn send_splitting(&self, batch: Batch, encoder: &mut Encoder, report: &mut PushReport) -> Result<(), Error> {
        let mut pending = vec![batch];
        while let Some(batch) = pending.pop() {
            match self.send_with_retries(&batch, encoder, report).await? {
                Sent::Landed => report.samples_sent += batch.samples() as u64,
                Sent::BadRequest(reason) => {
                    let whole = batch.clone();
                    match batch.split() {
                        Some((left, right)) => {
                            pending.push(right);
                            pending.push(left);
                        }
                        None => record_rejection(report, &whole.series[0], reason),
                    }
                }
            }
        }
        Ok(())
    }

    async fn send_with_retries(
        &self,
        batch: &Batch,
        encoder: &mut Encoder,
        report: &mut PushReport,
    ) -> Result<Sent, Error> {
        let body = encoder.encode(&batch.series);
        let mut retries = 0;
        loop {
            report.requests += 1;
            let (last, retry_after) = match self.send_once(body.clone()).await? {
                Ok((status, text, retry_after)) => match Disposition::of(status) {
                    Disposition::Done => return Ok(Sent::Landed),
                    Disposition::Split => return Ok(Sent::BadRequest(format!("{status}: {text}"))),
                    Disposition::Fail => {
                        return Err(Error::Refused {
                            url: self.config.url.clone(),
                            status,
                            body: text,
                            samples_sent: report.samples_sent,
                        })
                    }
                    Disposition::Retry => (format!("HTTP {status}: {text}"), retry_after),
                },
                Err(transport) => (transport, None),
            };
            if retries >= self.config.retry.max_retries {
                return Err(Error::Unavailable {
                    url: self.config.url.clone(),
                    attempts: retries + 1,
                    last,
                    samples_sent: report.samples_sent,
                });
            }
            retries += 1;
            report.retries += 1;
            let delay = self.config.retry.delay(retries, retry_after);
            tracing::warn!(attempt = retries, delay_ms = delay.as_millis() as u64, error = %last, "remote write will retry");
            tokio::time::sleep(delay).await;
        }
    }

    /// One request. The outer error is fatal (auth); the inner one is a transport failure.
    #[allow(clippy::type_complexity)]
    async fn send_once(&self, body: Vec<u8>) -> Result<Result<(u16, String, Option<Duration>), String>, Error> {
        let mut request = self
            .http
            .post(&self.config.url)
            .header(headers::CONTENT_ENCODING.0, headers::CONTENT_ENCODING.1)
            .header(headers::CONTENT_TYPE.0, headers::CONTENT_TYPE.1)
            .header(headers::VERSION.0, headers::VERSION.1)
            .body(body.clone())
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        self.config.auth.apply(&mut request, &body).await.map_err(Error::Auth)?;
        let response = match self.http.execute(request).await {
            Ok(r) => r,
            Err(e) => return Ok(Err(transport_error(&e))),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        Ok(Ok((status, truncate(text.trim(), 1024), retry_after)))
    }
}

fn record_rejection(report: &mut PushReport, series: &TimeSeries, reason: String) {
    let name = series.display_name();
    let samples = series.samples.len();
    report.samples_rejected += samples as u64;
    match report.rejected.last_mut() {
        Some(last) if last.series == name && last.reason == reason => last.samples += samples,
        _ => report.rejected.push(Rejection { series: name, samples, reason }),
    }
}

fn transport_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
