//! One run, top to bottom: take the state's lease, collect every (region, role) scope, push the
//! series, give the state back (moving the watermarks of the series every replica took), then
//! push and log the run's own figures.
//!
//! A run given a deadline (the Lambda context's, less [`PERSIST_MARGIN`]) sends no request past
//! it: the push stops, the watermarks of what landed move, the lease is given back and the run
//! fails, so the next one starts at once from there. A push that fails part-way (a batch refused
//! with 413 or 401, say) does the same: earlier batches' series move on, the stuck one does not.
//!
//! When some remote-write replica failed and another took everything, the run succeeds (the data
//! is in Prometheus) but the watermarks of the series that replica missed, and every last read,
//! stay where they were: the next run reads those datapoints again and sends them to every
//! replica, which fills the one that missed them once it is back. A replica that already holds
//! them takes a copy of a series' newest sample silently and refuses older copies as out of
//! order: nothing is lost, and such a refusal counts as dropped only when every replica refused
//! it. Samples timestamped at run time
//! (`addCloudwatchTimestamp: false`) have no watermark: the failed replica misses them, and
//! Thanos' dedup reads them from another replica.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::aws::{CloudWatchApi, Counted};
use crate::cache::referenced_keys;
use crate::collect::{self, Collected, Context};
use crate::export;
use crate::report::{self, Summary};
use crate::state::{Acquired, State, Update};
use crate::yace::ExporterConfig;
use crate::{Deps, Error};

pub use crate::report::{JobFailure, SELF_PREFIX};

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Names this run's lease: unique per process and run.
fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Time kept before the invocation's deadline to write the state and give the lease back.
pub const PERSIST_MARGIN: Duration = Duration::from_secs(20);

/// Runs once. `event_id` is the EventBridge event's id: a second run with the same id does nothing.
pub async fn run<A: CloudWatchApi>(
    deps: &Deps<A>,
    config: &ExporterConfig,
    event_id: Option<&str>,
) -> Result<Summary, Error> {
    run_until(deps, config, event_id, None).await
}

