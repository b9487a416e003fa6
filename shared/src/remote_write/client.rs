//! The send loop. A push goes to every replica behind the URL's host ([`super::replicas`]), each
//! on its own: batches go out in order; each is retried on 5xx/429/408 and transport errors, split
//! on 400, and given up on any other 4xx. A replica that refuses a sample splits only its own
//! requests, and one that fails stops only its own loop: the others still get every request once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::Instrument;

use super::auth::Auth;
use super::batch::{batches, Batch, Limits};
use super::encode::{headers, Encoder};
use super::proto::TimeSeries;
use super::replicas::{Endpoint, Resolve, SystemResolver};
use super::retry::{Disposition, RetryPolicy};
use super::series::Series;

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct Config {
    /// The receiver, e.g. `http://prometheus:9090/api/v1/write`. Every address of its host is a
    /// replica and gets every request.
    pub url: String,
    pub auth: Auth,
    pub limits: Limits,
    pub retry: RetryPolicy,
    /// Per request, connection included.
    pub timeout: Duration,
    /// Turns the URL's host name into the replicas' addresses (default: the system resolver).
    pub resolver: Arc<dyn Resolve>,
    /// Requests one batch may cost a replica while its 400s are split, retries not counted
    /// (each request is retried at most `retry.max_retries` times on top). A batch refused
    /// whole would otherwise cost 2n-1 requests; once the cap is reached, the halves not yet
    /// sent are dropped and reported with the refusal that produced them.
    pub max_requests_per_batch: u32,
    /// No request starts, and none runs, past this instant: the push stops and says what landed.
    pub deadline: Option<tokio::time::Instant>,
}

impl Config {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth: Auth::None,
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            resolver: Arc::new(SystemResolver),
            max_requests_per_batch: 64,
            deadline: None,
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

/// What a push did, over every replica.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushReport {
    /// HTTP requests made to all replicas, retries and split halves included.
    pub requests: u32,
    /// Requests sent again after a retryable answer or a transport error.
    pub retries: u32,
    /// Samples that landed: the most that any replica which took the whole push accepted (with
    /// one replica, what it accepted).
    pub samples_sent: u64,
    pub samples_rejected: u64,
    /// Series that every replica which took the whole push refused (with the fewest samples any
    /// of them refused): what no replica holds. A refusal by some replicas only (one that already
    /// holds a resent sample, say) is in that replica's [`ReplicaReport::rejected`].
    pub rejected: Vec<Rejection>,
    /// Each replica's part, by address. The push returns `Ok` while at least one replica took
    /// every request; the others have a [`ReplicaReport::failure`].
    pub replicas: Vec<ReplicaReport>,
}

impl PushReport {
    /// The replicas that stopped before the end of the push.
    pub fn failed(&self) -> impl Iterator<Item = &ReplicaReport> {
        self.replicas.iter().filter(|r| r.failure.is_some())
    }
}

/// One replica's part of a push.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaReport {
    /// The address its requests connected to (the URL, Host header and TLS name stay the
    /// configured ones).
    pub address: SocketAddr,
    pub requests: u32,
    pub retries: u32,
    pub samples_sent: u64,
    pub samples_rejected: u64,
    pub rejected: Vec<Rejection>,
    /// Why it stopped: it lacks the samples of the failed request and of every later one.
    pub failure: Option<String>,
    /// Requests (batches) it handled whole, every sample landed or refused.
    pub batches_done: usize,
}

impl ReplicaReport {
    fn new(address: SocketAddr) -> Self {
        Self {
            address,
            requests: 0,
            retries: 0,
            samples_sent: 0,
            samples_rejected: 0,
            rejected: Vec::new(),
            failure: None,
            batches_done: 0,
        }
    }
}

