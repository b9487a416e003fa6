//! One run: take the state, discover (or reuse the cached discovery), ask GetMetricData,
//! push the series, move the watermarks, give the state back. A job that fails (a role that
//! cannot be assumed, a region down) is reported and the others go on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use promstack::remote_write::Series;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::aws::{self, ApiCounter, ScopeClients};
use crate::discovery::{self, Discovered, Found, MetricRef};
use crate::export::{self, LabelContext, Target};
use crate::naming::info_metric_name;
use crate::query::{self, Wanted, Window};
use crate::state::{CachedDiscovery, Lease, State, StateError};
use crate::yace::{ExporterConfig, Job, JobKind};
use crate::{Deps, Error};

/// How many (region, role) scopes are collected at once. GetMetricData's own concurrency
/// (`GET_METRIC_DATA_CONCURRENCY`) applies within each scope: CloudWatch's rate limits are per
/// account and region.
const SCOPE_CONCURRENCY: usize = 4;

/// A job that failed in one region and account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobFailure {
    pub job: String,
    pub region: String,
    pub role: String,
    pub error: String,
}

/// What a run did; logged as one line and returned as the invocation's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Why the run did nothing (a duplicate invocation, another run in progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub jobs: usize,
    pub jobs_failed: Vec<JobFailure>,
    pub api_requests: BTreeMap<String, u64>,
    /// (metric, statistic) queries asked of GetMetricData.
    pub metrics_requested: usize,
    pub get_metric_data_calls: usize,
    /// ceil(queries / 500) per window: the least the run could have made.
    pub get_metric_data_minimum: usize,
    pub discovery_cached: usize,
    pub series: usize,
    pub samples_pushed: u64,
    pub samples_dropped: BTreeMap<String, u64>,
    pub remote_write_requests: u32,
    pub duration_ms: u64,
}

/// The prefix of the run's own series.
pub const SELF_PREFIX: &str = "cloudwatch_exporter_run_";

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Everything one scope (region, role) produced.
#[derive(Default)]
struct Collected {
    series: Vec<Series>,
    /// Watermark key → newest timestamp pushed (moved only once the push succeeded).
    watermarks: Vec<(String, i64)>,
    discovery: Vec<(String, CachedDiscovery)>,
    failures: Vec<JobFailure>,
    queries: usize,
    calls: usize,
    minimum_calls: usize,
    cached: usize,
    dropped: BTreeMap<String, u64>,
}