/// As [`run`], with no remote-write request going past `push_deadline`.
pub async fn run_until<A: CloudWatchApi>(
    deps: &Deps<A>,
    config: &ExporterConfig,
    event_id: Option<&str>,
    push_deadline: Option<tokio::time::Instant>,
) -> Result<Summary, Error> {
    let remote_write = match push_deadline {
        Some(deadline) => deps.remote_write.until(deadline),
        None => deps.remote_write.clone(),
    };
    let started = Instant::now();
    let run_ms = now_ms();
    let settings = &deps.settings;
    if config.uses_cloudwatch_timestamps() && deps.state.is_none() {
        return Err(Error::Settings(
            "the config sets addCloudwatchTimestamp: true, which needs STATE_BUCKET (the watermarks keep each datapoint exactly once)"
                .into(),
        ));
    }

    let held = match &deps.state {
        None => None,
        Some(store) => match store.acquire(&run_id(), run_ms, settings.lease.as_millis() as i64, event_id).await? {
            Acquired::Held(held) => Some(held),
            Acquired::Skipped(reason) => return Ok(Summary::skipped(reason, started.elapsed().as_millis() as u64)),
        },
    };

    let api = Counted::new(&deps.api);
    let empty = State::default();
    let ctx = Context {
        state: held.as_ref().map_or(&empty, |h| h.state()),
        cache: held.is_some(),
        run_ms,
        discovery_refresh_ms: settings.discovery_refresh.as_millis() as i64,
        max_backfill_s: settings.max_backfill.as_secs() as i64,
        get_metric_data_concurrency: settings.get_metric_data_concurrency,
        sts_region: config.sts_region.as_deref(),
        own_account: &deps.own_account,
        account_aliases: &deps.account_aliases,
        labels_snake_case: settings.labels_snake_case,
    };
    let collecting = collect::collect_all(&api, config, ctx);
    let collected = match push_deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, collecting).await.ok(),
        None => Some(collecting.await),
    };
    let Some(mut all) = collected else {
        // Each AWS call is bounded, not the sum of them: give the lease back unchanged so the
        // next run starts at once.
        if let (Some(store), Some(held)) = (&deps.state, held) {
            let update = Update {
                discovery: Vec::new(),
                referenced: referenced_keys(config),
                watermarks: Vec::new(),
                horizon_ms: run_ms - 2 * settings.max_backfill.as_millis() as i64,
                last_read: None,
            };
            if let Err(release) = store.release(held, update).await {
                tracing::warn!(error = %release, "could not release the state after a run cut off by its deadline");
            }
        }
        return Err(Error::Deadline("collecting the datapoints".into()));
    };
    export::add_labels(&mut all.series, &settings.extra_labels);
    let scope_count: usize = config.jobs.iter().map(|j| j.regions.len() * j.roles.len()).sum();
    for f in &all.failures {
        tracing::warn!(job = %f.job, region = %f.region, role = %f.role, error = %f.error, "job failed");
    }

    // A config whose job lists are all empty (YACE loads `static: []`) has no scope: nothing failed.
    let (pushed, series_done) = if scope_count > 0 && all.failures.len() >= scope_count && all.series.is_empty() {
        let failures: Vec<String> =
            all.failures.iter().map(|f| format!("{} in {}: {}", f.job, f.region, f.error)).collect();
        (Err(Error::AllJobsFailed(failures.join("; "))), 0)
    } else {
        let pushed = remote_write.push_counting(&all.series).await;
        (pushed.result.map_err(Error::from), pushed.series_done)
    };
    let everything_done = series_done >= all.series.len();
    let mut update = Update {
        discovery: std::mem::take(&mut all.discovery),
        referenced: referenced_keys(config),
        watermarks: Vec::new(),
        horizon_ms: run_ms - 2 * settings.max_backfill.as_millis() as i64,
        last_read: None,
    };
    let pushed = match pushed {
        Ok(pushed) => pushed,
        Err(e) => {
            // Only the series that landed move: give the lease back (keeping fresh discovery)
            // so the next run retries the rest at once.
            update.watermarks = landed_watermarks(&mut all, series_done);
            if !update.watermarks.is_empty() {
                tracing::warn!(
                    series_landed = series_done,
                    series = all.series.len(),
                    "the push failed part-way; the watermarks of what landed move"
                );
            }
            if let (Some(store), Some(held)) = (&deps.state, held) {
                if let Err(release) = store.release(held, update).await {
                    tracing::warn!(error = %release, "could not release the state after a failed run");
                }
            }
            return Err(e);
        }
    };
    for r in &pushed.rejected {
        *all.dropped.entry(report::rejection_reason(&r.reason).to_string()).or_default() += r.samples as u64;
    }
    let every_replica_took_it = pushed.failed().next().is_none();
    for failed in pushed.failed() {
        tracing::warn!(
            replica = %failed.address,
            error = failed.failure.as_deref().unwrap_or_default(),
            "a remote-write replica missed this run's data; the next run sends it again"
        );
    }
    if let (Some(store), Some(held)) = (&deps.state, held) {
        if every_replica_took_it && everything_done {
            update.watermarks = std::mem::take(&mut all.watermarks);
            update.last_read = Some(std::mem::take(&mut all.last_read).into_iter().collect());
        } else {
            update.watermarks = landed_watermarks(&mut all, series_done);
        }
        store.commit(held, update, event_id).await?;
    }

    let api_requests = api.requests().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut summary = summarize(all, scope_count, api_requests, &pushed);
    // The run's own figures; data already landed, so a failure here is logged, not fatal.
    summary.duration_ms = started.elapsed().as_millis() as u64;
    let mut own = report::self_series(&summary, now_ms());
    export::add_labels(&mut own, &settings.extra_labels);
    match remote_write.push(&own).await {
        Ok(r) => summary.remote_write_requests += r.requests,
        Err(e) => tracing::warn!(error = %e, "could not push the run's own series"),
    }
    summary.duration_ms = started.elapsed().as_millis() as u64;
    summary.log();
    Ok(summary)
}

/// The watermarks of the first `series_done` series, which every replica holds: the targets read
/// for later series, and those whose series was not pushed, keep theirs.
fn landed_watermarks(all: &mut Collected, series_done: usize) -> Vec<(String, i64)> {
    let landed: HashSet<&str> =
        all.series_keys.iter().filter(|(i, _)| *i < series_done).map(|(_, key)| key.as_str()).collect();
    let pushed: HashSet<&str> = all.series_keys.iter().map(|(_, key)| key.as_str()).collect();
    let everything = series_done >= all.series.len();
    std::mem::take(&mut all.watermarks)
        .into_iter()
        .filter(|(key, _)| landed.contains(key.as_str()) || (everything && !pushed.contains(key.as_str())))
        .collect()
}

fn summarize(
    all: Collected,
    scope_count: usize,
    api_requests: std::collections::BTreeMap<String, u64>,
    pushed: &promstack::remote_write::PushReport,
) -> Summary {
    Summary {
        skipped: None,
        jobs: scope_count,
        series: all.series.len(),
        jobs_failed: all.failures,
        jobs_without_resources: all.without_resources,
        api_requests,
        metrics_requested: all.queries,
        get_metric_data_calls: all.calls,
        get_metric_data_minimum: all.minimum_calls,
        discovery_cached: all.cached,
        samples_pushed: pushed.samples_sent,
        samples_dropped: all.dropped,
        remote_write_requests: pushed.requests,
        remote_write_replicas: pushed.replicas.len(),
        remote_write_replicas_failed: pushed
            .failed()
            .map(|r| report::ReplicaFailure {
                replica: r.address.to_string(),
                error: r.failure.clone().unwrap_or_default(),
            })
            .collect(),
        duration_ms: 0,
    }
}