/// Why a push stopped. Samples of earlier requests may have landed (`samples_sent`); nothing of
/// the failed request did, since Prometheus applies a request whole or not at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("remote-write client: {0}")]
    Setup(String),
    #[error("remote write to {url} failed: no replica found after {attempts} attempts: {last}")]
    Unresolved { url: String, attempts: u32, last: String },
    #[error("remote write to {url} at {address} failed after {attempts} attempts ({samples_sent} samples landed before): {last}")]
    Unavailable { url: String, address: SocketAddr, attempts: u32, last: String, samples_sent: u64 },
    #[error(
        "remote write to {url} at {address} refused with HTTP {status} ({samples_sent} samples landed before): {body}"
    )]
    Refused { url: String, address: SocketAddr, status: u16, body: String, samples_sent: u64 },
    /// Several replicas, and not one took the whole push.
    #[error("remote write to {url}: every replica failed: {failures}")]
    EveryReplicaFailed { url: String, failures: String, retryable: bool },
    #[error("remote-write auth: {0}")]
    Auth(String),
    /// The push's deadline came before the replica took every request.
    #[error("remote write to {url} at {address} stopped at the run's deadline ({samples_sent} samples landed before): {last}")]
    Deadline { url: String, address: SocketAddr, last: String, samples_sent: u64 },
}

impl Error {
    /// Whether running the same push later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Unresolved { .. } | Error::Unavailable { .. } | Error::Deadline { .. } => true,
            Error::EveryReplicaFailed { retryable, .. } => *retryable,
            _ => false,
        }
    }
}

/// A Remote-Write 1.0 client.
#[derive(Debug, Clone)]
pub struct Client {
    config: Config,
    endpoint: Endpoint,
    /// One HTTP client per replica address, kept for its connection pool. Each connects to its
    /// address while requests keep the configured URL, so the Host header, TLS SNI and the
    /// certificate's name stay those of the URL's host.
    http: Arc<Mutex<HashMap<SocketAddr, reqwest::Client>>>,
}

/// The replica a request goes to.
struct Replica {
    address: SocketAddr,
    http: reqwest::Client,
}

enum Sent {
    Landed,
    BadRequest(String),
}

/// What a push did, including how far every replica got when it failed.
#[derive(Debug)]
pub struct Pushed {
    pub result: Result<PushReport, Error>,
    /// How many of the pushed series, from the first, every replica handled whole (each sample
    /// landed or refused): the series whose progress may be recorded even when the push failed.
    pub series_done: usize,
}