/// Runs once. `event_id` is the EventBridge event's id: a second run with the same id does nothing.
pub async fn run(deps: &Deps, config: &ExporterConfig, event_id: Option<&str>) -> Result<Summary, Error> {
    let started = Instant::now();
    let run_ms = now_ms();
    let counter = ApiCounter::default();
    let owner = run_id();

    if config.uses_cloudwatch_timestamps() && deps.state.is_none() {
        return Err(Error::Settings(
            "the config sets addCloudwatchTimestamp: true, which needs STATE_BUCKET (the watermarks keep each datapoint exactly once)"
                .into(),
        ));
    }

    // Take the state: a lease written conditionally, so overlapping runs cannot both proceed.
    let mut held: Option<(State, String)> = None;
    if let Some(store) = &deps.state {
        let v = store.load().await?;
        let skip = |reason: String| {
            tracing::info!(reason = %reason, "run skipped");
            Ok(Summary { skipped: Some(reason), duration_ms: started.elapsed().as_millis() as u64, ..Default::default() })
        };
        if let (Some(id), Some(last)) = (event_id, v.state.last_event_id.as_deref()) {
            if id == last {
                return skip(format!("duplicate invocation: event {id} was already handled"));
            }
        }
        if let Some(lease) = &v.state.lease {
            if lease.until_ms > run_ms {
                return skip(format!("another run ({}) holds the state until {} ms", lease.owner, lease.until_ms));
            }
        }
        let mut state = v.state;
        state.lease = Some(Lease { owner: owner.clone(), until_ms: run_ms + deps.settings.lease.as_millis() as i64 });
        match store.save(&state, v.etag.as_deref()).await {
            Ok(etag) => held = Some((state, etag)),
            Err(StateError::Conflict { .. }) => return skip("another run took the state first".into()),
            Err(e) => return Err(e.into()),
        }
    }

    let empty = State::default();
    let state_ref = held.as_ref().map(|(s, _)| s).unwrap_or(&empty);
    let mut all = Collected::default();
    // Scopes (region, role) are collected concurrently, a few at a time; `buffered` keeps their
    // order, so the merged result does not depend on which answered first.
    let sts_region = config.sts_region.as_deref();
    let counter_ref = &counter;
    let mut collected = stream::iter(scopes(config))
        .map(|(scope, jobs)| async move { collect_scope(deps, sts_region, &scope, &jobs, state_ref, run_ms, counter_ref).await })
        .buffered(SCOPE_CONCURRENCY);
    while let Some(c) = collected.next().await {
        all.series.extend(c.series);
        all.watermarks.extend(c.watermarks);
        all.discovery.extend(c.discovery);
        all.failures.extend(c.failures);
        all.queries += c.queries;
        all.calls += c.calls;
        all.minimum_calls += c.minimum_calls;
        all.cached += c.cached;
        for (k, v) in c.dropped {
            *all.dropped.entry(k).or_default() += v;
        }
    }
    drop(collected);
    let scope_count: usize = config.jobs.iter().map(|j| j.regions.len() * j.roles.len()).sum();
    for f in &all.failures {
        tracing::warn!(job = %f.job, region = %f.region, role = %f.role, error = %f.error, "job failed");
    }

    let pushed = if all.failures.len() >= scope_count && all.series.is_empty() {
        Err(Error::AllJobsFailed(all.failures.iter().map(|f| format!("{} in {}: {}", f.job, f.region, f.error)).collect::<Vec<_>>().join("; ")))
    } else {
        deps.remote_write.push(&all.series).await.map_err(Error::from)
    };

    let report = match pushed {
        Ok(report) => report,
        Err(e) => {
            // Nothing moves: give the lease back (keeping fresh discovery) so the next run
            // retries the same datapoints at once.
            if let (Some(store), Some((mut state, etag))) = (&deps.state, held) {
                state.lease = None;
                merge_discovery(&mut state, all.discovery);
                if let Err(save) = store.save(&state, Some(&etag)).await {
                    tracing::warn!(error = %save, "could not release the state after a failed run");
                }
            }
            return Err(e);
        }
    };

    for r in &report.rejected {
        *all.dropped.entry(rejection_reason(&r.reason).to_string()).or_default() += r.samples as u64;
    }

    if let (Some(store), Some((mut state, etag))) = (&deps.state, held) {
        for (key, ts) in all.watermarks {
            let e = state.watermarks.entry(key).or_insert(ts);
            *e = (*e).max(ts);
        }
        // A watermark older than the backfill horizon bounds nothing any more.
        let horizon = run_ms - 2 * deps.settings.max_backfill.as_millis() as i64;
        state.watermarks.retain(|_, ts| *ts >= horizon);
        merge_discovery(&mut state, all.discovery);
        state.lease = None;
        state.last_event_id = event_id.map(str::to_string);
        store.save(&state, Some(&etag)).await?;
    }

    let mut summary = Summary {
        skipped: None,
        jobs: scope_count,
        jobs_failed: all.failures,
        api_requests: counter.snapshot().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        metrics_requested: all.queries,
        get_metric_data_calls: all.calls,
        get_metric_data_minimum: all.minimum_calls,
        discovery_cached: all.cached,
        series: all.series.len(),
        samples_pushed: report.samples_sent,
        samples_dropped: all.dropped,
        remote_write_requests: report.requests,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    // The run's own figures; data already landed, so a failure here is logged, not fatal.
    match deps.remote_write.push(&self_series(&summary, now_ms())).await {
        Ok(r) => summary.remote_write_requests += r.requests,
        Err(e) => tracing::warn!(error = %e, "could not push the run's own series"),
    }
    summary.duration_ms = started.elapsed().as_millis() as u64;
    log_summary(&summary);
    Ok(summary)
}

fn merge_discovery(state: &mut State, fresh: Vec<(String, CachedDiscovery)>) {
    for (k, v) in fresh {
        state.discovery.insert(k, v);
    }
}

/// A short, bounded reason for a sample Prometheus refused.
pub fn rejection_reason(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    if r.contains("out of bounds") || r.contains("too old") {
        "too_old"
    } else if r.contains("out of order") {
        "out_of_order"
    } else if r.contains("duplicate") {
        "duplicate"
    } else {
        "rejected"
    }
}

fn log_summary(s: &Summary) {
    tracing::info!(
        summary = %serde_json::to_string(s).unwrap_or_default(),
        jobs = s.jobs,
        jobs_failed = s.jobs_failed.len(),
        metrics_requested = s.metrics_requested,
        get_metric_data_calls = s.get_metric_data_calls,
        samples_pushed = s.samples_pushed,
        samples_dropped = s.samples_dropped.values().sum::<u64>(),
        duration_ms = s.duration_ms,
        "run finished"
    );
}

/// The run's figures as series named `cloudwatch_exporter_run_*`.
pub fn self_series(s: &Summary, ts: i64) -> Vec<Series> {
    let mut out = Vec::new();
    let mut one = |name: &str, labels: Vec<(&str, String)>, value: f64| {
        if let Ok(mut series) = Series::new(&format!("{SELF_PREFIX}{name}"), labels) {
            series.push(ts, value);
            out.push(series);
        }
    };
    for (api, n) in &s.api_requests {
        one("api_requests", vec![("api", api.clone())], *n as f64);
    }
    one("metrics_requested", vec![], s.metrics_requested as f64);
    one("get_metric_data_calls", vec![], s.get_metric_data_calls as f64);
    one("series", vec![], s.series as f64);
    one("samples_pushed", vec![], s.samples_pushed as f64);
    for reason in ["too_old", "out_of_order", "duplicate", "rejected", "invalid_labels", "duplicate_query"] {
        one("samples_dropped", vec![("reason", reason.to_string())], *s.samples_dropped.get(reason).unwrap_or(&0) as f64);
    }
    one("jobs", vec![], s.jobs as f64);
    one("jobs_failed", vec![], s.jobs_failed.len() as f64);
    one("duration_seconds", vec![], s.duration_ms as f64 / 1000.0);
    out
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Scope {
    region: String,
    role_arn: String,
    external_id: String,
}

/// Jobs by (region, role): each scope has its own clients and GetMetricData plan.
fn scopes(config: &ExporterConfig) -> BTreeMap<Scope, Vec<&Job>> {
    let mut out: BTreeMap<Scope, Vec<&Job>> = BTreeMap::new();
    for job in &config.jobs {
        for region in &job.regions {
            for role in &job.roles {
                let scope = Scope { region: region.clone(), role_arn: role.role_arn.clone(), external_id: role.external_id.clone() };
                out.entry(scope).or_default().push(job);
            }
        }
    }
    out
}

fn discovery_key(job: &Job, scope: &Scope, account_id: &str) -> String {
    // The job's content is part of the key, so an edited job is discovered afresh.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{job:?}").hash(&mut h);
    format!("{}|{}|{}|{account_id}|{:016x}", job.location, scope.region, scope.role_arn, h.finish())
}

async fn discover(job: &Job, clients: &ScopeClients, counter: &ApiCounter) -> Result<Discovered, String> {
    let mut names: Vec<&str> = job.metrics.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    match &job.kind {
        JobKind::Static { dimensions, .. } => Ok(Discovered {
            resources: vec![],
            metrics: names
                .iter()
                .map(|n| Found { metric: MetricRef::new(&job.namespace, n, dimensions.clone()), resource: None })
                .collect(),
        }),
        JobKind::CustomNamespace { .. } => {
            let mut metrics = Vec::new();
            for name in names {
                metrics.extend(aws::list_metrics(clients, &job.namespace, name, &[], job.recently_active_only, counter).await?);
            }
            Ok(discovery::associate_all(vec![], vec![], metrics, &job.dimension_name_requirements, false))
        }
        JobKind::Discovery { service, search_tags, .. } => {
            let resources = if service.resource_filters.is_empty() {
                vec![]
            } else {
                let all = aws::get_resources(clients, service.resource_filters, counter).await?;
                discovery::filter_by_search_tags(all, search_tags)
            };
            let mut metrics = Vec::new();
            for name in names {
                metrics.extend(aws::list_metrics(clients, &job.namespace, name, &[], job.recently_active_only, counter).await?);
            }
            Ok(discovery::associate_all(
                service.compiled_regexps(),
                resources,
                metrics,
                &job.dimension_name_requirements,
                !search_tags.is_empty(),
            ))
        }
    }
}

async fn collect_scope(
    deps: &Deps,
    sts_region: Option<&str>,
    scope: &Scope,
    jobs: &[&Job],
    state: &State,
    run_ms: i64,
    counter: &ApiCounter,
) -> Collected {
    let mut out = Collected::default();
    let role = crate::yace::Role { role_arn: scope.role_arn.clone(), external_id: scope.external_id.clone() };
    let fail = |job: &Job, error: String| JobFailure {
        job: job.location.clone(),
        region: scope.region.clone(),
        role: scope.role_arn.clone(),
        error,
    };
    let clients = match aws::connect(&deps.sdk, &scope.region, sts_region, &role, &deps.own_account, counter).await {
        Ok(c) => c,
        Err(e) => {
            out.failures.extend(jobs.iter().map(|j| fail(j, e.clone())));
            return out;
        }
    };

    let now_s = run_ms.div_euclid(1000);
    let max_backfill = deps.settings.max_backfill.as_secs() as i64;
    let mut targets: Vec<Target> = Vec::new();
    let mut wanted: Vec<Wanted> = Vec::new();
    let mut info_seen: HashSet<(String, String)> = HashSet::new();
    // Which job each target belongs to, so a failed call is reported against its jobs.
    let mut target_job: Vec<usize> = Vec::new();

    for (ji, job) in jobs.iter().enumerate() {
        let key = discovery_key(job, scope, &clients.account_id);
        let cached = state
            .discovery
            .get(&key)
            .filter(|c| run_ms - c.fetched_ms < deps.settings.discovery_refresh.as_millis() as i64 && deps.state.is_some());
        let found = match (cached, &job.kind) {
            (_, JobKind::Static { .. }) | (None, _) => match discover(job, &clients, counter).await {
                Ok(found) => {
                    if !matches!(job.kind, JobKind::Static { .. }) && deps.state.is_some() {
                        out.discovery.push((key, CachedDiscovery { fetched_ms: run_ms, found: found.clone() }));
                    }
                    found
                }
                Err(e) => {
                    out.failures.push(fail(job, e));
                    continue;
                }
            },
            (Some(c), _) => {
                out.cached += 1;
                c.found.clone()
            }
        };
        let (exported_tags, static_name): (&[String], Option<&str>) = match &job.kind {
            JobKind::Discovery { exported_tags, .. } => (exported_tags, None),
            JobKind::CustomNamespace { .. } => (&[], None),
            JobKind::Static { name, .. } => (&[], Some(name.as_str())),
        };
        let ctx = LabelContext {
            region: &scope.region,
            account_id: &clients.account_id,
            custom_tags: &job.custom_tags,
            exported_tags,
        };
        for f in &found.metrics {
            let resource = f.resource.and_then(|i| found.resources.get(i));
            let resource_name = match (static_name, resource) {
                (Some(n), _) => n,
                (None, Some(r)) => r.arn.as_str(),
                (None, None) => "global",
            };
            for spec in job.metrics.iter().filter(|m| m.name == f.metric.name) {
                for stat in &spec.statistics {
                    let t = export::target(&f.metric, spec, stat, resource_name, resource, ctx);
                    let watermark = if spec.add_cloudwatch_timestamp { state.watermarks.get(&t.key).copied() } else { None };
                    let window = Window::at(now_s, spec.period, spec.length, spec.delay, watermark, max_backfill);
                    wanted.push(Wanted { metric: f.metric.clone(), stat: stat.clone(), window });
                    targets.push(t);
                    target_job.push(ji);
                }
            }
        }
        // aws_<namespace>_info: one per resource, carrying its tags.
        if matches!(job.kind, JobKind::Discovery { .. }) {
            let name = info_metric_name(&job.namespace);
            for r in &found.resources {
                if info_seen.insert((name.clone(), r.arn.clone())) {
                    match Series::new(&name, export::info_labels(r, ctx)) {
                        Ok(mut s) => {
                            s.push(run_ms, 0.0);
                            out.series.push(s);
                        }
                        Err(_) => *out.dropped.entry("invalid_labels".into()).or_default() += 1,
                    }
                }
            }
        }
    }

    let plan = query::plan(wanted);
    if plan.duplicates > 0 {
        *out.dropped.entry("duplicate_query".into()).or_default() += plan.duplicates as u64;
    }
    out.queries = plan.wanted.len();
    out.calls = plan.calls.len();
    out.minimum_calls = plan.minimum_calls();

    // Bounded concurrency: GET_METRIC_DATA_CONCURRENCY calls in flight per scope.
    let plan = Arc::new(plan);
    let semaphore = Arc::new(Semaphore::new(deps.settings.get_metric_data_concurrency));
    let mut set = JoinSet::new();
    for ci in 0..plan.calls.len() {
        let (plan, semaphore, clients, counter) = (plan.clone(), semaphore.clone(), clients.clone(), counter.clone());
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            (ci, aws::get_metric_data(&clients, &plan.calls[ci], &plan.wanted, &counter).await)
        });
    }
    let mut points: HashMap<usize, aws::Datapoints> = HashMap::with_capacity(plan.wanted.len());
    let mut failed_jobs: BTreeMap<usize, String> = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        let (ci, result) = joined.expect("GetMetricData task panicked");
        match result {
            Ok(results) => points.extend(results),
            Err(e) => {
                for &q in &plan.calls[ci].queries {
                    failed_jobs.entry(target_job[plan.kept[q]]).or_insert_with(|| e.clone());
                }
            }
        }
    }
    for (ji, e) in &failed_jobs {
        out.failures.push(fail(jobs[*ji], e.clone()));
    }

    for (wi, &ti) in plan.kept.iter().enumerate() {
        let Some(p) = points.get(&wi) else { continue };
        let t = &targets[ti];
        let watermark = state.watermarks.get(&t.key).copied();
        let samples = export::samples(t, p, run_ms, watermark);
        if samples.is_empty() {
            continue;
        }
        if t.add_cloudwatch_timestamp {
            out.watermarks.push((t.key.clone(), samples.last().expect("not empty").0));
        }
        match Series::new(&t.name, t.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(mut s) => {
                for (ts, v) in samples {
                    s.push(ts, v);
                }
                out.series.push(s);
            }
            Err(e) => {
                tracing::warn!(series = %t.name, error = %e, "series dropped");
                *out.dropped.entry("invalid_labels".into()).or_default() += samples.len() as u64;
            }
        }
    }
    out
}