impl Client {
    pub fn new(config: Config) -> Result<Self, Error> {
        let url =
            url::Url::parse(&config.url).map_err(|e| Error::Setup(format!("invalid URL {:?}: {e}", config.url)))?;
        let endpoint = Endpoint::of(&url).map_err(Error::Setup)?;
        Ok(Self { config, endpoint, http: Arc::default() })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends `series` to every replica. Returns once every sample has landed on or been refused
    /// by each replica that stayed reachable (refusals are in the report), as long as one
    /// replica took every request; an error means no replica did, or none was found.
    pub async fn push(&self, series: &[Series]) -> Result<PushReport, Error> {
        self.push_proto(series.iter().map(Series::to_proto).collect()).await
    }

    /// As [`Client::push`], and also how many leading series every replica handled whole, which
    /// a failed push needs to record what landed before it failed.
    pub async fn push_counting(&self, series: &[Series]) -> Pushed {
        self.push_proto_counting(series.iter().map(Series::to_proto).collect()).await
    }

    /// This client with every later request bounded by `deadline`.
    pub fn until(&self, deadline: tokio::time::Instant) -> Client {
        let mut client = self.clone();
        client.config.deadline = Some(deadline);
        client
    }

    /// As [`Client::push`], for series already in wire form (labels sorted and valid, samples
    /// in timestamp order).
    pub async fn push_proto(&self, series: Vec<TimeSeries>) -> Result<PushReport, Error> {
        self.push_proto_counting(series).await.result
    }

    async fn push_proto_counting(&self, series: Vec<TimeSeries>) -> Pushed {
        // Batches keep the series' order, so the series a replica holds whole are a prefix:
        // series i is done once the batches sent hold all samples up to its last.
        let mut ends = Vec::with_capacity(series.len());
        let mut total = 0usize;
        for s in &series {
            total += s.samples.len();
            ends.push(total);
        }
        let batches = Arc::new(batches(series, self.config.limits));
        if batches.is_empty() {
            return Pushed { result: Ok(PushReport::default()), series_done: ends.len() };
        }
        let series_done = |batches_done: usize| {
            let handled: usize = batches[..batches_done].iter().map(Batch::samples).sum();
            ends.partition_point(|&end| end <= handled)
        };
        let addresses = match self.replicas().await {
            Ok(addresses) => addresses,
            Err(e) => return Pushed { result: Err(e), series_done: 0 },
        };
        // Replicas run side by side, so a slow or dead one does not hold the others back.
        let mut pushes = tokio::task::JoinSet::new();
        for address in addresses {
            let (client, batches) = (self.clone(), Arc::clone(&batches));
            // The caller's span (the run) stays on the replica's log lines.
            pushes.spawn(async move { client.push_to(address, &batches).await }.instrument(tracing::Span::current()));
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = pushes.join_next().await {
            outcomes.push(joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
        }
        outcomes.sort_by_key(|(replica, _)| replica.address);
        let least = outcomes.iter().map(|(r, _)| r.batches_done).min().unwrap_or(0);
        Pushed { series_done: series_done(least), result: self.combine(outcomes) }
    }

    /// Every replica's address, asked again at each push (tasks come and go); resolving is
    /// retried as a request is, since a service between two tasks may have no address for a while.
    async fn replicas(&self) -> Result<Vec<SocketAddr>, Error> {
        let mut retries = 0;
        loop {
            let last = match self.endpoint.replicas(self.config.resolver.as_ref()).await {
                Ok(addresses) => {
                    let mut http = self.http.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    http.retain(|address, _| addresses.contains(address));
                    return Ok(addresses);
                }
                Err(last) => last,
            };
            if retries >= self.config.retry.max_retries {
                return Err(Error::Unresolved { url: self.config.url.clone(), attempts: retries + 1, last });
            }
            retries += 1;
            let delay = self.config.retry.delay(retries, None);
            if self.past_deadline(delay) {
                return Err(Error::Unresolved { url: self.config.url.clone(), attempts: retries, last });
            }
            tracing::warn!(attempt = retries, delay_ms = delay.as_millis() as u64, error = %last, "remote write will resolve again");
            tokio::time::sleep(delay).await;
        }
    }

    fn http_for(&self, address: SocketAddr) -> Result<reqwest::Client, Error> {
        let mut clients = self.http.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(http) = clients.get(&address) {
            return Ok(http.clone());
        }
        let mut builder = reqwest::Client::builder().user_agent(headers::USER_AGENT).timeout(self.config.timeout);
        if let Some(name) = &self.endpoint.name {
            builder = builder.resolve(name, address);
        }
        let http = builder.build().map_err(|e| Error::Setup(e.to_string()))?;
        clients.insert(address, http.clone());
        Ok(http)
    }

    /// The whole push to one replica; stops at its first failed request.
    async fn push_to(&self, address: SocketAddr, batches: &[Batch]) -> (ReplicaReport, Option<Error>) {
        let mut report = ReplicaReport::new(address);
        let result = match self.http_for(address) {
            Ok(http) => {
                let replica = Replica { address, http };
                let mut encoder = Encoder::new();
                let mut result = Ok(());
                for batch in batches {
                    result = self.send_splitting(&replica, batch.clone(), &mut encoder, &mut report).await;
                    if result.is_err() {
                        break;
                    }
                    report.batches_done += 1;
                }
                result
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => (report, None),
            Err(e) => {
                report.failure = Some(e.to_string());
                (report, Some(e))
            }
        }
    }

    /// One report over the replicas' outcomes, or the error when no replica took the whole push.
    fn combine(&self, mut outcomes: Vec<(ReplicaReport, Option<Error>)>) -> Result<PushReport, Error> {
        if outcomes.iter().all(|(_, error)| error.is_some()) {
            if outcomes.len() == 1 {
                return Err(outcomes.pop().and_then(|(_, error)| error).expect("one failed replica"));
            }
            let retryable = outcomes.iter().any(|(_, e)| e.as_ref().is_some_and(Error::is_retryable));
            let failures: Vec<&str> = outcomes.iter().filter_map(|(r, _)| r.failure.as_deref()).collect();
            return Err(Error::EveryReplicaFailed {
                url: self.config.url.clone(),
                failures: failures.join("; "),
                retryable,
            });
        }
        let mut report = PushReport::default();
        // A sample is lost only when no replica holds it: the figures are those of the replicas
        // together, as Thanos' dedup reads them; each replica's own are in `replicas`.
        // Series -> (samples refused, by how many complete replicas).
        let mut refused: HashMap<String, (usize, usize)> = HashMap::new();
        let mut complete = 0;
        for (replica, _) in outcomes {
            report.requests += replica.requests;
            report.retries += replica.retries;
            if let Some(failure) = &replica.failure {
                tracing::warn!(
                    replica = %replica.address,
                    samples_landed = replica.samples_sent,
                    error = %failure,
                    "remote write: a replica did not take the whole push"
                );
            } else {
                complete += 1;
                report.samples_sent = report.samples_sent.max(replica.samples_sent);
                let mut own: HashMap<&str, usize> = HashMap::new();
                for r in &replica.rejected {
                    *own.entry(&r.series).or_default() += r.samples;
                }
                for (series, samples) in own {
                    let (least, by) = refused.entry(series.to_string()).or_insert((samples, 0));
                    *least = (*least).min(samples);
                    *by += 1;
                }
            }
            report.replicas.push(replica);
        }
        // In the order of the first complete replica's refusals, with its reason.
        let first = report.replicas.iter().find(|r| r.failure.is_none()).expect("one complete replica");
        for r in &first.rejected {
            if let Some((samples, by)) = refused.remove(&r.series) {
                if by == complete {
                    report.rejected.push(Rejection { series: r.series.clone(), samples, reason: r.reason.clone() });
                }
            }
        }
        report.samples_rejected = report.rejected.iter().map(|r| r.samples as u64).sum();
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

    /// Sends a batch; on 400 sends its halves instead, down to the samples at fault, within
    /// `max_requests_per_batch` requests. A 400'd request is never sent again as it was.
    async fn send_splitting(
        &self,
        replica: &Replica,
        batch: Batch,
        encoder: &mut Encoder,
        report: &mut ReplicaReport,
    ) -> Result<(), Error> {
        // Each half carries the refusal of the request it came from.
        let mut pending: Vec<(Batch, Option<String>)> = vec![(batch, None)];
        let mut sent = 0u32;
        let mut unsplit = 0usize;
        while let Some((batch, refused_as)) = pending.pop() {
            if let (Some(reason), true) = (&refused_as, sent >= self.config.max_requests_per_batch.max(1)) {
                // The cap: what its parent's 400 covered and no request tried is refused.
                unsplit += batch.samples();
                for series in &batch.series {
                    record_rejection(report, series, reason.clone());
                }
                continue;
            }
            sent += 1;
            match self.send_with_retries(replica, &batch, encoder, report).await? {
                Sent::Landed => report.samples_sent += batch.samples() as u64,
                Sent::BadRequest(reason) => {
                    let whole = batch.clone();
                    match batch.split() {
                        Some((left, right)) => {
                            pending.push((right, Some(reason.clone())));
                            pending.push((left, Some(reason)));
                        }
                        None => record_rejection(report, &whole.series[0], reason),
                    }
                }
            }
        }
        if unsplit > 0 {
            tracing::warn!(
                replica = %replica.address,
                requests = sent,
                samples = unsplit,
                "remote write: a refused request was not split further (the per-request cap was reached); its samples count as refused"
            );
        }
        Ok(())
    }

    async fn send_with_retries(
        &self,
        replica: &Replica,
        batch: &Batch,
        encoder: &mut Encoder,
        report: &mut ReplicaReport,
    ) -> Result<Sent, Error> {
        let body = encoder.encode(&batch.series);
        let mut retries = 0;
        let mut last_error = String::from("no request was sent");
        loop {
            if self.past_deadline(Duration::ZERO) {
                return Err(self.deadline_error(replica, report, last_error));
            }
            report.requests += 1;
            let (last, retry_after) = match self.send_once(replica, body.clone()).await? {
                Ok((status, text, retry_after)) => match Disposition::of(status) {
                    Disposition::Done => return Ok(Sent::Landed),
                    Disposition::Split => return Ok(Sent::BadRequest(format!("{status}: {text}"))),
                    Disposition::Fail => {
                        return Err(Error::Refused {
                            url: self.config.url.clone(),
                            address: replica.address,
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
                    address: replica.address,
                    attempts: retries + 1,
                    last,
                    samples_sent: report.samples_sent,
                });
            }
            retries += 1;
            report.retries += 1;
            let delay = self.config.retry.delay(retries, retry_after);
            if self.past_deadline(delay) {
                return Err(self.deadline_error(replica, report, last));
            }
            last_error = last.clone();
            tracing::warn!(
                replica = %replica.address,
                attempt = retries,
                delay_ms = delay.as_millis() as u64,
                error = %last,
                "remote write will retry"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Whether waiting `wait` would take the push past its deadline.
    fn past_deadline(&self, wait: Duration) -> bool {
        self.config.deadline.is_some_and(|deadline| tokio::time::Instant::now() + wait >= deadline)
    }

    fn deadline_error(&self, replica: &Replica, report: &ReplicaReport, last: String) -> Error {
        Error::Deadline {
            url: self.config.url.clone(),
            address: replica.address,
            last,
            samples_sent: report.samples_sent,
        }
    }

    /// One request. The outer error is fatal (auth); the inner one is a transport failure.
    #[allow(clippy::type_complexity)]
    async fn send_once(
        &self,
        replica: &Replica,
        body: Vec<u8>,
    ) -> Result<Result<(u16, String, Option<Duration>), String>, Error> {
        let mut request = replica
            .http
            .post(&self.config.url)
            .header(headers::CONTENT_ENCODING.0, headers::CONTENT_ENCODING.1)
            .header(headers::CONTENT_TYPE.0, headers::CONTENT_TYPE.1)
            .header(headers::VERSION.0, headers::VERSION.1)
            .body(body.clone())
            .timeout(self.request_timeout())
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        self.config.auth.apply(&mut request, &body).await.map_err(Error::Auth)?;
        let response = match replica.http.execute(request).await {
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

impl Client {
    /// The configured per-request timeout, shortened to what is left before the deadline.
    fn request_timeout(&self) -> Duration {
        match self.config.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                self.config.timeout.min(left.max(Duration::from_millis(1)))
            }
            None => self.config.timeout,
        }
    }
}

fn record_rejection(report: &mut ReplicaReport, series: &TimeSeries, reason: String) {
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

#[cfg(test)]
mod tests {
    //! The fan-out against raw loopback sockets that record what arrives. The name -> addresses
    //! step is a stand-in (this machine resolves a name to one address); the sockets, the HTTP
    //! and TLS the client writes are real. Pushes to real Prometheus servers are in
    //! `tests/remote_write.rs`.

    use std::net::{IpAddr, Ipv4Addr};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::remote_write::ResolveFuture;

    const NAME: &str = "prometheus.promstack.test";

    /// Maps [`NAME`] to fixed addresses, as Cloud Map maps the service name to its tasks.
    #[derive(Debug)]
    struct StandIn(Vec<IpAddr>);

    impl Resolve for StandIn {
        fn addresses<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
            let found = if host == NAME { self.0.clone() } else { vec![] };
            Box::pin(async move { Ok(found) })
        }
    }

    fn loopback(last: u8) -> IpAddr {
        Ipv4Addr::new(127, 0, 0, last).into()
    }

    /// Listeners on 127.0.0.1 and 127.0.0.2, both on one port (Linux routes all of 127/8 to lo).
    async fn two_listeners() -> (TcpListener, TcpListener, u16) {
        let first = TcpListener::bind((loopback(1), 0)).await.unwrap();
        let port = first.local_addr().unwrap().port();
        let second = TcpListener::bind((loopback(2), port)).await.unwrap();
        (first, second, port)
    }

    /// Answers one request with 204 and returns its head (request line and headers).
    async fn take_one_request(listener: TcpListener) -> String {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        let head_end = loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed before the request head ended");
            received.extend_from_slice(&buf[..n]);
            if let Some(i) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&received[..head_end]).to_string();
        let length: usize = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
            .unwrap_or(0);
        while received.len() < head_end + length {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed before the body ended");
            received.extend_from_slice(&buf[..n]);
        }
        stream.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await.unwrap();
        head
    }

    fn one_series() -> Vec<Series> {
        let mut s = Series::new("promstack_fan_out", [("job", "test")]).unwrap();
        s.push(1_700_000_000_000, 1.0);
        vec![s]
    }

    fn config(url: String, resolver: StandIn) -> Config {
        let mut config = Config::new(url);
        config.resolver = Arc::new(resolver);
        config.retry =
            RetryPolicy { initial: Duration::from_millis(10), max_delay: Duration::from_millis(20), max_retries: 1 };
        config
    }

    #[tokio::test]
    async fn every_address_gets_the_request_with_the_urls_host_port_path_and_auth() {
        let (first, second, port) = two_listeners().await;
        let (first, second) = (tokio::spawn(take_one_request(first)), tokio::spawn(take_one_request(second)));
        let url = format!("http://{NAME}:{port}/prom/api/v1/write");
        let mut config = config(url, StandIn(vec![loopback(2), loopback(1)]));
        config.auth = Auth::Bearer("per-request-token".into());
        let client = Client::new(config).unwrap();

        let report = client.push(&one_series()).await.unwrap();

        let addresses: Vec<String> = report.replicas.iter().map(|r| r.address.to_string()).collect();
        assert_eq!(addresses, [format!("127.0.0.1:{port}"), format!("127.0.0.2:{port}")]);
        assert!(report.replicas.iter().all(|r| r.samples_sent == 1 && r.requests == 1 && r.failure.is_none()));
        assert_eq!((report.samples_sent, report.requests, report.failed().count()), (1, 2, 0), "{report:?}");
        for head in [first.await.unwrap(), second.await.unwrap()] {
            let lower = head.to_ascii_lowercase();
            assert!(head.starts_with("POST /prom/api/v1/write HTTP/1.1\r\n"), "{head}");
            assert!(lower.contains(&format!("\r\nhost: {NAME}:{port}\r\n")), "{head}");
            assert!(lower.contains("\r\ncontent-encoding: snappy\r\n"), "{head}");
            assert!(head.contains("\r\nauthorization: Bearer per-request-token\r\n"), "{head}");
        }
    }

    #[tokio::test]
    async fn tls_names_the_urls_host_not_the_address() {
        let listener = TcpListener::bind((loopback(2), 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Keeps the TLS ClientHello and closes: the handshake fails, the server name was sent.
        let hello = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let n = stream.read(&mut buf).await.unwrap();
            buf.truncate(n);
            buf
        });
        let mut config = config(format!("https://{NAME}:{port}/api/v1/write"), StandIn(vec![loopback(2)]));
        config.retry.max_retries = 0;

        let err = Client::new(config).unwrap().push(&one_series()).await.unwrap_err();

        let hello = hello.await.unwrap();
        assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
        assert!(hello.windows(NAME.len()).any(|w| w == NAME.as_bytes()), "SNI carries {NAME}");
        assert!(err.is_retryable(), "{err}");
        assert!(err.to_string().contains(&format!("at 127.0.0.2:{port} failed after 1 attempts")), "{err}");
    }

    #[tokio::test]
    async fn no_replica_taking_the_push_is_an_error_naming_each() {
        let (first, second, port) = two_listeners().await;
        drop((first, second));
        let url = format!("http://{NAME}:{port}/api/v1/write");
        let err = Client::new(config(url, StandIn(vec![loopback(1), loopback(2)]))).unwrap().push(&one_series()).await;
        let err = err.unwrap_err();
        assert!(matches!(err, Error::EveryReplicaFailed { retryable: true, .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("at 127.0.0.1:{port} failed after 2 attempts")), "{msg}");
        assert!(msg.contains(&format!("at 127.0.0.2:{port} failed after 2 attempts")), "{msg}");
    }

    #[tokio::test]
    async fn a_name_without_replicas_is_retried_then_a_retryable_error() {
        let client = Client::new(config(format!("http://{NAME}:9/api/v1/write"), StandIn(vec![]))).unwrap();
        let err = client.push(&one_series()).await.unwrap_err();
        assert!(matches!(err, Error::Unresolved { attempts: 2, .. }), "{err}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains(&format!("{NAME} resolves to no address")), "{err}");
        // Nothing to send: nothing is resolved, nothing fails.
        assert_eq!(client.push(&[]).await.unwrap(), PushReport::default());
    }
}
